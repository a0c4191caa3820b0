"""Pure: the offline evaluation of 为您推荐 — Recall@k, NDCG@k, leave-last-out on a city.

Leave-last-out: each resident with at least `min_history` participations before their last
one has that last one held out; everything else trains the model (and counts popularity).
The resident is asked the day before the held-out activity: the candidates are the city's
activities starting in the next `window_days` days, less those they already took part in.
Three rankers see the same candidates: the model, most popular first (past participations
of the activity's series) and nearest first (from the centre of the resident's community).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

import numpy as np

from civicpoints.insights.recs_city import BANDS, CATEGORIES, City
from civicpoints.insights.recs_rules import SLOTS, Item, Model, Person, Taken, Weights

Ranker = Callable[[Person, Sequence[Item]], list[Hashable]]


def recall_at(ranked: Sequence[Hashable], relevant: set[Hashable], k: int) -> float:
    """Share of the relevant items found in the first k."""
    if not relevant or k < 1:
        raise ValueError("recall needs at least one relevant item and k ≥ 1")
    return len(set(ranked[:k]) & relevant) / len(relevant)


def ndcg_at(ranked: Sequence[Hashable], relevant: set[Hashable], k: int) -> float:
    """Normalised discounted cumulative gain of the first k (binary relevance)."""
    if not relevant or k < 1:
        raise ValueError("NDCG needs at least one relevant item and k ≥ 1")
    dcg = sum(1 / math.log2(i + 2) for i, x in enumerate(ranked[:k]) if x in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return dcg / ideal


@dataclass(frozen=True)
class Score:
    """One ranker's mean figures over the residents asked."""

    recall: float
    ndcg: float
    residents: int


def popular_first(model: Model) -> Ranker:
    """Most participations of the item's series first (ties by key)."""
    return lambda _, items: [
        it.key
        for it in sorted(items, key=lambda it: (-model.popularity.get(it.series, 0), str(it.key)))
    ]


def nearest_first(_: Person, items: Sequence[Item]) -> list[Hashable]:
    """Nearest to the resident's home point first (ties by key)."""
    return [it.key for it in sorted(items, key=lambda it: (_km_of(_, it), str(it.key)))]


def _km_of(person: Person, item: Item) -> float:
    if person.home is None or item.point is None:
        return math.inf
    (a, b), (c, d) = person.home, item.point
    x = (d - b) * math.cos(math.radians((a + c) / 2))
    return math.hypot(c - a, x)  # degrees: the order is all that matters here


def leave_last_out(
    city: City,
    weights: Weights | None = None,
    k: int = 10,
    min_history: int = 2,
    window_days: int = 7,
    limit: int | None = None,
) -> dict[str, Score]:
    """Recall@k and NDCG@k of the model and both baselines (at most `limit` residents)."""
    history: dict[int, list[int]] = defaultdict(list)
    for r, a in city.participations:
        history[r].append(a)
    held = {r: acts[-1] for r, acts in history.items() if len(acts) > min_history}
    asked = sorted(held)[:limit] if limit else sorted(held)
    items = [_item(city, a) for a in range(len(city.activity_series))]
    train = {r: [_taken(city, a) for a in acts if a != held.get(r)] for r, acts in history.items()}
    model = Model.fit(
        ((BANDS[city.band[r]], past) for r, past in sorted(train.items())), weights=weights
    )
    rankers: dict[str, Ranker] = {
        "model": lambda p, its: [x.key for x in model.rank(p, its, k)],
        "popular": popular_first(model),
        "nearest": nearest_first,
    }
    sums: dict[str, list[float]] = {name: [0.0, 0.0] for name in rankers}
    for r in asked:
        person, candidates = _question(city, r, history[r], held[r], train[r], items, window_days)
        for name, rank in rankers.items():
            ranked = rank(person, candidates)
            sums[name][0] += recall_at(ranked, {held[r]}, k)
            sums[name][1] += ndcg_at(ranked, {held[r]}, k)
    n = max(len(asked), 1)
    return {name: Score(s[0] / n, s[1] / n, len(asked)) for name, s in sums.items()}


def _question(
    city: City,
    r: int,
    acts: list[int],
    last: int,
    past: list[Taken],
    items: list[Item],
    window_days: int,
) -> tuple[Person, list[Item]]:
    """The resident as the model sees them the day before their held-out activity, and the
    activities starting in the window they have not taken part in."""
    day0, done = int(city.activity_day[last]) - 1, set(acts) - {last}
    days = city.activity_day
    window = np.flatnonzero((days > day0) & (days <= day0 + window_days))
    home = city.point(city.centre_km[city.community[r]])
    person = Person(BANDS[city.band[r]], home, tuple(past))
    return person, [items[a] for a in window if a not in done]


def _item(city: City, a: int) -> Item:
    s = int(city.activity_series[a])
    cat = CATEGORIES[city.series_category[s]]
    return Item(a, s, cat, int(city.series_slot[s]), city.point(city.series_km[s]), f"#{s}")


def _taken(city: City, a: int) -> Taken:
    s = int(city.activity_series[a])
    cat = CATEGORIES[city.series_category[s]]
    return Taken(s, cat, int(city.series_slot[s]), f"#{s}")


def participation_counts(city: City) -> dict[str, float]:
    """Facts of the city for the report: residents, activities, participations, how many
    residents took part at all, and the share of participations in each slot."""
    slots = Counter(
        SLOTS[city.series_slot[city.activity_series[a]]] for _, a in city.participations
    )
    total = max(len(city.participations), 1)
    return {
        "residents": len(city.band),
        "activities": len(city.activity_series),
        "series": len(city.series_category),
        "participations": len(city.participations),
        "participants": len({r for r, _ in city.participations}),
        **{f"share_{s}": round(slots[s] / total, 3) for s in SLOTS},
    }
