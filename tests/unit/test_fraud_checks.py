"""The weighing of a record's signals into a score and a decision, at its edges."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from civicpoints.fraud import Outcome, PolicySettings, assess
from civicpoints.fraud.schemas import DEFAULT_WEIGHTS

POLICY = PolicySettings(review_at=30, refuse_at=200)


def test_no_signal_scores_zero_and_is_approved() -> None:
    verdict = assess([], POLICY)
    assert (verdict.score, verdict.outcome, verdict.codes) == (0, Outcome.APPROVE, ())


def test_a_score_never_drops_below_zero() -> None:
    """The venue code alone weighs −30: a record with nothing else scores 0, not −30."""
    assert DEFAULT_WEIGHTS["venue_code_ok"] < 0
    assert assess(["venue_code_ok"], POLICY).score == 0


def test_the_lines_are_inclusive() -> None:
    """At review_at exactly: review; at refuse_at exactly: refuse; one below each: not."""
    for weight, outcome in [
        (29, Outcome.APPROVE),
        (30, Outcome.REVIEW),
        (199, Outcome.REVIEW),
        (200, Outcome.REFUSE),
    ]:
        policy = PolicySettings(review_at=30, refuse_at=200, weights={"photo_edited": weight})
        assert assess(["photo_edited"], policy).outcome == outcome, weight


@given(st.lists(st.sampled_from(sorted(DEFAULT_WEIGHTS)), max_size=8))
def test_a_signal_counts_once_however_often_it_is_raised(codes: list[str]) -> None:
    assert assess(codes + codes, POLICY) == assess(codes, POLICY)
