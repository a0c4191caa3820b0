"""One logging filter that keeps secrets and personal data out of every log line.

Installed on every handler of the app (uvicorn's error and access logs) and of the CLI, so a
record from any logger is redacted where it is written. Password hashes, signing keys,
bearer and access tokens, ID numbers (18 characters), mainland mobile numbers, voucher codes
(in URLs, in query strings, and in their printed shape anywhere) are replaced before
formatting; exception text is redacted too. Below: the request a line belongs to, and JSON
lines (docs/operations.md).
"""

from __future__ import annotations

import copy
import ipaddress
import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar, Token
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

# Order matters: tokens and hashes first (their text may hold digit runs), then IDs, phones.
_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\$argon2[a-z]*\$[^\s'\"]*"), "$argon2[redacted]"),
    # A signed-note private key (the checkpoint or a witness key), should one reach a message.
    (re.compile(r"PRIVATE\+KEY\+[^\s'\"]*"), "PRIVATE+KEY+[redacted]"),
    (re.compile(r"(?i)\b(bearer\s+)[\w.~+/=-]+"), r"\1[redacted]"),
    (re.compile(r"(?i)(access_token['\"]?\s*[:=]\s*['\"]?)[\w.~+/=-]+"), r"\1[redacted]"),
    (re.compile(r"(/vouchers/)[\w-]+"), r"\1[redacted]"),
    # A secret in a query string, wherever a URL is logged (a client library, a proxy).
    (re.compile(r"(?i)([?&](?:access_token|token|code|voucher|key)=)[^&\s\"']+"), r"\1[redacted]"),
    # A voucher code anywhere: five groups of four from the code alphabet (rewards/codes.py).
    (
        re.compile(
            r"(?<![0-9A-Za-z])[2-9A-HJKMNP-TV-Z]{4}(?:-[2-9A-HJKMNP-TV-Z]{4}){4}(?![0-9A-Za-z])"
        ),
        "[voucher]",
    ),
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


# -- the request a log line belongs to, and JSON lines ---------------------------------------


@dataclass(frozen=True)
class RequestInfo:
    """The request being answered: its id and its ASGI scope (whose `state` names the caller
    once authenticated), and the keyed hash that turns the caller into a pseudonym."""

    request_id: str
    scope: Mapping[str, Any]
    pseudonym: Callable[[str], str]

    def actor(self) -> str | None:
        """The caller as `kind:pseudonym` (never the id, name or phone), if signed in."""
        state = self.scope.get("state")
        who = state.get("principal") if isinstance(state, Mapping) else None
        key = getattr(who, "key", None)
        if not isinstance(key, str):
            return None
        return f"{getattr(who, 'kind', 'actor')}:{self.pseudonym(key)}"


_REQUEST: ContextVar[RequestInfo | None] = ContextVar("civicpoints_request", default=None)
# A request id sent by a client (or a proxy) is kept when it has this shape, else replaced.
REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,63}")


def bind_request(info: RequestInfo) -> Token[RequestInfo | None]:
    """Name the request every log line of this context belongs to (`unbind_request` after)."""
    return _REQUEST.set(info)


def unbind_request(token: Token[RequestInfo | None]) -> None:
    """Forget the request bound by `bind_request`."""
    _REQUEST.reset(token)


def current_request() -> RequestInfo | None:
    """The request this context is answering, if any."""
    return _REQUEST.get()


# Query parameters whose values an access log line keeps; every other value is replaced
# (tokens, voucher codes, search words that may be a name or a phone number).
SAFE_QUERY = frozenset(
    {"page", "limit", "offset", "after", "before", "before_seq", "status", "lang", "month"}
    | {"kind", "category", "sort", "format", "size", "first", "second", "alerts_only"}
)


def clean_target(target: str, limit: int = 512) -> str:
    """A request target fit for a log: redacted path, query values kept only when safe."""
    path, _, query = target.partition("?")
    path = redact(path)
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        shown = [(k, v if k in SAFE_QUERY else "[redacted]") for k, v in pairs]
        path = f"{path}?{redact(urlencode(shown, safe='[]'))}"
    return path[:limit]


def client_network(address: str) -> str:
    """A client address as its network (/24 or /48): enough to see abuse, not a person."""
    if address.startswith("["):  # [v6]:port
        candidates = [address[1 : address.find("]")]]
    else:  # v4:port, or uvicorn's v6:port without brackets, or a bare address
        candidates = [address, address.rsplit(":", 1)[0]]
    for host in candidates:
        try:
            ip = ipaddress.ip_address(host)
            break
        except ValueError:
            continue
    else:
        return "-"
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


class AccessFields(logging.Filter):
    """On uvicorn's access log: the target without secrets, the client as its network.

    Keeps uvicorn's argument shape (client, method, target, HTTP version, status) so its
    text formatter still works, and sets `http_*` attributes for `JsonFormatter`.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Always keep the record, with its target cleaned."""
        args = record.args
        if isinstance(args, tuple) and len(args) == 5:
            client, method, target, version, status = args
            target = clean_target(str(target))
            net = client_network(str(client))
            record.args = (net, method, target, version, status)
            record.http_method, record.http_path, record.http_status = method, target, status
            record.client_net = net
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, pseudonymous actor,
    and for access lines the method, target (cleaned) and status. Fixed fields only: nothing a
    caller passes as `extra` reaches the line."""

    FIELDS = ("http_method", "http_path", "http_status", "client_net")

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line (its text redacted once more, whatever filters ran)."""
        when = datetime.fromtimestamp(record.created, UTC)
        line: dict[str, Any] = {
            "ts": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        info = current_request()
        if info is not None:
            line["request_id"] = info.request_id
            if (actor := info.actor()) is not None:
                line["actor"] = actor
        for name in self.FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exc"] = redact(record.exc_text)
        return json.dumps(line, ensure_ascii=False, default=str)
