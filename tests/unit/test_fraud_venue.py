"""The rotating venue code (签到码): RFC 6238 vectors, the steps it accepts, and its signal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from civicpoints.fraud import DEFAULT_WEIGHTS
from civicpoints.fraud.venue import venue_code, venue_code_ok, venue_signal

RFC_SECRET = b"12345678901234567890123456789012"  # RFC 6238 appendix B, SHA-256 seed
# (Unix time, the RFC's 8-digit SHA-256 TOTP): the 6-digit code is its last six digits.
RFC_VECTORS = [
    (59, "46119246"),
    (1111111109, "68084774"),
    (1111111111, "67062674"),
    (1234567890, "91819424"),
    (2000000000, "90698825"),
    (20000000000, "77737706"),
]
SECRET = bytes(range(32))
T0 = datetime(2026, 3, 5, 1, 0, 7, tzinfo=UTC)


@pytest.mark.parametrize(("unix", "totp8"), RFC_VECTORS)
def test_rfc_6238_sha256_vectors(unix: int, totp8: str) -> None:
    at = datetime.fromtimestamp(unix, UTC)
    assert venue_code(RFC_SECRET, at, 30) == totp8[-6:]


def test_the_current_and_the_previous_step_are_accepted_and_no_other() -> None:
    code = venue_code(SECRET, T0, 30)
    assert venue_code_ok(SECRET, code, T0, 30)
    assert venue_code_ok(SECRET, code, T0 + timedelta(seconds=30), 30)  # it just turned
    assert not venue_code_ok(SECRET, code, T0 + timedelta(seconds=60), 30)
    assert not venue_code_ok(SECRET, code, T0 - timedelta(seconds=30), 30)  # a future code


def test_codes_change_with_the_step_and_the_secret() -> None:
    codes = {venue_code(SECRET, T0 + timedelta(seconds=30 * i), 30) for i in range(20)}
    assert len(codes) >= 19
    assert venue_code(b"another activity", T0, 30) != venue_code(SECRET, T0, 30)


@pytest.mark.parametrize("bad", ["", "12345", "1234567", "abcdef", "１２３４５６", "💥💥💥"])
def test_malformed_codes_are_refused_not_raised(bad: str) -> None:
    assert not venue_code_ok(SECRET, bad, T0, 30)
    assert venue_signal(SECRET, bad, T0, 30) is None


def test_surrounding_spaces_are_forgiven() -> None:
    assert venue_code_ok(SECRET, f" {venue_code(SECRET, T0, 30)}\n", T0, 30)


@pytest.mark.parametrize("step", [10, 30, 45, 60, 600])  # the screens turn every 30–60 s
def test_the_step_bounds_are_accepted(step: int) -> None:
    assert venue_code_ok(SECRET, venue_code(SECRET, T0, step), T0, step)


@pytest.mark.parametrize("step", [-30, 0, 9, 601])
def test_odd_steps_are_programming_errors(step: int) -> None:
    with pytest.raises(ValueError, match="step_s"):
        venue_code(SECRET, T0, step)


def test_naive_times_are_programming_errors() -> None:
    with pytest.raises(ValueError, match="aware"):
        venue_code(SECRET, T0.replace(tzinfo=None), 30)


def test_the_right_code_is_a_sign_of_trust() -> None:
    signal = venue_signal(SECRET, venue_code(SECRET, T0, 45), T0, 45)
    assert signal is not None and signal.code == "venue_code_ok"
    assert DEFAULT_WEIGHTS[signal.code] < 0
    assert "签到码" in signal.zh and "code shown" in signal.en
    assert venue_signal(SECRET, None, T0, 45) is None


@given(
    st.binary(min_size=16, max_size=64),
    st.integers(0, 4_000_000_000),
    st.sampled_from([30, 45, 60]),
)
def test_any_code_is_six_digits_and_good_for_two_steps(secret: bytes, unix: int, step: int) -> None:
    at = datetime.fromtimestamp(unix, UTC)
    code = venue_code(secret, at, step)
    assert len(code) == 6 and code.isdigit()
    assert venue_code_ok(secret, code, at, step)
    assert venue_code_ok(secret, code, at + timedelta(seconds=step), step)
    later = at + timedelta(seconds=2 * step)
    assume(
        code
        not in {
            venue_code(secret, later, step),
            venue_code(secret, later - timedelta(seconds=step), step),
        }
    )
    assert not venue_code_ok(secret, code, later, step)
