"""Secret files (keys) created once, atomically, readable only by the server's user."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def create_secret_once(path: Path, data: bytes) -> bool:
    """Write `data` to `path` with mode 0600 unless it exists; False if another writer won.

    Written to a temp file, then linked into place: link, unlike rename, refuses to replace a
    key another process created a moment ago — replacing it would orphan whatever that key
    already encrypted or signed.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    try:
        _write_private(tmp, data)
        os.link(tmp, path)
    except FileExistsError:
        return False
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    fsync_dir(path.parent)
    return True


def _write_private(path: Path, data: bytes) -> None:
    """Create `path` exclusively with mode 0600, write `data` and flush it to disk."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        os.fchmod(f.fileno(), 0o600)  # the umask may only narrow the mode; make it exact
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def fsync_dir(directory: Path) -> None:
    """Flush a directory entry so a newly created file survives a crash."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
