"""志愿服务记录证明 and 优秀志愿者 honours: issued from the hours register, signed by the
ledger's checkpoint key, stored append-only, checked by anyone with the public key.

What a certificate states follows the 2020 national rules on volunteer service records and
certificates (志愿服务记录与证明出具办法): the volunteer's name, ID type and (masked) number,
platform number; service hours and content by activity with dates; the issuing organization,
its person in charge, the handler and a contact; the certificate number and date.

The statement is a plain text (`statement`), signed as a C2SP signed note by the same
Ed25519 key that signs the ledger's checkpoints, so the receipts' public key checks it offline
(docs/certificates.md). Never commits.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from civicpoints.hours.errors import CertificateRefused
from civicpoints.hours.models import Certificate
from civicpoints.hours.repository import HoursRepository
from civicpoints.kit.settings import Settings
from civicpoints.ledger import NoteError, Verifier, load_verifier, log_signer, open_note, sign_note

FORMAT = "civicpoints-certificate-v1"
ID_TYPE = "居民身份证"
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud over the phone
# The shape of what `new_number` makes: paths refuse any other (a 30-digit number is a 422).
NUMBER_PATTERN = r"^ZS[0-9]{8}[0-9A-Z]{8}$"


class Kind(StrEnum):
    """A record of service, or an honour that also states the record."""

    RECORD = "record"
    HONOUR = "honour"


@dataclass(frozen=True)
class ServiceLine:
    """One activity served: its date, content (the activity's title) and category."""

    participation_id: uuid.UUID
    served_on: date
    content: str
    category: str


@dataclass(frozen=True)
class Volunteer:
    """Who the certificate is for, as the register knows them."""

    resident_id: uuid.UUID
    name: str
    id_masked: str
    platform_no: str


@dataclass(frozen=True)
class Issuer:
    """The organization that recorded the hours, and who answers for the certificate."""

    organization_id: uuid.UUID
    organization: str
    person_in_charge: str
    handler: str
    contact: str
    staff_id: uuid.UUID


class Standing(StrEnum):
    """What the public check found."""

    GENUINE = "genuine"
    UNKNOWN = "unknown"  # no certificate has this number
    TAMPERED = "tampered"  # stored, but its signature or statement does not hold


@dataclass(frozen=True)
class Check:
    """The public check of a number: only what is safe to show a stranger."""

    standing: Standing
    masked_name: str = ""
    hours: float = 0.0
    issuer: str = ""
    issued_on: date | None = None
    kind: str = ""


def mask_name(name: str) -> str:
    """'张秀英' → '张**': enough to match a paper in hand, not enough to find a person."""
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def _one_line(text: str) -> str:
    """A value as one line of the signed statement (no control characters)."""
    return " ".join("".join(c if c >= " " else " " for c in text).split())


def statement(content: dict[str, Any]) -> str:
    """The signed text of a certificate's content: one `key value` per line, lines of
    service as `line <date> <minutes> <category> <content>`; ends with a newline."""
    head = [
        FORMAT,
        *(
            f"{key} {_one_line(str(content[key]))}"
            for key in (
                "number",
                "kind",
                "issued_on",
                "name",
                "id_type",
                "id_masked",
                "platform_no",
                "organization",
                "person_in_charge",
                "handler",
                "contact",
                "honour",
                "total_minutes",
            )
        ),
    ]
    lines = [
        f"line {x['served_on']} {x['minutes']} {x['category']} {_one_line(x['content'])}"
        for x in content["lines"]
    ]
    return "\n".join(head + lines) + "\n"


def check_note(note: str, content: dict[str, Any], verifiers: Sequence[Verifier]) -> bool:
    """Whether `note` is signed by one of `verifiers` and states exactly `content`."""
    try:
        body, _ = open_note(note, verifiers)
    except NoteError:
        return False
    return body == statement(content)


def new_number(today: date) -> str:
    """ZS + the date + 8 random characters: unguessable, so the public page lists nothing."""
    return f"ZS{today:%Y%m%d}" + "".join(secrets.choice(ALPHABET) for _ in range(8))


class CertificateService:
    """Issues, lists and checks certificates; the caller has checked scope and owns the
    transaction."""

    def __init__(self, session: Session, settings: Settings) -> None:
        self.session = session
        self.settings = settings
        self.repo = HoursRepository(session)

    def issue(
        self,
        volunteer: Volunteer,
        issuer: Issuer,
        lines: Sequence[ServiceLine],
        today: date,
        kind: Kind = Kind.RECORD,
        honour: str = "",
    ) -> Certificate:
        """Sign and store a certificate of `lines`, each the volunteer's own hours in the
        register (else 422, nothing written)."""
        if not lines:
            raise CertificateRefused(
                "lines",
                reason_zh="没有可证明的服务记录",
                reason_en="there is no service to certify",
            )
        minutes = self.repo.minutes_of(volunteer.resident_id, [x.participation_id for x in lines])
        if any(x.participation_id not in minutes for x in lines):
            raise CertificateRefused(
                "lines",
                reason_zh="其中有不属于该志愿者的服务时长",
                reason_en="some of the hours are not this volunteer's",
            )
        kept = sorted(
            (x for x in lines if minutes[x.participation_id] > 0),
            key=lambda x: (x.served_on, x.content),
        )
        total = sum(minutes[x.participation_id] for x in kept)
        if total <= 0:
            raise CertificateRefused(
                "lines", reason_zh="没有可证明的服务时长", reason_en="there are no hours to certify"
            )
        number = new_number(today)
        content: dict[str, Any] = {
            "number": number,
            "kind": str(kind),
            "issued_on": today.isoformat(),
            "name": volunteer.name,
            "id_type": ID_TYPE,
            "id_masked": volunteer.id_masked,
            "platform_no": volunteer.platform_no,
            "organization": issuer.organization,
            "person_in_charge": issuer.person_in_charge,
            "handler": issuer.handler,
            "contact": issuer.contact,
            "honour": honour if kind == Kind.HONOUR else "",
            "total_minutes": total,
            "lines": [
                {
                    "served_on": x.served_on.isoformat(),
                    "minutes": minutes[x.participation_id],
                    "category": x.category,
                    "content": _one_line(x.content),
                }
                for x in kept
            ],
        }
        row = Certificate(
            number=number,
            kind=str(kind),
            resident_id=volunteer.resident_id,
            organization_id=issuer.organization_id,
            issued_on=today,
            total_minutes=total,
            content=content,
            note=sign_note(statement(content), [log_signer(self.settings)]),
            issued_by=issuer.staff_id,
        )
        self.repo.add(row)
        return row

    def get(self, number: str) -> Certificate | None:
        """A certificate by number (the caller decides who may see it)."""
        return self.repo.certificate(number)

    def of_resident(self, resident_id: uuid.UUID) -> Sequence[Certificate]:
        """A resident's certificates, newest first."""
        return self.repo.certificates_of(resident_id)

    def by_organizations(self, organization_ids: Sequence[uuid.UUID]) -> Sequence[Certificate]:
        """The latest certificates issued by these organizations."""
        return self.repo.certificates_by(organization_ids)

    def verifiers(self) -> list[Verifier]:
        """The log's public keys: the one in use and every one recorded (rotations)."""
        keys = {log_signer(self.settings).verifier}
        keys.update(load_verifier(v) for v in self.repo.vkeys())
        return sorted(keys, key=lambda v: v.vkey())

    def check(self, number: str) -> Check:
        """The public check of a certificate number."""
        row = self.repo.certificate(number)
        if row is None:
            return Check(Standing.UNKNOWN)
        if not check_note(row.note, row.content, self.verifiers()):
            return Check(Standing.TAMPERED)
        return Check(
            Standing.GENUINE,
            masked_name=mask_name(row.content["name"]),
            hours=round(row.total_minutes / 60, 2),
            issuer=row.content["organization"],
            issued_on=row.issued_on,
            kind=row.kind,
        )
