"""Pure rules of a carried point's life: no session, no clock (DESIGN.md §3 pure modules)."""

from __future__ import annotations

from datetime import datetime

from civicpoints.kit.clock import as_utc, expiry_instant


def carried_expiry(expires_at: datetime, earned_at: datetime, extend_months: int) -> datetime:
    """The expiry of points carried out of a lot ending at `expires_at`, first earned at
    `earned_at`: kept as it is, or (`extend_months` > 0, the points bank) the end of the Beijing
    day `extend_months` after earning when that is later. Never earlier, never beyond the rule."""
    kept = as_utc(expires_at)
    if extend_months <= 0:
        return kept
    return max(kept, expiry_instant(as_utc(earned_at), extend_months))


def extension_months(extends: str) -> int:
    """The months of a carry's recorded rule ("months:24" → 24; "" → 0)."""
    if not extends:
        return 0
    kind, _, value = extends.partition(":")
    if kind != "months" or not value.isdigit():
        raise ValueError(f"unknown extension rule {extends!r}")
    return int(value)
