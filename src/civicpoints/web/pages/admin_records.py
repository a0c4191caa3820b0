"""The console's records: the audit log, job runs and alerts, the ledger's signed checkpoint."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timedelta
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from civicpoints.audit import AuditEntry, AuditQuery, AuditService
from civicpoints.identity import IdentityService
from civicpoints.jobs import last_run, recent_runs
from civicpoints.kit.clock import start_of_local_day
from civicpoints.ledger import ProofService
from civicpoints.web.pages.admin import AdminPage
from civicpoints.web.pages.forms import FormErrors
from civicpoints.web.pages.kit import Page

router = APIRouter(include_in_schema=False)
PAGE = 50
VERIFY_JOB = "ledger.verify"


def _day(p: Page, text: str, name: str, problems: list[tuple[str | None, str]]) -> date | None:
    """A date typed in the filter form, or None (a wrong one is named in `problems`)."""
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append((name, p._("Enter a date like 2026-12-06")))
        return None


def _query(p: Page, f: dict[str, str]) -> tuple[AuditQuery, FormErrors]:
    """The audit filters from the page's query string (actor by username)."""
    problems: list[tuple[str | None, str]] = []
    actor = None
    if f["actor"]:
        staff = IdentityService(p.db, p.ctx).staff_by_username(f["actor"])
        if staff is None:
            problems.append(("actor", p._("No staff member has this username")))
        actor = staff.id if staff else uuid.UUID(int=0)
    since, until = _day(p, f["since"], "since", problems), _day(p, f["until"], "until", problems)
    query = AuditQuery(
        actor_id=actor,
        action=f["action"][:120] or None,
        since=start_of_local_day(since) if since else None,
        until=start_of_local_day(until + timedelta(days=1)) if until else None,
        before=_cursor(f["cursor"]),
    )
    return query, FormErrors(problems)


def _cursor(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text) if text else None
    except ValueError:
        return None


def _actors(p: Page, rows: list[AuditEntry]) -> dict[uuid.UUID, str]:
    """Staff names of the actors on the page (residents stay ids: no personal data here)."""
    identity, names = IdentityService(p.db, p.ctx), {}
    for r in rows:
        if r.actor_kind == "staff" and r.actor_id and r.actor_id not in names:
            names[r.actor_id] = identity.staff_profile(r.actor_id).username
    return names


@router.get("/admin/audit")
def audit(
    p: AdminPage,
    actor: str = "",
    action: str = "",
    since: str = "",
    until: str = "",
    cursor: str = "",
) -> Response:
    """The audit log newest first, by actor, action and dates, 50 to a page."""
    assert p.who is not None
    f = {"actor": actor, "action": action, "since": since, "until": until, "cursor": cursor}
    query, errors = _query(p, f)
    rows = [] if errors else list(AuditService(p.db).page(p.who, query, PAGE))
    more = {k: v for k, v in f.items() if v and k != "cursor"}
    if len(rows) == PAGE:
        more["cursor"] = str(rows[-1].id)
    return p.render(
        "admin/audit.html",
        400 if errors else 200,
        rows=rows,
        actors=_actors(p, rows),
        values=f,
        errors=errors,
        next=more if len(rows) == PAGE else None,
    )


def _summary(data: dict[str, Any]) -> str:
    """A job's findings in one line (without the error's trace)."""
    shown = {k: v for k, v in data.items() if k not in ("trace", "first")}
    return json.dumps(shown, ensure_ascii=False, default=str)[:300]


def _took(start: datetime, end: datetime | None) -> float | None:
    return round((end - start).total_seconds(), 1) if end else None


@router.get("/admin/jobs")
def jobs(p: AdminPage, alerts: str = "") -> Response:
    """Scheduled job runs, newest first; the alerts first of all."""
    assert p.who is not None
    runs = recent_runs(p.db, p.who, alerts_only=alerts == "1", limit=100)
    rows = [(r, _summary(r.summary or {}), _took(r.started_at, r.finished_at)) for r in runs]
    return p.render("admin/jobs.html", rows=rows, alerts_only=alerts == "1")


@router.get("/admin/ledger")
def ledger(p: AdminPage) -> Response:
    """The ledger's latest signed global checkpoint and the last nightly verification."""
    latest = ProofService(p.db).latest()
    checkpoint = latest["global"]
    signed = datetime.fromisoformat(checkpoint["signed_at"]) if checkpoint else None
    run = last_run(p.db, VERIFY_JOB)
    first = list((run.summary or {}).get("first", []))[:20] if run else []
    return p.render(
        "admin/ledger.html",
        checkpoint=checkpoint,
        signed=signed,
        buckets=len(latest["buckets"]),
        run=run,
        faults=first,
    )
