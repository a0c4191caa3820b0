"""access: the SQL filter selects exactly the rows `Principal.may` allows (property test)."""

from __future__ import annotations

import uuid

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, MetaData, String, Table, Uuid, create_engine, insert, select

from civicpoints.access import Grant, Principal, Role, scope_clause

ORGS = [uuid.UUID(int=i) for i in range(1, 4)]
PATHS = ["/1/", "/1/2/", "/1/2/5/", "/1/3/", "/4/", "/1/2_/", "/1/%/"]
meta = MetaData()
target = Table(
    "target",
    meta,
    Column("id", String, primary_key=True),
    Column("region_path", String, nullable=False),
    Column("organization_id", Uuid, nullable=True),
)
engine = create_engine("sqlite://")
meta.create_all(engine)
PAIRS: list[tuple[str, uuid.UUID | None]] = [(p, o) for p in PATHS for o in [*ORGS, None]]
with engine.begin() as conn:
    conn.execute(
        insert(target),
        [{"id": f"{p}|{o}", "region_path": p, "organization_id": o} for p, o in PAIRS],
    )

grants = st.builds(
    Grant,
    role=st.sampled_from([Role.REVIEWER, Role.ORGANIZER, Role.ADMIN]),
    region_path=st.one_of(st.none(), st.sampled_from(PATHS)),
    organization_id=st.one_of(st.none(), st.sampled_from(ORGS)),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(grants, max_size=4), st.sampled_from([Role.REVIEWER, Role.ORGANIZER]))
def test_sql_scope_equals_the_pure_rule(gs: list[Grant], role: Role) -> None:
    """For every row, `scope_clause` selects it exactly when `may` allows it."""
    who = Principal("staff", uuid.uuid4(), "x", tuple(gs))
    clause = scope_clause(who, role, target.c.region_path, target.c.organization_id)
    with engine.connect() as conn:
        chosen = set(conn.scalars(select(target.c.id).where(clause)))
    allowed = {f"{p}|{o}" for p, o in PAIRS if who.may(role, p, o)}
    assert chosen == allowed


def test_a_path_with_like_wildcards_matches_only_itself() -> None:
    """'_' and '%' in a grant's path are literal characters, not LIKE wildcards."""
    who = Principal("staff", uuid.uuid4(), "x", (Grant(Role.REVIEWER, "/1/2_/", None),))
    clause = scope_clause(who, Role.REVIEWER, target.c.region_path, target.c.organization_id)
    with engine.connect() as conn:
        paths = set(conn.scalars(select(target.c.region_path).where(clause)))
    assert paths == {"/1/2_/"}


def test_no_grant_of_the_role_selects_nothing() -> None:
    """An organizer grant does not open a reviewer's list."""
    who = Principal("staff", uuid.uuid4(), "x", (Grant(Role.ORGANIZER, None, None),))
    clause = scope_clause(who, Role.REVIEWER, target.c.region_path, target.c.organization_id)
    with engine.connect() as conn:
        assert list(conn.scalars(select(target.c.id).where(clause))) == []
