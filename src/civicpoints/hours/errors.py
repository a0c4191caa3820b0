"""The hours domain's errors, with zh-CN and en text."""

from __future__ import annotations

from civicpoints.kit.errors import DomainError


class CertificateRefused(DomainError):
    """A certificate that cannot be issued as asked (nothing is written)."""

    code = "hours.certificate_refused"
    status = 422
    title = {"zh-CN": "无法出具证明", "en": "Certificate refused"}
    messages = {"zh-CN": "无法出具证明：{reason_zh}", "en": "cannot issue: {reason_en}"}


class CertificateNotFound(DomainError):
    """A certificate that does not exist or that the caller may not see."""

    code = "hours.certificate_not_found"
    status = 404
    title = {"zh-CN": "未找到", "en": "Not found"}
    messages = {"zh-CN": "该证明不存在", "en": "no such certificate"}


class InvalidStarPolicy(DomainError):
    """A star-threshold version that cannot be stored as asked (nothing is written)."""

    code = "hours.invalid_star_policy"
    status = 422
    title = {"zh-CN": "星级标准无效", "en": "Invalid star thresholds"}
    messages = {"zh-CN": "星级标准无效：{reason_zh}", "en": "invalid star thresholds: {reason_en}"}
