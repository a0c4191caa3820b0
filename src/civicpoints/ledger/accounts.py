"""How other domains name ledger accounts: the owner string of a resident's points wallet."""

from __future__ import annotations

import uuid


def wallet_of(resident_id: uuid.UUID) -> str:
    """The ledger owner name of a resident's points wallet."""
    return f"wallet:resident:{resident_id}"
