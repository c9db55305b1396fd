"""The shuffled, per-learner order of the options (course_utils.quiz.order).

The widget's use of it is tested in test_quiz_widget.py, the text form's in test_quiz.py.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from pathlib import Path

import pytest

from course_admin.quiz.seal import seal, unseal
from course_utils.quiz import load_bank, option_order, quiz_dir
from course_utils.quiz.bank import right_options
from course_utils.quiz.order import resolve_learner, shuffled, to_bank, to_positions
from course_utils.quiz.validate import parse_bank

TINY = Path(__file__).parent / "data" / "quiz" / "tiny_draft.yaml"
BANKS = sorted(p.stem for p in quiz_dir().glob("*.yaml"))
LEARNERS = ["An", "Bình", "Chi", "Dũng", "Hà", "Khoa", "Lan", "Minh", "Ngọc", "Phúc"]


@pytest.fixture(autouse=True)
def no_learner(monkeypatch):
    monkeypatch.delenv("COURSE_LEARNER", raising=False)


def test_order_is_a_permutation_and_stable():
    bank = load_bank("06_variational_autoencoders")
    order = option_order(bank, "An")
    assert list(order) == [q.id for q in bank.questions]
    for q in bank.questions:
        assert sorted(order[q.id]) == list(range(len(q.options)))
    assert option_order(bank, "An") == order  # a re-render computes the same order
    assert option_order(load_bank("06_variational_autoencoders"), "An") == order  # a reload too


def test_the_seed_recipe_does_not_change():
    """Changing it would reshuffle every learner's quizzes in the middle of the course."""
    assert shuffled(5, "an|tiny|primes") == (0, 3, 1, 4, 2)
    assert option_order(load_bank(TINY), "An") == {
        "capital": (2, 0, 1), "evens": (3, 1, 0, 2), "primes": (0, 3, 1, 4, 2)
    }  # fmt: skip


def test_a_name_is_one_learner_however_it_is_typed():
    nfd = unicodedata.normalize("NFD", "Nguyễn Thị Lan")
    assert nfd != "Nguyễn Thị Lan"
    assert resolve_learner(nfd) == resolve_learner("  NGUYỄN  thị lan ") == "nguyễn thị lan"
    bank = load_bank(TINY)
    assert option_order(bank, nfd) == option_order(bank, "nguyễn thị lan")


def test_learner_comes_from_the_environment(monkeypatch):
    bank = load_bank(TINY)
    monkeypatch.setenv("COURSE_LEARNER", "An")
    assert resolve_learner() == "an"
    assert option_order(bank) == option_order(bank, "An")
    assert option_order(bank, "") != option_order(bank)  # an explicit name wins
    monkeypatch.delenv("COURSE_LEARNER")
    assert resolve_learner() == "" and option_order(bank) == option_order(bank, "")
    with pytest.raises(TypeError, match="learner must be a name"):
        resolve_learner(42)


@pytest.mark.parametrize("lesson", BANKS)
def test_learners_see_different_orders(lesson):
    bank = load_bank(lesson)
    orders = [option_order(bank, name) for name in LEARNERS]
    pairs = [(a, b) for i, a in enumerate(orders) for b in orders[i + 1 :]]
    differ = [a[q.id] != b[q.id] for a, b in pairs for q in bank.questions]
    assert sum(differ) / len(differ) > 0.75, f"{lesson}: orders too often equal"
    identity = [o[q.id] == tuple(range(len(q.options))) for o in orders for q in bank.questions]
    assert sum(identity) / len(identity) < 0.25, f"{lesson}: the bank order is shown too often"


@pytest.mark.parametrize("lesson", BANKS)
def test_the_right_answer_is_anywhere_on_screen(lesson):
    """Over many learners the right option of a question is shown at every position about
    equally often: a position strategy is chance."""
    bank = load_bank(lesson)
    orders = [option_order(bank, f"learner {i}") for i in range(400)]
    for q in bank.questions:
        (right, *_) = right_options(q)
        seen = Counter(order[q.id].index(right) for order in orders)
        expected = len(orders) / len(q.options)
        assert sorted(seen) == list(range(len(q.options)))
        assert all(abs(c - expected) < 0.35 * expected for c in seen.values()), (q.id, seen)


def test_order_does_not_depend_on_the_answers():
    bank = load_bank(TINY)
    draft = unseal(bank)
    for q in draft["questions"]:
        q["answer"] = [len(q["options"]) - 1]  # the last option, and only it
    other = parse_bank(seal(draft), "other.yaml")
    assert [q.key for q in other.questions] != [q.key for q in bank.questions]
    for name in (None, "An"):
        assert option_order(other, name) == option_order(bank, name)


def test_positions_and_bank_indices_translate_both_ways():
    shown = (2, 0, 3, 1)  # position 0 shows bank option 2, ...
    assert to_bank(shown, [0, 3]) == [1, 2]
    assert to_positions(shown, [1, 2]) == [0, 3]
    for positions in ([0], [1, 2], [0, 1, 2, 3]):
        assert to_positions(shown, to_bank(shown, positions)) == positions
