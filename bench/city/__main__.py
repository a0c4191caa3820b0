"""`python -m bench.city --residents N [--db NAME] [--workers 2]`: build a city's year on
PostgreSQL with a progress bar per phase; figures go to bench/results/city/city-<N>.json
(a folder of its own: bench/report.py reads the benchmarks' results in bench/results/)."""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import time

import psycopg
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from bench.city import build
from bench.common import RESULTS


def main() -> None:
    """Parse the options, build the city, print and keep the per-phase figures."""
    p = argparse.ArgumentParser(prog="python -m bench.city", description=__doc__)
    p.add_argument("--residents", type=int, default=20_000)
    p.add_argument("--db", default=None, help="database name (default city_<residents>)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--buckets", type=int, default=64)
    p.add_argument("--server", default=build.DEFAULT_SERVER, help="postgresql://… without a db")
    p.add_argument(
        "--keep-indexes",
        action="store_true",
        help="load with every index and FK check in place (slower: bench/notes.md)",
    )
    p.add_argument("--skip-sequence", action="store_true")
    p.add_argument("--skip-rollup", action="store_true")
    args = p.parse_args()
    if not 1 <= args.residents <= 10_000_000:
        p.error("--residents must be between 1 and 10,000,000")
    name = args.db or f"city_{args.residents}"
    with psycopg.connect(f"{args.server}/postgres", autocommit=True) as admin:
        try:
            build.room_for(admin, name, args.residents)
        except build.NoRoom as exc:
            p.exit(2, f"{p.prog}: {exc}\n")
    with Progress(*columns()) as bar:
        report = build.build(
            build.Options(
                server=args.server, db=name, residents=args.residents, workers=args.workers,
                buckets=args.buckets, drop_indexes=not args.keep_indexes,
                sequence=not args.skip_sequence, rollup=not args.skip_rollup,
            ),
            RichTicker(bar),
        )  # fmt: skip
    out = RESULTS / "city" / f"city-{args.residents}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n")
    for phase, figures in report["phases"].items():
        print(f"{phase:<14} {figures['seconds']:>8.1f} s  {figures.get('rows_per_s', '')}")
    print(json.dumps(report["city"], ensure_ascii=False))
    print(f"total {report['seconds']:.1f} s; written to {out}")


def columns() -> tuple[ProgressColumn, ...]:
    """The progress bar's columns: phase, bar, done/total, rows/s, elapsed."""
    return (
        TextColumn("{task.description:<22}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"), TimeElapsedColumn(),
    )  # fmt: skip


class RichTicker:
    """Progress per phase: total, advance, rows/s."""

    def __init__(self, bar: Progress) -> None:
        self.bar = bar
        self.tasks: dict[str, TaskID] = {}
        self.rows: dict[str, int] = {}
        self.started: dict[str, float] = {}

    def start(self, phase: str, total: int) -> None:
        self.tasks[phase] = self.bar.add_task(phase, total=total, rate="")
        self.rows[phase], self.started[phase] = 0, time.perf_counter()

    def advance(self, phase: str, n: int, rows: int = 0) -> None:
        self.rows[phase] += rows
        rate = self.rows[phase] / max(time.perf_counter() - self.started[phase], 1e-6)
        self.bar.update(self.tasks[phase], advance=n, rate=f"{rate:,.0f} rows/s" if rows else "")


if __name__ == "__main__":
    mp.freeze_support()
    main()
