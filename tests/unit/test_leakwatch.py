"""The suite's leak watch (tests/leakwatch.py) catches what it is there to catch."""

from __future__ import annotations

import io
import logging
import os

import pytest

from civicpoints.kit.crypto import FieldCipher
from civicpoints.kit.logging import Redactor
from tests import leakwatch
from tests.leakwatch import LeakWatch


@pytest.fixture
def watch(monkeypatch: pytest.MonkeyPatch) -> LeakWatch:
    """A watch of its own, so the leaks planted here do not fail the run."""
    fresh = LeakWatch()
    monkeypatch.setattr(leakwatch, "WATCH", fresh)
    return fresh


def _logger(with_redactor: bool) -> logging.Logger:
    log = logging.getLogger(f"leakwatch-test-{with_redactor}-{os.urandom(4).hex()}")
    log.propagate = False
    handler = logging.StreamHandler(io.StringIO())
    if with_redactor:
        handler.addFilter(Redactor())
    log.addHandler(handler)
    return log


def test_a_name_the_cipher_encrypted_is_caught_in_an_app_log_line(watch: LeakWatch) -> None:
    FieldCipher(bytes(32)).encrypt("欧阳秀英", "test.name")
    _logger(with_redactor=True).warning("registered %s in 北山社区", "欧阳秀英")
    assert [(leak.kind, leak.line) for leak in watch.leaks] == [
        ("PII", "registered <PII> in 北山社区")
    ]


def test_handlers_that_are_not_the_apps_are_not_read(watch: LeakWatch) -> None:
    FieldCipher(bytes(32)).encrypt("欧阳秀英", "test.name")
    _logger(with_redactor=False).warning("registered 欧阳秀英")
    assert watch.leaks == []


def test_redacted_shapes_pass_and_raw_ones_do_not(watch: LeakWatch) -> None:
    _logger(with_redactor=True).warning("id 110101195803150021 phone 13812345678")
    assert watch.leaks == []  # the Redactor replaced both
    watch.check("id 110101195803150021, Authorization: Bearer abcdefghijkl", "file")
    assert sorted(leak.kind for leak in watch.leaks) == ["bearer token", "id number"]
    assert "110101195803150021" not in watch.leaks[0].line


def test_short_ascii_values_are_not_looked_for(watch: LeakWatch) -> None:
    watch.remember("abc", "PII")
    watch.remember("王芳", "name")
    watch.check("abc def", "x")
    assert watch.leaks == []
    watch.check("signed in: 王芳", "x")
    assert [leak.kind for leak in watch.leaks] == ["name"]


def test_worker_log_files_are_read(watch: LeakWatch, tmp_path: os.PathLike[str]) -> None:
    path = leakwatch.Path(tmp_path) / "worker-output.txt"  # not *.log: the run reads those
    path.write_text('{"msg": "ok"}\n{"msg": "voucher ABCD-EFGH-JKMN-PQRS-TVWX"}\n')
    watch.scan_file(path)
    assert [leak.kind for leak in watch.leaks] == ["voucher code"]
    assert watch.lines_read == 2
