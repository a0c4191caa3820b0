"""RFC 9457 problem+json for every error, with messages in zh-CN and en."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from civicpoints.kit.errors import LOCALES, DomainError
from civicpoints.kit.http import locale_of

PROBLEM = "application/problem+json"


def _response(status: int, body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def domain_problem(request: Request, exc: Exception) -> JSONResponse:
    """A DomainError as problem+json: stable code, the field, both languages."""
    assert isinstance(exc, DomainError)
    loc = locale_of(request.headers.get("accept-language"))
    body = {
        "type": f"https://civicpoints.example/problems/{exc.code}",
        "title": exc.title_in(loc),
        "status": exc.status,
        "detail": exc.message(loc),
        "code": exc.code,
        "field": exc.field,
        "messages": {lc: exc.message(lc) for lc in LOCALES},
    }
    return _response(exc.status, body)


def _field(loc: tuple[Any, ...]) -> str:
    """'body.id_number' → 'id_number'; query and header names keep their place."""
    parts = [str(p) for p in loc if p not in ("body",)]
    return ".".join(parts) or "body"


def validation_problem(request: Request, exc: Exception) -> JSONResponse:
    """Pydantic validation errors as one 422 problem naming every field."""
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": _field(tuple(e["loc"])), "message": e["msg"], "type": e["type"]}
        for e in exc.errors()
    ]
    fields = "、".join(dict.fromkeys(e["field"] for e in errors))
    body = {
        "type": "https://civicpoints.example/problems/validation_error",
        "title": "输入有误"
        if locale_of(request.headers.get("accept-language")) != "en"
        else "Invalid input",
        "status": 422,
        "code": "validation_error",
        "field": errors[0]["field"] if errors else None,
        "detail": f"以下字段有误：{fields}",
        "errors": errors,
        "messages": {"zh-CN": f"以下字段有误：{fields}", "en": f"invalid fields: {fields}"},
    }
    return _response(422, body)


def http_problem(request: Request, exc: Exception) -> JSONResponse:
    """Framework errors (404 route, 405) in the same shape."""
    assert isinstance(exc, HTTPException)
    body = {
        "type": "about:blank",
        "title": str(exc.detail),
        "status": exc.status_code,
        "code": f"http.{exc.status_code}",
        "detail": str(exc.detail),
        "field": None,
    }
    return _response(exc.status_code, body)


def install(app: FastAPI) -> None:
    """Register the handlers."""
    app.add_exception_handler(DomainError, domain_problem)
    app.add_exception_handler(RequestValidationError, validation_problem)
    app.add_exception_handler(HTTPException, http_problem)
