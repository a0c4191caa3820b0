"""Transfers that keep lots (ledger carries), on both engines: points move with their expiry,
through the transit accounts even across buckets; `ledger verify` checks every carried lot
against the lot it came from, and a lengthened life is caught."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.kit.clock import expiry_instant, utcnow
from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings
from civicpoints.ledger import (
    CarryRequest,
    CarryResult,
    IdempotencyConflict,
    InsufficientPoints,
    LedgerService,
    Movement,
    verify_ledger,
)
from civicpoints.ledger.keys import generate_signer
from civicpoints.ledger.models import Carry, Lot
from civicpoints.ledger.tasks import sequence_once
from tests.integration.ledger_checks import assert_books
from tests.integration.test_clawback import award
from tests.integration.test_tamper import APPEND_ONLY, Attacker, Scene, latest_notes


def carry(
    s: Session, source: str, target: str, amount: int, key: str, months: int = 0, kind: str = "pool"
) -> CarryResult:
    """Carry `amount` from `source` to `target`."""
    move = Movement("donate", amount, f"test:{key}", "捐赠", "resident:t", utcnow(), key)
    return LedgerService(s).carry(CarryRequest(source, target, kind, move, months))


class Verifies:
    """`ledger verify` after a sequencer pass, with one signing key for the whole test."""

    def __init__(self, sessions: sessionmaker[Session], settings: Settings) -> None:
        self.sessions, self.origin = sessions, settings.ledger_origin
        self.signer = generate_signer(self.origin)

    def __call__(self) -> None:
        """Sequence, then verify: no fault."""
        sequence_once(self.sessions, self.signer, self.origin)
        with self.sessions() as s:
            report = verify_ledger(s, [self.signer.verifier])
        assert report.ok, [str(f) for f in report.faults]


def expiries(s: Session, owner: str) -> list[tuple[int, object]]:
    """(remaining, expires_at) of an owner's lots with points, earliest first."""
    return [(x.remaining, x.expires_at) for x in LedgerService(s).lots(owner) if x.remaining]


def test_points_keep_their_expiry_across_two_moves(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    """30 (10 days) + 50 (300 days) → 60 to the pool takes 30 + 30 with their dates; 40 of the
    pool to a wallet takes the 10-day lot first; the ledger verifies after each."""
    assert_verifies = Verifies(sessions, settings)
    with transaction(sessions) as s:
        award(s, "wallet:a", 30, 10, "a1")
        award(s, "wallet:a", 50, 300, "a2")
        before = {r: e for r, e in expiries(s, "wallet:a")}
    with transaction(sessions) as s:
        done = carry(s, "wallet:a", "pool:c", 60, "d1")
        assert [x.amount for x in done.slices] == [30, 30]
        assert expiries(s, "pool:c") == [(30, before[30]), (30, before[50])]
        assert expiries(s, "wallet:a") == [(20, before[50])]
    assert_verifies()
    with transaction(sessions) as s:
        carry(s, "pool:c", "wallet:b", 40, "g1", kind="wallet")
        assert expiries(s, "wallet:b") == [(30, before[30]), (10, before[50])]
        assert LedgerService(s).balance("pool:c") == 20
        assert_books(s)
    assert_verifies()


def test_a_retry_returns_the_first_carry_and_a_different_one_is_refused(
    sessions: sessionmaker[Session],
) -> None:
    """The same key and request: the first result; the same key, another amount: 409."""
    with transaction(sessions) as s:
        award(s, "wallet:a", 100, 100, "a1")
        first = carry(s, "wallet:a", "pool:c", 40, "k")
    with transaction(sessions) as s:
        again = carry(s, "wallet:a", "pool:c", 40, "k")
        assert again.replayed and [x.lot_id for x in again.slices] == [
            x.lot_id for x in first.slices
        ]
        assert again.slices[0].out_entry_id == first.slices[0].out_entry_id
        with pytest.raises(IdempotencyConflict):
            carry(s, "wallet:a", "pool:c", 41, "k")
        assert LedgerService(s).balance("wallet:a") == 60


def test_more_than_the_unexpired_points_is_refused_and_nothing_written(
    sessions: sessionmaker[Session],
) -> None:
    """100 held, of which 30 already past their date (not yet written off): 80 is too much."""
    with transaction(sessions) as s:
        award(s, "wallet:a", 70, 100, "a1")
        award(s, "wallet:a", 30, -1, "a0")
    with pytest.raises(InsufficientPoints), transaction(sessions) as s:
        carry(s, "wallet:a", "pool:c", 80, "k")
    with sessions() as s:
        assert LedgerService(s).balance("pool:c") == 0
        assert s.query(Carry).count() == 0


def test_savings_extend_only_to_the_rule_from_earning(sessions: sessionmaker[Session]) -> None:
    """A 12-month lot carried with months=24 ends 24 months after it was earned; carried back
    it keeps that date; a second carry with the rule does not extend it again."""
    with transaction(sessions) as s:
        award(s, "wallet:a", 50, 365, "a1")
        earned = LedgerService(s).lots("wallet:a")[0].earned_at
    with transaction(sessions) as s:
        carry(s, "wallet:a", "savings:a", 50, "s1", months=24, kind="savings")
        longer = expiry_instant(earned, 24)
        assert expiries(s, "savings:a") == [(50, longer)]
        carry(s, "savings:a", "wallet:a", 20, "w1", kind="wallet")
        carry(s, "wallet:a", "savings:a", 20, "s2", months=24, kind="savings")
        assert sorted(expiries(s, "savings:a")) == [(20, longer), (30, longer)]
        assert_books(s)


@pytest.fixture
def carried(sessions: sessionmaker[Session], settings: Settings) -> Scene:
    """A donation to a pool and an allocation from it, sequenced, signed and verified."""
    signer = generate_signer(settings.ledger_origin)
    with transaction(sessions) as s:
        award(s, "wallet:a", 50, 20, "a1")
    with transaction(sessions) as s:
        carry(s, "wallet:a", "pool:c", 50, "d1")
    with transaction(sessions) as s:
        carry(s, "pool:c", "wallet:b", 50, "g1", kind="wallet")
    sequence_once(sessions, signer, settings.ledger_origin)
    attacker = Attacker(settings.resolved_database_url())
    scene = Scene(sessions, signer, settings.ledger_origin, {}, latest_notes(sessions), attacker)
    assert scene.verify(trusted=True).ok
    attacker.drop_triggers()
    for table in ("ledger_carry",):
        if attacker.pg:
            attacker.sql(f"DROP TRIGGER {table}_append_only ON {table}")
        else:
            attacker.sql(f"DROP TRIGGER {table}_no_update")
    return scene


def test_a_carried_lot_given_a_longer_life_is_caught(carried: Scene) -> None:
    """The recipient's lot and its carry row moved a year later (the entry keeps its hash):
    the lot no longer matches its entry, and the carry no longer matches its source lot."""
    with carried.sessions() as s:
        bucket, wallet = LedgerService(s).locate("wallet:b")
        lot = s.query(Lot).filter_by(bucket=bucket, account_id=wallet).one()
    later = lot.expires_at + timedelta(days=365)
    carried.attacker.update("ledger_lot", {"expires_at": later}, {"bucket": bucket, "id": lot.id})
    carried.attacker.update(
        "ledger_carry", {"expires_at": later}, {"bucket": bucket, "lot_id": lot.id}
    )
    kinds = {f.kind for f in carried.verify().faults}
    assert {"lot.opening", "carry.expiry"} <= kinds
    carried.attacker.conn.close()


def test_a_carry_row_claiming_an_extension_rule_is_caught(carried: Scene) -> None:
    """Claim 'months:24' for a donation slice without changing the lot: the rule's date is not
    the lot's, so the row is named."""
    with carried.sessions() as s:
        bucket, wallet = LedgerService(s).locate("wallet:b")
    carried.attacker.update(
        "ledger_carry", {"extends": "months:24"}, {"bucket": bucket, "account_id": wallet}
    )
    assert [f.kind for f in carried.verify().faults] == ["carry.expiry"]
    carried.attacker.conn.close()


def test_a_carry_row_deleted_leaves_an_unbacked_lot(carried: Scene) -> None:
    """Without its carry row, a lot from transit has nothing its expiry can be checked against."""
    with carried.sessions() as s:
        bucket, wallet = LedgerService(s).locate("wallet:b")
    if carried.attacker.pg:
        pass  # the append-only trigger covers DELETE too; it was dropped with the UPDATE one
    else:
        carried.attacker.sql("DROP TRIGGER ledger_carry_no_delete")
    carried.attacker.sql(
        "DELETE FROM ledger_carry WHERE bucket = ? AND account_id = ?", bucket, wallet
    )
    assert "carry.unbacked" in {f.kind for f in carried.verify().faults}
    carried.attacker.conn.close()


def test_transit_accounts_are_listed_as_append_only_neighbours() -> None:
    """The tamper tests' list still names the journal tables the carries build on."""
    assert "ledger_lot_use" in APPEND_ONLY and "ledger_entry" in APPEND_ONLY
