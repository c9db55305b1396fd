"""Grading: a pure function of (bank, answers), and the result's export format.

Answers always name the BANK's option indices (0 is the bank's first option), never the
position at which a learner saw an option: the display order is shuffled per learner
(``course_utils.quiz.order``), and the text form and the widget translate back before grading.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from numbers import Integral
from pathlib import Path
from typing import Any

from course_utils.quiz.bank import LETTERS, Bank, Question, decode, resolve_lang, right_options

RESULT_FORMAT = "course-quiz-result/1"


class QuizAnswerError(ValueError):
    """An answer given to ``grade`` that does not fit its question."""


@dataclass(frozen=True)
class QuestionResult:
    """How one question was answered and scored."""

    id: str
    chosen: tuple[int, ...] | None  # sorted bank option indices; None = not answered
    correct: bool
    score: float  # in [0, 1]
    explanation: str = ""  # in the result's language; empty when not answered
    feedback: tuple[str, ...] = ()  # the authors' notes on the options you chose

    @property
    def answered(self) -> bool:
        return self.chosen is not None

    @property
    def verdict(self) -> str:
        """'none' (not answered), 'right', 'part' (some partial credit) or 'wrong'."""
        if not self.answered:
            return "none"
        return "right" if self.correct else "part" if self.score > 0 else "wrong"


@dataclass(frozen=True)
class QuizResult:
    """A graded quiz: one QuestionResult per question, in bank order."""

    lesson: str
    version: int
    lang: str
    questions: tuple[QuestionResult, ...]

    @property
    def total(self) -> float:
        return sum(r.score for r in self.questions)

    @property
    def max_score(self) -> int:
        return len(self.questions)

    def to_dict(self, student: str | None = None, timestamp: str | None = None) -> dict:
        """The export format documented in quizzes/README.md (bank option indices)."""
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {
            "format": RESULT_FORMAT,
            "lesson": self.lesson,
            "bank_version": self.version,
            "lang": self.lang,
            "timestamp": timestamp or now,
            "student": (student or "").strip() or None,
            "questions": [
                {
                    "id": r.id,
                    "chosen": None if r.chosen is None else list(r.chosen),
                    "correct": r.correct,
                    "score": round(r.score, 4),
                }
                for r in self.questions
            ],
            "total": round(self.total, 4),
            "max": self.max_score,
        }

    def to_json(self, student: str | None = None, timestamp: str | None = None) -> str:
        return json.dumps(self.to_dict(student, timestamp), ensure_ascii=False, indent=2)

    def save(self, path: str | Path, student: str | None = None) -> Path:
        """Write ``to_json`` to ``path`` (UTF-8) and return the path."""
        path = Path(path)
        text = self.to_json(student) + "\n"
        tmp = path.with_name(f".{path.name}.tmp")
        try:  # a temporary file, then os.replace: never a half-written result
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, path)
        except OSError as err:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise OSError(
                err.errno,
                f"QuizResult.save expects a file path in a folder you can write to, but could not "
                f"write {path} ({err.strerror or err}). Nothing was saved there: pick another "
                "folder (e.g. your home folder), or copy the JSON that Export shows.",
            ) from err
        return path


def score(chosen: set[int], right: set[int], n_options: int, partial_credit: bool) -> float:
    """The score in [0, 1] of ticking ``chosen`` when ``right`` are the correct options.

    1 for exactly the right set, else 0; with ``partial_credit``
    ``max(0, right_ticks / n_right - wrong_ticks / n_wrong)``, so ticking every box scores 0.
    """
    hits, false = len(right & chosen), len(chosen - right)
    exact = float(hits == len(right) and not false)
    if not partial_credit or exact:
        return exact
    n_wrong = n_options - len(right)
    return max(0.0, hits / len(right) - (false / n_wrong if n_wrong else 0.0))


def checked_choice(q: Question, raw: Any) -> tuple[int, ...]:
    """Check one answer against its question (an index, or a list of indices); sorted tuple."""
    n = len(q.options)
    allowed = f"option indices 0 to {n - 1} ({', '.join(LETTERS[:n])})"
    items = [raw] if isinstance(raw, Integral) else raw
    if not isinstance(items, list | tuple) or not all(
        isinstance(i, Integral) and not isinstance(i, bool) for i in items
    ):
        raise QuizAnswerError(
            f"question '{q.id}': answer {raw!r} is not an index or a list of indices; "
            f"allowed: {allowed}"
        )
    if not items:
        raise QuizAnswerError(f"question '{q.id}': empty answer; leave the question out to skip it")
    if bad := [int(i) for i in items if not 0 <= i < n]:
        raise QuizAnswerError(f"question '{q.id}': no option {bad}; allowed: {allowed}")
    if len(set(items)) != len(items):
        raise QuizAnswerError(f"question '{q.id}': answer {list(items)} repeats an option")
    if q.type == "single" and len(items) > 1:
        raise QuizAnswerError(f"question '{q.id}' takes ONE option, got {len(items)}: {items}")
    return tuple(sorted(int(i) for i in items))


def grade(bank: Bank, answers: dict[str, int | list[int]], lang: str = "en") -> QuizResult:
    """Grade ``answers`` ({question id: bank option index or list of indices; from 0}).

    Scoring: see ``score``. A question missing from ``answers`` (or None) scores 0 and is
    reported as not answered, without its explanation.
    """
    lang = resolve_lang(lang)
    if not isinstance(answers, dict):
        raise QuizAnswerError(
            f"grade expects answers as a dict {{question id: option index}}, but received a "
            f"{type(answers).__name__} {answers!r:.60}. answers must be a dict, e.g. {{'q1': 2}}."
        )
    ids = [q.id for q in bank.questions]
    if unknown := [a for a in answers if a not in ids]:
        raise QuizAnswerError(f"no question {unknown} in {bank.lesson}; ids: {', '.join(ids)}")
    results = []
    for q in bank.questions:
        if answers.get(q.id) is None:
            results.append(QuestionResult(q.id, None, False, 0.0))
            continue
        chosen = checked_choice(q, answers[q.id])
        points = score(set(chosen), set(right_options(q)), len(q.options), q.partial_credit)
        notes = decode(q.feedback) if q.feedback else {}
        feedback = tuple(notes[str(i)][lang] for i in chosen if str(i) in notes)
        results.append(QuestionResult(q.id, chosen, points == 1, points,
                                      decode(q.explanation)[lang], feedback))  # fmt: skip
    return QuizResult(bank.lesson, bank.version, lang, tuple(results))
