from civicpoints.hours.certificates import (
    NUMBER_PATTERN,
    Certificate,
    CertificateService,
    Check,
    Issuer,
    Kind,
    ServiceLine,
    Standing,
    Volunteer,
    check_note,
    mask_name,
    statement,
)
from civicpoints.hours.errors import CertificateNotFound, CertificateRefused, InvalidStarPolicy
from civicpoints.hours.feed import HoursRow, hours_between, hours_recorded
from civicpoints.hours.labels import CATEGORY_ZH
from civicpoints.hours.pdf import certificate_pdf
from civicpoints.hours.policy import StarPolicyService
from civicpoints.hours.schemas import (
    MAX_STAR_HOURS,
    CertificateIssue,
    CertificateRead,
    CheckRead,
    StarPolicyCreate,
    StarPolicyRead,
)
from civicpoints.hours.service import HoursService
from civicpoints.hours.stars import DEFAULT_STARS, StarLevel, StarThresholds, star_level

__all__ = [
    "CATEGORY_ZH",
    "DEFAULT_STARS",
    "MAX_STAR_HOURS",
    "NUMBER_PATTERN",
    "Certificate",
    "CertificateIssue",
    "CertificateNotFound",
    "CertificateRead",
    "CertificateRefused",
    "CertificateService",
    "Check",
    "CheckRead",
    "HoursRow",
    "HoursService",
    "InvalidStarPolicy",
    "Issuer",
    "Kind",
    "ServiceLine",
    "Standing",
    "StarLevel",
    "StarPolicyCreate",
    "StarPolicyRead",
    "StarPolicyService",
    "StarThresholds",
    "Volunteer",
    "certificate_pdf",
    "check_note",
    "hours_between",
    "hours_recorded",
    "mask_name",
    "star_level",
    "statement",
]
