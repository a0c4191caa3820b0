"""Password strength (zxcvbn) and hashing with argon2id (argon2-cffi defaults, RFC 9106)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pypinyin import lazy_pinyin
from zxcvbn import zxcvbn

from civicpoints.identity.errors import PasswordHasPersonalInfo, WeakPassword

_hasher = PasswordHasher()
# A hash to verify against when the account does not exist, so timing does not reveal it.
_DUMMY = _hasher.hash("civicpoints-dummy-password")


# zxcvbn 0-4: 3 is "safely unguessable" (~10^8 guesses), the level NIST SP 800-63B's
# blocklist advice and OWASP point at; below that a throttled online attacker may still win.
MIN_SCORE = 3
# Personal words this long (a Chinese name from 2 characters) are refused wherever they
# appear; all of them are also given to zxcvbn, which scores passwords built from them lower.
_CONTAINED = 6
_CONTAINED_CJK = 2
# The API accepts up to 128 characters; zxcvbn's cost grows with length, so bound it.
_JUDGED = 128
_NAME_PARTS = re.compile(r"[\s·・.]+")


def personal_words(name: str, phone: str = "", id_number: str = "") -> list[str]:
    """The words a neighbour would try: the name (and its pinyin), phone, ID number parts."""
    words = [name, phone, phone[-8:], id_number, id_number[6:14], id_number[-6:], id_number[-4:]]
    for part in _NAME_PARTS.split(name):  # "社区核验员 林青山", "阿卜杜·热合曼": each part
        syllables = [s.casefold() for s in lazy_pinyin(part)]
        words += [part, "".join(syllables), "".join(syllables[1:]), *syllables[:1]]
    return [_fold(w) for w in words if w]


def check_strength(password: str, personal: Iterable[str] = ()) -> str:
    """Refuse passwords that hold personal words or that zxcvbn scores below 3."""
    folded, words = _fold(password), [w for w in personal if w]
    if any(w in folded for w in words if len(w) >= (_CONTAINED if w.isascii() else _CONTAINED_CJK)):
        raise PasswordHasPersonalInfo()
    judged = password[:_JUDGED]
    if zxcvbn(judged, user_inputs=words, max_length=_JUDGED)["score"] < MIN_SCORE:
        raise WeakPassword()
    return password


def _fold(text: str) -> str:
    """Full-width folded, case-folded and without spaces, as people vary a word."""
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def strong_hash(password: str, personal: Iterable[str]) -> str:
    """The argon2id hash of `password` once it passes `check_strength` (any password set)."""
    return hash_password(check_strength(password, personal))


def hash_password(password: str) -> str:
    """An argon2id hash of `password`."""
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether `password` matches `stored` (None: compare against a dummy, return False)."""
    try:
        return _hasher.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False
