"""Parse a CSV of offline records (线下积分点 paper slips) for bulk import. Pure.

Staff type slips into Excel, which in China saves CSV as GBK unless told UTF-8, so both are
read. Whole-file problems raise ImportFileInvalid; a problem in one row becomes an error row so
that staff can fix every bad line in one pass while the good rows parse.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import TypeVar

from civicpoints.activities.errors import ImportFileInvalid, ProblemError, RecordRowInvalid
from civicpoints.activities.schemas import RESIDENT_MAX_LEN
from civicpoints.activities.spans import check_order
from civicpoints.kit.clock import BUSINESS_TZ
from civicpoints.kit.schemas import EARLIEST, LATEST, plausible

REQUIRED = ("slip_no", "resident", "activity_id", "started_at", "ended_at")
OPTIONAL = ("note",)
COLUMNS = (*REQUIRED, *OPTIONAL)  # the import template's header, in this order
ALIASES = {
    "单据号": "slip_no",
    "纸质单号": "slip_no",
    "居民": "resident",
    "活动编号": "activity_id",
    "开始时间": "started_at",
    "结束时间": "ended_at",
    "备注": "note",
}
MAX_ID_LEN, MAX_NOTE_LEN = 64, 500
_EXCEL_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")  # .xlsx (zip), .xls (OLE2)
# "2026-03-01 09:00", "2026/3/1 9:00:00": Excel's ways of writing a local time.
_LOCAL_TIME = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?")
T = TypeVar("T")


@dataclass(frozen=True)
class RecordRow:
    """One valid offline record; times are aware UTC."""

    slip_no: str
    resident: str  # platform number or phone, as written; resolved by the importer
    activity_id: str
    started_at: datetime
    ended_at: datetime
    note: str


@dataclass(frozen=True)
class RowError:
    """What is wrong with one field of a row (`field` None for the row as a whole)."""

    field: str | None
    message_zh: str
    message_en: str


@dataclass(frozen=True)
class RowResult:
    """The outcome for one data row: `row` when ok, else `errors`; `line` is the file line."""

    line: int
    ok: bool
    row: RecordRow | None
    errors: list[RowError] = field(default_factory=list)


def parse_records_csv(data: bytes, max_rows: int = 5000) -> list[RowResult]:
    """One RowResult per non-blank data row; ImportFileInvalid when the file is unusable."""
    records = _records(_decode(data))
    _, header = next(records, (0, []))
    if not header:
        raise ImportFileInvalid(None, "empty")
    columns = _columns(header)
    results: list[RowResult] = []
    seen: dict[str, int] = {}  # slip number → line it first appeared on
    for line, cells in records:
        if len(results) == max_rows:
            raise ImportFileInvalid(None, "too_many_rows", max_rows=max_rows)
        results.append(_parse_row(line, cells, len(header), columns, seen))
    return results


def _decode(data: bytes) -> str:
    """The text of `data`: UTF-8 (BOM or not), else GB18030, a superset of GBK."""
    if data.startswith(_EXCEL_MAGIC):
        raise ImportFileInvalid(None, "excel")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:  # NUL: a binary file or UTF-16 that happened to decode
            return text
    raise ImportFileInvalid(None, "encoding")


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """(first file line, cells) of each non-blank CSV record; quoted cells may span lines."""
    reader = csv.reader(io.StringIO(text, newline=""))
    line = 1
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                yield line, cells
            line = reader.line_num + 1
    except csv.Error:
        raise ImportFileInvalid(None, "malformed", line=line) from None


def _columns(header: list[str]) -> dict[str, int]:
    """Canonical column name → index; unknown columns are ignored (Excel adds extras)."""
    columns: dict[str, int] = {}
    for index, raw in enumerate(header):
        name = unicodedata.normalize("NFKC", raw).strip().lower()
        name = ALIASES.get(name, name)
        if name in columns:
            raise ImportFileInvalid(name, "duplicate_column")
        if name in REQUIRED or name in OPTIONAL:
            columns[name] = index
    for name in REQUIRED:
        if name not in columns:
            raise ImportFileInvalid(name, "missing_column", column=name)
    return columns


def _parse_row(
    line: int, cells: list[str], width: int, columns: dict[str, int], seen: dict[str, int]
) -> RowResult:
    """Validate every field of one row, collecting all its errors."""
    # Trailing empty cells (",,") carry nothing; tolerate them, refuse any other count.
    if len(cells) < width or any(cell.strip() for cell in cells[width:]):
        problem = RecordRowInvalid(None, "column_count", got=len(cells), expected=width)
        return RowResult(line, False, None, [_row_error(problem)])
    errors: list[RowError] = []
    values = {name: cells[index] for name, index in columns.items()}
    row = _record(values, errors, line, seen)
    return RowResult(line, row is not None, row, errors)


def _record(
    values: dict[str, str], errors: list[RowError], line: int, seen: dict[str, int]
) -> RecordRow | None:
    """A RecordRow from raw cells, or None after adding one RowError per bad field."""
    slip_no = _take(errors, "", lambda: _slip_no(values["slip_no"], line, seen))
    resident = _take(
        errors, "", lambda: _identifier(values["resident"], "resident", RESIDENT_MAX_LEN)
    )
    activity_id = _take(errors, "", lambda: _identifier(values["activity_id"], "activity_id"))
    note = _take(errors, "", lambda: _note(values.get("note", "")))
    started = _take(errors, None, lambda: _time(values["started_at"], "started_at"))
    ended = _take(errors, None, lambda: _time(values["ended_at"], "ended_at"))
    if started is not None and ended is not None:
        _take(errors, None, partial(check_order, started, ended))
    if errors or started is None or ended is None:
        return None
    return RecordRow(slip_no, resident, activity_id, started, ended, note)


def _take(errors: list[RowError], default: T, check: Callable[[], T]) -> T:
    """`check()`, or `default` after appending its row or span problem to `errors`."""
    try:
        return check()
    except ProblemError as exc:
        errors.append(_row_error(exc))
        return default


def _row_error(exc: ProblemError) -> RowError:
    return RowError(exc.field, exc.message("zh-CN"), exc.message("en"))


def _slip_no(raw: str, line: int, seen: dict[str, int]) -> str:
    """A slip number not used on an earlier line (even one whose row had other errors)."""
    slip_no = _identifier(raw, "slip_no")
    first_line = seen.setdefault(slip_no, line)
    if first_line != line:
        raise RecordRowInvalid("slip_no", "duplicate_slip", slip_no=slip_no, first_line=first_line)
    return slip_no


def _identifier(raw: str, name: str, max_len: int = MAX_ID_LEN) -> str:
    """A required short identifier; NFKC turns full-width digits and letters into ASCII."""
    text = unicodedata.normalize("NFKC", raw).strip()
    if not text:
        raise RecordRowInvalid(name, "missing")
    if len(text) > max_len:  # the message never repeats the cell: it may hold a phone number
        raise RecordRowInvalid(name, "too_long", max_len=max_len)
    return text


def _note(raw: str) -> str:
    text = raw.strip()
    if len(text) > MAX_NOTE_LEN:
        raise RecordRowInvalid("note", "too_long", max_len=MAX_NOTE_LEN)
    return text


def _time(raw: str, name: str) -> datetime:
    """An aware UTC time from local "2026-03-01 09:00" / "2026/3/1 9:00" or ISO 8601."""
    text = unicodedata.normalize("NFKC", raw).strip()  # full-width "：" and "／" too
    if not text:
        raise RecordRowInvalid(name, "missing")
    value = _parse_time(text)
    if value is None:
        raise RecordRowInvalid(name, "bad_time", value=text[:40])
    if value.tzinfo is None:
        value = value.replace(tzinfo=BUSINESS_TZ)
    if not plausible(value):  # year 1 or 9999 would overflow, or mean nothing
        raise RecordRowInvalid(name, "implausible_year", earliest=EARLIEST, latest=LATEST)
    return value.astimezone(UTC)


def _parse_time(text: str) -> datetime | None:
    """A naive or aware datetime, or None; a bare date is refused (when in the day?)."""
    match = _LOCAL_TIME.fullmatch(text)
    try:
        if match:
            year, month, day, hour, minute, second = (int(part or 0) for part in match.groups())
            return datetime(year, month, day, hour, minute, second)
        return datetime.fromisoformat(text) if ":" in text else None
    except ValueError:
        return None
