"""scripts/with-test-postgres: an unreachable explicit server is a loud failure, not a skip."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "with-test-postgres"
UNREACHABLE = "postgresql://postgres@127.0.0.1:1/test"


def test_unreachable_explicit_url_fails_loudly_without_running_the_command(
    tmp_path: Path,
) -> None:
    marker = tmp_path / "ran"
    env = {**os.environ, "CIVICPOINTS_TEST_PG_URL": UNREACHABLE, "PGCONNECT_TIMEOUT": "3"}
    # Even with a default that would work, an explicit URL must not fall back to it.
    env.pop("CIVICPOINTS_TEST_PG_DEFAULT", None)
    result = subprocess.run(
        [str(SCRIPT), sys.executable, "-c", f"open({str(marker)!r}, 'w').close()"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "无法连接测试数据库" in result.stderr
    assert "cannot reach the test PostgreSQL server" in result.stderr
    assert UNREACHABLE in result.stderr
    assert not marker.exists(), "the command must not run against an unreachable server"
