"""The credit hot path's statement count: unchanged for a wallet without debt, one lock more
(and, on SQLite, the repayment's rows) for a wallet that owes.

Counted below SQLAlchemy as bench/award_sqlite.py counts them (docs/performance.md): sqlite3's
trace callback sees every statement SQLite runs (each row of an executemany once); on
PostgreSQL every cursor execution is counted.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.kit.db import transaction
from civicpoints.ledger import LedgerService

from .test_clawback import award, claw, spend


@contextmanager
def counting(sessions: sessionmaker[Session]) -> Iterator[list[int]]:
    """Count the statements run on connections checked out inside the block."""
    seen = [0]
    engine: Any = sessions.kw["bind"]

    class Counting(psycopg.Cursor):
        def execute(self, *args: Any, **kwargs: Any) -> Any:
            seen[0] += 1
            return super().execute(*args, **kwargs)

    def tally(_sql: str) -> None:
        seen[0] += 1

    def checkout(dbapi_conn: Any, *_: Any) -> None:
        if isinstance(dbapi_conn, sqlite3.Connection):
            dbapi_conn.set_trace_callback(tally)
        else:
            dbapi_conn.cursor_factory = Counting

    def checkin(dbapi_conn: Any, *_: Any) -> None:
        if isinstance(dbapi_conn, sqlite3.Connection):
            dbapi_conn.set_trace_callback(None)
        else:
            dbapi_conn.cursor_factory = psycopg.Cursor

    event.listen(engine, "checkout", checkout)
    event.listen(engine, "checkin", checkin)
    try:
        yield seen
    finally:
        event.remove(engine, "checkout", checkout)
        event.remove(engine, "checkin", checkin)


def statements_of_a_credit(sessions: sessionmaker[Session], owner: str, key: str) -> int:
    """Statements one award of 20 to `owner` runs, in its own transaction."""
    with counting(sessions) as seen, transaction(sessions) as s:
        award(s, owner, 20, 100, key)
    return seen[0]


def test_a_credit_costs_no_more_without_debt(sessions: sessionmaker[Session]) -> None:
    """A wallet that never owed and one whose debt was repaid cost the same; one that owes
    costs its debt account's lock more (on SQLite also one row per repayment row written)."""
    with transaction(sessions) as s:
        for owner in ("wallet:never", "wallet:repaid", "wallet:owes"):
            award(s, owner, 10, 100, f"{owner}:warm")  # opens wallets, issuer, statement caches
        mine = award(s, "wallet:repaid", 30, 100, "repaid:a")
        spend(s, "wallet:repaid", 40, "repaid:h")
        owing = award(s, "wallet:owes", 90, 100, "owes:a")
        spend(s, "wallet:owes", 100, "owes:h")
    with transaction(sessions) as s:
        claw(s, "wallet:repaid", mine, 20, "repaid:c")
        claw(s, "wallet:owes", owing, 90, "owes:c")
    with transaction(sessions) as s:
        award(s, "wallet:repaid", 50, 100, "repaid:b")
        assert LedgerService(s).debt("wallet:repaid") == 0
        assert LedgerService(s).debt("wallet:owes") == 90
    plain = statements_of_a_credit(sessions, "wallet:never", "never:1")
    assert statements_of_a_credit(sessions, "wallet:repaid", "repaid:1") == plain
    owes = statements_of_a_credit(sessions, "wallet:owes", "owes:1")
    pg = sessions.kw["bind"].dialect.name == "postgresql"
    # PostgreSQL: lock, keys, one write (psycopg's BEGIN and COMMIT are no cursor executions;
    # the bench adds them); with debt, the debt account's lock.
    # SQLite: BEGIN, lock, keys, 1 transfer, 2 entries, 1 lot, 2 queue rows, 2 heads, COMMIT;
    # with debt: its lock, and the repayment's transfer, 2 entries, 2 queue rows, 1 lot use
    # and 1 more head.
    assert (plain, owes - plain) == ((3, 1) if pg else (12, 8))
