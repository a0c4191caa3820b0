"""QR codes as inline SVG: sharp at any size, no image request, no inline style (CSP)."""

from __future__ import annotations

from html import escape

import qrcode
from qrcode.constants import ERROR_CORRECT_M

QUIET = 4  # modules of white margin all round (ISO/IEC 18004): scanners miss codes without it


def qr_svg(text: str, label: str, css_class: str = "qr") -> str:
    """`text` as an SVG QR code with a 4-module quiet zone; `label` names it for screen readers.

    Dark modules are one path on a white square; the size is the stylesheet's (a viewBox in
    modules), so the same markup is 220 px in normal mode and 280 px in 长辈模式.
    """
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=QUIET)
    qr.add_data(text)
    qr.make(fit=True)
    matrix = qr.get_matrix()  # includes the quiet zone
    size = len(matrix)
    dark = "".join(
        f"M{x} {y}h1v1h-1z" for y, row in enumerate(matrix) for x, on in enumerate(row) if on
    )
    return (
        f'<svg class="{escape(css_class)}" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {size} {size}" role="img" aria-label="{escape(label)}" '
        'shape-rendering="crispEdges">'
        f'<rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path d="{dark}" fill="#000"/></svg>'
    )
