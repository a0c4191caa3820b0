"""Numbers in the words of a signal: distances, durations and times in zh-CN and en. Pure."""

from __future__ import annotations

from datetime import datetime

from civicpoints.kit.clock import BUSINESS_TZ

Words = tuple[str, str]  # (zh-CN, en)


def distance(metres: float) -> Words:
    """'31.2 公里' / '31.2 km' from 1 km up, else whole metres."""
    if metres >= 1000:
        km = f"{metres / 1000:,.1f}"
        return f"{km} 公里", f"{km} km"
    return f"{metres:,.0f} 米", f"{metres:,.0f} m"


def duration(seconds: float) -> Words:
    """A duration in its two largest units: '40 秒', '9 分钟', '1 小时 5 分钟', '3 天 2 小时'."""
    if 0 < seconds < 1:
        return "不到 1 秒", "under 1 s"
    s = max(round(seconds), 0)
    if s < 120:
        return f"{s} 秒", f"{s} s"
    minutes, hours, days = s // 60 % 60, s // 3600 % 24, s // 86400
    if days:
        return _pair(days, "天", "d", hours, "小时", "h")
    if hours:
        return _pair(hours, "小时", "h", minutes, "分钟", "min")
    return f"{minutes} 分钟", f"{minutes} min"


def _pair(big: int, big_zh: str, big_en: str, small: int, small_zh: str, small_en: str) -> Words:
    if not small:
        return f"{big} {big_zh}", f"{big} {big_en}"
    return f"{big} {big_zh} {small} {small_zh}", f"{big} {big_en} {small} {small_en}"


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def moment(value: datetime) -> Words:
    """A time as UI.md writes it, Beijing time to the minute: '2026年3月5日 09:00' /
    '5 Mar 2026 09:00' (the pages' `when`, for notes stored with a record)."""
    t = value.astimezone(BUSINESS_TZ)
    en = f"{t.day} {_MONTHS[t.month - 1]} {t.year} {t:%H:%M}"
    return f"{t.year}年{t.month}月{t.day}日 {t:%H:%M}", en


def span(starts: datetime, ends: datetime) -> Words:
    """'2026年3月5日 09:00–12:00' / '5 Mar 2026 09:00–12:00', the end's date only when it
    differs from the start's."""
    a, b = starts.astimezone(BUSINESS_TZ), ends.astimezone(BUSINESS_TZ)
    (a_zh, a_en), (b_zh, b_en) = moment(a), moment(b)
    if a.date() == b.date():
        b_zh = b_en = f"{b:%H:%M}"
    return f"{a_zh}–{b_zh}", f"{a_en}–{b_en}"
