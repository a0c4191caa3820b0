"""The demo's 隐患随手拍: reports in every state, through the same service as the app.

On 保俶路 a loose manhole cover was reported twice within the hour (the police see the two as
duplicate candidates, both open; one is 张秀英's); on 北山街 a broken railing was confirmed
three days ago (the first reporter earned 20 points) and a second report of it merged; an
"oil on the river" report was rejected (the photo showed none); fresh rubbish dumped by the
沿山河 waits for the environment bureau.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from civicpoints.access import Principal
from civicpoints.community import (
    HazardCategory,
    HazardDecision,
    HazardReportCreate,
    HazardService,
)
from civicpoints.kit.clock import utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction

Photo = Callable[[tuple[float, float], datetime], bytes]
BAOCHU = (30.2641, 120.1449)
BEISHAN = (30.2596, 120.1402)
RIVER = (30.2679, 120.1342)

# (who: index into the pool or "zhang", hours ago, category, place, address, description,
#  decision, reason)
REPORTS: list[tuple[int | str, int, str, tuple[float, float], str, str, str | None, str]] = [
    (
        0,
        5 * 24 + 2,
        "safety",
        BEISHAN,
        "北山街 84 号沿湖栏杆",
        "湖边栏杆断了一截，孩子容易掉下去",
        "confirm",
        "已派民警设置围挡，通知园林部门修复",
    ),
    (
        1,
        5 * 24 - 3,
        "safety",
        (30.25965, 120.14025),
        "北山街 84 号对面湖边",
        "栏杆断裂",
        "merge",
        "同一处栏杆已由他人先报，一并处理",
    ),
    (
        2,
        30,
        "environment",
        RIVER,
        "沿山河玉古路桥下",
        "河面有一层油污",
        "reject",
        "现场核查及照片中均未见油污，可能是树影倒影",
    ),
    (
        3,
        3,
        "environment",
        (30.2683, 120.1338),
        "沿山河玉古路段北岸",
        "有人在河边倒了一堆建筑垃圾",
        None,
        "",
    ),
    (4, 2, "safety", BAOCHU, "保俶路 12 号路口", "井盖松动，车开过去会翘起来", None, ""),
    (
        "zhang",
        1,
        "safety",
        (30.26435, 120.1449),
        "保俶路 12 号公交站旁",
        "井盖一踩就晃，晚上很危险",
        None,
        "",
    ),
]


def load_hazards(
    sessions: sessionmaker[Session],
    ctx: Context,
    pool: list[uuid.UUID],
    zhang: uuid.UUID,
    staff: dict[str, Principal],
    community: uuid.UUID,
    photo: Photo,
) -> None:
    """File the demo's reports and decide the ones that are decided."""
    now = utcnow()
    people = pool or [zhang]  # a demo of no synthetic residents: 张秀英 reports them all
    filed: list[uuid.UUID] = []
    for who, hours, category, where, address, text, decision, reason in REPORTS:
        at = now - timedelta(hours=hours)
        resident = zhang if who == "zhang" else people[int(who) % len(people)]
        data = HazardReportCreate(
            category=HazardCategory(category),
            community_id=community,
            address=address,
            description=text,
            lat=where[0],
            lon=where[1],
        )
        with transaction(sessions) as s:
            service = HazardService(s, ctx)
            report = service.report(resident, data, photo(where, at), at)
            filed.append(report.id)
            if decision is not None:
                officer = staff["police_officer" if category == "safety" else "env_officer"]
                body = HazardDecision.model_validate(
                    {
                        "decision": decision,
                        "reason": reason,
                        "duplicate_of": filed[0] if decision == "merge" else None,
                    }
                )
                service.decide(report.id, body, officer, at + timedelta(hours=2))
