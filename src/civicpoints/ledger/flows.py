"""Points in circulation month by month, from the transfers themselves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from civicpoints.kit.months import bounds, key_of
from civicpoints.ledger.repository import FLOWS, LedgerRepository


@dataclass(frozen=True)
class MonthFlows:
    """Points issued, redeemed, expired and clawed back (net of restores and repayments
    included) in one Beijing month, and outstanding at its end."""

    month: str
    issued: int
    redeemed: int
    expired: int
    outstanding: int
    clawed_back: int = 0


def _out(n: dict[str, int]) -> int:
    """What a month's (or a period's) flows do to the points residents hold."""
    return n["issued"] - n["redeemed"] - n["expired"] - n["clawed"] + n["restored"]


def flows_by_month(repo: LedgerRepository, months: list[date]) -> list[MonthFlows]:
    """One MonthFlows per month (first days, in order)."""
    if not months:
        return []
    by_month = repo.flows_by_month(months)
    before = repo.flows_before(bounds(months[0])[0])
    out = _out({f: before.get(f, 0) for f in FLOWS})
    rows = []
    for first in months:
        key = key_of(first)
        n = {f: by_month.get((f, key), 0) for f in FLOWS}
        out += _out(n)
        clawed = n["clawed"] - n["restored"]
        rows.append(MonthFlows(key, n["issued"], n["redeemed"], n["expired"], out, clawed))
    return rows
