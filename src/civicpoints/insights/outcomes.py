"""Outcome indicators: departments enter their own figures per region and Beijing month
(one by one or by CSV, all or nothing), a correction keeps what it replaced, and a region's
figures are compared before and after it joined the scheme (docs/insights.md)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from civicpoints.access import Principal, Role
from civicpoints.insights.outcome_errors import (
    CorrectionNeedsReason,
    IndicatorExists,
    IndicatorUnknown,
    MonthInFuture,
    OutcomeImportRejected,
    ValueInvalid,
)
from civicpoints.insights.outcome_import import Line, Problem, read
from civicpoints.insights.outcome_models import Indicator, OutcomeRevision, OutcomeValue, RegionJoin
from civicpoints.insights.outcome_repository import OutcomeRepository
from civicpoints.insights.outcome_rules import (
    Comparison,
    compare,
    month_key,
    plus,
    to_milli,
    upper_bound,
)
from civicpoints.insights.outcome_schemas import IndicatorCreate, OutcomeCreate
from civicpoints.kit.clock import local_date
from civicpoints.kit.errors import Forbidden, NotFound
from civicpoints.regions import Region, RegionService

MAX_LIST = 1000


@dataclass(frozen=True)
class Entry:
    """One value to write, checked."""

    indicator: Indicator
    region: Region
    month: str
    milli: int
    source: str
    reason: str | None


class OutcomeService:
    """Indicators and their values; never commits."""

    def __init__(self, session: Session) -> None:
        self.repo = OutcomeRepository(session)
        self.regions = RegionService(session)

    # -- indicators ---------------------------------------------------------------------
    def define(self, who: Principal, body: IndicatorCreate) -> Indicator:
        """A new indicator (city-wide administrators)."""
        if not who.may_citywide(Role.ADMIN):
            raise Forbidden()
        if self.repo.indicator(body.code) is not None:
            raise IndicatorExists(field="code", code=body.code)
        row = Indicator(created_by=who.id, **body.model_dump())
        self.repo.add(row)
        return row

    def indicators(self) -> Sequence[Indicator]:
        """Every indicator, by code."""
        return self.repo.indicators()

    def indicator(self, code: str) -> Indicator:
        """The indicator with this code, or IndicatorUnknown."""
        found = self.repo.indicator(code)
        if found is None:
            raise IndicatorUnknown(field="indicator", code=code)
        return found

    # -- who may enter --------------------------------------------------------------------
    def entry_paths(self, who: Principal, department: str) -> list[str]:
        """Region paths the caller may enter values of `department`'s indicators for: their
        administrator scope, and the seat of every organization of that department they
        belong to ("" is everywhere)."""
        paths = [
            g.region_path or ""
            for g in who.grants
            if g.role == Role.ADMIN and g.organization_id is None
        ]
        orgs = {g.organization_id for g in who.grants if g.organization_id is not None}
        return paths + (self.repo.department_paths(orgs, department) if orgs else [])

    def entry_region(self, who: Principal, indicator: Indicator, region_id: uuid.UUID) -> Region:
        """The region, once the caller may enter the indicator there (scope before existence:
        an unknown region is 403 unless the caller's scope is the whole city)."""
        paths = self.entry_paths(who, indicator.department)
        if not paths:
            raise Forbidden()
        try:
            region = self.regions.get(region_id)
        except NotFound:
            if any(p.count("/") <= 1 for p in paths):
                raise
            raise Forbidden() from None
        if not any(region.path.startswith(p) for p in paths):
            raise Forbidden()
        return region

    # -- entering values ------------------------------------------------------------------
    def record(
        self, who: Principal, body: OutcomeCreate, now: datetime
    ) -> tuple[OutcomeValue, bool]:
        """Enter one value; True when it corrected one (a reason is then required)."""
        indicator = self.indicator(body.indicator)
        region = self.entry_region(who, indicator, body.region_id)
        milli = to_milli(str(body.value), indicator.unit)
        if milli is None:
            raise ValueInvalid(field="value", most=upper_bound(indicator.unit), unit=indicator.unit)
        if body.month > month_key(local_date(now)):
            raise MonthInFuture(field="month", month=body.month)
        entry = Entry(indicator, region, body.month, milli, body.source, body.reason)
        return self._write(who, entry, now)

    def _write(self, who: Principal, e: Entry, now: datetime) -> tuple[OutcomeValue, bool]:
        cell = self.repo.cell(e.indicator.id, e.region.id, e.month, lock=True)
        if cell is None:
            cell = OutcomeValue(
                indicator_id=e.indicator.id,
                region_id=e.region.id,
                month=e.month,
                milli=e.milli,
                source=e.source,
                entered_by=who.id,
                entered_at=now,
                revision=1,
            )
            if not self.repo.add_cell(cell):  # entered at the same moment by someone else
                raise CorrectionNeedsReason(field="reason", month=e.month, value="?")
            return cell, False
        if not e.reason:
            raise CorrectionNeedsReason(field="reason", month=e.month, value=cell.milli / 1000)
        self.repo.add(
            OutcomeRevision(
                value_id=cell.id,
                revision=cell.revision,
                milli=cell.milli,
                source=cell.source,
                entered_by=cell.entered_by,
                entered_at=cell.entered_at,
                replaced_by=who.id,
                replaced_at=now,
                reason=e.reason,
            )
        )
        cell.milli, cell.source, cell.entered_by, cell.entered_at = e.milli, e.source, who.id, now
        cell.revision += 1
        self.repo.session.flush()
        return cell, True

    def import_csv(self, who: Principal, data: bytes, now: datetime) -> tuple[int, int]:
        """Enter every line of a CSV, or nothing: (created, corrected); any problem raises
        OutcomeImportRejected listing each with its line."""
        lines, problems = read(data)
        entries: list[Entry] = []
        if not any(p.line <= 1 for p in problems):  # the file as a whole reads
            wrong = {p.line for p in problems}
            entries, more = self._judge(who, [ln for ln in lines if ln.line not in wrong], now)
            problems = sorted(problems + more, key=lambda p: p.line)
        if problems:
            error = OutcomeImportRejected(field="file", rows=len(problems), line=problems[0].line)
            error.errors = [p.as_dict() for p in problems[:200]]
            raise error
        corrected = sum(self._write(who, e, now)[1] for e in entries)
        return len(entries) - corrected, corrected

    def _judge(
        self, who: Principal, lines: list[Line], now: datetime
    ) -> tuple[list[Entry], list[Problem]]:
        """Each line checked against the indicators, the caller's scope and the cells."""
        entries: list[Entry] = []
        problems: list[Problem] = []
        seen: set[tuple[str, str, str]] = set()
        this = month_key(local_date(now))
        for ln in lines:
            found = self._judge_one(who, ln, this)
            if isinstance(found, Problem):
                problems.append(found)
            elif (key := (ln.indicator, ln.region, ln.month)) in seen:
                problems.append(
                    Problem(
                        ln.line,
                        "month",
                        "同一指标、区域和月份在文件中重复",
                        "the same indicator, region and month appear twice in the file",
                    )
                )
            else:
                seen.add(key)
                entries.append(found)
        return entries, problems

    def _judge_one(self, who: Principal, ln: Line, this: str) -> Entry | Problem:
        indicator = self.repo.indicator(ln.indicator)
        if indicator is None:
            return Problem(
                ln.line,
                "indicator",
                f"指标 {ln.indicator} 不存在",
                f"no indicator has the code {ln.indicator}",
            )
        region = self._region_in_scope(who, indicator, ln.region)
        if region is None:
            return Problem(
                ln.line,
                "region",
                f"区域 {ln.region} 不存在或不在您的填报范围内",
                f"region {ln.region} is unknown or outside what you may enter",
            )
        milli = to_milli(ln.value, indicator.unit)
        if milli is None:
            most = upper_bound(indicator.unit)
            return Problem(
                ln.line,
                "value",
                f"数值须在 0 到 {most} 之间，最多三位小数",
                f"the value must be between 0 and {most} with at most three decimals",
            )
        if ln.month > this:
            return Problem(
                ln.line,
                "month",
                f"不能填报未来月份（{ln.month}）",
                f"a future month cannot be entered ({ln.month})",
            )
        cell = self.repo.cell(indicator.id, region.id, ln.month)
        if cell is not None and not ln.reason:
            return Problem(
                ln.line,
                "reason",
                f"{ln.month} 已有数值 {cell.milli / 1000}；更正须填写 reason 列",
                f"{ln.month} already has the value {cell.milli / 1000}; "
                "a correction needs the reason column",
            )
        return Entry(indicator, region, ln.month, milli, ln.source, ln.reason)

    def _region_in_scope(self, who: Principal, indicator: Indicator, code: str) -> Region | None:
        """The region by code when the caller may enter the indicator there (else None: an
        unknown code and one outside the scope read the same)."""
        try:
            region = self.regions.by_code(code)
        except NotFound:
            return None
        paths = self.entry_paths(who, indicator.department)
        return region if any(region.path.startswith(p) for p in paths) else None

    # -- reading ----------------------------------------------------------------------------
    def values(
        self, region: Region, first: str, last: str, indicator: Indicator | None, limit: int
    ) -> tuple[
        list[tuple[OutcomeValue, Indicator, Region]], dict[uuid.UUID, list[OutcomeRevision]], bool
    ]:
        """Values in the region's subtree (already in the reader's scope), their histories,
        and whether more match than `limit`."""
        rows = list(
            self.repo.values(
                region.path, first, last, indicator.id if indicator else None, limit + 1
            )
        )
        more = len(rows) > limit
        rows = rows[:limit]
        history: dict[uuid.UUID, list[OutcomeRevision]] = {}
        for rev in self.repo.history([v.id for v, _, _ in rows]):
            history.setdefault(rev.value_id, []).append(rev)
        return rows, history, more

    def monthly(
        self, indicator: Indicator, region: Region, first: str, last: str
    ) -> dict[str, int]:
        """The region's own values of an indicator by month (thousandths)."""
        return self.repo.monthly(indicator.id, region.id, first, last)

    def joined_on(self, region: Region) -> date | None:
        """The day the region joined the scheme: its own, else its nearest ancestor's."""
        line = self.regions.ancestry(region)
        days = self.repo.joined([r.id for r in line])
        return next((days[r.id] for r in line if r.id in days), None)

    def comparison(
        self, indicator: Indicator, region: Region
    ) -> tuple[date | None, Comparison | None]:
        """Before/after averages around the join month (None without a join day)."""
        day = self.joined_on(region)
        if day is None:
            return None, None
        joined = month_key(day)
        values = self.monthly(indicator, region, plus(joined, -12), plus(joined, 11))
        return day, compare(values, joined)

    def set_joined(self, who: Principal, region_id: uuid.UUID, day: date) -> RegionJoin:
        """Enter the day a region joined the scheme (its administrators)."""
        self.regions.require_role_over(who, Role.ADMIN, region_id)
        row = self.repo.join_row(region_id)
        if row is None:
            row = RegionJoin(region_id=region_id, joined_on=day, set_by=who.id)
            self.repo.add(row)
        else:
            row.joined_on, row.set_by = day, who.id
            self.repo.session.flush()
        return row
