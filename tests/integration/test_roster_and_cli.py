"""Waitlist promotion, the check-in time window, and the import CLI."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner, Result

from civicpoints.activities.errors import OutsideTimeWindow
from civicpoints.activities.models import EnrollmentStatus, Participation
from civicpoints.activities.records import RecordService
from civicpoints.activities.service import ActivityService
from civicpoints.cli.city import City
from civicpoints.kit.clock import BUSINESS_TZ, utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings, get_settings

from .conftest import WEST_LAKE
from .test_api import count


def test_cancelling_a_place_moves_the_waitlist_up(
    sessions: sessionmaker[Session],
    make_resident: Callable,
    make_activity: Callable[..., uuid.UUID],
) -> None:
    """Capacity 1: the second resident waits, and gets the place when the first cancels."""
    activity = make_activity(utcnow() + timedelta(days=1), capacity=1)
    first, second = (
        make_resident("甲", phone="13500000001"),
        make_resident("乙", phone="13500000002"),
    )
    with transaction(sessions) as s:
        assert ActivityService(s).enroll(activity, first.id).status == EnrollmentStatus.ENROLLED
        assert ActivityService(s).enroll(activity, second.id).status == EnrollmentStatus.WAITLISTED
    with transaction(sessions) as s:
        ActivityService(s).cancel_enrollment(activity, first.id)
    with transaction(sessions) as s:
        enrollment = ActivityService(s).enrollment(activity, second.id)
        assert enrollment is not None and enrollment.status == EnrollmentStatus.ENROLLED


def test_check_in_too_early_says_when_it_opens(
    sessions: sessionmaker[Session],
    ctx: Context,
    make_resident: Callable,
    make_activity: Callable[..., uuid.UUID],
) -> None:
    """Two hours early: refused, and the message gives the window in Beijing time."""
    start = datetime(2026, 9, 1, 9, 0, tzinfo=BUSINESS_TZ)
    activity = make_activity(start)
    resident = make_resident("早到")
    with transaction(sessions) as s:
        ActivityService(s).enroll(activity, resident.id, now=start - timedelta(days=1))
    with transaction(sessions) as s, pytest.raises(OutsideTimeWindow) as err:
        RecordService(s, ctx).check_in(
            activity, resident.id, *WEST_LAKE, now=start - timedelta(hours=2)
        )
    assert "2026-09-01 08:30" in err.value.message("zh-CN")
    assert "2026-09-01 11:00" in err.value.message("en")


SUMMARY = re.compile(r"^新增 created (\d+), 重复 duplicates (\d+), 错误 errors (\d+)$", re.M)


def summary(output: str) -> tuple[int, int, int]:
    """(created, duplicates, errors) from the one summary line, matched whole."""
    [found] = SUMMARY.findall(output)
    return (int(found[0]), int(found[1]), int(found[2]))


@pytest.fixture
def cli(
    settings: Settings, city: City, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Result]]:
    """Invoke `civicpoints` on the test database (the pilot city and its staff loaded)."""
    from civicpoints.cli.main import app

    monkeypatch.setenv("CIVICPOINTS_DATABASE_URL", settings.resolved_database_url())
    monkeypatch.setenv("CIVICPOINTS_PII_KEY", settings.pii_key)
    get_settings.cache_clear()
    yield lambda *args: CliRunner().invoke(app, [str(a) for a in args])
    get_settings.cache_clear()


def no_traceback(result: Result) -> None:
    """The command ended by its own exit, not by an exception."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output


def test_import_records_command(
    cli: Callable[..., Result],
    make_resident: Callable,
    make_activity: Callable[..., uuid.UUID],
    tmp_path: Path,
) -> None:
    """`civicpoints import-records FILE --staff organizer` imports and reports per row."""
    make_resident("纸质单", phone="13500000009")
    activity = make_activity(datetime(2026, 9, 2, 9, tzinfo=BUSINESS_TZ))
    csv = tmp_path / "slips.csv"
    csv.write_text(
        "单据号,居民,活动编号,开始时间,结束时间,备注\n"
        f"P-1,13500000009,{activity},2026-09-02 09:00,2026-09-02 11:00,社区服务中心\n",
        encoding="gb18030",
    )
    result = cli("import-records", csv, "--staff", "organizer")
    again = cli("import-records", csv, "--staff", "organizer")
    assert result.exit_code == 0 and summary(result.output) == (1, 0, 0), result.output
    assert again.exit_code == 0 and summary(again.output) == (0, 1, 0), again.output


def test_summary_is_matched_whole() -> None:
    """ "created 10" is not "created 1"."""
    line = "新增 created 10, 重复 duplicates 0, 错误 errors 0\n"
    assert summary(line) == (10, 0, 0)
    with pytest.raises(ValueError):
        summary(line + line)


def test_import_records_partial_keeps_good_rows_and_names_bad_ones(
    cli: Callable[..., Result],
    sessions: sessionmaker[Session],
    make_resident: Callable,
    make_activity: Callable[..., uuid.UUID],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Year 1, year 9999 and a 51-character resident cell are row errors; --partial keeps P-1."""
    caplog.set_level(logging.DEBUG)
    make_resident("纸质单", phone="13500000009")
    activity = make_activity(datetime(2026, 9, 2, 9, tzinfo=BUSINESS_TZ))
    cell = "13500000009" + "7" * 40
    csv = tmp_path / "slips.csv"
    csv.write_text(
        "slip_no,resident,activity_id,started_at,ended_at\n"
        f"P-1,13500000009,{activity},2026-09-02 09:00,2026-09-02 11:00\n"
        f"P-2,13500000009,{activity},0001-01-01 00:00,2026-09-02 11:00\n"
        f"P-3,13500000009,{activity},2026-09-02 09:00,9999-12-31 23:00\n"
        f"P-4,{cell},{activity},2026-09-02 09:00,2026-09-02 11:00\n",
        encoding="utf-8",
    )
    whole = cli("import-records", csv, "--staff", "organizer")
    no_traceback(whole)
    assert whole.exit_code == 1 and count(sessions, Participation) == 0
    assert "本次未导入任何记录" in whole.output and "nothing was imported" in whole.output
    kept = cli("import-records", csv, "--staff", "organizer", "--partial")
    no_traceback(kept)
    assert kept.exit_code == 1 and summary(kept.output) == (1, 0, 3), kept.output
    assert count(sessions, Participation) == 1
    for output in (whole.output, kept.output):
        for line, column in ((3, "started_at"), (4, "ended_at"), (5, "resident")):
            assert f"第 {line} 行 line {line}, 列 column {column}:" in output, output
    assert cell not in whole.output + kept.output + caplog.text


def test_import_records_bad_files_are_clear_messages(
    cli: Callable[..., Result], sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    """Binary, UTF-16, no columns, empty, missing: a message in both languages, exit 2."""
    header = "slip_no,resident,activity_id,started_at,ended_at\n"
    files = {
        "binary.csv": (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "无法识别", "cannot be read"),
        "utf16.csv": (header.encode("utf-16"), "无法识别", "cannot be read"),
        "columns.csv": (b"slip_no,resident\nP-1,135\n", "缺少", "has no"),
        "empty.csv": (b"", "文件是空的", "file is empty"),
    }
    for name, (data, _, _) in files.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "folder.csv").mkdir()
    expected = {n: (zh, en) for n, (_, zh, en) in files.items()}
    expected["missing.csv"] = expected["folder.csv"] = ("无法读取文件", "cannot read the file")
    for name, (zh, en) in expected.items():
        result = cli("import-records", tmp_path / name, "--staff", "organizer")
        no_traceback(result)
        assert result.exit_code == 2, (name, result.output)
        assert zh in result.output and en in result.output, (name, result.output)
    assert count(sessions, Participation) == 0
