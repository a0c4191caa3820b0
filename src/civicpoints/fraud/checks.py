"""Risk signals and what they decide. Pure: values in, values out.

A signal says in words, in zh-CN and en, why a record looks doubtful, so that the reviewer
and the resident read the same reason. The policy weighs the signals into a score and
decides: approve on its own, send to a reviewer, or refuse. A photo without EXIF is never a
signal on its own (WeChat and iOS strip it from every upload).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from civicpoints.fraud.schemas import PolicySettings


@dataclass(frozen=True)
class Signal:
    """One reason for doubt (or, with a negative weight, for trust) and its words."""

    code: str
    zh: str
    en: str


class Outcome(StrEnum):
    """What a risk score decides."""

    APPROVE = "approve"
    REVIEW = "review"
    REFUSE = "refuse"


@dataclass(frozen=True)
class Assessment:
    """A record's risk: its score, the signals behind it and what the policy decides."""

    score: int
    outcome: Outcome
    codes: tuple[str, ...]


def assess(codes: Iterable[str], policy: PolicySettings) -> Assessment:
    """Weigh a record's signal codes; the score never drops below 0."""
    unique = tuple(sorted(set(codes)))
    score = max(sum(policy.weight(c) for c in unique), 0)
    if score >= policy.refuse_at:
        outcome = Outcome.REFUSE
    elif score >= policy.review_at:
        outcome = Outcome.REVIEW
    else:
        outcome = Outcome.APPROVE
    return Assessment(score, outcome, unique)


@dataclass(frozen=True)
class Tally:
    """How many records a policy approves, sends to review and refuses."""

    approve: int = 0
    review: int = 0
    refuse: int = 0

    def add(self, outcome: Outcome) -> Tally:
        """This tally with one more record of `outcome`."""
        return Tally(
            self.approve + (outcome == Outcome.APPROVE),
            self.review + (outcome == Outcome.REVIEW),
            self.refuse + (outcome == Outcome.REFUSE),
        )


def tally(records: Iterable[Iterable[str]], policy: PolicySettings) -> Tally:
    """What `policy` would decide for records with these signal codes."""
    total = Tally()
    for codes in records:
        total = total.add(assess(codes, policy).outcome)
    return total
