"""Ledger jobs: `ledger.sequence`, one pass (run in a loop by jobs.Background)."""

from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.kit.clock import utcnow
from civicpoints.kit.db import transaction
from civicpoints.ledger.models import CheckpointRow, SigningKey
from civicpoints.ledger.note import Signer
from civicpoints.ledger.sequencer import PassReport, Sequencer
from civicpoints.ledger.service import LedgerService

log = logging.getLogger(__name__)


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
