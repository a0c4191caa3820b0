"""A witness cosigns only a global log that grew consistently; receipts can require it."""

from __future__ import annotations

import os

import pytest
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.kit.clock import utcnow
from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings
from civicpoints.ledger.keys import generate_signer, log_signer
from civicpoints.ledger.models import CheckpointRow, Entry
from civicpoints.ledger.note import Checkpoint, sign_note
from civicpoints.ledger.proofs import ProofService
from civicpoints.ledger.receipt import verify_receipt
from civicpoints.ledger.sequencer import GLOBAL_LOG, bucket_origin
from civicpoints.ledger.tasks import sequence_once
from civicpoints.ledger.witness import WitnessRefused, cosign_latest

from .test_sequencer import credit


def test_cosigned_receipt_meets_two_signatures_and_a_rewrite_is_refused(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    """Log + witness sign; `required=2` passes; a forged bigger tree gets no cosignature."""
    log, witness = log_signer(settings), generate_signer("witness.example")
    credit(sessions, 5)
    sequence_once(sessions, log, settings.ledger_origin)
    with transaction(sessions) as s:
        cosign_latest(s, witness, [log.verifier])
    credit(sessions, 4, start=50)
    sequence_once(sessions, log, settings.ledger_origin)
    with transaction(sessions) as s:
        cosign_latest(s, witness, [log.verifier])  # consistent growth: cosigned again
        entry = s.query(Entry).order_by(Entry.recorded_at).first()
        assert entry is not None
        receipt = ProofService(s).receipt(entry)
    both = [log.verifier, witness.verifier]
    assert verify_receipt(receipt, both, required=2).ok
    assert not verify_receipt(receipt, [log.verifier], required=2).ok

    # The operator, holding the log key, signs a bigger global tree with a made-up root.
    with transaction(sessions) as s:
        head = ProofService(s).latest_row(GLOBAL_LOG)
        assert head is not None
        forged = Checkpoint(
            bucket_origin(settings.ledger_origin, GLOBAL_LOG), head.size + 1, os.urandom(32)
        )
        s.add(
            CheckpointRow(
                bucket=GLOBAL_LOG,
                size=forged.size,
                root=forged.root,
                note=sign_note(forged.to_body(), [log]),
                key_hash=f"{log.key_hash:08x}",
                signed_at=utcnow(),
            )
        )
    with transaction(sessions) as s, pytest.raises(WitnessRefused):
        cosign_latest(s, witness, [log.verifier])
