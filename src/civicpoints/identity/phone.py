"""Mainland China mobile numbers: normalize to 11 digits, mask for display. Pure."""

from __future__ import annotations

import re
import unicodedata

from civicpoints.identity.errors import InvalidPhone

# Spaces and hyphens are how people group digits ("138 1234 5678", "86-138-1234-5678").
_SEPARATORS = re.compile(r"[\s\-]+")
# Optional country code (+86, 86 or 0086), then 1, a second digit 3-9 and nine more digits.
# `[0-9]`, not `\d`, so that other scripts' digits are not let through.
_MOBILE = re.compile(r"(?:\+86|0086|86)?(1[3-9][0-9]{9})")


def compact(value: str) -> str:
    """`value` with full-width forms folded and the spaces and hyphens people type removed."""
    # NFKC folds the full-width digits and '＋' that Chinese input methods produce.
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", value))


def normalize_phone(value: str) -> str:
    """The 11-digit mobile number in `value`, or InvalidPhone (landlines are refused)."""
    match = _MOBILE.fullmatch(compact(value))
    if match is None:
        raise InvalidPhone()
    return match.group(1)


def mask_phone(phone: str) -> str:
    """'138****5678': first 3 and last 4 kept; anything not 11 long is fully masked."""
    if len(phone) != 11:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"
