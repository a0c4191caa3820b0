"""Resident ID-card numbers (GB 11643-1999): parse, verify, mask. Pure: no I/O, no clock.

Only what can be verified offline is checked: the shape of the region code (a GB/T 2260
province prefix; we cannot know which counties existed when a number was issued), a real
birth date between 1900-01-01 and `today`, and the ISO 7064 MOD 11-2 check character.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Literal

from civicpoints.identity.errors import (
    IdNumberBirthDateInvalid,
    IdNumberBirthInFuture,
    IdNumberBirthTooEarly,
    IdNumberCheckDigitWrong,
    IdNumberMalformed,
    IdNumberRegionInvalid,
)

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
# GB/T 2260 province-level prefixes: North, North-east, East, Central-South, South-west,
# North-west China, then Taiwan, Hong Kong and Macao.
PROVINCE_CODES = frozenset(
    [
        *range(11, 16),
        *range(21, 24),
        *range(31, 38),
        *range(41, 47),
        *range(50, 55),
        *range(61, 66),
        71,
        81,
        82,
    ]
)
RESIDENCE_PERMIT_CODES = frozenset({"810000", "820000", "830000"})
EARLIEST_BIRTH = date(1900, 1, 1)

# `[0-9]`, not `\d`: `\d` also matches Arabic-Indic and other Unicode digits.
_SHAPE = re.compile(r"[0-9]{17}[0-9X]")
_BODY = re.compile(r"[0-9]{17}")


@dataclass(frozen=True, slots=True, repr=False)
class IdCardInfo:
    """A verified ID-card number and what it encodes."""

    number: str  # 18 characters, check character upper-case
    region_code: str  # 6 digits, the registering county (GB/T 2260)
    birth_date: date
    sex: Literal["M", "F"]

    def __repr__(self) -> str:
        # Masked, so that logging or an assertion failure never prints the full number.
        return f"IdCardInfo(number={mask_id_number(self.number)!r})"


def id_check_char(first17: str) -> str:
    """The GB 11643-1999 check character ('0'-'9' or 'X') for 17 ASCII digits."""
    if not _BODY.fullmatch(first17):
        raise ValueError("id_check_char needs exactly 17 ASCII digits")
    total = sum(int(ch) * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def normalize_id_number(value: str) -> str:
    """`value` without surrounding whitespace, full-width characters folded, 'x' upper-cased."""
    # NFKC turns the full-width digits and 'ｘ' that Chinese input methods produce into ASCII.
    return unicodedata.normalize("NFKC", value).strip().upper()


def parse_id_number(value: str, today: date) -> IdCardInfo:
    """Verify an 18-character ID-card number as of `today`; raise an InvalidIdNumber subclass."""
    number = normalize_id_number(value)
    if not _SHAPE.fullmatch(number):
        raise IdNumberMalformed()
    region_code = number[:6]
    if not _is_region_shape(region_code):
        raise IdNumberRegionInvalid()
    birth_date = _birth_date(number[6:14], today)
    # Structural checks come first: they tell the resident which characters to re-check,
    # whereas a wrong check character can come from a typo anywhere.
    if id_check_char(number[:17]) != number[17]:
        raise IdNumberCheckDigitWrong()
    sex: Literal["M", "F"] = "M" if int(number[16]) % 2 == 1 else "F"
    return IdCardInfo(number=number, region_code=region_code, birth_date=birth_date, sex=sex)


def mask_id_number(number: str) -> str:
    """'330106********1234': first 6 and last 4 kept; anything not 18 long is fully masked."""
    if len(number) != 18:
        return "*" * len(number)
    return f"{number[:6]}{'*' * 8}{number[-4:]}"


def _is_region_shape(region_code: str) -> bool:
    """Whether six digits start with a province code and name a place below the province."""
    # 810000/820000/830000 head the residence permits of Hong Kong, Macao and Taiwan
    # residents (港澳台居民居住证, since 2018): same format, and they may register too.
    if region_code in RESIDENCE_PERMIT_CODES:
        return True
    return int(region_code[:2]) in PROVINCE_CODES and region_code[2:] != "0000"


def _birth_date(yyyymmdd: str, today: date) -> date:
    """The birth date encoded as YYYYMMDD, between 1900-01-01 and `today` inclusive."""
    try:
        born = date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:]))
    except ValueError:
        raise IdNumberBirthDateInvalid() from None
    if born < EARLIEST_BIRTH:
        raise IdNumberBirthTooEarly()
    if born > today:
        raise IdNumberBirthInFuture()
    return born
