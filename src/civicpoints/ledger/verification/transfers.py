"""Transfers against their entries: exactly two legs, of opposite sign, each naming the other.

The legs of a transfer are written in the transaction that writes the transfer, so in the order
the database returns rows unsorted (SQLite's rowid order, PostgreSQL's heap order) a transfer
and its two legs come together. `paired` reads both tables so and pairs them as they come:
no sort of every entry by transfer id. Anything out of that order (a leg deleted, added or
moved) is left over and decided at the end from all its legs, read again. If too much is out
of order to hold in memory, `merged` does the same checks from both tables sorted by key.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from civicpoints.kit import dbapi
from civicpoints.ledger.verification.faults import Fault, Findings, fault
from civicpoints.ledger.verification.source import Reader
from civicpoints.ledger.verification.streams import Key, Peek, as_uuid, by_bucket_and_id

LIMIT = 50_000  # transfers or legs held while pairing before falling back to the sorted merge
RESOLVE = 1_000  # transfers left over whose legs are read again (one scan of the entries)

_LEG_COLS = "bucket, transfer_id, id, account_id, amount, counterparty_id"
_TRANSFER_COLS = "bucket, id, amount, debit_account_id, credit_account_id"


class _OutOfOrder(Exception):
    """The tables are too far from their written order to pair them in bounded memory."""


class Transfers:
    """The transfer check, reading through one snapshot."""

    def __init__(self, reader: Reader, found: Findings) -> None:
        self.reader, self.found = reader, found
        self.total = reader.count("ledger_entry")

    def check(self) -> None:
        """Each transfer: exactly its two entries, of opposite sign, on its two accounts."""
        try:
            faults = self.paired()
        except _OutOfOrder:
            faults = self.merged()
        faults.sort(key=_by_transfer)  # the same order either way: by transfer, then entry
        for found in faults:
            self.found.add(found)
        self.found.report.counts["transfers"] = self.reader.count("ledger_transfer")
        self.found.tick("transfers", self.total, self.total)

    # -- in written order ----------------------------------------------------------------------

    def paired(self) -> list[Fault]:
        """Pair legs and transfers in the order the database returns them."""
        open_legs: dict[Key, list[Any]] = {}
        waiting: dict[Key, Any] = {}
        stream = self.reader.rows(f"SELECT {_TRANSFER_COLS} FROM ledger_transfer")
        early: dict[Key, list[Fault]] = {}
        done = 0
        for rows in self.reader.chunks(f"SELECT {_LEG_COLS} FROM ledger_entry"):
            for leg in rows:
                key = (leg[0], leg[1])
                legs = open_legs.get(key)
                if legs is None:
                    open_legs[key] = [leg]
                    continue
                del open_legs[key]
                t = waiting.pop(key, None) or _pull(key, stream, waiting)
                if t is None:
                    raise _OutOfOrder  # no such transfer ahead: decided by the sorted merge
                if not _pair_balanced(t, legs[0], leg):
                    early[key] = judge(t, [legs[0], leg])
            if len(open_legs) > LIMIT:
                raise _OutOfOrder
            done += len(rows)
            self.found.tick("transfers", done, self.total)
        if len(open_legs) > RESOLVE:
            raise _OutOfOrder
        return self.resolve(open_legs, early, [*waiting.values(), *stream])

    def resolve(
        self, left: dict[Key, list[Any]], early: dict[Key, list[Fault]], unpaired: list[Any]
    ) -> list[Fault]:
        """Faults of paired transfers, then of those left over, from all their legs."""
        # A key left over may have been paired before (a third leg): judged again, whole.
        faults = [f for key, found in early.items() if key not in left for f in found]
        rows: dict[Key, Any] = {}
        for t in unpaired:
            key = by_bucket_and_id(t)
            if key in left:
                rows[key] = t
            else:
                faults += judge(t, [])
        legs = self.all_legs(left)
        for key in left:
            faults += judge(rows.get(key) or self.transfer(key), legs.get(key, []))
        return faults

    def all_legs(self, keys: dict[Key, list[Any]]) -> dict[Key, list[Any]]:
        """Every leg of these transfers (one scan: no index leads with transfer_id)."""
        if not keys:
            return {}
        ids = list({key[1] for key in keys})
        marks = dbapi.marks(len(ids))
        sql = f"SELECT {_LEG_COLS} FROM ledger_entry WHERE transfer_id IN ({marks}) ORDER BY id"
        out: dict[Key, list[Any]] = {}
        for leg in self.reader.rows(sql, ids):
            if (leg[0], leg[1]) in keys:
                out.setdefault((leg[0], leg[1]), []).append(leg)
        return out

    def transfer(self, key: Key) -> Any | None:
        """One transfer row by its key, None if there is none."""
        sql = f"SELECT {_TRANSFER_COLS} FROM ledger_transfer WHERE bucket = ? AND id = ?"
        return next(self.reader.rows(sql, key), None)

    # -- sorted by key -------------------------------------------------------------------------

    def merged(self) -> list[Fault]:
        """Merge both tables sorted by (bucket, transfer id): bounded memory, any order."""
        transfers = Peek(
            self.reader.rows(f"SELECT {_TRANSFER_COLS} FROM ledger_transfer ORDER BY bucket, id"),
            by_bucket_and_id,
        )
        faults: list[Fault] = []
        done = 0
        sql = f"SELECT {_LEG_COLS} FROM ledger_entry ORDER BY bucket, transfer_id, id"
        for key, legs in _grouped(self.reader.rows(sql)):
            faults += [f for t in transfers.below(key) for f in judge(t, [])]
            faults += judge(transfers.at(key), legs)
            done += len(legs)
            if done % 5_000 < len(legs):
                self.found.tick("transfers", done, self.total)
        faults += [f for t in transfers.rest() for f in judge(t, [])]
        return faults


def judge(t: Any | None, legs: list[Any]) -> list[Fault]:
    """The faults of one transfer (None: missing) given all its legs."""
    if t is None:
        return [
            fault(
                "entry.transfer_missing",
                bucket=e[0],
                account_id=as_uuid(e[3]),
                entry_id=as_uuid(e[2]),
                transfer_id=as_uuid(e[1]),
            )
            for e in legs
        ]
    if _balanced(t, legs):
        return []
    where = {"bucket": t[0], "transfer_id": as_uuid(t[1])}
    return [fault("transfer.entries", **where, amount=t[2], count=len(legs))]


def _by_transfer(f: Fault) -> tuple[int, int, int]:
    """Where a fault of a transfer sorts: its bucket, transfer id, entry id."""
    entry = f.entry_id.int if f.entry_id else -1
    return (f.bucket or 0, f.transfer_id.int if f.transfer_id else -1, entry)


def _pull(key: Key, stream: Iterator[Any], waiting: dict[Key, Any]) -> Any | None:
    """Read transfers up to the one with `key`, keeping the others for later."""
    for t in stream:
        k = (t[0], t[1])
        if k == key:
            return t
        waiting[k] = t
        if len(waiting) > LIMIT:
            raise _OutOfOrder
    return None


def _grouped(rows: Iterator[Any]) -> Iterator[tuple[Key, list[Any]]]:
    """Consecutive legs of the same (bucket, transfer id)."""
    key: Key | None = None
    legs: list[Any] = []
    for leg in rows:
        k = (leg[0], leg[1])
        if k != key and legs:
            yield key, legs  # type: ignore[misc]
            legs = []
        key = k
        legs.append(leg)
    if legs:
        yield key, legs  # type: ignore[misc]


def _balanced(t: Any, legs: list[Any]) -> bool:
    """−amount on the debit account, +amount on the credit one, each naming the other."""
    return len(legs) == 2 and _pair_balanced(t, legs[0], legs[1])


def _pair_balanced(t: Any, a: Any, b: Any) -> bool:
    """Two legs are exactly the transfer's debit and credit, in either order."""
    _, _, amount, debit_id, credit_id = t
    debit, credit = (debit_id, -amount, credit_id), (credit_id, amount, debit_id)
    x, y = (a[3], a[4], a[5]), (b[3], b[4], b[5])
    return amount > 0 and ((x == debit and y == credit) or (x == credit and y == debit))
