"""Witness cosigning: a second key vouches that the global log only ever grew.

Before adding its signature to the newest global checkpoint, the witness checks the log's own
signature and an RFC 9162 consistency proof from the last checkpoint it cosigned. A log that
rewrote history cannot get the witness's signature again, and verifiers that require N
signatures (`verify-receipt --required 2`) then refuse its receipts. Never commits.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicpoints.kit.clock import utcnow
from civicpoints.kit.errors import DomainError
from civicpoints.ledger import merkle
from civicpoints.ledger.models import CheckpointRow, Cosignature
from civicpoints.ledger.note import Checkpoint, Signer, Verifier, add_signatures, open_note
from civicpoints.ledger.proofs import ProofService
from civicpoints.ledger.sequencer import GLOBAL_LOG, note_body
from civicpoints.ledger.tasks import register_key


class WitnessRefused(DomainError):
    """The witness will not cosign: bad log signature or a log that is not an extension."""

    code = "ledger.witness_refused"
    status = 409
    messages = {
        "zh-CN": "见证方拒绝联署：{why_zh}",
        "en": "the witness refuses to cosign: {why_en}",
    }


def cosign_latest(
    session: Session,
    witness: Signer,
    log_keys: Sequence[Verifier],
    remembered: Checkpoint | None = None,
) -> CheckpointRow:
    """Check and cosign the newest global checkpoint; returns it.

    `remembered` is the last checkpoint this witness cosigned, kept on the witness's side
    (`ledger cosign --state FILE`): an operator who deletes cosignature rows cannot make a
    witness with its own memory forget what it signed. Without it, the database's record is used.
    """
    row = ProofService(session).latest_row(GLOBAL_LOG)
    if row is None:
        raise WitnessRefused(why_zh="还没有全局检查点", why_en="there is no global checkpoint yet")
    _check_signature(row, log_keys)
    if remembered is not None:
        _check_extends(session, remembered.size, remembered.root, row)
    else:
        _check_consistency(session, witness, row)
    register_key(session, witness, role="witness")
    signed = add_signatures(row.note, [witness])
    line = signed[len(row.note) :]
    exists = session.get(Cosignature, (GLOBAL_LOG, row.size, f"{witness.key_hash:08x}"))
    if exists is None:
        session.add(
            Cosignature(
                bucket=GLOBAL_LOG,
                size=row.size,
                key_hash=f"{witness.key_hash:08x}",
                line=line,
                signed_at=utcnow(),
            )
        )
        session.flush()
    return row


def _check_signature(row: CheckpointRow, log_keys: Sequence[Verifier]) -> None:
    """The checkpoint must carry a valid signature of the log itself."""
    try:
        open_note(row.note, log_keys)
    except ValueError as exc:
        raise WitnessRefused(why_zh="日志签名无效", why_en=f"log signature: {exc}") from None


def _check_consistency(session: Session, witness: Signer, row: CheckpointRow) -> None:
    """The new tree must extend the last one this witness cosigned."""
    last = session.scalars(
        select(Cosignature.size)
        .where(Cosignature.bucket == GLOBAL_LOG, Cosignature.key_hash == f"{witness.key_hash:08x}")
        .order_by(Cosignature.size.desc())
        .limit(1)
    ).first()
    if last is None or last == row.size:
        return
    old = session.get_one(CheckpointRow, (GLOBAL_LOG, last))
    _check_extends(session, last, Checkpoint.parse(note_body(old.note)).root, row)


def _check_extends(session: Session, old_size: int, old_root: bytes, row: CheckpointRow) -> None:
    """Refuse unless the checkpoint's tree provably extends the tree (old_size, old_root)."""
    if old_size == row.size and old_root == Checkpoint.parse(note_body(row.note)).root:
        return
    try:
        served = ProofService(session).consistency(GLOBAL_LOG, old_size, row.size)
    except DomainError:  # the stored tree is smaller than the checkpoint claims
        served = []
    proof = [base64.b64decode(p) for p in served]
    new_root = Checkpoint.parse(note_body(row.note)).root
    if old_size > row.size or not merkle.verify_consistency(
        old_size, row.size, old_root, new_root, proof
    ):
        raise WitnessRefused(
            why_zh="新检查点不是旧检查点的延续（账本可能被改写）",
            why_en="the new checkpoint does not extend the one cosigned before",
        )
