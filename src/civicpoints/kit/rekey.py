"""Re-encrypting every PII column under the current key, in batches, resumable, online.

Domains declare their encrypted columns as `EncryptedColumn`s on their public surface (e.g.
`civicpoints.identity.ENCRYPTED_COLUMNS`); the CLI hands the list to `Rekeyer`. Each batch is
its own transaction and updates a row only if the ciphertext is still the one read
(compare-and-set), so writes made meanwhile are never overwritten. Progress is a cursor per
column in a small JSON file next to the keyring (no secrets in it): a rerun after an
interruption continues from it. Logs name key ids, columns and counts, never a value.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from civicpoints.kit.crypto import DecryptionError, FieldCipher, key_id_in
from civicpoints.kit.db import transaction

log = logging.getLogger("civicpoints.keys")

MAX_BATCH = 5_000


class RekeyStopped(Exception):
    """A ciphertext that does not decrypt: the walk stops there (batches before it are kept)."""

    def __init__(self, column: str, pk: Any, reason: str) -> None:
        super().__init__(f"{column} row {pk}: {reason}")
        self.column, self.pk, self.reason = column, pk, reason


@dataclass(frozen=True)
class EncryptedColumn:
    """One column of field ciphertexts: the ORM column, its table's primary key, its context."""

    column: InstrumentedAttribute[bytes]
    pk: InstrumentedAttribute[Any]
    context: str

    @property
    def name(self) -> str:
        """table.column, as in progress files and messages."""
        return f"{self.column.class_.__tablename__}.{self.column.key}"


@dataclass
class RekeyProgress:
    """Where a rotation to `target` stands: the last primary key done per column."""

    target: str
    after: dict[str, str]
    done: list[str]

    @classmethod
    def load(cls, path: Path, target: str) -> RekeyProgress:
        """The saved progress toward `target`; a fresh start if none (or for another key)."""
        if path.exists():
            doc = json.loads(path.read_text(encoding="utf-8"))
            if doc.get("target") == target:
                return cls(target, dict(doc["after"]), list(doc["done"]))
        return cls(target, {}, [])

    @classmethod
    def pending(cls, path: Path, target: str, columns: Sequence[str]) -> bool:
        """True while a rotation to `target` was started and some column is not done."""
        if not path.exists():
            return False
        doc = json.loads(path.read_text(encoding="utf-8"))
        return bool(doc.get("target") == target and not set(columns) <= set(doc["done"]))

    def save(self, path: Path) -> None:
        """Write atomically (a crash leaves the old or the new progress)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        doc = {"target": self.target, "after": self.after, "done": self.done}
        tmp.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)


@dataclass
class RekeyReport:
    """What one run did."""

    scanned: int = 0
    rewritten: int = 0
    batches: int = 0
    finished: bool = False


def _cursor(col: EncryptedColumn, text: str) -> Any:
    """A saved cursor back as the primary key's Python value (uuid.UUID, int, str)."""
    return col.pk.type.python_type(text)


class Rekeyer:
    """Walks the declared columns, re-encrypting what is not under the current key."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        cipher: FieldCipher,
        columns: Sequence[EncryptedColumn],
        progress_path: Path,
    ) -> None:
        self.sessions = sessions
        self.cipher = cipher
        self.columns = list(columns)
        self.progress_path = progress_path

    def total_rows(self) -> int:
        """Rows the walk visits (for a progress bar)."""
        with self.sessions() as s:
            return sum(
                s.scalar(select(func.count()).select_from(c.pk.class_)) or 0 for c in self.columns
            )

    def rows_done(self) -> int:
        """Rows a saved progress toward the current key has already passed (for the bar)."""
        progress = RekeyProgress.load(self.progress_path, self.cipher.ring.current)
        done = 0
        with self.sessions() as s:
            for c in self.columns:
                stmt = select(func.count()).select_from(c.pk.class_)
                if c.name in progress.done:
                    done += s.scalar(stmt) or 0
                elif c.name in progress.after:
                    done += s.scalar(stmt.where(c.pk <= _cursor(c, progress.after[c.name]))) or 0
        return done

    def run(
        self,
        batch: int,
        max_batches: int | None = None,
        on_batch: Callable[[str, int], None] | None = None,
    ) -> RekeyReport:
        """Re-encrypt in batches of `batch` rows until done (or `max_batches` batches ran)."""
        if not 1 <= batch <= MAX_BATCH:
            raise ValueError(f"batch must be between 1 and {MAX_BATCH}")
        target = self.cipher.ring.current
        progress = RekeyProgress.load(self.progress_path, target)
        report = RekeyReport()
        for col in self.columns:
            if col.name in progress.done:
                continue
            while True:
                if max_batches is not None and report.batches >= max_batches:
                    log.info("rekey paused at %s after %d batch(es)", col.name, report.batches)
                    return report
                after = progress.after.get(col.name)
                last, scanned, rewritten = self._batch(col, after, batch)
                report.batches += 1
                report.scanned += scanned
                report.rewritten += rewritten
                if last is None:
                    progress.done.append(col.name)
                else:
                    progress.after[col.name] = str(last)
                progress.save(self.progress_path)
                if on_batch is not None:
                    on_batch(col.name, scanned)
                if last is None:
                    break
        report.finished = True
        log.info("rekey to key %s finished: %d rewritten", target, report.rewritten)
        return report

    def _batch(self, col: EncryptedColumn, after: str | None, batch: int) -> tuple[Any, int, int]:
        """One transaction: the next `batch` rows after the cursor; (last pk or None, counts)."""
        rewritten = 0
        with transaction(self.sessions) as s:
            stmt = select(col.pk, col.column).order_by(col.pk).limit(batch)
            if after is not None:
                stmt = stmt.where(col.pk > _cursor(col, after))
            rows = s.execute(stmt).all()
            for pk, blob in rows:
                if blob is None:
                    continue
                try:
                    fresh = self.cipher.reencrypt(bytes(blob), col.context)
                except DecryptionError as exc:  # its message names no value and no key
                    log.warning("rekey stopped at %s row %s: %s", col.name, pk, exc)
                    raise RekeyStopped(col.name, pk, str(exc)) from None
                if fresh is None:
                    continue
                # Compare-and-set: a value changed since it was read is left for the next run.
                done = s.execute(
                    update(col.pk.class_)
                    .where(col.pk == pk, col.column == blob)
                    .values({col.column.key: fresh})
                    .execution_options(synchronize_session=False)
                )
                rewritten += done.rowcount or 0  # type: ignore[attr-defined]
        if not rows:
            return None, 0, 0
        return rows[-1][0], len(rows), rewritten

    def count_using(self, kid: str, batch: int = 1_000) -> int:
        """Ciphertexts still written under key `kid` (a full scan, in batches)."""
        return sum(
            1
            for blob in stored_blobs(self.sessions, self.columns, batch)
            if self.cipher.key_id_of(blob) == kid
        )


def stored_blobs(
    sessions: sessionmaker[Session], columns: Sequence[EncryptedColumn], batch: int = 1_000
) -> Iterator[bytes]:
    """Every ciphertext of the declared columns, read in batches of `batch` in key order."""
    for col in columns:
        after: Any = None
        while True:
            with sessions() as s:
                stmt = select(col.pk, col.column).order_by(col.pk).limit(batch)
                if after is not None:
                    stmt = stmt.where(col.pk > after)
                rows = s.execute(stmt).all()
            if not rows:
                break
            yield from (bytes(blob) for _, blob in rows if blob is not None)
            after = rows[-1][0]


def key_ids_in_use(
    sessions: sessionmaker[Session],
    columns: Sequence[EncryptedColumn],
    legacy: str | None,
    batch: int = 1_000,
) -> dict[str, int]:
    """How many ciphertexts each PII key id encrypted, over every declared column (a scan in
    batches; blobs of the first layout count under `legacy`, or "legacy" when it is unknown)."""
    found: dict[str, int] = {}
    for blob in stored_blobs(sessions, columns, batch):
        kid = key_id_in(blob, legacy) or "unknown"
        found[kid] = found.get(kid, 0) + 1
    return found
