"""Field types and bodies shared by the request schemas of every domain."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

EARLIEST, LATEST = 1970, 2200


def plausible(value: datetime) -> bool:
    """Whether an aware instant lies in years the platform can mean (checked in UTC)."""
    try:
        year = value.astimezone(UTC).year
    except OverflowError:  # before year 1 or after 9999 once moved to UTC
        return False
    return EARLIEST <= year <= LATEST


def refuse_implausible(value: datetime) -> datetime:
    """Refuse instants the platform can never mean (and that overflow when moved to UTC)."""
    if not plausible(value):
        raise ValueError(
            f"时间须在 {EARLIEST}–{LATEST} 年之间 / the time must lie in the years "
            f"{EARLIEST}–{LATEST}"
        )
    return value


# A time with its offset, within years the platform can mean; use it for every input time.
Instant = Annotated[AwareDatetime, AfterValidator(refuse_implausible)]


# At least one character that is neither space (as str.strip sees it) nor control: a reason
# that stripping would empty is refused, and the spec says so.
_VISIBLE = (
    "[^\\u0000-\\u0020\\u007f-\\u00a0\\u1680\\u2000-\\u200f"
    "\\u2028-\\u202f\\u205f-\\u2064\\u3000\\ufeff]"
)


class Decision(BaseModel):
    """A reviewer's decision (a record in the review queue, an entitlement application)."""

    # The spec says what the validator below enforces: a rejection carries a reason.
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "if": {"properties": {"decision": {"const": "reject"}}},
            "then": {
                "required": ["reason"],
                "properties": {"reason": {"minLength": 1, "pattern": _VISIBLE}},
            },
        },
    )

    decision: Literal["approve", "reject"]
    reason: Text = Field(
        default="", max_length=500, validate_default=True, description="required to reject"
    )

    @field_validator("reason")
    @classmethod
    def _reason_on_reject(cls, value: str, info: ValidationInfo) -> str:
        """A rejection says why: the resident reads it."""
        if info.data.get("decision") == "reject" and not value:
            raise ValueError("驳回须填写理由 / a rejection needs a reason")
        return value

    @property
    def approve(self) -> bool:
        """Whether this is an approval."""
        return self.decision == "approve"


# -- text ------------------------------------------------------------------------------------

# Control, format (bidi overrides, zero-width), surrogate, private-use and unassigned characters.
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
_LINE_BREAKS = frozenset("\n\r\t")
# CJK ideograph blocks, listed by range so that extension blocks newer than this Python's
# Unicode tables (Extension H, I) are still names: A, unified, compatibility, B–F and I, G–H.
_CJK = (
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0x20000, 0x2EE5F),
    (0x2F800, 0x2FA1F),
    (0x30000, 0x323AF),
)
# Separators real names use: 间隔号 (U+00B7 and look-alikes), space, hyphen, apostrophe, dot.
_NAME_MARKS = frozenset("·・•‧ -'’.")


def _cjk(ch: str) -> bool:
    """An ideograph of any CJK block (or 〇, written in names)."""
    code = ord(ch)
    return ch == "〇" or any(lo <= code <= hi for lo, hi in _CJK)


def _refuse(zh: str, en: str) -> ValueError:
    """A validation error in the project's "中文 / English" form."""
    return ValueError(f"{zh} / {en}")


def has_hidden(value: str, allowed: frozenset[str] = frozenset()) -> bool:
    """Whether `value` holds NUL, a control or an invisible format character (bidi overrides,
    zero-width), other than those `allowed`."""
    return any(
        ch not in allowed and unicodedata.category(ch) in _HIDDEN and not _cjk(ch) for ch in value
    )


def _plain(value: str, allowed: frozenset[str] = frozenset()) -> str:
    """Refuse NUL, control and invisible format characters."""
    if has_hidden(value, allowed):
        raise _refuse("含有不可见的控制字符", "contains a control or invisible character")
    return value


def _text(value: str) -> str:
    """Free text: line breaks and tabs allowed, other control characters refused."""
    return _plain(value, _LINE_BREAKS)


def _name(value: str) -> str:
    """A person's or place's name: letters of any script, CJK, `·`, spaces, hyphens."""
    for ch in _plain(value):
        if not (_cjk(ch) or ch in _NAME_MARKS or unicodedata.category(ch)[0] in "LM"):
            raise _refuse(
                "只能包含文字、间隔号（·）和空格",
                "may hold only letters, the middle dot and spaces",
            )
    return value


def _web_address(value: str) -> str:
    """An http(s) URL or a path on this site; refuses javascript:, data:, //host and the like."""
    if value and not (
        re.fullmatch(r"https?://[^\s/?#]+[^\s]*", value, re.IGNORECASE)
        or re.fullmatch(r"/(?![/\\])[^\s]*", value)
    ):
        raise _refuse("须为 http(s) 地址或以 / 开头的站内路径", "must be an http(s) URL or a path")
    return value


# One line of text (titles, codes, usernames, phone and ID numbers): no control characters.
Line = Annotated[str, AfterValidator(_plain)]
# Free text (descriptions, notes, reasons): line breaks allowed, other control characters not.
Text = Annotated[str, AfterValidator(_text)]
# A real name (居民姓名): letters of any script incl. CJK extensions, `·`, spaces; no emoji,
# digits, markup or bidi overrides.
PersonName = Annotated[str, AfterValidator(_name)]
# An image or link address: http(s) or a site path starting with "/".
WebAddress = Annotated[
    str,
    AfterValidator(_plain),
    AfterValidator(_web_address),
    Field(json_schema_extra={"pattern": r"^(https?://[^\s/?#]+\S*|/([^\s/\\]\S*)?)?$"}),
]
