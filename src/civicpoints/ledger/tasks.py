"""Ledger jobs: `ledger.sequence` (one pass, or a loop inside the server)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.kit.clock import utcnow
from civicpoints.kit.db import transaction
from civicpoints.ledger.models import CheckpointRow, SigningKey
from civicpoints.ledger.note import Signer
from civicpoints.ledger.sequencer import PassReport, Sequencer
from civicpoints.ledger.service import LedgerService

log = logging.getLogger("civicpoints.ledger.sequence")


def register_key(session: Session, signer: Signer, role: str = "log") -> None:
    """Record a signing key's public half (once), so verifiers can list every key ever used."""
    key_hash = f"{signer.key_hash:08x}"
    if session.scalars(select(SigningKey).where(SigningKey.key_hash == key_hash)).first() is None:
        session.add(
            SigningKey(key_hash=key_hash, name=signer.name, vkey=signer.verifier.vkey(), role=role)
        )
        session.flush()


def record_rotation(session: Session, old: Signer, new: Signer) -> SigningKey:
    """Record a log key rotation: the old key listed as retired (valid until now), the new
    one registered (valid from now). Idempotent, so a rotation that stopped can be rerun."""
    old_hash = f"{old.key_hash:08x}"
    first = session.scalar(
        select(func.min(CheckpointRow.signed_at)).where(CheckpointRow.key_hash == old_hash)
    )
    register_key(session, old)
    row = session.get_one(SigningKey, old_hash)
    if first is not None and first < row.created_at:
        row.created_at = first  # registered late: valid from its first checkpoint
    if row.retired_at is None:
        row.retired_at = utcnow()
    register_key(session, new)
    session.flush()
    log.info("log key %s retired, %08x current", old_hash, new.key_hash)
    return row


# Inside the server a pass must stay short: on SQLite it holds the only write lock, and
# requests wait for it (a 20,000-entry pass held it long enough to time requests out).
SERVER_BATCH = 2_000


def sequence_once(
    sessions: sessionmaker[Session], signer: Signer, origin: str, batch: int = 20_000
) -> PassReport:
    """One sequencer pass in its own transaction, at most `batch` entries per bucket."""
    with transaction(sessions) as s:
        register_key(s, signer)
        return Sequencer(s, signer, origin).run(LedgerService(s).buckets(), batch)


def start_loop(
    sessions: sessionmaker[Session],
    signer: Signer | Callable[[], Signer],
    origin: str,
    interval: float,
) -> threading.Event:
    """Run passes every `interval` seconds in a daemon thread; set the returned event to stop.

    A callable `signer` is asked before each pass, so a rotated key file is picked up without a
    restart (`keys rotate-signing`)."""
    stop = threading.Event()
    current = signer if callable(signer) else lambda: signer

    def loop() -> None:
        while not stop.wait(interval):
            try:
                sequence_once(sessions, current(), origin, SERVER_BATCH)
            except Exception:  # keep serving; the next pass retries what is still queued
                log.exception("ledger.sequence pass failed")

    threading.Thread(target=loop, name="ledger.sequence", daemon=True).start()
    return stop
