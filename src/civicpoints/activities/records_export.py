"""The export of volunteer records (志愿服务记录导出) for the national volunteer information
system, in the categories the 2020 rules name: personal information, service, training,
honours, evaluation. Field mapping: docs/exports.md.

Staff export the records of one organization in their scope (404 outside it, as for the
certificates). ID numbers are masked unless the exporter is a city-wide administrator (the
rule of the credit-record export); every export is audited, and so is each resident whose
full ID number it carries. CSV cells are inert (kit/export.py).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicpoints.access import Principal, Role
from civicpoints.activities.certify import CertificateDesk
from civicpoints.activities.models import Activity, Participation, RecordStatus
from civicpoints.audit import AuditFacts, AuditService
from civicpoints.hours import (
    CATEGORY_ZH,
    CertificateService,
    HoursService,
    Kind,
    StarPolicyService,
)
from civicpoints.identity import IdentityService, Resident
from civicpoints.kit.context import Context
from civicpoints.kit.export import csv_bytes

FORMAT = "civicpoints-volunteer-records-v1"
CSV_HEADER = (
    "个人信息.平台编号 personal.platform_no",
    "个人信息.姓名 personal.name",
    "个人信息.性别 personal.sex",
    "个人信息.证件类型 personal.id_type",
    "个人信息.证件号码 personal.id_number",
    "服务.日期 service.date",
    "服务.内容 service.content",
    "服务.类别 service.category",
    "服务.时长（小时） service.hours",
    "服务.组织 service.organization",
    "荣誉 honours",
    "评价.星级 evaluation.star_level",
    "评价.累计时长（小时） evaluation.total_hours",
)


def may_see_id_numbers(who: Principal) -> bool:
    """Full ID numbers only for a city-wide administrator (as the credit-record export)."""
    return who.may_citywide(Role.ADMIN)


def volunteer_records(
    session: Session, ctx: Context, who: Principal, organization_id: uuid.UUID, today: date
) -> dict[str, Any]:
    """The organization's volunteers and their records as one JSON document (audited)."""
    desk = CertificateDesk(session, ctx)
    org = desk.organization(who, organization_id)  # scope before existence
    stmt = (
        select(Participation.resident_id)
        .join(Activity, Activity.id == Participation.activity_id)
        .where(Participation.status == RecordStatus.APPROVED, Activity.organization_id == org.id)
        .distinct()
    )
    resident_ids = list(session.scalars(stmt).all())
    identity = IdentityService(session, ctx)
    full = may_see_id_numbers(who)
    audit = AuditService(session)
    audit.record(
        AuditFacts(
            "staff",
            who.id,
            "activities.volunteer_records_export",
            targets=(str(org.id), "unmasked" if full else "masked"),
        )
    )
    people = []
    for rid in sorted(resident_ids):
        lines = desk.lines(rid, org.id)
        if not lines:
            continue
        resident = identity.resident(rid)
        if full:
            audit.record(
                AuditFacts("staff", who.id, "activities.volunteer_records_export", subject_id=rid)
            )
        people.append(_person(session, ctx, identity, resident, org.name, lines, full, today))
    return {
        "format": FORMAT,
        "organization": org.name,
        "exported_on": today.isoformat(),
        "id_numbers": "full" if full else "masked",
        "volunteers": people,
    }


def _person(
    session: Session,
    ctx: Context,
    identity: IdentityService,
    resident: Resident,
    organization: str,
    lines: Sequence[Any],
    full: bool,
    today: date,
) -> dict[str, Any]:
    """One volunteer's five categories."""
    hours = HoursService(session)
    minutes = hours.minutes_of(resident.id, [x.participation_id for x in lines])
    stars = StarPolicyService(session).level_of(resident.id, resident.community_id, today)
    total = hours.summary(resident.id).total_minutes
    honours = [
        {"number": c.number, "title": c.content["honour"], "issued_on": c.issued_on.isoformat()}
        for c in CertificateService(session, ctx.settings).of_resident(resident.id)
        if c.kind == Kind.HONOUR
    ]
    return {
        "personal": {
            "platform_no": resident.public_no,
            "name": resident.name,
            "sex": {"M": "男", "F": "女"}.get(resident.sex, resident.sex),
            "id_type": "居民身份证",
            "id_number": identity.id_number(resident) if full else resident.id_masked,
        },
        "service": [
            {
                "date": x.served_on.isoformat(),
                "content": x.content,
                "category": CATEGORY_ZH.get(x.category, x.category),
                "hours": round(minutes.get(x.participation_id, 0) / 60, 2),
                "organization": organization,
            }
            for x in lines
            if minutes.get(x.participation_id, 0) > 0
        ],
        "training": [],  # the platform records no training yet
        "honours": honours,
        "evaluation": {
            "star_level": stars.name_zh,
            "total_hours": round(total / 60, 2),
        },
    }


def as_json(doc: dict[str, Any]) -> bytes:
    """The document as UTF-8 JSON."""
    return json.dumps(doc, ensure_ascii=False, indent=1).encode()


def as_csv(doc: dict[str, Any]) -> bytes:
    """One row per service line, the person's categories repeated; every cell inert."""
    rows: list[tuple[object, ...]] = [CSV_HEADER]
    for v in doc["volunteers"]:
        p, e = v["personal"], v["evaluation"]
        honours = "；".join(f"{h['title']}（{h['number']}）" for h in v["honours"])
        for s in v["service"]:
            rows.append(
                (
                    p["platform_no"],
                    p["name"],
                    p["sex"],
                    p["id_type"],
                    p["id_number"],
                    s["date"],
                    s["content"],
                    s["category"],
                    s["hours"],
                    s["organization"],
                    honours,
                    e["star_level"],
                    e["total_hours"],
                )
            )
    return csv_bytes(rows)
