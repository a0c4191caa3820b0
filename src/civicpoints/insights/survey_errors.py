"""Errors of surveys (问卷), with stable codes and zh-CN/en text (DESIGN.md §3)."""

from __future__ import annotations

from civicpoints.kit.errors import Conflict, Forbidden, InvalidInput, NotFound


class SurveyNotFound(NotFound):
    """No such survey, or one the caller may not see (the same answer: scope first)."""

    code = "insights.survey_not_found"
    title = {"zh-CN": "找不到问卷", "en": "Survey not found"}
    messages = {"zh-CN": "没有这份问卷", "en": "there is no such survey"}


class NotSurveyOwner(Forbidden):
    """Staff who may see a survey but not change it (only its owner may)."""

    code = "insights.not_survey_owner"
    title = {"zh-CN": "不是问卷的创建人", "en": "Not the survey's owner"}
    messages = {
        "zh-CN": "只有问卷的创建人可以修改、发布或结束它",
        "en": "only the survey's owner may edit, open or close it",
    }


class SurveyState(Conflict):
    """A change the survey's status does not allow (editing an open survey, …)."""

    code = "insights.survey_state"
    title = {"zh-CN": "问卷状态不允许", "en": "Not in this state"}
    messages = {
        "zh-CN": "问卷{state_zh}，不能{what_zh}",
        "en": "the survey is {state}: cannot {what}",
    }


class AlreadyAnswered(Conflict):
    """A second response by the same resident (or its racing twin): nothing is written."""

    code = "insights.survey_already_answered"
    title = {"zh-CN": "已经填写过", "en": "Already answered"}
    messages = {
        "zh-CN": "您已经填写过这份问卷，每人只能填写一次，提交后不能修改。",
        "en": "You have already answered this survey: one response each, not editable.",
    }


class InvalidSurvey(InvalidInput):
    """A questionnaire or a response that breaks the rules (nothing is written)."""

    code = "insights.invalid_survey"
    messages = {"zh-CN": "{where_zh}：{reason_zh}", "en": "{where_en}: {reason_en}"}
