"""The city-year generator (issue 13 item 7, bench/city) at small scale, on PostgreSQL: the
real `ledger verify` finds no fault in what it wrote; the rollup built by the real insights
rebuild agrees with the ledger's and the hours register's own sums; the proportions hold
(45% participating, points as the rules in force say — the city's 8 an hour —, the monthly
cap never exceeded); every wallet's and pool's debits took its lots as the ledger takes them
and its balance is its lots; about 85% of the year's points are redeemed through vouchers
whose rows agree with their holds; lots expire as the expiry job expires them; 1–2 % of the
points are given to the community pools and passed on to low-income residents; 0.1–0.3 % of
records are flagged, some refused as fraud or taken back, as the fraud desk records them; a
generated resident signs in with the demo password, their ID number decrypts and passes the
check-digit rule, and a real `ScoringService.award` on top of the generated ledger verifies.
Every flow's figure is recomputed here from the raw rows and compared with the rollup's
(bench/notes.md, "City-year generator")."""

from __future__ import annotations

import os
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from bench.city import people
from bench.city.build import NoRoom, Options, build, settings_for
from bench.city.policy import CITY_RULES
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.community import DonationService
from civicpoints.fraud import DEFAULT_POLICY
from civicpoints.hours import HoursService
from civicpoints.identity import IdentityService
from civicpoints.identity.idcard import parse_id_number
from civicpoints.identity.ratelimit import SignInGuard
from civicpoints.identity.service import ID_CONTEXT
from civicpoints.insights import InsightsService, Rollup
from civicpoints.insights.privacy import THRESHOLD
from civicpoints.insights.repository import InsightsRepository
from civicpoints.insights.tasks import recommend
from civicpoints.kit.clock import local_date, utcnow
from civicpoints.kit.context import Context, build_context
from civicpoints.kit.db import make_engine, make_session_factory, transaction
from civicpoints.kit.months import key_of, recent_months
from civicpoints.ledger import LedgerService, log_signer, verify_ledger, wallet_of
from civicpoints.ledger.tasks import sequence_once
from civicpoints.regions import RegionService
from civicpoints.scoring import rules
from civicpoints.scoring.schemas import rule_set_from_dict
from civicpoints.scoring.service import AwardRequest, ScoringService
from tests.conftest import pg_admin_url
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
    assert scalar(sessions, AWARD_LOTS) == total


AWARD_LOTS = (
    "SELECT sum(l.amount) FROM ledger_lot l JOIN ledger_entry e ON e.bucket = l.bucket "
    "AND e.id = l.entry_id WHERE e.kind = 'award'"
)


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
        assert m.points.clawed_back == f.clawed_back
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


def test_every_wallet_and_pool_is_its_lots_and_its_debits_take_lots_as_the_ledger_does(
    wiring: Any,
) -> None:
    """Each wallet's and each community pool's chain replayed from the raw rows: entries in
    time order; each credit (award, gift or allocation carried in) opens its lot; each
    redemption hold, gift or allocation slice carried out and debt repayment takes the open,
    unexpired lots earliest expiry first (then by id); each clawback takes its award's own lot
    first, then the others so; each expiry takes the rest of the lot it names, at that lot's
    expiry, and only once every earlier-expiring lot is closed; what is left in the lots is the
    stored `remaining` and sums to the balance; nothing due is left for the expiry job."""
    sessions, _ = wiring
    now = utcnow()
    with transaction(sessions) as s:
        entries = s.execute(
            text(
                "SELECT e.account_id, e.id, e.kind, e.amount, e.balance_after, e.occurred_at, "
                "e.ref, a.balance FROM ledger_entry e JOIN ledger_account a ON a.bucket = "
                "e.bucket AND a.id = e.account_id WHERE a.kind IN ('wallet', 'pool') "
                "ORDER BY e.account_id, e.seq"
            )
        ).all()
        lots = {
            r.entry_id: r
            for r in s.execute(
                text(
                    "SELECT l.id, l.entry_id, l.amount, l.remaining, l.expires_at, e.transfer_id "
                    "FROM ledger_lot l JOIN ledger_entry e ON e.bucket = l.bucket "
                    "AND e.id = l.entry_id"
                )
            ).all()
        }
        uses: dict[uuid.UUID, list[tuple[uuid.UUID, int]]] = {}
        for entry_id, lot_id, n in s.execute(
            text("SELECT entry_id, lot_id, amount FROM ledger_lot_use")
        ).all():
            uses.setdefault(entry_id, []).append((lot_id, n))
        awards: dict[uuid.UUID, uuid.UUID] = dict(
            s.execute(text("SELECT take_entry_id, award_transfer_id FROM ledger_clawback")).all()
        )
        due = LedgerService(s).count_due(now)
    assert due == 0  # the expiry job has nothing left to do today
    own = {lot.transfer_id: lot.id for lot in lots.values()}  # an award's own lot
    kinds: dict[str, int] = {}
    accounts: dict[uuid.UUID, dict[uuid.UUID, list[Any]]] = {}
    last: dict[uuid.UUID, Any] = {}
    final: dict[uuid.UUID, tuple[int, int]] = {}
    for account, eid, kind, amount, after, at, ref, balance in entries:
        assert last.get(account, at) <= at, "an account's entries are in time order"
        last[account] = at
        kinds[kind] = kinds.get(kind, 0) + 1
        held = accounts.setdefault(account, {})  # lot id → [expires, id, left]
        if amount > 0:
            lot = lots[eid]
            held[lot.id] = [lot.expires_at, lot.id, lot.amount]
        else:
            took = uses[eid]
            assert sum(n for _, n in took) == -amount
            first = own.get(awards.get(eid))  # a clawback's award lot
            assert sorted(took) == sorted(_expected(kind, held, at, ref, -amount, first))
            for lot_id, n in took:
                held[lot_id][2] -= n
        assert sum(x[2] for x in held.values()) == after
        final[account] = (after, balance)
    assert all(after == balance for after, balance in final.values())
    remaining = {x.id: x.remaining for x in lots.values()}
    for held in accounts.values():
        assert all(left == remaining[lot_id] for lot_id, (_, _, left) in held.items())
    assert kinds.keys() >= {"award", "hold", "expire", "donate", "allocate", "clawback"}


def _expected(
    kind: str,
    held: dict[uuid.UUID, list[Any]],
    at: Any,
    ref: str,
    amount: int,
    first: uuid.UUID | None = None,
) -> list[tuple[uuid.UUID, int]]:
    """What a debit of `amount` at `at` must take from an account's lots (a clawback: its
    award's lot `first`, then the others)."""
    open_lots = sorted((x for x in held.values() if x[2] > 0), key=lambda x: (x[0], x[1]))
    if kind == "expire":
        lot = held[uuid.UUID(ref.removeprefix("lot:"))]
        assert lot[0] == at and lot[2] == amount  # the rest of the lot, at its expiry
        assert open_lots[0] is lot  # every lot expiring earlier is closed already
        return [(lot[1], amount)]
    assert kind in ("hold", "donate", "allocate", "repay", "clawback"), kind
    if kind == "clawback":
        assert first is not None
        open_lots.sort(key=lambda x: x[1] != first)  # stable: the award's own lot first
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


GIFTS = (
    # each donation with its carry's slices (out of the donor's wallet, into the pool)
    "SELECT d.id, d.resident_id, d.amount, d.month, d.created_at, d.receipt_entry_id, "
    "r.community_id, bool_and(w.owner = 'wallet:resident:' || d.resident_id), "
    "min(p.owner), coalesce(sum(c.amount), 0), count(c.id), "
    "min(CASE WHEN c.slice = 1 THEN oe.id::text END) "
    "FROM community_donation d JOIN identity_resident r ON r.id = d.resident_id "
    "LEFT JOIN ledger_carry c ON c.idempotency_key = d.ledger_key "
    "LEFT JOIN ledger_account p ON p.bucket = c.bucket AND p.id = c.account_id "
    "LEFT JOIN ledger_account w ON w.bucket = c.from_bucket AND w.id = c.from_account_id "
    "LEFT JOIN ledger_entry oe ON oe.bucket = c.from_bucket "
    "  AND oe.transfer_id = c.out_transfer_id AND oe.account_id = c.from_account_id "
    "GROUP BY d.id, r.community_id"
)
ALLOCATIONS = (
    # each allocation with its slices, its recipient's low-income status and other credits
    "SELECT a.id, a.amount, a.created_at, a.receipt_entry_id, r.community_id = a.community_id, "
    "(SELECT l.active AND l.community_id = a.community_id AND l.set_at < a.created_at "
    "  FROM community_low_income l WHERE l.resident_id = a.resident_id "
    "  ORDER BY l.set_at DESC LIMIT 1), "
    "coalesce(sum(c.amount), 0), min(CASE WHEN c.slice = 1 THEN ie.id::text END), "
    "bool_and(w.owner = 'wallet:resident:' || a.resident_id), "
    "bool_and(f.owner = 'pool:community:' || a.community_id), "
    "(SELECT count(*) FROM hours_entry h WHERE h.resident_id = a.resident_id) "
    "FROM community_allocation a JOIN identity_resident r ON r.id = a.resident_id "
    "LEFT JOIN ledger_carry c ON c.idempotency_key = a.ledger_key "
    "LEFT JOIN ledger_account w ON w.bucket = c.bucket AND w.id = c.account_id "
    "LEFT JOIN ledger_account f ON f.bucket = c.from_bucket AND f.id = c.from_account_id "
    "LEFT JOIN ledger_lot nl ON nl.bucket = c.bucket AND nl.id = c.lot_id "
    "LEFT JOIN ledger_entry ie ON ie.bucket = nl.bucket AND ie.id = nl.entry_id "
    "GROUP BY a.id, r.community_id"
)
CARRIED = (
    # points carried out of wallets (gifts) and pools (allocations) by Beijing month: the
    # transfers into the transit accounts
    "SELECT to_char(t.occurred_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM'), t.kind, "
    "sum(t.amount) FROM ledger_transfer t JOIN ledger_account x ON x.bucket = t.bucket "
    "AND x.id = t.credit_account_id WHERE x.owner = 'system:transit' GROUP BY 1, 2"
)
HOLDINGS = (
    "SELECT (SELECT sum(balance) FROM ledger_account WHERE kind IN ('wallet', 'pool')) "
    "+ (SELECT coalesce(sum(amount), 0) FROM ledger_hold WHERE status = 'pending')"
)


def test_gifts_reach_the_pools_and_the_low_income_residents_as_the_rollup_says(
    city_year: dict[str, Any], wiring: Any
) -> None:
    """积分捐赠 from the raw rows: each donation is its carry's slices (their sum, out of the
    donor's own wallet into their own community's pool, the receipt the first slice's debit)
    within the monthly limit; 1–2 % of the year's points are given; each allocation goes to
    a resident the 民政专干 marked low-income before it, out of the community's pool, its
    receipt the recipient's first credit, and recipients earn nothing of their own; a pool
    never passes on more than it was given; donated points by Beijing month (donation rows,
    and the carries out of wallets) are the rollup's, month by month, and the rollup's
    outstanding points are the wallets', pools' and pending holds' own."""
    sessions, _ = wiring
    city = city_year["city"]
    first, end = city_year["year"]
    with transaction(sessions) as s:
        gifts = s.execute(text(GIFTS)).all()
        allocations = s.execute(text(ALLOCATIONS)).all()
        carried: dict[tuple[str, str], int] = {
            (m, k): int(n) for m, k, n in s.execute(text(CARRIED)).all()
        }
        holdings = s.execute(text(HOLDINGS)).scalar()
        months = recent_months(local_date(utcnow()), 26)
        hangzhou = RegionService(s).by_code("3301")
        read = InsightsService(s).figures(hangzhou, months[0], months[-1], utcnow())
        limit = DonationService(s).settings(hangzhou.id).monthly_donation_limit
    assert len(gifts) > 20 and len(allocations) > 10
    by_month: dict[str, int] = {}
    given: dict[tuple[Any, str], int] = {}
    for _, rid, amount, month, at, receipt, community, own, pool, sliced, n, first_out in gifts:
        assert month == local_date(at).strftime("%Y-%m")
        assert (sliced, pool, own) == (amount, f"pool:community:{community}", True) and n >= 1
        assert str(receipt) == first_out  # the donor's debit of the first slice
        by_month[month] = by_month.get(month, 0) + amount
        given[(rid, month)] = given.get((rid, month), 0) + amount
    assert max(given.values()) <= limit
    assert by_month == {m: n for (m, k), n in carried.items() if k == "donate"}
    for m in read.months:
        assert m.points.donated == by_month.get(m.month, 0), m.month
    in_year = sum(n for m, n in by_month.items() if first[:7] <= m < end[:7])
    assert in_year == city["points_donated"]
    assert 1.0 <= 100 * in_year / city["points_issued"] <= 2.0
    for _, amount, _, receipt, home, low_income, sliced, first_in, to, frm, hours in allocations:
        assert home and low_income and to and frm and hours == 0
        assert sliced == amount and str(receipt) == first_in
    allocated = sum(a[1] for a in allocations)
    assert allocated == sum(n for (_, k), n in carried.items() if k == "allocate")
    assert allocated <= sum(by_month.values())
    assert read.totals.outstanding == holdings


RECORDS = (
    # every record with its hours (and correction), award, case and clawback
    "SELECT p.status, p.flags, p.risk, p.reviewed_at, p.recheck_at, p.resident_id, h.minutes, "
    "h.served_on, k.minutes AS fix, k.served_on AS fix_on, k.kind AS fix_kind, k.seq, "
    "a.awarded, a.transfer_id AS award, c.kind, c.decided_at, c.signals, c.sanction, "
    "c.suspended_until, c.points_taken, c.debt, c.minutes_removed, c.clawback_id, "
    "x.id AS x_id, x.amount AS x_amount, x.taken + x.lapsed + x.debt AS x_sum, "
    "x.taken AS x_taken, x.debt AS x_debt, x.award_transfer_id AS x_award, w.owner AS wallet "
    "FROM activity_participation p "
    "LEFT JOIN hours_entry h ON h.participation_id = p.id "
    "LEFT JOIN hours_correction k ON k.participation_id = p.id "
    "LEFT JOIN scoring_award a ON a.participation_id = p.id "
    "LEFT JOIN fraud_case c ON c.participation_id = p.id "
    "LEFT JOIN ledger_clawback x ON x.id = c.clawback_id "
    "LEFT JOIN ledger_account w ON w.bucket = x.bucket AND w.id = x.account_id"
)
DEBTS = (
    "SELECT (SELECT coalesce(sum(owed), 0) FROM ledger_account WHERE kind = 'wallet'), "
    "(SELECT coalesce(-sum(balance), 0) FROM ledger_account WHERE kind = 'debt'), "
    "(SELECT coalesce(sum(CASE kind WHEN 'debt' THEN amount ELSE -amount END), 0) "
    " FROM ledger_transfer WHERE kind IN ('debt', 'repay'))"
)
CLAWED = (
    "SELECT to_char(occurred_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM'), sum(amount) "
    "FROM ledger_transfer WHERE kind IN ('clawback', 'repay') GROUP BY 1"
)


def test_flagged_records_cases_and_clawbacks_are_the_desks_and_the_rollups(
    city_year: dict[str, Any], wiring: Any
) -> None:
    """刷积分 from the raw rows: 0.1–0.3 % of records flagged (risk at the review line or
    refused), each risk the sum of its signals' weights; a record refused as fraud has no hours
    and no award, and a rejection case decided at its review with its signals; a record taken
    back was approved, found risky later, is revoked, its minutes corrected out (served the
    same day) and its award clawed back from its resident's wallet by a clawback case whose
    figures are the ledger clawback's; one case a resident, each a warning; what is owed is
    debts less repayments. Month by month the rollup's fraud cases by kind, corrected
    participations and points clawed back (clawbacks and repayments) are the raw rows', and
    the dashboard's counts are those, suppressed below 10."""
    sessions, _ = wiring
    city = city_year["city"]
    with transaction(sessions) as s:
        records = s.execute(text(RECORDS)).all()
        owed, debt_accounts, debt_left = s.execute(text(DEBTS)).one()
        clawed = {m: int(n) for m, n in s.execute(text(CLAWED)).all()}
        months = recent_months(local_date(utcnow()), 26)
        hangzhou = RegionService(s).by_code("3301")
        read = InsightsService(s).figures(hangzhou, months[0], months[-1], utcnow())
        rolled = InsightsRepository(s).figures(hangzhou, key_of(months[0]), key_of(months[-1]))
    weights, line = DEFAULT_POLICY.weights, DEFAULT_POLICY.review_at
    flagged = [r for r in records if r.status == "rejected" or r.risk >= line]
    assert 0.1 <= 100 * len(flagged) / len(records) <= 0.3
    assert len(flagged) == city["flagged_records"]
    cases: dict[tuple[str, str], int] = {}
    corrected: dict[str, int] = {}
    for r in flagged:
        assert r.risk == sum(weights[f] for f in r.flags) and r.flags
        if r.kind is not None:
            month = local_date(r.decided_at).strftime("%Y-%m")
            cases[(month, r.kind)] = cases.get((month, r.kind), 0) + 1
            assert sorted(r.signals) == sorted(r.flags)
            assert (r.sanction, r.suspended_until) == ("warning", None)
        if r.status == "rejected":
            assert (r.kind, r.minutes, r.awarded) == ("rejection", None, None)
            assert r.decided_at == r.reviewed_at
        elif r.status == "revoked":
            assert r.kind == "clawback" and r.reviewed_at < r.recheck_at < r.decided_at
            assert (r.fix, r.fix_on, r.fix_kind, r.seq) == (-r.minutes, r.served_on, "correct", 1)
            assert r.minutes_removed == r.minutes
            served = r.served_on.strftime("%Y-%m")
            corrected[served] = corrected.get(served, 0) + 1
            if r.awarded:
                assert (r.x_id, r.x_amount, r.x_sum) == (r.clawback_id, r.awarded, r.awarded)
                assert (r.x_award, r.x_taken, r.x_debt) == (r.award, r.points_taken, r.debt)
                assert r.wallet == f"wallet:resident:{r.resident_id}"
            else:
                assert r.clawback_id is None and r.points_taken == r.debt == 0
        else:
            assert r.status == "approved" and r.kind is None and r.fix is None
    assert {k for _, k in cases} == {"rejection", "clawback"}
    assert len({r.resident_id for r in records if r.kind}) == sum(cases.values())  # one each
    assert owed == debt_accounts == debt_left
    fraud = {(m, k): v for (m, f, k), v in rolled.items() if f == "fraud" and v}
    assert fraud == cases
    fixes = {m: v for (m, f, k), v in rolled.items() if (f, k) == ("clawbacks", "correct")}
    assert fixes == corrected
    for m in read.months:
        assert m.points.clawed_back == clawed.get(m.month, 0), m.month
    assert read.totals.fraud_flags == _published(sum(cases.values()))
    assert read.totals.clawbacks == _published(sum(corrected.values()))


def _published(n: int) -> int | str:
    """A count of people as the dashboard shows it (privacy.THRESHOLD)."""
    return n if n >= THRESHOLD else "<10"


ROLLUP_TABLES = (
    "insights_figure", "insights_region_figure", "insights_member", "insights_people",
    "insights_seen", "insights_watermark",
)  # fmt: skip


def rollup_tables(s: Session) -> dict[str, Counter[tuple[Any, ...]]]:
    """Every rollup table's rows (zeros left out: a page of rows that adds up to nothing
    writes no row, the same sum over pages may leave one)."""
    out: dict[str, Counter[tuple[Any, ...]]] = {}
    for table in ROLLUP_TABLES:
        rows = s.execute(text(f"SELECT * FROM {table}")).all()
        out[table] = Counter(tuple(r) for r in rows if not (isinstance(r[-1], int) and not r[-1]))
    return out


def test_the_set_based_rebuild_writes_what_counting_row_by_row_writes(wiring: Any) -> None:
    """The rebuild on PostgreSQL groups each source in SQL (`insights.bulk`); over the whole
    generated city (every flow: awards, holds, posts, expiries, donations, allocations,
    clawbacks, debts, fraud cases, registrations) it leaves the same rollup tables — figures,
    region figures, memberships, people, rows seen, watermarks — and counts the same rows as
    the job's row-by-row path from an empty rollup, at the same instant."""
    sessions, _ = wiring
    now = utcnow()
    with sessions() as s:
        rollup = Rollup(s)
        rollup.repo.lock()
        rollup.repo.clear()
        by_rows = rollup._run(now, people=False)
        rollup.rebuild_people()
        expected = rollup_tables(s)
        s.rollback()
    with sessions() as s:
        by_sets = Rollup(s).rebuild(now)
        got = rollup_tables(s)
        s.rollback()
    assert by_sets == by_rows
    assert by_rows["ledger"] > RESIDENTS and by_rows["fraud"] > 0
    for table in ROLLUP_TABLES:
        assert got[table] == expected[table], table
    assert len(got["insights_member"]) > RESIDENTS // 3


def test_a_city_the_disk_cannot_hold_is_refused_before_anything_is_written() -> None:
    """`bench.city` (and `make bench`'s city-year) asked for more residents than the database
    server's disk can hold says so in GB, before it creates (or drops) any database."""
    server = pg_admin_url().rsplit("/", 1)[0]
    name = f"city_too_big_{os.getpid()}"
    with pytest.raises(NoRoom, match=r"needs about [\d,.]+ GB .* GB free"):
        build(Options(server=server, db=name, residents=10**9, workers=2, buckets=8))
    with psycopg.connect(pg_admin_url(), autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    assert found is None
