"""Errors of volunteer teams and their pools, with stable codes (DESIGN.md §3)."""

from __future__ import annotations

from civicpoints.kit.errors import Conflict, Forbidden, InvalidInput, NotFound


class TeamNotFound(NotFound):
    """No such team (or one the caller may not see)."""

    code = "community.team_not_found"
    title = {"zh-CN": "找不到志愿队", "en": "Team not found"}
    messages = {"zh-CN": "没有这个志愿队", "en": "there is no such team"}


class NotTeamStaff(Forbidden):
    """Staff without the role that runs (or spends) the community's teams."""

    code = "community.not_team_staff"
    title = {"zh-CN": "无权管理志愿队", "en": "Not this community's staff"}
    messages = {
        "zh-CN": "只有本社区的{role_zh}可以{what_zh}",
        "en": "only the community's {role_en} may {what_en}",
    }


class NotTeamMember(Forbidden):
    """A resident who is not a member of the team (its page, or its challenge)."""

    code = "community.not_team_member"
    title = {"zh-CN": "不是队员", "en": "Not a team member"}
    messages = {
        "zh-CN": "只有“{team}”的队员可以{what_zh}",
        "en": "only members of {team} may {what_en}",
    }


class WrongCommunity(InvalidInput):
    """A member, captain or activity from another community than the team's."""

    code = "community.team_wrong_community"
    title = {"zh-CN": "不在本社区", "en": "Not in the team's community"}
    messages = {
        "zh-CN": "{what_zh}不属于志愿队所在社区",
        "en": "{what_en} is not in the team's community",
    }


class DuplicateTeam(Conflict):
    """A team name already used in the community."""

    code = "community.team_exists"
    title = {"zh-CN": "志愿队已存在", "en": "Team exists"}
    messages = {
        "zh-CN": "本社区已有名为“{name}”的志愿队",
        "en": "the community already has a team named {name}",
    }


class NotCommunityItem(InvalidInput):
    """A team pool spent on anything but a community-fund item."""

    code = "community.not_community_item"
    title = {"zh-CN": "只能兑换社区项目", "en": "Community items only"}
    messages = {
        "zh-CN": "志愿队积分池只能用于社区基金类项目（如社区活动室装修基金）",
        "en": "a team pool is spent only on community-fund items (e.g. the community room fund)",
    }
