"""Property test of the figures of cities, districts and streets (`tally.lifted`): kept page by
page in any order they equal the rows lifted all at once (incremental == rebuild), and each
region's equal the sum of its communities' rows (the city-wide id's too, at the root) — what
the figures of every region were summed from at each look before."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from civicpoints.insights.people import AGGREGATED
from civicpoints.insights.tally import FigureKey, lifted

from .test_insights_people import COMMUNITIES, MONTHS, REGIONS, UP, inside

cells = st.tuples(
    st.sampled_from(COMMUNITIES),
    st.sampled_from(MONTHS[:6]),
    st.sampled_from(["points", "hours", "registered"]),
    st.sampled_from(["issued", "clawed", "minutes"]),
)


def nonzero(c: Counter[Any]) -> dict[Any, int]:
    """A counter without its zeros (negative values kept: `+c` would drop them)."""
    return {k: v for k, v in c.items() if v}


pages = st.lists(st.dictionaries(cells, st.integers(-5, 50), max_size=20), max_size=6)


@given(pages)
def test_kept_page_by_page_it_is_the_sum_of_the_regions_communities(
    batches: list[dict[FigureKey, int]],
) -> None:
    communities: Counter[FigureKey] = Counter()
    regions: Counter[FigureKey] = Counter()
    for batch in batches:  # the rollup's pages
        communities.update(batch)
        regions.update(lifted(batch, UP))
    assert nonzero(regions) == nonzero(lifted(communities, UP))  # incremental == rebuild
    for region, _, level, _ in REGIONS:
        summed: Counter[tuple[str, str, str]] = Counter()
        for (c, m, f, k), v in communities.items():
            if c in inside(region):
                summed[(m, f, k)] += v
        own = Counter({(m, f, k): v for (r, m, f, k), v in regions.items() if r == region})
        assert nonzero(own) == (nonzero(summed) if level in AGGREGATED else {})


def test_a_community_of_an_unknown_region_lifts_nowhere() -> None:
    """A row whose community is not a region (none should be) counts in no region, as the
    subtree sums never counted it either."""
    assert lifted({(uuid.uuid4(), MONTHS[0], "points", "issued"): 5}, UP) == Counter()
