"""Hypothesis drives donations, allocations, savings moves, withdrawals and expiry runs through
the ledger's carries (in-memory SQLite): no sequence ever extends a point's life beyond its rule.

The rule: a point keeps the expiry of the lot it was earned in, except that savings may extend
it to `SAVINGS_MONTHS` after it was earned — never further, and never by a move elsewhere.
Every lot is traced back through its carry rows to the issued lot it came from.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from civicpoints.kit.clock import as_utc, expiry_instant, utcnow
from civicpoints.kit.db import make_engine, make_session_factory
from civicpoints.ledger import CarryRequest, InsufficientPoints, LedgerService, Movement
from civicpoints.ledger.models import Account, Carry, Lot
from civicpoints.models import metadata
from tests.unit.test_ledger_properties import check

SAVINGS_MONTHS = 24
PEOPLE = 3
MOVES = {
    # op: (source, target, target kind, extension months)
    "donate": ("wallet:{}", "pool:c", "pool", 0),
    "allocate": ("pool:c", "wallet:{}", "wallet", 0),
    "save": ("wallet:{}", "savings:{}", "savings", SAVINGS_MONTHS),
    "withdraw": ("savings:{}", "wallet:{}", "wallet", 0),
}
credit = st.tuples(st.just("credit"), st.integers(0, PEOPLE - 1), st.integers(1, 300),
                   st.integers(1, 400))  # fmt: skip
move = st.tuples(st.sampled_from(sorted(MOVES)), st.integers(0, PEOPLE - 1),
                 st.integers(1, 300), st.just(0))  # fmt: skip
expire = st.tuples(st.just("expire"), st.just(0), st.just(0), st.integers(0, 900))


def apply(s: Session, ops: list[tuple[str, int, int, int]]) -> None:
    """Run the operations; a move larger than what is there is refused and changes nothing."""
    ledger, now = LedgerService(s), utcnow()
    for i, (op, who, amount, days) in enumerate(ops):
        if op == "credit":
            m = Movement("award", amount, f"r{i}", "t", "t", now, f"k{i}")
            ledger.credit(f"wallet:{who}", m, now + timedelta(days=days))
        elif op == "expire":
            ledger.expire_due(now + timedelta(days=days))
        else:
            source, target, kind, months = MOVES[op]
            m = Movement(op, amount, f"r{i}", "t", "t", now, f"k{i}")
            req = CarryRequest(source.format(who), target.format(who), kind, m, months)
            nested = s.begin_nested()
            try:
                ledger.carry(req)
                nested.commit()
            except InsufficientPoints:
                nested.rollback()


def check_lives(s: Session) -> None:
    """Every lot's expiry is its origin's, or (through savings) at most the savings rule's."""
    lots = {x.id: x for x in s.scalars(select(Lot))}
    carries = {c.lot_id: c for c in s.scalars(select(Carry))}
    kinds = {a.id: a.kind for a in s.scalars(select(Account))}
    for lot in lots.values():
        origin, saved, seen = lot, False, 0
        while origin.id in carries:
            c = carries[origin.id]
            saved = saved or kinds[c.account_id] == "savings"
            origin = lots[c.from_lot_id]
            seen += 1
            assert seen <= len(lots)
        limit = as_utc(origin.expires_at)
        if saved:
            limit = max(limit, expiry_instant(as_utc(origin.earned_at), SAVINGS_MONTHS))
        assert as_utc(lot.expires_at) <= limit, (lot.id, lot.expires_at, limit)
        if lot.id in carries:
            assert as_utc(carries[lot.id].earned_at) == as_utc(origin.earned_at)
    _check_origins_not_multiplied(lots, carries)


def _check_origins_not_multiplied(
    lots: dict[uuid.UUID, Lot], carries: dict[uuid.UUID, Carry]
) -> None:
    """The points alive from one issued lot never exceed what it issued."""
    alive: dict[uuid.UUID, int] = {}
    for lot in lots.values():
        origin = lot
        while origin.id in carries:
            origin = lots[carries[origin.id].from_lot_id]
        alive[origin.id] = alive.get(origin.id, 0) + lot.remaining
    for origin_id, points in alive.items():
        assert points <= lots[origin_id].amount


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(credit, move, move, expire), max_size=30))
def test_no_sequence_of_moves_extends_a_points_life(ops: list[tuple[str, int, int, int]]) -> None:
    """Any mix of credits, donations, allocations, savings, withdrawals and expiry runs."""
    engine = make_engine("sqlite://")
    metadata.create_all(engine)
    with make_session_factory(engine).begin() as s:
        LedgerService(s).initialize(1)
        apply(s, ops)
        check_lives(s)
        check(s)
    engine.dispose()
