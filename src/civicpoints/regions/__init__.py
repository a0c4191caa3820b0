from civicpoints.regions.models import Department, Level, Organization, OrgKind, Region
from civicpoints.regions.repository import org_path_of, path_of
from civicpoints.regions.service import RegionService

__all__ = [
    "Department",
    "Level",
    "OrgKind",
    "Organization",
    "Region",
    "RegionService",
    "org_path_of",
    "path_of",
]
