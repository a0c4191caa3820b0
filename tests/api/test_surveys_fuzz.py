"""Schemathesis over /api/v1/surveys, signed in as the street's organizer (the staff routes)
and as a resident (the answering routes), so requests reach the service: no input may produce a
server error or a response outside the spec; out-of-bounds input is refused.

`positive_data_acceptance` is left out: a schema-valid body may rightly be refused by rules
JSON Schema cannot state (a choice question with one option, a region outside the caller's
scope, a random survey id: 403/404/409/422); tests/integration/test_surveys.py pins those.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.core.failures import AcceptedNegativeData
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from civicpoints.cli.city import DEMO_STAFF_PASSWORD
from tests.api.test_openapi_fuzz import fuzz_app
from tests.integration.conftest import id_number

app = fuzz_app()
with TestClient(app) as _c:
    _body = {"username": "organizer", "password": DEMO_STAFF_PASSWORD}
    ORGANIZER = "Bearer " + _c.post("/api/v1/auth/token", json=_body).json()["access_token"]
    _who = {"name": "张秀英", "id_number": id_number(1), "phone": "13800000001",
            "password": "Hangzhou#2026", "consent": True}  # fmt: skip
    _regions = _c.get("/api/v1/regions", headers={"Authorization": ORGANIZER})
    _leaf = [r for r in _regions.json() if r.get("level") == "community"]
    _who["community_id"] = _leaf[0]["id"]
    assert _c.post("/api/v1/residents", json=_who).status_code == 201
    _tok = {"username": "13800000001", "password": "Hangzhou#2026"}
    RESIDENT = "Bearer " + _c.post("/api/v1/auth/token", json=_tok).json()["access_token"]
schema = schemathesis.openapi.from_asgi("/openapi.json", app).include(
    path_regex=r"^/api/v1/surveys"
)


def negative_data_rejected(ctx: Any, response: Any, case: Any) -> bool | None:
    """`negative_data_rejection`, except for an unknown query parameter."""
    try:
        return negative_data_rejection(ctx, response, case)
    except AcceptedNegativeData:
        if set(case.query or {}) - {p.name for p in case.operation.query}:
            return None
        raise


def _run(case: Any, token: str) -> None:
    case.call_and_validate(
        headers={"Authorization": token},
        excluded_checks=[positive_data_acceptance, negative_data_rejection],
        additional_checks=[negative_data_rejected],
    )


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_survey_routes_as_organizer(case: Any) -> None:
    _run(case, ORGANIZER)


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_survey_routes_as_resident(case: Any) -> None:
    _run(case, RESIDENT)
