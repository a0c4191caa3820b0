"""RFC 9457 problem+json for every error, with messages in zh-CN and en."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from civicpoints.kit.errors import LOCALES, DomainError
from civicpoints.kit.http import locale_of

PROBLEM = "application/problem+json"


def _response(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


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
    if exc.errors is not None:
        body["errors"] = exc.errors
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
    headers = dict(getattr(exc, "headers", None) or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(_allowed_methods(request))
    return _response(exc.status_code, body, headers)


def _allowed_methods(request: Request) -> list[str]:
    """Every method any route serves at this path (Starlette lists only the first route's)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        regex = getattr(route, "path_regex", None)
        if regex is not None and regex.fullmatch(request.url.path):
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


def install(app: FastAPI) -> None:
    """Register the handlers."""
    app.add_exception_handler(DomainError, domain_problem)
    app.add_exception_handler(RequestValidationError, validation_problem)
    app.add_exception_handler(HTTPException, http_problem)


class Problem(BaseModel):
    """RFC 9457 problem details, with a stable `code`, the `field` at fault, both languages."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    field: str | None = None
    messages: dict[str, str] | None = None
    errors: list[dict[str, Any]] | None = None


_STATUSES = {
    400: "请求格式有误 / malformed request",
    401: "未登录 / not signed in",
    403: "无权操作 / forbidden",
    404: "未找到 / not found",
    409: "冲突 / conflict",
    413: "文件过大 / too large",
    415: "类型不支持 / unsupported type",
    422: "输入有误 / invalid input",
    429: "请求过多 / too many requests",
}
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": text, "content": {PROBLEM: {"schema": Problem.model_json_schema()}}}
    for status, text in _STATUSES.items()
}
