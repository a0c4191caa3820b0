"""Errors of the scoring rules, with stable codes and messages in zh-CN and en."""

from __future__ import annotations

from civicpoints.kit.errors import DomainError


class InvalidRuleSet(DomainError):
    """A rule set document that breaks a rule; `field` is the path, e.g. 'categories.x.points'."""

    code = "scoring.invalid_rule_set"
    status = 422
    title = {"zh-CN": "积分规则有误", "en": "Invalid rule set"}
    messages = {
        "zh-CN": "积分规则 {path} 有误：{reason_zh}",
        "en": "invalid rule set at {path}: {reason_en}",
    }

    def __init__(self, field: str, *, reason_zh: str, reason_en: str) -> None:
        # The path is also a template parameter so that the message names it.
        super().__init__(field, path=field, reason_zh=reason_zh, reason_en=reason_en)
