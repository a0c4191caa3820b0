"""A witness cosigns only a global log that grew consistently; receipts can require it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from civicpoints.cli.main import app as cli
from civicpoints.kit.clock import utcnow
from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings, get_settings
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


def test_witness_keeps_its_own_memory_and_refuses_a_forged_tree(
    sessions: sessionmaker[Session],
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`ledger cosign --state FILE` records what was signed; a forged bigger tree is refused."""
    log = log_signer(settings)
    credit(sessions, 5)
    sequence_once(sessions, log, settings.ledger_origin)
    monkeypatch.setenv("CIVICPOINTS_DATABASE_URL", settings.resolved_database_url())
    monkeypatch.setenv("CIVICPOINTS_VAR_DIR", str(settings.var_dir))
    get_settings.cache_clear()
    state, key = tmp_path / "witness.state", tmp_path / "witness.skey"
    args = ["ledger", "cosign", "--key", str(key), "--state", str(state)]
    try:
        first = CliRunner().invoke(cli, args)
        assert first.exit_code == 0 and state.read_text().count("\n") == 3, first.output
        # The operator rewrites the global log from scratch: a different tree of the same size.
        remembered = Checkpoint.parse(state.read_text())
        forged = Checkpoint(remembered.origin, remembered.size, os.urandom(32))
        with transaction(sessions) as s:
            s.add(
                CheckpointRow(
                    bucket=GLOBAL_LOG,
                    size=remembered.size + 1,
                    root=forged.root,
                    note=sign_note(
                        Checkpoint(remembered.origin, remembered.size + 1, forged.root).to_body(),
                        [log],
                    ),
                    key_hash=f"{log.key_hash:08x}",
                    signed_at=utcnow(),
                )
            )
        second = CliRunner().invoke(args=args, app=cli)
    finally:
        get_settings.cache_clear()
    assert second.exit_code != 0 and isinstance(second.exception, WitnessRefused)
