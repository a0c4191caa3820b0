"""Fraud: risk signals (checks.py is pure), risk policies, the review queue's order,
clawback, warnings, sanctions and appeals."""

from civicpoints.fraud.checks import Assessment, Outcome, Signal, assess
from civicpoints.fraud.errors import InvalidPolicy
from civicpoints.fraud.policies import PolicyService
from civicpoints.fraud.schemas import (
    DEFAULT_POLICY,
    DEFAULT_WEIGHTS,
    PolicyCreate,
    PolicyRead,
    PolicySettings,
)

__all__ = [
    "DEFAULT_POLICY",
    "DEFAULT_WEIGHTS",
    "Assessment",
    "InvalidPolicy",
    "Outcome",
    "PolicyCreate",
    "PolicyRead",
    "PolicyService",
    "PolicySettings",
    "Signal",
    "assess",
]
