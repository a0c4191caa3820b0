"""Scheduled jobs: ledger expiry and stale holds, voucher expiry, budget check, nightly verify."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from civicpoints.kit.clock import local_date, start_of_local_day, utcnow
from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings
from civicpoints.ledger import LedgerService, Verifier, log_signer, retired_verifiers


def expire(sessions: sessionmaker[Session]) -> tuple[bool, dict[str, Any]]:
    """Expire every lot that ended before today (Beijing), in committed batches."""
    cutoff = start_of_local_day(local_date(utcnow()))
    lots = points = 0
    while True:
        with transaction(sessions) as s:
            report = LedgerService(s).expire_due(cutoff, batch=500)
        lots, points = lots + report.lots, points + report.points
        if report.lots == 0:
            return True, {"lots": lots, "points": points, "cutoff": cutoff.isoformat()}


def void_stale_holds(sessions: sessionmaker[Session]) -> tuple[bool, dict[str, Any]]:
    """Void pending holds past their timeout (points back to the same lots), in batches."""
    from civicpoints.ledger import HoldService

    now, voided = utcnow(), 0
    while True:
        with transaction(sessions) as s:
            n = HoldService(s).void_stale(now, batch=200)
        voided += n
        if n == 0:
            return True, {"voided": voided}


def expire_vouchers_with(
    settings: Settings,
) -> Callable[[sessionmaker[Session]], tuple[bool, dict[str, Any]]]:
    """The daily `rewards.expire_vouchers` job: unused vouchers past validity are refunded."""

    def expire_vouchers(sessions: sessionmaker[Session]) -> tuple[bool, dict[str, Any]]:
        from civicpoints.kit.context import build_context
        from civicpoints.rewards import RedemptionService

        ctx, now, closed = build_context(settings), utcnow(), 0
        while True:
            with transaction(sessions) as s:
                n = RedemptionService(s, ctx).expire_vouchers(now, batch=200)
            closed += n
            if n == 0:
                return True, {"closed": closed}

    return expire_vouchers


def check_budget(sessions: sessionmaker[Session]) -> tuple[bool, dict[str, Any]]:
    """`rewards.check_budget`: an admin alert when points liability exceeds the budget left."""
    from civicpoints.rewards import BudgetService

    with transaction(sessions) as s:
        figures = BudgetService(s).figures()
    summary = figures.model_dump(include={"liability_fen", "remaining_fen", "alert_messages"})
    return not figures.alert, summary


def pinned_keys(settings: Settings) -> list[Verifier]:
    """Keys trusted from outside the database: the log key file, the retired keys listed beside
    it by `keys rotate-signing`, and retired keys in settings.

    Not `ledger_signing_key`: someone able to rewrite the database could add a key there.
    """
    keys = [Verifier.from_vkey(v) for v in settings.ledger_trusted_vkeys]
    keys += retired_verifiers(settings.signing_key_path)
    if settings.signing_key_path.exists():
        keys.append(log_signer(settings).verifier)
    return keys


def verify_with(
    settings: Settings,
) -> Callable[[sessionmaker[Session]], tuple[bool, dict[str, Any]]]:
    """The nightly `ledger.verify` job, trusting only the pinned keys."""

    def verify(sessions: sessionmaker[Session]) -> tuple[bool, dict[str, Any]]:
        from civicpoints.ledger import verify_ledger

        with transaction(sessions) as s:
            report = verify_ledger(s, pinned_keys(settings), max_lag_s=settings.sequencer_max_lag_s)
        first = [str(f) for f in report.faults[:50]]
        return report.ok, {
            "faults": report.total_faults,
            "queued": report.counts["queued"],
            "oldest_queued_s": report.oldest_queued_s,
            "first": first,
            "counts": dict(report.counts),
        }

    return verify


def review_alerts_with(
    settings: Settings,
) -> Callable[[sessionmaker[Session]], tuple[bool, dict[str, Any]]]:
    """The hourly `activities.review_alerts` job: an admin alert while any record has waited
    for review longer than its region's policy allows (default 3 days)."""

    def review_alerts(sessions: sessionmaker[Session]) -> tuple[bool, dict[str, Any]]:
        from civicpoints.activities import OfflineService
        from civicpoints.kit.context import build_context

        with transaction(sessions) as s:
            late = OfflineService(s, build_context(settings)).overdue(utcnow())
        oldest = min((r.created_at for r in late), default=None)
        summary = {"overdue": len(late), "oldest": oldest.isoformat() if oldest else None}
        return not late, summary

    return review_alerts
