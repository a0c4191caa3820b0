"""Errors of 隐患随手拍, with stable codes and zh-CN/en messages."""

from __future__ import annotations

from civicpoints.kit.errors import DomainError


class HazardNotFound(DomainError):
    """An unknown report, or one outside the caller's department (scope before existence)."""

    code = "community.hazard_not_found"
    status = 404
    title = {"zh-CN": "未找到隐患上报", "en": "Hazard report not found"}
    messages = {"zh-CN": "找不到这条隐患上报", "en": "no such hazard report"}


class HazardPhotoMissing(DomainError):
    """A report without a photo."""

    code = "community.hazard_photo_missing"
    status = 422
    title = {"zh-CN": "缺少照片", "en": "Photo missing"}
    messages = {
        "zh-CN": "请拍一张隐患现场的照片再上报",
        "en": "take a photo of the hazard, then report it",
    }


class HazardPhotoFar(DomainError):
    """A photo whose EXIF position is far from the place the report claims."""

    code = "community.hazard_photo_far"
    status = 422
    title = {"zh-CN": "照片位置不符", "en": "Photo taken elsewhere"}
    messages = {
        "zh-CN": "照片拍摄位置距上报地点约 {metres} 米，超过 {limit} 米。请在隐患现场拍照上报",
        "en": "the photo was taken about {metres} m from the reported place, more than "
        "{limit} m; take the photo at the hazard and report it there",
    }


class NoDepartment(DomainError):
    """No department of the category's line serves the community."""

    code = "community.hazard_no_department"
    status = 422
    title = {"zh-CN": "无受理部门", "en": "No department"}
    messages = {
        "zh-CN": "该社区暂无受理此类隐患的部门，请拨打 12345 反映",
        "en": "no department handles this kind of hazard in this community; call 12345",
    }


class HazardDecided(DomainError):
    """A report already decided (confirmed, merged or rejected): decisions are final."""

    code = "community.hazard_decided"
    status = 409
    title = {"zh-CN": "已处理", "en": "Already decided"}
    messages = {
        "zh-CN": "这条上报已处理（{status_zh}），不能再更改",
        "en": "this report was already decided ({status_en}); it cannot change",
    }


class AlreadyConfirmed(DomainError):
    """Confirming a report whose hazard an earlier confirmed report already covers."""

    code = "community.hazard_already_confirmed"
    status = 409
    title = {"zh-CN": "已有首报", "en": "Already reported"}
    messages = {
        "zh-CN": "同一地点 48 小时内已有确认的首报，请把这条合并到首报",
        "en": "an earlier report of this hazard is already confirmed; merge this one into it",
    }


class NotADuplicate(DomainError):
    """Merging into a report that is not the same hazard, not earlier, or not open/confirmed."""

    code = "community.hazard_not_duplicate"
    status = 422
    title = {"zh-CN": "不能合并", "en": "Cannot merge"}
    messages = {
        "zh-CN": "只能合并到 48 小时内、100 米以内同类隐患的更早上报（未驳回、未合并）",
        "en": "a report merges only into an earlier, open or confirmed report of the same "
        "kind within 100 m and 48 h",
    }
