"""Activities: publishing, enrolment, check-in/out, evidence, offline records and review."""

from civicpoints.activities.certify import CERTIFIERS, CertificateDesk, CertificateRequest
from civicpoints.activities.csvrows import COLUMNS as IMPORT_COLUMNS
from civicpoints.activities.education import EducationCredit
from civicpoints.activities.erasure import erase_activity_data
from civicpoints.activities.events import Joining, joining
from civicpoints.activities.evidence import PhotoFacts, inspect_photo
from civicpoints.activities.fraud_desk import FraudDesk
from civicpoints.activities.geo import Circle, Geofence, Polygon, geofence_from_dict
from civicpoints.activities.listing import Card, ListingService, Rate
from civicpoints.activities.models import (
    Activity,
    ActivityStatus,
    Enrollment,
    EnrollmentStatus,
    Evidence,
    Participation,
    RecordStatus,
)
from civicpoints.activities.offline import OfflineService
from civicpoints.activities.photos import PhotoService
from civicpoints.activities.recheck import Rechecks, awaits_recheck
from civicpoints.activities.records import Phone, RecordService, record_facts
from civicpoints.activities.records_export import as_csv as volunteer_records_csv
from civicpoints.activities.records_export import as_json as volunteer_records_json
from civicpoints.activities.records_export import may_see_id_numbers, volunteer_records
from civicpoints.activities.reviewing import LookAlike, PhotoView, ReviewDesk, ReviewItem
from civicpoints.activities.schemas import (
    ActivityCreate,
    BulkApprove,
    CategoryName,
    CheckIn,
    ImportReport,
    OfflineRecordCreate,
    ParticipationRead,
    Position,
    RecheckKeep,
    RecordDecision,
)
from civicpoints.activities.service import ActivityService, Roster
from civicpoints.activities.storage import blob_path, store_blob
from civicpoints.activities.subscriptions import subscribe
from civicpoints.activities.venue import VenueCodes, VenueScreen, code_matched, venue_words
from civicpoints.activities.views import participation_view

__all__ = [
    "CERTIFIERS",
    "IMPORT_COLUMNS",
    "Activity",
    "ActivityCreate",
    "ActivityService",
    "ActivityStatus",
    "BulkApprove",
    "Card",
    "CategoryName",
    "CertificateDesk",
    "CertificateRequest",
    "CheckIn",
    "Circle",
    "EducationCredit",
    "Enrollment",
    "EnrollmentStatus",
    "Evidence",
    "FraudDesk",
    "Geofence",
    "ImportReport",
    "Joining",
    "ListingService",
    "LookAlike",
    "OfflineRecordCreate",
    "OfflineService",
    "Participation",
    "ParticipationRead",
    "Phone",
    "PhotoFacts",
    "PhotoService",
    "PhotoView",
    "Polygon",
    "Position",
    "Rate",
    "RecheckKeep",
    "Rechecks",
    "RecordDecision",
    "RecordService",
    "RecordStatus",
    "ReviewDesk",
    "ReviewItem",
    "Roster",
    "VenueCodes",
    "VenueScreen",
    "awaits_recheck",
    "blob_path",
    "code_matched",
    "erase_activity_data",
    "geofence_from_dict",
    "inspect_photo",
    "joining",
    "may_see_id_numbers",
    "participation_view",
    "record_facts",
    "store_blob",
    "venue_words",
    "volunteer_records",
    "volunteer_records_csv",
    "volunteer_records_json",
]

subscribe()
