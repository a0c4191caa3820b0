"""The annual report as XLSX: one sheet, every numbered figure on its own row with its
value as a number (or "<10"/"x"), unit and source; the tables and the charts' data below."""

from __future__ import annotations

from civicpoints.insights.report_layout import (
    PATTERNS,
    SOURCES,
    Chart,
    Figure,
    Layout,
    Note,
    Table,
)
from civicpoints.kit.export import Row, xlsx_bytes

HEADER = ("编号 Id", "指标 Figure", "数值 Value", "单位 Unit", "来源 Source")
WIDTHS = (10, 44, 18, 10, 70)


def _source(fid: str) -> str:
    if fid in SOURCES:
        return SOURCES[fid][2]
    key = "B5" if fid.startswith("B5") else fid[0]
    return PATTERNS.get(key, ("", "", ""))[2]


def rows(lay: Layout) -> list[Row]:
    """The sheet's rows, section by section."""
    out: list[Row] = [(lay.title,), *((line,) for line in lay.subtitle), ()]
    for section in lay.sections:
        out += [(section.title,), HEADER]
        for b in section.blocks:
            if isinstance(b, Figure):
                label = b.label + (f" ({SOURCES[b.id][1]})" if b.id in SOURCES else "")
                out.append((b.id, label, b.value, b.unit, _source(b.id)))
            elif isinstance(b, Table):
                out += [(), (b.title,), tuple(b.header), *(tuple(r) for r in b.rows), ()]
            elif isinstance(b, Chart):
                out += [(), (f"图 {b.id} {b.title}",), ("", *b.labels)]
                out += [(name, *vs) for name, vs in b.series]
                out.append(())
            elif isinstance(b, Note):
                out.append(("", b.text))
        out.append(())
    return out


def report_xlsx(lay: Layout) -> bytes:
    """The workbook (text cells are never formulas: kit/export.py)."""
    return xlsx_bytes(rows(lay), "年度评估报告", WIDTHS)
