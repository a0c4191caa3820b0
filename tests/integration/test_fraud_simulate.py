"""`civicpoints fraud simulate` on both engines: a small labelled city through the real
services, every fraud type present, the figures computed from the records' outcomes."""

from __future__ import annotations

import pytest
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.activities.models import Participation
from civicpoints.cli.fraud_sim import NotEmpty, as_json, simulate
from civicpoints.fraud.evaluation import FRAUD_TYPES
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction

SEED, RESIDENTS = 20261206, 40


def test_a_small_city_measures_every_fraud_type(
    sessions: sessionmaker[Session], ctx: Context
) -> None:
    """Each fraud type has records, honest records exist and are not sent to review, the
    counts are those of the records written, teleports and zero stays are all caught; a
    second run refuses the database it filled."""
    outcome = simulate(sessions, ctx, RESIDENTS, SEED)
    figures = outcome.figures
    with transaction(sessions) as s:
        written = s.scalar(select(func.count()).select_from(Participation))
        flagged_rows = s.scalar(  # review or refuse, counted straight from the records
            select(func.count())
            .select_from(Participation)
            .where(
                or_(
                    Participation.status == "rejected",
                    Participation.risk >= outcome.review_at,
                    and_(Participation.status == "pending_review", Participation.source == "app"),
                )
            )
        )
    assert figures.records == written
    assert figures.honest > 100
    by_type = {t.label: t for t in figures.types}
    assert set(by_type) == set(FRAUD_TYPES)
    for t in figures.types:
        assert t.records >= 2, t.label
        assert t.recall == t.flagged / t.records
    assert by_type["teleport"].recall == 1.0
    assert by_type["zero_stay"].recall == 1.0
    assert by_type["overlapping_slips"].recall == 1.0
    # The first three accounts on a farm's device look like a family until the fourth
    # comes; then their records, approved or not, are weighed again (the recheck list).
    assert by_type["device_farm"].recall == 1.0
    assert figures.review_load is not None and figures.review_load <= 0.03
    # Every flagged record is counted once; only the first slip of a pair is unlabelled.
    caught = sum(t.flagged for t in figures.types) + figures.honest_flagged
    pairs = by_type["overlapping_slips"].records
    assert caught <= (flagged_rows or 0) <= caught + pairs
    assert as_json(outcome)["review_load"] == figures.review_load
    with pytest.raises(NotEmpty):
        simulate(sessions, ctx, RESIDENTS, SEED)
