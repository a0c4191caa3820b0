"""One logging filter that keeps secrets and personal data out of every log line.

Installed on every handler of the app (uvicorn's error and access logs) and of the CLI, so a
record from any logger is redacted where it is written. Password hashes, signing keys, bearer
and access tokens, ID numbers (18 characters), mainland mobile numbers and voucher codes in
URLs are replaced before formatting; exception text is redacted too.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

# Order matters: tokens and hashes first (their text may hold digit runs), then IDs, phones.
_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\$argon2[a-z]*\$[^\s'\"]*"), "$argon2[redacted]"),
    # A signed-note private key (the checkpoint or a witness key), should one reach a message.
    (re.compile(r"PRIVATE\+KEY\+[^\s'\"]*"), "PRIVATE+KEY+[redacted]"),
    (re.compile(r"(?i)\b(bearer\s+)[\w.~+/=-]+"), r"\1[redacted]"),
    (re.compile(r"(?i)(access_token['\"]?\s*[:=]\s*['\"]?)[\w.~+/=-]+"), r"\1[redacted]"),
    (re.compile(r"(/vouchers/)[\w-]+"), r"\1[redacted]"),
    (re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])"), "[id-number]"),
    (
        re.compile(r"(?<![0-9A-Za-z])(?:\+?86[\s-]?)?1[3-9]\d(?:[\s-]?\d{4}){2}(?![0-9A-Za-z])"),
        "[phone]",
    ),
)


def redact(text: str) -> str:
    """`text` with every secret and identifier replaced by a placeholder."""
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


def _arg(value: Any) -> Any:
    """A log argument, redacted; left as it is when its text holds nothing to hide."""
    if value is None or isinstance(value, bool | float):
        return value
    text = value if isinstance(value, str) else str(value)
    clean = redact(text)
    return value if clean == text else clean


class Redactor(logging.Filter):
    """Redacts the message, its arguments and any exception text of each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Always keep the record, with its secrets replaced."""
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, Mapping):
            record.args = {k: _arg(v) for k, v in record.args.items()}
        elif isinstance(record.args, tuple):
            record.args = tuple(_arg(a) for a in record.args)
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a redacted number no longer fits "%d": keep the text
            message = str(record.msg)
        clean = redact(message)
        if clean != message or record.args is None:
            # A secret split between the template and its arguments shows only once formatted.
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


REDACTOR = Redactor()


def install(handlers: Iterable[logging.Handler] | None = None) -> None:
    """Put the filter on `handlers` (default: every handler of the root logger)."""
    for handler in handlers if handlers is not None else logging.getLogger().handlers:
        if REDACTOR not in handler.filters:
            handler.addFilter(REDACTOR)


def with_redaction(config: Mapping[str, Any]) -> dict[str, Any]:
    """A `logging.config.dictConfig` mapping whose every handler carries the filter."""
    out = copy.deepcopy(dict(config))
    out.setdefault("filters", {})["redact"] = {"()": "civicpoints.kit.logging.Redactor"}
    for handler in out.get("handlers", {}).values():
        handler["filters"] = [*handler.get("filters", []), "redact"]
    return out
