"""Command line: ``update``, ``build [--check]`` and ``check`` (see the package docstring)."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from .build import build_notebook, notebook_text
from .catalogs import entries, markdown_cells, read_catalog, update_catalog, write_catalog
from .placeholders import differences
from .sources import ROOT, Source, all_sources
from .worksheets import export, import_worksheet

RUN = "python -m course_admin.translations"


def _select(sources: list[Source], only: list[str]) -> list[Source]:
    if not only:
        return sources
    chosen = [s for s in sources if any(o in s.name for o in only)]
    if not chosen:
        names = ", ".join(s.name for s in sources)
        raise SystemExit(f"no notebook matches {only}; expected part of one of: {names}")
    return chosen


def update(sources: list[Source]) -> list[str]:
    """Refresh every catalog from its English notebook; return a summary line per catalog."""
    lines = []
    for source in sources:
        old = read_catalog(source.catalog) if source.catalog.exists() else None
        catalog = update_catalog(old, markdown_cells(source.english), source.name)
        write_catalog(catalog, source.catalog)
        live = entries(catalog)
        todo = sum(not m.string for m in live)
        fuzzy = sum(bool(m.string) and m.fuzzy for m in live)
        lines.append(f"{_shown(source.catalog)}: {len(live)} entries, {todo} "
                     f"untranslated, {fuzzy} fuzzy, {len(catalog.obsolete)} obsolete")  # fmt: skip
    return lines


def _shown(path: Path) -> Path:
    """``path`` relative to the repository when it lies inside it (as messages show it)."""
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def problems(source: Source) -> list[str]:
    """Everything that keeps ``source``'s catalog from building a faithful, current edition."""
    where = _shown(source.catalog)
    if not source.catalog.exists():
        return [f"{source.name}: no catalog {where}; run `{RUN} update`, then translate it"]
    catalog = read_catalog(source.catalog)
    cells = {c.id: c for c in markdown_cells(source.english)}
    by_context = {m.context: m for m in entries(catalog)}
    out = []
    for cell in cells.values():
        m = by_context.get(cell.id)
        label = f"{source.name}, cell {cell.index} (id {cell.id})"
        if m is None or m.id != cell.text:
            out.append(f"{label}: the English text changed or is new, and {where} does not have "
                       f"it; run `{RUN} update`, translate the entries it marks, then "
                       f"`{RUN} build`")  # fmt: skip
        elif not m.string:
            out.append(f"{label}: untranslated in {where}")
        elif m.fuzzy:
            out.append(f"{label}: fuzzy in {where} (the English changed; check the translation "
                       f"against the new text, then remove the fuzzy flag)")  # fmt: skip
        else:
            out += [f"{label}: {d}" for d in differences(m.id, m.string)]
    out += [f"{source.name}: {where} has an entry for cell id {c!r}, which the notebook no "
            f"longer has; run `{RUN} update`" for c in by_context if c not in cells]  # fmt: skip
    if catalog.obsolete:
        out.append(f"{source.name}: {len(catalog.obsolete)} obsolete entries (#~) in {where}: "
                   f"reuse or delete them")  # fmt: skip
    return out


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def build(sources: list[Source], check: bool) -> list[str]:
    """Write (or, with ``check``, compare) every Vietnamese notebook; return the stale ones."""
    stale = []
    for source in sources:
        text = notebook_text(build_notebook(source, read_catalog(source.catalog)))
        current = source.built.read_text(encoding="utf-8") if source.built.exists() else None
        if current != text:
            stale.append(str(_shown(source.built)))
            if not check:
                _write_atomic(source.built, text)
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=RUN, description=__doc__)
    parser.add_argument("verb", choices=["update", "build", "check", "worksheet", "import"])
    parser.add_argument("--check", action="store_true", help="build: compare only, write nothing")
    parser.add_argument("-o", "--out", type=Path, help="worksheet: the file to write")
    parser.add_argument(
        "only", nargs="*", help="part of a notebook's name (04, exercises/04); import: the file"
    )
    args = parser.parse_intermixed_args(argv)  # options before or after the names
    if args.verb == "import":
        try:
            print("\n".join(import_worksheet(Path(args.only[0]), all_sources())))
        except (ValueError, IndexError, OSError) as error:
            print(f"import: {error}", file=sys.stderr)
            return 1
        return 0
    sources = _select(all_sources(), args.only)
    if args.verb == "worksheet":
        text = export(sources)
        if args.out is None:
            print(text)
        else:
            _write_atomic(args.out, text)
        return 0
    if args.verb == "update":
        print("\n".join(update(sources)))
        return 0
    if args.verb == "check":
        found = [p for s in sources for p in problems(s)]
        print("\n".join(found) if found else f"{len(sources)} catalogs complete and faithful")
        return 1 if found else 0
    try:
        stale = build(sources, args.check)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 1
    if args.check and stale:
        print(f"out of date: {', '.join(stale)}; run `{RUN} build`", file=sys.stderr)
        return 1
    print(f"{len(sources) - len(stale)} up to date, {len(stale)} written" if not args.check
          else f"{len(sources)} Vietnamese notebooks up to date")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
