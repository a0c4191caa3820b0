"""The risk signals that need the database: reported positions and photo look-alikes.

Activities calls these as a check-in, check-out or photo arrives; each returns the signals
found (pure functions in positions.py and photos.py decide) and keeps what later checks need:
the position (fraud_observation) and the photo's perceptual hash (fraud_photo_hash). Never
commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from civicpoints.fraud.checks import Signal
from civicpoints.fraud.models import Observation
from civicpoints.fraud.patterns import shared_device_signal
from civicpoints.fraud.photo_index import Match, PhotoIndex
from civicpoints.fraud.photos import near_duplicate_signal, probe_hashes
from civicpoints.fraud.positions import (
    Fix,
    implausible_accuracy,
    impossible_travel,
    shared_spot_signal,
    spot_key,
)
from civicpoints.fraud.repository import FraudRepository
from civicpoints.fraud.schemas import PolicySettings
from civicpoints.kit.context import Context

# The keyed blind index of a device id: counts accounts per device without keeping the id.
DEVICE_CONTEXT = "fraud.device"


@dataclass(frozen=True)
class Report:
    """A position as reported: where, when, the phone's claimed accuracy and device id."""

    at: datetime
    lat: float
    lon: float
    accuracy_m: float | None = None
    device: str | None = None


class RiskService:
    """Signals from positions and photos, with what they leave behind for the next check."""

    def __init__(self, session: Session, ctx: Context) -> None:
        self.session, self.ctx = session, ctx
        self.repo = FraudRepository(session)

    def position(
        self,
        resident_id: uuid.UUID,
        participation_id: uuid.UUID,
        kind: str,
        report: Report,
        policy: PolicySettings,
    ) -> list[Signal]:
        """Signals of a reported position (travel, accuracy, shared spot, shared device);
        the position is kept for the next one."""
        found = [
            self._travel(resident_id, report, policy),
            implausible_accuracy(report.accuracy_m, policy),
        ]
        spot = spot_key(report.lat, report.lon)
        others = self.repo.residents_at_spot(spot, resident_id)
        found.append(shared_spot_signal(others + 1, policy, report.accuracy_m))
        device = self._device(report.device)
        if device is not None:
            accounts = self.repo.accounts_on_device(device, resident_id) + 1
            found.append(shared_device_signal(accounts, policy))
        self.repo.add(
            Observation(
                resident_id=resident_id,
                participation_id=participation_id,
                kind=kind,
                at=report.at,
                lat=report.lat,
                lon=report.lon,
                accuracy_m=report.accuracy_m,
                spot=spot,
                device=device,
            )
        )
        return [s for s in found if s is not None]

    def _travel(
        self, resident_id: uuid.UUID, report: Report, policy: PolicySettings
    ) -> Signal | None:
        """impossible_travel against the resident's previous reported position."""
        prev = self.repo.last_observation(resident_id, report.at)
        if prev is None:
            return None
        before = Fix(prev.at, prev.lat, prev.lon, prev.accuracy_m)
        now = Fix(report.at, report.lat, report.lon, report.accuracy_m)
        return impossible_travel(before, now, policy)

    def records_on_device(self, device: str | None, excluding: uuid.UUID) -> list[uuid.UUID]:
        """The other records whose positions came from this device (its id as the phone
        sent it; only its keyed hash is kept), ordered by id."""
        hashed = self._device(device)
        return [] if hashed is None else self.repo.records_on_device(hashed, excluding)

    def _device(self, device: str | None) -> str | None:
        """The device id's blind index (None when the client sent none)."""
        if not device:
            return None
        return self.ctx.cipher.blind_index(device, DEVICE_CONTEXT)

    def photo(
        self,
        evidence_id: uuid.UUID,
        participation_id: uuid.UUID,
        resident_id: uuid.UUID,
        data: bytes,
        policy: PolicySettings,
    ) -> list[Signal]:
        """photo_near_duplicate when another record's photo looks the same; the photo's hash
        is indexed for later uploads."""
        probes = probe_hashes(data)
        index = PhotoIndex(self.session)
        matches = index.near(probes, policy.photo_near_bits, participation_id, limit=1)
        index.add(evidence_id, participation_id, resident_id, probes[0])
        if not matches:
            return []
        nearest = matches[0]
        signal = near_duplicate_signal(nearest.bits, nearest.resident_id == resident_id, policy)
        return [signal] if signal else []

    def look_alikes(
        self, participation_id: uuid.UUID, max_bits: int
    ) -> dict[uuid.UUID, list[Match]]:
        """For each photo of a record, the other records' photos that look the same."""
        index = PhotoIndex(self.session)
        found: dict[uuid.UUID, list[Match]] = {}
        for row in self.repo.photo_hashes(participation_id):
            found[row.evidence_id] = index.near(row.phash, max_bits, participation_id)
        return found
