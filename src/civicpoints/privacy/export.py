"""A resident's data as one HTML file any browser opens (pure: values in, text out)."""

from __future__ import annotations

from html import escape
from typing import Any

TITLES = {
    "profile": "个人资料 / Profile",
    "consents": "同意记录 / Consents",
    "participations": "参与记录 / Participations",
    "hours": "服务时长 / Service hours",
    "ledger_entries": "积分流水 / Points ledger",
    "redemptions": "兑换记录 / Redemptions",
    "vouchers": "兑换券 / Vouchers",
    "audit_entries": "工作人员操作记录 / Staff actions about you",
}


def to_html(data: dict[str, Any]) -> str:
    """Every section of the export as a table; every value escaped."""
    parts = [
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>",
        "<title>我的个人信息 / My personal data</title>",
        "<style>table{border-collapse:collapse;margin-bottom:2em}td,th{border:1px solid #999;"
        "padding:2px 6px;font:13px sans-serif;vertical-align:top}</style></head><body>",
        "<h1>我的个人信息 / My personal data</h1>",
    ]
    for key, value in data.items():
        parts.append(f"<h2>{escape(TITLES.get(key, key))}</h2>")
        parts.append(_table(value if isinstance(value, list) else [value]))
    parts.append("</body></html>")
    return "\n".join(parts)


def _table(items: list[Any]) -> str:
    """A list of records as a table with one column per field."""
    if not items:
        return "<p>无 / none</p>"
    columns = list(dict.fromkeys(k for item in items for k in item))
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(_text(item.get(c)))}</td>" for c in columns) + "</tr>"
        for item in items
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _text(value: Any) -> str:
    """A cell's text: nested values as compact key=value lists."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return "; ".join(f"{k}={_text(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    return str(value)
