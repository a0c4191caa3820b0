"""The policy simulator's pure part (insights/simulate.py): no change is the identity, the
current rules replayed give back what compute_award paid in order, and a higher monthly cap
adds exactly what the cap cut (never more, never to anyone not cut)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from civicpoints.insights.simulate import Changes, PastAward, modified, replay
from civicpoints.scoring import DEFAULT_RULE_SET, Category, Facts, compute_award

PEOPLE = [uuid.UUID(int=i + 1) for i in range(3)]
REGION = (uuid.UUID(int=100), uuid.UUID(int=101))
NOW = datetime(2026, 12, 7, tzinfo=UTC)
MONTHS = ["2026-10", "2026-11"]

decisions = st.lists(
    st.tuples(
        st.integers(0, 2),
        st.sampled_from(MONTHS),
        st.sampled_from(list(Category)),
        st.integers(0, 900),
        st.booleans(),
    ),
    max_size=25,
)


def past(plan: list[tuple[int, str, Category, int, bool]]) -> list[PastAward]:
    """The plan decided in order under the seed's rules, as scoring would have paid it."""
    used: dict[tuple[uuid.UUID, str], int] = {}
    out = []
    for i, (who, month, category, minutes, photo) in enumerate(plan):
        facts = Facts(category, minutes, photo=photo, gps_verified=photo)
        key = (PEOPLE[who], month)
        award = compute_award(DEFAULT_RULE_SET, facts, used.get(key, 0))
        used[key] = used.get(key, 0) + award.awarded
        out.append(
            PastAward(
                order=i,
                cap_key=PEOPLE[who],
                resident_id=PEOPLE[who],
                month=month,
                occurred_at=NOW - timedelta(days=40),
                region_ids=REGION,
                in_scope=True,
                rule_set_id=None,
                facts=facts,
                awarded=award.awarded,
            )
        )
    return out


@given(plan=decisions)
def test_no_change_changes_nothing(plan: list[tuple[int, str, Category, int, bool]]) -> None:
    awards = past(plan)
    assert modified(DEFAULT_RULE_SET, Changes(), REGION) == DEFAULT_RULE_SET
    weighted = Changes(weights={REGION[1]: 100})
    assert modified(DEFAULT_RULE_SET, weighted, REGION) == DEFAULT_RULE_SET
    current = replay(awards, {}, None, MONTHS, NOW)
    same = replay(awards, {}, Changes(), MONTHS, NOW)
    assert current.reproduced == current.decisions == len(awards)
    assert current.points == same.points == sum(a.awarded for a in awards)


@given(plan=decisions, cap=st.integers(501, 5_000))
def test_a_higher_cap_adds_exactly_what_was_cut(
    plan: list[tuple[int, str, Category, int, bool]], cap: int
) -> None:
    awards = past(plan)
    before = replay(awards, {}, None, MONTHS, NOW)
    after = replay(awards, {}, Changes(monthly_cap=cap), MONTHS, NOW)
    for month in MONTHS:
        months = [a for a in awards if a.month == month]
        for person in PEOPLE:
            mine = [a for a in months if a.resident_id == person]
            owed = sum(compute_award(DEFAULT_RULE_SET, a.facts, 0).base for a in mine)
            paid = sum(a.awarded for a in mine)
            assert paid == min(owed, 500)  # what the seed's cap let through
        base = {
            p: sum(
                compute_award(DEFAULT_RULE_SET, a.facts, 0).base
                for a in months
                if a.resident_id == p
            )
            for p in PEOPLE
        }
        expected = sum(min(b, cap) for b in base.values())
        assert after.by_month[month] == expected >= before.by_month[month]
    assert after.at_cap <= before.at_cap


def test_a_weight_applies_to_the_region_and_below_it_only() -> None:
    rules = modified(DEFAULT_RULE_SET, Changes(weights={REGION[1]: 150}), REGION)
    assert rules.categories[Category.VOLUNTEER_SERVICE].points == 15
    assert rules.hazard_reports.points == 30
    elsewhere = modified(DEFAULT_RULE_SET, Changes(weights={uuid.UUID(int=7): 150}), REGION)
    assert elsewhere == DEFAULT_RULE_SET
    rated = modified(
        DEFAULT_RULE_SET,
        Changes(rates={Category.HIGH_RISK: 30}, weights={REGION[0]: 50, REGION[1]: 200}),
        REGION,
    )
    assert rated.categories[Category.HIGH_RISK].points == 15  # the most specific weight wins
