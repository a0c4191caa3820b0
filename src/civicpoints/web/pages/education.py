"""教育积分 pages: the guardian's children (link a child, the link's status, the child's
education points by expiry, apply for an education entitlement), the per-activity choice of
where a 教育支持 activity's points go, and the education staff's page (confirm or reject
links, decide applications). The same services and errors as the API's /api/v1 routes."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from fastapi import APIRouter
from fastapi.responses import Response

from civicpoints.access import Principal
from civicpoints.activities import EducationCredit
from civicpoints.identity import (
    GuardianService,
    IdentityService,
    child_link_view,
    require_education_staff,
    staff_link_view,
)
from civicpoints.kit.clock import utcnow
from civicpoints.kit.errors import DomainError
from civicpoints.rewards import CatalogService, RedemptionService
from civicpoints.web.pages.activities import refused_detail
from civicpoints.web.pages.forms import FormErrors, form_data
from civicpoints.web.pages.kit import Page, ResidentPage, StaffPage

router = APIRouter(include_in_schema=False)
RELATIONS = ("father", "mother", "guardian")
LABELS = {"name": "Child's name", "id_number": "Child's ID-card number"}


def _children_page(p: Page, status: int, errors: FormErrors, values: dict[str, str]) -> Response:
    """The guardian's children, their education points, the link form, the applications."""
    assert p.who is not None
    links = GuardianService(p.db, p.ctx).children_of(p.who.id)
    items = [
        i
        for i in CatalogService(p.db).browse("education_priority", None, None, None, 20, utcnow())
        if i.fulfilment == "entitlement"
    ]
    applied = [r for r in CatalogService(p.db).redemptions_of(p.who.id, 50) if r.child_id]
    names = {i.id: i for i in items}
    return p.render(
        "resident/children.html",
        status,
        children=[child_link_view(p.db, lk, c) for lk, c in links],
        items=items,
        applied=applied,
        names=names,
        relations=RELATIONS,
        key=str(uuid.uuid4()),
        errors=errors,
        values=values,
    )


@router.get("/children")
def children(p: ResidentPage) -> Response:
    """My children and their education points (教育积分)."""
    return _children_page(p, 200, FormErrors(), {})


@router.post("/children")
async def link_child(p: ResidentPage) -> Response:
    """Link a child as `POST /api/v1/me/children` does; the education department confirms."""
    assert p.who is not None
    values = await form_data(p.request, ("name", "id_number", "relation"))
    labels = {k: p._(v) for k, v in LABELS.items()}
    if not values["name"].strip() or len(values["name"]) > 50:
        errors = FormErrors([("name", p._("Enter the child's name"))])
        return _children_page(p, 422, errors, values)
    relation = values["relation"] if values["relation"] in RELATIONS else "guardian"
    guardian = IdentityService(p.db, p.ctx).resident(p.who.id)
    try:
        GuardianService(p.db, p.ctx).link(
            guardian, values["name"].strip(), values["id_number"].strip()[:40], relation
        )
    except DomainError as exc:
        p.db.rollback()
        values.pop("id_number", None)  # never sent back
        return _children_page(p, exc.status, FormErrors.of(exc, p.locale, labels), values)
    return p.redirect("/children#linked")


@router.post("/children/{child_id}/apply")
async def apply_for_child(p: ResidentPage, child_id: uuid.UUID) -> Response:
    """Apply for an education entitlement paid from the child's education points."""
    assert p.who is not None
    values = await form_data(p.request, ("item_id", "key"))
    try:
        item_id = uuid.UUID(values["item_id"])
    except ValueError:
        errors = FormErrors([(None, p._("Choose what to apply for"))])
        return _children_page(p, 422, errors, {})
    key = f"web:{values['key'][:100] or uuid.uuid4()}"
    try:
        RedemptionService(p.db, p.ctx).redeem(p.who.id, item_id, 1, key, child_id=child_id)
    except DomainError as exc:
        p.db.rollback()
        errors = FormErrors([(None, m) for _f, m in FormErrors.of(exc, p.locale).items])
        return _children_page(p, exc.status, errors, {})
    return p.redirect("/children#applications")


@router.post("/activities/{activity_id}/education-credit")
async def choose_credit(p: ResidentPage, activity_id: uuid.UUID) -> Response:
    """Where this 教育支持 activity's points go: my wallet, or a confirmed child's account."""
    assert p.who is not None
    values = await form_data(p.request, ("credit",))
    child: uuid.UUID | None = None
    if values["credit"] not in ("", "wallet"):
        try:
            child = uuid.UUID(values["credit"])
        except ValueError:
            child = uuid.UUID(int=0)  # no such child: the service says so
    guardian = IdentityService(p.db, p.ctx).resident(p.who.id)
    try:
        EducationCredit(p.db, p.ctx).choose(activity_id, guardian, child)
    except DomainError as exc:
        return refused_detail(p, activity_id, exc)
    return p.redirect(f"/activities/{activity_id}#credit")


# -- the education department ----------------------------------------------------------------


def _staff_page(p: Page, status: int, errors: FormErrors) -> Response:
    """Links waiting for a decision, and applications paid from education points."""
    assert p.who is not None
    guardians = GuardianService(p.db, p.ctx)
    links = [staff_link_view(p.db, lk, c) for lk, c in guardians.queue(p.who, "pending", 100)]
    applications = RedemptionService(p.db, p.ctx).education_applications(p.who, None, 100)
    catalog, identity = CatalogService(p.db), IdentityService(p.db, p.ctx)
    rows = [
        (r, catalog.item(r.item_id), identity.resident(r.resident_id), guardians.child(r.child_id))
        for r in applications
        if r.child_id is not None
    ]
    return p.render("staff/education.html", status, links=links, applications=rows, errors=errors)


@router.get("/staff/education")
def education_desk(p: StaffPage) -> Response:
    """教育积分 for education staff: confirm links, decide applications."""
    assert p.who is not None
    require_education_staff(p.who)
    return _staff_page(p, 200, FormErrors())


@router.post("/staff/education/links/{link_id}")
async def decide_link(p: StaffPage, link_id: uuid.UUID) -> Response:
    """Confirm or reject a link, as `POST /api/v1/education/links/{id}/decision` does."""
    guardians = GuardianService(p.db, p.ctx)
    return await _decide(p, lambda ok, why, who: guardians.decide(link_id, ok, why[:200], who))


@router.post("/staff/education/applications/{redemption_id}")
async def decide_application(p: StaffPage, redemption_id: uuid.UUID) -> Response:
    """Approve or refuse an application paid from a child's education points."""
    redemptions = RedemptionService(p.db, p.ctx)
    return await _decide(
        p, lambda ok, why, who: redemptions.decide(redemption_id, ok, why[:500], who)
    )


async def _decide(p: StaffPage, decide: Callable[[bool, str, Principal], object]) -> Response:
    """A decision form (approve, or refuse with a reason the guardian reads): the staff page
    again with the reason when it fails, else back to it."""
    assert p.who is not None
    values = await form_data(p.request, ("decision", "reason"))
    approve = values["decision"] == "approve"
    if not approve and not values["reason"].strip():
        message = p._("Give a reason: the guardian reads it")
        return _staff_page(p, 422, FormErrors([(None, message)]))
    try:
        decide(approve, values["reason"], p.who)
    except DomainError as exc:
        p.db.rollback()
        errors = FormErrors([(None, m) for _f, m in FormErrors.of(exc, p.locale).items])
        return _staff_page(p, exc.status, errors)
    return p.redirect("/staff/education")
