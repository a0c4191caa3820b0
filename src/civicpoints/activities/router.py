"""HTTP for activities, enrollment, attendance, evidence, offline records and reviews."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from civicpoints.activities.certify import CertificateDesk, CertificateRequest
from civicpoints.activities.education import EducationCredit
from civicpoints.activities.models import ActivityStatus, Participation
from civicpoints.activities.offline import OfflineService
from civicpoints.activities.photos import PhotoService
from civicpoints.activities.recheck import Rechecks
from civicpoints.activities.records import Phone, RecordService
from civicpoints.activities.records_export import as_csv, as_json, volunteer_records
from civicpoints.activities.schemas import (
    ActivityCreate,
    ActivityPage,
    ActivityRead,
    BulkApprove,
    CategoryName,
    CheckIn,
    EducationCreditChoice,
    EducationCreditRead,
    EnrollmentRead,
    ImportReport,
    OfflineRecordCreate,
    ParticipationRead,
    Position,
    RecheckKeep,
    RecordDecision,
    VenueCodeRead,
)
from civicpoints.activities.service import ActivityService
from civicpoints.activities.venue import VenueCodes, code_matched
from civicpoints.activities.views import participation_view
from civicpoints.hours import CertificateIssue, CertificateRead, Kind
from civicpoints.identity import IdentityService, ResidentCaller, StaffCaller, resident, staff
from civicpoints.kit.clock import local_date, utcnow
from civicpoints.kit.http import (
    Ctx,
    DbSession,
    Idempotent,
    file_upload,
    uploaded_file,
)

router = APIRouter(tags=["activities 活动"])
Limit = Annotated[int, Query(ge=1, le=200)]


@router.get("/activities", response_model=ActivityPage)
def list_activities(
    db: DbSession,
    limit: Limit = 50,
    cursor: str | None = None,
    category: CategoryName | None = None,
    upcoming: bool = Query(False, description="only activities that have not ended yet"),
) -> ActivityPage:
    """Published activities by start time (paginated with `cursor`)."""
    rows, nxt = ActivityService(db).page(
        limit, cursor, category, ends_after=utcnow() if upcoming else None
    )
    return ActivityPage(items=[ActivityRead.model_validate(a) for a in rows], next_cursor=nxt)


@router.post("/activities", response_model=ActivityRead, status_code=201)
def create_activity(body: ActivityCreate, who: StaffCaller, db: DbSession) -> ActivityRead:
    """Publish an activity (organizers of the owning organization or region)."""
    return ActivityRead.model_validate(ActivityService(db).create(body, who))


@router.get("/activities/{activity_id}", response_model=ActivityRead)
def get_activity(activity_id: uuid.UUID, db: DbSession) -> ActivityRead:
    """One activity."""
    return ActivityRead.model_validate(ActivityService(db).get(activity_id))


@router.post("/activities/{activity_id}/publish", response_model=ActivityRead)
def publish_activity(activity_id: uuid.UUID, who: StaffCaller, db: DbSession) -> ActivityRead:
    """Publish a draft activity so residents can enrol."""
    activity = ActivityService(db).set_status(activity_id, ActivityStatus.PUBLISHED, who)
    return ActivityRead.model_validate(activity)


@router.post("/activities/{activity_id}/cancel", response_model=ActivityRead)
def cancel_activity(activity_id: uuid.UUID, who: StaffCaller, db: DbSession) -> ActivityRead:
    """Cancel an activity."""
    activity = ActivityService(db).set_status(activity_id, ActivityStatus.CANCELLED, who)
    return ActivityRead.model_validate(activity)


@router.post(
    "/activities/{activity_id}/enrollments", response_model=EnrollmentRead, status_code=201
)
def enroll(activity_id: uuid.UUID, who: ResidentCaller, db: DbSession) -> EnrollmentRead:
    """Enrol the signed-in resident (waitlisted when full)."""
    return EnrollmentRead.model_validate(ActivityService(db).enroll(activity_id, who.id))


@router.get("/activities/{activity_id}/education-credit", response_model=EducationCreditRead)
def education_credit(
    activity_id: uuid.UUID, who: ResidentCaller, db: DbSession, ctx: Ctx
) -> EducationCreditRead:
    """Where the signed-in resident's points for the activity go (child_id null: the wallet)."""
    child = EducationCredit(db, ctx).choice(activity_id, who.id)
    return EducationCreditRead(activity_id=activity_id, child_id=child)


@router.put("/activities/{activity_id}/education-credit", response_model=EducationCreditRead)
def choose_education_credit(
    activity_id: uuid.UUID,
    body: EducationCreditChoice,
    who: ResidentCaller,
    db: DbSession,
    ctx: Ctx,
) -> EducationCreditRead:
    """Credit a 教育支持 activity's points to a confirmed child's education account, or (null)
    back to the wallet; fixed once the points are decided."""
    guardian = IdentityService(db, ctx).resident(who.id)
    child = EducationCredit(db, ctx).choose(activity_id, guardian, body.child_id)
    return EducationCreditRead(activity_id=activity_id, child_id=child)


@router.delete("/activities/{activity_id}/enrollments/me", response_model=EnrollmentRead)
def unenroll(activity_id: uuid.UUID, who: ResidentCaller, db: DbSession) -> EnrollmentRead:
    """Cancel the signed-in resident's enrollment."""
    return EnrollmentRead.model_validate(ActivityService(db).cancel_enrollment(activity_id, who.id))


@router.post("/activities/{activity_id}/checkin", response_model=ParticipationRead, status_code=201)
def check_in(
    activity_id: uuid.UUID, body: CheckIn, who: ResidentCaller, db: DbSession, ctx: Ctx
) -> ParticipationRead:
    """Check in on site with the phone's position, and the venue code if the organizer shows
    one (a wrong code is no error: the check-in stands and the answer says it did not match)."""
    phone = Phone(body.accuracy_m, body.device, body.venue_code)
    record = RecordService(db, ctx).check_in(
        activity_id, who.id, body.lat, body.lon, utcnow(), phone
    )
    return participation_view(db, record, code_matched(record, body.venue_code))


@router.get("/activities/{activity_id}/venue-code", response_model=VenueCodeRead)
def venue_code(activity_id: uuid.UUID, who: StaffCaller, db: DbSession, ctx: Ctx) -> VenueCodeRead:
    """The venue code (签到码) to show on site now, and when it turns, for staff who organise
    the activity (404 for anyone else, as for an unknown one); no code outside check-in."""
    return VenueCodes(db, ctx).screen(activity_id, who, utcnow()).read()


@router.post("/activities/{activity_id}/checkout", response_model=ParticipationRead)
def check_out(
    activity_id: uuid.UUID,
    body: Position,
    who: ResidentCaller,
    db: DbSession,
    ctx: Ctx,
    once: Idempotent,
) -> ParticipationRead:
    """Check out; points are credited when nothing is missing or doubtful."""

    def run() -> ParticipationRead:
        service = RecordService(db, ctx)
        phone = Phone(body.accuracy_m, body.device)
        record = service.check_out(
            activity_id, who.id, body.lat, body.lon, utcnow(), who.key, phone
        )
        return participation_view(db, record)

    return once(who.key, body, run)


# Uploads are read only after the caller is known (see `uploaded_file`).
Photo = Annotated[bytes, Depends(uploaded_file("photo", "upload_max_bytes", resident))]
SlipsCsv = Annotated[bytes, Depends(uploaded_file("file", "import_max_bytes", staff))]


@router.post(
    "/participations/{participation_id}/evidence",
    response_model=ParticipationRead,
    status_code=201,
    openapi_extra=file_upload("photo", "JPEG, PNG or WebP"),
)
def upload_evidence(
    participation_id: uuid.UUID, who: ResidentCaller, db: DbSession, ctx: Ctx, photo: Photo
) -> ParticipationRead:
    """Upload a photo of the service (content checked, EXIF time and place read)."""
    PhotoService(db, ctx).upload(participation_id, who.id, photo, who.key)
    return participation_view(db, RecordService(db, ctx).get(participation_id))


@router.get("/me/participations", response_model=list[ParticipationRead])
def my_records(
    who: ResidentCaller, db: DbSession, ctx: Ctx, limit: Limit = 50
) -> list[ParticipationRead]:
    """The signed-in resident's records, newest first, with points decisions."""
    rows = RecordService(db, ctx).of_resident(who.id, limit)
    return [participation_view(db, r) for r in rows]


@router.post("/participations", response_model=ParticipationRead, status_code=201)
def offline_record(
    body: OfflineRecordCreate,
    who: StaffCaller,
    db: DbSession,
    ctx: Ctx,
    once: Idempotent,
) -> ParticipationRead:
    """Enter a paper slip on a resident's behalf; it waits for review."""

    def run() -> ParticipationRead:
        return participation_view(db, OfflineService(db, ctx).record(body, who))

    return once(who.key, body, run, 201)


@router.post(
    "/participations/import",
    response_model=ImportReport,
    openapi_extra=file_upload("file", "CSV of paper slips"),
)
def import_records(
    who: StaffCaller, db: DbSession, ctx: Ctx, file: SlipsCsv, partial: bool = False
) -> ImportReport:
    """Import paper slips from CSV, idempotent by slip number.

    Any bad row: 422 listing every bad row, nothing written (or, with `partial=true`,
    the good rows are kept and the report names the bad ones).
    """
    return OfflineService(db, ctx).import_csv(file, who, partial)


@router.get("/reviews", response_model=list[ParticipationRead])
def review_queue(
    who: StaffCaller, db: DbSession, ctx: Ctx, limit: Limit = 50, after: uuid.UUID | None = None
) -> list[ParticipationRead]:
    """Records waiting for this reviewer."""
    return [participation_view(db, p) for p in OfflineService(db, ctx).queue(who, limit, after)]


@router.get("/reviews/recheck", response_model=list[ParticipationRead])
def recheck_list(
    who: StaffCaller, db: DbSession, ctx: Ctx, limit: Limit = 50, after: uuid.UUID | None = None
) -> list[ParticipationRead]:
    """Approved records found risky afterwards (e.g. their phone later served a farm of
    accounts), riskiest first: keep each (`POST /reviews/{id}/keep`) or claw it back
    (`POST /participations/{id}/clawback`)."""
    return [participation_view(db, p) for p in Rechecks(db, ctx).waiting(who, limit, after)]


@router.post("/reviews/{participation_id}/keep", response_model=ParticipationRead)
def keep_after_recheck(
    participation_id: uuid.UUID, body: RecheckKeep, who: StaffCaller, db: DbSession, ctx: Ctx
) -> ParticipationRead:
    """A second look found the approved record sound: it keeps its points, with the reason."""
    return participation_view(db, Rechecks(db, ctx).keep(participation_id, body.reason, who))


@router.post("/reviews/bulk-approve", response_model=list[ParticipationRead])
def bulk_approve(
    body: BulkApprove, who: StaffCaller, db: DbSession, ctx: Ctx
) -> list[ParticipationRead]:
    """Approve low-risk records together: all or none (409 naming the ones that are not)."""
    approved = OfflineService(db, ctx).approve_low_risk(body.participation_ids, body.reason, who)
    return [participation_view(db, p) for p in approved]


@router.post("/reviews/{participation_id}/decision", response_model=ParticipationRead)
def decide(
    participation_id: uuid.UUID,
    body: RecordDecision,
    who: StaffCaller,
    db: DbSession,
    ctx: Ctx,
    once: Idempotent,
) -> ParticipationRead:
    """Approve (then hours and points) or reject a record, with a reason."""

    def run() -> ParticipationRead:
        record: Participation = OfflineService(db, ctx).decide(
            participation_id, body.approve, body.reason, who, fraud=body.fraud
        )
        return participation_view(db, record)

    return once(who.key, body, run)


@router.post("/certificates", response_model=CertificateRead, status_code=201)
def issue_certificate(
    body: CertificateIssue, who: StaffCaller, db: DbSession, ctx: Ctx
) -> CertificateRead:
    """Issue a 志愿服务记录证明 (or 优秀志愿者 honour) for a resident's hours recorded by an
    organization in the caller's scope (organizers and reviewers; 404 outside it)."""
    req = CertificateRequest(
        platform_no=body.platform_no,
        organization_id=body.organization_id,
        person_in_charge=body.person_in_charge,
        contact=body.contact,
        participation_ids=body.participation_ids,
        kind=Kind(body.kind),
        honour=body.honour,
    )
    row = CertificateDesk(db, ctx).issue(who, req, local_date(utcnow()))
    return CertificateRead.of(row)


@router.get(
    "/volunteer-records",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}, "application/json": {}}}},
)
def export_volunteer_records(
    who: StaffCaller,
    db: DbSession,
    ctx: Ctx,
    organization_id: uuid.UUID,
    format: Literal["csv", "json"] = "json",
) -> Response:
    """Export an organization's volunteer records in the 2020 rules' categories (personal
    information, service, training, honours, evaluation; docs/exports.md). ID numbers are
    masked unless the caller is a city-wide administrator; every export is audited."""
    doc = volunteer_records(db, ctx, who, organization_id, local_date(utcnow()))
    if format == "csv":
        body, media = as_csv(doc), "text/csv; charset=utf-8"
    else:
        body, media = as_json(doc), "application/json"
    name = f"volunteer-records-{doc['exported_on']}.{format}"
    return Response(
        body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
