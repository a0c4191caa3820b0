"""The city-year generator (issue 13 item 7, bench/city) at small scale, on PostgreSQL: the
real `ledger verify` finds no fault in what it wrote; the rollup built by the real insights
rebuild agrees with the ledger's and the hours register's own sums; the proportions hold
(45% participating, points as the rules in force say — the city's 8 an hour —, the monthly
cap never exceeded); every wallet's debits took its lots earliest expiry first and its
balance is its lots; about 85% of the year's points are redeemed through vouchers whose rows
agree with their holds; lots expire as the expiry job expires them; a generated resident
signs in with the demo password, their ID number decrypts and passes the check-digit rule, and
a real `ScoringService.award` on top of the generated ledger verifies. Every flow's figure is
recomputed here from the raw rows (bench/notes.md, "City-year generator")."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from bench.city import people
from bench.city.build import settings_for
from bench.city.policy import CITY_RULES
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.hours import HoursService
from civicpoints.identity import IdentityService
from civicpoints.identity.idcard import parse_id_number
from civicpoints.identity.ratelimit import SignInGuard
from civicpoints.identity.service import ID_CONTEXT
from civicpoints.insights import InsightsService
from civicpoints.insights.tasks import recommend
from civicpoints.kit.clock import local_date, utcnow
from civicpoints.kit.context import Context, build_context
from civicpoints.kit.db import make_engine, make_session_factory, transaction
from civicpoints.kit.months import recent_months
from civicpoints.ledger import LedgerService, log_signer, verify_ledger, wallet_of
from civicpoints.ledger.tasks import sequence_once
from civicpoints.regions import RegionService
from civicpoints.scoring import rules
from civicpoints.scoring.schemas import rule_set_from_dict
from civicpoints.scoring.service import AwardRequest, ScoringService
from tests.integration.generated import generated_city

pytestmark = pytest.mark.pg
RESIDENTS = 3_000


@pytest.fixture(scope="module")
def city_year() -> Iterator[dict[str, Any]]:
    """A 3,000-resident city-year built by the generator (two workers, 8 buckets)."""
    with generated_city("city_test", RESIDENTS, buckets=8) as report:
        yield report


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
    """45% ± 4 points take part in the year (18% the year before); every award of both years
    is what the rule set in force on its day gives for the minutes served (the seed defaults
    the year before, the city's 8 an hour in the year); no resident-month over the cap; usage
    rows sum the awards; ≈ 8 points an hour in the year."""
    sessions, _ = wiring
    city = city_year["city"]
    assert scalar(sessions, "SELECT count(*) FROM identity_resident") == RESIDENTS
    first = city_year["year"][0]
    participants = scalar(
        sessions,
        f"SELECT count(DISTINCT resident_id) FROM hours_entry WHERE served_on >= '{first}'",
    )
    assert participants == city["participants"]
    assert 41 <= 100 * participants / RESIDENTS <= 49
    assert 14 <= 100 * city["before"]["participants"] / RESIDENTS <= 22
    assert 3.5 <= city["hours_per_participant"] <= 5.5
    cap = rules.DEFAULT_RULE_SET.monthly_cap
    assert CITY_RULES.monthly_cap == cap
    assert scalar(sessions, "SELECT max(points) FROM scoring_month_usage") <= cap
    with transaction(sessions) as s:
        rows = s.execute(
            text(
                "SELECT a.resident_id, a.month, a.category, h.minutes, a.credited_minutes, "
                "a.base, a.awarded, a.cut, a.explanation, a.rule_set_id, h.served_on "
                "FROM scoring_award a "
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
        versions = [
            rules.Version(v.id, v.region_id, v.effective_from, rule_set_from_dict(v.rules))
            for v in ScoringService(s).rule_sets()
        ]
        hangzhou = [RegionService(s).by_code("3301").id]
    assert usage == 0
    assert len(rows) == city["participations"] + city["before"]["participations"]
    assert [v.rules for v in versions] == [CITY_RULES]
    assert str(versions[0].effective_from) == first
    # Every decision again from the raw rows, in each resident's time order, with the cap,
    # under the version in force on the day served (all regions are under 杭州市).
    used: dict[tuple[Any, str], int] = {}
    issued = minutes = 0
    for rid, month, category, served, credited, base, awarded, cut, explanation, rs_id, on in rows:
        chosen, rule_set = rules.in_force(versions, hangzhou, on)
        assert rs_id == chosen
        facts = rules.Facts(rules.Category(category), served, photo=True, gps_verified=True)
        again = rules.compute_award(rule_set, facts, used.get((rid, month), 0))
        assert (credited, base, awarded, cut) == (
            again.credited_minutes, again.base, again.awarded, again.cut,
        )  # fmt: skip
        assert explanation == again.explanation
        used[(rid, month)] = used.get((rid, month), 0) + awarded
        if str(on) >= first:
            issued, minutes = issued + awarded, minutes + served
    assert max(used.values()) == cap  # some core volunteers reach the cap, none passes it
    assert sum(r[7] for r in rows) == city["points_cut_by_cap"] > 0
    assert issued == city["points_issued"]
    assert 7.5 <= issued / (minutes / 60) <= 8.5  # the seed's 80 M points for 10 M hours
    total = sum(r[6] for r in rows)
    assert total == issued + city["before"]["points_issued"]
    assert scalar(sessions, "SELECT sum(amount) FROM ledger_lot") == total


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


RAW_FLOWS = (
    "SELECT to_char(occurred_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM'), kind, sum(amount) "
    "FROM ledger_transfer WHERE kind IN ('award', 'post', 'expire') GROUP BY 1, 2"
)
FLOW_OF_KIND = {"award": "issued", "post": "redeemed", "expire": "expired"}


def test_the_rollup_equals_the_raw_flows_and_the_redemption_rate_is_the_seeds(
    city_year: dict[str, Any], wiring: Any
) -> None:
    """Points issued (award transfers), redeemed (voucher posts) and expired (expiry
    transfers) summed by Beijing month straight from `ledger_transfer` equal the rollup's,
    over both years; the year's redemption rate is about the seed's 85%, the same in the city
    stats and in the rollup; the population entered for the city is the rollup's."""
    sessions, _ = wiring
    city = city_year["city"]
    first, end = city_year["year"]
    with transaction(sessions) as s:
        raw: dict[tuple[str, str], int] = {
            (m, FLOW_OF_KIND[k]): int(n) for m, k, n in s.execute(text(RAW_FLOWS)).all()
        }
        hangzhou = RegionService(s).by_code("3301")
        today = local_date(utcnow())
        months = recent_months(today, 26)
        read = InsightsService(s).figures(hangzhou, months[0], months[-1], utcnow())
        year = InsightsService(s).figures(hangzhou, months[-13], months[-2], utcnow())
    assert {m for m, _ in raw} <= {m.month for m in read.months}
    for m in read.months:
        for flow in ("issued", "redeemed", "expired"):
            assert getattr(m.points, flow) == raw.get((m.month, flow), 0), (m.month, flow)
    in_year = {f: sum(n for (m, g), n in raw.items() if g == f and first[:7] <= m < end[:7])
               for f in ("issued", "redeemed", "expired")}  # fmt: skip
    assert year.months[0].month == first[:7] and year.months[-1].month < end[:7]
    assert (year.totals.points.issued, year.totals.points.redeemed) == (
        in_year["issued"], in_year["redeemed"],
    )  # fmt: skip
    assert in_year["issued"] == city["points_issued"]
    assert in_year["redeemed"] == city["points_redeemed"]
    assert in_year["expired"] == city["points_expired"] > 0
    rate = 100 * in_year["redeemed"] / in_year["issued"]
    assert 80 <= rate <= 90  # the seed: an 85% redemption rate
    assert year.totals.redemption_rate == round(rate, 1)
    assert city["redemption_rate"] == round(rate, 2)
    assert year.totals.population == city["population"] > RESIDENTS
    assert year.totals.population_rate is not None


def test_every_wallet_is_its_lots_and_its_debits_take_lots_earliest_expiry_first(
    wiring: Any,
) -> None:
    """Each wallet's chain replayed from the raw rows: entries in time order; each credit
    opens its lot; each redemption hold takes the open, unexpired lots earliest expiry first
    (then by id); each expiry takes the rest of the lot it names, at that lot's expiry, and
    only once every earlier-expiring lot is closed; what is left in the lots is the stored
    `remaining` and sums to the balance; nothing due is left for the expiry job."""
    sessions, _ = wiring
    now = utcnow()
    with transaction(sessions) as s:
        entries = s.execute(
            text(
                "SELECT e.account_id, e.id, e.kind, e.amount, e.balance_after, e.occurred_at, "
                "e.ref, a.balance FROM ledger_entry e JOIN ledger_account a ON a.bucket = "
                "e.bucket AND a.id = e.account_id WHERE a.kind = 'wallet' "
                "ORDER BY e.account_id, e.seq"
            )
        ).all()
        lots = {
            r.entry_id: r
            for r in s.execute(
                text("SELECT id, entry_id, amount, remaining, expires_at FROM ledger_lot")
            ).all()
        }
        uses: dict[uuid.UUID, list[tuple[uuid.UUID, int]]] = {}
        for entry_id, lot_id, n in s.execute(
            text("SELECT entry_id, lot_id, amount FROM ledger_lot_use")
        ).all():
            uses.setdefault(entry_id, []).append((lot_id, n))
        due = LedgerService(s).count_due(now)
    assert due == 0  # the expiry job has nothing left to do today
    kinds: dict[str, int] = {}
    wallets: dict[uuid.UUID, dict[uuid.UUID, list[Any]]] = {}
    last: dict[uuid.UUID, Any] = {}
    final: dict[uuid.UUID, tuple[int, int]] = {}
    for account, eid, kind, amount, after, at, ref, balance in entries:
        assert last.get(account, at) <= at, "a wallet's entries are in time order"
        last[account] = at
        kinds[kind] = kinds.get(kind, 0) + 1
        held = wallets.setdefault(account, {})  # lot id → [expires, id, left]
        if amount > 0:
            lot = lots[eid]
            held[lot.id] = [lot.expires_at, lot.id, lot.amount]
        else:
            took = sorted(uses[eid])
            assert sum(n for _, n in took) == -amount
            assert took == sorted(_expected(kind, held, at, ref, -amount))
            for lot_id, n in took:
                held[lot_id][2] -= n
        assert sum(x[2] for x in held.values()) == after
        final[account] = (after, balance)
    assert all(after == balance for after, balance in final.values())
    remaining = {x.id: x.remaining for x in lots.values()}
    for held in wallets.values():
        assert all(left == remaining[lot_id] for lot_id, (_, _, left) in held.items())
    assert kinds.keys() >= {"award", "hold", "expire"}


def _expected(
    kind: str, held: dict[uuid.UUID, list[Any]], at: Any, ref: str, amount: int
) -> list[tuple[uuid.UUID, int]]:
    """What a debit of `amount` at `at` must take from a wallet's lots."""
    open_lots = sorted((x for x in held.values() if x[2] > 0), key=lambda x: (x[0], x[1]))
    if kind == "expire":
        lot = held[uuid.UUID(ref.removeprefix("lot:"))]
        assert lot[0] == at and lot[2] == amount  # the rest of the lot, at its expiry
        assert open_lots[0] is lot  # every lot expiring earlier is closed already
        return [(lot[1], amount)]
    assert kind == "hold", kind
    out = []
    for expires, lot_id, left in open_lots:
        if expires <= at or not amount:
            continue
        n = min(left, amount)
        out.append((lot_id, n))
        amount -= n
    assert amount == 0
    return out


VOUCHER_FAULTS = (
    # vouchers whose hold, redemption, post and booking do not agree
    "SELECT count(*) FROM rewards_voucher v "
    "JOIN rewards_redemption r ON r.id = v.redemption_id "
    "JOIN rewards_item i ON i.id = v.item_id "
    "LEFT JOIN ledger_hold h ON h.bucket = v.hold_bucket AND h.id = v.hold_id "
    "LEFT JOIN ledger_transfer ht ON ht.bucket = h.bucket AND ht.id = h.hold_transfer_id "
    "LEFT JOIN ledger_transfer pt ON pt.bucket = h.bucket AND pt.id = h.resolve_transfer_id "
    "LEFT JOIN ledger_account sink ON sink.bucket = pt.bucket AND sink.id = pt.credit_account_id "
    "LEFT JOIN ledger_account w ON w.bucket = h.bucket AND w.id = h.account_id "
    "LEFT JOIN rewards_sponsor sp ON sp.id = v.sponsor_id "
    "LEFT JOIN rewards_booking b ON b.voucher_id = v.id "
    "WHERE h.id IS NULL OR ht.id IS NULL "
    "OR NOT (v.points = i.price_points AND r.points = v.points AND h.amount = v.points "
    "  AND ht.amount = v.points AND ht.kind = 'hold' AND ht.debit_account_id = h.account_id "
    "  AND w.owner = 'wallet:resident:' || v.resident_id AND h.ref = 'redemption:' || r.id "
    "  AND h.sink = sp.code AND v.sponsor_id = i.sponsor_id AND v.merchant_id = i.merchant_id) "
    "OR (v.status = 'used') <> (h.status = 'posted') "
    "OR (v.status = 'used') <> (b.id IS NOT NULL) "
    "OR (v.status = 'used') <> (r.status = 'completed') "
    "OR (v.status = 'issued' AND NOT (h.status = 'pending' AND r.status = 'issued' "
    "  AND pt.id IS NULL AND v.valid_until > now())) "
    "OR (v.status = 'used' AND NOT (pt.amount = v.points AND pt.kind = 'post' "
    "  AND sink.owner = 'system:redemption:' || h.sink AND v.used_at = pt.occurred_at "
    "  AND pt.occurred_at > ht.occurred_at AND v.used_at < v.valid_until "
    "  AND b.points = v.points AND b.post_transfer_id = pt.id "
    "  AND b.hold_transfer_id = ht.id AND b.points_value_fen + b.subsidy_fen = v.face_value_fen"
    "  AND b.wallet_entry_id = h.hold_entry_id AND v.used_merchant_id = v.merchant_id))"
)
OVER_LIMIT = (
    "SELECT count(*) FROM (SELECT r.item_id, r.resident_id, r.period_key, count(*) AS n "
    "FROM rewards_redemption r GROUP BY 1, 2, 3) u JOIN rewards_item i ON i.id = u.item_id "
    "WHERE u.n > i.limit_per_period"
)
STOCK_FAULTS = (
    "SELECT count(*) FROM rewards_item i WHERE i.stock_remaining <> i.stock_total - "
    "(SELECT count(*) FROM rewards_voucher v WHERE v.item_id = i.id)"
)


def test_vouchers_agree_with_their_holds_posts_bookings_stock_and_limits(
    city_year: dict[str, Any], wiring: Any
) -> None:
    """Each voucher as the rewards service leaves it: its redemption, its hold of the item's
    price from the resident's wallet, and — once used — the post to its sponsor's redemption
    sink and the booking; unused ones still pending and valid; no item oversold, no limit
    per period passed."""
    sessions, _ = wiring
    assert scalar(sessions, VOUCHER_FAULTS) == 0
    assert scalar(sessions, OVER_LIMIT) == 0
    assert scalar(sessions, STOCK_FAULTS) == 0
    assert scalar(sessions, "SELECT count(*) FROM rewards_voucher WHERE status = 'used'") > 1000
    assert scalar(sessions, "SELECT count(DISTINCT item_id) FROM rewards_voucher") >= 6
    held = "SELECT coalesce(sum(amount), 0) FROM ledger_hold WHERE status = 'pending'"
    assert scalar(sessions, held) == city_year["city"]["points_held_in_unused_vouchers"]


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
    assert award.awarded == 16  # two hours at the city's 8 an hour
    with transaction(sessions) as s:
        assert LedgerService(s).balance(wallet_of(resident.id)) == before + 16
    sequence_once(sessions, log_signer(ctx.settings), ctx.settings.ledger_origin)
    report = verify(sessions, ctx)
    assert report.ok, [str(f) for f in report.faults[:5]]


def test_the_next_30_days_have_activities_the_nightly_job_recommends(wiring: Any) -> None:
    """Every community of the generated city has published activities in the next 30 days,
    made before today, nobody enrolled (为您推荐 needs them); the nightly job ranks them."""
    sessions, _ = wiring
    ahead = scalar(
        sessions,
        "SELECT count(DISTINCT region_id) FROM activity WHERE status = 'published' "
        "AND starts_at > now() AND starts_at < now() + interval '31 days' "
        "AND created_at <= now()",
    )
    assert ahead == scalar(sessions, "SELECT count(DISTINCT region_id) FROM activity")
    assert not scalar(
        sessions,
        "SELECT count(*) FROM activity_participation p JOIN activity a ON a.id = p.activity_id "
        "WHERE a.starts_at > now()",
    )
    _, night = recommend(sessions)
    assert night["candidates"] > 0 and night["stored"] > 0, night
