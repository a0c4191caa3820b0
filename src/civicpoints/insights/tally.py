"""Pure: what rows of the sources add to the rollup (values in, increments out).

Every source row is immutable and counted once, so the rollup is a sum of increments: the
ledger's transfers (points, by the Beijing month they occurred), the hours register's entries
and corrections (hours, participations and participants, by the month served) and the fraud
cases (by the month decided) and the residents' registrations (by the month registered). A
clawback is its own row: it subtracts what the entry added. A community's figures add the same
to every city, district and street above it (`lifted`; docs/insights.md)."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from civicpoints.hours import HoursRow
from civicpoints.kit.clock import month_key
from civicpoints.ledger import FlowRow

# Figures no community owns (points of team pools, education accounts) count city-wide only.
CITY = uuid.UUID(int=0)
FigureKey = tuple[uuid.UUID, str, str, str]  # community, month, figure, key
MemberKey = tuple[uuid.UUID, str, uuid.UUID]  # community, month, resident
# Figures the dashboard also sums over every month up to the range's last (what is
# outstanding, the residents registered by then).
CUMULATIVE = ("points", "registered")
# What each entry kind of the hours register adds to participations (and clawbacks).
SIGN = {"entry": 1, "correct": -1, "restore": 1}


@dataclass(frozen=True)
class CaseRow:
    """A fraud case as decided (append-only): the resident, how and when."""

    id: uuid.UUID
    recorded_at: datetime
    resident_id: uuid.UUID
    kind: str


@dataclass(frozen=True)
class RegistrationRow:
    """A resident as registered: when, and the community they belong to now."""

    id: uuid.UUID
    recorded_at: datetime
    community_id: uuid.UUID


@dataclass
class Increments:
    """What a batch of rows adds: figures, and participation counts per member."""

    figures: Counter[FigureKey] = field(default_factory=Counter)
    members: Counter[MemberKey] = field(default_factory=Counter)

    def merge(self, other: Increments) -> None:
        """Add another batch's increments to these."""
        self.figures.update(other.figures)
        self.members.update(other.members)


def day_month(d: date) -> str:
    """'YYYY-MM' of a calendar day."""
    return f"{d.year:04d}-{d.month:02d}"


def owner_community(owner: str, residents: Mapping[uuid.UUID, uuid.UUID]) -> uuid.UUID:
    """The community a ledger account belongs to: a resident's (wallet, savings…) or a
    community's pool; anything else (teams, children's education accounts) city-wide."""
    parts = owner.split(":")
    if len(parts) != 3:
        return CITY
    try:
        ident = uuid.UUID(parts[2])
    except ValueError:
        return CITY
    if parts[1] == "resident":
        return residents.get(ident, CITY)
    return ident if parts[1] == "community" else CITY


def owner_resident(owner: str) -> uuid.UUID | None:
    """The resident a ledger account belongs to, if any."""
    parts = owner.split(":")
    if len(parts) == 3 and parts[1] == "resident":
        try:
            return uuid.UUID(parts[2])
        except ValueError:
            return None
    return None


@dataclass(frozen=True)
class FlowGroup:
    """Flows of one community, month and flow summed (`donate`: carries out of kind
    `donate`): one ledger row is a group of one; the set-based rebuild groups in SQL."""

    community: uuid.UUID
    month: str
    flow: str
    donate: bool
    amount: int


@dataclass(frozen=True)
class HoursGroup:
    """Register rows of one community, month served, kind, category and channel summed:
    their minutes and how many rows."""

    community: uuid.UUID
    month: str
    kind: str
    category: str
    channel: str
    minutes: int
    rows: int


@dataclass(frozen=True)
class CountGroup:
    """Rows of one community, month and key counted (fraud cases by kind; registrations)."""

    community: uuid.UUID
    month: str
    key: str
    rows: int


def of_flow_groups(groups: Iterable[FlowGroup]) -> Counter[FigureKey]:
    """Points by flow (issued, redeemed, expired, clawed, restored, carried in and out, and
    donated: the carries out of kind `donate`) per owner's community and month occurred."""
    out: Counter[FigureKey] = Counter()
    for g in groups:
        at = (g.community, g.month, "points")
        out[(*at, g.flow)] += g.amount
        if g.flow == "carried_out" and g.donate:
            out[(*at, "donated")] += g.amount
    return out


def of_flows(rows: Iterable[FlowRow], residents: Mapping[uuid.UUID, uuid.UUID]) -> Increments:
    """What ledger rows add: each a group of one (`of_flow_groups`)."""
    groups = []
    for r in rows:
        community, month = owner_community(r.owner, residents), month_key(r.occurred_at)
        groups.append(FlowGroup(community, month, r.flow, r.kind == "donate", r.amount))
    return Increments(figures=of_flow_groups(groups))


def of_hours_groups(groups: Iterable[HoursGroup]) -> Counter[FigureKey]:
    """Hours, participations by category and channel, and clawbacks per resident's community
    and month served (the participants' counts are `of_hours`' members)."""
    out: Counter[FigureKey] = Counter()
    for g in groups:
        sign, at = SIGN.get(g.kind, 0) * g.rows, (g.community, g.month)
        out[(*at, "hours", "minutes")] += g.minutes
        out[(*at, "participations", g.category)] += sign
        out[(*at, "channel", g.channel)] += sign
        if g.kind != "entry":
            out[(*at, "clawbacks", g.kind)] += g.rows
    return out


def of_hours(
    rows: Iterable[HoursRow],
    residents: Mapping[uuid.UUID, uuid.UUID],
    channels: Mapping[uuid.UUID, str],
) -> Increments:
    """What register rows add: the figures (`of_hours_groups`, each row a group of one) and
    the participants' counts per member."""
    out, groups = Increments(), []
    for r in rows:
        community, month = residents.get(r.resident_id, CITY), day_month(r.served_on)
        channel = channels.get(r.participation_id, "unknown")
        groups.append(HoursGroup(community, month, r.kind, r.category, channel, r.minutes, 1))
        out.members[(community, month, r.resident_id)] += SIGN.get(r.kind, 0)
    out.figures = of_hours_groups(groups)
    return out


def of_count_groups(groups: Iterable[CountGroup], figure: str) -> Counter[FigureKey]:
    """Counted rows as a figure per community, month and key."""
    out: Counter[FigureKey] = Counter()
    for g in groups:
        out[(g.community, g.month, figure, g.key)] += g.rows
    return out


def of_cases(rows: Iterable[CaseRow], residents: Mapping[uuid.UUID, uuid.UUID]) -> Increments:
    """Fraud cases confirmed, by kind (rejection, clawback), per community and month."""
    groups = (
        CountGroup(residents.get(r.resident_id, CITY), month_key(r.recorded_at), r.kind, 1)
        for r in rows
    )
    return Increments(figures=of_count_groups(groups, "fraud"))


def of_registrations(rows: Iterable[RegistrationRow]) -> Increments:
    """Residents registered, per community and Beijing month registered."""
    groups = (CountGroup(r.community_id, month_key(r.recorded_at), "residents", 1) for r in rows)
    return Increments(figures=of_count_groups(groups, "registered"))


def lifted(
    figures: Mapping[FigureKey, int], regions_of: Mapping[uuid.UUID, Sequence[uuid.UUID]]
) -> Counter[FigureKey]:
    """What communities' figures add to the aggregated regions they lie in (`regions_of`,
    `people.above`: a community's city, district and street; the city-wide id's root)."""
    out: Counter[FigureKey] = Counter()
    for (c, m, f, k), v in figures.items():
        for region in regions_of.get(c, ()):
            out[(region, m, f, k)] += v
    return out


def outstanding(points: Mapping[str, int]) -> int:
    """What a region's flows do to the points its accounts hold."""
    p = points.get
    plus = p("issued", 0) + p("restored", 0) + p("carried_in", 0)
    return plus - p("redeemed", 0) - p("expired", 0) - p("clawed", 0) - p("carried_out", 0)
