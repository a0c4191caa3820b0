"""Scoring rules: how many points one participation earns, and which rule set applies.

A pure module: values in, values out. No session, no clock, no I/O, so every rule can be
checked by a property test and the same computation explains itself to residents.

Rules (积分规则):

* per_hour (按小时): `points` per hour. The duration counts in whole `rounding_minutes`
  blocks only (只计满 30 分钟), then at most `max_hours` per record. Points are
  `credited_minutes * points // 60`, integers only.
* per_participation (按次): `points` once per valid participation; valid means the
  evidence (photo, GPS-verified check-in) meets the rule's `evidence` level.
* The monthly cap (月度上限) cuts what would go over it; the cut is reported, never hidden.
* hazard_reports (隐患随手拍): `points` once per confirmed first report of a hazard, under
  the same monthly cap; 0 means reports earn nothing in that region.
* Team challenges (积分挑战赛): the points of a participation go to the team's pool, under the
  team's own monthly cap (`team_monthly_cap`), never counted against the member's cap.
* Presence (在场时长): a stay shorter than the rule set's minimum goes to a reviewer instead
  of being paid automatically (`presence_shortfall`); see docs/scoring.md for the defaults.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from types import MappingProxyType

from civicpoints.kit.versions import in_force as versions_in_force


class Category(StrEnum):
    """Kinds of public service that earn points."""

    VOLUNTEER_SERVICE = "volunteer_service"
    HIGH_RISK = "high_risk"
    ENVIRONMENTAL = "environmental"
    PUBLIC_SUPERVISION = "public_supervision"
    EDUCATION_SUPPORT = "education_support"


CATEGORY_LABELS: Mapping[Category, Mapping[str, str]] = MappingProxyType(
    {
        Category.VOLUNTEER_SERVICE: {"zh-CN": "志愿服务", "en": "volunteer service"},
        Category.HIGH_RISK: {"zh-CN": "高风险", "en": "high-risk service"},
        Category.ENVIRONMENTAL: {"zh-CN": "环保行动", "en": "environmental action"},
        Category.PUBLIC_SUPERVISION: {"zh-CN": "公共监督", "en": "public supervision"},
        Category.EDUCATION_SUPPORT: {"zh-CN": "教育支持", "en": "education support"},
    }
)


class Evidence(StrEnum):
    """Proof a participation needs, weakest first: photo_gps satisfies photo satisfies none."""

    NONE = "none"
    PHOTO = "photo"
    PHOTO_GPS = "photo_gps"

    def satisfies(self, required: Evidence) -> bool:
        """Whether this evidence is at least as strong as `required`."""
        order = list(Evidence)  # declaration order is the strength order
        return order.index(self) >= order.index(required)


class Mode(StrEnum):
    """How a category counts: by the hour or once per participation."""

    PER_HOUR = "per_hour"
    PER_PARTICIPATION = "per_participation"


ROUNDING_CHOICES = (1, 5, 10, 15, 30, 60)
MAX_POINTS = 10_000
MAX_MONTHLY_CAP = 1_000_000  # points per resident per month: far above any real scheme
MAX_EXPIRY_MONTHS = 60
# Our assumption until a city sets its own: a team pool earns at most this much a month
# (the seed's 50-person clean-up, 2,000 points, fits with room for a second event).
DEFAULT_TEAM_MONTHLY_CAP = 5_000


@dataclass(frozen=True)
class CategoryRule:
    """How one category earns points (see the module docstring)."""

    mode: Mode
    points: int
    rounding_minutes: int = 30
    max_hours: int | None = None
    evidence: Evidence = Evidence.NONE


@dataclass(frozen=True)
class Presence:
    """How long a resident must be present for a record to be paid without a reviewer.

    Per-hour categories: `per_hour_percent` of the scheduled time. Per-participation ones:
    `per_participation_minutes`, or `per_participation_percent` of the schedule when that is
    less (a 20-minute clean-up asks for 10 minutes, a 2-hour one for 15).
    """

    per_hour_percent: int = 60
    per_participation_minutes: int = 15
    per_participation_percent: int = 50


@dataclass(frozen=True)
class ReportRule:
    """隐患随手拍: `points` for each confirmed first report of a hazard (0: none)."""

    points: int = 20


@dataclass(frozen=True)
class RuleSet:
    """A complete rule set: per-category rules, the monthly cap, how long points last, the
    presence a participation needs, and a volunteer team's monthly cap (团队月度上限)."""

    categories: Mapping[Category, CategoryRule]
    monthly_cap: int
    expiry_months: int
    presence: Presence = Presence()
    hazard_reports: ReportRule = ReportRule()
    team_monthly_cap: int = DEFAULT_TEAM_MONTHLY_CAP

    def __post_init__(self) -> None:
        # Read-only copy, so a shared rule set (DEFAULT_RULE_SET) cannot be changed in place.
        object.__setattr__(self, "categories", MappingProxyType(dict(self.categories)))


DEFAULT_RULE_SET = RuleSet(
    categories={
        Category.VOLUNTEER_SERVICE: CategoryRule(Mode.PER_HOUR, 10),
        Category.HIGH_RISK: CategoryRule(Mode.PER_HOUR, 20),
        Category.ENVIRONMENTAL: CategoryRule(
            Mode.PER_PARTICIPATION, 50, evidence=Evidence.PHOTO_GPS
        ),
        # Our assumption: the seed names these two categories but gives no number, so they
        # earn like basic volunteering until the city sets their own rate.
        Category.PUBLIC_SUPERVISION: CategoryRule(Mode.PER_HOUR, 10),
        Category.EDUCATION_SUPPORT: CategoryRule(Mode.PER_HOUR, 10),
    },
    monthly_cap=500,
    expiry_months=12,
)


@dataclass(frozen=True)
class Facts:
    """What the system knows of one participation; gps_verified = check-in inside the geofence."""

    category: Category
    minutes: int
    photo: bool
    gps_verified: bool
    # Earning suspended after confirmed fraud (fraud's sanction ladder): no points, said why.
    suspended: bool = False
    # A confirmed hazard report (隐患随手拍), paid by `RuleSet.hazard_reports`, not a category.
    report: bool = False
    # A team challenge (积分挑战赛): paid to the team's pool under `RuleSet.team_monthly_cap`;
    # `awarded_this_month` is then the team's, not the member's.
    team: bool = False


@dataclass(frozen=True)
class Award:
    """The outcome for one participation, with the computation spelled out in zh-CN and en.

    `base` is what the rules give before the monthly cap; `awarded + cut == base`.
    `credited_minutes` are the minutes that earned points (0 for per-participation and for
    refusals). `refusal` is a stable reason code when the participation does not qualify;
    reaching the monthly cap is not a refusal, it shows as `cut`.
    """

    base: int
    awarded: int
    cut: int
    credited_minutes: int
    refusal: str | None
    explanation: dict[str, str]


REFUSALS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "category.not_covered": {
            "zh-CN": "本地积分规则不包含“{category_zh}”类别，不计积分",
            "en": "the local rule set does not cover {category_en}, so no points are earned",
        },
        "evidence.photo_missing": {
            "zh-CN": "需要上传现场照片才能获得积分",
            "en": "a photo of the action is required to earn points",
        },
        "evidence.gps_not_verified": {
            "zh-CN": "签到位置不在活动范围内，需在现场签到才能获得积分",
            "en": "the check-in position is outside the activity area; "
            "checking in on site is required to earn points",
        },
        "earning.suspended": {
            "zh-CN": "因确认的虚假记录，您获取积分的资格暂停中，"
            "此次服务不计积分（服务时长照常记录）",
            "en": "your earning is suspended after confirmed false records, so this service "
            "earns no points (its hours are still recorded)",
        },
        "report.not_covered": {
            "zh-CN": "本地积分规则对隐患随手拍不计积分",
            "en": "the local rule set gives no points for hazard reports",
        },
        "duration.too_short": {
            "zh-CN": "时长 {minutes} 分钟，不满 {block} 分钟；只计满 {block} 分钟的时长，不计积分",
            "en": "{minutes} min is less than {block} min; "
            "only whole {block}-min blocks count, so no points are earned",
        },
    }
)


@dataclass(frozen=True)
class Shortfall:
    """A stay too short to pay automatically: required and actual minutes, and why (zh/en)."""

    code: str
    required: int
    stayed: int
    explanation: dict[str, str]


def required_presence(presence: Presence, mode: Mode, scheduled: int) -> tuple[int, str, str]:
    """Minutes of presence a `scheduled`-minute activity needs, with the basis in zh-CN and en."""
    per_hour = mode is Mode.PER_HOUR
    pct = presence.per_hour_percent if per_hour else presence.per_participation_percent
    share, floor = _percent_of(scheduled, pct), presence.per_participation_minutes
    if not per_hour and floor <= share:
        return floor, f"每次参与至少 {floor} 分钟", f"at least {floor} min per participation"
    return share, f"活动时长 {scheduled} 分钟的 {pct}%", f"{pct}% of the scheduled {scheduled} min"


def _percent_of(minutes: int, pct: int) -> int:
    # Rounded up: 60% of 119 min is 71.4, so 71 min is not enough.
    return -(-max(0, minutes) * pct // 100)


def presence_shortfall(
    rules: RuleSet, category: Category, stayed: int, scheduled: int
) -> Shortfall | None:
    """Whether a stay of `stayed` minutes on a `scheduled`-minute activity is too short to pay
    without review; None when it is long enough (or the category earns nothing anyway)."""
    rule = rules.categories.get(category)
    if rule is None:
        return None
    required, basis_zh, basis_en = required_presence(rules.presence, rule.mode, scheduled)
    stayed = max(0, stayed)
    if stayed >= required:
        return None
    explanation = {
        "zh-CN": f"在场 {stayed} 分钟，不足 {required} 分钟（{basis_zh}），需人工审核后计分",
        "en": f"present {stayed} min, less than the required {required} min ({basis_en}); "
        "points only after a reviewer approves",
    }
    return Shortfall("presence.too_short", required, stayed, explanation)


def compute_award(rules: RuleSet, facts: Facts, awarded_this_month: int) -> Award:
    """Points for one participation, given what was already awarded this month."""
    if facts.suspended:
        return _refused("earning.suspended", facts, 0)
    if facts.report:
        return _report_award(rules, facts, awarded_this_month)
    rule = rules.categories.get(facts.category)
    if rule is None:
        return _refused("category.not_covered", facts, 0)
    credited = credited_minutes(rule, facts.minutes)
    refusal = _evidence_refusal(rule.evidence, facts)
    if refusal is None and rule.mode is Mode.PER_HOUR and credited == 0:
        refusal = "duration.too_short"
    if refusal is not None:
        return _refused(refusal, facts, rule.rounding_minutes)
    # Clamped to [0, cap]: a month already over the cap (the cap was lowered) leaves nothing.
    cap = rules.team_monthly_cap if facts.team else rules.monthly_cap
    remaining = min(cap, max(0, cap - awarded_this_month))
    return _capped(rule, facts, credited, remaining)


def _report_award(rules: RuleSet, facts: Facts, awarded_this_month: int) -> Award:
    """A confirmed first hazard report: the rule set's points, within the monthly cap."""
    base = rules.hazard_reports.points
    if base <= 0:
        return _refused("report.not_covered", facts, 0)
    remaining = min(rules.monthly_cap, max(0, rules.monthly_cap - awarded_this_month))
    awarded = min(base, remaining)
    cap_zh, cap_en = _cap_text(remaining, awarded, base - awarded)
    explanation = {
        "zh-CN": f"隐患随手拍：每条确认的首报 {base} 分 = {base} 分；{cap_zh}",
        "en": f"hazard report: {base} per confirmed first report = {base}; {cap_en}",
    }
    return Award(base, awarded, base - awarded, 0, None, explanation)


def _capped(rule: CategoryRule, facts: Facts, credited: int, remaining: int) -> Award:
    base = base_points(rule, credited)
    awarded = min(base, remaining)
    zh, en = _computation(rule, facts, credited, base)
    cap_zh, cap_en = _cap_text(remaining, awarded, base - awarded)
    if facts.team:
        cap_zh, cap_en = f"计入团队积分池，团队{cap_zh}", f"to the team pool, team: {cap_en}"
    explanation = {"zh-CN": f"{zh}；{cap_zh}", "en": f"{en}; {cap_en}"}
    return Award(base, awarded, base - awarded, credited, None, explanation)


def credited_minutes(rule: CategoryRule, minutes: int) -> int:
    """Minutes that earn points: whole rounding blocks, at most `max_hours`; 0 per participation."""
    if rule.mode is Mode.PER_PARTICIPATION:
        return 0
    floored = _floored(rule, minutes)
    if rule.max_hours is None:
        return floored
    return min(floored, rule.max_hours * 60)


def base_points(rule: CategoryRule, credited: int) -> int:
    """Points before the monthly cap, for `credited` minutes (integer arithmetic only)."""
    if rule.mode is Mode.PER_PARTICIPATION:
        return rule.points
    return credited * rule.points // 60


def _floored(rule: CategoryRule, minutes: int) -> int:
    block = rule.rounding_minutes
    return max(0, minutes) // block * block


def _evidence_refusal(required: Evidence, facts: Facts) -> str | None:
    if required is Evidence.NONE:
        return None
    if not facts.photo:
        return "evidence.photo_missing"
    if required is Evidence.PHOTO_GPS and not facts.gps_verified:
        return "evidence.gps_not_verified"
    return None


def _refused(code: str, facts: Facts, block: int) -> Award:
    label = CATEGORY_LABELS[facts.category]
    params = {"category_zh": label["zh-CN"], "category_en": label["en"]}
    params |= {"minutes": str(max(0, facts.minutes)), "block": str(block)}
    explanation = {locale: text.format(**params) for locale, text in REFUSALS[code].items()}
    return Award(0, 0, 0, 0, code, explanation)


def _span(minutes: int) -> tuple[str, str]:
    # Hours with one decimal only when exact (multiples of 6 min); otherwise plain minutes,
    # so that the shown multiplication always adds up.
    if minutes % 6 == 0:
        hours = f"{minutes / 60:.1f}"
        return f"{hours} 小时", f"{hours} h"
    return f"{minutes} 分钟", f"{minutes} min"


def _computation(rule: CategoryRule, facts: Facts, credited: int, base: int) -> tuple[str, str]:
    if rule.mode is Mode.PER_PARTICIPATION:
        label = CATEGORY_LABELS[facts.category]
        zh = f"{label['zh-CN']}：每次有效参与 {rule.points} 分 = {base} 分"
        return zh, f"{label['en']}: {rule.points} per valid participation = {base}"
    span_zh, span_en = _span(credited)
    zh = f"{span_zh} × {rule.points} 分/小时 = {base} 分"
    en = f"{span_en} × {rule.points}/h = {base}"
    note = _duration_note(rule, max(0, facts.minutes), credited)
    return (f"{note[0]}；{zh}", f"{note[1]}; {en}") if note else (zh, en)


def _duration_note(rule: CategoryRule, minutes: int, credited: int) -> tuple[str, str] | None:
    if minutes == credited:
        return None
    floored, block = _floored(rule, minutes), rule.rounding_minutes
    zh, en = f"{minutes} 分钟", f"{minutes} min"
    if floored != minutes:
        zh += f"按满 {block} 分钟计 → {_span(floored)[0]}"
        en += f" counted in whole {block}-min blocks → {_span(floored)[1]}"
    if credited != floored:
        zh += f"，单次最多计 {rule.max_hours} 小时 → {_span(credited)[0]}"
        en += f", at most {rule.max_hours} h per record → {_span(credited)[1]}"
    return zh, en


def _cap_text(remaining: int, awarded: int, cut: int) -> tuple[str, str]:
    zh = f"本月剩余 {remaining} 分 → 实得 {awarded} 分"
    en = f"{remaining} left this month → {awarded} awarded"
    if cut:
        return f"{zh}，超出月度上限 {cut} 分", f"{en}, {cut} over the cap"
    return zh, en


# --- Which rule set applies -------------------------------------------------------------


# Candidate and select_rule_set live in kit/versions.py, shared by every versioned setting.


# --- Stored versions ---------------------------------------------------------------------


@dataclass(frozen=True)
class Version:
    """A stored rule set version: its id, region (None: city-wide), start date and rules."""

    id: uuid.UUID
    region_id: uuid.UUID | None
    effective_from: date
    rules: RuleSet


def in_force(
    versions: Iterable[Version], region_ids: list[uuid.UUID], on: date
) -> tuple[uuid.UUID | None, RuleSet]:
    """The version in force on `on` for the most specific of `region_ids` (the activity's region
    and its ancestors, most specific first); the seed defaults when none applies."""
    chosen = versions_in_force(versions, region_ids, on)
    if chosen is None:
        return None, DEFAULT_RULE_SET
    return chosen.id, chosen.rules


# Rules in force decide what was paid; a version starting earlier than this would change
# paid history. One day of grace lets an admin record, just after midnight, yesterday's plan.
BACKDATE_GRACE = timedelta(days=1)


def backdated(effective_from: date, today: date) -> bool:
    """Whether a new version starting `effective_from` reaches too far into the past."""
    return effective_from < today - BACKDATE_GRACE
