"""`python -m bench.city.floor --db city_200000`: what PostgreSQL alone costs to store a
generated city, the floor under any generator of the same rows on this machine.

Every table of the generated (and sequenced) city is copied out in PostgreSQL's binary
format, then loaded into an empty database at the same migration, the way the generator loads
(secondary indexes dropped, foreign-key triggers off, primary keys and unique constraints in
place), by as many connections as the generator has workers, each taking the next largest
table; then the secondary indexes are rebuilt and the database analysed. No Python touches a
row: what this takes is the server's own work (parsing, heap and index writes, WAL, checkpoints)
and the disk's. Figures go to bench/results/city/floor-<db>.json, with the database's size and
both extrapolated to `--to` residents (linear: rows per resident do not change with size,
bench/notes.md)."""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psycopg

from bench.city.build import DEFAULT_SERVER, SECONDARY, recreate_indexes
from bench.common import RESULTS
from civicpoints.kit.migrate import upgrade

SKIP = ("alembic_version",)  # written by the migrations


def backend_cpu(conn: psycopg.Connection[Any]) -> float:
    """CPU seconds the connection's server process has used (Linux, same machine)."""
    pid = conn.info.backend_pid
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tables_of(url: str) -> list[tuple[str, int]]:
    """The city's tables holding rows, largest first, with their row counts."""
    with psycopg.connect(url) as conn:
        names = conn.execute(
            "SELECT relname FROM pg_stat_user_tables ORDER BY pg_table_size(relid) DESC"
        ).fetchall()
        out = []
        for (name,) in names:
            if name in SKIP:
                continue
            (n,) = conn.execute(f'SELECT count(*) FROM "{name}"').fetchone() or (0,)
            if n:
                out.append((name, int(n)))
        return out


def dump(url: str, tables: list[tuple[str, int]], folder: Path) -> int:
    """Each table in PostgreSQL's binary COPY format, a file per table; bytes written."""
    size = 0
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        for name, _ in tables:
            path = folder / f"{name}.bin"
            with path.open("wb") as f, cur.copy(f'COPY "{name}" TO STDOUT (FORMAT binary)') as cp:
                for block in cp:
                    f.write(block)
            size += path.stat().st_size
    return size


def load(url: str, tables: list[tuple[str, int]], folder: Path, streams: int) -> dict[str, Any]:
    """Load every file by `streams` connections (each takes the next table, largest first):
    wall seconds, the server processes' CPU seconds."""
    todo, lock, cpu = list(tables), threading.Lock(), [0.0] * streams
    errors: list[BaseException] = []

    def stream(i: int) -> None:
        try:
            with psycopg.connect(url) as conn, conn.cursor() as cur:
                conn.execute("SET session_replication_role = replica")
                start = backend_cpu(conn)
                while True:
                    with lock:
                        if not todo:
                            break
                        name, _ = todo.pop(0)
                    sql = f'COPY "{name}" FROM STDIN (FORMAT binary)'
                    with (folder / f"{name}.bin").open("rb") as f, cur.copy(sql) as cp:
                        while block := f.read(1 << 20):
                            cp.write(block)
                    conn.commit()
                cpu[i] = backend_cpu(conn) - start
        except BaseException as e:  # re-raised below, in the main thread
            errors.append(e)

    started = time.perf_counter()
    threads = [threading.Thread(target=stream, args=(i,)) for i in range(streams)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return {"seconds": round(time.perf_counter() - started, 1), "server_cpu_s": round(sum(cpu), 1)}


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.city.floor", description=__doc__)
    p.add_argument("--db", required=True, help="a city built by python -m bench.city")
    p.add_argument("--server", default=DEFAULT_SERVER)
    p.add_argument("--streams", type=int, default=2, help="connections loading at once")
    p.add_argument("--to", type=int, default=5_000_000, help="residents to extrapolate to")
    args = p.parse_args()
    source, target = f"{args.server}/{args.db}", f"{args.db}_floor"
    with psycopg.connect(source) as conn:
        sql = "SELECT count(*), pg_database_size(current_database()) FROM identity_resident"
        residents, source_bytes = conn.execute(sql).fetchone() or (0, 0)
    tables = tables_of(source)
    with psycopg.connect(f"{args.server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{target}"')
    url = f"{args.server}/{target}"
    upgrade(url)
    with psycopg.connect(url, autocommit=True) as conn:
        for ix in SECONDARY:
            conn.execute(f"DROP INDEX {ix}")
    with tempfile.TemporaryDirectory(prefix="city-floor-") as tmp:
        started = time.perf_counter()
        dumped = dump(source, tables, Path(tmp))
        dump_s = time.perf_counter() - started
        loaded = load(url, tables, Path(tmp), args.streams)
    started = time.perf_counter()
    recreate_indexes(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")
        (size,) = conn.execute("SELECT pg_database_size(current_database())").fetchone() or (0,)
    indexes_s = time.perf_counter() - started
    with psycopg.connect(f"{args.server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
    rows = sum(n for _, n in tables)
    scale = args.to / max(residents, 1)
    total = loaded["seconds"] + indexes_s
    report = {
        "db": args.db,
        "residents": int(residents),
        "tables": len(tables),
        "rows": rows,
        "binary_bytes": dumped,
        "dump_s": round(dump_s, 1),
        "load": loaded | {"streams": args.streams, "rows_per_s": round(rows / loaded["seconds"])},
        "indexes_analyze_s": round(indexes_s, 1),
        "loaded_db_bytes": int(size),
        "source_db_bytes": int(source_bytes),
        "extrapolated": {
            "residents": args.to,
            "rows": round(rows * scale),
            "load_and_indexes_min": round(total * scale / 60, 1),
            "server_cpu_min": round(loaded["server_cpu_s"] * scale / 60, 1),
            "db_gb": round(size * scale / 1e9, 1),
        },
        "by_table": dict(tables),
    }
    out = RESULTS / "city" / f"floor-{args.db}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k != "by_table"}, indent=2))


if __name__ == "__main__":
    main()
