"""No log line with personal data or a secret, across the whole suite (issue 12).

A pytest plugin. While the suite runs it learns every personal value and secret the app is
given or makes — each name, ID number and phone a resident registers, every plaintext the
field cipher encrypts or blind-indexes, every bearer token, password and voucher code — and it
reads every line the app's log handlers format (a handler is the app's when it carries the
redaction filter, as every handler of `serve`, `worker` and the CLI does). A line that holds
one of those values, or still has the shape of an ID number, phone number, voucher code,
private key, password hash or bearer token after redaction, is a leak. Log files written by
server and worker processes the tests start are read the same way (`scan_file`).

Leaks are listed at the end of the run, by test and logger, with the value's kind but never
the value, and make the run fail. `tests/unit/test_leakwatch.py` shows the watch catches one.
"""

from __future__ import annotations

import functools
import logging
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from civicpoints.kit import crypto, ids
from civicpoints.kit.logging import Redactor

# Shapes that must never survive the redaction filter (kit/logging.py redacts each of them).
SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("id number", re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")),
    ("phone", re.compile(r"(?<![0-9A-Za-z])1[3-9]\d(?:[\s-]?\d{4}){2}(?![0-9A-Za-z])")),
    (
        "voucher code",
        re.compile(r"(?<![0-9A-Za-z])[2-9A-HJKMNP-TV-Z]{4}(?:-[2-9A-HJKMNP-TV-Z]{4}){4}"),
    ),
    ("private key", re.compile(r"PRIVATE\+KEY\+(?!\[redacted\])")),
    ("password hash", re.compile(r"\$argon2[a-z]*\$(?!\[redacted\])")),
    ("bearer token", re.compile(r"(?i)\bbearer\s+(?!\[redacted\])[\w.~+/=-]{8,}")),
)
_CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass
class Leak:
    """One log line that held what it must not: where, and what kind (never the value)."""

    test: str
    source: str
    kind: str
    line: str


@dataclass
class LeakWatch:
    """The values to look for, and the leaks found."""

    values: dict[str, str] = field(default_factory=dict)  # value -> kind
    lengths: set[int] = field(default_factory=set)
    leaks: list[Leak] = field(default_factory=list)
    lines_read: int = 0
    test: str = "(collection)"
    basetemp: Path | None = None  # where tests keep the log files of the processes they start

    def remember(self, value: object, kind: str) -> None:
        """Look for `value` in every later line (too short or common values are skipped)."""
        if not isinstance(value, str):
            return
        value = value.strip()
        # Two CJK characters make a name (王芳); ASCII values shorter than 6 are ordinary words.
        if len(value) < (2 if _CJK.search(value) else 6) or len(value) > 200:
            return
        if value not in self.values:
            self.values[value] = kind
            self.lengths.add(len(value))

    def check(self, line: str, source: str) -> None:
        """Record a leak for each remembered value or forbidden shape in `line`."""
        self.lines_read += 1
        found: list[str] = []
        for size in self.lengths:
            for start in range(len(line) - size + 1):
                kind = self.values.get(line[start : start + size])
                if kind is not None:
                    found.append(kind)
                    break
        found += [kind for kind, shape in SHAPES if shape.search(line)]
        for kind in dict.fromkeys(found):
            self.leaks.append(Leak(self.test, source, kind, self._masked(line)))

    def _masked(self, line: str) -> str:
        """The line with every remembered value and shape hidden, for the report."""
        for value in sorted(self.values, key=len, reverse=True):
            if value in line:
                line = line.replace(value, f"<{self.values[value]}>")
        for kind, shape in SHAPES:
            line = shape.sub(f"<{kind}>", line)
        return line[:300]

    def scan_file(self, path: Path, source: str | None = None) -> None:
        """Check each line of a log file a server or worker process wrote."""
        if path.exists():
            for line in path.read_text(errors="replace").splitlines():
                self.check(line, source or path.name)


WATCH = LeakWatch()


def _spy(owner: Any, name: str, learn: Callable[..., None]) -> None:
    """Wrap `owner.name` so `learn(result, *args)` sees each call, in every module bound to it."""
    original = getattr(owner, name)

    @functools.wraps(original)
    def spied(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        learn(result, *args, **kwargs)
        return result

    setattr(owner, name, spied)
    for module in list(sys.modules.values()):  # names already imported elsewhere
        if getattr(module, "__name__", "").startswith("civicpoints"):
            for attr, bound in list(vars(module).items()):
                if bound is original:
                    setattr(module, attr, spied)


def _learn_registration(_result: Any, _service: Any, data: Any, *_: Any, **__: Any) -> None:
    for kind in ("name", "id_number", "phone", "password"):
        WATCH.remember(getattr(data, kind, None), kind.replace("_", " "))


def _learn_plaintext(_result: Any, _cipher: Any, plaintext: Any, *_: Any, **__: Any) -> None:
    WATCH.remember(plaintext, "PII")


def _learn_sign_in(result: Any, *_: Any, **__: Any) -> None:
    WATCH.remember(result[0], "bearer token")


def install() -> None:
    """Learn values where the app receives or makes them; read what its handlers format."""
    from civicpoints.identity import passwords
    from civicpoints.identity.service import IdentityService
    from civicpoints.rewards import codes

    _spy(crypto.FieldCipher, "encrypt", _learn_plaintext)
    _spy(crypto.FieldCipher, "blind_index", _learn_plaintext)
    _spy(IdentityService, "register", _learn_registration)
    _spy(IdentityService, "sign_in", _learn_sign_in)
    _spy(passwords, "hash_password", lambda _r, password: WATCH.remember(password, "password"))
    _spy(ids, "new_token", lambda token: WATCH.remember(token, "token"))
    _spy(codes, "new_code", lambda code: WATCH.remember(code, "voucher code"))

    original_format = logging.Handler.format

    def format_and_check(handler: logging.Handler, record: logging.LogRecord) -> str:
        line = original_format(handler, record)
        if any(isinstance(f, Redactor) for f in handler.filters):
            WATCH.check(line, record.name)
        return line

    logging.Handler.format = format_and_check  # type: ignore[method-assign,assignment]


def pytest_configure(config: pytest.Config) -> None:
    """Start watching before the first test is collected."""
    install()


@pytest.fixture(scope="session", autouse=True)
def _leakwatch_basetemp(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Note where this run's temporary directories are, to read their log files at the end."""
    WATCH.basetemp = tmp_path_factory.getbasetemp()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    """Name the test each line belongs to."""
    WATCH.test = item.nodeid
    yield
    WATCH.test = "(between tests)"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Read the log files servers and workers wrote; fail the run when any line leaked."""
    if WATCH.basetemp is not None and WATCH.basetemp.is_dir():
        for path in sorted(WATCH.basetemp.rglob("*.log")):
            WATCH.test = path.parent.name  # the test's own directory, named after it
            WATCH.scan_file(path, f"file {path.name}")
    if WATCH.leaks and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say what was read and list every leak (kinds and masked lines, never the values)."""
    write = terminalreporter.write_line
    if not WATCH.leaks:
        write(
            f"leak watch: {WATCH.lines_read} log lines read, {len(WATCH.values)} personal "
            "values and secrets looked for, none found"
        )
        return
    terminalreporter.section("personal data or secrets in log lines", red=True)
    for leak in WATCH.leaks[:50]:
        write(f"{leak.test} [{leak.source}] {leak.kind}: {leak.line}")
    write(f"{len(WATCH.leaks)} leaking line(s) in {WATCH.lines_read} read")
