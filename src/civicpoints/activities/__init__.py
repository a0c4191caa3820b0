"""Activities: publishing, enrolment, check-in/out, evidence, offline records and review."""

from civicpoints.activities.csvrows import COLUMNS as IMPORT_COLUMNS
from civicpoints.activities.erasure import erase_activity_data
from civicpoints.activities.models import Activity, ActivityStatus, RecordStatus
from civicpoints.activities.offline import OfflineService
from civicpoints.activities.photos import PhotoService
from civicpoints.activities.records import RecordService
from civicpoints.activities.reviewing import PhotoView, ReviewDesk, ReviewItem
from civicpoints.activities.schemas import (
    ActivityCreate,
    ImportReport,
    OfflineRecordCreate,
)
from civicpoints.activities.service import ActivityService, Roster
from civicpoints.activities.subscriptions import subscribe

__all__ = [
    "IMPORT_COLUMNS",
    "Activity",
    "ActivityCreate",
    "ActivityService",
    "ActivityStatus",
    "ImportReport",
    "OfflineRecordCreate",
    "OfflineService",
    "PhotoService",
    "PhotoView",
    "RecordService",
    "RecordStatus",
    "ReviewDesk",
    "ReviewItem",
    "Roster",
    "erase_activity_data",
]

subscribe()
