"""The fraud domain's errors, with zh-CN and en text."""

from __future__ import annotations

from civicpoints.kit.errors import DomainError


class InvalidPolicy(DomainError):
    """A policy version that cannot be stored as asked."""

    code = "fraud.invalid_policy"
    status = 422
    title = {"zh-CN": "风控设置有误", "en": "Invalid risk policy"}
    messages = {"zh-CN": "风控设置有误：{reason_zh}", "en": "invalid risk policy: {reason_en}"}


class EarningSuspended(DomainError):
    """A resident whose earning is suspended after confirmed fraud tried to earn."""

    code = "fraud.earning_suspended"
    status = 403
    title = {"zh-CN": "积分获取已暂停", "en": "Earning suspended"}
    messages = {
        "zh-CN": "因第 {count} 次确认的虚假记录，您获取积分的资格已暂停至 {until}。"
        "如有异议，可在“我的处理与申诉”中申诉。",
        "en": "after {count} confirmed false records, you cannot earn points until {until}. "
        "You may appeal from My cases.",
    }


class CaseNotFound(DomainError):
    """A case that does not exist or that the caller may not see."""

    code = "fraud.case_not_found"
    status = 404
    title = {"zh-CN": "未找到", "en": "Not found"}
    messages = {"zh-CN": "该处理记录不存在", "en": "no such case"}


class AppealRefused(DomainError):
    """An appeal that cannot be filed or decided as asked; the reason says why."""

    code = "fraud.appeal_refused"
    status = 409
    title = {"zh-CN": "无法处理申诉", "en": "Appeal refused"}
    messages = {"zh-CN": "{why_zh}", "en": "{why_en}"}


class NotClawable(DomainError):
    """A record that cannot be taken back (not approved, or already taken back)."""

    code = "fraud.not_clawable"
    status = 409
    title = {"zh-CN": "无法追回", "en": "Cannot take back"}
    messages = {"zh-CN": "{why_zh}", "en": "{why_en}"}
