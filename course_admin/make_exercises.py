"""Generate the student notebooks in exercises/ from the worked solutions in solutions/.

    python -m course_admin.make_exercises            # write exercises/NN_topic.ipynb
    python -m course_admin.make_exercises --check    # exit 1 if exercises/ is out of date
    python -m course_admin.make_exercises --fix-ids  # give task and check cells stable ids

In a solution notebook every task is a code cell whose answer sits between two lines, each alone
on its line: ``# BEGIN SOLUTION`` and ``# END SOLUTION`` (the form nbgrader and otter-grader
accept). The generator replaces each such block, keeping its indentation, by

    # YOUR CODE HERE
    raise NotImplementedError()

and keeps everything else: the ``def`` line above the block (so the stub still defines the
function), the check cells, the prose. It also points the Colab badge at exercises/, drops the
jupytext pairing (exercise notebooks are generated, not edited) and strips outputs.

Task cells carry nbgrader metadata (``"solution": true``, ``"grade_id": "<task id>"``), check
cells too (``"grade": true, "locked": true, "points": N, "grade_id": "check_<task id>"``), and
both get the grade_id as their cell id, which jupytext keeps when it syncs the .py twin. The
first line of every task cell is ``# Task <task id>``, a last resort for the grader when a
notebook editor loses cell ids and metadata.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "# BEGIN SOLUTION", "# END SOLUTION"
STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
TASK_LINE = re.compile(r"^# Task (\w+)\s*$")


class ExerciseError(ValueError):
    """A solution notebook does not follow the format (says which file, cell and problem)."""


def stub_source(source: str, where: str = "cell") -> str:
    """Replace every BEGIN/END SOLUTION block of ``source`` by the indented stub."""
    out: list[str] = []
    indent: str | None = None
    for number, line in enumerate(source.split("\n"), start=1):
        stripped = line.strip()
        if stripped == BEGIN:
            if indent is not None:
                raise ExerciseError(f"{where}, line {number}: {BEGIN} inside another block.")
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(indent + s for s in STUB)
        elif stripped == END:
            if indent is None:
                raise ExerciseError(f"{where}, line {number}: {END} without {BEGIN}.")
            indent = None
        elif indent is None:
            out.append(line)
    if indent is not None:
        raise ExerciseError(f"{where}: {BEGIN} without {END}.")
    return "\n".join(out)


def grading_cells(nb) -> list[tuple[str, str, int]]:
    """(kind, grade_id, cell index) for every nbgrader task ("solution") or check ("grade") cell."""
    found = []
    for i, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            found.append(("solution", meta["grade_id"], i))
        elif meta.get("grade"):
            found.append(("check", meta["grade_id"], i))
    return found


def validate(nb, name: str) -> None:
    """Every task cell has a block, a ``# Task <id>`` first line, and its check right after."""
    cells = grading_cells(nb)
    for k, (kind, grade_id, i) in enumerate(cells):
        cell, where = nb.cells[i], f"{name}, cell {i} ({grade_id})"
        if kind == "solution":
            first = cell.source.split("\n", 1)[0]
            match = TASK_LINE.match(first)
            if BEGIN not in cell.source:
                raise ExerciseError(f"{where}: a task cell without a {BEGIN} block.")
            if not match or match.group(1) != grade_id:
                raise ExerciseError(f"{where}: the first line must be '# Task {grade_id}'.")
            following = cells[k + 1] if k + 1 < len(cells) else None
            if following is None or following[:2] != ("check", f"check_{grade_id}"):
                raise ExerciseError(f"{where}: no check cell 'check_{grade_id}' follows it.")
        elif "points" not in cell.metadata["nbgrader"]:
            raise ExerciseError(f"{where}: a check cell needs nbgrader 'points'.")
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" and BEGIN in cell.source:
            raise ExerciseError(f"{name}, cell {i}: solution markers are for code cells only.")


def tasks(nb) -> list[tuple[str, float]]:
    """The (task id, points) of a solution or exercise notebook, in notebook order."""
    return [
        (grade_id.removeprefix("check_"), nb.cells[i].metadata["nbgrader"]["points"])
        for kind, grade_id, i in grading_cells(nb)
        if kind == "check"
    ]


def set_ids(nb) -> bool:
    """Give every task and check cell its grade_id as cell id. Returns True if anything changed."""
    changed = False
    for _, grade_id, i in grading_cells(nb):
        if nb.cells[i].get("id") != grade_id:
            nb.cells[i]["id"] = grade_id
            changed = True
    return changed


def make_exercise(solution, name: str = "notebook"):
    """The student version of a solution notebook (a new notebook; the input is not changed)."""
    validate(solution, name)
    nb = copy.deepcopy(solution)
    nb.metadata.pop("jupytext", None)
    set_ids(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            cell.source = stub_source(cell.source, f"{name}, cell {i}")
            cell.outputs, cell.execution_count = [], None
        elif cell.cell_type == "markdown":
            cell.source = cell.source.replace("/blob/main/solutions/", "/blob/main/exercises/")
    add_language_bar(nb, name.rsplit("/", 1)[-1])
    return nb


def add_language_bar(nb, file_name: str) -> None:
    """Put the link to the Vietnamese twin (exercises/vi/) under the first cell's Colab badge."""
    first = next((c for c in nb.cells if c.cell_type == "markdown"), None)
    if first is None or "colab-badge.svg" not in first.source or not file_name.endswith(".ipynb"):
        return
    lines = first.source.split("\n")
    badge = next(n for n, line in enumerate(lines) if "colab-badge.svg" in line)
    lines[badge + 1 : badge + 1] = ["", f"**English** · [Tiếng Việt](vi/{file_name})"]
    first.source = "\n".join(lines)


def render(nb) -> str:
    """The exact text written to disk (what --check compares)."""
    return nbformat.writes(nb) + "\n"


def generate(solutions: Path, exercises: Path) -> dict[str, str]:
    """{file name: notebook text} of every exercise, generated from ``solutions/*.ipynb``."""
    out = {}
    for path in sorted(solutions.glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        out[path.name] = render(make_exercise(nb, f"{solutions.name}/{path.name}"))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_admin.make_exercises", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--check", action="store_true", help="only compare, exit 1 on a difference")
    parser.add_argument("--fix-ids", action="store_true", help="set stable ids in solutions/")
    parser.add_argument("--solutions", type=Path, default=ROOT / "solutions")
    parser.add_argument("--exercises", type=Path, default=ROOT / "exercises")
    args = parser.parse_args(argv)
    if not args.solutions.is_dir():
        parser.error(f"no solutions folder at {args.solutions}: run this in a source checkout.")
    if args.fix_ids:
        for path in sorted(args.solutions.glob("[0-9][0-9]_*.ipynb")):
            nb = nbformat.read(path, as_version=4)
            if set_ids(nb):
                path.write_text(render(nb))
                print(f"stable cell ids set in {path}")
    try:
        wanted = generate(args.solutions, args.exercises)
    except ExerciseError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.check:
        problems = [
            f"{name} is missing or differs from what its solution generates"
            for name, text in wanted.items()
            if not (args.exercises / name).exists() or (args.exercises / name).read_text() != text
        ]
        problems += [
            f"{p.name} has no solution notebook"
            for p in sorted(args.exercises.glob("*.ipynb"))
            if p.name not in wanted
        ]
        for problem in problems:
            print(f"exercises/{problem}", file=sys.stderr)
        if problems:
            print("Run: python -m course_admin.make_exercises", file=sys.stderr)
            return 1
        print(f"exercises/ is up to date ({len(wanted)} notebooks).")
        return 0
    args.exercises.mkdir(exist_ok=True)
    for name, text in wanted.items():
        (args.exercises / name).write_text(text)
    print(f"wrote {len(wanted)} exercise notebooks to {args.exercises}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
