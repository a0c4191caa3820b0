"""Spreadsheet exports (CSV, XLSX) that never carry a live formula.

Names come from people (merchants, sponsors, items, residents): a cell such as
`=HYPERLINK("http://x","y")` or `@SUM(A1)` would run when an auditor opens the file. The OWASP
CSV-injection rule: a text cell starting with = + - @ tab or CR gets a leading single quote in
CSV; in XLSX every text cell is written as a string (never a formula) and such cells carry
Excel's own quote-prefix mark, so the text reads exactly as stored and stays text when edited.
Numbers stay numbers: a number is never a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")

Row = Sequence[object]


def looks_like_formula(value: object) -> bool:
    """Whether a spreadsheet could read this cell as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_LEADS)


def inert(value: object) -> object:
    """A CSV cell as written: formula-like text behind a single quote, the rest unchanged."""
    return "'" + str(value) if looks_like_formula(value) else value


def csv_bytes(rows: Iterable[Row]) -> bytes:
    """UTF-8 CSV with a BOM (so Excel reads Chinese headers right), every cell inert."""
    out = io.StringIO()
    csv.writer(out).writerows([inert(v) for v in row] for row in rows)
    return ("\ufeff" + out.getvalue()).encode()


def xlsx_bytes(
    rows: Iterable[Row], title: str, widths: Sequence[int] = (), freeze: str | None = None
) -> bytes:
    """An XLSX workbook of one sheet: text cells are strings, never formulas."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            cell = sheet.cell(row=r, column=c, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # openpyxl makes '=…' a formula and '#N/A' an error
                cell.quotePrefix = looks_like_formula(value)
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.freeze_panes = freeze
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
