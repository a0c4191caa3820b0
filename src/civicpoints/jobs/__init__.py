from civicpoints.jobs.models import JobRun
from civicpoints.jobs.runner import run_job
from civicpoints.jobs.schedule import scheduled_jobs, start_scheduler

__all__ = [
    "JobRun",
    "run_job",
    "scheduled_jobs",
    "start_scheduler",
]
