"""Processes in production: the background work runs in one process of many, and stops cleanly.

The three-process test starts real `civicpoints worker` processes against one PostgreSQL
database, posts awards while they run, stops the leader gracefully and kills the next one
outright, and then checks each scheduled job ran once per period, by one leader at a time, the
Merkle logs have every entry once and no gaps, and `civicpoints ledger verify` passes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from civicpoints.cli.main import app as cli_app
from civicpoints.jobs import Background, JobRun, scheduled_jobs
from civicpoints.kit.clock import utcnow
from civicpoints.kit.db import make_engine, transaction
from civicpoints.kit.migrate import downgrade, upgrade
from civicpoints.kit.settings import Settings
from civicpoints.ledger import LedgerService, Movement, VerifyReport, log_signer
from civicpoints.ledger.models import CheckpointRow, Entry, LogHead, LogLeaf
from civicpoints.ledger.sequencer import Sequencer
from civicpoints.ledger.tasks import register_key

from ..conftest import PII_KEY

CLI = str(Path(sys.executable).with_name("civicpoints"))
JOBS_EVERY_S = 2.0


def award(sessions: sessionmaker[Session], n: int) -> None:
    """One award of 10 points to a resident's wallet (the ledger's own credit path)."""
    now = utcnow()
    with transaction(sessions) as s:
        LedgerService(s).credit(
            f"wallet:r{n % 37}",
            Movement("award", 10, f"rec-{n}", "service", "staff:t", now, f"award-{n}"),
            now + timedelta(days=365),
        )


def worker_env(settings: Settings) -> dict[str, str]:
    """What a worker of this test reads: the test database, its var dir, short intervals."""
    return {
        **os.environ,
        "CIVICPOINTS_DATABASE_URL": settings.resolved_database_url(),
        "CIVICPOINTS_VAR_DIR": str(settings.var_dir),
        "CIVICPOINTS_PII_KEY": PII_KEY,
        "CIVICPOINTS_SEQUENCER_INTERVAL_S": "0.2",
        "CIVICPOINTS_SCHEDULER_ENABLED": "true",
        "CIVICPOINTS_JOBS_EVERY_S": str(JOBS_EVERY_S),
        "CIVICPOINTS_LEADER_POLL_S": "0.3",
        "CIVICPOINTS_SHUTDOWN_GRACE_S": "20",
        "PYTHONUNBUFFERED": "1",
    }


def wait_started(logs: list[Path], timeout: float = 300) -> None:
    """Until every worker says it started (imports take long on a loaded 2-core machine)."""
    deadline = time.monotonic() + timeout
    while not all("worker started" in f.read_text() for f in logs):
        assert time.monotonic() < deadline, [f.read_text() for f in logs]
        time.sleep(0.2)


def runs(sessions: sessionmaker[Session]) -> list[JobRun]:
    with transaction(sessions) as s:
        return list(s.scalars(select(JobRun).order_by(JobRun.started_at)))


def leader_pid(sessions: sessionmaker[Session], not_in: set[int], timeout: float = 60) -> int:
    """The pid of the process that recorded the newest job run, once it is not in `not_in`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [r for r in runs(sessions) if r.runner]
        if done and (pid := int(done[-1].runner.rsplit(":", 1)[1])) not in not_in:  # type: ignore[union-attr]
            return pid
        time.sleep(0.2)
    raise AssertionError("no (new) leader ran a job")


def queue_empty(sessions: sessionmaker[Session], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with transaction(sessions) as s:
            if not s.scalar(text("SELECT count(*) FROM ledger_log_queue")):
                return
        time.sleep(0.2)
    raise AssertionError("the sequencer left entries queued")


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_three_workers_one_leader_each_job_once_and_no_gaps(
    settings: Settings, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    """Three worker processes: one leads, a graceful stop and a crash hand the lead on."""
    log_signer(
        settings
    )  # the log key every worker shares (production: CIVICPOINTS_LEDGER_KEY_FILE)
    env = worker_env(settings)
    logs = [tmp_path / f"worker{i}.log" for i in range(3)]
    procs = [
        subprocess.Popen([CLI, "worker"], env=env, stdout=f.open("w"), stderr=subprocess.STDOUT)
        for f in logs
    ]
    by_pid = {p.pid: p for p in procs}
    wait_started(logs)
    posted = 0
    stop_posting = threading.Event()

    def post() -> None:
        nonlocal posted
        while not stop_posting.is_set():
            award(sessions, posted)
            posted += 1
            time.sleep(0.02)

    poster = threading.Thread(target=post)
    poster.start()
    try:
        first = leader_pid(sessions, set())
        time.sleep(2 * JOBS_EVERY_S)
        by_pid[first].send_signal(signal.SIGTERM)  # graceful: passes and jobs under way finish
        assert by_pid[first].wait(60) == 0
        second = leader_pid(sessions, {first})
        time.sleep(2 * JOBS_EVERY_S)
        by_pid[second].kill()  # a crash: its connection, and so its lock, goes with it
        by_pid[second].wait(60)
        third = leader_pid(sessions, {first, second})
        time.sleep(2 * JOBS_EVERY_S)
    finally:
        stop_posting.set()
        poster.join()
    try:
        queue_empty(sessions)
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        codes = [p.wait(60) for p in procs]
    assert codes[procs.index(by_pid[third])] == 0, logs[procs.index(by_pid[third])].read_text()
    assert len({first, second, third}) == 3 and posted > 50

    # Each job ran once per period, and one leader at a time: the runners follow each other
    # (first, then second, then third) and never interleave.
    all_runs = runs(sessions)
    per_slot: dict[tuple[str, str | None], int] = defaultdict(int)
    for r in all_runs:
        per_slot[(r.name, r.slot)] += 1
    assert set(per_slot.values()) == {1}
    for name in scheduled_jobs(settings):
        mine = [r for r in all_runs if r.name == name]
        assert len(mine) >= 3, name
        order = [int(r.runner.rsplit(":", 1)[1]) for r in mine]  # type: ignore[union-attr]
        changes = [pid for i, pid in enumerate(order) if i == 0 or order[i - 1] != pid]
        assert changes == [pid for pid in (first, second, third) if pid in changes], (
            name,
            changes,
        )
        unfinished = [r for r in mine if r.finished_at is None]
        assert all(r.runner and r.runner.endswith(f":{second}") for r in unfinished)

    # The logs: every entry once, leaf indexes 0..n-1, the head and the last checkpoint agree.
    with transaction(sessions) as s:
        entries = dict(s.execute(select(Entry.bucket, func.count()).group_by(Entry.bucket)).all())
        for bucket, count in entries.items():
            leaves = s.execute(
                select(
                    func.count(),
                    func.count(func.distinct(LogLeaf.ref)),
                    func.max(LogLeaf.leaf_index),
                ).where(LogLeaf.bucket == bucket)
            ).one()
            assert leaves == (count, count, count - 1)
            assert s.get_one(LogHead, bucket).size == count
            last = s.scalar(
                select(func.max(CheckpointRow.size)).where(CheckpointRow.bucket == bucket)
            )
            assert last == count
    verify = subprocess.run(
        [CLI, "ledger", "verify"], env=env, capture_output=True, text=True, timeout=120
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr


def slow_pass(
    sessions: sessionmaker[Session], settings: Settings, started: threading.Event
) -> object:
    """A real pass whose transaction stays open a second after the sequencer's work."""
    signer = log_signer(settings)
    with transaction(sessions) as s:
        register_key(s, signer)
        report = Sequencer(s, signer, settings.ledger_origin).run(LedgerService(s).buckets())
        if report.appended:
            started.set()
            time.sleep(1.0)
    return report


def test_stop_lets_the_pass_under_way_commit_and_the_next_start_continues(
    settings: Settings, sessions: sessionmaker[Session]
) -> None:
    """stop() during a pass waits for its commit: a whole checkpoint, never half of one."""
    live = settings.model_copy(update={"sequencer_interval_s": 0.05, "leader_poll_s": 0.1})
    engine = sessions.kw["bind"]
    for n in range(5):
        award(sessions, n)
    started = threading.Event()
    background = Background(engine, sessions, live, lambda: slow_pass(sessions, live, started))
    background.start()
    assert started.wait(60)
    t0 = time.monotonic()
    assert background.stop(30)
    assert time.monotonic() - t0 > 0.5  # it waited for the pass's commit
    with transaction(sessions) as s:
        heads = {h.bucket: h.size for h in s.scalars(select(LogHead))}
        entries = s.scalar(select(func.count()).select_from(Entry))
        assert entries and sum(v for b, v in heads.items() if b >= 0) == entries
        for bucket, size in heads.items():
            assert s.get(CheckpointRow, (bucket, size)) is not None
        assert not s.scalar(text("SELECT count(*) FROM ledger_log_queue"))
    for n in range(5, 8):
        award(sessions, n)
    again = Background(engine, sessions, live, lambda: slow_pass(sessions, live, started))
    started.clear()
    again.start()
    assert started.wait(60)
    assert again.stop(30)
    with transaction(sessions) as s:
        now = s.scalar(select(func.count()).select_from(Entry))
        assert now and now > entries
        assert sum(h.size for h in s.scalars(select(LogHead)) if h.bucket >= 0) == now
    report = _verify(settings)
    assert report.ok, report.faults[:5]


def _verify(settings: Settings) -> VerifyReport:
    from civicpoints.jobs.tasks import pinned_keys
    from civicpoints.kit.db import make_session_factory
    from civicpoints.ledger import verify_ledger

    engine = make_engine(settings.resolved_database_url())
    try:
        with transaction(make_session_factory(engine)) as s:
            return verify_ledger(s, pinned_keys(settings))
    finally:
        engine.dispose()


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """The CLI on the test database."""
    from civicpoints.kit.settings import get_settings

    monkeypatch.setenv("CIVICPOINTS_DATABASE_URL", settings.resolved_database_url())
    monkeypatch.setenv("CIVICPOINTS_VAR_DIR", str(settings.var_dir))
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_serve_and_worker_refuse_a_database_not_at_head(cli: CliRunner, settings: Settings) -> None:
    """Migrations run first, by one process: serving an old schema is refused, saying how."""
    downgrade(settings.resolved_database_url(), "0021")
    for args in (["serve", "--port", "8111"], ["worker"]):
        result = cli.invoke(cli_app, args)
        assert result.exit_code == 1, result.output
        assert "civicpoints db upgrade" in result.output
    upgrade(settings.resolved_database_url())


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_serve_refuses_more_than_one_process_on_sqlite(cli: CliRunner) -> None:
    result = cli.invoke(cli_app, ["serve", "--workers", "2", "--port", "8111"])
    assert result.exit_code == 2
    assert "SQLite" in result.output and "one process" in " ".join(result.output.split())


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_two_upgraders_at_once_take_turns(db_url: str) -> None:
    """`db upgrade` holds an advisory lock: a second upgrader waits, then has nothing to do."""
    downgrade(db_url, "0016")
    errors: list[BaseException] = []

    def up() -> None:
        try:
            upgrade(db_url)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=up) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert errors == []
    from civicpoints.kit.migrate import current_revision, head_revision

    assert current_revision(db_url) == head_revision()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_serve_with_two_workers_serves_and_one_of_them_leads(
    settings: Settings, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    """`serve --workers 2` on PostgreSQL: both children start, one leads, SIGTERM exits 0."""
    import httpx

    log_signer(settings)
    out = tmp_path / "serve.log"
    proc = subprocess.Popen(
        [CLI, "serve", "--workers", "2", "--port", "8112"],
        env=worker_env(settings),
        stdout=out.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 300
        while out.read_text().count("Application startup complete") < 2:
            assert proc.poll() is None and time.monotonic() < deadline, out.read_text()
            time.sleep(0.3)
        assert httpx.get("http://127.0.0.1:8112/docs", timeout=30).status_code == 200
        leader_pid(sessions, set())
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(90) == 0, out.read_text()
    text_out = out.read_text()
    assert text_out.count("background leader") == 1, text_out
    assert len({r.runner for r in runs(sessions)}) == 1


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_sigterm_lets_a_request_in_flight_finish(
    settings: Settings, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    """SIGTERM while a request's body is still arriving: the request is answered, then exit.

    uvicorn ends by re-raising the signal it caught, so the exit status is "killed by SIGTERM"
    after its "Finished server process" line (under `--workers N` the supervisor exits 0).
    """
    import json
    import socket

    log_signer(settings)
    out = tmp_path / "serve.log"
    proc = subprocess.Popen(
        [CLI, "serve", "--port", "8113"],
        env={**worker_env(settings), "CIVICPOINTS_SCHEDULER_ENABLED": "false"},
        stdout=out.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 300
        while "Application startup complete" not in out.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, out.read_text()
            time.sleep(0.3)
        body = json.dumps({"username": "nobody", "password": "not-this-one"}).encode()
        conn = socket.create_connection(("127.0.0.1", 8113), timeout=60)
        conn.sendall(
            b"POST /api/v1/auth/token HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body[:10]
        )
        time.sleep(1)
        proc.send_signal(signal.SIGTERM)  # the request is in flight: half its body sent
        while "Shutting down" not in out.read_text():
            assert time.monotonic() < deadline, out.read_text()
            time.sleep(0.1)
        conn.sendall(body[10:])
        answer = conn.recv(65536).decode("latin-1")
        conn.close()
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    assert proc.wait(90) in (0, -signal.SIGTERM), out.read_text()
    assert "Finished server process" in out.read_text()
    assert answer.startswith("HTTP/1.1 401"), answer[:200]
