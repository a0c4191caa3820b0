"""The venue code (签到码) as a check-in gives it, and the step the screens turn at."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from civicpoints.activities import CheckIn
from civicpoints.activities.venue import turn_of
from civicpoints.kit.settings import Settings

HERE = {"lat": 30.259, "lon": 120.1388}


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("123456", "123456"),
        (" 123 456 ", "123456"),  # read off the screen in its two groups
        ("１２３４５６", "123456"),  # a Chinese keyboard in full-width mode
        ("123\u3000456", "123456"),  # and its ideographic space
        ("000042", "000042"),  # leading zeros are part of the code
        ("", None),  # an empty box is no code
        ("   ", None),
        (None, None),
    ],
)
def test_a_typed_code_is_kept_as_its_digits(typed: str | None, kept: str | None) -> None:
    assert CheckIn.model_validate({**HERE, "venue_code": typed}).venue_code == kept


@pytest.mark.parametrize("typed", ["12a456", "123-456", "①②③④⑤⑥", "１２３ａ", "+123456"])
def test_anything_but_digits_and_spaces_is_refused_by_name(typed: str) -> None:
    with pytest.raises(ValidationError) as caught:
        CheckIn.model_validate({**HERE, "venue_code": typed})
    [error] = caught.value.errors()
    assert error["loc"] == ("venue_code",)
    assert "签到码只能填写数字" in error["msg"] and "digits" in error["msg"]


def test_a_code_longer_than_12_characters_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        CheckIn.model_validate({**HERE, "venue_code": "1234567890123"})
    assert caught.value.errors()[0]["type"] == "string_too_long"
    assert CheckIn.model_validate({**HERE, "venue_code": "123 456 789 "}).venue_code


def test_a_number_is_not_taken_for_a_code() -> None:
    """JSON 123456 (a number) loses its leading zeros: the API asks for text."""
    with pytest.raises(ValidationError):
        CheckIn.model_validate({**HERE, "venue_code": 123456})


def test_the_venue_code_is_for_check_in_only_in_the_schema() -> None:
    """Check-out keeps its own body (Position): no venue code there."""
    from civicpoints.activities import Position

    with pytest.raises(ValidationError):
        Position.model_validate({**HERE, "venue_code": "123456"})


@pytest.mark.parametrize("step", [29, 61, 0])
def test_the_step_is_bounded_30_to_60_seconds(step: int) -> None:
    with pytest.raises(ValidationError):
        Settings(venue_code_step_s=step)


def test_the_step_defaults_to_30_seconds() -> None:
    assert Settings().venue_code_step_s == 30
    assert Settings(venue_code_step_s=60).venue_code_step_s == 60


def test_the_code_turns_at_the_next_multiple_of_the_step() -> None:
    at = datetime(2026, 12, 7, 6, 0, 7, 250_000, tzinfo=UTC)
    assert turn_of(at, 30) == datetime(2026, 12, 7, 6, 0, 30, tzinfo=UTC)
    assert turn_of(datetime(2026, 12, 7, 6, 0, 30, tzinfo=UTC), 30) == datetime(
        2026, 12, 7, 6, 1, 0, tzinfo=UTC
    )
