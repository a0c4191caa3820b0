"""An activity's rotating venue code (签到码): what its organizers' screen shows, and the
check-in that gives it back.

The code is the fraud domain's (`fraud/venue.py`, pure: HMAC of the secret and the time
step); this module holds the activity's side: its secret (`Activity.venue_secret`, never sent
anywhere), its check-in window, and the step from settings. A wrong code is no error and no
doubt (a resident may misread the screen): only the right one is noted, as trust. Never
commits.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from civicpoints.access import Principal
from civicpoints.activities.models import Activity, ActivityStatus, Participation
from civicpoints.activities.risk import note
from civicpoints.activities.schemas import ScreenState, VenueCodeRead
from civicpoints.activities.service import ActivityService
from civicpoints.activities.spans import attendance_window
from civicpoints.fraud import venue_code, venue_signal
from civicpoints.kit.context import Context

# How often a screen that shows no code yet looks again (check-in may open meanwhile).
IDLE_REFRESH_S = 60

_MATCHED = {
    "zh-CN": "签到码正确，已作为您在现场的证明。",
    "en": "the venue code matched: it counts as proof that you were there",
}
_NOT_MATCHED = {
    "zh-CN": "您填写的签到码与现场屏幕上的不一致（可能看错了，或者已经换了新码）。"
    "您已签到，不受影响；如有疑问，请问现场的组织者。",
    "en": "the venue code you entered does not match the one on the organizer's screen "
    "(misread, or it has changed since); you are checked in all the same; if in doubt, "
    "ask the organizer",
}


def venue_words(matched: bool) -> dict[str, str]:
    """What a check-in that gave a code says about it, in zh-CN and en."""
    return dict(_MATCHED if matched else _NOT_MATCHED)


def turn_of(at: datetime, step_s: int) -> datetime:
    """When the code shown at `at` turns: the next whole multiple of the step."""
    return datetime.fromtimestamp((int(at.timestamp()) // step_s + 1) * step_s, UTC)


def code_matched(record: Participation, code: str | None) -> bool | None:
    """After a check-in: None if it gave no code, else whether the code counted."""
    return None if code is None else "venue_code_ok" in (record.flags or [])


def note_venue_code(
    record: Participation, activity: Activity, code: str | None, now: datetime, step_s: int
) -> None:
    """Note `venue_code_ok` on a check-in that gave this step's or the previous step's code."""
    if code is None:
        return
    signal = venue_signal(bytes(activity.venue_secret), code, now, step_s)
    note(record, [signal] if signal else [])


@dataclass(frozen=True)
class VenueScreen:
    """The organizer's screen at one moment: the code while check-in is open, else why not."""

    activity: Activity
    state: ScreenState
    code: str | None
    step_s: int
    turns_at: datetime | None
    seconds_left: int | None
    opens_at: datetime
    closes_at: datetime
    refresh_s: int | None  # when the screen should look again (None: nothing will change)

    def read(self) -> VenueCodeRead:
        """The API's shape (no secret in it: only the code derived for now)."""
        return VenueCodeRead(
            activity_id=self.activity.id,
            state=self.state,
            code=self.code,
            step_s=self.step_s,
            seconds_left=self.seconds_left,
            turns_at=self.turns_at,
            opens_at=self.opens_at,
            closes_at=self.closes_at,
        )


class VenueCodes:
    """The venue code for the staff who organise an activity."""

    def __init__(self, session: Session, ctx: Context) -> None:
        self.activities = ActivityService(session)
        self.step_s = ctx.settings.venue_code_step_s

    def screen(self, activity_id: uuid.UUID, by: Principal, now: datetime) -> VenueScreen:
        """The code now for an activity `by` organizes (anyone else's reads as not found)."""
        activity = self.activities.organized(activity_id, by)
        opens, closes = attendance_window(activity, "checkin")
        state = _state(activity, opens, closes, now)
        if state != "open":
            wait = math.ceil((opens - now).total_seconds()) + 1
            refresh = min(wait, IDLE_REFRESH_S) if state == "not_yet" else None
            return VenueScreen(
                activity, state, None, self.step_s, None, None, opens, closes, refresh
            )
        turns = turn_of(now, self.step_s)
        left = max(math.ceil((turns - now).total_seconds()), 1)
        code = venue_code(bytes(activity.venue_secret), now, self.step_s)
        # The next look comes a second after the turn, when the new code is surely in force.
        return VenueScreen(activity, state, code, self.step_s, turns, left, opens, closes, left + 1)


def _state(activity: Activity, opens: datetime, closes: datetime, now: datetime) -> ScreenState:
    """Whether check-in is open now, and if not, why."""
    if activity.status == ActivityStatus.CANCELLED:
        return "cancelled"
    if activity.status == ActivityStatus.DRAFT:
        return "draft"
    if now < opens:
        return "not_yet"
    return "over" if now > closes else "open"
