"""Deployment (deploy/, docs/operations.md "Deployment") without Docker: no engine runs here.

The container image's steps are run for real instead: deploy/build-venv.sh (the builder
stage's one command) builds a fresh virtual environment from this checkout; that install then
migrates a PostgreSQL database and serves in production mode as an unprivileged user (uid
65534) in a mount namespace whose root filesystem is read-only but for its var/ and /tmp, as
the image runs with `read_only: true`; nginx with deploy/nginx/civicpoints.conf stands in
front, and the image's HEALTHCHECK command probes it. `systemd-analyze verify` checks the units
against the install; structural checks of the Dockerfile, compose file and units come beside.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import yaml

from civicpoints.kit.settings import Settings

from ..conftest import pg_admin_url
from ..leakwatch import WATCH

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UV = str(Path(sys.executable).with_name("uv"))
PROJECT_CLI = str(Path(sys.executable).with_name("civicpoints"))
NOBODY = 65534
APP_PORT, HTTP_PORT, HTTPS_PORT, REFUSED_PORT = 8742, 8743, 8744, 8745
SITE = "lib/python3.11/site-packages/civicpoints"
DOCKERFILE_HEALTHCHECK = re.compile(r"^HEALTHCHECK [^\n]*\\\n\s*CMD (\[.*\])$", re.M)


def system_python() -> str:
    """A Python 3.11 that every user may run, as the image's /usr/local/bin/python3.11 (a venv
    of pyenv's interpreter under /root, mode 0700, cannot start processes as another user)."""
    for candidate in ("/usr/local/bin/python3.11", "/usr/bin/python3.11"):
        if os.access(candidate, os.X_OK) and not candidate.startswith("/root"):
            return candidate
    raise AssertionError(
        "需要系统 Python 3.11 / a system Python 3.11 is needed (apt-get install python3.11-venv)"
    )


def wait_for(url: str, timeout: float = 120, **kw: object) -> httpx.Response:
    """GET `url` until it answers (the server may still be importing on a busy host)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return httpx.get(url, timeout=5, **kw)  # type: ignore[arg-type]
        except httpx.TransportError:
            assert time.monotonic() < deadline, f"{url} never answered"
            time.sleep(0.3)


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def install() -> Iterator[Path]:
    """/opt/civicpoints as the image's builder stage makes it, in a fresh directory."""
    base = Path(tempfile.mkdtemp(prefix="cp_deploy_"))
    base.chmod(0o755)  # readable by the unprivileged user, writable by root only
    started = time.monotonic()
    done = subprocess.run(
        [str(DEPLOY / "build-venv.sh"), str(base / "opt")],
        cwd=ROOT,
        env={**os.environ, "UV": UV, "PYTHON": system_python()},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    print(f"deploy/build-venv.sh: {time.monotonic() - started:.1f} s")
    yield base / "opt"
    shutil.rmtree(base, ignore_errors=True)


def test_the_install_carries_templates_static_files_translations_and_migrations(
    install: Path,
) -> None:
    """Every file of the package that is not Python, and the migrations, are installed."""
    source = ROOT / "src" / "civicpoints"
    wanted = {
        p.relative_to(source)
        for p in source.rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts
    }
    assert any(p.suffix == ".html" for p in wanted) and any(p.suffix == ".po" for p in wanted)
    installed = install / SITE
    assert sorted(p for p in wanted if not (installed / p).is_file()) == []
    migrations = sorted(p.name for p in (ROOT / "migrations" / "versions").glob("*.py"))
    shipped = sorted(p.name for p in (installed / "migrations" / "versions").glob("*.py"))
    assert shipped == migrations and (installed / "migrations" / "env.py").is_file()
    # no development tools: the lock's dev extra stays out of a production install
    names = {p.name.split("-")[0].lower() for p in (install / SITE).parent.glob("*.dist-info")}
    assert "fastapi" in names and not names & {"pytest", "mypy", "ruff", "schemathesis"}
    # bytecode is compiled at install time: a read-only root cannot write __pycache__ later
    assert list((installed / "kit" / "__pycache__").glob("settings.*.pyc"))


def confined(var: Path, tmp: Path, *command: str) -> list[str]:
    """`command` as uid 65534 with / read-only except `var` and `tmp` (the image's volume and
    tmpfs), in a mount namespace of its own."""
    script = (
        'mount --make-rprivate / && mount --bind "$1" "$1" && mount --bind "$2" "$2" '
        '&& mount -o remount,ro,bind / && shift 2 && exec "$@"'
    )
    unprivileged = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    return ["unshare", "-m", "sh", "-c", script, "sh", str(var), str(tmp), *unprivileged, *command]


@pytest.fixture
def pg_database() -> Iterator[str]:
    """An empty PostgreSQL database of this test's own."""
    admin = pg_admin_url()
    name = f"cp_deploy_{os.getpid()}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    yield admin.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def nginx_config(work: Path, install: Path) -> Path:
    """deploy/nginx/civicpoints.conf as it is, but for the test's ports, paths and certificate
    (a self-signed one made here), inside a minimal nginx.conf."""
    tls = work / "tls"
    tls.mkdir()
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"),
            *("-keyout", str(tls / "privkey.pem"), "-out", str(tls / "fullchain.pem")),
        ],
        check=True,
        capture_output=True,
    )
    (work / "upstream.conf").write_text(
        (DEPLOY / "nginx" / "upstream.conf")
        .read_text()
        .replace("127.0.0.1:8000", f"127.0.0.1:{APP_PORT}")
    )
    site = (DEPLOY / "nginx" / "civicpoints.conf").read_text()
    for old, new in (
        ("/etc/nginx/civicpoints-upstream.conf", str(work / "upstream.conf")),
        ("/etc/nginx/tls/", f"{tls}/"),
        ("/var/log/nginx/", f"{work}/"),
        ("/opt/civicpoints/", f"{install}/"),
        ("listen 80;", f"listen 127.0.0.1:{HTTP_PORT};"),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{HTTPS_PORT} ssl http2;"),
        ("return 301 https://$host$request_uri;", f"return 301 https://$host:{HTTPS_PORT}$uri;"),
    ):
        assert old in site, old
        site = site.replace(old, new)
    site = re.sub(r"\n\s*listen \[::\]:\d+[^;]*;", "", site)
    (work / "site.conf").write_text(site)
    main = work / "nginx.conf"
    main.write_text(
        f"user nobody nogroup;\npid {work}/nginx.pid;\nerror_log {work}/error.log;\n"
        "events {}\n"
        f"http {{\n include /etc/nginx/mime.types;\n include {work}/site.conf;\n}}\n"
    )
    return main


@pytest.fixture
def work() -> Iterator[Path]:
    """A directory every user may enter (pytest's tmp_path is under a 0700 one), removed after."""
    path = Path(tempfile.mkdtemp(prefix="cp_deploy_run_"))
    path.chmod(0o755)
    yield path
    for log in sorted(path.rglob("*.log")):  # outside basetemp: the leak watch reads them here
        WATCH.scan_file(log, f"file {log.name}")
    shutil.rmtree(path, ignore_errors=True)


def test_the_install_serves_in_production_as_nobody_on_a_read_only_root_behind_nginx(
    install: Path, pg_database: str, work: Path
) -> None:
    """db upgrade, serve --workers 2 and worker from the fresh install, confined as the image
    runs; /healthz, /readyz, a page and a static file, then the same through nginx."""
    var, tmp, keys = work / "var", work / "tmp", work / "keys"
    var.mkdir()
    tmp.mkdir(mode=0o1777)
    tmp.chmod(0o1777)
    cli = str(install / "bin" / "civicpoints")
    init = ["keys", "init", "--signing-key-file", str(keys / "ledger.skey")]
    made = subprocess.run(
        [cli, *init, "--pii-keyring-file", str(keys / "pii.keyring")],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"], "HOME": str(work)},
    )
    assert made.returncode == 0, made.stdout + made.stderr
    for path in (var, keys, keys / "ledger.skey", keys / "pii.keyring"):
        os.chown(path, NOBODY, NOBODY)
    env = {
        "PATH": f"{install}/bin:/usr/bin:/bin",
        "HOME": str(var),
        "TMPDIR": str(tmp),
        "PYTHONUNBUFFERED": "1",
        "CIVICPOINTS_ENV": "production",
        "CIVICPOINTS_DATABASE_URL": pg_database,
        "CIVICPOINTS_IDENTITY_PROVIDER": "in_person",
        "CIVICPOINTS_LEDGER_KEY_FILE": str(keys / "ledger.skey"),
        "CIVICPOINTS_PII_KEYRING_FILE": str(keys / "pii.keyring"),
        "CIVICPOINTS_VAR_DIR": str(var),
        "CIVICPOINTS_LEDGER_BUCKETS": "4",
    }
    run: dict[str, Any] = {"cwd": var, "env": env, "capture_output": True, "text": True}
    # /tmp of the host is world-writable: only the read-only mount stops this write
    probe = f"/tmp/cp-deploy-probe-{os.getpid()}"
    proof = subprocess.run(
        confined(
            var, tmp, "sh", "-c", f'id -u; touch "$0/ok" "$1/ok"; touch {probe}', str(var), str(tmp)
        ),
        **run,
    )
    assert proof.stdout.split() == [str(NOBODY)], proof.stdout + proof.stderr
    assert "Read-only file system" in proof.stderr and not Path(probe).exists()
    assert (var / "ok").exists() and (tmp / "ok").exists()
    (var / "ok").unlink()
    upgraded = subprocess.run(confined(var, tmp, cli, "db", "upgrade"), timeout=300, **run)
    assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr

    serve_env = {**env, "CIVICPOINTS_BACKGROUND": "off"}
    log = (work / "serve.log").open("w")
    server = subprocess.Popen(
        confined(var, tmp, cli, "serve", "--port", str(APP_PORT), "--workers", "2"),
        cwd=var,
        env=serve_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    worker_log = (work / "worker.log").open("w")
    worker = subprocess.Popen(
        confined(var, tmp, cli, "worker"),
        cwd=var,
        env=env,
        stdout=worker_log,
        stderr=subprocess.STDOUT,
    )
    nginx = None
    try:
        base = f"http://127.0.0.1:{APP_PORT}"
        assert wait_for(f"{base}/healthz").json() == {"status": "alive"}
        ready = wait_for(f"{base}/readyz")
        assert ready.status_code == 200, ready.text
        assert set(ready.json()["checks"]) >= {"database", "migrations", "signing_key"}
        page = httpx.get(f"{base}/", follow_redirects=True, timeout=10)
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert re.search("[\u4e00-\u9fff]", page.text), "the page is in Chinese"
        js = "vendor/htmx/htmx.min.js"
        static = httpx.get(f"{base}/static/{js}", timeout=10)
        source = ROOT / "src" / "civicpoints" / "web" / "static" / js
        assert static.status_code == 200 and static.content == source.read_bytes()
        # the image's HEALTHCHECK command itself, with the installed Python, on this port
        found = DOCKERFILE_HEALTHCHECK.search((DEPLOY / "Dockerfile").read_text())
        assert found is not None
        check = json.loads(found[1])
        assert check[0] == "python" and ":8000/healthz" in check[2]
        probe_cmd = [str(install / "bin" / "python"), *check[1:]]
        probe_cmd[-1] = probe_cmd[-1].replace(":8000/", f":{APP_PORT}/")
        assert subprocess.run(probe_cmd, timeout=30).returncode == 0
        wrong = [*probe_cmd[:-1], probe_cmd[-1].replace("/healthz", "/no-such-page")]
        assert subprocess.run(wrong, timeout=30, capture_output=True).returncode != 0
        # the worker leads the background work with the production key (BACKGROUND=off above)
        deadline = time.monotonic() + 120
        while "worker started" not in (work / "worker.log").read_text():
            assert worker.poll() is None and time.monotonic() < deadline, (
                work / "worker.log"
            ).read_text()
            time.sleep(0.3)

        nginx = subprocess.Popen(
            ["nginx", "-c", str(nginx_config(work, install)), "-g", "daemon off;"],
            stderr=subprocess.PIPE,
            text=True,
        )
        through_nginx(work, source)
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.wait(timeout=30)
        worker.send_signal(signal.SIGTERM)
        server.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=90) == 0, (work / "worker.log").read_text()
        server.wait(timeout=90)
        log.close()
        worker_log.close()
    output = (work / "serve.log").read_text() + (work / "worker.log").read_text()
    assert "PRIVATE+KEY" not in output and "Traceback" not in output, output
    # the worker writes JSON lines in production, as serve does (the journal holds both)
    worker_lines = [line for line in (work / "worker.log").read_text().splitlines() if line]
    assert worker_lines and all(line.startswith("{") for line in worker_lines), worker_lines
    messages = [json.loads(line)["message"] for line in worker_lines]
    assert any("worker started" in m for m in messages), messages
    assert any("worker stopped" in m for m in messages), messages
    # only var/ was written: the uploads dir and nothing from the keys
    assert not list(keys.glob("*.tmp")) and sorted(p.name for p in keys.iterdir()) == [
        "ledger.skey",
        "pii.keyring",
    ]


def through_nginx(work: Path, static_source: Path) -> None:
    """HTTP→HTTPS, TLS with HSTS, static files from nginx itself, /metrics hidden, body limit,
    request ids passed through, and access lines without query strings or voucher codes."""
    https = f"https://127.0.0.1:{HTTPS_PORT}"
    cert = ssl.create_default_context(cafile=str(work / "tls" / "fullchain.pem"))
    wait_for(f"http://127.0.0.1:{HTTP_PORT}/", timeout=30)
    moved = httpx.get(f"http://127.0.0.1:{HTTP_PORT}/login?next=/x", timeout=10)
    assert moved.status_code == 301 and moved.headers["location"].startswith("https://")
    alive = httpx.get(f"{https}/healthz", verify=cert, headers={"X-Request-ID": "deploy-test-0001"})
    assert alive.status_code == 200 and alive.headers["x-request-id"] == "deploy-test-0001"
    assert "max-age=31536000" in alive.headers["strict-transport-security"]
    assert "server" not in alive.headers or "nginx/" not in alive.headers["server"]
    ready = httpx.get(f"{https}/readyz", verify=cert)
    assert ready.status_code == 200
    static = httpx.get(f"{https}/static/vendor/htmx/htmx.min.js", verify=cert)
    assert static.status_code == 200 and static.content == static_source.read_bytes()
    assert "max-age=2592000" in static.headers["cache-control"]
    assert "x-request-id" not in static.headers  # nginx answered it, not the app
    assert httpx.get(f"{https}/metrics", verify=cert).status_code == 404
    # the app saw https through X-Forwarded-Proto (it trusts 127.0.0.1): its cookies are Secure
    page = httpx.get(f"{https}/login", verify=cert)
    cookies = page.headers.get_list("set-cookie")
    assert page.status_code == 200 and cookies and all("Secure" in c for c in cookies), cookies
    big = httpx.post(f"{https}/api/v1/activities", verify=cert, content=b"x" * (12 << 20))
    assert big.status_code == 413
    secret = "tok3n-s3cret-value"
    httpx.get(f"{https}/api/v1/vouchers/ABCD-EFGH-JKLM/qr.png?access_token={secret}", verify=cert)
    time.sleep(0.5)
    access = (work / "civicpoints.access.log").read_text()
    print(access)
    assert secret not in access and "ABCD-EFGH-JKLM" not in access and "?" not in access
    assert "/api/v1/vouchers/[redacted]/qr.png" in access
    assert "127.0.0.0/24" in access and "127.0.0.1 " not in access
    assert "rid=deploy-test-0001" in access


def test_a_production_start_with_dev_settings_is_refused_before_it_listens(
    tmp_path: Path,
) -> None:
    """`civicpoints serve` and `worker` in production with a laptop's settings: exit 1 naming
    every variable in both languages, nothing listening, no key file made."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "CIVICPOINTS_ENV": "production",
        "CIVICPOINTS_VAR_DIR": str(tmp_path / "var"),
    }
    for command in (["serve", "--port", str(REFUSED_PORT)], ["worker"]):
        done = subprocess.run(
            [PROJECT_CLI, *command],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 1, done.stdout + done.stderr
        said = " ".join(done.stdout.split())
        assert "生产环境拒绝启动 / refusing to start in production" in said
        for variable in (
            "CIVICPOINTS_DATABASE_URL",
            "CIVICPOINTS_IDENTITY_PROVIDER",
            "CIVICPOINTS_PII_KEY",
            "CIVICPOINTS_LEDGER_KEY_FILE",
        ):
            assert variable in said, said
        assert "PostgreSQL" in said and "pii.key" in said and "Traceback" not in done.stderr
        assert not listening(REFUSED_PORT)
        assert not (tmp_path / "var" / "keys").exists() and not (tmp_path / "var").exists()


def test_keys_init_writes_private_keys_once_that_production_then_reads(tmp_path: Path) -> None:
    from civicpoints.kit.context import load_ring
    from civicpoints.ledger import log_signer

    skey, ring = tmp_path / "keys" / "ledger.skey", tmp_path / "keys" / "pii.keyring"
    # as the image runs it (its ENV): production, before any key or database exists
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "CIVICPOINTS_ENV": "production",
        "CIVICPOINTS_IDENTITY_PROVIDER": "in_person",
    }
    run: dict[str, Any] = {"cwd": tmp_path, "env": env, "capture_output": True, "text": True}
    cmd = [PROJECT_CLI, "keys", "init", "--signing-key-file", str(skey)]
    made = subprocess.run([*cmd, "--pii-keyring-file", str(ring)], **run)
    assert made.returncode == 0, made.stderr
    assert skey.stat().st_mode & 0o777 == 0o600 and ring.stat().st_mode & 0o777 == 0o600
    assert "PRIVATE+KEY" not in made.stdout and "vkey" in made.stdout
    before = skey.read_bytes(), ring.read_bytes()
    again = subprocess.run([*cmd, "--pii-keyring-file", str(ring)], **run)
    assert again.returncode == 1 and "never replaced" in " ".join(again.stdout.split())
    assert (skey.read_bytes(), ring.read_bytes()) == before
    neither = subprocess.run([PROJECT_CLI, "keys", "init"], **run)
    assert neither.returncode == 2
    prod = Settings(
        env="production",
        identity_provider="in_person",
        ledger_key_file=skey,
        pii_keyring_file=ring,
        var_dir=tmp_path / "var",
    )
    vkey = re.search(r"vkey: (\S+)", made.stdout)
    assert vkey and log_signer(prod).verifier.vkey() == vkey.group(1)
    assert load_ring(prod).current in made.stdout


# --- the files that Docker and systemd read: structural checks beside the real run above ----


def compose() -> dict:
    return dict(yaml.safe_load((DEPLOY / "compose.yaml").read_text()))


def test_compose_runs_migrations_first_read_only_non_root_with_a_worker() -> None:
    services = compose()["services"]
    assert services["db"]["image"].startswith("postgres:15")
    assert "healthcheck" in services["db"] and services["db"]["volumes"]
    migrate = services["migrate"]
    assert migrate["command"] == ["db", "upgrade"] and migrate["restart"] == "no"
    for name in ("app", "worker"):
        svc = services[name]
        assert svc["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
        assert svc["depends_on"]["db"] == {"condition": "service_healthy"}
    for name in ("migrate", "app", "worker"):
        svc = services[name]
        assert svc["read_only"] is True and svc["user"] == "10001:10001", name
        assert any(t.startswith("/tmp") for t in svc["tmpfs"]), name
        assert any(v.endswith(":/var/lib/civicpoints") for v in svc["volumes"]), name
        env = svc["environment"]
        assert env["CIVICPOINTS_ENV"] == "production"
        assert env["CIVICPOINTS_IDENTITY_PROVIDER"] != "dev"
        assert env["CIVICPOINTS_DATABASE_URL"].startswith("postgresql://")
        assert env["CIVICPOINTS_LEDGER_KEY_FILE"] == "/run/secrets/ledger.skey"
        assert env["CIVICPOINTS_PII_KEYRING_FILE"] == "/run/secrets/pii.keyring"
        assert {s["target"] for s in svc["secrets"]} == {"ledger.skey", "pii.keyring"}
    assert services["app"]["command"][:1] == ["serve"] and "--workers" in services["app"]["command"]
    assert services["app"]["environment"]["CIVICPOINTS_BACKGROUND"] == "off"
    assert services["worker"]["command"] == ["worker"]
    assert "CIVICPOINTS_BACKGROUND" not in services["worker"]["environment"]
    # nginx's fixed address is the one address the app believes forwarded headers from
    nginx = services["nginx"]
    address = nginx["networks"]["backend"]["ipv4_address"]
    assert services["app"]["environment"]["CIVICPOINTS_FORWARDED_ALLOW_IPS"] == address
    assert nginx["read_only"] is True and nginx["build"]["target"] == "nginx"
    assert {"80:80", "443:443"} == set(nginx["ports"])
    assert not any("ports" in services[n] for n in ("db", "app", "worker", "migrate"))
    assert compose()["secrets"]["ledger_skey"]["file"] == "./secrets/ledger.skey"
    grace = Settings().shutdown_grace_s
    for name in ("app", "worker"):
        assert int(services[name]["stop_grace_period"].rstrip("s")) > grace


def test_dockerfile_is_multi_stage_non_root_with_the_font_and_a_healthcheck() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+) AS (\w+)$", text, re.M)
    assert [s[1] for s in stages] == ["builder", "nginx", "runtime"]
    assert stages[0][0] == stages[2][0] == "${PYTHON_IMAGE}"
    assert "ARG PYTHON_IMAGE=python:3.11-slim-bookworm" in text
    runtime = text.split("AS runtime", 1)[1]
    assert "deploy/build-venv.sh /opt/civicpoints" in text.split("AS nginx", 1)[0]
    assert "COPY --from=builder /opt/civicpoints /opt/civicpoints" in runtime
    assert re.search(r"install -y --no-install-recommends fonts-noto-cjk\s", runtime)
    # `civicpoints backup` / `restore` run pg_dump, pg_restore and psql of the server's major
    postgres_major = re.search(r"image: postgres:(\d+)", (DEPLOY / "compose.yaml").read_text())
    assert postgres_major and f"postgresql-client-{postgres_major[1]}" in runtime
    assert not re.search(r"\b(gcc|build-essential|uv)\b", runtime.split("ENTRYPOINT")[0])
    [user] = re.findall(r"^USER (\S+)$", runtime, re.M)
    assert user == "10001:10001"
    assert re.search(r"^HEALTHCHECK .*\n.*/healthz", runtime, re.M)
    assert 'VOLUME ["/var/lib/civicpoints"]' in runtime
    assert (
        "CIVICPOINTS_ENV=production" in runtime
        and "CIVICPOINTS_VAR_DIR=/var/lib/civicpoints" in runtime
    )
    # the certificate PDFs look for the font where Debian's package puts it
    from civicpoints.kit.cjkfont import FONT_FILES

    assert str(FONT_FILES[0]).startswith("/usr/share/fonts/opentype/noto/")
    # the build context sends only what the builder copies
    ignore = (ROOT / ".dockerignore").read_text().split()
    copied = re.findall(r"^COPY (?!--from)(.+) \S+$", text, re.M)
    for line in copied:
        for item in line.split():
            assert f"!{item}" in ignore or f"!{item}/" in ignore, item


def test_systemd_units_upgrade_first_harden_and_outwait_the_grace_period() -> None:
    grace = Settings().shutdown_grace_s
    for name in ("civicpoints.service", "civicpoints-worker.service"):
        unit = (DEPLOY / "systemd" / name).read_text()
        keys = dict(
            line.split("=", 1) for line in unit.splitlines() if "=" in line and line[0] != "#"
        )
        assert keys["User"] == "civicpoints" and keys["NoNewPrivileges"] == "yes"
        assert keys["EnvironmentFile"] == "/etc/civicpoints/civicpoints.env"
        assert keys["ProtectSystem"] == "strict" and keys["PrivateTmp"] == "yes"
        assert keys["ReadWritePaths"] == "/var/lib/civicpoints"
        assert int(keys["TimeoutStopSec"]) > grace
        assert keys["ExecStart"].startswith("/opt/civicpoints/bin/civicpoints ")
    web = (DEPLOY / "systemd" / "civicpoints.service").read_text()
    assert "ExecStartPre=/opt/civicpoints/bin/civicpoints db upgrade" in web
    assert "Environment=CIVICPOINTS_BACKGROUND=off" in web
    assert "--host 127.0.0.1 --port 8000" in web  # where deploy/nginx/upstream.conf points
    assert "server 127.0.0.1:8000;" in (DEPLOY / "nginx" / "upstream.conf").read_text()
    # the nightly backup runs the same install, as the same user, with the same settings
    backup = (DEPLOY / "systemd" / "civicpoints-backup.service").read_text()
    lines = [line for line in backup.splitlines() if "=" in line and line[0] != "#"]
    keys = dict(line.split("=", 1) for line in lines)
    assert keys["User"] == "civicpoints" and keys["WorkingDirectory"] == "/var/lib/civicpoints"
    assert keys["EnvironmentFile"] == "/etc/civicpoints/civicpoints.env"
    assert keys["ExecStart"].startswith("/opt/civicpoints/bin/civicpoints backup --out ")
    assert "/var/lib/civicpoints" in keys["ReadWritePaths"].split()


def test_systemd_verifies_the_units_against_the_install(install: Path, tmp_path: Path) -> None:
    """`systemd-analyze verify`: every directive known, every command executable."""
    names = ("civicpoints.service", "civicpoints-worker.service", "civicpoints-backup.service")
    for name in (*names, "civicpoints-backup.timer"):
        unit = (DEPLOY / "systemd" / name).read_text().replace("/opt/civicpoints/", f"{install}/")
        (tmp_path / name).write_text(unit)
    for name in (*names, "civicpoints-backup.timer"):
        done = subprocess.run(
            ["systemd-analyze", "verify", str(tmp_path / name)], capture_output=True, text=True
        )
        assert done.returncode == 0 and not done.stderr.strip(), (name, done.stderr)


def test_nginx_body_limit_sits_just_above_the_apps_largest_body() -> None:
    """nginx lets through whatever the app would take, so the app answers its own 413s."""
    from civicpoints.kit.http import MULTIPART_SLACK

    conf = (DEPLOY / "nginx" / "civicpoints.conf").read_text()
    [size] = re.findall(r"client_max_body_size (\d+)m;", conf)
    settings = Settings()
    largest = max(settings.upload_max_bytes, settings.import_max_bytes * 2) + MULTIPART_SLACK
    assert largest <= int(size) << 20 <= largest + (1 << 20)
