"""Risk signals measured against ground truth: labelled records and their outcomes → figures.

Pure: values in, values out. A record is *flagged* when its outcome is review or refuse. For
each fraud type, recall is the share of its records flagged; precision is the share of that
type's records among the flagged records carrying one of the signals the type should raise
(None when no flagged record carries them); the review load is the share of honest records
flagged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

HONEST = "honest"
# Each fraud type and the signal codes it should raise.
EXPECTED: dict[str, frozenset[str]] = {
    "reused_photo": frozenset({"photo_near_duplicate", "photo_reused"}),
    "photo_elsewhere": frozenset({"photo_far_from_site"}),
    "teleport": frozenset({"impossible_travel"}),
    "zero_stay": frozenset({"presence_too_short"}),
    "overlapping_slips": frozenset({"overlapping_records"}),
    "spoofed_coordinates": frozenset({"shared_coordinates", "implausible_accuracy"}),
    "device_farm": frozenset({"shared_device"}),
}
FRAUD_TYPES = tuple(EXPECTED)


@dataclass(frozen=True)
class Observed:
    """One record: its ground-truth label, whether it was flagged, and its signal codes."""

    label: str
    flagged: bool
    codes: frozenset[str] = frozenset()


@dataclass(frozen=True)
class TypeFigures:
    """The figures of one fraud type."""

    label: str
    records: int
    flagged: int
    recall: float | None
    signalled: int  # flagged records (any label) carrying one of the type's signals
    precision: float | None


@dataclass(frozen=True)
class Figures:
    """Every fraud type's figures and the review load on honest records."""

    types: tuple[TypeFigures, ...]
    records: int
    honest: int
    honest_flagged: int
    review_load: float | None


def is_flagged(status: str, risk: int, review_at: int, routine_review: bool = False) -> bool:
    """Review or refuse: rejected, waiting for a reviewer, or risky enough for review (an
    approved record whose risk rose afterwards waits on the reviewers' recheck list).

    A paper slip always waits for a reviewer (`routine_review`): only its risk counts.
    """
    if status == "rejected" or risk >= review_at:
        return True
    return status == "pending_review" and not routine_review


def _ratio(part: int, whole: int) -> float | None:
    """part / whole, None for an empty whole."""
    return part / whole if whole else None


def type_figures(label: str, records: list[Observed]) -> TypeFigures:
    """Recall and precision of one fraud type over all records."""
    mine = [r for r in records if r.label == label]
    caught = sum(r.flagged for r in mine)
    codes = EXPECTED.get(label, frozenset())
    signalled = [r for r in records if r.flagged and r.codes & codes]
    right = sum(r.label == label for r in signalled)
    return TypeFigures(
        label,
        len(mine),
        caught,
        _ratio(caught, len(mine)),
        len(signalled),
        _ratio(right, len(signalled)),
    )


def evaluate(observed: Iterable[Observed]) -> Figures:
    """The figures of every fraud type and the review load."""
    records = list(observed)
    honest = [r for r in records if r.label == HONEST]
    wrong = sum(r.flagged for r in honest)
    return Figures(
        tuple(type_figures(t, records) for t in FRAUD_TYPES),
        len(records),
        len(honest),
        wrong,
        _ratio(wrong, len(honest)),
    )


def figures_as_dict(figures: Figures) -> dict[str, object]:
    """The figures as JSON-ready values."""
    return {
        "records": figures.records,
        "honest": figures.honest,
        "honest_flagged": figures.honest_flagged,
        "review_load": figures.review_load,
        "types": {
            t.label: {
                "records": t.records,
                "flagged": t.flagged,
                "recall": t.recall,
                "signalled": t.signalled,
                "precision": t.precision,
            }
            for t in figures.types
        },
    }
