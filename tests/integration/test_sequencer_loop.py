"""Inside the server, the sequencer loop checkpoints new entries by itself.

The 2-second latency target is measured by `make bench`, not asserted here (DESIGN.md §7:
no timed assertions on a shared machine); the generous bound only stops a hung loop.
"""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from civicpoints.cli.city import City
from civicpoints.kit.settings import Settings
from civicpoints.web.app import create_app

from .test_receipts import earn_fifty


def test_server_loop_checkpoints_new_entries(settings: Settings, city: City) -> None:
    """With 1-second passes, a fresh award gets a receipt without any manual sequencing."""
    live = settings.model_copy(update={"sequencer_interval_s": 1.0})
    with TestClient(create_app(live)) as client:
        headers = earn_fifty(client, city)
        entry = client.get("/api/v1/me/ledger", headers=headers).json()[0]["id"]
        start = time.monotonic()
        while (
            r := client.get(f"/api/v1/me/ledger/{entry}/receipt", headers=headers)
        ).status_code == 409:
            assert time.monotonic() - start < 30, "the sequencer loop never checkpointed the entry"
            time.sleep(0.05)
    assert r.status_code == 200 and r.json()["entry_hash"]
