"""为您推荐, the pure parts: the metrics on hand-made examples, time slots, the fitted
neighbours, the ranking and its reasons (properties), the simulated city's determinism."""

from __future__ import annotations

import itertools
import json
import math
from collections import Counter
from collections.abc import Hashable
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civicpoints.insights.recs_city import generate
from civicpoints.insights.recs_eval import (
    leave_last_out,
    ndcg_at,
    nearest_first,
    participation_counts,
    recall_at,
)
from civicpoints.insights.recs_rules import Counts, Item, Model, Person, Taken, slot_of

HOME = (30.2590, 120.1388)
CATS = ("environmental", "volunteer_service", "public_supervision")


def test_recall_counts_the_relevant_found_in_the_first_k() -> None:
    assert recall_at(["a", "b", "c"], {"b"}, 1) == 0.0
    assert recall_at(["a", "b", "c"], {"b"}, 2) == 1.0
    assert recall_at(["a", "b", "c"], {"b", "z"}, 3) == 0.5
    assert recall_at([], {"b"}, 10) == 0.0


def test_ndcg_discounts_by_the_log_of_the_rank() -> None:
    assert ndcg_at(["b", "a"], {"b"}, 10) == 1.0
    assert ndcg_at(["a", "b"], {"b"}, 10) == pytest.approx(1 / math.log2(3))  # 0.631
    assert ndcg_at(["a", "b", "c"], {"a", "c"}, 3) == pytest.approx(1.5 / (1 + 1 / math.log2(3)))
    assert ndcg_at(["a", "b", "c"], {"c"}, 2) == 0.0


@pytest.mark.parametrize("fn", [recall_at, ndcg_at])
def test_the_metrics_refuse_nothing_relevant_or_k_below_one(fn: object) -> None:
    assert callable(fn)
    with pytest.raises(ValueError):
        fn(["a"], set(), 10)
    with pytest.raises(ValueError):
        fn(["a"], {"a"}, 0)


def test_time_slots_split_weekdays_and_weekends_into_three_parts() -> None:
    assert slot_of(datetime(2026, 12, 9, 9, 0)) == 0  # Wednesday morning
    assert slot_of(datetime(2026, 12, 9, 14, 0)) == 1
    assert slot_of(datetime(2026, 12, 9, 19, 30)) == 2
    assert slot_of(datetime(2026, 12, 12, 9, 0)) == 3  # Saturday
    assert slot_of(datetime(2026, 12, 13, 20, 0)) == 5  # Sunday evening


def taken(series: str, cat: str = "environmental", slot: int = 3) -> Taken:
    return Taken(series, cat, slot, f"活动{series}")


def test_series_joined_by_the_same_residents_are_neighbours() -> None:
    model = Model.fit(
        [("60-69", [taken("A"), taken("B")]), ("60-69", [taken("A"), taken("B")]),
         ("18-34", [taken("C")]), ("18-34", [taken("A"), taken("C")])]
    )  # fmt: skip
    ab, ac = model.neighbours["A"]["B"], model.neighbours["A"]["C"]
    assert ab == model.neighbours["B"]["A"] and 0 < ac < ab <= 1
    assert "C" not in model.neighbours["B"]
    assert model.popularity == {"A": 3, "B": 2, "C": 2}


def near_item(key: str, series: str, km_north: float, cat: str = "environmental") -> Item:
    return Item(key, series, cat, 3, (HOME[0] + km_north / 111.195, HOME[1]), f"标题{key}")


def test_a_new_resident_gets_the_nearer_of_two_alike_activities_first_with_its_distance() -> None:
    model = Model.fit([("60-69", [taken("A")]), ("60-69", [taken("B")])])
    person = Person("60-69", HOME)
    picks = model.rank(person, [near_item("far", "A", 6.0), near_item("near", "B", 1.2)])
    assert [p.key for p in picks] == ["near", "far"]
    assert (picks[0].reason.code, picks[0].reason.arg) == ("near", "1.2")


def test_a_series_taken_before_is_said_by_its_title() -> None:
    model = Model.fit([("35-59", [taken("A"), taken("B")])])
    person = Person("35-59", HOME, (taken("A"),))
    picks = model.rank(person, [near_item("a2", "A", 1.0), near_item("b2", "B", 1.0)])
    assert picks[0].key == "a2"
    assert (picks[0].reason.code, picks[0].reason.arg) == ("joined", "活动A")


items_st = st.lists(
    st.builds(
        Item,
        key=st.integers(0, 10_000),
        series=st.sampled_from("ABCDEFG"),
        category=st.sampled_from(CATS),
        slot=st.integers(0, 5),
        point=st.one_of(
            st.none(),
            st.tuples(st.floats(30.0, 30.5), st.floats(120.0, 120.5)),
        ),
        title=st.text(max_size=5),
    ),
    max_size=25,
    unique_by=lambda it: it.key,
)
past_st = st.lists(
    st.builds(
        Taken,
        series=st.sampled_from("ABCDEFGH"),
        category=st.sampled_from(CATS),
        slot=st.integers(0, 5),
        title=st.text(min_size=1, max_size=5),
    ),
    max_size=8,
)


@settings(max_examples=150, deadline=None)
@given(
    items=items_st,
    past=past_st,
    home=st.one_of(st.none(), st.just(HOME)),
    others=st.lists(past_st, max_size=5),
    n=st.integers(1, 12),
)
def test_a_ranking_is_a_best_first_top_n_of_the_items_with_reasons_that_hold(
    items: list[Item], past: list[Taken], home: tuple[float, float] | None,
    others: list[list[Taken]], n: int,
) -> None:  # fmt: skip
    model = Model.fit([("60-69", p) for p in [past, *others]])
    person = Person("60-69", home, tuple(past))
    picks = model.rank(person, items, n)
    by_series = {it.key: it.series for it in items}
    assert len(picks) == min(n, len({it.series for it in items}))
    assert len({by_series[p.key] for p in picks}) == len(picks)  # one session per series
    assert len({p.key for p in picks}) == len(picks) <= len(items)
    assert {p.key for p in picks} <= {it.key for it in items}
    assert all(a.score >= b.score for a, b in itertools.pairwise(picks))
    by_key = {it.key: it for it in items}
    for p in picks:
        it = by_key[p.key]
        if p.reason.code == "joined":
            assert p.reason.arg in {t.title for t in past}
        if p.reason.code == "near":
            assert home is not None and it.point is not None and float(p.reason.arg) >= 0
        if p.reason.code == "often":
            assert it.category in {t.category for t in past}
        if p.reason.code == "weekend":
            assert it.slot >= 3
        if p.reason.code == "usual_time":
            assert it.slot in {t.slot for t in past}
        if p.reason.code == "popular":
            assert model.popularity.get(it.series, 0) > 0
        if any(t.series == it.series for t in past):
            assert p.reason.code == "joined"
    if not past:
        assert all(p.reason.code not in ("joined", "often") for p in picks)


@settings(max_examples=60, deadline=None)
@given(metres=st.lists(st.integers(0, 30_000), min_size=2, max_size=10, unique=True))
def test_alike_activities_come_nearest_first(metres: list[int]) -> None:
    km = [m / 1000 for m in metres]
    model = Model.fit([("70+", [taken("A")])])
    items = [near_item(str(i), f"S{i}", d) for i, d in enumerate(km)]
    picks = model.rank(Person("70+", HOME), items, len(items))
    by_km = [it.key for _, it in sorted(zip(km, items, strict=True), key=lambda x: x[0])]
    assert [p.key for p in picks] == by_km
    assert [p.key for p in picks] == nearest_first(Person("70+", HOME), items)


def test_the_simulated_city_is_the_same_for_the_same_seed_and_not_for_another() -> None:
    a, b, c = generate(5, 300, 40), generate(5, 300, 40), generate(6, 300, 40)
    assert a.participations == b.participations and len(a.participations) > 300
    assert a.participations != c.participations
    facts = participation_counts(a)
    assert facts["residents"] == 300 and facts["series"] == 40
    assert sum(v for k, v in facts.items() if k.startswith("share_")) == pytest.approx(1, abs=0.01)


def test_leave_last_out_scores_every_ranker_on_the_same_residents() -> None:
    scores = leave_last_out(generate(5, 400, 40))
    assert {s.residents for s in scores.values()} == {scores["model"].residents}
    assert scores["model"].residents > 100
    for s in scores.values():
        assert 0 <= s.ndcg <= s.recall <= 1


@settings(max_examples=25, deadline=None)
@given(
    # series 0-3 meet ~100 others each: their lists are pruned as they grow
    edges=st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 150), st.integers(1, 9)),
        min_size=250,
        max_size=400,
    ),
    k=st.integers(1, 5),
)
def test_streamed_pairs_keep_the_same_k_nearest_as_sorting_every_pair(
    edges: list[tuple[int, int, int]], k: int
) -> None:
    """The nightly fit streams the pairs and prunes each series' list as it grows: what it
    keeps is what sorting every pair at once keeps."""
    pairs = {(f"S{min(a, b)}", f"S{max(a, b)}"): n for a, b, n in edges if a != b}
    users: Counter[Hashable] = Counter({f"S{i}": 10 for i in range(151)})
    got = Model.of(Counts(users=users), ((a, b, n) for (a, b), n in pairs.items()), k=k)
    every: dict[str, list[tuple[float, str]]] = {}
    for (a, b), n in pairs.items():
        s = n / 10 * n / (n + 5.0)
        every.setdefault(a, []).append((s, b))
        every.setdefault(b, []).append((s, a))
    want = {a: dict((b, s) for s, b in sorted(v, key=lambda x: (-x[0], x[1]))[:k])
            for a, v in every.items()}  # fmt: skip
    assert got.neighbours == want


def test_a_stored_model_ranks_as_the_model_it_was_made_from() -> None:
    model = Model.fit(
        [("60-69", [taken("A"), taken("B", "volunteer_service", 0)]),
         ("18-34", [taken("C"), taken("A")]), ("35-59", [taken("B")])]
    )  # fmt: skip
    again = Model.from_dict(json.loads(json.dumps(model.to_dict())))
    items = [near_item("a", "A", 1.0), near_item("b", "B", 0.4, "volunteer_service"),
             near_item("c", "C", 2.0)]  # fmt: skip
    person = Person("60-69", HOME, (taken("C"),))
    assert again == model
    assert again.rank(person, items) == model.rank(person, items)


def test_two_residents_who_took_part_in_two_series_in_either_order_count_as_two() -> None:
    """A pair of series is one pair whichever of them a resident joined first (it was
    counted as two pairs of one resident each: similarity 1/2 · 1/6 instead of 2/2 · 2/7)."""
    model = Model.fit([("60-69", [taken("A"), taken("B")]), ("60-69", [taken("B"), taken("A")])])
    assert model.neighbours["A"]["B"] == model.neighbours["B"]["A"] == pytest.approx(2 / 7)
