"""Independent checks of the books, shared by ledger tests: chains recompute, sums are zero."""

from __future__ import annotations

from sqlalchemy.orm import Session

from civicpoints.ledger import chain
from civicpoints.ledger.models import Account, Entry, Lot


def assert_books(s: Session) -> None:
    """Every chain recomputes from GENESIS, every cached head and balance matches its entries,
    wallets hold exactly their lots' remainders (never below zero), all balances sum to zero,
    and each wallet's cached debt is its debt account's balance, which is never above zero."""
    accounts = s.query(Account).all()
    assert sum(a.balance for a in accounts) == 0
    by_id = {(a.bucket, a.id): a for a in accounts}
    for a in accounts:
        if a.kind == "wallet":
            debt = by_id.get((a.bucket, chain.debt_account_for(a.id)))
            assert a.balance >= 0 and a.owed == (-debt.balance if debt else 0)
        if a.kind == "debt":
            assert a.balance <= 0 and a.owner.startswith("debt:")
    for account in accounts:
        entries = (
            s.query(Entry)
            .filter_by(bucket=account.bucket, account_id=account.id)
            .order_by(Entry.seq)
            .all()
        )
        prev, balance = chain.GENESIS, 0
        for n, e in enumerate(entries, 1):
            fields = chain.EntryFields(
                **{k: getattr(e, k) for k in chain.EntryFields.__dataclass_fields__}
            )
            balance += e.amount
            assert e.seq == n and e.balance_after == balance
            assert e.prev_hash == prev and chain.entry_hash(fields) == e.entry_hash
            prev = e.entry_hash
        assert account.head_hash == prev and account.balance == balance
        assert account.entry_count == len(entries)
        if not account.may_go_negative:
            lots = s.query(Lot).filter_by(bucket=account.bucket, account_id=account.id).all()
            assert account.balance == sum(lot.remaining for lot in lots)
