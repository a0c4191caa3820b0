from civicpoints.identity.education_errors import (
    ChildNotLinked,
    LinkNotConfirmed,
    NotEducationStaff,
)
from civicpoints.identity.education_models import Child, GuardianLink, LinkStatus
from civicpoints.identity.education_views import child_link_view, staff_link_view
from civicpoints.identity.errors import StaffNotFound
from civicpoints.identity.events import (
    ConsentWithdrawn,
    ResidentDataAsked,
    ResidentErased,
    ResidentVerified,
    consent_withdrawn,
    resident_data,
    resident_erased,
    resident_verified,
)
from civicpoints.identity.guardians import GuardianService, require_education_staff
from civicpoints.identity.idcard import id_check_char
from civicpoints.identity.lookup import ResidentLookup
from civicpoints.identity.models import Resident, Staff, Verification
from civicpoints.identity.passwords import hash_password
from civicpoints.identity.privacy import (
    ERASED,
    erase_personal_data,
    give_consent,
    may_process,
    require_consent,
    withdraw_consent,
)
from civicpoints.identity.ratelimit import SignInGuard
from civicpoints.identity.repository import signed_in_since
from civicpoints.identity.router import (
    Caller,
    ResidentCaller,
    StaffCaller,
    resident,
    sign_in_guard,
    staff,
)
from civicpoints.identity.schemas import (
    GrantCreate,
    GrantView,
    InPersonVerificationCreate,
    ResidentCreate,
    ResidentRead,
    StaffCreate,
    StaffView,
    TokenRequest,
)
from civicpoints.identity.service import (
    CHILD_ID_CONTEXT,
    ENCRYPTED_COLUMNS,
    ID_CONTEXT,
    PHONE_CONTEXT,
    IdentityService,
    ResidentNotFound,
)
from civicpoints.identity.staff_admin import StaffAdmin, may_read_staff

__all__ = [
    "CHILD_ID_CONTEXT",
    "ENCRYPTED_COLUMNS",
    "ERASED",
    "ID_CONTEXT",
    "PHONE_CONTEXT",
    "Caller",
    "Child",
    "ChildNotLinked",
    "ConsentWithdrawn",
    "GrantCreate",
    "GrantView",
    "GuardianLink",
    "GuardianService",
    "IdentityService",
    "InPersonVerificationCreate",
    "LinkNotConfirmed",
    "LinkStatus",
    "NotEducationStaff",
    "Resident",
    "ResidentCaller",
    "ResidentCreate",
    "ResidentDataAsked",
    "ResidentErased",
    "ResidentLookup",
    "ResidentNotFound",
    "ResidentRead",
    "ResidentVerified",
    "SignInGuard",
    "Staff",
    "StaffAdmin",
    "StaffCaller",
    "StaffCreate",
    "StaffNotFound",
    "StaffView",
    "TokenRequest",
    "Verification",
    "child_link_view",
    "consent_withdrawn",
    "erase_personal_data",
    "give_consent",
    "hash_password",
    "id_check_char",
    "may_process",
    "may_read_staff",
    "require_consent",
    "require_education_staff",
    "resident",
    "resident_data",
    "resident_erased",
    "resident_verified",
    "sign_in_guard",
    "signed_in_since",
    "staff",
    "staff_link_view",
    "withdraw_consent",
]
