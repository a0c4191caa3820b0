"""Hypothesis drives random credits and expiries through the ledger service (in-memory SQLite).

Invariants after every run: each wallet's balance equals its unexpired lot remainders and its
entries' sum; all accounts sum to zero; every account's hash chain recomputes; nothing negative.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from civicpoints.kit.db import make_engine, make_session_factory
from civicpoints.ledger import chain
from civicpoints.ledger.models import Account, Entry, Lot
from civicpoints.ledger.service import LedgerService, Movement
from civicpoints.models import metadata

T0 = datetime(2026, 1, 1, tzinfo=UTC)
credit_op = st.tuples(st.just("credit"), st.integers(0, 2), st.integers(1, 500), st.integers(1, 60))
expire_op = st.tuples(st.just("expire"), st.integers(0, 0), st.integers(0, 0), st.integers(0, 90))


def run(ops: list[tuple[str, int, int, int]]) -> None:
    """Apply the operations in one session and check every invariant."""
    engine = make_engine("sqlite://")
    metadata.create_all(engine)
    with make_session_factory(engine).begin() as s:
        ledger = LedgerService(s)
        ledger.initialize(1)
        for i, (op, who, amount, day) in enumerate(ops):
            if op == "credit":
                move = Movement("award", amount, f"r{i}", "test", "t", T0, f"k{i}")
                ledger.credit(f"wallet:{who}", move, T0 + timedelta(days=day))
            else:
                ledger.expire_due(T0 + timedelta(days=day))
        check(s)
    engine.dispose()


def check(s: Session) -> None:
    """The invariants."""
    accounts = s.scalars(select(Account)).all()
    assert sum(a.balance for a in accounts) == 0
    for account in accounts:
        entries = s.scalars(
            select(Entry).where(Entry.account_id == account.id).order_by(Entry.seq)
        ).all()
        assert account.balance == sum(e.amount for e in entries)
        prev = chain.GENESIS
        for e in entries:
            fields = {k: getattr(e, k) for k in chain.EntryFields.__dataclass_fields__}
            assert e.prev_hash == prev == fields["prev_hash"]
            assert chain.entry_hash(chain.EntryFields(**fields)) == e.entry_hash
            prev = e.entry_hash
        if account.kind == "wallet":
            lots = s.scalars(select(Lot).where(Lot.account_id == account.id)).all()
            assert all(0 <= lot.remaining <= lot.amount for lot in lots)
            assert account.balance == sum(lot.remaining for lot in lots) >= 0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(credit_op, expire_op), max_size=25))
def test_ledger_invariants_hold_for_any_sequence(ops: list[tuple[str, int, int, int]]) -> None:
    """Any mix of credits and expiry runs keeps the books balanced and the chains intact."""
    run(ops)


@settings(max_examples=30, deadline=None)
@given(st.lists(credit_op, min_size=1, max_size=15), st.integers(0, 90))
def test_expiry_leaves_exactly_the_unexpired_lots(
    ops: list[tuple[str, int, int, int]], day: int
) -> None:
    """After expiring at day D, a wallet holds exactly its credits that expire after D."""
    engine = make_engine("sqlite://")
    metadata.create_all(engine)
    with make_session_factory(engine).begin() as s:
        ledger = LedgerService(s)
        ledger.initialize(1)
        for i, (_, who, amount, exp) in enumerate(ops):
            move = Movement("award", amount, f"r{i}", "test", "t", T0, f"k{i}")
            ledger.credit(f"wallet:{who}", move, T0 + timedelta(days=exp))
        ledger.expire_due(T0 + timedelta(days=day))
        for who in range(3):
            expected = sum(a for _, w, a, exp in ops if w == who and exp > day)
            assert ledger.balance(f"wallet:{who}") == expected
    engine.dispose()
