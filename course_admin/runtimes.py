"""``python -m course_admin.runtimes``: execute every lesson headless, time it, and write the table.

Each ``notebooks/NN_*.ipynb`` runs top to bottom with nbclient in a fresh kernel, in full mode
(``COURSE_FAST=0``) and/or fast mode (``COURSE_FAST=1``). We record the wall time and the peak
memory of the kernel process (its resident set, children included, polled with psutil), then
print the README's table: lesson, what it trains, minutes on a 2-core CPU, fast-mode seconds,
peak memory. Budgets: no lesson over 4 minutes in full mode, fast mode at most 20 s per
lesson.

HEADLESS EXECUTION NEVER HANGS: nbclient's default is to wait forever for a cell
(``timeout=None``). Here every cell has a timeout (``--cell-timeout``, default 900 s in full mode,
300 s in fast mode); a cell that never answers becomes a ``CellTimeoutError`` naming the lesson and
the cell and the kernel is shut down. The hang seen here (docs/PERFORMANCE.md, "The headless
stall") was nbclient's Output-widget echo hiding a cell's reply until the timeout;
``HeadlessClient`` re-arms the shell socket after that echo, so no retry is needed: a timeout is
reported as a failure, to investigate.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import nbformat

from course_admin.headless import HeadlessClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
WHAT_IT_TRAINS = {  # row key (see row_key) -> the models it trains (the README's column)
    "00": "a 784-10-784 linear AE (TinyAE) for 1,000 steps (tour, data, quiz)",
    "01": "PCA, 3 linear AEs (k = 2, 10, 32), 2 toy linear AEs (a loop by hand and `fit`), a "
    "curve AE, a nonlinear AE",
    "01 lab": "PCA, 7 linear AEs (k = 2, 10, 32 with weight copies; k = 10 at 2 more seeds and "
    "twice more at constant rates), 5 toy linear AEs (the lesson's, cosine, constant-rate and "
    "full-batch controls, L2-penalised)",
    "02": "every run with a cosine-decayed rate: a dense AE-32 (raw pixels and centred, 3 seeds, "
    "and at half the steps), a twin without hidden ReLUs, a tied AE and the dense AE on 1,000 "
    "images, a bottleneck sweep (k = 2, 8, 32, 64) and k = 2 and 64 on 1,000 images, a deeper "
    "stack at k = 2 and 32 beside the shallow k = 2 at 2 more seeds, a digit AE and one without "
    "the 7s",
    "02 lab": "the lesson's models again, a twin without ReLUs, a ReLU-code AE, a greedy stack, "
    "the k = 32 AE and a deeper stack continued to twice the steps, an output-bias-only AE, a "
    "1,000-image sweep, a digit AE without one class, 7 x 100-step dead-unit runs (4 optimiser "
    "settings, 3 centring variants), few-label classifiers, two t-SNE maps of the codes",
    "03": "every run with a 100-step rate warm-up: a dense AE and a centred conv AE, each at 3 "
    "starting rates; an upsampling conv AE, a copy of the conv AE and a fully conv AE at half "
    "the steps",
    "03 lab": "the lesson's dense and conv AEs (3 rates each), upsampling AE and half-length copy; "
    "the conv AE with BatchNorm at 3 rates; the dense and conv AEs at 1 more seed; the dense AE "
    "for about the conv AE's wall-clock time; the conv AE without warm-up; an uncentred and a "
    "global-average-pooled conv AE, a conv AE trained on shifted images and the fully conv AE "
    "(an LSTM AE timed, not trained)",
    "04": "a plain denoising AE and the same net as a clean AE (about 2,000 steps each), a weight-"
    "matched skip-path DAE (3 noise kinds), a 2-D toy DAE",
    "05": "sparse AEs (none, L1 x3, KL x3), 2 top-k AEs (one with a k schedule), a contractive AE",
    "06": "2 plain AEs (2-D, 20-D), a classifier, a 2-D VAE by hand, 2-D, 20-D and two 50-D VAEs "
    "(one with KL warm-up), a conv VAE",
    "07": "6 beta-VAEs, a CVAE and a 2-D VAE, 2 Gumbel-softmax VAEs, a tiny VQ-VAE, a classifier",
}
CELL_TIMEOUT = {"full": 900, "fast": 300}  # seconds per cell before a hang becomes an error


@dataclass
class Run:
    """One execution of one lesson."""

    lesson: str  # e.g. "01_linear_autoencoder_and_pca"
    mode: str  # "full" or "fast"
    seconds: float
    peak_mb: float  # peak resident memory of the kernel process and its children
    error: str = ""  # empty when every cell ran


class PeakMemory:
    """Poll a process's resident memory (with its children) in a thread; ``peak_mb`` after."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.pid, self.interval, self.peak_mb = pid, interval, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        import psutil

        try:
            proc = psutil.Process(self.pid)
            while not self._stop.is_set():
                rss = proc.memory_info().rss
                for child in proc.children(recursive=True):
                    rss += child.memory_info().rss
                self.peak_mb = max(self.peak_mb, rss / 2**20)
                self._stop.wait(self.interval)
        except psutil.Error:  # the kernel has exited: keep the peak seen so far
            return

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def execute_notebook(
    path: Path, mode: str, cell_timeout: int | None = None, save_to: Path | None = None
) -> Run:
    """Run one notebook top to bottom in a fresh kernel; never waits forever on a cell.

    save_to: a folder; the executed notebook (outputs included, also after a failed cell) is
    written there as ``<lesson>.<mode>.ipynb``, through a temporary file, so a reader never
    finds half a notebook.
    """
    nb = nbformat.read(path, as_version=4)
    env = {**os.environ, "COURSE_FAST": "1" if mode == "fast" else "0", "MPLBACKEND": "Agg"}
    client = HeadlessClient(  # nbclient whose Output-widget echo cannot hide a reply
        nb,
        timeout=cell_timeout or CELL_TIMEOUT[mode],  # per cell: a hang becomes CellTimeoutError
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        iopub_timeout=15,  # wait this long for a cell's last outputs after its reply
        shutdown_kernel="immediate",
    )
    error, start, peak, index = "", time.perf_counter(), 0.0, -1
    with client.setup_kernel(env=env):
        with PeakMemory(client.km.provisioner.pid) as memory:
            try:
                for index, cell in enumerate(nb.cells):  # what client.execute() does, in OUR kernel
                    client.execute_cell(cell, index)
            except Exception as exc:  # recorded in the table, the next lesson still runs
                first_line = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
                error = f"cell {index}: {type(exc).__name__}: {first_line}"
        peak = memory.peak_mb
    if save_to is not None:
        save_to.mkdir(parents=True, exist_ok=True)
        partial = save_to / f".{path.stem}.{mode}.ipynb.part"
        nbformat.write(nb, partial)
        partial.replace(save_to / f"{path.stem}.{mode}.ipynb")
    return Run(path.stem, mode, round(time.perf_counter() - start, 1), round(peak), error)


def row_key(stem: str) -> str:
    """The WHAT_IT_TRAINS key of a notebook: "02" for a lesson, "02 lab" for its lab notebook.

    >>> row_key("02_stacked_autoencoders_lab")
    '02 lab'
    """
    return f"{stem[:2]} lab" if is_lab(stem) else stem[:2]


def is_lab(stem: str) -> bool:
    """A lab notebook (``NN_topic_lab``): the optional experiments behind lesson NN, no quiz."""
    return stem.endswith("_lab")


def lessons(folder: Path = NOTEBOOKS) -> list[Path]:
    """Every lesson notebook ``NN_*.ipynb`` (labs included, each after its lesson), in order."""
    return sorted(p for p in folder.glob("*.ipynb") if re.match(r"\d\d_", p.name))


def select(paths: list[Path], only: list[str] | None) -> list[Path]:
    """The notebooks ``--only`` names: "02" (lesson 02 and its lab), "02 lab" or "02_lab" (the lab
    alone), or a file name or stem ("02_stacked_autoencoders.ipynb"). None or [] keeps them all.

    Raises ValueError naming what matched nothing and what there is to choose from.
    """
    if not only:
        return list(paths)

    def matches(path: Path, word: str) -> bool:
        word = word.strip().removesuffix(".ipynb").removesuffix(".py").replace(" ", "_")
        return word in (path.stem[:2], path.stem) or (
            word.endswith("_lab") and row_key(path.stem).replace(" ", "_") == word
        )

    unknown = [w for w in only if not any(matches(p, w) for p in paths)]
    if unknown:
        choices = ", ".join(sorted({row_key(p.stem) for p in paths}))
        raise ValueError(
            f"--only {' '.join(unknown)} matches no notebook; expected a lesson number (e.g. 02), "
            f"'NN lab' or a file name; there are: {choices}"
        )
    return [p for p in paths if any(matches(p, w) for w in only)]


def format_table(runs: list[Run], what: dict[str, str] = WHAT_IT_TRAINS) -> str:
    """The README's Markdown table from runs (several per lesson and mode: the slowest counts).

    Columns: lesson, what it trains, minutes on a 2-core CPU (full mode), fast-mode seconds,
    peak memory (the larger of both modes). A lesson that failed shows "failed" in its column;
    a mode that was not run shows "-". The last row sums the times.
    """
    by_lesson: dict[str, dict[str, list[Run]]] = {}
    for r in runs:
        by_lesson.setdefault(r.lesson, {}).setdefault(r.mode, []).append(r)
    header = (
        "| lesson | what it trains | minutes on a 2-core CPU | fast-mode seconds | peak memory |"
    )
    lines = [header, "|---|---|---:|---:|---:|"]
    totals: dict[str, float] = {}

    def cell(mode_runs: list[Run] | None, mode: str) -> str:
        if not mode_runs:
            return "-"
        if any(r.error for r in mode_runs):
            return "failed"
        slowest = max(r.seconds for r in mode_runs)
        totals[mode] = totals.get(mode, 0.0) + slowest
        return f"{slowest / 60:.1f}" if mode == "full" else f"{slowest:.0f}"

    for lesson in sorted(by_lesson):
        modes = by_lesson[lesson]
        peak = max(r.peak_mb for rs in modes.values() for r in rs)
        full_cell, fast_cell = cell(modes.get("full"), "full"), cell(modes.get("fast"), "fast")
        lines.append(f"| {lesson} | {what.get(row_key(lesson), '')} | {full_cell} | {fast_cell} "
                     f"| {peak / 1024:.1f} GB |")  # fmt: skip
    full = f"**{totals['full'] / 60:.1f}**" if "full" in totals else "-"
    fast = f"**{totals['fast']:.0f}**" if "fast" in totals else "-"
    lines.append(f"| **all** | | {full} | {fast} | |")  # failed lessons are not counted
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m course_admin.runtimes",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--modes", nargs="+", choices=("full", "fast"), default=["full", "fast"])
    parser.add_argument("--repeat", type=int, default=1, help="run every lesson N times per mode")
    parser.add_argument(
        "--only", nargs="*", default=None,
        help="lesson numbers (02: lesson and lab), '02_lab' for a lab alone, or file names",
    )  # fmt: skip
    parser.add_argument("--cell-timeout", type=int, default=None, help="seconds per cell")
    parser.add_argument("--out", type=Path, default=None, help="also write the table here")
    parser.add_argument(
        "--save", type=Path, default=None, help="write each executed notebook into this folder"
    )
    args = parser.parse_args(argv)
    try:
        chosen = select(lessons(), args.only)
    except ValueError as error:
        parser.error(str(error))
    runs = []
    for path in chosen:
        for mode in args.modes:
            for _ in range(args.repeat):
                run = execute_notebook(path, mode, args.cell_timeout, args.save)
                print(json.dumps(asdict(run)), flush=True)
                runs.append(run)
    table = format_table(runs)
    print(table)
    if args.out:  # written whole or not at all: a temporary file, then a rename
        args.out.parent.mkdir(parents=True, exist_ok=True)
        partial = args.out.with_name(args.out.name + ".partial")
        partial.write_text(table + "\n")
        partial.replace(args.out)
    failed = [r for r in runs if r.error]
    if failed:
        details = "; ".join(f"{r.lesson} ({r.mode}): {r.error}" for r in failed)
        raise SystemExit(f"{len(failed)} run(s) failed: {details}")


if __name__ == "__main__":
    main()
