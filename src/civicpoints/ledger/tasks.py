"""Ledger jobs: `ledger.sequence`, one pass (run in a loop by jobs.Background)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.kit.db import transaction
from civicpoints.ledger.models import SigningKey
from civicpoints.ledger.note import Signer
from civicpoints.ledger.sequencer import PassReport, Sequencer
from civicpoints.ledger.service import LedgerService


def register_key(session: Session, signer: Signer, role: str = "log") -> None:
    """Record a signing key's public half (once), so verifiers can list every key ever used."""
    key_hash = f"{signer.key_hash:08x}"
    if session.scalars(select(SigningKey).where(SigningKey.key_hash == key_hash)).first() is None:
        session.add(
            SigningKey(key_hash=key_hash, name=signer.name, vkey=signer.verifier.vkey(), role=role)
        )
        session.flush()


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
