"""The pages' languages: Babel catalogs, read from their .po files when the app starts.

Page strings are written in English in the templates and the page modules (`_("Sign in")`)
and translated in the .po files of `locale/zh_CN/LC_MESSAGES/` (one per area of the app:
`messages.po`, `staff.po`, …; they are read together); English needs no catalog. zh-CN is the
default. The .po files are the only copy: they are compiled in memory at start-up, so no
build step and no binary .mo file in the repository. `scripts/po_fill.py` adds translations;
`tests/unit/test_i18n.py` fails while any page string is untranslated.

Dates, numbers and money are formatted by Babel in the same locale (UI.md: `2026年12月6日
14:30`, thousands separators, yuan with two decimals), always in Beijing time.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.dates import format_date, format_datetime
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

from civicpoints.kit.clock import BUSINESS_TZ, as_utc

LOCALE_DIR = Path(__file__).parent / "locale"
LOCALES = ("zh-CN", "en")
DEFAULT = "zh-CN"
_BABEL = {"zh-CN": "zh_Hans_CN", "en": "en_GB"}


@cache
def translations(locale: str) -> NullTranslations:
    """The compiled catalog of `locale` (English: the identity)."""
    if locale == "en":
        return NullTranslations()
    folder = LOCALE_DIR / locale.replace("-", "_") / "LC_MESSAGES"
    catalog = Catalog(locale=locale.replace("-", "_"))
    for po in sorted(folder.glob("*.po")):
        with po.open("rb") as f:
            for message in read_po(f, locale=catalog.locale):
                if message.id and message.string and "fuzzy" not in message.flags:
                    catalog[message.id] = message
    buffer = BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer)


def pick(wanted: str | None) -> str:
    """A supported locale from a cookie or a form value; zh-CN otherwise."""
    return wanted if wanted in LOCALES else DEFAULT


def when(value: datetime | None, locale: str) -> str:
    """A moment in Beijing time: `2026年12月6日 14:30` / `6 Dec 2026 14:30`."""
    if value is None:
        return ""
    local = as_utc(value).astimezone(BUSINESS_TZ)
    pattern = "y年M月d日 HH:mm" if locale == "zh-CN" else "d MMM y HH:mm"
    return format_datetime(local, pattern, locale=_BABEL[locale])


def day(value: date | datetime | None, locale: str) -> str:
    """A date: `2026年12月6日` / `6 Dec 2026` (a datetime is taken in Beijing time)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = as_utc(value).astimezone(BUSINESS_TZ).date()
    pattern = "y年M月d日" if locale == "zh-CN" else "d MMM y"
    return format_date(value, pattern, locale=_BABEL[locale])


def month(value: date | str, locale: str) -> str:
    """A calendar month (a date in it, or `YYYY-MM`): `2026年11月` / `November 2026`."""
    if isinstance(value, str):
        value = date.fromisoformat(f"{value}-01")
    pattern = "y年M月" if locale == "zh-CN" else "MMMM y"
    return format_date(value, pattern, locale=_BABEL[locale])


def number(value: int, locale: str) -> str:
    """An integer with thousands separators."""
    return format_decimal(value, locale=_BABEL[locale])


def decimal(value: float, locale: str) -> str:
    """A quantity with at most one decimal place: `48`, `2.5`."""
    return format_decimal(round(value, 1), "#,##0.#", locale=_BABEL[locale])


def yuan(fen: int, locale: str) -> str:
    """Money held in fen, shown in yuan with two decimals: `¥50.00`."""
    sign = "-" if fen < 0 else ""
    whole, part = divmod(abs(fen), 100)
    return f"{sign}¥{format_decimal(whole, locale=_BABEL[locale])}.{part:02d}"
