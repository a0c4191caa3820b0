"""The pure rules of surveys: what a response must hold, and results as published (small
counts of people under 10 read "<10", complements "x", totals never give a hidden cell back)."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from civicpoints.insights.survey_rules import (
    Answer,
    Question,
    check_answers,
    question_problem,
    question_result,
    texts_shown,
)

Q = [
    Question(uuid.uuid4(), "single", True, 3),
    Question(uuid.uuid4(), "multiple", False, 4),
    Question(uuid.uuid4(), "scale_1_5", True, 0),
    Question(uuid.uuid4(), "text", False, 0),
]


def test_a_full_response_gives_one_row_per_choice() -> None:
    given_ = [Answer(Q[0].id, (2,)), Answer(Q[1].id, (0, 3)), Answer(Q[2].id, value=5)]
    rows, problems = check_answers(Q, [*given_, Answer(Q[3].id, text=" 好 ")])
    assert problems == []
    assert rows == [(Q[0].id, 2, None), (Q[1].id, 0, None), (Q[1].id, 3, None),
                    (Q[2].id, 5, None), (Q[3].id, 0, "好")]  # fmt: skip


def test_bad_responses_give_problems_and_no_rows() -> None:
    cases = [
        [Answer(Q[2].id, value=3)],  # question 1 required, missing
        [Answer(Q[0].id, (0, 1)), Answer(Q[2].id, value=3)],  # two on a single choice
        [Answer(Q[0].id, (3,)), Answer(Q[2].id, value=3)],  # no option 3
        [Answer(Q[0].id, (0,)), Answer(Q[2].id, value=6)],  # off the scale
        [Answer(Q[0].id, (0,)), Answer(Q[2].id, value=3), Answer(Q[0].id, (1,))],  # twice
        [Answer(Q[0].id, (0,)), Answer(Q[2].id, value=3), Answer(uuid.uuid4(), text="x")],
        [Answer(Q[0].id, (0,)), Answer(Q[2].id, (1,))],  # a choice on a scale
    ]
    for answers in cases:
        rows, problems = check_answers(Q, answers)
        assert rows == [] and problems, answers


def test_questions_need_sensible_options() -> None:
    assert question_problem("single", ["是"]) is not None
    assert question_problem("multiple", ["是", "是"]) is not None
    assert question_problem("multiple", [str(i) for i in range(11)]) is not None
    assert question_problem("text", ["是"]) is not None
    assert question_problem("single", ["是", "否"]) is None


def test_under_ten_respondents_everything_is_hidden() -> None:
    r = question_result("single", ["是", "否"], {0: 9, 1: 0}, 9, 9)
    assert r.answered == "<10" and [o.count for o in r.options] == ["<10", "<10"]


def test_the_seeds_ninety_percent_shows_when_both_cells_are_large() -> None:
    r = question_result("single", ["有归属感", "没有变化"], {0: 90, 1: 10}, 100, 100)
    assert [(o.count, o.percent) for o in r.options] == [(90, 90.0), (10, 10.0)]


def test_a_mean_only_when_no_scale_count_is_hidden() -> None:
    full = question_result("scale_1_5", [], {1: 10, 2: 10, 3: 10, 4: 10, 5: 10}, 50, 50)
    assert full.mean == 3.0
    part = question_result("scale_1_5", [], {4: 40, 5: 10, 3: 2}, 52, 52)
    assert part.mean is None


def test_free_text_only_from_ten_respondents_and_not_in_order() -> None:
    assert texts_shown(["b", "a"], 9) == []
    assert texts_shown(["b", "a"], 10) == ["a", "b"]


@given(st.lists(st.integers(0, 40), min_size=2, max_size=10))
def test_a_single_choice_never_leaves_one_hidden_count_recoverable(counts: list[int]) -> None:
    total = sum(counts)
    r = question_result("single", [str(i) for i in range(len(counts))],
                        dict(enumerate(counts)), total, max(total, 10))  # fmt: skip
    shown = [o.count for o in r.options]
    hidden = [c for c in shown if not isinstance(c, int)]
    assert len(hidden) != 1 or not isinstance(r.answered, int)
    for c, v in zip(shown, counts, strict=True):
        assert (isinstance(c, int) and c == v and v >= 10) or not isinstance(c, int)
