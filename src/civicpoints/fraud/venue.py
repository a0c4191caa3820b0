"""The rotating venue code (签到码) an organizer's screen shows, as presence evidence. Pure.

Six digits from HMAC-SHA256 of the activity's secret and the time step, with RFC 6238's
dynamic truncation (TOTP with SHA-256). A check-in may give the code of the current step or
of the one before, so a code read off the screen just before it turned still counts. The
secret itself comes from `secrets.token_bytes(32)` where the activity is created.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from civicpoints.fraud.checks import Signal

DIGITS = 6
MIN_STEP_S, MAX_STEP_S = 10, 600


def _step(at: datetime, step_s: int) -> int:
    if at.tzinfo is None:
        raise ValueError("a venue code needs an aware time")
    if not MIN_STEP_S <= step_s <= MAX_STEP_S:
        raise ValueError(f"step_s must lie between {MIN_STEP_S} and {MAX_STEP_S}")
    return int(at.timestamp()) // step_s


def _code(secret: bytes, counter: int) -> str:
    digest = hmac.new(secret, counter.to_bytes(8, "big"), hashlib.sha256).digest()
    offset = digest[-1] & 0x0F
    value = int.from_bytes(digest[offset : offset + 4], "big") & 0x7FFF_FFFF
    return str(value % 10**DIGITS).zfill(DIGITS)


def venue_code(secret: bytes, at: datetime, step_s: int) -> str:
    """The six-digit code shown at `at` for a step of `step_s` seconds."""
    return _code(secret, _step(at, step_s))


def venue_code_ok(secret: bytes, code: str, at: datetime, step_s: int) -> bool:
    """Whether `code` is the current step's or the previous step's (constant-time compare)."""
    step = _step(at, step_s)
    given = code.strip().encode("utf-8", "replace")
    # Both comparisons run whatever the first says: the time taken tells nothing.
    current = hmac.compare_digest(given, _code(secret, step).encode())
    previous = hmac.compare_digest(given, _code(secret, max(step - 1, 0)).encode())
    return current | previous


def venue_signal(secret: bytes, code: str | None, at: datetime, step_s: int) -> Signal | None:
    """venue_code_ok: the check-in gave the code on the organizer's screen (trust, not doubt)."""
    if code is None or not venue_code_ok(secret, code, at, step_s):
        return None
    return Signal(
        "venue_code_ok",
        "签到时输入了现场屏幕上的签到码，本人在场的有力证据",
        "the check-in gave the code shown on the organizer's screen: strong evidence of presence",
    )
