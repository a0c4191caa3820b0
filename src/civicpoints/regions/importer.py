"""Checking a city's region tree and organizations from CSV files, before anything is written.

Pure: the files' text and a snapshot of what the database holds go in; a plan (what to create,
what to rename) or every problem found, each with its line, comes out. The service applies a
plan (`RegionService.apply_regions` / `apply_organizations`); the CLI reads the files.

What an import may change: it creates what is new and renames (name, name_en) what exists. It
never deletes, and never moves a region to another parent or level, nor an organization to
another region, kind or department: grants, residents and activities hang off those, so such a
row is refused and the file is not applied.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from civicpoints.regions.models import Department, Level, OrgKind

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 50_000
NAME_MAX = 100
REGION_CODE = re.compile(r"^[0-9A-Za-z]{1,16}$")
ORG_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
PARENT_LEVEL = {
    Level.DISTRICT: Level.CITY,
    Level.STREET: Level.DISTRICT,
    Level.COMMUNITY: Level.STREET,
}
DEPTH = {Level.CITY: 0, Level.DISTRICT: 1, Level.STREET: 2, Level.COMMUNITY: 3}
REGION_COLUMNS = ("code", "name", "level", "parent_code")
REGION_OPTIONAL = ("name_en",)
ORG_COLUMNS = ("code", "name", "kind", "department", "region_code")
ORG_OPTIONAL = ("name_en",)
T = TypeVar("T")
E = TypeVar("E", OrgKind, Department)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the file, where it is, in both languages."""

    line: int
    column: str
    zh: str
    en: str

    def __str__(self) -> str:
        where = f"第 {self.line} 行 line {self.line}" if self.line else "文件 file"
        if self.column:
            where += f", 列 column {self.column}"
        return f"{where}: {self.zh} / {self.en}"


class Rejected(Exception):
    """The file has problems; nothing may be written."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s)")


@dataclass(frozen=True)
class RegionRow:
    """A region as the file (or the database) describes it."""

    code: str
    name: str
    name_en: str
    level: Level
    parent_code: str


@dataclass(frozen=True)
class OrgRow:
    """An organization as the file (or the database) describes it."""

    code: str
    name: str
    name_en: str
    kind: OrgKind
    department: Department
    region_code: str


@dataclass
class Plan(Generic[T]):
    """What applying a file does: create these, rename those; the rest is already so."""

    create: list[T] = field(default_factory=list)
    rename: list[T] = field(default_factory=list)
    unchanged: int = 0

    @property
    def changes(self) -> int:
        """How many rows would be written."""
        return len(self.create) + len(self.rename)


def decode(data: bytes) -> str:
    """The text of a UTF-8 file (a BOM, as Excel writes, is dropped), or Rejected."""
    if len(data) > MAX_BYTES:
        raise Rejected([_file(f"文件超过 {MAX_BYTES} 字节", f"the file exceeds {MAX_BYTES} bytes")])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Rejected(
            [
                _file(
                    f"文件不是 UTF-8 编码（第 {exc.start} 字节）；请在 Excel 中另存为“CSV UTF-8”",
                    f"the file is not UTF-8 (byte {exc.start}); save it as 'CSV UTF-8' in Excel",
                )
            ]
        ) from None


def _rows(
    text: str, required: tuple[str, ...], optional: tuple[str, ...]
) -> list[tuple[int, dict[str, str]]]:
    """(line, cells) for each non-blank row under a header holding every required column."""
    try:
        table = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise Rejected([_file(f"CSV 格式错误：{exc}", f"malformed CSV: {exc}")]) from None
    if not table:
        raise Rejected([_file("文件为空", "the file is empty")])
    header = [h.strip() for h in table[0]]
    missing = [c for c in required if c not in header]
    unknown = [h for h in header if h not in required + optional]
    problems = [Problem(1, c, "缺少此列", "this column is missing") for c in missing]
    problems += [Problem(1, h[:40], "未知的列", "unknown column") for h in unknown]
    dups = {h for h in header if header.count(h) > 1}
    problems += [Problem(1, h, "列名重复", "duplicate column") for h in sorted(dups)]
    if problems:
        raise Rejected(problems)
    body = [(i, r) for i, r in enumerate(table[1:], start=2) if any(c.strip() for c in r)]
    if not body:
        raise Rejected([_file("文件没有数据行", "the file has no data rows")])
    if len(body) > MAX_ROWS:
        raise Rejected([_file(f"数据行超过 {MAX_ROWS} 行", f"more than {MAX_ROWS} data rows")])
    out: list[tuple[int, dict[str, str]]] = []
    for line, cells in body:
        if len(cells) != len(header):
            problems.append(
                Problem(
                    line,
                    "",
                    f"应有 {len(header)} 列，实有 {len(cells)} 列",
                    f"expected {len(header)} cells, found {len(cells)}",
                )
            )
            continue
        out.append((line, {h: c.strip() for h, c in zip(header, cells, strict=True)}))
    if problems:
        raise Rejected(problems)
    return out


def _name_problems(line: int, cells: Mapping[str, str]) -> list[Problem]:
    problems = []
    if not cells["name"]:
        problems.append(Problem(line, "name", "名称不能为空", "the name is empty"))
    for col in ("name", "name_en"):
        value = cells.get(col, "")
        if len(value) > NAME_MAX:
            problems.append(
                Problem(line, col, f"超过 {NAME_MAX} 个字符", f"longer than {NAME_MAX} characters")
            )
        if any(ord(ch) < 32 for ch in value):
            problems.append(Problem(line, col, "含有控制字符", "holds control characters"))
    return problems


def plan_regions(text: str, existing: Mapping[str, RegionRow]) -> Plan[RegionRow]:
    """The regions to create and rename, parents first, or Rejected listing every problem."""
    problems: list[Problem] = []
    rows: dict[str, tuple[int, RegionRow]] = {}
    for line, cells in _rows(text, REGION_COLUMNS, REGION_OPTIONAL):
        found = _name_problems(line, cells)
        code, parent = cells["code"], cells["parent_code"]
        if not REGION_CODE.match(code):
            found.append(
                Problem(line, "code", "代码须为 1-16 位字母或数字", "1-16 letters or digits")
            )
        elif code in rows:
            first = rows[code][0]
            found.append(
                Problem(
                    line,
                    "code",
                    f"代码 {code} 与第 {first} 行重复",
                    f"code {code} repeats line {first}",
                )
            )
        try:
            level = Level(cells["level"])
        except ValueError:
            found.append(
                Problem(
                    line,
                    "level",
                    "层级须为 city、district、street 或 community",
                    "level must be city, district, street or community",
                )
            )
            level = None
        if parent and parent == code:
            found.append(
                Problem(line, "parent_code", "上级不能是自己", "a region cannot be its own parent")
            )
        problems += found
        if not found and level is not None:
            rows[code] = (
                line,
                RegionRow(code, cells["name"], cells.get("name_en", ""), level, parent),
            )
    problems += _tree_problems(rows, existing)
    if problems:
        raise Rejected(sorted(problems, key=lambda p: p.line))
    plan: Plan[RegionRow] = Plan()
    for _, row in sorted(rows.values(), key=lambda lr: (DEPTH[lr[1].level], lr[0])):
        old = existing.get(row.code)
        if old is None:
            plan.create.append(row)
        elif (old.name, old.name_en) != (row.name, row.name_en):
            plan.rename.append(row)
        else:
            plan.unchanged += 1
    return plan


def _tree_problems(
    rows: Mapping[str, tuple[int, RegionRow]], existing: Mapping[str, RegionRow]
) -> list[Problem]:
    """Parents exist at the level above; one city; existing regions are not moved."""
    problems: list[Problem] = []

    def level_of(code: str) -> Level | None:
        if code in rows:
            return rows[code][1].level
        return existing[code].level if code in existing else None

    cities = {c for c, r in existing.items() if r.level == Level.CITY}
    cities |= {c for c, (_, r) in rows.items() if r.level == Level.CITY}
    for code, (line, row) in rows.items():
        old = existing.get(code)
        if old is not None and (old.level, old.parent_code) != (row.level, row.parent_code):
            problems.append(
                Problem(
                    line,
                    "level" if old.level != row.level else "parent_code",
                    f"已有地区 {code} 是 {old.level}（上级 {old.parent_code or '无'}），"
                    "导入不移动地区",
                    f"region {code} exists as a {old.level} under "
                    f"{old.parent_code or 'nothing'}; an import never moves a region",
                )
            )
            continue
        if row.level == Level.CITY:
            if row.parent_code:
                problems.append(
                    Problem(line, "parent_code", "市没有上级", "a city has no parent_code")
                )
            if len(cities) > 1:
                problems.append(
                    Problem(
                        line,
                        "level",
                        f"只能有一个市（已有 {', '.join(sorted(cities))}）",
                        f"there is one city only (found {', '.join(sorted(cities))})",
                    )
                )
            continue
        want = PARENT_LEVEL[row.level]
        if not row.parent_code:
            problems.append(
                Problem(line, "parent_code", f"须填写上级（{want}）", f"needs a parent ({want})")
            )
            continue
        got = level_of(row.parent_code)
        if got is None:
            problems.append(
                Problem(
                    line,
                    "parent_code",
                    f"上级 {row.parent_code} 不在文件和数据库中",
                    f"parent {row.parent_code} is neither in the file nor in the database",
                )
            )
        elif got != want:
            problems.append(
                Problem(
                    line,
                    "parent_code",
                    f"{row.level} 的上级须是 {want}，{row.parent_code} 是 {got}",
                    f"a {row.level}'s parent must be a {want}; {row.parent_code} is a {got}",
                )
            )
    return problems


def plan_organizations(
    text: str, existing: Mapping[str, OrgRow], region_codes: set[str]
) -> Plan[OrgRow]:
    """The organizations to create and rename, or Rejected listing every problem."""
    problems: list[Problem] = []
    rows: dict[str, tuple[int, OrgRow]] = {}
    for line, cells in _rows(text, ORG_COLUMNS, ORG_OPTIONAL):
        found = _name_problems(line, cells)
        code = cells["code"]
        if not ORG_CODE.match(code):
            found.append(
                Problem(
                    line,
                    "code",
                    "代码须为 1-32 位字母、数字或 _ . -",
                    "1-32 letters, digits or _ . -",
                )
            )
        elif code in rows:
            first = rows[code][0]
            found.append(
                Problem(
                    line,
                    "code",
                    f"代码 {code} 与第 {first} 行重复",
                    f"code {code} repeats line {first}",
                )
            )
        kind = _choice(OrgKind, cells["kind"], line, "kind", found)
        department = _choice(Department, cells["department"], line, "department", found)
        if cells["region_code"] not in region_codes:
            found.append(
                Problem(
                    line,
                    "region_code",
                    f"地区 {cells['region_code'][:20]} 不存在（先导入地区）",
                    f"region {cells['region_code'][:20]} does not exist (import regions first)",
                )
            )
        problems += found
        if not found and kind is not None and department is not None:
            row = OrgRow(
                code,
                cells["name"],
                cells.get("name_en", ""),
                kind,
                department,
                cells["region_code"],
            )
            old = existing.get(code)
            fixed = (row.kind, row.department, row.region_code)
            if old is not None and (old.kind, old.department, old.region_code) != fixed:
                problems.append(
                    Problem(
                        line,
                        "code",
                        f"已有组织 {code} 的类型、条线或地区不同；导入只改名称",
                        f"organization {code} exists with another kind, department or "
                        "region; an import only renames",
                    )
                )
                continue
            rows[code] = (line, row)
    if problems:
        raise Rejected(sorted(problems, key=lambda p: p.line))
    plan: Plan[OrgRow] = Plan()
    for _, row in sorted(rows.values(), key=lambda lr: lr[0]):
        old = existing.get(row.code)
        if old is None:
            plan.create.append(row)
        elif (old.name, old.name_en) != (row.name, row.name_en):
            plan.rename.append(row)
        else:
            plan.unchanged += 1
    return plan


def _choice(enum: type[E], value: str, line: int, column: str, problems: list[Problem]) -> E | None:
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(e.value for e in enum)
        problems.append(Problem(line, column, f"须为 {allowed} 之一", f"must be one of {allowed}"))
        return None


def _file(zh: str, en: str) -> Problem:
    return Problem(0, "", zh, en)
