"""Pydantic shapes of the scoring API and of the rule-set document (积分规则)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, ValidationError
from pydantic_core import ErrorDetails, PydanticCustomError

from civicpoints.kit.schemas import Text
from civicpoints.scoring import rules
from civicpoints.scoring.errors import InvalidRuleSet

_ROOT = "rule_set"  # the field named when the document as a whole is wrong


def _rounding(value: int) -> int:
    if value not in rules.ROUNDING_CHOICES:
        choices = ", ".join(str(c) for c in rules.ROUNDING_CHOICES)
        zh, en = f"必须是 {choices} 之一", f"must be one of {choices}"
        raise PydanticCustomError("rule_set", "{en}", {"zh": zh, "en": en})
    return value


Rounding = Annotated[
    StrictInt,
    AfterValidator(_rounding),
    Field(json_schema_extra={"enum": list(rules.ROUNDING_CHOICES)}),
]
Percent = Annotated[StrictInt, Field(ge=0, le=100)]


class CategoryRuleDoc(BaseModel):
    """How one category earns points (see scoring/rules.py)."""

    model_config = ConfigDict(extra="forbid")

    mode: rules.Mode
    points: Annotated[StrictInt, Field(ge=1, le=rules.MAX_POINTS)]
    rounding_minutes: Rounding = 30
    max_hours: Annotated[StrictInt, Field(ge=1, le=24)] | None = None
    evidence: rules.Evidence = rules.Evidence.NONE


class PresenceDoc(BaseModel):
    """The presence a record needs to be paid without a reviewer (see rules.Presence)."""

    model_config = ConfigDict(extra="forbid")

    per_hour_percent: Percent = 60
    per_participation_minutes: Annotated[StrictInt, Field(ge=0, le=24 * 60)] = 15
    per_participation_percent: Percent = 50


class ReportRuleDoc(BaseModel):
    """隐患随手拍: points per confirmed first hazard report (0: none; see rules.ReportRule)."""

    model_config = ConfigDict(extra="forbid")

    points: Annotated[StrictInt, Field(ge=0, le=rules.MAX_POINTS)] = 20


class RuleSetDoc(BaseModel):
    """A rule set as stored; versions stored before a field existed read with its default."""

    model_config = ConfigDict(extra="forbid")

    categories: dict[rules.Category, CategoryRuleDoc]
    monthly_cap: Annotated[StrictInt, Field(ge=0, le=rules.MAX_MONTHLY_CAP)]
    expiry_months: Annotated[StrictInt, Field(ge=1, le=rules.MAX_EXPIRY_MONTHS)]
    presence: PresenceDoc = PresenceDoc()
    hazard_reports: ReportRuleDoc = ReportRuleDoc()
    team_monthly_cap: Annotated[StrictInt, Field(ge=0, le=rules.MAX_MONTHLY_CAP)] = (
        rules.DEFAULT_TEAM_MONTHLY_CAP
    )

    def to_rules(self) -> rules.RuleSet:
        """The pure rule set."""
        categories = {c: rules.CategoryRule(**r.model_dump()) for c, r in self.categories.items()}
        presence = rules.Presence(**self.presence.model_dump())
        reports = rules.ReportRule(**self.hazard_reports.model_dump())
        return rules.RuleSet(
            categories, self.monthly_cap, self.expiry_months, presence, reports,
            self.team_monthly_cap,
        )  # fmt: skip

    @classmethod
    def of(cls, rs: rules.RuleSet) -> RuleSetDoc:
        """The document of a rule set (categories in declaration order)."""
        return cls(
            categories={
                c: CategoryRuleDoc(**vars(rs.categories[c]))
                for c in rules.Category
                if c in rs.categories
            },
            monthly_cap=rs.monthly_cap,
            expiry_months=rs.expiry_months,
            presence=PresenceDoc(**vars(rs.presence)),
            hazard_reports=ReportRuleDoc(**vars(rs.hazard_reports)),
            team_monthly_cap=rs.team_monthly_cap,
        )


class NewRuleSetDoc(RuleSetDoc):
    """A rule set being added: it must cover at least one category."""

    categories: Annotated[dict[rules.Category, CategoryRuleDoc], Field(min_length=1)]


# Pydantic's error types as the reasons a rule set is refused, in zh-CN and en.
_REASONS = {
    "missing": ("缺少此项", "is required"),
    "extra_forbidden": ("未知字段", "unknown field"),
    "int_type": ("必须是整数", "must be an integer"),
    "greater_than_equal": ("不能小于 {ge}", "must be at least {ge}"),
    "less_than_equal": ("不能大于 {le}", "must be at most {le}"),
    "enum": ("必须是 {expected} 之一", "must be one of {expected}"),
    "too_short": ("至少要有一个积分类别", "must cover at least one category"),
    "model_type": ("必须是对象", "must be an object"),
    "dict_type": ("必须是对象", "must be an object"),
}


def rule_set_from_dict(doc: Any, *, new: bool = False) -> rules.RuleSet:
    """A validated rule set from its JSON form (`new`: as added, not as stored); raises
    InvalidRuleSet naming the field path."""
    try:
        return (NewRuleSetDoc if new else RuleSetDoc).model_validate(doc).to_rules()
    except ValidationError as exc:
        raise _invalid(exc.errors()[0]) from None


def rule_set_to_dict(rs: rules.RuleSet) -> dict[str, Any]:
    """The JSON-safe form of a rule set."""
    return RuleSetDoc.of(rs).model_dump(mode="json")


def _invalid(error: ErrorDetails) -> InvalidRuleSet:
    """One pydantic error as the domain's refusal, naming the field path."""
    loc = [str(p) for p in error["loc"]]
    unknown_category = loc[-1:] == ["[key]"]
    path = ".".join(p for p in loc if p != "[key]") or _ROOT
    ctx = dict(error.get("ctx") or {})
    if "expected" in ctx:  # "'a' or 'b'" → "a, b"
        ctx["expected"] = str(ctx["expected"]).replace("'", "").replace(" or ", ", ")
    if unknown_category:
        zh, en = "未知的积分类别", "unknown category"
    elif "zh" in ctx:
        zh, en = ctx["zh"], ctx["en"]
    else:
        zh, en = _REASONS.get(error["type"], ("格式不对", str(error["msg"])))
        zh, en = zh.format(**ctx), en.format(**ctx)
    return InvalidRuleSet(path, reason_zh=zh, reason_en=en)


class RuleSetCreate(BaseModel):
    """A new rule set version for a region (or city-wide), in force from a date."""

    model_config = ConfigDict(extra="forbid")

    region_id: uuid.UUID | None = None
    effective_from: date = Field(
        description="Beijing date; from yesterday on (rules never change paid history)"
    )
    rules: dict[str, Any] = Field(
        description="categories (at least one), monthly_cap, expiry_months (1–60), presence, "
        "hazard_reports"
    )
    note: Text = Field(default="", max_length=500)


class RuleSetRead(BaseModel):
    """A stored rule set."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    region_id: uuid.UUID | None
    effective_from: date
    rules: dict[str, Any]
    note: str
    created_at: datetime


class RuleSetInForce(BaseModel):
    """The rules that apply today in a region and below it (unless a sub-region has its own)."""

    region_id: uuid.UUID | None = Field(description="None: city-wide")
    region_name: str
    source: Literal["rule_set", "seed_default"]
    rule_set_id: uuid.UUID | None = Field(description="None for the seed defaults")
    effective_from: date | None
    rules: RuleSetDoc


class RulesOverview(BaseModel):
    """The rules in force on a Beijing date, per region, and every stored version."""

    on: date
    in_force: list[RuleSetInForce]
    versions: list[RuleSetRead]


class AwardRead(BaseModel):
    """The points decision on one participation, with the computation shown."""

    model_config = ConfigDict(from_attributes=True)

    base: int
    awarded: int
    cut: int
    credited_minutes: int
    refusal: str | None
    explanation: dict[str, str]
    month: str
    expires_at: datetime | None
