"""Budget and liability figures, and the monthly settlement with its CSV and XLSX exports."""

from __future__ import annotations

import re
import uuid

from sqlalchemy.orm import Session

from civicpoints.kit.clock import BUSINESS_TZ, utcnow
from civicpoints.kit.export import csv_bytes, xlsx_bytes
from civicpoints.ledger import HoldService
from civicpoints.rewards.catalog import CatalogService
from civicpoints.rewards.errors import InvalidMonth
from civicpoints.rewards.repository import RewardsRepository
from civicpoints.rewards.schemas import (
    BudgetRead,
    SettlementGroup,
    SettlementLine,
    SettlementRead,
    SponsorFigures,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
WIDTHS = (26, 30, 28, 28, 21, 9, 14, 16, 12, 38, 38, 38)  # XLSX columns, in characters
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
HEADERS = [
    ("商户", "merchant"),
    ("资金来源", "sponsor"),
    ("券码", "voucher_code"),
    ("兑换品", "item"),
    ("核销时间(北京时间)", "used_at"),
    ("积分", "points"),
    ("面值(分)", "face_value_fen"),
    ("积分价值(分)", "points_value_fen"),
    ("补贴(分)", "subsidy_fen"),
    ("冻结流水", "hold_transfer_id"),
    ("居民账户分录", "wallet_entry_id"),
    ("核销流水", "post_transfer_id"),
]


class BudgetService:
    """Live budget figures and settlements; reads only."""

    def __init__(self, session: Session) -> None:
        self.catalog = CatalogService(session)
        self.repo = RewardsRepository(session)
        self.holds = HoldService(session)

    def figures(self) -> BudgetRead:
        """Liability (points outstanding × valuation) against the budget still unspent."""
        rate = self.catalog.fen_per_point(utcnow())
        outstanding = self.holds.outstanding()
        booked = self.repo.booked_by_sponsor()
        sponsors = []
        for s in self.repo.sponsors():
            face, value, subsidy = booked.get(s.id, (0, 0, 0))
            sponsors.append(
                SponsorFigures(
                    code=s.code,
                    name=s.name,
                    budget_fen=s.budget_fen,
                    redeemed_fen=face,
                    points_value_fen=value,
                    subsidy_fen=subsidy,
                    remaining_fen=s.budget_fen - face,
                )
            )
        budget = sum(s.budget_fen for s in sponsors)
        redeemed = sum(s.redeemed_fen for s in sponsors)
        liability, remaining = outstanding * rate, budget - redeemed
        alert = liability > remaining
        return BudgetRead(
            fen_per_point=rate,
            outstanding_points=outstanding,
            liability_fen=liability,
            budget_fen=budget,
            redeemed_fen=redeemed,
            remaining_fen=remaining,
            alert=alert,
            alert_messages=_alert(liability, remaining) if alert else None,
            sponsors=sponsors,
        )

    def settlement(self, month: str, merchant_id: uuid.UUID | None = None) -> SettlementRead:
        """Vouchers used in a Beijing month, per merchant and sponsor, line by line."""
        if not MONTH.match(month):
            raise InvalidMonth(field="month", month=month)
        lines = [
            SettlementLine(
                merchant=r.merchant_name,
                sponsor=r.sponsor_name,
                voucher_code=r.code,
                item=r.item_name,
                used_at=r.used_at,
                points=r.Booking.points,
                face_value_fen=r.Booking.face_value_fen,
                points_value_fen=r.Booking.points_value_fen,
                subsidy_fen=r.Booking.subsidy_fen,
                hold_transfer_id=r.Booking.hold_transfer_id,
                wallet_entry_id=r.Booking.wallet_entry_id,
                post_transfer_id=r.Booking.post_transfer_id,
            )
            for r in self.repo.bookings_in(month, merchant_id)
        ]
        groups: dict[tuple[str, str], SettlementGroup] = {}
        for line in lines:
            g = groups.setdefault(
                (line.merchant, line.sponsor),
                SettlementGroup(
                    merchant=line.merchant,
                    sponsor=line.sponsor,
                    vouchers=0,
                    face_value_fen=0,
                    points_value_fen=0,
                    subsidy_fen=0,
                ),
            )
            g.vouchers += 1
            g.face_value_fen += line.face_value_fen
            g.points_value_fen += line.points_value_fen
            g.subsidy_fen += line.subsidy_fen
        return SettlementRead(month=month, groups=list(groups.values()), lines=lines)


def _alert(liability: int, remaining: int) -> dict[str, str]:
    """The alert text in both languages, amounts in yuan."""
    owed, left = f"{liability / 100:,.2f}", f"{remaining / 100:,.2f}"
    return {
        "zh-CN": f"积分负债 {owed} 元已超过剩余预算 {left} 元，请追加预算或调整兑换",
        "en": f"points liability of {owed} yuan exceeds the remaining budget of {left} yuan",
    }


def _rows(report: SettlementRead) -> list[list[object]]:
    """Header (both languages) and one row per line (times in Beijing time, the month's
    frame), then per-group subtotals and the month's total."""
    rows: list[list[object]] = [[f"{zh} {en}" for zh, en in HEADERS]]
    for line in report.lines:
        data = line.model_dump(mode="json")
        data["used_at"] = line.used_at.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M:%S")
        rows.append([data[key] for _, key in HEADERS])
    rows.append([])
    rows.append(
        [
            "小计 subtotal",
            "",
            "券数 vouchers",
            "",
            "",
            "",
            "面值 face",
            "积分价值 points",
            "补贴 subsidy",
        ]
    )
    for g in report.groups:
        rows.append(
            [
                g.merchant,
                g.sponsor,
                g.vouchers,
                "",
                "",
                "",
                g.face_value_fen,
                g.points_value_fen,
                g.subsidy_fen,
            ]
        )
    groups = report.groups
    rows.append(
        [
            "合计 total",
            "",
            sum(g.vouchers for g in groups),
            "",
            "",
            "",
            sum(g.face_value_fen for g in groups),
            sum(g.points_value_fen for g in groups),
            sum(g.subsidy_fen for g in groups),
        ]
    )
    return rows


def settlement_csv(report: SettlementRead) -> bytes:
    """The settlement as UTF-8 CSV, no cell a live formula."""
    return csv_bytes(_rows(report))


def settlement_xlsx(report: SettlementRead) -> bytes:
    """The settlement as an XLSX workbook, no cell a formula."""
    return xlsx_bytes(_rows(report), f"结算 {report.month}", WIDTHS, freeze="A2")


def settlement_file(report: SettlementRead, format: str) -> tuple[bytes, str, str]:
    """The settlement as a download: (bytes, media type, file name); format csv or xlsx."""
    name = f"settlement-{report.month}.{format}"
    if format == "xlsx":
        return settlement_xlsx(report), XLSX, name
    return settlement_csv(report), "text/csv", name
