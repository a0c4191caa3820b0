"""Errors of outcome indicators, with zh-CN and en text (nothing is written on any)."""

from __future__ import annotations

from civicpoints.kit.errors import DomainError


class IndicatorUnknown(DomainError):
    """No indicator has this code."""

    code = "insights.indicator_unknown"
    status = 404
    title = {"zh-CN": "未找到", "en": "Not found"}
    messages = {"zh-CN": "指标 {code} 不存在", "en": "no indicator has the code {code}"}


class IndicatorExists(DomainError):
    """An indicator with this code is already defined."""

    code = "insights.indicator_exists"
    status = 409
    title = {"zh-CN": "冲突", "en": "Conflict"}
    messages = {"zh-CN": "指标代码 {code} 已存在", "en": "an indicator with the code {code} exists"}


class ValueInvalid(DomainError):
    """A value outside its unit's bounds, or not a number."""

    code = "insights.value_invalid"
    status = 422
    title = {"zh-CN": "数值无效", "en": "Invalid value"}
    messages = {
        "zh-CN": "数值须在 0 到 {most} 之间，最多三位小数（单位 {unit}）",
        "en": "the value must be between 0 and {most} with at most three decimals (unit {unit})",
    }


class MonthInFuture(DomainError):
    """A value for a month that has not begun (Beijing time)."""

    code = "insights.month_in_future"
    status = 422
    title = {"zh-CN": "月份无效", "en": "Invalid month"}
    messages = {
        "zh-CN": "不能填报未来月份的数值（{month}）",
        "en": "a value cannot be entered for a future month ({month})",
    }


class CorrectionNeedsReason(DomainError):
    """The cell has a value already: replacing it needs a reason (never silently)."""

    code = "insights.correction_needs_reason"
    status = 409
    title = {"zh-CN": "已有数值", "en": "Value exists"}
    messages = {
        "zh-CN": "{month} 已有数值 {value}；如需更正，请填写更正原因",
        "en": "{month} already has the value {value}; to correct it, give a reason",
    }


class OutcomeImportRejected(DomainError):
    """A CSV with bad lines: nothing imported, every bad line listed in `errors`."""

    code = "insights.import_rejected"
    status = 422
    title = {"zh-CN": "导入文件有误", "en": "Import file has errors"}
    messages = {
        "zh-CN": "有 {rows} 处错误（第一处在第 {line} 行），本次未导入任何数值",
        "en": "{rows} error(s) (first at line {line}); nothing was imported",
    }
