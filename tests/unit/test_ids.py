"""Identifiers: Luhn-checked platform numbers, UUIDv7 row ids, bearer tokens."""

from __future__ import annotations

import base64
import time
import uuid
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from civicpoints.kit.ids import (
    is_platform_number,
    luhn_digit,
    new_id,
    new_platform_number,
    new_token,
)

# --- Luhn (ISO/IEC 7812-1 annex B) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "check"),
    [
        ("7992739871", "3"),  # the textbook example: 79927398713 is valid
        ("411111111111111", "1"),  # Visa test card 4111 1111 1111 1111
        ("37828224631000", "5"),  # American Express test card 3782 822463 10005
        ("601111111111111", "7"),  # Discover test card 6011 1111 1111 1117
        # By hand, doubling every second digit from the right (a doubled 9 counts 18 - 9):
        ("123456789", "7"),  # 9→18→9, 8, 7→14→5, 6, 5→10→1, 4, 3→6, 2, 1→2: 43 → 7
        ("987654321", "7"),  # 1→2, 2, 3→6, 4, 5→10→1, 6, 7→14→5, 8, 9→18→9: 43 → 7
        ("555555555", "5"),  # five doubled 5s count 1 each, four plain: 25 → 5
        ("000000000", "0"),  # sum 0: the check digit is 0, not 10
        ("", "0"),
    ],
)
def test_luhn_known_answers(payload: str, check: str) -> None:
    assert luhn_digit(payload) == check


@pytest.mark.parametrize(
    "number",
    ["CP1234567897", "CP9876543217", "CP5555555555", "CP0000000000", "cp1234567897"],
)
def test_platform_numbers_with_a_right_check_digit(number: str) -> None:
    assert is_platform_number(number)


@pytest.mark.parametrize(
    "value",
    [
        "CP1234567890",  # wrong check digit
        "CP123456789",  # 9 digits
        "CP12345678977",  # 11 digits
        "CP1234-67897",
        "XP1234567897",
        "C1234567897",
        "1234567897",
        "CP",
        "",
        # Digits to str.isdigit() and int(), but never in a platform number; the check digit
        # itself in ASCII, so that only the shape check can refuse them.
        "CP１２３４５６７８９7",  # full-width, as Chinese input methods type them
        "CP١٢٣٤٥٦٧٨٩7",  # Arabic-Indic
    ],
)
def test_not_platform_numbers(value: str) -> None:
    assert not is_platform_number(value)


bodies = st.text(alphabet="0123456789", min_size=9, max_size=9)


@given(bodies, st.integers(0, 9), st.integers(1, 9))
def test_every_single_digit_error_is_detected(body: str, place: int, shift: int) -> None:
    number = body + luhn_digit(body)
    wrong = number[:place] + str((int(number[place]) + shift) % 10) + number[place + 1 :]
    assert is_platform_number("CP" + number)
    assert not is_platform_number("CP" + wrong)


@given(bodies, st.integers(0, 8))
def test_every_adjacent_transposition_but_09_is_detected(body: str, place: int) -> None:
    number = body + luhn_digit(body)
    a, b = number[place], number[place + 1]
    swapped = number[:place] + b + a + number[place + 2 :]
    if a == b:
        return
    # Luhn's one blind spot: 0 and 9 both count 0 and 9 whether doubled or not.
    assert is_platform_number("CP" + swapped) == ({a, b} == {"0", "9"})


def test_the_09_blind_spot_exists() -> None:
    """Documented Luhn weakness, pinned so a 'stronger' check is a conscious change."""
    assert luhn_digit("0900000000") == luhn_digit("9000000000")


# --- new platform numbers -------------------------------------------------------------------


def test_new_platform_numbers_are_valid_and_spread_over_every_digit() -> None:
    numbers = [new_platform_number() for _ in range(2000)]
    assert all(len(n) == 12 and n.startswith("CP") and is_platform_number(n) for n in numbers)
    assert len(set(numbers)) > 1990
    for place in range(2, 11):
        # 10**9 possible bodies: each random place takes every digit (missing one in 2000
        # draws has probability 10 × 0.9**2000, about 1e-90).
        assert set(Counter(n[place] for n in numbers)) == set("0123456789")


# --- UUIDv7 ---------------------------------------------------------------------------------


def test_new_id_is_a_version_7_rfc_variant_uuid_with_the_current_time() -> None:
    before = time.time_ns() // 1_000_000
    made = new_id()
    after = time.time_ns() // 1_000_000
    assert isinstance(made, uuid.UUID)
    assert made.version == 7 and made.variant == uuid.RFC_4122
    assert (made.int >> 76) & 0xF == 7 and (made.int >> 62) & 0b11 == 0b10  # the bits themselves
    assert before <= made.int >> 80 <= after  # unix_ts_ms: the first 48 bits


def test_new_ids_sort_in_creation_order() -> None:
    made = [new_id() for _ in range(5000)]
    assert made == sorted(made) and len(set(made)) == len(made)


# --- tokens ---------------------------------------------------------------------------------


def test_tokens_carry_256_random_bits_in_url_safe_text() -> None:
    tokens = {new_token() for _ in range(500)}
    assert len(tokens) == 500
    for token in tokens:
        assert len(base64.urlsafe_b64decode(token + "=")) == 32
        assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
