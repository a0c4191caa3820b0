"""The fraud in the simulated city: each fraudster commits one kind, every record labelled.

Pure, like fraud_sim_plan.py. The label goes on the record that should be caught: for
teleport the check-in far away, for overlapping slips the second slip entered (the first is
labelled overlap_pair: neither honest nor counted as caught or missed).
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from random import Random

from civicpoints.cli.fraud_sim_images import EDITS
from civicpoints.cli.fraud_sim_plan import (
    FAR_AWAY,
    Phone,
    Plan,
    Planner,
    Shot,
    Slip,
    Slot,
    jitter,
    local_day,
    local_hour,
)
from civicpoints.fraud import HONEST

OVERLAP_PAIR = "overlap_pair"


def plan(seed: int, residents: int, today: date) -> Plan:
    """The whole labelled simulation for `residents` residents."""
    return FraudPlanner(Random(seed), residents, today).build()


class FraudPlanner(Planner):
    """The honest city and its fraudsters."""

    def build(self) -> Plan:
        """Fraudsters first take their roles; everyone else is honest."""
        n = max(2, self.plan.residents // 25)
        roles = {k: self.take(n) for k in ("teleport", "zero", "elsewhere", "reused", "slips")}
        spoofers = [self.take(3) for _ in range(math.ceil(n / 3))]
        farms = [self.take(6) for _ in range(max(1, n // 6))]
        honest_slips = self.take(max(2, self.plan.residents // 40))
        self._families(list(self.pool))
        for who in self.pool:
            self._honest_life(who)
        for who in [w for group in (*roles.values(), *spoofers) for w in group]:
            self._some_honest(who, self.rng.randint(1, 3))
        for k, farm in enumerate(farms):
            self._farm(k, farm)
        for group in spoofers:
            self._spoof(group)
        for who in roles["teleport"]:
            self._teleport(who)
        for who in roles["zero"]:
            self._zero_stay(who)
        for who in roles["elsewhere"]:
            self._photo_elsewhere(who)
        for who in roles["reused"]:
            self._reused(who)
        for who in roles["slips"]:
            self._overlapping_slips(who)
        for who in honest_slips:
            self._slip(who, self._free_slot(who, self.city), HONEST)
        self.plan.visits.sort(key=lambda v: (v.slot.index, v.arrive))
        return self.plan

    def _teleport(self, who: int) -> None:
        """Out of a city session on time, into one 28 km away minutes later."""
        first = self._free_slot(who, [s for s in self.city if local_hour(s) == 9])
        a = self.visit(who, first, leave=first.ends + timedelta(minutes=self.rng.randint(0, 3)))
        far = self._next_to(first, far=True)
        arrive = a.leave + timedelta(minutes=self.rng.randint(5, 10))
        self.visit(who, far, "teleport", arrive=arrive)

    def _zero_stay(self, who: int) -> None:
        """Checked in and out within a minute."""
        slot = self._free_slot(who, self.city)
        arrive = slot.starts + timedelta(minutes=self.rng.randint(0, 10))
        leave = arrive + timedelta(seconds=self.rng.randint(20, 50))
        self.visit(who, slot, "zero_stay", arrive=arrive, leave=leave)

    def _photo_slot(self, who: int) -> Slot:
        """A session asking for a photo, on a free day."""
        return self._free_slot(who, [s for s in self.city if s.site.photo])

    def _photo_elsewhere(self, who: int) -> None:
        """A photo whose EXIF says it was taken far away."""
        v = self.visit(who, self._photo_slot(who), "photo_elsewhere")
        assert v.shot is not None
        v.shot.exif_at = jitter(self.rng, *self.rng.choice(FAR_AWAY), 0, 500)

    def _reused(self, who: int) -> None:
        """Another resident's earlier photo, edited (resized, recompressed, cropped, colour),
        without EXIF."""
        while True:
            slot = self._photo_slot(who)
            earlier = [p for p in self.photos if p[0] < slot.starts and p[1] != who]
            if earlier:
                break
        v = self.visit(who, slot, "reused_photo")
        assert v.shot is not None
        original = self.rng.choice(earlier)[2]
        v.shot = Shot(original, v.shot.taken, None, original, self.rng.choice(sorted(EDITS)))

    def _spoof(self, group: list[int]) -> None:
        """A faking app's preset: the same 6-decimal spot with accuracy 0 for every account."""
        while True:  # a session on a day none of them serves yet
            slot = self.rng.choice(self.city)
            if all(local_day(slot) not in self.days.setdefault(w, set()) for w in group):
                break
        site = slot.site
        preset = jitter(self.rng, site.lat, site.lon, 5, 20)
        for who in group:
            self.days[who].add(local_day(slot))
            v = self.visit(who, slot, "spoofed_coordinates")
            v.at_in = v.at_out = preset
            v.accuracy = 0.0

    def _farm(self, k: int, accounts: list[int]) -> None:
        """One device behind six accounts, each serving twice."""
        for who in accounts:
            mine = self.phone(who)
            self.phones[who] = Phone(f"farm-{k:03d}", mine.accuracy, mine.gcj, mine.exif)
            for _ in range(2):
                self.visit(who, self._free_slot(who, self.city), "device_farm")

    def _overlapping_slips(self, who: int) -> None:
        """Two paper slips for the same morning at two places."""
        first = self._free_slot(who, [s for s in self.city if local_hour(s) == 9])
        others = [s for s in self.city if s.starts == first.starts and s.site != first.site]
        earlier, later = sorted((first, self.rng.choice(others)), key=lambda s: s.index)
        self._slip(who, earlier, OVERLAP_PAIR)  # entered first: nothing to overlap yet
        self._slip(who, later, "overlapping_slips")

    def _slip(self, who: int, slot: Slot, label: str) -> None:
        """A slip for the whole session."""
        self.plan.slips.append(Slip(who, slot, label, slot.starts, slot.ends))
