"""Noto Sans CJK SC for PDFs made with fpdf2 (certificates, the annual report): the font
files Debian's fonts-noto-cjk installs (the Makefile installs it beside chromium)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

FONT_FILES = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc"),
)
SC_INDEX = 2  # index 2 of the collection is Simplified Chinese
FONT = "NotoSansSC"


def font_file(bold: bool = False) -> Path:
    """The first CJK font file present (regular or bold)."""
    for path in FONT_FILES:
        if bold:
            path = path.with_name(path.name.replace("Regular", "Bold"))
        if path.exists():
            return path
    raise FileNotFoundError("Noto Sans CJK is not installed (apt-get install fonts-noto-cjk)")


def add_cjk_fonts(pdf: Any) -> str:
    """Register the regular and bold faces on an FPDF document (embedded as subsets);
    returns the family name to pass to `set_font`."""
    pdf.add_font(FONT, "", str(font_file()), collection_font_number=SC_INDEX)
    pdf.add_font(FONT, "B", str(font_file(bold=True)), collection_font_number=SC_INDEX)
    return FONT
