"""How a participation record is shown: its state, its points, and a plain message."""

from __future__ import annotations

from sqlalchemy.orm import Session

from civicpoints.activities.models import Participation, RecordStatus
from civicpoints.activities.repository import ActivityRepository
from civicpoints.activities.schemas import ParticipationRead
from civicpoints.activities.venue import venue_words
from civicpoints.scoring import AwardRead, AwardRow, ScoringService

STATE_MESSAGES = {
    RecordStatus.CHECKED_IN: (
        "已签到。活动结束时请记得签退。",
        "checked in; please check out when the activity ends",
    ),
    RecordStatus.AWAITING_EVIDENCE: (
        "请上传一张现场照片，上传后即可获得积分。",
        "please upload a photo of the action to earn points",
    ),
    RecordStatus.PENDING_REVIEW: (
        "记录已提交审核，审核通过后发放积分。",
        "sent for review; points follow approval",
    ),
    RecordStatus.APPROVED: (
        "完成实名认证后即发放积分。",
        "points will be credited once your identity is verified",
    ),
}


def _message(record: Participation, award: AwardRow | None) -> dict[str, str]:
    """What happened to the record, in both languages."""
    if record.status == RecordStatus.REVOKED:
        return {
            "zh-CN": f"经核查，此记录不属实，积分和服务时长已追回：{record.review_reason}",
            "en": f"this record was found false; its points and hours were taken back: "
            f"{record.review_reason}",
        }
    if award is not None:
        return dict(award.explanation)
    if record.status == RecordStatus.REJECTED:
        return {
            "zh-CN": f"记录未通过审核：{record.review_reason}",
            "en": f"the record was not approved: {record.review_reason}",
        }
    zh, en = STATE_MESSAGES[RecordStatus(record.status)]
    if record.status == RecordStatus.PENDING_REVIEW:
        # Why it waits (e.g. a short stay), so the resident and the reviewer read the same.
        notes = [record.flag_notes[f] for f in record.flags if f in (record.flag_notes or {})]
        zh = "".join(f"{n['zh-CN']}。" for n in notes) + zh
        en = "".join(f"{n['en']}; " for n in notes) + en
    return {"zh-CN": zh, "en": en}


def participation_view(
    db: Session, record: Participation, venue_code_matched: bool | None = None
) -> ParticipationRead:
    """A record with its points decision and message; after a check-in that gave a venue
    code, whether it matched (said in the message too)."""
    award = ScoringService(db).award_of(record.id)
    evidence = ActivityRepository(db).evidence(record.id)
    message = _message(record, award)
    if venue_code_matched is not None:
        said = venue_words(venue_code_matched)
        message = {
            "zh-CN": message["zh-CN"] + said["zh-CN"],
            "en": f"{message['en']}; {said['en']}",
        }
    return ParticipationRead(
        id=record.id,
        activity_id=record.activity_id,
        resident_id=record.resident_id,
        source=record.source,
        status=record.status,
        checkin_at=record.checkin_at,
        checkout_at=record.checkout_at,
        started_at=record.started_at,
        ended_at=record.ended_at,
        flags=list(record.flags or []),
        slip_no=record.slip_no,
        review_reason=record.review_reason,
        evidence_count=len(evidence),
        points=AwardRead.model_validate(award) if award else None,
        message=message,
        venue_code_matched=venue_code_matched,
    )
