"""The repository's own files: nothing a merge left behind."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# A conflict's three markers, at the start of a line, as git writes them.
MARKER = re.compile(r"^(<{7} |={7}$|>{7} )", re.MULTILINE)


def tracked_text_files() -> list[Path]:
    """Every file git tracks, except binary ones (images, fonts, archives)."""
    out = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    paths = [ROOT / p for p in out.decode().split("\0") if p]
    return [p for p in paths if p.is_file() and b"\0" not in p.read_bytes()[:8192]]


def test_no_file_holds_a_merge_conflict_marker() -> None:
    """A conflict resolved carelessly once left its markers in docs/insights.md on main."""
    found = [
        f"{p.relative_to(ROOT)}:{text[: m.start()].count(chr(10)) + 1}"
        for p in tracked_text_files()
        if (text := p.read_text(encoding="utf-8", errors="replace"))
        for m in MARKER.finditer(text)
    ]
    assert not found, f"merge conflict markers left in: {found}"
