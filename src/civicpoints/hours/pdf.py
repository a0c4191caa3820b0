"""The certificate as a PDF (A4): fpdf2 with Noto Sans CJK SC embedded (subset), a QR code
to the public check page, the signed statement printed and attached (certificate.note)."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import qrcode
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from qrcode.constants import ERROR_CORRECT_M

from civicpoints.hours.models import Certificate
from civicpoints.kit.cjkfont import FONT, add_cjk_fonts

TITLES = {"record": "志愿服务记录证明", "honour": "优秀志愿者荣誉证书"}


def _qr_png(url: str) -> bytes:
    """`url` as a QR code PNG with a 4-module quiet zone."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4, box_size=8)
    qr.add_data(url)
    qr.make(fit=True)
    out = io.BytesIO()
    qr.make_image().save(out)
    return out.getvalue()


def _hours(minutes: int) -> str:
    """Minutes as hours with up to two decimals ('2', '1.5')."""
    return f"{minutes / 60:.2f}".rstrip("0").rstrip(".")


def certificate_pdf(row: Certificate, verify_url: str, labels: Mapping[str, str]) -> bytes:
    """The PDF of a stored certificate; `labels` names the categories (code → zh-CN)."""
    c: dict[str, Any] = row.content
    pdf = FPDF(format="A4")
    pdf.set_title(f"{TITLES[row.kind]} {row.number}")
    pdf.set_author(c["organization"])
    pdf.set_creator("CivicPoints")
    add_cjk_fonts(pdf)
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()
    width = pdf.epw

    pdf.set_font(FONT, "B", size=22)
    pdf.cell(width, 14, TITLES[row.kind], align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, size=10)
    pdf.cell(width, 6, f"证明编号：{row.number}", align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)

    pdf.set_font(FONT, size=12)
    honour = f"被评为“{c['honour']}”，特发此证。" if row.kind == "honour" and c["honour"] else ""
    pdf.multi_cell(
        width,
        8,
        f"兹证明{c['name']}（{c['id_type']}：{c['id_masked']}；"
        f"志愿者平台编号：{c['platform_no']}）"
        f"在{c['organization']}记录的志愿服务时长累计 {_hours(c['total_minutes'])} 小时。"
        f"{honour}服务内容如下：",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.ln(3)

    pdf.set_font(FONT, size=10.5)
    with pdf.table(
        col_widths=(28, 82, 30, 30),
        text_align=("LEFT", "LEFT", "LEFT", "RIGHT"),
        line_height=7,
        first_row_as_headings=True,
    ) as table:
        table.row(("服务日期", "服务内容", "类别", "时长（小时）"))
        for line in c["lines"]:
            table.row(
                (
                    line["served_on"],
                    line["content"],
                    labels.get(line["category"], line["category"]),
                    _hours(line["minutes"]),
                )
            )
        table.row(("合计", "", "", _hours(c["total_minutes"])))
    pdf.ln(6)

    top = pdf.get_y()
    pdf.set_font(FONT, size=11.5)
    for label, value in (
        ("出具组织", c["organization"]),
        ("负责人", c["person_in_charge"]),
        ("经办人", c["handler"]),
        ("联系方式", c["contact"]),
        ("出具日期", c["issued_on"]),
    ):
        pdf.cell(110, 8, f"{label}：{value}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    qr_size = 38
    pdf.image(
        io.BytesIO(_qr_png(verify_url)),
        x=pdf.l_margin + width - qr_size,
        y=top,
        w=qr_size,
        h=qr_size,
    )
    pdf.set_y(max(pdf.get_y(), top + qr_size) + 2)
    pdf.set_font(FONT, size=9.5)
    pdf.multi_cell(
        width,
        5.5,
        f"核验：扫描二维码或访问 {verify_url} 查看本证明是否真实。",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.ln(2)
    pdf.set_font(FONT, size=7.5)
    pdf.set_text_color(80, 80, 80)
    pdf.multi_cell(
        width,
        4,
        "电子签名（Ed25519，与积分账本检查点同一公钥，可离线核验；附件 certificate.note）：\n"
        + row.note,
        align="L",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.embed_file(
        basename="certificate.note",
        bytes=row.note.encode("utf-8"),
        desc="signed statement (C2SP signed note)",
    )
    return bytes(pdf.output())
