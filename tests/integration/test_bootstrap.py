"""A new city's first-time setup: regions and organizations from CSV, the first administrator.

From an empty migrated database to a working city through the operator's commands only:
import the example files (re-import changes nothing), create the administrator, who signs in
to the real app and creates a community's staff member; a resident registers in a community
from the file. Every kind of bad file is refused with its line and writes nothing. The same
commands run in production mode (PostgreSQL, a PII key, the in-person provider).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner, Result

from civicpoints.audit import AuditEntry
from civicpoints.cli.main import app
from civicpoints.identity.models import Resident, RoleGrant, Staff
from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings, get_settings
from civicpoints.regions import MAX_BYTES, Organization, Region
from civicpoints.web.app import create_app
from tests.conftest import PII_KEY, pg_admin_url

from .conftest import id_number
from .pages import post_form, sign_in

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
REGIONS = DEPLOY / "regions.example.csv"
ORGS = DEPLOY / "organizations.example.csv"
CITY, STREET, COMMUNITY = "339900000000", "339902001000", "339902001001"
ADMIN_PASSWORD = "Qingxi-lotus#2026-river"
STAFF_PASSWORD = "Liuan-willow&2026-bridge"
PROJECT_CLI = str(Path(sys.executable).with_name("civicpoints"))


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """A runner whose commands use the test database and key."""
    monkeypatch.setenv("CIVICPOINTS_DATABASE_URL", settings.resolved_database_url())
    monkeypatch.setenv("CIVICPOINTS_PII_KEY", PII_KEY)
    monkeypatch.setenv("CIVICPOINTS_VAR_DIR", str(settings.var_dir))
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def said(result: Result) -> str:
    """The command's output on one line (rich may wrap)."""
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return " ".join(result.output.split())


def counts(sessions: sessionmaker[Session]) -> tuple[int, ...]:
    """Regions, organizations, staff, grants and audit rows: what a refusal must not change."""
    with transaction(sessions) as s:
        return tuple(
            s.scalar(select(func.count()).select_from(t)) or 0
            for t in (Region, Organization, Staff, RoleGrant, AuditEntry)
        )


def imported(cli: CliRunner, what: str, path: Path, *more: str) -> str:
    result = cli.invoke(app, [what, "import", str(path), *more])
    out = said(result)
    assert result.exit_code == 0, out
    return out


def test_a_new_city_from_its_files_to_an_admin_staff_and_a_resident(
    cli: CliRunner, settings: Settings, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    before = counts(sessions)
    dry = imported(cli, "regions", REGIONS, "--dry-run")
    assert "created 11" in dry and "nothing written" in dry and "+ city 339900000000 青溪市" in dry
    assert counts(sessions) == before
    assert "created 11" in imported(cli, "regions", REGIONS)
    again = imported(cli, "regions", REGIONS)
    assert "nothing to change: 11 regions" in again
    # the same file as Excel saves it ("CSV UTF-8": a BOM) is the same file
    bom = tmp_path / "excel.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + REGIONS.read_bytes().replace(b"\n", b"\r\n"))
    assert "nothing to change: 11 regions" in imported(cli, "regions", bom)
    assert "created 9" in imported(cli, "organizations", ORGS)
    assert "nothing to change: 9 organizations" in imported(cli, "organizations", ORGS)
    with transaction(sessions) as s:
        community = s.scalars(select(Region).where(Region.code == COMMUNITY)).one()
        assert community.path == f"{CITY}/339902000000/{STREET}/{COMMUNITY}/"
        assert community.level == "community" and community.name == "柳岸社区"
        committee = s.scalars(
            select(Organization).where(Organization.code == "JW" + COMMUNITY)
        ).one()
        assert committee.region_id == community.id and committee.kind == "committee"
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.actor_kind == "system"))
        assert sorted(actions) == ["cli.organizations_import", "cli.regions_import"]

    # a renamed community is renamed in place; nothing is deleted
    renamed = tmp_path / "renamed.csv"
    text = REGIONS.read_text(encoding="utf-8")
    renamed.write_text(text.replace("桥东社区,", "桥东新村社区,"), encoding="utf-8")
    assert "renamed 1" in imported(cli, "regions", renamed)
    short = tmp_path / "short.csv"
    short.write_text("\n".join(text.splitlines()[:4]) + "\n", encoding="utf-8")
    assert "nothing to change: 3 regions" in imported(cli, "regions", short)
    with transaction(sessions) as s:
        assert s.scalar(select(func.count()).select_from(Region)) == 11
        assert s.scalars(select(Region.name).where(Region.code == "339902001002")).one() == (
            "桥东新村社区"
        )

    # the first administrator: the password typed twice at a hidden prompt, never echoed
    made = cli.invoke(
        app,
        ["staff", "create-admin", "qx_admin", "--display-name", "青溪市民政局 管理员",
         "--region", CITY],
        input=f"{ADMIN_PASSWORD}\n{ADMIN_PASSWORD}\n",
    )  # fmt: skip
    out = said(made)
    assert made.exit_code == 0 and "qx_admin" in out and "/admin" in out, out
    assert ADMIN_PASSWORD not in made.output
    with transaction(sessions) as s:
        admin = s.scalars(select(Staff).where(Staff.username == "qx_admin")).one()
        grant = s.scalars(select(RoleGrant).where(RoleGrant.staff_id == admin.id)).one()
        city = s.scalars(select(Region).where(Region.code == CITY)).one()
        assert (grant.role, grant.region_id, grant.organization_id) == ("admin", city.id, None)
        assert admin.password_hash and admin.password_hash.startswith("$argon2id$")
        street_id = s.scalars(select(Region.id).where(Region.code == STREET)).one()
        community_id = s.scalars(select(Region.id).where(Region.code == COMMUNITY)).one()
        committee_id = s.scalars(
            select(Organization.id).where(Organization.code == "JW" + COMMUNITY)
        ).one()

    with TestClient(create_app(settings)) as client:
        sign_in(client, "qx_admin", ADMIN_PASSWORD)
        assert client.get("/admin").status_code == 200
        assert client.get("/admin/rules").status_code == 200  # the seed defaults in force
        r = post_form(
            client, "/admin/staff/new", "/admin/staff/new",
            username="liuan_verifier", display_name="柳岸社区 实名核验员 周核验",
            password=STAFF_PASSWORD, role="verifier", region_id=str(community_id),
            organization_id="",
        )  # fmt: skip
        assert r.status_code == 303, r.text
        page = client.get(r.headers["location"].split("?")[0]).text
        assert "柳岸社区" in page
        r = post_form(
            client, "/admin/staff/new", "/admin/staff/new",
            username="liuan_organizer", display_name="柳岸街道社工 陈社工",
            password=STAFF_PASSWORD, role="organizer", region_id=str(street_id),
            organization_id=str(committee_id),
        )  # fmt: skip
        assert r.status_code == 303, r.text
        client.cookies.clear()
        sign_in(client, "liuan_verifier", STAFF_PASSWORD)
        client.cookies.clear()
        # a resident registers in a community of the file, through the API
        regions = {r["code"]: r for r in client.get("/api/v1/regions").json()}
        assert regions[COMMUNITY]["level"] == "community"
        body = {
            "name": "周桂芳",
            "id_number": id_number(7),
            "phone": "13900007777",
            "password": "Willow-bank#1962-tea",
            "community_id": regions[COMMUNITY]["id"],
            "consent": True,
        }
        r = client.post("/api/v1/residents", json=body)
        assert r.status_code == 201, r.text
    with transaction(sessions) as s:
        resident = s.scalars(select(Resident)).one()
        assert resident.community_id == community_id


def test_create_admin_refuses_without_writing(
    cli: CliRunner, sessions: sessionmaker[Session]
) -> None:
    imported(cli, "regions", REGIONS)

    def create(username: str, password: str, region: str = CITY, name: str = "管理员") -> Result:
        return cli.invoke(
            app,
            ["staff", "create-admin", username, "--display-name", name, "--region", region,
             "--password-stdin"],
            input=password + "\n",
        )  # fmt: skip

    ok = create("qx_admin", ADMIN_PASSWORD)
    assert ok.exit_code == 0, ok.output
    before = counts(sessions)
    taken = create("qx_admin", "Another-strong#2026-pass")
    assert taken.exit_code == 1 and "已存在" in said(taken) and "exists" in said(taken)
    weak = create("qx_second", "12345678")
    assert weak.exit_code == 1 and "nothing written" in said(weak)
    personal = create("qx_third", "wangjianguo-2026!!", name="王建国")
    assert personal.exit_code == 1, personal.output
    nowhere = create("qx_fourth", ADMIN_PASSWORD, region="339999999999")
    assert nowhere.exit_code == 1 and "339999999999" in said(nowhere)
    bad_name = create("x", ADMIN_PASSWORD)
    assert bad_name.exit_code == 2 and "username" in said(bad_name)
    empty = create("qx_fifth", "")
    assert empty.exit_code == 2 and "no password" in said(empty)
    mismatch = cli.invoke(
        app,
        ["staff", "create-admin", "qx_sixth", "--display-name", "管理员", "--region", CITY],
        input=f"{ADMIN_PASSWORD}\nsomething-else\n",
    )
    assert mismatch.exit_code != 0
    for result in (taken, weak, personal, nowhere, bad_name, empty, mismatch):
        assert ADMIN_PASSWORD not in result.output and "12345678" not in result.output
    assert counts(sessions) == before


HEADER = "code,name,level,parent_code,name_en\n"
GOOD = HEADER + "339900000000,青溪市,city,,Qingxi\n339902000000,东湖区,district,339900000000,\n"
BAD_FILES: dict[str, tuple[str, list[str]]] = {
    "unknown level": (
        GOOD + "339902001000,柳岸街道,town,339902000000,\n",
        ["第 4 行", "column level", "level must be city, district, street or community"],
    ),
    "missing parent": (
        GOOD + "339902001000,柳岸街道,street,339902999000,\n",
        ["第 4 行", "parent 339902999000 is neither in the file nor in the database"],
    ),
    "wrong parent level": (
        GOOD + "339902001001,柳岸社区,community,339902000000,\n",
        ["第 4 行", "a community's parent must be a street; 339902000000 is a district"],
    ),
    "its own parent": (
        GOOD + "339902001000,柳岸街道,street,339902001000,\n",
        ["第 4 行", "a region cannot be its own parent"],
    ),
    "a cycle": (
        GOOD
        + "339902001000,柳岸街道,street,339902001001,\n"
        + "339902001001,柳岸社区,community,339902001000,\n",
        ["第 4 行", "a street's parent must be a district; 339902001001 is a community"],
    ),
    "duplicate code": (
        GOOD + "339902000000,西山区,district,339900000000,\n",
        ["第 4 行", "code 339902000000 repeats line 3"],
    ),
    "over-long name": (
        GOOD + f"339902001000,{'柳' * 101},street,339902000000,\n",
        ["第 4 行", "column name", "longer than 100 characters"],
    ),
    "empty name": (GOOD + "339902001000,,street,339902000000,\n", ["the name is empty"]),
    "bad code": (
        GOOD + "3399-02,柳岸街道,street,339902000000,\n",
        ["column code", "1-16 letters or digits"],
    ),
    "two cities": (GOOD + "339800000000,另一市,city,,\n", ["there is one city only"]),
    "missing column": ("code,name,level\n339900000000,青溪市,city\n", ["parent_code", "missing"]),
    "unknown column": (
        "code,name,level,parent_code,population\n339900000000,青溪市,city,,500000\n",
        ["population", "unknown column"],
    ),
    "short row": (GOOD + "339902001000,柳岸街道\n", ["第 4 行", "expected 5 cells, found 2"]),
    "not UTF-8": ("GB18030", ["not UTF-8", "CSV UTF-8"]),
    "no rows": (HEADER, ["no data rows"]),
    "too many rows": ("ROWS", ["more than 50000 data rows"]),
    "too large": ("LARGE", [f"exceeds {MAX_BYTES} bytes"]),
}


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_a_bad_region_file_is_refused_with_its_lines_and_writes_nothing(
    kind: str, cli: CliRunner, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    text, expected = BAD_FILES[kind]
    path = tmp_path / "regions.csv"
    if text == "GB18030":
        path.write_bytes(GOOD.encode("gb18030"))
    elif text == "ROWS":
        rows = (f"3399{i:08d},区{i},district,339900000000,\n" for i in range(50_000))
        path.write_text(GOOD + "".join(rows), encoding="utf-8")
    elif text == "LARGE":
        path.write_bytes(GOOD.encode() + b"#" * MAX_BYTES)
    else:
        path.write_text(text, encoding="utf-8")
    before = counts(sessions)
    result = cli.invoke(app, ["regions", "import", str(path)])
    out = said(result)
    assert result.exit_code == 1, out
    assert "未写入任何数据" in out and "nothing written" in out
    for words in expected:
        assert words in out, (kind, out)
    assert counts(sessions) == before


def test_an_import_never_moves_a_region_and_lists_at_most_twenty_problems(
    cli: CliRunner, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    imported(cli, "regions", REGIONS)
    before = counts(sessions)
    moved = tmp_path / "moved.csv"
    moved.write_text(HEADER + "339902001000,柳岸街道,street,339903000000,\n", encoding="utf-8")
    out = said(cli.invoke(app, ["regions", "import", str(moved)]))
    assert "an import never moves a region" in out and "导入不移动地区" in out
    many = tmp_path / "many.csv"
    many.write_text(
        HEADER + "".join(f"3399{i:08d},x,hamlet,,\n" for i in range(30)), encoding="utf-8"
    )
    result = cli.invoke(app, ["regions", "import", str(many)])
    out = said(result)
    assert result.exit_code == 1 and "30 problem(s)" in out and "and 10 more" in out
    assert out.count("column level") == 20
    orgs = tmp_path / "orgs.csv"
    orgs.write_text(
        "code,name,kind,department,region_code\n"
        "MZ,民政局,bureau,civil_affairs,339900000000\n"
        "GA,公安局,department,police,339900000000\n"
        "JY,教育局,department,education,339999999999\n",
        encoding="utf-8",
    )
    out = said(cli.invoke(app, ["organizations", "import", str(orgs)]))
    assert "第 2 行" in out and "column kind" in out and "column department" in out
    assert "region 339999999999 does not exist (import regions first)" in out
    assert counts(sessions) == before


@pytest.fixture
def production_db(pg_template: str) -> Iterator[str]:
    """An empty migrated PostgreSQL database of its own."""
    admin = pg_admin_url()
    name = f"cp_bootstrap_prod_{os.getpid()}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {pg_template}")
    yield admin.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_the_setup_commands_run_in_production(production_db: str, tmp_path: Path) -> None:
    """As the operator runs them: the installed command, production settings, no terminal."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "CIVICPOINTS_ENV": "production",
        "CIVICPOINTS_DATABASE_URL": production_db,
        "CIVICPOINTS_IDENTITY_PROVIDER": "in_person",
        "CIVICPOINTS_PII_KEY": PII_KEY,
        "CIVICPOINTS_VAR_DIR": str(tmp_path / "var"),
    }

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [PROJECT_CLI, *args], cwd=tmp_path, env=env, input=stdin, capture_output=True,
            text=True, timeout=120,
        )  # fmt: skip

    for what, path, n in (("regions", REGIONS, 11), ("organizations", ORGS, 9)):
        done = run(what, "import", str(path))
        assert done.returncode == 0 and f"created {n}" in done.stdout, done.stdout + done.stderr
    made = run(
        "staff", "create-admin", "qx_admin", "--display-name", "青溪市民政局 管理员",
        "--region", CITY, "--password-stdin", stdin=ADMIN_PASSWORD + "\n",
    )  # fmt: skip
    assert made.returncode == 0, made.stdout + made.stderr
    again = run(
        "staff", "create-admin", "qx_admin", "--display-name", "x", "--region", CITY,
        "--password-stdin", stdin=ADMIN_PASSWORD + "\n",
    )  # fmt: skip
    assert again.returncode == 1 and "exists" in again.stdout
    for p in (made, again):
        assert ADMIN_PASSWORD not in p.stdout + p.stderr
    assert not (tmp_path / "var" / "keys").exists()  # production generated no key
    with psycopg.connect(production_db) as conn:
        row = conn.execute(
            "SELECT g.role, r.code FROM identity_role_grant g "
            "JOIN identity_staff s ON s.id = g.staff_id "
            "JOIN region r ON r.id = g.region_id WHERE s.username = 'qx_admin'"
        ).fetchall()
    assert row == [("admin", CITY)]
