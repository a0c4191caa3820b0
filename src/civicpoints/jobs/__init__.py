from civicpoints.jobs.background import Background
from civicpoints.jobs.models import JobRun
from civicpoints.jobs.runner import run_job, run_scheduled, runner_name
from civicpoints.jobs.runs import last_run, recent_runs
from civicpoints.jobs.schedule import scheduled_jobs, slot_of, start_scheduler

__all__ = [
    "Background",
    "JobRun",
    "last_run",
    "recent_runs",
    "run_job",
    "run_scheduled",
    "runner_name",
    "scheduled_jobs",
    "slot_of",
    "start_scheduler",
]
