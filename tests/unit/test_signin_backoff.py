"""The sign-in throttle's arithmetic and its two counters, on a clock the test moves."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from civicpoints.identity.ratelimit import SignInGuard, address_key, backoff_s


class Clock:
    """Seconds that pass only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_backoff_is_free_then_doubles_then_caps() -> None:
    """Five free failures, then 1, 2, 4 … seconds, never above the cap."""
    assert [backoff_s(n, 5, 60.0) for n in range(13)] == [
        0,
        0,
        0,
        0,
        0,
        1,
        2,
        4,
        8,
        16,
        32,
        60,
        60,
    ]


@given(st.integers(0, 10_000), st.integers(1, 20), st.floats(0.1, 3600))
def test_backoff_never_exceeds_the_cap(failures: int, free: int, cap: float) -> None:
    """However many failures, the owner waits at most the cap."""
    assert 0 <= backoff_s(failures, free, cap) <= cap


def test_account_waits_after_free_failures_and_success_forgets() -> None:
    """The delay counts from the last failure; a success clears the streak."""
    clock = Clock()
    guard = SignInGuard(free=2, cap=10.0, address_limit=100, address_window=900, clock=clock)
    guard.failed("a1", "staff:x")
    assert guard.wait_s("a2", "staff:x") == 0
    guard.failed("a1", "staff:x")
    assert guard.wait_s("a2", "staff:x") == 1.0  # any address waits for this account
    clock.now += 1.0
    assert guard.wait_s("a2", "staff:x") == 0
    guard.failed("a1", "staff:x")
    assert guard.wait_s("a1", "staff:x") == 2.0
    guard.succeeded("staff:x")
    assert guard.wait_s("a1", "staff:x") == 0


def test_address_window_blocks_spraying_then_frees() -> None:
    """Failures on many accounts stop the address until the oldest leaves the window."""
    clock = Clock()
    guard = SignInGuard(free=5, cap=60.0, address_limit=3, address_window=100, clock=clock)
    for n in range(3):
        guard.failed("10.0.0.1", f"handle:user{n}")
        clock.now += 10
    assert guard.wait_s("10.0.0.1", "handle:fresh") == 70.0  # the first failure was at -30 s
    assert guard.wait_s("10.0.0.2", "handle:fresh") == 0
    guard.succeeded("handle:user0")  # signing in to one's own account does not clear it
    assert guard.wait_s("10.0.0.1", "handle:user0") == 70.0
    clock.now += 71
    assert guard.wait_s("10.0.0.1", "handle:fresh") == 0


def test_an_ipv6_subscriber_counts_as_one_address() -> None:
    """Hosts of one /64 share a budget (a subscriber can pick any of them); IPv4 stays per host."""
    clock = Clock()
    guard = SignInGuard(free=5, cap=60.0, address_limit=2, address_window=100, clock=clock)
    guard.failed("2001:db8:1:2::1", "handle:a")
    guard.failed("2001:db8:1:2:ffff::9", "handle:b")
    assert guard.wait_s("2001:db8:1:2::abcd", "handle:c") == 100.0
    assert guard.wait_s("2001:db8:1:3::1", "handle:c") == 0
    assert address_key("198.51.100.23") == "198.51.100.23"
    assert address_key("testclient") == "testclient"
