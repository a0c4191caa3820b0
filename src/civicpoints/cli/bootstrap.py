"""A new city's first-time setup (首次初始化): its region tree, organizations, first administrator.

`regions import`, `organizations import` and `staff create-admin` are what a production install
needs before anyone can sign in; everything after (rules, catalog, sponsors, other staff) is
done by that administrator in the web app (docs/operations.md, "First-time setup").

Each command checks everything before it writes, writes in one transaction, and records an
audit row (actor "system": the operator at the console). Nothing here prints or logs a password.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.identity import StaffCreate
from civicpoints.kit.db import sessions_of, transaction
from civicpoints.kit.settings import get_settings
from civicpoints.regions import Problem

regions_app = typer.Typer(
    help="地区树（首次初始化）/ the region tree (first-time setup)", no_args_is_help=True
)
organizations_app = typer.Typer(
    help="部门与居委会 / departments and committees", no_args_is_help=True
)
staff_app = typer.Typer(
    help="工作人员：首位管理员 / staff: the first administrator", no_args_is_help=True
)
console = Console()
SHOWN_PROBLEMS = 20
PASSWORD_MAX = 128


def _say(text: str) -> None:
    """Print as written: no markup, no wrapping (a script reads the lines)."""
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def _stop(text: str, code: int = 1) -> NoReturn:
    _say(f"✗ {text}")
    raise typer.Exit(code)


def _sessions() -> sessionmaker[Session]:
    return sessions_of(get_settings())


def _read(file: Path) -> str:
    """The file's text (UTF-8, BOM or not), bounded; exit 2 if it cannot be read, 1 if refused."""
    from civicpoints.regions import MAX_BYTES, Rejected, decode

    try:
        with file.open("rb") as f:
            data = f.read(MAX_BYTES + 1)
    except OSError as exc:
        _stop(
            f"无法读取文件 {file}（{exc.strerror}）/ cannot read the file {file} ({exc.strerror})",
            2,
        )
    try:
        return decode(data)
    except Rejected as exc:
        _refused(exc.problems)


def _refused(problems: list[Problem]) -> NoReturn:
    """List the first problems, say nothing was written, exit 1."""
    _say(
        f"✗ 文件有 {len(problems)} 处错误，未写入任何数据 / "
        f"{len(problems)} problem(s): nothing written"
    )
    for p in problems[:SHOWN_PROBLEMS]:
        _say(f"  {p}")
    if len(problems) > SHOWN_PROBLEMS:
        more = len(problems) - SHOWN_PROBLEMS
        _say(f"  … 另有 {more} 处 / and {more} more")
    raise typer.Exit(1)


def _audit(s: Session, action: str, targets: tuple[str, ...] = ()) -> None:
    from civicpoints.audit import AuditFacts, AuditService

    AuditService(s).record(AuditFacts("system", None, action, path="cli", targets=targets))


def _outcome(what: str, created: int, renamed: int, unchanged: int, dry_run: bool) -> None:
    if created == renamed == 0:
        _say(f"无变化 / nothing to change: {unchanged} {what} already as in the file")
        return
    verb = "将" if dry_run else "已"
    tail = " (--dry-run: 未写入 / nothing written)" if dry_run else ""
    _say(
        f"{verb}新增 created {created}, {verb}改名 renamed {renamed}, "
        f"不变 unchanged {unchanged} {what}{tail}"
    )


@regions_app.command("import")
def regions_import(
    file: Path,
    dry_run: bool = typer.Option(False, "--dry-run", help="check and show, write nothing"),
) -> None:
    """Create the region tree from a CSV file: code,name,level,parent_code[,name_en].

    level: city | district | street | community. All rows or none; re-importing the same
    file changes nothing; a changed name is updated; a region is never deleted or moved.
    Exit 0: done (or nothing to do); 1: the file was refused, nothing written; 2: unreadable.
    """
    from civicpoints.regions import RegionService, Rejected, plan_regions

    text = _read(file)
    with transaction(_sessions()) as s:
        regions = RegionService(s)
        try:
            plan = plan_regions(text, regions.region_rows())
        except Rejected as exc:
            _refused(exc.problems)
        for row in plan.create:
            _say(f"  + {row.level} {row.code} {row.name}")
        for row in plan.rename:
            _say(f"  ~ {row.level} {row.code} → {row.name}")
        if not dry_run and plan.changes:
            regions.apply_regions(plan)
            _audit(
                s,
                "cli.regions_import",
                (f"created={len(plan.create)}", f"renamed={len(plan.rename)}"),
            )
    _outcome("regions", len(plan.create), len(plan.rename), plan.unchanged, dry_run)


@organizations_app.command("import")
def organizations_import(
    file: Path,
    dry_run: bool = typer.Option(False, "--dry-run", help="check and show, write nothing"),
) -> None:
    """Create departments and committees from a CSV file.

    Columns: code,name,kind,department,region_code[,name_en].

    kind: department | committee; department: civil_affairs | public_security | environment |
    education | community; region_code: a region already imported. Same rules as regions.
    """
    from civicpoints.regions import RegionService, Rejected, plan_organizations

    text = _read(file)
    with transaction(_sessions()) as s:
        regions = RegionService(s)
        try:
            plan = plan_organizations(text, regions.organization_rows(), set(regions.region_rows()))
        except Rejected as exc:
            _refused(exc.problems)
        for row in plan.create:
            _say(f"  + {row.kind} {row.code} {row.name}")
        for row in plan.rename:
            _say(f"  ~ {row.kind} {row.code} → {row.name}")
        if not dry_run and plan.changes:
            regions.apply_organizations(plan)
            _audit(
                s,
                "cli.organizations_import",
                (f"created={len(plan.create)}", f"renamed={len(plan.rename)}"),
            )
    _outcome("organizations", len(plan.create), len(plan.rename), plan.unchanged, dry_run)


def _password(from_stdin: bool) -> str:
    """The new password: one line of stdin, or typed twice at a hidden prompt."""
    if from_stdin:
        line = sys.stdin.readline(PASSWORD_MAX + 2).rstrip("\r\n")
        if not line:
            _stop("标准输入没有密码 / no password on standard input", 2)
        return line
    return str(
        typer.prompt("密码 / password", hide_input=True, confirmation_prompt="再输入一次 / repeat")
    )


def _valid(
    schema: type[StaffCreate], username: str, display_name: str, password: str
) -> StaffCreate:
    """The account through the web form's schema; exit 2 naming the bad fields (not values)."""
    from pydantic import ValidationError

    try:
        return schema(username=username, display_name=display_name, password=password)
    except ValidationError as exc:
        fields = ", ".join(sorted({str(e["loc"][0]) for e in exc.errors()}))
        _stop(
            f"输入无效：{fields}（用户名 3-64 位字母、数字或 _ . -）/ invalid: {fields} "
            "(user name: 3-64 letters, digits or _ . -)",
            2,
        )


@staff_app.command("create-admin")
def create_admin(
    username: str,
    display_name: str = typer.Option(..., "--display-name", help="姓名或岗位 / name shown"),
    region: str = typer.Option(
        ..., "--region", help="code of the region administered (the city's for a city-wide admin)"
    ),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="read the password from the first line of stdin"
    ),
) -> None:
    """Create an administrator (role admin over REGION's subtree) who then signs in at /admin.

    Refused (exit 1, nothing written) if the user name exists, the region does not, or the
    password is weak. The password is never printed or logged.
    """
    from civicpoints.access import Role
    from civicpoints.identity import IdentityService
    from civicpoints.kit.context import build_context
    from civicpoints.kit.errors import DomainError
    from civicpoints.regions import RegionService

    settings = get_settings()
    sessions = _sessions()
    with transaction(sessions) as s:  # refuse before asking for a password
        if IdentityService(s, build_context(settings)).staff_by_username(username) is not None:
            _stop(
                f"用户名“{username}”已存在，未做任何更改 / "
                f"the user name '{username}' exists: nothing written"
            )
        try:
            where = RegionService(s).by_code(region)
        except DomainError:
            _stop(
                f"地区 {region} 不存在（先导入地区）/ "
                f"region {region} does not exist (import regions first)"
            )
    _valid(StaffCreate, username, display_name, "-")  # the names, before the password
    data = _valid(StaffCreate, username, display_name, _password(password_stdin))
    try:
        with transaction(sessions) as s:
            identity = IdentityService(s, build_context(settings))
            if identity.staff_by_username(data.username) is not None:
                _stop(
                    f"用户名“{username}”已存在 / the user name '{username}' exists: nothing written"
                )
            staff = identity.add_staff(data.username, data.display_name, data.password)
            identity.grant(staff, Role.ADMIN, region_id=where.id)
            _audit(s, "cli.staff_create_admin", (str(staff.id), f"region={where.code}"))
    except DomainError as exc:
        _stop(f"{exc.message('zh-CN')} / {exc.message('en')}（未写入 / nothing written）")
    _say(
        f"✓ 已创建管理员 {data.username}（{where.name} 及下辖）/ administrator {data.username} "
        f"created over {where.code} {where.name_en or where.name}; sign in at /admin"
    )
