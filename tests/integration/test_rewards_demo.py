"""The demo's rewards: 张女士's voucher from her earned 480 points, and every budget, liability
and settlement figure recomputed independently from the ledger and voucher records."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Sequence
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.cli.demo import ZHANG_PHONE, load_demo
from civicpoints.cli.demo_rewards import SUBSIDISED_50
from civicpoints.identity.service import IdentityService
from civicpoints.kit.clock import BUSINESS_TZ, month_key, utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings
from civicpoints.ledger import wallet_of
from civicpoints.ledger.models import Account, Entry, Hold, Transfer
from civicpoints.ledger.service import LedgerService
from civicpoints.rewards.budget import BudgetService, settlement_csv, settlement_xlsx
from civicpoints.rewards.models import (
    Booking,
    Clerk,
    Item,
    Merchant,
    Redemption,
    Sponsor,
    Valuation,
    Voucher,
)
from civicpoints.rewards.service import RedemptionService
from civicpoints.rewards.vouchers import VoucherService
from tests.integration.test_holds import assert_verifies


def zhang_redeems(sessions: sessionmaker[Session], ctx: Context) -> None:
    """张女士 turns her 480 earned points into the subsidised 50-yuan voucher and uses it."""
    with transaction(sessions) as s:
        zhang = IdentityService(s, ctx).find_resident(ZHANG_PHONE)
        assert zhang is not None
        assert LedgerService(s).balance(wallet_of(zhang.id)) == 480
        item = s.scalars(select(Item).where(Item.code == SUBSIDISED_50)).one()
        redemption = RedemptionService(s, ctx).redeem(zhang.id, item.id, 1, "zhang")
        assert LedgerService(s).balance(wallet_of(zhang.id)) == 0
        voucher = s.scalars(select(Voucher).where(Voucher.redemption_id == redemption.id)).one()
        clerk = s.scalars(
            select(Clerk.staff_id).join(Merchant).where(Merchant.code == "lianhua-xihu")
        ).one()
        VoucherService(s, ctx).verify(voucher.code, clerk)


def sums(s: Session) -> dict[str, Any]:
    """Every figure recomputed from raw rows: entries, holds, vouchers, redemptions, items."""
    by_owner = dict(
        s.execute(
            select(Account.owner, func.sum(Entry.amount))
            .join(Account, (Account.bucket == Entry.bucket) & (Account.id == Entry.account_id))
            .group_by(Account.owner)
        ).all()
    )
    rate = s.scalars(
        select(Valuation.fen_per_point)
        .where(Valuation.effective_from <= utcnow())
        .order_by(Valuation.effective_from.desc())
    ).first()
    codes = {x.id: x.code for x in s.scalars(select(Sponsor))}
    spent: Counter[tuple[str, str]] = Counter()  # (sponsor, "face" | "points") → amount
    for v in s.scalars(select(Voucher).where(Voucher.status == "used")):
        spent[codes[v.sponsor_id], "face"] += v.face_value_fen
        spent[codes[v.sponsor_id], "points"] += v.points
    approved = s.execute(
        select(Redemption, Item).join(Item).where(Redemption.status == "approved")
    ).all()
    for r, item in approved:
        spent[codes[item.sponsor_id], "face"] += item.face_value_fen * r.quantity
        spent[codes[item.sponsor_id], "points"] += r.points
    # community items paid from a volunteer team's pool: booked without a resident's redemption
    for b in s.scalars(select(Booking).where(Booking.redemption_id.is_(None))):
        spent[codes[b.sponsor_id], "face"] += b.face_value_fen
        spent[codes[b.sponsor_id], "points"] += b.points
    wallets = sum(int(n) for owner, n in by_owner.items() if owner.startswith("wallet:"))
    held = int(s.scalar(select(func.sum(Hold.amount)).where(Hold.status == "pending")) or 0)
    return {
        "by_owner": by_owner,
        "rate": rate,
        "spent": spent,
        "approved": len(approved),
        "wallets": wallets,
        "held": held,
        "budget": {x.code: x.budget_fen for x in s.scalars(select(Sponsor))},
    }


def test_demo_figures_add_up_to_the_ledger_and_vouchers(
    sessions: sessionmaker[Session], ctx: Context, settings: Settings
) -> None:
    """Liability = points in wallets and holds × 0.1 yuan; redeemed = used vouchers' and
    approved applications' face value, split into points value and subsidy per sponsor."""
    assert load_demo(sessions, ctx, residents=60, seed=7)
    zhang_redeems(sessions, ctx)
    with sessions() as s:
        figures = BudgetService(s).figures()
        report = BudgetService(s).settlement(month_key(utcnow()))
        raw = sums(s)
        used = s.scalars(select(Voucher).where(Voucher.status == "used")).all()
        issued = s.scalars(select(Voucher).where(Voucher.status == "issued")).all()
        statuses = set(s.scalars(select(Voucher.status)).all())
        pending = s.scalars(select(Redemption).where(Redemption.status == "pending")).all()
    by_owner, spent, rate = raw["by_owner"], raw["spent"], raw["rate"]
    assert {"used", "issued", "cancelled"} <= statuses and len(used) >= 5
    assert raw["approved"] >= 1 and len(pending) >= 1  # the demo's community-fund gifts
    assert sum(by_owner.values()) == 0  # double entry: every point came from issuance
    assert raw["held"] == by_owner["system:hold"]
    assert raw["held"] == sum(v.points for v in issued) + sum(r.points for r in pending)
    assert rate == 10 and figures.fen_per_point == rate
    assert figures.outstanding_points == raw["wallets"] + raw["held"]
    assert figures.liability_fen == (raw["wallets"] + raw["held"]) * rate
    assert figures.budget_fen == sum(raw["budget"].values()) == 6_000_000 * 100
    assert raw["budget"]["city-fund"] == 5_000_000 * 100  # the seed's special fund
    for row in figures.sponsors:
        face, points = spent[row.code, "face"], spent[row.code, "points"]
        sink = int(by_owner.get(f"system:redemption:{row.code}", 0))
        assert sink == points  # the sponsor's redemption sink holds exactly its points
        assert (row.redeemed_fen, row.points_value_fen) == (face, points * rate)
        assert row.subsidy_fen == face - points * rate
        assert row.remaining_fen == raw["budget"][row.code] - face
    tmall = next(x for x in figures.sponsors if x.code == "tmall")
    assert (tmall.redeemed_fen, tmall.points_value_fen, tmall.subsidy_fen) == (5000, 4800, 200)
    redeemed = sum(n for (_, kind), n in spent.items() if kind == "face")
    assert figures.redeemed_fen == redeemed
    assert figures.remaining_fen == figures.budget_fen - redeemed
    assert figures.alert is (figures.liability_fen > figures.remaining_fen)
    assert_settlement_traces(sessions, report, used)
    assert_verifies(sessions, settings)


def assert_settlement_traces(
    sessions: sessionmaker[Session], report: Any, used: Sequence[Voucher]
) -> None:
    """Each line is a used voucher, and its ids name the ledger rows that moved its points."""
    assert sorted(line.voucher_code for line in report.lines) == sorted(v.code for v in used)
    assert sum(g.face_value_fen for g in report.groups) == sum(v.face_value_fen for v in used)
    assert sum(g.vouchers for g in report.groups) == len(used)
    with sessions() as s:
        for line in report.lines:
            v = s.scalars(select(Voucher).where(Voucher.code == line.voucher_code)).one()
            sponsor = s.get(Sponsor, v.sponsor_id)
            assert sponsor is not None and line.points == v.points
            assert line.face_value_fen == v.face_value_fen
            assert line.points_value_fen + line.subsidy_fen == line.face_value_fen
            held = s.scalars(select(Transfer).where(Transfer.id == line.hold_transfer_id)).one()
            post = s.scalars(select(Transfer).where(Transfer.id == line.post_transfer_id)).one()
            entry = s.scalars(select(Entry).where(Entry.id == line.wallet_entry_id)).one()
            wallet = s.get(Account, (entry.bucket, entry.account_id))
            sink = s.get(Account, (post.bucket, post.credit_account_id))
            assert wallet is not None and sink is not None
            assert wallet.owner == f"wallet:resident:{v.resident_id}"
            assert (held.amount, post.amount, entry.amount) == (v.points, v.points, -v.points)
            assert entry.transfer_id == held.id and held.debit_account_id == wallet.id
            assert sink.owner == f"system:redemption:{sponsor.code}"
    text = settlement_csv(report).decode("utf-8-sig")
    assert all(v.code in text for v in used) and "核销流水" in text
    sheet = load_workbook(io.BytesIO(settlement_xlsx(report))).active
    assert sheet is not None
    rows = [r for r in sheet.iter_rows(min_row=2, values_only=True) if r and r[2] and r[9]]
    assert sheet.cell(1, 5).value == "核销时间(北京时间) used_at"
    total = next(r for r in sheet.iter_rows(values_only=True) if r[0] == "合计 total")
    assert total[2] == len(report.lines)
    assert total[6] == sum(line.face_value_fen for line in report.lines)
    assert total[8] == sum(line.subsidy_fen for line in report.lines)
    beijing = [f"{line.used_at.astimezone(BUSINESS_TZ):%Y-%m-%d %H:%M:%S}" for line in report.lines]
    assert [r[4] for r in rows] == beijing
    assert [(r[2], r[5], r[6], r[9], r[10], r[11]) for r in rows] == [
        (
            line.voucher_code,
            line.points,
            line.face_value_fen,
            str(line.hold_transfer_id),
            str(line.wallet_entry_id),
            str(line.post_transfer_id),
        )
        for line in report.lines
    ]
