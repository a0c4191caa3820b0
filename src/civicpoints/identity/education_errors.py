"""Errors of 教育积分 (education points), with stable codes (DESIGN.md §3)."""

from __future__ import annotations

from civicpoints.kit.errors import Conflict, Forbidden, InvalidInput, NotFound


class NotAMinor(InvalidInput):
    """A child's ID number whose holder is 18 or older."""

    code = "education.not_a_minor"
    title = {"zh-CN": "不是未成年子女", "en": "Not a minor"}
    messages = {
        "zh-CN": "只能关联未满 18 周岁的子女",
        "en": "only a child under 18 can be linked",
    }


class ChildNameMismatch(InvalidInput):
    """A child already known under this ID number, with another name."""

    code = "education.child_name_mismatch"
    title = {"zh-CN": "姓名与身份证号不符", "en": "Name does not match"}
    messages = {
        "zh-CN": "子女姓名与身份证号码不符，请核对",
        "en": "the child's name does not match the ID number; please check it",
    }


class TooManyGuardians(Conflict):
    """A third guardian for one child."""

    code = "education.too_many_guardians"
    title = {"zh-CN": "监护人已满", "en": "Guardians full"}
    messages = {
        "zh-CN": "每名子女最多关联 {most} 名监护人",
        "en": "a child can be linked to at most {most} guardians",
    }


class AlreadyLinked(Conflict):
    """The guardian already asked to link (or has linked) this child."""

    code = "education.already_linked"
    title = {"zh-CN": "已申请关联", "en": "Already linked"}
    messages = {
        "zh-CN": "您已申请关联该子女",
        "en": "you have already asked to link this child",
    }


class ChildNotLinked(NotFound):
    """A child the guardian is not linked to (or an unknown child: the same answer)."""

    code = "education.child_not_linked"
    title = {"zh-CN": "未关联该子女", "en": "Child not linked"}
    messages = {
        "zh-CN": "您没有关联该子女",
        "en": "you are not linked to this child",
    }


class LinkNotConfirmed(Conflict):
    """A link the education department has not (or not yet) confirmed."""

    code = "education.link_not_confirmed"
    title = {"zh-CN": "关联尚未确认", "en": "Link not confirmed"}
    messages = {
        "zh-CN": "与该子女的关联尚未经教育部门确认，积分不能计入其教育账户",
        "en": "the education department has not confirmed your link to this child yet",
    }


class LinkNotFound(NotFound):
    """An unknown link."""

    code = "education.link_not_found"
    title = {"zh-CN": "找不到关联申请", "en": "Link not found"}
    messages = {"zh-CN": "找不到该关联申请", "en": "link request not found"}


class LinkDecided(Conflict):
    """A decision on a link already decided."""

    code = "education.link_decided"
    title = {"zh-CN": "已处理", "en": "Already decided"}
    messages = {
        "zh-CN": "该关联申请已处理（{status_zh}）",
        "en": "this link request has already been decided ({status})",
    }


class NotEducationStaff(Forbidden):
    """Staff without the education role where the guardian lives."""

    code = "education.not_education_staff"
    title = {"zh-CN": "无教育部门权限", "en": "Not education staff here"}
    messages = {
        "zh-CN": "只有监护人所在区域的教育部门工作人员可以处理",
        "en": "only education staff of the guardian's region may decide this",
    }


class InvalidYearEnd(InvalidInput):
    """An enrolment-year end that is not a month and day every year has."""

    code = "education.invalid_year_end"
    title = {"zh-CN": "学年结束日期有误", "en": "Invalid year end"}
    messages = {
        "zh-CN": "学年结束日期应为 MM-DD（如 08-31），且不能是 02-29",
        "en": "the enrolment year's end must be MM-DD (e.g. 08-31), not 02-29",
    }
