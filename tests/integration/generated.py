"""A city-year built by the bench generator in a database of its own, dropped afterwards
(test_city_year, test_bench_cityscale)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from bench.city.build import Options, build

from tests.conftest import pg_admin_url


@contextmanager
def generated_city(prefix: str, residents: int, buckets: int) -> Iterator[dict[str, Any]]:
    """Build a city of `residents` with two workers into `<prefix>_<pid>`; its report."""
    server = pg_admin_url().rsplit("/", 1)[0]
    name = f"{prefix}_{os.getpid()}"
    try:
        yield build(
            Options(server=server, db=name, residents=residents, workers=2, buckets=buckets)
        )
    finally:
        with psycopg.connect(pg_admin_url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
