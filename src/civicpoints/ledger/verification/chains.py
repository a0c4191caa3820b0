"""Walking every account's hash chain: seq, links, hashes, running balances.

Reading entries in key order (bucket, account, seq) costs the database a lookup of the row
behind each index entry, about half the read. Each account's entries are appended in seq order,
so in the order the database returns rows unsorted they come in seq order too, interleaved
with other accounts': `in_written_order` keeps one tally per account and takes them as they
come. An account whose entries come out of seq order (reordered, deleted, inserted) is walked
again, alone and in key order, and only that walk's faults count, so both walks find exactly
the same. With more accounts than MAX_ACCOUNTS, every entry is read in key order instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from civicpoints.ledger import chain
from civicpoints.ledger.verification.encode import entry_columns, fast_hash, reference_hash
from civicpoints.ledger.verification.faults import Fault, Findings, fault
from civicpoints.ledger.verification.source import Reader
from civicpoints.ledger.verification.streams import Key, as_uuid

MAX_ACCOUNTS = 500_000  # tallies held while reading in written order (~200 bytes each)

# Positions in an entry row read with `entry_columns` (EntryFields order, then these).
_SEQ, _AMOUNT, _AFTER, _PREV, _HASH, _ID = 2, 5, 6, 13, 14, 15


@dataclass(slots=True)
class Tally:
    """An account's entries so far, and the faults they showed."""

    key: Key
    count: int = 0
    balance: int = 0
    head: str = chain.GENESIS
    after: int = 0  # the stored balance_after of the last entry
    expected: int = 1  # the next seq
    faults: list[Fault] = field(default_factory=list)
    out_of_order: bool = False


class ChainWalk:
    """Every account's chain, as tallies in account key order."""

    def __init__(self, reader: Reader, found: Findings) -> None:
        self.reader, self.found = reader, found
        self.total = reader.count("ledger_entry")
        self.done = 0

    def tallies(self) -> Iterator[Tally]:
        """One tally per account that has entries, in (bucket, account) order."""
        held = self.in_written_order()
        if held is None:
            self.done = 0
            yield from self.in_key_order()
            return
        for key in sorted(held):
            tally = held[key]
            yield self.walk_alone(key) if tally.out_of_order else tally

    def in_written_order(self) -> dict[Key, Tally] | None:
        """Tallies of every account from entries read unsorted; None if there are too many."""
        held: dict[Key, Tally] = {}
        step = self.step
        sql = f"SELECT {entry_columns(self.reader.dialect)} FROM ledger_entry"
        for rows in self.reader.chunks(sql):
            for row in rows:
                key = (row[0], row[1])
                tally = held.get(key)
                if tally is None:
                    tally = held[key] = Tally(key)
                if tally.out_of_order:
                    continue
                if row[_SEQ] != tally.expected:
                    tally.out_of_order = True  # walked again alone, in seq order
                    continue
                step(tally, row)
            if len(held) > MAX_ACCOUNTS:
                return None
            self.tick(len(rows))
        return held

    def in_key_order(self) -> Iterator[Tally]:
        """Tallies from every entry read in (bucket, account, seq) order: bounded memory."""
        sql = f"SELECT {entry_columns(self.reader.dialect)} FROM ledger_entry"
        tally: Tally | None = None
        for rows in self.reader.chunks(f"{sql} ORDER BY bucket, account_id, seq"):
            for row in rows:
                if tally is None or row[1] != tally.key[1] or row[0] != tally.key[0]:
                    if tally is not None:
                        yield tally
                    tally = Tally((row[0], row[1]))
                self.step(tally, row)
            self.tick(len(rows))
        if tally is not None:
            yield tally

    def walk_alone(self, key: Key) -> Tally:
        """One account's tally from its entries read in seq order."""
        account = "CAST(? AS uuid)" if self.reader.pg else "?"  # the id as 32 hex digits
        sql = (
            f"SELECT {entry_columns(self.reader.dialect)} FROM ledger_entry "
            f"WHERE bucket = ? AND account_id = {account} ORDER BY seq"
        )
        tally = Tally(key)
        for row in self.reader.rows(sql, key):
            self.step(tally, row)
        return tally

    def step(self, t: Tally, row: Any) -> None:
        """The next entry of an account's chain (in seq order): links, hash, running balance."""
        seq, amount, after, entry_hash = row[_SEQ], row[_AMOUNT], row[_AFTER], row[_HASH]
        t.count += 1
        if seq != t.expected:
            t.faults.append(on_entry("chain.seq_gap", row, expected=t.expected, found=seq))
        t.expected = seq + 1  # resynchronise: one gap is one fault, not one per later entry
        if row[_PREV] != t.head:
            t.faults.append(on_entry("chain.prev_hash", row))
        if fast_hash(row) != entry_hash and (
            reference_hash(self.reader.conn, row[0], row[_ID]) != entry_hash
        ):
            t.faults.append(on_entry("chain.entry_hash", row))
        if after != t.after + amount:
            expected = t.after + amount
            t.faults.append(on_entry("chain.balance_after", row, expected=expected, found=after))
        # Go on from the stored values, so that one changed entry is named alone.
        t.balance += amount
        t.head, t.after = entry_hash, after

    def tick(self, rows: int) -> None:
        """Progress of the entries read."""
        self.done += rows
        self.found.tick("entries", self.done, self.total)


def on_entry(kind: str, row: Any, **params: Any) -> Fault:
    """A fault of one journal entry, named by bucket, account, entry and seq."""
    return fault(
        kind,
        bucket=row[0],
        account_id=as_uuid(row[1]),
        entry_id=as_uuid(row[_ID]),
        position=row[_SEQ],
        **params,
    )
