"""In-process hooks: a domain announces what happened; another domain, higher up, reacts.

A lower domain must not import a higher one (identity knows nothing of activities), yet a
verified resident's held points must be released in the same transaction. The lower domain
owns a `Hook`; the higher one subscribes when its package is imported. Handlers run
synchronously inside the caller's transaction, in subscription order, so a failing handler
rolls the whole unit of work back: nothing is half done.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from sqlalchemy.orm import Session

from civicpoints.kit.context import Context

E = TypeVar("E")
Handler = Callable[[Session, Context, E], None]


class Hook(Generic[E]):
    """A named event with its subscribers."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._handlers: list[Handler[E]] = []

    def subscribe(self, handler: Handler[E]) -> Handler[E]:
        """Add a handler once (re-importing a module does not add it twice)."""
        if handler not in self._handlers:
            self._handlers.append(handler)
        return handler

    def emit(self, session: Session, ctx: Context, event: E) -> None:
        """Run every handler in the caller's transaction."""
        for handler in list(self._handlers):
            handler(session, ctx, event)

    @property
    def handlers(self) -> tuple[Handler[E], ...]:
        """The subscribed handlers, in order."""
        return tuple(self._handlers)
