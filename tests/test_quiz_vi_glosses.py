"""Vietnamese stem glosses must not point at the key.

A Vietnamese stem sometimes adds a gloss the English stem lacks: "(Hậu nghiệm gộp: aggregate
posterior.)", "tức đa tạp (manifold)". When the glossed term then appears in the right
option(s) and in no wrong one, the gloss tells a Vietnamese reader which option to tick, a cue
the English quiz does not have. This test reads every parenthesis of every Vietnamese stem
(outside maths and code), splits it into its terms (at ``:``, ``;``, ``,``), and fails when such
a term occurs in the options (either language) only where the option is right.
"""

from __future__ import annotations

import re

import pytest

from course_utils.quiz import load_bank, quiz_dir
from course_utils.quiz.bank import right_options
from course_utils.quiz.validate import parse_bank

BANKS = sorted(p.stem for p in quiz_dir().glob("*.yaml"))
MATH = re.compile(r"\$[^$]*\$|`[^`]*`")
PAREN = re.compile(r"\(([^()]*)\)")


def glossed_terms(stem_vi: str) -> list[list[str]]:
    """The terms inside each parenthesis of a Vietnamese stem (one list per parenthesis),
    outside maths and code."""
    groups = []
    for inside in PAREN.findall(MATH.sub(" ", stem_vi)):
        terms = [part.strip(" .").casefold() for part in re.split(r"[:;,]", inside)]
        terms = [t for t in terms if len(t) >= 4 and re.search(r"[^\W\d_]", t)]
        groups += [terms] if terms else []
    return groups


def gloss_giveaways(bank) -> list[str]:
    """'lesson id: terms' for each parenthesis of a Vietnamese stem whose terms (those the
    English stem does not use) occur in right options only. A gloss that names the key's term
    and a distractor's alike ("approximation gap; amortization gap") gives nothing away."""
    found = []
    for q in bank.questions:
        right = set(right_options(q))
        english_stem = q.text["en"].casefold()
        for terms in glossed_terms(q.text["vi"]):
            terms = [t for t in terms if t not in english_stem]
            where = {i for i, o in enumerate(q.options) for t in terms
                     if t in o["vi"].casefold() or t in o["en"].casefold()}  # fmt: skip
            if where and where <= right:
                found.append(f"{bank.lesson} {q.id}: the stem's gloss {terms} names only the key")
    return found


@pytest.mark.parametrize("lesson", BANKS)
def test_no_vietnamese_stem_gloss_names_only_the_key(lesson):
    problems = gloss_giveaways(load_bank(lesson))
    assert not problems, "\n".join(problems)


def _bank(stem_vi: str, options: list[tuple[str, str]], answer: list[int], stem_en: str = "Which?"):
    q = {"id": "q", "type": "single", "text": {"en": stem_en, "vi": stem_vi},
         "options": [{"en": en, "vi": vi} for en, vi in options], "answer": answer,
         "explanation": {"en": "x", "vi": "x"}}  # fmt: skip
    return parse_bank({"lesson": "x", "title": {"en": "x", "vi": "x"}, "version": 1,
                       "questions": [q]}, "x.yaml")  # fmt: skip


def test_the_check_catches_a_gloss_that_names_the_key_and_passes_a_fair_one():
    options = [("The aggregate posterior", "Hậu nghiệm gộp"), ("The prior", "Tiên nghiệm"),
               ("The likelihood", "Hàm hợp lý")]  # fmt: skip
    giveaway = _bank("Phân phối nào? (Hậu nghiệm gộp: aggregate posterior.)", options, [0])
    assert len(gloss_giveaways(giveaway)) == 1
    english_only = _bank("Phân phối nào, tức đa tạp (aggregate posterior)?", options, [0])
    assert gloss_giveaways(english_only)
    # a gloss of a term that a wrong option also uses, or that no option uses, gives nothing away
    assert not gloss_giveaways(_bank("Phân phối nào? (Hậu nghiệm gộp.)", options, [1]))
    assert not gloss_giveaways(_bank("Sụp đổ hậu nghiệm (posterior collapse) là gì?", options, [0]))
    # maths in parentheses is no gloss
    assert glossed_terms("Tính $(a, b)$ và `f(x)`?") == []
    # a gloss naming the key's term and a distractor's, or a term the English stem also uses
    both = _bank("Phân phối nào? (Hậu nghiệm gộp: aggregate posterior; tiên nghiệm: prior.)",
                 options, [0])  # fmt: skip
    assert not gloss_giveaways(both)
    english = _bank("Hậu nghiệm gộp (aggregate posterior)?", options, [0],
                    stem_en="Is the aggregate posterior close to N(0, I)?")  # fmt: skip
    assert not gloss_giveaways(english)
