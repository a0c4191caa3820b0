"""The annual report's pure layout (insights/report_layout.py) and its writers, without a
database: every figure id has a documented source, suppressed counts stay suppressed in both
files, the checkpoint and what was left out are said, the PDF's text carries the figures."""

from __future__ import annotations

import io
import re
import subprocess
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from civicpoints.insights.report_data import (
    CheckpointRef,
    LedgerFigures,
    OptionLine,
    OutcomeLine,
    QuestionLine,
    Report,
    SurveyLine,
)
from civicpoints.insights.report_layout import PATTERNS, SOURCES, fmt, layout
from civicpoints.insights.report_pdf import _nice, report_pdf
from civicpoints.insights.report_xlsx import report_xlsx
from civicpoints.insights.schemas import (
    DemographicsRead,
    FiguresRead,
    MonthRead,
    PointsRead,
    RegionRef,
    TotalsRead,
)

DOCS = (Path(__file__).parents[2] / "docs" / "insights.md").read_text(encoding="utf-8")
NOW = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
people = st.one_of(st.integers(min_value=10, max_value=10**6), st.sampled_from(["<10", "x"]))


def figures(participants: int | str, months: list[int | str]) -> FiguresRead:
    """Figures of a year with the given counts of people."""
    points = PointsRead(issued=5000, redeemed=850, expired=10, donated=3, clawed_back=20)
    return FiguresRead(
        region=RegionRef(id=uuid.uuid4(), name="西湖区", name_en="Xihu", level="district"),
        first="2026-01",
        last="2026-12",
        generated_at=NOW,
        rolled_up_to=None,
        live_rows=0,
        suppressed_below=10,
        months=[
            MonthRead(
                month=f"2026-{i + 1:02d}",
                participants=m,
                new_volunteers="x",
                returning_volunteers="x",
                hours=12.5,
                participations=4,
                points=points,
            )
            for i, m in enumerate(months)
        ],
        totals=TotalsRead(
            participants=participants,
            registered_residents=1000,
            participation_rate=None,
            population=None,
            population_rate=None,
            hours=1234.5,
            participations=467,
            by_category={"environmental": 117},
            by_channel={"app": 381, "offline": 86},
            points=points,
            outstanding=4117,
            redemption_rate=17.0,
            liability_fen=41170,
            liability_yuan=411.7,
            clawbacks="<10",
            fraud_flags="<10",
            review_backlog=0,
        ),
        demographics=DemographicsRead(
            bands=[], sexes=[], cells=[], band_totals=[], sex_totals=[], total="<10"
        ),
    )


def report(f: FiguresRead, left: dict[str, int]) -> Report:
    checkpoint = CheckpointRef(
        origin="hangzhou.civicpoints.example/ledger/global",
        size=4242,
        root_b64="zddgtNnPezSqdlROCJKGZarIO3C8fR/oIfGwg2i0f08=",
        root_hex="cdd760b4d9cf7b34aa74844e08928665aac83b70bc7d1fe821f1b08368b47f4f",
        signed_at=NOW,
        witnesses=1,
        note="hangzhou.civicpoints.example/ledger/global\n4242\nzdd…\n\n— key sig\n",
        pending_entries=2 if left else 0,
        pending_transfers=1 if left else 0,
    )
    survey = SurveyLine(
        id=uuid.uuid4(),
        title="2026 年度居民满意度问卷",
        state="closed",
        respondents=200,
        questions=[
            QuestionLine(
                "有归属感吗？",
                "single",
                200,
                [
                    OptionLine("有", 180, 90.0),
                    OptionLine("没有", "x", None),
                    OptionLine("说不清", "<10", None),
                ],
                None,
            )
        ],
    )
    outcome = OutcomeLine(
        "waste", "垃圾分类执行率", "Waste", "%", 82.6, 12, 65.0, 82.0, 17.0, 26.2, {}
    )
    return Report(
        region_id=f.region.id,
        region_code="330106",
        region="西湖区",
        region_en="Xihu",
        year=2026,
        generated_at=NOW,
        figures=f,
        joined_on=date(2025, 12, 1),
        before=f,
        after=f,
        ledger=LedgerFigures(
            issued=5000 - left.get("issued", 0),
            redeemed=850,
            expired=10,
            donated=3,
            clawed_back=20,
            outstanding=4117 - left.get("outstanding", 0),
            redemption_rate=17.0,
            checkpoint=checkpoint,
            left_out=left,
        ),
        outcomes=[outcome],
        surveys=[survey],
        budget=None,
    )


def test_every_figure_id_has_a_source_in_the_layout_and_in_the_docs() -> None:
    lay = layout(report(figures(356, [356] * 12), {}))
    ids = list(lay.figures())
    assert len(ids) == len(set(ids))
    for fid in ids:
        assert fid in SOURCES or re.fullmatch(r"[OS][0-9]+[a-d]?", fid), fid
    for fid in SOURCES:  # docs/insights.md, "Figures and their queries" of the report
        assert f"| {fid} |" in DOCS, fid
    assert {"O", "S", "B5", "C"} == set(PATTERNS)


@settings(max_examples=40, deadline=None)
@given(participants=people, months=st.lists(people, min_size=12, max_size=12))
def test_suppressed_counts_stay_suppressed_in_the_spreadsheet(
    participants: int | str, months: list[int | str]
) -> None:
    lay = layout(report(figures(participants, months), {}))
    assert lay.figures()["P1"] == participants and lay.figures()["F1"] == "<10"
    sheet = load_workbook(io.BytesIO(report_xlsx(lay))).active
    assert sheet is not None
    values = [row for row in sheet.iter_rows(values_only=True)]
    first = {row[0]: row[2] for row in reversed(values) if row[0]}
    assert first["P1"] == participants and first["F1"] == "<10"
    chart = next(i for i, row in enumerate(values) if str(row[0]).startswith("图 C1"))
    assert [v for v in values[chart + 2][1:13]] == [
        m if isinstance(m, int) else None for m in months
    ]


@given(st.floats(min_value=0, max_value=1e12, allow_nan=False))
def test_the_chart_axis_covers_its_values(top: float) -> None:
    assert _nice(top) >= top and _nice(top) <= max(10 * top, 1.0)


@given(people)
def test_counts_print_as_they_are_published(v: int | str) -> None:
    assert fmt(v) == (f"{v:,}" if isinstance(v, int) else v)


def test_the_pdf_says_the_checkpoint_and_what_was_left_out(tmp_path: Path) -> None:
    lay = layout(report(figures("<10", ["<10"] * 12), {"issued": 37, "outstanding": 37}))
    path = tmp_path / "r.pdf"
    path.write_bytes(report_pdf(lay, "signed note\n"))
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert "西湖区 2026 年度评估报告" in text
    assert "zddgtNnPezSqdlROCJKGZarIO3C8fR/oIfGwg2i0f08=" in text and "4,242" in text
    assert "issued 37" in text and "4,963" in text  # L1 = 5,000 − 37
    assert "垃圾分类执行率" in text and "有归属感吗" in text and "<10" in text
    assert "环保行动" in text  # categories by their Chinese names
    attached = subprocess.run(
        ["pdfdetach", "-list", str(path)], check=True, capture_output=True, text=True
    ).stdout
    assert "checkpoint.note" in attached
