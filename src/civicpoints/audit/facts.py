"""What an audit row says, decided from plain values (pure: no session, no clock, no I/O)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

# Reads change nothing; the explicit `AuditService.record` calls cover reads of personal data.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
UA_MAX = 120
CLIENT_MAX = 64


@dataclass(frozen=True)
class AuditFacts:
    """One audited act: ids and route names only, never names, ID or phone numbers."""

    actor_kind: str
    actor_id: uuid.UUID | None
    action: str
    method: str = "-"
    path: str = "-"
    status: int = 200
    subject_id: uuid.UUID | None = None
    targets: tuple[str, ...] = field(default=())
    client: str = ""
    user_agent: str = ""


def audited(method: str, actor_kind: str | None) -> bool:
    """Whether a request is a staff action the log must keep (every staff write)."""
    return actor_kind == "staff" and method.upper() not in READ_METHODS


def target_ids(path_params: Mapping[str, object]) -> tuple[str, ...]:
    """The UUIDs among a route's path values; other values (voucher codes) are left out."""
    out = []
    for value in path_params.values():
        try:
            out.append(str(uuid.UUID(str(value))))
        except ValueError:
            continue
    return tuple(out)


def subject_of(path_params: Mapping[str, object]) -> uuid.UUID | None:
    """The resident a route names in its path, if any."""
    raw = path_params.get("resident_id")
    try:
        return uuid.UUID(str(raw)) if raw is not None else None
    except ValueError:
        return None


def clip(text: str | None, limit: int) -> str:
    """Printable text cut to `limit` characters (the user agent is the client's free text)."""
    return "".join(c for c in (text or "") if c.isprintable())[:limit]
