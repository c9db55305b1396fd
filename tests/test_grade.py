"""The instructor's grading command on a small fabricated class, and its building blocks.

The class (made in tmp_path from solutions/05 and exercises/05): all correct, partly wrong, a
kernel crash, an infinite loop, check cells deleted (and a task cell of an older version), a
faked check, an unreadable file, a notebook of the wrong lesson, a file that is not a notebook,
a wrong and a missing ``bernoulli_kl`` under a ``kl_sparsity`` that calls it (one right, one
wrong), two copies of the exercise from one student and an empty file. Every row is written out
by hand in ``EXPECTED``: the notes say what is wrong with each task itself.
"""

import csv
import hashlib
import json
import sys
import time

import nbformat
import pytest
from helpers import ROOT

from course_admin import grade, grading_runner
from course_admin.grading_runner import run_isolated

LESSON = "05_sparse_autoencoders"
TIMEOUT_CELL, TIMEOUT_NOTEBOOK = 12, 90

EXPECTED = """\
student,notebook,file,predict_rate_shape,bernoulli_kl,kl_sparsity,l1_penalty,total,max,notes
alice,05_sparse_autoencoders,alice.ipynb,1,2,2,2,7,7,
bob,05_sparse_autoencoders,bob.ipynb,0,2,0,0,2,7,task predict_rate_shape: averaged over the wrong \
dimension; task kl_sparsity: mean instead of sum; task l1_penalty: not attempted
carol,05_sparse_autoencoders,carol.ipynb,1,2,0,0,3,7,"the kernel died (a crash, or the memory or \
CPU limit); task kl_sparsity: not run; task l1_penalty: not run"
dave,05_sparse_autoencoders,dave.ipynb,1,2,2,0,5,7,task l1_penalty: timed out after 12 s
erin,05_sparse_autoencoders,erin.ipynb,1,2,2,2,7,7,task cell 'kl_penalty' matches no task of \
05_sparse_autoencoders: not graded (an older version of the exercise?)
frank,05_sparse_autoencoders,frank.ipynb,1,2,2,0,5,7,task l1_penalty: mean instead of sum
grace,05_sparse_autoencoders,grace.ipynb,0,0,0,0,0,7,could not read the notebook (NotJSONError)
heidi,05_sparse_autoencoders,heidi/02_stacked_autoencoders.ipynb,0,0,0,0,0,7,"this is the exercise \
of lesson 02, not 05"
ivan,05_sparse_autoencoders,ivan.pdf,0,0,0,0,0,7,not a notebook (ivan.pdf)
judy,05_sparse_autoencoders,judy.ipynb,1,0,2,2,5,7,task bernoulli_kl: arguments swapped; task \
kl_sparsity: correct when given a correct bernoulli_kl
kim,05_sparse_autoencoders,kim.ipynb,1,0,0,2,3,7,task bernoulli_kl: not attempted; task \
kl_sparsity: mean instead of sum
mia,05_sparse_autoencoders,mia/05_sparse_autoencoders-Copy1.ipynb,1,2,2,0,5,7,task l1_penalty: \
mean instead of sum
mia,05_sparse_autoencoders,mia/05_sparse_autoencoders.ipynb,1,2,2,2,7,7,
nina,05_sparse_autoencoders,nina.ipynb,0,0,0,0,0,7,empty notebook (the file is empty)
"""
DUPLICATE_WARNING = (
    ". WARNING: 1 exercise(s) handed in more than once by the same student, each copy graded on "
    "its own row (the file column): mia: mia/05_sparse_autoencoders-Copy1.ipynb, "
    "mia/05_sparse_autoencoders.ipynb"
)


def _copy(nb):
    return nbformat.from_dict(json.loads(json.dumps(nb)))


def _cell(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def make_class(folder):
    folder.mkdir()
    solution = nbformat.read(ROOT / "solutions" / f"{LESSON}.ipynb", as_version=4)
    exercise = nbformat.read(ROOT / "exercises" / f"{LESSON}.ipynb", as_version=4)
    nbformat.write(solution, folder / "alice.ipynb")  # all correct

    bob = _copy(exercise)  # one right, one wrong, one not attempted, a wrong prediction
    _cell(bob, "bernoulli_kl").source = _cell(solution, "bernoulli_kl").source
    _cell(bob, "kl_sparsity").source = _cell(solution, "kl_sparsity").source.replace(
        "bernoulli_kl(p, q_hat).sum()", "bernoulli_kl(p, q_hat).mean()"
    )
    _cell(bob, "predict_rate_shape").source = "# Task predict_rate_shape\npredicted_shape = (64,)"
    nbformat.write(bob, folder / "bob.ipynb")

    carol = _copy(solution)  # the kernel dies in the third task
    _cell(carol, "kl_sparsity").source = "# Task kl_sparsity\nimport os\n\nos._exit(1)"
    nbformat.write(carol, folder / "carol.ipynb")

    dave = _copy(solution)  # an infinite loop inside the function a check calls
    loop = "def mean_l1_penalty_per_image(h):\n    while True:\n        pass"
    _cell(dave, "l1_penalty").source = loop
    dave.cells = [c for c in dave.cells if c.id != "l1_penalty"] + [_cell(dave, "l1_penalty")]
    nbformat.write(dave, folder / "dave.ipynb")

    erin = _copy(solution)  # every check cell deleted: the official ones still run
    erin.cells = [c for c in erin.cells if not c.metadata.get("nbgrader", {}).get("grade")]
    old_task = "# Task kl_penalty\ndef kl_penalty(h, p):\n    return h.mean()"  # an old version's
    erin.cells.append(nbformat.v4.new_code_cell(old_task))
    nbformat.write(erin, folder / "erin.ipynb")

    frank = _copy(solution)  # a wrong answer hidden behind a fake check and an edited check cell
    _cell(frank, "l1_penalty").source = (
        "# Task l1_penalty\ndef mean_l1_penalty_per_image(h):\n    return h.abs().mean()\n\n\n"
        "def check_l1_penalty(f):\n    print('✅ l1_penalty: correct (2/2 points)')\n"
    )
    _cell(frank, "check_l1_penalty").source = "print('✅ l1_penalty: correct (2/2 points)')"
    nbformat.write(frank, folder / "frank.ipynb")

    (folder / "grace.ipynb").write_text("{ this is not a notebook")
    (folder / "heidi").mkdir()  # a folder submission holding another lesson's exercise
    lesson_02 = (ROOT / "exercises" / "02_stacked_autoencoders.ipynb").read_text()
    (folder / "heidi" / "02_stacked_autoencoders.ipynb").write_text(lesson_02)
    (folder / "heidi" / "notes.txt").write_text("my notes")
    (folder / "ivan.pdf").write_bytes(b"%PDF-1.4")

    judy = _copy(solution)  # a wrong bernoulli_kl under a right kl_sparsity that calls it
    _cell(judy, "bernoulli_kl").source = _cell(solution, "bernoulli_kl").source.replace(
        "p * torch.log(p / q) + (1 - p) * torch.log((1 - p) / (1 - q))",
        "q * torch.log(q / p) + (1 - q) * torch.log((1 - q) / (1 - p))",
    )
    nbformat.write(judy, folder / "judy.ipynb")

    kim = _copy(solution)  # bernoulli_kl not attempted, and kl_sparsity wrong on its own
    _cell(kim, "bernoulli_kl").source = _cell(exercise, "bernoulli_kl").source
    _cell(kim, "kl_sparsity").source = _cell(bob, "kl_sparsity").source
    nbformat.write(kim, folder / "kim.ipynb")

    (folder / "mia").mkdir()  # the exercise twice, as Jupyter's "Duplicate" names the copy
    nbformat.write(solution, folder / "mia" / f"{LESSON}.ipynb")
    mia = _copy(solution)
    _cell(mia, "l1_penalty").source = _cell(solution, "l1_penalty").source.replace(
        "h.abs().sum(dim=1).mean()", "h.abs().mean()"
    )
    nbformat.write(mia, folder / "mia" / f"{LESSON}-Copy1.ipynb")
    (folder / "nina.ipynb").write_text("")  # saved before anything was written
    (folder / ".DS_Store").write_bytes(b"\0")
    return folder


def _snapshot(folder):
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_grading_a_fabricated_class_gives_exactly_the_expected_csv(tmp_path, capsys):
    submissions = make_class(tmp_path / "class")
    (tmp_path / "class" / "dave.ipynb").write_text(
        (tmp_path / "class" / "dave.ipynb").read_text().replace('"id": "l1_penalty"', '"id": "x"')
    )  # dave's answer cell is found by its metadata even though its id changed and it moved
    before = _snapshot(submissions)
    out = tmp_path / "grades.csv"
    start = time.monotonic()
    limits = ["--timeout-cell", str(TIMEOUT_CELL), "--timeout-notebook", str(TIMEOUT_NOTEBOOK)]
    argv = [str(submissions), "--out", str(out), "--lesson", LESSON, "--jobs", "2", *limits]
    assert grade.main(argv) == 0
    seconds = time.monotonic() - start
    summary = capsys.readouterr().out.strip().splitlines()[-1]
    text = out.read_text()
    print(f"\ngrading wall time: {seconds:.1f} s\n{summary}\n{text}")  # for the record (-s)
    assert text.replace("\r\n", "\n") == EXPECTED
    assert _snapshot(submissions) == before  # nothing written into SUBMISSIONS_DIR
    assert summary.startswith("Graded 14 notebook(s) from 13 submission(s) in ")
    assert "mean score 50%; 5 failure(s)" in summary and summary.endswith(DUPLICATE_WARNING)
    assert seconds < 6 * TIMEOUT_NOTEBOOK  # nobody waited for anybody else's limit
    rows = list(csv.DictReader(text.splitlines()))
    assert [r["student"] for r in rows] == sorted(r["student"] for r in rows)


def test_the_notebook_limit_stops_a_loop_that_ignores_interrupts():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("print('start')"),
        nbformat.v4.new_code_cell(
            "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
            "while True:\n    time.sleep(0.1)"
        ),
        nbformat.v4.new_code_cell("print('never')"),
    ])  # fmt: skip
    start = time.monotonic()
    result, executed = run_isolated(nb, timeout_cell=2, timeout_notebook=8, memory_mb=0)
    assert result["error"] == "timed out after 8 s"
    assert time.monotonic() - start < 8 + 30
    assert executed.cells[0].outputs[0]["text"] == "start\n"
    assert executed.cells[2].outputs == []


def _answer_cell(source, **metadata):
    return nbformat.v4.new_code_cell(source, metadata=metadata)


def test_answers_are_found_by_metadata_then_id_then_task_line():
    by_meta = _answer_cell("A", nbgrader={"grade_id": "l1_penalty"})
    by_id = _answer_cell("B")
    by_id.id = "bernoulli_kl"
    by_line = _answer_cell("# Task kl_sparsity\nC")  # e.g. an editor that dropped ids and metadata
    decoy = _answer_cell("# Task l1_penalty\nD")  # metadata wins over a copied task line
    nb = nbformat.v4.new_notebook(cells=[decoy, by_meta, by_id, by_line])
    found = grade.answers(nb, ["l1_penalty", "bernoulli_kl", "kl_sparsity", "predict_rate_shape"])
    assert found == {"l1_penalty": "A", "bernoulli_kl": "B", "kl_sparsity": "# Task kl_sparsity\nC"}


def test_discover_reads_files_and_folders_and_skips_hidden_ones(tmp_path):
    (tmp_path / "amy.ipynb").write_text("{}")
    (tmp_path / "ben").mkdir()
    (tmp_path / "ben" / ".ipynb_checkpoints").mkdir()
    (tmp_path / "ben" / ".ipynb_checkpoints" / "06_x-checkpoint.ipynb").write_text("{}")
    (tmp_path / "ben" / "06_variational_autoencoders.ipynb").write_text("{}")
    (tmp_path / "cat").mkdir()
    (tmp_path / ".hidden.ipynb").write_text("{}")
    found = [(s, p.name if p else None, problem) for s, p, problem in grade.discover(tmp_path)]
    assert found == [
        ("amy", "amy.ipynb", None),
        ("ben", "06_variational_autoencoders.ipynb", None),
        ("cat", "cat", "no notebook in the folder"),
    ]


def test_the_csv_may_not_be_written_into_the_submissions(tmp_path):
    with pytest.raises(SystemExit):
        grade.main([str(tmp_path), "--out", str(tmp_path / "grades.csv")])
    assert not (tmp_path / "grades.csv").exists()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{}", "could not read the notebook"),
        ('{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": 1}]}',
         "could not read the notebook"),
        (nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])),
         "not an exercise notebook of this course"),
    ],
)  # fmt: skip
def test_odd_notebooks_become_rows_with_a_reason(tmp_path, text, problem):
    path = tmp_path / "sam.ipynb"
    path.write_text(text)
    exercises = grade.load_exercises(ROOT / "exercises")
    row, merged = grade.prepare("sam", path, None, exercises, None)
    assert merged is None and row.problem.startswith(problem)


def test_a_deleted_answer_cell_keeps_the_stub_and_is_noted(tmp_path):
    solution = nbformat.read(ROOT / "solutions" / f"{LESSON}.ipynb", as_version=4)
    solution.cells = [c for c in solution.cells if c.id != "l1_penalty"]
    nbformat.write(solution, tmp_path / "tom.ipynb")
    exercises = grade.load_exercises(ROOT / "exercises")
    row, merged = grade.prepare("tom", tmp_path / "tom.ipynb", None, exercises, None)
    assert row.lesson == LESSON and row.notes == ["task l1_penalty: answer cell missing"]
    stub = merged.cells[exercises[LESSON].task_cell["l1_penalty"]].source
    assert "raise NotImplementedError()" in stub
    kl = merged.cells[exercises[LESSON].task_cell["kl_sparsity"]].source
    assert "BEGIN SOLUTION" in kl  # the student's (here: the solution's) answer was transplanted


# A kernel that exits at once the first FAILS time it is started, then is the real kernel.
FLAKY_KERNEL = """\
import os, sys
marker, fails = sys.argv[1], int(sys.argv[2])
count = len(open(marker).read()) if os.path.exists(marker) else 0
open(marker, "w").write("x" * (count + 1))
if count < fails:
    sys.exit(1)
os.execv(sys.argv[3], sys.argv[3:])
"""


def _run_job_with_flaky_kernel(tmp_path, monkeypatch, fails):
    real_spec = grading_runner._kernel_spec

    def flaky_spec(job_dir, cpu_seconds, memory_mb):
        kernels = real_spec(job_dir, cpu_seconds, memory_mb)
        spec_file = kernels / grading_runner.KERNEL_NAME / "kernel.json"
        spec = json.loads(spec_file.read_text())
        spec["argv"] = [
            sys.executable,
            "-c",
            FLAKY_KERNEL,
            str(job_dir / "starts"),
            str(fails),
        ] + spec["argv"]
        spec_file.write_text(json.dumps(spec))
        return kernels

    monkeypatch.setattr(grading_runner, "_kernel_spec", flaky_spec)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")])
    nbformat.write(nb, tmp_path / "notebook.ipynb")
    job = {"timeout_cell": 30, "timeout_notebook": 90, "cpu_seconds": 0, "memory_mb": 0, "env": {}}
    (tmp_path / "job.json").write_text(json.dumps(job))
    result = grading_runner.run_job(tmp_path)
    executed = nbformat.read(tmp_path / "executed.ipynb", as_version=4)
    return result, executed, len((tmp_path / "starts").read_text())


def test_a_kernel_that_dies_before_the_first_cell_is_started_again(tmp_path, monkeypatch, capsys):
    result, executed, starts = _run_job_with_flaky_kernel(tmp_path, monkeypatch, fails=1)
    assert starts == 2
    assert result["error"] is None
    assert executed.cells[0].outputs[0]["text"] == "42\n"
    assert "attempt 1 failed before any cell ran" in capsys.readouterr().out


def test_a_kernel_that_never_starts_is_reported_after_the_last_attempt(tmp_path, monkeypatch):
    result, executed, starts = _run_job_with_flaky_kernel(tmp_path, monkeypatch, fails=99)
    assert starts == grading_runner.STARTUP_ATTEMPTS
    assert result["error"].startswith("could not run the notebook")
    assert "kernel" in result["error"].lower()
    assert executed.cells[0].outputs == []


def test_a_kernel_that_dies_in_a_cell_is_not_started_again(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import os\nos._exit(1)")])
    result, _ = run_isolated(nb, timeout_cell=10, timeout_notebook=60, memory_mb=0)
    assert result["error"] == "the kernel died (a crash, or the memory or CPU limit)"
    assert "attempt 1 failed" not in result["log"]


# -------------------------------------------------------- tasks that call earlier tasks
def test_the_dependency_map_is_read_from_the_solutions():
    """Written out by hand from reading solutions/*.py: which answer calls which earlier task."""
    from course_admin.task_dependencies import load_solutions, task_dependencies

    derived = {
        lesson: {task: calls for task, calls in task_dependencies(nb).items() if calls}
        for lesson, nb in load_solutions(ROOT / "solutions").items()
    }
    assert derived == {
        "01_linear_autoencoder_and_pca": {},
        "02_stacked_autoencoders": {},
        "03_convolutional_autoencoders": {"predict_transpose_shape": ("conv_sizes",)},
        "04_denoising_autoencoders": {"denoising_loss": ("gaussian_noise",)},
        "05_sparse_autoencoders": {"kl_sparsity": ("bernoulli_kl",)},
        "06_variational_autoencoders": {"vae_loss": ("gaussian_kl",)},
        "07_beyond_the_vanilla_vae": {"cvae_forward": ("cvae_concat",)},
    }


def test_a_name_is_a_dependency_only_when_read_from_outside():
    from course_admin.task_dependencies import defined_and_read

    source = "%matplotlib inline\ndef f(q, size):\n    n = size + 1\n    return g(q) + n\nx = h(3)"
    assert defined_and_read(source) == ({"f", "x"}, {"g", "h"})  # q, size, n are local


def test_only_failed_tasks_that_call_a_failed_task_are_regraded():
    row = grade.Row("sam", LESSON)
    row.status = {"bernoulli_kl": "wrong", "kl_sparsity": "wrong", "l1_penalty": "wrong"}
    depends = {"kl_sparsity": ("bernoulli_kl",)}
    assert grade.to_regrade(row, depends) == {"kl_sparsity": ("bernoulli_kl",)}
    row.status["bernoulli_kl"] = "passed"  # its own fault: no second run
    assert grade.to_regrade(row, depends) == {}
    row.status = {"bernoulli_kl": "not attempted", "kl_sparsity": "passed"}
    assert grade.to_regrade(row, depends) == {}  # passed anyway
    row.status = {"kl_sparsity": "not attempted"}  # bernoulli_kl's answer cell deleted
    row.missing = {"bernoulli_kl"}
    assert grade.to_regrade(row, depends) == {"kl_sparsity": ("bernoulli_kl",)}


def test_answer_cells_of_no_task_are_named(tmp_path):
    old = {"nbgrader": {"solution": True, "grade_id": "old_task"}}
    cells = [nbformat.v4.new_code_cell("# Task kl_penalty\nx = 1"),
             nbformat.v4.new_code_cell("# Task l1_penalty\ny = 2"),
             nbformat.v4.new_code_cell("z = 3", metadata=old)]  # fmt: skip
    nb = nbformat.v4.new_notebook(cells=cells)
    assert grade.unknown_tasks(nb, ["l1_penalty", "bernoulli_kl"]) == ["kl_penalty", "old_task"]


def test_without_lesson_a_failed_file_keeps_the_class_exercise_name(tmp_path):
    exercises = grade.load_exercises(ROOT / "exercises")
    (tmp_path / "amy").mkdir()
    (tmp_path / "amy" / "notes.ipynb").write_text("")
    row, merged = grade.prepare("amy", tmp_path / "amy" / "notes.ipynb", None, exercises, LESSON,
                                tmp_path)  # fmt: skip
    assert merged is None and (row.notebook, row.file) == (LESSON, "amy/notes.ipynb")
    assert row.problem == "empty notebook (the file is empty)"
