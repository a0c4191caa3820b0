"""Benchmark 4: inclusion proofs from the API on a 1,000,000-entry log.

The app runs in uvicorn (its own process group, one worker) on a free loopback port, over a
private copy of the sequenced log (signing in writes a token; the cached file stays as the
sequencer left it, and a server left behind cannot lock it). httpx asks for
`GET /api/v1/ledger/entries/{id}/proof` as the auditor, one request at a time, for entries
drawn at random from the whole log. A trivial request to the same server
(`GET /api/v1/ledger/keys`) is timed alongside, as the HTTP stack's own floor.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import ORIGIN, PII_KEY, Run, Target, latency_summary, write_result
from bench.sequencer import ensure_log, signer
from civicpoints.cli.city import DEMO_STAFF_PASSWORD
from civicpoints.ledger.receipt import verify_receipt

NAME = "proof_api"
TARGET_MS = 20.0


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(db: Path, port: int, var_dir: str) -> subprocess.Popen[bytes]:
    """uvicorn serving create_app() on the benchmark log (no sequencer loop, no jobs)."""
    env = os.environ | {
        "CIVICPOINTS_DATABASE_URL": f"sqlite:///{db}",
        "CIVICPOINTS_VAR_DIR": var_dir,
        "CIVICPOINTS_PII_KEY": PII_KEY,
        "CIVICPOINTS_SEQUENCER_INTERVAL_S": "0",
        "CIVICPOINTS_SCHEDULER_ENABLED": "false",  # no nightly verify of 1,000,000 entries
        "CIVICPOINTS_LEDGER_ORIGIN": ORIGIN,
    }
    args = [sys.executable, "-m", "uvicorn", "civicpoints.web.app:create_app", "--factory"]
    args += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    # Its own session (process group): stopping it stops everything it started. And it
    # dies with this process, should this one be killed before its `finally` runs.
    return subprocess.Popen(
        [*args, "--no-access-log"],
        env=env,
        cwd=var_dir,
        start_new_session=True,
        preexec_fn=_die_with_parent,
    )


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the parent exits (Linux prctl)."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """Stop the server's whole process group: SIGTERM, then SIGKILL for whatever lingers."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=15)
    with contextlib.suppress(ProcessLookupError):  # the group is gone already: done
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=5)


def private_copy(src: Path, dst: Path) -> Path:
    """A consistent copy of an SQLite file (its WAL included) for one run to own."""
    with (
        contextlib.closing(sqlite3.connect(f"file:{src}?mode=ro", uri=True)) as source,
        contextlib.closing(sqlite3.connect(dst)) as target,
    ):
        source.backup(target)
    return dst


def wait_ready(base: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """Poll until the server answers (or fail if it exits)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"uvicorn exited with {proc.returncode}")
        try:
            if httpx.get(f"{base}/api/v1/ledger/keys", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError("uvicorn did not answer within 60 s")


def sample_entries(db: Path, n: int) -> list[str]:
    """`n` entry ids drawn uniformly from the bucket logs."""
    with sqlite3.connect(db) as conn:
        (size,) = conn.execute("SELECT count(*) FROM ledger_log_leaf WHERE bucket >= 0").fetchone()
        picks = random.Random(5).sample(range(size), min(n, size))
        rows = [
            conn.execute(
                "SELECT ref FROM ledger_log_leaf WHERE bucket = 0 AND leaf_index = ?", (i,)
            ).fetchone()[0]
            for i in picks
        ]
    return rows


def timed_gets(client: httpx.Client, paths: list[str]) -> tuple[list[float], list[Any]]:
    """GET each path once in turn; latencies (s) and the JSON bodies (all must be 200)."""
    lat, bodies = [], []
    for path in paths:
        t0 = time.perf_counter()
        r = client.get(path)
        lat.append(time.perf_counter() - t0)
        if r.status_code != 200:
            raise RuntimeError(f"GET {path} → {r.status_code}: {r.text[:300]}")
        bodies.append(r.json())
    return lat, bodies


def measure(base: str, ids: list[str]) -> dict[str, Any]:
    """Log in as the auditor, warm up, then time proofs and the trivial request."""
    token = httpx.post(
        f"{base}/api/v1/auth/token",
        json={"username": "auditor", "password": DEMO_STAFF_PASSWORD},
        timeout=30,
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        timed_gets(client, [f"/api/v1/ledger/entries/{i}/proof" for i in ids[:20]])
        lat, bodies = timed_gets(client, [f"/api/v1/ledger/entries/{i}/proof" for i in ids])
        floor, _ = timed_gets(client, ["/api/v1/ledger/keys"] * len(ids))
    keys = [signer().verifier]
    bad = sum(not verify_receipt(b, keys).ok for b in bodies[:50])
    return {"proof": latency_summary(lat), "trivial": latency_summary(floor), "bad_receipts": bad}


def run(opts: Run) -> dict[str, Any]:
    """Serve the sequenced log and measure proof latency percentiles."""
    entries = opts.size(1_000_000, 20_000)
    with tempfile.TemporaryDirectory(prefix="cp-bench-api-") as var_dir:
        db = private_copy(ensure_log(entries), Path(var_dir) / "log.db")
        ids = sample_entries(db, opts.size(1000, 300))
        port = free_port()
        proc = start_server(db, port, var_dir)
        try:
            wait_ready(f"http://127.0.0.1:{port}", proc)
            figures = measure(f"http://127.0.0.1:{port}", ids)
        finally:
            stop_server(proc)
    p95, floor95 = figures["proof"]["p95_ms"], figures["trivial"]["p95_ms"]
    figures |= {"p95_ms": p95, "p95_vs_trivial_request": round(p95 / floor95, 2)}
    targets = [
        Target("p95_ms", "proof p95 latency (ms)", p95, "<=", TARGET_MS, " ms"),
        Target(
            "bad_receipts",
            "proofs that fail offline verification",
            figures["bad_receipts"],
            "<=",
            0,
        ),
    ]
    params = {
        "log_entries": entries,
        "engine": "SQLite (WAL), 1 bucket: a single log of all entries",
        "server": "uvicorn, 1 worker, separate process, 127.0.0.1 free port",
        "client": "httpx.Client, keep-alive, sequential; 20 warm-up requests",
        "requests": len(ids),
        "endpoint": "GET /api/v1/ledger/entries/{id}/proof (auditor bearer token)",
    }
    return write_result(opts, NAME, "Inclusion proof from the API", targets, figures, params)
