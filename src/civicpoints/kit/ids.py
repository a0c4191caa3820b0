"""Identifiers: UUIDv7 for rows clients see, resident platform numbers, tokens."""

from __future__ import annotations

import secrets
import uuid

import uuid6


def new_id() -> uuid.UUID:
    """A new time-ordered UUIDv7 (sorts by creation, indexes well)."""
    return uuid.UUID(int=uuid6.uuid7().int)


def luhn_digit(digits: str) -> str:
    """The Luhn check digit for `digits`, so a mistyped platform number is caught."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


def new_platform_number() -> str:
    """A resident's public number: 'CP' + 9 random digits + a Luhn digit; never the ID number."""
    body = f"{secrets.randbelow(10**9):09d}"
    return f"CP{body}{luhn_digit(body)}"


def is_platform_number(value: str) -> bool:
    """Whether `value` has the shape and check digit of a platform number."""
    body = value[2:]
    return (
        value[:2].upper() == "CP"
        and len(body) == 10
        # isdigit() alone also passes full-width and other Unicode digits, which int() reads.
        and body.isascii()
        and body.isdigit()
        and luhn_digit(body[:-1]) == body[-1]
    )


def new_token() -> str:
    """A bearer token with 256 bits of randomness."""
    return secrets.token_urlsafe(32)
