"""The transfers recorded in a window, each named by what it does to points in circulation:
the feed that analytics roll up (insights), read in pages by (recorded_at, id)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, Subquery, and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from civicpoints.ledger.models import Account, Hold, Transfer
from civicpoints.ledger.repository import flow_case

TRANSIT_OWNER = "system:transit"
HOLD_OWNER = "system:hold"
# The flows whose account is the transfer's credit side (the others: its debit side).
CREDIT_SIDE = frozenset({"issued", "restored", "carried_in"})


@dataclass(frozen=True)
class FlowRow:
    """One transfer that changes the points an owner holds: `owner` is the user account's
    owner name (a wallet, a pool, ...), `flow` one of issued, redeemed, expired, clawed,
    restored, carried_out, carried_in (carries pass through the transit accounts)."""

    id: uuid.UUID
    recorded_at: datetime
    occurred_at: datetime
    kind: str
    flow: str
    amount: int
    owner: str


def _flows(columns: bool = False) -> tuple[Select[Any], Any]:
    """The transfers that move points in or out of a user account, with their flow (the
    statement the readers filter): the `Transfer` row, the flow and both candidate owners;
    with `columns`, the columns of a `FlowRow` instead, the owner chosen in SQL."""
    debit, credit, held = aliased(Account), aliased(Account), aliased(Account)
    resolved, expired = aliased(Hold), aliased(Hold)
    flow = case(
        (credit.owner == TRANSIT_OWNER, "carried_out"),
        (debit.owner == TRANSIT_OWNER, "carried_in"),
        else_=flow_case(debit, credit),
    )
    from_hold = debit.owner == HOLD_OWNER
    debit_owner = func.coalesce(held.owner, debit.owner)
    picked: tuple[Any, ...] = (Transfer, flow, debit_owner, credit.owner)
    if columns:
        owner = case((flow.in_(sorted(CREDIT_SIDE)), credit.owner), else_=debit_owner)
        picked = (
            Transfer.id, Transfer.recorded_at, Transfer.occurred_at, Transfer.kind,
            flow.label("flow"), Transfer.amount, owner.label("owner"),
        )  # fmt: skip
    stmt = (
        select(*picked)
        .join(debit, (debit.bucket == Transfer.bucket) & (debit.id == Transfer.debit_account_id))
        .join(
            credit, (credit.bucket == Transfer.bucket) & (credit.id == Transfer.credit_account_id)
        )
        # A redemption is posted from the hold account: the wallet is the hold's. One join per
        # column, each on its index (`… = id OR … = id` in one join scanned every hold per
        # page: a rebuild of a city with redemptions ran 5× slower).
        .outerjoin(
            resolved,
            from_hold
            & (resolved.bucket == Transfer.bucket)
            & (resolved.resolve_transfer_id == Transfer.id),
        )
        .outerjoin(
            expired,
            from_hold
            & (expired.bucket == Transfer.bucket)
            & (expired.expired_transfer_id == Transfer.id),
        )
        .outerjoin(
            held,
            (held.bucket == Transfer.bucket)
            & (held.id == func.coalesce(resolved.account_id, expired.account_id)),
        )
        .where(flow.is_not(None))
    )
    return stmt, flow


def _rows(session: Session, stmt: Select[Any]) -> list[FlowRow]:
    rows = []
    for t, f, d_owner, c_owner in session.execute(stmt).all():
        owner = c_owner if f in CREDIT_SIDE else d_owner
        rows.append(FlowRow(t.id, t.recorded_at, t.occurred_at, t.kind, str(f), t.amount, owner))
    return rows


def flows_recorded(
    session: Session,
    since: datetime,
    until: datetime,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[FlowRow]:
    """Transfers recorded in [since, until) that move points in or out of a user account,
    in (recorded_at, id) order after the keyset `after`; at most `limit`."""
    stmt, _ = _flows()
    stmt = (
        stmt.where(Transfer.recorded_at >= since, Transfer.recorded_at < until)
        .order_by(Transfer.recorded_at, Transfer.id)
        .limit(limit)
    )
    if after is not None:
        at, last = after
        stmt = stmt.where(
            or_(Transfer.recorded_at > at, and_(Transfer.recorded_at == at, Transfer.id > last))
        )
    return _rows(session, stmt)


def flows_between(since: datetime, until: datetime) -> Subquery:
    """The flows recorded in [since, until) as a subquery with a `FlowRow`'s columns, for
    readers that aggregate in SQL (insights' set-based rebuild); the same rows as
    `flows_recorded` pages through."""
    stmt, _ = _flows(columns=True)
    return stmt.where(Transfer.recorded_at >= since, Transfer.recorded_at < until).subquery()


def flows_of(session: Session, transfers: Sequence[tuple[int, uuid.UUID]]) -> list[FlowRow]:
    """The flows of the given transfers, by (bucket, id): those that move points of a user
    account. Both `IN` lists are on the primary key (a probe, never a scan); the pairs are
    checked exactly here."""
    if not transfers:
        return []
    wanted = set(transfers)
    stmt, _ = _flows()
    stmt = stmt.where(
        Transfer.bucket.in_(sorted({b for b, _ in wanted})),
        Transfer.id.in_(sorted({t for _, t in wanted})),
    ).add_columns(Transfer.bucket)
    rows = []
    for t, f, d_owner, c_owner, bucket in session.execute(stmt.order_by(Transfer.id)).all():
        if (bucket, t.id) in wanted:
            owner = c_owner if f in CREDIT_SIDE else d_owner
            rows.append(
                FlowRow(t.id, t.recorded_at, t.occurred_at, t.kind, str(f), t.amount, owner)
            )
    return rows
