"""kit/dbapi.Columns: the fast path's column lists come from the models, never typed twice."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest

from civicpoints.kit.dbapi import Columns
from civicpoints.ledger.models import Entry, Lot
from civicpoints.scoring.models import AwardRow


def test_columns_are_the_models_columns_in_table_order() -> None:
    """Every column of the table, in its order: a column added to the model is written too."""
    for model in (Entry, Lot, AwardRow):
        table = model.__table__
        assert Columns(model).names == tuple(c.name for c in table.columns)
    assert "expires_at" in Columns(Entry).names  # the hashed lot expiry (cp-entry-v2)


def test_a_value_nobody_supplies_fails_with_the_columns_name() -> None:
    """A new model column the fast path does not fill is a loud error, not a silent NULL."""
    lot = Columns(Lot)
    partial = SimpleNamespace(bucket=0, id=uuid.uuid4(), account_id=uuid.uuid4())
    with pytest.raises(AttributeError, match=r"ledger_lot\.entry_id"):
        lot.values(partial)


def test_given_values_win_and_sources_are_read_in_order() -> None:
    """Keyword values first, then the first source that has the attribute."""
    first = SimpleNamespace(bucket=1, id="a")
    second = SimpleNamespace(id="ignored", account_id="b", entry_id="c", amount=5)
    stamp = object()
    values = Columns(Lot).values(first, second, remaining=5, earned_at=stamp, expires_at=None)
    assert values == [1, "a", "b", "c", 5, 5, stamp, None]
