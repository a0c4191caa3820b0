"""Measure 为您推荐 on a generated city (`python -m bench.city`): the nightly job's wall time,
CPU and peak memory, a first look at home (the list computed on the spot) and a look with a
stored list, per resident (bench/notes.md, "Recommendations at city scale").

    python -m bench.recs_scale --db hc_city_200000 [--looks 40] [--firsts 200] [--trace]

The generator writes the 12 full months before today and nothing ahead, so this adds the
next 14 days' activities first (once): each community's activities of the first 14 days of
the last generated month, moved forward whole weeks to start after now — the generator's own
rate, places and categories. Everything else is the app's real code on the city's database.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import resource
import time
import tracemalloc
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from bench.city.build import DEFAULT_SERVER, settings_for
from bench.common import RESULTS, latency_summary
from civicpoints.activities import Activity
from civicpoints.identity import Resident
from civicpoints.identity.models import Token
from civicpoints.insights import RecsService
from civicpoints.insights.recs_models import Recommendation, RecSetting
from civicpoints.insights.tasks import recommend
from civicpoints.kit.clock import utcnow
from civicpoints.kit.db import make_engine, make_session_factory, transaction

PASSWORD = "Resident@2026"  # every generated resident's (bench/notes.md, "City-year generator")
COPY_UPCOMING = """
INSERT INTO activity (id, organization_id, region_id, title, description, category, status,
    starts_at, ends_at, place_name, geofence, capacity, evidence, flag_outside,
    checkin_opens_min, checkout_closes_min, created_by, created_at, venue_secret)
SELECT gen_random_uuid(), organization_id, region_id, title, description, category, status,
    starts_at + :shift, ends_at + :shift, place_name, geofence, capacity, evidence,
    flag_outside, checkin_opens_min, checkout_closes_min, created_by, :now, venue_secret
FROM activity WHERE starts_at >= :first AND starts_at < :first + interval '14 days'
    AND status = 'published' AND team_id IS NULL
"""


def add_upcoming(sessions: sessionmaker[Session]) -> int:
    """The next 14 days' activities, copied from the last generated month (once)."""
    now = utcnow()
    with transaction(sessions) as s:
        ahead = select(func.count()).where(
            Activity.starts_at > now, Activity.starts_at <= now + timedelta(days=14)
        )
        if s.scalar(ahead):
            return 0
        last = s.scalar(select(func.max(Activity.starts_at)))
        assert last is not None, "the city has no activities"
        first = last.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        weeks = (now - first).days // 7 + 1
        shift = timedelta(weeks=weeks)
        got = s.execute(text(COPY_UPCOMING), {"shift": shift, "now": now, "first": first})
        return int(got.rowcount)  # type: ignore[attr-defined]


def usage() -> tuple[float, float, int]:
    """(wall, this process's CPU seconds, its peak resident set in KiB)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return time.perf_counter(), r.ru_utime + r.ru_stime, r.ru_maxrss


def nightly(sessions: sessionmaker[Session], trace: bool) -> dict[str, Any]:
    """Run `insights.recommend` once: its summary, wall, CPU, peak RSS (and Python heap)."""
    if trace:
        tracemalloc.start()
    w0, c0, m0 = usage()
    ok, summary = recommend(sessions)
    w1, c1, m1 = usage()
    out = {"ok": ok, "summary": summary, "wall_s": round(w1 - w0, 2), "cpu_s": round(c1 - c0, 2)}
    out |= {"peak_rss_mib_before": round(m0 / 1024, 1), "peak_rss_mib": round(m1 / 1024, 1)}
    if trace:
        out["python_heap_peak_mib"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
        tracemalloc.stop()
    ranked = max(int(summary.get("residents", 0)), 1)
    out["ms_per_resident_ranked"] = round((w1 - w0) / ranked * 1000, 3)
    return out


def sample(sessions: sessionmaker[Session], n: int, seed: int) -> list[uuid.UUID]:
    """`n` random residents (a seeded draw over the ids)."""
    with transaction(sessions) as s:
        ids = list(s.scalars(select(Resident.id).order_by(Resident.id)))
    return random.Random(seed).sample(ids, min(n, len(ids)))


def reset(sessions: sessionmaker[Session], ids: list[uuid.UUID]) -> None:
    """Make these residents never computed (their first look computes on the spot)."""
    with transaction(sessions) as s:
        s.execute(delete(Recommendation).where(Recommendation.resident_id.in_(ids)))
        s.execute(
            update(RecSetting).where(RecSetting.resident_id.in_(ids)).values(computed_at=None)
        )


def first_looks(sessions: sessionmaker[Session], ids: list[uuid.UUID]) -> dict[str, Any]:
    """`RecsService.suggestions` of residents never computed, one transaction each."""
    reset(sessions, ids)
    spent, cpu0 = [], usage()[1]
    for rid in ids:
        t = time.perf_counter()
        with transaction(sessions) as s:
            RecsService(s).suggestions(rid, utcnow())
        spent.append(time.perf_counter() - t)
        print(f"first look {len(spent)}: {spent[-1] * 1000:.1f} ms", flush=True)
    return latency_summary(spent) | {"cpu_ms_mean": round((usage()[1] - cpu0) / len(ids) * 1e3, 2)}


def stored_looks(sessions: sessionmaker[Session], ids: list[uuid.UUID]) -> dict[str, Any]:
    """`RecsService.suggestions` of residents with a stored list."""
    spent = []
    for rid in ids:
        t = time.perf_counter()
        with transaction(sessions) as s:
            RecsService(s).suggestions(rid, utcnow())
        spent.append(time.perf_counter() - t)
    return latency_summary(spent)


def pages(url: str, db: str, looks: int, seed: int) -> dict[str, Any]:
    """The home page through the app (in process): signed in as generated residents, the
    first look (never computed) and then three looks with the stored list."""
    from fastapi.testclient import TestClient

    from civicpoints.web.app import create_app

    settings = settings_for(url, db)
    app = create_app(settings)
    engine = make_engine(settings.resolved_database_url())
    sessions = make_session_factory(engine)
    rng = random.Random(seed)
    with transaction(sessions) as s:
        total = int(s.scalar(select(func.count()).select_from(Resident)) or 0)
    first, again = [], []
    for i in rng.sample(range(total), looks):
        with TestClient(app, base_url="http://127.0.0.1") as client:
            token = client.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]
            phone = f"1{3 + i % 7}{i:09d}"
            form = {"csrf_token": token, "username": phone, "password": PASSWORD, "next": ""}
            r = client.post("/login", data=form, follow_redirects=False)
            assert r.status_code == 303, r.text[:300]
            digest = hashlib.sha256(client.cookies["cp_session"].encode()).hexdigest()
            with transaction(sessions) as s:
                me = s.scalar(select(Token.subject_id).where(Token.token_hash == digest))
            reset(sessions, [uuid.UUID(str(me))])
            t = time.perf_counter()
            assert client.get("/").status_code == 200
            first.append(time.perf_counter() - t)
            for _ in range(3):
                t = time.perf_counter()
                assert client.get("/").status_code == 200
                again.append(time.perf_counter() - t)
    engine.dispose()
    return {"first_look": latency_summary(first), "stored_list": latency_summary(again)}


def main() -> None:
    """Parse the options, measure, print and keep the figures."""
    p = argparse.ArgumentParser(prog="python -m bench.recs_scale", description=__doc__)
    p.add_argument("--db", required=True)
    p.add_argument("--server", default=DEFAULT_SERVER)
    p.add_argument("--firsts", type=int, default=200, help="first looks timed (service)")
    p.add_argument("--looks", type=int, default=40, help="residents signed in (home page)")
    p.add_argument("--trace", action="store_true", help="tracemalloc over the nightly job")
    p.add_argument("--skip-nightly", action="store_true")
    p.add_argument("--label", default="run")
    args = p.parse_args()
    url = f"{args.server}/{args.db}"
    engine = make_engine(settings_for(url, args.db).resolved_database_url())
    sessions = make_session_factory(engine)
    out: dict[str, Any] = {"db": args.db, "label": args.label, "added_upcoming": 0}
    out["added_upcoming"] = add_upcoming(sessions)
    if not args.skip_nightly:
        out["nightly"] = nightly(sessions, args.trace)
        print(json.dumps(out["nightly"], ensure_ascii=False), flush=True)
    ids = sample(sessions, args.firsts, 7)
    out["first_look_service"] = first_looks(sessions, ids)
    out["stored_list_service"] = stored_looks(sessions, ids)
    print(json.dumps(out, ensure_ascii=False, default=str), flush=True)
    if args.looks:
        out["home_page"] = pages(url, args.db, args.looks, 11)
    engine.dispose()
    dest = RESULTS / "recs_scale" / f"{args.db}-{args.label}.json"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(out, indent=2, ensure_ascii=False, default=str) + "\n")
    print(json.dumps(out, indent=2, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
