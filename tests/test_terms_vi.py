"""One Vietnamese rendering per term: quizzes/TERMS_VI.md against every Vietnamese text.

TERMS_VI.md is a Markdown table: English | Tiếng Việt | Không dùng (sai) | Ghi chú. The third
column lists renderings that must never be used, each as `phrase` (reason), separated by ";".
This test reads it and checks

- that the table is well formed and holds at least the terms that issue 20 names;
- that no Vietnamese text of the course uses a listed wrong rendering. The texts come from
  SOURCES, a list of (name, provider) pairs; a provider yields (where, text) pairs. Today: every
  quiz bank (title, stems, options, explanations, feedback: read through the bank loader, so
  sealed banks are decoded in memory), GLOSSARY.md's two Vietnamese columns, the quiz's
  Vietnamese UI strings, the exercise checks' Vietnamese messages (the string literals of
  course_utils/exercise_checks, read with `ast`), and, once they exist, the Vietnamese
  translation catalogs translations/vi/*.po (msgstr, read with Babel). A new source is one more
  provider in SOURCES;
- that the banks USE the renderings of the terms in MUST_USE: where the English text names such
  a term, the Vietnamese text of the same stem, option or explanation contains its rendering;
- that GLOSSARY.md's Vietnamese column is, for every term, exactly TERMS_VI.md's rendering.

KNOWN lists the wrong renderings a source still contains and that are fixed elsewhere (empty
today); each entry must still occur, so the list can only shrink.

A wrong rendering is found case-insensitively as whole words, outside inline code and $...$
LaTeX, and does not count where it lies inside a right rendering of the table ("hợp lý" is
wrong in "ảnh hợp lý" but part of the right "hàm hợp lý").
"""

from __future__ import annotations

import ast
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from course_utils.quiz import load_bank, quiz_dir
from course_utils.quiz.bank import decode

REPO = Path(__file__).resolve().parents[1]
TERMS_FILE = REPO / "quizzes" / "TERMS_VI.md"
GLOSSARY = REPO / "quizzes" / "GLOSSARY.md"
HEADER = ["English", "Tiếng Việt", "Không dùng (sai)", "Ghi chú"]
WRONG_ITEM = re.compile(r"`([^`]+)`\s*\(([^()]*(?:\([^()]*\)[^()]*)*)\)")

# Terms that issue 20 names explicitly, and the words the Vietnamese edition of the lessons
# needs most: each must have a row.
REQUIRED = [
    "precision", "accuracy", "likelihood", "log-likelihood", "plausible", "ELBO gap",
    "tied weights", "prevalence", "training budget", "return", "latent size", "category",
    "scoring rule", "answer key", "pattern", "sample", "log density", "all-or-nothing scoring",
    "stride", "dense", "pooling", "mean squared error (MSE)", "penalty", "reconstruction",
    "corruption", "flatten", "sampling", "log-variance", "autoencoder", "objective",
    "loss function", "epoch", "batch", "checkpoint", "bottleneck", "code", "trust map",
    "skip path", "score (gradient of log density)", "posterior collapse", "KL warm-up",
    "active unit", "importance sampling", "amortized inference", "active dimension",
    "forward pass", "backward pass", "straight-through estimator", "AUROC", "quiz",
]  # fmt: skip


@dataclass(frozen=True)
class Term:
    english: str
    vietnamese: str
    wrong: tuple[tuple[str, str], ...]  # (phrase, reason)
    note: str

    @property
    def forms(self) -> set[str]:
        """The right renderings: the whole cell, the part before " (", and each part of a
        "a / b / c" cell."""
        core = re.sub(r"\s*\([^()]*\)$", "", self.vietnamese).strip()
        return {f for f in {self.vietnamese, core, *core.split(" / ")} if f}


def _cells(line: str) -> list[str]:
    """The cells of a Markdown table row (an escaped \\| stays inside its cell)."""
    return [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]


def parse_terms(text: str) -> list[Term]:
    """Every row of every table of TERMS_VI.md whose header is HEADER."""
    terms, in_table = [], False
    for line in text.splitlines():
        if not line.startswith("|"):
            in_table = False
            continue
        cells = _cells(line)
        if cells == HEADER:
            in_table = True
        elif in_table and not set(line) <= set("|- "):
            assert len(cells) == 4, f"TERMS_VI.md: a row needs 4 cells: {line}"
            english, vietnamese, wrong, note = cells
            parsed = [] if wrong == "—" else [(m[1], m[2]) for m in WRONG_ITEM.finditer(wrong)]
            rest = "" if wrong == "—" else WRONG_ITEM.sub("", wrong)
            assert parsed or wrong == "—", f"TERMS_VI.md, {english}: '—' or wrong renderings"
            assert set(rest) <= set("; "), (
                f"TERMS_VI.md, {english}: write each wrong one as `phrase` (reason), separated by"
                f" ';'; left over: {rest.strip()!r}"
            )
            terms.append(Term(english, vietnamese, tuple(parsed), note))
    return terms


TERMS = parse_terms(TERMS_FILE.read_text(encoding="utf-8"))


# ---- finding wrong renderings --------------------------------------------------------------


def _norm(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _blank(match: re.Match) -> str:
    return " " * len(match.group())


def without_code(text: str) -> str:
    """Inline code and $...$ LaTeX replaced by spaces (positions stay the same), and Markdown
    blockquote markers at line starts too (a phrase may wrap across two quoted lines)."""
    text = re.sub(r"(?m)^[ \t]*(?:>[ \t]?)+", _blank, text)
    text = re.sub(r"```.*?```", _blank, text, flags=re.S)
    text = re.sub(r"`[^`\n]*`", _blank, text)
    return re.sub(r"\$[^$]*\$", _blank, text)


def _phrase_re(phrase: str) -> re.Pattern:
    words = [re.escape(w) for w in _norm(phrase).split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.IGNORECASE)


@dataclass(frozen=True)
class Hit:
    where: str
    phrase: str
    term: str
    reason: str
    context: str

    def __str__(self) -> str:
        return (f"{self.where}: '{self.phrase}' ({self.term}: {self.reason}) "
                f"in '...{self.context}...'")  # fmt: skip


WRONG = [(t.english, p, r, _phrase_re(p)) for t in TERMS for p, r in t.wrong]
RIGHT = [_phrase_re(f) for t in TERMS for f in t.forms]


def wrong_renderings(where: str, text: str) -> list[Hit]:
    """Every listed wrong rendering in ``text`` that is not inside a right rendering."""
    text = without_code(_norm(text))
    spans = [m.span() for right in RIGHT for m in right.finditer(text)]
    hits = []
    for english, _, reason, pattern in WRONG:
        for m in pattern.finditer(text):
            if any(a <= m.start() and m.end() <= b for a, b in spans):
                continue
            context = " ".join(text[max(0, m.start() - 40) : m.end() + 40].split())
            hits.append(Hit(where, m.group(), english, reason, context))
    return hits


# ---- sources of Vietnamese text ------------------------------------------------------------

Texts = Iterable[tuple[str, str]]  # (where, text)


def quiz_banks() -> Texts:
    for path in sorted(quiz_dir().glob("*.yaml")):
        bank = load_bank(path.stem)
        yield f"{bank.lesson}: title", bank.title["vi"]
        for q in bank.questions:
            yield f"{bank.lesson}/{q.id}: text", q.text["vi"]
            for i, option in enumerate(q.options):
                yield f"{bank.lesson}/{q.id}: option {i}", option["vi"]
            yield f"{bank.lesson}/{q.id}: explanation", decode(q.explanation)["vi"]
            for i, note in (decode(q.feedback) if q.feedback else {}).items():
                yield f"{bank.lesson}/{q.id}: feedback {i}", note["vi"]


def glossary_rows() -> list[list[str]]:
    lines = GLOSSARY.read_text(encoding="utf-8").splitlines()
    rows = [_cells(line) for line in lines if line.startswith("| ") and "---" not in line]
    return rows[1:]  # without the header


def glossary() -> Texts:
    for english, vietnamese, _, definition, _ in glossary_rows():
        yield f"GLOSSARY.md, {english}: Tiếng Việt", vietnamese
        yield f"GLOSSARY.md, {english}: Định nghĩa", definition


def quiz_ui() -> Texts:
    from course_utils.quiz.text import UI

    for key, text in UI["vi"].items():
        yield f"course_utils/quiz/text.py UI['vi']['{key}']", text


VIETNAMESE = re.compile("[ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]",
                        re.IGNORECASE)  # fmt: skip


def python_strings(folder: Path) -> Texts:
    """The Vietnamese string literals of the .py files under ``folder`` (f-strings with their
    {...} parts left out)."""
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):
                text = " ".join(v.value for v in node.values if isinstance(v, ast.Constant))
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
            else:
                continue
            if VIETNAMESE.search(text):
                yield f"{path.relative_to(REPO)}:{node.lineno}", text


def exercise_checks() -> Texts:
    return python_strings(REPO / "course_utils" / "exercise_checks")


def translation_catalogs() -> Texts:
    """msgstr of translations/vi/*.po (the Vietnamese edition of the lessons), when it exists."""
    folder = REPO / "translations" / "vi"
    if not folder.is_dir():
        return
    from babel.messages.pofile import read_po

    for path in sorted(folder.rglob("*.po")):
        with path.open("rb") as f:
            catalog = read_po(f)
        for message in catalog:
            if message.id and message.string:
                strings = message.string if isinstance(message.string, tuple) else (message.string,)
                for text in strings:
                    yield f"{path.relative_to(REPO)}, {message.context or message.id[:30]!r}", text


SOURCES: list[tuple[str, Callable[[], Texts]]] = [
    ("quiz banks", quiz_banks),
    ("glossary", glossary),
    ("quiz UI", quiz_ui),
    ("exercise checks", exercise_checks),
    ("translation catalogs", translation_catalogs),
]

# Wrong renderings that a source (a name of SOURCES) still uses and that are fixed elsewhere:
# {source name: {phrase, ...}}. Each entry must still occur (remove it once fixed); any other
# wrong rendering fails now. Empty: every source uses TERMS_VI.md's renderings.
KNOWN: dict[str, set[str]] = {}


# Terms whose rendering the banks must USE: where a bank's English text names one of them, the
# Vietnamese text of the same stem, option or explanation contains its rendering (the part
# before " (") or keeps the English term. Only terms whose English word has one meaning in the
# course are listed (not "code", "mean", "target", "score", ...).
MUST_USE = [
    "tied weights", "prevalence", "precision", "recall", "stride", "training budget",
    "latent size", "log-variance", "posterior collapse", "KL warm-up", "pooling",
    "mean squared error (MSE)", "penalty", "reconstruction", "likelihood", "log-likelihood",
    "PSNR", "baseline", "transposed convolution", "principal angles", "eigenvalue", "threshold",
    "false-positive rate", "temperature", "codebook", "overcomplete", "undercomplete",
    "squared error", "learning rate", "epoch", "batch", "dead unit", "padding", "kernel",
    "KL divergence", "reparameterization trick", "latent space", "bottleneck", "category",
]  # fmt: skip


def _core(term: Term) -> str:
    return re.sub(r"\s*\([^()]*\)$", "", term.vietnamese).strip()


def missing_renderings(where: str, en: str, vi: str) -> list[str]:
    """The MUST_USE terms that ``en`` names but ``vi`` renders neither way."""
    terms = {t.english: t for t in TERMS}
    en, vi = without_code(_norm(en)), without_code(_norm(vi))
    problems = []
    for name in MUST_USE:
        english = re.sub(r"\s*\(.*\)$", "", name)
        if _phrase_re(english).search(en) and not any(
            _phrase_re(form).search(vi) for form in (_core(terms[name]), english)
        ):
            problems.append(f"{where}: '{name}' is not rendered '{_core(terms[name])}': {vi}")
    return problems


def bank_pairs() -> Iterator[tuple[str, str, str]]:
    """(where, English, Vietnamese) for every stem, option and explanation of every bank."""
    for path in sorted(quiz_dir().glob("*.yaml")):
        bank = load_bank(path.stem)
        for q in bank.questions:
            yield f"{bank.lesson}/{q.id}: text", q.text["en"], q.text["vi"]
            for i, option in enumerate(q.options):
                yield f"{bank.lesson}/{q.id}: option {i}", option["en"], option["vi"]
            explanation = decode(q.explanation)
            yield f"{bank.lesson}/{q.id}: explanation", explanation["en"], explanation["vi"]


# ---- the table itself ----------------------------------------------------------------------


def test_terms_table_is_well_formed():
    assert len(TERMS) >= 150, f"TERMS_VI.md: only {len(TERMS)} rows were read"
    english = [t.english.lower() for t in TERMS]
    assert len(set(english)) == len(english), "TERMS_VI.md: an English term has two rows"
    for t in TERMS:
        assert t.english and t.vietnamese, t
        for phrase, reason in t.wrong:
            assert reason.strip(), f"{t.english}: `{phrase}` needs a reason"
            assert phrase.lower() not in {f.lower() for u in TERMS for f in u.forms}, (
                f"{t.english}: `{phrase}` is forbidden here but is a right rendering elsewhere"
            )


def test_terms_named_by_the_issue_have_a_row():
    have = {t.english for t in TERMS}
    assert not [e for e in REQUIRED if e not in have]


def test_every_wrong_rendering_can_be_found():
    """Each listed wrong rendering, written into a sentence, is reported: none is hidden by a
    right rendering that contains it entirely."""
    for t in TERMS:
        for phrase, _ in t.wrong:
            hits = wrong_renderings("probe", f"Câu thử: {phrase}, hết câu.")
            found = [h.phrase.lower() for h in hits if h.term == t.english]
            assert _norm(phrase).lower() in found, (t.english, phrase)


# ---- the matcher, on hand-made texts (each of these fails if the matcher is broken) --------


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Bộ giải mã dùng trọng số ràng buộc (tied weights).", ["trọng số ràng buộc"]),
        ("Mã rút từ N(0, I) giải mã thành ảnh hợp lý.", ["hợp lý"]),  # plausible
        ("BCE là hàm hợp lý Bernoulli; log-hợp lý âm của nó.", []),  # likelihood: right
        ("Độ chính xác (precision) phụ thuộc tỉ lệ ảnh bất thường.", ["Độ chính xác (precision"]),
        ("Độ chính xác (accuracy) của bộ phân loại.", []),
        ("Cùng ngân sách   huấn luyện cho cả hai.", ["ngân sách   huấn luyện"]),
        ("Dùng `trọng số ràng buộc` trong code, $\\text{khoảng cách ELBO}$.", []),
        ("Phân phối chuẩn tắc N(0, I).", []),  # inside the right "phân phối chuẩn tắc"
        ("Một phân phối chuẩn N(0, 1).", ["phân phối chuẩn"]),
        ("Trung bình trên LÔ.", ["LÔ"]),
        ("Số lô-gic", ["lô"]),
        ("Hai lông mày", []),  # "lô" only as a whole word
    ],
)
def test_matcher(text, found):
    assert [h.phrase for h in wrong_renderings("probe", text)] == found


def test_a_reintroduced_wrong_rendering_fails_the_bank_check():
    """Mutant: put a calque back into a real bank text; the check must report it."""
    where, text = next(iter(quiz_banks()))
    assert not wrong_renderings(where, text)
    hits = wrong_renderings(where, text + " Ngân sách huấn luyện và khóa đáp án.")
    assert {h.term for h in hits} == {"training budget", "answer key"}


# ---- the Vietnamese texts of the course ----------------------------------------------------


@pytest.mark.parametrize("name, provider", SOURCES, ids=[name for name, _ in SOURCES])
def test_no_wrong_rendering(name, provider):
    known = KNOWN.get(name, set())
    hits = [h for where, text in provider() for h in wrong_renderings(where, text)]
    new = [str(h) for h in hits if _norm(h.phrase).lower() not in known]
    assert not new, f"{len(new)} wrong renderings (see quizzes/TERMS_VI.md):\n" + "\n".join(new)
    still = {_norm(h.phrase).lower() for h in hits}
    fixed = sorted(k for k in known if k not in still)
    assert not fixed, f"{name}: no longer uses {fixed}; remove them from KNOWN"


def test_sources_are_read():
    """A provider that silently reads nothing would make its check pass vacuously."""
    counts = {name: sum(1 for _ in provider()) for name, provider in SOURCES}
    assert counts["quiz banks"] >= 8 * 8 * 5, counts
    assert counts["glossary"] >= 80, counts
    assert counts["quiz UI"] >= 15, counts
    assert counts["exercise checks"] >= 100, counts
    if (REPO / "translations" / "vi").is_dir():
        assert counts["translation catalogs"] > 0, counts


def test_banks_use_the_renderings():
    problems = [p for where, en, vi in bank_pairs() for p in missing_renderings(where, en, vi)]
    assert not problems, "\n".join(problems)


def test_a_bank_text_without_the_rendering_fails():
    """Mutant: an English stem about tied weights whose Vietnamese says something else."""
    en = "The decoder of a tied-weights model reuses the encoder's weights."
    assert missing_renderings("probe", en.replace("tied-weights", "tied weights"),
                              "Bộ giải mã dùng lại trọng số của bộ mã hóa.")  # fmt: skip
    assert not missing_renderings("probe", "A model with tied weights.",
                                  "Một mô hình có trọng số dùng chung.")  # fmt: skip


def test_glossary_uses_the_terms_renderings():
    terms = {t.english.lower(): t for t in TERMS}
    problems = []
    for english, vietnamese, *_ in glossary_rows():
        term = terms.get(english.lower())
        if term is None:
            problems.append(f"'{english}': no row in TERMS_VI.md")
        elif vietnamese != term.vietnamese:
            problems.append(
                f"'{english}': glossary '{vietnamese}', TERMS_VI.md '{term.vietnamese}'"
            )
    assert not problems, "\n".join(problems)
