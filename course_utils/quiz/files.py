"""Bank files: where banks are found, reading YAML strictly, loading and writing a bank.

``load_bank("06_variational_autoencoders")`` finds ``quizzes/06_variational_autoencoders.yaml``
(see ``quiz_dir``), reads it and validates it with ``course_utils.quiz.bank.parse_bank``.
"""

from __future__ import annotations

import difflib
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from course_utils import settings
from course_utils.quiz.bank import Bank, QuizBankError
from course_utils.quiz.validate import parse_bank


def quiz_dir() -> Path:
    """Where the banks are: $COURSE_QUIZ_DIR, else the repository's quizzes/, else the copy
    installed inside the package (``course_utils.quizzes``)."""
    if (chosen := settings.quiz_dir()) is not None:
        return chosen
    repo = Path(__file__).resolve().parents[2] / "quizzes"  # course_utils/quiz/files.py
    if repo.is_dir():
        return repo
    return Path(str(resources.files("course_utils.quizzes")))


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
    """Parse a bank's YAML file. A syntax error or a duplicate key raises QuizBankError with its
    line (duplicates together with every other problem of the bank)."""
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


def load_bank(lesson: str | Path) -> Bank:
    """Load and validate a bank: a lesson id (notebook stem) from ``quiz_dir()``, or a path to a
    ``.yaml`` file. Raises FileNotFoundError (naming the lessons that have banks) or
    QuizBankError (listing every problem of the bank)."""
    path = Path(lesson)
    by_id = path.suffix not in (".yaml", ".yml")
    if by_id:
        folder = quiz_dir()
        path = folder / f"{lesson}.yaml"
        if not path.is_file():
            have = sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []
            near = difflib.get_close_matches(str(lesson), have, n=1)
            hint = f" Did you mean '{near[0]}'?" if near else ""
            raise FileNotFoundError(
                f"No quiz bank for lesson '{lesson}' in {folder}.{hint} Lessons with banks: "
                f"{', '.join(have) or 'none'}."
            )
    bank = parse_bank(read_yaml(path), str(path))
    if by_id and bank.lesson != path.stem:
        raise QuizBankError(str(path), [f"{path}: bank: lesson '{bank.lesson}' != file name"])
    return bank


def write_yaml(data: dict, path: str | Path, header: str = "") -> None:
    """Write a bank dict as YAML (UTF-8, keys in the given order) after a comment ``header``."""
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    Path(path).write_text(header + text, encoding="utf-8")
