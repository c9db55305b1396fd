"""The repository keeps its promises: one URL, agreeing dependency lists, the README's commands,
notebooks paired with jupytext and committed without outputs, lint-clean code."""

import ast
import re
import subprocess
import sys

import jupytext
import nbformat
import pytest
import tomllib
import yaml
from helpers import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
REPO_URL = PYPROJECT["project"]["urls"]["Repository"]
README = (ROOT / "README.md").read_text()
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
ALL_NOTEBOOKS = sorted(
    p for d in ("notebooks", "solutions", "exercises") for p in (ROOT / d).glob("*.ipynb")
)


def _quick_start_commands() -> list[str]:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    return [ln for b in blocks for ln in b.splitlines() if ln.strip() and not ln.startswith("#")]


STUDENT_RUNTIME = {"torch", "torchvision", "numpy", "matplotlib", "ipywidgets", "jupyterlab",
                   "scikit-learn", "tqdm", "pyyaml"}  # fmt: skip
ADMIN_EXTRA = {"nbformat", "nbclient", "ipykernel", "psutil", "babel"}
# import name -> the distribution that provides it (IPython comes with ipywidgets and jupyterlab)
DISTRIBUTION = {"sklearn": "scikit-learn", "yaml": "pyyaml", "IPython": "ipywidgets",
                "jupyter_client": "nbclient", "zmq": "nbclient"}  # fmt: skip


def _names(requirements: list[str]) -> set[str]:
    """Distribution names of requirement strings: "ipykernel>=6.25,<7" -> "ipykernel"."""
    return {re.match(r"[A-Za-z0-9_.-]+", r)[0].lower() for r in requirements}


def test_environment_yml_mirrors_pyproject():
    extras = PYPROJECT["project"]["optional-dependencies"]
    declared = set(PYPROJECT["project"]["dependencies"]) | set(extras["admin"])
    declared |= set(extras["test"]) - {"autoencoders-course[admin]"}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "python=3.11" in env["dependencies"]
    assert set(pip_section) - {"-e ."} == declared


def test_students_install_only_the_runtime_and_the_tools_are_an_extra():
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert _names(PYPROJECT["project"]["dependencies"]) == STUDENT_RUNTIME
    assert _names(extras["admin"]) == ADMIN_EXTRA
    assert "autoencoders-course[admin]" in extras["test"]  # the tests need the admin tools
    packages = PYPROJECT["tool"]["setuptools"]["packages"]
    on_disk = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for pkg in ("course_utils", "course_admin")
        for p in (ROOT / pkg).rglob("__init__.py")
    }
    assert on_disk <= set(packages), f"declare these packages: {sorted(on_disk - set(packages))}"


def _third_party_imports(package: str) -> set[str]:
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"course_utils", "course_admin"}


@pytest.mark.parametrize(
    ("package", "allowed"),
    [("course_utils", STUDENT_RUNTIME), ("course_admin", STUDENT_RUNTIME | ADMIN_EXTRA)],
)
def test_every_import_is_a_declared_dependency(package, allowed):
    """`pip install -e .` (no extras) is enough for course_utils; course_admin needs [admin]."""
    needed = {DISTRIBUTION.get(m, m).lower() for m in _third_party_imports(package)}
    assert needed <= allowed, f"{package} imports {sorted(needed - allowed)}, not declared"


def _code_lines(path) -> list[str]:
    cells = nbformat.read(path, as_version=4).cells
    return [ln for c in cells if c.cell_type == "code" for ln in c.source.splitlines()]


@pytest.mark.parametrize(
    "path",
    [p for p in ALL_NOTEBOOKS if p.parent.name != "solutions"]
    + sorted((ROOT / "solutions").glob("*.ipynb")),
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_lessons_and_exercises_need_no_admin_tool(path):
    """What students run imports nothing that `pip install -e .` (no extras) leaves out."""
    pattern = re.compile(r"^\s*(from|import)\s+(course_admin|nbformat|nbclient|psutil|ipykernel)\b")
    bad = [ln.strip() for ln in _code_lines(path) if pattern.match(ln)]
    assert not bad, f"{path.name} imports an admin-only package: {bad}"


def test_ipywidgets_supports_colab_and_torch_is_not_pinned():
    deps = PYPROJECT["project"]["dependencies"]
    assert "ipywidgets>=7.7" in deps
    assert not any(re.match(r"(torch|ipywidgets)\s*==", d) for d in deps)


def test_readme_quick_start_is_two_commands_and_ci_runs_the_test_one():
    commands = _quick_start_commands()
    assert len(commands) == 2, commands
    install_and_open, install_and_test = commands
    assert "jupyter lab" in install_and_open and "pip install" in install_and_open
    assert "pytest" in install_and_test and ".[test]" in install_and_test
    assert install_and_test in (ROOT / ".ci" / "run").read_text()


def test_colab_badges_use_the_one_repository_url():
    github = REPO_URL.removeprefix("https://github.com/")
    badge_targets = re.findall(r"https://colab\.research\.google\.com/github/([^)\s]+)", README)
    assert badge_targets, "the README has no Colab badges"
    expected = {f"{github}/blob/main/notebooks/{nb.name}" for nb in NOTEBOOKS}
    assert set(badge_targets) == expected  # one badge per existing lesson, none dangling


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_starts_with_badge_and_colab_setup(path):
    nb = nbformat.read(path, as_version=4)
    first_md = next(c for c in nb.cells if c.cell_type == "markdown").source
    github = REPO_URL.removeprefix("https://github.com/")
    assert f"colab.research.google.com/github/{github}/blob/main/notebooks/{path.name}" in first_md
    setup = next(c for c in nb.cells if c.cell_type == "code").source
    assert '"google.colab" in sys.modules' in setup
    assert f'%pip install -q --no-deps "autoencoders-course @ git+{REPO_URL}"' in setup
    assert "-e " not in setup and "torch" not in setup.split("%pip", 1)[1].replace(
        "autoencoders", ""
    )
    assert nb.metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_jupytext_pair_is_in_sync(path):
    twin = path.with_suffix(".py")
    assert twin.exists(), f"{path.name} has no jupytext twin {twin.name}: run jupytext --sync"
    a, b = jupytext.read(path), jupytext.read(twin)
    cells = lambda nb: [(c.cell_type, c.source.strip()) for c in nb.cells]  # noqa: E731
    assert cells(a) == cells(b), f"{path.name} and {twin.name} differ: run jupytext --sync"
    assert a.metadata.get("jupytext", {}).get("formats") == "ipynb,py:percent"


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    dirty = [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and (c.outputs or c.execution_count)
    ]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs; strip them before committing"


def test_widget_cells_are_ignored_by_nbval():
    for path in NOTEBOOKS:
        for cell in nbformat.read(path, as_version=4).cells:
            shows_widget = cell.cell_type == "code" and re.search(
                r"^(FigureView\(|\w+_slider\(|\w+_view\()", cell.source, flags=re.M
            )
            if shows_widget:
                assert "nbval-ignore-output" in cell.metadata.get("tags", []), (
                    f"{path.name}: a widget cell lacks the nbval-ignore-output tag"
                )


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=" ".join)
def test_ruff_is_clean(command):
    """``ruff check`` (lint) and ``ruff format --check`` (layout) both pass on the repository."""
    result = subprocess.run(
        [sys.executable, "-m", "ruff", *command, str(ROOT)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
