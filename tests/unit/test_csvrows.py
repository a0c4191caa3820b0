"""Offline-record CSV import: encodings, headers, per-line errors, duplicates, limits."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from civicpoints.activities.csvrows import RecordRow, RowResult, parse_records_csv
from civicpoints.activities.errors import ImportFileInvalid

HEADER = "slip_no,resident,activity_id,started_at,ended_at,note\n"
GOOD = "A001,CP1234567890,ACT-1,2026-03-01 09:00,2026-03-01 11:30,扫地\n"


def utc(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def parse(text: str, encoding: str = "utf-8", **kwargs: int) -> list[RowResult]:
    return parse_records_csv(text.encode(encoding), **kwargs)


def fields(result: RowResult) -> list[str | None]:
    return [error.field for error in result.errors]


def test_good_row_in_utf8_with_bom() -> None:
    [result] = parse_records_csv(b"\xef\xbb\xbf" + (HEADER + GOOD).encode())
    assert result == RowResult(
        line=2,
        ok=True,
        row=RecordRow(
            slip_no="A001",
            resident="CP1234567890",
            activity_id="ACT-1",
            started_at=utc(2026, 3, 1, 1, 0),  # 09:00 Beijing
            ended_at=utc(2026, 3, 1, 3, 30),
            note="扫地",
        ),
        errors=[],
    )


def test_gbk_file_with_chinese_headers_and_crlf() -> None:
    text = (
        "纸质单号,居民,活动编号,开始时间,结束时间,备注\r\n"
        "0012,13800138000,ACT-9,2026/3/1 9:00,2026/3/1 10:15:30,帮老人买菜\r\n"
    )
    [result] = parse(text, "gbk")
    assert result.ok and result.row is not None
    assert (result.row.slip_no, result.row.resident, result.row.note) == (
        "0012",
        "13800138000",
        "帮老人买菜",
    )
    assert result.row.ended_at == utc(2026, 3, 1, 2, 15, 30)


def test_note_column_is_optional_and_extra_columns_ignored() -> None:
    text = (
        "单据号,居民,活动编号,开始时间,结束时间,经办人\n"
        "7,CP1,ACT-1,2026-03-01 09:00,2026-03-01 10:00,王阿姨\n"
    )
    [result] = parse(text)
    assert result.ok and result.row is not None and result.row.note == ""


@pytest.mark.parametrize(
    ("started", "ended", "expected_start"),
    [
        ("2026-03-01 09:00:00", "2026-03-01 10:00:00", utc(2026, 3, 1, 1, 0)),
        ("2026-03-01T09:00:00+08:00", "2026-03-01T02:00:00Z", utc(2026, 3, 1, 1, 0)),
        ("2026-03-01T01:00:00+00:00", "2026-03-01 10:00", utc(2026, 3, 1, 1, 0)),
        ("２０２６／３／１　９：００", "2026-03-01 10:00", utc(2026, 3, 1, 1, 0)),  # full-width
    ],
)
def test_time_formats(started: str, ended: str, expected_start: datetime) -> None:
    [result] = parse(HEADER + f"A1,CP1,ACT-1,{started},{ended},\n")
    assert result.ok, result.errors
    assert result.row is not None and result.row.started_at == expected_start
    assert result.row.started_at.tzinfo is UTC


def test_malformed_rows_are_reported_per_line_while_good_rows_parse() -> None:
    text = (
        HEADER
        + GOOD
        + "A002,CP1,ACT-1,明天上午,2026-03-01 11:00,\n"  # line 3: bad start time
        + "A003,CP1,ACT-1,2026-03-01 11:00,2026-03-01 09:00,\n"  # line 4: end before start
        + "\n"  # line 5: blank, skipped
        + ",CP1,ACT-1,2026-03-01 09:00,2026-03-01 10:00,\n"  # line 6: missing slip
        + "A005,CP1,ACT-1,2026-03-01 09:00,2026-03-02 09:01,\n"  # line 7: over 24 h
        + "A006,CP1,ACT-1,2026-03-01 09:00\n"  # line 8: too few columns
        + "A007,,ACT-1,2026-02-30 09:00,2026-03-01,\n"  # line 9: three problems
        + "A008,CP2,ACT-2,2026-03-02 08:00,2026-03-02 09:00,好\n"  # line 10: good
    )
    results = parse(text)
    assert [(r.line, r.ok) for r in results] == [
        (2, True),
        (3, False),
        (4, False),
        (6, False),
        (7, False),
        (8, False),
        (9, False),
        (10, True),
    ]
    by_line = {r.line: r for r in results}
    assert fields(by_line[3]) == ["started_at"]
    assert "明天上午" in by_line[3].errors[0].message_zh
    assert fields(by_line[4]) == ["ended_at"]
    assert by_line[4].errors[0].message_zh == "结束时间必须晚于开始时间。"
    assert fields(by_line[6]) == ["slip_no"]
    assert by_line[6].errors[0].message_zh == "单据号没有填写。"
    assert by_line[6].errors[0].message_en == "Slip number is empty."
    assert fields(by_line[7]) == ["ended_at"] and "24" in by_line[7].errors[0].message_zh
    assert fields(by_line[8]) == [None] and "列" in by_line[8].errors[0].message_zh
    assert fields(by_line[9]) == ["resident", "started_at", "ended_at"]
    assert all(r.row is None for r in results if not r.ok)


def test_duplicate_slip_number_second_is_an_error() -> None:
    text = HEADER + GOOD + GOOD.replace("ACT-1", "ACT-2") + GOOD.replace("A001", "A002")
    first, second, third = parse(text)
    assert first.ok and third.ok
    assert not second.ok and fields(second) == ["slip_no"]
    assert second.errors[0].message_zh == "单据号 A001 与第 2 行重复。"


def test_duplicate_slip_of_an_error_row_still_counts() -> None:
    bad = "A001,CP1,ACT-1,坏时间,2026-03-01 10:00,\n"
    first, second = parse(HEADER + bad + GOOD)
    assert fields(first) == ["started_at"]
    assert fields(second) == ["slip_no"]


def test_full_width_slip_numbers_are_duplicates_of_ascii() -> None:
    _, second = parse(HEADER + GOOD + GOOD.replace("A001", "Ａ００１"))
    assert fields(second) == ["slip_no"]


def test_too_long_values() -> None:
    text = HEADER + f"{'9' * 65},CP1,ACT-1,2026-03-01 09:00,2026-03-01 10:00,{'字' * 501}\n"
    [result] = parse(text)
    assert fields(result) == ["slip_no", "note"]
    assert "64" in result.errors[0].message_zh and "500" in result.errors[1].message_zh


def test_quoted_multiline_note_keeps_file_line_numbers() -> None:
    row = 'A2,CP1,ACT-1,2026-03-01 09:00,2026-03-01 10:00,"第一行\n第二行"\n'
    first, second, third = parse(HEADER + GOOD + row + GOOD.replace("A001", "A3"))
    assert [first.line, second.line, third.line] == [2, 3, 5]
    assert second.row is not None and second.row.note == "第一行\n第二行"


def test_trailing_empty_cells_are_tolerated_but_extra_values_are_not() -> None:
    ok, bad = parse(
        HEADER + GOOD.rstrip("\n") + ",,\n" + GOOD.replace("A001", "A2").rstrip("\n") + ",x\n"
    )
    assert ok.ok
    assert not bad.ok and fields(bad) == [None]


def _invalid(data: bytes, **kwargs: int) -> ImportFileInvalid:
    with pytest.raises(ImportFileInvalid) as caught:
        parse_records_csv(data, **kwargs)
    assert (caught.value.code, caught.value.status) == ("activities.import_file_invalid", 422)
    return caught.value


def test_missing_required_column_is_named() -> None:
    error = _invalid("单据号,居民,活动编号,开始时间,备注\n".encode())
    assert (error.field, error.problem) == ("ended_at", "missing_column")
    assert "结束时间" in error.message("zh-CN") and "ended_at" in error.message("zh-CN")


def test_duplicate_column_refused() -> None:
    error = _invalid(("slip_no,单据号," + HEADER.split(",", 1)[1]).encode())
    assert (error.field, error.problem) == ("slip_no", "duplicate_column")


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "empty"),
        (b"\n\n  \n", "empty"),
        (b"\xff\xfeA\x00B\x00", "encoding"),  # UTF-16
        (b"\x80\x81\xff\xfe\x00", "encoding"),
        (b"PK\x03\x04\x14\x00\x06\x00", "excel"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "excel"),
    ],
)
def test_unreadable_files(data: bytes, problem: str) -> None:
    assert _invalid(data).problem == problem


def test_too_many_rows() -> None:
    rows = "".join(GOOD.replace("A001", f"A{i}") for i in range(4))
    assert len(parse(HEADER + rows, max_rows=4)) == 4
    error = _invalid((HEADER + rows).encode(), max_rows=3)
    assert error.problem == "too_many_rows" and "3" in error.message("zh-CN")


def test_unclosed_quote_reports_its_line() -> None:
    data = (HEADER + GOOD + 'A2,CP1,"ACT\n').encode() + b"x" * 200_000
    error = _invalid(data)
    assert error.problem == "malformed" and error.params["line"] == 3


@pytest.mark.parametrize(
    ("started", "ended", "field"),
    [
        ("0001-01-01 09:00", "2026-03-01 10:00", "started_at"),
        ("0001-01-01 00:00", "2026-03-01 10:00", "started_at"),  # before year 1 in UTC
        ("2026-03-01 09:00", "9999-12-31 23:00", "ended_at"),
        ("2026-03-01 09:00", "9999-12-31T23:00:00-14:00", "ended_at"),  # past 9999 in UTC
        ("1969-12-31 23:59", "2026-03-01 10:00", "started_at"),
    ],
)
def test_times_outside_the_platforms_years_are_row_errors(
    started: str, ended: str, field: str
) -> None:
    [result] = parse(HEADER + f"A1,CP1,ACT-1,{started},{ended},\n")
    assert not result.ok and fields(result) == [field]
    assert "1970" in result.errors[0].message_zh and "2200" in result.errors[0].message_en


def test_resident_cell_over_40_characters_is_a_row_error_without_its_value() -> None:
    cell = "13500000009" + "8" * 30  # 41 characters: longer than any phone or platform number
    [result] = parse(HEADER + f"A1,{cell},ACT-1,2026-03-01 09:00,2026-03-01 10:00,\n")
    assert not result.ok and fields(result) == ["resident"]
    assert "40" in result.errors[0].message_zh
    assert cell not in result.errors[0].message_zh + result.errors[0].message_en
