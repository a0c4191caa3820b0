"""Run the benchmarks and regenerate docs/performance.md: `python -m bench.run [--quick]`.

Exits 0 only when every benchmark that ran met all its targets; a failed target, a benchmark
that could not run (e.g. pgbench missing) or one that crashed makes it exit 1, after every
result file and the table have been written.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from bench import (
    award_pg,
    award_sqlite,
    cityscale,
    fraud,
    photo_index,
    proof_api,
    recs,
    report,
    sequencer,
    verify,
)
from bench.common import BenchError, Run, write_result

BENCHMARKS: dict[str, tuple[str, Callable[[Run], dict[str, Any]]]] = {
    "award_sqlite": ("Award on SQLite (WAL), single writer", award_sqlite.run),
    "award_pg": ("Award on PostgreSQL vs pgbench TPC-B", award_pg.run),
    "sequencer": ("Sequencer: queue → log → checkpoints", sequencer.run),
    "verify": ("ledger verify vs encode + SHA-256", verify.run),
    "proof_api": ("Inclusion proof from the API", proof_api.run),
    "photo_index": (photo_index.TITLE, photo_index.run),
    "fraud": (fraud.TITLE, fraud.run),
    "recs": (recs.TITLE, recs.run),
    "cityscale": (cityscale.TITLE, cityscale.run),
}


def parse(argv: list[str]) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    p.add_argument("--quick", action="store_true", help="20k entries and 5 s runs (minutes)")
    p.add_argument("--only", action="append", choices=list(BENCHMARKS), help="run just these")
    p.add_argument("--profile", action="store_true", help="also write cProfile reports")
    p.add_argument("--report-only", action="store_true", help="only regenerate the doc")
    return p.parse_args(argv)


def run_one(name: str, opts: Run) -> dict[str, Any]:
    """Run one benchmark; a crash or a missing tool becomes an 'error' result, not an abort."""
    title, fn = BENCHMARKS[name]
    print(f"== {name}: {title}", flush=True)
    started = time.perf_counter()
    try:
        doc = fn(opts)
    except BenchError as exc:
        print(f"!! {name} could not run: {exc}", file=sys.stderr, flush=True)
        doc = write_result(opts, name, title, [], {}, {}, f"ERROR: {exc}")
    except Exception as exc:  # record it, keep going with the other benchmarks
        traceback.print_exc()
        doc = write_result(opts, name, title, [], {}, {}, f"ERROR: {type(exc).__name__}: {exc}")
    print(
        f"   {name}: {doc['status'].upper()} in {time.perf_counter() - started:.0f} s", flush=True
    )
    return doc


def main(argv: list[str] | None = None) -> int:
    """Run the chosen benchmarks, write results and the doc; the exit status says if all passed."""
    args_list = sys.argv[1:] if argv is None else argv
    args = parse(args_list)
    if args.report_only:
        report.write_doc()
        return 0
    command = " ".join(["python -m bench.run", *args_list])
    opts = Run(quick=args.quick, command=command, profile=args.profile)
    docs = [run_one(name, opts) for name in (args.only or list(BENCHMARKS))]
    path = report.write_doc()
    print(report.summary(docs))
    print(f"table written to {path}")
    return 0 if all(d["status"] == "pass" for d in docs) else 1


if __name__ == "__main__":
    sys.exit(main())
