"""Errors of the regions domain."""

from __future__ import annotations

from civicpoints.kit.errors import InvalidInput, NotFound


class RegionNotFound(NotFound):
    """An unknown region id or code."""

    code = "regions.not_found"
    messages = {"zh-CN": "所选地区不存在", "en": "the selected region does not exist"}


class NotACommunity(InvalidInput):
    """A resident's home must be a community (社区), the lowest level."""

    code = "regions.not_a_community"
    messages = {
        "zh-CN": "请选择您所在的社区（不是街道或区）",
        "en": "please choose your community, not a street or district",
    }


class OrganizationNotFound(NotFound):
    """An unknown organization."""

    code = "regions.organization_not_found"
    messages = {"zh-CN": "所选组织不存在", "en": "the selected organization does not exist"}
