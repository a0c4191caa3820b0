"""Reading a page's form and showing what was wrong with it (GOV.UK's error summary).

Errors come from the same places as the API's: a pydantic schema's validation or a domain
error; both name the field at fault, so the page shows the message beside that field and
links to it from the summary at the top.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from pydantic import ValidationError

from civicpoints.kit.errors import DomainError
from civicpoints.web.problems import field_messages

# Characters kept of one field: above every schema's own limit, so that an over-long value
# reaches the schema and is refused with its message (the body limit bounds the request).
MAX_FIELD = 100_000


async def form_data(request: Request, names: Iterable[str]) -> dict[str, str]:
    """The named text fields of the posted form, stripped; a missing field is ''."""
    form = await request.form()
    values: dict[str, str] = {}
    for name in names:
        value = form.get(name)
        values[name] = value.strip()[:MAX_FIELD] if isinstance(value, str) else ""
    return values


@dataclass
class FormErrors:
    """(field, message) pairs in the page's language; `field` may be None (the whole form)."""

    items: list[tuple[str | None, str]] = field(default_factory=list)

    @classmethod
    def of(
        cls, exc: DomainError | ValidationError, locale: str, labels: dict[str, str] | None = None
    ) -> FormErrors:
        """The errors of a failed validation or a refused use case.

        With `labels` (field → the label the page shows), an empty field reads "请填写姓名" and
        any other message names its field, as GOV.UK's error summary does.
        """
        if isinstance(exc, ValidationError):
            labels = labels or {}
            pairs: list[tuple[str | None, str]] = []
            for error, (name, message) in zip(
                exc.errors(), field_messages(exc.errors(), locale), strict=True
            ):
                label = labels.get(name)
                if label and _empty(error):
                    message = f"请填写{label}" if locale == "zh-CN" else f"Enter {label.lower()}"
                elif label:
                    message = f"{label}：{message}" if locale == "zh-CN" else f"{label}: {message}"
                pairs.append((name, message))
            return cls(pairs)
        rows = exc.errors or []
        extra = [(str(r.get("field") or ""), str(r.get("message") or "")) for r in rows]
        return cls([(exc.field, exc.message(locale)), *[(f or None, m) for f, m in extra if m]])

    def __bool__(self) -> bool:
        """True when there is something to show."""
        return bool(self.items)

    def get(self, name: str) -> str:
        """The message for one field ('' when it is fine)."""
        return "；".join(m for f, m in self.items if f == name)


def _empty(error: Any) -> bool:
    """Whether a pydantic error means the field was left empty."""
    if error["type"] == "missing":
        return True
    return error.get("input") in ("", None) and error["type"] in _EMPTY_TYPES


_EMPTY_TYPES = {"string_too_short", "uuid_parsing", "uuid_type", "int_parsing", "date_parsing"}
