"""HTTP for the service-hours register: hours and star level, certificates, the public check."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from civicpoints.hours.certificates import NUMBER_PATTERN, CertificateService
from civicpoints.hours.errors import CertificateNotFound
from civicpoints.hours.labels import CATEGORY_ZH
from civicpoints.hours.models import Certificate
from civicpoints.hours.pdf import certificate_pdf
from civicpoints.hours.policy import StarPolicyService
from civicpoints.hours.schemas import (
    CertificateRead,
    CheckRead,
    HoursRead,
    StarPolicyCreate,
    StarPolicyRead,
    StarRead,
)
from civicpoints.hours.service import HoursService
from civicpoints.hours.stars import star_level
from civicpoints.identity import IdentityService, ResidentCaller, StaffCaller
from civicpoints.kit.clock import local_date, utcnow
from civicpoints.kit.http import Ctx, DbSession, ReadSession

router = APIRouter(tags=["hours 服务时长"])
Number = Annotated[str, Path(min_length=18, max_length=18, pattern=NUMBER_PATTERN)]


@router.get("/me/hours", response_model=HoursRead)
def my_hours(who: ResidentCaller, db: DbSession, ctx: Ctx) -> HoursRead:
    """The signed-in resident's service hours and star level."""
    s = HoursService(db).summary(who.id)
    home = IdentityService(db, ctx).resident(who.id).community_id
    thresholds = StarPolicyService(db).for_region(home, local_date(utcnow()))
    level = star_level(s.total_minutes, thresholds)
    return HoursRead(
        total_hours=round(s.total_minutes / 60, 2),
        total_minutes=s.total_minutes,
        by_category={k: round(v / 60, 2) for k, v in s.by_category.items()},
        stars=StarRead(
            level=level.level,
            name=level.name_zh,
            hours_to_next=level.hours_to_next,
            thresholds=thresholds.hours,
        ),
    )


@router.get("/hours/star-policies", response_model=list[StarPolicyRead])
def list_star_policies(who: StaffCaller, db: ReadSession) -> list[StarPolicyRead]:
    """Every version of the star-level thresholds, newest first (the national default of
    100/300/600/1000/1500 hours applies where none does)."""
    return [StarPolicyRead.model_validate(r) for r in StarPolicyService(db).versions()]


@router.post("/hours/star-policies", response_model=StarPolicyRead, status_code=201)
def create_star_policy(body: StarPolicyCreate, who: StaffCaller, db: DbSession) -> StarPolicyRead:
    """Add a version of the star-level thresholds for a region or city-wide (administrators of
    it; from today at the earliest). Audited as every staff write."""
    return StarPolicyRead.model_validate(StarPolicyService(db).add(body, who))


@router.get("/me/certificates", response_model=list[CertificateRead])
def my_certificates(who: ResidentCaller, db: ReadSession, ctx: Ctx) -> list[CertificateRead]:
    """The signed-in resident's certificates (志愿服务记录证明, honours), newest first."""
    rows = CertificateService(db, ctx.settings).of_resident(who.id)
    return [CertificateRead.of(r) for r in rows]


@router.get("/me/certificates/{number}/pdf", response_class=Response)
def my_certificate_pdf(
    number: Number, who: ResidentCaller, db: ReadSession, ctx: Ctx, request: Request
) -> Response:
    """One of the resident's certificates as a PDF (404 for anyone else's)."""
    row = CertificateService(db, ctx.settings).get(number)
    if row is None or row.resident_id != who.id:
        raise CertificateNotFound("number")
    return pdf_response(row, request)


@router.get("/certificates/{number}/check", response_model=CheckRead)
def check_certificate(number: Number, db: ReadSession, ctx: Ctx) -> CheckRead:
    """Public: whether a certificate number is genuine, with its masked holder and hours."""
    return CheckRead.of(number, CertificateService(db, ctx.settings).check(number))


def verify_url(request: Request, number: str) -> str:
    """The public check page of a certificate, on this site."""
    return str(request.base_url).rstrip("/") + f"/verify/{number}"


def pdf_response(row: Certificate, request: Request) -> Response:
    """A certificate's PDF as a download named by its number."""
    body = certificate_pdf(row, verify_url(request, row.number), CATEGORY_ZH)
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{row.number}.pdf"'},
    )
