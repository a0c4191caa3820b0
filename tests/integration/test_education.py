"""教育积分 (education points, issue 11 item 3) over the API on SQLite and PostgreSQL: a guardian
links a child, education staff confirm, 教育支持 points go to the child's education account
ending with the enrolment year (a region setting), two guardians credit one child, and the
points buy only an education entitlement the education staff decide. Bad input is a clear 4xx
with nothing written; `ledger verify` passes after every step."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.access import Principal
from civicpoints.activities import FraudDesk
from civicpoints.cli.city import City
from civicpoints.cli.demo_rewards import Rewards
from civicpoints.hours.service import HoursService
from civicpoints.identity.education_models import Child, EducationSetting, GuardianLink
from civicpoints.kit.clock import as_utc, local_date, start_of_local_day, utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings
from civicpoints.ledger import LedgerService, education_intake_of, education_of, wallet_of
from civicpoints.rewards.models import Redemption
from tests.integration.conftest import id_number
from tests.integration.test_api import login, resident_headers
from tests.integration.test_carry import Verifies
from tests.integration.test_earning import attend
from tests.integration.test_rewards import me

API = "/api/v1"
CHILD = id_number(50, birth="20180901", sex_digit=1)  # 李小明, born 2018-09-01


def year_end(ended: datetime, month: int, day: int) -> datetime:
    """The expected expiry, worked out here independently: the first `month`-`day` (Beijing)
    on or after the day the service ended, to its very end."""
    on = local_date(ended)
    last = date(on.year, month, day)
    if last < on:
        last = date(on.year + 1, month, day)
    return start_of_local_day(last + timedelta(days=1))


def counts(s: Session) -> tuple[int, int, int]:
    """Children, links and redemptions stored."""
    return (
        s.scalar(select(func.count()).select_from(Child)) or 0,
        s.scalar(select(func.count()).select_from(GuardianLink)) or 0,
        s.scalar(select(func.count()).select_from(Redemption)) or 0,
    )


def link_and_confirm(client: TestClient, guardian: dict[str, str]) -> uuid.UUID:
    """The guardian links 李小明; the street's education officer confirms."""
    linked = client.post(
        f"{API}/me/children",
        json={"name": "李小明", "id_number": CHILD, "relation": "father"},
        headers=guardian,
    )
    assert linked.status_code == 201, linked.text
    assert linked.json()["status"] == "pending" and linked.json()["id_masked"] != CHILD
    officer = login(client, "edu_officer")
    queue = client.get(f"{API}/education/links", headers=officer).json()
    link_id = linked.json()["link_id"]
    assert link_id in [x["link_id"] for x in queue]
    path = f"{API}/education/links/{link_id}/decision"
    ok = client.post(
        path, json={"decision": "approve", "reason": "户口簿核对无误"}, headers=officer
    )
    assert ok.status_code == 200 and ok.json()["status"] == "confirmed", ok.text
    return uuid.UUID(linked.json()["child_id"])


def education_activity(make_activity: Callable[..., uuid.UUID], hours_ago: int) -> tuple:
    """A finished two-hour 教育支持 activity: (id, start, end)."""
    start = utcnow().replace(microsecond=0) - timedelta(hours=hours_ago)
    activity = make_activity(start, hours=2, category="education_support", title="课后托管辅导")
    return activity, start, start + timedelta(hours=2)


def test_two_guardians_credit_a_child_who_spends_on_enrolment_priority(
    client: TestClient,
    city: City,
    sessions: sessionmaker[Session],
    settings: Settings,
    ctx: Context,
    rewards: Rewards,
    make_activity: Callable[..., uuid.UUID],
) -> None:
    """Link → confirm → 教育支持 for the child (points to the child, ending 08-31; wallet
    untouched; hours to the guardian) → a second guardian credits the same child under the
    region's own year end → 子女入学优先审核 from the child's points, approved by education
    staff; the ledger verifies after each step."""
    verifies = Verifies(sessions, settings)
    li = resident_headers(client, city, 1)
    li_id = me(client, li)
    child_id = link_and_confirm(client, li)
    verifies()

    activity, start, end = education_activity(make_activity, 5)
    chose = client.put(
        f"{API}/activities/{activity}/education-credit",
        json={"child_id": str(child_id)},
        headers=li,
    )
    assert chose.status_code == 200 and chose.json()["child_id"] == str(child_id), chose.text
    attend(sessions, ctx, activity, li_id, start, end)
    with sessions() as s:
        ledger = LedgerService(s)
        assert ledger.balance(wallet_of(li_id)) == 0 and ledger.lots(wallet_of(li_id)) == []
        assert ledger.balance(education_intake_of(li_id)) == 0
        lots = [(x.remaining, as_utc(x.expires_at)) for x in ledger.lots(education_of(child_id))]
        assert lots == [(20, year_end(end, 8, 31))]
        assert HoursService(s).summary(li_id).total_minutes == 120
    mine = client.get(f"{API}/me/children", headers=li).json()
    assert mine[0]["balance"] == 20 and mine[0]["status"] == "confirmed"
    assert as_utc(datetime.fromisoformat(mine[0]["lots"][0]["expires_at"])) == year_end(end, 8, 31)
    verifies()

    # The second guardian, after this community set its enrolment year to end on 07-15 (a
    # city-wide 06-30 is less specific and loses).
    with transaction(sessions) as s:
        yesterday = local_date(utcnow()) - timedelta(days=1)
        s.add(EducationSetting(region_id=None, effective_from=yesterday, year_end="06-30",
                               created_by=uuid.uuid4()))  # fmt: skip
        s.add(EducationSetting(region_id=city.communities[0].id, effective_from=yesterday,
                               year_end="07-15", created_by=uuid.uuid4()))  # fmt: skip
    mother = resident_headers(client, city, 2)
    mother_id = me(client, mother)
    assert link_and_confirm(client, mother) == child_id
    second, start2, end2 = education_activity(make_activity, 3)
    path = f"{API}/activities/{second}/education-credit"
    assert client.put(path, json={"child_id": str(child_id)}, headers=mother).status_code == 200
    attend(sessions, ctx, second, mother_id, start2, end2)
    with sessions() as s:
        ledger = LedgerService(s)
        assert ledger.balance(wallet_of(mother_id)) == 0
        got = sorted(
            (x.remaining, as_utc(x.expires_at)) for x in ledger.lots(education_of(child_id))
        )
        assert got == sorted([(20, year_end(end, 8, 31)), (20, year_end(end2, 7, 15))])
    verifies()

    # 子女入学优先审核, priced 30 here, paid from the child's 40 education points.
    admin = login(client, "admin")
    item = rewards.items["EDU-PRIORITY"].id
    patched = client.patch(f"{API}/rewards/{item}", json={"price_points": 30}, headers=admin)
    assert patched.status_code == 200, patched.text
    applied = client.post(
        f"{API}/me/children/{child_id}/redemptions", json={"item_id": str(item)}, headers=li
    )
    assert applied.status_code == 201, applied.text
    body = applied.json()
    assert body["status"] == "pending" and body["child_id"] == str(child_id)
    decision = f"{API}/redemptions/{body['id']}/decision"
    verdict = {"decision": "approve", "reason": "符合入学优先审核条件"}
    for outsider in ("edu_other", "edu_reviewer"):  # another region; a department reviewer
        refused = client.post(decision, json=verdict, headers=login(client, outsider))
        assert refused.status_code == 403, refused.text
    officer = login(client, "edu_officer")
    queue = client.get(f"{API}/education/applications", headers=officer).json()
    assert [x["id"] for x in queue] == [body["id"]]
    assert (
        client.get(f"{API}/education/applications", headers=login(client, "edu_other")).json() == []
    )
    approved = client.post(decision, json=verdict, headers=officer)
    assert approved.status_code == 200 and approved.json()["status"] == "approved", approved.text
    with sessions() as s:
        ledger = LedgerService(s)
        assert ledger.balance(education_of(child_id)) == 10
        assert ledger.balance(wallet_of(li_id)) == 0
    verifies()


def test_bad_input_is_a_clear_4xx_with_nothing_written(
    client: TestClient,
    city: City,
    sessions: sessionmaker[Session],
    settings: Settings,
    ctx: Context,
    rewards: Rewards,
    make_activity: Callable[..., uuid.UUID],
) -> None:
    """A child ID failing the check (422); crediting a child unconfirmed (409) or unlinked
    (404); a child on a non-教育支持 activity (422); education points on a non-education item
    (422); education staff of another region (403); a third guardian (409)."""
    verifies = Verifies(sessions, settings)
    li = resident_headers(client, city, 1)
    with sessions() as s:
        before = counts(s)
    wrong = CHILD[:-1] + ("0" if CHILD[-1] != "0" else "1")  # the check character broken
    for bad in (wrong, "33010620180901501", "330106201809015012X"):
        r = client.post(f"{API}/me/children", json={"name": "李小明", "id_number": bad}, headers=li)
        assert r.status_code == 422 and r.json()["code"] == "identity.invalid_id_number", r.text
    adult = id_number(51, birth="19900101", sex_digit=1)
    r = client.post(f"{API}/me/children", json={"name": "李大明", "id_number": adult}, headers=li)
    assert r.status_code == 422 and r.json()["code"] == "education.not_a_minor"
    with sessions() as s:
        assert counts(s) == before

    linked = client.post(f"{API}/me/children", json={"name": "李小明", "id_number": CHILD},
                         headers=li)  # fmt: skip
    assert linked.status_code == 201
    child_id, link_id = linked.json()["child_id"], linked.json()["link_id"]
    activity, _, _ = education_activity(make_activity, 5)
    path = f"{API}/activities/{activity}/education-credit"
    pending = client.put(path, json={"child_id": child_id}, headers=li)
    assert pending.status_code == 409 and pending.json()["code"] == "education.link_not_confirmed"

    decision = f"{API}/education/links/{link_id}/decision"
    other = client.post(decision, json={"decision": "approve"}, headers=login(client, "edu_other"))
    assert other.status_code == 403 and other.json()["code"] == "education.not_education_staff"
    civil = client.post(decision, json={"decision": "approve"}, headers=login(client, "civil"))
    assert civil.status_code == 403
    assert client.get(f"{API}/education/links", headers=login(client, "edu_other")).json() == []
    with sessions() as s:
        row = s.get(GuardianLink, uuid.UUID(link_id))
        assert row is not None and row.status == "pending"
    officer = login(client, "edu_officer")
    assert client.post(decision, json={"decision": "approve"}, headers=officer).status_code == 200
    again = client.post(decision, json={"decision": "reject", "reason": "重复"}, headers=officer)
    assert again.status_code == 409 and again.json()["code"] == "education.link_decided"

    volunteering = make_activity(utcnow() - timedelta(hours=3), category="volunteer_service")
    wrong_kind = client.put(f"{API}/activities/{volunteering}/education-credit",
                            json={"child_id": child_id}, headers=li)  # fmt: skip
    assert wrong_kind.status_code == 422
    assert wrong_kind.json()["code"] == "education.not_education_support"

    stranger = resident_headers(client, city, 3)
    unlinked = client.put(path, json={"child_id": child_id}, headers=stranger)
    assert unlinked.status_code == 404 and unlinked.json()["code"] == "education.child_not_linked"
    unknown = client.put(path, json={"child_id": str(uuid.uuid4())}, headers=li)
    assert unknown.status_code == 404
    spend = f"{API}/me/children/{child_id}/redemptions"
    edu_item = str(rewards.items["EDU-PRIORITY"].id)
    assert client.post(spend, json={"item_id": edu_item}, headers=stranger).status_code == 404

    # A third and a fourth guardian: one more may ask, then the child is full.
    assert client.post(f"{API}/me/children", json={"name": "李小明", "id_number": CHILD},
                       headers=stranger).status_code == 201  # fmt: skip
    fourth = resident_headers(client, city, 4)
    full = client.post(f"{API}/me/children", json={"name": "李小明", "id_number": CHILD},
                       headers=fourth)  # fmt: skip
    assert full.status_code == 409 and full.json()["code"] == "education.too_many_guardians"
    renamed = client.post(f"{API}/me/children", json={"name": "王小明", "id_number": CHILD},
                          headers=fourth)  # fmt: skip
    assert renamed.status_code == 422

    voucher_item = next(i for i in rewards.items.values() if i.category != "education_priority")
    with sessions() as s:
        before = counts(s)
    not_edu = client.post(spend, json={"item_id": str(voucher_item.id)}, headers=li)
    assert not_edu.status_code == 422 and not_edu.json()["code"] == "education.not_education_item"
    short = client.post(spend, json={"item_id": edu_item}, headers=li)  # 500 of 0 points
    assert short.status_code == 409 and short.json()["code"] == "ledger.insufficient_points"
    with sessions() as s:
        assert counts(s) == before
        assert LedgerService(s).balance(education_of(uuid.UUID(child_id))) == 0
    verifies()


def test_a_clawed_back_education_record_leaves_the_books_sound(
    client: TestClient,
    city: City,
    sessions: sessionmaker[Session],
    settings: Settings,
    ctx: Context,
    staff: Callable[[str], Principal],
    make_activity: Callable[..., uuid.UUID],
) -> None:
    """A reviewer claws back a record whose points went to the child: the award is found in the
    guardian's intake, which the carry emptied, so the intake owes it (the child's points stay,
    as spent points do for a wallet). The next education award repays that debt first and
    carries the rest; nothing fails and the ledger verifies after each step."""
    verifies = Verifies(sessions, settings)
    li = resident_headers(client, city, 1)
    li_id = me(client, li)
    child_id = link_and_confirm(client, li)
    first, start, end = education_activity(make_activity, 7)
    path = f"{API}/activities/{first}/education-credit"
    assert client.put(path, json={"child_id": str(child_id)}, headers=li).status_code == 200
    record = attend(sessions, ctx, first, li_id, start, end)
    with transaction(sessions) as s:
        FraudDesk(s, ctx).claw_back(record, "照片与活动无关", staff("reviewer"))
    with sessions() as s:
        ledger = LedgerService(s)
        assert ledger.balance(education_of(child_id)) == 20
        assert ledger.balance(education_intake_of(li_id)) == 0
        assert ledger.debt(education_intake_of(li_id)) == 20  # the intake owes the award
        assert ledger.balance(wallet_of(li_id)) == 0
    verifies()
    second, start2, end2 = education_activity(make_activity, 3)
    path = f"{API}/activities/{second}/education-credit"
    assert client.put(path, json={"child_id": str(child_id)}, headers=li).status_code == 200
    attend(sessions, ctx, second, li_id, start2, end2)
    with sessions() as s:
        ledger = LedgerService(s)
        assert ledger.debt(education_intake_of(li_id)) == 0  # the second award repaid it
        assert ledger.balance(education_of(child_id)) == 20
        assert ledger.balance(wallet_of(li_id)) == 0
    verifies()
