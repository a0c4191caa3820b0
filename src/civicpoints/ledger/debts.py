"""Pure decisions of clawbacks: what to take from which lot, and whose debt a repayment paid.

No database here: the clawback service reads lots and debt-account entries and hands them in.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

LotShare = tuple[uuid.UUID, int]  # (lot id, points)


@dataclass(frozen=True)
class Take:
    """What a clawback does: the lot uses to take, the part already expired, the debt."""

    uses: list[LotShare]
    lapsed: int
    debt: int

    @property
    def taken(self) -> int:
        """Points taken out of the wallet."""
        return sum(n for _, n in self.uses)


def plan_take(amount: int, own: LotShare | None, lapsable: int, others: list[LotShare]) -> Take:
    """Take `amount` back: the award's own lot first (what remains of it), then the points of
    it that expired unspent (`lapsable`: owed by nobody), then the wallet's other lots in the
    order given (earliest expiry first); what is still missing was spent and becomes debt."""
    need, uses = amount, []
    if own is not None and own[1] > 0 and need:
        uses.append((own[0], min(own[1], need)))
        need -= uses[-1][1]
    lapsed = min(max(lapsable, 0), need)
    need -= lapsed
    for lot_id, remaining in others:
        if need == 0:
            break
        if remaining > 0:
            uses.append((lot_id, min(remaining, need)))
            need -= uses[-1][1]
    return Take(uses, lapsed, need)


@dataclass(frozen=True)
class DebtEvent:
    """One entry of a debt account, in chain order: a clawback's `debt`, a `repay` (with the
    lots it was paid from, in the order taken) or a restore's `forgive`."""

    kind: str
    amount: int
    clawback: uuid.UUID | None = None
    uses: tuple[LotShare, ...] = ()


@dataclass
class Shares:
    """Per clawback: its debt still unpaid, and the lot shares that repaid it."""

    unpaid: dict[uuid.UUID, int] = field(default_factory=dict)
    repaid: dict[uuid.UUID, list[LotShare]] = field(default_factory=dict)


def attribute(events: Iterable[DebtEvent]) -> Shares:
    """Whose debt each repayment paid: the oldest unpaid clawback's first (FIFO), so that a
    restore gives back exactly what was repaid on its clawback's account."""
    out = Shares()
    for e in events:
        if e.kind == "debt" and e.clawback is not None:
            out.unpaid[e.clawback] = out.unpaid.get(e.clawback, 0) + e.amount
        elif e.kind == "forgive" and e.clawback is not None:
            out.unpaid[e.clawback] = max(out.unpaid.get(e.clawback, 0) - e.amount, 0)
        elif e.kind == "repay":
            for share in e.uses:
                _pay(out, share)
    out.unpaid = {k: v for k, v in out.unpaid.items() if v}
    return out


def _pay(out: Shares, share: LotShare) -> None:
    """Apply one lot's part of a repayment to the oldest debts still unpaid."""
    lot_id, points = share
    for clawback, owed in out.unpaid.items():
        if points == 0:
            return
        paid = min(owed, points)
        if paid:
            out.unpaid[clawback] = owed - paid
            out.repaid.setdefault(clawback, []).append((lot_id, paid))
            points -= paid
