"""an account's owner is checked for uniqueness at commit (PostgreSQL)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 21:45:00

An account is unique by id (the primary key) and by owner. The credit path opens an account
with `INSERT … ON CONFLICT (bucket, id) DO UPDATE`; PostgreSQL treats only that arbiter's
conflicts as "already there" and checks every other unique index the ordinary way. Two
transactions opening the same new wallet could both pass the arbiter's pre-check; the loser's
row then hit the owner index, which waited for the winner and raised UniqueViolation instead
of taking the upsert's update path (seen in CI, reproduced by
test_first_credits_race_safely_round_after_round). A deferrable index is only marked for a
recheck at insert time; the loser's speculative row is withdrawn when the arbiter conflict is
found, so nothing is rechecked, and a real duplicate owner is still refused at commit.

SQLite has one writer at a time and no deferrable unique constraints: nothing changes there.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME, TABLE = "uq_ledger_account_bucket_owner", "ledger_account"


def _recreate(deferrable: bool) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_constraint(NAME, TABLE, type_="unique")
    op.create_unique_constraint(
        NAME,
        TABLE,
        ["bucket", "owner"],
        deferrable=deferrable or None,
        initially="DEFERRED" if deferrable else None,
    )


def upgrade() -> None:
    """Make the owner's unique index deferrable, checked at commit."""
    _recreate(deferrable=True)


def downgrade() -> None:
    """Back to an immediate check."""
    _recreate(deferrable=False)
