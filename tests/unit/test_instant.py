"""Input times: with an offset, within years the platform can mean (never a 500 on overflow)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import BaseModel, ValidationError

from civicpoints.kit.schemas import Instant


class Form(BaseModel):
    at: Instant


@pytest.mark.parametrize(
    "text",
    [
        "0001-01-01T00:00:00+01:00",  # moving it to UTC overflows: was a 500
        "9999-12-31T23:59:59-05:00",
        "1969-12-31T23:59:59+00:00",
        "2201-01-01T12:00:00+00:00",
    ],
)
def test_implausible_times_are_refused_in_both_languages(text: str) -> None:
    with pytest.raises(ValidationError) as err:
        Form.model_validate({"at": text})
    message = err.value.errors()[0]["msg"]
    assert "时间须在 1970–2200 年之间" in message and "the time must lie in the years" in message


def test_plausible_times_keep_their_offset() -> None:
    form = Form.model_validate({"at": "2026-11-27T09:30:00+08:00"})
    assert form.at == datetime(2026, 11, 27, 1, 30, tzinfo=UTC)
    assert form.at.utcoffset() == timedelta(hours=8)
    assert Form(at=datetime(1970, 1, 1, tzinfo=UTC)).at.year == 1970


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValidationError):
        Form.model_validate({"at": "2026-11-27T09:30:00"})
