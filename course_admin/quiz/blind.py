"""Blind guessing: what a learner who knows nothing scores by reading the options' length,
numbers or wording, compared with chance. For bank authors, and ``tests/test_quiz_blind.py``.

Each strategy ranks the options of a question (``preferences``) and is played in two directions:

- ``pick``: tick the top option of a single-answer question, the top TWO of a multiple-answer
  one (ties: every tied choice equally likely);
- ``avoid``: never tick the top tier (every option tied at the top), tick at random among the
  rest. "The longest option is never right" is a strategy too.

The baseline, ``chance``, ticks as many boxes at random (one option; a random pair). Every
choice is scored with the course's own rule (``course_utils.quiz.grading.score``: all-or-nothing,
or partial credit where the question says so), so chance is the exact expected score of a random
guess under the grading the learner gets.

One idea: every test-wise strategy a blind guesser could use, played against one chance
baseline; the strategies (and their English and Vietnamese word lists) stay together so that a
new cue is added, and tested, in one place.

================ ===========================================================================
strategy         the top tier (what ``pick`` ticks and ``avoid`` never ticks)
================ ===========================================================================
longest          the longest option text
shortest         the shortest option text
middle-length    the option(s) whose length is nearest the median length
middle-value     all-numeric questions (options that differ only in one number): the value(s)
                 nearest the median value
absolute         options with an absolute word (always, never, all, only, cannot, ... ;
                 luôn, không bao giờ, tất cả, mọi, chỉ, không thể, ...)
because          options that justify themselves (because, since, so, therefore, ... ;
                 vì, bởi, do đó, ", nên", "để" introducing a purpose)
none             options starting with Nothing/None/No/Not/Neither (vi: "Không ...")
typical          the option most like the others (mean token-sequence similarity): the option
                 every distractor differs from by one element
combination      drop absolute, "because" and longest options (a filter that would drop every
                 option is skipped), then the most typical of what is left
position         the position (bank order) most often right among this bank's questions of the
                 same type. An upper bound: a learner who learned the bank's habits.
first            the first option in bank order (options are shown shuffled, but a bank
                 should not rely on it)
overlap          the option sharing the most words (of 3+ letters) with the question
hedged           options with a hedge or qualifier (may, can, could, about, at least, at most,
                 need not, usually, often, roughly, typically, ... ; có thể, khoảng, ít nhất,
                 nhiều nhất, gần như, thường, không nhất thiết, ...)
parenthesis      options with a parenthesis (not an empty one, as in ``model.eval()``)
gloss            options with a parenthetical remark outside maths and code, " (...)": in
                 Vietnamese, mostly an English gloss such as "(manifold)"
digits           options containing a digit, on questions that are not all-numeric
expansion        the option whose Vietnamese is longest relative to its English (a bilingual
                 learner's cue: the translator elaborated the key); the same in both languages
kept-typical     drop absolute and "because" options, then the most typical of what is left
most-words       the option with the most words (longest by word count)
echo-ratio       the option whose words (3+ letters) are most often the question's, relative to
                 its length
qualifier        the combined rule: drop absolute options, then hedged > parenthesised (a
                 remark in parentheses outside maths) > digit-bearing
key-count        multiple-answer questions only, and a count, not an option: ``pick`` ticks
                 at random as many options as the bank's multiple-answer questions most often
                 have right (a learner who learned "these have two right answers"; tied counts
                 equally likely); ``avoid`` ticks at random a number of options that is never
                 that count (1 to all but one: ticking every box never pays), each such number
                 equally likely. A bank whose questions all have two right options fails in the
                 avoid direction: chance ticks two.
two-clause       options made of two clauses, a claim and its reason or consequence: a ";" or
                 ", so / but / and" (vi ", nên / nhưng / và") outside maths and code
colon-opener     options that open with a short phrase and a colon ("Nothing: ...", "Yes,
                 always: ..."): at most three English words, six Vietnamese syllables
shared-opening   options whose first three words another option of the question shares
separator        single-answer questions only: options that join two parts with ";" or a spaced
                 dash (" - ", " – ", " — ") outside maths and code (a learner who noticed that
                 the worked-out option, a claim and its qualification, tends to be the key)
================ ===========================================================================

A question is *cued* for a strategy when its options are not all tied (an all-numeric question
for middle-value, a question with some but not all options starting with "None" for none, ...).
A strategy plays chance on the questions it does not cue.

The rule (``verdicts``): in each bank and language, every strategy in both directions scores
within ``BANK_MARGIN`` (12 points) of chance over the bank's questions; over all banks pooled,
within ``POOLED_MARGIN`` (5 points) of chance over the questions it cues (the stricter measure:
18 all-numeric questions among 130 would hide a middle-value cue in the whole).
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from itertools import combinations

from course_utils.quiz.bank import Bank, Question, right_options
from course_utils.quiz.grading import score

STRATEGIES = ("longest", "shortest", "middle-length", "middle-value", "absolute", "because",
              "none", "typical", "combination", "position", "first", "overlap", "hedged",
              "parenthesis", "gloss", "digits", "expansion", "kept-typical", "most-words",
              "echo-ratio", "qualifier", "key-count", "two-clause", "colon-opener",
              "shared-opening", "separator")  # fmt: skip
DIRECTIONS = ("pick", "avoid")
PICKS = {"single": 1, "multiple": 2}  # options ticked by chance and by every strategy
BANK_MARGIN = 0.12  # per bank and language: |strategy - chance| over the bank's questions
POOLED_MARGIN = 0.05  # all banks pooled: |strategy - chance| over the questions it cues
Choice = tuple[int, ...]  # bank option indices ticked

ABSOLUTE = {
    "en": r"\b(always|never|all|every|everything|none|nothing|only|must|cannot|can't|impossible"
    r"|guaranteed|completely|entirely)\b",
    "vi": r"(?<!\w)(luôn|không bao giờ|không hề|tất cả|mọi|toàn bộ|hoàn toàn|duy nhất|bắt buộc"
    r"|không thể|chắc chắn|chỉ(?! (số|ra|mục|định|báo|dẫn)(?!\w)))(?!\w)",
}
BECAUSE = {
    "en": r"\b(because|since|so(?!-)|therefore|hence|thus)\b",
    # vì but not "thay vì" (instead of) / "vì sao" (why); nên only as "so" (after a comma, cho,
    # thế, vậy, đó; "nên" alone is also "should"); để where it introduces a purpose (not để ý,
    # để lại, để dành, and not "dùng để" / "đủ để", which describe rather than justify)
    "vi": r"(?<!\w)(?<!thay )vì(?! sao)(?!\w)|(?<!\w)(bởi|do đó|do vậy)(?!\w)"
    r"|(,|(?<!\w)(cho|thế|vậy|đó)) nên(?!\w)"
    r"|(?<!\w)(?<!dùng )(?<!đủ )để(?! (ý|lại|dành)(?!\w))(?!\w)",
}
NONE_START = {
    "en": r"^\W*(nothing|none|neither|no|not)\b",
    "vi": r"^\W*không(?!\w)",
}
HEDGED = {
    "en": r"\b(may|might|can(?!')|could|about|approximately|roughly|nearly|almost|usually"
    r"|often|typically|generally|mostly|largely|partly|likely|tends?|at least|at most|need not"
    r"|needn't|not necessarily|up to)\b",
    # thường but not bình thường / thông thường (plain, ordinary), bất thường (anomalous); tối
    # thiểu but not bình phương tối thiểu (least squares); khoảng but not khoảng trống
    # (gap), khoảng cách (distance), khoảng giá trị (range)
    "vi": r"(?<!\w)(có thể|có khi|khoảng(?! (trống|cách|giá trị|thời gian)(?!\w))|xấp xỉ|chừng"
    r"|ít nhất|nhiều nhất|tối đa|(?<!phương )tối thiểu|gần như|gần bằng|hầu như|hầu hết"
    r"|phần lớn|một phần"
    r"|(?<!bình )(?<!thông )(?<!tầm )(?<!bất )(?<!khác )(?<!lạ )(?<!phi )thường"
    r"|không nhất thiết|chưa chắc|không cần)(?!\w)",
}
TWO_CLAUSE = {
    # a claim and its reason or consequence in one option: "X; Y", "X, so Y", "X, but Y"
    "en": r";|,\s+(so|but|and)(?!\w)",
    "vi": r";|,\s+(nên|nhưng|và)(?!\w)",
}
# a short opener closed by a colon: "Nothing: ...", "Yes, always: ...": at most three English
# words, or six Vietnamese syllables ("Không cần gì thêm: ...")
COLON_OPENER = {
    "en": re.compile(r"^\W*[^\W_][^:\s]*(?:[\s,]+[^:\s]+){0,2}:\s"),
    "vi": re.compile(r"^\W*[^\W_][^:\s]*(?:[\s,]+[^:\s]+){0,5}:\s"),
}
MATH = re.compile(r"\$[^$]*\$|`[^`]*`")
GLOSS = re.compile(r"\s\([^()]*[^\W\d_][^()]*\)")  # " (words)" once maths and code are removed
SEPARATOR = re.compile(r";|\s[-–—]\s")  # "X; Y" or "X - Y", once maths and code are removed
NUMBER = re.compile(r"[-+−]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


# Function words, which say nothing about an option's content (the reviewer's overlap and echo
# counts leave them out too); words of 1-2 letters are left out anyway.
STOP = set(
    "the and for that this with from its are was were not which what how why does you your their"
    " they them when where who whose into than then can will would should has have had but all"
    " each one any also only more most much such there these those been being other"
    " các của một những cho với trong được không thì này khi từ theo trên vào như cũng sẽ"
    " hay hoặc rồi nào bạn cái".split()
)


def words(text: str) -> set[str]:
    """The content words of 3+ letters of a text, case-folded, without STOP's function words
    (LaTeX commands count as words)."""
    return {w for w in re.findall(r"\w+", text.casefold()) if len(w) >= 3 and w not in STOP}


def has(pattern: str, text: str) -> bool:
    """Whether ``pattern`` occurs in the case-folded text."""
    return re.search(pattern, unicodedata.normalize("NFC", text).casefold()) is not None


def tokens(text: str) -> list[str]:
    """Words, numbers and punctuation marks of a text, in order, case-folded."""
    return re.findall(r"\w+|[^\w\s]", text.casefold())


def similarity(a: str, b: str) -> float:
    """How alike two option texts are, in [0, 1] (token sequences, difflib's ratio)."""
    return SequenceMatcher(None, tokens(a), tokens(b), autojunk=False).ratio()


def typicality(texts: Sequence[str]) -> list[float]:
    """Each option's mean similarity to the other options."""
    n = len(texts)
    sims = [[similarity(a, b) if i != j else 0.0 for j, b in enumerate(texts)]
            for i, a in enumerate(texts)]  # fmt: skip
    return [sum(row) / max(n - 1, 1) for row in sims]


def numeric_values(texts: Sequence[str]) -> list[float] | None:
    """The numbers of an all-numeric question: every option holds exactly one number and the
    options are otherwise identical ("0.5", "about 100 dB"). None for any other question."""
    found = [NUMBER.findall(t) for t in texts]
    if not all(len(f) == 1 for f in found):
        return None
    if len({NUMBER.sub("#", t).strip() for t in texts}) != 1:
        return None
    return [float(f[0].replace("−", "-")) for f in found]


def word_count(text: str) -> int:
    """The number of words (runs of letters or digits) of a text."""
    return len(re.findall(r"\w+", text))


def echo_ratio(text: str, asked: set[str]) -> float:
    """The share of an option's words (3+ letters) that the question also uses."""
    own = words(text)
    return len(own & asked) / len(own) if own else 0.0


def expansion(q: Question) -> list[float]:
    """Each option's Vietnamese length over its English length (a bilingual learner's cue: the
    translator elaborated the key). The same in both languages."""
    return [len(o["vi"]) / max(len(o["en"]), 1) for o in q.options]


def qualifier(texts: Sequence[str], lang: str, numeric: bool) -> list[float]:
    """The combined rule: drop absolute options (unless all are), then hedged > parenthesised
    (a remark in parentheses outside maths, as ``gloss``) > digit-bearing (not on all-numeric
    questions)."""
    absolute = [has(ABSOLUTE[lang], t) for t in texts]
    keep = [not a for a in absolute] if not all(absolute) else [True] * len(texts)
    return [(8.0 if k else 0.0) + 4.0 * has(HEDGED[lang], t)
            + 2.0 * bool(GLOSS.search(MATH.sub("", t)))
            + (0.0 if numeric else 1.0 * bool(re.search(r"\d", t)))
            for t, k in zip(texts, keep, strict=True)]  # fmt: skip


def shared_opening(texts: Sequence[str]) -> list[float]:
    """1 for an option whose first three words another option of the question also opens with
    (case-folded), else 0."""
    heads = [tuple(re.findall(r"\w+", t.casefold())[:3]) for t in texts]
    return [float(len(h) == 3 and heads.count(h) > 1) for h in heads]


def nearest_median(values: Sequence[float]) -> list[float]:
    """Preference for the value(s) nearest the median (higher is nearer)."""
    mid = statistics.median(values)
    return [-abs(v - mid) for v in values]


def combination(texts: Sequence[str], lang: str, drop_longest: bool = True) -> list[float]:
    """Drop absolute, "because" and (if ``drop_longest``) longest options (skip a filter that
    drops every option left), then prefer the most typical of the rest."""
    left = set(range(len(texts)))
    longest = max(len(t) for t in texts)
    filters = [lambda i: has(ABSOLUTE[lang], texts[i]), lambda i: has(BECAUSE[lang], texts[i])]
    if drop_longest:
        filters.append(lambda i: len(texts[i]) == longest)
    for drop in filters:
        kept = {i for i in left if not drop(i)}
        left = kept or left
    typical = typicality(texts)
    return [typical[i] + (2.0 if i in left else 0.0) for i in range(len(texts))]


def preferences(bank: Bank, q: Question, lang: str) -> dict[str, list[float]]:
    """Each strategy's preference for each option of ``q`` (higher = ticked first)."""
    texts = [o[lang] for o in q.options]
    n = len(texts)
    seen = position_counts(bank)[q.type]
    asked = words(q.text[lang])
    values = numeric_values(texts)
    lengths = [len(t) for t in texts]

    def flag(pattern: str) -> list[float]:
        return [float(has(pattern, t)) for t in texts]

    return {
        "longest": [float(x) for x in lengths],
        "shortest": [-float(x) for x in lengths],
        "middle-length": nearest_median(lengths),
        "middle-value": nearest_median(values) if values else [0.0] * n,
        "absolute": flag(ABSOLUTE[lang]),
        "because": flag(BECAUSE[lang]),
        "none": flag(NONE_START[lang]),
        "typical": typicality(texts),
        "combination": combination(texts, lang),
        "position": [float(seen[i]) for i in range(n)],
        "first": [-float(i) for i in range(n)],
        "overlap": [float(len(words(t) & asked)) for t in texts],
        "hedged": flag(HEDGED[lang]),
        "parenthesis": [float(re.search(r"\([^)]", t) is not None) for t in texts],
        "gloss": [float(GLOSS.search(MATH.sub("", t)) is not None) for t in texts],
        "digits": [0.0] * n if values else [float(bool(re.search(r"\d", t))) for t in texts],
        "expansion": expansion(q),
        "kept-typical": combination(texts, lang, drop_longest=False),
        "most-words": [float(word_count(t)) for t in texts],
        "echo-ratio": [echo_ratio(t, asked) for t in texts],
        "qualifier": qualifier(texts, lang, values is not None),
        "key-count": [float(i == 0 and q.type == "multiple") for i in range(n)],  # cue marker
        "two-clause": [float(has(TWO_CLAUSE[lang], MATH.sub("", t))) for t in texts],
        "colon-opener": [
            float(COLON_OPENER[lang].search(MATH.sub("x", t)) is not None) for t in texts
        ],
        "shared-opening": shared_opening(texts),
        "separator": [
            float(q.type == "single" and SEPARATOR.search(MATH.sub("", t)) is not None)
            for t in texts
        ],
    }


def top_choices(preference: Sequence[float], k: int) -> list[Choice]:
    """Every k-subset of options made of the k most preferred (ties: all of them, equally
    likely). ``top_choices([5, 9, 9, 1], 1) == [(1,), (2,)]``."""
    k = min(k, len(preference))
    best = sorted(preference, reverse=True)[:k]
    return [
        c
        for c in combinations(range(len(preference)), k)
        if sorted((preference[i] for i in c), reverse=True) == best
    ]


def avoid_choices(preference: Sequence[float], k: int) -> list[Choice]:
    """Never tick the top tier (the options tied at the top), pick k at random among the rest;
    with fewer than k left, tick them all and fill at random from the top tier."""
    top = max(preference)
    return top_choices([-1.0 if p == top else 0.0 for p in preference], k)


def cued(preference: Sequence[float]) -> bool:
    """Whether a strategy tells the options of a question apart at all."""
    return len(set(preference)) > 1


def position_counts(bank: Bank) -> dict[str, Counter]:
    """How often each position (bank order) is right, per question type."""
    counts: dict[str, Counter] = {"single": Counter(), "multiple": Counter()}
    for q in bank.questions:
        counts[q.type].update(right_options(q))
    return counts


def usual_key_counts(bank: Bank) -> set[int]:
    """The number(s) of right options that the bank's multiple-answer questions most often
    have (every count tied at the top); empty without multiple-answer questions."""
    counts = Counter(len(right_options(q)) for q in bank.questions if q.type == "multiple")
    top = max(counts.values(), default=0)
    return {c for c, m in counts.items() if m == top}


def key_count_choices(bank: Bank, q: Question) -> tuple[list[list[Choice]], list[list[Choice]]]:
    """key-count's choices for ``q``, grouped by how many boxes are ticked (each group equally
    likely, each choice equally likely within its group): (pick, avoid). Chance's pair on a
    single-answer question."""
    n = len(q.options)
    if q.type != "multiple":
        return [list(combinations(range(n), 1))], [list(combinations(range(n), 1))]
    usual = {c for c in usual_key_counts(bank) if c <= n}
    pick = [list(combinations(range(n), c)) for c in sorted(usual)]
    avoid = [list(combinations(range(n), c)) for c in range(1, n) if c not in usual]
    return pick, avoid or pick


def strategy_choices(bank: Bank, q: Question, lang: str) -> dict[str, list[Choice]]:
    """The equally likely choices of ``chance`` and of each strategy in each direction for one
    question: keys ``chance``, ``longest`` (pick), ``avoid longest``, ... (key-count's list
    pools its groups; ``blind_report`` weighs each group equally, as ``key_count_choices``
    says)."""
    n, k = len(q.options), PICKS[q.type]
    out = {"chance": list(combinations(range(n), min(k, n)))}
    for name, pref in preferences(bank, q, lang).items():
        out[name] = top_choices(pref, k)
        out[f"avoid {name}"] = avoid_choices(pref, k)
    pick, avoid = key_count_choices(bank, q)
    out["key-count"] = [c for group in pick for c in group]
    out["avoid key-count"] = [c for group in avoid for c in group]
    return out


def expected_score(q: Question, choices: list[Choice]) -> float:
    """The mean score of equally likely ``choices`` for one question."""
    right = set(right_options(q))
    points = [score(set(c), right, len(q.options), q.partial_credit) for c in choices]
    return sum(points) / len(points)


def grouped_score(q: Question, groups: list[list[Choice]]) -> float:
    """The mean score when each group is equally likely and each choice within it too."""
    return sum(expected_score(q, g) for g in groups) / len(groups)


@dataclass
class Tally:
    """Summed expected scores of a strategy and of chance over some questions."""

    n: int = 0
    score: float = 0.0
    chance: float = 0.0

    def add(self, score: float, chance: float) -> None:
        self.n, self.score, self.chance = self.n + 1, self.score + score, self.chance + chance

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.n + other.n, self.score + other.score, self.chance + other.chance)

    @property
    def rate(self) -> float:
        """Mean score (fraction of the maximum); chance's where no question counts."""
        return self.score / self.n if self.n else 0.0

    @property
    def chance_rate(self) -> float:
        return self.chance / self.n if self.n else 0.0

    @property
    def gap(self) -> float:
        """Strategy minus chance, in fractions of the maximum score (0 with no question)."""
        return self.rate - self.chance_rate


def play(name: str, direction: str) -> str:
    """The key of a strategy played in a direction: "longest" or "avoid longest"."""
    return name if direction == "pick" else f"avoid {name}"


@dataclass(frozen=True)
class BlindReport:
    """Blind strategies on one bank (or several pooled) in one language. ``whole[play]`` counts
    every question (chance where a strategy gives no cue), ``cue[play]`` only the cued ones."""

    lesson: str
    lang: str
    n_questions: int
    chance: float
    whole: dict[str, Tally] = field(default_factory=dict)
    cue: dict[str, Tally] = field(default_factory=dict)

    @property
    def strategies(self) -> dict[str, float]:
        """Every play's mean score over the whole bank."""
        return {key: t.rate for key, t in self.whole.items()}

    @property
    def worst(self) -> tuple[str, float]:
        """The play furthest from chance over the whole bank, and its gap (signed)."""
        key = max(self.whole, key=lambda k: abs(self.whole[k].gap))
        return key, self.whole[key].gap

    def failures(self, margin: float, on: str = "whole") -> list[tuple[str, float]]:
        """The plays further than ``margin`` from chance (on "whole" or "cue"), with gaps."""
        tallies = self.whole if on == "whole" else self.cue
        return [(k, t.gap) for k, t in tallies.items() if abs(t.gap) > margin + 1e-9]

    @property
    def beats_chance(self) -> bool:
        """A bank's verdict: some play further than BANK_MARGIN from chance."""
        return bool(self.failures(BANK_MARGIN))


def blind_report(bank: Bank, lang: str) -> BlindReport:
    """Score every blind strategy in both directions on ``bank`` with the texts in ``lang``."""
    whole = {play(s, d): Tally() for s in STRATEGIES for d in DIRECTIONS}
    cue = {key: Tally() for key in whole}
    chance_total = 0.0
    for q in bank.questions:
        choices = strategy_choices(bank, q, lang)
        prefs = preferences(bank, q, lang)
        base = expected_score(q, choices["chance"])
        chance_total += base
        groups = dict(zip(DIRECTIONS, key_count_choices(bank, q), strict=True))
        for s in STRATEGIES:
            for d in DIRECTIONS:
                key = play(s, d)
                if s == "key-count" and q.type == "multiple":
                    got = grouped_score(q, groups[d])
                else:
                    got = expected_score(q, choices[key])
                whole[key].add(got, base)
                if cued(prefs[s]):
                    cue[key].add(got, base)
    n = len(bank.questions)
    return BlindReport(bank.lesson, lang, n, chance_total / max(n, 1), whole, cue)


def pooled(reports: Iterable[BlindReport], lang: str) -> BlindReport:
    """The reports of one language summed into one (every bank's questions together)."""
    mine = [r for r in reports if r.lang == lang]
    n = sum(r.n_questions for r in mine)
    keys = [play(s, d) for s in STRATEGIES for d in DIRECTIONS]

    def total(part: str) -> dict[str, Tally]:
        return {k: sum((getattr(r, part)[k] for r in mine), Tally()) for k in keys}

    chance = sum(r.chance * r.n_questions for r in mine) / max(n, 1)
    return BlindReport("pooled", lang, n, chance, total("whole"), total("cue"))


def verdicts(reports: Sequence[BlindReport]) -> list[str]:
    """Every breach of the rule: per bank (BANK_MARGIN, whole bank) and pooled per language
    (POOLED_MARGIN, cued questions). Empty when the banks are fair."""
    out = [f"{r.lesson} [{r.lang}] {k}: {gap:+.1%} vs chance"
           for r in reports for k, gap in r.failures(BANK_MARGIN)]  # fmt: skip
    for lang in sorted({r.lang for r in reports}):
        pool = pooled(reports, lang)
        out += [f"pooled [{lang}] {k}: {gap:+.1%} vs chance on {pool.cue[k].n} cued questions"
                for k, gap in pool.failures(POOLED_MARGIN, on="cue")]  # fmt: skip
    return out


def format_blind(reports: Sequence[BlindReport], on: str = "whole") -> str:
    """A table, one row per report: chance, then each strategy's gap to chance (points) when
    picked / avoided, and the verdict (``on``: "whole" bank or only the "cue"d questions)."""
    margin = BANK_MARGIN if on == "whole" else POOLED_MARGIN
    head = f"{'lesson':30} lang   n chance  " + " ".join(f"{s[:12]:>12}" for s in STRATEGIES)
    rows = [head, f"{'':46}(each cell: gap to chance in points when picked/avoided)"]
    for r in reports:
        tallies = r.whole if on == "whole" else r.cue
        cells = " ".join(
            f"{100 * tallies[s].gap:+5.0f}/{100 * tallies['avoid ' + s].gap:+5.0f}"[:12].rjust(12)
            for s in STRATEGIES
        )
        bad = r.failures(margin, on)
        worst = max(bad, key=lambda kg: abs(kg[1])) if bad else None
        verdict = f"FAIL: {worst[0]} {worst[1]:+.2f}" if worst else "ok"
        rows.append(f"{r.lesson[:30]:30} {r.lang:4} {r.n_questions:3} {r.chance:6.2f}  {cells}  "
                    f"{verdict}")  # fmt: skip
    return "\n".join(rows)
