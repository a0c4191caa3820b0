"""The mutation tool (scripts/mutate.py): which mutants it makes, and that they really run."""

from __future__ import annotations

import ast
import importlib.util
import sys
import types
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "mutate.py"


@pytest.fixture(scope="module")
def mutate() -> types.ModuleType:
    """scripts/mutate.py imported as a module (scripts/ is no package)."""
    spec = importlib.util.spec_from_file_location("mutate", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["mutate"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


SNIPPET = '''
def f(x: int = 1) -> bool:
    """Docstrings and annotations are left alone."""
    if x < 3 and not x:
        return g(a=1, b=[x, 2])
    return {"k": x} == x
'''


def test_each_operator_makes_its_mutants(mutate: types.ModuleType) -> None:
    found = {(s.where, s.before, s.after) for s in mutate.Sites(ast.parse(SNIPPET)).found}
    assert found == {
        ("f", "1 in x: int=1 at col 15", "2 in x: int=1 at col 15"),  # a default value
        ("f", "1 in x: int=1 at col 15", "0 in x: int=1 at col 15"),
        ("f", "x < 3", "x <= 3"),
        ("f", "x < 3", "x < 4"),
        ("f", "x < 3", "x < 2"),
        ("f", "x < 3 and (not x)", "not (x < 3 and (not x))"),
        ("f", "x < 3 and (not x)", "x < 3 or not x"),
        ("f", "not x", "x"),
        ("f", "return g(a=1, b=[x, 2])", "return None"),
        ("f", "g(…, a=1)", "g(… no a)"),
        ("f", "g(…, b=[x, 2])", "g(… no b)"),
        ("f", "g(a=1, b=[x, 2])", "g(a=2, b=[x, 2])"),
        ("f", "g(a=1, b=[x, 2])", "g(a=0, b=[x, 2])"),
        ("f", "[…, x, …]", "element dropped"),
        ("f", "[…, 2, …]", "element dropped"),
        ("f", "[x, 2]", "[x, 3]"),
        ("f", "[x, 2]", "[x, 1]"),
        ("f", "return {'k': x} == x", "return None"),
        ("f", "{'k': x} == x", "{'k': x} != x"),
        ("f", "{…, 'k': …}", "entry dropped"),
    }


def test_a_mutant_is_compiled_and_behaves_differently(mutate: types.ModuleType) -> None:
    chosen = [
        m for m in mutate.mutants("kit/ids.py") if "len(body) == 10 → len(body) != 10" in m.id
    ]
    assert len(chosen) == 1
    original, mutated = types.ModuleType("original"), types.ModuleType("mutated")
    exec(compile((mutate.SRC / "kit/ids.py").read_text(), "ids.py", "exec"), original.__dict__)
    exec(mutate.mutated_code("kit/ids.py", chosen[0].number), mutated.__dict__)
    assert original.is_platform_number("CP1234567897")
    assert not mutated.is_platform_number("CP1234567897")


def test_ids_are_unique_and_stable(mutate: types.ModuleType) -> None:
    ids = [m.id for m in mutate.mutants("ledger/merkle.py")]
    assert len(ids) == len(set(ids))
    assert ids == [m.id for m in mutate.mutants("ledger/merkle.py")]


def test_tests_and_dependents_are_found(mutate: types.ModuleType) -> None:
    assert "test_ids.py" in [Path(t).name for t in mutate.unit_tests("kit/ids.py")]
    assert "civicpoints.identity.service" in mutate.dependents("kit/ids.py")
    assert "civicpoints.kit.clock" not in mutate.dependents("kit/ids.py")
    # ledger/__init__ exports from chain: importing any ledger module runs chain's code first
    assert "civicpoints.ledger.merkle" in mutate.dependents("ledger/chain.py")


def test_equivalent_entries_name_existing_mutants(mutate: types.ModuleType) -> None:
    listed = mutate.equivalents()
    every = {m.id for module in mutate.MODULES for m in mutate.mutants(module)}
    assert listed and all(why.strip() for why in listed.values())
    assert set(listed) <= every
