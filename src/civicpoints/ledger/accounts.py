"""How accounts are named: a resident's wallet (for other domains), the system accounts, and
the AccountSpec of a wallet's debt account."""

from __future__ import annotations

import uuid

ISSUANCE = "issuance"
EXPIRY = "expiry"
CLAWBACK = "clawback"  # the per-bucket sink that clawed-back points (and debts) go to
DEBT = "debt"
# The per-bucket clearing account that carries (transfers keeping lots) pass through, so the
# source and the target may sit in different buckets; all buckets' transit accounts sum to 0.
TRANSIT = "transit"  # the kind of a wallet's debt account (may go negative: what it owes)


def wallet_of(resident_id: uuid.UUID) -> str:
    """The ledger owner name of a resident's points wallet."""
    return f"wallet:resident:{resident_id}"


def debt_owner(wallet_owner: str) -> str:
    """The owner name of a wallet's debt account."""
    return f"{DEBT}:{wallet_owner}"


def pool_of(community_id: uuid.UUID) -> str:
    """The ledger owner name of a community's 爱心积分池 (donation pool)."""
    return f"pool:community:{community_id}"


def savings_of(resident_id: uuid.UUID) -> str:
    """The ledger owner name of a resident's savings account (积分银行)."""
    return f"savings:resident:{resident_id}"


def education_of(child_id: uuid.UUID) -> str:
    """The ledger owner name of a child's education account (教育积分): spendable only on
    education entitlements, its lots ending with the child's enrolment year."""
    return f"education:child:{child_id}"


def education_intake_of(resident_id: uuid.UUID) -> str:
    """The ledger owner name through which a guardian's award reaches a child's education
    account: the award is credited here (a lot as scoring decides) and carried on at once
    under the enrolment-year rule, so `ledger verify` can recompute the education expiry."""
    return f"education-intake:resident:{resident_id}"


def team_pool_of(team_id: uuid.UUID) -> str:
    """The ledger owner name of a volunteer team's pool (志愿队积分池, kind `team_pool`)."""
    return f"team_pool:team:{team_id}"
