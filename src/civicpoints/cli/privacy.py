"""`civicpoints privacy erase-due` and `civicpoints audit export`: PIPL work of operators."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.audit import AuditService
from civicpoints.kit.db import sessions_of, transaction
from civicpoints.kit.export import csv_bytes
from civicpoints.kit.settings import get_settings

privacy_app = typer.Typer(help="个人信息保护 / privacy (PIPL)", no_args_is_help=True)
audit_app = typer.Typer(help="审计日志 / audit log", no_args_is_help=True)
console = Console()
COLUMNS = ("id", "at", "actor_kind", "actor_id", "action", "method", "path", "status")
COLUMNS_MORE = ("subject_id", "targets", "client", "user_agent")


def audit_csv(sessions: sessionmaker[Session], page: int = 1000) -> bytes:
    """The whole audit log as CSV (UTF-8 with BOM for Excel, every cell inert), newest first."""
    names = COLUMNS + COLUMNS_MORE
    with transaction(sessions) as s:
        rows = [[_text(getattr(r, c)) for c in names] for r in AuditService(s).every_row(page)]
    return csv_bytes([names, *rows])


def _text(value: object) -> str:
    """A cell's text (None as empty)."""
    return "" if value is None else str(value)


def _sessions() -> sessionmaker[Session]:
    """The configured database's sessions."""
    return sessions_of(get_settings())


@privacy_app.command("erase-due")
def erase_due_command() -> None:
    """Erase the personal data of every deletion request past its retention period."""
    from civicpoints.privacy.tasks import erase_due_with

    _, summary = erase_due_with(get_settings())(_sessions())
    console.print(f"已删除个人信息 erased {summary['erased']} resident(s)")


@audit_app.command("export")
def audit_export(out: Path = typer.Option(..., help="write the audit log here as CSV")) -> None:
    """Write the audit log (ids only, no personal data) as CSV."""
    out.write_bytes(audit_csv(_sessions()))
    console.print(f"已导出 exported → {out}")
