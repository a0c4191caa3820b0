"""Every domain's tables, imported once so `Base.metadata` is complete (migrations, tests)."""

from civicpoints.activities import education_models as activities_education
from civicpoints.activities import models as activities
from civicpoints.audit import models as audit
from civicpoints.community import donation_models as community_donations
from civicpoints.community import hazard_models as community_hazards
from civicpoints.community import team_models as community_teams
from civicpoints.fraud import models as fraud
from civicpoints.hours import models as hours
from civicpoints.identity import education_models as identity_education
from civicpoints.identity import models as identity
from civicpoints.insights import models as insights
from civicpoints.insights import outcome_models as insights_outcomes
from civicpoints.insights import recs_models as insights_recs
from civicpoints.insights import survey_models as insights_surveys
from civicpoints.jobs import models as jobs
from civicpoints.kit import idempotency
from civicpoints.kit.db import Base
from civicpoints.ledger import models as ledger
from civicpoints.privacy import models as privacy
from civicpoints.regions import models as regions
from civicpoints.rewards import models as rewards
from civicpoints.scoring import models as scoring

metadata = Base.metadata
__all__ = [
    "activities",
    "activities_education",
    "audit",
    "community_donations",
    "community_hazards",
    "community_teams",
    "fraud",
    "hours",
    "idempotency",
    "identity",
    "identity_education",
    "insights",
    "insights_outcomes",
    "insights_recs",
    "insights_surveys",
    "jobs",
    "ledger",
    "metadata",
    "privacy",
    "regions",
    "rewards",
    "scoring",
]
