"""Password hashing with argon2id (argon2-cffi defaults, RFC 9106 low-memory profile)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from civicpoints.identity.errors import WeakPassword

_hasher = PasswordHasher()
# A hash to verify against when the account does not exist, so timing does not reveal it.
_DUMMY = _hasher.hash("civicpoints-dummy-password")


def check_strength(password: str) -> str:
    """Refuse passwords a neighbour could guess; returns the password."""
    if (
        len(password) < 8
        or len(set(password)) == 1
        or password in "0123456789012345678909876543210"
    ):
        raise WeakPassword()
    return password


def hash_password(password: str) -> str:
    """An argon2id hash of `password`."""
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether `password` matches `stored` (None: compare against a dummy, return False)."""
    try:
        return _hasher.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False
