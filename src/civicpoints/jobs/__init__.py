from civicpoints.jobs.models import JobRun
from civicpoints.jobs.runner import run_job
from civicpoints.jobs.runs import last_run, recent_runs
from civicpoints.jobs.schedule import scheduled_jobs, start_scheduler

__all__ = [
    "JobRun",
    "last_run",
    "recent_runs",
    "run_job",
    "scheduled_jobs",
    "start_scheduler",
]
