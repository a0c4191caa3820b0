"""The evaluation of risk signals against ground truth, on crafted and generated records."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from civicpoints.fraud.evaluation import (
    EXPECTED,
    FRAUD_TYPES,
    HONEST,
    Observed,
    evaluate,
    figures_as_dict,
    is_flagged,
)

LABELS = st.sampled_from([HONEST, *FRAUD_TYPES])
CODES = st.frozensets(st.sampled_from(sorted({c for v in EXPECTED.values() for c in v})))
RECORDS = st.lists(st.builds(Observed, LABELS, st.booleans(), CODES), max_size=60)


def test_crafted_recall_precision_and_review_load() -> None:
    """Two teleports, one caught; one honest record carries the travel signal and is flagged
    too: recall 1/2, precision 1/2; 1 of 4 honest records flagged."""
    travel = frozenset({"impossible_travel"})
    records = [
        Observed("teleport", True, travel),
        Observed("teleport", False),
        Observed(HONEST, True, travel),
        Observed(HONEST, False),
        Observed(HONEST, False),
        Observed(HONEST, False),
        Observed("zero_stay", True, frozenset({"presence_too_short"})),
    ]
    f = evaluate(records)
    teleport = next(t for t in f.types if t.label == "teleport")
    assert (teleport.records, teleport.flagged, teleport.recall) == (2, 1, 0.5)
    assert (teleport.signalled, teleport.precision) == (2, 0.5)
    zero = next(t for t in f.types if t.label == "zero_stay")
    assert (zero.recall, zero.precision) == (1.0, 1.0)
    assert (f.honest, f.honest_flagged, f.review_load) == (4, 1, 0.25)
    reused = next(t for t in f.types if t.label == "reused_photo")
    assert reused.records == 0 and reused.recall is None and reused.precision is None
    assert f.records == 7


def test_flagged_is_review_or_refuse_and_a_slip_counts_by_its_risk() -> None:
    """Rejected or risky is flagged; pending review is flagged for an app record but a paper
    slip always waits for a reviewer, so only its risk counts."""
    assert is_flagged("rejected", 0, 30)
    assert is_flagged("approved", 30, 30)
    assert not is_flagged("approved", 29, 30)
    assert is_flagged("pending_review", 0, 30)
    assert not is_flagged("pending_review", 0, 30, routine_review=True)
    assert is_flagged("pending_review", 60, 30, routine_review=True)


@given(RECORDS)
def test_figures_are_ratios_of_the_counts(records: list[Observed]) -> None:
    """Every ratio lies in [0, 1] and is the counts' quotient; counts add up."""
    f = evaluate(records)
    assert f.records == len(records)
    assert f.honest == sum(r.label == HONEST for r in records)
    assert sum(t.records for t in f.types) + f.honest == len(records)
    for t in f.types:
        assert t.flagged <= t.records
        if t.records:
            assert t.recall == t.flagged / t.records
        else:
            assert t.recall is None
        if t.signalled == 0:
            assert t.precision is None
        else:
            assert t.precision is not None and 0 <= t.precision <= 1
    if f.honest:
        assert f.review_load == f.honest_flagged / f.honest
    assert figures_as_dict(f)["records"] == len(records)


@given(RECORDS)
def test_flagging_one_more_fraud_record_never_lowers_its_recall(records: list[Observed]) -> None:
    """Catching a missed fraud record raises its type's recall and leaves the review load."""
    missed = [i for i, r in enumerate(records) if r.label != HONEST and not r.flagged]
    if not missed:
        return
    i = missed[0]
    caught = [*records[:i], Observed(records[i].label, True, records[i].codes), *records[i + 1 :]]
    before, after = evaluate(records), evaluate(caught)
    label = records[i].label
    old = next(t for t in before.types if t.label == label)
    new = next(t for t in after.types if t.label == label)
    assert new.recall is not None and old.recall is not None and new.recall > old.recall
    assert after.review_load == before.review_load
