"""The pure rules of outcome indicators: bounds and thousandths, month arithmetic, the
before/after comparison, and reading a CSV (every problem with its line)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from civicpoints.insights.outcome_import import MAX_BYTES, read
from civicpoints.insights.outcome_rules import WINDOW, compare, plus, to_milli

months = st.builds(lambda y, m: f"{y:04d}-{m:02d}", st.integers(2001, 2098), st.integers(1, 12))


@given(st.decimals(min_value=0, max_value=100, places=3, allow_nan=False))
def test_a_percent_within_bounds_is_kept_exactly(d: Decimal) -> None:
    assert to_milli(str(d), "%") == int(d * 1000)


@given(st.decimals(min_value=Decimal("100.001"), max_value=10**12, places=3))
def test_a_percent_above_100_is_refused(d: Decimal) -> None:
    assert to_milli(str(d), "%") is None


def test_bad_numbers_are_refused() -> None:
    for text in ("-1", "NaN", "inf", "1e400", "65.1234", "x", "", "65,5"):
        assert to_milli(text, "件") is None, text
    assert to_milli("1000000000", "件") == 10**12 and to_milli("1000000000.001", "件") is None
    assert to_milli(" 82 ", "%") == 82000


@given(months, st.integers(-500, 500))
def test_months_add_up(month: str, n: int) -> None:
    assert plus(plus(month, n), -n) == month
    assert (plus(month, n) > month) == (n > 0) or n == 0


@given(months, st.dictionaries(st.integers(-30, 30), st.integers(0, 10**8), max_size=40))
def test_the_comparison_averages_the_windows(joined: str, by_offset: dict[int, int]) -> None:
    values = {plus(joined, k): v for k, v in by_offset.items()}
    c = compare(values, joined)
    before = [v for k, v in by_offset.items() if -WINDOW <= k < 0]
    after = [v for k, v in by_offset.items() if 0 <= k < WINDOW]
    assert (c.months_before, c.months_after) == (len(before), len(after))
    if before:
        assert c.before == round(sum(before) / len(before) / 1000, 3)
    if not before or not after:
        assert c.change is None


def test_the_seed_figures() -> None:
    before = {plus("2025-12", -k): v for k, v in zip(range(1, 13), [64500, 65500] * 6, strict=True)}
    after_values = [75, 78, 80, 82, 83, 83, 84, 84, 84, 84, 84, 83]
    after = {plus("2025-12", k): v * 1000 for k, v in enumerate(after_values)}
    c = compare(before | after | {"2024-01": 1, "2026-12": 1}, "2025-12")  # outside: ignored
    assert (c.before, c.after, c.change, c.change_pct) == (65.0, 82.0, 17.0, 26.2)


def test_reading_a_csv_names_every_line() -> None:
    text = (
        "\ufeffIndicator,Region,Month,Value,Source\n"
        "waste,330106,2026-01,65,ok\n"
        "\n"
        "waste,,2026-13,65," + "s" * 201 + "\n"
        "waste,330106,2026-02,6\x075,ok\n"
    )
    lines, problems = read(text.encode())
    assert [ln.line for ln in lines] == [2, 4, 5]
    assert [(p.line, p.field) for p in problems] == [
        (4, "region"),
        (4, "source"),
        (4, "month"),
        (5, "value"),
    ]
    assert problems[0].as_dict()["message"] == "第 4 行：region 不能为空 / line 4: region is empty"


def test_a_file_that_cannot_be_read_is_one_problem() -> None:
    for data in (b"x" * (MAX_BYTES + 1), b"\xff\xfe", b"a,b\n1,2\n", b'a,"b\n'):
        lines, problems = read(data)
        assert lines == [] and len(problems) == 1, data[:10]
