"""Pure: counts of people from membership rows (community, month, resident, n).

The database counts everyone the rollup holds; this module counts the few residents that
today's live delta touches, from their stored rows merged with the delta, so the page adds
them without counting anyone twice (service.py)."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from civicpoints.insights.privacy import band_of

Row = tuple[uuid.UUID, str, uuid.UUID, int]  # community, month, resident, n


@dataclass
class People:
    """Participants and new volunteers per month, and the period's participants by
    (age band, sex)."""

    participants: Counter[str] = field(default_factory=Counter)
    new: Counter[str] = field(default_factory=Counter)
    cells: Counter[tuple[str, str]] = field(default_factory=Counter)

    def add(self, other: People) -> None:
        """Add another group's counts (the groups share nobody)."""
        self.participants.update(other.participants)
        self.new.update(other.new)
        self.cells.update(other.cells)


def merge(
    stored: Iterable[Row], delta: Mapping[tuple[uuid.UUID, str, uuid.UUID], int]
) -> list[Row]:
    """Stored membership rows with the live delta's counts added."""
    n: Counter[tuple[uuid.UUID, str, uuid.UUID]] = Counter()
    for c, m, r, k in stored:
        n[(c, m, r)] += k
    n.update(delta)
    return [(c, m, r, k) for (c, m, r), k in n.items()]


def count(
    rows: Iterable[Row],
    in_region: Callable[[uuid.UUID], bool],
    months: list[str],
    who: Mapping[uuid.UUID, tuple[date, str]],
    on: date,
) -> People:
    """People among `rows` (every row of the residents concerned, any community): a
    participant of a month has n > 0 in one of the region's communities; a new volunteer's
    first such month (anywhere) is that month; the period's participants are banded by age
    on `on` and by sex."""
    live = [(c, m, r) for c, m, r, k in rows if k > 0]
    first: dict[uuid.UUID, str] = {}
    for _, m, r in live:
        first[r] = min(first.get(r, m), m)
    wanted = set(months)
    out, seen_month, seen = People(), set(), set()
    for c, m, r in live:
        if m not in wanted or not in_region(c) or (m, r) in seen_month:
            continue
        seen_month.add((m, r))
        out.participants[m] += 1
        out.new[m] += first[r] == m
        if r not in seen and r in who:
            seen.add(r)
            birth, sex = who[r]
            out.cells[(band_of(birth, on), sex)] += 1
    return out
