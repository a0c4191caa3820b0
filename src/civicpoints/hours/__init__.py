from civicpoints.hours.service import HoursService

__all__ = [
    "HoursService",
]
