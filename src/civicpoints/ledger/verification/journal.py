"""The journal: every account chain and cache, every lot, both zero sums."""

from __future__ import annotations

from typing import Any

from civicpoints.ledger.verification.chains import ChainWalk, Tally
from civicpoints.ledger.verification.faults import Findings, fault
from civicpoints.ledger.verification.source import Reader
from civicpoints.ledger.verification.streams import Peek, as_uuid, by_bucket_and_id, hex_id


class Journal:
    """Checks of the journal tables, reading through one snapshot."""

    def __init__(self, reader: Reader, found: Findings) -> None:
        self.reader, self.found, self.d = reader, found, reader.dialect
        self.entries_sum = self.balances_sum = 0

    # -- account chains ------------------------------------------------------------------------

    def check_accounts(self) -> None:
        """Every chain, every cached balance/count/head, every lot sum, both zero sums."""
        d = self.d
        accounts = Peek(
            self.reader.rows(
                f"SELECT bucket, {hex_id(d, 'id')}, may_go_negative, balance, entry_count, "
                "head_hash FROM ledger_account ORDER BY bucket, id"
            ),
            by_bucket_and_id,
        )
        self.lot_sums = Peek(self.reader.rows(_lot_sums_sql(d)), by_bucket_and_id)
        walk = ChainWalk(self.reader, self.found)
        for tally in walk.tallies():
            for quiet in accounts.below(tally.key):  # accounts without entries
                self.settle(Tally(by_bucket_and_id(quiet)), quiet)
            account = accounts.at(tally.key)
            if account is None:
                where = {"bucket": tally.key[0], "account_id": as_uuid(tally.key[1])}
                self.found.add(fault("account.missing", **where))
            for found in tally.faults:
                self.found.add(found)
            self.settle(tally, account)
        for account in accounts.rest():
            self.settle(Tally(by_bucket_and_id(account)), account)
        self.orphan_lots(self.lot_sums.rest())
        self.found.report.counts["entries"] = walk.done
        self.found.tick("entries", walk.done, walk.total)
        self.found.report.counts["accounts"] = self.reader.count("ledger_account")
        if self.entries_sum:
            self.found.add(fault("ledger.entries_sum", total=self.entries_sum))
        if self.balances_sum:
            self.found.add(fault("ledger.balances_sum", total=self.balances_sum))

    def settle(self, tally: Tally, account: Any | None) -> None:
        """Compare an account's caches with its entries, and its balance with its lots."""
        self.entries_sum += tally.balance
        key = tally.key
        self.orphan_lots(self.lot_sums.below(key))
        held = self.lot_sums.at(key)
        where: dict[str, Any] = {"bucket": key[0], "account_id": as_uuid(key[1])}
        if account is not None:
            _, _, may_go_negative, balance, entry_count, head_hash = account
            self.balances_sum += balance
            if balance != tally.balance:
                self.found.add(
                    fault("account.balance", **where, cached=balance, actual=tally.balance)
                )
            if entry_count != tally.count:
                self.found.add(
                    fault("account.entry_count", **where, cached=entry_count, actual=tally.count)
                )
            if head_hash != tally.head:
                self.found.add(fault("account.head_hash", **where))
        # Wallets hold their points in lots (FIFO, expiry); any account with lots must match
        # them too. Expired lots not yet written off still count: expiry is an explicit entry.
        holds_lots = held is not None or (account is not None and not may_go_negative)
        remaining = int(held[2]) if held is not None else 0
        if holds_lots and remaining != tally.balance:
            self.found.add(fault("account.lots", **where, balance=tally.balance, lots=remaining))

    def orphan_lots(self, rows: Any) -> None:
        """Lots of an account with neither a row nor entries: points out of nowhere."""
        for bucket, account_id, remaining in rows:
            if int(remaining):
                where: dict[str, Any] = {"bucket": bucket, "account_id": as_uuid(account_id)}
                self.found.add(fault("account.lots", **where, balance=0, lots=int(remaining)))

    # -- lots ----------------------------------------------------------------------------------

    def check_lots(self) -> None:
        """Each lot: remaining = amount − uses, within 0..amount, opened by a matching credit."""
        total, done = self.reader.count("ledger_lot"), 0
        for rows in self.reader.chunks(_LOTS_SQL):
            for lot in rows:
                self.check_lot(lot)
            done += len(rows)
            self.found.tick("lots", done, total)
        self.found.report.counts["lots"] = done
        self.found.tick("lots", done, total)

    def check_lot(self, lot: Any) -> None:
        """One lot against its uses and its opening entry."""
        amount, remaining, used = lot[4], lot[5], int(lot[6])
        actual = amount - used
        if remaining != actual:
            self.on_lot("lot.remaining", lot, cached=remaining, actual=actual)
        for value in sorted({remaining, actual}):
            if not 0 <= value <= amount:
                self.on_lot("lot.bounds", lot, remaining=value, amount=amount)
        problem = _opening_problem(lot)
        if problem:
            zh, en = problem
            self.on_lot(
                "lot.opening",
                lot,
                entry_id=as_uuid(lot[3]),
                amount=amount,
                reason_zh=zh,
                reason_en=en,
            )

    def on_lot(self, kind: str, lot: Any, **params: Any) -> None:
        """A fault of one lot, named by bucket, account and lot."""
        account_id, lot_id = as_uuid(lot[2]), as_uuid(lot[1])
        self.found.add(fault(kind, bucket=lot[0], account_id=account_id, lot_id=lot_id, **params))


# -- statements and small pure helpers ---------------------------------------------------------

_USES = "SELECT bucket, lot_id, sum(amount) AS used FROM ledger_lot_use GROUP BY bucket, lot_id"
_LOTS_SQL = (
    "SELECT l.bucket, l.id, l.account_id, l.entry_id, l.amount, l.remaining, "
    "CAST(coalesce(u.used, 0) AS BIGINT), e.account_id, e.amount, "
    "l.earned_at, e.occurred_at, l.expires_at, e.expires_at "
    f"FROM ledger_lot l LEFT JOIN ({_USES}) u ON u.bucket = l.bucket AND u.lot_id = l.id "
    "LEFT JOIN ledger_entry e ON e.bucket = l.bucket AND e.id = l.entry_id"
)


def _lot_sums_sql(dialect: str) -> str:
    """Per account, the sum over its lots of amount minus uses, in account key order."""
    # SUM(bigint) is numeric on PostgreSQL: cast back so Python sees an int.
    return (
        f"SELECT l.bucket, {hex_id(dialect, 'l.account_id')}, "
        "CAST(sum(l.amount - coalesce(u.used, 0)) AS BIGINT) "
        f"FROM ledger_lot l LEFT JOIN ({_USES}) u ON u.bucket = l.bucket AND u.lot_id = l.id "
        "GROUP BY l.bucket, l.account_id ORDER BY l.bucket, l.account_id"
    )


def _opening_problem(lot: Any) -> tuple[str, str] | None:
    """Why a lot does not match the credit that opened it (zh, en), or None."""
    opening_account, opening_amount = lot[7], lot[8]
    if opening_amount is None:
        return ("开立分录不存在", "the opening entry does not exist")
    if opening_account != lot[2]:
        return ("开立分录属于另一个账户", "the opening entry is another account's")
    if opening_amount != lot[4]:
        n = opening_amount
        return (f"开立分录金额为 {n}", f"the opening entry is of {n}")
    # The times as stored (SQLite's text, PostgreSQL's timestamptz): the expiry job compares
    # the stored values, so any change to them is one.
    earned_at, occurred_at, expires_at, recorded_expiry = lot[9:13]
    if recorded_expiry is None:
        return ("开立分录未记录到期时间（cp-entry-v1）", "the opening entry records no expiry (v1)")
    if expires_at != recorded_expiry:
        return ("批次到期时间与开立分录记录的不符", "the lot's expires_at is not the entry's")
    if earned_at != occurred_at:
        return ("批次获得时间与开立分录发生时间不符", "the lot's earned_at is not the entry's")
    return None
