"""The schema stays Citus-shaped (DESIGN.md §5, §9): `bucket` leads every ledger key, and one
award, one expiry and one sequencer pass per bucket each touch a single bucket."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.kit.db import make_engine, transaction
from civicpoints.ledger.service import LedgerService, Movement
from civicpoints.models import metadata

T0 = datetime(2026, 3, 1, tzinfo=UTC)
# Ledger tables that are not bucketed by design: constants and the signing-key registry
# (Citus reference tables, replicated to every node).
REFERENCE_TABLES = {"ledger_meta", "ledger_signing_key"}


def ledger_tables() -> list[str]:
    """Every table of the ledger domain."""
    return sorted(t for t in metadata.tables if t.startswith("ledger_"))


def test_bucket_leads_every_primary_and_unique_key(db_url: str) -> None:
    """Read the migrated schema itself: a ledger key without `bucket` first is a failure."""
    engine = make_engine(db_url)
    schema = inspect(engine)
    offenders = []
    for table in ledger_tables():
        if table in REFERENCE_TABLES:
            continue
        keys: list[list[str | None]] = [
            list(schema.get_pk_constraint(table)["constrained_columns"])
        ]
        keys += [list(u["column_names"]) for u in schema.get_unique_constraints(table)]
        keys += [list(i["column_names"]) for i in schema.get_indexes(table) if i.get("unique")]
        offenders += [f"{table}{cols}" for cols in keys if not cols or cols[0] != "bucket"]
    engine.dispose()
    assert offenders == []
    assert len(ledger_tables()) - len(REFERENCE_TABLES) >= 10


def _rows_by_bucket(s: Session) -> dict[tuple[str, int], set[tuple[object, ...]]]:
    """Every bucketed ledger row, by (table, bucket), read back from the database."""
    out: dict[tuple[str, int], set[tuple[object, ...]]] = {}
    for name in ledger_tables():
        table = metadata.tables[name]
        if "bucket" not in table.c:
            continue
        for row in s.execute(select(table)).all():
            out.setdefault((name, row.bucket), set()).add(tuple(row))
    return out


def touched_buckets(sessions: sessionmaker[Session], work: Callable[[Session], object]) -> set[int]:
    """The buckets whose ledger rows `work` inserted, changed or deleted (compared in the
    database before and after, whatever way the rows were written)."""
    with transaction(sessions) as s:
        before = _rows_by_bucket(s)
        work(s)
        s.flush()
        after = _rows_by_bucket(s)
    return {
        b
        for key in before.keys() | after.keys()
        for b in [key[1]]
        if before.get(key) != after.get(key)
    }


def test_one_award_and_one_expiry_touch_one_bucket(sessions: sessionmaker[Session]) -> None:
    """An award writes rows of exactly one bucket; so does the expiry of a lot."""
    award = touched_buckets(
        sessions,
        lambda s: LedgerService(s).credit(
            "wallet:shape", Movement("award", 30, "r", "t", "t", T0, "k1"), T0 + timedelta(days=10)
        ),
    )
    assert len(award) == 1
    expiry = touched_buckets(
        sessions, lambda s: LedgerService(s).expire_due(T0 + timedelta(days=11))
    )
    assert expiry == award
