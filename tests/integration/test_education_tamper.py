"""教育积分's expiry is evidence, on both engines: a child's education lot ends with the
enrolment year by the rule its carry row names (`year_end:MM-DD`), and `ledger verify`
recomputes it. An attacker who drops the append-only triggers and rewrites the rule, or the
date, is caught."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.kit.clock import as_utc, utcnow
from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings
from civicpoints.ledger import CarryRequest, LedgerService, Movement
from civicpoints.ledger.keys import generate_signer
from civicpoints.ledger.lifetimes import year_end_expiry
from civicpoints.ledger.models import Lot
from civicpoints.ledger.tasks import sequence_once
from tests.integration.test_clawback import award
from tests.integration.test_tamper import Attacker, Scene, latest_notes

INTAKE, CHILD = "education-intake:resident:a", "education:child:c"


@pytest.fixture
def educated(sessions: sessionmaker[Session], settings: Settings) -> Scene:
    """An award to the intake carried to a child's account under year_end:08-31, verified."""
    signer = generate_signer(settings.ledger_origin)
    with transaction(sessions) as s:
        award(s, INTAKE, 20, 365, "a1")
    with transaction(sessions) as s:
        move = Movement("education", 20, "test:e1", "教育积分", "resident:a", utcnow(), "e1")
        LedgerService(s).carry(CarryRequest(INTAKE, CHILD, "education", move, year_end="08-31"))
        lot = LedgerService(s).lots(CHILD)[0]
        assert as_utc(lot.expires_at) == year_end_expiry(as_utc(lot.earned_at), "08-31")
    sequence_once(sessions, signer, settings.ledger_origin)
    attacker = Attacker(settings.resolved_database_url())
    scene = Scene(sessions, signer, settings.ledger_origin, {}, latest_notes(sessions), attacker)
    assert scene.verify(trusted=True).ok
    attacker.drop_triggers()
    if attacker.pg:
        attacker.sql("DROP TRIGGER ledger_carry_append_only ON ledger_carry")
    else:
        attacker.sql("DROP TRIGGER ledger_carry_no_update")
    return scene


@pytest.mark.parametrize("rule", ["year_end:06-30", "year_end:02-29", "", "months:24"])
def test_a_rewritten_rule_is_caught(educated: Scene, rule: str) -> None:
    """Another year end, an impossible one, none, or the points bank's: the lot's date is not
    what the recorded rule gives, so the carry is named."""
    with educated.sessions() as s:
        bucket, account = LedgerService(s).locate(CHILD)
    educated.attacker.update(
        "ledger_carry", {"extends": rule}, {"bucket": bucket, "account_id": account}
    )
    assert [f.kind for f in educated.verify().faults] == ["carry.expiry"]
    educated.attacker.conn.close()


def test_a_later_date_with_its_row_is_caught(educated: Scene) -> None:
    """The child's lot and its carry row moved a year later: the lot no longer matches its
    hashed entry, and the carry no longer matches its rule."""
    with educated.sessions() as s:
        bucket, account = LedgerService(s).locate(CHILD)
        lot = s.query(Lot).filter_by(bucket=bucket, account_id=account).one()
    later = lot.expires_at + timedelta(days=365)
    educated.attacker.update("ledger_lot", {"expires_at": later}, {"bucket": bucket, "id": lot.id})
    educated.attacker.update(
        "ledger_carry", {"expires_at": later}, {"bucket": bucket, "lot_id": lot.id}
    )
    kinds = {f.kind for f in educated.verify().faults}
    assert {"lot.opening", "carry.expiry"} <= kinds
    educated.attacker.conn.close()
