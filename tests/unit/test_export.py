"""kit/export: the OWASP CSV-injection rule, cell by cell."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from civicpoints.kit.export import csv_bytes, inert, xlsx_bytes


def test_formula_like_text_is_quoted_and_the_rest_is_kept() -> None:
    """= + - @ tab CR lead to a quote; other text, numbers and empty cells are unchanged."""
    for text in ("=1+1", "+1", "-2", "@SUM(A1)", "\t=1", "\r=1"):
        assert inert(text) == "'" + text
    for value in ("张三", " =1", "a=b", "", "'x", -2, 0, None):
        assert inert(value) == value
    rows = list(csv.reader(io.StringIO(csv_bytes([["=1", -2, "ok"]]).decode("utf-8-sig"))))
    assert rows == [["'=1", "-2", "ok"]]


def test_xlsx_text_is_never_a_formula() -> None:
    """'=…' and '#N/A' stay text cells; numbers stay numbers."""
    data = xlsx_bytes([["=1+1", "#N/A", "@x", 7, -2, "名"]], "t", widths=(10, 12))
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    cells = list(sheet[1])
    assert [c.data_type for c in cells] == ["s", "s", "s", "n", "n", "s"]
    assert [c.value for c in cells] == ["=1+1", "#N/A", "@x", 7, -2, "名"]
    assert [bool(c.quotePrefix) for c in cells] == [True, False, True, False, False, False]
    assert sheet.column_dimensions["B"].width == 12
