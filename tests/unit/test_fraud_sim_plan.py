"""The simulated city's plan: deterministic from its seed, every fraud type present, honest
residents who never overlap themselves."""

from __future__ import annotations

from datetime import date, datetime
from itertools import pairwise

from civicpoints.cli.fraud_sim_fraud import OVERLAP_PAIR, plan
from civicpoints.fraud.evaluation import FRAUD_TYPES, HONEST

TODAY = date(2026, 12, 6)


def test_same_seed_same_plan_and_every_type_present() -> None:
    """The seed decides everything; each fraud type and honest records appear."""
    a, b = plan(5, 60, TODAY), plan(5, 60, TODAY)
    assert [(v.who, v.slot.index, v.label, v.arrive) for v in a.visits] == [
        (v.who, v.slot.index, v.label, v.arrive) for v in b.visits
    ]
    labels = {v.label for v in a.visits} | {s.label for s in a.slips}
    assert set(FRAUD_TYPES) | {HONEST, OVERLAP_PAIR} == labels
    assert plan(6, 60, TODAY).visits != a.visits


def test_honest_visits_of_one_resident_never_overlap() -> None:
    """Nobody honest is in two sessions at once (back-to-back ones touch, no more)."""
    p = plan(9, 80, TODAY)
    spans: dict[int, list[tuple[datetime, datetime]]] = {}
    for v in p.visits:
        spans.setdefault(v.who, []).append((max(v.arrive, v.slot.starts), v.slot.ends))
    for who, mine in spans.items():
        mine.sort()
        for (_, end), (start, _) in pairwise(mine):
            assert end <= start, who


def test_a_reused_photo_copies_an_earlier_photo_of_someone_else() -> None:
    """The copy's original was uploaded by another resident in an earlier session."""
    p = plan(11, 100, TODAY)
    by_seed = {v.shot.seed: v for v in p.visits if v.shot and v.shot.copy_of is None}
    reused = [v for v in p.visits if v.label == "reused_photo"]
    assert reused
    for v in reused:
        assert v.shot is not None and v.shot.copy_of is not None and v.shot.exif_at is None
        original = by_seed[v.shot.copy_of]
        assert original.who != v.who and original.slot.starts < v.slot.starts
