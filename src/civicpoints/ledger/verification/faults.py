"""What `ledger verify` reports: fault kinds (a stable interface), faults and the report."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

MAX_FAULTS = 10_000  # faults kept in the report; the rest are only counted

Progress = Callable[[str, int, int], None]  # (phase, done, total)

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
    "account.owed": (
        "钱包缓存的欠分 {cached} 与其欠分账户记录的 {actual} 不符",
        "the wallet's cached debt {cached} differs from its debt account's {actual}",
    ),
    "account.debt": (
        "欠分账户（余额 {balance}）不属于任何钱包，或余额大于 0",
        "a debt account (balance {balance}) belongs to no wallet, or is above zero",
    ),
    "clawback.record": (
        "积分追回记录 {clawback} 与其转账不符（金额、类型或账户），或各部分之和不等于追回数",
        "clawback {clawback} does not match its transfers (amount, kind or accounts), "
        "or its parts do not add up to its amount",
    ),
    "restore.record": (
        "追回恢复记录 {clawback} 与其转账或其追回不符",
        "the restore of clawback {clawback} does not match its transfers or its clawback",
    ),
    "carry.record": (
        "转移开立的批次，其转移记录与其转账、来源批次或新批次不符（金额、账户或使用记录）",
        "the carry that opened the lot does not match its transfers, its source lot or "
        "the new lot (amount, accounts or the source lot's use)",
    ),
    "carry.expiry": (
        "转移开立的批次到期时间 {found} 不是来源批次及其规则给出的 {expected}（积分被延寿）",
        "the carried lot expires at {found}, not at {expected} as its source lot and rule give "
        "(points gained life by moving)",
    ),
    "carry.unbacked": (
        "批次来自中转账户，却没有转移记录：其到期时间无从核对",
        "the lot came from a transit account without a carry record: its expiry has "
        "nothing to be checked against",
    ),
    "carry.transit": (
        "各分桶中转账户合计为 {total}，应为 0",
        "the transit accounts of all buckets sum to {total}, not 0",
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
    "log.backlog": (
        "{count} 条分录仍在等待写入日志，最早的已等待 {age} 秒（上限 {limit} 秒）：定序器停滞",
        "{count} entries still wait for the log, the oldest for {age} s (limit {limit} s): "
        "the sequencer is stalled",
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
    oldest_queued_s: float | None = None  # how long the oldest entry has waited for the log

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


class Findings:
    """Where a verification part puts what it finds: faults (kept up to a limit), counts."""

    def __init__(self, progress: Progress | None = None, max_faults: int = MAX_FAULTS) -> None:
        self.progress, self.max_faults = progress, max_faults
        self.report = VerifyReport()

    def add(self, found: Fault) -> None:
        """Record a fault (kept up to max_faults, always counted)."""
        self.report.total_faults += 1
        if len(self.report.faults) < self.max_faults:
            self.report.faults.append(found)

    def tick(self, phase: str, done: int, total: int) -> None:
        """Report progress of a phase (the total grows to `done` if rows were added meanwhile)."""
        if self.progress:
            self.progress(phase, done, max(total, done))

    def merge(self, other: VerifyReport) -> None:
        """Take over the faults and counts of a part verified elsewhere (another process)."""
        for found in other.faults:
            self.add(found)
        self.report.total_faults += other.total_faults - len(other.faults)
        self.report.counts.update(other.counts)
