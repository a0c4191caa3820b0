"""`civicpoints ledger verify`: recompute the whole ledger and its logs; exit 1 on any fault."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.kit.db import make_engine, make_session_factory
from civicpoints.kit.settings import Settings, get_settings

if TYPE_CHECKING:  # the ledger modules load when the command runs, not with every CLI call
    from civicpoints.ledger import Verifier, VerifyReport

console = Console()

PHASES = {
    "entries": "账户链 / account chains",
    "lots": "积分批次 / lots",
    "transfers": "转账 / transfers",
    "log": "Merkle 日志与检查点 / Merkle logs and checkpoints",
}


def ledger_verify(
    public_key: list[str] = typer.Option(
        None,
        "--public-key",
        help="trust only this vkey (text or a file holding it); repeatable. "
        "Default: every key in ledger_signing_key plus the local log key.",
    ),
    required: int = typer.Option(
        1, help="signatures (log + witnesses) that some global checkpoint must carry"
    ),
    checkpoint: list[Path] = typer.Option(
        None,
        "--checkpoint",
        help="a checkpoint saved earlier: a signed note, or the JSON of "
        "/api/v1/ledger/checkpoints/latest; repeatable",
    ),
    show: int = typer.Option(100, help="print at most this many faults"),
) -> None:
    """Recompute every chain, balance, lot, transfer, log and checkpoint; exit 1 on any fault."""
    from civicpoints.ledger import verify_ledger

    sessions = _sessions()
    trusted = [note for path in checkpoint or [] for note in saved_notes(path)]
    with sessions() as s:
        verifiers = trusted_verifiers(s, public_key or [], get_settings())
    # A session that has not begun: verify reads its own read-only snapshot (on SQLite without
    # the write lock, which this session would have taken for the whole run).
    with sessions() as s, verify_progress() as on_progress:
        report = verify_ledger(
            s,
            verifiers,
            on_progress,
            required=required,
            trusted=trusted,
            max_lag_s=get_settings().sequencer_max_lag_s,
        )
    for found in report.faults[:show]:
        console.print(f"[red]✗[/red] {escape(str(found))}", highlight=False, soft_wrap=True)
    if report.total_faults > show:
        console.print(f"… {report.total_faults - show} more / 另有 {report.total_faults - show} 项")
    print_summary(report)
    if not report.ok:
        raise typer.Exit(1)


def _sessions() -> sessionmaker[Session]:
    """A session factory on the configured database (as cli.main does)."""
    return make_session_factory(make_engine(get_settings().resolved_database_url()))


def trusted_verifiers(session: Session, keys: list[str], settings: Settings) -> list[Verifier]:
    """The given keys; by default every registered key plus the local log signer's."""
    from sqlalchemy import select

    from civicpoints.ledger import Signer, SigningKey, load_verifier, retired_verifiers

    if keys:
        return [load_verifier(Path(k) if Path(k).is_file() else k) for k in keys]
    found = [load_verifier(v) for v in session.scalars(select(SigningKey.vkey))]
    path = settings.signing_key_path
    found += retired_verifiers(path)  # listed beside the key file by `keys rotate-signing`
    if path.exists():  # never create a key just to verify
        found.append(Signer.from_skey(path.read_text(encoding="utf-8").strip()).verifier)
    if not found:
        console.print("[red]没有可用的公钥 / no public keys: pass --public-key[/red]")
        raise typer.Exit(2)
    return found


def saved_notes(path: Path) -> list[str]:
    """Checkpoint notes from a file: one signed note, or a saved /checkpoints/latest JSON."""
    text = path.read_text(encoding="utf-8")
    if not text.lstrip().startswith("{"):
        return [text]
    latest = json.loads(text)
    views = [latest.get("global"), *latest.get("buckets", [])]
    return [v["note"] for v in views if v]


@contextmanager
def verify_progress() -> Iterator[Callable[[str, int, int], None]]:
    """A progress callback drawing one rich bar per phase, added when the phase first reports."""
    tasks: dict[str, TaskID] = {}
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    # Redrawn on each report rather than by rich's refresh thread: a process with one thread
    # may fork the verification's parts into parallel processes.
    bar = Progress(*columns, TimeElapsedColumn(), console=console, auto_refresh=False)
    with bar as progress:

        def update(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = progress.add_task(PHASES.get(phase, phase), total=total)
            progress.update(tasks[phase], completed=done, total=total, refresh=True)

        yield update


def print_summary(report: VerifyReport) -> None:
    """What was read, how fast, and the verdict with the faults counted by kind."""
    n = report.counts
    console.print(
        f"账户 accounts {n['accounts']:,} · 分录 entries {n['entries']:,} · "
        f"转账 transfers {n['transfers']:,} · 批次 lots {n['lots']:,} · "
        f"日志叶子 leaves {n['log']:,} · 节点 nodes {n['nodes']:,} · "
        f"检查点 checkpoints {n['checkpoints']:,} — {report.seconds:.1f} s, "
        f"{report.entries_per_second():,.0f} entries/s",
        highlight=False,
    )
    age = report.oldest_queued_s
    console.print(
        f"待入日志 queued {n['queued']:,}"
        + ("" if age is None else f" · 最久等待 oldest waiting {age:,.0f} s"),
        highlight=False,
    )
    if report.ok:
        console.print("[green]✓ 账本完好 / ledger verified: no faults[/green]")
        return
    by_kind = ", ".join(f"{kind} ×{count}" for kind, count in sorted(report.kinds().items()))
    console.print(
        f"[red]✗ 发现 {report.total_faults} 项问题 / {report.total_faults} fault(s): "
        f"{by_kind}[/red]",
        highlight=False,
    )
