"""The demo's rewards: 张女士's voucher from her earned 480 points, and every budget, liability
and settlement figure recomputed independently from the ledger and voucher records."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.cli.demo import ZHANG_PHONE, load_demo
from civicpoints.cli.demo_rewards import SUBSIDISED_50
from civicpoints.identity.service import IdentityService
from civicpoints.kit.clock import month_key, utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings
from civicpoints.ledger.models import Account, Entry, Hold
from civicpoints.ledger.service import LedgerService
from civicpoints.rewards.budget import BudgetService, settlement_csv, settlement_xlsx
from civicpoints.rewards.models import Clerk, Item, Merchant, Sponsor, Voucher
from civicpoints.rewards.service import RedemptionService
from civicpoints.rewards.vouchers import VoucherService
from civicpoints.scoring.service import wallet_of
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


def test_demo_figures_add_up_to_the_ledger_and_vouchers(
    sessions: sessionmaker[Session], ctx: Context, settings: Settings
) -> None:
    """Liability = points in wallets and holds × 0.1 yuan; redeemed = used vouchers' face."""
    assert load_demo(sessions, ctx, residents=60, seed=7)
    zhang_redeems(sessions, ctx)
    with sessions() as s:
        figures = BudgetService(s).figures()
        report = BudgetService(s).settlement(month_key(utcnow()))
        wallet_points = s.scalar(
            select(func.sum(Entry.amount))
            .join(Account, (Account.bucket == Entry.bucket) & (Account.id == Entry.account_id))
            .where(Account.kind == "wallet")
        )
        held = s.scalar(select(func.sum(Hold.amount)).where(Hold.status == "pending")) or 0
        sunk = s.scalar(
            select(func.sum(Entry.amount))
            .join(Account, (Account.bucket == Entry.bucket) & (Account.id == Entry.account_id))
            .where(Account.owner.like("system:redemption:%"))
        )
        used = s.scalars(select(Voucher).where(Voucher.status == "used")).all()
        issued = s.scalars(select(Voucher).where(Voucher.status == "issued")).all()
        statuses = set(s.scalars(select(Voucher.status)).all())
        sponsors = {x.id: x for x in s.scalars(select(Sponsor))}
    assert {"used", "issued", "cancelled"} <= statuses and len(used) >= 5
    assert held == sum(v.points for v in issued)
    assert figures.outstanding_points == int(wallet_points or 0) + held
    assert figures.liability_fen == figures.outstanding_points * 10
    assert sunk == sum(v.points for v in used)
    face: dict[str, int] = defaultdict(int)
    for v in used:
        face[sponsors[v.sponsor_id].code] += v.face_value_fen
    for row in figures.sponsors:
        assert row.redeemed_fen == face.get(row.code, 0)
        assert row.remaining_fen == row.budget_fen - row.redeemed_fen
    tmall = next(x for x in figures.sponsors if x.code == "tmall")
    assert (tmall.redeemed_fen, tmall.points_value_fen, tmall.subsidy_fen) == (5000, 4800, 200)
    assert figures.budget_fen == (5_000_000 + 500_000 + 300_000 + 200_000) * 100
    assert figures.remaining_fen == figures.budget_fen - sum(face.values())
    assert figures.alert is (figures.liability_fen > figures.remaining_fen)
    assert len(report.lines) == len(used)
    assert {line.voucher_code for line in report.lines} == {v.code for v in used}
    assert sum(g.face_value_fen for g in report.groups) == sum(face.values())
    assert sum(g.vouchers for g in report.groups) == len(used)
    text = settlement_csv(report).decode("utf-8-sig")
    assert all(v.code in text for v in used) and "核销流水" in text
    assert settlement_xlsx(report).startswith(b"PK")
    assert_verifies(sessions, settings)
