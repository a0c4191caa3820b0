"""Receipts: everything needed to prove one journal entry, checkable offline with a public key.

A receipt carries the entry's hashed fields, its leaf position and RFC 9162 inclusion proof in
its bucket's log under a signed bucket checkpoint, and that checkpoint's inclusion proof in the
global log under a signed global checkpoint. `verify_receipt` is pure: no database, no network.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from civicpoints.ledger import chain, merkle
from civicpoints.ledger.note import Checkpoint, NoteError, Verifier, open_note

FORMAT = "civicpoints-receipt-v1"
UUID_FIELDS = {"account_id", "transfer_id", "counterparty_id"}
TIME_FIELDS = {"occurred_at", "recorded_at", "expires_at"}


def entry_to_json(f: chain.EntryFields) -> dict[str, Any]:
    """The hashed fields of an entry as JSON values (times keep their microseconds).

    `expires_at` appears only when the entry carries it (cp-entry-v2), so a v1 entry's
    receipt is as it always was.
    """
    out: dict[str, Any] = {}
    for item in fields(f):
        value = getattr(f, item.name)
        if value is None:
            continue
        out[item.name] = str(value) if item.name in UUID_FIELDS else value
        if item.name in TIME_FIELDS:
            out[item.name] = value.isoformat()
    return out


def entry_from_json(data: dict[str, Any]) -> chain.EntryFields:
    """Parse what `entry_to_json` produced."""
    values = dict(data)
    for name in UUID_FIELDS:
        values[name] = uuid.UUID(values[name])
    for name in TIME_FIELDS & values.keys():
        values[name] = datetime.fromisoformat(values[name])
    return chain.EntryFields(**values)


def b64(items: Sequence[bytes]) -> list[str]:
    """Proof hashes as standard base64 text."""
    return [base64.b64encode(x).decode() for x in items]


@dataclass(frozen=True)
class ReceiptCheck:
    """The outcome of checking a receipt: ok, and each problem found in both languages."""

    ok: bool
    problems: list[str]
    signers: list[str]


def verify_receipt(
    receipt: dict[str, Any], verifiers: Sequence[Verifier], required: int = 1
) -> ReceiptCheck:
    """Check a receipt end to end against trusted keys; `required` signatures on the global."""
    problems: list[str] = []
    signers: list[str] = []
    try:
        fields_ = entry_from_json(receipt["entry"])
        if receipt.get("format") != FORMAT:
            problems.append(f"未知的回执格式 / unknown receipt format {receipt.get('format')!r}")
        if chain.entry_hash(fields_) != receipt["entry_hash"]:
            problems.append("分录内容与哈希不符 / the entry's fields do not match its hash")
        leaf = merkle.leaf_hash(bytes.fromhex(receipt["entry_hash"]))
        bucket_body = _proved(
            receipt["bucket_checkpoint"],
            leaf,
            receipt["leaf_index"],
            receipt["inclusion_proof"],
            verifiers,
            1,  # the log's own key; witnesses cosign the global checkpoint that includes it
            "bucket",
            problems,
            signers,
        )
        if bucket_body is not None:
            _check_origin(bucket_body, f"/bucket/{fields_.bucket}", problems)
            _proved(
                receipt["global_checkpoint"],
                merkle.leaf_hash(bucket_body.encode()),
                receipt["global_leaf_index"],
                receipt["global_inclusion_proof"],
                verifiers,
                required,
                "global",
                problems,
                signers,
            )
    except (KeyError, TypeError, ValueError) as exc:
        problems.append(f"回执格式错误 / malformed receipt: {exc}")
    return ReceiptCheck(not problems, problems, sorted(set(signers)))


def _proved(
    note: str,
    leaf: bytes,
    index: int,
    proof: list[str],
    verifiers: Sequence[Verifier],
    required: int,
    which: str,
    problems: list[str],
    signers: list[str],
) -> str | None:
    """Open a signed checkpoint and check a leaf's inclusion under it; the body, or None."""
    try:
        body, names = open_note(note, verifiers, required)
    except NoteError as exc:
        problems.append(f"{which} checkpoint: {exc}")
        return None
    signers.extend(names)
    cp = Checkpoint.parse(body)
    path = [base64.b64decode(p, validate=True) for p in proof]
    if not merkle.verify_inclusion(leaf, index, cp.size, path, cp.root):
        problems.append(f"{which} 包含证明无效 / {which} inclusion proof does not verify")
    return body


def _check_origin(body: str, suffix: str, problems: list[str]) -> None:
    """The bucket checkpoint must be the log of the entry's own bucket."""
    if not Checkpoint.parse(body).origin.endswith(suffix):
        problems.append("检查点不属于该分录所在的分桶 / checkpoint is of another bucket's log")
