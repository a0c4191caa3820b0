"""The tables the generator writes with COPY (their columns, in the order written: a row refers
only to rows of tables before it or already committed), the time-ordered ids, and the COPY."""

from __future__ import annotations

import random
import time
import uuid

import psycopg

from bench.city import people

Rows = dict[str, list[tuple]]

TABLES: dict[str, tuple[str, ...]] = {
    "identity_resident": people.COLUMNS,
    "ledger_account": (
        "bucket", "id", "owner", "kind", "may_go_negative", "balance", "entry_count",
        "head_hash", "created_at", "owed",
    ),
    "ledger_transfer": (
        "bucket", "id", "kind", "amount", "debit_account_id", "credit_account_id",
        "idempotency_key", "request_hash", "ref", "reason", "actor", "occurred_at", "recorded_at",
    ),
    "ledger_entry": (
        "bucket", "id", "account_id", "seq", "transfer_id", "kind", "amount", "balance_after",
        "counterparty_id", "ref", "reason", "actor", "occurred_at", "recorded_at", "prev_hash",
        "entry_hash", "expires_at",
    ),
    "ledger_lot": (
        "bucket", "id", "account_id", "entry_id", "amount", "remaining", "earned_at", "expires_at",
    ),
    "ledger_lot_use": ("bucket", "id", "lot_id", "entry_id", "amount"),
    "ledger_log_queue": ("bucket", "entry_id", "queued_at"),
    "ledger_carry": (
        "bucket", "id", "idempotency_key", "slice", "request_hash", "account_id", "lot_id",
        "in_transfer_id", "from_bucket", "from_account_id", "from_lot_id", "out_transfer_id",
        "amount", "earned_at", "expires_at", "extends", "created_at",
    ),
    "ledger_clawback": (
        "bucket", "id", "account_id", "award_transfer_id", "amount", "taken", "lapsed", "debt",
        "take_transfer_id", "take_entry_id", "debt_transfer_id", "idempotency_key",
        "request_hash", "ref", "reason", "actor", "created_at",
    ),
    "ledger_hold": (
        "bucket", "id", "account_id", "amount", "status", "sink", "idempotency_key", "ref",
        "hold_transfer_id", "hold_entry_id", "resolve_transfer_id", "expired_transfer_id",
        "expired_points", "timeout_at", "created_at", "resolved_at",
    ),
    "activity_participation": (
        "id", "activity_id", "resident_id", "source", "status", "checkin_at", "checkin_lat",
        "checkin_lon", "checkin_inside", "checkout_at", "checkout_lat", "checkout_lon",
        "started_at", "ended_at", "flags", "slip_no", "note", "recorded_by", "reviewed_by",
        "reviewed_at", "review_reason", "created_at", "flag_notes", "organization_id", "risk",
        "recheck_at",
    ),
    "hours_entry": (
        "id", "resident_id", "participation_id", "category", "minutes", "served_on", "reason",
        "recorded_at",
    ),
    "hours_correction": (
        "id", "participation_id", "seq", "resident_id", "kind", "category", "served_on",
        "minutes", "reason", "actor", "recorded_at",
    ),
    "scoring_award": (
        "id", "participation_id", "resident_id", "rule_set_id", "month", "category",
        "credited_minutes", "base", "awarded", "cut", "refusal", "explanation", "expires_at",
        "transfer_id", "created_at",
    ),
    "scoring_month_usage": ("resident_id", "month", "points"),
    "fraud_case": (
        "id", "resident_id", "participation_id", "region_id", "organization_id", "kind",
        "reason", "signals", "points_taken", "debt", "minutes_removed", "sanction",
        "suspended_until", "credit_record", "decided_by", "decided_at", "clawback_id",
    ),
    "rewards_redemption": (
        "id", "resident_id", "item_id", "quantity", "points", "face_value_fen", "status",
        "period_key", "idempotency_key", "hold_bucket", "hold_id", "child_id",
        "decision_reason", "decided_by", "decided_at", "created_at",
    ),
    "rewards_voucher": (
        "id", "code", "redemption_id", "item_id", "resident_id", "merchant_id", "sponsor_id",
        "points", "face_value_fen", "hold_bucket", "hold_id", "status", "valid_from",
        "valid_until", "used_at", "used_by", "used_merchant_id", "closed_at", "created_at",
    ),
    "rewards_voucher_event": (
        "id", "voucher_id", "kind", "actor", "merchant_id", "detail", "at",
    ),
    "rewards_booking": (
        "id", "sponsor_id", "redemption_id", "voucher_id", "merchant_id", "month", "points",
        "fen_per_point", "points_value_fen", "subsidy_fen", "face_value_fen",
        "hold_transfer_id", "wallet_entry_id", "post_transfer_id", "booked_at",
    ),
    "community_low_income": (
        "id", "resident_id", "community_id", "active", "reason", "set_by", "set_at",
    ),
    "community_donation": (
        "id", "resident_id", "community_id", "amount", "month", "idempotency_key",
        "request_hash", "ledger_key", "receipt_entry_id", "created_at",
    ),
    "community_board_optin": ("resident_id", "shown", "updated_at"),
    "community_allocation": (
        "id", "community_id", "resident_id", "amount", "reason", "staff_id", "idempotency_key",
        "request_hash", "ledger_key", "receipt_entry_id", "created_at",
    ),
}  # fmt: skip


def empty() -> Rows:
    """A batch with no rows yet, one list per table."""
    return {t: [] for t in TABLES}


def copy(conn: psycopg.Connection, out: Rows, counts: dict[str, int]) -> int:
    """COPY a batch in one transaction, table by table; adds to `counts`, returns the rows."""
    n = 0
    with conn.transaction(), conn.cursor() as cur:
        for table, cols in TABLES.items():
            rows = out[table]
            if not rows:
                continue
            with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as cp:
                for row in rows:
                    cp.write_row(row)
            counts[table] = counts.get(table, 0) + len(rows)
            n += len(rows)
    return n


class Uuid7:
    """Time-ordered UUIDv7s as `kit.ids.new_id` makes them (48-bit Unix milliseconds, version 7,
    variant 10), cheaper than uuid6's (a third of the generator's time went there): the 74
    random bits are a counter starting at the worker's own offset, so ids are unique across
    workers and strictly increasing within one (the log queue orders entries of one recorded
    time by id: the chains' order)."""

    def __init__(self, worker: int) -> None:
        self.counter = (worker << 66) | random.getrandbits(40)

    def __call__(self) -> uuid.UUID:
        self.counter += 1
        low = self.counter & ((1 << 74) - 1)
        ms = time.time_ns() // 1_000_000
        value = (ms << 80) | (0x7 << 76) | ((low >> 62) << 64) | (0b10 << 62) | (low & (2**62 - 1))
        return uuid.UUID(int=value)
