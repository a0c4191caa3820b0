"""Voucher codes from `secrets` and their QR images."""

from __future__ import annotations

import io
import secrets

import qrcode
from qrcode.image.pil import PilImage

from civicpoints.rewards import rules

QR_BOX, QR_BORDER = 10, 4  # pixels per module, modules of white margin


def new_code() -> str:
    """A fresh voucher code: 20 characters (≈98 bits) from `secrets`, in groups of four."""
    return rules.group_code(
        "".join(secrets.choice(rules.ALPHABET) for _ in range(rules.CODE_LENGTH))
    )


def qr_png(code: str) -> bytes:
    """The voucher's QR code as PNG bytes (what a clerk's scanner reads: the code itself)."""
    # The standard 4-module quiet zone (ISO/IEC 18004): phone screens and cheap scanners
    # miss codes drawn closer to the edge; 10 px modules stay sharp when shown or printed.
    image = qrcode.make(code, image_factory=PilImage, box_size=QR_BOX, border=QR_BORDER)
    out = io.BytesIO()
    image.save(out)
    return out.getvalue()
