"""How accounts are named: a resident's wallet (for other domains), the system accounts, and
the AccountSpec of a wallet's debt account."""

from __future__ import annotations

import uuid

ISSUANCE = "issuance"
EXPIRY = "expiry"
CLAWBACK = "clawback"  # the per-bucket sink that clawed-back points (and debts) go to
DEBT = "debt"  # the kind of a wallet's debt account (may go negative: what it owes)


def wallet_of(resident_id: uuid.UUID) -> str:
    """The ledger owner name of a resident's points wallet."""
    return f"wallet:resident:{resident_id}"


def debt_owner(wallet_owner: str) -> str:
    """The owner name of a wallet's debt account."""
    return f"{DEBT}:{wallet_owner}"
