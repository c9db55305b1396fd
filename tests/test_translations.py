"""The Vietnamese edition (issue 21): catalogs complete and current, nothing but prose translated,
the built notebooks exactly what the build writes, and every link and badge pointing at them.

The tools are in course_admin/translations; these tests run them on the real catalogs, and on
small notebooks in a temporary folder for the msgmerge-like update.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
from helpers import ROOT

from course_admin.translations.__main__ import build, main, problems
from course_admin.translations.build import BAR, build_notebook, rewrite_links
from course_admin.translations.catalogs import (
    Cell,
    entries,
    markdown_cells,
    read_catalog,
    update_catalog,
    write_catalog,
)
from course_admin.translations.placeholders import differences
from course_admin.translations.sources import all_sources, source_for
from course_utils import settings

SOURCES = all_sources()
VIETNAMESE = re.compile("[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.I)


# ------------------------------------------------------------------ the real catalogs and build
def test_every_lesson_and_exercise_has_a_catalog():
    names = [s.name for s in SOURCES]
    lessons = [n for n in names if n.startswith("notebooks/")]
    assert len([n for n in lessons if not n.endswith("_lab")]) == 8, names
    assert [n[10:12] for n in lessons if n.endswith("_lab")] == ["01", "02", "03"], names
    assert len([n for n in names if n.startswith("exercises/")]) == 7, names
    missing = [str(s.catalog.relative_to(ROOT)) for s in SOURCES if not s.catalog.exists()]
    assert not missing, f"no catalog: {missing}; run `python -m course_admin.translations update`"


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.name)
def test_catalog_is_complete_current_and_faithful(source):
    found = problems(source)
    assert not found, "\n".join(found)


def test_build_check_passes():
    """The committed Vietnamese notebooks are exactly what the build writes."""
    stale = build(SOURCES, check=True)
    assert not stale, f"out of date: {stale}; run `python -m course_admin.translations build`"


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.name)
def test_vietnamese_notebook_keeps_every_code_cell(source):
    english = nbformat.read(source.english, as_version=4)
    vietnamese = nbformat.read(source.built, as_version=4)
    assert [c.cell_type for c in english.cells] == [c.cell_type for c in vietnamese.cells]
    for en, vi in zip(english.cells, vietnamese.cells, strict=True):
        assert en.id == vi.id
        if en.cell_type == "code":
            assert vi.source == en.source and vi.metadata == en.metadata
        else:
            assert VIETNAMESE.search(vi.source), f"{source.name} cell {en.id} is not Vietnamese"
    assert vietnamese.metadata["course"] == {"language": "vi", "source": source.name + ".ipynb"}


LINK = re.compile(r"\]\(([^()\s]+?)(?:#[^)\s]*)?\)")


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.name)
def test_vietnamese_links_resolve_and_badges_open_the_vietnamese_file(source):
    nb = nbformat.read(source.built, as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for target in LINK.findall(text):
        if "://" in target:
            continue
        assert (source.built.parent / target).resolve().exists(), f"{source.name}: {target}"
    own = f"/blob/main/{source.english.parent.name}/vi/{source.english.name}"
    assert own in text, f"{source.name}: the Colab badge does not open {own}"
    assert "/blob/main/notebooks/0" not in text and "/blob/main/exercises/0" not in text
    assert f"[English](../{source.english.name}) · **Tiếng Việt**" in nb.cells[0].source


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.name)
def test_english_notebook_links_to_its_vietnamese_twin(source):
    first = nbformat.read(source.english, as_version=4).cells[0].source
    assert f"**English** · [Tiếng Việt](vi/{source.english.name})" in first


def test_changing_one_english_sentence_fails_the_check_and_says_what_to_run(tmp_path):
    lesson = next(s for s in SOURCES if s.name.startswith("notebooks/04"))
    nb = nbformat.read(lesson.english, as_version=4)
    cell = next(c for c in nb.cells[1:] if c.cell_type == "markdown")
    cell.source = cell.source.replace(".", ". Also this.", 1)
    copy = tmp_path / "notebooks" / lesson.english.name
    copy.parent.mkdir()
    nbformat.write(nb, copy)
    moved = source_for(copy, tmp_path)
    moved.catalog.parent.mkdir(parents=True)
    moved.catalog.write_bytes(lesson.catalog.read_bytes())
    found = problems(moved)
    assert len(found) == 1, found
    assert cell.id in found[0] and "python -m course_admin.translations update" in found[0]
    assert "notebooks/04_denoising_autoencoders" in found[0]


# ------------------------------------------------------------------ update, like msgmerge
def _cells(*texts: tuple[str, str]) -> list[Cell]:
    return [Cell(cid, n, text) for n, (cid, text) in enumerate(texts)]


def test_update_keeps_marks_fuzzy_adds_and_obsoletes(tmp_path):
    first = update_catalog(None, _cells(("a", "One."), ("b", "Two."), ("c", "Three.")), "t")
    for m, vi in zip(entries(first), ["Một.", "Hai.", "Ba."], strict=True):
        m.string = vi
    path = tmp_path / "t.po"
    write_catalog(first, path)  # and read back: the file round-trips
    again = read_catalog(path)
    cells = _cells(("a", "One."), ("b", "Two, changed."), ("d", "Brand new."), ("e", "Three."))
    new = update_catalog(again, cells, "t")
    got = {m.context: m for m in entries(new)}
    assert [m.context for m in entries(new)] == ["a", "b", "d", "e"]
    assert got["a"].string == "Một." and not got["a"].fuzzy
    assert got["b"].string == "Hai." and got["b"].fuzzy and got["b"].previous_id == ["Two."]
    assert got["d"].string == "" and not got["d"].fuzzy
    assert got["e"].string == "Ba." and not got["e"].fuzzy  # same text, new cell id
    assert not new.obsolete
    gone = update_catalog(new, _cells(("a", "One.")), "t")
    assert len(gone.obsolete) == 2  # b (fuzzy, translated) and e; d had no translation
    write_catalog(gone, path)
    assert "#~ msgid" in path.read_text(encoding="utf-8")
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_a_rewrapped_cell_keeps_its_translation_and_a_new_paragraph_does_not():
    old = update_catalog(None, _cells(("a", "One two\nthree four.")), "t")
    entries(old)[0].string = "Một hai ba bốn."
    rewrapped = update_catalog(old, _cells(("a", "One two three\nfour.")), "t")
    assert entries(rewrapped)[0].string == "Một hai ba bốn." and not entries(rewrapped)[0].fuzzy
    split = update_catalog(old, _cells(("a", "One two\n\nthree four.")), "t")
    assert entries(split)[0].fuzzy


def test_a_fuzzy_entry_and_its_previous_english_survive_a_round_trip(tmp_path):
    """Babel writes a multi-line previous msgid on one ``#|`` line and reads ``#|`` lines as plain
    comments; read_catalog and write_catalog undo both, so a write-read-write is exact."""
    old = update_catalog(None, _cells(("a", 'Line one.\nLine "two".')), "t")
    entries(old)[0].string = "Một.\nHai."
    new = update_catalog(old, _cells(("a", "Line one!\nLine two.")), "t")
    write_catalog(new, tmp_path / "a.po")
    text = (tmp_path / "a.po").read_text(encoding="utf-8")
    assert '#| msgid ""\n#| "Line one.\\n"\n#| "Line \\"two\\"."\n' in text
    back = entries(read_catalog(tmp_path / "a.po"))[0]
    assert back.fuzzy and back.previous_id == ['Line one.\nLine "two".'] and not back.user_comments
    write_catalog(read_catalog(tmp_path / "a.po"), tmp_path / "b.po")
    assert (tmp_path / "b.po").read_text(encoding="utf-8") == text


def test_a_long_previous_english_line_is_written_whole_and_read_back_exactly(tmp_path):
    """Babel wraps ``#|`` comments at 76 columns, cutting a quoted string in two (``update`` then
    crashed with an IndexError); write_catalog writes them itself, one source line per line."""
    long_line = "A markdown line with many words that runs far past seventy-six columns " * 3
    old = update_catalog(None, _cells(("a", long_line + "\nSecond line.")), "t")
    entries(old)[0].string = "Một dòng.\nDòng hai."
    new = update_catalog(old, _cells(("a", long_line + "\nSecond line, changed.")), "t")
    write_catalog(new, tmp_path / "a.po")
    text = (tmp_path / "a.po").read_text(encoding="utf-8")
    previous = [line for line in text.splitlines() if line.startswith("#|")]
    assert previous == ['#| msgid ""', f'#| "{long_line}\\n"', '#| "Second line."']
    back = entries(read_catalog(tmp_path / "a.po"))[0]
    assert back.fuzzy and back.previous_id == [long_line + "\nSecond line."]


def test_a_similar_new_cell_gets_a_fuzzy_hint_and_a_different_one_does_not():
    old = update_catalog(None, _cells(("a", "The encoder maps an image to a code.")), "t")
    entries(old)[0].string = "Bộ mã hóa ánh xạ một ảnh thành một mã."
    new = update_catalog(old, _cells(("z", "The encoder maps each image to a code.")), "t")
    assert entries(new)[0].fuzzy and entries(new)[0].string.startswith("Bộ mã hóa")
    other = update_catalog(old, _cells(("z", "Completely unrelated sentence here!")), "t")
    assert entries(other)[0].string == "" and len(other.obsolete) == 1


def test_update_on_the_real_catalogs_changes_nothing(tmp_path):
    for source in SOURCES:
        catalog = read_catalog(source.catalog)
        refreshed = update_catalog(catalog, markdown_cells(source.english), source.name)
        write_catalog(refreshed, tmp_path / "x.po")
        assert (tmp_path / "x.po").read_bytes() == source.catalog.read_bytes(), source.name


# ------------------------------------------------------------------ what survives translation
EN = """## 3. A heading

The code $z = \\mu + \\sigma\\varepsilon$ and `reparameterize(mu, logvar)`, see
[lesson 06](06_variational_autoencoders.ipynb) and https://arxiv.org/abs/1312.6114.
$$\\mathrm{KL} = \\tfrac12 \\sum_j (\\mu_j^2 + \\sigma_j^2 - 1 - \\log \\sigma_j^2)$$

- one
- two

| a | b |
| --- | --- |
| 1 | 2 |
<br>"""
VI = """## 3. Một tiêu đề

Xem [bài 06](06_variational_autoencoders.ipynb) và https://arxiv.org/abs/1312.6114: code
`reparameterize(mu, logvar)` với $z = \\mu +
\\sigma\\varepsilon$.
$$\\mathrm{KL} = \\tfrac12 \\sum_j (\\mu_j^2 + \\sigma_j^2 - 1 - \\log \\sigma_j^2)$$

- một
- hai

| a | b |
| --- | --- |
| 1 | 2 |
<br>"""


def test_a_faithful_translation_passes_even_reordered_and_rewrapped():
    assert differences(EN, VI) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("\\sigma\\varepsilon$", "\\sigma \\epsilon$"), "maths"),
        (("`reparameterize(mu, logvar)`", "reparameterize(mu, logvar)"), "code"),
        (("(06_variational_autoencoders.ipynb)", "(06_vae.ipynb)"), "links"),
        (("https://arxiv.org/abs/1312.6114", "arxiv"), "links"),
        (("## 3.", "### 3."), "heading levels"),
        (("- hai\n", ""), "list items"),
        (("| 1 | 2 |", "| 1 | 2 | 3 |"), "table columns"),
        (("<br>", ""), "tags"),
        (("$$\\mathrm{KL}", "$$\\mathrm{K L}"), "maths"),
    ],
)
def test_each_kind_of_loss_is_caught(change, expected):
    broken = VI.replace(*change, 1)
    assert broken != VI
    found = differences(EN, broken)
    assert found and any(expected in f for f in found), found


# ------------------------------------------------------------------ links, bar, language
def test_links_are_rerooted_for_the_vi_folder():
    text = (
        "**English** · [Tiếng Việt](vi/04_denoising_autoencoders.ipynb)\n"
        "[next](05_sparse_autoencoders.ipynb) [ex](../exercises/04_denoising_autoencoders.ipynb)"
        " [sol](../solutions/04_denoising_autoencoders.ipynb) [r](../README.md)"
        " [t](../README.md#runtimes-and-benchmarks)"
        " [c](https://colab.research.google.com/github/o/r/blob/main/notebooks/04_x.ipynb)"
    )
    out = rewrite_links(text, "notebooks")
    assert "[English](../04_denoising_autoencoders.ipynb) · **Tiếng Việt**" in out
    assert "[next](05_sparse_autoencoders.ipynb)" in out
    assert "[ex](../../exercises/vi/04_denoising_autoencoders.ipynb)" in out
    assert "[sol](../../solutions/04_denoising_autoencoders.ipynb)" in out
    assert "[r](../../README.vi.md)" in out
    assert "[t](../../README.md#runtimes-and-benchmarks)" in out  # README.vi.md lacks the anchor
    assert "/blob/main/notebooks/vi/04_x.ipynb" in out
    assert BAR.search(text) and not BAR.search(out)


def test_build_refuses_an_incomplete_catalog_and_names_the_cell(tmp_path):
    lesson = SOURCES[0]
    catalog = read_catalog(lesson.catalog)
    entries(catalog)[3].string = ""
    with pytest.raises(ValueError, match=r"cell \d+ \(id \w+\).*translations update"):
        build_notebook(lesson, catalog)


@pytest.mark.parametrize(
    ("cwd", "session", "expected"),
    [
        ("notebooks/vi", None, "vi"),
        ("exercises/vi", None, "vi"),
        ("notebooks", None, "en"),
        ("solutions", None, "en"),
        ("", "notebooks/vi/04_denoising_autoencoders.ipynb", "vi"),
        ("", "notebooks/04_denoising_autoencoders.ipynb", "en"),
    ],
)
def test_the_edition_sets_the_language(cwd, session, expected, monkeypatch, tmp_path):
    monkeypatch.delenv("COURSE_LANG", raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    (tmp_path / cwd).mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(tmp_path / cwd)
    if session:
        monkeypatch.setenv("JPY_SESSION_NAME", str(tmp_path / session))
    assert settings.language() == expected
    monkeypatch.setenv("COURSE_LANG", "en")  # the variable, when set, wins
    assert settings.language() == "en"


def test_colab_reads_the_notebook_metadata(monkeypatch):
    import sys
    import types

    monkeypatch.delenv("COURSE_LANG", raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.chdir(ROOT)
    message = types.ModuleType("google.colab._message")
    message.blocking_request = lambda *a, **k: {
        "ipynb": {"metadata": {"course": {"language": "vi"}}}
    }
    colab = types.ModuleType("google.colab")
    colab._message = message
    monkeypatch.setitem(sys.modules, "google", types.ModuleType("google"))
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.setitem(sys.modules, "google.colab._message", message)
    monkeypatch.setattr(settings, "_COLAB_LANGUAGE", None)
    assert settings.language() == "vi"
    message.blocking_request = lambda *a, **k: (_ for _ in ()).throw(TimeoutError("no reply"))
    monkeypatch.setattr(settings, "_COLAB_LANGUAGE", None)
    assert settings.language() == "en"  # any failure: English, never an error


# ------------------------------------------------------------------ the command line
def test_command_line_verbs(capsys):
    assert main(["check", "exercises/04"]) == 0
    assert "complete and faithful" in capsys.readouterr().out
    assert main(["build", "--check"]) == 0
    assert main(["build", "exercises/04", "--check"]) == main(["build", "--check", "ex"]) == 0
    with pytest.raises(SystemExit, match="no notebook matches"):
        main(["check", "99_nothing"])


def test_worksheet_round_trip_and_a_stale_worksheet_is_refused(tmp_path, capsys):
    from course_admin.translations.worksheets import export, import_worksheet, parse

    source = next(s for s in SOURCES if s.name == "exercises/04_denoising_autoencoders")
    text = export([source])
    blocks = parse(text)
    assert len(blocks) == len(entries(read_catalog(source.catalog)))
    assert all(vi for *_, vi in blocks)
    stale = tmp_path / "ws.txt"
    stale.write_text(text.replace("Exercise 04", "Exercise 4", 1), encoding="utf-8")
    before = source.catalog.read_bytes()
    with pytest.raises(ValueError, match="export a new worksheet"):
        import_worksheet(stale, [source])
    assert source.catalog.read_bytes() == before


# ------------------------------------------------------------------ README.vi.md
def test_readme_vi_exists_is_linked_and_has_the_same_two_commands():
    readme, readme_vi = ROOT / "README.md", ROOT / "README.vi.md"
    assert readme_vi.exists()
    assert "README.vi.md" in readme.read_text(encoding="utf-8").split("\n## ")[0]
    fence = re.compile(r"```(?:bash|sh)?\n(.*?)```", re.S)
    en_text, vi_text = readme.read_text(encoding="utf-8"), readme_vi.read_text(encoding="utf-8")
    quick_en = en_text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = [c.strip() for c in fence.findall(quick_en)][:2]
    assert len(commands) == 2 and all(c in vi_text for c in commands), commands
    for source in SOURCES:
        if source.name.startswith("notebooks/"):
            path = f"/blob/main/notebooks/vi/{source.english.name}"
            assert path in vi_text, f"README.vi.md has no Colab badge for {path}"
    for target in LINK.findall(vi_text):
        if "://" not in target:
            assert (ROOT / target).exists(), f"README.vi.md links to a missing {target}"


def test_vietnamese_notebooks_are_plain_json_without_outputs():
    for source in SOURCES:
        nb = json.loads(source.built.read_text(encoding="utf-8"))
        assert all(not c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code")
        assert "jupytext" not in nb["metadata"]


def test_vi_folders_hold_only_built_notebooks():
    for folder in ("notebooks", "exercises"):
        built = {p.name for p in (ROOT / folder / "vi").iterdir()}
        english = {p.name for p in (ROOT / folder).glob("[0-9][0-9]_*.ipynb")}
        assert built == english, (folder, built ^ english)


def test_catalog_paths_are_what_the_issue_names():
    assert all(s.catalog.suffix == ".po" for s in SOURCES)
    assert Path("translations/vi") in {s.catalog.relative_to(ROOT).parents[1] for s in SOURCES}
