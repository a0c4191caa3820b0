"""How proofs read the log: whole-key node reads, the covering checkpoint, read-only requests."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import ClauseElement, event, insert, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.cli.city import City
from civicpoints.kit.db import make_read_session_factory, transaction
from civicpoints.kit.settings import Settings
from civicpoints.ledger import proofs
from civicpoints.ledger.keys import generate_signer
from civicpoints.ledger.models import Entry, LedgerMeta, LogHead
from civicpoints.ledger.proofs import NotYetCheckpointed, ProofService
from civicpoints.ledger.receipt import verify_receipt
from civicpoints.ledger.sequencer import GLOBAL_LOG, Sequencer
from civicpoints.ledger.service import LedgerService

from .test_api import login
from .test_receipts import earn_fifty, sequence
from .test_sequencer import ORIGIN, credit


def explain(session: Session, stmt: ClauseElement, params: dict[str, Any]) -> tuple[bool, str]:
    """Whether the engine is PostgreSQL, and its plan for a statement as one string."""
    dialect = session.get_bind().dialect
    sql = stmt.params(**params).compile(dialect=dialect, compile_kwargs={"literal_binds": True})
    postgres = dialect.name == "postgresql"
    if postgres:
        session.execute(text("SET LOCAL enable_seqscan = off"))  # the test tables are tiny
    rows = session.execute(text(("EXPLAIN " if postgres else "EXPLAIN QUERY PLAN ") + str(sql)))
    return postgres, "\n".join(str(r[0] if postgres else r[-1]) for r in rows)


def test_node_reads_probe_the_whole_primary_key(sessions: sessionmaker[Session]) -> None:
    """One statement for every node of a proof, and each probe uses (bucket, level, index)."""
    params = {"bucket": 0, "levels": [0, 3, 7], "indexes": [2, 5, 11], "pairs": [2, 3 << 32 | 5]}
    with transaction(sessions) as s:
        postgres, plan = explain(s, proofs._NODES, params)
    if postgres:
        cond = next(line for line in plan.splitlines() if "Index Cond" in line)
        assert all(k in cond for k in ("bucket = 0", "level = ANY", "node_index = ANY")), plan
    else:
        assert "(bucket=? AND level=? AND node_index=?)" in plan, plan


def test_covering_checkpoint_is_found_by_its_global_leaf(sessions: sessionmaker[Session]) -> None:
    """The bucket checkpoint and its global leaf are each found by a primary or unique key."""
    with transaction(sessions) as s:
        postgres, plan = explain(s, proofs._COVERING, {"bucket": 0, "prefix": "0:", "leaf": 3})
    if postgres:  # with no rows the planner may filter the few global leaves instead
        assert "pk_ledger_checkpoint" in plan and "uq_ledger_log_leaf_bucket_ref" in plan, plan
    else:
        assert "(bucket=? AND ref=?)" in plan and "(bucket=? AND size>?)" in plan, plan


def test_receipt_waits_for_the_global_log_then_verifies(sessions: sessionmaker[Session]) -> None:
    """A bucket checkpoint not yet in the global log is not used; an older one that is, is."""
    signer = generate_signer(ORIGIN)
    credit(sessions, 3)
    with transaction(sessions) as s:
        Sequencer(s, signer, ORIGIN).run(LedgerService(s).buckets())
        first = s.scalars(select(Entry).order_by(Entry.recorded_at)).first()
    credit(sessions, 3, start=3)
    with transaction(sessions) as s:  # the buckets grow, the global log does not (yet)
        for bucket in range(LedgerService(s).buckets()):
            Sequencer(s, signer, ORIGIN).run_bucket(bucket)
        late = s.scalars(select(Entry).order_by(Entry.recorded_at.desc())).first()
    assert first is not None and late is not None
    with transaction(sessions) as s:
        early = ProofService(s).receipt(first)
        with pytest.raises(NotYetCheckpointed):
            ProofService(s).receipt(late)
        Sequencer(s, signer, ORIGIN).run_global()
    with transaction(sessions) as s:
        receipts = [ProofService(s).receipt(first), ProofService(s).receipt(late)]
    for receipt in (early, *receipts):
        assert verify_receipt(receipt, [signer.verifier]).ok
    assert receipts[0]["global_leaf_index"] > early["global_leaf_index"]


@contextmanager
def write_lock_held(engine: Engine) -> Iterator[None]:
    """Another connection holds SQLite's write lock (as a sequencer pass or an award does),
    and the engine's connections give up at once instead of waiting `busy_timeout`."""
    event.listen(engine, "connect", lambda conn, _: conn.execute("PRAGMA busy_timeout = 0"))
    engine.dispose()  # connections made from now on have the listener
    writer = sqlite3.connect(str(engine.url.database), timeout=0)
    try:
        writer.execute("BEGIN IMMEDIATE")
        yield
    finally:
        writer.rollback()
        writer.close()


def test_read_only_session_takes_no_write_lock_and_writes_nothing(
    sessions: sessionmaker[Session],
) -> None:
    """SQLite: it reads while another connection writes; PostgreSQL: a write is refused."""
    engine = sessions.kw["bind"]
    readers = make_read_session_factory(engine)
    if engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="read-only"), transaction(readers) as s:
            s.execute(insert(LedgerMeta).values(key="x", value="y"))
        return
    meta = select(LedgerMeta.value).where(LedgerMeta.key == "buckets")
    with write_lock_held(engine):
        with transaction(readers) as s:
            assert s.scalar(meta)
        with pytest.raises(OperationalError, match="locked"), transaction(sessions) as s:
            s.scalar(meta)  # an ordinary session takes the write lock at BEGIN


def test_proof_endpoints_answer_while_a_writer_holds_the_lock(
    client: TestClient, city: City, settings: Settings
) -> None:
    """GETs of the ledger API (sign-in check included) do not queue behind a writer."""
    if not settings.resolved_database_url().startswith("sqlite"):
        pytest.skip("PostgreSQL readers never wait for writers")
    headers = earn_fifty(client, city)
    sequence(settings)
    auditor = login(client, "auditor")
    entry_id = client.get("/api/v1/me/ledger", headers=headers).json()[0]["id"]
    app = cast(FastAPI, client.app)
    with write_lock_held(app.state.engine):
        for path, who in (
            (f"/api/v1/ledger/entries/{entry_id}/proof", auditor),
            (f"/api/v1/me/ledger/{entry_id}/receipt", headers),
            ("/api/v1/ledger/checkpoints/latest", {}),
            ("/api/v1/ledger/keys", {}),
        ):
            assert client.get(path, headers=who).status_code == 200, path


def test_latest_checkpoints_come_from_the_heads(sessions: sessionmaker[Session]) -> None:
    """Each log's newest checkpoint, found by key from its head, not by scanning them all."""
    signer = generate_signer(ORIGIN)
    for start in (0, 3):
        credit(sessions, 3, start=start)
        with transaction(sessions) as s:
            Sequencer(s, signer, ORIGIN).run(LedgerService(s).buckets())
    engine = sessions.kw["bind"]
    seen: list[tuple[str, Any]] = []
    listener = lambda *a: seen.append((a[2], a[3]))  # noqa: E731 (statement, parameters)
    event.listen(engine, "before_cursor_execute", listener)
    try:
        with transaction(sessions) as s:
            latest = ProofService(s).latest()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    with transaction(sessions) as s:
        heads = {b: n for b, n in s.execute(select(LogHead.bucket, LogHead.size))}
    assert latest["global"]["size"] == heads.pop(GLOBAL_LOG)
    assert {b["bucket"]: b["size"] for b in latest["buckets"]} == heads
    if engine.dialect.name == "sqlite":  # PostgreSQL chooses by its statistics
        sql, params = next((q, p) for q, p in seen if "ledger_log_head" in q)
        with engine.connect() as conn:
            plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params).all()
        assert not any("SCAN ledger_checkpoint" in row[-1] for row in plan), plan
