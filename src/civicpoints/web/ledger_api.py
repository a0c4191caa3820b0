"""HTTP for the verifiable ledger: checkpoints, keys, proofs, consistency, receipts.

Lives in `web` because it joins the ledger (which knows no residents) with who is asking.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from civicpoints.access import Principal, Role
from civicpoints.identity.router import bearer, principal, resident, staff
from civicpoints.kit.errors import Forbidden
from civicpoints.kit.http import Ctx, ReadSession
from civicpoints.ledger import (
    Entry,
    ProofService,
    SigningKey,
    account_id_for,
    entry_fields,
    entry_to_json,
    wallet_of,
)

router = APIRouter(tags=["ledger 账本"])

# Every endpoint here only reads: each request is one read-only transaction (a WAL snapshot on
# SQLite, so proofs do not wait behind a sequencer pass), the caller's sign-in checked in it.


def _reader(
    request: Request,
    db: ReadSession,
    ctx: Ctx,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller behind the bearer token, read in the request's read-only transaction."""
    return principal(request, db, ctx, creds)


Caller = Annotated[Principal, Depends(_reader)]


def _resident(who: Caller) -> Principal:
    """A signed-in resident, or 403."""
    return resident(who)


def _staff(who: Caller) -> Principal:
    """A signed-in staff member, or 403."""
    return staff(who)


ResidentCaller = Annotated[Principal, Depends(_resident)]
StaffCaller = Annotated[Principal, Depends(_staff)]


class CheckpointRead(BaseModel):
    """A signed checkpoint (C2SP signed note text)."""

    bucket: int
    size: int
    note: str
    signed_at: str


class LatestRead(BaseModel):
    """The newest global checkpoint and each bucket's newest."""

    global_: CheckpointRead | None = Field(default=None, alias="global")
    buckets: list[CheckpointRead]


class KeyRead(BaseModel):
    """A public verifier key (C2SP vkey text)."""

    key_hash: str
    name: str
    vkey: str
    role: str
    # When the key was first recorded (or first signed) and when `keys rotate-signing` retired
    # it (None: still current). A retired key stays listed: what it signed still verifies.
    valid_from: datetime
    valid_until: datetime | None = None


@router.get("/ledger/checkpoints/latest", response_model=LatestRead)
def latest_checkpoints(db: ReadSession) -> LatestRead:
    """The latest signed checkpoints: anyone may fetch, store and later compare them."""
    return LatestRead.model_validate(ProofService(db).latest())


@router.get("/ledger/keys", response_model=list[KeyRead])
def keys(db: ReadSession) -> list[KeyRead]:
    """Every key that has signed checkpoints (fetch once, verify offline forever)."""
    rows = db.scalars(select(SigningKey).order_by(SigningKey.created_at)).all()
    return [
        KeyRead(
            key_hash=k.key_hash,
            name=k.name,
            vkey=k.vkey,
            role=k.role,
            valid_from=k.created_at,
            valid_until=k.retired_at,
        )
        for k in rows
    ]


Bucket = Annotated[int, Path(ge=-1, le=65535, description="bucket number; -1 is the global log")]
TreeSize = Annotated[int, Query(ge=1, le=2**62)]


@router.get("/ledger/buckets/{bucket}/consistency", response_model=list[str])
def consistency(db: ReadSession, bucket: Bucket, first: TreeSize, second: TreeSize) -> list[str]:
    """RFC 9162 consistency proof (base64 hashes) between two sizes of a bucket's log."""
    return ProofService(db).consistency(bucket, first, second)


@router.get("/ledger/entries/{entry_id}/proof")
def entry_proof(entry_id: uuid.UUID, who: Caller, db: ReadSession) -> dict[str, Any]:
    """The receipt of one entry: for auditors and admins, or the resident whose entry it is."""
    entry = ProofService(db).entry(entry_id)
    _may_see(who, entry)
    return ProofService(db).receipt(entry)


@router.get("/me/ledger/{entry_id}/receipt")
def my_receipt(entry_id: uuid.UUID, who: ResidentCaller, db: ReadSession) -> JSONResponse:
    """Download a receipt of one of my entries (check it: `civicpoints ledger verify-receipt`)."""
    return receipt_download(db, who, entry_id)


def receipt_download(db: Session, who: Principal, entry_id: uuid.UUID) -> JSONResponse:
    """The receipt of an entry `who` may see, as a JSON file to save (API and pages)."""
    entry = ProofService(db).entry(entry_id)
    _may_see(who, entry)
    return JSONResponse(
        ProofService(db).receipt(entry),
        headers={"Content-Disposition": f'attachment; filename="receipt-{entry_id}.json"'},
    )


@router.get("/ledger/accounts/{account_id}/chain")
def account_chain(
    account_id: uuid.UUID,
    who: StaffCaller,
    db: ReadSession,
    after_seq: int = Query(0, ge=0, le=2**62),
    limit: int = Query(500, ge=1, le=5000),
) -> dict[str, Any]:
    """One account's entries in chain order with every hashed field, for replay (auditors)."""
    if not who.may_citywide(Role.AUDITOR):
        raise Forbidden()
    rows = db.scalars(
        select(Entry)
        .where(Entry.account_id == account_id, Entry.seq > after_seq)
        .order_by(Entry.seq)
        .limit(limit)
    ).all()
    entries = [{"entry": entry_to_json(entry_fields(e)), "entry_hash": e.entry_hash} for e in rows]
    return {
        "account_id": str(account_id),
        "entries": entries,
        "next_after_seq": rows[-1].seq if len(rows) == limit else None,
    }


def _may_see(who: Principal, entry: Entry) -> None:
    """Residents see their own wallet's entries; auditors and admins see all."""
    if who.kind == "resident" and entry.account_id == account_id_for(wallet_of(who.id)):
        return
    if who.kind == "staff" and who.may_citywide(Role.AUDITOR):
        return
    raise Forbidden()
