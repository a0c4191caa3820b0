"""The sanction ladder and the appeal window, on crafted and generated cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from civicpoints.fraud import PolicySettings, Sanction
from civicpoints.fraud.ladder import appeal_closes, appeal_open, step, window_start

NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
POLICY = PolicySettings(suspension_days=30, long_suspension_days=180, appeal_days=15)


def test_first_a_warning_then_a_suspension_then_a_long_one_in_the_credit_record() -> None:
    w = step(0, NOW, POLICY)
    assert w.sanction == Sanction.WARNING
    assert w.suspended_until is None and not w.credit_record
    second = step(1, NOW, POLICY)
    assert second.sanction == Sanction.SUSPENSION and not second.credit_record
    assert second.suspended_until == NOW + timedelta(days=30)
    third = step(2, NOW, POLICY)
    assert third.sanction == Sanction.LONG_SUSPENSION and third.credit_record
    assert third.suspended_until == NOW + timedelta(days=180)


@given(st.integers(min_value=0, max_value=50))
def test_the_ladder_never_softens_as_cases_accumulate(earlier: int) -> None:
    """More standing cases never give a lighter sanction or a shorter suspension."""
    order = [Sanction.WARNING, Sanction.SUSPENSION, Sanction.LONG_SUSPENSION]
    a, b = step(earlier, NOW, POLICY), step(earlier + 1, NOW, POLICY)
    assert order.index(a.sanction) <= order.index(b.sanction)
    assert (a.suspended_until or NOW) <= (b.suspended_until or NOW)
    assert a.credit_record <= b.credit_record


def test_an_appeal_is_open_for_the_policy_days_and_not_before_the_decision() -> None:
    assert appeal_open(NOW, NOW, POLICY)
    assert appeal_open(NOW, NOW + timedelta(days=15), POLICY)
    assert not appeal_open(NOW, NOW + timedelta(days=15, seconds=1), POLICY)
    assert not appeal_open(NOW, NOW - timedelta(seconds=1), POLICY)
    assert window_start(NOW, PolicySettings(ladder_window_days=365)) == NOW - timedelta(days=365)


def test_a_policy_preview_counts_what_each_setting_decides() -> None:
    """Lowering the review line sends the edited photo to review too; lowering the refusal
    line refuses the worst record outright."""
    from civicpoints.fraud.checks import Tally, tally

    past = [[], ["photo_edited"], ["photo_reused", "impossible_travel"], ["venue_code_ok"]]
    assert tally(past, PolicySettings()) == Tally(approve=3, review=1, refuse=0)
    assert tally(past, PolicySettings(review_at=20)) == Tally(approve=2, review=2, refuse=0)
    assert tally(past, PolicySettings(refuse_at=100)) == Tally(approve=3, review=0, refuse=1)


def test_the_appeal_closes_at_the_last_moment_it_is_open() -> None:
    """appeal_closes is the date the resident is shown: the edge of appeal_open's window."""
    closes = appeal_closes(NOW, POLICY)
    assert closes == NOW + timedelta(days=15)
    assert appeal_open(NOW, closes, POLICY)
    assert not appeal_open(NOW, closes + timedelta(microseconds=1), POLICY)
