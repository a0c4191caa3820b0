"""Star levels and certificates in the web app: the resident's certificates (download), the
staff page that issues them (organizers and reviewers of the organization that recorded the
hours), the export of an organization's volunteer records (the same staff), and the public
check page `/verify/{number}` that the certificate's QR code opens."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Path
from fastapi.responses import Response
from pydantic import ValidationError

from civicpoints.activities import (
    CERTIFIERS,
    CertificateDesk,
    CertificateRequest,
    may_see_id_numbers,
    volunteer_records,
    volunteer_records_csv,
    volunteer_records_json,
)
from civicpoints.hours import (
    CATEGORY_ZH,
    NUMBER_PATTERN,
    Certificate,
    CertificateIssue,
    CertificateNotFound,
    CertificateService,
    HoursService,
    Kind,
    Standing,
    StarPolicyService,
    certificate_pdf,
)
from civicpoints.identity import IdentityService
from civicpoints.kit.clock import local_date, utcnow
from civicpoints.kit.errors import DomainError
from civicpoints.web.pages.forms import FormErrors, form_data
from civicpoints.web.pages.kit import AnyPage, Page, ResidentPage, StaffPage
from civicpoints.web.pages.staff import require

router = APIRouter(include_in_schema=False)
Number = Annotated[str, Path(min_length=18, max_length=18, pattern=NUMBER_PATTERN)]
FIELDS = ("platform_no", "organization_id", "person_in_charge", "contact", "kind", "honour")


def pdf_response(p: Page, row: Certificate) -> Response:
    """A certificate's PDF as a download named by its number; the QR code opens this site's
    check page."""
    url = str(p.request.base_url).rstrip("/") + f"/verify/{row.number}"
    body = certificate_pdf(row, url, CATEGORY_ZH)
    disposition = f'attachment; filename="{row.number}.pdf"'
    response = Response(body, media_type="application/pdf")
    response.headers["Content-Disposition"] = disposition
    return p.finish(response)


@router.get("/certificates")
def my_certificates(p: ResidentPage) -> Response:
    """My star level and my certificates, each to download as a PDF."""
    assert p.who is not None
    me = IdentityService(p.db, p.ctx).resident(p.who.id)
    today = local_date(utcnow())
    return p.render(
        "resident/certificates.html",
        hours=HoursService(p.db).summary(me.id).total_minutes / 60,
        stars=StarPolicyService(p.db).level_of(me.id, me.community_id, today),
        rows=CertificateService(p.db, p.ctx.settings).of_resident(me.id),
    )


@router.get("/certificates/{number}/pdf")
def my_certificate_pdf(p: ResidentPage, number: Number) -> Response:
    """One of my certificates as a PDF (404 for anyone else's)."""
    assert p.who is not None
    row = CertificateService(p.db, p.ctx.settings).get(number)
    if row is None or row.resident_id != p.who.id:
        raise CertificateNotFound("number")
    return pdf_response(p, row)


def _issue_page(p: Page, status: int, errors: FormErrors, values: dict[str, str]) -> Response:
    assert p.who is not None
    desk = CertificateDesk(p.db, p.ctx)
    orgs = desk.organizations(p.who)
    rows = CertificateService(p.db, p.ctx.settings).by_organizations([o.id for o in orgs])
    return p.render(
        "staff/certificates.html", status, orgs=orgs, rows=rows, errors=errors, values=values
    )


@router.get("/staff/certificates")
def issue_form(p: StaffPage, resident: str = "") -> Response:
    """The issue form (a resident's platform number may come from the resident search)."""
    require(p, *CERTIFIERS)
    values = {"platform_no": resident[:32], "kind": "record"}
    return _issue_page(p, 200, FormErrors(), values)


@router.post("/staff/certificates")
async def issue(p: StaffPage) -> Response:
    """Issue a certificate, as `POST /api/v1/certificates` does."""
    who = require(p, *CERTIFIERS)
    values = await form_data(p.request, FIELDS)
    labels = {
        "platform_no": p._("Platform number"),
        "organization_id": p._("Issuing organization"),
        "person_in_charge": p._("Person in charge"),
        "contact": p._("Contact"),
    }
    try:
        body = CertificateIssue.model_validate({**values, "kind": values["kind"] or "record"})
        row = CertificateDesk(p.db, p.ctx).issue(
            who,
            CertificateRequest(
                platform_no=body.platform_no,
                organization_id=body.organization_id,
                person_in_charge=body.person_in_charge,
                contact=body.contact,
                kind=Kind(body.kind),
                honour=body.honour,
            ),
            local_date(utcnow()),
        )
    except (DomainError, ValidationError) as exc:
        return _issue_page(p, 422, FormErrors.of(exc, p.locale, labels), values)
    return p.redirect(f"/staff/certificates?issued={row.number}")


@router.get("/staff/certificates/{number}/pdf")
def staff_certificate_pdf(p: StaffPage, number: Number) -> Response:
    """A certificate issued by an organization of the staff member's (404 otherwise)."""
    who = require(p, *CERTIFIERS)
    row = CertificateService(p.db, p.ctx.settings).get(number)
    mine = {o.id for o in CertificateDesk(p.db, p.ctx).organizations(who)}
    if row is None or row.organization_id not in mine:
        raise CertificateNotFound("number")
    return pdf_response(p, row)


@router.get("/verify/{number}")
def verify_certificate(p: AnyPage, number: Number) -> Response:
    """Public: whether a certificate is genuine, with only its masked holder, hours, issuer
    and date."""
    check = CertificateService(p.db, p.ctx.settings).check(number)
    status = 404 if check.standing == Standing.UNKNOWN else 200
    return p.render("certificate_check.html", status, number=number, check=check)


# -- the export of volunteer records (docs/exports.md) ---------------------------------------


@router.get("/staff/volunteer-records")
def records_export_page(p: StaffPage, organization: str = "") -> Response:
    """Choose an organization in scope and download its volunteer records as CSV or JSON
    (`GET /api/v1/volunteer-records`); a plain GET form and links, no script needed."""
    who = require(p, *CERTIFIERS)
    orgs = CertificateDesk(p.db, p.ctx).organizations(who)
    chosen = organization if any(str(o.id) == organization for o in orgs) else ""
    return p.render(
        "staff/volunteer_records.html",
        orgs=orgs,
        chosen=chosen or (str(orgs[0].id) if orgs else ""),
        full=may_see_id_numbers(who),
    )


@router.get("/staff/volunteer-records/download")
def records_export_download(
    p: StaffPage,
    organization_id: uuid.UUID,
    format: Literal["csv", "json"] = "csv",
) -> Response:
    """The export itself, as the API gives it: scope in SQL first (404 outside it), ID numbers
    masked unless the exporter is a city-wide administrator, an audit row for every export."""
    who = require(p, *CERTIFIERS)
    doc = volunteer_records(p.db, p.ctx, who, organization_id, local_date(utcnow()))
    if format == "csv":
        body, media = volunteer_records_csv(doc), "text/csv; charset=utf-8"
    else:
        body, media = volunteer_records_json(doc), "application/json"
    response = Response(body, media_type=media)
    name = f"volunteer-records-{doc['exported_on']}.{format}"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return p.finish(response)
