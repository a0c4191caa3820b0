"""The parts of a verification, run in this process or side by side in child processes.

The three parts share nothing but the snapshot they read: the account chains (with the account
caches, lot sums and zero sums), the lots, transfers and clawback debts, and the Merkle logs.
On PostgreSQL the children read the parent's very snapshot (`SET TRANSACTION SNAPSHOT`). On
SQLite each opens a read-only snapshot of its own: every check compares rows of one part only,
so a writer committing in between cannot make one part disagree with another, and each part
still reads a consistent ledger.
"""

from __future__ import annotations

import multiprocessing
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection as Pipe
from typing import Any

from civicpoints.ledger.note import Verifier
from civicpoints.ledger.verification.carries import Carries
from civicpoints.ledger.verification.debts import Debts
from civicpoints.ledger.verification.faults import Findings, Progress, VerifyReport
from civicpoints.ledger.verification.journal import Journal
from civicpoints.ledger.verification.logs import Logs
from civicpoints.ledger.verification.source import Reader, worker_snapshot
from civicpoints.ledger.verification.transfers import Transfers

PARTS = ("chains", "lots_transfers", "logs")


@dataclass(frozen=True)
class Job:
    """What every part needs besides its snapshot."""

    verifiers: list[Verifier]
    required: int
    trusted: Sequence[str]
    max_faults: int


def run_part(part: str, reader: Reader, found: Findings, job: Job) -> None:
    """Run one part of the verification on `reader`, recording into `found`."""
    if part == "chains":
        Journal(reader, found).check_accounts()
    elif part == "lots_transfers":
        Journal(reader, found).check_lots()
        Transfers(reader, found).check()
        Debts(reader, found).check()
        Carries(reader, found).check()
    else:
        Logs(reader, found, job.verifiers, job.required).check(job.trusted)


def _child(parts: Sequence[str], url: str, snapshot_id: str | None, job: Job, pipe: Pipe) -> None:
    """A child process: parts on its own connection; progress and the report go up `pipe`."""
    try:
        found = Findings(lambda *p: pipe.send(("progress", p)), job.max_faults)
        with worker_snapshot(url, snapshot_id) as conn:
            reader = Reader(conn)
            for part in parts:
                run_part(part, reader, found, job)
        pipe.send(("done", found.report))
    except BaseException:
        pipe.send(("error", traceback.format_exc()))
    finally:
        pipe.close()


class Children:
    """Parts running in forked processes, whose progress the parent relays as it goes."""

    def __init__(
        self, groups: Sequence[Sequence[str]], url: str, snapshot_id: str | None, job: Job
    ) -> None:
        ctx = multiprocessing.get_context("fork")  # the children inherit the loaded modules
        self.running: list[tuple[Any, Pipe]] = []
        for parts in groups:  # one child per group of parts
            mine, theirs = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_child, args=(parts, url, snapshot_id, job, theirs))
            proc.start()
            theirs.close()
            self.running.append((proc, mine))
        self.reports: dict[int, VerifyReport] = {}
        self.errors: list[str] = []

    def relay(self, progress: Progress | None) -> None:
        """Pass on the progress the children reported so far (never blocks)."""
        for n, (_, pipe) in enumerate(self.running):
            while n not in self.reports and pipe.poll():
                self.receive(n, pipe, progress)

    def receive(self, n: int, pipe: Pipe, progress: Progress | None) -> None:
        """One message from child `n`."""
        try:
            kind, payload = pipe.recv()
        except EOFError:
            kind, payload = "error", "the verification process ended without a report"
        if kind == "progress":
            if progress:
                progress(*payload)
        elif kind == "done":
            self.reports[n] = payload
        else:
            self.reports[n] = VerifyReport()
            self.errors.append(payload)

    def collect(self, found: Findings) -> None:
        """Wait for every child, merging their reports in order; raise if one failed."""
        for n, (proc, pipe) in enumerate(self.running):
            while n not in self.reports:
                self.receive(n, pipe, found.progress)
            proc.join()
            pipe.close()
            found.merge(self.reports[n])
        if self.errors:
            raise RuntimeError("a verification process failed:\n" + "\n".join(self.errors))

    def stop(self) -> None:
        """Kill children still running (the parent's own part failed)."""
        for proc, pipe in self.running:
            if proc.is_alive():
                proc.kill()
            proc.join()
            pipe.close()
