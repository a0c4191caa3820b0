"""Voucher codes from `secrets` and their QR images."""

from __future__ import annotations

import io
import secrets

import qrcode
from qrcode.image.pil import PilImage

from civicpoints.rewards import rules


def new_code() -> str:
    """A fresh voucher code: 20 characters (≈98 bits) from `secrets`, in groups of four."""
    return rules.group_code(
        "".join(secrets.choice(rules.ALPHABET) for _ in range(rules.CODE_LENGTH))
    )


def qr_png(code: str) -> bytes:
    """The voucher's QR code as PNG bytes (what a clerk's scanner reads: the code itself)."""
    image = qrcode.make(code, image_factory=PilImage, box_size=8, border=2)
    out = io.BytesIO()
    image.save(out)
    return out.getvalue()
