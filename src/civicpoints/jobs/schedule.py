"""The in-process scheduler started by `civicpoints serve` (Beijing time)."""

from __future__ import annotations

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.jobs import tasks
from civicpoints.jobs.runner import Job, run_job
from civicpoints.kit.clock import BUSINESS_TZ
from civicpoints.kit.settings import Settings
from civicpoints.privacy.tasks import erase_due_with


def scheduled_jobs(settings: Settings) -> dict[str, tuple[Job, dict[str, int]]]:
    """name → (job, cron fields in Beijing time)."""
    return {
        "ledger.expire": (tasks.expire, {"hour": 0, "minute": 10}),
        "rewards.expire_vouchers": (
            tasks.expire_vouchers_with(settings),
            {"hour": 0, "minute": 20},
        ),
        "ledger.void_stale_holds": (tasks.void_stale_holds, {"hour": 0, "minute": 40}),
        "rewards.check_budget": (tasks.check_budget, {"hour": 7, "minute": 0}),
        "ledger.verify": (tasks.verify_with(settings), {"hour": 2, "minute": 30}),
        "privacy.erase_due": (erase_due_with(settings), {"hour": 3, "minute": 30}),
        "activities.review_alerts": (tasks.review_alerts_with(settings), {"minute": 5}),
    }


def start_scheduler(sessions: sessionmaker[Session], settings: Settings) -> BackgroundScheduler:
    """Start the daily jobs; each run is recorded, failures become admin alerts."""
    scheduler = BackgroundScheduler(timezone=BUSINESS_TZ)
    for name, (job, cron) in scheduled_jobs(settings).items():
        scheduler.add_job(
            run_job,
            CronTrigger(timezone=BUSINESS_TZ, **cron),
            args=[sessions, name, job],
            id=name,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=3600,
        )
    scheduler.start()
    return scheduler
