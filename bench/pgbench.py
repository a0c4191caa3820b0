"""pgbench TPC-B as the reference workload: find the binary, initialise, run, read latencies."""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

from bench.common import BenchError, latency_summary

CLIENTS, THREADS, SCALE = 4, 2, 4
INSTALL_HINT = (
    "pgbench not found (looked on PATH and in /usr/lib/postgresql/*/bin). It ships with "
    "Debian's PostgreSQL server packages: `sudo apt-get install postgresql-contrib` "
    "(or postgresql-15). bench/run.py installs nothing itself."
)


def pgbench_bin() -> str:
    """The pgbench executable, or a BenchError saying how to install it."""
    found = shutil.which("pgbench")
    if found:
        return found
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pgbench"))
    if candidates:
        return candidates[-1]
    raise BenchError(INSTALL_HINT)


def _env_and_db(url: str) -> tuple[dict[str, str], str]:
    """libpq environment variables for a URL, and its database name."""
    info = conninfo_to_dict(url)
    env = dict(os.environ)
    for key, var in (("host", "PGHOST"), ("port", "PGPORT"), ("user", "PGUSER")):
        if info.get(key):
            env[var] = str(info[key])
    if info.get("password"):
        env["PGPASSWORD"] = str(info["password"])
    return env, str(info.get("dbname", "postgres"))


def _run(args: list[str], url: str) -> str:
    """Run pgbench with the URL's connection settings; its stdout, or a BenchError."""
    env, _ = _env_and_db(url)
    proc = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise BenchError(f"{' '.join(args)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return proc.stdout + proc.stderr


def init(url: str) -> str:
    """`pgbench -i -s 4` into the (scratch) database of `url`; returns the command."""
    _, db = _env_and_db(url)
    args = [pgbench_bin(), "-i", "-s", str(SCALE), "-q", db]
    _run(args, url)
    return " ".join(["pgbench", *args[1:]])


def args_for(seconds: int, db: str, logdir: str) -> list[str]:
    """The measured TPC-B command line, with a per-transaction log for percentiles."""
    return [
        *("pgbench", "-M", "prepared", "-c", str(CLIENTS), "-j", str(THREADS)),
        *("-T", str(seconds), "-l", f"--log-prefix={logdir}/tx", db),
    ]


def window(url: str, seconds: int) -> dict[str, Any]:
    """One timed TPC-B run: tps (without connection time), latency percentiles, and the CPU
    one transaction costs (`cpu_per_txn_ms`, see `_cpu_sampler`)."""
    env, db = _env_and_db(url)
    with tempfile.TemporaryDirectory(prefix="pgbench-log-") as logdir:
        args = args_for(seconds, db, logdir)
        proc = subprocess.Popen(
            [pgbench_bin(), *args[1:]],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            samples = _cpu_sampler(url, db, proc.pid, seconds)
        finally:
            out, _ = proc.communicate(timeout=seconds + 60)
        if proc.returncode != 0:
            raise BenchError(f"{' '.join(args)} failed ({proc.returncode}): {out[-2000:]}")
        done = read_log_times(Path(logdir))
    latencies = [lat for _, lat in done]
    match = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", out)
    if not match:
        raise BenchError(f"could not read tps from pgbench output:\n{out[-2000:]}")
    shown = " ".join(args).replace(logdir, "$TMP")
    return {
        "tps": float(match.group(1)),
        "latency": latency_summary(latencies),
        "cpu_per_txn_ms": cpu_per_txn_from(samples, done),
        "command": shown,
    }


def _cpu_sampler(
    url: str, db: str, client_pid: int, seconds: int
) -> list[tuple[float, float, float]]:
    """(wall time, CPU of pgbench's backends, CPU of the pgbench client) at two instants inside
    the run: 1.5 s after its start and 1.5 s before its end. The backends are the client
    backends of the pgbench database other than this sampling connection (so no autovacuum
    worker), read from /proc as `award_pg` reads an award worker and its backend."""
    samples = []
    with psycopg.connect(url, autocommit=True) as conn:
        time.sleep(1.5)
        pids = [
            r[0]
            for r in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> "
                "pg_backend_pid() AND backend_type = 'client backend'",
                [db],
            ).fetchall()
        ]
        for pause in (0.0, max(seconds - 3.0, 1.0)):
            time.sleep(pause)
            server = sum(proc_cpu_s(p) or 0.0 for p in pids)
            samples.append((time.time(), server, proc_cpu_s(client_pid) or 0.0))
    return samples


def cpu_per_txn_from(
    samples: list[tuple[float, float, float]], done: list[tuple[float, float]]
) -> dict[str, float]:
    """CPU per transaction between the two samples: the transactions are those the
    per-transaction log says ended between them (exact, unlike pg_stat_database's counters,
    which a busy backend reports only about once a second)."""
    (t0, s0, c0), (t1, s1, c1) = samples
    txns = max(sum(1 for end, _ in done if t0 <= end < t1), 1)
    return {
        "server_ms": round((s1 - s0) / txns * 1e3, 4),
        "client_ms": round((c1 - c0) / txns * 1e3, 4),
        "total_ms": round(((s1 - s0) + (c1 - c0)) / txns * 1e3, 4),
        "transactions_sampled": txns,
    }


def read_log_times(logdir: Path) -> list[tuple[float, float]]:
    """(end time as epoch seconds, latency in seconds) of every transaction in pgbench -l logs
    (fields: client, transaction, latency µs, script, end epoch s, end µs)."""
    out = []
    for path in logdir.glob("tx*"):
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 6 and parts[2].isdigit():
                out.append((int(parts[4]) + int(parts[5]) / 1e6, int(parts[2]) / 1e6))
    return out


def read_logs(logdir: Path) -> list[float]:
    """Per-transaction latencies (seconds) from pgbench -l logs (3rd field, microseconds)."""
    out = []
    for path in logdir.glob("tx*"):
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[2].isdigit():
                out.append(int(parts[2]) / 1e6)
    return out


def proc_cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of a local process, or None when it cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
