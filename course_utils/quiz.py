"""Auto-graded bilingual quizzes: load, validate, grade, seal and show a question bank.

Every lesson notebook ends with::

    from course_utils.quiz import show_quiz
    show_quiz("01_linear_autoencoder_and_pca")   # lang=None: $COURSE_LANG if set, else "en"

Banks are YAML files in ``quizzes/`` (format and workflow: ``quizzes/README.md``). A committed
bank is SEALED: each answer is a salted hash (``key``) and the explanations are zlib+base64
encoded, so nobody sees an answer by scrolling through the file or the widget. That prevents
spoilers; it is not security: anyone who reads this module can recover every answer.

Authors' command line::

    python -m course_utils.quiz seal quizzes/drafts/01_x.yaml -o quizzes/01_x.yaml
    python -m course_utils.quiz unseal quizzes/01_x.yaml -o quizzes/drafts/01_x.yaml
    python -m course_utils.quiz check quizzes/*.yaml
    python -m course_utils.quiz show 01_linear_autoencoder_and_pca --lang vi
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import sys
import textwrap
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import resources
from numbers import Integral
from pathlib import Path
from typing import Any

from course_utils.quiz_bank import (
    DRAFT_HEADER,
    HEADER,
    LANGS,
    LETTERS,
    Bank,
    Question,
    QuizBankError,
    decode,
    parse_bank,
    read_yaml,
    seal,
    solve_key,
    unseal,
    write_yaml,
)

__all__ = [
    "Bank", "Question", "QuestionResult", "QuizAnswerError", "QuizBankError", "QuizResult",
    "check_answers", "format_result", "grade", "load_bank", "quiz_dir", "render_text",
    "resolve_lang", "show_quiz",
]  # fmt: skip

UI = {
    "en": {"quiz": "Quiz", "one": "choose one answer", "all": "choose all that apply",
           "aon": "all-or-nothing: it scores only if you tick exactly the right options",
           "partial": "partial credit: each right tick earns a share, each wrong tick costs one",
           "right": "Correct", "wrong": "Incorrect", "part": "Partly correct",
           "none": "Not answered", "chose": "You chose", "score": "Score", "answered": "answered",
           "submit": "Submit", "reset": "Reset", "export": "Export results",
           "name": "Your name (optional)",
           "how": 'No widgets here? Answer in code: check_answers("{lesson}", {{"<id>": "b"}})'},
    "vi": {"quiz": "Câu hỏi ôn tập", "one": "chọn một đáp án", "all": "chọn tất cả đáp án đúng",
           "aon": "chấm theo kiểu tất cả hoặc không: chỉ được điểm khi chọn đúng và đủ",
           "partial": "có điểm từng phần: mỗi lựa chọn đúng được cộng, mỗi lựa chọn sai bị trừ",
           "right": "Đúng", "wrong": "Sai", "part": "Đúng một phần",
           "none": "Chưa trả lời", "chose": "Bạn đã chọn", "score": "Điểm",
           "answered": "đã trả lời", "submit": "Nộp bài", "reset": "Làm lại",
           "export": "Xuất kết quả", "name": "Tên của bạn (không bắt buộc)",
           "how": 'Không có widget? Trả lời bằng code: check_answers("{lesson}", {{"<id>": "b"}})'},
}  # fmt: skip


class QuizAnswerError(ValueError):
    """An answer given to ``grade`` that does not fit its question."""


def quiz_dir() -> Path:
    """Where the banks are: $COURSE_QUIZ_DIR, else the repository's quizzes/, else the copy
    installed inside the package (``course_utils.quizzes``)."""
    if env := os.environ.get("COURSE_QUIZ_DIR"):
        return Path(env)
    repo = Path(__file__).resolve().parents[1] / "quizzes"
    if repo.is_dir():
        return repo
    return Path(str(resources.files("course_utils.quizzes")))


def load_bank(lesson: str | Path) -> Bank:
    """Load and validate a bank: a lesson id (notebook stem) from ``quiz_dir()``, or a path."""
    path = Path(lesson)
    by_id = path.suffix not in (".yaml", ".yml")
    if by_id:
        folder = quiz_dir()
        path = folder / f"{lesson}.yaml"
        if not path.is_file():
            have = sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []
            near = difflib.get_close_matches(str(lesson), have, n=1)
            hint = f" Did you mean '{near[0]}'?" if near else ""
            raise FileNotFoundError(
                f"No quiz bank for lesson '{lesson}' in {folder}.{hint} Lessons with banks: "
                f"{', '.join(have) or 'none'}."
            )
    bank = parse_bank(read_yaml(path), str(path))
    if by_id and bank.lesson != path.stem:
        raise QuizBankError(str(path), [f"{path}: bank: lesson '{bank.lesson}' != file name"])
    return bank


# ---- grading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionResult:
    """How one question was answered and scored."""

    id: str
    chosen: tuple[int, ...] | None  # sorted option indices; None = not answered
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
        """The export format documented in quizzes/README.md."""
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {
            "format": "course-quiz-result/1",
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
        Path(path).write_text(self.to_json(student) + "\n", encoding="utf-8")
        return Path(path)


def _chosen(q: Question, raw: Any) -> tuple[int, ...]:
    """Check one answer against its question: an index, or a list of indices."""
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
    """Grade ``answers`` ({question id: option index or list of indices}; indices from 0).

    Single-answer and plain multiple-answer questions score 1 or 0 (exactly the right set).
    With ``partial_credit`` a multiple-answer question scores
    ``max(0, right_ticks / n_right - wrong_ticks / n_wrong)``: ticking every box scores 0.
    A question missing from ``answers`` (or None) scores 0 and is reported as not answered.
    """
    lang = resolve_lang(lang)
    if not isinstance(answers, dict):
        raise QuizAnswerError(f"answers must be a dict {{question id: index}}, got {answers!r:.60}")
    ids = [q.id for q in bank.questions]
    if unknown := [a for a in answers if a not in ids]:
        raise QuizAnswerError(f"no question {unknown} in {bank.lesson}; ids: {', '.join(ids)}")
    results = []
    for q in bank.questions:
        if answers.get(q.id) is None:
            results.append(QuestionResult(q.id, None, False, 0.0))
            continue
        chosen = _chosen(q, answers[q.id])
        right = set(solve_key(bank.salt, q.id, len(q.options), q.key) or ())
        n_wrong = len(q.options) - len(right)
        hits, false = len(right & set(chosen)), len(set(chosen) - right)
        score = float(hits == len(right) and not false)
        if q.partial_credit and score < 1:
            score = max(0.0, hits / len(right) - (false / n_wrong if n_wrong else 0.0))
        notes = decode(q.feedback) if q.feedback else {}
        feedback = tuple(notes[str(i)][lang] for i in chosen if str(i) in notes)
        results.append(QuestionResult(q.id, chosen, score == 1, score,
                                      decode(q.explanation)[lang], feedback))  # fmt: skip
    return QuizResult(bank.lesson, bank.version, lang, tuple(results))


def resolve_lang(lang: str | None = None) -> str:
    """``lang`` if given ("en" or "vi"); else $COURSE_LANG (e.g. "vi", "vi_VN"); else "en"."""
    if lang is None:
        env = os.environ.get("COURSE_LANG", "").strip().lower()
        if env and env[:2] not in LANGS:
            warnings.warn(f"COURSE_LANG={env!r} is not 'en' or 'vi'; using English", stacklevel=2)
        return env[:2] if env[:2] in LANGS else "en"
    if lang not in LANGS:
        raise ValueError(f"lang must be 'en', 'vi' or None (= $COURSE_LANG), got {lang!r}")
    return lang


# ---- text form, notebook entry point --------------------------------------------------------


def rule_note(q: Question, lang: str) -> str:
    """How the question is scored, in words (shown under each question)."""
    ui = UI[lang]
    if q.type == "single":
        return ui["one"]
    return f"{ui['all']}; {ui['partial'] if q.partial_credit else ui['aon']}"


def _fill(text: str, indent: str) -> str:
    """Wrap at 100 columns without breaking inside $...$ (LaTeX stays readable as text)."""
    glued = re.sub(r"\$[^$]*\$", lambda m: m.group().replace(" ", "\0"), text)
    return textwrap.fill(glued, 100, subsequent_indent=indent, break_on_hyphens=False).replace(
        "\0", " "
    )


def render_text(bank: Bank, lang: str | None = None) -> str:
    """The whole quiz as plain text (no answers): the printed form and the widget's fallback."""
    lang = resolve_lang(lang)
    ui = UI[lang]
    lines = [f"{ui['quiz']}: {bank.title[lang]} ({bank.lesson}, v{bank.version})",
             ui["how"].format(lesson=bank.lesson), ""]  # fmt: skip
    for n, q in enumerate(bank.questions, 1):
        lines += [
            _fill(f"{n}. {q.text[lang]}", "   "),
            _fill(f"   [{q.id}] ({rule_note(q, lang)})", "    "),
        ]
        lines += [_fill(f"   ({LETTERS[i]}) {o[lang]}", " " * 7) for i, o in enumerate(q.options)]
        lines.append("")
    return "\n".join(lines)


def format_result(result: QuizResult) -> str:
    """A graded quiz as plain text: verdict and explanation per question, then the total."""
    ui, lines = UI[result.lang], []
    for n, r in enumerate(result.questions, 1):
        chose = f" {ui['chose']} {', '.join(LETTERS[i] for i in r.chosen)}." if r.answered else ""
        lines.append(f"{n}. [{r.id}] {ui[r.verdict]} ({r.score:.2g}/1).{chose}")
        lines += [f"   {t}" for t in (*r.feedback, r.explanation) if t]
    lines.append(f"{ui['score']}: {result.total:.3g} / {result.max_score}")
    return "\n".join(lines)


def check_answers(lesson: str, answers: dict, lang: str | None = None) -> QuizResult:
    """Grade answers typed in code, with letters ("b", "ac") or indices; print the feedback."""
    bank = load_bank(lesson)
    as_index = {q.id: q for q in bank.questions}
    fixed = {}
    for qid, raw in answers.items():
        if isinstance(raw, str) and qid in as_index:
            n = len(as_index[qid].options)
            if not raw or any(c not in LETTERS[:n] for c in raw.lower()):
                raise QuizAnswerError(f"question '{qid}': {raw!r}: use letters from {LETTERS[:n]}")
            raw = [LETTERS.index(c) for c in raw.lower()]
            raw = raw[0] if as_index[qid].type == "single" and len(raw) == 1 else raw
        fixed[qid] = raw
    result = grade(bank, fixed, resolve_lang(lang))
    print(format_result(result))
    return result


def show_quiz(lesson: str, lang: str | None = None) -> None:
    """Show a lesson's quiz: a widget under a Jupyter kernel, printed text elsewhere.

    Under a kernel without a widget front end (headless nbval/nbconvert runs) the display
    falls back to the printed quiz, so this never fails for a valid bank.
    """
    bank, lang = load_bank(lesson), resolve_lang(lang)
    try:
        from IPython import get_ipython

        shell = get_ipython()  # None in plain Python
    except ImportError:  # no IPython installed at all
        shell = None
    if shell is None or not hasattr(shell, "kernel"):
        print(render_text(bank, lang))
        return
    from IPython.display import display

    try:
        from course_utils.quiz_widget import QuizWidget

        view = QuizWidget(bank, lang)
    except Exception as err:  # a missing/odd ipywidgets must not break a lesson: print instead
        print(f"(Interactive quiz unavailable: {err!r}. Printed form:)\n{render_text(bank, lang)}")
        return
    display(view)


def main(argv: list[str] | None = None) -> int:
    """Command line: seal, unseal, check, show. Returns the exit code."""
    cli = argparse.ArgumentParser(prog="python -m course_utils.quiz", description=__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    sub = cli.add_subparsers(dest="command", required=True)
    for name, what in (("seal", "draft"), ("unseal", "bank")):
        p = sub.add_parser(name, help=f"{name} a {what}")
        p.add_argument(what)
        p.add_argument("-o", "--output", required=True)
    sub.add_parser("check", help="validate banks").add_argument("banks", nargs="+")
    p = sub.add_parser("show", help="print a lesson's quiz")
    p.add_argument("lesson")
    p.add_argument("--lang", choices=LANGS)
    args = cli.parse_args(argv)
    try:
        if args.command == "seal":
            sealed = seal(read_yaml(args.draft), args.draft)
            write_yaml(sealed, args.output, HEADER)
            print(f"Sealed {len(sealed['questions'])} questions into {args.output}.")
        elif args.command == "unseal":
            write_yaml(unseal(load_bank(args.bank)), args.output, DRAFT_HEADER)
            print(f"Wrote {args.output}. It holds the answers: keep it in quizzes/drafts/.")
        elif args.command == "check":
            failed = 0
            for path in args.banks:
                try:
                    print(f"{path}: OK ({len(load_bank(path).questions)} questions)")
                except (QuizBankError, FileNotFoundError) as err:
                    print(err, file=sys.stderr)
                    failed += 1
            return int(failed > 0)
        else:
            print(render_text(load_bank(args.lesson), args.lang))
    except (QuizBankError, FileNotFoundError) as err:
        print(err, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
