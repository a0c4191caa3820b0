"""The annual report laid out (pure): from the `Report` value to sections of numbered
figures, tables, charts and notes that the PDF and XLSX writers draw as they are.

Every number carries a figure id (P1, L3, O2b, S1.2 …); `SOURCES` says which service
call and query each id comes from, the same table as docs/insights.md ("Annual evaluation
report")."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from civicpoints.insights.report_data import Report, SurveyLine
from civicpoints.insights.schemas import FiguresRead
from civicpoints.scoring import CATEGORY_LABELS, Category

Value = int | float | str | None
DASH = "—"

# id → (zh, en, where the number comes from). Outcome (O…), survey (S…) and sponsor (B5…)
# ids are numbered by position; their source is the pattern's.
SOURCES: dict[str, tuple[str, str, str]] = {
    "P1": ("全年参与人数", "Participants in the year", "figures(year).totals.participants"),
    "P2": ("登记居民", "Registered residents", "figures(year).totals.registered_residents"),
    "P3": ("参与率", "Participation rate", "figures(year).totals.participation_rate"),
    "P4": ("人口参与率", "Rate of population", "figures(year).totals.population_rate"),
    "P5": (
        "加入前12个月参与人数",
        "Participants, 12 months before joining",
        "figures(join−12..join−1).totals.participants",
    ),
    "P6": (
        "加入前参与率",
        "Participation rate before joining",
        "figures(join−12..join−1).totals.participation_rate",
    ),
    "P7": (
        "加入后参与人数",
        "Participants, join month and after",
        "figures(join..join+11).totals.participants",
    ),
    "P8": (
        "加入后参与率",
        "Participation rate after joining",
        "figures(join..join+11).totals.participation_rate",
    ),
    "H1": ("服务时长", "Service hours", "figures(year).totals.hours"),
    "H2": ("参与次数", "Participations", "figures(year).totals.participations"),
    "H3": ("手机签到次数", "Recorded in the app", "figures(year).totals.by_channel.app"),
    "H4": ("线下登记次数", "Recorded offline", "figures(year).totals.by_channel.offline"),
    "L1": ("发放积分", "Points issued", "figures(year).totals.points.issued − left out"),
    "L2": ("兑换积分", "Points redeemed", "figures(year).totals.points.redeemed − left out"),
    "L3": ("过期积分", "Points expired", "figures(year).totals.points.expired − left out"),
    "L4": ("捐赠积分", "Points donated", "figures(year).totals.points.donated − left out"),
    "L5": ("追回积分", "Points clawed back", "figures(year).totals.points.clawed_back − left out"),
    "L6": (
        "年末未兑换积分",
        "Outstanding at the year's end",
        "figures(year).totals.outstanding − left out",
    ),
    "L7": ("兑换率", "Redemption rate", "L2 ÷ L1"),
    "F1": ("欺诈认定", "Fraud cases confirmed", "figures(year).totals.fraud_flags"),
    "F2": ("追回记录", "Records clawed back", "figures(year).totals.clawbacks"),
    "B1": ("预算总额", "Budget", "BudgetService.figures().budget_fen ÷ 100"),
    "B2": ("已兑换金额", "Redeemed", "BudgetService.figures().redeemed_fen ÷ 100"),
    "B3": ("剩余预算", "Remaining", "BudgetService.figures().remaining_fen ÷ 100"),
    "B4": ("积分负债", "Liability", "BudgetService.figures().liability_fen ÷ 100"),
}
PATTERNS: dict[str, tuple[str, str, str]] = {
    "O": (
        "成效指标",
        "Outcome indicator",
        "OutcomeService.monthly (a: year average) / comparison (b: before, c: after, d: change)",
    ),
    "S": (
        "问卷结果",
        "Survey results",
        "SurveyService.results: S<n> respondents, S<n>.<q> answered, S<n>.<q>.<o> option",
    ),
    "B5": (
        "资助方",
        "Sponsors",
        "BudgetService.figures().sponsors[i] (budget, redeemed, remaining)",
    ),
    "C": ("图表", "Charts", "figures(year).months[] (C1 participants, C2 hours, C3 points)"),
}


@dataclass(frozen=True)
class Figure:
    """One numbered figure."""

    id: str
    label: str
    value: Value
    unit: str = ""


@dataclass(frozen=True)
class Table:
    """A table of cells already formatted; `ids` names the figure of a row, if any."""

    title: str
    header: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Chart:
    """Bars or lines over labels; `None` is a gap (a suppressed count)."""

    id: str
    title: str
    kind: str  # "bar" | "line" | "pairs" (before/after per label, each label its own scale)
    labels: list[str]
    series: list[tuple[str, list[float | None]]]
    unit: str = ""
    note: str = ""


@dataclass(frozen=True)
class Note:
    """A paragraph."""

    text: str
    small: bool = False


Block = Figure | Table | Chart | Note


@dataclass(frozen=True)
class Section:
    """A numbered section."""

    title: str
    blocks: list[Block] = field(default_factory=list)


@dataclass(frozen=True)
class Layout:
    """The report: title lines and sections, and every figure by id (tests, the XLSX)."""

    title: str
    subtitle: list[str]
    sections: list[Section]

    def figures(self) -> dict[str, Value]:
        """Every numbered figure's value by id."""
        return {b.id: b.value for s in self.sections for b in s.blocks if isinstance(b, Figure)}


def fmt(v: Value, unit: str = "") -> str:
    """A value as printed: thousands separated, '<10'/'x' as they are, none as a dash."""
    if v is None:
        return DASH
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        text = f"{v:,}"
    elif isinstance(v, float):
        text = f"{v:,.2f}".rstrip("0").rstrip(".") if v != int(v) else f"{int(v):,}"
    else:
        return v
    return f"{text}{unit}" if unit == "%" else text


def _fig(fid: str, value: Value, unit: str = "") -> Figure:
    return Figure(fid, SOURCES[fid][0], value, unit)


def _num(v: Value) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def layout(r: Report) -> Layout:
    """The report's sections, in order."""
    f = r.figures
    return Layout(
        title=f"{r.region} {r.year} 年度评估报告",
        subtitle=[
            f"积分志愿服务试点 · 统计期 {f.first} 至 {f.last}（北京时间）",
            f"生成时间 {r.generated_at:%Y-%m-%d %H:%M} UTC · 少于 10 人的人数显示为 <10",
        ],
        sections=[
            _participation(r),
            _service(f),
            _points(r),
            _outcomes(r),
            _surveys(r.surveys),
            _fraud(r),
            _budget(r),
            _sources(r),
        ],
    )


def _participation(r: Report) -> Section:
    t = r.figures.totals
    blocks: list[Block] = [
        _fig("P1", t.participants, "人"),
        _fig("P2", t.registered_residents, "人"),
        _fig("P3", t.participation_rate, "%"),
    ]
    if t.population is not None:
        blocks.append(_fig("P4", t.population_rate, "%"))
    if r.joined_on is None:
        blocks.append(Note("本区域及其上级均未登记加入日期，无法比较加入前后。"))
    else:
        b, a = r.before, r.after
        blocks.append(
            Note(f"加入日期 {r.joined_on:%Y-%m-%d}：比较加入月前 12 个月与加入月起 12 个月。")
        )
        blocks += [
            _fig("P5", b.totals.participants if b else None, "人"),
            _fig("P6", b.totals.participation_rate if b else None, "%"),
            _fig("P7", a.totals.participants if a else None, "人"),
            _fig("P8", a.totals.participation_rate if a else None, "%"),
        ]
    blocks.append(_monthly_chart(r.figures, "C1"))
    return Section("一、居民参与", blocks)


def _monthly_chart(f: FiguresRead, cid: str) -> Chart:
    months = [m.month[5:] for m in f.months]
    if cid == "C1":
        return Chart(
            cid,
            "每月参与人数（人；<10 不显示）",
            "bar",
            months,
            [("参与人数", [_num(m.participants) for m in f.months])],
            "人",
        )
    if cid == "C2":
        return Chart(
            cid,
            "每月服务时长（小时）",
            "bar",
            months,
            [("服务时长", [m.hours for m in f.months])],
            "小时",
        )
    return Chart(
        cid,
        "每月积分（发放 / 兑换 / 过期）",
        "line",
        months,
        [
            ("发放", [float(m.points.issued) for m in f.months]),
            ("兑换", [float(m.points.redeemed) for m in f.months]),
            ("过期", [float(m.points.expired) for m in f.months]),
        ],
        "分",
    )


def _category(code: str) -> str:
    labels = CATEGORY_LABELS.get(Category(code)) if code in set(Category) else None
    return labels["zh-CN"] if labels else code


def _service(f: FiguresRead) -> Section:
    t = f.totals
    rows = [[_category(k), fmt(v)] for k, v in t.by_category.items()]
    return Section(
        "二、服务时长与参与",
        [
            _fig("H1", t.hours, "小时"),
            _fig("H2", t.participations, "次"),
            _fig("H3", t.by_channel.get("app", 0), "次"),
            _fig("H4", t.by_channel.get("offline", 0), "次"),
            Table("按活动类别的参与次数（H2 的分项）", ["类别", "参与次数"], rows),
            _monthly_chart(f, "C2"),
        ],
    )


def _points(r: Report) -> Section:
    g = r.ledger
    blocks: list[Block] = [
        _fig("L1", g.issued, "分"),
        _fig("L2", g.redeemed, "分"),
        _fig("L3", g.expired, "分"),
        _fig("L4", g.donated, "分"),
        _fig("L5", g.clawed_back, "分"),
        _fig("L6", g.outstanding, "分"),
        _fig("L7", g.redemption_rate, "%"),
    ]
    c = g.checkpoint
    if c is None:
        blocks.append(
            Note("账本尚无签名的全局检查点：以上积分数字为生成时的账本数字，无法由检查点复核。")
        )
    else:
        left = "；".join(f"{k} {v:,}" for k, v in sorted(g.left_out.items()))
        blocks += [
            Note(
                "以上积分数字（L1–L7）按下列签名全局检查点计算：只计入该检查点所含的账本分录"
                "（一笔转账的全部分录都在检查点内才计入）。第三方审计可从经验证的账本按同一规则复算。"
            ),
            Table(
                "签名全局检查点（附件 checkpoint.note 为签名原文）",
                ["项目", "值"],
                [
                    ["来源 origin", c.origin],
                    ["树大小 size", f"{c.size:,}"],
                    ["根哈希 root (base64)", c.root_b64],
                    ["根哈希 root (hex)", c.root_hex],
                    ["签名时间 (UTC)", f"{c.signed_at:%Y-%m-%d %H:%M:%S}"],
                    ["见证人签名", str(c.witnesses)],
                    [
                        "检查点之后的分录",
                        f"{c.pending_entries:,} 条（{c.pending_transfers:,} 笔转账）",
                    ],
                ],
            ),
            Note(
                f"生成报告时有 {c.pending_entries:,} 条分录尚未写入该检查点，未计入以上数字"
                + (
                    f"；它们在本区域本年度的数额：{left}。"
                    if left
                    else "，本区域本年度无此类数额。"
                ),
                small=True,
            ),
        ]
    chart = _monthly_chart(r.figures, "C3")
    if g.left_out:
        chart = Chart(
            chart.id,
            chart.title,
            chart.kind,
            chart.labels,
            chart.series,
            chart.unit,
            "图中月度数字为看板数字，含检查点之后记账的转账。",
        )
    blocks.append(chart)
    return Section("三、积分发放与兑换（签名检查点）", blocks)


def _outcomes(r: Report) -> Section:
    if not r.outcomes:
        return Section("四、成效指标", [Note("本区域在本年度及加入前后没有部门录入的成效指标。")])
    rows, pairs = [], []
    blocks: list[Block] = []
    for i, o in enumerate(r.outcomes, start=1):
        unit = o.unit
        for suffix, v in (("a", o.year_average), ("b", o.before), ("c", o.after), ("d", o.change)):
            blocks.append(Figure(f"O{i}{suffix}", f"{o.name}（{_part(suffix)}）", v, unit))
        rows.append(
            [
                f"O{i}",
                o.name,
                unit,
                fmt(o.year_average),
                fmt(o.before),
                fmt(o.after),
                fmt(o.change) + (f"（{o.change_pct:+.1f}%）" if o.change_pct is not None else ""),
            ]
        )
        pairs.append((o.name, o.before, o.after))
    table = Table(
        "部门录入的成效指标（数值来自各部门，非平台统计）",
        ["编号", "指标", "单位", "全年平均", "加入前", "加入后", "变化"],
        rows,
    )
    chart = Chart(
        "C4",
        "成效指标：加入前后（每项按自身刻度）",
        "pairs",
        [p[0] for p in pairs],
        [("加入前", [p[1] for p in pairs]), ("加入后", [p[2] for p in pairs])],
    )
    note = Note(
        "平均值只计有数值的月份；数值由部门录入，本报告不声称变化由积分制度引起，也无对照区域。",
        small=True,
    )
    return Section("四、成效指标", [table, chart, note, *blocks])


def _part(suffix: str) -> str:
    return {"a": "全年平均", "b": "加入前", "c": "加入后", "d": "变化"}[suffix]


def _surveys(surveys: Sequence[SurveyLine]) -> Section:
    if not surveys:
        return Section("五、问卷调查", [Note("本区域本年度没有开放过的问卷。")])
    blocks: list[Block] = [
        Note(
            "少于 10 人的计数显示为 <10；为防止由合计推算，必要时另隐去一个计数（x）。"
            "自由填写的回答不在报告中。",
            small=True,
        )
    ]
    for i, s in enumerate(surveys, start=1):
        blocks.append(Figure(f"S{i}", f"《{s.title}》答卷人数", s.respondents, "人"))
        for q_no, q in enumerate(s.questions, start=1):
            qid = f"S{i}.{q_no}"
            if q.kind == "text":
                rows = [[qid, "（自由填写，不公开）", fmt(q.answered), DASH]]
            else:
                rows = [
                    [f"{qid}.{o_no}", o.label, fmt(o.count), fmt(o.percent, "%")]
                    for o_no, o in enumerate(q.options, start=1)
                ]
                rows.append([qid, "作答人数", fmt(q.answered), DASH])
                if q.mean is not None:
                    rows.append([qid, "平均分", fmt(q.mean), DASH])
            blocks.append(Table(f"{qid} {q.text}", ["编号", "选项", "人数", "占比"], rows))
    return Section("五、问卷调查", blocks)


def _fraud(r: Report) -> Section:
    t = r.figures.totals
    return Section(
        "六、欺诈与追回",
        [
            _fig("F1", t.fraud_flags, "件"),
            _fig("F2", t.clawbacks, "条"),
            Note(
                f"追回的积分见 L5（{fmt(r.ledger.clawed_back)} 分）。"
                "涉及的人数少于 10 时显示为 <10。",
                small=True,
            ),
        ],
    )


def _budget(r: Report) -> Section:
    b = r.budget
    if b is None:
        return Section(
            "七、预算与资助方", [Note("预算与资助方为全市数据，仅市级管理员与审计员的报告包含。")]
        )
    rows = [
        [
            f"B5.{i}",
            s.name,
            fmt(s.budget_fen / 100),
            fmt(s.redeemed_fen / 100),
            fmt(s.remaining_fen / 100),
        ]
        for i, s in enumerate(b.sponsors, start=1)
    ]
    return Section(
        "七、预算与资助方（全市，生成时）",
        [
            _fig("B1", b.budget_fen / 100, "元"),
            _fig("B2", b.redeemed_fen / 100, "元"),
            _fig("B3", b.remaining_fen / 100, "元"),
            _fig("B4", b.liability_fen / 100, "元"),
            Table("资助方（元）", ["编号", "资助方", "预算", "已兑换", "剩余"], rows),
            Note(
                "预算为全市资助方的累计数字（不分区域、不分年度），"
                "负债 = 全市未兑换积分 × 当前积分价值。",
                small=True,
            ),
        ],
    )


def _sources(r: Report) -> Section:
    rows = [[k, zh, src] for k, (zh, _en, src) in SOURCES.items()]
    rows += [[k, zh, src] for k, (zh, _en, src) in PATTERNS.items()]
    return Section(
        "附：数字来源",
        [
            Note(
                "figures(范围) 即 InsightsService.figures(区域, 起月, 止月)，与管理后台“统计”页"
                "（/admin/insights）及 GET /api/v1/insights/figures 同一调用；"
                "各查询见 docs/insights.md“Annual evaluation report (年度评估报告)”。",
                small=True,
            ),
            Table("编号与查询", ["编号", "数字", "来源（服务调用 / 查询）"], rows),
        ],
    )
