"""Synthetic photo-like images, the edits fraudsters make to re-use one, and the measurement of
the perceptual hash against them: `python -m tests.fraud_images [N]` prints the figures.

The scenes and edits live in civicpoints.cli.fraud_sim_images (the simulation uses them too).
"""

from __future__ import annotations

import itertools
import random
import statistics
import sys
from typing import Any

import numpy as np

from civicpoints.cli.fraud_sim_images import (
    EDITS,
    SIZES,
    Edit,
    colour,
    crop,
    jpeg,
    load,
    photo,
    scene,
    shrink,
)
from civicpoints.fraud.photos import hamming, perceptual_hash, probe_hashes

__all__ = ["EDITS", "SIZES", "Edit", "best", "colour", "crop", "jpeg", "load", "measure"]
__all__ += ["photo", "scene", "shrink"]


def best(stored: int, probes: tuple[int, ...]) -> int:
    """The bits between a stored hash and the nearest of a lookup's probes."""
    return min(hamming(stored, p) for p in probes)


def measure(n: int = 240, threshold: int = 6) -> dict[str, Any]:
    """Distances of edited copies to their original, and between distinct photos."""
    stored, probes = [], []
    copies: dict[str, list[tuple[int, int]]] = {name: [] for name in EDITS}
    for seed in range(n):
        original = photo(seed)
        stored.append(perceptual_hash(original))
        probes.append(probe_hashes(original))
        rng = random.Random(10_000 + seed)
        for name, edit in EDITS.items():
            p = probe_hashes(edit(original, rng))
            copies[name].append((hamming(stored[-1], p[0]), best(stored[-1], p)))
    distinct = [best(stored[i], probes[j]) for i, j in itertools.permutations(range(n), 2)]
    return {
        "photos": n,
        "threshold": threshold,
        "copies": {name: _figures(d, threshold) for name, d in copies.items()},
        "distinct": {
            "pairs": len(distinct),
            "min": min(distinct),
            "p0.1": float(np.percentile(distinct, 0.1)),
            "p1": float(np.percentile(distinct, 1)),
            "median": statistics.median(distinct),
            "at_or_below_threshold": sum(d <= threshold for d in distinct),
        },
    }


def _figures(pairs: list[tuple[int, int]], threshold: int) -> dict[str, Any]:
    single, probed = [s for s, _ in pairs], [b for _, b in pairs]
    return {
        "recall": sum(d <= threshold for d in probed) / len(probed),
        "recall_own_hash_only": sum(d <= threshold for d in single) / len(single),
        "mean": round(statistics.fmean(probed), 2),
        "p95": float(np.percentile(probed, 95)),
        "max": max(probed),
        "histogram": [probed.count(k) for k in range(max(probed) + 1)],
    }


if __name__ == "__main__":
    figures = measure(int(sys.argv[1]) if len(sys.argv) > 1 else 240)
    for name, f in figures["copies"].items():
        print(
            f"{name:20} recall {f['recall']:.3f} (own hash only {f['recall_own_hash_only']:.3f})"
            f"  mean {f['mean']:.2f}  p95 {f['p95']:.0f}  max {f['max']}  {f['histogram']}"
        )
    print("distinct", figures["distinct"])
