"""A resident's consent and erasure, as identity sees them (PIPL; docs/privacy.md).

Earning and redeeming ask `may_process`/`require_consent`; `erase` overwrites every personal
field of the resident row for good, keeping the row (its id names the ledger wallet and the
hours, which stay and still verify).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from civicpoints.identity.models import Resident, Token, Verification
from civicpoints.kit.errors import Forbidden
from civicpoints.kit.ids import new_platform_number

ERASED = "erased"  # the verification state of an erased (pseudonymous) account
ERASED_NAME = "已注销"
ERASED_BIRTH = date(1900, 1, 1)


class ConsentWithdrawn(Forbidden):
    """The resident withdrew consent: nothing more is processed until they give it again."""

    code = "identity.consent_withdrawn"
    messages = {
        "zh-CN": "您已撤回个人信息处理同意，恢复同意后才能获得或兑换积分",
        "en": "you withdrew your consent; give it again to earn or redeem points",
    }


def may_process(resident: Resident) -> bool:
    """Whether points may be decided for the resident now: verified, consent in force."""
    return resident.verification == Verification.VERIFIED and resident.consent_withdrawn_at is None


def require_consent(resident: Resident) -> None:
    """Raise unless the resident's consent is in force."""
    if resident.consent_withdrawn_at is not None:
        raise ConsentWithdrawn()


def withdraw_consent(resident: Resident, now: datetime) -> None:
    """Mark consent withdrawn (kept if it already was)."""
    resident.consent_withdrawn_at = resident.consent_withdrawn_at or now


def give_consent(resident: Resident, version: str, now: datetime) -> None:
    """Consent in force again, under `version` of the notice."""
    resident.consent_withdrawn_at = None
    resident.consent_version, resident.consent_at = version, now


def erase_personal_data(session: Session, resident: Resident, now: datetime) -> None:
    """Overwrite name, ID, phone, birth date, sex and password for good; revoke tokens."""
    tag = f"erased:{resident.id.hex}"  # unique, as the blind-index columns must be
    resident.public_no = new_platform_number()  # the old number was printed on paper
    resident.name = ERASED_NAME
    resident.id_enc, resident.id_bidx, resident.id_masked = b"", tag, ""
    resident.phone_enc, resident.phone_bidx, resident.phone_masked = b"", tag, ""
    resident.birth_date, resident.sex = ERASED_BIRTH, "-"
    resident.password_hash = "!"  # matches no password (an invalid argon2 hash)
    resident.verification = ERASED
    resident.consent_withdrawn_at = resident.consent_withdrawn_at or now
    session.execute(
        update(Token)
        .where(Token.subject_kind == "resident", Token.subject_id == resident.id)
        .values(revoked_at=now)
    )
    session.flush()
