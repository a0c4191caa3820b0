"""`ledger verify` on a sound ledger: no faults on either engine, and the command exits 0."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings
from civicpoints.ledger.keys import generate_signer, log_signer
from civicpoints.ledger.models import Entry, LogLeaf, LogQueue, Lot
from civicpoints.ledger.note import Signer
from civicpoints.ledger.proofs import ProofService
from civicpoints.ledger.service import LedgerService, Movement, Posting
from civicpoints.ledger.tasks import sequence_once
from civicpoints.ledger.verify import verify_ledger
from civicpoints.ledger.witness import cosign_latest

T0 = datetime(2026, 3, 1, 2, 30, tzinfo=UTC)
# (label, wallet, points, days valid) in the order awarded; a1 alone expires on day 30.
FIRST = [
    ("a1", "a", 10, 30),
    ("b1", "b", 20, 400),
    ("a2", "a", 30, 400),
    ("c1", "c", 15, 400),
    ("a3", "a", 40, 400),
    ("d1", "d", 25, 400),
]
LATER = [("b2", "b", 5, 400), ("e1", "e", 50, 400)]


def award(
    sessions: sessionmaker[Session], plan: list[tuple[str, str, int, int]]
) -> dict[str, Posting]:
    """Credit each (label, wallet, points, days) of `plan` in one transaction."""
    with transaction(sessions) as s:
        ledger = LedgerService(s)
        return {
            label: ledger.credit(
                f"wallet:{wallet}",
                Movement("award", points, f"ref:{label}", "志愿服务 volunteering", "t", T0, label),
                T0 + timedelta(days=days),
            )
            for label, wallet, points, days in plan
        }


def build_ledger(
    sessions: sessionmaker[Session], signer: Signer, origin: str
) -> dict[str, Posting]:
    """Awards, a sequencer pass, an expiry run, more awards, another pass: all signed."""
    postings = award(sessions, FIRST)
    sequence_once(sessions, signer, origin)
    with transaction(sessions) as s:
        assert LedgerService(s).expire_due(T0 + timedelta(days=45)).points == 10
    postings |= award(sessions, LATER)
    sequence_once(sessions, signer, origin)
    return postings


def latest_notes(sessions: sessionmaker[Session]) -> list[str]:
    """The latest global and bucket checkpoints, as an auditor saves them."""
    with transaction(sessions) as s:
        latest = ProofService(s).latest()
    return [latest["global"]["note"], *(b["note"] for b in latest["buckets"])]


def test_sound_ledger_has_no_faults(sessions: sessionmaker[Session], settings: Settings) -> None:
    """Credits, an expiry, two passes and a still-queued award: zero faults, every row read."""
    signer = generate_signer(settings.ledger_origin)
    build_ledger(sessions, signer, settings.ledger_origin)
    saved = latest_notes(sessions)
    award(sessions, [("c2", "c", 7, 400)])  # recorded, not yet sequenced: queued is fine
    seen: dict[str, tuple[int, int]] = {}
    with sessions() as s:
        report = verify_ledger(
            s, [signer.verifier], lambda p, d, t: seen.__setitem__(p, (d, t)), trusted=saved
        )
        entries = s.scalar(select(func.count()).select_from(Entry))
        assert s.scalar(select(func.count()).select_from(LogQueue)) == 2
        leaves = s.scalar(select(func.count()).select_from(LogLeaf))
        lots = s.scalar(select(func.count()).select_from(Lot))
    assert report.ok and report.faults == [], [str(f) for f in report.faults]
    assert report.counts["entries"] == entries == 2 * (len(FIRST) + len(LATER) + 1 + 1)
    assert (report.counts["log"], report.counts["lots"]) == (leaves, lots)
    assert seen.keys() == {"entries", "lots", "transfers", "log"}
    assert all(done == total for done, total in seen.values())
    assert report.entries_per_second() > 0


def test_checkpoint_signatures_and_witnesses(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    """Only the given keys count; `required=2` holds once a witness has cosigned."""
    signer = generate_signer(settings.ledger_origin)
    build_ledger(sessions, signer, settings.ledger_origin)
    stranger, witness = generate_signer("stranger.example"), generate_signer("witness.example")
    with sessions() as s:
        unknown = verify_ledger(s, [stranger.verifier])
        alone = verify_ledger(s, [signer.verifier, witness.verifier], required=2)
    with transaction(sessions) as s:
        cosign_latest(s, witness, [signer.verifier])
    with sessions() as s:
        witnessed = verify_ledger(s, [signer.verifier, witness.verifier], required=2)
    assert unknown.kinds().keys() == {"checkpoint.signature"}
    assert unknown.total_faults == unknown.counts["checkpoints"]
    assert [f.kind for f in alone.faults] == ["checkpoint.unwitnessed"]
    assert witnessed.ok, [str(f) for f in witnessed.faults]


def test_cli_ledger_verify(
    sessions: sessionmaker[Session],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """`civicpoints ledger verify` exits 0 on a sound ledger, 1 when the keys do not match."""
    from civicpoints.cli.main import app
    from civicpoints.kit.settings import get_settings

    from ..conftest import PII_KEY

    signer = log_signer(settings)  # the key the command finds under var/ and in the key table
    build_ledger(sessions, signer, settings.ledger_origin)
    saved = tmp_path / "latest.json"
    with transaction(sessions) as s:
        saved.write_text(json.dumps(ProofService(s).latest()), encoding="utf-8")
    monkeypatch.setenv("CIVICPOINTS_DATABASE_URL", settings.resolved_database_url())
    monkeypatch.setenv("CIVICPOINTS_PII_KEY", PII_KEY)
    monkeypatch.setenv("CIVICPOINTS_VAR_DIR", str(settings.var_dir))
    stranger = generate_signer(settings.ledger_origin).verifier.vkey()
    get_settings.cache_clear()
    try:
        plain = CliRunner().invoke(app, ["ledger", "verify"])
        pinned = CliRunner().invoke(
            app,
            [
                "ledger",
                "verify",
                "--public-key",
                signer.verifier.vkey(),
                "--checkpoint",
                str(saved),
            ],
        )
        wrong = CliRunner().invoke(app, ["ledger", "verify", "--public-key", stranger])
    finally:
        get_settings.cache_clear()
    assert plain.exit_code == 0 and "ledger verified" in plain.output, plain.output
    assert "entries 18" in plain.output
    assert pinned.exit_code == 0, pinned.output
    assert wrong.exit_code == 1 and "checkpoint.signature" in wrong.output, wrong.output


def test_verify_takes_no_write_lock(sessions: sessionmaker[Session], settings: Settings) -> None:
    """SQLite: awards commit while verify runs (it reads a snapshot); it still sees none of them."""
    signer = generate_signer(settings.ledger_origin)
    build_ledger(sessions, signer, settings.ledger_origin)
    written: list[str] = []

    def write_meanwhile(phase: str, done: int, total: int) -> None:
        if phase not in written:  # one award per phase, each committed at once
            award(sessions, [(f"w{len(written)}", "z", 1, 400)])
            written.append(phase)

    for parallel in (False, True):
        written.clear()
        with sessions() as s:
            before = s.scalar(select(func.count()).select_from(Entry))
        with sessions() as s:  # not begun: verify opens its own read-only snapshot
            report = verify_ledger(s, [signer.verifier], write_meanwhile, parallel=parallel)
        assert report.ok, [str(f) for f in report.faults]
        assert len(written) == 4
        if not parallel:  # one snapshot: none of the awards made meanwhile
            assert report.counts["entries"] == before


def test_the_leaves_join_is_not_planned_quadratic(sessions: sessionmaker[Session]) -> None:
    """A bucket log's leaves are joined to their entries inside a cursor read to its end. On
    PostgreSQL the verification plans its cursors for every row: planned for the first tenth
    (the default), the join on `e.id::text = l.ref` became a nested loop comparing every
    leaf with every entry of its bucket — `ledger verify` of a generated 20,000-resident city
    took 69–76 s instead of 6–7 s, and 583 entries/s at 200,000 (bench/notes.md). On SQLite
    each leaf probes its entry's primary key."""
    from civicpoints.ledger.verification.leaves import _bucket_leaves_sql
    from civicpoints.ledger.verification.source import Reader

    with transaction(sessions) as s:
        reader = Reader(s.connection())
        sql = _bucket_leaves_sql(reader.dialect)
        if reader.pg:
            fraction = reader.scalar("SELECT current_setting('cursor_tuple_fraction')")
            assert float(fraction) == 1.0
        else:
            plan = " ".join(str(r[-1]) for r in reader.rows(f"EXPLAIN QUERY PLAN {sql}", (0,)))
            assert "SEARCH e USING PRIMARY KEY" in plan or "SEARCH e USING INDEX" in plan, plan


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_the_carries_check_reads_lot_uses_in_one_pass_not_one_per_carry(
    sessions: sessionmaker[Session],
) -> None:
    """`ledger verify` checks what each carry's source lot gave from one grouped read of the
    carried lots' uses, joined to the carries: no subquery per carry. A subquery per carry
    found a lot's uses by scanning its bucket's (quadratic in the city: ~8 minutes of the
    server's CPU at 1,000,000 residents, bench/notes.md)."""
    from civicpoints.ledger.verification import carries

    with transaction(sessions) as s:
        plan = "\n".join(r[0] for r in s.execute(text(f"EXPLAIN {carries._CARRIES}")).all())
    assert "SubPlan" not in plan, plan
