"""One decision body for every reviewer: records in the queue and rewards applications."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from civicpoints.cli.city import City

from .test_api import login

ROUTES = ("/api/v1/reviews/{id}/decision", "/api/v1/redemptions/{id}/decision")


def test_both_decision_routes_take_the_same_schema(client: TestClient) -> None:
    """Both routes take one decision body: the review route's adds only `fraud` (a rejection
    that confirms a false record) to the shared `{decision, reason}` and its rules."""
    spec = client.get("/openapi.json").json()
    paths, schemas = spec["paths"], spec["components"]["schemas"]
    refs = [
        paths[route.replace("{id}", name)]["post"]["requestBody"]["content"]["application/json"][
            "schema"
        ]["$ref"]
        for route, name in zip(ROUTES, ("{participation_id}", "{redemption_id}"), strict=True)
    ]
    assert refs == ["#/components/schemas/RecordDecision", "#/components/schemas/Decision"]
    decision, record = schemas["Decision"], schemas["RecordDecision"]
    for body in (decision, record):
        assert body["if"] == {"properties": {"decision": {"const": "reject"}}}
        assert body["then"]["properties"]["reason"]["minLength"] == 1
    assert set(record["properties"]) - set(decision["properties"]) == {"fraud"}
    for name, shape in decision["properties"].items():
        assert record["properties"][name] == shape


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
