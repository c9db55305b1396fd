"""Which task of an exercise calls which earlier task, read from the worked solutions (grade).

A task's answer may call the answer of an earlier task of the same exercise: in exercise 05,
``kl_sparsity_penalty_per_batch`` calls ``bernoulli_kl``. The grader grades such a task with the
reference versions of the tasks it depends on, so that a wrong ``bernoulli_kl`` costs its own
points only. The map comes from one place, the solutions' code itself: a task depends on another
when its answer cell reads a name that the other's answer cell defines (``symtable``: free names
of the cell and global names read inside its functions). Nothing here runs any code.
"""

from __future__ import annotations

import symtable
from pathlib import Path

import nbformat

from course_admin.make_exercises import grading_cells


def _python(source: str) -> str:
    """The cell without IPython's magics and shell lines (symtable reads plain Python)."""
    return "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()
    )


def defined_and_read(source: str) -> tuple[set[str], set[str]]:
    """(names a cell defines at its top level, names it reads that it does not define)."""
    top = symtable.symtable(_python(source), "<cell>", "exec")
    defined = {s.get_name() for s in top.get_symbols() if s.is_assigned() or s.is_imported()}
    read: set[str] = set()

    def visit(table: symtable.SymbolTable) -> None:
        for symbol in table.get_symbols():
            if table is top:
                if symbol.is_referenced() and symbol.get_name() not in defined:
                    read.add(symbol.get_name())
            elif symbol.is_referenced() and symbol.is_global():
                read.add(symbol.get_name())
        for child in table.get_children():
            visit(child)

    visit(top)
    return defined, read - defined


def answer_cells(nb) -> dict[str, str]:
    """Task id -> the source of its answer cell (nbgrader ``solution`` cells)."""
    return {gid: nb.cells[i].source for kind, gid, i in grading_cells(nb) if kind == "solution"}


def task_dependencies(nb) -> dict[str, tuple[str, ...]]:
    """Task id -> the tasks whose names its answer reads, in notebook order (a solution)."""
    cells = answer_cells(nb)
    found = {task: defined_and_read(source) for task, source in cells.items()}
    owner = {name: task for task, (defined, _) in found.items() for name in defined}
    return {
        task: tuple(t for t in cells if t != task and any(owner.get(n) == t for n in read))
        for task, (_, read) in found.items()
    }


def load_solutions(folder: Path | None) -> dict[str, nbformat.NotebookNode]:
    """The worked solutions by lesson (e.g. "05_sparse_autoencoders"); {} when not there."""
    if folder is None or not folder.is_dir():
        return {}
    return {
        path.stem: nbformat.read(path, as_version=4)
        for path in sorted(folder.glob("[0-9][0-9]_*.ipynb"))
    }
