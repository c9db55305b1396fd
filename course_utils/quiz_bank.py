"""The quiz bank format: validation, answer keys, sealing (used by ``course_utils.quiz``).

A bank is a YAML file (schema: ``quizzes/README.md``). Authors write a DRAFT with a plain
``answer: [indices]``; ``python -m course_utils.quiz seal`` turns it into a SEALED bank where the
answer is a salted hash (``key``) and the explanation and per-option feedback are zlib+base64
ENCODED (not encrypted). Grading finds the right option set by hashing each of the at most
2**8 subsets of options. This stops accidental spoilers, not a student who reads this file.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import secrets
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

LANGS = ("en", "vi")
LETTERS = "abcdefgh"  # option labels; also the limit of 8 options per question
BANK_KEYS = ("lesson", "title", "version", "sealed", "salt", "questions")
QUESTION_KEYS = ("id", "type", "text", "options", "explanation", "feedback", "partial_credit")
ENCODED = "zb64:"  # prefix of an encoded (NOT encrypted) value in a sealed bank


class QuizBankError(ValueError):
    """A bank with problems. ``problems`` lists every one, each naming file, question and fault."""

    def __init__(self, source: str, problems: list[str]):
        self.source, self.problems = str(source), list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"quiz bank {source} has {len(problems)} problem(s):\n{lines}")


@dataclass(frozen=True)
class Question:
    id: str
    type: str  # "single" or "multiple"
    text: dict[str, str]  # {"en": ..., "vi": ...}
    options: tuple[dict[str, str], ...]
    key: str  # answer_key(salt, id, correct indices): a hash, not the answer
    explanation: str  # encoded {"en", "vi"}; decoded only when grading
    feedback: str | None = None  # encoded {option index: {"en", "vi"}}
    partial_credit: bool = False
    check: dict | None = None  # numeric check recomputed by tests/test_quiz_banks.py


@dataclass(frozen=True)
class Bank:
    lesson: str
    title: dict[str, str]
    version: int
    salt: str
    questions: tuple[Question, ...]
    source: str = "<bank>"


def answer_key(salt: str, qid: str, indices) -> str:
    """The stored key: sha256 of salt, question id and the sorted correct option indices."""
    chosen = ",".join(str(i) for i in sorted(indices))
    return hashlib.sha256(f"{salt}|{qid}|{chosen}".encode()).hexdigest()[:32]


@lru_cache(maxsize=4096)
def solve_key(salt: str, qid: str, n_options: int, key: str) -> tuple[int, ...] | None:
    """Find the option set whose hash is ``key`` by trying all 2**n subsets (n <= 8)."""
    for r in range(n_options + 1):
        for combo in itertools.combinations(range(n_options), r):
            if answer_key(salt, qid, combo) == key:
                return combo
    return None


def encode(value: Any) -> str:
    """Hide text from casual reading (zlib + base64). Anyone can decode it: no secret."""
    raw = json.dumps(value, ensure_ascii=False, sort_keys=True).encode()
    return ENCODED + base64.b64encode(zlib.compress(raw, 9)).decode()


def decode(value: str) -> Any:
    return json.loads(zlib.decompress(base64.b64decode(value[len(ENCODED) :])))


# ---- loading and validation ---------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """A SafeLoader that records duplicate mapping keys (plain YAML silently keeps the last)."""

    def __init__(self, stream):
        super().__init__(stream)
        self.duplicates: list[str] = []

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                if key_node.value in seen:
                    line = key_node.start_mark.line + 1
                    self.duplicates.append(f"line {line}: key '{key_node.value}' appears twice")
                seen.add(key_node.value)
        return super().construct_mapping(node, deep)


def read_yaml(path: str | Path) -> Any:
    """Parse a bank's YAML file; a syntax error or a duplicate key raises QuizBankError with
    its line (duplicates together with every other problem of the bank)."""
    loader = _Loader(Path(path).read_text(encoding="utf-8"))
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        why = getattr(err, "problem", None) or str(err)
        raise QuizBankError(str(path), [f"{path}: YAML syntax error{at}: {why}"]) from None
    finally:
        loader.dispose()
    if loader.duplicates:  # report them together with whatever else is wrong
        problems = [f"{path}: {d}" for d in loader.duplicates]
        try:
            parse_bank(data, str(path))
        except QuizBankError as err:
            problems += err.problems
        raise QuizBankError(str(path), problems)
    return data


def _texts(value: Any, what: str, bad) -> dict[str, str]:
    """Check a {"en": ..., "vi": ...} pair; report every fault through ``bad``."""
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


def _correct_set(q: dict, n: int, sealed: bool, salt: str, bad) -> tuple[int, ...] | None:
    """The correct option indices: solved from a sealed ``key`` or read from a draft's
    ``answer``. None (after reporting the fault) when they cannot be known."""
    if sealed:
        key = q.get("key")
        found = solve_key(salt, str(q.get("id")), n, key) if isinstance(key, str) else None
        if found is None:
            bad("key matches no set of options: the id, salt or key changed after sealing")
        elif not found:
            bad("empty key: no option is marked correct")
        return found or None
    answer = q.get("answer")
    if isinstance(answer, int) and not isinstance(answer, bool):
        answer = [answer]
    if answer is None or answer == []:
        bad("no correct option: add 'answer: [index, ...]' (option indices start at 0)")
        return None
    if not isinstance(answer, list) or not all(type(a) is int for a in answer):
        bad(f"answer must be an option index or a list of indices, got {answer!r}")
        return None
    if out := [a for a in answer if not 0 <= a < n]:
        bad(f"answer index {out} out of range: the options are numbered 0 to {n - 1}")
    if len(set(answer)) != len(answer):
        bad(f"answer {answer} repeats an index")
    return None if out else tuple(sorted(set(answer)))


def _decoded(value: Any, what: str, bad) -> Any:
    """Decode an encoded value of a sealed bank; None (after reporting) if it is not one."""
    if not (isinstance(value, str) and value.startswith(ENCODED)):
        bad(f"{what} must be encoded in a sealed bank (write a draft, then run the seal command)")
        return None
    try:
        return decode(value)
    except (ValueError, zlib.error) as err:
        bad(f"{what} cannot be decoded ({err}); unseal from git history and seal again")
        return None


def _reveal(q: dict, n: int, sealed: bool, bad) -> tuple[Any, dict | None]:
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


def _question(q: Any, i: int, sealed: bool, salt: str, seen: set, bad_at) -> Question | None:
    """Validate one question (every fault reported); return it with its ``key``, or None."""
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
    correct = _correct_set(q, min(len(options), len(LETTERS)), sealed, salt, bad)
    if correct and len(correct) > 1 and kind == "single":
        bad(f"single-type question with {len(correct)} correct answers; use type: multiple")
    explanation, feedback = _reveal(q, len(options), sealed, bad)
    partial = q.get("partial_credit", False)
    if not isinstance(partial, bool) or (partial and kind != "multiple"):
        bad(f"partial_credit must be true or false, and only with type: multiple; got {partial!r}")
    check = q.get("check")
    if check is not None and not (isinstance(check, dict) and isinstance(check.get("fn"), str)):
        bad("check must be a mapping with 'fn' and 'args', e.g. {fn: gaussian_kl, args: {...}}")
    if correct is None:
        return None
    key = answer_key(salt, qid, correct)
    hidden = encode(feedback) if feedback else None
    return Question(qid, kind, q["text"], tuple(options), key, encode(explanation), hidden,
                    partial, check)  # fmt: skip


def parse_bank(data: Any, source: str = "<bank>") -> Bank:
    """Validate a whole bank (draft or sealed) and return it; raise QuizBankError listing ALL
    problems. A draft's plain ``answer`` is turned into a ``key`` in memory."""
    problems: list[str] = []

    def bad_at(where: str, msg: str) -> None:
        problems.append(f"{source}: {where}: {msg}")

    if not isinstance(data, dict):
        raise QuizBankError(source, [f"{source}: a bank is a YAML mapping (lesson, title, ...)"])
    for k in sorted(map(str, set(data) - set(BANK_KEYS))):
        bad_at("bank", f"unknown key '{k}' (allowed: {', '.join(BANK_KEYS)})")
    sealed = data.get("sealed", False)
    if not isinstance(sealed, bool):
        bad_at("bank", f"sealed must be true or false, got {sealed!r}")
    salt = data.get("salt", "draft")
    if not isinstance(salt, str) or not salt or (sealed and "salt" not in data):
        bad_at("bank", "salt must be a non-empty string (the seal command writes it)")
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
    questions = [_question(q, i, sealed, str(salt), seen, bad_at) for i, q in enumerate(raw)]
    if problems:
        raise QuizBankError(source, problems)
    return Bank(data["lesson"], data["title"], data["version"], salt, tuple(questions), source)


# ---- sealing (authors) ------------------------------------------------------------------


def seal(draft: dict, source: str = "<draft>", salt: str | None = None) -> dict:
    """Turn a validated draft (plain ``answer``) into a sealed bank dict (hashed ``key``)."""
    if draft.get("sealed") is True:
        raise QuizBankError(source, [f"{source}: bank: already sealed (unseal it to edit)"])
    draft = {**draft, "salt": salt or draft.get("salt") or secrets.token_hex(8)}
    bank = parse_bank(draft, source)
    out = {"lesson": bank.lesson, "title": bank.title, "version": bank.version,
           "sealed": True, "salt": bank.salt, "questions": []}  # fmt: skip
    for q in bank.questions:
        item = {"id": q.id, "type": q.type, "text": q.text, "options": list(q.options),
                "key": q.key, "explanation": q.explanation}  # fmt: skip
        item |= {"feedback": q.feedback} if q.feedback else {}
        item |= {"partial_credit": True} if q.partial_credit else {}
        item |= {"check": q.check} if q.check else {}
        out["questions"].append(item)
    return out


def unseal(bank: Bank) -> dict:
    """Recover an editable draft (plain ``answer``, readable explanations) from a bank."""
    out = {"lesson": bank.lesson, "title": bank.title, "version": bank.version,
           "salt": bank.salt, "questions": []}  # fmt: skip
    for q in bank.questions:
        item = {"id": q.id, "type": q.type, "text": q.text, "options": list(q.options),
                "answer": list(solve_key(bank.salt, q.id, len(q.options), q.key) or ()),
                "explanation": decode(q.explanation)}  # fmt: skip
        item |= (
            {"feedback": {int(k): v for k, v in decode(q.feedback).items()}} if q.feedback else {}
        )
        item |= {"partial_credit": True} if q.partial_credit else {}
        item |= {"check": q.check} if q.check else {}
        out["questions"].append(item)
    return out


HEADER = (
    "# SEALED quiz bank: generated by `python -m course_utils.quiz seal`. Do not edit by hand:\n"
)
HEADER += "# unseal it into quizzes/drafts/, edit the draft, seal again (see quizzes/README.md).\n"
DRAFT_HEADER = (
    "# DRAFT: holds the answers in plain text. Never commit (quizzes/drafts/ is git-ignored).\n"
)


def write_yaml(data: dict, path: str | Path, header: str = "") -> None:
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    Path(path).write_text(header + text, encoding="utf-8")
