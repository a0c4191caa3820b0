"""Mainland mobile numbers: the forms residents type, what is refused, masking."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from civicpoints.identity.errors import InvalidPhone
from civicpoints.identity.phone import mask_phone, normalize_phone


@pytest.mark.parametrize(
    "value",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+86 138 1234 5678",
        "+8613812345678",
        "86-138-1234-5678",
        "8613812345678",
        "0086 138 1234 5678",
        "  13812345678 ",
        "１３８ １２３４ ５６７８",  # full-width digits from a Chinese input method
        "＋86 138 1234 5678",
    ],
)
def test_accepted_forms_normalize_to_11_digits(value: str) -> None:
    assert normalize_phone(value) == "13812345678"


@pytest.mark.parametrize("second", "3456789")
def test_every_mobile_second_digit_is_accepted(second: str) -> None:
    assert normalize_phone(f"1{second}012345678") == f"1{second}012345678"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "1381234567",  # 10 digits
        "138123456789",  # 12 digits
        "12812345678",  # no mobile range starts 12
        "10012345678",
        "23812345678",
        "010-12345678",  # Beijing landline
        "0571-88888888",  # Hangzhou landline
        "88888888",
        "+1 138 1234 5678",  # another country code
        "+85 13812345678",
        "++8613812345678",
        "86+13812345678",
        "138abcd5678",
        "138.1234.5678",
        "(138) 1234 5678",
        "١٣٨١٢٣٤٥٦٧٨",  # Arabic-Indic digits
        "8613812345678 ext 1",
    ],
)
def test_refused(value: str) -> None:
    with pytest.raises(InvalidPhone) as caught:
        normalize_phone(value)
    err = caught.value
    assert (err.code, err.status, err.field) == ("identity.invalid_phone", 422, "phone")


def test_message_is_plain_in_both_languages_and_never_echoes_the_value() -> None:
    with pytest.raises(InvalidPhone) as caught:
        normalize_phone("1381234567")
    zh, en = caught.value.message("zh-CN"), caught.value.message("en")
    assert "11位" in zh and "手机号码" in zh
    assert "11-digit" in en and "mobile" in en
    assert "1381234567" not in zh + en + str(caught.value)


def test_mask_phone() -> None:
    assert mask_phone("13812345678") == "138****5678"


@pytest.mark.parametrize("value", ["", "1381234", "+8613812345678"])
def test_mask_of_a_wrong_length_value_reveals_nothing(value: str) -> None:
    assert mask_phone(value) == "*" * len(value)


mobiles = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)


@given(
    mobiles,
    st.sampled_from(["", "+86", "86", "0086", "+86 ", "86-", "0086 "]),
    st.sampled_from(["", " ", "-"]),
)
def test_any_mobile_in_any_accepted_layout_round_trips(number: str, prefix: str, sep: str) -> None:
    grouped = sep.join([number[:3], number[3:7], number[7:]])
    assert normalize_phone(prefix + grouped) == number


@given(mobiles, st.integers(min_value=0, max_value=10))
def test_dropping_a_digit_is_refused(number: str, pos: int) -> None:
    with pytest.raises(InvalidPhone):
        normalize_phone(number[:pos] + number[pos + 1 :])


@given(mobiles)
def test_mask_keeps_prefix_and_last_four(number: str) -> None:
    assert mask_phone(number) == number[:3] + "****" + number[-4:]
