"""RFC 9457 problem+json for every error, with messages in zh-CN and en."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from civicpoints.kit.errors import LOCALES, DomainError
from civicpoints.kit.http import locale_of
from civicpoints.web.headers import security_headers

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
    return _response(exc.status, body, getattr(exc, "headers", None))


def _field(loc: tuple[Any, ...]) -> str:
    """'body.id_number' → 'id_number'; query and header names keep their place."""
    parts = [str(p) for p in loc if p not in ("body",)]
    return ".".join(parts) or "body"


# Pydantic's error types in plain Chinese (its own English text stays beside them).
_ZH = {
    "missing": "必须填写",
    "greater_than": "须大于 {gt}",
    "greater_than_equal": "须不小于 {ge}",
    "less_than": "须小于 {lt}",
    "less_than_equal": "须不大于 {le}",
    "multiple_of": "须为 {multiple_of} 的倍数",
    "string_too_short": "至少 {min_length} 个字",
    "string_too_long": "最多 {max_length} 个字",
    "too_short": "至少 {min_length} 项",
    "too_long": "最多 {max_length} 项",
    "string_type": "须为文字",
    "string_pattern_mismatch": "格式不对",
    "int_type": "须为整数",
    "int_parsing": "须为整数",
    "int_from_float": "须为整数",
    "float_type": "须为数字",
    "float_parsing": "须为数字",
    "finite_number": "须为数字",
    "bool_type": "须为 true 或 false",
    "bool_parsing": "须为 true 或 false",
    "enum": "须为以下之一：{expected}",
    "literal_error": "须为以下之一：{expected}",
    "datetime_type": "须为带时区的时间，如 2026-11-27T09:30:00+08:00",
    "datetime_parsing": "须为带时区的时间，如 2026-11-27T09:30:00+08:00",
    "datetime_from_date_parsing": "须为带时区的时间，如 2026-11-27T09:30:00+08:00",
    "timezone_aware": "须带时区，如 +08:00",
    "date_type": "须为日期，如 2026-11-27",
    "date_parsing": "须为日期，如 2026-11-27",
    "date_from_datetime_parsing": "须为日期，如 2026-11-27",
    "uuid_type": "须为编号（UUID）",
    "uuid_parsing": "须为编号（UUID）",
    "json_invalid": "不是有效的 JSON",
    "json_type": "不是有效的 JSON",
    "dict_type": "须为对象",
    "model_attributes_type": "须为对象",
    "model_type": "须为对象",
    "list_type": "须为列表",
    "extra_forbidden": "不认识的字段",
    "bytes_too_long": "内容过长",
}


def _zh_message(error: Any) -> str:
    """One pydantic error in Chinese: our own validators already speak "中文 / English"."""
    if error["type"] == "value_error":
        text = str(error["msg"]).removeprefix("Value error, ")
        return text.split(" / ", 1)[0]
    template = _ZH.get(error["type"], "格式不对")
    try:
        return template.format(**(error.get("ctx") or {}))
    except (KeyError, IndexError, ValueError):
        return template.split("{", 1)[0].rstrip("：: ")


def field_messages(errors: Any, locale: str) -> list[tuple[str, str]]:
    """Pydantic errors as (field, message in `locale`) pairs, for a page's error summary."""
    return [
        (_field(tuple(e["loc"])), _zh_message(e) if locale == "zh-CN" else _en_message(e))
        for e in errors
    ]


def _en_message(error: Any) -> str:
    """One pydantic error in English (our validators' "中文 / English": the English half)."""
    text = str(error["msg"])
    if error["type"] == "value_error":
        return text.removeprefix("Value error, ").split(" / ", 1)[-1]
    return text


def validation_problem(request: Request, exc: Exception) -> JSONResponse:
    """Pydantic validation errors as one 422 problem naming every field and what is wrong."""
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "field": _field(tuple(e["loc"])),
            "message": e["msg"],
            "messages": {"zh-CN": _zh_message(e), "en": e["msg"]},
            "type": e["type"],
        }
        for e in exc.errors()
    ]
    zh = "；".join(f"{e['field']}（{e['messages']['zh-CN']}）" for e in errors)
    en = "; ".join(f"{e['field']} ({e['message']})" for e in errors)
    english = locale_of(request.headers.get("accept-language")) == "en"
    body = {
        "type": "https://civicpoints.example/problems/validation_error",
        "title": "Invalid input" if english else "输入有误",
        "status": 422,
        "code": "validation_error",
        "field": errors[0]["field"] if errors else None,
        "detail": f"invalid fields: {en}" if english else f"以下内容有误：{zh}",
        "errors": errors,
        "messages": {"zh-CN": f"以下内容有误：{zh}", "en": f"invalid fields: {en}"},
    }
    return _response(422, body)


# Framework refusals in both languages: (title zh, title en, detail zh, detail en).
_FRAMEWORK: dict[int, tuple[str, str, str, str]] = {
    400: ("请求格式有误", "Malformed request", "无法解析请求", "the request cannot be read"),
    403: ("无权访问", "Forbidden", "您没有访问此页面的权限", "you may not see this page"),
    422: ("输入有误", "Invalid input", "请检查填写的内容", "please check what you entered"),
    401: ("未登录", "Unauthorized", "请先登录", "please sign in"),
    404: ("未找到", "Not found", "没有这个地址", "there is nothing at this address"),
    405: ("方法不允许", "Method not allowed", "此地址不支持该方法", "method not allowed here"),
    413: ("请求内容过大", "Content too large", "请求内容超过上限", "the request body is too large"),
    415: ("类型不支持", "Unsupported media type", "不支持的内容类型", "unsupported content type"),
    503: (
        "服务繁忙",
        "Service busy",
        "现在使用的人很多，请稍等片刻再试",
        "many people are using the service right now; please try again in a moment",
    ),
    500: (
        "服务器内部错误",
        "Internal server error",
        "服务出错，已记录，请稍后再试",
        "something went wrong on our side; it has been logged, please try again later",
    ),
}


def framework_texts(status: int, english: bool = False) -> tuple[str, str]:
    """(title, detail) of a framework refusal in one language."""
    title_zh, title_en, zh, en = _FRAMEWORK.get(status, _FRAMEWORK[400 if status < 500 else 500])
    return (title_en, en) if english else (title_zh, zh)


def framework_problem(
    status: int,
    accept_language: str | None,
    headers: dict[str, str] | None = None,
    detail: tuple[str, str] | None = None,
) -> JSONResponse:
    """A refusal by the framework or the middleware (no route, bad method, too large, a crash);
    `detail` (zh-CN, en) replaces the status's usual text."""
    title_zh, title_en, zh, en = _FRAMEWORK.get(status, _FRAMEWORK[400 if status < 500 else 500])
    zh, en = detail or (zh, en)
    english = locale_of(accept_language) == "en"
    body = {
        "type": "about:blank",
        "title": title_en if english else title_zh,
        "status": status,
        "code": f"http.{status}",
        "detail": en if english else zh,
        "field": None,
        "messages": {"zh-CN": zh, "en": en},
    }
    return _response(status, body, headers)


def http_problem(request: Request, exc: Exception) -> JSONResponse:
    """Framework errors (404 route, 405, 413, a body that cannot be parsed) in the same shape."""
    assert isinstance(exc, HTTPException)
    headers = dict(getattr(exc, "headers", None) or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(_allowed_methods(request))
    return framework_problem(exc.status_code, request.headers.get("accept-language"), headers)


def server_problem(request: Request, exc: Exception) -> JSONResponse:
    """Any unexpected exception: a 500 problem in both languages, no stack trace or message.

    Starlette logs the exception itself (through the redacting handlers) after this answers.
    """
    headers = dict(security_headers(request.url.path))
    return framework_problem(500, request.headers.get("accept-language"), headers)


def _allowed_methods(request: Request) -> list[str]:
    """Every method any route serves at this path (Starlette lists only the first route's).

    Included routers are walked through `iter_route_contexts`: FastAPI keeps them nested.
    """
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.router.routes):
        regex = getattr(route, "path_regex", None)
        if regex is not None and regex.fullmatch(request.url.path):
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


def install(app: FastAPI) -> None:
    """Register the handlers."""
    app.add_exception_handler(DomainError, domain_problem)
    app.add_exception_handler(RequestValidationError, validation_problem)
    app.add_exception_handler(HTTPException, http_problem)
    app.add_exception_handler(Exception, server_problem)


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
    413: "内容过大 / too large",
    415: "类型不支持 / unsupported type",
    422: "输入有误 / invalid input",
    429: "请求过多 / too many requests",
    500: "服务器内部错误 / internal server error",
}
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": text, "content": {PROBLEM: {"schema": Problem.model_json_schema()}}}
    for status, text in _STATUSES.items()
}
