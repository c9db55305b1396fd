"""The order in which a learner sees the options: shuffled, and stable for that learner.

A blind guess such as "the right answer is usually (b)" must not work, so each question's
options are shown in a shuffled order. The order is a pure function of the learner's name,
the lesson and the question id: the same learner sees the same order after a re-render, a
language switch or a restart, and two learners usually see different orders. Without a name
the lesson id alone seeds it (one fixed shuffled order per lesson).

Only the display is shuffled. Grading and the export always use the bank's own option indices;
``to_bank`` translates a displayed position back.
"""

from __future__ import annotations

import hashlib
import random
import unicodedata

from course_utils import settings
from course_utils.quiz.bank import Bank

LEARNER_ENV = settings.LEARNER  # the learner's name, when show_quiz gets none
Order = dict[str, tuple[int, ...]]  # question id -> bank option index at each displayed position


def resolve_learner(learner: str | None = None) -> str:
    """``learner`` if given, else $COURSE_LEARNER, else "" (no name: one order per lesson).

    The name is normalised (Unicode NFC, spaces trimmed, case folded): "An", " an " and "AN"
    are the same learner, as are the two Unicode spellings of "Lan Anh" with diacritics.
    """
    name = settings.learner() if learner is None else learner
    if not isinstance(name, str):
        raise TypeError(f"learner must be a name (str) or None, got {type(name).__name__}")
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def shuffled(n_options: int, seed_text: str) -> tuple[int, ...]:
    """A permutation of range(n_options), the same for the same ``seed_text`` on any machine."""
    seed = int.from_bytes(hashlib.sha256(seed_text.encode()).digest()[:8], "big")
    order = list(range(n_options))
    random.Random(seed).shuffle(order)
    return tuple(order)


def option_order(bank: Bank, learner: str | None = None) -> Order:
    """For each question, the bank option indices in the order ``learner`` sees them.

    ``option_order(bank)[qid][position]`` is the bank index of the option shown at
    ``position`` (0 is shown as (a)). The seed never involves the answers, so the order gives
    nothing away.
    """
    who = resolve_learner(learner)
    return {q.id: shuffled(len(q.options), f"{who}|{bank.lesson}|{q.id}") for q in bank.questions}


def to_bank(shown: tuple[int, ...], positions) -> list[int]:
    """Displayed positions (0 = (a)) of one question -> its bank option indices, sorted."""
    return sorted(shown[p] for p in positions)


def to_positions(shown: tuple[int, ...], indices) -> list[int]:
    """Bank option indices of one question -> the positions at which they are shown, sorted."""
    return sorted(shown.index(i) for i in indices)
