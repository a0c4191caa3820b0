"""/metrics (issue 12, item 2) on SQLite and PostgreSQL: after an award, a redemption, a
record waiting for review, a sequencer pass, a verification and a failing job, a scrape parsed
with prometheus_client's own parser shows each figure moved; only this machine or the token
may scrape; and no series is labelled with a resident, a voucher code or a raw path."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.cli.city import City
from civicpoints.cli.demo_rewards import SUBSIDISED_50, Rewards
from civicpoints.identity.service import IdentityService
from civicpoints.jobs import run_job
from civicpoints.jobs.tasks import check_budget, verify_with
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings
from civicpoints.ledger import log_signer
from civicpoints.ledger.tasks import sequence_once
from civicpoints.scoring.service import ScoringService
from civicpoints.web.app import create_app
from tests.integration.test_clawback import session_of
from tests.integration.test_review_queue import pending
from tests.integration.test_rewards import me, redeem, zhang

Series = dict[tuple[str, frozenset[tuple[str, str]]], float]
LOCAL = ("127.0.0.1", 50123)


def scrape(client: TestClient, **headers: str) -> Series:
    """Every sample of one scrape, parsed by prometheus_client: (name, labels) → value."""
    r = client.get("/metrics", headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    out: Series = {}
    for family in text_string_to_metric_families(r.text):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


def value(series: Series, name: str, **labels: str) -> float:
    """One sample's value; 0 when the series has no such sample yet (a counter not yet hit)."""
    return series.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def local(settings: Settings, city: City) -> Iterator[TestClient]:
    """The app as a client on this machine sees it (127.0.0.1)."""
    with TestClient(create_app(settings), client=LOCAL) as c:
        yield c


def test_a_journey_moves_every_named_series(
    client: TestClient,
    local: TestClient,
    city: City,
    rewards: Rewards,
    fund: Callable[..., None],
    sessions: sessionmaker[Session],
    settings: Settings,
    ctx: Context,
) -> None:
    """Award, redemption, review backlog, sequencer backlog and lag, verify, job failure,
    budget remaining and request counts all show in one scrape, moved by what happened."""
    before = scrape(local)
    assert value(before, "civicpoints_database_up") == 1.0
    assert value(before, "civicpoints_ready") == 1.0
    assert value(before, "civicpoints_sequencer_backlog_entries") == 0.0
    assert value(before, "civicpoints_review_backlog_records") == 0.0
    budget_before = value(before, "civicpoints_budget_remaining_fen")
    assert budget_before > 0

    headers = zhang(client, city, fund)  # 480 points in 12 lots
    resident = me(client, headers)
    with transaction(sessions) as s:
        awarded = ScoringService(s).award_many([session_of(resident, 1)])[0].awarded
    assert awarded > 0
    with transaction(sessions) as s:  # decided once: a replay is not a second award
        ScoringService(s).award_many([session_of(resident, 1)])
    first = redeem(client, headers, rewards.items[SUBSIDISED_50], key="metrics-1")
    assert first.status_code == 201, first.text
    again = redeem(client, headers, rewards.items[SUBSIDISED_50], key="metrics-1")
    assert again.json()["id"] == first.json()["id"]  # a retry, not a second redemption
    with transaction(sessions) as s:
        someone = IdentityService(s, ctx).resident(resident)
        pending(s, city, 0, someone, 3)

    during = scrape(local)
    assert (
        value(during, "civicpoints_awards_total") >= value(before, "civicpoints_awards_total") + 1
    )
    assert value(during, "civicpoints_award_points_total") >= (
        value(before, "civicpoints_award_points_total") + awarded
    )
    redeemed = value(during, "civicpoints_redemptions_total", fulfilment="voucher")
    assert redeemed == value(before, "civicpoints_redemptions_total", fulfilment="voucher") + 1
    assert value(during, "civicpoints_review_backlog_records") == 3.0
    assert value(during, "civicpoints_review_backlog_oldest_age_seconds") > 0
    assert value(during, "civicpoints_sequencer_backlog_entries") > 0
    assert value(during, "civicpoints_sequencer_lag_seconds") >= 0
    posted = ("method", "POST"), ("route", "/api/v1/redemptions"), ("status", "201")
    assert during[("civicpoints_http_requests_total", frozenset(posted))] >= 1
    count = ("civicpoints_http_request_duration_seconds_count", "GET", "/healthz")
    assert count not in during  # no such request yet: no sample invented

    sequence_once(sessions, log_signer(settings), settings.ledger_origin)
    run_job(sessions, "ledger.verify", verify_with(settings))
    failures = value(during, "civicpoints_job_failures_total", job="rewards.check_budget")
    with transaction(sessions) as s:  # a budget far below the points outstanding: an alert
        s.execute(_shrink_budget)
    assert not run_job(sessions, "rewards.check_budget", check_budget).ok
    local.get("/healthz")

    after = scrape(local)
    assert value(after, "civicpoints_sequencer_backlog_entries") == 0.0
    assert value(after, "civicpoints_sequencer_lag_seconds") == 0.0
    assert value(after, "civicpoints_ledger_verify_ok") == 1.0
    assert value(after, "civicpoints_ledger_verify_faults") == 0.0
    assert value(after, "civicpoints_ledger_verify_timestamp_seconds") > 0
    assert value(after, "civicpoints_job_last_run_ok", job="ledger.verify") == 1.0
    assert value(after, "civicpoints_job_last_run_ok", job="rewards.check_budget") == 0.0
    assert value(after, "civicpoints_job_failures_total", job="rewards.check_budget") == (
        failures + 1
    )
    assert value(after, "civicpoints_budget_alert") == 1.0
    remaining = value(after, "civicpoints_budget_remaining_fen")  # 1 fen per sponsor now
    assert 0 < remaining < 100 < budget_before
    assert value(after, "civicpoints_points_liability_fen") > remaining
    assert (
        value(
            after, "civicpoints_http_request_duration_seconds_count", method="GET", route="/healthz"
        )
        >= 1
    )

    # No label carries a resident, a code or a raw path: routes are templates.
    voucher = first.json()["vouchers"][0]["code"]
    client.get(f"/api/v1/vouchers/{voucher}", headers=headers)
    text = local.get("/metrics").text
    assert voucher not in text and str(resident) not in text
    assert 'route="/api/v1/vouchers/{code}"' in text
    routes = {dict(k[1]).get("route") for k in scrape(local) if k[0].startswith("civicpoints_http")}
    assert all(r == "<unmatched>" or r.startswith("/") for r in routes if r)


_shrink_budget = text("UPDATE rewards_sponsor SET budget_fen = 1")


def test_only_this_machine_or_the_token_may_scrape(settings: Settings, city: City) -> None:
    """Without a token only 127.0.0.1 scrapes; with one, only its bearer (any address)."""
    with TestClient(create_app(settings)) as far:  # the test client's address: not loopback
        assert far.get("/metrics").status_code == 403
    token = "s3cret-scrape-token-0123456789"
    guarded = settings.model_copy(update={"metrics_token": token})
    with TestClient(create_app(guarded)) as far:
        assert far.get("/metrics").status_code == 401
        assert far.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert far.get("/metrics", headers={"Authorization": f"Basic {token}"}).status_code == 401
        ok = far.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200 and "civicpoints_database_up 1.0" in ok.text
    with TestClient(create_app(guarded), client=LOCAL) as near:  # the token binds everyone
        assert near.get("/metrics").status_code == 401


def test_a_short_token_is_refused_at_start() -> None:
    """A metrics token under 16 characters is a settings error, not a weak lock."""
    with pytest.raises(ValueError, match="16"):
        Settings(metrics_token="short")


DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
# Names in PromQL that are functions, keywords or label names, not series.
PROMQL_WORDS = {
    "max", "min", "sum", "rate", "increase", "time", "by", "without", "or", "and",
    "histogram_quantile", "instance", "job", "le", "route", "status", "up",
}  # fmt: skip


def series_named(expr: str) -> set[str]:
    """The metric names an expression reads (identifiers outside labels and strings)."""
    bare = re.sub(r'\{[^}]*\}|"[^"]*"|\[[^\]]*\]', " ", expr)
    return {w for w in re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", bare) if w not in PROMQL_WORDS}


def test_the_deploy_files_load_and_read_only_series_the_app_serves(
    local: TestClient, sessions: sessionmaker[Session], settings: Settings
) -> None:
    """alerts.yml is YAML with the five alerts the issue names; the dashboard is JSON; every
    series either reads is one a scrape of the app really lists (the histogram's parts too),
    once the nightly verification has run (its series exist from its first run on)."""
    run_job(sessions, "ledger.verify", verify_with(settings))
    families = text_string_to_metric_families(local.get("/metrics").text)
    served: set[str] = set()
    for family in families:
        served |= {family.name, f"{family.name}_total", f"{family.name}_bucket"}
        served |= {f"{family.name}_count", f"{family.name}_sum"}
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text(encoding="utf-8"))
    alerts = {r["alert"]: r for g in rules["groups"] for r in g["rules"]}
    for name in ("NotReady", "SequencerLag", "VerifyFailed", "JobFailed", "BudgetLow"):
        assert f"CivicPoints{name}" in alerts
    exprs = [str(r["expr"]) for r in alerts.values()]
    dashboard = json.loads((DEPLOY / "grafana" / "civicpoints.json").read_text(encoding="utf-8"))
    assert dashboard["uid"] == "civicpoints" and dashboard["panels"]
    exprs += [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    for expr in exprs:
        missing = series_named(expr) - served
        assert not missing, f"{expr!r} reads {missing}, which /metrics does not serve"
