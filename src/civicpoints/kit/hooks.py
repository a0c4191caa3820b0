"""In-process hooks: a domain announces what happened; another domain, higher up, reacts.

A lower domain must not import a higher one (identity knows nothing of activities), yet a
verified resident's held points must be released in the same transaction. The lower domain
owns a `Hook`; the higher one subscribes when its package is imported. Handlers run
synchronously inside the caller's transaction, in subscription order, so a failing handler
rolls the whole unit of work back: nothing is half done.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

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


Check = Callable[[Session, E], None]


class Guard(Generic[E]):
    """A question a lower domain asks the domains above before it acts: "may this happen?".

    Activities knows nothing of volunteer teams, yet only a team's members may join its team
    challenge. The lower domain owns a `Guard` and asks it; a higher domain subscribes a check
    that raises a domain error to refuse. Checks run in the caller's transaction, before
    anything is written, in subscription order.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._checks: list[Check[E]] = []

    def subscribe(self, check: Check[E]) -> Check[E]:
        """Add a check once (re-importing a module does not add it twice)."""
        if check not in self._checks:
            self._checks.append(check)
        return check

    def ask(self, session: Session, event: E) -> None:
        """Run every check; the first to refuse raises."""
        for check in list(self._checks):
            check(session, event)


Answer = Callable[[Session, Context, E], dict[str, Any]]


class Gather(Generic[E]):
    """A question a lower domain asks the domains above and collects the answers to: "what do
    you hold about this?".

    Privacy hands a resident everything held about them (PIPL), yet insights (their survey
    answers, their recommendations) sits beside it, not below. The lower domain owns a
    `Gather`; a domain above subscribes an answer giving named sections. Answers run in the
    caller's transaction, in subscription order; two answers naming one section is a
    programming error (raised, not merged)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._answers: list[Answer[E]] = []

    def subscribe(self, answer: Answer[E]) -> Answer[E]:
        """Add an answer once (re-importing a module does not add it twice)."""
        if answer not in self._answers:
            self._answers.append(answer)
        return answer

    def collect(self, session: Session, ctx: Context, event: E) -> dict[str, Any]:
        """Every answer's sections, in one mapping."""
        out: dict[str, Any] = {}
        for answer in list(self._answers):
            for name, section in answer(session, ctx, event).items():
                if name in out:
                    raise ValueError(f"{self.name}: section {name!r} answered twice")
                out[name] = section
        return out
