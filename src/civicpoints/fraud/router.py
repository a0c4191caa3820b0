"""HTTP for risk policies: the versions and the one in force, and new versions."""

from __future__ import annotations

from fastapi import APIRouter

from civicpoints.fraud.policies import PolicyService
from civicpoints.fraud.schemas import PolicyCreate, PolicyRead
from civicpoints.identity import StaffCaller
from civicpoints.kit.http import DbSession

router = APIRouter(tags=["fraud 风控"])


@router.get("/fraud/policies", response_model=list[PolicyRead])
def list_policies(who: StaffCaller, db: DbSession) -> list[PolicyRead]:
    """Every risk policy version, newest first (the seed default applies where none does)."""
    return [PolicyRead.model_validate(r) for r in PolicyService(db).versions()]


@router.post("/fraud/policies", response_model=PolicyRead, status_code=201)
def create_policy(body: PolicyCreate, who: StaffCaller, db: DbSession) -> PolicyRead:
    """Add a risk policy version for a region or city-wide (administrators)."""
    return PolicyRead.model_validate(PolicyService(db).create(body, who))
