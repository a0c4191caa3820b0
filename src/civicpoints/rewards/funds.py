"""A community's own pool pays for a 社区基金 (community fund) item.

A volunteer team's pool (积分挑战赛 points) is spent only on community items, decided by the
community's staff (the caller checks who). Rewards takes the stock under the item's lock and
moves the points through the ledger as a resident's entitlement would end: held from the pool
and posted at once to the sponsor's redemption sink, and books the value against the sponsor's
budget (a `Booking` without a resident's redemption), so the sink, the budget and the
settlement still add up. No new path around the journal. Never commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from civicpoints.kit.clock import as_utc, month_key, utcnow
from civicpoints.ledger import Hold, HoldRequest, HoldService, InsufficientPoints, Resolution
from civicpoints.rewards import rules
from civicpoints.rewards.catalog import CatalogService
from civicpoints.rewards.errors import ItemNotFound, NotYet, OutOfStock, OutsideRegion, Unavailable
from civicpoints.rewards.models import Booking, Category, Item
from civicpoints.rewards.repository import RewardsRepository

HOLD_MINUTES = 5  # posted in the same transaction; the timeout only bounds a crash


@dataclass(frozen=True)
class FundOrder:
    """`quantity` of a community-fund item paid from `owner` (a ledger account name)."""

    owner: str
    item_id: uuid.UUID
    quantity: int
    ref: str
    reason: str
    actor: str
    idempotency_key: str
    region_ids: Collection[str]  # the paying community and the regions above it


def community_items(session: Session, region_ids: Collection[str]) -> list[Item]:
    """Active community-fund items offered in one of `region_ids` (or everywhere)."""
    items = RewardsRepository(session).items(Category.COMMUNITY_FUND, None, True, None, 100)
    wanted = set(region_ids)
    return [i for i in items if i.active and (not i.region_ids or wanted & set(i.region_ids))]


def fund_item(session: Session, order: FundOrder) -> tuple[Item, Hold]:
    """Take the stock and pay for it from the pool (hold, then post to the sponsor's sink)."""
    repo = RewardsRepository(session)
    item = repo.item(order.item_id, lock=True)  # serializes payers of one item (and its stock)
    if item is None or item.category != Category.COMMUNITY_FUND:
        raise ItemNotFound(field="item_id")
    now = utcnow()
    _check_open(item, now, order.region_ids)
    if item.stock_remaining < order.quantity:
        raise OutOfStock(field="quantity", left=item.stock_remaining)
    total = item.price_points * order.quantity
    holds = HoldService(session)
    available = holds.available(order.owner, now)
    if available < total:  # said before anything is written; `place` checks again locked
        raise InsufficientPoints(available=available, needed=total)
    sponsor = repo.sponsor(item.sponsor_id)
    assert sponsor is not None
    hold = holds.place(
        HoldRequest(
            owner=order.owner, amount=total, ref=order.ref, reason=order.reason[:500],
            actor=order.actor, idempotency_key=order.idempotency_key,
            timeout_at=now + _minutes(HOLD_MINUTES), sink=sponsor.code,
        )
    )  # fmt: skip
    hold = holds.post(hold.bucket, hold.id, Resolution(order.reason[:500], order.actor))
    item.stock_remaining -= order.quantity
    _book(session, item, order.quantity, hold)
    return item, hold


def _book(session: Session, item: Item, quantity: int, hold: Hold) -> None:
    """Book the posted value against the item's sponsor: points value plus subsidy = face."""
    assert hold.resolve_transfer_id is not None
    when = hold.resolved_at or utcnow()
    rate = CatalogService(session).fen_per_point(when)
    face = item.face_value_fen * quantity
    value, subsidy = rules.split_value(hold.amount, rate, face)
    RewardsRepository(session).add(
        Booking(
            sponsor_id=item.sponsor_id, redemption_id=None, voucher_id=None, merchant_id=None,
            month=month_key(when), points=hold.amount, fen_per_point=rate,
            points_value_fen=value, subsidy_fen=subsidy, face_value_fen=face,
            hold_transfer_id=hold.hold_transfer_id, wallet_entry_id=hold.hold_entry_id,
            post_transfer_id=hold.resolve_transfer_id,
        )
    )  # fmt: skip


def _check_open(item: Item, now: datetime, region_ids: Collection[str]) -> None:
    """Refuse an item withdrawn, not yet open, ended, or for other regions."""
    if not item.active or as_utc(item.valid_until) <= now:
        raise Unavailable(field="item_id")
    if as_utc(item.valid_from) > now:
        raise NotYet(field="item_id", valid_from=as_utc(item.valid_from).isoformat())
    if item.region_ids and not set(item.region_ids) & set(region_ids):
        raise OutsideRegion(field="item_id")


def _minutes(n: int) -> timedelta:
    return timedelta(minutes=n)
