"""The scoring rule, as the learner reads it, is the rule ``grading.score`` applies.

Partial credit is ``max(0, right ticks / number of right options - wrong ticks / number of
wrong options)``: a wrong tick costs 1 / (number of wrong options), not a whole point. The note
under each question (``text.UI``, also shown by the widget) and quizzes/README.md must say so, in
English and Vietnamese.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from course_utils.quiz.grading import score
from course_utils.quiz.text import UI

README = Path(__file__).resolve().parents[1] / "quizzes" / "README.md"

STATED = {
    "en": ["right ticks / number of right options", "wrong ticks / number of wrong options",
           "never below 0"],
    "vi": ["số lựa chọn đúng đã đánh dấu / số đáp án đúng",
           "số lựa chọn sai đã đánh dấu / tổng số lựa chọn sai", "thấp nhất là 0"],
}  # fmt: skip


def stated_rule(right_ticks: int, n_right: int, wrong_ticks: int, n_wrong: int) -> float:
    """The rule exactly as the note words it."""
    return max(0.0, right_ticks / n_right - wrong_ticks / n_wrong)


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_the_partial_credit_note_states_the_rule(lang):
    note = UI[lang]["partial"]
    for part in STATED[lang]:
        assert part in note, f"{lang}: the partial-credit note does not say {part!r}: {note}"
    assert "costs one" not in note and "bị trừ" not in note


@pytest.mark.parametrize(
    ("n_options", "right", "ticked"),
    [
        (5, {0, 1}, {0, 1, 2}),
        (5, {0, 1, 2}, {0, 1, 3}),
        (4, {0}, {0, 1}),
        (6, {0, 1}, {0, 1, 2, 3}),
    ],
)
def test_the_stated_rule_is_the_graded_rule(n_options, right, ticked):
    """Independent of ``score``: the formula written in the note, on cases where "each wrong
    tick costs one" would give a different number."""
    n_wrong = n_options - len(right)
    expected = stated_rule(len(ticked & right), len(right), len(ticked - right), n_wrong)
    assert score(ticked, right, n_options, partial_credit=True) == pytest.approx(expected)
    costs_one = max(0.0, len(ticked & right) / len(right) - len(ticked - right))
    assert expected > 0 and costs_one != pytest.approx(expected)


def test_the_readme_states_the_same_rule():
    text = README.read_text(encoding="utf-8")
    assert "right ticks / number of right options - wrong ticks / number of wrong options" in text
    assert "each wrong tick costs 1 / (number of" in text
    assert "costs a share" not in text and "costs one" not in text
