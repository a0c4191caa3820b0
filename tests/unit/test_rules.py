"""Scoring rules: the seed's worked examples, then properties that must hold for any input."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from civicpoints.kit.versions import Candidate, select_rule_set
from civicpoints.scoring import rules
from civicpoints.scoring.errors import InvalidRuleSet
from civicpoints.scoring.rules import (
    DEFAULT_RULE_SET,
    ROUNDING_CHOICES,
    Award,
    Category,
    CategoryRule,
    Evidence,
    Facts,
    Mode,
    RuleSet,
    compute_award,
)
from civicpoints.scoring.schemas import rule_set_from_dict, rule_set_to_dict

V = Category.VOLUNTEER_SERVICE


def award(
    category: Category = V,
    minutes: int = 120,
    *,
    photo: bool = False,
    gps: bool = False,
    month: int = 0,
    rules: RuleSet = DEFAULT_RULE_SET,
) -> Award:
    return compute_award(rules, Facts(category, minutes, photo, gps), month)


def run_month(facts: list[Facts], rules: RuleSet = DEFAULT_RULE_SET) -> list[Award]:
    """Awards of consecutive records in one month, carrying the running total."""
    total, awards = 0, []
    for f in facts:
        a = compute_award(rules, f, total)
        total += a.awarded
        awards.append(a)
    return awards


# --- Seed examples -----------------------------------------------------------------------


def test_two_hours_basic_volunteering_is_20() -> None:
    a = award(V, 120)
    assert (a.base, a.awarded, a.cut, a.credited_minutes, a.refusal) == (20, 20, 0, 120, None)
    assert a.explanation == {
        "zh-CN": "2.0 小时 × 10 分/小时 = 20 分；本月剩余 500 分 → 实得 20 分",
        "en": "2.0 h × 10/h = 20; 500 left this month → 20 awarded",
    }


def test_ms_zhang_two_sessions_a_week_for_twelve_weeks_is_480() -> None:
    # 张女士: 2 × 2 h a week for 12 weeks, i.e. 8 sessions in each of 3 months.
    session = Facts(V, 120, photo=False, gps_verified=False)
    monthly = [sum(a.awarded for a in run_month([session] * 8)) for _ in range(3)]
    assert monthly == [160, 160, 160]
    assert sum(monthly) == 480


def test_sixty_hours_in_one_month_stops_at_the_cap() -> None:
    awards = run_month([Facts(V, 120, photo=False, gps_verified=False)] * 30)
    assert sum(a.awarded for a in awards) == 500
    assert sum(a.cut for a in awards) == 100
    assert [a.awarded for a in awards[:25]] == [20] * 25
    first_cut = next(a for a in awards if a.cut)
    assert first_cut is awards[25]
    assert (first_cut.base, first_cut.awarded, first_cut.cut) == (20, 0, 20)
    assert (
        first_cut.explanation["en"]
        == "2.0 h × 10/h = 20; 0 left this month → 0 awarded, 20 over the cap"
    )


def test_record_crossing_the_cap_shows_the_cut() -> None:
    # 485 already this month: a 2 h record (20) gets the 15 left and shows 5 cut.
    a = award(V, 120, month=485)
    assert (a.base, a.awarded, a.cut) == (20, 15, 5)
    assert a.explanation == {
        "zh-CN": "2.0 小时 × 10 分/小时 = 20 分；本月剩余 15 分 → 实得 15 分，超出月度上限 5 分",
        "en": "2.0 h × 10/h = 20; 15 left this month → 15 awarded, 5 over the cap",
    }


def test_month_of_uneven_records_crosses_the_cap_within_one_record() -> None:
    records = [Facts(Category.HIGH_RISK, 180, photo=False, gps_verified=False)] * 9  # 60 each
    awards = run_month(records)
    assert [a.awarded for a in awards] == [60] * 8 + [20]
    assert (awards[8].base, awards[8].cut) == (60, 40)
    assert sum(a.awarded for a in awards) == 500


def test_high_risk_three_hours_is_60() -> None:
    a = award(Category.HIGH_RISK, 180)
    assert (a.base, a.awarded) == (60, 60)
    assert a.explanation["en"] == "3.0 h × 20/h = 60; 500 left this month → 60 awarded"


def test_environmental_with_photo_and_gps_is_50() -> None:
    a = award(Category.ENVIRONMENTAL, 45, photo=True, gps=True)
    assert (a.base, a.awarded, a.credited_minutes, a.refusal) == (50, 50, 0, None)
    assert a.explanation == {
        "zh-CN": "环保行动：每次有效参与 50 分 = 50 分；本月剩余 500 分 → 实得 50 分",
        "en": "environmental action: 50 per valid participation = 50; "
        "500 left this month → 50 awarded",
    }


def test_environmental_without_photo_is_refused() -> None:
    a = award(Category.ENVIRONMENTAL, 45, photo=False, gps=True)
    assert (a.base, a.awarded, a.cut, a.refusal) == (0, 0, 0, "evidence.photo_missing")
    assert a.explanation == {
        "zh-CN": "需要上传现场照片才能获得积分",
        "en": "a photo of the action is required to earn points",
    }


def test_environmental_with_photo_but_gps_not_verified_is_refused() -> None:
    a = award(Category.ENVIRONMENTAL, 45, photo=True, gps=False)
    assert (a.awarded, a.refusal) == (0, "evidence.gps_not_verified")
    assert "签到位置" in a.explanation["zh-CN"]
    assert "check-in position" in a.explanation["en"]


def test_two_hours_ten_minutes_counts_as_two_hours() -> None:
    a = award(V, 130)
    assert (a.credited_minutes, a.awarded) == (120, 20)
    assert a.explanation == {
        "zh-CN": "130 分钟按满 30 分钟计 → 2.0 小时；2.0 小时 × 10 分/小时 = 20 分；"
        "本月剩余 500 分 → 实得 20 分",
        "en": "130 min counted in whole 30-min blocks → 2.0 h; 2.0 h × 10/h = 20; "
        "500 left this month → 20 awarded",
    }


def test_half_hours_count() -> None:
    assert award(V, 90).awarded == 15


def test_less_than_one_block_is_refused_as_too_short() -> None:
    a = award(V, 29)
    assert (a.awarded, a.credited_minutes, a.refusal) == (0, 0, "duration.too_short")
    assert a.explanation["en"] == (
        "29 min is less than 30 min; only whole 30-min blocks count, so no points are earned"
    )
    assert a.explanation["zh-CN"].startswith("时长 29 分钟，不满 30 分钟")


def test_max_hours_caps_one_record() -> None:
    rules = RuleSet({V: CategoryRule(Mode.PER_HOUR, 10, max_hours=4)}, 500, 12)
    a = award(V, 6 * 60 + 10, rules=rules)
    assert (a.credited_minutes, a.base) == (240, 40)
    assert a.explanation["en"] == (
        "370 min counted in whole 30-min blocks → 6.0 h, at most 4 h per record → 4.0 h; "
        "4.0 h × 10/h = 40; 500 left this month → 40 awarded"
    )


def test_inexact_hours_are_shown_in_minutes() -> None:
    rules = RuleSet({V: CategoryRule(Mode.PER_HOUR, 10, rounding_minutes=5)}, 500, 12)
    a = award(V, 125, rules=rules)
    assert a.base == 20  # 125 × 10 // 60
    assert a.explanation["en"].startswith("125 min × 10/h = 20;")


def test_category_missing_from_the_rule_set_is_refused() -> None:
    rules = RuleSet({V: CategoryRule(Mode.PER_HOUR, 10)}, 500, 12)
    a = award(Category.HIGH_RISK, 120, rules=rules)
    assert (a.awarded, a.refusal) == (0, "category.not_covered")
    assert "高风险" in a.explanation["zh-CN"]


def test_month_already_over_a_lowered_cap_gets_nothing() -> None:
    a = award(V, 120, month=600)
    assert (a.awarded, a.cut) == (0, 20)
    assert "0 left this month" in a.explanation["en"]


def test_evidence_order() -> None:
    assert Evidence.PHOTO_GPS.satisfies(Evidence.PHOTO)
    assert Evidence.PHOTO.satisfies(Evidence.NONE)
    assert not Evidence.PHOTO.satisfies(Evidence.PHOTO_GPS)
    assert not Evidence.NONE.satisfies(Evidence.PHOTO)


def test_photo_evidence_rule_needs_no_gps() -> None:
    rules = RuleSet({V: CategoryRule(Mode.PER_PARTICIPATION, 5, evidence=Evidence.PHOTO)}, 9, 1)
    assert award(V, 0, photo=True, rules=rules).awarded == 5


def test_default_rule_set_is_read_only() -> None:
    with pytest.raises(TypeError):
        DEFAULT_RULE_SET.categories[V] = CategoryRule(Mode.PER_HOUR, 99)  # type: ignore[index]


# --- Properties --------------------------------------------------------------------------

category_rules = st.builds(
    CategoryRule,
    mode=st.sampled_from(Mode),
    points=st.integers(1, 10_000),
    rounding_minutes=st.sampled_from(ROUNDING_CHOICES),
    max_hours=st.none() | st.integers(1, 24),
    evidence=st.sampled_from(Evidence),
)
rule_sets = st.builds(
    RuleSet,
    categories=st.dictionaries(st.sampled_from(Category), category_rules),
    monthly_cap=st.integers(0, 100_000),
    expiry_months=st.integers(1, 60),
)
facts = st.builds(
    Facts,
    category=st.sampled_from(Category),
    minutes=st.integers(-60, 48 * 60),
    photo=st.booleans(),
    gps_verified=st.booleans(),
)


@given(rule_sets, facts, st.integers(-1000, 200_000))
def test_award_is_within_the_cap_and_adds_up(rules: RuleSet, f: Facts, month: int) -> None:
    a = compute_award(rules, f, month)
    assert a.awarded >= 0 and a.cut >= 0 and a.base >= 0
    assert a.awarded + a.cut == a.base
    assert a.awarded <= rules.monthly_cap
    if 0 <= month <= rules.monthly_cap:
        assert month + a.awarded <= rules.monthly_cap
    assert set(a.explanation) == {"zh-CN", "en"}
    assert (a.refusal is None) or a.base == 0


@given(rule_sets, facts, st.integers(0, 24 * 60), st.integers(0, 100_000))
def test_more_minutes_never_fewer_points(rules: RuleSet, f: Facts, extra: int, month: int) -> None:
    longer = Facts(f.category, f.minutes + extra, f.photo, f.gps_verified)
    shorter_award = compute_award(rules, f, month)
    longer_award = compute_award(rules, longer, month)
    assert longer_award.base >= shorter_award.base
    assert longer_award.awarded >= shorter_award.awarded


@given(rule_sets)
def test_dict_round_trip(rules: RuleSet) -> None:
    assert rule_set_from_dict(rule_set_to_dict(rules)) == rules


def test_default_rule_set_round_trips() -> None:
    d = rule_set_to_dict(DEFAULT_RULE_SET)
    assert d["categories"]["environmental"] == {
        "mode": "per_participation",
        "points": 50,
        "rounding_minutes": 30,
        "max_hours": None,
        "evidence": "photo_gps",
    }
    assert (d["monthly_cap"], d["expiry_months"]) == (500, 12)
    assert rule_set_from_dict(d) == DEFAULT_RULE_SET


# --- Validation --------------------------------------------------------------------------


def _valid() -> dict[str, Any]:
    return rule_set_to_dict(DEFAULT_RULE_SET)


def _with(path: str, value: Any) -> dict[str, Any]:
    d = _valid()
    *parents, last = path.split(".")
    target = d
    for key in parents:
        target = target[key]
    target[last] = value
    return d


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("categories.high_risk.points", 0),
        ("categories.high_risk.points", 10_001),
        ("categories.high_risk.points", "20"),
        ("categories.high_risk.points", True),
        ("categories.high_risk.points", 20.0),
        ("categories.high_risk.rounding_minutes", 7),
        ("categories.high_risk.rounding_minutes", 30.0),
        ("categories.high_risk.max_hours", 0),
        ("categories.high_risk.mode", "per_day"),
        ("categories.high_risk.evidence", "video"),
        ("categories.high_risk.colour", "red"),
        ("categories.high_risk", []),
        ("categories.gardening", {"mode": "per_hour", "points": 5}),
        ("categories", []),
        ("monthly_cap", -1),
        ("expiry_months", 0),
        ("expiry_months", 61),
        ("bonus", 1),
    ],
)
def test_invalid_rule_set_names_the_field(path: str, value: Any) -> None:
    with pytest.raises(InvalidRuleSet) as caught:
        rule_set_from_dict(_with(path, value))
    assert caught.value.field == path
    assert caught.value.code == "scoring.invalid_rule_set"
    assert caught.value.status == 422
    assert path in caught.value.message("zh-CN") and path in caught.value.message("en")


@pytest.mark.parametrize("key", ["categories", "monthly_cap", "expiry_months"])
def test_missing_top_level_field_is_named(key: str) -> None:
    d = _valid()
    del d[key]
    with pytest.raises(InvalidRuleSet) as caught:
        rule_set_from_dict(d)
    assert caught.value.field == key


def test_missing_points_is_named() -> None:
    d = _valid()
    del d["categories"]["high_risk"]["points"]
    with pytest.raises(InvalidRuleSet) as caught:
        rule_set_from_dict(d)
    assert caught.value.field == "categories.high_risk.points"
    assert caught.value.message("en") == (
        "invalid rule set at categories.high_risk.points: is required"
    )


def test_document_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(InvalidRuleSet) as caught:
        rule_set_from_dict([1, 2])
    assert caught.value.field == "rule_set"


def test_optional_rule_fields_take_their_defaults() -> None:
    d = {"categories": {"volunteer_service": {"mode": "per_hour", "points": 10}}}
    rs = rule_set_from_dict(d | {"monthly_cap": 500, "expiry_months": 12})
    assert rs.categories[V] == CategoryRule(Mode.PER_HOUR, 10)


# --- Rule-set selection ------------------------------------------------------------------

D = date(2025, 6, 1)


def test_most_specific_region_wins_over_newer_ancestor() -> None:
    candidates = [
        Candidate("city", None, date(2025, 5, 1)),
        Candidate("district", 1, date(2025, 5, 20)),
        Candidate("street", 0, date(2025, 1, 1)),
    ]
    assert select_rule_set(candidates, D) == "street"


def test_latest_effective_version_wins_within_a_region() -> None:
    candidates = [
        Candidate("v1", 1, date(2024, 1, 1)),
        Candidate("v2", 1, date(2025, 1, 1)),
        Candidate("v3", 1, date(2025, 7, 1)),  # not yet in force
    ]
    assert select_rule_set(candidates, D) == "v2"


def test_future_rule_sets_are_ignored_and_global_is_the_fallback() -> None:
    candidates = [
        Candidate("city", None, date(2020, 1, 1)),
        Candidate("street", 0, date(2026, 1, 1)),
    ]
    assert select_rule_set(candidates, D) == "city"
    assert select_rule_set(candidates, date(2026, 1, 1)) == "street"
    assert select_rule_set([], D) is None
    assert select_rule_set([Candidate("x", 0, date(2030, 1, 1))], D) is None


candidates = st.builds(
    Candidate,
    id=st.text(min_size=1, max_size=4),
    region_depth_index=st.none() | st.integers(0, 5),
    effective_from=st.dates(date(2024, 1, 1), date(2026, 12, 31)),
)


def _specificity(c: Candidate) -> int:
    return -1 if c.region_depth_index is None else 100 - c.region_depth_index


@given(
    st.lists(candidates, max_size=8, unique_by=lambda c: c.id),
    st.dates(date(2024, 1, 1), date(2026, 12, 31)),
)
def test_selection_picks_most_specific_then_latest(cs: list[Candidate], on: date) -> None:
    chosen_id = select_rule_set(cs, on)
    live = [c for c in cs if c.effective_from <= on]
    if not live:
        assert chosen_id is None
        return
    chosen = next(c for c in live if c.id == chosen_id)
    best = max(_specificity(c) for c in live)
    assert _specificity(chosen) == best
    same_region = [c for c in live if _specificity(c) == best]
    assert chosen.effective_from == max(c.effective_from for c in same_region)


def test_in_force_prefers_the_most_specific_region_then_the_latest_start() -> None:
    """City-wide, district and street versions: the street's applies to a street activity,
    a version starting tomorrow does not, and an unrelated region's never does."""
    city_rules = rules.DEFAULT_RULE_SET
    street, district, elsewhere = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    today = date(2026, 11, 27)
    v = [
        rules.Version(uuid.uuid4(), None, date(2026, 1, 1), city_rules),
        rules.Version(uuid.uuid4(), district, date(2026, 1, 1), city_rules),
        rules.Version(uuid.uuid4(), street, date(2026, 6, 1), city_rules),
        rules.Version(uuid.uuid4(), street, date(2026, 11, 28), city_rules),
        rules.Version(uuid.uuid4(), elsewhere, date(2026, 1, 1), city_rules),
    ]
    assert rules.in_force(v, [street, district], today)[0] == v[2].id
    assert rules.in_force(v, [district], today)[0] == v[1].id
    assert rules.in_force(v, [uuid.uuid4()], today)[0] == v[0].id
    assert rules.in_force(v[3:], [street], today) == (None, rules.DEFAULT_RULE_SET)


# --- Presence (issue 8, defect 3) ----------------------------------------------------------

ENV = Category.ENVIRONMENTAL


def short(category: Category, stayed: int, scheduled: int) -> rules.Shortfall | None:
    return rules.presence_shortfall(DEFAULT_RULE_SET, category, stayed, scheduled)


@pytest.mark.parametrize(
    ("category", "scheduled", "required"),
    [
        (V, 120, 72),  # 60% of 2 h
        (V, 119, 72),  # 71.4 rounds up: 71 min is not 60%
        (V, 100, 60),
        (V, 0, 0),
        (ENV, 120, 15),  # at least 15 min per participation
        (ENV, 30, 15),
        (ENV, 20, 10),  # a 20-min action asks for half of it
        (ENV, 1, 1),
    ],
)
def test_default_presence_needed(category: Category, scheduled: int, required: int) -> None:
    assert short(category, required, scheduled) is None
    if required:
        gap = short(category, required - 1, scheduled)
        assert gap is not None
        assert (gap.code, gap.required, gap.stayed) == (
            "presence.too_short",
            required,
            required - 1,
        )


def test_a_moment_on_site_is_short_with_the_reason_in_both_languages() -> None:
    gap = short(ENV, 0, 120)
    assert gap is not None
    assert gap.explanation == {
        "zh-CN": "在场 0 分钟，不足 15 分钟（每次参与至少 15 分钟），需人工审核后计分",
        "en": "present 0 min, less than the required 15 min (at least 15 min per "
        "participation); points only after a reviewer approves",
    }
    hourly = short(V, 71, 120)
    assert hourly is not None and hourly.explanation["zh-CN"] == (
        "在场 71 分钟，不足 72 分钟（活动时长 120 分钟的 60%），需人工审核后计分"
    )
    assert "60% of the scheduled 120 min" in hourly.explanation["en"]


def test_presence_follows_the_rule_set() -> None:
    strict = RuleSet(DEFAULT_RULE_SET.categories, 500, 12, rules.Presence(100, 30, 100))
    assert rules.presence_shortfall(strict, V, 119, 120) is not None
    assert rules.presence_shortfall(strict, ENV, 29, 120) is not None
    assert rules.presence_shortfall(strict, ENV, 20, 20) is None
    lenient = RuleSet(DEFAULT_RULE_SET.categories, 500, 12, rules.Presence(0, 0, 0))
    assert rules.presence_shortfall(lenient, ENV, 0, 120) is None


def test_uncovered_category_is_not_held_for_presence() -> None:
    only_v = RuleSet({V: CategoryRule(Mode.PER_HOUR, 10)}, 500, 12)
    assert rules.presence_shortfall(only_v, ENV, 0, 120) is None


presences = st.builds(
    rules.Presence, st.integers(0, 100), st.integers(0, 24 * 60), st.integers(0, 100)
)


@given(presences, st.sampled_from(Category), st.integers(0, 24 * 60), st.integers(-5, 24 * 60))
def test_presence_properties(p: rules.Presence, c: Category, scheduled: int, stayed: int) -> None:
    rs = RuleSet(DEFAULT_RULE_SET.categories, 500, 12, p)
    gap = rules.presence_shortfall(rs, c, stayed, scheduled)
    # Staying the whole schedule is always enough, and staying longer never hurts.
    assert rules.presence_shortfall(rs, c, scheduled, scheduled) is None
    if gap is None:
        assert rules.presence_shortfall(rs, c, stayed + 1, scheduled) is None
    else:
        assert gap.stayed == max(0, stayed) < gap.required <= scheduled
        assert set(gap.explanation) == {"zh-CN", "en"}


# --- The reference numbers, written out (not read back from the module) ---------------------


@pytest.mark.parametrize(
    ("category", "mode", "points", "evidence"),
    [
        ("volunteer_service", "per_hour", 10, "none"),
        ("high_risk", "per_hour", 20, "none"),
        ("environmental", "per_participation", 50, "photo_gps"),
        ("public_supervision", "per_hour", 10, "none"),
        ("education_support", "per_hour", 10, "none"),
    ],
)
def test_seed_default_rate_of_every_category(
    category: str, mode: str, points: int, evidence: str
) -> None:
    rule = DEFAULT_RULE_SET.categories[Category(category)]
    assert (rule.mode.value, rule.points, rule.evidence.value) == (mode, points, evidence)
    assert (rule.rounding_minutes, rule.max_hours) == (30, None)


def test_seed_defaults_cover_exactly_five_categories_cap_500_expiry_12() -> None:
    assert len(DEFAULT_RULE_SET.categories) == 5
    assert (DEFAULT_RULE_SET.monthly_cap, DEFAULT_RULE_SET.expiry_months) == (500, 12)
    assert DEFAULT_RULE_SET.presence == rules.Presence(60, 15, 50)


def test_seed_default_earnings_in_points() -> None:
    assert award(Category.PUBLIC_SUPERVISION, 60).awarded == 10
    assert award(Category.EDUCATION_SUPPORT, 90).awarded == 15
    assert award(Category.HIGH_RISK, 60).awarded == 20
    assert award(ENV, 1, photo=True, gps=True).awarded == 50


@pytest.mark.parametrize(
    ("block", "minutes", "credited"),
    [
        (1, 59, 59),
        (1, 1, 1),
        (5, 59, 55),
        (5, 4, 0),
        (10, 59, 50),
        (15, 59, 45),
        (15, 15, 15),
        (30, 59, 30),
        (30, 60, 60),
        (60, 119, 60),
        (60, 59, 0),
    ],
)
def test_each_rounding_choice_floors_to_whole_blocks(
    block: int, minutes: int, credited: int
) -> None:
    # 60 points an hour: one point a minute, so points equal the credited minutes.
    rs = RuleSet({V: CategoryRule(Mode.PER_HOUR, 60, rounding_minutes=block)}, 100_000, 12)
    a = award(V, minutes, rules=rs)
    assert (a.credited_minutes, a.awarded) == (credited, credited)
    assert a.refusal == (None if credited else "duration.too_short")


def test_rounding_choices_are_exactly_these() -> None:
    assert ROUNDING_CHOICES == (1, 5, 10, 15, 30, 60)


def test_zero_length_stay_with_one_minute_rounding_credits_nothing() -> None:
    rs = RuleSet({V: CategoryRule(Mode.PER_HOUR, 10, rounding_minutes=1)}, 500, 12)
    a = award(V, 0, rules=rs)
    assert (a.base, a.awarded, a.credited_minutes, a.refusal) == (0, 0, 0, "duration.too_short")


def test_version_starting_today_applies_today() -> None:
    today = date(2026, 12, 6)
    own = RuleSet({V: CategoryRule(Mode.PER_HOUR, 12)}, 600, 24)
    v = rules.Version(uuid.uuid4(), None, today, own)
    assert rules.in_force([v], [], today) == (v.id, own)
    assert rules.in_force([v], [], date(2026, 12, 5)) == (None, DEFAULT_RULE_SET)
    assert select_rule_set([Candidate("today", 0, today)], today) == "today"


def test_new_versions_may_start_yesterday_but_not_earlier() -> None:
    today = date(2026, 12, 6)
    assert not rules.backdated(date(2026, 12, 7), today)
    assert not rules.backdated(today, today)
    assert not rules.backdated(date(2026, 12, 5), today)
    assert rules.backdated(date(2026, 12, 4), today)
    assert rules.backdated(date(2020, 1, 1), today)


def test_sixty_month_expiry_is_valid_sixty_one_is_not() -> None:
    assert rule_set_from_dict(_with("expiry_months", 60), new=True).expiry_months == 60
    assert rule_set_from_dict(_with("expiry_months", 1), new=True).expiry_months == 1
    with pytest.raises(InvalidRuleSet) as caught:
        rule_set_from_dict(_with("expiry_months", 61), new=True)
    assert caught.value.message("en") == "invalid rule set at expiry_months: must be at most 60"
    assert caught.value.message("zh-CN") == "积分规则 expiry_months 有误：不能大于 60"


def test_new_rule_set_without_categories_is_refused_but_a_stored_one_reads() -> None:
    empty = _with("categories", {})
    with pytest.raises(InvalidRuleSet) as caught:
        rule_set_from_dict(empty, new=True)
    assert caught.value.field == "categories"
    assert caught.value.message("zh-CN") == "积分规则 categories 有误：至少要有一个积分类别"
    assert caught.value.message("en") == (
        "invalid rule set at categories: must cover at least one category"
    )
    assert rule_set_from_dict(empty).categories == {}


def test_stored_version_from_before_presence_reads_with_the_default_presence() -> None:
    old = {
        "categories": {"volunteer_service": {"mode": "per_hour", "points": 10}},
        "monthly_cap": 500,
        "expiry_months": 12,
    }
    assert rule_set_from_dict(old).presence == rules.Presence(60, 15, 50)


@pytest.mark.parametrize(
    ("path", "value", "zh", "en"),
    [
        ("categories.high_risk.points", "20", "必须是整数", "must be an integer"),
        ("categories.high_risk.points", 0, "不能小于 1", "must be at least 1"),
        ("categories.high_risk.points", 10_001, "不能大于 10000", "must be at most 10000"),
        (
            "categories.high_risk.rounding_minutes",
            7,
            "必须是 1, 5, 10, 15, 30, 60 之一",
            "must be one of 1, 5, 10, 15, 30, 60",
        ),
        (
            "categories.high_risk.mode",
            "per_day",
            "必须是 per_hour, per_participation 之一",
            "must be one of per_hour, per_participation",
        ),
        ("categories.high_risk.colour", "red", "未知字段", "unknown field"),
        (
            "categories.gardening",
            {"mode": "per_hour", "points": 5},
            "未知的积分类别",
            "unknown category",
        ),
        ("categories.high_risk", [], "必须是对象", "must be an object"),
        ("presence.per_hour_percent", 101, "不能大于 100", "must be at most 100"),
    ],
)
def test_each_field_is_refused_in_both_languages(path: str, value: Any, zh: str, en: str) -> None:
    with pytest.raises(InvalidRuleSet) as caught:
        rule_set_from_dict(_with(path, value), new=True)
    assert caught.value.message("zh-CN") == f"积分规则 {path} 有误：{zh}"
    assert caught.value.message("en") == f"invalid rule set at {path}: {en}"


def test_a_suspended_resident_earns_nothing_and_is_told_why() -> None:
    """Earning suspended by the fraud ladder: no points whatever the service, a refusal code,
    and the reason in both languages; the same service unsuspended pays as usual."""
    facts = Facts(Category.VOLUNTEER_SERVICE, 120, photo=True, gps_verified=True, suspended=True)
    a = compute_award(DEFAULT_RULE_SET, facts, 0)
    assert (a.base, a.awarded, a.cut, a.refusal) == (0, 0, 0, "earning.suspended")
    assert "暂停" in a.explanation["zh-CN"] and "suspended" in a.explanation["en"]
    free = Facts(Category.VOLUNTEER_SERVICE, 120, photo=True, gps_verified=True)
    assert compute_award(DEFAULT_RULE_SET, free, 0).awarded == 20
