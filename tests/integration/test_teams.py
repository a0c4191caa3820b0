"""Volunteer teams and collective points (issue 11 item 2) on SQLite and PostgreSQL: the seed's
clean-up — 50 residents, 4 hours each at 10 points an hour → 2,000 points in the team's pool,
redeemed for the 社区活动室装修基金; each member +4.0 h in their own register, no member's
wallet or monthly cap touched. The team cap, members only, staff scope, more than the pool:
a clear 4xx with nothing written. `ledger verify` after each step."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.access import Principal
from civicpoints.activities.models import Enrollment, Participation
from civicpoints.activities.offline import OfflineService
from civicpoints.activities.schemas import OfflineRecordCreate
from civicpoints.cli.city import City
from civicpoints.cli.demo_rewards import Rewards
from civicpoints.community import NotTeamMember
from civicpoints.community.team_models import TeamMember, TeamRedemption
from civicpoints.hours.service import HoursService
from civicpoints.identity.models import Resident
from civicpoints.kit.clock import local_date, month_key, utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings
from civicpoints.ledger import LedgerService, team_pool_of, wallet_of
from civicpoints.ledger.models import Entry
from civicpoints.rewards.models import Booking, Item
from civicpoints.scoring import RuleSetCreate, ScoringService
from civicpoints.scoring.rules import DEFAULT_RULE_SET
from civicpoints.scoring.schemas import rule_set_to_dict
from tests.integration.test_api import login, resident_headers
from tests.integration.test_carry import Verifies
from tests.integration.test_earning import attend

API = "/api/v1"
Maker = Callable[..., uuid.UUID]


def count(sessions: sessionmaker[Session], model: type) -> int:
    """Rows of a table."""
    with sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def recent_start() -> datetime:
    """An activity that started 5 hours ago (so it ends, 4 hours later, this Beijing month
    most of the time; the month is read from the award, not assumed)."""
    return (utcnow() - timedelta(hours=5)).replace(second=0, microsecond=0)


def fund_item(sessions: sessionmaker[Session]) -> Item:
    """The demo's 社区活动室装修基金 item (community fund, 100 points a unit)."""
    with sessions() as s:
        return s.scalars(select(Item).where(Item.code == "COMMUNITY-FUND")).one()


def create_team(
    client: TestClient,
    headers: dict[str, str],
    community: uuid.UUID,
    captain: uuid.UUID,
    name: str = "北山河道清洁志愿队",
) -> httpx.Response:
    """POST /teams."""
    body = {
        "community_id": str(community),
        "name": name,
        "captain_id": str(captain),
        "description": "每月清理西湖沿岸与河道",
    }
    return client.post(f"{API}/teams", json=body, headers=headers)


def redeem(
    client: TestClient, headers: dict[str, str], team: str, item: Item, quantity: int, key: str
) -> httpx.Response:
    """POST /teams/{id}/redemptions with an Idempotency-Key."""
    body = {"item_id": str(item.id), "quantity": quantity, "note": "活动室装修"}
    return client.post(
        f"{API}/teams/{team}/redemptions", json=body, headers=headers | {"Idempotency-Key": key}
    )


def month_use(sessions: sessionmaker[Session], key: uuid.UUID, month: str) -> int:
    """Points counted against a cap in a month (a resident's, or a team's)."""
    with sessions() as s:
        return ScoringService(s).month_points(key, month)


def sign_sheet(
    sessions: sessionmaker[Session],
    ctx: Context,
    staff: Callable[[str], Principal],
    activity: uuid.UUID,
    people: list[Resident],
    start: datetime,
    hours: int = 4,
    first: int = 0,
) -> None:
    """The clean-up's paper sign-in sheet (线下积分点): the organizer enters each slip, the
    reviewer approves it — hours, then points, as for any record."""
    organizer, reviewer = staff("organizer"), staff("reviewer")
    for n, person in enumerate(people, start=first):
        slip = OfflineRecordCreate(
            resident=person.public_no,
            activity_id=activity,
            started_at=start,
            ended_at=start + timedelta(hours=hours),
            slip_no=f"HD-{activity.hex[:6]}-{n:03d}",
        )
        with transaction(sessions) as s:
            desk = OfflineService(s, ctx)
            record = desk.record(slip, organizer)
            desk.decide(record.id, True, "签到表核对无误 / sheet checked", reviewer)


def wallets(sessions: sessionmaker[Session], ids: list[uuid.UUID]) -> list[int]:
    """Balances of residents' wallets."""
    with sessions() as s:
        ledger = LedgerService(s)
        return [ledger.balance(wallet_of(r)) for r in ids]


def test_the_seed_clean_up_fills_the_team_pool_and_pays_the_room_fund(
    client: TestClient,
    city: City,
    rewards: Rewards,
    sessions: sessionmaker[Session],
    settings: Settings,
    ctx: Context,
    staff: Callable[[str], Principal],
    make_resident: Callable[..., Resident],
    make_activity: Maker,
    fund: Callable[..., None],
) -> None:
    """50 members × 4 h × 10 pts/h → pool 2,000 → 20 units of the room fund; every member
    +4.0 h; wallets and monthly caps as before (one member had earned 40 on her own)."""
    verifies = Verifies(sessions, settings)
    home = city.communities[0].id
    people = [
        make_resident(f"{sur}{given}")
        for sur in "张王李赵刘陈杨黄周吴"
        for given in ("秀英", "建国", "海燕", "志强", "桂兰")
    ]
    ids = [p.id for p in people]
    for rid in ids:
        fund(rid, 100)
    patrol = recent_start() - timedelta(hours=1)  # ends 4 h later: the clean-up's month
    own = make_activity(patrol, hours=4, title="社区巡逻")
    attend(sessions, ctx, own, ids[0], patrol, patrol + timedelta(hours=4))
    organizer = login(client, "organizer")
    made = create_team(client, organizer, home, ids[0])
    assert made.status_code == 201, made.text
    team = made.json()["id"]
    added = client.post(
        f"{API}/teams/{team}/members",
        json={"resident_ids": [str(r) for r in ids[1:]]},
        headers=organizer,
    )
    assert added.status_code == 200, added.text
    assert len(added.json()["members"]) == 50 and added.json()["captain_name"] == people[0].name

    start = recent_start()
    clean_up = make_activity(start, hours=4, title="西湖沿岸河道清理", capacity=60)
    made_challenge = client.post(
        f"{API}/teams/{team}/challenges", json={"activity_id": str(clean_up)}, headers=organizer
    )
    assert made_challenge.status_code == 200, made_challenge.text
    with sessions() as s:
        before_hours = HoursService(s).totals(ids)
    before_wallets = wallets(sessions, ids)
    caps_before = [month_use(sessions, r, month_key(start + timedelta(hours=4))) for r in ids]
    assert sum(caps_before) == 40  # the captain earned 40 on her own this month
    sign_sheet(sessions, ctx, staff, clean_up, people, start)
    with sessions() as s:
        awards = ScoringService(s).awards_of(
            list(s.scalars(select(Participation.id).where(Participation.activity_id == clean_up)))
        )
        month = next(iter(awards.values())).month
        after_hours = HoursService(s).totals(ids)
        assert LedgerService(s).balance(team_pool_of(uuid.UUID(team))) == 2000
    assert {a.awarded for a in awards.values()} == {40} and len(awards) == 50
    assert all(after_hours[r] - before_hours[r] == 240 for r in ids)  # +4.0 h each
    assert wallets(sessions, ids) == before_wallets  # nobody's own points moved
    assert month_use(sessions, uuid.UUID(team), month) == 2000
    assert [month_use(sessions, r, month) for r in ids] == caps_before  # members' caps untouched
    verifies()

    view = client.get(f"{API}/teams/{team}", headers=login(client, "civil")).json()
    assert view["pool"] == 2000 and len(view["contributions"]) == 50
    assert {(c["points"], c["hours"], c["participations"]) for c in view["contributions"]} == {
        (40, "4.0", 1)
    }
    assert {c["share_permille"] for c in view["contributions"]} == {20}

    item = fund_item(sessions)
    stock = item.stock_remaining
    civil = login(client, "civil")
    paid = redeem(client, civil, team, item, 20, "room-1")
    assert paid.status_code == 201, paid.text
    assert paid.json()["points"] == 2000
    again = redeem(client, civil, team, item, 20, "room-1")  # a retry: the same redemption
    assert again.status_code == 201 and again.json()["id"] == paid.json()["id"]
    with sessions() as s:
        assert LedgerService(s).balance(team_pool_of(uuid.UUID(team))) == 0
        entry = s.scalars(select(Entry).where(Entry.id == uuid.UUID(paid.json()["entry_id"]))).one()
        assert entry.amount == -2000 and entry.kind == "hold"  # the pool's debit
        assert s.get(Item, item.id).stock_remaining == stock - 20  # type: ignore[union-attr]
    assert count(sessions, TeamRedemption) == 1
    with sessions() as s:  # booked against the item's sponsor, as a resident's would be
        booked = s.scalars(select(Booking).where(Booking.redemption_id.is_(None))).one()
        assert (booked.points, booked.sponsor_id) == (2000, item.sponsor_id)
        assert booked.face_value_fen == item.face_value_fen * 20
    assert wallets(sessions, ids) == before_wallets
    assert [month_use(sessions, r, month) for r in ids] == caps_before
    verifies()
    view = client.get(f"{API}/teams/{team}", headers=civil).json()
    assert view["pool"] == 0 and view["redemptions"][0]["item_name"] == item.name


def test_the_team_cap_is_a_region_setting_and_members_caps_stay_apart(
    client: TestClient,
    city: City,
    sessions: sessionmaker[Session],
    settings: Settings,
    ctx: Context,
    staff: Callable[[str], Principal],
    make_resident: Callable[..., Resident],
    make_activity: Maker,
) -> None:
    """The community's rule set caps a team at 100 a month: 40 + 40 + 20 (20 cut), the third
    member's own month still 0; the cut is said in the award's explanation."""
    verifies = Verifies(sessions, settings)
    home = city.communities[0].id
    doc = rule_set_to_dict(DEFAULT_RULE_SET) | {"team_monthly_cap": 100}
    with transaction(sessions) as s:
        ScoringService(s).create_rule_set(
            RuleSetCreate(
                region_id=home, effective_from=local_date(utcnow()) - timedelta(days=1), rules=doc
            ),
            None,
        )
    people = [make_resident(n) for n in ("陈河清", "林水秀", "周岸青")]
    organizer = login(client, "organizer")
    team = create_team(client, organizer, home, people[0].id).json()["id"]
    client.post(
        f"{API}/teams/{team}/members",
        json={"resident_ids": [str(p.id) for p in people[1:]]},
        headers=organizer,
    )
    start = recent_start()
    activity = make_activity(start, hours=4, title="河道清理")
    client.post(
        f"{API}/teams/{team}/challenges", json={"activity_id": str(activity)}, headers=organizer
    )
    sign_sheet(sessions, ctx, staff, activity, people, start)
    with sessions() as s:
        pids = list(
            s.scalars(select(Participation.id).where(Participation.activity_id == activity))
        )
        awards = sorted(ScoringService(s).awards_of(pids).values(), key=lambda a: -a.awarded)
        assert LedgerService(s).balance(team_pool_of(uuid.UUID(team))) == 100
    assert [(a.awarded, a.cut) for a in awards] == [(40, 0), (40, 0), (20, 20)]
    assert "团队" in awards[-1].explanation["zh-CN"] and "team" in awards[-1].explanation["en"]
    assert all(a.team_id == uuid.UUID(team) for a in awards)
    for p in people:
        assert month_use(sessions, p.id, awards[0].month) == 0
    assert month_use(sessions, uuid.UUID(team), awards[0].month) == 100
    verifies()


def test_only_members_join_a_challenge_and_only_the_community_staff_act(
    client: TestClient,
    city: City,
    rewards: Rewards,
    sessions: sessionmaker[Session],
    settings: Settings,
    ctx: Context,
    staff: Callable[[str], Principal],
    make_resident: Callable[..., Resident],
    make_activity: Maker,
) -> None:
    """A non-member's enrolment is refused (403, no enrolment); another community's staff
    cannot see, manage or spend the team (404/403); an organizer cannot spend the pool, the
    civil-affairs staff cannot manage members; more than the pool is 409, zero or true 422,
    a non-community item 422 — nothing written, the pool as it was."""
    verifies = Verifies(sessions, settings)
    home = city.communities[0].id
    cap, mate = make_resident("黄河生"), make_resident("吴溪月")
    organizer = login(client, "organizer")
    team = create_team(client, organizer, home, cap.id).json()["id"]
    start = recent_start()
    activity = make_activity(start, hours=4, title="河道清理")
    client.post(
        f"{API}/teams/{team}/challenges", json={"activity_id": str(activity)}, headers=organizer
    )
    sign_sheet(sessions, ctx, staff, activity, [cap], start)
    verifies()

    # a non-member: refused at enrolment, over the API; nothing written
    outsider = resident_headers(client, city, 7)
    tomorrow = make_activity(utcnow() + timedelta(days=1), hours=4, title="河道清理（第二次）")
    client.post(
        f"{API}/teams/{team}/challenges", json={"activity_id": str(tomorrow)}, headers=organizer
    )
    enrolments = count(sessions, Enrollment)
    refused = client.post(f"{API}/activities/{tomorrow}/enrollments", headers=outsider)
    assert refused.status_code == 403 and refused.json()["code"] == "community.not_team_member"
    assert count(sessions, Enrollment) == enrolments
    # ...and a staff-entered slip for a non-member (the guard is in activities, for any path)
    with pytest.raises(NotTeamMember):
        sign_sheet(sessions, ctx, staff, activity, [mate], start, first=1)
    assert count(sessions, Participation) == 1

    # another community's staff
    other = login(client, "civil_other")
    assert client.get(f"{API}/teams/{team}", headers=other).status_code == 404
    item = fund_item(sessions)
    members = count(sessions, TeamMember)
    spent = redeem(client, other, team, item, 1, "other-1")
    assert spent.status_code == 403 and spent.json()["code"] == "community.not_team_staff"
    foreign = create_team(client, other, home, mate.id, name="别的队")
    assert foreign.status_code == 403
    # the organizer may not spend; civil affairs may not manage members
    assert redeem(client, organizer, team, item, 1, "org-1").status_code == 403
    civil = login(client, "civil")
    add = client.post(
        f"{API}/teams/{team}/members", json={"resident_ids": [str(mate.id)]}, headers=civil
    )
    assert add.status_code == 403 and count(sessions, TeamMember) == members

    # more than the pool (40): 409, nothing written
    with sessions() as s:
        stock = s.get(Item, item.id).stock_remaining  # type: ignore[union-attr]
    over = redeem(client, civil, team, item, 1, "over-1")
    assert over.status_code == 409 and over.json()["code"] == "ledger.insufficient_points"
    for bad in (0, True, -1, 1001):
        body = {"item_id": str(item.id), "quantity": bad}
        r = client.post(f"{API}/teams/{team}/redemptions", json=body, headers=civil)
        assert r.status_code == 422, (bad, r.text)
    with sessions() as s:
        other_item = s.scalars(select(Item).where(Item.code != "COMMUNITY-FUND")).first()
        assert s.get(Item, item.id).stock_remaining == stock  # type: ignore[union-attr]
    assert other_item is not None
    wrong = redeem(client, civil, team, other_item, 1, "wrong-1")
    assert wrong.status_code == 422 and wrong.json()["code"] == "community.not_community_item"
    assert count(sessions, TeamRedemption) == 0
    with sessions() as s:
        assert LedgerService(s).balance(team_pool_of(uuid.UUID(team))) == 40
    verifies()

    # a non-member does not see the team (404, as an unknown id)
    assert client.get(f"{API}/me/teams/{team}", headers=outsider).status_code == 404


def test_the_demo_has_a_river_clean_up_team(
    sessions: sessionmaker[Session], ctx: Context, settings: Settings
) -> None:
    """The demo's 北山河道清洁志愿队: members of the first community, 4.0 h each in their own
    register, the pool paid to the room fund, a second challenge open; the ledger verifies."""
    from civicpoints.cli.demo import load_demo
    from civicpoints.cli.demo_teams import TEAM
    from civicpoints.community import TeamService
    from civicpoints.community.team_models import Team

    assert load_demo(sessions, ctx, residents=60, seed=7)
    with sessions() as s:
        team = s.scalars(select(Team).where(Team.name == TEAM)).one()
        view = TeamService(s).view(team)
        assert len(view.members) >= 2 and len(view.challenges) == 2
        assert {c.hours for c in view.contributions} == {"4.0"}  # everyone's hours
        earned = sum(c.points for c in view.contributions)  # the verified members' points
        assert earned > 0 and {c.points for c in view.contributions} <= {0, 40}
        assert view.pool == earned % 100
        assert [r.points for r, _ in view.redemptions] == [earned - earned % 100]
    Verifies(sessions, settings)()


def test_a_false_team_challenge_record_is_taken_back_from_the_pool(
    client: TestClient,
    city: City,
    sessions: sessionmaker[Session],
    settings: Settings,
    ctx: Context,
    staff: Callable[[str], Principal],
    make_resident: Callable[..., Resident],
    make_activity: Maker,
    second_reviewer: Principal,
) -> None:
    """A reviewer claws back one member's record found false: its 40 points leave the team's
    pool (where the award went), not the member's wallet, and the member's 4 h leave the
    register; an upheld appeal gives the 40 back to the pool. The ledger verifies."""
    from civicpoints.activities import FraudDesk
    from civicpoints.fraud import CaseService

    verifies = Verifies(sessions, settings)
    home = city.communities[0].id
    people = [make_resident(n) for n in ("陈河清", "林水秀")]
    organizer = login(client, "organizer")
    team = uuid.UUID(create_team(client, organizer, home, people[0].id).json()["id"])
    client.post(
        f"{API}/teams/{team}/members", json={"resident_ids": [str(people[1].id)]}, headers=organizer
    )
    start = recent_start()
    activity = make_activity(start, hours=4, title="河道清理")
    client.post(
        f"{API}/teams/{team}/challenges", json={"activity_id": str(activity)}, headers=organizer
    )
    sign_sheet(sessions, ctx, staff, activity, people, start)
    with sessions() as s:
        false_one = s.scalars(
            select(Participation).where(
                Participation.activity_id == activity, Participation.resident_id == people[1].id
            )
        ).one()
        assert LedgerService(s).balance(team_pool_of(team)) == 80
    reviewer = staff("reviewer")
    with transaction(sessions) as s:
        case = FraudDesk(s, ctx).claw_back(false_one.id, "签到表代签 / signed by another", reviewer)
    with sessions() as s:
        ledger = LedgerService(s)
        assert ledger.balance(team_pool_of(team)) == 40
        assert ledger.balance(wallet_of(people[1].id)) == 0
        assert ledger.debt(wallet_of(people[1].id)) == 0
        assert HoursService(s).summary(people[1].id).total_minutes == 0
    verifies()
    with transaction(sessions) as s:
        appeal = CaseService(s).file_appeal(s.merge(case), "是本人签到 / it was me", utcnow())
    with transaction(sessions) as s:
        FraudDesk(s, ctx).decide_appeal(appeal.id, True, "核实为本人 / checked", second_reviewer)
    with sessions() as s:
        assert LedgerService(s).balance(team_pool_of(team)) == 80
        assert HoursService(s).summary(people[1].id).total_minutes == 4 * 60
    verifies()


def test_what_the_pool_spent_becomes_its_debt_repaid_by_the_next_challenge(
    client: TestClient,
    city: City,
    rewards: Rewards,
    sessions: sessionmaker[Session],
    settings: Settings,
    ctx: Context,
    staff: Callable[[str], Principal],
    make_resident: Callable[..., Resident],
    make_activity: Maker,
) -> None:
    """120 in the pool, 100 paid to the room fund, then a 40-point record found false: 20 are
    taken and the pool owes 20; the team's next challenge repays that first. Verifies."""
    from civicpoints.activities import FraudDesk

    verifies = Verifies(sessions, settings)
    home = city.communities[0].id
    people = [make_resident(n) for n in ("陈河清", "林水秀", "周岸青")]
    organizer = login(client, "organizer")
    team = uuid.UUID(create_team(client, organizer, home, people[0].id).json()["id"])
    members = {"resident_ids": [str(p.id) for p in people[1:]]}
    client.post(f"{API}/teams/{team}/members", json=members, headers=organizer)
    start = recent_start()
    activity = make_activity(start, hours=4, title="河道清理")
    challenge = {"activity_id": str(activity)}
    client.post(f"{API}/teams/{team}/challenges", json=challenge, headers=organizer)
    sign_sheet(sessions, ctx, staff, activity, people, start)
    paid = redeem(client, login(client, "civil"), str(team), fund_item(sessions), 1, "room-1")
    assert paid.status_code == 201, paid.text
    with sessions() as s:
        false_one = s.scalars(
            select(Participation.id).where(
                Participation.activity_id == activity, Participation.resident_id == people[2].id
            )
        ).one()
        assert LedgerService(s).balance(team_pool_of(team)) == 20
    with transaction(sessions) as s:
        case = FraudDesk(s, ctx).claw_back(false_one, "代签 / signed by another", staff("reviewer"))
        assert (case.points_taken, case.debt) == (20, 20)
    with sessions() as s:
        ledger = LedgerService(s)
        assert ledger.balance(team_pool_of(team)) == 0 and ledger.debt(team_pool_of(team)) == 20
        assert ledger.debt(wallet_of(people[2].id)) == 0
    verifies()
    later = make_activity(start - timedelta(days=1), hours=4, title="河道清理（二）")
    client.post(
        f"{API}/teams/{team}/challenges", json={"activity_id": str(later)}, headers=organizer
    )
    sign_sheet(sessions, ctx, staff, later, people[:1], start - timedelta(days=1), first=10)
    with sessions() as s:
        ledger = LedgerService(s)
        assert ledger.debt(team_pool_of(team)) == 0 and ledger.balance(team_pool_of(team)) == 20
    verifies()
