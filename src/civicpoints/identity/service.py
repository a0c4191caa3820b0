"""Use cases of identity: registration, verification, sign-in, principals. Never commits."""

from __future__ import annotations

import hashlib
import math
import uuid
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from civicpoints.access import Grant, Principal, Role
from civicpoints.identity import passwords
from civicpoints.identity.education_models import Child
from civicpoints.identity.errors import (
    BadCredentials,
    ConsentRequired,
    DocumentMismatch,
    DuplicatePhone,
    DuplicateResident,
    InvalidIdNumber,
    InvalidPhone,
    TooManyAttempts,
    VerificationFailed,
)
from civicpoints.identity.events import ResidentVerified, resident_verified
from civicpoints.identity.idcard import mask_id_number, parse_id_number
from civicpoints.identity.models import (
    IdentityVerification,
    Resident,
    RoleGrant,
    Staff,
    Token,
    Verification,
)
from civicpoints.identity.phone import compact, mask_phone, normalize_phone
from civicpoints.identity.providers import IN_PERSON, provider
from civicpoints.identity.ratelimit import SignInGuard
from civicpoints.identity.repository import IdentityRepository
from civicpoints.identity.schemas import (
    GrantRead,
    InPersonVerificationCreate,
    ResidentCreate,
    StaffRead,
)
from civicpoints.kit.clock import local_date, utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.errors import Forbidden, NotFound, Unauthorized
from civicpoints.kit.ids import is_platform_number, new_platform_number, new_token
from civicpoints.kit.rekey import EncryptedColumn
from civicpoints.regions import RegionService

ID_CONTEXT = "identity_resident.id_number"
PHONE_CONTEXT = "identity_resident.phone"
CHILD_ID_CONTEXT = "identity_child.id_number"
# Every column of field ciphertexts identity owns: `keys rotate-pii` re-encrypts these.
ENCRYPTED_COLUMNS = (
    EncryptedColumn(Resident.id_enc, Resident.id, ID_CONTEXT),
    EncryptedColumn(Resident.phone_enc, Resident.id, PHONE_CONTEXT),
    EncryptedColumn(Child.id_enc, Child.id, CHILD_ID_CONTEXT),  # 教育积分: a guardian's child
)
# Staff who help residents in person (offline service points): organizers, verifiers, reviewers.
SERVES_RESIDENTS = (Role.ORGANIZER, Role.VERIFIER, Role.REVIEWER)


class ResidentNotFound(NotFound):
    """An unknown resident (or one the caller may not see)."""

    code = "identity.resident_not_found"
    messages = {"zh-CN": "找不到该居民", "en": "resident not found"}


class IdentityService:
    """Residents and staff: who they are and how they prove it."""

    def __init__(self, session: Session, ctx: Context) -> None:
        self.session, self.ctx = session, ctx
        self.repo = IdentityRepository(session)

    def register(self, data: ResidentCreate, password_hash: str | None = None) -> Resident:
        """Register a resident with real name; validates everything before writing."""
        if not data.consent:
            raise ConsentRequired(field="consent")
        info = parse_id_number(data.id_number, local_date(utcnow()))
        phone = normalize_phone(data.phone)
        if password_hash is None:
            personal = passwords.personal_words(data.name, phone, info.number)
            password_hash = passwords.strong_hash(data.password, personal)
        RegionService(self.session).community(data.community_id)
        cipher = self.ctx.cipher
        id_bidx = cipher.blind_index(info.number, ID_CONTEXT)
        phone_bidx = cipher.blind_index(phone, PHONE_CONTEXT)
        self._refuse_duplicates(id_bidx, phone_bidx)
        resident = Resident(
            public_no=new_platform_number(),
            name=data.name,
            id_enc=cipher.encrypt(info.number, ID_CONTEXT),
            id_bidx=id_bidx,
            id_masked=mask_id_number(info.number),
            phone_enc=cipher.encrypt(phone, PHONE_CONTEXT),
            phone_bidx=phone_bidx,
            phone_masked=mask_phone(phone),
            birth_date=info.birth_date,
            sex=info.sex,
            community_id=data.community_id,
            password_hash=password_hash,
            consent_version=data.consent_version,
            consent_at=utcnow(),
        )
        return self._insert_resident(resident)

    def _refuse_duplicates(self, id_bidx: str, phone_bidx: str) -> None:
        """409 on an ID or phone already registered, without saying by whom."""
        if self.repo.resident_by(id_bidx=id_bidx):
            raise DuplicateResident(field="id_number")
        if self.repo.resident_by(phone_bidx=phone_bidx):
            raise DuplicatePhone(field="phone")

    def _insert_resident(self, resident: Resident) -> Resident:
        """Insert; a concurrent duplicate loses on the unique index and gets the same 409."""
        try:
            with self.session.begin_nested():
                self.repo.add(resident)
        except IntegrityError as exc:
            if "phone" in str(exc.orig):
                raise DuplicatePhone(field="phone") from None
            raise DuplicateResident(field="id_number") from None
        return resident

    def resident(self, resident_id: uuid.UUID) -> Resident:
        """A resident, or 404."""
        resident = self.repo.resident(resident_id)
        if resident is None:
            raise ResidentNotFound()
        return resident

    def resident_for_staff(self, resident_id: uuid.UUID, who: Principal) -> Resident:
        """A resident as staff at a service point see them: 403 without a role that serves
        residents, 404 outside the staff member's regions (as for an unknown id)."""
        if not set(SERVES_RESIDENTS) & set(who.roles) and Role.ADMIN not in who.roles:
            raise Forbidden()
        resident = self.repo.resident(resident_id)
        home = RegionService(self.session).get(resident.community_id).path if resident else None
        if resident is None or not any(who.may(r, home) for r in SERVES_RESIDENTS):
            raise ResidentNotFound(field="resident_id")
        return resident

    def find_resident(self, handle: str) -> Resident | None:
        """A resident by platform number, phone or ID number, however it was typed."""
        typed = compact(handle).upper()
        if is_platform_number(typed):
            return self.repo.resident_by(public_no=typed)
        cipher = self.ctx.cipher
        if len(typed) == 18:
            return self.repo.resident_by(id_bidx=cipher.blind_index(typed, ID_CONTEXT))
        try:
            phone = normalize_phone(typed)
        except InvalidPhone:
            return None
        return self.repo.resident_by(phone_bidx=cipher.blind_index(phone, PHONE_CONTEXT))

    def id_number(self, resident: Resident) -> str:
        """The resident's full ID number, for a duty that needs it (the credit-record export);
        the caller checks who may see it and records the view in the audit log."""
        return self.ctx.cipher.decrypt(resident.id_enc, ID_CONTEXT)

    def verify(self, resident: Resident, evidence: str, actor: str | None = None) -> Resident:
        """Run the configured real-name check; verified residents start earning points."""
        if resident.verification == Verification.VERIFIED:
            return resident
        number = self.ctx.cipher.decrypt(resident.id_enc, ID_CONTEXT)
        settings = self.ctx.settings
        check = provider(settings.identity_provider, settings.env)
        result = check.verify(resident.name, number, evidence, local_date(utcnow()))
        if not result.ok:
            raise VerificationFailed(reason_zh=result.reason_zh, reason_en=result.reason_en)
        who = actor or f"resident:{resident.id}"
        return self._mark_verified(resident, IdentityVerification(method=check.name), who)

    def verify_in_person(
        self, resident_id: uuid.UUID, card: InPersonVerificationCreate, who: Principal
    ) -> Resident:
        """A verifier saw the resident's ID card (记录核验人员): record who, when, which card."""
        if not {Role.VERIFIER, Role.ADMIN} & set(who.roles):
            raise Forbidden()
        resident = self.repo.resident(resident_id)
        # Out of scope reads as unknown: a verifier learns nothing of other streets' residents.
        home = RegionService(self.session).get(resident.community_id).path if resident else None
        if resident is None or not who.may(Role.VERIFIER, home):
            raise ResidentNotFound(field="resident_id")
        try:
            info = parse_id_number(card.document_number, local_date(utcnow()))
        except InvalidIdNumber as exc:
            exc.field = "document_number"
            raise
        if self.ctx.cipher.blind_index(info.number, ID_CONTEXT) != resident.id_bidx:
            raise DocumentMismatch(field="document_number")
        if resident.verification == Verification.VERIFIED:
            return resident
        row = IdentityVerification(
            method=IN_PERSON.name,
            verified_by_staff_id=who.id,
            document_type=card.document_type,
            document_masked=mask_id_number(info.number),
        )
        return self._mark_verified(resident, row, who.key)

    def _mark_verified(self, resident: Resident, row: IdentityVerification, actor: str) -> Resident:
        """Mark verified, keep the verification's row (read by the audit log), announce it.

        Subscribers of `resident_verified` (activities: release held points) run in the same
        transaction.
        """
        now = utcnow()
        resident.verification = Verification.VERIFIED
        resident.verified_at, resident.verified_by = now, row.method
        row.resident_id, row.verified_at = resident.id, now
        self.repo.add(row)
        resident_verified.emit(self.session, self.ctx, ResidentVerified(resident.id, actor))
        return resident

    def add_staff(
        self,
        username: str,
        display_name: str,
        password: str | None,
        password_hash: str | None = None,
    ) -> Staff:
        """Create a staff account (CLI and demo; roles are granted separately)."""
        if password_hash is None:
            personal = [*passwords.personal_words(display_name), username.casefold()]
            password_hash = passwords.strong_hash(password or "", personal)
        staff = Staff(username=username, display_name=display_name, password_hash=password_hash)
        self.repo.add(staff)
        return staff

    def grant(
        self,
        staff: Staff,
        role: str,
        region_id: uuid.UUID | None = None,
        organization_id: uuid.UUID | None = None,
    ) -> RoleGrant:
        """Give a staff member a role within a region subtree and/or an organization."""
        grant = RoleGrant(
            staff_id=staff.id, role=role, region_id=region_id, organization_id=organization_id
        )
        self.repo.add(grant)
        return grant

    def sign_in(
        self, username: str, password: str, guard: SignInGuard, address: str
    ) -> tuple[str, Token, Principal]:
        """Check a password and issue a bearer token; throttled per account and per address."""
        principal, stored = self._credentials(username)
        account = principal.key if principal else f"handle:{compact(username).casefold()}"
        wait = guard.wait_s(address, account)
        if wait > 0:
            raise TooManyAttempts(seconds=math.ceil(wait))
        if not passwords.verify_password(stored, password) or principal is None:
            guard.failed(address, account)
            raise BadCredentials()
        guard.succeeded(account)
        raw = new_token()
        token = Token(
            token_hash=_digest(raw),
            subject_kind=principal.kind,
            subject_id=principal.id,
            expires_at=utcnow() + timedelta(hours=self.ctx.settings.token_ttl_hours),
        )
        self.repo.add(token)
        return raw, token, principal

    def sign_out(self, raw_token: str) -> None:
        """Revoke a live bearer token (logout); 401 when it is not live."""
        now = utcnow()
        token = self.repo.token(_digest(raw_token), now)
        if token is None:
            raise Unauthorized()
        self.repo.revoke(token, now)

    def _credentials(self, username: str) -> tuple[Principal | None, str | None]:
        """The principal and stored hash behind a login name (staff first, then resident)."""
        staff = self.repo.staff_by_username(username)
        if staff is not None and staff.active:
            return self.staff_principal(staff), staff.password_hash
        resident = self.find_resident(username)
        if resident is not None:
            return Principal("resident", resident.id, resident.name), resident.password_hash
        return None, None

    def authenticate(self, raw_token: str) -> Principal:
        """The principal behind a bearer token, or 401."""
        token = self.repo.token(_digest(raw_token), utcnow())
        if token is None:
            raise Unauthorized()
        if token.subject_kind == "resident":
            resident = self.repo.resident(token.subject_id)
            if resident is None:
                raise Unauthorized()
            return Principal("resident", resident.id, resident.name)
        staff = self.repo.staff(token.subject_id)
        if staff is None or not staff.active:
            raise Unauthorized()
        return self.staff_principal(staff)

    def staff_by_username(self, username: str) -> Staff | None:
        """A staff member by username, if there is one."""
        return self.repo.staff_by_username(username)

    def staff_profile(self, staff_id: uuid.UUID) -> StaffRead:
        """A staff member's own profile: roles with the region or organization they cover."""
        staff = self.repo.staff(staff_id)
        if staff is None:
            raise Unauthorized()
        regions = RegionService(self.session)
        roles = [
            GrantRead(
                role=g.role,
                region_id=g.region_id,
                region_name=regions.get(g.region_id).name if g.region_id else None,
                organization_id=g.organization_id,
                organization_name=(
                    regions.organization(g.organization_id).name if g.organization_id else None
                ),
            )
            for g in self.repo.grants(staff.id)
        ]
        return StaffRead(
            id=staff.id, username=staff.username, display_name=staff.display_name, roles=roles
        )

    def staff_principal(self, staff: Staff) -> Principal:
        """A staff principal with grants resolved to region paths."""
        regions = RegionService(self.session)
        grants = tuple(
            Grant(g.role, regions.get(g.region_id).path if g.region_id else None, g.organization_id)
            for g in self.repo.grants(staff.id)
        )
        return Principal("staff", staff.id, staff.display_name, grants)


def _digest(raw: str) -> str:
    """Tokens are stored as SHA-256: a leaked table grants nothing."""
    return hashlib.sha256(raw.encode()).hexdigest()
