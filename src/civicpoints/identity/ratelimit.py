"""Sign-in throttling per resolved account and per client address (DESIGN.md §8).

After OWASP's Authentication Cheat Sheet ("Login Throttling", "Account Lockout"):
- failures count against the *account* a handle resolves to (any spelling of the phone, the ID
  number, the platform number), so a distributed attacker gets no fresh budget per spelling;
- past a few free failures the account waits an exponentially growing delay, capped: a guesser
  gets about one try per cap, the owner is never locked out for longer than the cap, and nobody
  can lock `admin` out by failing on purpose (no fixed lockout);
- attempts during the delay are refused *without* checking the password (no oracle) and are
  not counted (hammering does not lengthen the delay);
- failures also count against the client address in a sliding window, which stops one host
  from spraying a common password over many accounts; unknown handles count there too.

State is kept in the process: the default deployment is one process; behind several workers
each keeps its own counters, which still bounds guessing to workers × the limits.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass

# Failures of an account idle this long are forgotten.
_FORGET_S = 24 * 3600.0
# Past this many keys, stale ones are swept so a flood of unique handles cannot fill memory.
_SWEEP_AT = 10_000


def address_key(host: str) -> str:
    """The unit an address limit counts: an IPv4 address, or an IPv6 /64 (one subscriber's)."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def backoff_s(failures: int, free: int, cap: float) -> float:
    """Seconds an account waits after `failures` consecutive failures: 0, then 1, 2, 4 … ≤ cap."""
    if failures < free:
        return 0.0
    return min(cap, 2.0 ** min(failures - free, 30))


@dataclass
class _Streak:
    failures: int
    last_at: float


class FailureLimiter:
    """Allows at most `limit` failures per key within `window` seconds."""

    def __init__(
        self, limit: int = 10, window: float = 900.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._failures: defaultdict[str, deque[float]] = defaultdict(deque)

    def blocked_for(self, key: str) -> float:
        """Seconds until `key` may try again (0 when it may now)."""
        times = self._trim(key)
        return 0.0 if len(times) < self.limit else self.window - (self.clock() - times[0])

    def fail(self, key: str) -> None:
        """Count one failure."""
        if len(self._failures) > _SWEEP_AT:
            for stale in [k for k in self._failures if not self._trim(k)]:
                del self._failures[stale]
        self._trim(key).append(self.clock())

    def _trim(self, key: str) -> deque[float]:
        times = self._failures[key]
        while times and self.clock() - times[0] > self.window:
            times.popleft()
        return times


class AccountBackoff:
    """Consecutive failures per account, answered by a capped exponential delay."""

    def __init__(self, free: int, cap: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.free, self.cap, self.clock = free, cap, clock
        self._streaks: dict[str, _Streak] = {}

    def wait_s(self, key: str) -> float:
        """Seconds before `key` may be tried again (0 when it may now)."""
        streak = self._streaks.get(key)
        if streak is None:
            return 0.0
        due = streak.last_at + backoff_s(streak.failures, self.free, self.cap)
        return max(0.0, due - self.clock())

    def fail(self, key: str) -> None:
        """Count one failure of `key`."""
        now = self.clock()
        if len(self._streaks) > _SWEEP_AT:
            self._streaks = {k: s for k, s in self._streaks.items() if now - s.last_at < _FORGET_S}
        streak = self._streaks.get(key)
        if streak is None or now - streak.last_at > _FORGET_S:
            streak = self._streaks[key] = _Streak(0, now)
        streak.failures, streak.last_at = streak.failures + 1, now

    def reset(self, key: str) -> None:
        """Forget `key`'s failures after a success."""
        self._streaks.pop(key, None)


class SignInGuard:
    """The two limits together: per resolved account and per client address."""

    def __init__(
        self,
        free: int,
        cap: float,
        address_limit: int,
        address_window: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.accounts = AccountBackoff(free, cap, clock)
        self.addresses = FailureLimiter(address_limit, address_window, clock)
        self._lock = threading.Lock()

    def wait_s(self, address: str, account: str) -> float:
        """Seconds before this address may try this account (0: it may try now)."""
        with self._lock:
            blocked = self.addresses.blocked_for(address_key(address))
            return max(blocked, self.accounts.wait_s(account))

    def failed(self, address: str, account: str) -> None:
        """Count a wrong password (or an unknown handle) against both."""
        with self._lock:
            self.addresses.fail(address_key(address))
            self.accounts.fail(account)

    def succeeded(self, account: str) -> None:
        """A right password clears the account's streak (not the address's failures)."""
        with self._lock:
            self.accounts.reset(account)
