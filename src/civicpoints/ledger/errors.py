"""Errors of the ledger."""

from __future__ import annotations

from civicpoints.kit.errors import Conflict, DomainError, NotFound


class InsufficientPoints(Conflict):
    """A debit larger than what the account holds."""

    code = "ledger.insufficient_points"
    title = {"zh-CN": "积分不足", "en": "Insufficient points"}
    messages = {
        "zh-CN": "积分不足：可用 {available} 分，需要 {needed} 分",
        "en": "insufficient points: {available} available, {needed} needed",
    }


class IdempotencyConflict(Conflict):
    """The same idempotency key was used for a different request."""

    code = "idempotency.conflict"
    title = {"zh-CN": "重复的请求编号", "en": "Idempotency key reused"}
    messages = {
        "zh-CN": "该请求编号（Idempotency-Key）已用于另一笔不同的操作",
        "en": "this Idempotency-Key was already used for a different request",
    }


class InvalidAmount(DomainError):
    """Amounts are whole positive points."""

    code = "ledger.invalid_amount"
    status = 422
    messages = {
        "zh-CN": "积分数量必须是正整数（收到 {amount}）",
        "en": "the amount must be a positive whole number of points (got {amount})",
    }


class LedgerNotInitialized(DomainError):
    """`db upgrade` has not been run."""

    code = "ledger.not_initialized"
    status = 503
    messages = {
        "zh-CN": "积分账本尚未初始化，请先运行 civicpoints db upgrade",
        "en": "the ledger is not initialized; run `civicpoints db upgrade` first",
    }


class HoldNotPending(Conflict):
    """A hold that was already posted or voided cannot be resolved again."""

    code = "ledger.hold_not_pending"
    title = {"zh-CN": "冻结已结束", "en": "Hold already resolved"}
    messages = {
        "zh-CN": "该积分冻结已结束（状态：{status}），不能再次处理",
        "en": "this hold is no longer pending (status: {status})",
    }


class AwardNotFound(NotFound):
    """A clawback names a transfer that is not a credit of that wallet opening a lot."""

    code = "ledger.award_not_found"
    messages = {
        "zh-CN": "该账户没有这笔积分发放记录，无法追回",
        "en": "no such award to this wallet: nothing to claw back",
    }


class ClawbackTooLarge(Conflict):
    """More would be clawed back from an award than it gave (less what was taken before)."""

    code = "ledger.clawback_too_large"
    title = {"zh-CN": "追回积分过多", "en": "Clawback too large"}
    messages = {
        "zh-CN": "追回 {amount} 分超过这笔发放尚可追回的 {left} 分",
        "en": "clawing back {amount} points exceeds the {left} still left of this award",
    }


class ClawbackNotFound(NotFound):
    """A restore names a clawback that does not exist (for that wallet)."""

    code = "ledger.clawback_not_found"
    messages = {
        "zh-CN": "该账户没有这笔积分追回记录",
        "en": "no such clawback of this wallet",
    }


class AlreadyRestored(Conflict):
    """A clawback is restored once; a second restore (under another key) is refused."""

    code = "ledger.already_restored"
    title = {"zh-CN": "已恢复", "en": "Already restored"}
    messages = {
        "zh-CN": "这笔追回的积分已经恢复过，不能再次恢复",
        "en": "this clawback was already restored",
    }
