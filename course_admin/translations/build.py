"""Build a Vietnamese notebook: the English one with each markdown cell replaced by its catalog
translation, and every code cell byte-identical.

Beyond the text, the build points everything a learner clicks at the Vietnamese edition:

- relative links are re-rooted for the deeper folder (``notebooks/vi/``), and a link to a lesson
  or exercise notebook, or to README.md, goes to its Vietnamese twin;
- the Colab badges open the Vietnamese file (``.../blob/main/notebooks/vi/...``);
- the language bar at the top (``**English** · [Tiếng Việt](vi/NN_topic.ipynb)`` in English,
  kept verbatim by the translator) becomes ``[English](../NN_topic.ipynb) · **Tiếng Việt**``;
- the notebook's metadata says ``"course": {"language": "vi", "source": ...}``: the course's
  code reads it on Colab to start the quiz and the checks in Vietnamese (see
  ``course_utils.settings.language``; locally the kernel's folder ``vi/`` says the same).
"""

from __future__ import annotations

import copy
import posixpath
import re

import nbformat
from babel.messages.catalog import Catalog

from .catalogs import entries
from .sources import LANG, ROOT, Source, edition_of

TWINS = {"README.md": "README.vi.md"}  # other files with a Vietnamese twin
COLAB = re.compile(r"(/blob/main/)((?:notebooks|exercises)/[0-9][0-9]_[\w-]+\.ipynb)")
BAR = re.compile(r"^\*\*English\*\* · \[Tiếng Việt\]\(vi/([\w-]+\.ipynb)\)[ \t]*$", re.M)
LINK = re.compile(r"(\]\()([^()\s#]+\.(?:ipynb|md|py|png|svg|jpg|yaml))([#)\s])")


class TranslationMissing(ValueError):
    """A catalog lacks a current translation for a cell (says which and what to run)."""


def vi_bar(name: str) -> str:
    return f"[English](../{name}) · **Tiếng Việt**"


def rewrite_links(text: str, english_dir: str) -> str:
    """Links of a cell moved from ``english_dir`` (e.g. 'notebooks') to its ``vi/`` subfolder."""
    bars = [vi_bar(m.group(1)) for m in BAR.finditer(text)]
    text = BAR.sub("\0BAR\0", text)  # kept out of the link rewriting below

    def colab(match: re.Match) -> str:
        return match.group(1) + (edition_of(match.group(2)) or match.group(2))

    def relative(match: re.Match) -> str:
        target = match.group(2)
        if "://" in target or target.startswith(("/", "../" + english_dir + "/" + LANG)):
            return match.group(0)
        repo_path = posixpath.normpath(posixpath.join(english_dir, target))
        if repo_path.startswith(".."):
            return match.group(0)
        twin = TWINS.get(repo_path) if match.group(3) != "#" else None  # anchors: English headings
        new_path = twin or edition_of(repo_path) or repo_path
        new_target = posixpath.relpath(new_path, f"{english_dir}/{LANG}")
        return match.group(1) + new_target + match.group(3)

    text = LINK.sub(relative, COLAB.sub(colab, text))
    for bar in bars:
        text = text.replace("\0BAR\0", bar, 1)
    return text


def translations(catalog: Catalog, source: Source) -> dict[str, str]:
    """cell id -> Vietnamese text, for complete, current entries only."""
    return {m.context: m.string for m in entries(catalog) if m.string and not m.fuzzy}


def build_notebook(source: Source, catalog: Catalog) -> nbformat.NotebookNode:
    """The Vietnamese notebook (raises TranslationMissing if a markdown cell has no translation)."""
    nb = nbformat.read(source.english, as_version=4)
    done = translations(catalog, source)
    current = {m.context: m.id for m in entries(catalog)}
    folder = source.english.parent.name
    out = copy.deepcopy(nb)
    for index, cell in enumerate(out.cells):
        if cell.cell_type != "markdown":
            continue
        if cell.id not in done or current.get(cell.id) != cell.source:
            raise TranslationMissing(
                f"{source.name}: markdown cell {index} (id {cell.id}) has no current Vietnamese "
                f"translation in {source.catalog.relative_to(ROOT)}. Run "
                f"`python -m course_admin.translations update`, translate the entries it marks "
                f"(untranslated or fuzzy), then `python -m course_admin.translations build`."
            )
        cell.source = rewrite_links(done[cell.id], folder)
    out.metadata.pop("jupytext", None)  # generated: never paired, never edited by hand
    out.metadata["course"] = {"language": LANG, "source": f"{folder}/{source.english.name}"}
    return out


def notebook_text(nb: nbformat.NotebookNode) -> str:
    return nbformat.writes(nb) + "\n"
