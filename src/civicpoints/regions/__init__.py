from civicpoints.regions.importer import (
    MAX_BYTES,
    OrgRow,
    Plan,
    Problem,
    RegionRow,
    Rejected,
    decode,
    plan_organizations,
    plan_regions,
)
from civicpoints.regions.models import Department, Level, Organization, OrgKind, Region
from civicpoints.regions.repository import org_path_of, path_of
from civicpoints.regions.service import RegionService

__all__ = [
    "MAX_BYTES",
    "Department",
    "Level",
    "OrgKind",
    "OrgRow",
    "Organization",
    "Plan",
    "Problem",
    "Region",
    "RegionRow",
    "RegionService",
    "Rejected",
    "decode",
    "org_path_of",
    "path_of",
    "plan_organizations",
    "plan_regions",
]
