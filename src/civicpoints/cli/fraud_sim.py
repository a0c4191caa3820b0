"""`civicpoints fraud simulate`: a labelled city run through the real services, and the risk
signals measured against its ground truth.

The plan (fraud_sim_plan.py, fraud_sim_fraud.py) says who does what; here every visit is an
enrolment, a GPS check-in and check-out with the phone's accuracy and device id, and a photo
upload where the session asks for one, and every paper slip is entered by the organizer,
all through the same services the app and the staff use. Then each record's outcome is read
back and compared with its label (fraud/evaluation.py).
"""

from __future__ import annotations

import time as timer
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from random import Random

from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.access import Principal
from civicpoints.activities import (
    Activity,
    ActivityCreate,
    ActivityService,
    OfflineRecordCreate,
    OfflineService,
    Participation,
    Phone,
    PhotoService,
    RecordService,
)
from civicpoints.cli.city import City, build_city
from civicpoints.cli.demo import _people
from civicpoints.cli.demo_data import BATCH, DEMO_PASSWORD
from civicpoints.cli.fraud_sim_fraud import plan
from civicpoints.cli.fraud_sim_images import EDITS, jpeg, photo, scene, with_exif
from civicpoints.cli.fraud_sim_plan import Plan, Shot, Slip, Slot, Visit
from civicpoints.fraud import (
    FRAUD_TYPES,
    HONEST,
    Figures,
    Observed,
    evaluate,
    figures_as_dict,
    is_flagged,
)
from civicpoints.identity import IdentityService, ResidentCreate, hash_password
from civicpoints.kit.clock import local_date, utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction
from civicpoints.regions import Region

ACTOR = "simulation"


class NotEmpty(Exception):
    """The configured database already holds a city."""


@dataclass
class Outcome:
    """What a simulation found, and how long it took."""

    figures: Figures
    review_at: int
    missed: dict[str, dict[str, int]]  # fraud records not flagged: type → how → count
    false_alarms: dict[str, int]  # honest records flagged: signal code → count
    seconds: float
    residents: int
    seed: int


@dataclass
class Run:
    """What the phases share."""

    ctx: Context
    city: City
    organizer: Principal
    residents: list[tuple[uuid.UUID, str]]  # (id, platform number), by plan index
    labels: dict[uuid.UUID, str]
    how: dict[uuid.UUID, str] = field(default_factory=dict)  # a re-used photo's edit


def simulate(
    sessions: sessionmaker[Session],
    ctx: Context,
    residents: int,
    seed: int,
    console: Console | None = None,
) -> Outcome:
    """Build the labelled city in an empty database, run it, and measure the signals."""
    with transaction(sessions) as s:
        if s.scalars(select(Region.id).limit(1)).first() is not None:
            raise NotEmpty
    began = timer.perf_counter()
    the_plan = plan(seed, residents, local_date(utcnow()))
    with transaction(sessions) as s:
        city = build_city(s, ctx)
    with transaction(sessions) as s:
        organizer = IdentityService(s, ctx).staff_principal(city.staff["organizer"])
    run = Run(ctx, city, organizer, [], {})
    with Progress(console=console, disable=console is None, transient=True) as progress:
        _register(sessions, run, the_plan, Random(seed), progress)
        _play(sessions, run, the_plan, progress)
    figures, review_at, missed, alarms = _measure(sessions, run)
    seconds = timer.perf_counter() - began
    return Outcome(figures, review_at, missed, alarms, seconds, residents, seed)


def _register(
    sessions: sessionmaker[Session], run: Run, the_plan: Plan, rng: Random, progress: Progress
) -> None:
    """Register (and verify) every resident, in batches."""
    people = list(_people(rng, the_plan.residents, len(run.city.communities)))
    digest = hash_password(DEMO_PASSWORD)  # argon2 once: residents never sign in here
    task = progress.add_task("居民 / residents", total=len(people))
    for first in range(0, len(people), BATCH):
        with transaction(sessions) as s:
            identity = IdentityService(s, run.ctx)
            for person in people[first : first + BATCH]:
                data = ResidentCreate(
                    name=person.name,
                    id_number=person.id_number,
                    phone=person.phone,
                    password=DEMO_PASSWORD,
                    community_id=run.city.communities[person.community].id,
                    consent=True,
                )
                resident = identity.register(data, password_hash=digest)
                identity.verify(resident, ACTOR)
                run.residents.append((resident.id, resident.public_no))
        progress.advance(task, len(people[first : first + BATCH]))


def _play(sessions: sessionmaker[Session], run: Run, the_plan: Plan, progress: Progress) -> None:
    """Every session in order of its start: created, its visits, then its slips."""
    visits: dict[int, list[Visit]] = defaultdict(list)
    slips: dict[int, list[Slip]] = defaultdict(list)
    for v in the_plan.visits:
        visits[v.slot.index].append(v)
    for slip in the_plan.slips:
        slips[slip.slot.index].append(slip)
    task = progress.add_task("服务记录 / sessions", total=len(the_plan.slots))
    for slot in the_plan.slots:
        if visits[slot.index] or slips[slot.index]:
            with transaction(sessions) as s:
                activity = _publish(s, run, slot)
                _visits(s, run, activity, visits[slot.index])
                _slips(s, run, activity, slips[slot.index])
        progress.advance(task)


def _publish(s: Session, run: Run, slot: Slot) -> Activity:
    """The session as its organizer publishes it."""
    site = slot.site
    data = ActivityCreate(
        organization_id=run.city.committees[0].id,
        region_id=run.city.communities[0].id,
        title=f"{site.name}志愿服务",
        category="environmental" if site.photo else "volunteer_service",
        starts_at=slot.starts,
        ends_at=slot.ends,
        place_name=site.name,
        geofence={"type": "circle", "lat": site.lat, "lon": site.lon, "radius_m": 150},
        capacity=1000,
        evidence="photo_gps" if site.photo else "none",
    )
    return ActivityService(s).create(data, run.organizer)


def _visits(s: Session, run: Run, activity: Activity, visits: Sequence[Visit]) -> None:
    """Everyone checks in, then out (in the order they leave), then uploads their photo."""
    records = RecordService(s, run.ctx)
    for v in visits:
        resident_id = run.residents[v.who][0]
        ActivityService(s).enroll(activity.id, resident_id, now=v.slot.starts - timedelta(days=1))
        phone = Phone(v.accuracy, v.device)
        record = records.check_in(activity.id, resident_id, *v.at_in, v.arrive, phone)
        run.labels[record.id] = v.label
    for v in sorted(visits, key=lambda v: v.leave):
        resident_id = run.residents[v.who][0]
        phone = Phone(v.accuracy, v.device)
        record = records.check_out(activity.id, resident_id, *v.at_out, v.leave, ACTOR, phone)
        if v.shot is not None:
            run.how[record.id] = v.shot.edit
            PhotoService(s, run.ctx).upload(record.id, resident_id, _photo(v.shot), ACTOR)


def _slips(s: Session, run: Run, activity: Activity, slips: Sequence[Slip]) -> None:
    """The organizer enters the paper slips."""
    offline = OfflineService(s, run.ctx)
    for slip in slips:
        data = OfflineRecordCreate(
            resident=run.residents[slip.who][1],
            activity_id=activity.id,
            started_at=slip.starts,
            ended_at=slip.ends,
            slip_no=f"SIM-{slip.slot.index:05d}-{slip.who:06d}",
            note="纸质签到单 / paper slip",
        )
        record = offline.record(data, run.organizer)
        run.labels[record.id] = slip.label


def _photo(shot: Shot) -> bytes:
    """The bytes uploaded: a scene with or without EXIF, or an edited copy of an earlier one."""
    if shot.copy_of is not None:
        return EDITS[shot.edit](photo(shot.copy_of), Random(shot.seed))
    image = scene(shot.seed)
    if shot.exif_at is None:
        return jpeg(image, 88)  # WeChat and iOS strip EXIF
    return with_exif(image, shot.exif_at, shot.taken)


def _measure(
    sessions: sessionmaker[Session], run: Run
) -> tuple[Figures, int, dict[str, dict[str, int]], dict[str, int]]:
    """Each labelled record's outcome, the figures, the fraud records missed (by the edit of
    a re-used photo) and the signals on honest records flagged."""
    missed: dict[str, dict[str, int]] = {}
    alarms: dict[str, int] = {}
    with transaction(sessions) as s:
        rows = [r for r in s.scalars(select(Participation)).all() if r.id in run.labels]
        first = s.get(Activity, rows[0].activity_id) if rows else None
        review_at = RecordService(s, run.ctx).policy(first).review_at if first else 30
        observed = []
        for r in rows:
            routine = r.source != "app"  # a paper slip always waits for a reviewer
            flagged = is_flagged(r.status, r.risk, review_at, routine_review=routine)
            observed.append(Observed(run.labels[r.id], flagged, frozenset(r.flags or [])))
            if not flagged and run.labels[r.id] in FRAUD_TYPES:
                kinds = missed.setdefault(run.labels[r.id], {})
                how = run.how.get(r.id) or "-"
                kinds[how] = kinds.get(how, 0) + 1
            if flagged and run.labels[r.id] == HONEST:
                for code in r.flags or []:
                    alarms[code] = alarms.get(code, 0) + 1
    return evaluate(observed), review_at, missed, alarms


def table(outcome: Outcome) -> Table:
    """The figures per fraud type, and the review load."""
    t = Table(title=f"fraud simulate — seed {outcome.seed}, {outcome.residents} residents")
    for column in ("type", "records", "flagged", "recall", "signalled", "precision"):
        t.add_column(column, justify="left" if column == "type" else "right")
    for f in outcome.figures.types:
        t.add_row(
            f.label,
            str(f.records),
            str(f.flagged),
            fmt(f.recall),
            str(f.signalled),
            fmt(f.precision),
        )
    figs = outcome.figures
    t.add_row(
        "honest (review load)",
        str(figs.honest),
        str(figs.honest_flagged),
        fmt(figs.review_load),
        "",
        "",
    )
    return t


def fmt(value: float | None) -> str:
    """A ratio to 3 decimals, or a dash."""
    return "—" if value is None else f"{value:.3f}"


def as_json(outcome: Outcome) -> dict[str, object]:
    """The outcome as JSON-ready values."""
    return {
        "seed": outcome.seed,
        "residents": outcome.residents,
        "review_at": outcome.review_at,
        "seconds": round(outcome.seconds, 1),
        **figures_as_dict(outcome.figures),
        "missed": outcome.missed,
        "honest_flagged_by": outcome.false_alarms,
    }
