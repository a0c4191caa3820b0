"""The generated ledger into its Merkle logs: the REAL sequencer, one process per share of the
buckets, then one ordinary pass for the global log.

A bucket's log is its own (`Sequencer.run_bucket` takes the bucket's advisory lock), so the
processes never wait for each other: the same as several `civicpoints worker` sharing a
backlog. The global log then takes each bucket's latest checkpoint (`Sequencer.run_global`
in `sequence_once`); earlier checkpoints of a bucket are signed and stored but not in the
global log, as between two passes of the server's loop.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
from typing import Any

from bench.city.procs import messages
from civicpoints.kit.db import make_engine, make_session_factory, transaction
from civicpoints.ledger import log_signer
from civicpoints.ledger.sequencer import Sequencer
from civicpoints.ledger.tasks import register_key, sequence_once

BATCH = 20_000  # entries of one bucket per transaction (and per checkpoint)


def worker(url: str, db: str, share: int, shares: int, buckets: int, q: Any, out: Any) -> None:
    """A spawned process: sequence every bucket b with b % shares == share until its queue
    is empty, one transaction per batch; report each batch's entries on `q`."""
    from bench.city.build import settings_for  # here: build imports this module

    settings = settings_for(url, db)
    engine = make_engine(settings.resolved_database_url(), pool_size=1, max_overflow=0)
    sessions = make_session_factory(engine)
    signer = log_signer(settings)
    done = 0
    for bucket in range(share, buckets, shares):
        while True:
            with transaction(sessions) as s:
                grown = Sequencer(s, signer, settings.ledger_origin).run_bucket(bucket, BATCH)
            if not grown:
                break
            done += grown
            q.put(grown)
    engine.dispose()
    out.put((share, done))


def sequence_all(
    url: str, db: str, sessions: Any, buckets: int, shares: int, progress: Any
) -> dict[str, int]:
    """Sequence every queued entry in `shares` processes, then sign the global log; calls
    `progress(n)` as batches land. The entries sequenced and the passes of the last step."""
    from bench.city.build import settings_for

    settings = settings_for(url, db)
    signer = log_signer(settings)  # made here if missing, before the processes load it
    with transaction(sessions) as s:
        register_key(s, signer)
    spawn = mp.get_context("spawn")
    q, out = spawn.Queue(), spawn.Queue()
    procs = [
        spawn.Process(target=worker, args=(url, db, k, shares, buckets, q, out))
        for k in range(shares)
    ]
    for proc in procs:
        proc.start()
    finished = messages(procs, out, shares, lambda: _forward(q, progress), "sequencer")
    for proc in procs:
        proc.join()
    entries, passes = sum(n for _, n in finished), 0
    while True:  # the global log (and anything queued meanwhile: nothing, in a build)
        report = sequence_once(sessions, signer, settings.ledger_origin, BATCH)
        passes += 1
        grown = sum(report.appended.values())
        entries += grown
        progress(grown)
        if not grown:
            return {"entries": entries, "processes": shares, "final_passes": passes}


def _forward(q: Any, progress: Any) -> None:
    while True:
        try:
            progress(q.get_nowait())
        except queue.Empty:
            return
