"""Errors of rewards, each with a stable code, an HTTP status and zh-CN / en messages."""

from __future__ import annotations

from civicpoints.kit.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound


class ItemNotFound(NotFound):
    """No such catalog item."""

    code = "rewards.item_not_found"
    messages = {"zh-CN": "兑换品不存在", "en": "reward item not found"}


class RedemptionNotFound(NotFound):
    """No such redemption (or not the caller's)."""

    code = "rewards.redemption_not_found"
    messages = {"zh-CN": "兑换记录不存在", "en": "redemption not found"}


class VoucherNotFound(NotFound):
    """No voucher with this code."""

    code = "rewards.voucher_not_found"
    messages = {"zh-CN": "兑换券不存在，请核对券码", "en": "no voucher with this code"}


class SponsorNotFound(NotFound):
    """No such funding source."""

    code = "rewards.sponsor_not_found"
    messages = {"zh-CN": "资金来源不存在：{ref}", "en": "funding source not found: {ref}"}


class MerchantNotFound(NotFound):
    """No such merchant."""

    code = "rewards.merchant_not_found"
    messages = {"zh-CN": "商户不存在：{ref}", "en": "merchant not found: {ref}"}


class StaffNotFound(NotFound):
    """No such staff member."""

    code = "rewards.staff_not_found"
    messages = {"zh-CN": "工作人员不存在", "en": "staff member not found"}


class ResidentNotFound(NotFound):
    """No such resident."""

    code = "rewards.resident_not_found"
    messages = {"zh-CN": "居民不存在", "en": "resident not found"}


class DuplicateCode(Conflict):
    """Codes of items, sponsors and merchants are unique."""

    code = "rewards.duplicate_code"
    title = {"zh-CN": "编码重复", "en": "Code already used"}
    messages = {"zh-CN": "编码 {ref} 已被使用", "en": "the code {ref} is already used"}


class Unverified(Forbidden):
    """Only residents who passed real-name verification may redeem."""

    code = "rewards.unverified"
    title = {"zh-CN": "未实名认证", "en": "Not verified"}
    messages = {
        "zh-CN": "请先完成实名认证再兑换",
        "en": "please complete identity verification before redeeming",
    }


class InvalidQuantity(InvalidInput):
    """Quantities are whole numbers from 1 to the maximum."""

    code = "rewards.invalid_quantity"
    title = {"zh-CN": "兑换数量有误", "en": "Invalid quantity"}
    messages = {
        "zh-CN": "每次可兑换 1 至 5 份，您填写的是 {quantity}",
        "en": "the quantity must be a whole number from 1 to 5 (got {quantity})",
    }


class Unavailable(Conflict):
    """The item is withdrawn or its redemption window has closed."""

    code = "rewards.unavailable"
    title = {"zh-CN": "暂不可兑换", "en": "Not available"}
    messages = {"zh-CN": "该兑换品已下架或已过兑换期", "en": "this item is withdrawn or has ended"}


class NotYet(Conflict):
    """The item's redemption window has not opened."""

    code = "rewards.not_yet"
    title = {"zh-CN": "暂不可兑换", "en": "Not available yet"}
    messages = {
        "zh-CN": "该兑换品将于 {valid_from} 开放兑换",
        "en": "this item opens for redemption at {valid_from}",
    }


class OutsideRegion(Forbidden):
    """The item is for other regions."""

    code = "rewards.outside_region"
    title = {"zh-CN": "不符合兑换条件", "en": "Not eligible"}
    messages = {
        "zh-CN": "该兑换品仅限指定地区的居民兑换，您所在社区不在范围内",
        "en": "this item is only for residents of other regions",
    }


class AgeOutOfRange(Forbidden):
    """The resident's age is outside the item's range."""

    code = "rewards.age_out_of_range"
    title = {"zh-CN": "不符合兑换条件", "en": "Not eligible"}
    messages = {
        "zh-CN": "该兑换品限 {low}–{high} 岁居民，您现年 {age} 岁",
        "en": "this item is for ages {low}–{high}; you are {age}",
    }


class LowIncomeOnly(Forbidden):
    """The item is reserved for certified low-income residents."""

    code = "rewards.low_income_only"
    title = {"zh-CN": "不符合兑换条件", "en": "Not eligible"}
    messages = {
        "zh-CN": "该兑换品仅限经认定的低收入居民兑换",
        "en": "this item is reserved for certified low-income residents",
    }


class LimitReached(Conflict):
    """Over the per-resident limit for the period."""

    code = "rewards.limit_reached"
    title = {"zh-CN": "超出兑换限额", "en": "Limit reached"}
    messages = {
        "zh-CN": "每人{per}限兑 {limit} 份，您{this}已兑 {used} 份",
        "en": "the limit is {limit} per resident{per_en}; you already have {used}{this_en}",
    }


class OutOfStock(Conflict):
    """Not enough stock left."""

    code = "rewards.out_of_stock"
    title = {"zh-CN": "库存不足", "en": "Out of stock"}
    messages = {
        "zh-CN": "该兑换品已兑完或数量不够（剩余 {left} 份），请选择其他兑换品",
        "en": "not enough left of this item ({left} left); please choose another",
    }


# How a per-resident limit's window reads in a message (zh, en), by the item's period.
PERIOD_WORDS: dict[str, dict[str, str]] = {
    "month": {"per": "每月", "this": "本月", "per_en": " per month", "this_en": " this month"},
    "year": {"per": "每年", "this": "今年", "per_en": " per year", "this_en": " this year"},
    "ever": {"per": "", "this": "", "per_en": "", "this_en": ""},
}
# A redemption's status as a resident reads it in Chinese.
STATUS_ZH = {
    "issued": "的兑换券待使用",
    "pending": "正在审批中",
    "approved": "已批准",
    "denied": "未获批准",
    "cancelled": "已取消",
    "expired": "已过期",
    "completed": "的兑换券已使用",
}


REFUSALS: dict[str, type[DomainError]] = {
    "unverified": Unverified,
    "quantity": InvalidQuantity,
    "unavailable": Unavailable,
    "not_yet": NotYet,
    "region": OutsideRegion,
    "age": AgeOutOfRange,
    "low_income": LowIncomeOnly,
    "limit": LimitReached,
    "stock": OutOfStock,
}


class NotAClerk(Forbidden):
    """Only a merchant's clerks verify its vouchers."""

    code = "rewards.not_a_clerk"
    messages = {
        "zh-CN": "您不是任何商户的核销员",
        "en": "you are not a clerk of any merchant",
    }


class WrongMerchant(Forbidden):
    """A clerk may verify only their own merchant's vouchers."""

    code = "rewards.wrong_merchant"
    title = {"zh-CN": "非本店兑换券", "en": "Another merchant's voucher"}
    messages = {
        "zh-CN": "该兑换券不属于本商户（应在「{merchant}」使用），不能核销",
        "en": "this voucher is for another merchant ({merchant_en}); it cannot be verified here",
    }


class VoucherUsed(Conflict):
    """Verified once already: says when and where."""

    code = "rewards.voucher_used"
    title = {"zh-CN": "兑换券已使用", "en": "Voucher already used"}
    messages = {
        "zh-CN": "该兑换券已于 {when} 在「{merchant}」核销，不能重复使用",
        "en": "this voucher was already used at {merchant_en} on {when}",
    }


class VoucherExpired(Conflict):
    """Past its validity."""

    code = "rewards.voucher_expired"
    title = {"zh-CN": "兑换券已过期", "en": "Voucher expired"}
    messages = {
        "zh-CN": "该兑换券有效期至 {until}，已过期，不能使用",
        "en": "this voucher was valid until {until} and has expired",
    }


class VoucherCancelled(Conflict):
    """Cancelled by its owner; the points went back."""

    code = "rewards.voucher_cancelled"
    title = {"zh-CN": "兑换券已取消", "en": "Voucher cancelled"}
    messages = {
        "zh-CN": "该兑换券已于 {when} 取消，积分已退回",
        "en": "this voucher was cancelled on {when}; its points were returned",
    }


class NotCancellable(Conflict):
    """Only issued vouchers and pending applications can be cancelled."""

    code = "rewards.not_cancellable"
    title = {"zh-CN": "无法取消", "en": "Cannot cancel"}
    messages = {
        "zh-CN": "该兑换{status_zh}，没有可以取消的兑换券",
        "en": "nothing of this redemption (status: {status}) can be cancelled",
    }


class NotPending(Conflict):
    """Only a pending application can be decided."""

    code = "rewards.not_pending"
    title = {"zh-CN": "申请已处理", "en": "Already decided"}
    messages = {
        "zh-CN": "该申请已处理（{status_zh}）",
        "en": "this application was already decided (status: {status})",
    }


class InvalidMonth(InvalidInput):
    """Months are written YYYY-MM."""

    code = "rewards.invalid_month"
    messages = {
        "zh-CN": "月份格式应为 YYYY-MM（收到 {month}）",
        "en": "the month must be YYYY-MM (got {month})",
    }


class InvalidItem(InvalidInput):
    """An item definition that contradicts itself."""

    code = "rewards.invalid_item"
    messages = {"zh-CN": "兑换品设置有误：{reason_zh}", "en": "invalid item: {reason_en}"}


class ImportRejected(InvalidInput):
    """A catalog file with bad rows: nothing is imported; `errors` names each line and field."""

    code = "rewards.import_rejected"
    messages = {
        "zh-CN": "兑换品文件有误，未导入任何内容（{count} 处错误）",
        "en": "the catalog file has errors; nothing was imported ({count} errors)",
    }

    def __init__(self, errors: list[dict[str, object]]) -> None:
        super().__init__(field="file", count=len(errors))
        self.errors = [dict(e) for e in errors]


class UnknownCode(InvalidInput):
    """A code in an import file that names nothing."""

    code = "rewards.unknown_code"
    messages = {"zh-CN": "未知的编码：{ref}", "en": "unknown code: {ref}"}


class NotEducationItem(DomainError):
    """A child's education points offered for anything but an education entitlement."""

    code = "education.not_education_item"
    status = 422
    title = {"zh-CN": "教育积分不能兑换此项", "en": "Not an education entitlement"}
    messages = {
        "zh-CN": "教育积分只能用于教育部门审核的教育权益（如子女入学优先审核）",
        "en": "education points can be spent only on education entitlements the education "
        "bureau decides (e.g. enrolment priority review)",
    }
