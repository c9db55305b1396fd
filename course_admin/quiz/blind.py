"""Blind guessing: what a learner who knows nothing scores by reading the options' length,
position or wording, compared with chance. For bank authors, and ``tests/test_quiz_blind.py``.

Each strategy ranks the options of a question; it picks the top option of a single-answer
question and ticks the top TWO of a multiple-answer one. Ties are broken at random (every tied
choice is equally likely). The expected score uses the course's own rule
(``course_utils.quiz.grading.score``), so partial credit counts.

========== ================================================================================
strategy   picks
========== ================================================================================
chance     a random option; a random pair. The baseline: it ticks as many boxes as the
           strategies do, so the comparison measures what length, position and wording give
           away, not the number of ticks.
longest    the longest option text; the two longest
shortest   the shortest option text; the two shortest (a bank that fixed "longest" by making
           every key terse gives itself away the other way)
position   the position (bank order) most often right among this bank's questions of the same
           type; the two most often right. An upper bound: a learner who learned the bank's
           habits. (Options are shown shuffled, but a bank should not rely on it.)
first      the first option; "tick the first two"
overlap    the option sharing the most words (of 3+ letters) with the question; the top two
========== ================================================================================

``blind_report(bank, lang).beats_chance`` is True when a strategy beats chance by more than
``MARGIN`` (10 percentage points of the maximum score).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

from course_utils.quiz.bank import Bank, Question, right_options
from course_utils.quiz.grading import score

STRATEGIES = ("longest", "shortest", "position", "first", "overlap")
PICKS = {"single": 1, "multiple": 2}  # options picked (ticked) by every blind strategy
MARGIN = 0.10  # a strategy that beats chance by more than this (fraction of max) fails a bank
Choice = tuple[int, ...]  # bank option indices ticked


def words(text: str) -> set[str]:
    """The words of 3+ letters of a text, case-folded (LaTeX commands count as words)."""
    return {w for w in re.findall(r"\w+", text.casefold()) if len(w) >= 3}


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


def position_counts(bank: Bank) -> dict[str, Counter]:
    """How often each position (bank order) is right, per question type."""
    counts: dict[str, Counter] = {"single": Counter(), "multiple": Counter()}
    for q in bank.questions:
        counts[q.type].update(right_options(q))
    return counts


def strategy_choices(bank: Bank, q: Question, lang: str) -> dict[str, list[Choice]]:
    """The equally likely choices of each strategy (and of ``chance``) for one question."""
    n, k = len(q.options), PICKS[q.type]
    seen = position_counts(bank)[q.type]
    asked = words(q.text[lang])
    preferences = {
        "longest": [len(o[lang]) for o in q.options],
        "shortest": [-len(o[lang]) for o in q.options],
        "position": [seen[i] for i in range(n)],
        "first": [-i for i in range(n)],
        "overlap": [len(words(o[lang]) & asked) for o in q.options],
    }
    out = {"chance": list(combinations(range(n), min(k, n)))}
    return out | {name: top_choices(preferences[name], k) for name in STRATEGIES}


def expected_score(q: Question, choices: list[Choice]) -> float:
    """The mean score of equally likely ``choices`` for one question."""
    right = set(right_options(q))
    points = [score(set(c), right, len(q.options), q.partial_credit) for c in choices]
    return sum(points) / len(points)


@dataclass(frozen=True)
class BlindReport:
    """Expected scores of the blind strategies on one bank in one language (fractions of the
    maximum score, i.e. of the number of questions)."""

    lesson: str
    lang: str
    n_questions: int
    chance: float
    strategies: dict[str, float]

    @property
    def best(self) -> tuple[str, float]:
        """The strongest strategy and its score."""
        return max(self.strategies.items(), key=lambda item: item[1])

    @property
    def margin(self) -> float:
        """How far the strongest strategy beats chance (fraction of the maximum score)."""
        return self.best[1] - self.chance

    @property
    def beats_chance(self) -> bool:
        return self.margin > MARGIN


def blind_report(bank: Bank, lang: str) -> BlindReport:
    """Score every blind strategy on ``bank`` with the texts in ``lang``."""
    totals = Counter()
    for q in bank.questions:
        for name, choices in strategy_choices(bank, q, lang).items():
            totals[name] += expected_score(q, choices)
    n = len(bank.questions)
    scores = {name: totals[name] / n for name in STRATEGIES}
    return BlindReport(bank.lesson, lang, n, totals["chance"] / n, scores)


def format_blind(reports: list[BlindReport]) -> str:
    """A table, one row per report: chance, each strategy, and the verdict."""
    head = f"{'lesson':32} lang   n  chance " + " ".join(f"{s:>8}" for s in STRATEGIES)
    rows = [head]
    for r in reports:
        cells = " ".join(f"{r.strategies[s]:8.2f}" for s in STRATEGIES)
        verdict = f"FAIL: {r.best[0]} +{r.margin:.2f}" if r.beats_chance else "ok"
        first = f"{r.lesson:32} {r.lang:4} {r.n_questions:3}  {r.chance:6.2f}"
        rows.append(f"{first} {cells}  {verdict}")
    return "\n".join(rows)
