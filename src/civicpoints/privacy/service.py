"""Use cases of a resident's PIPL rights: their data, consent, deletion. Never commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy.orm import Session

from civicpoints.access import Principal, Role
from civicpoints.activities import RecordService, erase_activity_data
from civicpoints.audit import AuditFacts, AuditService
from civicpoints.community import HazardService, erase_hazard_data
from civicpoints.hours import HoursService
from civicpoints.identity import (
    ERASED,
    ID_CONTEXT,
    PHONE_CONTEXT,
    ConsentWithdrawn,
    IdentityService,
    Resident,
    ResidentDataAsked,
    ResidentErased,
    consent_withdrawn,
    erase_personal_data,
    give_consent,
    may_process,
    resident_data,
    resident_erased,
    withdraw_consent,
)
from civicpoints.kit.clock import utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.errors import DomainError, Forbidden
from civicpoints.ledger import LedgerService, wallet_of
from civicpoints.privacy.errors import DeletionAlreadyRequested, DeletionNotFound
from civicpoints.privacy.models import ConsentEvent, DeletionRequest, DeletionStatus
from civicpoints.privacy.repository import PrivacyRepository
from civicpoints.rewards import (
    CatalogService,
    RedemptionService,
    RedemptionStatus,
    erase_rewards_data,
)

ALL = 1_000_000  # "every row" for the export's list reads
OPEN = (RedemptionStatus.PENDING, RedemptionStatus.ISSUED)


class PrivacyService:
    """A resident's data, consent and deletion, across the domains that hold them."""

    def __init__(self, session: Session, ctx: Context) -> None:
        self.session, self.ctx = session, ctx
        self.repo = PrivacyRepository(session)
        self.identity = IdentityService(session, ctx)

    def export(self, resident_id: uuid.UUID) -> dict[str, Any]:
        """Everything held about the resident, identifiers unmasked (for themselves only)."""
        resident = self.identity.resident(resident_id)
        catalog = CatalogService(self.session)
        hours = HoursService(self.session).summary(resident_id)
        data = {
            "profile": self._profile(resident),
            "consents": rows(self.repo.consents(resident_id)),
            "participations": rows(
                RecordService(self.session, self.ctx).of_resident(resident_id, ALL)
            ),
            "hours": {"total_minutes": hours.total_minutes, "by_category": hours.by_category},
            "ledger_entries": rows(self._entries(resident_id)),
            "redemptions": rows(catalog.redemptions_of(resident_id, ALL)),
            "vouchers": rows(catalog.vouchers_of(resident_id, ALL)),
            "hazard_reports": rows(HazardService(self.session, self.ctx).mine(resident_id, ALL)),
            "audit_entries": rows(AuditService(self.session).about(resident_id)),
        }
        # what the domains beside and above hold (insights: survey answers, recommendations)
        data |= resident_data.collect(self.session, self.ctx, ResidentDataAsked(resident_id))
        return dict(to_jsonable_python(data))

    def export_seen(self, resident_id: uuid.UUID, facts: AuditFacts) -> dict[str, Any]:
        """The export, with its view recorded in the audit log (unmasked data, if only by its
        owner): what the API and the page both hand out."""
        data = self.export(resident_id)
        AuditService(self.session).record(facts)
        return data

    def _profile(self, resident: Resident) -> dict[str, Any]:
        """The resident row with the ID and phone numbers decrypted, no password hash."""
        out = {k: v for k, v in row(resident).items() if not k.endswith(("_enc", "_bidx"))}
        out.pop("password_hash", None)
        cipher = self.ctx.cipher
        out["id_number"] = cipher.decrypt(resident.id_enc, ID_CONTEXT)
        out["phone"] = cipher.decrypt(resident.phone_enc, PHONE_CONTEXT)
        return out

    def _entries(self, resident_id: uuid.UUID) -> list[Any]:
        """Every entry of the resident's wallet, newest first (paged through)."""
        ledger, out, before = LedgerService(self.session), [], None
        while page := ledger.entries(wallet_of(resident_id), 500, before):
            out.extend(page)
            before = page[-1].seq
        return out

    def withdraw(self, resident_id: uuid.UUID) -> Resident:
        """Withdraw consent: no more earning or redeeming; open redemptions are cancelled."""
        resident = self.identity.resident(resident_id)
        withdraw_consent(resident, utcnow())
        self.repo.add(
            ConsentEvent(
                resident_id=resident_id, action="withdrawn", version=resident.consent_version
            )
        )
        self._cancel_open(resident_id)
        consent_withdrawn.emit(self.session, self.ctx, ConsentWithdrawn(resident_id))
        return resident

    def _cancel_open(self, resident_id: uuid.UUID) -> None:
        """Release the holds of pending applications and unused vouchers (points come back)."""
        redemptions = RedemptionService(self.session, self.ctx)
        for r in CatalogService(self.session).redemptions_of(resident_id, ALL):
            if r.status in OPEN:
                try:
                    redemptions.cancel(resident_id, r.id)
                except DomainError:  # nothing left to cancel (every voucher used)
                    continue

    def give(self, resident_id: uuid.UUID, version: str) -> Resident:
        """Consent in force again; points of records approved meanwhile are decided now."""
        resident = self.identity.resident(resident_id)
        if resident.verification == ERASED:
            raise Forbidden()
        self._refuse_if_deletion_waits(resident_id)
        give_consent(resident, version, utcnow())
        self.repo.add(ConsentEvent(resident_id=resident_id, action="given", version=version))
        if may_process(resident):
            RecordService(self.session, self.ctx).release_deferred(
                resident_id, f"resident:{resident_id}"
            )
        return resident

    def request_deletion(self, resident_id: uuid.UUID) -> DeletionRequest:
        """Ask for erasure: consent is withdrawn now, erasure follows after the retention period."""
        self._refuse_if_deletion_waits(resident_id)
        self.withdraw(resident_id)
        days = self.ctx.settings.retention_deletion_days
        request = DeletionRequest(resident_id=resident_id, due_at=utcnow() + timedelta(days=days))
        self.repo.add(request)
        return request

    def pending_deletion(self, resident_id: uuid.UUID) -> DeletionRequest | None:
        """The resident's deletion request still waiting, if any."""
        return self.repo.pending_of(resident_id)

    def _refuse_if_deletion_waits(self, resident_id: uuid.UUID) -> None:
        """409 while a deletion request waits (consent cannot come back before it is done)."""
        waiting = self.repo.pending_of(resident_id)
        if waiting is not None:
            raise DeletionAlreadyRequested(due=waiting.due_at.date().isoformat())

    def pending(self, who: Principal, limit: int) -> Sequence[DeletionRequest]:
        """Pending deletion requests, oldest first (city-wide administrators)."""
        _require_admin(who)
        return self.repo.pending(None, limit)

    def carry_out(self, request_id: uuid.UUID, who: Principal) -> DeletionRequest:
        """An administrator carries out a pending deletion request now."""
        _require_admin(who)
        request = self.repo.request(request_id)
        if request is None or request.status != DeletionStatus.PENDING:
            raise DeletionNotFound(field="request_id")
        return self._erase(request, who.key)

    def carry_out_due(self, now: datetime, actor: str, limit: int = 100) -> list[DeletionRequest]:
        """Carry out requests whose retention period has passed (the job, the CLI), audited."""
        done = [self._erase(r, actor) for r in self.repo.pending(now, limit)]
        audit = AuditService(self.session)
        for r in done:
            audit.record(AuditFacts("system", None, "privacy.erase_due", subject_id=r.resident_id))
        return done

    def _erase(self, request: DeletionRequest, actor: str) -> DeletionRequest:
        """Erase the resident's personal data everywhere; ledger and hours stay, pseudonymous."""
        resident = self.identity.resident(request.resident_id)
        now = utcnow()
        erase_personal_data(self.session, resident, now)
        erase_activity_data(self.session, self.ctx.settings.uploads_dir, resident.id)
        erase_rewards_data(self.session, resident.id)
        erase_hazard_data(self.session, self.ctx.settings.uploads_dir, resident.id)
        resident_erased.emit(self.session, self.ctx, ResidentErased(resident.id))
        request.status, request.done_at, request.done_by = DeletionStatus.DONE, now, actor
        self.session.flush()
        return request


def _require_admin(who: Principal) -> None:
    """City-wide administrators only."""
    if who.kind != "staff" or not who.may_citywide(Role.ADMIN):
        raise Forbidden()


def row(obj: Any) -> dict[str, Any]:
    """An ORM row's columns by name."""
    return {c.key: getattr(obj, c.key) for c in obj.__table__.columns}


def rows(objs: Sequence[Any]) -> list[dict[str, Any]]:
    """Several rows' columns by name."""
    return [row(o) for o in objs]
