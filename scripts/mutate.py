"""Mutation testing of the pure core: small AST mutants of each module against its unit tests.

    .venv/bin/python scripts/mutate.py                  # every module, 2 workers, a table
    .venv/bin/python scripts/mutate.py identity/idcard.py --survivors
    .venv/bin/python scripts/mutate.py kit/ids.py --list  # the mutants, without running them

A mutant changes one thing (see `Sites`) and is compiled in memory; a forked child imports it
in place of the module through an import hook and runs the module's unit tests with `pytest -x`.
Tests that fail (or run past the time limit) kill it. Survivors listed in
scripts/mutation_equivalent.toml, each with the reason it cannot change behaviour, count as
equivalent; the score is killed / (mutants - equivalent). docs/mutation.md explains the rest.
"""

from __future__ import annotations

import argparse
import ast
import importlib.abc
import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.machinery import ModuleSpec
from importlib.metadata import entry_points
from pathlib import Path
from types import CodeType, ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "civicpoints"
UNIT = ROOT / "tests" / "unit"
EQUIVALENT_FILE = ROOT / "scripts" / "mutation_equivalent.toml"
# The pure modules, and unit tests that reach them without importing them by name.
MODULES: dict[str, list[str]] = {
    "ledger/merkle.py": [],
    "ledger/chain.py": [],
    "ledger/journal.py": ["test_ledger_properties.py"],
    "scoring/rules.py": [],
    "identity/idcard.py": [],
    "kit/ids.py": [],
    "kit/versions.py": ["test_rules.py", "test_versions.py", "test_education_rules.py"],
    "kit/earth.py": ["test_geo.py", "test_fraud_positions.py"],
    "activities/geo.py": [],
    "rewards/rules.py": [],
    "fraud/checks.py": [],
    "fraud/ladder.py": [],
    "fraud/positions.py": [],
    "fraud/patterns.py": [],
    "fraud/photos.py": [],
    "fraud/venue.py": [],
}
THIRD_PARTY = ["pytest", "hypothesis", "sqlalchemy", "psycopg", "pydantic", "fastapi", "shapely"]
FLIP: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
# Annotations are never evaluated (`from __future__ import annotations`); decorators configure.
SKIPPED_FIELDS = {"annotation", "returns", "decorator_list", "type_comment"}


@dataclass
class Site:
    """One possible mutation: where, what it looks like before and after, and how to apply it."""

    line: int
    where: str
    before: str
    after: str
    apply: Callable[[], None]


def _text(node: ast.AST, limit: int = 60) -> str:
    text = ast.unparse(node).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Sites:
    """Every mutation site of a tree, in a fixed order (so mutant n is the same on each parse)."""

    def __init__(self, tree: ast.Module) -> None:
        """Collect the sites of `tree`; applying one changes `tree` in place."""
        self.found: list[Site] = []
        self._scope: list[str] = []
        self._stack: list[ast.AST] = []
        self._visit(tree)

    def _visit(self, node: ast.AST) -> None:
        named = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            self._scope.append(node.name)
        for name, value in ast.iter_fields(node):
            if name in SKIPPED_FIELDS:
                continue
            children = value if isinstance(value, list) else [value]
            self._stack.append(node)
            for i, child in enumerate(children):
                if isinstance(child, ast.AST):
                    self._mutations(node, name, i if isinstance(value, list) else None, child)
                    self._visit(child)
            self._stack.pop()
        if named:
            self._scope.pop()

    def _add(self, node: ast.AST, before: str, after: str, apply: Callable[[], None]) -> None:
        where = ".".join(self._scope) or "<module>"
        self.found.append(Site(getattr(node, "lineno", 0), where, before, after, apply))

    def _replacer(
        self, parent: ast.AST, field: str, index: int | None
    ) -> Callable[[ast.AST], None]:
        def put(new: ast.AST) -> None:
            if index is None:
                setattr(parent, field, new)
            else:
                getattr(parent, field)[index] = new

        return put

    def _mutations(self, parent: ast.AST, field: str, index: int | None, node: ast.AST) -> None:
        put = self._replacer(parent, field, index)
        self._compare(node)
        self._constant(node)
        self._condition(parent, field, node, put)
        self._drops(node)
        if isinstance(node, ast.BoolOp):
            other = ast.Or() if isinstance(node.op, ast.And) else ast.And()
            after = ast.BoolOp(op=other, values=node.values)
            self._add(node, _text(node), _text(after), lambda: setattr(node, "op", other))
        if isinstance(node, ast.Return) and node.value is not None:
            value = node.value
            if not (isinstance(value, ast.Constant) and value.value is None):
                self._add(node, _text(node), "return None", lambda: setattr(node, "value", None))

    def _compare(self, node: ast.AST) -> None:
        if not isinstance(node, ast.Compare):
            return
        for i, op in enumerate(node.ops):
            new = FLIP[type(op)]()
            ops = [*node.ops[:i], new, *node.ops[i + 1 :]]
            after = _text(ast.Compare(left=node.left, ops=ops, comparators=node.comparators))
            self._add(node, _text(node), after, _setter(node.ops, i, new))

    def _constant(self, node: ast.AST) -> None:
        if not isinstance(node, ast.Constant):
            return
        # Shown inside the nearest expression that names it: `number[17]`, not `17`.
        around = [
            n for n in self._stack if isinstance(n, ast.expr) and not isinstance(n, ast.Slice)
        ]
        shown = around[-1] if around else node
        if len(_text(shown, 999)) > 60:
            shown = node
        if isinstance(node.value, bool):
            self._swap_value(node, shown, not node.value)
        elif isinstance(node.value, int):
            self._swap_value(node, shown, node.value + 1)
            self._swap_value(node, shown, node.value - 1)

    def _swap_value(self, node: ast.Constant, shown: ast.AST, new: int) -> None:
        old, before = node.value, _text(shown)
        node.value = new
        after = _text(shown)
        node.value = old
        if shown is node:  # name the literal by its place in the long expression around it
            top = self._stack[-1]
            where = f"{_text(top, 30)} at col {node.col_offset - getattr(top, 'col_offset', 0)}"
            before, after = f"{before} in {where}", f"{after} in {where}"
        self._add(node, before, after, lambda: setattr(node, "value", new))

    def _condition(
        self, parent: ast.AST, field: str, node: ast.AST, put: Callable[[ast.AST], None]
    ) -> None:
        tested = field in ("test", "ifs") and isinstance(
            parent, ast.If | ast.While | ast.IfExp | ast.comprehension
        )
        # `not x` loses its `not` below, and `a == b` becomes `a != b` in _compare: the same
        # negation twice would only cost time.
        negates = (ast.Eq, ast.NotEq, ast.In, ast.NotIn, ast.Is, ast.IsNot)
        redundant = (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not)) or (
            isinstance(node, ast.Compare)
            and len(node.ops) == 1
            and isinstance(node.ops[0], negates)
        )
        if tested and isinstance(node, ast.expr) and not redundant:
            negated = ast.UnaryOp(op=ast.Not(), operand=node)
            self._add(node, _text(node), _text(negated), lambda: put(negated))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            self._add(node, _text(node), _text(node.operand), lambda: put(node.operand))

    def _drops(self, node: ast.AST) -> None:
        if isinstance(node, ast.Call):
            func = _text(node.func, 30)
            for i, kw in enumerate(node.keywords):
                if kw.arg is not None:
                    before = f"{func}(…, {kw.arg}={_text(kw.value, 30)})"
                    self._add(node, before, f"{func}(… no {kw.arg})", _popper(node.keywords, i))
        elif isinstance(node, ast.Dict):
            for i, key in enumerate(node.keys):
                if key is not None:
                    drop = _popper(node.keys, i, node.values)
                    self._add(node, f"{{…, {_text(key, 30)}: …}}", "entry dropped", drop)
        elif isinstance(node, ast.List) and isinstance(node.ctx, ast.Load):
            for i, elt in enumerate(node.elts):
                self._add(
                    node, f"[…, {_text(elt, 40)}, …]", "element dropped", _popper(node.elts, i)
                )


def _setter(items: list[Any], i: int, new: object) -> Callable[[], None]:
    return lambda: items.__setitem__(i, new)


def _popper(items: list[Any], i: int, also: list[Any] | None = None) -> Callable[[], None]:
    def pop() -> None:
        items.pop(i)
        if also is not None:
            also.pop(i)

    return pop


@dataclass(frozen=True)
class Mutant:
    """A numbered mutant of a module, with a stable id that survives unrelated edits."""

    module: str
    number: int
    line: int
    id: str


def mutants(module: str) -> list[Mutant]:
    """The mutants of `module` (a path under src/civicpoints), numbered in site order."""
    out, seen = [], dict[str, int]()
    for n, site in enumerate(Sites(_parse(module)).found):
        base = f"{module}::{site.where}: {site.before} → {site.after}"
        seen[base] = seen.get(base, 0) + 1
        out.append(Mutant(module, n, site.line, base + (f" #{seen[base]}" * (seen[base] > 1))))
    return out


def _parse(module: str) -> ast.Module:
    return ast.parse((SRC / module).read_text(), filename=str(SRC / module))


def mutated_code(module: str, number: int) -> CodeType:
    """The compiled module with mutant `number` applied (a fresh parse each time)."""
    tree = _parse(module)
    Sites(tree).found[number].apply()
    return compile(ast.fix_missing_locations(tree), str(SRC / module), "exec")


def dotted(module: str) -> str:
    """'ledger/chain.py' → 'civicpoints.ledger.chain'."""
    return "civicpoints." + module.removesuffix(".py").replace("/", ".")


def unit_tests(module: str) -> list[str]:
    """The unit test files that import `module` by name, plus the listed indirect ones."""
    package, _, name = dotted(module).rpartition(".")
    pattern = re.compile(
        rf"{re.escape(package)}\.{name}\b|from {re.escape(package)} import [^\n]*\b{name}\b"
    )
    found = {p.name for p in UNIT.glob("test_*.py") if pattern.search(p.read_text())}
    return [str(UNIT / f) for f in sorted(found | set(MODULES[module]))]


def _imports(path: Path) -> set[str]:
    """The dotted names a source file imports (anywhere in it, including inside functions)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    # Importing a.b.c runs a/__init__ and a/b/__init__ first.
    return names | {n.rsplit(".", k)[0] for n in names for k in range(1, n.count(".") + 1)}


def dependents(module: str) -> set[str]:
    """`module` and every civicpoints module importing it, directly or through others."""
    graph = {}
    for p in SRC.rglob("*.py"):
        name = dotted(p.relative_to(SRC).as_posix()).removesuffix(".__init__")
        # Importing a module runs its own packages' __init__ first: a package that re-exports
        # the mutated module (its public surface) makes every module inside it a dependent.
        graph[name] = _imports(p) | {name.rsplit(".", k)[0] for k in range(1, name.count("."))}
    out, grew = {dotted(module)}, True
    while grew:
        new = {name for name, imported in graph.items() if name not in out and imported & out}
        out |= new
        grew = bool(new)
    return out


class _Hook(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves the mutated code object when the mutated module is imported."""

    def __init__(self, module: str, code: CodeType) -> None:
        self.name, self.origin, self.code = dotted(module), str(SRC / module), code

    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        """The mutant's spec, for the mutated module only."""
        if name != self.name:
            return None
        return importlib.util.spec_from_file_location(name, self.origin, loader=self)

    def create_module(self, spec: ModuleSpec) -> None:
        """The default module object."""
        return None

    def exec_module(self, module: ModuleType) -> None:
        """Run the mutated code as the module's body."""
        exec(self.code, module.__dict__)  # the point of the tool: run the mutant


def _child(module: str, code: CodeType | None, tests: list[str], drop: set[str]) -> None:
    """In the forked child: import the mutant (or the original) and run the tests; never return."""
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    for name in drop:  # re-imported by the tests, so that they see the mutant
        sys.modules.pop(name, None)
    if code is not None:
        sys.meta_path.insert(0, _Hook(module, code))
    import pytest
    from hypothesis import Phase, settings

    # The same examples every run (so a verdict is repeatable), none saved between mutants, and
    # no shrinking: a failing example kills the mutant whether or not it is the smallest one,
    # and shrinking a mutant's failure can take longer than the whole test run.
    settings.register_profile(
        "mutation",
        database=None,
        derandomize=True,
        deadline=None,
        phases=(Phase.explicit, Phase.reuse, Phase.generate),
        report_multiple_bugs=False,
    )
    settings.load_profile("mutation")
    os._exit(int(pytest.main(["-x", "-q", "-p", "no:cacheprovider", *tests])))


def _spawn(module: str, code: CodeType | None, tests: list[str], drop: set[str]) -> int:
    pid = os.fork()
    if pid == 0:
        try:
            _child(module, code, tests, drop)
        finally:
            os._exit(3)
    return pid


def _outcome(exit_code: int) -> str:
    # pytest: 0 passed, 1 failed, 2 interrupted (a mutant may break collection), 3 internal
    # error, 4 usage error, 5 nothing collected; a negative code is a signal (a crash).
    if exit_code == 0:
        return "survived"
    return "error" if exit_code in (4, 5) else "killed"


def _schedule(
    module: str, todo: list[int], jobs: int, limit: float, run: Callable[..., int]
) -> dict[int, str]:
    """Run mutants `todo`, at most `jobs` at once, each killed after `limit` seconds."""
    results: dict[int, str] = {}
    running: dict[int, tuple[int, float]] = {}
    pending = list(reversed(todo))
    while pending or running:
        while pending and len(running) < jobs:
            number = pending.pop()
            running[run(mutated_code(module, number))] = (number, time.monotonic())
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid:
            results[running.pop(pid)[0]] = _outcome(os.waitstatus_to_exitcode(status))
            if sys.stderr.isatty():
                print(f"\r{module}: {len(results)}/{len(todo)}", end="", file=sys.stderr)
            continue
        for pid, (number, started) in list(running.items()):
            if time.monotonic() - started > limit:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                del running[pid]
                results[number] = "timeout"
        time.sleep(0.02)
    return results


def _preload(drop: set[str]) -> None:
    """Import what the children share, so each fork starts warm: never the mutated module."""
    for name in THIRD_PARTY:
        __import__(name)
    for plugin in entry_points(group="pytest11"):  # schemathesis's alone takes seconds
        plugin.load()
    # Names from the files, not pkgutil.walk_packages: walking imports each package's __init__,
    # and a package's public surface may import the mutated module.
    names = sorted(
        dotted(p.relative_to(SRC).as_posix()).removesuffix(".__init__") for p in SRC.rglob("*.py")
    )
    for name in names:
        if name not in drop and name.split(".")[1:2] not in (["web"], ["cli"], ["jobs"]):
            try:
                importlib.import_module(name)
            except Exception:  # a module needing the mutated one indirectly: left to the child
                continue
    assert not drop & set(sys.modules), "a preloaded module imported the mutated one"


def worker(module: str, jobs: int, only: str | None) -> dict[str, object]:
    """Baseline then every mutant of `module` (or those whose id contains `only`)."""
    tests, drop = unit_tests(module), dependents(module)
    if not tests:  # pytest with no paths would run the whole suite
        return {"error": f"no unit test imports {dotted(module)}"}
    _preload(drop)

    def run(code: CodeType | None) -> int:
        return _spawn(module, code, tests, drop)

    started = time.monotonic()
    _, status = os.waitpid(run(None), 0)
    baseline = time.monotonic() - started
    if os.waitstatus_to_exitcode(status) != 0:
        return {"error": f"the unit tests fail on the original {module}: {tests}"}
    todo = [m.number for m in mutants(module) if only is None or only in m.id]
    limit = max(30.0, 5 * baseline)
    results = _schedule(module, todo, jobs, limit, run)
    # A busy machine can stretch a passing run past the limit: a timeout counts only if it
    # happens again with three times the time.
    slow = [n for n, verdict in results.items() if verdict == "timeout"]
    results.update(_schedule(module, slow, jobs, 3 * limit, run))
    return {"baseline": baseline, "tests": tests, "results": results}


def equivalents() -> dict[str, str]:
    """The reviewed equivalent mutants: id → why no test can tell it from the original."""
    data = tomllib.loads(EQUIVALENT_FILE.read_text()) if EQUIVALENT_FILE.exists() else {}
    return {e["id"]: e["why"] for e in data.get("equivalent", [])}


@dataclass
class Score:
    """One module's verdicts."""

    module: str
    mutants: int
    killed: int
    survived: list[Mutant]
    equivalent: int
    timeouts: int

    @property
    def percent(self) -> float:
        """Killed among the mutants that are not equivalent."""
        return 100.0 * self.killed / max(1, self.mutants - self.equivalent)


def score(module: str, jobs: int, only: str | None, known: dict[str, str]) -> Score:
    """Run the worker for `module` in a fresh interpreter and tally its verdicts."""
    args = [sys.executable, __file__, "--worker", module, "--jobs", str(jobs)]
    done = subprocess.run(
        [*args, *(["--only", only] if only else [])], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    if done.returncode != 0:
        sys.exit(f"{module}: the worker failed (exit {done.returncode})")
    report = json.loads(done.stdout)
    if "error" in report:
        sys.exit(report["error"])
    verdicts = {int(n): v for n, v in report["results"].items()}
    if "error" in verdicts.values():
        sys.exit(f"{module}: pytest found no tests or was misused (exit 4/5)")
    chosen = [m for m in mutants(module) if m.number in verdicts]
    survived = [m for m in chosen if verdicts[m.number] == "survived"]
    for m in chosen:
        if m.id in known and verdicts[m.number] != "survived":
            print(f"warning: listed as equivalent but killed: {m.id}", file=sys.stderr)
    equivalent = sum(m.id in known for m in survived)
    killed = len(chosen) - len(survived)
    timeouts = sum(v == "timeout" for v in verdicts.values())
    unlisted = [m for m in survived if m.id not in known]
    return Score(module, len(chosen), killed, unlisted, equivalent, timeouts)


def _table(scores: list[Score], markdown: bool) -> str:
    head = ("module", "mutants", "killed", "timeouts", "survived", "equivalent", "score")
    rows = [
        (
            s.module,
            s.mutants,
            s.killed,
            s.timeouts,
            len(s.survived),
            s.equivalent,
            f"{s.percent:.1f}%",
        )
        for s in scores
    ]
    if markdown:
        lines = [head, ("---", *["---:"] * 6), *rows]
        return "\n".join("| " + " | ".join(map(str, r)) + " |" for r in lines)
    return "\n".join(f"{r[0]:<22}" + "".join(f"{c!s:>11}" for c in r[1:]) for r in [head, *rows])


def main() -> int:
    """Command line: see the module docstring."""
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("modules", nargs="*", help="paths under src/civicpoints (default: all)")
    ap.add_argument("--jobs", type=int, default=2, help="mutants tested at once")
    ap.add_argument("--only", help="only mutants whose id contains this text")
    ap.add_argument("--min", type=float, default=90.0, help="fail below this score (percent)")
    ap.add_argument("--list", action="store_true", help="print the mutants, run nothing")
    ap.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.jobs, args.only)))
        return 0
    modules = args.modules or list(MODULES)
    if unknown := set(modules) - set(MODULES):
        sys.exit(f"not a mutated module: {sorted(unknown)}; choose from {list(MODULES)}")
    if args.list:
        for m in (m for module in modules for m in mutants(module)):
            print(f"{m.module}:{m.line}  {m.id}")
        return 0
    known = equivalents()
    all_ids = {m.id for module in MODULES for m in mutants(module)}
    for stale in sorted(set(known) - all_ids):
        print(
            f"warning: equivalent entry matches no mutant (source changed?): {stale}",
            file=sys.stderr,
        )
    scores = []
    for module in modules:
        print(f"{module}: {len(mutants(module))} mutants…", file=sys.stderr, flush=True)
        scores.append(s := score(module, args.jobs, args.only, known))
        for m in s.survived:
            print(f"survived  {m.module}:{m.line}  {m.id}")
    print(_table(scores, args.markdown))
    return 1 if any(s.percent < args.min for s in scores) else 0


if __name__ == "__main__":
    sys.exit(main())
