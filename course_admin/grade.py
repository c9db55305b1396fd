"""Grade a folder of submitted exercise notebooks into a CSV of per-task points (instructors).

    python -m course_admin.grade SUBMISSIONS_DIR --out grades.csv
        [--timeout-cell 60] [--timeout-notebook 600] [--jobs 2] [--lesson 06_...]

SUBMISSIONS_DIR holds one ``.ipynb`` per student (the file name without .ipynb is the student
id) or one folder per student holding exercise notebooks. The CSV has one row per submitted file
with the columns ``student, notebook, file, <task id>..., total, max, notes``: ``notebook`` is the
exercise (also for a file that could not be graded, when the exercise is known), ``file`` the
path inside SUBMISSIONS_DIR, and ``notes`` a short reason for every lost point, every task cell
that matches no task, and every task that passed only with the reference versions of the tasks
it calls ("task kl_sparsity: correct when given a correct bernoulli_kl").

How a notebook is graded. The grader never runs the student's check cells: it copies the
student's ANSWER cells (found by nbgrader grade_id, then cell id, then the ``# Task <id>`` first
line) into the pristine exercise notebook and runs that, so an edited, deleted or faked check
changes nothing.

A task that calls an earlier task (``task_dependencies``, read from solutions/) and fails while
an earlier task it calls is wrong or missing is run again with the reference answers of those
tasks (from solutions/) in place of the student's: it earns its points if it passes then, with a
note saying so, and otherwise its note says what is wrong with it, not with the tasks it calls.

Each notebook runs in a fresh kernel in its own temporary folder
(``course_admin.grading_runner``), with a per-cell and a per-notebook time limit and CPU and
memory limits, in fast and offline mode unless ``--full-mode`` / ``--online`` is given. Nothing is
written into SUBMISSIONS_DIR.

GRADING RUNS STUDENT CODE. The limits stop accidents (infinite loops, huge tensors), not attacks:
grade an untrusted class inside a container or a virtual machine.

One idea: a class graded from its folder to the CSV and the summary line (running one notebook
is ``grading_runner``'s job, the task dependency map ``task_dependencies``'s).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from tqdm.auto import tqdm

from course_admin.grading_runner import TIMEOUT_ENAME, run_isolated
from course_admin.make_exercises import ROOT, TASK_LINE, grading_cells, tasks
from course_admin.task_dependencies import answer_cells, load_solutions, task_dependencies
from course_utils.exercise_checks.core import MIME


@dataclass
class Exercise:
    """A pristine exercise notebook: its tasks, points, and where its task and check cells are."""

    lesson: str
    nb: nbformat.NotebookNode
    points: dict[str, float]
    task_cell: dict[str, int]
    check_cell: dict[str, int]


@dataclass
class Row:
    student: str
    notebook: str  # the exercise, e.g. "05_sparse_autoencoders" ("" when not known)
    lesson: str | None = None
    file: str = ""  # the path inside SUBMISSIONS_DIR, e.g. "alice/05_x-Copy1.ipynb"
    points: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    missing: set[str] = field(default_factory=set)  # tasks whose answer cell was not found
    status: dict[str, str] = field(default_factory=dict)  # task -> its check's status, if any
    problem: str | None = None  # set when the notebook could not be graded fully
    identified: bool = False  # the file is this exercise's notebook (it is run)


def exercise_folder() -> Path:
    """The exercise notebooks: packaged with the course if installed so, else the checkout's."""
    try:
        from importlib.resources import files

        packaged = Path(str(files("course_utils.exercise_notebooks")))
        if any(packaged.glob("*.ipynb")):
            return packaged
    except (ImportError, ModuleNotFoundError, TypeError):
        pass
    return ROOT / "exercises"


def load_exercises(folder: Path) -> dict[str, Exercise]:
    exercises = {}
    for path in sorted(folder.glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        cells = {(kind, gid): i for kind, gid, i in grading_cells(nb)}
        exercises[path.stem] = Exercise(
            path.stem,
            nb,
            dict(tasks(nb)),
            {gid: i for (kind, gid), i in cells.items() if kind == "solution"},
            {gid.removeprefix("check_"): i for (kind, gid), i in cells.items() if kind == "check"},
        )
    if not exercises:
        raise SystemExit(f"No exercise notebooks found in {folder}; pass --exercises DIR.")
    return exercises


def answers(nb, task_ids) -> dict[str, str]:
    """The student's source for each task: by grade_id, else cell id, else '# Task <id>' line."""
    by_meta, by_id, by_line = {}, {}, {}
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        match = TASK_LINE.match(cell.get("source", "").split("\n", 1)[0])
        for found, key in ((by_meta, gid), (by_id, cell.get("id")), (by_line, match and match[1])):
            if key in task_ids:
                found.setdefault(key, cell.source)
    return {
        t: by_meta.get(t, by_id.get(t, by_line.get(t)))
        for t in task_ids
        if t in by_meta or t in by_id or t in by_line
    }


def identify(nb, exercises: dict[str, Exercise]) -> str | None:
    """The lesson whose task cells the notebook holds most of (None if none)."""
    counts = {name: len(answers(nb, ex.points)) for name, ex in exercises.items()}
    best = max(counts, key=counts.get)
    return best if counts[best] else None


def discover(folder: Path) -> list[tuple[str, Path | None, str | None]]:
    """(student, notebook path or None, problem) for everything in SUBMISSIONS_DIR."""
    found = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith((".", "__")):
            continue
        if entry.is_dir():
            books = sorted(p for p in entry.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
            found += [(entry.name, p, None) for p in books]
            if not books:
                found.append((entry.name, entry, "no notebook in the folder"))
        elif entry.suffix == ".ipynb":
            found.append((entry.stem, entry, None))
        else:
            found.append((entry.stem, entry, f"not a notebook ({entry.name})"))
    return found


def prepare(
    student, path, problem, exercises, lesson, root: Path | None = None
) -> tuple[Row, nbformat.NotebookNode | None]:
    """Read a submission and build the notebook to run (None when there is nothing to run).

    ``root``: SUBMISSIONS_DIR, to which the row's ``file`` is relative.
    """
    file = str(path.relative_to(root)) if path and root else (path.name if path else "")
    row = Row(
        student,
        lesson or "",
        lesson=lesson,
        file=file + ("/" if path and path.is_dir() else ""),
        problem=problem,
    )
    if path is None or problem:
        return row, None
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
        if not text.strip():
            row.problem = "empty notebook (the file is empty)"
            return row, None
        nb = nbformat.reads(text, as_version=4)
        found = identify(nb, exercises)
    except Exception as error:  # noqa: BLE001 - any unreadable file becomes a row, not a crash
        row.problem = f"could not read the notebook ({type(error).__name__})"
        return row, None
    if found is None:
        empty = not any(cell.get("source", "").strip() for cell in nb.cells)
        row.problem = (
            "empty notebook (no cell has any content)"
            if empty
            else "not an exercise notebook of this course (no task cells found)"
        )
        return row, None
    if lesson and found != lesson:
        row.problem = f"this is the exercise of lesson {found[:2]}, not {lesson[:2]}"
        return row, None
    row.lesson = row.notebook = found
    row.identified = True
    exercise = exercises[found]
    merged = nbformat.from_dict(json.loads(json.dumps(exercise.nb)))  # a deep copy
    student_answers = answers(nb, exercise.points)
    for task, index in exercise.task_cell.items():
        if task in student_answers:
            merged.cells[index].source = student_answers[task]
        else:
            row.missing.add(task)
            row.notes.append(f"task {task}: answer cell missing")
    row.notes += [
        f"task cell '{name}' matches no task of {found}: not graded (an older version of the "
        "exercise?)"
        for name in unknown_tasks(nb, exercise.points)
    ]
    return row, merged


def unknown_tasks(nb, task_ids) -> list[str]:
    """Names of answer cells ('# Task <name>' first line, or an nbgrader solution grade_id)
    that match no task of the exercise, in notebook order."""
    found: list[str] = []
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        meta = cell.get("metadata", {}).get("nbgrader", {})
        match = TASK_LINE.match(cell.get("source", "").split("\n", 1)[0])
        for name in (meta.get("grade_id") if meta.get("solution") else None, match and match[1]):
            if name and name not in task_ids and name not in found:
                found.append(name)
    return found


def score(row: Row, exercise: Exercise, result: dict, executed, timeout_cell: int) -> None:
    """Fill ``row.points``, ``row.status`` and ``row.notes`` from the official checks' results."""
    replies = {int(k): v for k, v in result.get("cells", {}).items()}
    if result.get("error"):
        row.problem = result["error"]
    missing = row.missing  # already noted
    for task, points in exercise.points.items():
        row.points[task] = 0
        index = exercise.check_cell[task]
        outcome = _check_outcome(executed.cells[index] if executed else None)
        if outcome is not None and outcome.get("task") != task:
            outcome = None  # not the official check's result
        if outcome is not None:
            row.status[task] = outcome.get("status")
            if outcome.get("status") == "passed":
                row.points[task] = points
            elif task not in missing:
                row.notes.append(f"task {task}: {outcome.get('note') or outcome.get('status')}")
            continue
        if task in missing:
            continue
        answer = replies.get(exercise.task_cell[task], {})
        reply = replies.get(index)
        if reply is None:
            row.notes.append(f"task {task}: not run")
        elif TIMEOUT_ENAME in (reply.get("ename"), answer.get("ename")):
            row.notes.append(f"task {task}: timed out after {timeout_cell} s")
        elif answer.get("status") == "error" and answer.get("ename") != "NotImplementedError":
            row.notes.append(f"task {task}: your cell raised {answer['ename']}")
        else:
            row.notes.append(f"task {task}: the check could not run ({reply.get('ename')})")


def to_regrade(row: Row, depends: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """Task -> the tasks it calls that did not pass, for each task of ``row`` that failed its
    check (wrong or not attempted) while calling such a task: graded again with references."""
    failed = {t for t, status in row.status.items() if status in ("wrong", "not attempted")}
    return {
        task: bad
        for task in failed - row.missing
        if (bad := tuple(d for d in depends.get(task, ()) if row.status.get(d) != "passed"))
    }


def with_references(merged, exercise: Exercise, references: dict[str, str], tasks_: set[str]):
    """A copy of ``merged`` whose answer cells of ``tasks_`` hold the reference answers."""
    copy = nbformat.from_dict(json.loads(json.dumps(merged)))
    for task in tasks_:
        copy.cells[exercise.task_cell[task]].source = references[task]
    return copy


def rescore(row: Row, exercise: Exercise, regrade: dict[str, tuple[str, ...]], executed) -> None:
    """Replace the points and notes of the regraded tasks by their outcome with references."""
    for task, calls in regrade.items():
        outcome = _check_outcome(executed.cells[exercise.check_cell[task]] if executed else None)
        if outcome is None or outcome.get("task") != task:
            continue  # the second run did not reach this check: the first run's note stands
        if outcome.get("status") == "passed":
            row.points[task] = exercise.points[task]
            note = f"correct when given a correct {' and '.join(calls)}"
        else:
            note = outcome.get("note") or outcome.get("status")
        row.status[task] = outcome.get("status")
        first = next(i for i, n in enumerate(row.notes) if n.startswith(f"task {task}: "))
        row.notes[first] = f"task {task}: {note}"


def _check_outcome(cell) -> dict | None:
    """The machine-readable result of a check cell (its execute_result), if it produced one."""
    if cell is None:
        return None
    for output in cell.get("outputs", []):
        if output.get("output_type") == "execute_result" and MIME in output.get("data", {}):
            try:
                return json.loads(output["data"][MIME])
            except (TypeError, ValueError):
                return None
    return None


def write_csv(rows: list[Row], exercises: dict[str, Exercise], out: Path) -> list[str]:
    """Write the grades; return the header. Task columns: every task of the lessons present."""
    lessons = [name for name in exercises if any(r.lesson == name for r in rows)]
    columns = [t for name in lessons for t in exercises[name].points]
    header = ["student", "notebook", "file", *columns, "total", "max", "notes"]
    with out.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for r in rows:
            known = exercises[r.lesson].points if r.lesson else {}
            cells = [f"{r.points.get(t, 0):g}" if t in known else "" for t in columns]
            total = f"{sum(r.points.values()):g}" if r.lesson else "0"
            maximum = f"{sum(known.values()):g}" if r.lesson else ""
            notes = "; ".join(([r.problem] if r.problem else []) + r.notes)
            writer.writerow([r.student, r.notebook, r.file, *cells, total, maximum, notes])
    return header


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_admin.grade", description=__doc__.split("\n")[0]
    )
    parser.add_argument("submissions", type=Path, help="one .ipynb or one folder per student")
    parser.add_argument("--out", type=Path, required=True, help="the CSV file to write")
    parser.add_argument("--timeout-cell", type=int, default=60, help="seconds per cell (60)")
    parser.add_argument("--timeout-notebook", type=int, default=600, help="seconds per notebook")
    parser.add_argument("--jobs", type=int, default=max(1, (os.cpu_count() or 2) // 2))
    parser.add_argument("--lesson", help="grade every submission as this exercise, e.g. 06_...")
    parser.add_argument("--exercises", type=Path, help="folder of pristine exercise notebooks")
    parser.add_argument(
        "--solutions", type=Path, default=ROOT / "solutions",
        help="worked solutions: the reference answers of the tasks a task calls (solutions/)",
    )  # fmt: skip
    parser.add_argument("--memory-mb", type=int, default=8192, help="address space per kernel")
    parser.add_argument("--save-executed", type=Path, help="keep the executed notebooks here")
    parser.add_argument("--full-mode", action="store_true", help="run without COURSE_FAST=1")
    parser.add_argument("--online", action="store_true", help="allow dataset downloads")
    args = parser.parse_args(argv)
    submissions = args.submissions.resolve()
    if not submissions.is_dir():
        parser.error(f"{args.submissions} is not a folder")
    if args.out.resolve().is_relative_to(submissions):
        parser.error("write the CSV outside SUBMISSIONS_DIR (nothing is written there)")
    exercises = load_exercises(args.exercises or exercise_folder())
    if args.lesson and args.lesson not in exercises:
        parser.error(f"unknown lesson {args.lesson!r}; choose one of {', '.join(exercises)}")
    solutions = load_solutions(args.solutions)
    start = time.monotonic()
    found = discover(submissions)
    prepared = [prepare(*f, exercises, args.lesson, submissions) for f in found]
    default = args.lesson or _single_lesson([r for r, _ in prepared])
    rows = [row for row, _ in prepared]
    for row in rows:
        row.lesson = row.lesson or default
        row.notebook = row.notebook or (row.lesson or "")
    limits = {
        "timeout_cell": args.timeout_cell,
        "timeout_notebook": args.timeout_notebook,
        "memory_mb": args.memory_mb,
        "fast": not args.full_mode,
        "offline": not args.online,
    }
    jobs = {id(row): (row, merged) for row, merged in prepared if merged is not None}
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for row, executed in _run_all(pool, list(jobs.values()), limits, "grading"):
            score(row, exercises[row.lesson], *executed, args.timeout_cell)
            _save(args.save_executed, row, executed[1])
        again = []  # tasks that failed while calling a failed task: run with the references
        for row, merged in jobs.values():
            exercise, solution = exercises[row.lesson], solutions.get(row.lesson)
            regrade = to_regrade(row, task_dependencies(solution)) if solution else {}
            if regrade:
                calls = {t for ts in regrade.values() for t in ts}
                references = answer_cells(solution)
                again.append((row, with_references(merged, exercise, references, calls), regrade))
        regrades = {id(row): regrade for row, _, regrade in again}
        pairs = [(row, nb) for row, nb, _ in again]
        for row, executed in _run_all(pool, pairs, limits, "regrading"):
            rescore(row, exercises[row.lesson], regrades[id(row)], executed[1])
    rows.sort(key=lambda r: (r.student, r.notebook, r.file))
    write_csv(rows, exercises, args.out)
    print(summary(rows, exercises, time.monotonic() - start, args.out))
    return 0


def _run_all(pool, jobs: list, limits: dict, what: str):
    """Run each (row, notebook) in its own process; yield (row, (result, executed))."""
    futures = {pool.submit(run_isolated, nb, **limits): row for row, nb in jobs}
    progress = tqdm(as_completed(futures), total=len(futures), desc=what, unit="notebook",
                    file=sys.stderr, disable=not futures)  # fmt: skip
    for future in progress:
        yield futures[future], future.result()


def _save(folder: Path | None, row: Row, executed) -> None:
    if folder and executed is not None:
        folder.mkdir(parents=True, exist_ok=True)
        name = Path(row.file).stem or row.lesson
        nbformat.write(executed, folder / f"{row.student}-{name}.ipynb")


def _single_lesson(rows: list[Row]) -> str | None:
    lessons = {r.lesson for r in rows if r.lesson}
    return lessons.pop() if len(lessons) == 1 else None


def duplicates(rows: list[Row]) -> dict[tuple[str, str], list[str]]:
    """(student, exercise) -> the files, for every exercise a student handed in more than once."""
    files: dict[tuple[str, str], list[str]] = {}
    for r in rows:
        if r.identified:
            files.setdefault((r.student, r.lesson), []).append(r.file)
    return {key: sorted(f) for key, f in files.items() if len(f) > 1}


def summary(rows: list[Row], exercises: dict[str, Exercise], seconds: float, out: Path) -> str:
    """One line: submissions, mean score, failures (notebooks that could not be graded fully),
    and a warning for every exercise a student handed in twice (each copy has its own row)."""
    scored = [
        sum(r.points.values()) / sum(exercises[r.lesson].points.values()) for r in rows if r.lesson
    ]
    mean = f"{sum(scored) / len(scored):.0%}" if scored else "n/a"
    failures = [r for r in rows if r.problem]
    students = len({r.student for r in rows})
    line = (
        f"Graded {len(rows)} notebook(s) from {students} submission(s) in {seconds:.0f} s: "
        f"mean score {mean}; {len(failures)} failure(s) (unreadable, crashed, timed out or "
        f"wrong notebook). Grades: {out}"
    )
    twice = duplicates(rows)
    if twice:
        which = "; ".join(f"{s}: {', '.join(files)}" for (s, _), files in sorted(twice.items()))
        line += (
            f". WARNING: {len(twice)} exercise(s) handed in more than once by the same student, "
            f"each copy graded on its own row (the file column): {which}"
        )
    return line


if __name__ == "__main__":
    sys.exit(main())
