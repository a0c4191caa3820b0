"""Schemathesis over the figures routes (JSON, CSV, XLSX) as the signed-in city-wide
administrator, so requests reach the service: no input may produce a server error or a
response outside the spec.

`positive_data_acceptance` is left out: a schema-valid range may rightly be refused with a
422 the JSON Schema cannot state (from after to, more than 36 months) or a 404 (a random
region id); tests/integration/test_insights_api.py pins those answers. An unknown query
parameter is ignored, as on every route of the API (FastAPI's way), so the negative check
passes over it and holds for everything else.
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

app = fuzz_app()
with TestClient(app) as _c:
    _body = {"username": "admin", "password": DEMO_STAFF_PASSWORD}
    ADMIN = "Bearer " + _c.post("/api/v1/auth/token", json=_body).json()["access_token"]
schema = schemathesis.openapi.from_asgi("/openapi.json", app).include(
    path_regex=r"^/api/v1/insights/"
)


def negative_data_rejected(ctx: Any, response: Any, case: Any) -> bool | None:
    """`negative_data_rejection`, except for an unknown query parameter."""
    try:
        return negative_data_rejection(ctx, response, case)
    except AcceptedNegativeData:
        if set(case.query or {}) - {p.name for p in case.operation.query}:
            return None
        raise


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_insights_routes_as_admin(case: Any) -> None:
    case.call_and_validate(
        headers={"Authorization": ADMIN},
        excluded_checks=[positive_data_acceptance, negative_data_rejection],
        additional_checks=[negative_data_rejected],
    )
