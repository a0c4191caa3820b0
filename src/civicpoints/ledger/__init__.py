"""The points ledger's public surface: what other domains use (DESIGN.md §3, §5).

Other domains import from here, not from the ledger's modules: the services, the value types
they take and return, and the errors they raise. Tables, repositories and the verification
machinery stay inside.
"""

from civicpoints.ledger.accounts import wallet_of
from civicpoints.ledger.errors import (
    HoldNotPending,
    IdempotencyConflict,
    InsufficientPoints,
    InvalidAmount,
    LedgerNotInitialized,
)
from civicpoints.ledger.holds import HoldRequest, HoldService, Resolution
from civicpoints.ledger.journal import Movement, Posting
from civicpoints.ledger.service import CreditRequest, ExpiryReport, LedgerService

__all__ = [
    "CreditRequest",
    "ExpiryReport",
    "HoldNotPending",
    "HoldRequest",
    "HoldService",
    "IdempotencyConflict",
    "InsufficientPoints",
    "InvalidAmount",
    "LedgerNotInitialized",
    "LedgerService",
    "Movement",
    "Posting",
    "Resolution",
    "wallet_of",
]
