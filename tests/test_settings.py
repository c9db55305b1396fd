"""course_utils.settings: one flag parser, one language resolver, every COURSE_* variable.

The expected values are written out by hand (never computed with the parser under test).
"""

from __future__ import annotations

import ast
import re
import warnings
from pathlib import Path

import pytest
from helpers import ROOT

from course_utils import settings

ON = ["1", "true", "yes", "on", "y", "TRUE", "Yes", " on ", "Y", "\ttrue\n"]
OFF = ["0", "false", "no", "off", "n", "", "   ", "FALSE", " No", "OFF", "N"]
UNKNOWN = ["2", "-1", "enabled", "tru", "yes please", "1.0"]
FLAGS = {
    "COURSE_FAST": settings.fast_mode,
    "COURSE_OFFLINE": settings.offline,
    "COURSE_NO_SYSTEM_DATA": settings.no_system_data,
    "COURSE_CHECKS_STRICT": settings.checks_strict,
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in [*settings.VARIABLES, "NBGRADER_EXECUTION"]:
        monkeypatch.delenv(name, raising=False)


# ------------------------------------------------------------------------- the flag parser
@pytest.mark.parametrize("raw", ON)
def test_every_on_spelling(raw):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a known spelling never warns
        assert settings.parse_flag("COURSE_FAST", raw) is True
        assert settings.parse_flag("COURSE_FAST", raw, default=True) is True


@pytest.mark.parametrize("raw", OFF)
def test_every_off_spelling(raw):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert settings.parse_flag("COURSE_FAST", raw) is False
        assert settings.parse_flag("COURSE_FAST", raw, default=True) is False


def test_unset_gives_the_default():
    assert settings.parse_flag("COURSE_FAST", None) is False
    assert settings.parse_flag("COURSE_FAST", None, default=True) is True


@pytest.mark.parametrize("raw", UNKNOWN)
def test_an_unknown_value_warns_and_gives_the_default(raw):
    with pytest.warns(UserWarning) as seen:
        assert settings.parse_flag("COURSE_FAST", raw) is False
    with pytest.warns(UserWarning):
        assert settings.parse_flag("COURSE_FAST", raw, default=True) is True
    assert len(seen) == 1
    message = str(seen[0].message)
    start = f"COURSE_FAST={raw!r} is not an on/off value; using the default (off)."
    assert message.startswith(start)
    assert message.endswith("Accepted: 1, true, yes, on, y (on) or 0, false, no, off, n or empty "
                            "(off), any case.")  # fmt: skip


def test_the_warning_comes_once_per_process_not_once_per_call(monkeypatch):
    monkeypatch.setenv("COURSE_FAST", "2")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("default")  # Python's own rule outside pytest
        for _ in range(5):
            assert settings.fast_mode() is False
    assert [str(w.message)[:32] for w in seen] == ["COURSE_FAST='2' is not an on/off"]


@pytest.mark.parametrize("name", sorted(FLAGS))
def test_each_switch_reads_its_own_variable_with_the_one_parser(monkeypatch, name):
    read = FLAGS[name]
    assert read() is False
    for raw, expected in (("true", True), ("On", True), ("y", True), ("no", False), ("0", False)):
        monkeypatch.setenv(name, raw)
        assert read() is expected, f"{name}={raw!r}"
    for other in set(FLAGS) - {name}:
        monkeypatch.setenv(other, "1")
    monkeypatch.setenv(name, "0")
    assert read() is False, f"{name} reads another variable"


def test_checks_strict_accepts_true_which_the_old_parser_ignored(monkeypatch):
    from course_utils.exercise_checks import core

    monkeypatch.setenv("COURSE_CHECKS_STRICT", "true")
    assert settings.checks_strict() is True and core.strict() is True
    monkeypatch.setenv("COURSE_CHECKS_STRICT", "0")
    assert settings.checks_strict() is False and core.strict() is False
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")  # nbgrader's autograder
    assert settings.checks_strict() is True and core.strict() is True


# ------------------------------------------------------------------------ the language resolver
@pytest.mark.parametrize(
    ("raw", "expected"),
    [("en", "en"), ("vi", "vi"), ("VI", "vi"), (" vi ", "vi"), ("vi_VN", "vi"),
     ("vi_VN.UTF-8", "vi"), ("en_US.UTF-8", "en"), ("", "en")],
)  # fmt: skip
def test_language_from_the_environment(monkeypatch, raw, expected):
    monkeypatch.setenv("COURSE_LANG", raw)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert settings.language() == expected


def test_language_unset_is_english():
    assert settings.language() == "en"


def test_an_explicit_language_wins_and_a_wrong_one_raises(monkeypatch):
    monkeypatch.setenv("COURSE_LANG", "vi")
    assert settings.language("en") == "en"
    with pytest.raises(ValueError, match="lang must be 'en', 'vi' or None .* got 'de'"):
        settings.language("de")


def test_an_unknown_language_warns_with_the_variable_and_value(monkeypatch):
    monkeypatch.setenv("COURSE_LANG", "fr_FR")
    expected = r"^COURSE_LANG='fr_FR' is not 'en' or 'vi'; using English$"
    with pytest.warns(UserWarning, match=expected):
        assert settings.language() == "en"


def test_quizzes_and_exercise_checks_use_the_one_resolver(monkeypatch):
    from course_utils.exercise_checks import core
    from course_utils.quiz import resolve_lang

    for raw in ("vi_VN", "en", "", "VI"):
        monkeypatch.setenv("COURSE_LANG", raw)
        assert resolve_lang() == core.language() == settings.language()
    monkeypatch.setenv("COURSE_LANG", "de")
    for resolve in (resolve_lang, core.language):
        with pytest.warns(UserWarning, match="COURSE_LANG='de'"):
            assert resolve() == "en"


# ------------------------------------------------------------------------ the other variables
def test_folders_and_names(monkeypatch, tmp_path):
    assert settings.learner() == "" and settings.quiz_dir() is None
    assert settings.data_dir() == Path.home() / ".cache" / "autoencoders-course"
    assert settings.dataset_dir("COURSE_MNIST_DIR") is None
    monkeypatch.setenv("COURSE_LEARNER", " Lan Anh ")
    monkeypatch.setenv("COURSE_QUIZ_DIR", str(tmp_path / "q"))
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COURSE_MNIST_DIR", str(tmp_path / "m"))
    monkeypatch.setenv("COURSE_FASHION_MNIST_DIR", "~/f")
    assert settings.learner() == " Lan Anh "  # the quiz normalises names itself
    assert settings.quiz_dir() == tmp_path / "q"
    assert settings.data_dir() == tmp_path / "cache"
    assert settings.dataset_dir("COURSE_MNIST_DIR") == tmp_path / "m"
    assert settings.dataset_dir("COURSE_FASHION_MNIST_DIR") == Path.home() / "f"
    with pytest.raises(ValueError, match="COURSE_MNIST_DIR or COURSE_FASHION_MNIST_DIR"):
        settings.dataset_dir("COURSE_DATA_DIR")


def test_the_lessons_read_the_flags_through_settings(monkeypatch):
    from course_utils.course import is_fast_mode

    monkeypatch.setenv("COURSE_FAST", "on")  # the old parser said False here
    assert is_fast_mode() is True
    monkeypatch.setenv("COURSE_FAST", "OFF")
    assert is_fast_mode() is False


# ------------------------------------------------------------------ one place, one table
def _reads_the_environment(path: Path) -> list[int]:
    """Line numbers where ``path`` touches os.environ or os.getenv."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.lineno
        for node in ast.walk(tree)
        if (isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv"))
        or (isinstance(node, ast.ImportFrom) and node.module == "os"
            and any(a.name in ("environ", "getenv") for a in node.names))
    ]  # fmt: skip


def test_only_settings_reads_the_environment_in_course_utils(tmp_path):
    readers = {
        str(p.relative_to(ROOT)): lines
        for p in sorted((ROOT / "course_utils").rglob("*.py"))
        if p.name != "settings.py" and (lines := _reads_the_environment(p))
    }
    assert not readers, f"read COURSE_* variables through course_utils.settings: {readers}"
    sneaky = tmp_path / "x.py"
    sneaky.write_text("import os\nA = os.environ.get('COURSE_FAST')\nfrom os import getenv\n")
    assert sorted(_reads_the_environment(sneaky)) == [2, 3]  # the check can fail


def _readme_table() -> dict[str, list[str]]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(COURSE_\w+)` \|(.*)\|$", readme, flags=re.M)
    return {name: [c.strip() for c in rest.split("|")] for name, rest in rows}


def test_the_readme_has_one_row_per_variable_in_one_table():
    table = _readme_table()
    assert set(table) == {*settings.VARIABLES, "COURSE_E2E_REQUIRED"}
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in table:
        assert readme.count(f"| `{name}` |") == 1, f"{name} appears in more than one table row"
        assert len(table[name]) == 4 and all(table[name]), f"{name}: fill the four columns"
    assert "tests only" in table["COURSE_E2E_REQUIRED"][0]


def test_every_variable_the_code_names_is_in_settings():
    named = set()
    for folder in ("course_utils", "course_admin"):
        for path in (ROOT / folder).rglob("*.py"):
            named |= set(re.findall(r"COURSE_[A-Z_]+[A-Z]", path.read_text(encoding="utf-8")))
    assert named <= set(settings.VARIABLES), sorted(named - set(settings.VARIABLES))
