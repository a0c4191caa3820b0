"""The daily `privacy.erase_due` job: deletion requests past their retention period."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from civicpoints.kit.clock import utcnow
from civicpoints.kit.context import build_context
from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings
from civicpoints.privacy.service import PrivacyService

ACTOR = "system:privacy.erase_due"  # the actor key written on carried-out requests


def erase_due_with(
    settings: Settings,
) -> Callable[[sessionmaker[Session]], tuple[bool, dict[str, Any]]]:
    """The job: erase every resident whose deletion request is due, in one transaction."""

    def erase_due(sessions: sessionmaker[Session]) -> tuple[bool, dict[str, Any]]:
        with transaction(sessions) as s:
            done = PrivacyService(s, build_context(settings)).carry_out_due(utcnow(), ACTOR)
        return True, {"erased": len(done)}

    return erase_due
