"""The commands of course_admin start, and their old spellings (``python -m course_utils.grade``
...) print one line naming the new command and exit with status 2."""

import ast
import subprocess
import sys

import pytest
from helpers import ROOT

OLD = {  # old module -> the command that replaces it
    "course_utils.grade": "python -m course_admin.grade",
    "course_utils.bench": "python -m course_admin.bench",
    "course_utils.quiz": "python -m course_admin.quiz",
    "course_utils.make_exercises": "python -m course_admin.make_exercises",
    "course_utils.runtimes": "python -m course_admin.runtimes",
}


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT)


@pytest.mark.parametrize("old", sorted(OLD))
def test_the_old_spelling_names_the_new_command_and_exits_2(old):
    run = _run("-m", old, "submissions/", "--out", "my grades.csv")
    lines = (run.stdout + run.stderr).splitlines()
    assert run.returncode == 2
    new = f"{OLD[old]} submissions/ --out 'my grades.csv'"
    assert lines == [f"python -m {old} has moved; run: {new}"]


@pytest.mark.parametrize("old", sorted(set(OLD) - {"course_utils.quiz"}))
def test_importing_an_old_module_says_where_it_went(old):
    run = _run("-c", f"import {old}")
    assert run.returncode == 1
    assert run.stderr.strip().splitlines()[-1] == f"ImportError: {old} has moved: {OLD[old]}"


@pytest.mark.parametrize("old", sorted(OLD))
def test_the_old_modules_stay_tiny_and_import_nothing_of_the_course(old):
    path = ROOT / (old.replace(".", "/") + ("/__main__.py" if old.endswith("quiz") else ".py"))
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert imported == {"course_utils.moved"}, imported  # one call, nothing of the course
    assert len(path.read_text().splitlines()) < 12


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["-m", "course_admin.grade", "--help"], "usage: python -m course_admin.grade"),
        (["-m", "course_admin.runtimes", "--help"], "usage: python -m course_admin.runtimes"),
        (["-m", "course_admin.bench", "--help"], "usage: python -m course_admin.bench"),
        (["-m", "course_admin.quiz", "--help"], "usage: python -m course_admin.quiz"),
        (["-m", "course_admin.make_exercises", "--check"], "exercises/ is up to date"),
        (["-m", "course_admin.grading_runner"], "usage: python -m course_admin.grading_runner"),
    ],
    ids=lambda a: " ".join(a[1:]) if isinstance(a, list) else None,
)
def test_every_admin_command_starts(args, expected):
    run = _run(*args)
    assert expected in run.stdout + run.stderr, run.stdout + run.stderr
    assert run.returncode == (2 if args == ["-m", "course_admin.grading_runner"] else 0)
