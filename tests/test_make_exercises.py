"""exercises/ is exactly what the generator makes from solutions/, and the generator is right."""

import shutil

import jupytext
import nbformat
import pytest
from helpers import ROOT

from course_admin import make_exercises as mk

SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))


def test_committed_exercises_are_exactly_what_the_generator_makes(tmp_path):
    assert mk.main(["--exercises", str(tmp_path)]) == 0
    generated = sorted(p.name for p in tmp_path.glob("*.ipynb"))
    committed = sorted(p.name for p in (ROOT / "exercises").glob("*.ipynb"))
    assert generated == committed == [p.name for p in SOLUTIONS]
    for name in generated:
        assert (tmp_path / name).read_text() == (ROOT / "exercises" / name).read_text(), (
            f"exercises/{name} is out of date: run python -m course_admin.make_exercises"
        )
    assert mk.main(["--check"]) == 0


def test_check_mode_fails_on_any_difference(tmp_path, capsys):
    shutil.copytree(ROOT / "exercises", tmp_path, dirs_exist_ok=True)
    target = tmp_path / SOLUTIONS[0].name
    target.write_text(target.read_text().replace("YOUR CODE HERE", "my answer", 1))
    (tmp_path / "99_extra.ipynb").write_text(target.read_text())
    assert mk.main(["--check", "--exercises", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"{SOLUTIONS[0].name} is missing or differs" in err and "99_extra.ipynb has no" in err


def test_stub_keeps_the_indentation_and_everything_outside_the_blocks():
    source = "\n".join([
        "# Task t", "def f(x):", '    """doc"""', "    # BEGIN SOLUTION", "    y = x + 1",
        "    return y", "    # END SOLUTION", "", "", "def g():", "    # BEGIN SOLUTION",
        "    return 2", "    # END SOLUTION", "# BEGIN SOLUTION", "z = 3", "# END SOLUTION",
    ])  # fmt: skip
    assert mk.stub_source(source).split("\n") == [
        "# Task t", "def f(x):", '    """doc"""', "    # YOUR CODE HERE",
        "    raise NotImplementedError()", "", "", "def g():", "    # YOUR CODE HERE",
        "    raise NotImplementedError()", "# YOUR CODE HERE", "raise NotImplementedError()",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("# BEGIN SOLUTION\nx = 1", "without # END SOLUTION"),
        ("x = 1\n# END SOLUTION", "without # BEGIN SOLUTION"),
        ("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION", "inside another block"),
    ],
)
def test_malformed_blocks_are_named(source, problem):
    with pytest.raises(mk.ExerciseError, match=problem):
        mk.stub_source(source, "nb, cell 3")


def _cell(source, grade_id, check=False):
    meta = {"grade": check, "solution": not check, "grade_id": grade_id, "schema_version": 3}
    if check:
        meta["points"] = 1
    return nbformat.v4.new_code_cell(source, metadata={"nbgrader": meta})


@pytest.mark.parametrize(
    ("cells", "problem"),
    [
        ([_cell("x = 1\n# BEGIN SOLUTION\n# END SOLUTION", "t"), _cell("c", "check_t", True)],
         "first line must be '# Task t'"),
        ([_cell("# Task t\nx = 1", "t"), _cell("c", "check_t", True)], "without a # BEGIN"),
        ([_cell("# Task t\n# BEGIN SOLUTION\n# END SOLUTION", "t")], "no check cell 'check_t'"),
    ],
)  # fmt: skip
def test_solution_format_problems_are_reported(cells, problem):
    with pytest.raises(mk.ExerciseError, match=problem):
        mk.make_exercise(nbformat.v4.new_notebook(cells=cells), "x.ipynb")


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_exercise_keeps_all_but_the_answers(path):
    solution = nbformat.read(path, as_version=4)
    exercise = nbformat.read(ROOT / "exercises" / path.name, as_version=4)
    assert len(exercise.cells) == len(solution.cells)
    assert "jupytext" not in exercise.metadata
    assert exercise.metadata["kernelspec"]["name"] == "python3"
    badge = f"blob/main/exercises/{path.name}"
    title = exercise.cells[0].source
    assert badge in title and "blob/main/solutions" not in title
    for sol, ex in zip(solution.cells, exercise.cells, strict=True):
        assert ex.metadata == sol.metadata
        assert "BEGIN SOLUTION" not in ex.source
        if sol.metadata.get("nbgrader", {}).get("solution"):
            assert ex.id == sol.id == sol.metadata["nbgrader"]["grade_id"]
            assert "raise NotImplementedError()" in ex.source
            assert ex.source.split("\n")[0] == sol.source.split("\n")[0]  # the '# Task' line
        elif sol.cell_type == "code" and sol is not solution.cells[0]:
            assert ex.source == sol.source
        if sol.metadata.get("nbgrader", {}).get("grade"):
            assert ex.id == sol.id == sol.metadata["nbgrader"]["grade_id"]
            assert ex.metadata["nbgrader"]["locked"] is True


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_solution_has_its_jupytext_twin_and_the_course_setup_cell(path):
    twin = path.with_suffix(".py")
    cells = lambda nb: [(c.cell_type, c.source.strip()) for c in nb.cells]  # noqa: E731
    assert cells(jupytext.read(path)) == cells(jupytext.read(twin)), "run jupytext --sync"
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata["jupytext"]["formats"] == "ipynb,py:percent"
    setup = next(c for c in nb.cells if c.cell_type == "code").source
    assert '"google.colab" in sys.modules' in setup and "%pip install -q --no-deps" in setup
