"""Who runs the background work: one process at a time, across every process and host.

On PostgreSQL the leader holds a session-level advisory lock on a connection of its own for as
long as it leads; the lock goes when the process or its connection dies, and a standby takes
it at its next try. On SQLite (one host, one process serving) an exclusive lock on a file next
to the database plays the same part between processes of that host.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import zlib
from pathlib import Path
from typing import IO

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

log = logging.getLogger("civicpoints.jobs.leader")

LEADER_KEY = zlib.crc32(b"civicpoints.background.leader")


class Leadership:
    """Try to become the leader, check it is still held, give it up."""

    def __init__(self, engine: Engine, lock_file: Path) -> None:
        self.engine, self.lock_file = engine, lock_file
        self._conn: Connection | None = None
        self._file: IO[bytes] | None = None

    @property
    def held(self) -> bool:
        """Whether this process leads now (as far as it last knew)."""
        return self._conn is not None or self._file is not None

    def acquire(self) -> bool:
        """Become the leader if nobody is; never waits."""
        if self.held:
            return True
        if self.engine.dialect.name == "postgresql":
            return self._acquire_pg()
        return self._acquire_file()

    def alive(self) -> bool:
        """Still the leader? On PostgreSQL the lock's connection must still answer."""
        if self._conn is None:
            return self._file is not None
        try:
            self._conn.execute(text("SELECT 1"))
            return True
        except DBAPIError:
            log.error("lost the leader lock's connection: stepping down")
            self._drop_conn()
            return False

    def release(self) -> None:
        """Stop leading (the lock is free for a standby at once)."""
        if self._conn is not None:
            with contextlib.suppress(DBAPIError):  # if the connection is gone, so is the lock
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LEADER_KEY})
            self._drop_conn()
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None

    def _acquire_pg(self) -> bool:
        conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            got = bool(conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": LEADER_KEY}))
        except DBAPIError:
            conn.close()
            return False
        if not got:
            conn.close()
            return False
        self._conn = conn
        return True

    def _acquire_file(self) -> bool:
        self.lock_file.parent.mkdir(parents=True, exist_ok=True)
        handle = self.lock_file.open("ab")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._file = handle
        return True

    def _drop_conn(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(DBAPIError):
                self._conn.close()
            self._conn = None
