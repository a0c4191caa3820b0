"""The demo's outcome indicators (成效指标): 西湖区 joined the scheme twelve months before this
one; its departments reported 垃圾分类执行率 going 65% → 82% across the join month, 安全隐患
举报量 up 25%, 环境投诉率 down 30% and residents' satisfaction (the seed's figures), through
the same service as the API. One value was entered wrong and corrected, so its history shows."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy.orm import Session, sessionmaker

from civicpoints.access import Principal
from civicpoints.insights import IndicatorCreate, OutcomeCreate, OutcomeService, Unit
from civicpoints.kit.clock import add_months, local_date
from civicpoints.kit.db import transaction
from civicpoints.regions import Department, Region, RegionService

# (code, zh, en, unit, higher is better, department, who enters, source,
#  12 months before the join month, the join month and the 11 after)
Series = list[float | None]
INDICATORS: list[tuple[str, str, str, Unit, bool, Department, str, str, Series, Series]] = [
    (
        "waste_sorting_rate", "垃圾分类执行率", "Waste sorting compliance", Unit.PERCENT, True,
        Department.ENVIRONMENT, "env_officer", "西湖区生态环境分局 垃圾分类月度抽查",
        [64.5, 65.5, 64.5, 65.5, 64.5, 65.5, 64.5, 65.5, 64.5, 65.5, 64.5, 65.5],
        [75, 78, 80, 82, 83, 83, 84, 84, 84, 84, 84, 83],
    ),
    (
        "hazard_reports", "安全隐患举报量", "Safety hazard reports", Unit.COUNT, True,
        Department.PUBLIC_SECURITY, "police_officer", "西湖区公安分局 隐患举报登记",
        [38, 41, 40, 39, 42, 40, 37, 41, 40, 43, 39, 40],
        [44, 47, 49, 50, 51, 52, 50, 51, 52, 51, 52, 51],
    ),
    (
        "env_complaint_rate", "环境投诉率", "Environmental complaints", Unit.PER_10K, False,
        Department.ENVIRONMENT, "env_officer", "12345 热线 环境类投诉统计",
        [12.4, 11.8, 12.1, 12.3, 11.9, 12.0, 12.2, 11.7, 12.1, 11.9, 12.0, 11.6],
        [10.5, 9.6, 9.0, 8.6, 8.3, 8.1, 8.0, 7.9, 7.8, 7.7, 7.6, 7.7],
    ),
    (
        "satisfaction", "居民满意度", "Residents' satisfaction", Unit.PERCENT, True,
        Department.CIVIL_AFFAIRS, "mz_reviewer", "西湖区民政局 居民满意度抽样调查",
        [78.0] + [None] * 11, [None] * 5 + [86.0] + [None] * 5 + [90.0],
    ),
]  # fmt: skip
WRONG = ("waste_sorting_rate", 5, 38.3)  # 83 typed as 38.3, corrected below


def load_outcomes(
    sessions: sessionmaker[Session],
    district_id: uuid.UUID,
    principals: dict[str, Principal],
    now: datetime,
) -> date:
    """Define the indicators, enter 西湖区's join day and 24 months of values; the join day."""
    joined = local_date(now).replace(day=1)
    joined = date(joined.year - 1, joined.month, 1)
    with transaction(sessions) as s:
        service = OutcomeService(s)
        service.set_joined(principals["admin"], district_id, joined)
        for code, zh, en, unit, up, dept, _, _, _, _ in INDICATORS:
            body = IndicatorCreate(
                code=code, name=zh, name_en=en, unit=unit, higher_is_better=up, department=dept
            )
            service.define(principals["admin"], body)
    with transaction(sessions) as s:
        district = RegionService(s).get(district_id)
        _values(OutcomeService(s), district, principals, joined, now)
    return joined


def _values(
    service: OutcomeService,
    district: Region,
    principals: dict[str, Principal],
    joined: date,
    now: datetime,
) -> None:
    for code, _, _, _, _, _, who, source, before, after in INDICATORS:
        months = [add_months(joined, i).isoformat()[:7] for i in range(-12, 12)]
        for month, value in zip(months, before + after, strict=True):
            if value is None:
                continue
            if (code, months.index(month) - 12) == WRONG[:2]:
                _enter(service, principals[who], code, district, month, WRONG[2], source, now)
                reason = "录入错误：83 误录为 38.3 / typed 38.3 for 83"
                _enter(service, principals[who], code, district, month, value, source, now, reason)
            else:
                _enter(service, principals[who], code, district, month, value, source, now)


def _enter(
    service: OutcomeService,
    who: Principal,
    code: str,
    region: Region,
    month: str,
    value: float,
    source: str,
    now: datetime,
    reason: str | None = None,
) -> None:
    body = OutcomeCreate(
        indicator=code, region_id=region.id, month=month, value=value, source=source, reason=reason
    )
    service.record(who, body, now)
