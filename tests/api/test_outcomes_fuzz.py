"""Schemathesis over the outcome-indicator routes (catalog, values, one value, CSV import,
comparison, join days) as the city-wide administrator and as the environment bureau's officer
(department staff), so requests reach the services: no input may produce a server error or a
response outside the spec, and schema-invalid input is refused.

`positive_data_acceptance` is left out: a schema-valid value may rightly be refused with a 404
(a random region or indicator), 403 (outside the caller's scope), 409 (a cell that has a
value, without a reason) or 422 (a percent above 100, a future month) the JSON Schema cannot
state; tests/integration/test_outcomes_api.py pins those answers.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from civicpoints.cli.city import DEMO_STAFF_PASSWORD
from tests.api.test_insights_fuzz import negative_data_rejected
from tests.api.test_openapi_fuzz import fuzz_app

app = fuzz_app()
TOKENS: dict[str, str] = {}
with TestClient(app) as _c:
    for _user in ("admin", "env_officer"):
        _body = {"username": _user, "password": DEMO_STAFF_PASSWORD}
        TOKENS[_user] = "Bearer " + _c.post("/api/v1/auth/token", json=_body).json()["access_token"]
    _waste = {
        "code": "waste_sorting_rate",
        "name": "垃圾分类执行率",
        "name_en": "Waste sorting compliance",
        "unit": "%",
        "department": "environment",
    }
    assert (
        _c.post(
            "/api/v1/insights/indicators", json=_waste, headers={"Authorization": TOKENS["admin"]}
        ).status_code
        == 201
    )
schema = schemathesis.openapi.from_asgi("/openapi.json", app).include(
    path_regex=r"^/api/v1/insights/(indicators|outcomes|joins)"
)


@pytest.mark.parametrize("user", ["admin", "env_officer"])
@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_outcome_routes(case: Any, user: str) -> None:
    case.call_and_validate(
        headers={"Authorization": TOKENS[user]},
        excluded_checks=[positive_data_acceptance, negative_data_rejection],
        additional_checks=[negative_data_rejected],
    )
