"""Schemathesis over the two region-settings routes (star thresholds, donation and savings
settings) as the signed-in city-wide administrator, so requests reach validation and the
services (the signed-out fuzz mostly meets their 401). No input may produce a server error or
a response outside the spec.

`positive_data_acceptance` is left out: a schema-valid version may rightly be refused with a
422 the JSON Schema cannot state (a start before today, thresholds that do not rise) or a 404
(a random region id); tests/integration/test_region_settings.py pins those answers.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from civicpoints.cli.city import DEMO_STAFF_PASSWORD
from tests.api.test_openapi_fuzz import fuzz_app

app = fuzz_app()
with TestClient(app) as _c:
    _body = {"username": "admin", "password": DEMO_STAFF_PASSWORD}
    ADMIN = "Bearer " + _c.post("/api/v1/auth/token", json=_body).json()["access_token"]
schema = schemathesis.openapi.from_asgi("/openapi.json", app).include(
    path_regex=r"^/api/v1/(hours/star-policies|community/donation-settings)$"
)


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_region_settings_routes_as_admin(case: Any) -> None:
    case.call_and_validate(
        headers={"Authorization": ADMIN}, excluded_checks=[positive_data_acceptance]
    )
