"""Validation of a bank's data (draft or sealed): every problem is found, then one
QuizBankError lists them all, each naming the file, the question and the fault, so that an
author fixes a bank in one pass. ``parse_bank`` returns a ``Bank`` (course_utils.quiz.bank).
"""

from __future__ import annotations

import binascii
import zlib
from collections.abc import Callable
from typing import Any

from course_utils.quiz.bank import (
    ENCODED,
    LANGS,
    LETTERS,
    Bank,
    Question,
    QuizBankError,
    decode,
    encode,
    encode_key,
)

BANK_KEYS = ("lesson", "title", "version", "sealed", "questions")
QUESTION_KEYS = ("id", "type", "text", "options", "explanation", "feedback", "partial_credit")
Report = Callable[[str], None]  # receives one problem, in words


def _texts(value: Any, what: str, bad: Report) -> dict[str, str]:
    """Check a {"en": ..., "vi": ...} pair."""
    if value is None:
        bad(f"{what} is missing (give it as a mapping with 'en' and 'vi' texts)")
        return {}
    if not isinstance(value, dict):
        bad(f"{what} must be a mapping with 'en' and 'vi' texts, got {type(value).__name__}")
        return {}
    for lang, name in (("en", "English"), ("vi", "Vietnamese")):
        text = value.get(lang)
        if text is None:
            bad(f"{what} has no {name} translation ('{lang}')")
        elif not isinstance(text, str) or not text.strip():
            bad(f"{what}: '{lang}' must be non-empty text, got {text!r} (quote it in YAML)")
    if extra := sorted(map(str, set(value) - set(LANGS))):
        bad(f"{what} has unknown language(s) {extra} (allowed: en, vi)")
    return value


def _decoded(value: Any, what: str, bad: Report) -> Any:
    """Decode a value of a sealed bank; None (after reporting) if it is not one."""
    if not (isinstance(value, str) and value.startswith(ENCODED)):
        bad(f"{what} must be encoded in a sealed bank (write a draft, then run the seal command)")
        return None
    try:
        return decode(value)
    except (ValueError, zlib.error, binascii.Error) as err:
        bad(f"{what} cannot be decoded ({err}); unseal from git history and seal again")
        return None


def _answer(q: dict, n: int, sealed: bool, bad: Report) -> tuple[int, ...] | None:
    """The correct option indices, from a sealed ``key`` or a draft's ``answer``; None (after
    reporting the fault) when they cannot be known."""
    answer = q.get("answer")
    if sealed:
        if "key" not in q:
            bad("missing 'key' (the seal command writes it)")
            return None
        key = _decoded(q["key"], "key", bad)
        if key is None:
            return None
        if not (isinstance(key, list) and len(key) == 2):
            bad(f"key decodes to {key!r:.60}, not [id, answer]; seal the bank again")
            return None
        if key[0] != q.get("id"):
            bad(f"key belongs to question '{key[0]}': an id changed after sealing "
                "(unseal, rename it in the draft, seal again)")  # fmt: skip
            return None
        answer = key[1]
    elif isinstance(answer, int) and not isinstance(answer, bool):
        answer = [answer]
    where = "key" if sealed else "answer"
    if answer is None or answer == []:
        empty = "no correct option: add 'answer: [index, ...]' (option indices start at 0)"
        bad("empty key: no option is marked correct" if sealed else empty)
        return None
    if not isinstance(answer, list) or not all(type(a) is int for a in answer):
        bad(f"{where} must be an option index or a list of indices, got {answer!r}")
        return None
    if out := [a for a in answer if not 0 <= a < n]:
        bad(f"{where} index {out} out of range: the options are numbered 0 to {n - 1}")
    if len(set(answer)) != len(answer):
        bad(f"{where} {answer} repeats an index")
    return None if out else tuple(sorted(set(answer)))


def _reveal(q: dict, n: int, sealed: bool, bad: Report) -> tuple[Any, dict | None]:
    """Check the explanation and per-option feedback (decoded first in a sealed bank)."""
    explanation, feedback = q.get("explanation"), q.get("feedback")
    if sealed:
        explanation = _decoded(explanation, "explanation", bad)
        feedback = None if feedback is None else _decoded(feedback, "feedback", bad)
        if isinstance(feedback, dict):  # JSON turned the option indices into strings
            feedback = {int(k) if k.isdigit() else k: v for k, v in feedback.items()}
    if explanation is not None or not sealed:  # (a decoding failure is already reported)
        _texts(explanation, "explanation", bad)
    if feedback is not None and not isinstance(feedback, dict):
        bad("feedback must map option indices to {en, vi} texts, e.g. {2: {en: ..., vi: ...}}")
        feedback = None
    for j, text in (feedback or {}).items():
        if type(j) is not int or not 0 <= j < n:
            bad(f"feedback for option {j!r}: no such option (0 to {n - 1})")
        _texts(text, f"feedback for option {j}", bad)
    return explanation, feedback or None


def _question(q: Any, i: int, sealed: bool, seen: set, bad_at) -> Question | None:
    """Validate one question (every fault reported); return it, or None if it has a fault."""
    qid = q.get("id") if isinstance(q, dict) else None
    where = f"question '{qid}'" if isinstance(qid, str) and qid else f"question #{i + 1}"

    def bad(msg: str) -> None:
        bad_at(where, msg)

    if not isinstance(q, dict):
        return bad(f"must be a mapping (id, type, text, options, ...), got {type(q).__name__}")
    allowed = sorted((*QUESTION_KEYS, "check", "key" if sealed else "answer"))
    for k in sorted(map(str, set(q) - set(allowed))):
        hint = " (a sealed bank stores 'key', never a plain answer)" if k == "answer" else ""
        bad(f"unknown key '{k}'{hint}; allowed: {', '.join(allowed)}")
    if not isinstance(qid, str) or not qid.strip():
        bad("missing 'id' (a short name, unique in the bank, such as 'kl-formula')")
    elif qid in seen:
        bad(f"duplicate id '{qid}': ids must be unique in a bank")
    seen.add(qid)
    kind = q.get("type")
    if kind not in ("single", "multiple"):
        bad(f"type must be 'single' or 'multiple', got {kind!r}")
    _texts(q.get("text"), "text", bad)
    options = q.get("options")
    if not isinstance(options, list) or len(options) < 2:
        bad(f"needs a list of at least 2 options, got {str(options)[:60]}")
        options = options if isinstance(options, list) else []
    elif len(options) > len(LETTERS):
        bad(f"has {len(options)} options; at most {len(LETTERS)} are allowed")
    for j, option in enumerate(options):
        _texts(option, f"option {j}", bad)
    correct = _answer(q, min(len(options), len(LETTERS)), sealed, bad)
    if correct and len(correct) > 1 and kind == "single":
        bad(f"single-type question with {len(correct)} correct answers; use type: multiple")
    explanation, feedback = _reveal(q, len(options), sealed, bad)
    partial = q.get("partial_credit", False)
    if not isinstance(partial, bool) or (partial and kind != "multiple"):
        bad(f"partial_credit must be true or false, and only with type: multiple; got {partial!r}")
    check = q.get("check")
    if check is not None and not (isinstance(check, dict) and isinstance(check.get("fn"), str)):
        bad(
            "check must be a mapping with 'fn' and 'args', e.g. "
            "{fn: gaussian_kl_per_image, args: {...}}"
        )
    if correct is None:
        return None
    hidden = encode(feedback) if feedback else None
    return Question(qid, kind, q["text"], tuple(options), encode_key(qid, correct),
                    encode(explanation), hidden, partial, check)  # fmt: skip


def parse_bank(data: Any, source: str = "<bank>") -> Bank:
    """Validate a whole bank (draft or sealed) and return it; raise QuizBankError listing ALL
    problems. A draft's plain ``answer`` is encoded into a ``key`` in memory."""
    problems: list[str] = []

    def bad_at(where: str, msg: str) -> None:
        problems.append(f"{source}: {where}: {msg}")

    if not isinstance(data, dict):
        raise QuizBankError(source, [f"{source}: a bank is a YAML mapping (lesson, title, ...)"])
    for k in sorted(map(str, set(data) - set(BANK_KEYS))):
        hint = "; keys are no longer hashed, delete the salt line" if k == "salt" else ""
        bad_at("bank", f"unknown key '{k}' (allowed: {', '.join(BANK_KEYS)}){hint}")
    sealed = data.get("sealed", False)
    if not isinstance(sealed, bool):
        bad_at("bank", f"sealed must be true or false, got {sealed!r}")
    if not isinstance(data.get("lesson"), str):
        bad_at("bank", "missing 'lesson' (the notebook stem, e.g. 01_linear_autoencoder_and_pca)")
    _texts(data.get("title"), "title", lambda m: bad_at("bank", m))
    if type(data.get("version")) is not int:
        bad_at("bank", f"version must be an integer, got {data.get('version')!r}")
    raw = data.get("questions")
    if not isinstance(raw, list) or not raw:
        bad_at("bank", "questions must be a non-empty list")
        raw = []
    seen: set = set()
    questions = [_question(q, i, sealed is True, seen, bad_at) for i, q in enumerate(raw)]
    if problems:
        raise QuizBankError(source, problems)
    return Bank(data["lesson"], data["title"], data["version"], tuple(questions), source)
