"""The city-year generator (issue 13 item 7, bench/city) at small scale, on PostgreSQL: the
real `ledger verify` finds no fault in what it wrote; the rollup built by the real insights
rebuild agrees with the ledger's and the hours register's own sums; the proportions hold
(45% participating, points as the rules say, the monthly cap never exceeded); a generated
resident signs in with the demo password, their ID number decrypts and passes the check-digit
rule, and a real `ScoringService.award` on top of the generated ledger verifies."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from bench.city import people
from bench.city.build import Options, build, settings_for
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.hours import HoursService
from civicpoints.identity import IdentityService
from civicpoints.identity.idcard import parse_id_number
from civicpoints.identity.ratelimit import SignInGuard
from civicpoints.identity.service import ID_CONTEXT
from civicpoints.insights import InsightsService
from civicpoints.kit.clock import local_date, utcnow
from civicpoints.kit.context import Context, build_context
from civicpoints.kit.db import make_engine, make_session_factory, transaction
from civicpoints.kit.months import recent_months
from civicpoints.ledger import LedgerService, log_signer, verify_ledger, wallet_of
from civicpoints.ledger.tasks import sequence_once
from civicpoints.regions import RegionService
from civicpoints.scoring import rules
from civicpoints.scoring.service import AwardRequest, ScoringService
from tests.conftest import pg_admin_url

pytestmark = pytest.mark.pg
RESIDENTS = 3_000


@pytest.fixture(scope="module")
def city_year() -> Iterator[dict[str, Any]]:
    """A 3,000-resident city-year built by the generator (two workers, 8 buckets)."""
    server = pg_admin_url().rsplit("/", 1)[0]
    name = f"city_test_{os.getpid()}"
    report = build(Options(server=server, db=name, residents=RESIDENTS, workers=2, buckets=8))
    yield report
    with psycopg.connect(pg_admin_url(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def wiring(city_year: dict[str, Any]) -> Iterator[tuple[sessionmaker[Session], Context]]:
    """Sessions and the services' context on the generated city (its PII key, its log key)."""
    settings = settings_for(city_year["url"], city_year["db"])
    engine = make_engine(settings.resolved_database_url())
    yield make_session_factory(engine), build_context(settings)
    engine.dispose()


def verify(sessions: sessionmaker[Session], ctx: Context) -> Any:
    """The real verification, trusting the generated log's key."""
    with sessions() as s:
        return verify_ledger(s, [log_signer(ctx.settings).verifier])


def scalar(sessions: sessionmaker[Session], sql: str) -> Any:
    with transaction(sessions) as s:
        return s.execute(text(sql)).scalar()


def test_the_ledger_verifies_and_every_entry_is_in_the_log(wiring: Any) -> None:
    sessions, ctx = wiring
    report = verify(sessions, ctx)
    assert report.ok, [str(f) for f in report.faults[:5]]
    assert scalar(sessions, "SELECT count(*) FROM ledger_log_queue") == 0
    assert scalar(sessions, "SELECT count(*) FROM ledger_entry") > 4_000


def test_the_proportions_hold(city_year: dict[str, Any], wiring: Any) -> None:
    """45% ± 4 points participate, ≈4.4 h each; every award is what the rules in force give
    for the minutes served; no resident-month over the cap; usage rows sum the awards."""
    sessions, _ = wiring
    city = city_year["city"]
    assert scalar(sessions, "SELECT count(*) FROM identity_resident") == RESIDENTS
    participants = scalar(sessions, "SELECT count(DISTINCT resident_id) FROM hours_entry")
    assert participants == city["participants"]
    assert 41 <= 100 * participants / RESIDENTS <= 49
    assert 3.5 <= city["hours_per_participant"] <= 5.5
    cap = rules.DEFAULT_RULE_SET.monthly_cap
    assert scalar(sessions, "SELECT max(points) FROM scoring_month_usage") <= cap
    with transaction(sessions) as s:
        rows = s.execute(
            text(
                "SELECT a.resident_id, a.month, a.category, h.minutes, a.credited_minutes, "
                "a.base, a.awarded, a.cut, a.explanation FROM scoring_award a "
                "JOIN hours_entry h USING (participation_id) "
                "JOIN activity_participation p ON p.id = a.participation_id "
                "ORDER BY a.resident_id, p.ended_at, p.activity_id"
            )
        ).all()
        usage = s.execute(
            text(
                "SELECT count(*) FROM scoring_month_usage u WHERE u.points <> (SELECT "
                "coalesce(sum(awarded), 0) FROM scoring_award a WHERE a.resident_id = "
                "u.resident_id AND a.month = u.month)"
            )
        ).scalar()
    assert usage == 0 and len(rows) == city["participations"]
    # Every decision again from the raw rows, in each resident's time order, with the cap.
    used: dict[tuple[Any, str], int] = {}
    for rid, month, category, minutes, credited, base, awarded, cut, explanation in rows:
        facts = rules.Facts(rules.Category(category), minutes, photo=True, gps_verified=True)
        again = rules.compute_award(rules.DEFAULT_RULE_SET, facts, used.get((rid, month), 0))
        assert (credited, base, awarded, cut) == (
            again.credited_minutes, again.base, again.awarded, again.cut,
        )  # fmt: skip
        assert explanation == again.explanation
        used[(rid, month)] = used.get((rid, month), 0) + awarded
    assert max(used.values()) == cap  # some core volunteers reach the cap, none passes it
    assert sum(r[7] for r in rows) == city["points_cut_by_cap"] > 0
    issued = sum(r[6] for r in rows)
    assert issued == city["points_issued"]
    assert scalar(sessions, "SELECT sum(amount) FROM ledger_lot") == issued


def test_the_rollup_agrees_with_the_ledger_and_the_hours_register(
    city_year: dict[str, Any], wiring: Any
) -> None:
    """Month by month, city-wide: the rollup's figures are the ledger's own flows and the
    register's own minutes (independent queries over the source rows)."""
    sessions, _ = wiring
    months = recent_months(local_date(utcnow()), 13)
    with transaction(sessions) as s:
        flows = LedgerService(s).flows_by_month(months)
        minutes = HoursService(s).minutes_by_month(months)
        city = RegionService(s).by_code("3301")
        read = InsightsService(s).figures(city, months[0], months[-1], utcnow())
    got = {m.month: m for m in read.months}
    issued = 0
    for f in flows:
        m = got[f.month]
        assert (m.points.issued, m.points.redeemed, m.points.expired) == (
            f.issued, f.redeemed, f.expired,
        )  # fmt: skip
        assert m.hours == round(minutes[f.month] / 60, 1)
        issued += f.issued
    assert issued == city_year["city"]["points_issued"]
    assert read.live_rows == 0  # the rebuild left nothing to the live delta


def test_a_generated_resident_signs_in_and_earns_on_top(wiring: Any) -> None:
    sessions, ctx = wiring
    phone = people.phone_of(17)
    with transaction(sessions) as s:
        identity = IdentityService(s, ctx)
        guard = SignInGuard(free=5, cap=60.0, address_limit=100, address_window=900)
        _, _, principal = identity.sign_in(phone, people.DEMO_RESIDENT_PASSWORD, guard, "t")
        resident = identity.resident(principal.id)
        number = ctx.cipher.decrypt(resident.id_enc, ID_CONTEXT)
        assert parse_id_number(number, local_date(utcnow())).birth_date == resident.birth_date
        region_ids = [
            r.id for r in RegionService(s).ancestry(RegionService(s).get(resident.community_id))
        ]
        before = LedgerService(s).balance(wallet_of(resident.id))
        award = ScoringService(s).award(
            AwardRequest(
                participation_id=uuid.uuid4(),
                resident_id=resident.id,
                wallet=wallet_of(resident.id),
                region_ids=region_ids,
                facts=rules.Facts(rules.Category.VOLUNTEER_SERVICE, 120, False, True),
                occurred_at=utcnow() - timedelta(hours=1),
                actor="staff:test",
            )
        )
    assert award.awarded == 20
    with transaction(sessions) as s:
        assert LedgerService(s).balance(wallet_of(resident.id)) == before + 20
    sequence_once(sessions, log_signer(ctx.settings), ctx.settings.ledger_origin)
    report = verify(sessions, ctx)
    assert report.ok, [str(f) for f in report.faults[:5]]
