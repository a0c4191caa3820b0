"""Pure credit planning (ledger/journal.py): the rows a batch writes and how entries chain."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from civicpoints.ledger import chain
from civicpoints.ledger.journal import (
    CreditOrder,
    CreditPlan,
    EntryRow,
    Head,
    Movement,
    TransferRow,
    append,
    plan_credits,
    request_hash,
)

ISSUER = uuid.UUID("11111111-1111-4111-8111-111111111111")
WALLET = uuid.UUID("22222222-2222-4222-8222-222222222222")
OTHER_WALLET = uuid.UUID("33333333-3333-4333-8333-333333333333")
OCCURRED = datetime(2026, 3, 31, 15, 30, tzinfo=UTC)
RECORDED = datetime(2026, 4, 1, 2, 0, tzinfo=UTC)
EXPIRES = datetime(2027, 3, 31, 16, 0, tzinfo=UTC)
PREV = "ab" * 32


def move(amount: int = 30, ref: str = "act:7", key: str = "k1") -> Movement:
    """An award of `amount` for `ref`."""
    return Movement("award", amount, ref, "环保行动", "staff:9", OCCURRED, key)


def make_ids() -> tuple[list[uuid.UUID], Callable[[], uuid.UUID]]:
    """A make_id handing out UUID(int=1), UUID(int=2)…, remembered so rows can be matched."""
    handed: list[uuid.UUID] = []
    counter = itertools.count(1)

    def make_id() -> uuid.UUID:
        handed.append(uuid.UUID(int=next(counter)))
        return handed[-1]

    return handed, make_id


def test_request_hash_known_answer() -> None:
    # printf '%s' '1111…1111|2222…2222|award|30|act:7' | sha256sum
    expected = "c925eaad92dce389367e37bb4fe6df95017b3da6a40f71d73f987ab0d2af37e3"
    assert request_hash(ISSUER, WALLET, move()) == expected


def test_request_hash_covers_what_makes_requests_the_same_and_nothing_else() -> None:
    first = request_hash(ISSUER, WALLET, move())
    assert request_hash(WALLET, ISSUER, move()) != first
    assert request_hash(ISSUER, OTHER_WALLET, move()) != first
    assert request_hash(ISSUER, WALLET, move(amount=31)) != first
    assert request_hash(ISSUER, WALLET, move(ref="act:8")) != first
    other_kind = Movement("bonus", 30, "act:7", "环保行动", "staff:9", OCCURRED, "k1")
    assert request_hash(ISSUER, WALLET, other_kind) != first
    # The retry of a request carries a new key, reason or time and is still the same request.
    later = Movement("award", 30, "act:7", "other", "staff:1", RECORDED, "k2")
    assert request_hash(ISSUER, WALLET, later) == first


def test_append_chains_onto_the_head_and_moves_it() -> None:
    head = Head(bucket=3, id=WALLET, balance=100, entry_count=4, head_hash=PREV)
    transfer = TransferRow(
        3,
        uuid.UUID(int=9),
        "award",
        30,
        ISSUER,
        WALLET,
        "k1",
        "h",
        "act:7",
        "r",
        "a",
        OCCURRED,
        RECORDED,
    )
    row = append(head, transfer, -30, ISSUER, uuid.UUID(int=5))
    f = row.fields
    assert isinstance(row, EntryRow) and row.id == uuid.UUID(int=5)
    assert (f.bucket, f.account_id, f.seq, f.transfer_id) == (3, WALLET, 5, uuid.UUID(int=9))
    assert (f.kind, f.amount, f.balance_after, f.counterparty_id) == ("award", -30, 70, ISSUER)
    assert (f.ref, f.reason, f.actor) == ("act:7", "r", "a")
    assert (f.occurred_at, f.recorded_at, f.prev_hash) == (OCCURRED, RECORDED, PREV)
    assert row.entry_hash == chain.entry_hash(f) and len(row.entry_hash) == 64
    assert (head.balance, head.entry_count, head.head_hash) == (70, 5, row.entry_hash)


def fresh_heads() -> dict[tuple[int, uuid.UUID], Head]:
    """An issuer and two wallets in bucket 0, never written to."""
    return {(0, a): Head(0, a, 0, 0, chain.GENESIS) for a in (ISSUER, WALLET, OTHER_WALLET)}


def plan(orders: list[CreditOrder]) -> tuple[CreditPlan, list[uuid.UUID]]:
    """`plan_credits` on fresh heads with numbered ids."""
    handed, make_id = make_ids()
    return plan_credits(orders, fresh_heads(), RECORDED, make_id), handed


def test_one_credit_writes_a_transfer_two_entries_a_lot_and_a_posting() -> None:
    out, ids = plan([CreditOrder(0, ISSUER, WALLET, move(), EXPIRES)])
    transfer_id, debit_id, credit_id, lot_id = ids
    assert out.transfers == [
        TransferRow(
            0,
            transfer_id,
            "award",
            30,
            ISSUER,
            WALLET,
            "k1",
            request_hash(ISSUER, WALLET, move()),
            "act:7",
            "环保行动",
            "staff:9",
            OCCURRED,
            RECORDED,
        )
    ]
    debit, credit = out.entries
    assert (debit.id, debit.fields.account_id, debit.fields.amount) == (debit_id, ISSUER, -30)
    assert (credit.id, credit.fields.account_id, credit.fields.amount) == (credit_id, WALLET, 30)
    assert debit.fields.counterparty_id == WALLET and credit.fields.counterparty_id == ISSUER
    assert debit.fields.transfer_id == credit.fields.transfer_id == transfer_id
    assert [(lot.id, lot.account_id, lot.entry_id) for lot in out.lots] == [
        (lot_id, WALLET, credit_id)
    ]
    lot = out.lots[0]
    assert (lot.bucket, lot.amount, lot.earned_at, lot.expires_at) == (0, 30, OCCURRED, EXPIRES)
    posting = out.postings[0]
    assert (posting.transfer_id, posting.bucket, posting.amount) == (transfer_id, 0, 30)
    assert (posting.debit_entry_id, posting.credit_entry_id) == (debit_id, credit_id)
    assert posting.replayed is False


def test_a_wallet_credited_twice_in_a_batch_gets_consecutive_chained_entries() -> None:
    orders = [
        CreditOrder(0, ISSUER, WALLET, move(30, key="k1"), EXPIRES),
        CreditOrder(0, ISSUER, OTHER_WALLET, move(5, key="k2"), EXPIRES),
        CreditOrder(0, ISSUER, WALLET, move(12, key="k3"), EXPIRES + timedelta(days=1)),
    ]
    out, _ = plan(orders)
    assert len(out.transfers) == len(out.lots) == len(out.postings) == 3
    wallet = [e for e in out.entries if e.fields.account_id == WALLET]
    issuer = [e for e in out.entries if e.fields.account_id == ISSUER]
    for rows, balances in ((wallet, [30, 42]), (issuer, [-30, -35, -47])):
        assert [e.fields.seq for e in rows] == list(range(1, len(rows) + 1))
        assert [e.fields.balance_after for e in rows] == balances
        assert [e.fields.prev_hash for e in rows] == [chain.GENESIS] + [
            e.entry_hash for e in rows[:-1]
        ]
        assert all(e.entry_hash == chain.entry_hash(e.fields) for e in rows)
    assert sum(e.fields.amount for e in out.entries) == 0
    heads = out.heads
    assert (heads[(0, WALLET)].balance, heads[(0, WALLET)].entry_count) == (42, 2)
    assert heads[(0, WALLET)].head_hash == wallet[-1].entry_hash
    assert (heads[(0, ISSUER)].balance, heads[(0, ISSUER)].entry_count) == (-47, 3)
    assert [lot.expires_at for lot in out.lots] == [EXPIRES, EXPIRES, EXPIRES + timedelta(days=1)]


def test_no_orders_plan_nothing() -> None:
    heads = fresh_heads()
    out = plan_credits([], heads, RECORDED, uuid.uuid4)
    assert (out.transfers, out.entries, out.lots, out.postings) == ([], [], [], [])
    assert out.heads is heads
