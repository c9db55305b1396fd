"""Read, write and update one gettext catalog (Babel's ``.po`` reader and writer).

One entry per markdown cell of the English notebook, in cell order: msgctxt is the cell id,
msgid the cell's text exactly, msgstr its Vietnamese. ``update_catalog`` refreshes a catalog
from the notebook the way ``msgmerge`` does:

- an unchanged cell keeps its translation;
- a cell whose text changed keeps its old translation as a hint, marked ``fuzzy``, with the old
  English as ``#| msgid`` (previous msgid), so a translator sees what changed;
- a cell whose id changed but whose text did not keeps its translation as it is;
- a cell re-wrapped (the same words, other line breaks inside its paragraphs, which Markdown
  renders the same) keeps its translation as it is;
- a new cell is a new, untranslated entry (a near-identical removed cell lends it a fuzzy hint);
- a removed cell's translated entry becomes obsolete (``#~``), kept for reference.

A catalog that is complete has no untranslated, fuzzy or obsolete entry (``problems`` in
``__main__`` says which and what to run).
"""

from __future__ import annotations

import datetime as dt
import difflib
import io
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import denormalize, normalize, read_po, write_po

FIXED_DATE = dt.datetime(2026, 12, 5, tzinfo=dt.timezone.utc)  # stable headers: no diff noise
FORMAT_FLAGS = {"python-format", "python-brace-format"}
HINT_RATIO = 0.6  # a removed cell at least this similar (difflib) lends a new cell a fuzzy hint


@dataclass(frozen=True)
class Cell:
    """One English markdown cell: its id, its position among all cells, its text."""

    id: str
    index: int
    text: str


def markdown_cells(notebook: Path) -> list[Cell]:
    """The markdown cells of an English notebook, in order (every one must have an id)."""
    nb = nbformat.read(notebook, as_version=4)
    cells = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        if not cell.get("id"):
            raise ValueError(
                f"{notebook}: markdown cell {index} has no id; nbformat 4.5 notebooks give every "
                f"cell one (run `jupytext --sync` on the .py twin, or re-save the notebook)."
            )
        cells.append(Cell(cell.id, index, cell.source))
    return cells


HEADER = """\
# Vietnamese edition of {title}, course "Autoencoders, from PCA to VAEs".
# One entry per markdown cell: msgctxt = the cell id, msgid = the English cell, msgstr = Vietnamese.
# The English notebook is the source; after it changes:
#   python -m course_admin.translations update   (then translate what it marks)
#   python -m course_admin.translations build
# Terms: quizzes/TERMS_VI.md.
#"""


def new_catalog(title: str) -> Catalog:
    return Catalog(
        header_comment=HEADER.format(title=title),
        locale="vi",
        project=title,
        version="1",
        copyright_holder="the course's authors",
        msgid_bugs_address="https://github.com/ae-course/autoencoders-pca-to-vae/issues",
        creation_date=FIXED_DATE,
        revision_date=FIXED_DATE,
        language_team="Vietnamese",
        last_translator="the course's translators",
        fuzzy=False,
    )


QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')


def read_catalog(path: Path) -> Catalog:
    """Read a catalog, with each fuzzy entry's previous English (``#| msgid``) as previous_id.

    (Babel's reader keeps ``#|`` lines as plain comments; we turn them back into previous ids.)
    """
    with path.open("rb") as f:
        catalog = read_po(f, locale="vi")
    for message in [*catalog, *catalog.obsolete.values()]:
        previous = [c[1:].strip() for c in message.user_comments if c.startswith("|")]
        if previous:
            message.user_comments = [c for c in message.user_comments if not c.startswith("|")]
            joined = " ".join(previous)
            if joined.startswith("msgid "):
                message.previous_id = [denormalize("\n".join(QUOTED.findall(joined)))]
    return catalog


def _previous_lines(message: Message) -> list[str]:
    """A fuzzy entry's previous English as GNU gettext writes it: ``#| msgid ""``, then one
    ``#| "..."`` line per source line. (Babel wraps these comments at 76 columns, cutting quoted
    strings in two, so we write them ourselves.)"""
    quoted = normalize(message.previous_id[0], width=0).split("\n")
    return [f"#| msgid {quoted[0]}"] + [f"#| {q}" for q in quoted[1:]]


def write_catalog(catalog: Catalog, path: Path) -> None:
    """Write atomically (a temporary file, then a rename): never a half-written catalog.

    Each live entry with a previous English gets its ``#|`` lines just above its ``msgctxt``
    (every entry of ours has one: the cell id).
    """
    previous: dict[str, list[str]] = {}
    for message in [*catalog, *catalog.obsolete.values()]:
        message.flags -= FORMAT_FLAGS  # Babel guesses these from "%" and "{}": prose has neither
    for message in catalog:
        if message.id and message.previous_id and message.previous_id[0]:
            if not message.context:
                raise ValueError(
                    f"write_catalog expects every entry with a previous msgid to have a msgctxt "
                    f"(the cell id), but {message.id[:60]!r} has none: add the cell id as its "
                    "context."
                )
            previous[f"msgctxt {normalize(message.context, width=0)}"] = _previous_lines(message)
    catalog.header_comment = HEADER.format(title=catalog.project)
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=0, include_previous=False, sort_output=False)
    lines: list[str] = []
    for line in buffer.getvalue().decode("utf-8").split("\n"):
        lines.extend(previous.get(line, []))
        lines.append(line)
    text = "\n".join(lines)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(text.encode("utf-8"))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def same_words(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ only in line breaks and spaces inside paragraphs."""

    def paragraphs(text: str) -> list[str]:
        return [" ".join(p.split()) for p in re.split(r"\n[ \t]*\n", text.strip())]

    return paragraphs(a) == paragraphs(b)


def entries(catalog: Catalog) -> list[Message]:
    """The live entries (not the header, not obsolete ones), in file order."""
    return [m for m in catalog if m.id]


def _add(catalog: Catalog, cell: Cell, string: str = "", fuzzy: bool = False,
         previous: str | None = None) -> None:  # fmt: skip
    flags = ["fuzzy"] if fuzzy else []
    catalog.add(cell.text, string, context=cell.id, flags=flags,
                          previous_id=[previous] if previous else ())  # fmt: skip


def update_catalog(old: Catalog | None, cells: list[Cell], title: str) -> Catalog:
    """A catalog with one entry per cell, reusing ``old``'s translations as the docstring says."""
    catalog = new_catalog(title)
    old_entries = entries(old) if old is not None else []
    by_context = {m.context: m for m in old_entries}
    by_text = {}
    for m in old_entries:
        if m.string and not m.fuzzy:
            by_text.setdefault(m.id, m)
    used: set[int] = set()
    pending: list[Cell] = []
    for cell in cells:
        same_id = by_context.get(cell.id)
        if same_id is not None and same_id.id == cell.text:
            previous = same_id.previous_id[0] if same_id.fuzzy and same_id.previous_id else None
            _add(catalog, cell, same_id.string, same_id.fuzzy, previous)
            used.add(id(same_id))
        elif cell.text in by_text and id(by_text[cell.text]) not in used:
            _add(catalog, cell, by_text[cell.text].string)
            used.add(id(by_text[cell.text]))
        elif (
            same_id is not None
            and same_id.string
            and not same_id.fuzzy
            and same_words(same_id.id, cell.text)
        ):
            _add(catalog, cell, same_id.string)
            used.add(id(same_id))
        elif same_id is not None and same_id.string:
            _add(catalog, cell, same_id.string, fuzzy=True, previous=same_id.id)
            used.add(id(same_id))
        else:
            pending.append(cell)
    leftovers = [m for m in old_entries if id(m) not in used and m.string]
    for cell in pending:
        best, ratio = None, HINT_RATIO
        for m in leftovers:
            r = difflib.SequenceMatcher(None, m.id, cell.text, autojunk=False).ratio()
            if id(m) not in used and r >= ratio:
                best, ratio = m, r
        if best is None:
            _add(catalog, cell)
        else:
            _add(catalog, cell, best.string, fuzzy=True, previous=best.id)
            used.add(id(best))
    # Reorder to cell order (pending cells were added last).
    order = {cell.id: n for n, cell in enumerate(cells)}
    ordered = new_catalog(title)
    for m in sorted(entries(catalog), key=lambda m: order[m.context]):
        ordered[m.id] = m  # keeps context, flags and previous id
    for m in old_entries:
        if id(m) not in used and m.string:
            ordered.obsolete[(m.id, m.context)] = m
    return ordered
