"""The password strength check: zxcvbn score ≥ 3 and nothing of the resident's own data."""

from __future__ import annotations

import pytest

from civicpoints.identity.errors import PasswordHasPersonalInfo, WeakPassword
from civicpoints.identity.passwords import check_strength, personal_words

ID = "330106195803150028"
PERSONAL = personal_words("张秀英", "13811112222", ID)


@pytest.mark.parametrize(
    "password",
    ["password", "qwertyui", "11111111a", "12345678", "aaaaaaaa", "Passw0rd!", "iloveyou1"],
)
def test_common_and_guessable_passwords_are_refused(password: str) -> None:
    """The issue's examples and their like score below 3."""
    with pytest.raises(WeakPassword) as caught:
        check_strength(password, PERSONAL)
    assert caught.value.field == "password"
    assert "密码" in caught.value.message("zh-CN") and "password" in caught.value.message("en")


@pytest.mark.parametrize(
    "password",
    [
        "Qz#13811112222",  # the phone number
        "k9!330106195803150028",  # the whole ID number
        "Zhang@19580315",  # the birth date in the ID number
        "Lake#150028river",  # the ID number's last six
        "zhangxiuying#Hz7",  # the name in pinyin
        "Xiuying!2026%lake",  # the given name in pinyin
        "张秀英#West-lake9",  # the name itself
    ],
)
def test_passwords_with_the_residents_own_data_are_refused(password: str) -> None:
    """Name (also in pinyin), phone, ID number, birth date: refused with its own reason."""
    with pytest.raises(PasswordHasPersonalInfo) as caught:
        check_strength(password, PERSONAL)
    assert caught.value.code == "identity.weak_password" and caught.value.field == "password"
    assert "身份证" in caught.value.message("zh-CN")


@pytest.mark.parametrize(
    "password", ["Hangzhou#2026", "Demo@2026", "west-lake-boat-1958", "苏堤春晓 reading club"]
)
def test_strong_passwords_pass(password: str) -> None:
    """Passwords zxcvbn scores 3 or 4 and that hold no personal data are accepted unchanged."""
    assert check_strength(password, PERSONAL) == password


def test_personal_words_cover_pinyin_and_id_parts() -> None:
    """The words the check looks for (case-folded)."""
    words = set(PERSONAL)
    assert {"张秀英", "zhangxiuying", "xiuying", "zhang", "13811112222", ID} <= words
    assert {"19580315", "150028"} <= words


def test_very_long_passwords_are_judged_quickly() -> None:
    """A 128-character password (the schema's limit) is checked, not refused for length."""
    assert check_strength("correct-horse-battery-staple " * 4, PERSONAL)
