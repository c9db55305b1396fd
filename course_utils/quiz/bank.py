"""The quiz bank format: the data model, and the encoding that hides answers.

A bank is a YAML file (schema: ``quizzes/README.md``); ``course_utils.quiz.files`` reads it,
``course_utils.quiz.validate.parse_bank`` checks it and builds a ``Bank``. Authors write a
DRAFT with a plain ``answer: [indices]``; the seal command (``course_admin.quiz.seal``) turns it
into a SEALED bank in which the answer (``key``), the explanation and the per-option feedback
are ENCODED: JSON, zlib-compressed, base64, with the prefix ``zb64:``. The key also holds its
question's id, so a key copied to another question or an id renamed by hand is caught.

What the encoding protects against: reading an answer by accident, at a glance, while scrolling
through a bank on GitHub, the notebook's JSON or the widget in the browser. What it does NOT
protect against: anyone who runs ``decode`` (one line, below). It is an encoding, not
encryption: there is no secret anywhere. The quizzes are self-checks for learning, not exams.
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from course_utils import settings

LANGS = settings.LANGS  # ("en", "vi")
LETTERS = "abcdefgh"  # option labels; also the limit of 8 options per question
ENCODED = "zb64:"  # prefix of an encoded (NOT encrypted) value in a sealed bank


class QuizBankError(ValueError):
    """A bank with problems. ``problems`` lists every one, each naming file, question and fault."""

    def __init__(self, source: str, problems: list[str]):
        self.source, self.problems = str(source), list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"quiz bank {source} has {len(problems)} problem(s):\n{lines}")


@dataclass(frozen=True)
class Question:
    """One validated question. Answer, explanation and feedback stay encoded in memory too, so
    that showing a Bank in a notebook cell does not show its answers."""

    id: str
    type: str  # "single" or "multiple"
    text: dict[str, str]  # {"en": ..., "vi": ...}
    options: tuple[dict[str, str], ...]  # in the bank's order; option index = position here
    key: str  # encode_key(id, correct option indices)
    explanation: str  # encoded {"en", "vi"}
    feedback: str | None = None  # encoded {option index: {"en", "vi"}}
    partial_credit: bool = False
    check: dict | None = None  # numeric check recomputed by tests/test_quiz_banks.py


@dataclass(frozen=True)
class Bank:
    """One lesson's validated quiz (``course_utils.quiz.load_bank`` builds it)."""

    lesson: str
    title: dict[str, str]
    version: int
    questions: tuple[Question, ...]
    source: str = "<bank>"


def encode(value: Any) -> str:
    """Hide a value from casual reading: JSON, zlib, base64. Anyone can decode it: no secret."""
    raw = json.dumps(value, ensure_ascii=False, sort_keys=True).encode()
    return ENCODED + base64.b64encode(zlib.compress(raw, 9)).decode()


def decode(value: str) -> Any:
    """The inverse of ``encode``."""
    return json.loads(zlib.decompress(base64.b64decode(value[len(ENCODED) :])))


def encode_key(qid: str, indices: Iterable[int]) -> str:
    """The sealed ``key`` of a question: ``encode([id, sorted correct option indices])``.

    The id comes first so that equal answers do not give keys that look alike."""
    return encode([qid, sorted(int(i) for i in indices)])


def right_options(q: Question) -> tuple[int, ...]:
    """The indices (bank order, from 0) of a validated question's correct options."""
    return tuple(decode(q.key)[1])


def resolve_lang(lang: str | None = None) -> str:
    """``lang`` if given ("en" or "vi"); else $COURSE_LANG (e.g. "vi", "vi_VN"); else "en".

    The course's one language resolver, ``course_utils.settings.language``.
    """
    return settings.language(lang)
