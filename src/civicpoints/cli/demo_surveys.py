"""The demo's surveys (问卷): the bureau's 2026 年度居民满意度问卷 of the demo district, answered by
enough residents that 90% say they feel more at home (有归属感 — the seed's yearly figure) and
closed; and a feedback survey on an activity 张女士 took part in, still open, so her home page
shows the 问卷 card."""

from __future__ import annotations

import uuid
from datetime import timedelta
from random import Random

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.access import Principal
from civicpoints.activities import Activity, Participation, RecordStatus
from civicpoints.cli.city import City
from civicpoints.identity import Resident
from civicpoints.insights import AnswerIn, SurveyCreate, SurveyService
from civicpoints.kit.clock import utcnow
from civicpoints.kit.db import transaction
from civicpoints.regions import Region

ANNUAL = "2026 年度居民满意度问卷"
HOME = ["有归属感", "没有变化", "说不清"]
RESPONDENTS = 200  # at most; 90% of them 有归属感 (180 of 200), the rest 没有变化 or 说不清
SCALE = {5: 90, 4: 70, 3: 20, 2: 10, 1: 10}  # every value chosen by 10 or more: a mean shows
KINDS = ["志愿服务", "环保行动", "公共监督", "教育支持"]
IDEAS = [
    "希望多组织周末的活动",
    "积分兑换的商品可以再多一些",
    "老年人用手机不方便，希望保留纸质签到",
    "活动通知能早一点发",
    "希望增加环保类活动",
]
ANNUAL_QUESTIONS = [
    {"kind": "single", "text": "参加积分活动后，您是否更有社区归属感？", "text_en":
     "Since taking part, do you feel more at home in your community?", "options": HOME},
    {"kind": "scale_1_5", "text": "您对公共服务积分制的总体满意度", "text_en":
     "Overall, how satisfied are you with the points scheme?"},
    {"kind": "multiple", "text": "您参加过哪些类型的活动？", "text_en":
     "Which kinds of activity have you joined?", "options": KINDS},
    {"kind": "text", "text": "您对积分制有什么建议？", "text_en": "Any suggestions?",
     "required": False},
]  # fmt: skip
FEEDBACK_QUESTIONS = [
    {"kind": "scale_1_5", "text": "您对这次活动的组织满意吗？",
     "text_en": "How satisfied were you with how the activity was run?"},
    {"kind": "single", "text": "您还愿意再参加类似的活动吗？",
     "text_en": "Would you join a similar activity again?",
     "options": ["愿意", "不确定", "不愿意"]},
    {"kind": "text", "text": "还有什么想对组织者说的？",
     "text_en": "Anything else for the organizers?", "required": False},
]  # fmt: skip


def load_surveys(
    sessions: sessionmaker[Session], city: City, staff: dict[str, Principal],
    pool: list[uuid.UUID], zhang: uuid.UUID | None, rng: Random,
) -> None:  # fmt: skip
    """Both surveys (each phase in its own transaction)."""
    with transaction(sessions) as s:
        _annual(s, city, staff["admin"], pool, rng)
    if zhang is not None:
        with transaction(sessions) as s:
            _feedback(s, staff, zhang)


def _annual(s: Session, city: City, admin: Principal, pool: list[uuid.UUID], rng: Random) -> None:
    """The district's yearly survey: opened 30 days ago, 200 answers, closed yesterday."""
    district = city.streets[0].parent_id
    assert district is not None
    path = s.get(Region, district).path  # type: ignore[union-attr]
    q = (
        select(Resident.id)
        .join(Region, Region.id == Resident.community_id)
        .where(Resident.id.in_(pool[:2000]), Region.path.startswith(path))
    )
    people = sorted(s.scalars(q).all())[:RESPONDENTS]
    now, service = utcnow(), SurveyService(s)
    body = {"title": ANNUAL, "title_en": "2026 residents' satisfaction survey",
            "region_id": district, "questions": ANNUAL_QUESTIONS}  # fmt: skip
    view = service.create(admin, SurveyCreate.model_validate(body))
    sid, qs = view.survey.id, [x.id for x in view.questions]
    service.open(admin, sid, now - timedelta(days=1), now - timedelta(days=30))
    homes = split(len(people))
    scale = [v for v, n in SCALE.items() for _ in range(n)]
    rng.shuffle(homes)
    rng.shuffle(scale)
    for i, rid in enumerate(people):
        kinds = sorted(rng.sample(range(len(KINDS)), rng.randint(1, 2)))
        text = IDEAS[i % len(IDEAS)] if i % 4 == 0 else ""
        answers = [
            AnswerIn(question_id=qs[0], choices=[homes[i]]),
            AnswerIn(question_id=qs[1], value=scale[i % len(scale)]),
            AnswerIn(question_id=qs[2], choices=kinds),
            AnswerIn(question_id=qs[3], text=text),
        ]
        service.submit(rid, sid, answers, now - timedelta(days=29 - i % 28))
    service.close(admin, sid, now - timedelta(days=1))


def split(n: int) -> list[int]:
    """The answers to 有归属感? of `n` respondents: 90% the first option, then 3:2."""
    home = round(n * 0.9)
    same = round((n - home) * 0.6)
    return [0] * home + [1] * same + [2] * (n - home - same)


def _feedback(s: Session, staff: dict[str, Principal], zhang: uuid.UUID) -> None:
    """Feedback on 张女士's latest activity, open for two more weeks."""
    q = (
        select(Participation.activity_id)
        .where(Participation.resident_id == zhang, Participation.status == RecordStatus.APPROVED)
        .order_by(Participation.created_at.desc())
    )
    activity = s.scalars(q).first()
    if activity is None:
        return
    service, now = SurveyService(s), utcnow()
    region = s.get(Activity, activity).region_id  # type: ignore[union-attr]
    path = s.get(Region, region).path  # type: ignore[union-attr]
    owner = staff["organizer"] if staff["organizer"].may("organizer", path) else staff["admin"]
    body = {"title": "活动反馈问卷", "title_en": "Activity feedback", "region_id": region,
            "target": "activities", "activity_ids": [activity],
            "questions": FEEDBACK_QUESTIONS}  # fmt: skip
    view = service.create(owner, SurveyCreate.model_validate(body))
    service.open(owner, view.survey.id, now + timedelta(days=14), now)
