"""My data (PIPL 个人信息保护法): download it, withdraw consent, ask for deletion, turn
recommendations (为您推荐) on or off.

Each action has its own confirmation page in plain words; each calls the API's own
`PrivacyService` (the download is the export of `GET /api/v1/me/data`, audited the same way).
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, JSONResponse, Response

from civicpoints.audit import request_facts
from civicpoints.identity import IdentityService
from civicpoints.insights import RecsService
from civicpoints.kit.clock import utcnow
from civicpoints.kit.errors import DomainError
from civicpoints.privacy import PrivacyService, to_html
from civicpoints.web.pages.forms import FormErrors, form_data
from civicpoints.web.pages.kit import Page, ResidentPage

router = APIRouter(include_in_schema=False)
CONSENT_VERSION = "2026-01"  # the privacy notice residents agree to (as the API's default)
ACTIONS = ("download", "withdraw", "consent", "deletion", "recs_on", "recs_off")
CONFIRMED = ("download", "withdraw", "deletion")  # giving consent back needs no warning


def _overview(p: Page, status: int = 200, **data: object) -> Response:
    assert p.who is not None
    resident = IdentityService(p.db, p.ctx).resident(p.who.id)
    waiting = PrivacyService(p.db, p.ctx).pending_deletion(p.who.id)
    data.setdefault("errors", FormErrors())
    recs_on = RecsService(p.db).enabled(p.who.id)
    return p.render(
        "resident/mydata.html", status, resident=resident, waiting=waiting, recs_on=recs_on, **data
    )


@router.get("/me/data")
def overview(p: ResidentPage, done: str = "") -> Response:
    """What we hold about you and what you can do with it."""
    return _overview(p, done=done if done in ACTIONS else "")


@router.get("/me/data/{action}")
def confirm(p: ResidentPage, action: str) -> Response:
    """The confirmation page of one action, saying what will happen."""
    if action not in CONFIRMED:
        return _overview(p, 404)
    days = p.ctx.settings.retention_deletion_days
    return p.render(f"resident/mydata_{action}.html", days=days, errors=FormErrors())


@router.get("/me/data.{fmt}")
def download(p: ResidentPage, fmt: str) -> Response:
    """The file: every record held about you (`GET /api/v1/me/data`), recorded as seen."""
    assert p.who is not None
    if fmt not in ("html", "json"):
        return _overview(p, 404)
    facts = request_facts(p.request, p.who, 200, action="export_personal_data", subject=p.who.id)
    data = PrivacyService(p.db, p.ctx).export_seen(p.who.id, facts)
    name = f'attachment; filename="my-civicpoints-data.{fmt}"'
    out: Response = HTMLResponse(to_html(data)) if fmt == "html" else JSONResponse(data)
    out.headers["Content-Disposition"] = name
    return p.finish(out)


@router.post("/me/data/withdraw")
def withdraw(p: ResidentPage) -> Response:
    """Withdraw consent (`POST /api/v1/me/consent/withdraw`)."""
    assert p.who is not None
    PrivacyService(p.db, p.ctx).withdraw(p.who.id)
    return p.redirect("/me/data?done=withdraw")


@router.post("/me/data/consent")
def give(p: ResidentPage) -> Response:
    """Give consent again (`POST /api/v1/me/consent`)."""
    assert p.who is not None
    try:
        PrivacyService(p.db, p.ctx).give(p.who.id, CONSENT_VERSION)
    except DomainError as exc:
        return _overview(p, exc.status, errors=FormErrors.of(exc, p.locale), done="")
    return p.redirect("/me/data?done=consent")


@router.post("/me/data/deletion")
def delete(p: ResidentPage) -> Response:
    """Ask for your personal data to be erased (`POST /api/v1/me/deletion`)."""
    assert p.who is not None
    try:
        PrivacyService(p.db, p.ctx).request_deletion(p.who.id)
    except DomainError as exc:
        return _overview(p, exc.status, errors=FormErrors.of(exc, p.locale), done="")
    return p.redirect("/me/data?done=deletion")


@router.post("/me/data/recommendations")
async def recommendations(p: ResidentPage) -> Response:
    """Turn 为您推荐 on (ranked now) or off (the stored list deleted now, nothing computed)."""
    assert p.who is not None
    values = await form_data(p.request, ("on",))
    try:
        on = RecsService(p.db).turn(p.who.id, values["on"], utcnow())
    except DomainError as exc:
        return _overview(p, exc.status, errors=FormErrors.of(exc, p.locale), done="")
    return p.redirect(f"/me/data?done=recs_{'on' if on else 'off'}")
