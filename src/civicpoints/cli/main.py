"""The `civicpoints` command line: database, server, first-time setup, demo, imports, ledger,
rewards, jobs."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.cli.backup import backup, restore
from civicpoints.cli.bootstrap import organizations_app, regions_app, staff_app
from civicpoints.cli.keys import keys_app
from civicpoints.cli.ledger_verify import ledger_verify
from civicpoints.cli.privacy import audit_app, privacy_app
from civicpoints.kit.clock import local_date, start_of_local_day, utcnow
from civicpoints.kit.context import build_context
from civicpoints.kit.db import sessions_of, transaction
from civicpoints.kit.settings import Settings, get_settings

app = typer.Typer(help="CivicPoints 公共服务积分平台", no_args_is_help=True)
db_app = typer.Typer(help="数据库 / database", no_args_is_help=True)
ledger_app = typer.Typer(help="积分账本 / points ledger", no_args_is_help=True)
jobs_app = typer.Typer(help="定时任务 / scheduled jobs", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(jobs_app, name="jobs")
app.add_typer(ledger_app, name="ledger")
rewards_app = typer.Typer(help="积分商城 / rewards catalog", no_args_is_help=True)
app.add_typer(rewards_app, name="rewards")
app.add_typer(privacy_app, name="privacy")
app.add_typer(audit_app, name="audit")
app.add_typer(keys_app, name="keys")
app.add_typer(regions_app, name="regions")
app.add_typer(organizations_app, name="organizations")
app.add_typer(staff_app, name="staff")
fraud_app = typer.Typer(help="风险核查 / fraud and review", no_args_is_help=True)
app.add_typer(fraud_app, name="fraud")
insights_app = typer.Typer(help="统计分析 / insights", no_args_is_help=True)
app.add_typer(insights_app, name="insights")
console = Console()


@app.callback()
def _logging() -> None:
    """Every command logs warnings through handlers that redact secrets and personal data."""
    import logging

    from civicpoints.kit.logging import install

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    install()


def _sessions() -> sessionmaker[Session]:
    """A session factory on the configured database."""
    return sessions_of(get_settings())


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Create or migrate the database, and fix the ledger's bucket count on first run."""
    from civicpoints.kit.migrate import upgrade
    from civicpoints.ledger import LedgerService

    settings = get_settings()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url(), revision)
    with transaction(_sessions()) as s:
        buckets = LedgerService(s).initialize(settings.ledger_buckets)
    console.print(f"数据库已是最新 / database up to date ({buckets} ledger bucket(s))")


def _startup_settings() -> Settings:
    """The settings `serve` and `worker` start with; in production every refusal of
    kit/production.py is printed at once and the command exits 1 before binding or connecting."""
    from pydantic import ValidationError

    from civicpoints.kit.production import (
        DEV_PROVIDER,
        KeyFiles,
        Problem,
        production_problems,
    )

    refused: list[Problem] = []
    try:
        settings = get_settings()
    except ValidationError as exc:
        if "CIVICPOINTS_IDENTITY_PROVIDER" not in str(exc):
            raise
        # The settings refuse the `dev` provider in production themselves; read the rest with
        # it set aside, so every other problem is listed in the same run.
        settings = Settings(identity_provider="in_person")
        refused.append(DEV_PROVIDER)
    refused += production_problems(settings, KeyFiles.of(settings))
    if refused:
        console.print(
            "[red]✗ 生产环境拒绝启动 / refusing to start in production "
            "(CIVICPOINTS_ENV=production):[/red]",
            highlight=False,
        )
        for problem in refused:
            console.print(f"  - {escape(str(problem))}", highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    return settings


def _require_head(url: str) -> None:
    """Serving needs the database at this code's head: `db upgrade` runs first, once."""
    from civicpoints.kit.migrate import NotAtHead, require_head

    try:
        require_head(url)
    except NotAtHead as exc:
        console.print(f"[red]✗ {escape(str(exc))}[/red]", highlight=False)
        raise typer.Exit(1) from None


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = typer.Option(1, min=1, help="web processes (PostgreSQL only for more than 1)"),
    demo_logins: bool = typer.Option(False, help="print the demo logins once serving"),
) -> None:
    """Serve the web app and the API; print the address really served once it is listening.

    Refuses to start unless the database is at this version's head (`civicpoints db upgrade`).
    SIGTERM: no new connections, requests in flight finish (up to shutdown_grace_s), then the
    background work's pass under way finishes before the process exits.
    """
    from civicpoints.web.serving import BannerServer, serve_workers, server_config

    settings = _startup_settings()
    url = settings.resolved_database_url()
    if workers > 1 and not url.startswith("postgres"):
        _refuse(
            "SQLite 只支持一个进程，请去掉 --workers 或改用 PostgreSQL / SQLite serves from one "
            "process only: drop --workers or use PostgreSQL (CIVICPOINTS_DATABASE_URL)"
        )
    _require_head(url)
    config = server_config(
        "civicpoints.web.app:create_app",
        host,
        port,
        log_format=settings.resolved_log_format,
        log_level=settings.log_level,
        factory=True,
        workers=workers,
        # X-Forwarded-For/-Proto are believed from these addresses only (the reverse proxy):
        # the client address of sign-in throttling and logs, and https for Secure cookies.
        forwarded_allow_ips=settings.forwarded_allow_ips,
        timeout_graceful_shutdown=int(settings.shutdown_grace_s),
        # The supervisor kills a child that does not answer its ping in time; a child still
        # importing on a busy host is not hung.
        timeout_worker_healthcheck=60,
    )

    def banner(base_url: str) -> None:
        if demo_logins:
            from civicpoints.cli.demo import print_logins

            print_logins(console, base_url)
        elif settings.resolved_log_format == "json":  # stdout holds JSON lines only
            logging.getLogger("civicpoints.serve").info("serving at %s", base_url)
        else:
            console.print(f"网页 / web app: {base_url}/   API 文档 / API docs: {base_url}/docs")

    if workers > 1:
        serve_workers(config, banner)
    else:
        BannerServer(config, banner).run()


@app.command()
def worker() -> None:
    """Run the background work (sequencer passes, scheduled jobs) apart from the web processes.

    Start one or more on any hosts: one leads (a PostgreSQL advisory lock), the others stand by
    and take over within CIVICPOINTS_LEADER_POLL_S when it stops or dies. SIGTERM or Ctrl-C:
    the pass and jobs under way finish, then it exits 0. Pair with CIVICPOINTS_BACKGROUND=off
    for `serve` (docs/operations.md).
    """
    import signal
    import threading

    from civicpoints.kit.db import make_engine, make_session_factory
    from civicpoints.web.app import background_of

    settings = _startup_settings()
    json_lines = _worker_logging(settings)
    url = settings.resolved_database_url()
    _require_head(url)
    engine = make_engine(url)
    background = background_of(settings, engine, make_session_factory(engine))
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    say = logging.getLogger("civicpoints.worker").info if json_lines else _say
    background.start()
    say(f"后台进程已启动 / worker started ({_runner()}); waiting to lead or leading")
    while not stop.wait(0.5):
        pass
    finished = background.stop(settings.shutdown_grace_s)
    engine.dispose()
    say(f"后台进程已停止 / worker stopped ({_runner()})")
    if not finished:
        raise typer.Exit(1)


def _worker_logging(settings: Settings) -> bool:
    """The worker logs as `serve` does: JSON lines in production (CIVICPOINTS_LOG_FORMAT),
    at CIVICPOINTS_LOG_LEVEL, every handler redacting. True when the lines are JSON."""
    import logging.config

    from civicpoints.web.serving import log_config

    log_format = settings.resolved_log_format
    logging.config.dictConfig(log_config(log_format, settings.log_level))
    return log_format == "json"


def _runner() -> str:
    from civicpoints.jobs import runner_name

    return runner_name()


@app.command()
def demo(
    if_empty: bool = typer.Option(False, "--if-empty", help="skip when a demo is already loaded"),
    residents: int = typer.Option(3000, help="synthetic residents"),
    seed: int = typer.Option(20260101, help="random seed"),
) -> None:
    """Load the synthetic pilot city (streets, communities, staff, residents, activities)."""
    from civicpoints.cli.demo import load_demo

    settings = get_settings()
    ctx = build_context(settings)
    loaded = load_demo(
        _sessions(), ctx, residents=residents, seed=seed, if_empty=if_empty, console=console
    )
    if not loaded:
        console.print("演示数据已存在，跳过 / demo already loaded, skipped")
    console.print("演示账号 / demo logins: `civicpoints serve --demo-logins`")


@fraud_app.command("simulate")
def fraud_simulate(
    seed: int = typer.Option(20261206, help="random seed"),
    residents: int = typer.Option(400, min=30, help="synthetic residents (at least 30)"),
    json_path: Path | None = typer.Option(None, "--json", help="also write the figures here"),
) -> None:
    """Build a labelled city in an empty database and measure the risk signals against it."""
    import json

    from civicpoints.cli.fraud_sim import NotEmpty, as_json, simulate, table

    ctx = build_context(get_settings())
    try:
        outcome = simulate(_sessions(), ctx, residents, seed, console)
    except NotEmpty:
        console.print(
            "数据库已有数据，请使用空数据库 / the database is not empty: use an empty one"
        )
        raise typer.Exit(1) from None
    console.print(table(outcome))
    console.print(
        f"{outcome.seconds:.0f} s; flagged = review or refuse (risk ≥ {outcome.review_at})"
    )
    if json_path is not None:
        json_path.write_text(json.dumps(as_json(outcome), indent=2) + "\n", encoding="utf-8")


@app.command("import-records")
def import_records(
    file: Path,
    staff: str = typer.Option(..., help="staff username"),
    partial: bool = typer.Option(False, help="keep good rows when some rows are bad"),
) -> None:
    """Import offline paper-slip records from a CSV file, printing a result per row.

    Exit 0 when every row is in; 1 when a row is bad (nothing written, or with --partial the
    good rows kept); 2 when the file itself cannot be used (nothing written).
    """
    from civicpoints.activities import OfflineService
    from civicpoints.identity import IdentityService
    from civicpoints.kit.errors import DomainError

    data = _read_file(file)
    ctx = build_context(get_settings())
    try:
        with transaction(_sessions()) as s:
            identity = IdentityService(s, ctx)
            member = identity.staff_by_username(staff)
            if member is None:
                _say(f"没有用户名为 {staff} 的工作人员 / no staff member is named {staff}")
                raise typer.Exit(2)
            report = OfflineService(s, ctx).import_csv(
                data, identity.staff_principal(member), partial
            )
    except DomainError as exc:
        _say(f"{exc.message('zh-CN')} / {exc.message('en')}")
        for e in exc.errors or []:
            _say_row(e["line"], e)
        raise typer.Exit(1 if exc.errors else 2) from exc
    for row in report.rows:
        for e in row.errors or [{}]:
            _say_row(row.line, e, row.status)
    _say(
        f"新增 created {report.created}, 重复 duplicates {report.duplicates}, "
        f"错误 errors {report.errors}"
    )
    if report.errors:
        raise typer.Exit(1)


def _read_file(file: Path) -> bytes:
    """The bytes of an input file, or exit 2 saying (in both languages) why it can't be read."""
    try:
        return file.read_bytes()
    except OSError as exc:
        _say(f"无法读取文件 {file}（{exc.strerror}）/ cannot read the file {file} ({exc.strerror})")
        raise typer.Exit(2) from exc


def _say_row(line: int, error: dict, status: str = "error") -> None:
    """One row's outcome: its line, the column at fault and why, in zh-CN and en."""
    where = f"第 {line} 行 line {line}"
    if error.get("field"):
        where += f", 列 column {error['field']}"
    why = f" {error['message_zh']} / {error['message_en']}" if error.get("message_zh") else ""
    _say(f"{where}: {status}{why}")


def _say(text: str) -> None:
    """Print as written: no markup, no wrapping (a script reads the lines)."""
    console.print(text, markup=False, highlight=False, soft_wrap=True)


@ledger_app.command("expire")
def ledger_expire(
    as_of: str = typer.Option(..., "--as-of", help="YYYY-MM-DD, Beijing date"),
) -> None:
    """Write EXPIRE entries for every lot expired by the end of AS_OF (Beijing time)."""
    from civicpoints.ledger import LedgerService

    cutoff = _expiry_cutoff(as_of)
    sessions = _sessions()
    with transaction(sessions) as s:
        total = LedgerService(s).count_due(cutoff)
    lots = points = 0
    with Progress(console=console) as progress:
        task = progress.add_task("积分到期 / expiring", total=total)
        while True:
            with transaction(sessions) as s:
                report = LedgerService(s).expire_due(cutoff, batch=500)
            lots, points = lots + report.lots, points + report.points
            progress.update(task, advance=report.lots)
            if report.lots == 0:
                break
    console.print(f"到期批次 lots expired: {lots}; 积分 points: {points}")


def _expiry_cutoff(as_of: str) -> datetime:
    """The end of AS_OF in Beijing; a garbled date or one after today ends the command (2)."""
    try:
        day = date.fromisoformat(as_of)
    except ValueError:
        _refuse(f"日期须为 YYYY-MM-DD：{as_of!r} / --as-of must be a date YYYY-MM-DD: {as_of!r}")
    today = local_date(utcnow())
    if day > today:
        # A later date would expire points that are still valid today (they cannot come back).
        _refuse(
            f"--as-of {day} 不能晚于今天（北京时间 {today}） / "
            f"--as-of {day} is after today ({today}, Beijing): refused, nothing expired"
        )
    return start_of_local_day(day + timedelta(days=1))


def _refuse(message: str) -> NoReturn:
    """Print why a command's input is refused and end it with exit code 2 (a usage error)."""
    console.print(f"[red]✗ {escape(message)}[/red]", highlight=False)
    raise typer.Exit(2)


@ledger_app.command("sequence")
def ledger_sequence() -> None:
    """Run one sequencer pass: queued entries into the bucket logs, then sign checkpoints."""
    from civicpoints.ledger import log_signer
    from civicpoints.ledger.tasks import sequence_once

    settings = get_settings()
    report = sequence_once(_sessions(), log_signer(settings), settings.ledger_origin)
    console.print(
        f"已入日志 / sequenced: {sum(report.appended.values())} entries in "
        f"{len(report.appended)} bucket(s); global tree size {report.global_size}"
    )


@ledger_app.command("cosign")
def ledger_cosign(
    key: Path = typer.Option(..., help="the witness's signing key file (created if missing)"),
    name: str = typer.Option("witness.civicpoints.example", help="the witness key's name"),
    state: Path | None = typer.Option(None, help="file where the witness keeps what it cosigned"),
) -> None:
    """As a witness: check the newest global checkpoint extends the last one cosigned; sign it."""
    from civicpoints.ledger import (
        Checkpoint,
        cosign_latest,
        load_or_create_signer,
        log_signer,
        note_body,
    )

    settings = get_settings()
    witness = load_or_create_signer(key, name)
    remembered = (
        Checkpoint.parse(state.read_text(encoding="utf-8")) if state and state.exists() else None
    )
    with transaction(_sessions()) as s:
        row = cosign_latest(s, witness, [log_signer(settings).verifier], remembered)
    if state is not None:  # the witness's own memory of what it signed
        state.write_text(note_body(row.note), encoding="utf-8")
    console.print(f"已联署 / cosigned global checkpoint of size {row.size} as {witness.name}")
    console.print(f"见证公钥 / witness key: {witness.verifier.vkey()}")


@ledger_app.command("verify-receipt")
def ledger_verify_receipt(
    file: Path,
    public_key: list[str] = typer.Option(
        ..., "--public-key", help="vkey text or a file holding it"
    ),
    required: int = typer.Option(1, help="how many of the given keys must have signed"),
) -> None:
    """Check a receipt offline with nothing but the public key(s); exit 1 if it fails."""
    import json

    from civicpoints.ledger import NoteError, load_verifier, verify_receipt

    try:
        verifiers = [load_verifier(Path(k) if Path(k).is_file() else k) for k in public_key]
    except (NoteError, OSError, UnicodeDecodeError) as exc:
        _refuse(f"公钥无效 / invalid public key: {exc}")
    try:
        receipt = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        _refuse(f"无法读取回执文件 / cannot read the receipt file {file}: {exc.__class__.__name__}")
    except json.JSONDecodeError as exc:
        _refuse(f"回执不是有效的 JSON / the receipt is not valid JSON: {exc}")
    result = verify_receipt(receipt, verifiers, required)
    for problem in result.problems:
        console.print(f"[red]✗ {problem}[/red]")
    if not result.ok:
        raise typer.Exit(1)
    console.print(
        f"[green]✓ 回执有效 / receipt verified[/green] — signed by {', '.join(result.signers)}"
    )


@ledger_app.command("verify-certificate")
def ledger_verify_certificate(
    file: Path,
    public_key: list[str] = typer.Option(
        ..., "--public-key", help="vkey text or a file holding it (the receipts' key)"
    ),
) -> None:
    """Check a certificate's signed statement offline (the certificate.note attached to its
    PDF: `pdfdetach -save 1 cert.pdf -o certificate.note`); print it if the signature holds."""
    from civicpoints.ledger import NoteError, load_verifier, open_note

    try:
        verifiers = [load_verifier(Path(k) if Path(k).is_file() else k) for k in public_key]
    except (NoteError, OSError, UnicodeDecodeError) as exc:
        _refuse(f"公钥无效 / invalid public key: {exc}")
    try:
        note = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        _refuse(f"无法读取文件 / cannot read {file}: {exc.__class__.__name__}")
    try:
        body, signers = open_note(note, verifiers)
    except NoteError as exc:
        console.print(f"[red]✗ {exc}[/red]")
        raise typer.Exit(1) from None
    if not body.startswith("civicpoints-certificate-v1\n"):
        console.print("[red]✗ 不是志愿服务证明 / not a certificate statement[/red]")
        raise typer.Exit(1)
    console.print(body, markup=False, highlight=False)
    console.print(
        f"[green]✓ 签名有效 / signature verified[/green] — signed by {', '.join(signers)}"
    )


@jobs_app.command("run")
def jobs_run(
    name: str = typer.Argument(
        ...,
        help="ledger.expire | rewards.expire_vouchers | ledger.void_stale_holds | "
        "rewards.check_budget | ledger.verify | privacy.erase_due | activities.review_alerts | "
        "insights.rollup | insights.recommend",
    ),
) -> None:
    """Run one scheduled job now (as cron would) and record it; exit 1 if it raised an alert."""
    from civicpoints.jobs import run_job, scheduled_jobs

    jobs = scheduled_jobs(get_settings())
    if name not in jobs:
        raise typer.BadParameter(f"unknown job {name}; one of {', '.join(jobs)}")
    run = run_job(_sessions(), name, jobs[name][0])
    console.print(f"{name}: {'正常 ok' if run.ok else '告警 ALERT'} {run.summary}")
    if not run.ok:
        raise typer.Exit(1)


@insights_app.command("rebuild")
def insights_rebuild() -> None:
    """Empty the rollup and count every source row again (the full recomputation)."""
    from civicpoints.insights.tasks import rebuild

    counted = rebuild(_sessions())
    console.print(f"统计已重建 / rollup rebuilt: {counted}")


@insights_app.command("population")
def insights_population(
    region: str = typer.Argument(..., max=16, help="region code, e.g. HZ or HZ-SC-BS"),
    people: int = typer.Argument(..., min=1, max=2_000_000_000, help="population"),
) -> None:
    """Enter a region's population (for participation rates of the population)."""
    from civicpoints.insights import InsightsService
    from civicpoints.kit.errors import DomainError

    try:
        with transaction(_sessions()) as s:
            InsightsService(s).set_population(region, people, utcnow())
    except DomainError as exc:
        _refuse(f"{exc.message('zh-CN')} / {exc.message('en')}")
    console.print(f"人口已登记 / population set: {escape(region)} = {people}")


ledger_app.command("verify")(ledger_verify)
app.command("backup")(backup)
app.command("restore")(restore)


@rewards_app.command("import")
def rewards_import(file: Path) -> None:
    """Create or update catalog items from a CSV or JSON file (all rows or none)."""
    from civicpoints.kit.errors import DomainError
    from civicpoints.rewards import CatalogImporter, read_rows

    try:
        with transaction(_sessions()) as s:
            report = CatalogImporter(s).run(read_rows(file.name, file.read_bytes()))
    except DomainError as exc:
        console.print(exc.message("zh-CN"), exc.message("en"))
        for e in exc.errors or []:
            where = f"第 {e['line']} 行 line {e['line']} ({e['field']})"
            console.print(where, e["message_zh"], "/", e["message_en"], markup=False)
        raise typer.Exit(1) from exc
    console.print(f"新增 created {report.created}, 更新 updated {report.updated}")


@app.command("settlement")
def settlement(
    month: str = typer.Option(..., help="Beijing calendar month, YYYY-MM"),
    out: Path | None = typer.Option(None, help="write CSV or XLSX here (by the file's suffix)"),
) -> None:
    """Print a month's settlement per merchant and sponsor; optionally export it."""
    from civicpoints.kit.errors import DomainError
    from civicpoints.rewards import BudgetService, settlement_csv, settlement_xlsx

    try:
        with transaction(_sessions()) as s:
            report = BudgetService(s).settlement(month)
    except DomainError as exc:
        console.print(exc.message("zh-CN"), exc.message("en"))
        raise typer.Exit(1) from exc
    for g in report.groups:
        console.print(
            f"{g.merchant} · {g.sponsor}: {g.vouchers} 张 vouchers, 面值 face "
            f"{g.face_value_fen / 100:.2f} 元 (积分 points {g.points_value_fen / 100:.2f} + "
            f"补贴 subsidy {g.subsidy_fen / 100:.2f})"
        )
    if out is not None:
        xlsx = out.suffix.lower() == ".xlsx"
        out.write_bytes(settlement_xlsx(report) if xlsx else settlement_csv(report))
        console.print(f"已导出 exported {len(report.lines)} lines → {out}")


if __name__ == "__main__":
    app()
