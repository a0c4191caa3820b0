"""Activities: publishing, enrolment, check-in/out, evidence, offline records and review."""

from civicpoints.activities.subscriptions import subscribe

subscribe()
