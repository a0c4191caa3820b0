"""Errors of donations and the pool, with stable codes (DESIGN.md §3)."""

from __future__ import annotations

from civicpoints.kit.errors import Forbidden, InvalidInput


class OverMonthlyLimit(InvalidInput):
    """A donation beyond the region's monthly donation limit."""

    code = "community.donation_limit"
    title = {"zh-CN": "超过每月捐赠上限", "en": "Over the monthly donation limit"}
    messages = {
        "zh-CN": "本月最多还能捐赠 {room} 分（每月上限 {limit} 分）",
        "en": "you may give at most {room} more points this month (limit {limit} a month)",
    }


class NotYourCommunity(Forbidden):
    """A donation to (or an allocation from) another community's pool."""

    code = "community.not_your_community"
    title = {"zh-CN": "不是本社区", "en": "Not your community"}
    messages = {
        "zh-CN": "只能捐赠给您所在社区的爱心积分池",
        "en": "you can give only to the pool of the community you live in",
    }


class NotCivilAffairs(Forbidden):
    """Staff without the civil-affairs role in the community."""

    code = "community.not_civil_affairs"
    title = {"zh-CN": "无民政权限", "en": "Not civil-affairs staff here"}
    messages = {
        "zh-CN": "只有本社区的民政工作人员可以操作爱心积分池和低收入认定",
        "en": "only the community's civil-affairs staff may manage its pool and low-income status",
    }


class NotLowIncome(InvalidInput):
    """An allocation to a resident without low-income status in the community."""

    code = "community.not_low_income"
    title = {"zh-CN": "非低收入居民", "en": "Not a low-income resident"}
    messages = {
        "zh-CN": "爱心积分池只能分配给本社区已认定的低收入居民",
        "en": "the pool can be allocated only to residents of the community with low-income status",
    }


class OverSavingsCap(InvalidInput):
    """Savings beyond the region's cap."""

    code = "community.savings_cap"
    title = {"zh-CN": "超过积分银行上限", "en": "Over the savings cap"}
    messages = {
        "zh-CN": "积分银行最多还能存入 {room} 分（上限 {cap} 分）",
        "en": "you can save at most {room} more points (cap {cap})",
    }


class InvalidDonationSetting(InvalidInput):
    """A settings version that cannot be stored as asked (nothing is written)."""

    code = "community.invalid_donation_setting"
    title = {"zh-CN": "捐赠与积分银行设置无效", "en": "Invalid donation settings"}
    messages = {"zh-CN": "设置无效：{reason_zh}", "en": "invalid settings: {reason_en}"}
