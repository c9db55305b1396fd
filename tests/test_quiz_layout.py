"""The quiz package stays small and layered: short modules, imports in one direction only,
no ipywidgets unless a widget is shown, the public names the notebooks use."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import course_utils.quiz

PACKAGE = Path(course_utils.quiz.__file__).parent
MODULES = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem not in ("__init__", "__main__"))
# Each module may import only modules of lower layers.
LAYERS = [
    {"bank"},
    {"validate", "grading", "order"},
    {"files"},
    {"text"},
    {"widget"},
    {"show"},  # imports the widget only when a kernel can show it
]
OUTSIDE = {"course_utils.settings"}  # the one course module the quiz reads (environment variables)


def quiz_imports(module: str) -> set[str]:
    """The course_utils modules that ``module`` imports, at the top or inside functions; the
    quiz's own ones by their short name ("bank"), any other by its full name."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "course_utils":
            found |= {f"course_utils.{a.name}" for a in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("course_"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("course_")}
    return {name.removeprefix("course_utils.quiz.") for name in found}


def test_the_old_flat_modules_are_gone():
    root = PACKAGE.parent
    assert not any((root / name).exists() for name in ("quiz.py", "quiz_bank.py", "quiz_widget.py"))


def test_every_module_is_short():
    for path in PACKAGE.glob("*.py"):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        assert lines < 250, f"{path.name}: {lines} lines; split it"


def test_imports_go_one_way():
    layer = {m: i for i, names in enumerate(LAYERS) for m in names}
    assert sorted(layer) == MODULES, "put every module in a layer"
    for module in MODULES:
        for other in quiz_imports(module) - OUTSIDE:
            assert other in layer, f"{module} imports {other}, outside the quiz package"
            assert layer[other] < layer[module], f"{module} (layer {layer[module]}) imports {other}"


def test_importing_the_quiz_does_not_import_ipywidgets():
    code = (
        "import sys, course_utils.quiz, course_admin.quiz.cli; "
        "assert 'ipywidgets' not in sys.modules, 'ipywidgets imported'"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def test_the_public_entry_points():
    from course_utils.quiz import check_answers, grade, load_bank, show_quiz

    assert all(callable(f) for f in (check_answers, grade, load_bank, show_quiz))
    assert set(course_utils.quiz.__all__) <= set(dir(course_utils.quiz))
