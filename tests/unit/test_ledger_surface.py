"""The ledger's public surface: what other domains (and holds) may use, checked by reading code."""

from __future__ import annotations

import ast
import uuid
from pathlib import Path

import civicpoints.ledger as ledger
from civicpoints.ledger import accounts, holds, journal, service

SRC = Path(ledger.__file__).parent.parent


def reach_throughs(path: Path) -> list[str]:
    """`x._private` and `x.repo` on anything but `self`: reaching into another object."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Attribute):
            continue
        own = isinstance(node.value, ast.Name) and node.value.id == "self"
        private = node.attr.startswith("_") and not node.attr.startswith("__")
        if not own and (private or node.attr == "repo"):
            found.append(f"{path.name}:{node.lineno} {ast.unparse(node)}")
    return found


def test_the_package_exports_its_surface() -> None:
    """Services and value types other domains use come from `civicpoints.ledger` itself."""
    assert ledger.LedgerService is service.LedgerService
    assert ledger.HoldService is holds.HoldService
    assert ledger.Movement is journal.Movement and ledger.Posting is journal.Posting
    assert ledger.wallet_of is accounts.wallet_of
    assert {"CreditRequest", "HoldRequest", "Resolution", "InsufficientPoints"} <= set(
        ledger.__all__
    )
    assert {"ClawbackRequest", "ClawbackResult", "RestoreRequest", "RestoreResult"} <= set(
        ledger.__all__
    )
    assert callable(ledger.LedgerService.claw_back) and callable(ledger.LedgerService.restore)
    assert all(hasattr(ledger, name) for name in ledger.__all__)


def test_holds_use_only_the_ledgers_public_operations() -> None:
    """No private method and no repository of LedgerService is used by holds (or clawbacks)."""
    assert reach_throughs(SRC / "ledger" / "holds.py") == []
    assert reach_throughs(SRC / "ledger" / "clawback.py") == []


def test_wallet_of_is_the_ledgers() -> None:
    """A resident's wallet name is the ledger's to give; nothing imports it from scoring."""
    rid = uuid.UUID("0a1b2c3d-0000-4000-8000-000000000001")
    assert accounts.wallet_of(rid) == "wallet:resident:0a1b2c3d-0000-4000-8000-000000000001"
    root = SRC.parent.parent
    users = [
        f"{path.relative_to(root)}:{node.lineno}"
        for path in [*SRC.rglob("*.py"), *(root / "tests").rglob("*.py")]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom)
        and node.module == "civicpoints.scoring.service"
        and any(alias.name == "wallet_of" for alias in node.names)
    ]
    assert users == []
