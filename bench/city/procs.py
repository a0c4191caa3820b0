"""Spawned processes of a build: wait for their messages while forwarding their progress."""

from __future__ import annotations

import queue
from collections.abc import Callable
from typing import Any


def messages(
    procs: list[Any], out: Any, n: int, forward: Callable[[], None], what: str
) -> list[Any]:
    """The next `n` messages of `procs` on `out`, calling `forward` meanwhile (to pass their
    progress on); a process that exits with an error stops the build."""
    got: list[Any] = []
    while len(got) < n:
        forward()
        try:
            got.append(out.get(timeout=0.2))
        except queue.Empty:
            if any(p.exitcode not in (None, 0) for p in procs):
                raise RuntimeError(f"a {what} process failed (its traceback is above)") from None
    forward()
    return got
