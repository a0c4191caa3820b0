"""The vendored front-end files: all listed in VENDORED.md, unchanged, licensed; htmx is 2.x."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import civicpoints.web

VENDOR = Path(civicpoints.web.__file__).parent / "static" / "vendor"
MANIFEST = (VENDOR / "VENDORED.md").read_text(encoding="utf-8")
CHECKSUMS = dict(
    (name, digest) for digest, name in re.findall(r"^([0-9a-f]{64})  (\S+)$", MANIFEST, re.M)
)
TABLE = re.findall(r"^\| `([\w.-]+)/` \| `([\w.@/-]+)` \| ([\w.-]+) \|", MANIFEST, re.M)


def test_the_manifest_lists_every_folder_and_every_file() -> None:
    """Each folder has a table row and each file a checksum line, and nothing else is there."""
    folders = {p.name for p in VENDOR.iterdir() if p.is_dir()}
    assert {folder for folder, _, _ in TABLE} == folders
    on_disk = {str(p.relative_to(VENDOR)) for p in VENDOR.rglob("*") if p.is_file()}
    assert set(CHECKSUMS) == on_disk - {"VENDORED.md"}
    for folder in folders:
        row = next(line for line in MANIFEST.splitlines() if line.startswith(f"| `{folder}/`"))
        files = [f for f in CHECKSUMS if f.startswith(f"{folder}/")]
        for name in files:
            assert f"`{name.split('/', 1)[1]}`" in row, f"{name} is not named in the table"


def test_every_listed_file_exists_unchanged() -> None:
    """The checksums in VENDORED.md match the files (an edit by hand shows up here)."""
    assert len(CHECKSUMS) >= 12
    for name, digest in CHECKSUMS.items():
        path = VENDOR / name
        assert path.is_file(), f"{name} is listed in VENDORED.md but missing"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, f"{name} changed"


def test_every_folder_has_a_licence() -> None:
    """A non-empty LICENSE file beside each vendored package."""
    for folder, _, _ in TABLE:
        licence = VENDOR / folder / "LICENSE"
        assert licence.is_file() and licence.stat().st_size > 100, f"{folder}/ has no licence"


def test_htmx_is_2x_and_matches_the_table() -> None:
    """htmx 3 and 4 drop old Android WebViews: the vendored file must say version 2.x."""
    text = (VENDOR / "htmx" / "htmx.min.js").read_text(encoding="utf-8")
    versions = re.findall(r'version:"([^"]+)"', text)
    assert len(versions) == 1 and versions[0].startswith("2."), versions
    assert ("htmx", "htmx.org", versions[0]) in TABLE


def test_the_other_versions_match_the_files() -> None:
    """The table's versions are the ones the files announce (a half-done update shows here)."""
    rows = {folder: version for folder, _, version in TABLE}
    axe = (VENDOR / "axe-core" / "axe.min.js").read_text(encoding="utf-8")[:200]
    assert f"axe v{rows['axe-core']}" in axe
    assert rows["alpine"].startswith("3.")
    alpine = (VENDOR / "alpine" / "alpine.min.js").read_text(encoding="utf-8")
    assert f'version:"{rows["alpine"]}"' in alpine
    echarts = (VENDOR / "echarts" / "echarts.min.js").read_text(encoding="utf-8")
    assert f't.version="{rows["echarts"]}"' in echarts
    version_file = (VENDOR / "swagger-ui" / "VERSION").read_text(encoding="utf-8")
    assert f"swagger-ui-dist {rows['swagger-ui']}" in version_file
