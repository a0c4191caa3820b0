"""HTTP for risk policies: the versions and the one in force, and new versions."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Query, Response

from civicpoints.fraud.credit_record import credit_record_csv
from civicpoints.fraud.policies import PolicyService
from civicpoints.fraud.schemas import PolicyCreate, PolicyRead
from civicpoints.identity import StaffCaller
from civicpoints.kit.http import Ctx, DbSession

router = APIRouter(tags=["fraud 风控"])


@router.get("/fraud/policies", response_model=list[PolicyRead])
def list_policies(who: StaffCaller, db: DbSession) -> list[PolicyRead]:
    """Every risk policy version, newest first (the seed default applies where none does)."""
    return [PolicyRead.model_validate(r) for r in PolicyService(db).versions()]


@router.post("/fraud/policies", response_model=PolicyRead, status_code=201)
def create_policy(body: PolicyCreate, who: StaffCaller, db: DbSession) -> PolicyRead:
    """Add a risk policy version for a region or city-wide (administrators)."""
    return PolicyRead.model_validate(PolicyService(db).create(body, who))


@router.get(
    "/fraud/credit-records",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "UTF-8 CSV with a BOM"}},
)
def credit_records(
    who: StaffCaller,
    db: DbSession,
    ctx: Ctx,
    month: str = Query(..., pattern=r"^20\d{2}-(0[1-9]|1[0-2])$", description="YYYY-MM"),
) -> Response:
    """Third-step cases decided in `month` for the credit system (city-wide administrators;
    each exported person is recorded in the audit log). Format: docs/fraud.md."""
    first = date(int(month[:4]), int(month[5:]), 1)
    body = credit_record_csv(db, ctx, first, who)
    name = f"credit-records-{month}.csv"
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
