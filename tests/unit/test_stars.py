"""Star levels (星级) from service hours: thresholds, hours to the next level, monotone."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from civicpoints.hours import DEFAULT_STARS, StarThresholds, star_level


@pytest.mark.parametrize(
    ("hours", "level", "to_next"),
    [
        (0, 0, 100),
        (99.5, 0, 0.5),
        (100, 1, 200),
        (299, 1, 1),
        (300, 2, 300),
        (600, 3, 400),
        (1000, 4, 500),
        (1499.5, 4, 0.5),
        (1500, 5, None),
        (9000, 5, None),
    ],
)
def test_default_thresholds(hours: float, level: int, to_next: float | None) -> None:
    """100 / 300 / 600 / 1000 / 1500 hours make one to five stars."""
    got = star_level(round(hours * 60), DEFAULT_STARS)
    assert got.level == level
    assert got.hours_to_next == to_next


def test_names_in_both_languages() -> None:
    """Levels carry their names: 一星 … 五星 and none below the first."""
    assert star_level(100 * 60, DEFAULT_STARS).name_zh == "一星志愿者"
    assert star_level(1500 * 60, DEFAULT_STARS).name_zh == "五星志愿者"
    assert star_level(0, DEFAULT_STARS).name_zh == ""


def test_thresholds_must_rise() -> None:
    """Five thresholds, strictly rising, positive."""
    with pytest.raises(ValueError):
        StarThresholds(hours=[100, 300, 300, 1000, 1500])
    with pytest.raises(ValueError):
        StarThresholds(hours=[100, 300, 600])
    with pytest.raises(ValueError):
        StarThresholds(hours=[0, 300, 600, 1000, 1500])


rising = st.lists(st.integers(1, 5000), min_size=5, max_size=5, unique=True).map(sorted)


@given(rising, st.integers(0, 400_000), st.integers(0, 400_000))
def test_level_is_monotone_in_hours(hours: list[int], a: int, b: int) -> None:
    """More minutes never give fewer stars; below five, the gap is positive and exact."""
    t = StarThresholds(hours=hours)
    lo, hi = sorted((a, b))
    assert star_level(lo, t).level <= star_level(hi, t).level
    got = star_level(lo, t)
    if got.level < 5:
        assert got.minutes_to_next is not None and got.minutes_to_next > 0
        assert star_level(lo + got.minutes_to_next - 1, t).level == got.level
        assert star_level(lo + got.minutes_to_next, t).level == got.level + 1
    else:
        assert got.minutes_to_next is None and got.hours_to_next is None


def test_certificate_category_names_are_scorings() -> None:
    """The certificate names categories as scoring does (hours may not import scoring)."""
    from civicpoints.hours import CATEGORY_ZH
    from civicpoints.scoring import CATEGORY_LABELS

    assert dict(CATEGORY_ZH) == {str(k): v["zh-CN"] for k, v in CATEGORY_LABELS.items()}


def test_statement_is_one_line_per_value() -> None:
    """A title with a newline cannot add a line to the signed statement."""
    from civicpoints.hours import statement

    content: dict[str, object] = {
        k: "x"
        for k in (
            "number",
            "kind",
            "issued_on",
            "name",
            "id_type",
            "id_masked",
            "platform_no",
            "organization",
            "person_in_charge",
            "handler",
            "contact",
            "honour",
        )
    }
    content["total_minutes"] = 60
    content["lines"] = [
        {"served_on": "2026-01-01", "minutes": 60, "category": "c", "content": "a\nline x 9"}
    ]
    text = statement(content)
    assert text.endswith("\n") and text.count("\nline ") == 1
    assert "line 2026-01-01 60 c a line x 9\n" in text
