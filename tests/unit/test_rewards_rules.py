"""Pure rewards rules: voucher codes, value split, ages, limit periods and refusals."""

from __future__ import annotations

import io
import math
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from civicpoints.access import Grant, Principal, Role
from civicpoints.rewards import rules
from civicpoints.rewards.codes import QR_BOX, new_code, qr_png

NOW = datetime(2026, 11, 27, 8, tzinfo=UTC)
ITEM = rules.ItemFacts(
    active=True,
    valid_from=NOW - timedelta(days=1),
    valid_until=NOW + timedelta(days=30),
    region_ids=frozenset(),
    min_age=None,
    max_age=None,
    low_income_only=False,
    limit_per_period=2,
    stock_remaining=10,
)
WHO = rules.Applicant(True, frozenset({"r1", "r0"}), date(1958, 3, 15), False)


def test_codes_are_long_unambiguous_and_grouped() -> None:
    """≥ 80 bits from an alphabet without 0/O, 1/I/L or U, in groups of four."""
    assert rules.CODE_LENGTH * math.log2(len(rules.ALPHABET)) >= 80
    assert not set("01OILU") & set(rules.ALPHABET) and len(set(rules.ALPHABET)) == 30
    codes = {new_code() for _ in range(2000)}
    assert len(codes) == 2000
    for code in list(codes)[:50]:
        groups = code.split("-")
        assert [len(g) for g in groups] == [4] * 5 and set("".join(groups)) <= set(rules.ALPHABET)


def test_qr_png_has_the_standard_quiet_zone() -> None:
    """A black-and-white QR of whole 10-px modules inside a white margin of four modules."""
    image = Image.open(io.BytesIO(qr_png(new_code()))).convert("L")
    side, margin = image.size[0], QR_BOX * 4  # ISO/IEC 18004: at least four modules
    assert image.size == (side, side) and side % QR_BOX == 0 and 250 <= side <= 500
    inner = image.crop((margin, margin, side - margin, side - margin))
    assert inner.getextrema() == (0, 255)  # the symbol itself
    frame = [image.getpixel((x, y)) for x in range(side) for y in range(side)]
    edge = [
        v
        for i, v in enumerate(frame)
        if min(i // side, i % side, side - 1 - i // side, side - 1 - i % side) < margin
    ]
    assert set(edge) == {255}


@given(st.text(alphabet=rules.ALPHABET, min_size=20, max_size=20), st.sampled_from(["", " ", "-"]))
def test_typed_codes_normalize_back(raw: str, sep: str) -> None:
    """Lower case, spaces or dashes typed by a clerk give the stored code."""
    stored = rules.group_code(raw)
    typed = sep.join(raw[i : i + 4] for i in range(0, 20, 4)).lower()
    assert rules.normalize_code(typed) == stored


@given(st.integers(0, 10**6), st.integers(1, 1000), st.integers(0, 10**9))
def test_points_value_plus_subsidy_is_the_face_value(points: int, rate: int, face: int) -> None:
    """The sponsor's subsidy is exactly what the points do not cover."""
    value, subsidy = rules.split_value(points, rate, face)
    assert value + subsidy == face and value == points * rate


def test_zhang_subsidy_is_two_yuan() -> None:
    """480 points at 0.1 yuan against a 50-yuan voucher: 48 yuan + 2 yuan."""
    assert rules.split_value(480, 10, 5000) == (4800, 200)


@given(st.dates(date(1900, 1, 1), date(2026, 1, 1)), st.dates(date(2026, 1, 1), date(2100, 1, 1)))
def test_age_is_whole_years(birth: date, today: date) -> None:
    """Age grows by one on each birthday."""
    age = rules.age_on(birth, today)
    assert 0 <= age <= today.year - birth.year
    assert age == today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def test_period_keys() -> None:
    """Month, year or ever."""
    d = date(2026, 3, 31)
    assert [rules.period_key(p, d) for p in ("month", "year", "ever")] == [
        "2026-03",
        "2026",
        "ever",
    ]


def test_each_refusal_reason() -> None:
    """The first failing check is named; an eligible request passes."""
    today = NOW.date()

    def reason(
        item: rules.ItemFacts = ITEM, who: rules.Applicant = WHO, q: int = 1, used: int = 0
    ) -> str | None:
        r = rules.refusal(item, who, NOW, today, q, used)
        return r.reason if r else None

    assert reason() is None
    assert reason(who=rules.Applicant(False, WHO.region_ids, WHO.birth_date, False)) == "unverified"
    assert reason(q=0) == reason(q=-1) == reason(q=6) == "quantity"
    assert reason(replace(ITEM, active=False)) == "unavailable"
    assert reason(replace(ITEM, valid_from=NOW + timedelta(1))) == "not_yet"
    assert reason(replace(ITEM, region_ids=frozenset({"x"}))) == "region"
    assert reason(replace(ITEM, region_ids=frozenset({"r0"}))) is None
    assert reason(replace(ITEM, max_age=60)) == "age"
    assert reason(replace(ITEM, min_age=70)) == "age"
    assert reason(replace(ITEM, low_income_only=True)) == "low_income"
    assert reason(used=2) == "limit" and reason(q=2, used=1) == "limit"
    assert reason(replace(ITEM, stock_remaining=0)) == "stock"


@given(st.integers(-5, 10), st.integers(0, 5), st.integers(0, 12))
def test_a_passing_request_fits_stock_and_limit(quantity: int, used: int, stock: int) -> None:
    """Whenever nothing is refused, the quantity fits both the stock and the limit."""
    item = replace(ITEM, stock_remaining=stock)
    if rules.refusal(item, WHO, NOW, NOW.date(), quantity, used) is None:
        assert 1 <= quantity <= stock and used + quantity <= item.limit_per_period


def test_age_turns_on_the_birthday_itself() -> None:
    """Born 1958-03-15: 67 the day before the 2026 birthday, 68 on it."""
    assert rules.age_on(date(1958, 3, 15), date(2026, 3, 14)) == 67
    assert rules.age_on(date(1958, 3, 15), date(2026, 3, 15)) == 68
    assert rules.age_on(date(1958, 3, 15), date(2026, 2, 28)) == 67


def test_each_limit_holds_at_its_edge_and_says_so() -> None:
    """Exactly at a limit passes; one past it is refused with the numbers the message needs."""
    today = NOW.date()
    roomy = replace(ITEM, limit_per_period=10, stock_remaining=5)

    def check(item: rules.ItemFacts, q: int = 1, used: int = 0) -> rules.Refusal | None:
        return rules.refusal(item, WHO, NOW, today, q, used)

    assert check(roomy, q=5) is None  # MAX_QUANTITY and the stock, exactly
    assert check(roomy, q=6) == rules.Refusal("quantity", {"quantity": 6})
    assert check(replace(ITEM, valid_until=NOW)) == rules.Refusal("unavailable", {})
    assert check(replace(ITEM, valid_from=NOW)) is None
    later = NOW + timedelta(seconds=1)
    assert check(replace(ITEM, valid_from=later)) == rules.Refusal("not_yet", {"valid_from": later})
    assert check(ITEM, q=1, used=1) is None  # used + quantity == limit
    assert check(ITEM, q=2, used=1) == rules.Refusal("limit", {"limit": 2, "used": 1})
    assert check(replace(roomy, stock_remaining=3), q=3) is None
    assert check(replace(roomy, stock_remaining=3), q=4) == rules.Refusal("stock", {"left": 3})


def test_age_bounds_are_inclusive_and_named() -> None:
    """Aged 68 on NOW: an item for 68–68 fits; either side refuses with both bounds shown."""
    today = NOW.date()

    def check(low: int | None, high: int | None) -> rules.Refusal | None:
        return rules.refusal(replace(ITEM, min_age=low, max_age=high), WHO, NOW, today, 1, 0)

    assert check(68, 68) is None
    assert check(69, None) == rules.Refusal("age", {"age": 68, "low": 69, "high": "—"})
    assert check(69, 80) == rules.Refusal("age", {"age": 68, "low": 69, "high": 80})
    assert check(None, 67) == rules.Refusal("age", {"age": 68, "low": 0, "high": 67})
    assert check(60, 67) == rules.Refusal("age", {"age": 68, "low": 60, "high": 67})


def test_only_low_income_residents_get_low_income_items() -> None:
    poor = rules.Applicant(True, WHO.region_ids, WHO.birth_date, True)
    item = replace(ITEM, low_income_only=True)
    assert rules.refusal(item, poor, NOW, NOW.date(), 1, 0) is None
    assert rules.refusal(ITEM, poor, NOW, NOW.date(), 1, 0) is None


DEPARTMENT, OTHER = uuid.UUID(int=1), uuid.UUID(int=2)


def staff(*grants: Grant) -> Principal:
    """A staff principal holding `grants`."""
    return Principal("staff", uuid.UUID(int=9), "x", grants)


def test_who_decides_an_application() -> None:
    """Reviewers and organizers of the owning department, or a citywide administrator."""
    admin = staff(Grant(Role.ADMIN, None, None))
    assert rules.may_decide(admin, DEPARTMENT) is True
    assert rules.may_decide(admin, None) is True
    for role in (Role.REVIEWER, Role.ORGANIZER):
        own = staff(Grant(role, None, DEPARTMENT))
        assert rules.may_decide(own, DEPARTMENT) is True
        assert rules.may_decide(own, OTHER) is False
    clerk = staff(Grant(Role.MERCHANT_CLERK, None, DEPARTMENT))
    assert rules.may_decide(clerk, DEPARTMENT) is False
    # An unscoped reviewer covers every department, but an item with no department has none
    # to decide for.
    everywhere = staff(Grant(Role.REVIEWER, None, None))
    assert rules.may_decide(everywhere, DEPARTMENT) is True
    assert rules.may_decide(everywhere, None) is False


def test_who_decides_which_departments_applications() -> None:
    """A department's reviewer or organizer decides its own; a platform-wide administrator
    all; a street's reviewer or a clerk none."""
    edu, mz = uuid.uuid4(), uuid.uuid4()

    def staff(*grants: Grant) -> Principal:
        return Principal("staff", uuid.uuid4(), "x", grants)

    reviewer = staff(Grant(Role.REVIEWER, None, edu), Grant(Role.ORGANIZER, None, mz))
    assert rules.decides_for(reviewer) == {edu, mz}
    assert rules.may_decide(reviewer, edu) and not rules.may_decide(reviewer, uuid.uuid4())
    admin = staff(Grant(Role.ADMIN, "/hz", None))
    assert rules.decides_for(admin) is None and rules.may_decide(admin, mz)
    street = staff(Grant(Role.REVIEWER, "/hz/bs", None), Grant(Role.MERCHANT_CLERK, None, edu))
    assert rules.decides_for(street) == frozenset()
    assert not rules.may_decide(street, edu) and not rules.may_decide(street, None)
