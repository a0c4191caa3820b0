"""The pure rules of volunteer teams: contributions, shares, names, quantities."""

from __future__ import annotations

import uuid

from civicpoints.community.team_rules import (
    MAX_QUANTITY,
    clean_name,
    contributions,
    hours_text,
    quantity_ok,
)

A, B, C = (uuid.UUID(int=i) for i in (1, 2, 3))


def test_every_member_is_listed_most_points_first_with_shares_in_permille() -> None:
    lines = contributions([A, B, C], {A: (40, 1), B: (80, 2)}, {A: 240, B: 480, C: 0})
    assert [(x.resident_id, x.points, x.minutes, x.share_permille) for x in lines] == [
        (B, 80, 480, 666),
        (A, 40, 240, 333),
        (C, 0, 0, 0),
    ]
    assert [x.hours for x in lines] == ["8.0", "4.0", "0.0"]


def test_a_former_member_keeps_their_line_and_no_points_means_no_share() -> None:
    lines = contributions([A], {B: (40, 1)}, {B: 240})
    assert {x.resident_id for x in lines} == {A, B}
    assert contributions([A], {}, {}) == [contributions([A], {}, {})[0]]
    assert contributions([A], {}, {})[0].share_permille == 0


def test_fifty_equal_members_each_hold_two_percent() -> None:
    ids = [uuid.UUID(int=i) for i in range(50)]
    lines = contributions(ids, dict.fromkeys(ids, (40, 1)), dict.fromkeys(ids, 240))
    assert {x.share_permille for x in lines} == {20} and sum(x.points for x in lines) == 2000


def test_hours_names_and_quantities() -> None:
    assert hours_text(240) == "4.0" and hours_text(90) == "1.5" and hours_text(0) == "0.0"
    assert clean_name("  北山  河道 清洁队 ") == "北山 河道 清洁队"
    assert clean_name("   ") is None and clean_name("x" * 61) is None
    assert quantity_ok(1) and quantity_ok(MAX_QUANTITY)
    assert not quantity_ok(0) and not quantity_ok(MAX_QUANTITY + 1) and not quantity_ok(True)
