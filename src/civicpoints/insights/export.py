"""The figures as a spreadsheet (CSV or XLSX, never a live formula: kit/export.py)."""

from __future__ import annotations

from civicpoints.insights.schemas import FiguresRead
from civicpoints.kit.export import Row, csv_bytes, xlsx_bytes

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONTH_HEADER = (
    "月份 Month",
    "参与人数 Participants",
    "新志愿者 New volunteers",
    "回头志愿者 Returning volunteers",
    "服务时长(小时) Hours",
    "参与次数 Participations",
    "发放积分 Issued",
    "兑换积分 Redeemed",
    "过期积分 Expired",
    "捐赠积分 Donated",
    "追回积分 Clawed back",
)


def rows(f: FiguresRead) -> list[Row]:
    """The figures as rows: the months, the totals, the age × sex table ("<10": suppressed)."""
    t = f.totals
    out: list[Row] = [
        ("区域 Region", f.region.name, f.region.name_en),
        ("起止月份 Months", f.first, f.last),
        ("生成时间 Generated (UTC)", f.generated_at.isoformat()),
        ("小于10人的数字已隐去 Counts of people under 10 read <10",),
        (),
        MONTH_HEADER,
    ]
    for m in f.months:
        p = m.points
        out.append(
            (
                *(m.month, m.participants, m.new_volunteers, m.returning_volunteers, m.hours),
                *(m.participations, p.issued, p.redeemed, p.expired, p.donated, p.clawed_back),
            )
        )
    out += [
        (),
        ("参与人数 Participants", t.participants),
        ("登记居民 Registered residents", t.registered_residents),
        ("参与率(%) Participation rate", t.participation_rate),
        ("人口 Population", t.population),
        ("人口参与率(%) Rate of population", t.population_rate),
        ("服务时长(小时) Hours", t.hours),
        ("参与次数 Participations", t.participations),
        *((f"类别 Category: {k}", v) for k, v in t.by_category.items()),
        *((f"渠道 Channel: {k}", v) for k, v in t.by_channel.items()),
        ("发放积分 Issued", t.points.issued),
        ("兑换积分 Redeemed", t.points.redeemed),
        ("过期积分 Expired", t.points.expired),
        ("捐赠积分 Donated", t.points.donated),
        ("追回积分 Clawed back", t.points.clawed_back),
        ("未兑换积分 Outstanding", t.outstanding),
        ("兑换率(%) Redemption rate", t.redemption_rate),
        ("负债(元) Liability (yuan)", t.liability_yuan),
        ("追回记录 Clawbacks", t.clawbacks),
        ("风险认定 Fraud flags", t.fraud_flags),
        ("待审核 Review backlog", t.review_backlog),
        (),
        ("年龄段 Age band", *f.demographics.sexes, "合计 Total"),
    ]
    d = f.demographics
    for band, cells, total in zip(d.bands, d.cells, d.band_totals, strict=True):
        out.append((band, *cells, total))
    out.append(("合计 Total", *d.sex_totals, d.total))
    return out


def as_file(f: FiguresRead, fmt: str) -> tuple[bytes, str, str]:
    """(body, media type, file name) of the figures in `fmt` (csv or xlsx)."""
    name = f"insights-{f.first}-{f.last}.{fmt}"
    if fmt == "xlsx":
        return xlsx_bytes(rows(f), "figures", widths=(28, 16, 16, 16)), XLSX, name
    return csv_bytes(rows(f)), "text/csv; charset=utf-8", name
