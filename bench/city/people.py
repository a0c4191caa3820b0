"""Generated residents: valid ID numbers (identity's check digit), unique phones and platform
numbers derived from the resident's ordinal in the city, PII encrypted with the real cipher
exactly as `IdentityService.register` stores it, one shared password hash."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from civicpoints.identity.idcard import id_check_char, mask_id_number, parse_id_number
from civicpoints.identity.phone import mask_phone
from civicpoints.identity.service import ID_CONTEXT, PHONE_CONTEXT
from civicpoints.kit.crypto import FieldCipher
from civicpoints.kit.ids import luhn_digit

# Every generated resident signs in with this password (hashed once: argon2 is slow by design).
DEMO_RESIDENT_PASSWORD = "Resident@2026"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国红梅玉兰志强海燕"
# Birth dates: ages 18 to 85 at the end of 2026, one day per step below.
OLDEST = date(1941, 6, 1)
SPAN_DAYS = 24_455  # prime to 7,919, so (day, serial) is unique for 12,227,500 ordinals
PER_DAY = 500

COLUMNS = (
    "id", "public_no", "name", "id_enc", "id_bidx", "id_masked", "phone_enc", "phone_bidx",
    "phone_masked", "birth_date", "sex", "community_id", "password_hash", "verification",
    "verified_at", "verified_by", "consent_version", "consent_at", "created_at",
)  # fmt: skip


@dataclass(frozen=True)
class Person:
    """What the year's generator needs of a resident besides their row."""

    id: uuid.UUID
    ordinal: int
    phone: str
    id_number: str
    birth_date: date


def id_number(ordinal: int, district_code: str, male: bool) -> str:
    """A valid 18-digit ID number, unique per ordinal: the birth day and the 3-digit serial
    (two digits, then the sex digit: odd for men) together encode the ordinal."""
    day = (ordinal // PER_DAY) * 7_919 % SPAN_DAYS
    serial = ordinal % PER_DAY
    born = OLDEST + timedelta(days=day)
    sex_digit = (serial % 5) * 2 + (1 if male else 0)
    body = f"{district_code}{born:%Y%m%d}{serial // 5:02d}{sex_digit}"
    return body + id_check_char(body)


def phone_of(ordinal: int) -> str:
    """A unique mobile number (1[3-9] + 9 digits) for an ordinal below 10**9."""
    return f"1{3 + ordinal % 7}{ordinal:09d}"


def platform_number(ordinal: int) -> str:
    """'CP' + 9 digits + the Luhn digit, as `new_platform_number` shapes it, unique per ordinal."""
    body = f"{ordinal:09d}"
    return f"CP{body}{luhn_digit(body)}"


@dataclass(frozen=True)
class Draw:
    """A resident's random draws, taken in the same order whichever worker writes them."""

    id: uuid.UUID
    male: bool
    name: str


def draw(rng: random.Random) -> Draw:
    """The cheap random part of a resident (so a worker skips others' residents cheaply)."""
    male = rng.random() < 0.48
    rid = uuid.UUID(int=rng.getrandbits(128), version=4)
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
    return Draw(rid, male, rng.choice(SURNAMES) + given)


def resident(
    ordinal: int,
    d: Draw,
    community_id: uuid.UUID,
    district_code: str,
    cipher: FieldCipher,
    password_hash: str,
    registered: datetime,
    today: date,
) -> tuple[Person, tuple]:
    """One resident: the Person and its identity_resident row (COLUMNS order)."""
    number = id_number(ordinal, district_code, d.male)
    info = parse_id_number(number, today)  # the real rules: check digit, region, birth date
    phone = phone_of(ordinal)
    row = (
        d.id, platform_number(ordinal), d.name,
        cipher.encrypt(info.number, ID_CONTEXT), cipher.blind_index(info.number, ID_CONTEXT),
        mask_id_number(info.number),
        cipher.encrypt(phone, PHONE_CONTEXT), cipher.blind_index(phone, PHONE_CONTEXT),
        mask_phone(phone), info.birth_date, info.sex, community_id, password_hash,
        "verified", registered, "city-generator", "2026-01", registered, registered,
    )  # fmt: skip
    return Person(d.id, ordinal, phone, info.number, info.birth_date), row
