"""隐患随手拍 in the rule set: a new rule kind, 20 points per confirmed first report by
default, within the monthly cap; rule sets stored before it existed stay valid."""

from __future__ import annotations

from typing import Any

import pytest

from civicpoints.scoring.errors import InvalidRuleSet
from civicpoints.scoring.rules import (
    DEFAULT_RULE_SET,
    Category,
    Facts,
    ReportRule,
    RuleSet,
    compute_award,
)
from civicpoints.scoring.schemas import rule_set_from_dict, rule_set_to_dict

REPORT = Facts(Category.PUBLIC_SUPERVISION, 0, photo=True, gps_verified=False, report=True)


def test_default_is_twenty_per_confirmed_report() -> None:
    award = compute_award(DEFAULT_RULE_SET, REPORT, 0)
    assert (award.base, award.awarded, award.cut, award.refusal) == (20, 20, 0, None)
    assert "隐患随手拍" in award.explanation["zh-CN"]
    assert "20" in award.explanation["en"]


def test_report_points_respect_the_monthly_cap() -> None:
    award = compute_award(DEFAULT_RULE_SET, REPORT, 490)
    assert (award.base, award.awarded, award.cut) == (20, 10, 10)
    assert compute_award(DEFAULT_RULE_SET, REPORT, 500).awarded == 0


def test_a_region_may_set_its_own_rate_or_none() -> None:
    rs = RuleSet(DEFAULT_RULE_SET.categories, 500, 12, hazard_reports=ReportRule(30))
    assert compute_award(rs, REPORT, 0).awarded == 30
    none = RuleSet(DEFAULT_RULE_SET.categories, 500, 12, hazard_reports=ReportRule(0))
    refused = compute_award(none, REPORT, 0)
    assert (refused.awarded, refused.refusal) == (0, "report.not_covered")


def test_suspended_earning_gets_nothing() -> None:
    facts = Facts(Category.PUBLIC_SUPERVISION, 0, True, False, suspended=True, report=True)
    assert compute_award(DEFAULT_RULE_SET, facts, 0).refusal == "earning.suspended"


def test_a_rule_set_stored_before_the_kind_existed_reads_with_the_default() -> None:
    old: dict[str, Any] = rule_set_to_dict(DEFAULT_RULE_SET)
    del old["hazard_reports"]
    assert rule_set_from_dict(old).hazard_reports == ReportRule(20)
    assert rule_set_from_dict(old) == DEFAULT_RULE_SET


def test_the_kind_round_trips_and_is_validated() -> None:
    d = rule_set_to_dict(DEFAULT_RULE_SET) | {"hazard_reports": {"points": 35}}
    assert rule_set_from_dict(d, new=True).hazard_reports.points == 35
    with pytest.raises(InvalidRuleSet) as bad:
        rule_set_from_dict(d | {"hazard_reports": {"points": -1}}, new=True)
    assert bad.value.field == "hazard_reports.points"
