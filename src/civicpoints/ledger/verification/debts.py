"""Clawback debts: each debt account against its wallet, each clawback and restore record
against the transfers it names.

A debt account's chain and cached balance are checked like every account's (`chains`); here:
it belongs to a wallet, it never holds more than zero (it records what the wallet owes), and
the wallet's cached `owed` (what the credit path reads) is its negated balance. The clawback
and restore rows are an index of transfers: their amounts must be those transfers' amounts,
and add up (taken + lapsed + debt = amount; returned + expired = taken + repaid; forgiven +
repaid = debt).
"""

from __future__ import annotations

import uuid
from typing import Any

from civicpoints.ledger import chain
from civicpoints.ledger.accounts import CLAWBACK, DEBT
from civicpoints.ledger.verification.faults import Findings, fault
from civicpoints.ledger.verification.source import Reader
from civicpoints.ledger.verification.streams import as_uuid, hex_of

_DEBT_ACCOUNTS = (
    "SELECT d.bucket, d.id, d.balance, w.id, w.owed FROM ledger_account d "
    "LEFT JOIN ledger_account w ON w.bucket = d.bucket AND w.owner = substr(d.owner, 6) "
    f"WHERE d.kind = '{DEBT}' ORDER BY d.bucket, d.id"
)
_OWING = f"SELECT bucket, id, owed FROM ledger_account WHERE owed <> 0 AND kind <> '{DEBT}'"
_T = "amount, kind, debit_account_id, credit_account_id"
_CLAWBACKS = (
    "SELECT c.bucket, c.id, c.account_id, c.amount, c.taken, c.lapsed, c.debt, "
    "c.take_transfer_id, "
    f"{', '.join('t.' + c for c in _T.split(', '))}, "
    f"{', '.join('u.' + c for c in _T.split(', '))} "
    "FROM ledger_clawback c "
    "LEFT JOIN ledger_transfer t ON t.bucket = c.bucket AND t.id = c.take_transfer_id "
    "LEFT JOIN ledger_transfer u ON u.bucket = c.bucket AND u.id = c.debt_transfer_id "
    "ORDER BY c.bucket, c.id"
)
_RESTORES = (
    "SELECT r.bucket, r.clawback_id, r.returned, r.expired, r.forgiven, r.repaid, "
    "c.taken, c.debt, b.amount, e.amount, f.amount FROM ledger_restore r "
    "LEFT JOIN ledger_clawback c ON c.bucket = r.bucket AND c.id = r.clawback_id "
    "LEFT JOIN ledger_transfer b ON b.bucket = r.bucket AND b.id = r.back_transfer_id "
    "LEFT JOIN ledger_transfer e ON e.bucket = r.bucket AND e.id = r.expire_transfer_id "
    "LEFT JOIN ledger_transfer f ON f.bucket = r.bucket AND f.id = r.forgive_transfer_id "
    "ORDER BY r.bucket, r.clawback_id"
)


class Debts:
    """The clawback checks, reading through one snapshot."""

    def __init__(self, reader: Reader, found: Findings) -> None:
        self.reader, self.found = reader, found

    def check(self) -> None:
        """Debt accounts and their wallets, then clawback and restore records."""
        matched = self.check_accounts()
        for bucket, wallet, owed in self.reader.rows(_OWING):
            if (bucket, hex_of(wallet)) not in matched:
                where = {"bucket": bucket, "account_id": as_uuid(wallet)}
                self.found.add(fault("account.owed", **where, cached=owed, actual=0))
        for row in self.reader.rows(_CLAWBACKS):
            self.check_clawback(row)
        for row in self.reader.rows(_RESTORES):
            self.check_restore(row)

    def check_accounts(self) -> set[tuple[int, str]]:
        """Each debt account: of a wallet, not above zero, mirrored by the wallet's `owed`."""
        matched = set()
        for bucket, debt_id, balance, wallet, owed in self.reader.rows(_DEBT_ACCOUNTS):
            where = {"bucket": bucket, "account_id": as_uuid(debt_id)}
            if wallet is None or chain.debt_account_for(as_uuid(wallet)) != as_uuid(debt_id):
                self.found.add(fault("account.debt", **where, balance=balance))
                continue
            matched.add((bucket, hex_of(wallet)))
            if balance > 0:
                self.found.add(fault("account.debt", **where, balance=balance))
            if owed != -balance:
                on_wallet = {"bucket": bucket, "account_id": as_uuid(wallet)}
                self.found.add(fault("account.owed", **on_wallet, cached=owed, actual=-balance))
        return matched

    def check_clawback(self, row: Any) -> None:
        """One clawback row against its take and debt transfers (both into the bucket's
        clawback sink: from the wallet, and from the wallet's debt account)."""
        bucket, cid, wallet, amount, taken, lapsed, debt, take_id = row[:8]
        wallet = as_uuid(wallet)
        sink = uuid.uuid5(chain.ACCOUNT_NAMESPACE, f"system:{CLAWBACK}#{bucket}")
        sound = (
            amount == taken + lapsed + debt
            and amount > 0
            and min(taken, lapsed, debt) >= 0
            and _leg(row[8:12], taken, "clawback", wallet, sink)
            and _leg(row[12:16], debt, "debt", chain.debt_account_for(wallet), sink)
        )
        if not sound:
            where = {"bucket": bucket, "account_id": wallet}
            transfer = as_uuid(take_id) if take_id is not None else None
            self.found.add(
                fault("clawback.record", **where, transfer_id=transfer, clawback=as_uuid(cid))
            )

    def check_restore(self, row: Any) -> None:
        """One restore row against its transfers and its clawback."""
        bucket, cid, returned, expired, forgiven, repaid, taken, debt = row[:8]
        back, lapse, forgive = (x or 0 for x in row[8:11])
        sound = (
            taken is not None
            and (returned, expired, forgiven) == (back, lapse, forgive)
            and returned + expired == taken + repaid
            and forgiven + repaid == debt
        )
        if not sound:
            self.found.add(fault("restore.record", bucket=bucket, clawback=as_uuid(cid)))


def _leg(
    transfer: tuple[Any, ...], amount: int, kind: str, debit: uuid.UUID, credit: uuid.UUID
) -> bool:
    """A recorded amount is its transfer's (none when 0), of `kind`, between these accounts."""
    t_amount, t_kind, t_debit, t_credit = transfer
    if t_amount is None:
        return amount == 0
    accounts = (as_uuid(t_debit), as_uuid(t_credit)) == (debit, credit)
    return bool(t_amount == amount and t_kind == kind and accounts)
