"""Carries (transfers that keep lots): every carried lot against the lot it came from.

A carry slice is an index of two transfers (source → transit, transit → target) and two lots
(the source lot it took from, the lot it opened). Here: the amounts agree everywhere, the
source lot's use by the out-transfer is the slice, and the new lot's expiry is the source
lot's — or, when the row names a rule (`extends`), exactly what that rule gives from the
points' first earning, itself checked against the source. A lot opened from a transit account
without a carry row is points of unknown life; the transit accounts together sum to zero.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from civicpoints.kit.clock import as_utc
from civicpoints.ledger import chain, lifetimes
from civicpoints.ledger.accounts import TRANSIT
from civicpoints.ledger.verification.faults import Findings, fault
from civicpoints.ledger.verification.source import Reader
from civicpoints.ledger.verification.streams import as_uuid

# What each carry's source lot gave to the carry's outgoing transfer: the uses of the lots that
# carries name, summed per lot and transfer in one grouped pass (a hash join), joined to the
# carries. A subquery per carry found a lot's uses by scanning its bucket's (no index leads
# with `lot_id`): 71,384 carries × 24,000 uses at 1,000,000 residents took ~8 minutes of the
# server's CPU, quadratic in the city (bench/notes.md).
_USED = (
    "SELECT u.bucket, u.lot_id, oe.transfer_id, sum(u.amount) AS used "
    "FROM ledger_lot_use u JOIN ledger_entry oe ON oe.bucket = u.bucket AND oe.id = u.entry_id "
    "WHERE EXISTS (SELECT 1 FROM ledger_carry k "
    "WHERE k.from_bucket = u.bucket AND k.from_lot_id = u.lot_id) "
    "GROUP BY u.bucket, u.lot_id, oe.transfer_id"
)
_CARRIES = (
    "SELECT c.bucket, c.id, c.account_id, c.lot_id, c.amount, c.expires_at, c.earned_at, "
    "c.extends, c.from_bucket, c.from_account_id, "
    "nl.amount, nl.account_id, nl.expires_at, ie.transfer_id, c.in_transfer_id, "
    "it.amount, it.debit_account_id, it.credit_account_id, "
    "ot.amount, ot.debit_account_id, ot.credit_account_id, "
    "sl.account_id, sl.expires_at, sl.earned_at, pc.earned_at, "
    "CAST(us.used AS BIGINT) "
    "FROM ledger_carry c "
    "LEFT JOIN ledger_lot nl ON nl.bucket = c.bucket AND nl.id = c.lot_id "
    "LEFT JOIN ledger_entry ie ON ie.bucket = nl.bucket AND ie.id = nl.entry_id "
    "LEFT JOIN ledger_transfer it ON it.bucket = c.bucket AND it.id = c.in_transfer_id "
    "LEFT JOIN ledger_transfer ot ON ot.bucket = c.from_bucket AND ot.id = c.out_transfer_id "
    "LEFT JOIN ledger_lot sl ON sl.bucket = c.from_bucket AND sl.id = c.from_lot_id "
    "LEFT JOIN ledger_carry pc ON pc.bucket = c.from_bucket AND pc.lot_id = c.from_lot_id "
    f"LEFT JOIN ({_USED}) us ON us.bucket = c.from_bucket AND us.lot_id = c.from_lot_id "
    "AND us.transfer_id = c.out_transfer_id "
    "ORDER BY c.bucket, c.id"
)
_UNBACKED = (
    "SELECT l.bucket, l.id, l.account_id FROM ledger_lot l "
    "JOIN ledger_entry e ON e.bucket = l.bucket AND e.id = l.entry_id "
    "JOIN ledger_account a ON a.bucket = e.bucket AND a.id = e.counterparty_id "
    "LEFT JOIN ledger_carry c ON c.bucket = l.bucket AND c.lot_id = l.id "
    f"WHERE a.owner = 'system:{TRANSIT}' AND c.id IS NULL ORDER BY l.bucket, l.id"
)
_TRANSIT_SUM = (
    "SELECT CAST(coalesce(sum(e.amount), 0) AS BIGINT) FROM ledger_entry e "
    "JOIN ledger_account a ON a.bucket = e.bucket AND a.id = e.account_id "
    f"WHERE a.owner = 'system:{TRANSIT}'"
)


def _when(raw: Any) -> datetime | None:
    """A stored time (SQLite's text, PostgreSQL's timestamptz) as aware UTC."""
    if raw is None:
        return None
    value = raw if isinstance(raw, datetime) else datetime.fromisoformat(str(raw))
    return as_utc(value)


def _transit(bucket: int) -> uuid.UUID:
    """The id of a bucket's transit account."""
    return uuid.uuid5(chain.ACCOUNT_NAMESPACE, f"system:{TRANSIT}#{bucket}")


def _same(a: Any, b: Any) -> bool:
    """Two raw ids name the same row (either may be missing: then not)."""
    return a is not None and b is not None and as_uuid(a) == as_uuid(b)


class Carries:
    """The carry checks, reading through one snapshot."""

    def __init__(self, reader: Reader, found: Findings) -> None:
        self.reader, self.found = reader, found

    def check(self) -> None:
        """Every carry row, every lot from transit without one, the transit zero sum."""
        for row in self.reader.rows(_CARRIES):
            self.check_row(row)
        for bucket, lot_id, account_id in self.reader.rows(_UNBACKED):
            where = {"bucket": bucket, "account_id": as_uuid(account_id)}
            self.found.add(fault("carry.unbacked", **where, lot_id=as_uuid(lot_id)))
        total = int(self.reader.scalar(_TRANSIT_SUM) or 0)
        if total:
            self.found.add(fault("carry.transit", total=total))

    def check_row(self, row: Any) -> None:
        """One slice against its transfers, its source lot and the lot it opened."""
        bucket, _cid, account, lot_id = row[:4]
        where: dict[str, Any] = {"bucket": bucket, "account_id": as_uuid(account)}
        if not _sound(row):
            self.found.add(fault("carry.record", **where, lot_id=as_uuid(lot_id)))
            return
        expires, earned, extends = _when(row[5]), _when(row[6]), row[7]
        source_expires, source_earned = _when(row[22]), _when(row[24]) or _when(row[23])
        assert source_expires is not None and earned is not None
        try:  # the rule recorded with the slice: kept, "months:N" or "year_end:MM-DD"
            expected, known = lifetimes.rule_expiry(extends, source_expires, earned), True
        except ValueError:
            expected, known = source_expires, False
        new_expires = _when(row[12])
        if not known or earned != source_earned or expected != expires or new_expires != expected:
            self.found.add(
                fault(
                    "carry.expiry",
                    **where,
                    lot_id=as_uuid(lot_id),
                    found=str(new_expires),
                    expected=str(expected),
                )
            )


def _sound(row: Any) -> bool:
    """The slice's amounts and accounts agree with its lots and transfers."""
    bucket, _cid, account, _lot, amount, _e, _r, _x, from_bucket, from_account = row[:10]
    nl_amount, nl_account, _ne, in_entry_transfer, in_transfer = row[10:15]
    it_amount, it_debit, it_credit, ot_amount, ot_debit, ot_credit = row[15:21]
    sl_account, used = row[21], row[25]
    return bool(
        amount > 0
        and nl_amount == amount
        and _same(nl_account, account)
        and _same(in_entry_transfer, in_transfer)
        and it_amount == amount
        and _same(it_debit, _transit(bucket))
        and _same(it_credit, account)
        and ot_amount == amount
        and _same(ot_debit, from_account)
        and _same(ot_credit, _transit(from_bucket))
        and _same(sl_account, from_account)
        and used == amount
    )
