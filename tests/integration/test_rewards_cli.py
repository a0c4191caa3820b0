"""`civicpoints rewards import FILE` (all rows or none) and `civicpoints settlement --month`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from civicpoints.cli.city import City
from civicpoints.cli.demo_rewards import Rewards
from civicpoints.cli.main import app
from civicpoints.jobs.runner import run_job
from civicpoints.jobs.schedule import scheduled_jobs
from civicpoints.kit.clock import month_key, utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings, get_settings
from civicpoints.rewards.catalog import CatalogService
from civicpoints.rewards.models import Item
from civicpoints.rewards.schemas import ValuationCreate
from civicpoints.rewards.service import RedemptionService
from civicpoints.rewards.vouchers import VoucherService

HEADER = (
    "code,name,name_en,category,price_points,face_value_fen,sponsor,merchant,stock_total,"
    "regions,valid_from,valid_until\n"
)


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., object]]:
    """Invoke the CLI against the test database."""
    monkeypatch.setenv("CIVICPOINTS_DATABASE_URL", settings.resolved_database_url())
    monkeypatch.setenv("CIVICPOINTS_PII_KEY", settings.pii_key or "")
    get_settings.cache_clear()
    yield lambda *args: CliRunner().invoke(app, [str(a) for a in args])
    get_settings.cache_clear()


def items(sessions: sessionmaker[Session]) -> dict[str, Item]:
    """Catalog items by code."""
    with sessions() as s:
        return {i.code: i for i in s.scalars(select(Item))}


def test_import_creates_updates_and_refuses_a_bad_file_whole(
    cli: Callable[..., object],
    sessions: sessionmaker[Session],
    rewards: Rewards,
    city: City,
    tmp_path: Path,
) -> None:
    """Good rows are created (or update by code); one bad row and nothing is written."""
    street = city.streets[-1].code
    good = tmp_path / "good.csv"
    good.write_text(
        HEADER + f"TEA-1,龙井茶礼盒,Longjing tea box,supermarket_voucher,600,6000,city-fund,"
        f"lianhua-xihu,20,{street},2026-01-01T00:00:00+08:00,2030-01-01T00:00:00+08:00\n"
        + "SM-10,10元超市购物券,10-yuan voucher,supermarket_voucher,90,1000,city-fund,"
        "lianhua-xihu,6000,,2026-01-01T00:00:00+08:00,2030-01-01T00:00:00+08:00\n",
        encoding="utf-8-sig",
    )
    result = cli("rewards", "import", good)
    assert result.exit_code == 0 and "created 1, 更新 updated 1" in result.output  # type: ignore[attr-defined]
    now = items(sessions)
    assert now["TEA-1"].region_ids == [str(city.streets[-1].id)]
    assert (now["SM-10"].price_points, now["SM-10"].stock_total) == (90, 6000)

    bad = tmp_path / "bad.csv"
    bad.write_text(
        HEADER + "TEA-2,白茶,White tea,supermarket_voucher,500,5000,nobody,lianhua-xihu,5,,"
        "2026-01-01T00:00:00+08:00,2030-01-01T00:00:00+08:00\n"
        + "TEA-3,红茶,Black tea,supermarket_voucher,-5,5000,city-fund,lianhua-xihu,5,,"
        "2026-01-01T00:00:00+08:00,2030-01-01T00:00:00+08:00\n"
        + "TEA-4,绿茶,Green tea,supermarket_voucher,50,500,city-fund,lianhua-xihu,5,,"
        "2026-13-01,2030-01-01 00:00\n",
        encoding="gb18030",
    )
    result = cli("rewards", "import", bad)
    out = result.output  # type: ignore[attr-defined]
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert "第 2 行" in out and "nobody" in out and "第 3 行" in out and "price_points" in out
    assert "第 4 行" in out and "valid_from" in out and "2026-13-01" in out  # not a traceback
    assert "TEA-2" not in items(sessions)


def test_import_refuses_a_row_priced_above_its_face_value(
    cli: Callable[..., object], sessions: sessionmaker[Session], rewards: Rewards, tmp_path: Path
) -> None:
    """A new row and a change of an existing item, both above face value: nothing imported."""
    dates = "2026-01-01T00:00:00+08:00,2030-01-01T00:00:00+08:00"
    bad = tmp_path / "over.csv"
    bad.write_text(
        HEADER
        + f"TEA-9,茶,Tea,supermarket_voucher,600,5000,city-fund,lianhua-xihu,5,,{dates}\n"
        + f"SM-10,10元券,10 yuan,supermarket_voucher,101,1000,city-fund,lianhua-xihu,5,,{dates}\n",
        encoding="utf-8",
    )
    before = items(sessions)["SM-10"].price_points
    result = cli("rewards", "import", bad)
    out = result.output  # type: ignore[attr-defined]
    assert result.exit_code == 1, out  # type: ignore[attr-defined]
    assert "第 2 行" in out and "第 3 行" in out and "price_points" in out
    assert "高于面值 50.00 元" in out and "高于面值 10.00 元" in out
    now = items(sessions)
    assert "TEA-9" not in now and now["SM-10"].price_points == before


def test_settlement_command_prints_and_exports(
    cli: Callable[..., object],
    sessions: sessionmaker[Session],
    ctx: Context,
    rewards: Rewards,
    city: City,
    make_resident: Callable,
    fund: Callable[..., None],
    tmp_path: Path,
) -> None:
    """A used voucher shows in the month's settlement, in the CSV and in the XLSX."""
    resident = make_resident().id
    fund(resident, 100)
    with transaction(sessions) as s:
        r = RedemptionService(s, ctx).redeem(resident, rewards.items["SM-10"].id, 1, "k")
        code = RedemptionService(s, ctx).vouchers_of(r)[0].code
    with transaction(sessions) as s:
        VoucherService(s, ctx).verify(code, city.staff["clerk"].id)
    month = month_key(utcnow())
    result = cli("settlement", "--month", month, "--out", tmp_path / "s.csv")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert "世纪联华超市（西湖店） · 杭州市公共服务积分专项资金: 1 张" in result.output  # type: ignore[attr-defined]
    assert code in (tmp_path / "s.csv").read_text(encoding="utf-8-sig")
    assert cli("settlement", "--month", month, "--out", tmp_path / "s.xlsx").exit_code == 0  # type: ignore[attr-defined]
    sheet = load_workbook(tmp_path / "s.xlsx").active
    assert sheet is not None and sheet.cell(row=2, column=3).value == code
    for statement in (
        "UPDATE rewards_booking SET face_value_fen = 1",
        "DELETE FROM rewards_voucher_event",
    ):  # bookings and the voucher trail are append-only in the database itself
        with pytest.raises(DatabaseError, match="append-only"), transaction(sessions) as s:
            s.execute(text(statement))
    bad = cli("settlement", "--month", "2026-13")
    assert bad.exit_code == 1 and "YYYY-MM" in bad.output  # type: ignore[attr-defined]


def test_budget_alert_and_the_daily_rewards_jobs(
    sessions: sessionmaker[Session],
    settings: Settings,
    ctx: Context,
    rewards: Rewards,
    make_resident: Callable,
    fund: Callable[..., None],
) -> None:
    """`rewards.check_budget` alerts once liability exceeds the budget left; the expiry job runs."""
    jobs = scheduled_jobs(settings)
    assert {"rewards.expire_vouchers", "rewards.check_budget", "ledger.void_stale_holds"} <= set(
        jobs
    )
    assert run_job(sessions, "rewards.check_budget", jobs["rewards.check_budget"][0]).ok
    fund(make_resident().id, 700_000)  # 700,000 points × 10 fen = 70,000 yuan: still covered
    assert run_job(sessions, "rewards.check_budget", jobs["rewards.check_budget"][0]).ok
    with transaction(sessions) as s:  # revalued at 10 yuan a point: 7,000,000 yuan > 6,000,000
        CatalogService(s).add_valuation(
            ValuationCreate(fen_per_point=1000, effective_from=utcnow() - timedelta(seconds=1))
        )
    run = run_job(sessions, "rewards.check_budget", jobs["rewards.check_budget"][0])
    assert run.alert and "超过剩余预算" in run.summary["alert_messages"]["zh-CN"]
    assert run.summary["liability_fen"] == 700_000 * 1000
    expiry = run_job(sessions, "rewards.expire_vouchers", jobs["rewards.expire_vouchers"][0])
    assert expiry.ok and expiry.summary == {"closed": 0}
