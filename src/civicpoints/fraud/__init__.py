"""Fraud: risk signals (checks.py is pure), risk policies, the review queue's order,
clawback, warnings, sanctions and appeals."""

from civicpoints.fraud.cases import CaseService, CaseView, Finding
from civicpoints.fraud.checks import Assessment, Outcome, Signal, Tally, assess, tally
from civicpoints.fraud.errors import (
    AppealRefused,
    CaseNotFound,
    EarningSuspended,
    InvalidPolicy,
    NotClawable,
)
from civicpoints.fraud.models import Appeal, AppealDecision, Case, CaseKind, Sanction
from civicpoints.fraud.policies import PolicyService
from civicpoints.fraud.schemas import (
    DEFAULT_POLICY,
    DEFAULT_WEIGHTS,
    AppealCreate,
    AppealDecisionRead,
    AppealRead,
    CaseRead,
    OpenAppealRead,
    PolicyCreate,
    PolicyPreview,
    PolicyPreviewAsk,
    PolicyRead,
    PolicySettings,
    TallyRead,
)

__all__ = [
    "DEFAULT_POLICY",
    "DEFAULT_WEIGHTS",
    "Appeal",
    "AppealCreate",
    "AppealDecision",
    "AppealDecisionRead",
    "AppealRead",
    "AppealRefused",
    "Assessment",
    "Case",
    "CaseKind",
    "CaseNotFound",
    "CaseRead",
    "CaseService",
    "CaseView",
    "EarningSuspended",
    "Finding",
    "InvalidPolicy",
    "NotClawable",
    "OpenAppealRead",
    "Outcome",
    "PolicyCreate",
    "PolicyPreview",
    "PolicyPreviewAsk",
    "PolicyRead",
    "PolicyService",
    "PolicySettings",
    "Sanction",
    "Signal",
    "Tally",
    "TallyRead",
    "assess",
    "tally",
]
