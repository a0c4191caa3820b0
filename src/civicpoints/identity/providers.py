"""Real-name verification behind a provider interface.

A deployment plugs in its face/ID check service (e.g. the provincial government-service
identity platform) by implementing `VerificationProvider`; the built-in `dev` provider
accepts any ID number whose check digit is valid — registration already guarantees that.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from civicpoints.identity.idcard import parse_id_number


@dataclass(frozen=True)
class VerificationResult:
    """What a provider says about a person."""

    ok: bool
    reason_zh: str = ""
    reason_en: str = ""


class VerificationProvider(Protocol):
    """Confirms that a name and ID number belong to the person in front of the phone."""

    name: str

    def verify(self, name: str, id_number: str, evidence: str, today: date) -> VerificationResult:
        """Check the person; `evidence` is the provider's token (face check result, etc.)."""
        ...


class DevProvider:
    """Development/demo provider: a valid GB 11643 number and a non-empty name pass."""

    name = "dev"

    def verify(self, name: str, id_number: str, evidence: str, today: date) -> VerificationResult:
        """Accept any structurally valid number."""
        parse_id_number(id_number, today)
        if not name.strip():
            return VerificationResult(False, "姓名为空", "the name is empty")
        return VerificationResult(True)


PROVIDERS: dict[str, VerificationProvider] = {"dev": DevProvider()}


def provider(name: str) -> VerificationProvider:
    """The provider configured by `CIVICPOINTS_IDENTITY_PROVIDER`."""
    return PROVIDERS[name]
