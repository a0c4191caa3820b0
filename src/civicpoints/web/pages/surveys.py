"""问卷 pages: the resident's answering page (works without JavaScript; 长辈模式 rows as large
as the rest), the thank-you and the already-answered state; the staff's list, a no-JS
questionnaire builder (rows added by a submit button), open/close and the results table.
The same services and errors as /api/v1/surveys."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import ValidationError

from civicpoints.access import Role
from civicpoints.insights import AnswerIn, SurveyCreate, SurveyService, state
from civicpoints.kit.clock import BUSINESS_TZ, local_date, utcnow
from civicpoints.kit.errors import DomainError
from civicpoints.regions import RegionService
from civicpoints.web.pages.forms import MAX_FIELD, FormErrors
from civicpoints.web.pages.kit import Page, ResidentPage, StaffPage

router = APIRouter(include_in_schema=False)
ROWS_MAX = 30  # questions in the builder
KINDS = ("single", "multiple", "scale_1_5", "text")

# -- residents -----------------------------------------------------------------------------


def _answer_page(
    p: Page, sid: uuid.UUID, status: int = 200, errors: FormErrors | None = None,
    values: dict[str, list[str]] | None = None,
) -> Response:  # fmt: skip
    assert p.who is not None
    view = SurveyService(p.db).for_resident(p.who.id, sid)
    return p.render(
        "resident/survey.html", status, view=view, status_now=state(view.survey, utcnow()),
        errors=errors or FormErrors(), values=values or {},
    )  # fmt: skip


@router.get("/surveys")
def waiting(p: ResidentPage) -> Response:
    """The surveys waiting for the resident's answer."""
    assert p.who is not None
    return p.render(
        "resident/surveys.html", surveys=SurveyService(p.db).waiting(p.who.id, utcnow())
    )


@router.get("/surveys/{survey_id}")
def survey(p: ResidentPage, survey_id: uuid.UUID) -> Response:
    """One survey: its questions, or that it was answered or has closed (404 if it does
    not target the resident)."""
    return _answer_page(p, survey_id)


@router.post("/surveys/{survey_id}")
async def answer(p: ResidentPage, survey_id: uuid.UUID) -> Response:
    """Answer once, as `POST /api/v1/surveys/{id}/responses` does; nothing written on error."""
    assert p.who is not None
    service = SurveyService(p.db)
    view = service.for_resident(p.who.id, survey_id)
    form = await p.request.form()
    values = {
        f"q{i}": [v[:MAX_FIELD] for v in form.getlist(f"q{i}") if isinstance(v, str)]
        for i in range(1, len(view.questions) + 1)
    }
    try:
        answers = [_answer(q.id, q.kind, values[f"q{i}"]) for i, q in enumerate(view.questions, 1)]
        service.submit(p.who.id, survey_id, [a for a in answers if a is not None], utcnow())
    except ValidationError as exc:
        return _answer_page(p, survey_id, 422, FormErrors.of(exc, p.locale), values)
    except DomainError as exc:
        errors = FormErrors.of(exc, p.locale)
        if exc.errors:
            errors = FormErrors([(e["field"], _pick(e["detail"], p.locale)) for e in exc.errors])
        return _answer_page(p, survey_id, exc.status, errors, values)
    return p.redirect(f"/surveys/{survey_id}/thanks")


def _pick(detail: str, locale: str) -> str:
    zh, _, en = detail.partition(" / ")
    return en if locale == "en" and en else zh


def _answer(qid: uuid.UUID, kind: str, got: list[str]) -> AnswerIn | None:
    """A form's values for one question as an answer (None: left blank)."""
    got = [g.strip() for g in got if g.strip()]
    if not got:
        return None
    if kind == "text":
        return AnswerIn(question_id=qid, text=got[0])
    numbers = [int(g) if g.isdigit() and len(g) < 3 else -1 for g in got]
    if kind == "scale_1_5":
        return AnswerIn.model_validate({"question_id": qid, "value": numbers[0]})
    return AnswerIn.model_validate({"question_id": qid, "choices": numbers[:10]})


@router.get("/surveys/{survey_id}/thanks")
def thanks(p: ResidentPage, survey_id: uuid.UUID) -> Response:
    """Thank you: the answer is recorded, once."""
    assert p.who is not None
    view = SurveyService(p.db).for_resident(p.who.id, survey_id)
    return p.render("resident/survey_thanks.html", view=view)


# -- staff ---------------------------------------------------------------------------------


def _regions(p: Page) -> list[tuple[str, str]]:
    """The regions the staff member organizes (id, name), in tree order."""
    assert p.who is not None
    tree = sorted(RegionService(p.db).tree(), key=lambda r: r.path)
    return [(str(r.id), r.name) for r in tree if p.who.may(Role.ORGANIZER, r.path)]


@router.get("/staff/surveys")
def staff_list(p: StaffPage) -> Response:
    """The surveys of the staff member's scope."""
    assert p.who is not None
    surveys = SurveyService(p.db).staff_list(p.who)
    now = utcnow()
    return p.render("staff/surveys.html", surveys=[(s, state(s, now)) for s in surveys],
                    can_build=bool(_regions(p)))  # fmt: skip


def _builder(
    p: Page, status: int, values: dict[str, str], rows: int, errors: FormErrors
) -> Response:
    return p.render("staff/survey_new.html", status, values=values, rows=rows,
                    regions=_regions(p), kinds=KINDS, errors=errors)  # fmt: skip


@router.get("/staff/surveys/new")
def new_form(p: StaffPage) -> Response:
    """The questionnaire builder, three question rows to start."""
    return _builder(p, 200, {"target": "region", "required1": "yes"}, 3, FormErrors())


def _rows(values: dict[str, str], rows: int) -> list[dict[str, object]]:
    """The builder's filled rows as questions (empty rows dropped)."""
    out: list[dict[str, object]] = []
    for i in range(1, rows + 1):
        text = values.get(f"text{i}", "").strip()
        if not text:
            continue
        kind = values.get(f"kind{i}", "single")
        lines = [o.strip() for o in values.get(f"options{i}", "").splitlines() if o.strip()]
        out.append({"kind": kind, "text": text, "required": values.get(f"required{i}") == "yes",
                    "options": lines if kind in ("single", "multiple") else []})  # fmt: skip
    return out


@router.post("/staff/surveys/new")
async def build(p: StaffPage) -> Response:
    """Add a question row ("add"), or save the draft as `POST /api/v1/surveys` does."""
    assert p.who is not None
    form = await p.request.form()
    values = {k: v[:MAX_FIELD] for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    rows = min(
        max(int(values.get("rows", "3")) if values.get("rows", "").isdigit() else 3, 1), ROWS_MAX
    )
    if values.get("action") == "add":
        return _builder(p, 200, values, min(rows + 1, ROWS_MAX), FormErrors())
    ids = [a.strip() for a in values.get("activities", "").split() if a.strip()]
    body = {
        "title": values.get("title", ""), "title_en": values.get("title_en", ""),
        "region_id": values.get("region_id", ""), "target": values.get("target", "region"),
        "activity_ids": ids[:25], "questions": _rows(values, rows),
    }  # fmt: skip
    try:
        view = SurveyService(p.db).create(p.who, SurveyCreate.model_validate(body))
    except ValidationError as exc:
        labels = {"title": p._("Survey title"), "questions": p._("Questions")}
        return _builder(p, 422, values, rows, FormErrors.of(exc, p.locale, labels))
    except DomainError as exc:
        return _builder(p, exc.status, values, rows, FormErrors.of(exc, p.locale))
    return p.redirect(f"/staff/surveys/{view.survey.id}")


def _detail(
    p: Page, sid: uuid.UUID, status: int = 200, errors: FormErrors | None = None
) -> Response:
    assert p.who is not None
    service = SurveyService(p.db)
    view = service.view(service.staff_survey(p.who, sid))
    default = local_date(utcnow()) + timedelta(days=14)
    return p.render("staff/survey.html", status, view=view, status_now=state(view.survey, utcnow()),
                    owned=view.survey.owner_id == p.who.id, default_close=default.isoformat(),
                    errors=errors or FormErrors())  # fmt: skip


@router.get("/staff/surveys/{survey_id}")
def staff_survey(p: StaffPage, survey_id: uuid.UUID) -> Response:
    """One survey: its questions, open or close it (its owner), a link to the results."""
    return _detail(p, survey_id)


@router.post("/staff/surveys/{survey_id}/open")
async def open_survey(p: StaffPage, survey_id: uuid.UUID) -> Response:
    """Open until the end of the chosen day (Beijing time)."""
    assert p.who is not None
    form = await p.request.form()
    raw = str(form.get("closes_on", ""))[:10]
    try:
        day = datetime.strptime(raw, "%Y-%m-%d").date()
        closes = datetime.combine(day, time(23, 59), BUSINESS_TZ)
        SurveyService(p.db).open(p.who, survey_id, closes, utcnow())
    except ValueError:
        message = p._("Enter the closing date as YYYY-MM-DD")
        return _detail(p, survey_id, 422, FormErrors([("closes_on", message)]))
    except DomainError as exc:
        return _detail(p, survey_id, exc.status, FormErrors.of(exc, p.locale))
    return p.redirect(f"/staff/surveys/{survey_id}")


@router.post("/staff/surveys/{survey_id}/close")
async def close_survey(p: StaffPage, survey_id: uuid.UUID) -> Response:
    """Close now."""
    assert p.who is not None
    try:
        SurveyService(p.db).close(p.who, survey_id, utcnow())
    except DomainError as exc:
        return _detail(p, survey_id, exc.status, FormErrors.of(exc, p.locale))
    return p.redirect(f"/staff/surveys/{survey_id}")


@router.get("/staff/surveys/{survey_id}/results")
def results(p: StaffPage, survey_id: uuid.UUID) -> Response:
    """Results per question, counts under 10 suppressed; free text for the owner only."""
    assert p.who is not None
    r = SurveyService(p.db).results(p.who, survey_id)
    return p.render("staff/survey_results.html", r=r, status_now=state(r.survey, utcnow()))
