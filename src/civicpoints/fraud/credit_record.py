"""The credit-record export (信用记录): third-step cases for the national credit system.

One CSV row per standing case whose sanction reached the third step of the ladder, decided in
the month asked for. Columns and their meaning are in docs/fraud.md ("Credit-record export");
the file is UTF-8 with a BOM and every cell inert (kit/export.py). Only a city-wide
administrator may export it, and each exported person's view is recorded in the audit log.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from civicpoints.access import Principal, Role
from civicpoints.audit import AuditFacts, AuditService
from civicpoints.fraud.case_repository import CaseRepository
from civicpoints.identity import IdentityService
from civicpoints.kit import months
from civicpoints.kit.clock import BUSINESS_TZ
from civicpoints.kit.context import Context
from civicpoints.kit.errors import Forbidden
from civicpoints.kit.export import csv_bytes
from civicpoints.regions import RegionService

HEADER = (
    "记录编号 record_no",
    "主体名称 name",
    "证件类型 id_type",
    "证件号码 id_number",
    "失信行为 conduct",
    "认定日期 decided_on",
    "认定单位 authority",
    "处理措施 measure",
    "措施截止 until",
    "认定依据 basis",
)
CONDUCT = "以虚假服务记录骗取公共服务积分（第三次经确认）"
BASIS = "公共服务积分管理规定：经确认的虚假记录，12 个月内第三次，暂停获取积分并记入信用记录"


def credit_record_csv(session: Session, ctx: Context, first: date, who: Principal) -> bytes:
    """The month's credit-record rows as CSV (city-wide administrators only; audited)."""
    if not who.may_citywide(Role.ADMIN):
        raise Forbidden()
    since, until = months.bounds(first)
    identity, regions = IdentityService(session, ctx), RegionService(session)
    audit = AuditService(session)
    rows: list[tuple[object, ...]] = [HEADER]
    for case in CaseRepository(session).credit_records(since, until):
        resident = identity.resident(case.resident_id)
        audit.record(
            AuditFacts("staff", who.id, "fraud.credit_record_export", subject_id=resident.id)
        )
        ends = case.suspended_until.astimezone(BUSINESS_TZ).date() if case.suspended_until else ""
        rows.append(
            (
                str(case.id),
                resident.name,
                "居民身份证",
                identity.id_number(resident),
                CONDUCT,
                case.decided_at.astimezone(BUSINESS_TZ).date().isoformat(),
                regions.get(case.region_id).name,
                "暂停获取积分",
                str(ends),
                BASIS,
            )
        )
    return csv_bytes(rows)
