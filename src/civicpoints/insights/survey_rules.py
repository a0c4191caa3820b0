"""Pure: the rules of surveys — what a questionnaire may hold, whether a response answers it,
and its results as published with small counts of people suppressed (docs/insights.md)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from civicpoints.insights.privacy import THRESHOLD, Shown, rate, shown

KINDS = ("single", "multiple", "scale_1_5", "text")
CHOICE_KINDS = ("single", "multiple")
SCALE = (1, 2, 3, 4, 5)
MAX_QUESTIONS = 30
MAX_OPTIONS = 10
MAX_ACTIVITIES = 20
MAX_TEXT = 500


@dataclass(frozen=True)
class Question:
    """A question as the rules see it."""

    id: uuid.UUID
    kind: str
    required: bool
    n_options: int


@dataclass(frozen=True)
class Answer:
    """One answer as sent: option indexes (choice kinds), a value (scale) or text."""

    question_id: uuid.UUID
    choices: tuple[int, ...] = ()
    value: int | None = None
    text: str = ""


@dataclass(frozen=True)
class Problem:
    """Why an answer is refused: the question's number (1-based; 0: the whole response)."""

    number: int
    zh: str
    en: str


Row = tuple[uuid.UUID, int, str | None]  # (question, option or scale value, text)


def question_problem(kind: str, options: Sequence[str]) -> tuple[str, str] | None:
    """Why a question is malformed (zh, en), or None: choice kinds need 2–10 distinct
    options, the other kinds none."""
    if kind in CHOICE_KINDS:
        cleaned = [o.strip() for o in options]
        if not 2 <= len(cleaned) <= MAX_OPTIONS or not all(cleaned):
            return "选择题须有 2–10 个选项", "a choice question needs 2–10 options"
        if len(set(cleaned)) != len(cleaned):
            return "选项不能重复", "options must differ"
    elif options:
        return "只有选择题有选项", "only choice questions have options"
    return None


def _one(q: Question, a: Answer) -> tuple[list[Row], tuple[str, str] | None]:
    """The rows of one answer, or why it is refused."""
    if q.kind == "text":
        text = a.text.strip()
        if a.choices or a.value is not None:
            return [], ("文字题只填文字", "a text question takes text only")
        return ([(q.id, 0, text)] if text else []), None
    if q.kind == "scale_1_5":
        if a.choices or a.text or (a.value is not None and a.value not in SCALE):
            return [], ("请选 1 到 5 分", "choose a value from 1 to 5")
        return ([(q.id, a.value, None)] if a.value is not None else []), None
    picks = sorted(set(a.choices))
    if a.value is not None or a.text or len(picks) != len(a.choices):
        return [], ("选项有误", "invalid choice")
    if any(not 0 <= i < q.n_options for i in picks):
        return [], ("选项有误", "invalid choice")
    if q.kind == "single" and len(picks) > 1:
        return [], ("这道题只能选一项", "choose one option only")
    return [(q.id, i, None) for i in picks], None


def check_answers(
    questions: Sequence[Question], answers: Sequence[Answer]
) -> tuple[list[Row], list[Problem]]:
    """The rows to store for a response, or the problems (then nothing is stored): each
    answer to a question of the survey, at most once, every required question answered."""
    number = {q.id: i + 1 for i, q in enumerate(questions)}
    by_id = {q.id: q for q in questions}
    rows: list[Row] = []
    problems: list[Problem] = []
    seen: set[uuid.UUID] = set()
    for a in answers:
        q = by_id.get(a.question_id)
        if q is None or a.question_id in seen:
            problems.append(Problem(0, "答案与问卷不符", "answers do not match the survey"))
            continue
        seen.add(a.question_id)
        got, why = _one(q, a)
        if why is not None:
            problems.append(Problem(number[q.id], *why))
        rows += got
    answered = {r[0] for r in rows} | _failed(problems, questions)
    for q in questions:
        if q.required and q.id not in answered:
            problems.append(
                Problem(number[q.id], "这道题必须回答", "this question needs an answer")
            )
    return (rows, []) if not problems else ([], problems)


def _failed(problems: Sequence[Problem], questions: Sequence[Question]) -> set[uuid.UUID]:
    """Questions that already have a problem (one message per question is enough)."""
    return {questions[p.number - 1].id for p in problems if p.number}


@dataclass(frozen=True)
class OptionResult:
    """One option (or scale value) as published."""

    label: str
    count: Shown
    percent: float | None


@dataclass(frozen=True)
class QuestionResult:
    """A question's results as published: who answered, each option, the scale's mean."""

    answered: Shown
    options: list[OptionResult] = field(default_factory=list)
    mean: float | None = None


def question_result(
    kind: str,
    labels: Sequence[str],
    counts: Mapping[int, int],
    answered: int,
    respondents: int,
) -> QuestionResult:
    """Suppress one question's counts: nothing under 10 respondents to the survey; an
    option (or scale value) chosen by fewer than 10 reads "<10"; where the counts add up
    to the number who answered (single choice, scale) one more is hidden ("x") so the
    total cannot give it back; the mean only when no scale count is hidden (it would let
    two hidden counts be solved for)."""
    if kind == "scale_1_5":
        labels = [str(v) for v in SCALE]
        keys: Sequence[int] = SCALE
    else:
        keys = range(len(labels))
    values = [counts.get(k, 0) for k in keys]
    if respondents < THRESHOLD:
        values, answered = [0] * len(values), 0  # all hidden, whatever they are
    adds_up = kind in ("single", "scale_1_5")
    lines = [[*range(len(values)), len(values)]] if adds_up else []
    out = shown([*values, answered], lines)
    whole = out[-1]
    options = [
        OptionResult(label=lab, count=c, percent=rate(c, whole))
        for lab, c in zip(labels, out[:-1], strict=True)
    ]
    mean = None
    if kind == "scale_1_5" and isinstance(whole, int) and all(isinstance(c, int) for c in out[:-1]):
        mean = round(sum(k * v for k, v in zip(keys, values, strict=True)) / whole, 2)
    return QuestionResult(answered=whole, options=[] if kind == "text" else options, mean=mean)


def survey_respondents(n: int) -> Shown:
    """The number of respondents as published."""
    return shown([n], [])[0]


def texts_shown(texts: Sequence[str], respondents: int) -> list[str]:
    """Free-text answers as their owner reads them: none under 10 respondents (a handful of
    answers is too easy to tie to people), otherwise sorted (not in the order given)."""
    return sorted(texts) if respondents >= THRESHOLD else []
