"""Activities: publishing, enrolment, check-in/out, evidence, offline records and review."""

from civicpoints.activities.erasure import erase_activity_data
from civicpoints.activities.listing import Card, ListingService, Rate
from civicpoints.activities.models import Activity, EnrollmentStatus, RecordStatus
from civicpoints.activities.offline import OfflineService
from civicpoints.activities.photos import PhotoService
from civicpoints.activities.records import RecordService
from civicpoints.activities.schemas import (
    ActivityCreate,
    CategoryName,
    OfflineRecordCreate,
    ParticipationRead,
    Position,
)
from civicpoints.activities.service import ActivityService
from civicpoints.activities.subscriptions import subscribe
from civicpoints.activities.views import participation_view

__all__ = [
    "Activity",
    "ActivityCreate",
    "ActivityService",
    "Card",
    "CategoryName",
    "EnrollmentStatus",
    "ListingService",
    "OfflineRecordCreate",
    "OfflineService",
    "ParticipationRead",
    "PhotoService",
    "Position",
    "Rate",
    "RecordService",
    "RecordStatus",
    "erase_activity_data",
    "participation_view",
]

subscribe()
