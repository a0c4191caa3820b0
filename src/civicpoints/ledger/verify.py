"""`ledger verify`: recompute the whole ledger from its rows and name every fault (DESIGN.md §5).

Nothing cached is trusted: balances, entry counts, chain heads, lot remainders, log nodes, log
heads and the checkpoint rows' root column are all recomputed and compared. The journal is in
turn checked against the Merkle logs, whose roots are signed: a rewrite that keeps every hash
chain consistent still changes the leaves that the signatures cover.

Tables are streamed in key order (server-side cursors on PostgreSQL) and merged in Python, so
memory stays bounded on millions of entries. Never writes. On PostgreSQL it reads one
REPEATABLE READ snapshot, so a sequencer running meanwhile cannot cause false faults.
"""

from __future__ import annotations

import re
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from functools import lru_cache
from itertools import groupby, islice
from typing import Any, Generic, TypeVar
from typing import cast as cast_type

from sqlalchemy import (
    BigInteger,
    Select,
    String,
    Uuid,
    and_,
    cast,
    exists,
    func,
    select,
    tuple_,
    type_coerce,
)
from sqlalchemy.engine import Connection, Dialect, Row
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from civicpoints.ledger import chain, merkle
from civicpoints.ledger.models import (
    Account,
    CheckpointRow,
    Cosignature,
    Entry,
    LogHead,
    LogLeaf,
    LogNode,
    LogQueue,
    Lot,
    LotUse,
    Transfer,
)
from civicpoints.ledger.note import Checkpoint, NoteError, Verifier, open_note
from civicpoints.ledger.sequencer import GLOBAL_LOG, checkpoint_leaf, note_body

BATCH = 5_000  # rows per fetch and per progress tick
LOOKUP = 1_000  # ids per IN (...) lookup of what log leaves reference
MAX_FAULTS = 10_000  # faults kept in the report; the rest are only counted

Progress = Callable[[str, int, int], None]  # (phase, done, total)
AnyRow = Row[*tuple[Any, ...]]
AnySelect = Select[*tuple[Any, ...]]
Leaf = tuple[int, int, str, bytes, bytes | None, object]  # …, expected leaf, raw account id
Key = tuple[Any, ...]
T = TypeVar("T")

# kind -> (Chinese, English) message templates. The kinds are a stable interface: alerts,
# dashboards and docs/ledger.md refer to them.
KINDS: dict[str, tuple[str, str]] = {
    "chain.seq_gap": (
        "分录序号不连续：应为 {expected}，实为 {found}",
        "entry sequence is not contiguous: expected seq {expected}, found {found}",
    ),
    "chain.prev_hash": (
        "分录的 prev_hash 没有指向本账户上一条分录的哈希",
        "prev_hash does not link to the hash of the account's previous entry",
    ),
    "chain.entry_hash": (
        "分录哈希与其内容不符（内容被改动）",
        "entry_hash does not match the entry's canonical bytes (its content was changed)",
    ),
    "chain.balance_after": (
        "分录后余额 {found} 不等于上一余额加本笔金额 {expected}",
        "balance_after {found} is not the previous balance plus the amount ({expected})",
    ),
    "account.missing": (
        "分录所属的账户不存在",
        "entries belong to an account that does not exist",
    ),
    "account.balance": (
        "账户缓存余额 {cached} 与分录合计 {actual} 不符",
        "cached balance {cached} differs from the sum of the account's entries {actual}",
    ),
    "account.entry_count": (
        "账户缓存分录数 {cached} 与实际分录数 {actual} 不符",
        "cached entry_count {cached} differs from the number of entries {actual}",
    ),
    "account.head_hash": (
        "账户缓存的链头哈希不是最后一条分录的哈希",
        "cached head_hash is not the hash of the account's last entry",
    ),
    "account.lots": (
        "账户余额 {balance} 与其积分批次剩余合计 {lots} 不符",
        "balance {balance} differs from the sum of its lots' remainders {lots}",
    ),
    "lot.remaining": (
        "批次缓存剩余 {cached} 不等于批次金额减去使用记录 {actual}",
        "lot remaining {cached} differs from its amount minus its recorded uses ({actual})",
    ),
    "lot.bounds": (
        "批次剩余 {remaining} 超出 0 到 {amount} 的范围",
        "lot remaining {remaining} is outside 0..{amount}",
    ),
    "lot.opening": (
        "批次（{amount} 分）与其开立分录不符：{reason_zh}",
        "lot of {amount} points does not match its opening credit entry: {reason_en}",
    ),
    "transfer.entries": (
        "转账（{amount} 分）应恰有两条金额相反、分属两个账户的分录，实有 {count} 条或不符",
        "a transfer of {amount} must have exactly two entries of opposite sign on its two "
        "accounts; found {count} entries, or they do not match",
    ),
    "entry.transfer_missing": (
        "分录所属的转账不存在",
        "the entry's transfer does not exist",
    ),
    "ledger.entries_sum": (
        "全部分录金额合计为 {total}，复式记账应为 0",
        "all entry amounts sum to {total}; double entry requires 0",
    ),
    "ledger.balances_sum": (
        "全部账户缓存余额合计为 {total}，应为 0",
        "all cached balances sum to {total}, not 0",
    ),
    "log.entry_missing": (
        "分录既不在其分桶日志中，也不在待入日志队列中",
        "the entry is neither in its bucket's log nor queued for it",
    ),
    "log.leaf_mismatch": (
        "日志第 {index} 片叶子不是其所指内容的哈希（内容或叶子被改动）",
        "log leaf {index} is not the hash of what it references (one of them was changed)",
    ),
    "log.leaf_orphan": (
        "日志第 {index} 片叶子指向的 {ref} 不存在（已被删除）",
        "log leaf {index} references {ref}, which does not exist (it was deleted)",
    ),
    "log.leaf_gap": (
        "日志在第 {index} 片叶子处断开（缺失或格式错误）",
        "the log is broken at leaf {index} (missing or malformed)",
    ),
    "log.node_mismatch": (
        "日志节点（层 {level}，序号 {index}）与重算结果不符",
        "stored log node (level {level}, index {index}) differs from the recomputed one",
    ),
    "log.node_missing": (
        "缺少日志节点（层 {level}，序号 {index}）",
        "log node (level {level}, index {index}) is missing",
    ),
    "log.node_extra": (
        "日志节点（层 {level}，序号 {index}）不属于该日志",
        "stored log node (level {level}, index {index}) is not part of the log",
    ),
    "log.head": (
        "日志头（大小 {cached}）与重算的日志（{actual} 片叶子）不符",
        "the log head (size {cached}) or its frontier differs from the recomputed log "
        "of {actual} leaves",
    ),
    "checkpoint.signature": (
        "检查点签名无法用给定公钥验证：{reason_zh}",
        "checkpoint signature does not verify with the given keys: {reason_en}",
    ),
    "checkpoint.malformed": (
        "检查点文本与其记录不符：{reason_zh}",
        "checkpoint note does not match its row: {reason_en}",
    ),
    "checkpoint.unwitnessed": (
        "没有任何全局检查点带有 {required} 个给定公钥的有效签名（日志与见证方）",
        "no global checkpoint carries {required} valid signatures from the given keys "
        "(the log's and witnesses')",
    ),
    "checkpoint.root": (
        "已签名的根哈希与重算的前 {size} 片叶子的根不符（日志被改写）",
        "the signed root differs from the recomputed root of the first {size} leaves "
        "(the log was rewritten)",
    ),
    "checkpoint.beyond_log": (
        "检查点签署了 {size} 片叶子，日志只有 {actual} 片完好的叶子",
        "the checkpoint signed {size} leaves; the log holds only {actual} intact leaves",
    ),
    "trusted.signature": (
        "保存的检查点无法验证：{reason_zh}",
        "a saved checkpoint does not verify: {reason_en}",
    ),
    "trusted.mismatch": (
        "保存的检查点（大小 {size}）与当前日志不一致：历史被改写或截断",
        "a saved checkpoint (size {size}) is inconsistent with the log: history was "
        "rewritten or truncated",
    ),
}


@dataclass(frozen=True)
class Fault:
    """One fault: a stable kind code, the rows it concerns, and what is wrong (zh and en)."""

    kind: str
    message_zh: str
    message_en: str
    bucket: int | None = None
    account_id: uuid.UUID | None = None
    entry_id: uuid.UUID | None = None
    lot_id: uuid.UUID | None = None
    transfer_id: uuid.UUID | None = None
    position: int | None = None  # the entry's seq, the leaf index or the checkpoint's size

    def where(self) -> str:
        """The rows concerned, e.g. 'bucket 0 · account … · entry … · at 3'."""
        named = (
            ("bucket", self.bucket),
            ("account", self.account_id),
            ("entry", self.entry_id),
            ("lot", self.lot_id),
            ("transfer", self.transfer_id),
            ("at", self.position),
        )
        return " · ".join(f"{k} {v}" for k, v in named if v is not None) or "ledger"

    def __str__(self) -> str:
        """One line for logs and the command line."""
        return f"[{self.kind}] {self.where()}: {self.message_zh} / {self.message_en}"


def fault(
    kind: str,
    *,
    bucket: int | None = None,
    account_id: uuid.UUID | None = None,
    entry_id: uuid.UUID | None = None,
    lot_id: uuid.UUID | None = None,
    transfer_id: uuid.UUID | None = None,
    position: int | None = None,
    **params: object,
) -> Fault:
    """A fault of `kind`, its messages filled in with `params`."""
    zh, en = KINDS[kind]
    return Fault(
        kind,
        zh.format(**params),
        en.format(**params),
        bucket,
        account_id,
        entry_id,
        lot_id,
        transfer_id,
        position,
    )


@dataclass
class VerifyReport:
    """The outcome: the faults (the first max_faults), how many, what was read, how long."""

    faults: list[Fault] = field(default_factory=list)
    total_faults: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when nothing at all was found wrong."""
        return self.total_faults == 0

    def kinds(self) -> Counter[str]:
        """How many faults of each kind were kept."""
        return Counter(f.kind for f in self.faults)

    def entries_per_second(self) -> float:
        """Verification speed in journal entries per second of the whole run."""
        return self.counts["entries"] / self.seconds if self.seconds else 0.0


def verify_ledger(
    session: Session,
    verifiers: Sequence[Verifier],
    progress: Progress | None = None,
    *,
    required: int = 1,
    trusted: Sequence[str] = (),
    max_faults: int = MAX_FAULTS,
) -> VerifyReport:
    """Recompute every invariant of the ledger and its logs; `trusted`: saved checkpoint notes."""
    # Every checkpoint needs a valid signature by one of `verifiers` and none that fails. Witnesses
    # cosign only now and then, so `required` = N > 1 asks that some global checkpoint carries N.
    if required < 1:
        raise ValueError("required must be at least 1: an unsigned checkpoint proves nothing")
    started = time.perf_counter()
    run = _Run(_snapshot(session), list(dict.fromkeys(verifiers)), required, progress, max_faults)
    run.check_accounts()
    run.check_lots()
    run.check_transfers()
    run.check_logs(trusted)
    run.report.seconds = time.perf_counter() - started
    return run.report


# -- streaming helpers -----------------------------------------------------------------------


def _snapshot(session: Session) -> Connection:
    """The session's connection; on PostgreSQL one REPEATABLE READ, read-only snapshot."""
    if session.get_bind().dialect.name == "postgresql" and not session.in_transaction():
        return session.connection(
            execution_options={"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
        )
    return session.connection()


class _Peek(Generic[T]):
    """A stream sorted by a unique key, consumed up to a key at a time (for merge joins)."""

    def __init__(self, rows: Iterable[T], key: Callable[[T], Key]) -> None:
        self._rows, self._key = iter(rows), key
        self._head: T | None = next(self._rows, None)

    def peek_key(self) -> Key | None:
        """The key of the next row, or None at the end."""
        return None if self._head is None else self._key(self._head)

    def pop(self) -> T:
        """Take the next row."""
        row = self._head
        assert row is not None
        self._head = next(self._rows, None)
        return row

    def below(self, key: Key) -> Iterator[T]:
        """Take every row whose key sorts before `key`."""
        while (k := self.peek_key()) is not None and k < key:
            yield self.pop()

    def at(self, key: Key) -> T | None:
        """Take the row with exactly `key`, if it is next."""
        return self.pop() if self.peek_key() == key else None

    def while_prefix(self, prefix: Key) -> Iterator[T]:
        """Take every row whose key starts with `prefix` (the rows of one bucket, say)."""
        n = len(prefix)
        while (k := self.peek_key()) is not None and k[:n] == prefix:
            yield self.pop()

    def rest(self) -> Iterator[T]:
        """Take every remaining row."""
        while self._head is not None:
            yield self.pop()


def _chunks(rows: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of up to `size` rows."""
    it = iter(rows)
    while chunk := list(islice(it, size)):
        yield chunk


class _RepeatedUuid(Uuid[uuid.UUID]):
    """A Uuid column whose values repeat (an account on each of its entries): parse each once."""

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        """The usual conversion (if the driver needs one), memoised."""
        process = super().result_processor(dialect, coltype)
        return None if process is None else lru_cache(maxsize=1 << 16)(process)


def _raw(column: Any, name: str | None = None) -> Any:
    """A column as the driver returns it, unconverted: compared and ordered, rarely shown."""
    return type_coerce(column, String()).label(name or column.key)


def _entry_col(name: str) -> Any:
    """An entry column for hashing, under its EntryFields name."""
    column = getattr(Entry, name)
    if name in ("account_id", "counterparty_id"):
        return type_coerce(column, _RepeatedUuid()).label(name)
    return column


_ENTRY_COLS = [
    *(_entry_col(f.name) for f in fields(chain.EntryFields)),
    _raw(Entry.id),
    Entry.entry_hash,
]
# Positions in an entry row (EntryFields order): indexing beats attribute lookup per row.
_BUCKET, _ACCOUNT, _SEQ, _AMOUNT, _AFTER, _PREV = (
    [f.name for f in fields(chain.EntryFields)].index(name)
    for name in ("bucket", "account_id", "seq", "amount", "balance_after", "prev_hash")
)
_ACCOUNT_COLS = (
    Account.bucket,
    Account.id,
    Account.may_go_negative,
    Account.balance,
    Account.entry_count,
    Account.head_hash,
)
_TRANSFER_COLS = (
    Transfer.bucket,
    _raw(Transfer.id),
    Transfer.amount,
    _raw(Transfer.debit_account_id),
    _raw(Transfer.credit_account_id),
)
_LEG_COLS = (
    Entry.bucket,
    _raw(Entry.transfer_id),
    _raw(Entry.id),
    _raw(Entry.account_id),
    Entry.amount,
    _raw(Entry.counterparty_id),
)
_LEAF_COLS = (LogLeaf.bucket, LogLeaf.leaf_index, LogLeaf.ref, LogLeaf.leaf_hash)
_CHECKPOINT_COLS = (
    CheckpointRow.bucket,
    CheckpointRow.size,
    CheckpointRow.root,
    CheckpointRow.note,
)
_UUID_PARTS = ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))
_BUCKET_ORIGIN = re.compile(r".*/bucket/(0|[1-9][0-9]*)")


@dataclass
class _Tally:
    """What an account's entries add up to."""

    count: int = 0
    balance: int = 0
    head: str = chain.GENESIS


@dataclass
class _Log:
    """One Merkle log being rebuilt from its stored leaves, with the checkpoints to meet."""

    bucket: int
    saved: list[Checkpoint]
    tree: merkle.CompactRange = field(default_factory=merkle.CompactRange)
    broken: bool = False


@dataclass
class _LogStreams:
    """The three key-ordered streams every log is rebuilt from, merged bucket by bucket."""

    leaves: _Peek[Leaf]
    nodes: _Peek[AnyRow]
    checkpoints: _Peek[AnyRow]

    def next_bucket(self, pending: set[int]) -> int | None:
        """The lowest bucket any stream still has rows of, or that is `pending` anyway."""
        keys = [self.leaves.peek_key(), self.nodes.peek_key(), self.checkpoints.peek_key()]
        return min([*pending, *(k[0] for k in keys if k is not None)], default=None)


# -- the run ---------------------------------------------------------------------------------


class _Run:
    """One verification: the connection, the running totals and the faults found."""

    def __init__(
        self,
        conn: Connection,
        verifiers: list[Verifier],
        required: int,
        progress: Progress | None,
        max_faults: int,
    ) -> None:
        self.conn, self.verifiers, self.required = conn, verifiers, required
        self.progress, self.max_faults = progress, max_faults
        self.report = VerifyReport()
        self.entries_sum = self.balances_sum = 0
        self.cosigned: dict[tuple[int, int], str] = {}
        self.witnessed = False  # some global checkpoint carries `required` valid signatures

    # -- plumbing ----------------------------------------------------------------------------

    def add(self, found: Fault) -> None:
        """Record a fault (kept up to max_faults, always counted)."""
        self.report.total_faults += 1
        if len(self.report.faults) < self.max_faults:
            self.report.faults.append(found)

    def stream(self, stmt: AnySelect) -> Iterator[AnyRow]:
        """Rows of `stmt` fetched BATCH at a time (a server-side cursor on PostgreSQL)."""
        return iter(self.conn.execute(stmt.execution_options(yield_per=BATCH)))

    def count(self, model: type[Any]) -> int:
        """How many rows a table holds (the progress bar's total)."""
        return int(self.conn.scalar(select(func.count()).select_from(model)) or 0)

    def ticking(self, phase: str, rows: Iterator[T], total: int) -> Iterator[T]:
        """Pass rows through, reporting progress every BATCH rows and at the end."""
        done = 0
        for row in rows:
            yield row
            done += 1
            if self.progress and done % BATCH == 0:
                self.progress(phase, done, total)
        self.report.counts[phase] = done
        if self.progress:
            self.progress(phase, done, max(total, done))

    # -- accounts and their chains -----------------------------------------------------------

    def check_accounts(self) -> None:
        """Every chain, every cached balance/count/head, every lot sum, both zero sums."""
        accounts = _Peek(
            self.stream(select(*_ACCOUNT_COLS).order_by(Account.bucket, Account.id)),
            lambda r: (r.bucket, r.id),
        )
        lot_sums = _Peek(self.stream(_lot_sums_stmt()), lambda r: (r.bucket, r.account_id))
        ordered = select(*_ENTRY_COLS).order_by(Entry.bucket, Entry.account_id, Entry.seq)
        rows = self.ticking("entries", self.stream(ordered), self.count(Entry))
        for key, group in groupby(rows, key=lambda r: (r[_BUCKET], r[_ACCOUNT])):
            for quiet in accounts.below(key):  # accounts without entries
                self.settle((quiet.bucket, quiet.id), quiet, _Tally(), lot_sums)
            account = accounts.at(key)
            if account is None:
                self.add(fault("account.missing", bucket=key[0], account_id=key[1]))
            self.settle(key, account, self.chain(group), lot_sums)
        for account in accounts.rest():
            self.settle((account.bucket, account.id), account, _Tally(), lot_sums)
        self.orphan_lots(lot_sums.rest())
        self.report.counts["accounts"] = self.count(Account)
        if self.entries_sum:
            self.add(fault("ledger.entries_sum", total=self.entries_sum))
        if self.balances_sum:
            self.add(fault("ledger.balances_sum", total=self.balances_sum))

    def chain(self, rows: Iterable[AnyRow]) -> _Tally:
        """Walk one account's entries in seq order: links, hashes, running balances."""
        tally, prev_after, expected = _Tally(), 0, 1
        for row in rows:
            tally.count += 1
            seq, amount, after = row[_SEQ], row[_AMOUNT], row[_AFTER]
            if seq != expected:
                self.on_entry("chain.seq_gap", row, expected=expected, found=seq)
            expected = seq + 1  # resynchronise: one gap is one fault, not one per later entry
            if row[_PREV] != tally.head:
                self.on_entry("chain.prev_hash", row)
            # A row has EntryFields' attributes by name and type; building the frozen
            # dataclass per entry would cost more than the hash itself.
            if chain.entry_hash(cast_type(chain.EntryFields, row)) != row.entry_hash:
                self.on_entry("chain.entry_hash", row)
            if after != prev_after + amount:
                self.on_entry("chain.balance_after", row, expected=prev_after + amount, found=after)
            # Go on from the stored values, so that one changed entry is named alone.
            tally.balance += amount
            tally.head, prev_after = row.entry_hash, after
        self.entries_sum += tally.balance
        return tally

    def on_entry(self, kind: str, row: AnyRow, **params: Any) -> None:
        """A fault of one journal entry, named by bucket, account, entry and seq."""
        self.add(
            fault(
                kind,
                bucket=row.bucket,
                account_id=row.account_id,
                entry_id=_as_uuid(row.id),
                position=row.seq,
                **params,
            )
        )

    def settle(self, key: Key, account: AnyRow | None, tally: _Tally, lots: _Peek[AnyRow]) -> None:
        """Compare an account's caches with its entries, and its balance with its lots."""
        bucket, account_id = key
        self.orphan_lots(lots.below(key))
        held = lots.at(key)
        where: dict[str, Any] = {"bucket": bucket, "account_id": account_id}
        if account is not None:
            self.balances_sum += account.balance
            if account.balance != tally.balance:
                self.add(
                    fault("account.balance", **where, cached=account.balance, actual=tally.balance)
                )
            if account.entry_count != tally.count:
                self.add(
                    fault(
                        "account.entry_count",
                        **where,
                        cached=account.entry_count,
                        actual=tally.count,
                    )
                )
            if account.head_hash != tally.head:
                self.add(fault("account.head_hash", **where))
        # Wallets hold their points in lots (FIFO, expiry); any account with lots must match
        # them too. Expired lots not yet written off still count: expiry is an explicit entry.
        holds_lots = held is not None or (account is not None and not account.may_go_negative)
        remaining = int(held.remaining) if held is not None else 0
        if holds_lots and remaining != tally.balance:
            self.add(fault("account.lots", **where, balance=tally.balance, lots=remaining))

    def orphan_lots(self, rows: Iterable[AnyRow]) -> None:
        """Lots of an account with neither a row nor entries: points out of nowhere."""
        for held in rows:
            if int(held.remaining):
                where: dict[str, Any] = {"bucket": held.bucket, "account_id": held.account_id}
                self.add(fault("account.lots", **where, balance=0, lots=int(held.remaining)))

    # -- lots --------------------------------------------------------------------------------

    def check_lots(self) -> None:
        """Each lot: remaining = amount − uses, within 0..amount, opened by a matching credit."""
        for lot in self.ticking("lots", self.stream(_lots_stmt()), self.count(Lot)):
            actual = lot.amount - int(lot.used)
            if lot.remaining != actual:
                self.on_lot("lot.remaining", lot, cached=lot.remaining, actual=actual)
            for remaining in sorted({lot.remaining, actual}):
                if not 0 <= remaining <= lot.amount:
                    self.on_lot("lot.bounds", lot, remaining=remaining, amount=lot.amount)
            problem = _opening_problem(lot)
            if problem:
                zh, en = problem
                entry_id = _as_uuid(lot.entry_id)
                self.on_lot(
                    "lot.opening",
                    lot,
                    entry_id=entry_id,
                    amount=lot.amount,
                    reason_zh=zh,
                    reason_en=en,
                )

    def on_lot(self, kind: str, lot: AnyRow, **params: Any) -> None:
        """A fault of one lot, named by bucket, account and lot."""
        account_id, lot_id = _as_uuid(lot.account_id), _as_uuid(lot.id)
        self.add(fault(kind, bucket=lot.bucket, account_id=account_id, lot_id=lot_id, **params))

    # -- transfers ---------------------------------------------------------------------------

    def check_transfers(self) -> None:
        """Each transfer: exactly its two entries, of opposite sign, on its two accounts."""
        transfers = _Peek(
            self.stream(select(*_TRANSFER_COLS).order_by(Transfer.bucket, Transfer.id)),
            lambda r: (r.bucket, r.id),
        )
        # Merged in Python from two key-ordered streams: a SQL join on (bucket, transfer_id)
        # has no index to use and SQLite would rescan the bucket's entries per transfer.
        # Ids stay raw (ordered and compared alike on each engine), parsed only for a fault.
        legs = select(*_LEG_COLS).order_by(Entry.bucket, Entry.transfer_id, Entry.id)
        rows = self.ticking("transfers", self.stream(legs), self.count(Entry))
        for key, group in groupby(rows, key=lambda r: (r.bucket, r.transfer_id)):
            for empty in transfers.below(key):
                self.on_transfer(empty, [])
            transfer, entries = transfers.at(key), list(group)
            if transfer is None:
                for e in entries:
                    self.add(
                        fault(
                            "entry.transfer_missing",
                            bucket=e.bucket,
                            account_id=_as_uuid(e.account_id),
                            entry_id=_as_uuid(e.id),
                            transfer_id=_as_uuid(e.transfer_id),
                        )
                    )
            elif not _balanced(transfer, entries):
                self.on_transfer(transfer, entries)
        for empty in transfers.rest():
            self.on_transfer(empty, [])
        self.report.counts["transfers"] = self.count(Transfer)

    def on_transfer(self, t: AnyRow, entries: list[AnyRow]) -> None:
        """A transfer whose entries do not balance it."""
        where = {"bucket": t.bucket, "transfer_id": _as_uuid(t.id)}
        self.add(fault("transfer.entries", **where, amount=t.amount, count=len(entries)))

    # -- the Merkle logs ---------------------------------------------------------------------

    def check_logs(self, trusted: Sequence[str]) -> None:
        """Every log rebuilt from its leaves: referents, nodes, heads, checkpoints, saved ones."""
        for e in self.stream(_unlogged_entries_stmt(self.conn.dialect.name)):
            where: dict[str, Any] = {
                "bucket": e.bucket,
                "account_id": e.account_id,
                "entry_id": e.id,
            }
            self.add(fault("log.entry_missing", **where))
        saved = self.parse_trusted(trusted)
        self.cosigned = self.cosignatures()
        heads = {h.bucket: h for h in self.conn.execute(select(*LogHead.__table__.c))}
        leaves = self.ticking("log", self.leaves(), self.count(LogLeaf))
        streams = _LogStreams(
            _Peek(leaves, lambda r: (r[0], r[1])),
            _Peek(self.stream(_nodes_stmt()), lambda r: (r.bucket, r.gen, r.level)),
            _Peek(
                self.stream(select(*_CHECKPOINT_COLS).order_by(*_CHECKPOINT_COLS[:2])),
                lambda r: (r.bucket, r.size),
            ),
        )
        pending = set(heads) | set(saved)  # logs that may have no rows left but must be checked
        while (bucket := streams.next_bucket(pending)) is not None:
            pending.discard(bucket)
            log = _Log(bucket, sorted(saved.get(bucket, []), key=lambda c: c.size))
            self.rebuild(log, streams)
            self.finish(log, streams, heads.get(bucket))
        self.report.counts["nodes"] = self.count(LogNode)
        self.report.counts["checkpoints"] = self.count(CheckpointRow)
        if self.required > 1 and not self.witnessed:
            self.add(fault("checkpoint.unwitnessed", bucket=GLOBAL_LOG, required=self.required))

    def cosignatures(self) -> dict[tuple[int, int], str]:
        """Witness signature lines by checkpoint (few: witnesses cosign global checkpoints)."""
        lines: dict[tuple[int, int], str] = {}
        stmt = select(Cosignature.bucket, Cosignature.size, Cosignature.line)
        for bucket, size, line in self.conn.execute(stmt.order_by(Cosignature.key_hash)):
            lines[(bucket, size)] = lines.get((bucket, size), "") + line
        return lines

    def rebuild(self, log: _Log, streams: _LogStreams) -> None:
        """Append a log's stored leaves one by one, checking nodes and checkpoints on the way."""
        for forged in streams.checkpoints.below((log.bucket, 0)):
            self.check_checkpoint(forged, None)  # a negative size: nothing can match it
        self.meet_checkpoints(log, streams.checkpoints)
        for leaf in streams.leaves.while_prefix((log.bucket,)):
            self.check_leaf(leaf)
            if log.broken:
                continue
            index, stored = leaf[1], leaf[3]
            if index != log.tree.size or len(stored) != merkle.HASH_SIZE:
                where: dict[str, Any] = {"bucket": log.bucket, "position": log.tree.size}
                self.add(fault("log.leaf_gap", **where, index=log.tree.size))
                log.broken = True  # later roots cannot be recomputed; their checkpoints say so
                continue
            for level, node_index, digest in log.tree.append(stored):
                self.check_node(log.bucket, level, node_index, digest, streams.nodes)
            self.meet_checkpoints(log, streams.checkpoints)

    def finish(self, log: _Log, streams: _LogStreams, head: AnyRow | None) -> None:
        """What is left once a log's leaves ran out: extra nodes, checkpoints beyond, its head."""
        b, size = log.bucket, log.tree.size
        for node in streams.nodes.while_prefix((b,)):
            if not log.broken:
                self.add(fault("log.node_extra", bucket=b, level=node.level, index=node.node_index))
        for cp in streams.checkpoints.while_prefix((b,)):
            self.check_signature(cp)
            where: dict[str, Any] = {"bucket": b, "position": cp.size}
            self.add(fault("checkpoint.beyond_log", **where, size=cp.size, actual=size))
        for kept in log.saved:  # the log is now shorter than a checkpoint someone kept
            self.add(fault("trusted.mismatch", bucket=b, position=kept.size, size=kept.size))
        if not log.broken and not _head_matches(head, log.tree):
            cached = head.size if head is not None else 0
            self.add(fault("log.head", bucket=b, cached=cached, actual=size))

    def meet_checkpoints(self, log: _Log, checkpoints: _Peek[AnyRow]) -> None:
        """Check the stored and saved checkpoints at the log's current size against its root."""
        size, key = log.tree.size, (log.bucket, log.tree.size)
        if checkpoints.peek_key() != key and not (log.saved and log.saved[0].size == size):
            return  # the root costs a fold of the frontier: compute it only when needed
        root = log.tree.root()
        stored = checkpoints.at(key)
        if stored is not None:
            self.check_checkpoint(stored, root)
        while log.saved and log.saved[0].size == size:
            if log.saved.pop(0).root != root:
                self.add(fault("trusted.mismatch", bucket=log.bucket, position=size, size=size))

    def check_checkpoint(self, cp: AnyRow, root: bytes | None) -> None:
        """A stored checkpoint: signed by the given keys, agreeing with its row and the log."""
        body = self.check_signature(cp)
        where: dict[str, Any] = {"bucket": cp.bucket, "position": cp.size}
        try:
            parsed = Checkpoint.parse(body)
        except NoteError as exc:
            self.add(fault("checkpoint.malformed", **where, reason_zh=exc.zh, reason_en=exc.en))
            return
        if (parsed.size, parsed.root, _origin_bucket(parsed.origin)) != (
            cp.size,
            cp.root,
            cp.bucket,
        ):
            self.add(
                fault(
                    "checkpoint.malformed",
                    **where,
                    reason_zh="树大小、根哈希或来源不一致",
                    reason_en="its size, root or origin differ",
                )
            )
        if root is None or parsed.root != root:
            self.add(fault("checkpoint.root", **where, size=cp.size))

    def check_signature(self, cp: AnyRow) -> str:
        """The checkpoint's note body; a fault unless every signature by a given key verifies."""
        # Witness cosignatures are stored beside the (append-only) note; they sign its body too,
        # so a rewritten checkpoint fails its witnesses' lines even when re-signed by the log.
        note = cp.note + self.cosigned.get((cp.bucket, cp.size), "")
        try:
            body, signers = open_note(note, self.verifiers)
        except NoteError as exc:
            where: dict[str, Any] = {"bucket": cp.bucket, "position": cp.size}
            self.add(fault("checkpoint.signature", **where, reason_zh=exc.zh, reason_en=exc.en))
            return note_body(cp.note)
        if cp.bucket == GLOBAL_LOG and len(signers) >= self.required:
            self.witnessed = True
        return body

    def check_leaf(self, leaf: Leaf) -> None:
        """A leaf must be the leaf hash of what it references: an entry, or a bucket checkpoint."""
        bucket, index, ref, stored, expected, account_id = leaf
        entry_id = _uuid_or_none(ref) if bucket != GLOBAL_LOG else None
        where: dict[str, Any] = {
            "bucket": bucket,
            "account_id": _as_uuid(account_id) if account_id is not None else None,
            "entry_id": entry_id,
            "position": index,
        }
        if expected is None:
            self.add(fault("log.leaf_orphan", **where, index=index, ref=ref))
        elif expected != stored:
            self.add(fault("log.leaf_mismatch", **where, index=index))

    def check_node(
        self, bucket: int, level: int, index: int, digest: bytes, nodes: _Peek[AnyRow]
    ) -> None:
        """A node the rebuilt tree just completed must be stored, with the same hash."""
        key = (bucket, (index + 1) << level, level)
        if nodes.peek_key() == key:
            stored: AnyRow | None = nodes.pop()  # the usual case, without the generator below
        else:
            for extra in nodes.below(key):
                where = {"bucket": bucket, "level": extra.level, "index": extra.node_index}
                self.add(fault("log.node_extra", **where))
            stored = nodes.at(key)
        if stored is None:
            self.add(fault("log.node_missing", bucket=bucket, level=level, index=index))
        elif stored.hash != digest:
            self.add(fault("log.node_mismatch", bucket=bucket, level=level, index=index))

    def leaves(self) -> Iterator[Leaf]:
        """Every leaf with the leaf hash its referent should give, in (bucket, index) order."""
        yield from self.global_leaves()  # GLOBAL_LOG = -1 sorts before every bucket
        yield from self.bucket_leaves()

    def global_leaves(self) -> Iterator[Leaf]:
        """Global-log leaves, each with the leaf hash of the bucket checkpoint it names."""
        stmt = select(*_LEAF_COLS).where(LogLeaf.bucket == GLOBAL_LOG).order_by(LogLeaf.leaf_index)
        for chunk in _chunks(self.stream(stmt), LOOKUP):
            refs = [_checkpoint_ref(leaf.ref) for leaf in chunk]
            notes = self.notes([r for r in refs if r is not None])
            for leaf, ref in zip(chunk, refs, strict=True):
                note = notes.get(ref) if ref is not None else None
                expected = checkpoint_leaf(note_body(note)) if note is not None else None
                yield (leaf.bucket, leaf.leaf_index, leaf.ref, leaf.leaf_hash, expected, None)

    def bucket_leaves(self) -> Iterator[Leaf]:
        """Bucket-log leaves, each with the leaf hash of the entry it names."""
        if self.conn.dialect.name == "postgresql":
            yield from self.joined_bucket_leaves()
            return
        # SQLite cannot index the id-as-text join: look the entries up by id, a chunk at a time.
        ordered = select(*_LEAF_COLS).where(LogLeaf.bucket >= 0)
        stmt = ordered.order_by(LogLeaf.bucket, LogLeaf.leaf_index)
        for chunk in _chunks(self.stream(stmt), LOOKUP):
            ids = [_uuid_or_none(leaf.ref) for leaf in chunk]
            found = self.entries([i for i in ids if i is not None])
            for leaf, entry_id in zip(chunk, ids, strict=True):
                entry = found.get((leaf.bucket, entry_id.hex)) if entry_id else None
                yield _with_referent(leaf, entry)

    def joined_bucket_leaves(self) -> Iterator[Leaf]:
        """Bucket-log leaves outer-joined to their entries in SQL (one hash join on PostgreSQL)."""
        on = and_(Entry.bucket == LogLeaf.bucket, _entry_id_text("postgresql") == LogLeaf.ref)
        stmt = (
            select(*_LEAF_COLS, Entry.entry_hash, _raw(Entry.account_id))
            .outerjoin(Entry, on)
            .where(LogLeaf.bucket >= 0)
            .order_by(LogLeaf.bucket, LogLeaf.leaf_index)
        )
        for row in self.stream(stmt):
            yield _with_referent(row, row if row.entry_hash is not None else None)

    def notes(self, refs: list[tuple[int, int]]) -> dict[tuple[int, int], str]:
        """The note texts of the bucket checkpoints (bucket, size) in `refs`."""
        if not refs:
            return {}
        key = tuple_(CheckpointRow.bucket, CheckpointRow.size)
        stmt = select(CheckpointRow.bucket, CheckpointRow.size, CheckpointRow.note)
        return {(b, s): n for b, s, n in self.conn.execute(stmt.where(key.in_(refs)))}

    def entries(self, ids: list[uuid.UUID]) -> dict[tuple[int, str], AnyRow]:
        """Hash and (raw) account of the entries with these ids, by (bucket, id hex)."""
        if not ids:
            return {}
        stmt = select(Entry.bucket, _raw(Entry.id), _raw(Entry.account_id), Entry.entry_hash)
        rows = self.conn.execute(stmt.where(Entry.id.in_(ids)))
        return {(e.bucket, _hex(e.id)): e for e in rows}

    def parse_trusted(self, notes: Sequence[str]) -> dict[int, list[Checkpoint]]:
        """Saved checkpoints by log, those that verify; a fault for each that does not."""
        out: dict[int, list[Checkpoint]] = {}
        for note in notes:
            try:
                parsed = Checkpoint.parse(open_note(note, self.verifiers)[0])
            except NoteError as exc:
                self.add(fault("trusted.signature", reason_zh=exc.zh, reason_en=exc.en))
                continue
            bucket = _origin_bucket(parsed.origin)
            if bucket is None:
                origin = repr(parsed.origin)
                zh, en = f"未知的来源 {origin}", f"unknown origin {origin}"
                self.add(fault("trusted.signature", reason_zh=zh, reason_en=en))
                continue
            out.setdefault(bucket, []).append(parsed)
        return out


# -- statements and small pure helpers -------------------------------------------------------


def _uses_subquery() -> Any:
    """Points taken from each lot, summed over its use rows."""
    return (
        select(LotUse.bucket, LotUse.lot_id, func.sum(LotUse.amount).label("used"))
        .group_by(LotUse.bucket, LotUse.lot_id)
        .subquery()
    )


def _lot_sums_stmt() -> AnySelect:
    """Per account, the sum over its lots of amount minus uses, in account key order."""
    uses = _uses_subquery()
    left = Lot.amount - func.coalesce(uses.c.used, 0)
    # SUM(bigint) is numeric on PostgreSQL: cast back so Python sees an int.
    return (
        select(Lot.bucket, Lot.account_id, cast(func.sum(left), BigInteger).label("remaining"))
        .outerjoin(uses, and_(uses.c.bucket == Lot.bucket, uses.c.lot_id == Lot.id))
        .group_by(Lot.bucket, Lot.account_id)
        .order_by(Lot.bucket, Lot.account_id)
    )


def _lots_stmt() -> AnySelect:
    """Every lot with its summed uses and its opening entry's account and amount."""
    uses = _uses_subquery()
    return (
        select(
            Lot.bucket,
            _raw(Lot.id),
            _raw(Lot.account_id),
            _raw(Lot.entry_id),
            Lot.amount,
            Lot.remaining,
            cast(func.coalesce(uses.c.used, 0), BigInteger).label("used"),
            _raw(Entry.account_id, "opening_account"),
            Entry.amount.label("opening_amount"),
        )
        .outerjoin(uses, and_(uses.c.bucket == Lot.bucket, uses.c.lot_id == Lot.id))
        .outerjoin(Entry, and_(Entry.bucket == Lot.bucket, Entry.id == Lot.entry_id))
    )


def _opening_problem(lot: AnyRow) -> tuple[str, str] | None:
    """Why a lot does not match the credit that opened it (zh, en), or None."""
    if lot.opening_amount is None:
        return ("开立分录不存在", "the opening entry does not exist")
    if lot.opening_account != lot.account_id:
        return ("开立分录属于另一个账户", "the opening entry is another account's")
    if lot.opening_amount != lot.amount:
        n = lot.opening_amount
        return (f"开立分录金额为 {n}", f"the opening entry is of {n}")
    return None


def _balanced(t: AnyRow, entries: list[AnyRow]) -> bool:
    """−amount on the debit account, +amount on the credit one, each naming the other."""
    legs = sorted((e.account_id, e.amount, e.counterparty_id) for e in entries)
    debit = (t.debit_account_id, -t.amount, t.credit_account_id)
    credit = (t.credit_account_id, t.amount, t.debit_account_id)
    return t.amount > 0 and legs == sorted([debit, credit])


def _unlogged_entries_stmt(dialect: str) -> AnySelect:
    """Entries neither queued for their bucket's log nor in it (an anti-join in SQL)."""
    queued = exists().where(LogQueue.bucket == Entry.bucket, LogQueue.entry_id == Entry.id)
    logged = exists().where(LogLeaf.bucket == Entry.bucket, LogLeaf.ref == _entry_id_text(dialect))
    return select(Entry.bucket, Entry.id, Entry.account_id).where(~queued, ~logged)


def _entry_id_text(dialect: str) -> ColumnElement[Any]:
    """Entry.id as the text a log leaf's `ref` holds (str(uuid)), computed in SQL."""
    if dialect == "postgresql":
        return cast(Entry.id, LogLeaf.ref.type)
    # SQLite stores a Uuid as 32 hex digits: rebuild the dashed form on the entry's side so
    # the leaf's (bucket, ref) index answers (an expression on ref would scan every leaf).
    parts = [func.substr(Entry.id, start, length) for start, length in _UUID_PARTS]
    text: ColumnElement[Any] = parts[0]
    for part in parts[1:]:
        text = text + "-" + part
    return text


def _nodes_stmt() -> AnySelect:
    """Stored nodes in the order a rebuilt tree completes them: by last leaf covered, level."""
    gen = (LogNode.node_index + 1).op("<<", return_type=BigInteger)(LogNode.level)
    return select(
        LogNode.bucket, LogNode.level, LogNode.node_index, LogNode.hash, gen.label("gen")
    ).order_by(LogNode.bucket, gen, LogNode.level)


def _as_uuid(raw: object) -> uuid.UUID:
    """A raw id (a UUID from psycopg, 32 hex digits from SQLite) as a UUID, to name a fault."""
    return raw if isinstance(raw, uuid.UUID) else uuid.UUID(str(raw))


def _hex(raw: object) -> str:
    """A raw id as 32 hex digits, the same on both engines."""
    return raw.hex if isinstance(raw, uuid.UUID) else str(raw)


def _uuid_or_none(text: str) -> uuid.UUID | None:
    """A UUID from text, None if it is not one (a forged ref, say)."""
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def _with_referent(leaf: AnyRow, entry: AnyRow | None) -> Leaf:
    """A leaf row with the leaf hash its entry gives and that entry's raw account id."""
    if entry is None:
        return (leaf.bucket, leaf.leaf_index, leaf.ref, leaf.leaf_hash, None, None)
    expected = _entry_leaf(entry.entry_hash)
    return (leaf.bucket, leaf.leaf_index, leaf.ref, leaf.leaf_hash, expected, entry.account_id)


def _entry_leaf(entry_hash: str) -> bytes:
    """The log leaf of an entry hash (empty, so never matching, if it is not even hex)."""
    try:
        return merkle.leaf_hash(bytes.fromhex(entry_hash))
    except ValueError:
        return b""


def _head_matches(head: AnyRow | None, tree: merkle.CompactRange) -> bool:
    """Whether the sequencer's cached head (size, frontier) is the rebuilt log's."""
    size, frontier = tree.to_state()
    if head is None:
        return size == 0
    return bool(head.size == size and list(head.frontier) == [h.hex() for h in frontier])


def _checkpoint_ref(ref: str) -> tuple[int, int] | None:
    """(bucket, size) from a global-log leaf's ref "bucket:size"."""
    bucket, sep, size = ref.partition(":")
    try:
        return (int(bucket), int(size)) if sep else None
    except ValueError:
        return None


def _origin_bucket(origin: str) -> int | None:
    """The log a checkpoint origin names: GLOBAL_LOG for …/global, n for …/bucket/n."""
    if origin.endswith("/global"):
        return GLOBAL_LOG
    match = _BUCKET_ORIGIN.fullmatch(origin)
    return int(match.group(1)) if match else None
