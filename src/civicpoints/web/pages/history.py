"""The resident's records and points history: each line says what happened and why.

Records are the API's `GET /me/participations` (same service and view); the history is the
wallet's journal, newest first, paged by sequence number, each line with its receipt — the
same file as the API's `GET /me/ledger/{entry_id}/receipt`. Another resident's record or entry
is 404, exactly as an unknown id.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query
from fastapi.responses import Response

from civicpoints.activities import ListingService, RecordService, participation_view, venue_words
from civicpoints.kit.errors import Forbidden
from civicpoints.ledger import EntryNotFound, LedgerService, wallet_of
from civicpoints.web.ledger_api import receipt_download
from civicpoints.web.pages.kit import Page, ResidentPage

router = APIRouter(include_in_schema=False)
RECORDS = 50
LINES = 20


@router.get("/records")
def records(p: ResidentPage) -> Response:
    """My participation records, newest first, with their status and the reviewer's reason."""
    assert p.who is not None
    rows = RecordService(p.db, p.ctx).of_resident(p.who.id, RECORDS)
    titles = ListingService(p.db).by_id([r.activity_id for r in rows])
    views = [participation_view(p.db, r) for r in rows]
    return p.render("resident/records.html", records=views, activities=titles)


@router.get("/records/{participation_id}")
def record(p: ResidentPage, participation_id: uuid.UUID) -> Response:
    """One record: points and how they were counted, waiting for review and why, or refused."""
    assert p.who is not None
    row = RecordService(p.db, p.ctx).own(participation_id, p.who.id)
    activity = ListingService(p.db).by_id([row.activity_id])[row.activity_id]
    view = participation_view(p.db, row)
    venue = _venue_said(p, row.flags or [])
    return p.render(
        "resident/record.html", r=view, a=activity, notes=row.flag_notes or {}, venue=venue
    )


def _venue_said(p: Page, flags: list[str]) -> tuple[bool, str] | None:
    """Right after a check-in that gave a venue code (`?venue_code=…`, set by the check-in
    page): whether it matched, in the API's words. The record's flags decide, not the URL."""
    if p.request.query_params.get("venue_code") not in ("matched", "not_matched"):
        return None
    matched = "venue_code_ok" in flags
    return matched, venue_words(matched)["en" if p.locale == "en" else "zh-CN"]


@router.get("/history")
def history(
    p: ResidentPage, before: int | None = Query(None, ge=1, le=2**62, description="seq")
) -> Response:
    """My points history, newest first, each line explained, with its receipt."""
    assert p.who is not None
    rows = LedgerService(p.db).entries(wallet_of(p.who.id), LINES + 1, before)
    more = len(rows) > LINES
    rows = rows[:LINES]
    return p.render(
        "resident/history.html",
        entries=rows,
        older=rows[-1].seq if more else None,
        first=before is None,
    )


@router.get("/history/{entry_id}/receipt")
def receipt(p: ResidentPage, entry_id: uuid.UUID) -> Response:
    """The receipt of one of my entries, as a file (the API's code path); others' are 404."""
    assert p.who is not None
    try:
        return p.finish(receipt_download(p.db, p.who, entry_id))
    except Forbidden:
        raise EntryNotFound(field="entry_id") from None
