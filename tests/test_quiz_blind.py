"""Blind guessing (course_admin.quiz.blind): the strategies on a hand-made bank, then the rule
for the real banks: no strategy that reads only the options' length, position or wording may
beat chance by more than 10 percentage points (SYLLABUS.md, Quizzes).
"""

from __future__ import annotations

import pytest

from course_admin.quiz.blind import (
    MARGIN,
    blind_report,
    expected_score,
    format_blind,
    strategy_choices,
    top_choices,
    words,
)
from course_utils.quiz import load_bank, quiz_dir
from course_utils.quiz.bank import LANGS
from course_utils.quiz.validate import parse_bank

BANKS = sorted(p.stem for p in quiz_dir().glob("*.yaml"))


def same(text: str) -> dict[str, str]:
    return {"en": text, "vi": text}


def question(qid, kind, text, options, answer, **extra) -> dict:
    options = [o if isinstance(o, dict) else same(o) for o in options]
    return {"id": qid, "type": kind, "text": same(text), "options": options, "answer": answer,
            "explanation": same("Because."), **extra}  # fmt: skip


# Expected scores worked out by hand (the numbers in the comments):
#             chance  longest  shortest  position  first  overlap
# capital      1/3     1 | 0     0         1/2       1      1     (vi: the longest option is wrong;
# sky          1/3     0         0         1/2       0      1/3    en: "Lyon" and "Nice" tie for
# evens        1/6     1/6       1/6       1/3       0      1/6    the shortest)
# primes       1/5     1/5       1/5       4/9       2/3    1/5
HAND = parse_bank({
    "lesson": "hand", "title": same("Hand-made"), "version": 1,
    "questions": [
        question("capital", "single", "Which city is the capital of France?",
                 ["Paris, the capital of France",
                  {"en": "Lyon", "vi": "Lyon, một thành phố lớn ở miền đông nam"}, "Nice"], [0]),
        question("sky", "single", "Which colour is the sky?",
                 ["Red", "Blue", "A long long long option"], [1]),
        question("evens", "multiple", "Which numbers are even?", ["2", "3", "4", "5"], [0, 2]),
        question("primes", "multiple", "Which numbers are prime?", ["2", "3", "4", "5", "6"],
                 [0, 1, 3], partial_credit=True),
    ],
}, "hand.yaml")  # fmt: skip


def test_top_choices_break_ties_evenly():
    assert top_choices([5, 9, 9, 1], 1) == [(1,), (2,)]
    assert top_choices([5, 9, 9, 1], 2) == [(1, 2)]
    assert top_choices([3, 1, 3, 3], 2) == [(0, 2), (0, 3), (2, 3)]
    assert top_choices([1, 2], 2) == [(0, 1)]  # two options, two ticks: both
    assert words("The KL term, $\\sigma^2$ of a VAE") == {"the", "term", "sigma", "vae"}


def test_strategy_choices_on_the_hand_made_bank():
    capital, sky, evens, primes = HAND.questions
    en = strategy_choices(HAND, capital, "en")
    assert en["longest"] == [(0,)] and en["first"] == [(0,)] and en["overlap"] == [(0,)]
    assert strategy_choices(HAND, capital, "vi")["longest"] == [(1,)]
    assert en["position"] == [(0,), (1,)]  # single answers at positions 0 and 1: a tie
    assert en["chance"] == [(0,), (1,), (2,)]
    assert strategy_choices(HAND, sky, "en")["longest"] == [(2,)]
    assert en["shortest"] == [(1,), (2,)]  # "Lyon" and "Nice": a tie, as for "longest"
    assert strategy_choices(HAND, capital, "vi")["shortest"] == [(2,)]
    assert strategy_choices(HAND, sky, "en")["shortest"] == [(0,)]
    assert (
        strategy_choices(HAND, evens, "en")["shortest"]
        == strategy_choices(HAND, evens, "en")["chance"]
    )  # four one-letter options: every pair ties
    assert strategy_choices(HAND, evens, "en")["first"] == [(0, 1)]  # "tick the first two"
    assert strategy_choices(HAND, evens, "en")["position"] == [(0, 1), (0, 2), (0, 3)]
    assert len(strategy_choices(HAND, primes, "en")["chance"]) == 10  # every pair of 5


def test_expected_scores_use_the_grading_rule():
    capital, sky, evens, primes = HAND.questions
    assert expected_score(capital, [(0,), (1,)]) == 0.5
    assert expected_score(evens, [(0, 2)]) == 1.0
    assert expected_score(evens, [(0, 1)]) == 0.0  # all-or-nothing
    assert expected_score(primes, [(0, 1)]) == pytest.approx(2 / 3)  # partial credit
    assert expected_score(primes, [(0, 2)]) == 0.0  # 1/3 - 1/2, floored


def test_blind_report_on_the_hand_made_bank():
    en, vi = blind_report(HAND, "en"), blind_report(HAND, "vi")
    assert en.n_questions == 4 and en.lang == "en"
    assert en.chance == pytest.approx((1 / 3 + 1 / 3 + 1 / 6 + 1 / 5) / 4)
    assert en.strategies == pytest.approx({
        "longest": (1 + 0 + 1 / 6 + 1 / 5) / 4,
        "shortest": (0 + 0 + 1 / 6 + 1 / 5) / 4,
        "position": (1 / 2 + 1 / 2 + 1 / 3 + 4 / 9) / 4,
        "first": (1 + 0 + 0 + 2 / 3) / 4,
        "overlap": (1 + 1 / 3 + 1 / 6 + 1 / 5) / 4,
    })  # fmt: skip
    assert vi.strategies["longest"] == pytest.approx((0 + 0 + 1 / 6 + 1 / 5) / 4)
    assert en.best[0] == "position" and en.margin == pytest.approx(0.4444 - 0.2583, abs=1e-3)
    assert en.beats_chance and MARGIN == 0.10
    table = format_blind([en, vi])
    assert "hand" in table and "FAIL: position +0.19" in table


def test_a_fair_bank_does_not_beat_chance():
    """Same lengths, right answers spread over the positions, no echo of the question."""
    fair = parse_bank({
        "lesson": "fair", "title": same("Fair"), "version": 1,
        "questions": [
            question(f"q{i}", "single", "Pick one.", ["alpha", "bravo", "delta", "gamma"], [i % 4])
            for i in range(8)
        ],
    }, "fair.yaml")  # fmt: skip
    report = blind_report(fair, "en")
    assert report.chance == pytest.approx(0.25)
    assert report.strategies["longest"] == pytest.approx(0.25)  # a four-way tie
    assert report.strategies["shortest"] == pytest.approx(0.25)
    assert not report.beats_chance, format_blind([report])


def test_terse_keys_are_caught_by_the_shortest_strategy():
    """A bank that dodged "longest" by making every key the shortest option fails."""
    terse = parse_bank({
        "lesson": "terse", "title": same("Terse"), "version": 1,
        "questions": [
            question(f"q{i}", "single", "Pick one.",
                     [o if j == i % 4 else o + " with some more words" for j, o in
                      enumerate(["alpha", "bravo", "delta", "gamma"])], [i % 4])
            for i in range(8)
        ] + [question("pair", "multiple", "Pick two.",
                      ["ab", "cd", "a longer one", "another long one"], [0, 1])],
    }, "terse.yaml")  # fmt: skip
    assert strategy_choices(terse, terse.questions[0], "en")["shortest"] == [(0,)]
    pair = terse.questions[-1]
    assert strategy_choices(terse, pair, "en")["shortest"] == [(0, 1)]  # the two shortest
    report = blind_report(terse, "en")
    assert report.strategies["shortest"] == pytest.approx(1.0)
    assert report.strategies["longest"] == pytest.approx(0.0)
    assert report.beats_chance and report.best[0] == "shortest"
    assert "FAIL: shortest" in format_blind([report])


def test_every_strategy_counts_in_the_verdict():
    """beats_chance looks at every strategy, so the bank-level test below covers each one."""
    from course_admin.quiz.blind import STRATEGIES, BlindReport

    assert "shortest" in STRATEGIES
    for name in STRATEGIES:
        scores = dict.fromkeys(STRATEGIES, 0.25) | {name: 0.25 + MARGIN + 0.01}
        report = BlindReport("x", "en", 4, 0.25, scores)
        assert report.beats_chance and report.best[0] == name
        assert name in format_blind([report]).splitlines()[0]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("lesson", BANKS)
def test_blind_guessing_does_not_beat_chance(lesson, lang):
    """No blind strategy may beat chance by more than MARGIN on a real bank."""
    report = blind_report(load_bank(lesson), lang)
    assert not report.beats_chance, "\n" + format_blind([report])
