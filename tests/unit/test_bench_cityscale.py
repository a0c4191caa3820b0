"""The pure helpers of the city-scale benchmark (bench/cityscale.py) and the shared percentile
it reports with (bench/common.py)."""

from __future__ import annotations

import pytest
from bench.cityscale import (
    BUCKETS,
    day_plan,
    rollup_differences,
    round_ratios,
    settle,
    stamp_problem,
    worst,
)
from bench.common import latency_summary, percentile


def good_stamp(**changes: object) -> dict[str, object]:
    base = {"kind": "civicpoints-city-year", "generator": "abc", "residents": 20_000,
            "buckets": BUCKETS, "sequenced": True, "rolled_up": True}  # fmt: skip
    return base | changes


def test_a_matching_stamp_is_reused() -> None:
    assert stamp_problem(good_stamp(), 20_000, "abc") is None


@pytest.mark.parametrize(
    ("stamp", "why"),
    [
        (None, "no stamp"),
        (good_stamp(generator="old"), "generator old"),
        (good_stamp(residents=19_999), "19999 residents"),
        (good_stamp(buckets=8), "in 8 buckets"),
        (good_stamp(sequenced=False), "without the sequencer"),
        (good_stamp(rolled_up=False), "without the sequencer or the rollup"),
    ],
)
def test_any_difference_in_the_stamp_means_a_rebuild(stamp: object, why: str) -> None:
    problem = stamp_problem(stamp, 20_000, "abc")  # type: ignore[arg-type]
    assert problem is not None and why in problem


def test_a_day_is_a_365th_of_the_year_in_activities_of_ten() -> None:
    assert day_plan(4_250_000) == (1165, 10)  # 11,644 a day at 5M: 1,165 activities of 10
    assert day_plan(16_549) == (5, 10)  # 45 a day
    assert day_plan(1_000) == (1, 3)  # 3 a day: one activity of 3
    assert day_plan(0) == (1, 1)  # at least one


def test_round_ratios_pair_each_round() -> None:
    assert round_ratios([6.0, 5.5], [4.0, 5.0]) == [1.5, 1.1]
    with pytest.raises(ValueError):
        round_ratios([1.0], [1.0, 2.0])


def test_worst_is_the_slowest_series() -> None:
    assert worst({"page/city": 80.0, "xlsx/street": 210.5, "api/city": 12.0}) == (
        "xlsx/street",
        210.5,
    )


def test_rollup_differences_name_each_month_that_differs() -> None:
    same = {"2026-01": (10, 2, 0, 1.5), "2026-02": (0, 0, 0, 0.0)}
    assert rollup_differences(same, dict(same)) == []
    other = same | {"2026-02": (1, 0, 0, 0.0)}
    assert rollup_differences(same, other) == [
        "2026-02: rollup (0, 0, 0, 0.0) ≠ raw rows (1, 0, 0, 0.0)"
    ]
    missing = rollup_differences(same, {"2026-01": (10, 2, 0, 1.5)})
    assert missing == ["2026-02: rollup (0, 0, 0, 0.0) ≠ raw rows None"]


def test_settle_waits_until_the_build_leaves_the_overlap_window() -> None:
    assert settle(1_000.0, 1_000.0) == 630.0  # 10 minutes of overlap + 30 s of margin
    assert settle(1_000.0, 1_500.0) == 130.0
    assert settle(1_000.0, 1_700.0) == 0.0


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert percentile(values, 95) == 95.0
    assert percentile(values, 50) == 50.0
    assert percentile([3.0, 1.0, 2.0], 95) == 3.0
    summary = latency_summary([0.001 * v for v in range(1, 21)])  # 1..20 ms
    assert (summary["n"], summary["p95_ms"], summary["max_ms"]) == (20, 19.0, 20.0)
