"""ID-card numbers: GB 11643-1999 shape, region prefix, birth date, check character, masking."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from civicpoints.identity.errors import (
    IdNumberBirthDateInvalid,
    IdNumberBirthInFuture,
    IdNumberBirthTooEarly,
    IdNumberCheckDigitWrong,
    IdNumberMalformed,
    IdNumberRegionInvalid,
    InvalidIdNumber,
)
from civicpoints.identity.idcard import (
    PROVINCE_CODES,
    IdCardInfo,
    id_check_char,
    mask_id_number,
    parse_id_number,
)

TODAY = date(2025, 6, 15)


def make_number(region: str, born: date, seq: str = "123") -> str:
    """A valid 18-character number for the given parts."""
    body = f"{region}{born:%Y%m%d}{seq}"
    return body + id_check_char(body)


# --- known values ---------------------------------------------------------------------------


def test_classic_example_with_x_check_char() -> None:
    info = parse_id_number("11010519491231002X", TODAY)
    assert info == IdCardInfo("11010519491231002X", "110105", date(1949, 12, 31), "F")


@pytest.mark.parametrize(
    ("first17", "check"),
    [
        ("11010519491231002", "X"),
        ("44030419900307789", "3"),  # by hand: weighted sum 328, 328 % 11 = 9 -> "3"
        ("00000000000000000", "1"),  # sum 0 -> index 0
    ],
)
def test_id_check_char_known_values(first17: str, check: str) -> None:
    assert id_check_char(first17) == check


# Real-format numbers without a single 0 in the first 17 places, so that each of the 17
# weights moves the sum: a weight off by one changes it by that digit (1..9), never by a
# multiple of 11, and the check character with it. Sums worked by hand with the weights
# 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2 and the table "10X98765432" (GB 11643-1999):
HAND_CHECKED = [
    # 21+36+10+10+16+4+2+9+48+24+7+18+20+45+8+12+12 = 302 = 27*11 + 5 -> "7"
    ("341221198812291367", "341221", date(1988, 12, 29), "F"),
    # 28+27+10+5+16+4+2+9+36+21+7+9+10+40+16+20+14 = 274 = 24*11 + 10 -> "2"
    ("431121196711182572", "431121", date(1967, 11, 18), "M"),
    # 42+45+20+5+16+8+2+9+54+15+7+18+10+30+72+32+18 = 403 = 36*11 + 7 -> "5"
    ("652122199512169895", "652122", date(1995, 12, 16), "M"),
]


@pytest.mark.parametrize(("number", "region", "born", "sex"), HAND_CHECKED)
def test_hand_checked_numbers_exercise_every_weight(
    number: str, region: str, born: date, sex: str
) -> None:
    assert "0" not in number[:17]
    assert id_check_char(number[:17]) == number[17]
    assert parse_id_number(number, TODAY) == IdCardInfo(number, region, born, sex)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["", "1101051949123100", "110105194912310021", "1101051949123100a"])
def test_id_check_char_refuses_anything_but_17_ascii_digits(bad: str) -> None:
    with pytest.raises(ValueError):
        id_check_char(bad)


def test_lower_case_x_and_surrounding_spaces_are_normalized() -> None:
    assert parse_id_number("  11010519491231002x\t", TODAY).number == "11010519491231002X"


def test_full_width_digits_from_chinese_input_are_folded() -> None:
    full_width = "１１０１０５１９４９１２３１００２ｘ"
    assert parse_id_number(full_width, TODAY).number == "11010519491231002X"


def test_interior_space_is_refused() -> None:
    with pytest.raises(IdNumberMalformed):
        parse_id_number("110105 19491231002X", TODAY)


@pytest.mark.parametrize(
    ("seq", "sex"), [("001", "M"), ("003", "M"), ("009", "M"), ("000", "F"), ("002", "F")]
)
def test_sex_comes_from_the_17th_digit(seq: str, sex: str) -> None:
    assert parse_id_number(make_number("330106", date(1990, 1, 1), seq), TODAY).sex == sex


# --- refusals, each with its own reason ---------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "",
        "11010519491231002",  # 17 characters
        "11010519491231002X1",  # 19 characters
        "1101051949123100XX",  # X before the last place
        "X10105194912310021",
        "11010519491231002Y",
        "1101051949-231002X",
        "١١٠١٠٥١٩٤٩١٢٣١٠٠٢X",  # Arabic-Indic digits are digits to str.isdigit(), not to us
    ],
)
def test_wrong_length_or_characters(value: str) -> None:
    with pytest.raises(IdNumberMalformed):
        parse_id_number(value, TODAY)


@pytest.mark.parametrize("region", ["000000", "100105", "160105", "720101", "830101", "990101"])
def test_unknown_province_prefix(region: str) -> None:
    with pytest.raises(IdNumberRegionInvalid):
        parse_id_number(make_number(region, date(1990, 1, 1)), TODAY)


@pytest.mark.parametrize("region", ["110000", "330000", "500000"])
def test_province_level_code_alone_is_refused(region: str) -> None:
    with pytest.raises(IdNumberRegionInvalid):
        parse_id_number(make_number(region, date(1990, 1, 1)), TODAY)


# GB/T 2260 province-level codes, written out rather than read from the module: North China,
# North-east, East, Central-South, South-west, North-west, then Taiwan, Hong Kong and Macao.
PROVINCES = [11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46]
PROVINCES += [50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82]


def test_the_province_list_is_gb_t_2260() -> None:
    assert len(PROVINCES) == 34 == len(PROVINCE_CODES)


@pytest.mark.parametrize("prefix", range(100))
def test_a_county_code_is_accepted_exactly_under_a_province(prefix: int) -> None:
    """Every two-digit prefix: a county below a listed province parses, any other is refused."""
    number = make_number(f"{prefix:02d}0101", date(1990, 1, 1))
    if prefix in PROVINCES:
        assert parse_id_number(number, TODAY).region_code == f"{prefix:02d}0101"
    else:
        with pytest.raises(IdNumberRegionInvalid):
            parse_id_number(number, TODAY)


@pytest.mark.parametrize("yyyymmdd", ["19900230", "19901301", "19900001", "19900100", "00000101"])
def test_impossible_birth_date(yyyymmdd: str) -> None:
    body = f"110105{yyyymmdd}123"
    with pytest.raises(IdNumberBirthDateInvalid):
        parse_id_number(body + id_check_char(body), TODAY)


def test_leap_day_is_a_real_date_only_in_leap_years() -> None:
    number = make_number("110105", date(2000, 2, 29))
    assert parse_id_number(number, TODAY).birth_date == date(2000, 2, 29)
    body = "11010519000229123"  # 1900 is not a leap year
    with pytest.raises(IdNumberBirthDateInvalid):
        parse_id_number(body + id_check_char(body), TODAY)


def test_birth_before_1900() -> None:
    with pytest.raises(IdNumberBirthTooEarly):
        parse_id_number(make_number("110105", date(1899, 12, 31)), TODAY)
    first = parse_id_number(make_number("110105", date(1900, 1, 1)), TODAY)
    assert first.birth_date == date(1900, 1, 1)


def test_birth_in_the_future_depends_on_today() -> None:
    number = make_number("110105", TODAY + timedelta(days=1))
    with pytest.raises(IdNumberBirthInFuture):
        parse_id_number(number, TODAY)
    assert parse_id_number(number, TODAY + timedelta(days=1)).birth_date == TODAY + timedelta(1)


def test_born_today_is_accepted() -> None:
    assert parse_id_number(make_number("110105", TODAY), TODAY).birth_date == TODAY


def test_wrong_check_digit() -> None:
    with pytest.raises(IdNumberCheckDigitWrong):
        parse_id_number("110105194912310021", TODAY)


# --- errors -------------------------------------------------------------------------------

REASONS = [
    IdNumberMalformed,
    IdNumberRegionInvalid,
    IdNumberBirthDateInvalid,
    IdNumberBirthTooEarly,
    IdNumberBirthInFuture,
    IdNumberCheckDigitWrong,
]


@pytest.mark.parametrize("cls", REASONS)
def test_every_reason_shares_code_status_and_field(cls: type[InvalidIdNumber]) -> None:
    err = cls()
    assert isinstance(err, InvalidIdNumber)
    assert (err.code, err.status, err.field) == ("identity.invalid_id_number", 422, "id_number")
    assert err.message("zh-CN") and err.message("en")
    assert err.message("zh-CN") != err.message("en")


def test_reasons_have_distinct_messages_and_codes() -> None:
    assert len({cls.reason for cls in REASONS}) == len(REASONS)
    assert len({cls().message("zh-CN") for cls in REASONS}) == len(REASONS)
    assert len({cls().message("en") for cls in REASONS}) == len(REASONS)


def test_check_digit_message_tells_the_resident_what_to_do() -> None:
    err = IdNumberCheckDigitWrong()
    assert "校验位" in err.message("zh-CN") and "最后一位" in err.message("zh-CN")
    assert "check digit" in err.message("en")


def test_field_can_be_renamed_for_other_inputs() -> None:
    assert IdNumberCheckDigitWrong(field="guardian_id_number").field == "guardian_id_number"


def test_error_never_contains_the_number() -> None:
    number = "110105194912310021"
    with pytest.raises(InvalidIdNumber) as caught:
        parse_id_number(number, TODAY)
    assert number not in str(caught.value)
    assert number not in caught.value.message("zh-CN")
    assert not caught.value.params


# --- masking ------------------------------------------------------------------------------


def test_mask_keeps_first_six_and_last_four() -> None:
    assert mask_id_number("330106199001011234") == "330106********1234"


@pytest.mark.parametrize("value", ["", "12345", "3301061990010112345"])
def test_mask_of_a_wrong_length_value_reveals_nothing(value: str) -> None:
    assert mask_id_number(value) == "*" * len(value)


def test_repr_is_masked() -> None:
    info = parse_id_number("11010519491231002X", TODAY)
    assert "11010519491231002X" not in repr(info)
    assert "110105********002X" in repr(info)


# --- properties ---------------------------------------------------------------------------

regions = st.builds(
    lambda p, rest: f"{p}{rest:04d}",
    st.sampled_from(PROVINCES),
    st.integers(min_value=1, max_value=9999),
)
births = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)
sequences = st.integers(min_value=0, max_value=999).map(lambda n: f"{n:03d}")
valid_numbers = st.builds(make_number, regions, births, sequences)


@given(regions, births, sequences)
def test_any_well_formed_number_parses(region: str, born: date, seq: str) -> None:
    number = make_number(region, born, seq)
    info = parse_id_number(number, TODAY)
    assert (info.number, info.region_code, info.birth_date) == (number, region, born)
    assert info.sex == ("M" if int(seq[-1]) % 2 else "F")


@given(valid_numbers, st.integers(min_value=0, max_value=17), st.sampled_from("0123456789X"))
def test_changing_any_single_character_is_refused(number: str, pos: int, new: str) -> None:
    # MOD 11-2 catches every single-character substitution; the change may instead break the
    # shape, region or date first, which is still a refusal.
    if number[pos] == new:
        new = "0" if new == "X" else str((int(new) + 1) % 10)
    changed = number[:pos] + new + number[pos + 1 :]
    with pytest.raises(InvalidIdNumber):
        parse_id_number(changed, TODAY)


@given(valid_numbers, st.integers(min_value=0, max_value=16))
def test_swapping_adjacent_different_digits_is_refused(number: str, pos: int) -> None:
    a, b = number[pos], number[pos + 1]
    if a == b or "X" in (a, b):
        return
    swapped = number[:pos] + b + a + number[pos + 2 :]
    with pytest.raises(InvalidIdNumber):
        parse_id_number(swapped, TODAY)


@given(valid_numbers)
def test_mask_hides_the_middle_eight(number: str) -> None:
    masked = mask_id_number(number)
    assert masked[:6] == number[:6] and masked[-4:] == number[-4:]
    assert masked[6:14] == "********"


@pytest.mark.parametrize("prefix", ["810000", "820000", "830000"])
def test_hong_kong_macao_taiwan_residence_permits_are_accepted(prefix: str) -> None:
    """港澳台居民居住证 numbers share the format and may register."""
    body = f"{prefix}19800101123"
    info = parse_id_number(body + id_check_char(body), date(2026, 11, 27))
    assert info.region_code == prefix and info.sex == "M"


def test_other_all_zero_region_codes_stay_refused() -> None:
    """A province code with 0000 below it names no place."""
    body = "33000019800101123"
    with pytest.raises(InvalidIdNumber):
        parse_id_number(body + id_check_char(body), date(2026, 11, 27))
