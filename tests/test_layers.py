"""The package's layers, read from its imports with ast (nothing is executed).

Infrastructure modules never import a lesson module; a lesson module never imports a later
lesson's module; nothing imports in a circle; every module stays readable in one sitting.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "course_utils"
INFRASTRUCTURE = {"course", "checks", "data_sources", "data", "losses", "train", "plots",
                  "widgets", "quiz", "schedules"}  # fmt: skip
LESSON = {
    "pca": 1, "models": 1, "toy_manifolds": 1, "anomaly": 2, "conv": 3, "corruption": 4,
    "denoising": 4, "sparse": 5, "vae": 6, "elbo": 6, "vae_views": 6, "beta_vae": 7, "cvae": 7,
    "gumbel": 7,
}  # fmt: skip
TOOLS = {
    "exercise_checks", "grade", "make_exercises", "bench", "bench_recipes", "runtimes",
    "grading_runner",
}  # fmt: skip
MAX_LINES = 330


def _modules() -> dict[str, Path]:
    """Top-level module name -> files (a subpackage counts as one module)."""
    found: dict[str, list[Path]] = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE)
        if rel.name == "__init__.py" and len(rel.parts) == 1:
            continue
        found.setdefault(rel.parts[0].removesuffix(".py"), []).append(path)
    return found


def _imports(paths: list[Path]) -> set[str]:
    """The course_utils top-level modules these files import."""
    names = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                parts = node.module.split(".")
                if parts[0] == "course_utils" and len(parts) > 1:
                    names.add(parts[1])
                elif parts[0] == "course_utils":
                    names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    parts = alias.name.split(".")
                    if parts[0] == "course_utils" and len(parts) > 1:
                        names.add(parts[1])
    return names


GRAPH = {name: _imports(paths) - {name} for name, paths in _modules().items()}


def test_every_module_has_a_layer():
    unknown = set(GRAPH) - INFRASTRUCTURE - set(LESSON) - TOOLS
    assert not unknown, f"Give these modules a layer in tests/test_layers.py: {sorted(unknown)}"


@pytest.mark.parametrize("name", sorted(GRAPH))
def test_imports_point_down_the_layers(name):
    for dep in GRAPH[name]:
        if name in INFRASTRUCTURE:
            assert dep in INFRASTRUCTURE, f"infrastructure module {name} imports lesson {dep}"
        elif name in LESSON:
            assert dep not in TOOLS, f"lesson module {name} imports the tool {dep}"
            if dep in LESSON:
                assert LESSON[dep] <= LESSON[name], (
                    f"{name} (lesson {LESSON[name]:02d}) imports {dep}, a later lesson's module "
                    f"(lesson {LESSON[dep]:02d})"
                )


def test_no_import_cycles():
    def visit(node, path):
        for dep in GRAPH.get(node, ()):
            assert dep not in path, f"import cycle: {' -> '.join([*path, dep])}"
            visit(dep, [*path, dep])

    for start in GRAPH:
        visit(start, [start])


def test_a_cycle_and_a_backward_import_would_be_caught(monkeypatch):
    """The checks above can fail: feed them a graph with a cycle and a backward import."""
    monkeypatch.setitem(GRAPH, "losses", {"train"})
    monkeypatch.setitem(GRAPH, "train", {"losses"})
    with pytest.raises(AssertionError, match="import cycle"):
        test_no_import_cycles()
    monkeypatch.setitem(GRAPH, "vae", {"gumbel"})
    with pytest.raises(AssertionError, match="later lesson"):
        test_imports_point_down_the_layers("vae")


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: p.name)
def test_each_module_is_readable_in_one_sitting(path):
    n = len(path.read_text(encoding="utf-8").splitlines())
    assert n <= MAX_LINES, f"{path.relative_to(PACKAGE)} has {n} lines; split it (limit ~300)"
