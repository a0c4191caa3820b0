"""One decision body for every reviewer: records in the queue and rewards applications."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from civicpoints.cli.city import City

from .test_api import login

ROUTES = ("/api/v1/reviews/{id}/decision", "/api/v1/redemptions/{id}/decision")


def test_both_decision_routes_take_the_same_schema(client: TestClient) -> None:
    """The OpenAPI spec names one request body for both routes."""
    paths = client.get("/openapi.json").json()["paths"]
    refs = {
        route: paths[route.replace("{id}", name)]["post"]["requestBody"]["content"][
            "application/json"
        ]["schema"]["$ref"]
        for route, name in zip(ROUTES, ("{participation_id}", "{redemption_id}"), strict=True)
    }
    assert set(refs.values()) == {"#/components/schemas/Decision"}
    decision = client.get("/openapi.json").json()["components"]["schemas"]["Decision"]
    assert decision["if"] == {"properties": {"decision": {"const": "reject"}}}
    assert decision["then"]["properties"]["reason"]["minLength"] == 1


def test_a_rejection_needs_a_reason_and_the_old_shape_is_refused(
    client: TestClient, city: City
) -> None:
    """422 naming `reason` (zh and en) or the unknown `approve` field, on both routes."""
    headers = login(client, "admin")
    for route in ROUTES:
        path = route.format(id=uuid.uuid4())
        for body, field in (
            ({"decision": "reject"}, "reason"),
            ({"decision": "reject", "reason": "  "}, "reason"),
            ({"approve": True, "reason": "ok"}, "decision"),
        ):
            r = client.post(path, json=body, headers=headers)
            assert r.status_code == 422, (path, body, r.text)
            fields = [e["field"] for e in r.json()["errors"]]
            assert field in fields, (path, body, fields)
            assert all(e["messages"]["zh-CN"] for e in r.json()["errors"])
