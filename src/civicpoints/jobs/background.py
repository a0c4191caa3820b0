"""The background work — sequencer passes and scheduled jobs — run by the one leader.

`serve` (with CIVICPOINTS_BACKGROUND=inline) and `civicpoints worker` both start a
`Background`: each process tries to lead (jobs/leader.py); the leader runs sequencer passes
every `sequencer_interval_s` and the scheduler, the others wait as hot standbys and try again
every `leader_poll_s`. `stop()` lets a pass under way finish (one transaction: it commits
whole or not at all) and waits for running jobs before the lock is given up.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.jobs.leader import Leadership
from civicpoints.jobs.runner import runner_name
from civicpoints.jobs.schedule import start_scheduler
from civicpoints.kit.settings import Settings

log = logging.getLogger("civicpoints.jobs.background")


class Background:
    """Lead or stand by, in a thread of its own, until `stop()`."""

    def __init__(
        self,
        engine: Engine,
        sessions: sessionmaker[Session],
        settings: Settings,
        sequence_pass: Callable[[], object],
    ) -> None:
        self.sessions, self.settings, self.sequence_pass = sessions, settings, sequence_pass
        self.leadership = Leadership(engine, settings.var_dir / "background.lock")
        self.leading = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._main, name="background", daemon=True)

    def start(self) -> Background:
        """Begin trying to lead."""
        self._thread.start()
        return self

    def stop(self, timeout: float | None = None) -> bool:
        """Finish the pass and jobs under way, give up the lead; False if `timeout` ran out."""
        self._stop.set()
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _main(self) -> None:
        try:
            while not self._stop.is_set():
                if self.leadership.acquire():
                    log.warning("background leader: %s", runner_name())
                    self.leading.set()
                    try:
                        self._lead()
                    finally:
                        self.leading.clear()
                else:
                    self._stop.wait(self.settings.leader_poll_s)
        finally:
            self.leadership.release()

    def _lead(self) -> None:
        """Passes and jobs while the lead is held and nobody asked to stop."""
        settings = self.settings
        scheduler = start_scheduler(self.sessions, settings) if settings.scheduler_enabled else None
        interval = settings.sequencer_interval_s
        tick = min(interval, settings.leader_poll_s) if interval > 0 else settings.leader_poll_s
        next_check = time.monotonic() + settings.leader_poll_s
        try:
            while not self._stop.wait(tick):
                if interval > 0:
                    try:
                        self.sequence_pass()
                    except Exception:  # the next pass retries what is still queued
                        log.exception("ledger.sequence pass failed")
                if time.monotonic() >= next_check:
                    next_check = time.monotonic() + settings.leader_poll_s
                    if not self.leadership.alive():
                        return
        finally:
            if scheduler is not None:
                scheduler.shutdown(wait=True)  # running jobs finish; their runs are recorded
