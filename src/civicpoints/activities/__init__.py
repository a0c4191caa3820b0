"""Activities: publishing, enrolment, check-in/out, evidence, offline records and review."""

from civicpoints.activities.erasure import erase_activity_data
from civicpoints.activities.models import Activity
from civicpoints.activities.offline import OfflineService
from civicpoints.activities.photos import PhotoService
from civicpoints.activities.records import RecordService
from civicpoints.activities.schemas import ActivityCreate, OfflineRecordCreate
from civicpoints.activities.service import ActivityService
from civicpoints.activities.subscriptions import subscribe

__all__ = [
    "Activity",
    "ActivityCreate",
    "ActivityService",
    "OfflineRecordCreate",
    "OfflineService",
    "PhotoService",
    "RecordService",
    "erase_activity_data",
]

subscribe()
