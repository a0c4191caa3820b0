"""kit/hooks.py: handlers run in order, once each, and a failure reaches the caller."""

from __future__ import annotations

from typing import Any

import pytest

from civicpoints.kit.hooks import Gather, Hook


def test_handlers_run_in_subscription_order_once_each() -> None:
    """Subscribing the same handler twice does not run it twice."""
    seen: list[str] = []
    hook: Hook[str] = Hook("test.event")

    def first(_s: Any, _c: Any, e: str) -> None:
        seen.append("first:" + e)

    def second(_s: Any, _c: Any, e: str) -> None:
        seen.append("second:" + e)

    hook.subscribe(first)
    hook.subscribe(second)
    hook.subscribe(first)
    hook.emit(None, None, "x")  # type: ignore[arg-type]
    assert seen == ["first:x", "second:x"]
    assert hook.handlers == (first, second)


def test_a_failing_handler_reaches_the_caller() -> None:
    """The caller's transaction must roll back: the error is not swallowed."""
    hook: Hook[int] = Hook("test.fail")

    def boom(_s: Any, _c: Any, _e: int) -> None:
        raise RuntimeError("handler failed")

    hook.subscribe(boom)
    with pytest.raises(RuntimeError, match="handler failed"):
        hook.emit(None, None, 1)  # type: ignore[arg-type]


def test_activities_subscribes_to_resident_verified() -> None:
    """Importing the activities package wires the release of held points."""
    import civicpoints.activities  # noqa: F401
    from civicpoints.activities.subscriptions import release_held_points
    from civicpoints.identity.events import resident_verified

    assert release_held_points in resident_verified.handlers


def test_a_gather_collects_every_answers_sections_and_refuses_one_named_twice() -> None:
    """Each subscriber adds its sections once; two naming one section is an error, not a
    silent overwrite of what a resident is shown about themselves."""
    asked: Gather[str] = Gather("test.gather")
    asked.subscribe(lambda _s, _c, e: {"surveys": [e]})
    second = asked.subscribe(lambda _s, _c, e: {"recommendations": e.upper()})
    asked.subscribe(second)
    assert asked.collect(None, None, "x") == {"surveys": ["x"], "recommendations": "X"}  # type: ignore[arg-type]
    asked.subscribe(lambda _s, _c, _e: {"surveys": []})
    with pytest.raises(ValueError, match="'surveys' answered twice"):
        asked.collect(None, None, "x")  # type: ignore[arg-type]


def test_insights_answers_the_resident_data_and_erasure_hooks() -> None:
    """Importing insights wires its sections of the export and its part of an erasure."""
    import civicpoints.insights  # noqa: F401
    from civicpoints.identity.events import resident_erased
    from civicpoints.insights.subscriptions import erase_resident

    assert erase_resident in resident_erased.handlers
