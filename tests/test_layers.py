"""The two packages' layers, read from their imports with ast (nothing is executed).

``course_utils`` (what students install): infrastructure modules never import a lesson module; a
lesson module never imports a later lesson's module; nothing imports in a circle; it never
imports ``course_admin`` nor the admin tools' libraries. ``course_admin`` (instructors and
maintainers) may import anything of ``course_utils``. Both packages: the module table in each
``__init__`` lists exactly the files, one idea per module (a module over 400 lines says in its
docstring why it is one idea), and importing the student package does not load torch.
"""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "course_utils"
ADMIN = ROOT / "course_admin"
INFRASTRUCTURE = {"settings", "deprecation", "moved", "course", "inputs", "data_sources", "data",
                  "losses", "train", "plots", "widgets", "quiz", "schedules",
                  "recorders"}  # fmt: skip
LESSON = {
    "pca": 1, "models": 1, "toy_manifolds": 1, "anomaly": 2, "verdicts": 2, "class_info": 2,
    "code_plane": 2, "conv": 3,
    "conv_probes": 3, "conv_filters": 3, "rate_search": 3,
    "corruption": 4, "denoising": 4, "sparse": 5, "contractive": 5, "vae": 6, "elbo": 6,
    "vae_views": 6, "beta_vae": 7, "cvae": 7, "gumbel": 7, "curves": 7, "code_probes": 7,
    "vqvae": 7,
}  # fmt: skip
EXERCISES = {"exercise_checks"}  # imports anything, imported by nothing
# old name -> what it may import
OLD_NAMES = {"checks": {"inputs"}, "grade": {"moved"}, "bench": {"moved"},
             "make_exercises": {"moved"}, "runtimes": {"moved"}}  # fmt: skip
# Deprecated aliases that reach up a layer, for one release: (module, the module it imports).
ALIAS_EDGES = {("data", "toy_manifolds")}  # data.toy_cloud -> toy_manifolds.toy_cloud
ADMIN_ONLY_LIBRARIES = {"course_admin", "nbformat", "nbclient", "jupyter_client", "ipykernel",
                        "psutil"}  # fmt: skip
MAX_LINES = 400


def _modules(package: Path) -> dict[str, list[Path]]:
    """Top-level module name -> files (a subpackage counts as one module)."""
    found: dict[str, list[Path]] = {}
    for path in package.rglob("*.py"):
        rel = path.relative_to(package)
        if rel.name == "__init__.py" and len(rel.parts) == 1:
            continue
        found.setdefault(rel.parts[0].removesuffix(".py"), []).append(path)
    return found


def _all_imports(paths: list[Path]) -> set[str]:
    """Every module these files import (full dotted names), at the top or inside functions."""
    names = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
                names |= {f"{node.module}.{alias.name}" for alias in node.names}
            elif isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
    return names


def _course_imports(paths: list[Path], package: str = "course_utils") -> set[str]:
    """The top-level modules of ``package`` these files import."""
    return {n.split(".")[1] for n in _all_imports(paths) if n.startswith(f"{package}.")}


GRAPH = {name: _course_imports(paths) - {name} for name, paths in _modules(PACKAGE).items()}


def test_every_module_has_a_layer():
    unknown = set(GRAPH) - INFRASTRUCTURE - set(LESSON) - EXERCISES - set(OLD_NAMES)
    assert not unknown, f"Give these modules a layer in tests/test_layers.py: {sorted(unknown)}"


@pytest.mark.parametrize("name", sorted(GRAPH))
def test_imports_point_down_the_layers(name):
    for dep in GRAPH[name]:
        if (name, dep) in ALIAS_EDGES:
            continue
        assert dep not in EXERCISES, f"{name} imports {dep}, which only exercise notebooks import"
        if name in OLD_NAMES:
            assert dep in OLD_NAMES[name], f"the old name {name} imports {dep}: keep it tiny"
        elif name in INFRASTRUCTURE:
            assert dep in INFRASTRUCTURE, f"infrastructure module {name} imports lesson {dep}"
        elif name in LESSON:
            assert dep not in OLD_NAMES, f"lesson module {name} imports the old name {dep}"
            if dep in LESSON:
                assert LESSON[dep] <= LESSON[name], (
                    f"{name} (lesson {LESSON[name]:02d}) imports {dep}, a later lesson's module "
                    f"(lesson {LESSON[dep]:02d})"
                )


def test_no_import_cycles():
    def visit(node, path):
        for dep in GRAPH.get(node, ()):
            if (node, dep) in ALIAS_EDGES:
                continue
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
    monkeypatch.setitem(GRAPH, "grade", {"exercise_checks"})
    with pytest.raises(AssertionError, match="exercise notebooks"):
        test_imports_point_down_the_layers("grade")


# ----------------------------------------------------------------- the two packages
def _forbidden_in_student_package(paths: list[Path]) -> set[str]:
    return {n for n in _all_imports(paths) if n.split(".")[0] in ADMIN_ONLY_LIBRARIES}


@pytest.mark.parametrize("name", sorted(GRAPH))
def test_course_utils_never_imports_course_admin_nor_its_libraries(name):
    bad = _forbidden_in_student_package(_modules(PACKAGE)[name])
    assert not bad, f"course_utils.{name} imports {sorted(bad)}: that belongs in course_admin"


def test_the_student_package_check_can_fail(tmp_path):
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("def f():\n    from course_admin.grade import main\n    import nbformat\n")
    assert _forbidden_in_student_package([sneaky]) == {
        "course_admin.grade", "course_admin.grade.main", "nbformat"
    }  # fmt: skip


def test_course_admin_imports_only_what_exists():
    """course_admin may import any course_utils module, but only ones that exist (after renames)."""
    utils, admin = set(_modules(PACKAGE)), set(_modules(ADMIN))
    for name, paths in _modules(ADMIN).items():
        assert _course_imports(paths) <= utils - set(OLD_NAMES), f"course_admin.{name}"
        assert _course_imports(paths, "course_admin") <= admin, f"course_admin.{name}"


@pytest.mark.parametrize(
    "code",
    [
        "import course_utils",
        "import course_utils.quiz",
        "import course_utils.settings",
        "import course_admin, course_admin.quiz.cli, course_admin.grading_runner",
    ],
)
def test_importing_does_not_load_torch(code):
    script = f"{code}\nimport sys\nassert 'torch' not in sys.modules, 'torch was imported'"
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr


def test_setup_course_is_still_one_attribute_away():
    import course_utils

    assert course_utils.setup_course.__module__ == "course_utils.course"
    assert course_utils.Course.__name__ == "Course"
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        course_utils.nope  # noqa: B018


# ----------------------------------------------------------------- the module tables
def _table_names(init: Path) -> list[str]:
    """The module names in the first column of the reST table in ``init``'s docstring."""
    doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
    borders = [i for i, line in enumerate(doc.splitlines()) if re.fullmatch(r"=+( +=+)+", line)]
    table = doc.splitlines()[borders[0] : borders[-1]] if borders else []
    return [m[1] for line in table if (m := re.match(r"``(\w+)``\s", line))]


def _files(package: Path) -> list[str]:
    """Modules and subpackages of ``package`` (not its __init__)."""
    return sorted(
        p.stem if p.is_file() else p.name
        for p in package.iterdir()
        if (p.suffix == ".py" and p.name != "__init__.py") or (p / "__init__.py").is_file()
    )


@pytest.mark.parametrize(
    "package",
    [PACKAGE, PACKAGE / "quiz", ADMIN, ADMIN / "quiz"],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_the_module_table_lists_exactly_the_files(package):
    listed = _table_names(package / "__init__.py")
    assert len(listed) == len(set(listed)), f"{package.name}: a module is listed twice"
    missing, extra = set(_files(package)) - set(listed), set(listed) - set(_files(package))
    assert not missing and not extra, (
        f"the table in {package.relative_to(ROOT)}/__init__.py misses {sorted(missing)} and "
        f"lists {sorted(extra)}, which are not files"
    )


def test_the_table_check_can_fail(tmp_path):
    table = "=== ===\n``a`` first\n``gone`` removed\n=== ===\n\n``b`` is only mentioned"
    (tmp_path / "__init__.py").write_text(f'"""T.\n\n{table}\n"""\n')
    (tmp_path / "a.py").write_text("")
    (tmp_path / "b.py").write_text("")
    assert _table_names(tmp_path / "__init__.py") == ["a", "gone"] and _files(tmp_path) == [
        "a", "b"
    ]  # fmt: skip


def test_old_names_are_listed_as_moved_or_deprecated():
    doc = ast.get_docstring(ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8")))
    for name in OLD_NAMES:
        row = next(line for line in doc.splitlines() if line.startswith(f"``{name}``"))
        assert "moved:" in row or "deprecated" in row, row


# ---------------------------------------------------------------------- one idea per module
def _too_long_without_a_reason(path: Path) -> str | None:
    text = path.read_text(encoding="utf-8")
    n = len(text.splitlines())
    doc = ast.get_docstring(ast.parse(text)) or ""
    if n > MAX_LINES and not re.search(r"(^|[.:]\s+)One idea:", doc):
        return (
            f"{path.name} has {n} lines (over {MAX_LINES}): split it by idea, or say in its "
            "docstring, in a sentence starting 'One idea:', why it is one idea"
        )
    return None


@pytest.mark.parametrize(
    "path",
    sorted([*PACKAGE.rglob("*.py"), *ADMIN.rglob("*.py")]),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_a_long_module_says_why_it_is_one_idea(path):
    problem = _too_long_without_a_reason(path)
    assert problem is None, problem


def test_the_length_rule_can_fail(tmp_path):
    long = "\n".join(["x = 1"] * (MAX_LINES + 1))
    (tmp_path / "a.py").write_text(f'"""Many things."""\n{long}\n')
    (tmp_path / "b.py").write_text(f'"""Messages. One idea: a catalogue."""\n{long}\n')
    (tmp_path / "c.py").write_text(f'"""Short."""\n{long[:120]}\n')
    assert "a.py has 402 lines" in _too_long_without_a_reason(tmp_path / "a.py")
    assert _too_long_without_a_reason(tmp_path / "b.py") is None
    assert _too_long_without_a_reason(tmp_path / "c.py") is None
