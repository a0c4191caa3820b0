"""Walking every account's hash chain: seq, links, hashes, running balances.

Entries are read in key order (bucket, account, seq), so one account's entries come together
and memory stays flat. (Reading them unsorted with a tally per account was tried: the read is
cheaper, but the tallies cost more than it saves.)
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

# Positions in an entry row read with `entry_columns` (EntryFields order, then these).
_SEQ, _AMOUNT, _AFTER, _PREV, _HASH, _ID = 2, 5, 6, 13, 14, 15


@dataclass(slots=True)
class Tally:
    """An account's entries: what they add up to, and the faults they showed."""

    key: Key
    count: int = 0
    balance: int = 0
    head: str = chain.GENESIS
    faults: list[Fault] = field(default_factory=list)


class ChainWalk:
    """Every account's chain, as tallies in account key order."""

    def __init__(self, reader: Reader, found: Findings) -> None:
        self.reader, self.found = reader, found
        self.total = reader.count("ledger_entry")
        self.done = 0

    def tallies(self) -> Iterator[Tally]:
        """One tally per account that has entries, in (bucket, account) order."""
        sql = f"SELECT {entry_columns(self.reader.dialect)} FROM ledger_entry"
        conn, t, faults = self.reader.conn, Tally((None, None)), []
        # The running state lives in locals: this loop runs once per entry.
        key, count, balance, head, prev_after, expected = t.key, 0, 0, chain.GENESIS, 0, 1
        for rows in self.reader.chunks(f"{sql} ORDER BY bucket, account_id, seq"):
            for row in rows:
                if row[1] != key[1] or row[0] != key[0]:
                    if t.key[0] is not None:
                        t.count, t.balance, t.head = count, balance, head
                        yield t
                    t = Tally((row[0], row[1]))
                    key, faults = t.key, t.faults
                    count, balance, head, prev_after, expected = 0, 0, chain.GENESIS, 0, 1
                seq, amount, after, entry_hash = row[_SEQ], row[_AMOUNT], row[_AFTER], row[_HASH]
                count += 1
                if seq != expected:
                    faults.append(on_entry("chain.seq_gap", row, expected=expected, found=seq))
                expected = seq + 1  # resynchronise: one gap is one fault, not one per later one
                if row[_PREV] != head:
                    faults.append(on_entry("chain.prev_hash", row))
                if fast_hash(row) != entry_hash and (
                    reference_hash(conn, row[0], row[_ID]) != entry_hash
                ):
                    faults.append(on_entry("chain.entry_hash", row))
                if after != prev_after + amount:
                    wanted = prev_after + amount
                    faults.append(
                        on_entry("chain.balance_after", row, expected=wanted, found=after)
                    )
                # Go on from the stored values, so that one changed entry is named alone.
                balance += amount
                head, prev_after = entry_hash, after
            self.done += len(rows)
            self.found.tick("entries", self.done, self.total)
        if t.key[0] is not None:
            t.count, t.balance, t.head = count, balance, head
            yield t


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
