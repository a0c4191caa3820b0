"""Identity errors: a resident's ID-card number or mobile number that cannot be accepted.

Every ID-number problem shares the stable code `identity.invalid_id_number`; the subclass
(and its `reason`) says which part is wrong, so the message can point the resident at the
characters to re-check. No message or parameter ever carries the submitted value: these
errors are logged, and the value is personal information (PIPL).
"""

from __future__ import annotations

from typing import Any, ClassVar

from civicpoints.kit.errors import DomainError


class InvalidIdNumber(DomainError):
    """An ID-card number that is not a valid 18-character GB 11643-1999 number."""

    code = "identity.invalid_id_number"
    status = 422
    title = {"zh-CN": "身份证号码有误", "en": "Invalid ID-card number"}
    messages = {
        "zh-CN": "身份证号码有误，请核对后重新输入",
        "en": "the ID-card number is not valid; please check it and enter it again",
    }
    # Machine-readable sub-reason; the code stays the same for every subclass.
    reason: ClassVar[str] = "invalid"

    def __init__(self, field: str | None = "id_number", **params: Any) -> None:
        super().__init__(field, **params)


class IdNumberMalformed(InvalidIdNumber):
    """Wrong length, or characters other than 17 digits and a final digit or X."""

    reason = "format"
    messages = {
        "zh-CN": "身份证号码应为18位：前17位为数字，最后一位为数字或字母X",
        "en": ("the ID-card number must be 18 characters: 17 digits, then a digit or the letter X"),
    }


class IdNumberRegionInvalid(InvalidIdNumber):
    """The first six digits are not shaped like a GB/T 2260 region code."""

    reason = "region"
    messages = {
        "zh-CN": "身份证号码前6位不是有效的地区代码，请核对开头几位",
        "en": (
            "the first 6 digits of the ID-card number are not a valid region code; "
            "please check the beginning of the number"
        ),
    }


class IdNumberBirthDateInvalid(InvalidIdNumber):
    """Characters 7-14 are not a calendar date (e.g. month 13 or 30 February)."""

    reason = "birth_date"
    messages = {
        "zh-CN": "身份证号码第7至14位的出生日期不存在，请核对出生年月日",
        "en": (
            "the birth date in the ID-card number (characters 7 to 14) is not a real date; "
            "please check the year, month and day"
        ),
    }


class IdNumberBirthTooEarly(InvalidIdNumber):
    """A birth date before 1900-01-01."""

    reason = "birth_too_early"
    messages = {
        "zh-CN": "身份证号码中的出生日期早于1900年，请核对第7至14位",
        "en": (
            "the birth date in the ID-card number is before 1900; please check characters 7 to 14"
        ),
    }


class IdNumberBirthInFuture(InvalidIdNumber):
    """A birth date after today."""

    reason = "birth_in_future"
    messages = {
        "zh-CN": "身份证号码中的出生日期晚于今天，请核对第7至14位",
        "en": (
            "the birth date in the ID-card number is in the future; please check characters 7 to 14"
        ),
    }


class IdNumberCheckDigitWrong(InvalidIdNumber):
    """The 18th character does not match the GB 11643-1999 check computed from the first 17."""

    reason = "check_digit"
    # Any single mistyped digit breaks the check, so the message asks for the whole number.
    messages = {
        "zh-CN": "身份证号码校验位错误，请核对最后一位及其他各位数字",
        "en": (
            "the ID-card number's check digit is wrong; "
            "please check the last character and the other digits"
        ),
    }


class InvalidPhone(DomainError):
    """A value that is not an 11-digit mainland China mobile number."""

    code = "identity.invalid_phone"
    status = 422
    title = {"zh-CN": "手机号码有误", "en": "Invalid mobile number"}
    messages = {
        "zh-CN": "请输入11位中国大陆手机号码，例如 138 1234 5678（暂不支持固定电话）",
        "en": (
            "please enter an 11-digit mainland China mobile number, e.g. 138 1234 5678 "
            "(landlines are not accepted)"
        ),
    }

    def __init__(self, field: str | None = "phone", **params: Any) -> None:
        super().__init__(field, **params)


class DuplicateResident(DomainError):
    """An ID number already registered; says nothing of whose it is."""

    code = "identity.duplicate_id_number"
    status = 409
    title = {"zh-CN": "已注册", "en": "Already registered"}
    messages = {
        "zh-CN": "该身份证号码已注册。如非本人操作，请携带身份证到社区服务中心处理",
        "en": "this ID-card number is already registered; if it was not you, "
        "please bring your ID card to the community service centre",
    }


class DuplicatePhone(DomainError):
    """A mobile number already used by another account."""

    code = "identity.duplicate_phone"
    status = 409
    title = {"zh-CN": "手机号已使用", "en": "Phone number in use"}
    messages = {
        "zh-CN": "该手机号码已被其他账户使用",
        "en": "this mobile number is already used by another account",
    }


class ConsentRequired(DomainError):
    """Registration needs consent to the privacy notice (PIPL art. 13–14)."""

    code = "identity.consent_required"
    status = 422
    title = {"zh-CN": "需要同意隐私声明", "en": "Consent required"}
    messages = {
        "zh-CN": "注册前请阅读并同意《个人信息保护声明》",
        "en": "please read and accept the privacy notice before registering",
    }


class BadCredentials(DomainError):
    """Wrong username or password; never says which."""

    code = "identity.bad_credentials"
    status = 401
    title = {"zh-CN": "登录失败", "en": "Sign-in failed"}
    messages = {"zh-CN": "账号或密码错误", "en": "wrong account or password"}


class TooManyAttempts(DomainError):
    """Sign-in throttled for this account or address; says when to come back (Retry-After)."""

    code = "identity.too_many_attempts"
    status = 429
    title = {"zh-CN": "尝试次数过多", "en": "Too many attempts"}
    messages = {
        "zh-CN": "登录失败次数过多，请 {seconds} 秒后再试",
        "en": "too many failed sign-ins; please try again in {seconds} seconds",
    }

    def __init__(self, seconds: int) -> None:
        super().__init__(None, seconds=seconds)
        # Rendered as the response's Retry-After header (RFC 9110 §10.2.3).
        self.headers = {"Retry-After": str(seconds)}


class VerificationFailed(DomainError):
    """The identity provider did not confirm the person."""

    code = "identity.verification_failed"
    status = 422
    title = {"zh-CN": "实名认证未通过", "en": "Identity not verified"}
    messages = {
        "zh-CN": "实名认证未通过：{reason_zh}",
        "en": "identity verification failed: {reason_en}",
    }


class DocumentMismatch(DomainError):
    """The number read from the card in hand is not the resident's registered ID number."""

    code = "identity.document_mismatch"
    status = 422
    title = {"zh-CN": "证件不符", "en": "Document does not match"}
    messages = {
        "zh-CN": "所核验证件的号码与该居民登记的身份证号码不一致，请核对证件和居民",
        "en": "the number on the document checked is not this resident's registered "
        "ID-card number; please check the document and the person",
    }


class WeakPassword(DomainError):
    """A password an attacker would guess early (zxcvbn score below 3)."""

    code = "identity.weak_password"
    status = 422
    title = {"zh-CN": "密码太简单", "en": "Password too weak"}
    messages = {
        "zh-CN": "密码太容易被猜到，请换一个：至少 8 位，可用几个不相关的词加数字或符号，"
        "不要用常见密码、键盘顺序或重复的字符",
        "en": "the password is too easy to guess; please choose another: at least 8 "
        "characters, e.g. a few unrelated words with digits or symbols, not a common "
        "password, a keyboard run or repeated characters",
    }
    # Machine-readable sub-reason; the code stays the same for every subclass.
    reason: ClassVar[str] = "guessable"

    def __init__(self, field: str | None = "password", **params: Any) -> None:
        super().__init__(field, **params)


class PasswordHasPersonalInfo(WeakPassword):
    """A password holding the person's name, phone, ID number or birth date."""

    reason = "personal"
    messages = {
        "zh-CN": "密码不能包含您的姓名（含拼音）、手机号、身份证号或出生日期，请换一个",
        "en": "the password may not contain your name (also in pinyin), phone number, "
        "ID-card number or birth date; please choose another",
    }


class DuplicateUsername(DomainError):
    """A staff login name that is taken."""

    code = "identity.duplicate_username"
    status = 409
    title = {"zh-CN": "用户名已被使用", "en": "User name taken"}
    messages = {
        "zh-CN": "用户名“{username}”已被使用，请换一个",
        "en": "the user name '{username}' is taken; choose another",
    }

    def __init__(self, field: str | None = "username", **params: Any) -> None:
        super().__init__(field, **params)


class StaffNotFound(DomainError):
    """An unknown staff member, or one outside the caller's region."""

    code = "identity.staff_not_found"
    status = 404
    title = {"zh-CN": "未找到", "en": "Not found"}
    messages = {"zh-CN": "找不到该工作人员", "en": "staff member not found"}


class GrantNotFound(DomainError):
    """An unknown role grant, or one outside the caller's region."""

    code = "identity.grant_not_found"
    status = 404
    title = {"zh-CN": "未找到", "en": "Not found"}
    messages = {"zh-CN": "找不到该角色授权", "en": "role grant not found"}


class GrantNeedsScope(DomainError):
    """A role grant must say where it applies: a region, an organization or both."""

    code = "identity.grant_needs_scope"
    status = 422
    title = {"zh-CN": "输入有误", "en": "Invalid input"}
    messages = {
        "zh-CN": "请选择该角色适用的地区或单位",
        "en": "choose the region or organization the role applies to",
    }

    def __init__(self, field: str | None = "region_id", **params: Any) -> None:
        super().__init__(field, **params)


class GrantOutsideScope(DomainError):
    """A grant or revocation beyond the region the administrator looks after."""

    code = "identity.grant_outside_scope"
    status = 403
    title = {"zh-CN": "无权操作", "en": "Forbidden"}
    messages = {
        "zh-CN": "您只能在自己负责的地区或单位内授予或收回角色",
        "en": "you may grant or revoke roles only within your own region or organization",
    }


class OwnGrants(DomainError):
    """Nobody changes their own roles (no self-promotion, no locking oneself out)."""

    code = "identity.own_grants"
    status = 409
    title = {"zh-CN": "不能修改自己的角色", "en": "Not your own roles"}
    messages = {
        "zh-CN": "不能修改自己的角色，请另一位管理员操作",
        "en": "you cannot change your own roles; ask another administrator",
    }
