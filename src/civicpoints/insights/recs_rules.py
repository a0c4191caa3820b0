"""Pure: the recommendation model of 为您推荐 (docs/insights.md, "Recommendations").

An item-kNN over participations, blended with content features. Activities are one-off
sessions, so the kNN runs over what recurs: a *series* (one organizer's activities of one
category at one place). Two series are similar when the same residents take part in both
(cosine over residents, shrunk for rare pairs; each series keeps its `k` nearest). An
upcoming activity is scored for a resident by

    w_knn · mean similarity of its series to the resident's past series (1 for the same one)
  + w_category · log share of its category in the resident's past (age band's share as prior)
  + w_time · log share of its time slot (weekday/weekend × morning/afternoon/evening), alike
  − w_distance · km from the resident's home point / scale_km
  + w_popularity · log(1 + past participations of its series), normalised

A new resident has no past: the priors of their age band, distance and popularity decide
(the cold start: popular nearby, for their age). Each pick carries the one reason that sets
it most apart from the other candidates. Values in, values out: no clock, no session.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from civicpoints.kit.earth import EARTH_RADIUS_M

SLOTS = (
    "weekday_morning",
    "weekday_afternoon",
    "weekday_evening",
    "weekend_morning",
    "weekend_afternoon",
    "weekend_evening",
)
WEEKEND = 3  # slots from here on are on Saturday or Sunday
Point = tuple[float, float]  # (lat, lon), WGS-84


def slot_of(local: datetime) -> int:
    """The time slot of a local (Beijing) start time: index into SLOTS."""
    part = 0 if local.hour < 12 else 1 if local.hour < 18 else 2
    return part + (WEEKEND if local.weekday() >= 5 else 0)


@dataclass(frozen=True)
class Item:
    """An upcoming activity to rank: `key` names it, `series` is what recurs."""

    key: Hashable
    series: Hashable
    category: str
    slot: int
    point: Point | None
    title: str = ""


@dataclass(frozen=True)
class Taken:
    """One past participation of a resident."""

    series: Hashable
    category: str
    slot: int
    title: str = ""


@dataclass(frozen=True)
class Person:
    """What the model knows of a resident: age band, home point, past participations."""

    band: str
    home: Point | None
    past: tuple[Taken, ...] = ()


@dataclass(frozen=True)
class Weights:
    """How the parts are blended (chosen on a validation city, docs/insights.md)."""

    knn: float = 1.0
    category: float = 1.0
    time: float = 0.5
    distance: float = 1.3
    popularity: float = 3.0
    scale_km: float = 1.5
    prior: float = 2.0  # pseudo-participations of the age band's shares


@dataclass(frozen=True)
class Reason:
    """Why an activity is recommended: a code and its one argument (title, category, km).

    joined (因为您参加过「title」) · often (您常参加 category) · age (与您年龄相仿的居民常参加
    category) · near (离您 km 公里) · weekend (适合周末) · usual_time (在您常参加的时段) ·
    popular (附近很受欢迎) · upcoming (近两周内的活动: nothing else is true of it)."""

    code: str
    arg: str = ""


@dataclass(frozen=True)
class Pick:
    """One recommended activity, its score and reason."""

    key: Hashable
    score: float
    reason: Reason


CAP = 40  # a resident's latest distinct series that count for similarity


@dataclass
class Counts:
    """What the model is fitted on, as counts: residents per series (each resident's latest
    `CAP` distinct series), participations per series, and per age band per category and per
    time slot."""

    users: Counter[Hashable] = field(default_factory=Counter)
    popularity: Counter[Hashable] = field(default_factory=Counter)
    categories: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    slots: defaultdict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))

    def add(self, band: str, series: Hashable, category: str, slot: int, n: int = 1) -> None:
        """Count `n` participations of a band in a series (of a category, in a slot)."""
        self.popularity[series] += n
        self.categories[band][category] += n
        self.slots[band][slot] += n


PARTS = ("knn", "category", "time", "distance", "popularity")
Affinity = dict[Hashable, tuple[float, Taken]]


@dataclass
class Model:
    """The fitted model: series neighbours, series popularity, the age bands' priors."""

    neighbours: dict[Hashable, dict[Hashable, float]] = field(default_factory=dict)
    popularity: dict[Hashable, int] = field(default_factory=dict)
    band_category: dict[str, dict[str, float]] = field(default_factory=dict)
    band_slot: dict[str, list[float]] = field(default_factory=dict)
    weights: Weights = field(default_factory=Weights)

    @classmethod
    def fit(
        cls,
        histories: Iterable[tuple[str, Sequence[Taken]]],
        k: int = 30,
        shrink: float = 5.0,
        weights: Weights | None = None,
        cap: int = CAP,
    ) -> Model:
        """Fit from every resident's (age band, past participations); each resident's last
        `cap` distinct series count for similarity (bounds the pairs)."""
        counts = Counts()
        pairs: Counter[tuple[Hashable, Hashable]] = Counter()
        for band, past in histories:
            seen = list(dict.fromkeys(t.series for t in past))[-cap:]
            counts.users.update(seen)
            ordered = sorted(seen, key=str)  # one key per pair, whoever joined which first
            for i, a in enumerate(ordered):
                for b in ordered[i + 1 :]:
                    pairs[(a, b)] += 1
            for t in past:
                counts.add(band, t.series, t.category, t.slot)
        return cls.of(counts, ((a, b, n) for (a, b), n in pairs.items()), k, shrink, weights)

    @classmethod
    def of(
        cls,
        counts: Counts,
        pairs: Iterable[tuple[Hashable, Hashable, int]],
        k: int = 30,
        shrink: float = 5.0,
        weights: Weights | None = None,
    ) -> Model:
        """The model from counts (`Counts`) and every co-occurring pair of series once, as
        (a, b, residents who took part in both): what `fit` counts in memory, or a database
        counts for it (the nightly job). Holds `k` neighbours per series, never every pair."""
        return cls(
            neighbours=_neighbours(counts.users, pairs, k, shrink),
            popularity=dict(counts.popularity),
            band_category={b: _shares(c) for b, c in counts.categories.items()},
            band_slot={b: _slot_shares(c) for b, c in counts.slots.items()},
            weights=weights or Weights(),
        )

    def to_dict(self) -> dict[str, Any]:
        """The fitted model as JSON-ready values (series keys must be strings)."""
        return {
            "neighbours": self.neighbours,
            "popularity": self.popularity,
            "band_category": self.band_category,
            "band_slot": self.band_slot,
            "weights": vars(self.weights),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Model:
        """The model `to_dict` gave."""
        return cls(
            neighbours=dict(data["neighbours"]),
            popularity=dict(data["popularity"]),
            band_category=dict(data["band_category"]),
            band_slot=dict(data["band_slot"]),
            weights=Weights(**data["weights"]),
        )

    def parts(
        self, person: Person, slate: Slate, near: Affinity | None = None
    ) -> dict[str, np.ndarray]:
        """Each part of the score of every item of the slate, before weighting."""
        w, n = self.weights, len(person.past)
        cat_n = Counter(t.category for t in person.past)
        slot_n = Counter(t.slot for t in person.past)
        band_cat = self.band_category.get(person.band) or _overall(self.band_category)
        band_slot = self.band_slot.get(person.band) or [1 / len(SLOTS)] * len(SLOTS)
        near = self.affinity(person) if near is None else near
        knn = np.zeros(len(slate.series))
        for series, (v, _) in near.items():
            j = slate.index.get(series)
            if j is not None:
                knn[j] = v
        cat = [
            (cat_n[c] + w.prior * band_cat.get(c, 0.02) + 1e-3) / (n + w.prior + 1e-3)
            for c in slate.categories
        ]
        slot = [(slot_n[t] + w.prior * band_slot[t]) / (n + w.prior) for t in range(len(SLOTS))]
        return {
            "knn": knn[slate.series_of],
            "category": np.log(cat)[slate.category_of],
            "time": np.log(slot)[slate.slot_of],
            "distance": -slate.km_from(person.home) / w.scale_km,
            "popularity": slate.popularity,
        }

    def affinity(self, person: Person) -> Affinity:
        """Series → (mean similarity to the person's past series, the most similar past
        participation); the same series counts 1."""
        past = list({t.series: t for t in person.past}.values())
        acc: dict[Hashable, list[Any]] = {}
        for t in past:
            for series, s in [(t.series, 1.0), *self.neighbours.get(t.series, {}).items()]:
                got = acc.setdefault(series, [0.0, t, 0.0])
                got[0] += s / len(past)
                if s > got[2]:
                    got[1], got[2] = t, s
        return {series: (v[0], v[1]) for series, v in acc.items()}

    def rank(
        self,
        person: Person,
        items: Sequence[Item] | Slate,
        n: int = 10,
        exclude: Collection[Hashable] = (),
    ) -> list[Pick]:
        """The top `n` items for the person, best first (ties by key), each with its reason;
        one session per series (the best), so a weekly activity does not fill the list;
        items whose key is in `exclude` are left out. A `Slate` serves many people."""
        slate = items if isinstance(items, Slate) else Slate.of(items, self)
        open_ = np.array([it.key not in exclude for it in slate.items], dtype=bool)
        if not open_.any():
            return []
        w, near = self.weights, self.affinity(person)
        parts = self.parts(person, slate, near)
        weighted = {p: getattr(w, p) * parts[p] for p in PARTS}
        score = np.sum([weighted[p] for p in PARTS], axis=0)
        ranked = np.lexsort((slate.tie, -score))
        order = _one_per_series([int(i) for i in ranked if open_[i]], slate, n)
        means = {p: float(v[open_].mean()) for p, v in weighted.items()}
        picks = []
        for i in order:
            lift = {p: float(weighted[p][i]) - means[p] for p in PARTS}
            km = float(-parts["distance"][i]) * w.scale_km
            reason = self.reason(person, slate.items[i], (lift, km), near)
            picks.append(Pick(slate.items[i].key, float(score[i]), reason))
        return picks

    def reason(
        self,
        person: Person,
        item: Item,
        lift: tuple[Mapping[str, float], float],
        near: Affinity,
    ) -> Reason:
        """The one reason for an item: "joined" when the person took part in its series
        before, else the part that lifts it most above the candidates' mean (`lift`: each
        part's lift, and the km from home); a part that cannot be said for this person is
        skipped; only a part that lifts it (above 0) is said, else where it is."""
        ups, km = lift
        again = near.get(item.series)
        if again is not None and again[1].series == item.series:
            return Reason("joined", again[1].title)  # the same series: the clearest reason
        for part in sorted(PARTS, key=lambda p: (-ups[p], PARTS.index(p))):
            said = self._said(part, person, item, km, near) if ups[part] > 0 else None
            if said is not None:
                return said
        if person.home and item.point:
            return Reason("near", f"{km:.1f}")  # nothing sets it apart: where it is
        return Reason("upcoming")

    def _said(
        self, part: str, person: Person, item: Item, km: float, near: Affinity
    ) -> Reason | None:
        """A part in words, or None where it would not be true for this person and item."""
        if part == "knn":
            best = near.get(item.series)
            return Reason("joined", best[1].title) if best is not None else None
        if part == "category":
            if any(t.category == item.category for t in person.past):
                return Reason("often", item.category)
            share = self.band_category.get(person.band, {}).get(item.category, 0)
            return Reason("age", item.category) if share > 0 else None
        if part == "distance":
            return Reason("near", f"{km:.1f}") if person.home and item.point else None
        if part == "time":
            if item.slot >= WEEKEND:
                return Reason("weekend")
            return Reason("usual_time") if any(t.slot == item.slot for t in person.past) else None
        return Reason("popular") if self.popularity.get(item.series, 0) > 0 else None


@dataclass(frozen=True)
class Slate:
    """Items prepared once for everyone ranked against them: what does not depend on the
    person, as arrays (series, category and slot indexes, points, popularity, key order)."""

    items: tuple[Item, ...]
    series: list[Hashable]
    index: dict[Hashable, int]  # series → position in `series`
    series_of: np.ndarray
    categories: list[str]
    category_of: np.ndarray
    slot_of: np.ndarray
    lat: np.ndarray  # radians; NaN where unknown
    lon: np.ndarray
    popularity: np.ndarray  # log(1 + participations of the series), normalised to [0, 1]
    tie: np.ndarray  # the order of str(key): ties broken by key

    @classmethod
    def of(cls, items: Sequence[Item], model: Model) -> Slate:
        """Prepare `items` for ranking with `model`."""
        index: dict[Hashable, int] = {}
        cats: dict[str, int] = {}
        for it in items:
            index.setdefault(it.series, len(index))
            cats.setdefault(it.category, len(cats))
        top = math.log1p(max(model.popularity.values(), default=0)) or 1.0
        keys = [str(it.key) for it in items]
        tie = np.empty(len(items), dtype=np.int64)
        tie[np.argsort(np.array(keys, dtype=object), kind="stable")] = np.arange(len(items))
        pts = [it.point if it.point is not None else (math.nan, math.nan) for it in items]
        latlon = np.radians(np.array(pts, dtype=float).reshape(-1, 2))
        return cls(
            items=tuple(items),
            series=list(index),
            index=index,
            series_of=np.array([index[it.series] for it in items], dtype=np.int64),
            categories=list(cats),
            category_of=np.array([cats[it.category] for it in items], dtype=np.int64),
            slot_of=np.array([it.slot for it in items], dtype=np.int64),
            lat=latlon[:, 0],
            lon=latlon[:, 1],
            popularity=np.array([math.log1p(model.popularity.get(it.series, 0)) for it in items])
            / top,
            tie=tie,
        )

    def km_from(self, home: Point | None) -> np.ndarray:
        """Great-circle km from home to each item (0 where either point is unknown)."""
        if home is None:
            return np.zeros(len(self.items))
        lat1, lon1 = math.radians(home[0]), math.radians(home[1])
        h = (
            np.sin((self.lat - lat1) / 2) ** 2
            + math.cos(lat1) * np.cos(self.lat) * np.sin((self.lon - lon1) / 2) ** 2
        )
        km = 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h))) / 1000
        return np.nan_to_num(km, nan=0.0)


def _one_per_series(order: Sequence[int], slate: Slate, n: int) -> list[int]:
    """The first `n` of `order` whose series was not picked before."""
    seen: set[int] = set()
    out: list[int] = []
    for i in order:
        if int(slate.series_of[i]) not in seen:
            seen.add(int(slate.series_of[i]))
            out.append(i)
            if len(out) == n:
                break
    return out


def _neighbours(
    users: Mapping[Hashable, int],
    pairs: Iterable[tuple[Hashable, Hashable, int]],
    k: int,
    shrink: float,
) -> dict[Hashable, dict[Hashable, float]]:
    """Each series' `k` most similar: shrunk cosine over the residents who took part. The
    pairs stream by; each series keeps at most 2k candidates between prunes."""
    found: dict[Hashable, list[tuple[float, Hashable]]] = defaultdict(list)
    for a, b, both in pairs:
        s = both / math.sqrt(users[a] * users[b]) * both / (both + shrink)
        for x, y in ((a, b), (b, a)):
            near = found[x]
            near.append((s, y))
            if len(near) >= 2 * k + 64:
                near[:] = _best(near, k)
    return {a: dict((b, s) for s, b in _best(near, k)) for a, near in found.items()}


def _best(near: list[tuple[float, Hashable]], k: int) -> list[tuple[float, Hashable]]:
    """The `k` most similar, ties by key."""
    return sorted(near, key=lambda x: (-x[0], str(x[1])))[:k]


def _shares(counts: Counter[str]) -> dict[str, float]:
    total = sum(counts.values()) or 1
    return {c: n / total for c, n in counts.items()}


def _slot_shares(counts: Counter[int]) -> list[float]:
    total = sum(counts.values()) + len(SLOTS)  # add-one: no slot is impossible
    return [(counts[s] + 1) / total for s in range(len(SLOTS))]


def _overall(by_band: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """The bands' shares averaged: the prior of a band nobody of has taken part yet."""
    out: defaultdict[str, float] = defaultdict(float)
    for shares in by_band.values():
        for c, v in shares.items():
            out[c] += v / len(by_band)
    return dict(out)
