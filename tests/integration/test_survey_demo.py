"""`civicpoints demo` loads the 2026 年度居民满意度问卷 of the demo district, 90% of whose
respondents feel more at home (the seed's figure), closed; and a feedback survey still open for
张女士, so her home page shows the 问卷 card."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.cli.demo import ZHANG_PHONE, load_demo
from civicpoints.cli.demo_surveys import ANNUAL, split
from civicpoints.identity import IdentityService
from civicpoints.identity.models import Staff
from civicpoints.insights import SurveyService
from civicpoints.insights.survey_models import Survey
from civicpoints.kit.clock import utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction


def test_split_keeps_the_seeds_ninety_percent() -> None:
    for n in (10, 30, 57, 200):
        homes = split(n)
        assert len(homes) == n and abs(homes.count(0) / n - 0.9) <= 0.5 / n + 1e-9


def test_the_demo_surveys(sessions: sessionmaker[Session], ctx: Context) -> None:
    assert load_demo(sessions, ctx, residents=60, seed=7) is True
    with transaction(sessions) as s:
        annual = s.scalars(select(Survey).where(Survey.title == ANNUAL)).one()
        assert annual.status == "closed"
        service = SurveyService(s)
        owner = s.get(Staff, annual.owner_id)
        assert owner is not None
        admin = IdentityService(s, ctx).staff_principal(owner)
        counts = service.repo.counts(annual.id)
        n = service.repo.respondents(annual.id)
        first = service.repo.questions(annual.id)[0]
        home = counts.get((first.id, 0), 0)
        assert n >= 10 and home == round(n * 0.9)
        results = service.results(admin, annual.id)
        assert results.respondents == n
        zhang = IdentityService(s, ctx).find_resident(ZHANG_PHONE)
        assert zhang is not None
        waiting = service.waiting(zhang.id, utcnow())
        assert [w.title for w in waiting] == ["活动反馈问卷"]
