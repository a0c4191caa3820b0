"""Shared helpers: paths, machine facts, scratch databases, percentiles and result files."""

from __future__ import annotations

import base64
import json
import math
import os
import platform
import sqlite3
import statistics
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
CACHE = ROOT / "bench" / ".cache"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
PII_KEY = base64.b64encode(bytes(range(32))).decode()
ORIGIN = "bench.civicpoints.example/ledger"


class BenchError(RuntimeError):
    """A benchmark could not run (missing tool, unreachable server); the message says why."""


@dataclass
class Target:
    """One pass/fail figure: `value op threshold`, e.g. ratio >= 0.5."""

    key: str
    label: str
    value: float | None
    op: str
    threshold: float
    unit: str = ""

    @property
    def passed(self) -> bool | None:
        """True/False once measured; None when the benchmark could not measure it."""
        if self.value is None:
            return None
        return self.value >= self.threshold if self.op == ">=" else self.value <= self.threshold


@dataclass
class Context:
    """A figure shown in the table beside the targets, for context only: no target, no verdict."""

    key: str
    label: str
    value: float | None
    unit: str = ""


@dataclass
class Run:
    """Options shared by every benchmark of one `python -m bench.run` invocation."""

    quick: bool
    command: str
    profile: bool = False
    started: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def size(self, full: int, quick: int) -> int:
        """`full` normally, `quick` under --quick."""
        return quick if self.quick else full


def pg_admin_url() -> str:
    """The PostgreSQL server to benchmark on (CIVICPOINTS_TEST_PG_URL, else the local one)."""
    return os.environ.get("CIVICPOINTS_TEST_PG_URL") or DEFAULT_PG


def with_db(url: str, name: str) -> str:
    """The same server URL with another database name."""
    return url.rsplit("/", 1)[0] + "/" + name


def fresh_pg_database(name: str) -> str:
    """Drop and create database `name` on the benchmark server; returns its URL."""
    admin = pg_admin_url()
    try:
        conn = psycopg.connect(admin, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        raise BenchError(f"PostgreSQL at {admin} is unreachable: {exc}") from exc
    with conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return with_db(admin, name)


def drop_pg_database(name: str) -> None:
    """Drop a scratch database (best effort)."""
    with psycopg.connect(pg_admin_url(), autocommit=True, connect_timeout=5) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def pg_server_version() -> str:
    """The benchmark server's version string, or why it is unknown."""
    try:
        with psycopg.connect(pg_admin_url(), connect_timeout=5) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            return str(row[0]) if row else "?"
    except psycopg.Error as exc:
        return f"unreachable ({type(exc).__name__})"


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def machine() -> dict[str, Any]:
    """Facts about the machine and software a figure depends on."""
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": cpu_model(),
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "postgresql": pg_server_version(),
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": sqlalchemy.__version__,
        "psycopg": psycopg.__version__,
        "platform": platform.platform(),
    }


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0-100) by the nearest-rank method."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    # The smallest rank whose share reaches p: ceil(p·n/100). (round(p/100·n + 0.5) took the
    # rank above it whenever p·n/100 was a whole number, e.g. the 96th of 100 for p95.)
    rank = max(1, min(len(ordered), math.ceil(p * len(ordered) / 100)))
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    """The median of the values."""
    return statistics.median(values)


def latency_summary(seconds: list[float]) -> dict[str, float]:
    """p50/p95/p99/max of latencies given in seconds, in milliseconds."""
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 3),
        "p95_ms": round(percentile(ms, 95), 3),
        "p99_ms": round(percentile(ms, 99), 3),
        "max_ms": round(max(ms), 3) if ms else float("nan"),
    }


class Stopwatch:
    """Context manager that records elapsed wall time in `.seconds`."""

    def __enter__(self) -> Stopwatch:
        """Start timing."""
        self.start = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop timing."""
        self.seconds = time.perf_counter() - self.start


def write_result(
    run: Run,
    name: str,
    title: str,
    targets: list[Target],
    figures: dict[str, Any],
    parameters: dict[str, Any],
    notes: str = "",
    context: list[Context] | None = None,
) -> dict[str, Any]:
    """Write bench/results/<name>.json (atomically) and return what was written."""
    statuses = [t.passed for t in targets]
    status = "fail" if False in statuses else "not_run" if None in statuses else "pass"
    if notes.startswith("ERROR"):
        status = "error"
    doc = {
        "name": name,
        "title": title,
        "status": status,
        "targets": [asdict(t) | {"passed": t.passed} for t in targets],
        "context": [asdict(c) for c in context or []],
        "figures": figures,
        "parameters": parameters,
        "command": run.command,
        "quick": run.quick,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "run_started": run.started,
        "machine": machine(),
        "notes": notes,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    tmp = RESULTS / f"{name}.json.tmp"
    tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n")
    tmp.replace(RESULTS / f"{name}.json")
    return doc
