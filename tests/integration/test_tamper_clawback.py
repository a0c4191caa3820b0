"""Tampering with clawback debts, caught by `verify_ledger` on both engines.

The ledger holds a clawback that left a debt, a repayment by a later award, and a clawback that
was restored. The attacker (raw SQL, triggers dropped) tries to make the debt disappear or the
records say something else than the transfers.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.kit.clock import utcnow
from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings
from civicpoints.ledger import chain
from civicpoints.ledger.keys import generate_signer
from civicpoints.ledger.tasks import sequence_once

from .test_clawback import award, claw, restore, spend
from .test_tamper import Attacker, Scene, append_forged, latest_notes


@pytest.fixture
def scene(sessions: sessionmaker[Session], settings: Settings) -> Iterator[Scene]:
    """x owes 50 (100 clawed back after 70 were spent, 20 repaid); y's clawback was restored."""
    signer = generate_signer(settings.ledger_origin)
    with transaction(sessions) as s:
        x1 = award(s, "wallet:x", 100, 100, "x1")
        spend(s, "wallet:x", 70, "hx")
        y1 = award(s, "wallet:y", 40, 100, "y1")
    with transaction(sessions) as s:
        cut = claw(s, "wallet:x", x1, 100, "cx")
        undone = claw(s, "wallet:y", y1, 40, "cy")
    with transaction(sessions) as s:
        award(s, "wallet:x", 20, 100, "x2")
        restore(s, "wallet:y", undone.clawback_id, "ay")
    assert cut.debt == 70
    sequence_once(sessions, signer, settings.ledger_origin)
    attacker = Attacker(settings.resolved_database_url())
    scene = Scene(sessions, signer, settings.ledger_origin, {}, latest_notes(sessions), attacker)
    assert scene.verify(trusted=True).ok
    attacker.drop_triggers()
    yield scene
    attacker.conn.close()


def debt_of(scene: Scene, owner: str) -> tuple[int, uuid.UUID, uuid.UUID]:
    """(bucket, wallet id, debt account id) of a wallet."""
    bucket, wallet = scene.wallet(owner.removeprefix("wallet:"))
    return bucket, wallet, chain.debt_account_for(wallet)


def test_the_cached_debt_zeroed(scene: Scene) -> None:
    """Wipe the wallet's `owed` (so the next award would not repay): named on that wallet."""
    bucket, wallet, _ = debt_of(scene, "wallet:x")
    scene.attacker.update("ledger_account", {"owed": 0}, {"bucket": bucket, "id": wallet})
    report = scene.verify()
    assert [(f.kind, f.account_id) for f in report.faults] == [("account.owed", wallet)]


def test_the_debt_account_zeroed_with_the_cache(scene: Scene) -> None:
    """Zero the debt account's cached balance and the wallet's `owed` together: the debt
    account's entries still owe 50."""
    bucket, wallet, debt = debt_of(scene, "wallet:x")
    scene.attacker.update("ledger_account", {"owed": 0}, {"bucket": bucket, "id": wallet})
    scene.attacker.update("ledger_account", {"balance": 0}, {"bucket": bucket, "id": debt})
    report = scene.verify()
    assert report.kinds().keys() == {"account.balance", "ledger.balances_sum"}
    assert [f.account_id for f in report.faults if f.kind == "account.balance"] == [debt]


def test_a_forged_forgiveness(scene: Scene) -> None:
    """Forgive the debt with a forged, correctly chained transfer from the clawback sink (caches
    and `owed` moved too): the log never saw those entries."""
    bucket, wallet, debt = debt_of(scene, "wallet:x")
    sink = uuid.uuid5(chain.ACCOUNT_NAMESPACE, f"system:clawback#{bucket}")
    transfer_id, now = uuid.uuid4(), utcnow()
    scene.attacker.insert(
        "ledger_transfer",
        {
            "bucket": bucket,
            "id": transfer_id,
            "kind": "award",
            "amount": 50,
            "debit_account_id": sink,
            "credit_account_id": debt,
            "idempotency_key": "forged",
            "request_hash": "0" * 64,
            "ref": "ref:forged",
            "reason": "志愿服务 volunteering",
            "actor": "t",
            "occurred_at": now,
            "recorded_at": now,
        },
    )
    forged = [
        append_forged(scene, bucket, sink, debt, transfer_id, -50, now),
        append_forged(scene, bucket, debt, sink, transfer_id, 50, now),
    ]
    scene.attacker.update("ledger_account", {"owed": 0}, {"bucket": bucket, "id": wallet})
    report = scene.verify()
    assert {(f.kind, f.entry_id) for f in report.faults} == {
        ("log.entry_missing", forged[0]),
        ("log.entry_missing", forged[1]),
    }


def test_a_debt_account_above_zero(scene: Scene) -> None:
    """A debt account credited beyond what was owed (cache and `owed` set to match)."""
    bucket, wallet, debt = debt_of(scene, "wallet:x")
    scene.attacker.update("ledger_account", {"owed": -5}, {"bucket": bucket, "id": wallet})
    scene.attacker.update("ledger_account", {"balance": 5}, {"bucket": bucket, "id": debt})
    report = scene.verify()
    assert report.kinds().keys() == {"account.balance", "account.debt", "ledger.balances_sum"}


@pytest.mark.parametrize(("column", "delta"), [("debt", -50), ("taken", 10), ("lapsed", 1)])
def test_a_clawback_record_edited(scene: Scene, column: str, delta: int) -> None:
    """The clawback's index row says other amounts than its transfers."""
    bucket, wallet, _ = debt_of(scene, "wallet:x")
    scene.attacker.sql(
        f"UPDATE ledger_clawback SET {column} = {column} + ? WHERE account_id = ?", delta, wallet
    )
    report = scene.verify()
    assert [(f.kind, f.account_id, f.bucket) for f in report.faults] == [
        ("clawback.record", wallet, bucket)
    ]


def test_a_restore_record_edited(scene: Scene) -> None:
    """A restore row that claims to have returned more than its transfer did."""
    scene.attacker.sql("UPDATE ledger_restore SET returned = returned + 10")
    report = scene.verify()
    assert [f.kind for f in report.faults] == ["restore.record"]
