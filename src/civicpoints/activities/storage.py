"""Content-addressed blob storage for evidence photos on the local file system.

A blob lives at "ab/cd/<sha256>.<ext>" under a root: the same photo uploaded twice is stored
once, and a stored file never changes, so it can be cached and backed up by rsync.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

_SHA256 = re.compile(r"[0-9a-f]{64}")
_EXTENSION = re.compile(r"[a-z0-9]{1,8}")
_RELATIVE = re.compile(r"([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})\.[a-z0-9]{1,8}")


def relative_path(sha256: str, extension: str) -> str:
    """The relative path "ab/cd/<sha256>.<ext>" of a blob; ValueError on a malformed name."""
    if not (_SHA256.fullmatch(sha256) and _EXTENSION.fullmatch(extension)):
        raise ValueError("sha256 must be 64 lowercase hex digits, extension 1-8 of [a-z0-9]")
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}.{extension}"


def store_blob(root: Path, data: bytes, sha256: str, extension: str) -> str:
    """Store `data` under `root` once, atomically, and return its relative path."""
    relative = relative_path(sha256, extension)
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ValueError("data does not match its sha256")  # would corrupt the address space
    target = root / relative
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        _write_atomically(target, data)
    return relative


def _write_atomically(target: Path, data: bytes) -> None:
    """Write via a temp file in the same directory, so readers never see a partial blob."""
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=target.suffix)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())  # the rename must not outlive the data in a crash
        os.replace(temp, target)  # concurrent writers of one hash write identical bytes
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def blob_path(root: Path, relative: str) -> Path:
    """The absolute path of a stored blob; ValueError for anything but "ab/cd/<sha256>.<ext>"."""
    match = _RELATIVE.fullmatch(relative)
    # The strict shape rules out "..", absolute paths and backslashes; the prefix must agree.
    if match is None or match[3][:4] != match[1] + match[2]:
        raise ValueError("not a blob path")
    return root / relative
