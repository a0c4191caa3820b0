"""The annual evaluation report (年度评估报告) of a region and a year: gathered from the
dashboard's own services (figures, outcome indicators, surveys, budget), with the ledger's
points counted at the newest signed global checkpoint (docs/insights.md). Reads only."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date, datetime

from sqlalchemy.orm import Session

from civicpoints.access import Principal, Role
from civicpoints.insights.errors import InvalidYear, ReportRegionNotFound
from civicpoints.insights.outcome_rules import month_key, plus
from civicpoints.insights.outcomes import OutcomeService
from civicpoints.insights.privacy import rate
from civicpoints.insights.report_data import (
    FIRST_YEAR,
    CheckpointRef,
    LedgerFigures,
    OptionLine,
    OutcomeLine,
    QuestionLine,
    Report,
    SurveyLine,
)
from civicpoints.insights.report_layout import layout
from civicpoints.insights.report_pdf import report_pdf
from civicpoints.insights.report_xlsx import report_xlsx
from civicpoints.insights.rollup import Rollup
from civicpoints.insights.schemas import FiguresRead
from civicpoints.insights.service import InsightsService, month_start
from civicpoints.insights.surveys import SurveyService, state
from civicpoints.insights.tally import outstanding
from civicpoints.kit.clock import local_date
from civicpoints.kit.errors import Forbidden
from civicpoints.ledger import Coverage, checkpoint_coverage, flows_of
from civicpoints.regions import Region, RegionService
from civicpoints.rewards import BudgetRead, BudgetService

PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FLOWS = ("issued", "redeemed", "expired", "donated", "clawed", "restored")


def year_months(year: int, now: datetime) -> tuple[date, date]:
    """The first and last month of the report: January to December, or to this month."""
    this = local_date(now)
    if not FIRST_YEAR <= year <= this.year:
        raise InvalidYear(field="year", first=FIRST_YEAR, last=this.year)
    return date(year, 1, 1), date(year, 12 if year < this.year else this.month, 1)


class ReportService:
    """Gathers one report; never writes."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.insights = InsightsService(session)
        self.outcomes = OutcomeService(session)

    def region(self, who: Principal, region_id: uuid.UUID) -> Region:
        """The region, when the caller administers or audits it; unknown and outside the
        caller's scope read the same (404)."""
        if not {Role.ADMIN, Role.AUDITOR} & set(who.roles):
            raise Forbidden()
        found = next((r for r in RegionService(self.session).tree() if r.id == region_id), None)
        if found is None or not who.may(Role.AUDITOR, found.path):
            raise ReportRegionNotFound(field="region")
        return found

    def gather(self, who: Principal, region_id: uuid.UUID, year: int, now: datetime) -> Report:
        """The report of a region and a year as of `now` (the year is checked first)."""
        first, last = year_months(year, now)
        region = self.region(who, region_id)
        coverage = checkpoint_coverage(self.session)
        figures = self.insights.figures(region, first, last, now)
        joined = self.outcomes.joined_on(region)
        before, after = self._around(region, joined, now)
        return Report(
            region_id=region.id,
            region_code=region.code,
            region=region.name,
            region_en=region.name_en,
            year=year,
            generated_at=now,
            figures=figures,
            joined_on=joined,
            before=before,
            after=after,
            ledger=self._ledger(region, figures, coverage),
            outcomes=self._outcomes(region, figures.first, figures.last, joined),
            surveys=self._surveys(who, region, year, now),
            budget=BudgetService(self.session).figures()
            if who.may_citywide(Role.AUDITOR)
            else None,
        )

    def _budget(self, who: Principal) -> BudgetRead | None:
        """The budget and sponsors (city-wide figures): for city-wide readers only."""
        if not who.may_citywide(Role.AUDITOR):
            return None
        return BudgetService(self.session).figures()

    def _around(
        self, region: Region, joined: date | None, now: datetime
    ) -> tuple[FiguresRead | None, FiguresRead | None]:
        """The figures of the 12 months before the join month, and of the join month and the
        11 after it (up to this month)."""
        if joined is None:
            return None, None
        start, this = joined.replace(day=1), month_key(local_date(now))
        before = self.insights.figures(
            region,
            month_start(plus(month_key(start), -12)),
            month_start(plus(month_key(start), -1)),
            now,
        )
        if month_key(start) > this:
            return before, None
        end = min(plus(month_key(start), 11), this)
        return before, self.insights.figures(region, start, month_start(end), now)

    def _ledger(
        self, region: Region, figures: FiguresRead, coverage: Coverage | None
    ) -> LedgerFigures:
        """The year's points counting only transfers the checkpoint includes: the figures'
        (rollup + live delta) less what the transfers recorded after it add."""
        left = self._left_out(region, figures.first, figures.last, coverage)
        p = figures.totals.points
        issued, redeemed = p.issued - left["issued"], p.redeemed - left["redeemed"]
        clawed = p.clawed_back - (left["clawed"] - left["restored"])
        return LedgerFigures(
            issued=issued,
            redeemed=redeemed,
            expired=p.expired - left["expired"],
            donated=p.donated - left["donated"],
            clawed_back=clawed,
            outstanding=figures.totals.outstanding - left["outstanding"],
            redemption_rate=rate(redeemed, issued),
            checkpoint=_ref(coverage) if coverage else None,
            left_out={k: v for k, v in left.items() if v},
        )

    def _left_out(
        self, region: Region, first: str, last: str, coverage: Coverage | None
    ) -> Counter[str]:
        """What the transfers after the checkpoint add to the region's year (by flow) and to
        what it holds at the end of the year ('outstanding')."""
        out: Counter[str] = Counter()
        if coverage is None or not coverage.pending:
            return out
        inside = self.insights.inside(region)
        found = Rollup(self.session).increments("ledger", flows_of(self.session, coverage.pending))
        upto: Counter[str] = Counter()
        for (community, month, figure, key), v in found.figures.items():
            if community not in inside or figure != "points" or month > last:
                continue
            upto[key] += v
            if month >= first and key in FLOWS:
                out[key] += v
        out["outstanding"] = outstanding(upto)
        return out

    def _outcomes(
        self, region: Region, first: str, last: str, joined: date | None
    ) -> list[OutcomeLine]:
        """Every indicator with a value of the region in the year or around its join month."""
        lines = []
        for ind in self.outcomes.indicators():
            year = self.outcomes.monthly(ind, region, first, last)
            _, cmp = self.outcomes.comparison(ind, region)
            if not year and (cmp is None or (cmp.before is None and cmp.after is None)):
                continue
            avg = round(sum(year.values()) / len(year) / 1000, 3) if year else None
            lines.append(
                OutcomeLine(
                    code=ind.code,
                    name=ind.name,
                    name_en=ind.name_en,
                    unit=ind.unit,
                    year_average=avg,
                    year_months=len(year),
                    before=cmp.before if cmp else None,
                    after=cmp.after if cmp else None,
                    change=cmp.change if cmp else None,
                    change_pct=cmp.change_pct if cmp else None,
                    monthly={m: v / 1000 for m, v in sorted(year.items())},
                )
            )
        return lines

    def _surveys(
        self, who: Principal, region: Region, year: int, now: datetime
    ) -> list[SurveyLine]:
        """The surveys of the region's subtree opened in the year, as published to staff
        (the same small-cell rule; free text never)."""
        service, regions = SurveyService(self.session), RegionService(self.session)
        paths = {r.id: r.path for r in regions.tree()}
        out = []
        for s in service.staff_list(who):
            opened = s.opened_at
            if opened is None or local_date(opened).year != year:
                continue
            if not paths.get(s.region_id, "").startswith(region.path):
                continue
            res = service.results(who, s.id)
            out.append(
                SurveyLine(
                    id=s.id,
                    title=s.title,
                    state=state(s, now),
                    respondents=res.respondents,
                    questions=[
                        QuestionLine(
                            text=q.text,
                            kind=q.kind,
                            answered=r.answered,
                            options=[OptionLine(o.label, o.count, o.percent) for o in r.options],
                            mean=r.mean,
                        )
                        for q, r, _texts in res.questions
                    ],
                )
            )
        return sorted(out, key=lambda s: s.title)


def report_file(report: Report, fmt: str) -> tuple[bytes, str, str]:
    """The report as 'pdf' or 'xlsx': body, media type, file name (ASCII)."""
    lay = layout(report)
    name = f"civicpoints-report-{report.region_code}-{report.year}.{fmt}"
    if fmt == "pdf":
        note = report.ledger.checkpoint.note if report.ledger.checkpoint else None
        return report_pdf(lay, note), PDF, name
    return report_xlsx(lay), XLSX, name


def _ref(c: Coverage) -> CheckpointRef:
    return CheckpointRef(
        origin=c.origin,
        size=c.size,
        root_b64=c.root_b64,
        root_hex=c.root.hex(),
        signed_at=c.signed_at,
        witnesses=c.witnesses,
        note=c.note,
        pending_entries=c.pending_entries,
        pending_transfers=len(c.pending),
    )
