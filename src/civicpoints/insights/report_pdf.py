"""The annual report as a PDF (A4): fpdf2 with Noto Sans CJK SC embedded (kit/cjkfont.py),
charts drawn with fpdf2's own lines and rectangles (no browser, no network), the signed
checkpoint's note attached (checkpoint.note)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from civicpoints.insights.report_layout import Chart, Figure, Layout, Note, Table, fmt
from civicpoints.kit.cjkfont import add_cjk_fonts

# Distinct in colour and in grey (print): blue, orange, dark green.
PALETTE = ((31, 100, 180), (230, 120, 20), (40, 130, 60))
GRID, INK, MUTED = (215, 215, 215), (20, 20, 20), (90, 90, 90)
CHART_H = 58.0


class _PDF(FPDF):
    family = "NotoSansSC"

    def footer(self) -> None:
        """Page n of N, centred."""
        self.set_y(-12)
        self.set_font(self.family, size=8)
        self.set_text_color(*MUTED)
        self.cell(0, 6, f"第 {self.page_no()} 页 / 共 {{nb}} 页", align="C")


def report_pdf(lay: Layout, note: str | None) -> bytes:
    """The PDF of a laid-out report; `note` (the signed checkpoint) is attached if given."""
    pdf = _PDF(format="A4")
    pdf.family = add_cjk_fonts(pdf)
    pdf.set_title(lay.title)
    pdf.set_creator("CivicPoints")
    pdf.set_margins(18, 16, 18)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()
    pdf.set_font(pdf.family, "B", size=20)
    pdf.multi_cell(pdf.epw, 11, lay.title, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(pdf.family, size=10)
    pdf.set_text_color(*MUTED)
    for line in lay.subtitle:
        pdf.cell(pdf.epw, 6, line, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*INK)
    for section in lay.sections:
        _heading(pdf, section.title)
        run: list[Figure] = []
        for block in [*section.blocks, None]:
            if isinstance(block, Figure):
                run.append(block)
                continue
            if run:
                _figures(pdf, run)
                run = []
            if isinstance(block, Table):
                _table(pdf, block)
            elif isinstance(block, Chart):
                _chart(pdf, block)
            elif isinstance(block, Note):
                _note(pdf, block)
    if note:
        pdf.embed_file(
            basename="checkpoint.note",
            bytes=note.encode("utf-8"),
            desc="signed global checkpoint (C2SP signed note) the ledger figures are at",
        )
    return bytes(pdf.output())


def _room(pdf: FPDF, height: float) -> None:
    """A new page unless `height` fits below."""
    if pdf.get_y() + height > pdf.page_break_trigger:
        pdf.add_page()


def _heading(pdf: _PDF, title: str) -> None:
    _room(pdf, 30)
    pdf.ln(5)
    pdf.set_font(pdf.family, "B", size=14)
    pdf.set_fill_color(235, 241, 250)
    pdf.cell(pdf.epw, 9, title, fill=True, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)


def _note(pdf: _PDF, note: Note) -> None:
    pdf.set_font(pdf.family, size=8.5 if note.small else 10.5)
    pdf.set_text_color(*(MUTED if note.small else INK))
    pdf.multi_cell(
        pdf.epw, 4.6 if note.small else 6, note.text, new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    pdf.set_text_color(*INK)
    pdf.ln(1.5)


def _plain(pdf: _PDF) -> None:
    """Table colours: black on white, grey rules (a chart leaves its last fill colour set)."""
    pdf.set_fill_color(255, 255, 255)
    pdf.set_draw_color(*INK)
    pdf.set_text_color(*INK)
    pdf.set_line_width(0.2)


def _figures(pdf: _PDF, run: Sequence[Figure]) -> None:
    _plain(pdf)
    pdf.set_font(pdf.family, size=10.5)
    with pdf.table(
        col_widths=(16, 92, 44, 22),
        text_align=("LEFT", "LEFT", "RIGHT", "LEFT"),
        line_height=6.5,
        first_row_as_headings=True,
    ) as table:
        table.row(("编号", "指标", "数值", "单位"))
        for f in run:
            table.row((f.id, f.label, fmt(f.value, f.unit), "" if f.unit == "%" else f.unit))
    pdf.ln(2)


def _table(pdf: _PDF, t: Table) -> None:
    _room(pdf, 20)
    pdf.set_font(pdf.family, "B", size=10.5)
    pdf.multi_cell(pdf.epw, 6, t.title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if not t.rows:
        _note(pdf, Note("（无）", small=True))
        return
    _plain(pdf)
    pdf.set_font(pdf.family, size=9.5)
    widths = _widths(t)
    with pdf.table(col_widths=widths, line_height=5.6, first_row_as_headings=True) as table:
        table.row(t.header)
        for row in t.rows:
            table.row(row)
    pdf.ln(2)


def _widths(t: Table) -> tuple[float, ...]:
    """Columns in proportion to their longest cell (CJK counted double), at least 8."""
    cols = len(t.header)
    longest = [
        max(sum(2 if ord(ch) > 0x2E80 else 1 for ch in row[i]) for row in [t.header, *t.rows])
        for i in range(cols)
    ]
    return tuple(max(8.0, min(float(n), 70.0)) for n in longest)


def _nice(top: float) -> float:
    """A round axis maximum at or above `top`."""
    if top <= 1:
        return 1.0  # counts, hours and points: nothing finer than one is worth an axis
    step = 10 ** math.floor(math.log10(top))
    for m in (1, 2, 2.5, 5, 10):
        if m * step >= top:
            return m * step
    return 10 * step


def _chart(pdf: _PDF, c: Chart) -> None:
    _room(pdf, CHART_H + 22)
    pdf.set_font(pdf.family, "B", size=10.5)
    pdf.cell(pdf.epw, 6, f"图 {c.id}  {c.title}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    x0, y0 = pdf.l_margin + 16, pdf.get_y() + 8
    w, h = pdf.epw - 18, CHART_H
    _legend(pdf, c, y0 - 6)
    if c.kind == "pairs":
        _pairs(pdf, c, x0, y0, w, h)
    else:
        _axes_and_data(pdf, c, x0, y0, w, h)
    pdf.set_y(y0 + h + 9)
    if c.note:
        _note(pdf, Note(c.note, small=True))


def _legend(pdf: _PDF, c: Chart, y: float) -> None:
    pdf.set_font(pdf.family, size=8.5)
    x = pdf.l_margin + pdf.epw
    for i, (name, _) in reversed(list(enumerate(c.series))):
        width = pdf.get_string_width(name) + 9
        x -= width
        pdf.set_fill_color(*PALETTE[i % len(PALETTE)])
        pdf.rect(x, y + 1, 5, 3, style="F")
        pdf.set_text_color(*INK)
        pdf.text(x + 6, y + 3.8, name)


def _axes_and_data(pdf: _PDF, c: Chart, x0: float, y0: float, w: float, h: float) -> None:
    values = [v for _, vs in c.series for v in vs if v is not None]
    top = _nice(max(values, default=0.0))
    pdf.set_font(pdf.family, size=7.5)
    pdf.set_draw_color(*GRID)
    pdf.set_line_width(0.2)
    for k in range(5):
        y = y0 + h - h * k / 4
        pdf.line(x0, y, x0 + w, y)
        label = fmt(top * k / 4)
        pdf.set_text_color(*MUTED)
        pdf.text(x0 - pdf.get_string_width(label) - 1.5, y + 1.2, label)
    n = max(len(c.labels), 1)
    slot = w / n
    for i, label in enumerate(c.labels):
        pdf.text(x0 + slot * i + slot / 2 - pdf.get_string_width(label) / 2, y0 + h + 4.5, label)
    if c.kind == "bar":
        _bars(pdf, c, x0, y0, slot, h, top)
    else:
        _lines(pdf, c, x0, y0, slot, h, top)
    pdf.set_draw_color(*INK)
    pdf.line(x0, y0 + h, x0 + w, y0 + h)


def _bars(pdf: _PDF, c: Chart, x0: float, y0: float, slot: float, h: float, top: float) -> None:
    k = len(c.series)
    bar = slot * 0.7 / max(k, 1)
    for s, (_, vs) in enumerate(c.series):
        pdf.set_fill_color(*PALETTE[s % len(PALETTE)])
        for i, v in enumerate(vs):
            x = x0 + slot * i + slot * 0.15 + bar * s
            if v is None:  # suppressed: a mark on the axis, not a bar of zero
                pdf.set_text_color(*MUTED)
                pdf.text(x + bar / 2 - 2, y0 + h - 1.5, "<10")
                continue
            bh = h * v / top
            if bh > 0:
                pdf.rect(x, y0 + h - bh, bar, bh, style="F")


def _lines(pdf: _PDF, c: Chart, x0: float, y0: float, slot: float, h: float, top: float) -> None:
    pdf.set_line_width(0.6)
    for s, (_, vs) in enumerate(c.series):
        colour = PALETTE[s % len(PALETTE)]
        pdf.set_draw_color(*colour)
        pdf.set_fill_color(*colour)
        last: tuple[float, float] | None = None
        for i, v in enumerate(vs):
            if v is None:
                last = None
                continue
            point = (x0 + slot * i + slot / 2, y0 + h - h * v / top)
            if last is not None:
                pdf.line(*last, *point)
            pdf.circle(point[0], point[1], 0.9, style="F")
            last = point
    pdf.set_line_width(0.2)


def _pairs(pdf: _PDF, c: Chart, x0: float, y0: float, w: float, h: float) -> None:
    """Before/after bars per label, each label on its own scale, values printed on top."""
    n = max(len(c.labels), 1)
    slot = w / n
    pdf.set_font(pdf.family, size=8)
    for i, label in enumerate(c.labels):
        pair = [vs[i] for _, vs in c.series]
        top = max((v for v in pair if v is not None), default=0.0) or 1.0
        bar = min(slot * 0.32, 16)
        for s, v in enumerate(pair):
            x = x0 + slot * i + slot / 2 - bar - 1 + s * (bar + 2)
            if v is None:
                pdf.set_text_color(*MUTED)
                pdf.text(x + 1, y0 + h - 1.5, "—")
                continue
            bh = (h - 8) * v / top
            pdf.set_fill_color(*PALETTE[s % len(PALETTE)])
            pdf.rect(x, y0 + h - bh, bar, bh, style="F")
            pdf.set_text_color(*INK)
            text = fmt(v)
            pdf.text(x + bar / 2 - pdf.get_string_width(text) / 2, y0 + h - bh - 1.2, text)
        pdf.set_text_color(*INK)
        pdf.set_xy(x0 + slot * i, y0 + h + 1)
        pdf.multi_cell(slot, 4, label, align="C")
    pdf.set_draw_color(*INK)
    pdf.line(x0, y0 + h, x0 + w, y0 + h)
