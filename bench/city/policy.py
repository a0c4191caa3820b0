"""The city's own settings, stored through the services an administrator uses: its rule set
(≈ 8 points an hour, the seed's 80 M points for 10 M hours) and each region's population (so
participation of the population exists in insights)."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from datetime import date

from sqlalchemy.orm import Session

from civicpoints.insights import InsightsService
from civicpoints.kit.clock import utcnow
from civicpoints.regions import Region, RegionService
from civicpoints.scoring import rules
from civicpoints.scoring.schemas import RuleSetCreate, rule_set_to_dict
from civicpoints.scoring.service import ScoringService

Per = rules.CategoryRule
# The seed's city pays 80,000,000 points for 10,000,000 hours: 8 an hour. The defaults pay
# 10 (20 for 高风险); the city sets 8 (16), the environmental action 40 a participation.
CITY_RULES = rules.RuleSet(
    categories={
        rules.Category.VOLUNTEER_SERVICE: Per(rules.Mode.PER_HOUR, 8),
        rules.Category.HIGH_RISK: Per(rules.Mode.PER_HOUR, 16),
        rules.Category.ENVIRONMENTAL: Per(
            rules.Mode.PER_PARTICIPATION, 40, evidence=rules.Evidence.PHOTO_GPS
        ),
        rules.Category.PUBLIC_SUPERVISION: Per(rules.Mode.PER_HOUR, 8),
        rules.Category.EDUCATION_SUPPORT: Per(rules.Mode.PER_HOUR, 8),
    },
    monthly_cap=500,
    expiry_months=12,
)
CITY_RULES_NOTE = "全市积分规则：每小时 8 分（高风险 16 分），月度上限 500 分，有效期 12 个月"
# Share of a community's population registered on the platform (drawn per community): the
# rest (no smartphone, never came to a service point) counts in the population only.
REGISTERED = (0.88, 0.96)


def store_city_rules(session: Session, city: Region, admin_id: uuid.UUID, first: date) -> None:
    """The city's rule set version from the first day of the year, entered that day (the
    service refuses back-dating: `today` is the day the administrator stored it)."""
    ScoringService(session).create_rule_set(
        RuleSetCreate(
            region_id=city.id,
            effective_from=first,
            rules=rule_set_to_dict(CITY_RULES),
            note=CITY_RULES_NOTE,
        ),
        admin_id,
        today=first,
    )


def store_population(session: Session, residents: dict[uuid.UUID, int], seed: int = 5) -> int:
    """Each region's population as insights stores it (`InsightsService.set_population`):
    a community's generated residents over its registered share, summed up the tree.
    Returns the city's population."""
    regions, rng = RegionService(session), random.Random(seed)
    totals: Counter[str] = Counter()
    for community_id, n in sorted(residents.items()):
        people = round(n / rng.uniform(*REGISTERED))
        for region in regions.ancestry(regions.get(community_id)):
            totals[region.code] += people
    insights, now = InsightsService(session), utcnow()
    for code, people in sorted(totals.items()):
        insights.set_population(code, people, now)
    return max(totals.values(), default=0)
