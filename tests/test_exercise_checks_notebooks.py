"""The checks on the real notebooks, without a kernel: every generated stub is "not attempted",
every solution passes, and the points in the notebooks agree with the check modules.

(nbval runs the solution notebooks end to end as well; these tests are the fast, in-process
version that also covers the exercise notebooks, whose stubs nbval would not accept.)
"""

import ast

import nbformat
import pytest
from helpers import ROOT

from course_admin.make_exercises import grading_cells, tasks
from course_utils import exercise_checks as ec

SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))


def _run_graded_cells(path, monkeypatch) -> dict[str, ec.CheckResult]:
    """Execute the imports cell, every task cell and every check cell; collect check results."""
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    monkeypatch.delenv("COURSE_CHECKS_STRICT", raising=False)
    nb = nbformat.read(path, as_version=4)
    namespace: dict = {}
    imports = next(c for c in nb.cells if c.cell_type == "code" and "setup_course(" in c.source)
    exec(compile(imports.source, f"{path.name}:imports", "exec"), namespace)
    results = {}
    for kind, grade_id, index in grading_cells(nb):
        source = nb.cells[index].source
        if kind == "solution":
            try:
                exec(compile(source, f"{path.name}:{grade_id}", "exec"), namespace)
            except NotImplementedError:  # a top-level stub (predictions) raises right away
                pass
            continue
        tree = ast.parse(source)
        *body, last = tree.body
        exec(compile(ast.Module(body, []), grade_id, "exec"), namespace)
        results[grade_id.removeprefix("check_")] = eval(
            compile(ast.Expression(last.value), grade_id, "eval"), namespace
        )
    return results


def test_there_is_one_solution_per_lesson_01_to_07():
    assert [p.stem for p in SOLUTIONS] == list(ec.LESSONS)


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_every_solution_passes_its_checks(path, monkeypatch):
    results = _run_graded_cells(path, monkeypatch)
    assert results and all(r.passed for r in results.values()), {
        t: r.message for t, r in results.items() if not r.passed
    }


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_every_generated_stub_is_not_attempted(path, monkeypatch):
    results = _run_graded_cells(ROOT / "exercises" / path.name, monkeypatch)
    assert set(results) == set(ec.LESSONS[path.stem].POINTS)
    for task, result in results.items():
        assert result.status == "not attempted", (task, result.message)
        assert result.points == 0 and result.note == "not attempted"


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_notebook_points_match_the_check_modules(path):
    nb = nbformat.read(path, as_version=4)
    assert dict(tasks(nb)) == ec.LESSONS[path.stem].POINTS


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_each_notebook_has_a_predict_then_run_question(path):
    nb = nbformat.read(path, as_version=4)
    predictions = [gid for kind, gid, _ in grading_cells(nb) if gid.startswith("predict_")]
    assert predictions, "every exercise asks at least one prediction"
    for gid in predictions:
        check = next(i for kind, g, i in grading_cells(nb) if g == f"check_{gid}")
        reveal = nb.cells[check + 1]
        assert reveal.cell_type == "code" and "answer" in reveal.source.lower(), gid


def test_task_ids_are_unique_across_lessons():
    ids = [t for module in ec.LESSONS.values() for t in module.POINTS]
    assert len(ids) == len(set(ids)) == len(ec.POINTS)


VI_EXERCISES = sorted((ROOT / "exercises" / "vi").glob("[0-9][0-9]_*.ipynb"))


def test_every_exercise_has_a_vietnamese_edition():
    assert [p.name for p in VI_EXERCISES] == [p.name for p in SOLUTIONS]


@pytest.mark.parametrize("path", VI_EXERCISES, ids=lambda p: p.stem)
def test_vietnamese_edition_checks_answer_in_vietnamese(path, monkeypatch):
    """Run from exercises/vi/ (where Jupyter starts its kernel) with no $COURSE_LANG: every stub
    is "not attempted", said in Vietnamese; the same cells from exercises/ speak English."""
    monkeypatch.delenv("COURSE_LANG", raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.chdir(path.parent)
    results = _run_graded_cells(path, monkeypatch)
    assert set(results) == set(ec.LESSONS[path.stem].POINTS)
    for task, result in results.items():
        assert result.status == "not attempted", (task, result.message)
        assert "chưa làm" in str(result) and "not attempted" not in str(result), str(result)
    monkeypatch.chdir(ROOT / "exercises")
    assert all("not attempted" in str(r) for r in results.values())
