"""Reading an outcome CSV (pure): UTF-8 text, the header, bounded lines; every problem with
its line number in zh-CN and en. Checks that need the database are the service's."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass

MAX_BYTES = 1_048_576
MAX_LINES = 5_000
REQUIRED = ("indicator", "region", "month", "value", "source")
OPTIONAL = ("reason",)
MONTH = re.compile(r"^20[0-9]{2}-(0[1-9]|1[0-2])$")
LIMITS = {"indicator": 32, "region": 16, "month": 7, "value": 20, "source": 200, "reason": 200}


@dataclass(frozen=True)
class Problem:
    """One thing wrong, where it is, in both languages."""

    line: int
    field: str
    zh: str
    en: str

    def as_dict(self) -> dict[str, object]:
        """The problem as the API lists it."""
        zh = f"第 {self.line} 行：{self.zh}" if self.line else self.zh
        en = f"line {self.line}: {self.en}" if self.line else self.en
        return {"line": self.line, "field": self.field, "message": f"{zh} / {en}"}


@dataclass(frozen=True)
class Line:
    """A line's cells, stripped (reason: None when empty)."""

    line: int
    indicator: str
    region: str
    month: str
    value: str
    source: str
    reason: str | None


def read(data: bytes) -> tuple[list[Line], list[Problem]]:
    """The lines of the file and what is wrong with its form (size, encoding, header, lengths,
    months); nothing else is judged here."""
    if len(data) > MAX_BYTES:
        return [], [
            Problem(0, "file", f"文件超过 {MAX_BYTES} 字节", f"the file exceeds {MAX_BYTES} bytes")
        ]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [
            Problem(
                0,
                "file",
                "文件不是 UTF-8 编码；请另存为“CSV UTF-8”",
                "the file is not UTF-8; save it as 'CSV UTF-8'",
            )
        ]
    try:
        table = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        return [], [Problem(0, "file", f"CSV 格式错误：{exc}", f"malformed CSV: {exc}")]
    if not table or not set(REQUIRED) <= {h.strip().lower() for h in table[0]}:
        need = ", ".join(REQUIRED)
        return [], [
            Problem(
                1,
                "header",
                f"第一行须为列名：{need}",
                f"the first line must name the columns: {need}",
            )
        ]
    if len(table) - 1 > MAX_LINES:
        return [], [Problem(0, "file", f"最多 {MAX_LINES} 行", f"at most {MAX_LINES} lines")]
    header = [h.strip().lower() for h in table[0]]
    lines: list[Line] = []
    problems: list[Problem] = []
    for n, cells in enumerate(table[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        row = {h: (cells[i].strip() if i < len(cells) else "") for i, h in enumerate(header)}
        problems += _form(n, row)
        lines.append(
            Line(
                n,
                row["indicator"],
                row["region"],
                row["month"],
                row["value"],
                row["source"],
                row.get("reason") or None,
            )
        )
    return lines, problems


def _form(n: int, row: dict[str, str]) -> list[Problem]:
    """Empty required cells, overlong cells and malformed months of one line."""
    out: list[Problem] = []
    for name in REQUIRED:
        if not row.get(name):
            out.append(Problem(n, name, f"{name} 不能为空", f"{name} is empty"))
    for name, most in LIMITS.items():
        if len(row.get(name, "")) > most:
            out.append(
                Problem(
                    n,
                    name,
                    f"{name} 超过 {most} 个字符",
                    f"{name} is longer than {most} characters",
                )
            )
    for name, cell in row.items():
        if any(unicodedata.category(ch) == "Cc" for ch in cell):
            out.append(
                Problem(n, name, f"{name} 含有控制字符", f"{name} holds a control character")
            )
    if row.get("month") and not MONTH.match(row["month"]):
        out.append(Problem(n, "month", "月份格式应为 YYYY-MM", "the month must be YYYY-MM"))
    return out
