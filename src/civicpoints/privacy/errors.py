"""Errors of the privacy use cases."""

from __future__ import annotations

from civicpoints.kit.errors import Conflict, NotFound


class DeletionAlreadyRequested(Conflict):
    """A deletion request is already waiting for this resident."""

    code = "privacy.deletion_already_requested"
    messages = {
        "zh-CN": "您已提交删除申请，将于 {due} 前处理",
        "en": "your deletion request is already waiting; it will be carried out by {due}",
    }


class DeletionNotFound(NotFound):
    """No pending deletion request with that id."""

    code = "privacy.deletion_not_found"
    messages = {"zh-CN": "找不到待处理的删除申请", "en": "no pending deletion request with that id"}
