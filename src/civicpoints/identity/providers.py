"""Real-name verification behind a provider interface.

A deployment plugs in its face/ID check service (e.g. the provincial government-service
identity platform) by implementing `VerificationProvider`; the built-in `dev` provider
accepts any ID number whose check digit is valid — registration already guarantees that — and
is therefore refused when `CIVICPOINTS_ENV=production`. The `in_person` provider is for places
where community staff check the ID card at the service centre (`IdentityService.verify_in_person`):
self-service verification then tells the resident where to go.
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

    @property
    def name(self) -> str:
        """The provider's name, recorded as the verification's method."""
        ...

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


@dataclass(frozen=True)
class RefusingProvider:
    """A provider that verifies nobody by itself and tells the resident why."""

    name: str
    reason_zh: str
    reason_en: str

    def verify(self, name: str, id_number: str, evidence: str, today: date) -> VerificationResult:
        """Refuse, with the provider's reason."""
        return VerificationResult(False, self.reason_zh, self.reason_en)


# Verification happens at the community service centre: a verifier does it after seeing the card.
IN_PERSON = RefusingProvider(
    "in_person",
    "请携带本人居民身份证到社区服务中心，由工作人员当面核验",
    "please bring your ID card to the community service centre to be verified in person",
)
# Stands in for `dev` in production, where the demo provider would accept anyone.
DEV_REFUSED = RefusingProvider(
    "refused",
    "演示用的 dev 认证方式在生产环境停用，请联系管理员",
    "the demo `dev` provider is disabled in production; please contact the administrator",
)


PROVIDERS: dict[str, VerificationProvider] = {"dev": DevProvider(), "in_person": IN_PERSON}


def provider(name: str, env: str) -> VerificationProvider:
    """The provider configured by `CIVICPOINTS_IDENTITY_PROVIDER` (never `dev` in production)."""
    if name == "dev" and env == "production":
        return DEV_REFUSED
    return PROVIDERS[name]
