"""The `civicpoints` command line: database, server, demo, imports, ledger, rewards, jobs."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.cli.ledger_verify import ledger_verify
from civicpoints.cli.privacy import audit_app, privacy_app
from civicpoints.kit.clock import start_of_local_day
from civicpoints.kit.context import build_context
from civicpoints.kit.db import make_engine, make_session_factory, transaction
from civicpoints.kit.settings import get_settings

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
console = Console()


def _sessions() -> sessionmaker[Session]:
    """A session factory on the configured database."""
    settings = get_settings()
    return make_session_factory(make_engine(settings.resolved_database_url()))


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Create or migrate the database, and fix the ledger's bucket count on first run."""
    from civicpoints.kit.migrate import upgrade
    from civicpoints.ledger.service import LedgerService

    settings = get_settings()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url(), revision)
    with transaction(_sessions()) as s:
        buckets = LedgerService(s).initialize(settings.ledger_buckets)
    console.print(f"数据库已是最新 / database up to date ({buckets} ledger bucket(s))")


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve the API (and, once built, the web UI)."""
    import uvicorn

    uvicorn.run("civicpoints.web.app:create_app", factory=True, host=host, port=port)


@app.command()
def demo(
    if_empty: bool = typer.Option(False, "--if-empty", help="skip when a demo is already loaded"),
    residents: int = typer.Option(3000, help="synthetic residents"),
    seed: int = typer.Option(20260101, help="random seed"),
) -> None:
    """Load the synthetic pilot city (streets, communities, staff, residents, activities)."""
    from civicpoints.cli.demo import load_demo, print_logins

    settings = get_settings()
    ctx = build_context(settings)
    loaded = load_demo(
        _sessions(), ctx, residents=residents, seed=seed, if_empty=if_empty, console=console
    )
    if not loaded:
        console.print("演示数据已存在，跳过 / demo already loaded, skipped")
    print_logins(console)


@app.command("import-records")
def import_records(
    file: Path,
    staff: str = typer.Option(..., help="staff username"),
    partial: bool = typer.Option(False, help="keep good rows when some rows are bad"),
) -> None:
    """Import offline paper-slip records from a CSV file, printing a result per row."""
    from civicpoints.activities.offline import OfflineService
    from civicpoints.identity.service import IdentityService

    ctx = build_context(get_settings())
    with transaction(_sessions()) as s:
        identity = IdentityService(s, ctx)
        member = identity.repo.staff_by_username(staff)
        if member is None:
            raise typer.BadParameter(f"unknown staff {staff}")
        report = OfflineService(s, ctx).import_csv(
            file.read_bytes(), identity.staff_principal(member)
        )
    for row in report.rows:
        detail = "; ".join(e.get("message_zh") or "" for e in row.errors)
        console.print(f"第 {row.line} 行 line {row.line}: {row.status} {detail}")
    console.print(
        f"新增 created {report.created}, 重复 duplicates {report.duplicates}, "
        f"错误 errors {report.errors}"
    )
    if report.errors:
        raise typer.Exit(1)


@ledger_app.command("expire")
def ledger_expire(
    as_of: str = typer.Option(..., "--as-of", help="YYYY-MM-DD, Beijing date"),
) -> None:
    """Write EXPIRE entries for every lot expired by the end of AS_OF (Beijing time)."""
    from civicpoints.ledger.service import LedgerService

    cutoff = start_of_local_day(date.fromisoformat(as_of) + timedelta(days=1))
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


@ledger_app.command("sequence")
def ledger_sequence() -> None:
    """Run one sequencer pass: queued entries into the bucket logs, then sign checkpoints."""
    from civicpoints.ledger.keys import log_signer
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
    from civicpoints.ledger.keys import load_or_create_signer, log_signer
    from civicpoints.ledger.note import Checkpoint
    from civicpoints.ledger.sequencer import note_body
    from civicpoints.ledger.witness import cosign_latest

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

    from civicpoints.ledger.keys import load_verifier
    from civicpoints.ledger.receipt import verify_receipt

    verifiers = [load_verifier(Path(k) if Path(k).is_file() else k) for k in public_key]
    result = verify_receipt(json.loads(file.read_text(encoding="utf-8")), verifiers, required)
    for problem in result.problems:
        console.print(f"[red]✗ {problem}[/red]")
    if not result.ok:
        raise typer.Exit(1)
    console.print(
        f"[green]✓ 回执有效 / receipt verified[/green] — signed by {', '.join(result.signers)}"
    )


@jobs_app.command("run")
def jobs_run(
    name: str = typer.Argument(
        ...,
        help="ledger.expire | rewards.expire_vouchers | ledger.void_stale_holds | "
        "rewards.check_budget | ledger.verify",
    ),
) -> None:
    """Run one scheduled job now (as cron would) and record it; exit 1 if it raised an alert."""
    from civicpoints.jobs.runner import run_job
    from civicpoints.jobs.schedule import schedule

    jobs = schedule(get_settings())
    if name not in jobs:
        raise typer.BadParameter(f"unknown job {name}; one of {', '.join(jobs)}")
    run = run_job(_sessions(), name, jobs[name][0])
    console.print(f"{name}: {'正常 ok' if run.ok else '告警 ALERT'} {run.summary}")
    if not run.ok:
        raise typer.Exit(1)


ledger_app.command("verify")(ledger_verify)


@rewards_app.command("import")
def rewards_import(file: Path) -> None:
    """Create or update catalog items from a CSV or JSON file (all rows or none)."""
    from civicpoints.kit.errors import DomainError
    from civicpoints.rewards.importer import CatalogImporter, read_rows

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
    from civicpoints.rewards.budget import BudgetService, settlement_csv, settlement_xlsx

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
