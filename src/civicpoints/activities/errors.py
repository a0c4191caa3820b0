"""Errors of activities: check-in location, geofences, evidence photos, offline-record import.

Residents read these on a phone, often elderly: the Chinese text is short, concrete and says
what to do next; the English sits beside it. Errors with several causes share one stable `code`
and carry a `problem` key (e.g. "out_of_range") so clients can tell them apart.
"""

from __future__ import annotations

from typing import Any, ClassVar

from civicpoints.kit.errors import DomainError

# (zh-CN, en) names of input fields, used inside messages.
FIELD_LABELS: dict[str, tuple[str, str]] = {
    "lat": ("纬度", "latitude"),
    "lon": ("经度", "longitude"),
    "radius_m": ("半径（米）", "radius (metres)"),
    "points": ("多边形的点", "polygon points"),
    "type": ("范围类型", "area type"),
    "slip_no": ("单据号", "slip number"),
    "resident": ("居民", "resident"),
    "activity_id": ("活动编号", "activity number"),
    "started_at": ("开始时间", "start time"),
    "ended_at": ("结束时间", "end time"),
    "note": ("备注", "note"),
}


def field_label(field: str | None) -> tuple[str, str]:
    """The (zh-CN, en) label of `field`, or the raw name when it has none."""
    return FIELD_LABELS.get(field or "", (field or "", field or ""))


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


class ProblemError(DomainError):
    """A DomainError whose message is one of several `problems`, each a (zh-CN, en) template."""

    problems: ClassVar[dict[str, tuple[str, str]]] = {}
    messages = {"zh-CN": "{problem_zh}", "en": "{problem_en}"}

    def __init__(self, field: str | None, problem: str, **params: Any) -> None:
        self.problem = problem
        label_zh, label_en = field_label(field)
        filled = {"label_zh": label_zh, "label_en": label_en, **params}
        zh, en = self.problems[problem]
        super().__init__(
            field,
            problem_zh=zh.format(**filled),
            problem_en=_sentence(en.format(**filled)),
            **params,
        )


class InvalidCoordinates(DomainError):
    """A latitude or longitude that is not a finite number in range; `field` is lat or lon."""

    code = "activities.invalid_coordinates"
    status = 422
    title = {"zh-CN": "位置信息不正确", "en": "Invalid location"}
    messages = {
        "zh-CN": "手机定位的{label_zh}不正确，请打开手机定位后再试一次。",
        "en": "The {label_en} from your phone's location is not valid. "
        "Please turn on location and try again.",
    }

    def __init__(self, field: str) -> None:
        label_zh, label_en = field_label(field)
        super().__init__(field, label_zh=label_zh, label_en=label_en)


class InvalidGeofence(ProblemError):
    """An activity area (circle or polygon) that cannot be used; `problem` says why."""

    code = "activities.invalid_geofence"
    status = 422
    title = {"zh-CN": "活动范围设置有误", "en": "Invalid activity area"}
    problems = {
        "not_object": ("活动范围的格式不对。", "the activity area is not in the expected format."),
        "type": (
            "活动范围只能是圆形（circle）或多边形（polygon）。",
            "the activity area must be a circle or a polygon.",
        ),
        "number": ("{label_zh}需要填写一个数字。", "{label_en} must be a number."),
        "out_of_range": (
            "{label_zh}必须在 {low} 到 {high} 之间。",
            "{label_en} must be between {low} and {high}.",
        ),
        "points_list": (
            "多边形的点应当是一组 [纬度, 经度]。",
            "polygon points must be a list of [latitude, longitude] pairs.",
        ),
        "point": (
            "第 {index} 个点不对：应写成 [纬度, 经度]，"
            "纬度在 -90 到 90 之间，经度在 -180 到 180 之间。",
            "point {index} is wrong: it must be [latitude, longitude] with latitude between -90 "
            "and 90 and longitude between -180 and 180.",
        ),
        "point_count": (
            "多边形需要 {low} 到 {high} 个点，现在有 {count} 个。",
            "a polygon needs {low} to {high} points; this one has {count}.",
        ),
        "ring": (
            "多边形的边不能互相交叉，并且要围出一块区域。",
            "the polygon's edges must not cross each other and must enclose an area.",
        ),
    }


class PhotoTooLarge(DomainError):
    """An evidence photo over the size limit; refused before it is decoded."""

    code = "activities.photo_too_large"
    status = 413
    title = {"zh-CN": "照片太大", "en": "Photo too large"}
    messages = {
        "zh-CN": "照片太大了，请选一张不超过 {limit_mb} MB 的照片。",
        "en": "The photo is too large. Please choose one no bigger than {limit_mb} MB.",
    }

    def __init__(self, max_bytes: int) -> None:
        super().__init__("photo", limit_mb=f"{max_bytes / 1_048_576:.1f}".removesuffix(".0"))


class PhotoNotImage(DomainError):
    """An upload whose content is not a JPEG, PNG or WebP image, whatever its name says."""

    code = "activities.photo_not_image"
    status = 415
    title = {"zh-CN": "不是照片", "en": "Not a photo"}
    messages = {
        "zh-CN": "只能上传照片（JPG、PNG 或 WebP 格式），这个文件不是照片。",
        "en": "Only photos can be uploaded (JPEG, PNG or WebP). This file is not one.",
    }

    def __init__(self) -> None:
        super().__init__("photo")


class PhotoUnreadable(DomainError):
    """A JPEG, PNG or WebP that is damaged or cut short, so it cannot be decoded."""

    code = "activities.photo_unreadable"
    status = 422
    title = {"zh-CN": "照片已损坏", "en": "Damaged photo"}
    messages = {
        "zh-CN": "照片文件已损坏或没有传完整，请重新拍一张再上传。",
        "en": "The photo is damaged or did not upload completely. "
        "Please take it again and upload it.",
    }

    def __init__(self) -> None:
        super().__init__("photo")


class PhotoTooManyPixels(DomainError):
    """A photo with more pixels than the limit (a decompression bomb or a giant scan)."""

    code = "activities.photo_too_many_pixels"
    status = 413
    title = {"zh-CN": "照片尺寸过大", "en": "Photo dimensions too large"}
    messages = {
        "zh-CN": "照片的尺寸太大了（超过 {max_mp} 百万像素），请上传手机正常拍摄的照片。",
        "en": "The photo is too big in size (over {max_mp} megapixels). "
        "Please upload a normal phone photo.",
    }

    def __init__(self, max_pixels: int) -> None:
        super().__init__("photo", max_mp=max_pixels // 1_000_000)


class ImportFileInvalid(ProblemError):
    """A whole offline-record import file that cannot be read; no row of it is imported."""

    code = "activities.import_file_invalid"
    status = 422
    title = {"zh-CN": "导入文件有问题", "en": "Problem with the import file"}
    problems = {
        "encoding": (
            "无法识别文件里的文字。请在 Excel 中选择“另存为”，"
            "类型选“CSV UTF-8（逗号分隔）”，再上传。",
            "the text in this file cannot be read. In Excel choose “Save As” and the type "
            "“CSV UTF-8 (Comma delimited)”, then upload again.",
        ),
        "excel": (
            "这是 Excel 表格文件，不是 CSV 文件。请在 Excel 中选择“另存为”，"
            "类型选“CSV UTF-8（逗号分隔）”，再上传。",
            "this is an Excel workbook, not a CSV file. In Excel choose “Save As” and the type "
            "“CSV UTF-8 (Comma delimited)”, then upload again.",
        ),
        "empty": ("文件是空的，没有任何内容。", "the file is empty."),
        "missing_column": (
            "文件第一行（标题行）缺少“{label_zh}”这一列（列名也可以写作 {column}）。",
            "the first line (the header) has no “{label_en}” column (it may be named {column}).",
        ),
        "duplicate_column": (
            "“{label_zh}”这一列出现了两次，请删掉其中一列。",
            "the “{label_en}” column appears twice; please delete one of them.",
        ),
        "too_many_rows": (
            "行数太多：一次最多导入 {max_rows} 行，请分成几个文件上传。",
            "too many rows: at most {max_rows} rows can be imported at once. "
            "Please split the file.",
        ),
        "malformed": (
            "文件第 {line} 行的格式有误（可能是引号没有成对），无法读取。",
            "line {line} is malformed (perhaps a quotation mark is not closed) and cannot be read.",
        ),
    }


class RecordRowInvalid(ProblemError):
    """One field of one offline-record row is wrong; the import reports it for that line."""

    code = "activities.record_row_invalid"
    status = 422
    title = {"zh-CN": "这一行有误", "en": "This row has a problem"}
    problems = {
        "missing": ("{label_zh}没有填写。", "{label_en} is empty."),
        "too_long": (
            "{label_zh}太长了，最多 {max_len} 个字。",
            "{label_en} is too long (at most {max_len} characters).",
        ),
        "bad_time": (
            "{label_zh}“{value}”看不懂，请按 2026-03-01 09:00 这样填写。",
            "{label_en} “{value}” is not understood; write it like 2026-03-01 09:00.",
        ),
        "implausible_year": (
            "{label_zh}须在 {earliest}–{latest} 年之间，请核对年份。",
            "{label_en} must lie in the years {earliest}–{latest}; please check the year.",
        ),
        "column_count": (
            "这一行有 {got} 列，标题行有 {expected} 列，请检查是否多了或少了逗号。",
            "this row has {got} columns but the header has {expected}; "
            "check for a missing or extra comma.",
        ),
        "duplicate_slip": (
            "单据号 {slip_no} 与第 {first_line} 行重复。",
            "slip number {slip_no} already appears on line {first_line}.",
        ),
    }


class RecordSpanInvalid(ProblemError):
    """Times of a paper slip that cannot be true of the activity (the check is in spans.py)."""

    code = "activities.record_span_invalid"
    status = 422
    title = {"zh-CN": "服务时间有误", "en": "Invalid service times"}
    problems = {
        "end_before_start": (
            "结束时间必须晚于开始时间。",
            "the end time must be later than the start time.",
        ),
        "too_long_duration": (
            "活动时长超过 {max_hours} 小时，请检查开始时间和结束时间。",
            "the activity lasts more than {max_hours} hours; please check the start and end times.",
        ),
        "in_future": (
            "{label_zh}晚于现在（{now}，北京时间）：只能登记已经结束的服务。",
            "the {label_en} is later than now ({now} Beijing time): only service that has "
            "ended can be recorded.",
        ),
        "before_session": (
            "{label_zh}早于活动开始前 {slack_min} 分钟（最早 {limit}，北京时间），请核对单据。",
            "the {label_en} is more than {slack_min} minutes before the activity starts "
            "(earliest {limit} Beijing time); please check the slip.",
        ),
        "after_session": (
            "{label_zh}晚于活动结束后 {slack_min} 分钟（最晚 {limit}，北京时间），请核对单据。",
            "the {label_en} is more than {slack_min} minutes after the activity ends "
            "(latest {limit} Beijing time); please check the slip.",
        ),
        "longer_than_session": (
            "服务时长 {got} 分钟，超过了活动本身的 {limit} 分钟，请核对{label_zh}。",
            "the service lasts {got} minutes, longer than the activity's {limit} minutes; "
            "please check the {label_en}.",
        ),
    }


class RecordDecided(DomainError):
    """A photo for a record that is already approved or rejected: the decision stands."""

    code = "activities.record_decided"
    status = 409
    title = {"zh-CN": "记录已审结", "en": "Record already decided"}
    messages = {
        "zh-CN": "这条服务记录已经{status_zh}，不能再补充照片。",
        "en": "this record has already been {status_en}; photos can no longer be added",
    }


class ActivityNotFound(DomainError):
    """An unknown activity id."""

    code = "activities.not_found"
    status = 404
    title = {"zh-CN": "未找到活动", "en": "Activity not found"}
    messages = {
        "zh-CN": "找不到这个活动，请核对活动编号",
        "en": "no such activity; check its number",
    }


class ParticipationNotFound(DomainError):
    """An unknown participation record (or one of someone else)."""

    code = "activities.participation_not_found"
    status = 404
    title = {"zh-CN": "未找到服务记录", "en": "Record not found"}
    messages = {"zh-CN": "找不到这条服务记录", "en": "no such participation record"}


class ActivityState(DomainError):
    """The activity's state does not allow this (not published, cancelled, over)."""

    code = "activities.state"
    status = 409
    title = {"zh-CN": "活动状态不允许此操作", "en": "Not possible in this state"}
    messages = {"zh-CN": "{why_zh}", "en": "{why_en}"}


class NotEnrolled(DomainError):
    """Check-in needs an enrollment."""

    code = "activities.not_enrolled"
    status = 409
    title = {"zh-CN": "未报名", "en": "Not enrolled"}
    messages = {
        "zh-CN": "您还没有报名这个活动，请先报名",
        "en": "you have not enrolled in this activity; please enrol first",
    }


class AlreadyRecorded(DomainError):
    """A second record of the same person at the same activity, or a reused slip number."""

    code = "activities.already_recorded"
    status = 409
    title = {"zh-CN": "已有记录", "en": "Already recorded"}
    messages = {"zh-CN": "{what_zh}", "en": "{what_en}"}


class OutsideGeofence(DomainError):
    """A check-in/out position outside the activity's area."""

    code = "activities.outside_geofence"
    status = 422
    title = {"zh-CN": "不在活动地点", "en": "Not at the activity"}
    messages = {
        "zh-CN": "您当前的位置距离活动地点约 {distance} 米，不在活动范围内。"
        "请到达“{place}”后再签到",
        "en": "you are about {distance} m from the activity, outside its area; "
        "please check in when you are at “{place}”",
    }


class OutsideTimeWindow(DomainError):
    """A check-in/out outside the activity's time window."""

    code = "activities.outside_time_window"
    status = 422
    title = {"zh-CN": "不在签到时间内", "en": "Outside the time window"}
    messages = {
        "zh-CN": "现在不能{action_zh}：可在 {opens} 至 {closes}（北京时间）之间{action_zh}",
        "en": "you cannot {action_en} now: {action_en} is open {opens} to {closes} Beijing time",
    }


class InvalidSchedule(DomainError):
    """An activity whose end is not after its start, or that lasts over a day."""

    code = "activities.invalid_schedule"
    status = 422
    title = {"zh-CN": "活动时间有误", "en": "Invalid schedule"}
    messages = {
        "zh-CN": "结束时间须晚于开始时间，且单次活动不超过 24 小时",
        "en": "the end must be after the start, and one session may last at most 24 hours",
    }


class InvalidCategory(DomainError):
    """An unknown activity category."""

    code = "activities.invalid_category"
    status = 422
    title = {"zh-CN": "活动类别有误", "en": "Invalid category"}
    messages = {
        "zh-CN": "活动类别须为：志愿服务、高风险、环保行动、公共监督、教育支持之一",
        "en": "the category must be one of volunteer_service, high_risk, environmental, "
        "public_supervision, education_support",
    }


class ReviewState(DomainError):
    """A decision on a record that is not waiting for review."""

    code = "activities.not_pending_review"
    status = 409
    title = {"zh-CN": "无需审核", "en": "Not awaiting review"}
    messages = {
        "zh-CN": "这条记录当前状态为“{status}”，不在待审核队列中",
        "en": "this record is “{status}”, not waiting for review",
    }


class ImportRejected(DomainError):
    """A CSV with bad rows: nothing imported, every bad row listed in `errors`."""

    code = "activities.import_rejected"
    status = 422
    title = {"zh-CN": "导入文件有误", "en": "Import file has errors"}
    messages = {
        "zh-CN": "有 {rows} 行数据有误（第一处在第 {line} 行），本次未导入任何记录。"
        "请修改后重新上传",
        "en": "{rows} row(s) have errors (first at line {line}); nothing was imported. "
        "Please correct the file and upload it again",
    }


class NotLowRisk(DomainError):
    """A bulk approval naming a record that is not waiting or not low-risk."""

    code = "activities.not_low_risk"
    status = 409
    title = {"zh-CN": "不能批量通过", "en": "Cannot approve in bulk"}
    messages = {
        "zh-CN": "以下记录不在待审核状态或风险不低，需逐条审核，本次均未通过：{ids}",
        "en": "these records are not waiting or not low-risk and must be reviewed one by one; "
        "none was approved: {ids}",
    }
