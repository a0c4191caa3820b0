"""The pure decisions of clawbacks: what to take, whose debt a repayment paid (hypothesis)."""

from __future__ import annotations

import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from civicpoints.ledger.debts import DebtEvent, attribute, plan_take

IDS = [uuid.UUID(int=i) for i in range(1, 40)]
lots = st.lists(st.integers(0, 60), max_size=6).map(lambda xs: list(zip(IDS[1:], xs, strict=False)))


@settings(max_examples=300)
@given(st.integers(1, 200), st.integers(0, 80), st.integers(-10, 80), lots)
def test_a_take_adds_up_and_goes_own_lot_first(
    amount: int, own: int, lapsable: int, others: list[tuple[uuid.UUID, int]]
) -> None:
    """taken + lapsed + debt = amount; no lot gives more than it holds; the own lot first,
    then what lapsed, then the others in order; debt only when everything else is used up."""
    take = plan_take(amount, (IDS[0], own), lapsable, others)
    assert take.taken + take.lapsed + take.debt == amount
    assert min(take.lapsed, take.debt) >= 0
    held = dict([(IDS[0], own), *others])
    assert all(0 < n <= held[lot] for lot, n in take.uses)
    assert len({lot for lot, _ in take.uses}) == len(take.uses)
    own_taken = sum(n for lot, n in take.uses if lot == IDS[0])
    assert own_taken == min(own, amount)
    if take.lapsed or take.debt or any(lot != IDS[0] for lot, _ in take.uses):
        assert own_taken == own  # nothing else is touched while the own lot still holds points
    if take.debt:
        assert take.lapsed == max(lapsable, 0)
        assert own_taken + sum(n for lot, n in take.uses if lot != IDS[0]) == own + sum(
            n for _, n in others
        )
    order = [lot for lot, _ in take.uses if lot != IDS[0]]
    assert order == [lot for lot, n in others if lot in order]


def test_a_take_examples() -> None:
    """100 back from an award with 10 left and another lot of 20, 40 lapsed: 30 taken, 40
    lapsed, 30 owed."""
    take = plan_take(100, (IDS[0], 10), 40, [(IDS[1], 20)])
    assert (take.uses, take.lapsed, take.debt) == ([(IDS[0], 10), (IDS[1], 20)], 40, 30)
    assert plan_take(5, (IDS[0], 10), 40, [(IDS[1], 20)]).uses == [(IDS[0], 5)]


events = st.lists(
    st.one_of(
        st.tuples(st.just("debt"), st.integers(1, 50), st.integers(0, 4)),
        st.tuples(st.just("repay"), st.integers(1, 50), st.integers(0, 4)),
        st.tuples(st.just("forgive"), st.integers(0, 0), st.integers(0, 4)),
    ),
    max_size=25,
)


@settings(max_examples=300)
@given(events)
def test_repayments_are_attributed_oldest_debt_first(raw: list[tuple[str, int, int]]) -> None:
    """Built like a debt account's history (repayments never exceed what is owed, a forgive
    writes off all of its clawback): each clawback's repaid shares plus its unpaid rest are its
    debt; shares add up to the repayments; a later debt is repaid only once every earlier one
    still owing was paid in full."""
    history: list[DebtEvent] = []
    owed: dict[uuid.UUID, int] = {}
    debts: dict[uuid.UUID, int] = {}
    lot = iter(IDS)
    for kind, n, who in raw:
        cb = IDS[who]
        if kind == "debt" and cb not in debts:
            history.append(DebtEvent("debt", n, cb))
            owed[cb] = debts[cb] = n
        elif kind == "repay" and any(owed.values()):
            pay = min(n, sum(owed.values()))
            history.append(DebtEvent("repay", pay, uses=((next(lot, IDS[0]), pay),)))
            for k in owed:  # the expected FIFO, written independently
                paid = min(owed[k], pay)
                owed[k], pay = owed[k] - paid, pay - paid
        elif kind == "forgive" and owed.get(cb):
            history.append(DebtEvent("forgive", owed[cb], cb))
            owed[cb] = 0
    shares = attribute(history)
    assert shares.unpaid == {k: v for k, v in owed.items() if v}
    for cb, total in debts.items():
        forgiven = sum(e.amount for e in history if e.kind == "forgive" and e.clawback == cb)
        repaid = sum(n for _, n in shares.repaid.get(cb, []))
        assert repaid + forgiven + shares.unpaid.get(cb, 0) == total
    paid = sum(e.amount for e in history if e.kind == "repay")
    assert sum(n for parts in shares.repaid.values() for _, n in parts) == paid
