"""Content-addressed blob storage: layout, idempotence, atomicity, path traversal."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from civicpoints.activities import storage
from civicpoints.activities.storage import blob_path, store_blob

DATA = b"\xff\xd8 not really a photo"
SHA = hashlib.sha256(DATA).hexdigest()


def test_stores_under_hash_prefix_directories(tmp_path: Path) -> None:
    relative = store_blob(tmp_path, DATA, SHA, "jpg")
    assert relative == f"{SHA[:2]}/{SHA[2:4]}/{SHA}.jpg"
    assert (tmp_path / relative).read_bytes() == DATA
    assert blob_path(tmp_path, relative) == tmp_path / relative


def test_second_store_does_not_rewrite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    relative = store_blob(tmp_path, DATA, SHA, "jpg")

    def no_write(*args: object) -> None:
        raise AssertionError("rewrote an existing blob")

    monkeypatch.setattr(storage, "_write_atomically", no_write)
    assert store_blob(tmp_path, DATA, SHA, "jpg") == relative


def test_leaves_no_temp_files(tmp_path: Path) -> None:
    relative = store_blob(tmp_path, DATA, SHA, "png")
    assert os.listdir((tmp_path / relative).parent) == [f"{SHA}.png"]


def test_failed_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(storage.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        store_blob(tmp_path, DATA, SHA, "jpg")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


@pytest.mark.parametrize(
    ("data", "sha256", "extension"),
    [
        (b"other bytes", SHA, "jpg"),  # hash does not match the content
        (DATA, SHA.upper(), "jpg"),
        (DATA, SHA[:-1], "jpg"),
        (DATA, SHA, "../x"),
        (DATA, SHA, ""),
        (DATA, SHA, "JPG"),
    ],
)
def test_store_refuses_bad_names(tmp_path: Path, data: bytes, sha256: str, extension: str) -> None:
    with pytest.raises(ValueError):
        store_blob(tmp_path, data, sha256, extension)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "relative",
    [
        "../../etc/passwd",
        f"{SHA[:2]}/{SHA[2:4]}/../../{SHA}.jpg",
        f"/{SHA[:2]}/{SHA[2:4]}/{SHA}.jpg",
        f"{SHA[:2]}\\{SHA[2:4]}\\{SHA}.jpg",
        f"00/00/{SHA}.jpg",  # prefix does not match the hash
        f"{SHA[:2]}/{SHA[2:4]}/{SHA}.jpg/..",
        f"{SHA[:2]}/{SHA[2:4]}/{SHA}.jpg\n",
        "",
    ],
)
def test_blob_path_refuses_traversal(tmp_path: Path, relative: str) -> None:
    with pytest.raises(ValueError):
        blob_path(tmp_path, relative)
