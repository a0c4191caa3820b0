"""Which version of a regional setting is in force: the one precedence every versioned setting
shares (rule sets, risk policies, star thresholds, donation and savings settings).

A version belongs to a region (or to the whole city, region None) and starts on a day. On a
given day, for a place with a chain of regions (its own first, then its ancestors), the version
in force is the one of the most specific region among those already started; within a region
the latest start wins, since a newer version replaces an older one; a remaining tie (which the
database should forbid) goes to the greatest id, so the choice is deterministic."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol, TypeVar


@dataclass(frozen=True)
class Candidate:
    """A version that may apply.

    `region_depth_index` is the position of the version's region in the place's ancestry:
    0 = the place's own region, 1 = its parent, …; None = the city-wide (global) default.
    """

    id: str
    region_depth_index: int | None
    effective_from: date


def select_rule_set(candidates: Iterable[Candidate], on: date) -> str | None:
    """The id of the version in force `on`: most specific region first, then latest start.

    The caller passes only versions of the place's region and its ancestors (plus the global
    default). Versions not yet in force (`effective_from > on`) are ignored. Among the rest, the
    most specific region wins (lowest `region_depth_index`; the global default loses to any
    region); within a region the latest `effective_from` wins. A remaining tie goes to the
    greatest id. None if nothing applies.
    """
    live = [c for c in candidates if c.effective_from <= on]
    if not live:
        return None
    return max(live, key=_precedence).id


def _precedence(c: Candidate) -> tuple[float, date, str]:
    # Negated depth, so that the most specific region ranks highest; global ranks lowest.
    depth = -math.inf if c.region_depth_index is None else -c.region_depth_index
    return depth, c.effective_from, c.id


class Versioned(Protocol):
    """A stored version: its id, its region (None: city-wide) and the day it starts."""

    @property
    def id(self) -> uuid.UUID: ...

    @property
    def region_id(self) -> uuid.UUID | None: ...

    @property
    def effective_from(self) -> date: ...


V = TypeVar("V", bound=Versioned)


def in_force(versions: Iterable[V], region_ids: Sequence[uuid.UUID], on: date) -> V | None:
    """The version in force on `on` for the most specific of `region_ids` (a place's region and
    its ancestors, most specific first); versions of other regions are ignored. None if none
    applies (the caller's default is then in force)."""
    depth = {rid: i for i, rid in enumerate(region_ids)}
    eligible = {str(v.id): v for v in versions if v.region_id is None or v.region_id in depth}
    chosen = select_rule_set(
        (
            Candidate(key, None if v.region_id is None else depth[v.region_id], v.effective_from)
            for key, v in eligible.items()
        ),
        on,
    )
    return None if chosen is None else eligible[chosen]


# A new version starts today at the earliest (never back-dated: what was decided under the old
# one stays decided) and at most two years ahead.
MAX_AHEAD = timedelta(days=731)


def start_refusal(effective_from: date, today: date) -> tuple[str, str] | None:
    """Why a new version may not start on `effective_from` (zh-CN, en), or None if it may."""
    if effective_from < today:
        return "生效日期不能早于今天", "it cannot start before today"
    if effective_from > today + MAX_AHEAD:
        return "生效日期最多可提前两年设定", "it can be scheduled at most two years ahead"
    return None
