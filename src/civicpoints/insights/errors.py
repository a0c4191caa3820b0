"""The insights domain's errors, with zh-CN and en text."""

from __future__ import annotations

from civicpoints.kit.errors import DomainError


class InvalidRange(DomainError):
    """A month range that is empty, reversed or too long (nothing is read)."""

    code = "insights.invalid_range"
    status = 422
    title = {"zh-CN": "月份范围无效", "en": "Invalid month range"}
    messages = {
        "zh-CN": "月份范围无效：起始月不得晚于结束月，且最多 {most} 个月",
        "en": "invalid month range: from must not be after to, at most {most} months",
    }


class RegionUnknown(DomainError):
    """No region has this code (nothing is written)."""

    code = "insights.region_unknown"
    status = 404
    title = {"zh-CN": "未找到", "en": "Not found"}
    messages = {"zh-CN": "区域代码 {code} 不存在", "en": "no region has the code {code}"}


class InvalidChoice(DomainError):
    """A recommendations setting that is neither on nor off (nothing is written)."""

    code = "insights.invalid_choice"
    status = 422
    title = {"zh-CN": "选项无效", "en": "Invalid choice"}
    messages = {
        "zh-CN": "请选择开启或关闭为您推荐",
        "en": "choose whether recommendations are on or off",
    }


class InvalidSimulation(DomainError):
    """A simulation asked with too many changes, or a setting twice (nothing is read)."""

    code = "insights.invalid_simulation"
    status = 422
    title = {"zh-CN": "模拟条件无效", "en": "Invalid simulation"}
    messages = {
        "zh-CN": "模拟条件无效：{zh}",
        "en": "invalid simulation: {en}",
    }


class InvalidYear(DomainError):
    """A report year before the platform's records or after this one (nothing is read)."""

    code = "insights.invalid_year"
    status = 422
    title = {"zh-CN": "年份无效", "en": "Invalid year"}
    messages = {
        "zh-CN": "年份须为 {first} 至 {last} 年之间的四位数字",
        "en": "the year must be four digits from {first} to {last}",
    }


class ReportRegionNotFound(DomainError):
    """A report for a region that does not exist or lies outside the caller's scope: the
    same answer for both (scope before existence)."""

    code = "insights.report_region_not_found"
    status = 404
    title = {"zh-CN": "未找到", "en": "Not found"}
    messages = {
        "zh-CN": "找不到该区域，或您无权查看该区域的报告",
        "en": "no such region, or not one whose report you may read",
    }
