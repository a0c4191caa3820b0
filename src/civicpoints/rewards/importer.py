"""Catalog import from CSV or JSON (`civicpoints rewards import FILE`): all rows or none.

CSV columns are `ItemCreate`'s fields, except `department` (an organization code) and
`regions` (region codes separated by `;`). An item whose code exists is updated instead.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from civicpoints.kit.clock import parse_local_datetime
from civicpoints.kit.errors import DomainError
from civicpoints.regions import RegionService
from civicpoints.rewards.catalog import CatalogService
from civicpoints.rewards.errors import ImportRejected, InvalidItem, UnknownCode
from civicpoints.rewards.schemas import ItemCreate, ItemUpdate

UPDATABLE = set(ItemUpdate.model_fields)


@dataclass(frozen=True)
class ImportReport:
    """How many items were created and updated."""

    created: int
    updated: int


def read_rows(name: str, data: bytes) -> list[dict[str, Any]]:
    """Rows of a .json (a list of objects) or CSV file (UTF-8, with or without BOM, or GB18030)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("gb18030")
    if name.lower().endswith(".json"):
        rows = json.loads(text)
        if not isinstance(rows, list):
            raise ImportRejected(
                [_problem(1, "file", "应为对象列表", "expected a list of objects")]
            )
        return [dict(r) for r in rows]
    reader = csv.DictReader(io.StringIO(text, newline=""))
    return [{k: v for k, v in row.items() if v not in ("", None)} for row in reader]


class CatalogImporter:
    """Create or update catalog items from rows, refusing the whole file on any bad row."""

    def __init__(self, session: Session) -> None:
        self.catalog = CatalogService(session)
        regions = RegionService(session)
        self.regions = {r.code: r.id for r in regions.tree()}
        self.orgs = {o.code: o.id for o in regions.organizations()}

    def run(self, rows: list[dict[str, Any]]) -> ImportReport:
        """Apply every row; raise ImportRejected naming each bad line and field."""
        created = updated = 0
        errors: list[dict[str, Any]] = []
        for line, row in enumerate(rows, start=2):
            try:
                data = self._item(row)
                existing = self.catalog.item_by_code(data.code)
                if existing is None:
                    self.catalog.create_item(data)
                    created += 1
                else:
                    change = ItemUpdate(**data.model_dump(include=UPDATABLE))
                    self.catalog.update_item(existing.id, change)
                    updated += 1
            except ValidationError as exc:
                errors += [
                    _problem(line, ".".join(map(str, e["loc"])), e["msg"], e["msg"])
                    for e in exc.errors()
                ]
            except DomainError as exc:
                errors.append(_problem(line, exc.field, exc.message("zh-CN"), exc.message("en")))
        if errors:
            raise ImportRejected(errors)
        return ImportReport(created, updated)

    def _item(self, row: dict[str, Any]) -> ItemCreate:
        """An ItemCreate from one row, codes resolved to ids."""
        values = dict(row)
        for key in ("valid_from", "valid_until"):  # without an offset: Beijing time
            if isinstance(values.get(key), str):
                values[key] = _when(values[key], key)
        department = values.pop("department", None)
        if department is not None:
            values["department_id"] = self._lookup(self.orgs, department, "department")
        regions = values.pop("regions", None)
        if isinstance(regions, str):
            regions = [c.strip() for c in regions.split(";") if c.strip()]
        if regions:
            values["region_ids"] = [self._lookup(self.regions, c, "regions") for c in regions]
        return ItemCreate(**values)

    @staticmethod
    def _lookup(table: dict[str, Any], code: str, field: str) -> Any:
        """An id by code, or an error naming the column."""
        if code not in table:
            raise UnknownCode(field=field, ref=code)
        return table[code]


def _when(text: str, field: str) -> datetime:
    """A time cell (Beijing time unless it has an offset), or an error naming the column."""
    try:
        return parse_local_datetime(text)
    except ValueError:
        raise InvalidItem(
            field=field,
            reason_zh=f"时间“{text}”无法识别，应写作 2026-12-01 08:00（北京时间）",
            reason_en=f"cannot read the time '{text}': write it like 2026-12-01 08:00",
        ) from None


def _problem(line: int, field: str | None, zh: str, en: str) -> dict[str, Any]:
    """One bad cell of the file."""
    return {"line": line, "field": field, "message_zh": zh, "message_en": en}
