"""Field types and bodies shared by the request schemas of every domain."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

EARLIEST, LATEST = 1970, 2200


def plausible(value: datetime) -> bool:
    """Whether an aware instant lies in years the platform can mean (checked in UTC)."""
    try:
        year = value.astimezone(UTC).year
    except OverflowError:  # before year 1 or after 9999 once moved to UTC
        return False
    return EARLIEST <= year <= LATEST


def _plausible(value: datetime) -> datetime:
    """Refuse instants the platform can never mean (and that overflow when moved to UTC)."""
    if not plausible(value):
        raise ValueError(
            f"时间须在 {EARLIEST}–{LATEST} 年之间 / the time must lie in the years "
            f"{EARLIEST}–{LATEST}"
        )
    return value


# A time with its offset, within years the platform can mean; use it for every input time.
Instant = Annotated[AwareDatetime, AfterValidator(_plausible)]


class Decision(BaseModel):
    """A reviewer's decision (a record in the review queue, an entitlement application)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    decision: Literal["approve", "reject"]
    reason: str = Field(
        default="", max_length=500, validate_default=True, description="required to reject"
    )

    @field_validator("reason")
    @classmethod
    def _reason_on_reject(cls, value: str, info: ValidationInfo) -> str:
        """A rejection says why: the resident reads it."""
        if info.data.get("decision") == "reject" and not value:
            raise ValueError("驳回须填写理由 / a rejection needs a reason")
        return value

    @property
    def approve(self) -> bool:
        """Whether this is an approval."""
        return self.decision == "approve"
