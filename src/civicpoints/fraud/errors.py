"""The fraud domain's errors, with zh-CN and en text."""

from __future__ import annotations

from civicpoints.kit.errors import DomainError


class InvalidPolicy(DomainError):
    """A policy version that cannot be stored as asked."""

    code = "fraud.invalid_policy"
    status = 422
    title = {"zh-CN": "风控设置有误", "en": "Invalid risk policy"}
    messages = {"zh-CN": "风控设置有误：{reason_zh}", "en": "invalid risk policy: {reason_en}"}
