"""Issue 13 item 3 in Chromium: the city administrator opens 年度报告 from the admin menu,
picks 西湖区 and this year, downloads the PDF (its text names the district and the signed
checkpoint) and the XLSX. axe and screenshots at 1280 and 360 px."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from civicpoints.cli.city import DEMO_STAFF_PASSWORD
from civicpoints.kit.clock import local_date, utcnow
from tests.e2e.harness import check_axe, shoot


def test_the_admin_downloads_the_districts_annual_report(
    desktop_page: Page, tmp_path: Path
) -> None:
    page = desktop_page
    year = local_date(utcnow()).year
    page.goto("/login")
    page.get_by_label("手机号或平台编号").fill("admin")
    page.get_by_label("密码").fill(DEMO_STAFF_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/admin")
    page.get_by_role("navigation", name="管理栏目").get_by_role("link", name="年度报告").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("年度评估报告")
    page.get_by_label("地区").select_option(label="\u3000西湖区")
    page.get_by_label("年份").select_option(str(year))
    page.get_by_role("button", name="选择").click()
    expect(page.get_by_role("heading", level=2)).to_have_text(f"西湖区，{year} 年")
    check_axe(page)
    shoot(page, "admin-reports")

    with page.expect_download() as pdf_download:
        page.get_by_role("link", name="下载报告（PDF）").click()
    pdf = tmp_path / "report.pdf"
    pdf_download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert f"西湖区 {year} 年度评估报告" in text and "检查点" in text
    assert "垃圾分类执行率" in text
    with page.expect_download() as xlsx_download:
        page.get_by_role("link", name="下载数据表（XLSX）").click()
    xlsx = tmp_path / "report.xlsx"
    xlsx_download.value.save_as(xlsx)
    sheet = load_workbook(io.BytesIO(xlsx.read_bytes())).active
    assert sheet is not None and sheet["A1"].value == f"西湖区 {year} 年度评估报告"

    page.set_viewport_size({"width": 360, "height": 740})
    page.reload()
    expect(page.get_by_role("heading", level=2)).to_have_text(f"西湖区，{year} 年")
    check_axe(page)
    shoot(page, "admin-reports")
