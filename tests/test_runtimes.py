"""course_admin.runtimes: the README table as a pure function, and a tiny notebook run for real."""

import nbformat
import pytest

from course_admin.runtimes import Run, execute_notebook, format_table, lessons, main, select


def test_format_table_columns_slowest_run_and_totals():
    runs = [
        Run("01_pca", "full", 60.0, 900),
        Run("01_pca", "full", 90.0, 1000),
        Run("01_pca", "fast", 8.0, 500),
        Run("02_x", "full", 30.0, 2048),
    ]
    table = format_table(runs, {"01": "linear AEs", "02": "dense AEs"})
    lines = table.splitlines()
    assert lines[0] == (
        "| lesson | what it trains | minutes on a 2-core CPU | fast-mode seconds | peak memory |"
    )
    assert lines[2] == "| 01_pca | linear AEs | 1.5 | 8 | 1.0 GB |"  # the slowest of the runs
    assert lines[3] == "| 02_x | dense AEs | 0.5 | - | 2.0 GB |"  # fast mode not run
    assert lines[4] == "| **all** | | **2.0** | **8** | |"


def test_a_lab_notebook_has_its_own_row_and_description():
    runs = [Run("02_x", "full", 60.0, 900), Run("02_x_lab", "full", 120.0, 900)]
    lines = format_table(runs, {"02": "dense AEs", "02 lab": "appendix runs"}).splitlines()
    assert lines[2] == "| 02_x | dense AEs | 1.0 | - | 0.9 GB |"
    assert lines[3] == "| 02_x_lab | appendix runs | 2.0 | - | 0.9 GB |"
    assert lines[4] == "| **all** | | **3.0** | - | |"


def test_format_table_marks_failures():
    table = format_table([Run("03_c", "fast", 60.0, 100, error="CellTimeoutError: ...")], {})
    assert "| 03_c |  | - | failed | 0.1 GB |" in table
    assert table.splitlines()[-1] == "| **all** | | - | - | |"


def test_lessons_are_found_in_order():
    names = [p.name[:2] for p in lessons()]
    assert names == sorted(names) and names[0] == "00"


def test_a_tiny_notebook_runs_and_a_hang_becomes_an_error(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import os\nx = [0] * 10**6\nprint(os.environ['COURSE_FAST'])")
    ]
    path = tmp_path / "99_tiny.ipynb"
    nbformat.write(nb, path)
    run = execute_notebook(path, "fast", save_to=tmp_path / "executed")
    assert run.error == "" and run.seconds > 0 and run.peak_mb > 10
    saved = nbformat.read(tmp_path / "executed" / "99_tiny.fast.ipynb", as_version=4)
    assert saved.cells[0].outputs[0]["text"].strip() == "1"  # the outputs of the run, fast mode
    assert not list((tmp_path / "executed").glob(".*.part"))  # no temporary file left
    nb.cells.append(nbformat.v4.new_code_cell("import time\ntime.sleep(30)"))
    nbformat.write(nb, path)
    hung = execute_notebook(path, "fast", cell_timeout=2)
    assert "CellTimeoutError" in hung.error and hung.seconds < 20


def test_only_selects_a_lesson_with_its_lab_or_the_lab_alone(tmp_path):
    names = ["01_linear.ipynb", "02_stacked.ipynb", "02_stacked_lab.ipynb", "03_conv.ipynb"]
    paths = [tmp_path / n for n in names]

    def stems(chosen):
        return [p.stem for p in chosen]

    assert stems(select(paths, ["02"])) == ["02_stacked", "02_stacked_lab"]
    assert stems(select(paths, ["02_lab"])) == ["02_stacked_lab"]
    assert stems(select(paths, ["02 lab", "01"])) == ["01_linear", "02_stacked_lab"]
    assert stems(select(paths, ["02_stacked.ipynb"])) == ["02_stacked"]
    assert stems(select(paths, ["03_conv"])) == ["03_conv"]
    assert select(paths, None) == paths and select(paths, []) == paths


def test_only_that_matches_nothing_is_a_clear_error(tmp_path):
    paths = [tmp_path / "02_stacked.ipynb", tmp_path / "02_stacked_lab.ipynb"]
    for bad in (["09"], ["2"], ["01_lab"], ["02_stacked_autoencoders.ipynb"]):
        with pytest.raises(ValueError, match="matches no notebook.*there are: 02, 02 lab"):
            select(paths, bad)


def test_cli_refuses_an_unknown_only_without_writing_out(tmp_path, capsys):
    out = tmp_path / "table.md"
    with pytest.raises(SystemExit) as stop:
        main(["--only", "99", "--out", str(out)])
    assert stop.value.code == 2
    assert "--only 99 matches no notebook" in capsys.readouterr().err
    assert not out.exists()
