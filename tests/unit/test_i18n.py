"""The pages' catalogs: every page string has its Chinese, and formats follow UI.md."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from babel.messages.extract import extract_from_dir

from civicpoints.web import i18n

WEB = Path(i18n.__file__).parent
METHODS = [("pages/**.py", "python"), ("templates/**.html", "jinja2")]


def _source_strings() -> set[str]:
    found = extract_from_dir(str(WEB), METHODS, keywords={"_": None})
    return {m for _file, _line, m, _comments, _context in found if isinstance(m, str) and m}


def test_every_page_string_is_translated_to_chinese() -> None:
    strings = _source_strings()
    assert len(strings) > 20  # the extraction really reads the templates
    zh = i18n.translations("zh-CN")
    missing = sorted(s for s in strings if zh.gettext(s) == s)
    assert missing == [], "translate these with scripts/po_fill.py (see its docstring)"


def test_placeholders_survive_translation() -> None:
    zh = i18n.translations("zh-CN")
    for s in _source_strings():
        for name in ("%(name)s", "%(points)s", "%(date)s", "%(used)s", "%(cap)s"):
            if name in s:
                assert name in zh.gettext(s), s


def test_english_is_the_source() -> None:
    assert i18n.translations("en").gettext("Sign in") == "Sign in"
    assert i18n.translations("zh-CN").gettext("Sign in") == "登录"


def test_unknown_locales_fall_back_to_chinese() -> None:
    assert i18n.pick("fr") == "zh-CN"
    assert i18n.pick(None) == "zh-CN"
    assert i18n.pick("en") == "en"


def test_times_are_beijing_time_in_the_ui_md_format() -> None:
    moment = datetime(2026, 12, 6, 6, 30, tzinfo=UTC)  # 14:30 in Beijing
    assert i18n.when(moment, "zh-CN") == "2026年12月6日 14:30"
    assert i18n.when(moment, "en") == "6 Dec 2026 14:30"
    assert i18n.day(datetime(2026, 12, 6, 17, 0, tzinfo=UTC), "zh-CN") == "2026年12月7日"
    assert i18n.day(date(2026, 1, 2), "en") == "2 Jan 2026"
    assert i18n.month("2026-11", "zh-CN") == "2026年11月"
    assert i18n.month(date(2026, 11, 30), "en") == "November 2026"


def test_numbers_and_money() -> None:
    assert i18n.number(1234567, "zh-CN") == "1,234,567"
    assert i18n.yuan(5000, "zh-CN") == "¥50.00"
    assert i18n.yuan(-1205, "en") == "-¥12.05"
    assert i18n.yuan(123456789, "en") == "¥1,234,567.89"
    assert i18n.decimal(48.0, "zh-CN") == "48"
    assert i18n.decimal(2.5, "en") == "2.5"


def test_one_english_string_has_one_chinese_translation() -> None:
    """The areas' catalogs are read together, so a string translated two ways would show
    whichever file happened to load last: give it one translation, or another English text."""
    from babel.messages.pofile import read_po

    seen: dict[str, tuple[str, str]] = {}
    clashes = []
    for po in sorted((i18n.LOCALE_DIR / "zh_CN" / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as f:
            for m in read_po(f, locale="zh_CN"):
                if not (isinstance(m.id, str) and m.id and m.string):
                    continue
                first = seen.setdefault(m.id, (po.name, str(m.string)))
                if first[1] != m.string:
                    clashes.append((m.id, first, (po.name, m.string)))
    assert clashes == []
