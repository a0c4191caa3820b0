"""The scheduler the background leader runs (`serve` or `civicpoints worker`; Beijing time)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.insights.tasks import recommend as insights_recommend
from civicpoints.insights.tasks import rollup as insights_rollup
from civicpoints.jobs import tasks
from civicpoints.jobs.runner import Job, run_scheduled
from civicpoints.kit.clock import BUSINESS_TZ, utcnow
from civicpoints.kit.settings import Settings
from civicpoints.privacy.tasks import erase_due_with

ROLLUP_MINUTES = "*/5"
Cron = dict[str, int | str]


def scheduled_jobs(settings: Settings) -> dict[str, tuple[Job, Cron]]:
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
        # Every five minutes (its slot: the five minutes, docs/insights.md).
        "insights.rollup": (insights_rollup, {"minute": ROLLUP_MINUTES}),
        # 为您推荐: after the night's expiry and verify, before residents wake.
        "insights.recommend": (insights_recommend, {"hour": 4, "minute": 15}),
    }


def slot_of(cron: Cron, now: datetime) -> str:
    """The period a cron-scheduled run is for: its Beijing day, or hour for an hourly job,
    or its n minutes for a job every n minutes (minute "*/n")."""
    local = now.astimezone(BUSINESS_TZ)
    minute = cron.get("minute")
    if isinstance(minute, str) and minute.startswith("*/"):
        step = int(minute[2:])
        return local.strftime("%Y-%m-%dT%H:") + f"{local.minute // step * step:02d}"
    return local.strftime("%Y-%m-%d" if "hour" in cron else "%Y-%m-%dT%H")


def _cron_run(sessions: sessionmaker[Session], name: str, job: Job, cron: Cron) -> None:
    run_scheduled(sessions, name, job, slot_of(cron, utcnow()))


def _every_run(sessions: sessionmaker[Session], name: str, job: Job, every: float) -> None:
    # Fired half-way through each period (see below): the period is the slot, even when late.
    run_scheduled(sessions, name, job, f"every{every:g}s#{int(time.time() // every)}")


def start_scheduler(sessions: sessionmaker[Session], settings: Settings) -> BackgroundScheduler:
    """Start the daily jobs; each run is recorded, failures become admin alerts.

    Each run claims its (job, slot) first (jobs/runner.py), so a job runs once per period
    however many processes schedule it. With `jobs_every_s` (drills, tests) every job runs
    once per such period instead, fired half-way through it.
    """
    scheduler = BackgroundScheduler(timezone=BUSINESS_TZ)
    every = settings.jobs_every_s
    for name, (job, cron) in scheduled_jobs(settings).items():
        if every > 0:
            first = (int(time.time() // every) + 0.5) * every
            trigger: BaseTrigger = IntervalTrigger(
                seconds=every, start_date=datetime.fromtimestamp(first, UTC)
            )
            func: Callable[..., None] = _every_run
            args: list[object] = [sessions, name, job, every]
        else:
            trigger = CronTrigger(timezone=BUSINESS_TZ, **cron)
            func, args = _cron_run, [sessions, name, job, cron]
        scheduler.add_job(
            func,
            trigger,
            args=args,
            id=name,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=max(1, int(every // 2)) if every > 0 else 3600,
        )
    scheduler.start()
    return scheduler
