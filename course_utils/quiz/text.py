"""The quiz as plain text: the printed form, answering in code, the graded feedback.

This is what a learner sees without widgets (plain Python, or a headless kernel such as nbval).
The options are printed in the learner's shuffled order (``course_utils.quiz.order``) with the
letters (a), (b), ... of that order; ``check_answers`` takes those letters and translates them
back to the bank's option indices before grading.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable
from typing import Any

from course_utils.quiz.bank import LETTERS, Bank, Question, resolve_lang
from course_utils.quiz.files import load_bank
from course_utils.quiz.grading import QuizAnswerError, QuizResult, checked_choice, grade
from course_utils.quiz.order import Order, option_order, to_bank, to_positions

UI = {
    "en": {"quiz": "Quiz", "one": "choose one answer", "all": "choose all that apply",
           "aon": "all-or-nothing: it scores only if you tick exactly the right options",
           "partial": "partial credit: score = right ticks / number of right options - wrong "
                      "ticks / number of wrong options, never below 0",
           "right": "Correct", "wrong": "Incorrect", "part": "Partly correct",
           "none": "Not answered", "chose": "You chose", "score": "Score", "answered": "answered",
           "submit": "Submit", "reset": "Reset", "export": "Export results",
           "name": "Your name (optional)",
           "how": "No widgets here? Answer in code: {call}"},
    "vi": {"quiz": "Bài trắc nghiệm", "one": "chọn một đáp án", "all": "chọn tất cả đáp án đúng",
           "aon": "chấm đúng và đủ: chỉ được điểm khi đánh dấu mọi đáp án đúng và không đánh "
                  "dấu lựa chọn sai nào",
           "partial": "tính điểm từng phần: điểm = số lựa chọn đúng đã đánh dấu / số đáp án đúng "
                      "- số lựa chọn sai đã đánh dấu / tổng số lựa chọn sai, thấp nhất là 0",
           "right": "Đúng", "wrong": "Sai", "part": "Đúng một phần",
           "none": "Chưa trả lời", "chose": "Bạn đã chọn", "score": "Điểm",
           "answered": "đã trả lời", "submit": "Nộp bài", "reset": "Làm lại",
           "export": "Xuất kết quả", "name": "Tên của bạn (không bắt buộc)",
           "how": "Không có widget? Trả lời bằng code: {call}"},
}  # fmt: skip


def rule_note(q: Question, lang: str) -> str:
    """How the question is scored, in words (shown under each question)."""
    ui = UI[lang]
    if q.type == "single":
        return ui["one"]
    return f"{ui['all']}; {ui['partial'] if q.partial_credit else ui['aon']}"


def shown_letters(shown: tuple[int, ...] | None, chosen: Iterable[int]) -> str:
    """The letters a learner saw for the bank option indices ``chosen``: "b, d"."""
    positions = to_positions(shown, chosen) if shown else sorted(chosen)
    return ", ".join(LETTERS[p] for p in positions)


def _fill(text: str, indent: str) -> str:
    """Wrap at 100 columns without breaking inside $...$ (LaTeX stays readable as text)."""
    glued = re.sub(r"\$[^$]*\$", lambda m: m.group().replace(" ", "\0"), text)
    return textwrap.fill(glued, 100, subsequent_indent=indent, break_on_hyphens=False).replace(
        "\0", " "
    )


def render_text(bank: Bank, lang: str | None = None, learner: str | None = None) -> str:
    """The whole quiz as plain text, options in ``learner``'s order (no answers): the printed
    form, and the widget's fallback."""
    lang, order = resolve_lang(lang), option_order(bank, learner)
    ui = UI[lang]
    who = "" if learner is None else f", learner={learner!r}"
    call = f'check_answers("{bank.lesson}", {{"<id>": "b"}}{who})'
    lines = [f"{ui['quiz']}: {bank.title[lang]} ({bank.lesson}, v{bank.version})",
             ui["how"].format(call=call), ""]  # fmt: skip
    for n, q in enumerate(bank.questions, 1):
        lines += [
            _fill(f"{n}. {q.text[lang]}", "   "),
            _fill(f"   [{q.id}] ({rule_note(q, lang)})", "    "),
        ]
        for position, i in enumerate(order[q.id]):
            lines.append(_fill(f"   ({LETTERS[position]}) {q.options[i][lang]}", " " * 7))
        lines.append("")
    return "\n".join(lines)


def format_result(result: QuizResult, order: Order | None = None) -> str:
    """A graded quiz as plain text: verdict and explanation per question, then the total.
    With the ``order`` the learner saw, "You chose" names the letters they saw."""
    ui, lines = UI[result.lang], []
    for n, r in enumerate(result.questions, 1):
        shown = order[r.id] if order else None
        chose = f" {ui['chose']} {shown_letters(shown, r.chosen)}." if r.answered else ""
        lines.append(f"{n}. [{r.id}] {ui[r.verdict]} ({r.score:.2g}/1).{chose}")
        lines += [f"   {t}" for t in (*r.feedback, r.explanation) if t]
    lines.append(f"{ui['score']}: {result.total:.3g} / {result.max_score}")
    return "\n".join(lines)


def _as_bank_indices(q: Question, shown: tuple[int, ...], raw: Any) -> int | list[int]:
    """One answer as the learner typed it (letters "b", "ac" or 0-based positions, in the
    order they saw) -> the bank's option indices, as ``grade`` takes them."""
    n = len(q.options)
    if isinstance(raw, str):
        if not raw or any(c not in LETTERS[:n] for c in raw.lower()):
            raise QuizAnswerError(f"question '{q.id}': {raw!r}: use letters from {LETTERS[:n]}")
        raw = [LETTERS.index(c) for c in raw.lower()]
        raw = raw[0] if q.type == "single" and len(raw) == 1 else raw
    indices = to_bank(shown, checked_choice(q, raw))
    return indices[0] if q.type == "single" else indices


def check_answers(
    lesson: str, answers: dict, lang: str | None = None, learner: str | None = None
) -> QuizResult:
    """Grade answers typed in code and print the feedback.

    ``answers`` maps question ids to the letters printed by the text form ("b", or "ac" for
    several), or to 0-based positions in that printed order. ``learner`` must be the one the
    quiz was shown for (default: $COURSE_LEARNER), so that the letters mean the same options.
    """
    bank, lang = load_bank(lesson), resolve_lang(lang)
    if not isinstance(answers, dict):
        raise QuizAnswerError(
            "check_answers expects answers as a dict {question id: letters}, e.g. "
            f"{{'q1': 'b', 'q2': 'ac'}}, but received a {type(answers).__name__} "
            f"{answers!r:.60}. Write each question's id (printed in brackets beside it) with the "
            "letters you chose; answers must be a dict, not a list in question order."
        )
    order = option_order(bank, learner)
    questions = {q.id: q for q in bank.questions}
    fixed = {
        qid: raw if raw is None or qid not in questions
        else _as_bank_indices(questions[qid], order[qid], raw)
        for qid, raw in answers.items()
    }  # fmt: skip
    result = grade(bank, fixed, lang)
    print(format_result(result, order))
    return result
