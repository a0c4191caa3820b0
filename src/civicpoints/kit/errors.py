"""Domain errors with stable codes, an HTTP status and messages in zh-CN and en.

Every user-facing message lives beside its error as a template per locale, so that a
translator adds a locale without touching logic. The web layer renders these as
`application/problem+json` (RFC 9457).
"""

from __future__ import annotations

from typing import Any, ClassVar

DEFAULT_LOCALE = "zh-CN"
LOCALES = ("zh-CN", "en")


class DomainError(Exception):
    """Base of every expected error: a stable `code`, an HTTP `status`, localized messages."""

    code: ClassVar[str] = "error"
    status: ClassVar[int] = 400
    title: ClassVar[dict[str, str]] = {"zh-CN": "请求有误", "en": "Bad request"}
    messages: ClassVar[dict[str, str]] = {"zh-CN": "请求有误", "en": "Bad request"}

    def __init__(self, field: str | None = None, **params: Any) -> None:
        self.field = field
        self.params = params
        # Per-item details (e.g. one per CSV row) rendered as the problem's `errors`.
        self.errors: list[dict[str, Any]] | None = None
        super().__init__(self.message("en"))

    def message(self, locale: str = DEFAULT_LOCALE) -> str:
        """The message in `locale` (falling back to zh-CN), with parameters filled in."""
        template = self.messages.get(locale) or self.messages[DEFAULT_LOCALE]
        return template.format(**self.params)

    def title_in(self, locale: str = DEFAULT_LOCALE) -> str:
        """The short title in `locale`."""
        return self.title.get(locale) or self.title[DEFAULT_LOCALE]


class NotFound(DomainError):
    """A resource that does not exist (or that the caller may not see)."""

    code = "not_found"
    status = 404
    title = {"zh-CN": "未找到", "en": "Not found"}
    messages = {"zh-CN": "{what}不存在", "en": "{what_en} not found"}


class Conflict(DomainError):
    """A write that contradicts the current state."""

    code = "conflict"
    status = 409
    title = {"zh-CN": "冲突", "en": "Conflict"}


class InvalidInput(DomainError):
    """A value that is well-formed JSON but wrong for the domain; names the field."""

    code = "invalid_input"
    status = 422
    title = {"zh-CN": "输入有误", "en": "Invalid input"}
    messages = {"zh-CN": "{field_zh}有误：{reason_zh}", "en": "invalid {field_en}: {reason_en}"}


class Forbidden(DomainError):
    """The caller is known but may not do this."""

    code = "forbidden"
    status = 403
    title = {"zh-CN": "无权操作", "en": "Forbidden"}
    messages = {"zh-CN": "您没有执行此操作的权限", "en": "you are not allowed to do this"}


class Unauthorized(DomainError):
    """No valid credentials."""

    code = "unauthorized"
    status = 401
    title = {"zh-CN": "未登录", "en": "Unauthorized"}
    messages = {"zh-CN": "请先登录", "en": "please sign in"}


class ContentTooLarge(DomainError):
    """An uploaded file whose request passed the size limit while it was being read."""

    code = "too_large"
    status = 413
    title = {"zh-CN": "文件过大", "en": "File too large"}
    messages = {
        "zh-CN": "文件太大了，请选一个不超过 {limit_mb} MB 的文件。",
        "en": "The file is too large. Please choose one no bigger than {limit_mb} MB.",
    }

    def __init__(self, field: str, max_bytes: int) -> None:
        super().__init__(field, limit_mb=f"{max_bytes / 1_048_576:.1f}".removesuffix(".0"))
