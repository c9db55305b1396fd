"""``python -m course_utils.bench [NAME ...] [--quick]``: speed and quality claims, checkable.

Each benchmark trains the course's own code (``fit``, ``predict``, the lesson models and losses)
side by side with what a user would otherwise write (a torchvision dataset with ``ToTensor`` per
item and a ``DataLoader``), on the SAME images with the SAME test protocol, and prints ONE JSON
line: both sides' figures, their ratio, the data used and the thread counts. Warm-up steps are
run and excluded for both sides. Everything is offline (``COURSE_OFFLINE=1`` is set).

Benchmarks (see ``course_utils.bench_recipes`` for the recipes, docs/PERFORMANCE.md for results):
    vae-mlp     classic VAE recipe vs ours: our wall time to reach the classic test loss
    ae-dense    784-128-32 autoencoder: test MSE per pixel and time vs a DataLoader baseline
    ae-conv     convolutional autoencoder (32-number code), the same comparison
    dae         mean PSNR of the lesson-04 denoiser vs the tuned Gaussian blur, sigma 0.1..0.6
    linear-pca  linear-AE test MSE over PCA's at k = 2, 10, 32, and the time of ``PCA.fit``

``--quick`` (CI) runs every benchmark on a few hundred images for one epoch: it checks that the
machinery runs and that the JSON has its shape, never the numbers.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from course_utils.data import ImageData, load_dataset

QUICK_SIZES = {"train": 512, "valid": 256, "test": 256}  # images per split with --quick


@dataclass
class BenchConfig:
    """What every benchmark gets: the data, the mode, and our side's thread count."""

    data: ImageData
    quick: bool
    threads: int  # torch threads for our side
    reference_threads: int  # torch threads for the reference side

    def describe(self) -> dict:
        x = self.data
        return {
            "data": x.name,
            "images": {"train": len(x.train.x), "valid": len(x.valid.x), "test": len(x.test.x)},
            "threads_ours": self.threads,
            "threads_reference": self.reference_threads,
            "quick": self.quick,
        }


def load_bench_data(quick: bool, valid_fraction: float = 0.1) -> ImageData:
    """Fashion-MNIST when on disk, else MNIST (COURSE_MNIST_DIR), else the embedded fallback.

    Images (N, 1, 28, 28) float32 in [0, 1]. With ``quick`` every split is cut to a few hundred.
    Course chatter ("Data: ...") goes to stderr, so stdout holds only JSON lines.
    """
    os.environ.setdefault("COURSE_OFFLINE", "1")  # a benchmark never downloads
    with contextlib.redirect_stdout(sys.stderr):
        data = load_dataset("fashion_mnist", valid_fraction=valid_fraction, fast=quick)
        if data.is_fallback:
            data = load_dataset("mnist", valid_fraction=valid_fraction, fast=quick)
    if quick:
        for split in ("train", "valid", "test"):
            s = getattr(data, split)
            setattr(data, split, type(s)(s.x[: QUICK_SIZES[split]], s.y[: QUICK_SIZES[split]]))
    return data


@contextlib.contextmanager
def torch_threads(n: int):
    """Run the block with ``n`` torch threads, then restore the previous count."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class Stopwatch:
    """``with Stopwatch() as sw: ...`` then ``sw.seconds``: wall time of the block."""

    def __enter__(self) -> Stopwatch:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.start


def ratio(ours: float, reference: float) -> float:
    """ours / reference, rounded; inf when the reference is 0."""
    return round(ours / reference, 4) if reference else float("inf")


def _registry() -> dict[str, Callable[[BenchConfig], dict]]:
    from course_utils import bench_recipes as r  # the recipes import the lesson modules

    return {
        "vae-mlp": r.bench_vae_mlp,
        "ae-dense": r.bench_ae_dense,
        "ae-conv": r.bench_ae_conv,
        "dae": r.bench_dae,
        "linear-pca": r.bench_linear_pca,
    }


BENCHMARKS = ("vae-mlp", "ae-dense", "ae-conv", "dae", "linear-pca")
REQUIRED_KEYS = ("benchmark", "data", "images", "threads_ours", "threads_reference", "quick",
                 "ours", "reference", "ratio", "goal", "goal_met", "seconds")  # fmt: skip


def check_names(names: list[str]) -> list[str]:
    """The benchmark names to run (all when empty); a clear error for an unknown one."""
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        raise SystemExit(
            f"Unknown benchmark name(s): {', '.join(unknown)}. Choose among: "
            f"{', '.join(BENCHMARKS)} (or give none to run them all)."
        )
    return list(names) or list(BENCHMARKS)


def run(names: list[str], quick: bool = False, threads: int | None = None) -> list[dict]:
    """Run the named benchmarks; print and return one result dict (JSON line) per benchmark.

    ``threads`` (default: torch's default) is used by BOTH sides, so that the reference is never
    handicapped by our choice: on a busy machine 2 threads per process can be several times
    slower than 1 (docs/PERFORMANCE.md).
    """
    names = check_names(names)
    threads = threads or torch.get_num_threads()
    results = []
    datasets: dict[float, ImageData] = {}
    registry = _registry()
    for name in names:
        fraction = 0.0 if name == "vae-mlp" else 0.1  # the classic VAE trains on all 60k
        if fraction not in datasets:
            datasets[fraction] = load_bench_data(quick, fraction)
        cfg = BenchConfig(datasets[fraction], quick, threads, threads)
        with Stopwatch() as sw, torch_threads(threads):
            figures = registry[name](cfg)
        line = {"benchmark": name, **cfg.describe(), **figures, "seconds": round(sw.seconds, 1)}
        print(json.dumps(line), flush=True)
        results.append(line)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m course_utils.bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"among {', '.join(BENCHMARKS)}")
    parser.add_argument("--quick", action="store_true", help="tiny data, 1 epoch: JSON shape only")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads for both sides (default: torch's default)")  # fmt: skip
    args = parser.parse_args(argv)
    run(args.names, quick=args.quick, threads=args.threads)


if __name__ == "__main__":
    main()
