"""One phone behind many accounts is found only when the fourth account uses it; the three
before were approved already. Their records are weighed again: each goes to the reviewers'
recheck list, to be kept with a reason or clawed back; a family sharing a phone is not."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.access import Principal
from civicpoints.activities.errors import ParticipationNotFound, ReviewState
from civicpoints.activities.fraud_desk import FraudDesk
from civicpoints.activities.models import Participation
from civicpoints.activities.recheck import Rechecks
from civicpoints.activities.records import Phone, RecordService
from civicpoints.activities.service import ActivityService
from civicpoints.identity.models import Resident
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction

from .conftest import WEST_LAKE
from .test_api import login
from .test_concurrency import race
from .test_fraud_signals_wired import check_in, check_out

Maker = Callable[..., uuid.UUID]
START = datetime(2026, 11, 10, 1, 0, tzinfo=UTC)
ROUNDS = 5


def serve(
    sessions: sessionmaker[Session],
    ctx: Context,
    activity: uuid.UUID,
    resident: Resident,
    k: int,
    device: str,
) -> uuid.UUID:
    """A whole honest-looking visit (scattered position, ordinary accuracy) on `device`."""
    where = (WEST_LAKE[0] + 0.0001 * k, WEST_LAKE[1])
    check_in(sessions, ctx, activity, resident.id, where, START, Phone(12, device))
    out = check_out(
        sessions, ctx, activity, resident.id, where, START + timedelta(hours=2), Phone(12, device)
    )
    return out.id


def record(sessions: sessionmaker[Session], record_id: uuid.UUID) -> Participation:
    with transaction(sessions) as s:
        found = s.get(Participation, record_id)
        assert found is not None
        s.expunge(found)
        return found


def test_the_fourth_account_on_a_phone_sends_the_first_three_back_for_a_second_look(
    sessions: sessionmaker[Session],
    ctx: Context,
    make_resident: Callable[..., Resident],
    make_activity: Maker,
    staff: Callable[[str], Principal],
) -> None:
    activity = make_activity(START, capacity=20)
    farm = [make_resident("同机" + "甲乙丙丁"[i]) for i in range(4)]
    family = [make_resident("一家" + "甲乙丙"[i]) for i in range(3)]
    first = [serve(sessions, ctx, activity, r, i + 1, "farm-phone") for i, r in enumerate(farm[:3])]
    kin = [serve(sessions, ctx, activity, r, i + 10, "family-phone") for i, r in enumerate(family)]
    for rid in first + kin:  # three accounts on a phone is a family's: approved, nothing said
        r = record(sessions, rid)
        assert (r.status, r.flags, r.recheck_at) == ("approved", [], None)

    fourth = serve(sessions, ctx, activity, farm[3], 4, "farm-phone")

    assert record(sessions, fourth).status == "pending_review"
    for rid in first:
        r = record(sessions, rid)
        assert r.status == "approved"  # its points stay until a reviewer looks
        assert "shared_device" in r.flags and r.risk >= 30 and r.recheck_at is not None
        assert "4 个账户" in r.flag_notes["shared_device"]["zh-CN"]
    for rid in kin:
        assert record(sessions, rid).recheck_at is None

    reviewer, auditor = staff("reviewer"), staff("auditor")
    with transaction(sessions) as s:
        assert {r.id for r in Rechecks(s, ctx).waiting(reviewer, 50, None)} == set(first)
        assert {r.id for r in Rechecks(s, ctx).waiting(auditor, 50, None)} == set(first)
        page = Rechecks(s, ctx).waiting(reviewer, 2, None)
        rest = Rechecks(s, ctx).waiting(reviewer, 2, page[-1].id)
        assert len(page) == 2 and {r.id for r in page + rest} == set(first)

    with transaction(sessions) as s:  # one kept, with the reason; one clawed back
        Rechecks(s, ctx).keep(first[0], "本人到场有组织者证明", reviewer)
        FraudDesk(s, ctx).claw_back(first[1], "同一手机为多个账户签到", auditor)
    with transaction(sessions) as s:
        assert [r.id for r in Rechecks(s, ctx).waiting(reviewer, 50, None)] == [first[2]]
        with pytest.raises(ReviewState):  # kept once: nothing more to look at
            Rechecks(s, ctx).keep(first[0], "再看一次", reviewer)
    kept, revoked = record(sessions, first[0]), record(sessions, first[1])
    assert (kept.status, kept.review_reason) == ("approved", "本人到场有组织者证明")
    assert revoked.status == "revoked"


def test_the_recheck_list_and_keeping_are_scoped(
    sessions: sessionmaker[Session],
    ctx: Context,
    make_resident: Callable[..., Resident],
    make_activity: Maker,
    staff: Callable[[str], Principal],
) -> None:
    """Staff without review or audit rights over the record see an empty list, and keeping
    it reads as not found, exactly as for an id that does not exist."""
    activity = make_activity(START, capacity=20)
    ids = [
        serve(sessions, ctx, activity, make_resident("同机" + "甲乙丙丁"[i - 1]), i, "p")
        for i in range(1, 5)
    ]
    organizer = staff("organizer")
    with transaction(sessions) as s:
        assert Rechecks(s, ctx).waiting(organizer, 50, None) == []
        for target in (ids[0], uuid.uuid4()):
            with pytest.raises(ParticipationNotFound):
                Rechecks(s, ctx).keep(target, "看过了", organizer)


def test_recheck_over_the_api(
    client: TestClient,
    sessions: sessionmaker[Session],
    ctx: Context,
    make_resident: Callable[..., Resident],
    make_activity: Maker,
) -> None:
    """GET /reviews/recheck lists them; POST /reviews/{id}/keep needs a reason (422, nothing
    written) and then keeps the record."""
    activity = make_activity(START, capacity=20)
    ids = [
        serve(sessions, ctx, activity, make_resident("农场" + "甲乙丙丁"[i - 1]), i, "q")
        for i in range(1, 5)
    ]
    headers = login(client, "reviewer")
    listed = client.get("/api/v1/reviews/recheck", headers=headers)
    assert listed.status_code == 200
    assert {item["id"] for item in listed.json()} == {str(i) for i in ids[:3]}
    bad = client.post(f"/api/v1/reviews/{ids[0]}/keep", json={"reason": "  "}, headers=headers)
    assert bad.status_code == 422
    assert record(sessions, ids[0]).reviewed_at is None
    ok = client.post(f"/api/v1/reviews/{ids[0]}/keep", json={"reason": "核实无误"}, headers=headers)
    assert ok.status_code == 200 and ok.json()["review_reason"] == "核实无误"
    again = client.get("/api/v1/reviews/recheck", headers=headers)
    assert {item["id"] for item in again.json()} == {str(i) for i in ids[1:3]}


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_farm_accounts_checking_in_at_once_neither_deadlock_nor_lose_the_signal(
    sessions: sessionmaker[Session],
    ctx: Context,
    make_resident: Callable[..., Resident],
    make_activity: Maker,
) -> None:
    """Round after round, three accounts served on a phone; then four more check in on it at
    the same instant. Every one succeeds, and every record ends with the signal: the three
    approved ones on the recheck list, the four new ones flagged."""
    names = iter(f"同机{a}{b}" for a in "甲乙丙丁戊己" for b in "甲乙丙丁戊己庚")
    for r in range(ROUNDS):
        activity = make_activity(START, capacity=20)
        device = f"race-phone-{r}"
        served = [
            serve(sessions, ctx, activity, make_resident(next(names)), 3 * r + k + 1, device)
            for k in range(3)
        ]
        late = [make_resident(next(names)) for _ in range(4)]
        with transaction(sessions) as s:
            for who in late:
                ActivityService(s).enroll(activity, who.id, now=START - timedelta(days=1))

        def one(
            i: int,
            late: list[Resident] = late,
            activity: uuid.UUID = activity,
            device: str = device,
            r: int = r,
        ) -> object:
            where = (WEST_LAKE[0] + 0.00001 * (10 * r + i + 1), WEST_LAKE[1] + 0.0003)
            with transaction(sessions) as s:
                record = RecordService(s, ctx).check_in(
                    activity, late[i].id, *where, START, Phone(12, device)
                )
                return record.id

        results = race(4, one)
        assert all(isinstance(x, uuid.UUID) for x in results), results
        for rid in served:
            got = record(sessions, rid)
            assert got.status == "approved"
            assert "shared_device" in got.flags and got.recheck_at is not None
        for rid in results:
            assert isinstance(rid, uuid.UUID)
            assert "shared_device" in record(sessions, rid).flags
