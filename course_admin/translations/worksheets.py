"""A plain-text worksheet for translators: every entry of a catalog as English, then Vietnamese.

    python -m course_admin.translations worksheet 04 -o /tmp/04.txt   # export
    python -m course_admin.translations import /tmp/04.txt            # back into the catalog

The format needs no escaping (LaTeX backslashes and quotes stay as they are)::

    ===== notebooks/04_denoising_autoencoders cell 41dd14db =====
    # 04 · Denoising autoencoders
    ...the English cell...
    ----- vi -----
    # 04 · Autoencoder khử nhiễu
    ...its Vietnamese, or nothing if not yet translated...

Importing sets each non-empty Vietnamese block as the entry's translation and clears its fuzzy
flag (the translator has now checked it against the English above it). A block whose English
no longer matches the catalog (the notebook changed since the export) is refused, by name.
"""

from __future__ import annotations

import re
from pathlib import Path

from .catalogs import entries, read_catalog, write_catalog
from .sources import Source

HEAD = re.compile(r"^===== (\S+) cell (\S+) =====\n", re.M)
SPLIT = "\n----- vi -----\n"


def export(sources: list[Source]) -> str:
    blocks = []
    for source in sources:
        for m in entries(read_catalog(source.catalog)):
            blocks.append(f"===== {source.name} cell {m.context} =====\n{m.id}{SPLIT}"
                          f"{m.string}\n")  # fmt: skip
    return "\n".join(blocks)


def parse(text: str) -> list[tuple[str, str, str, str]]:
    """(notebook name, cell id, English, Vietnamese) for every block of a worksheet."""
    heads = list(HEAD.finditer(text))
    out = []
    for n, head in enumerate(heads):
        end = heads[n + 1].start() if n + 1 < len(heads) else len(text)
        body = text[head.end() : end]
        if SPLIT not in body:
            raise ValueError(f"{head.group(1)} cell {head.group(2)}: no '----- vi -----' line")
        english, vietnamese = body.split(SPLIT, 1)
        out.append((head.group(1), head.group(2), english, vietnamese.rstrip("\n")))
    return out


def import_worksheet(path: Path, sources: list[Source]) -> list[str]:
    """Copy the worksheet's translations into the catalogs; return one line per catalog."""
    by_name = {s.name: s for s in sources}
    blocks = parse(path.read_text(encoding="utf-8"))
    lines = []
    for name in dict.fromkeys(b[0] for b in blocks):
        if name not in by_name:
            raise ValueError(f"{path}: unknown notebook {name!r}; expected one of {list(by_name)}")
        source = by_name[name]
        catalog = read_catalog(source.catalog)
        live = {m.context: m for m in entries(catalog)}
        count = 0
        for _, cell, english, vietnamese in (b for b in blocks if b[0] == name):
            m = live.get(cell)
            if m is None or m.id != english:
                raise ValueError(f"{path}: {name} cell {cell}: its English is not the catalog's "
                                 f"(the notebook changed?); export a new worksheet")  # fmt: skip
            if vietnamese.strip():
                m.string = vietnamese
                m.flags.discard("fuzzy")
                m.previous_id = []
                count += 1
        write_catalog(catalog, source.catalog)
        lines.append(f"{source.catalog.name} ({name}): {count} translations imported")
    return lines
