"""``python -m course_admin.bench [NAME ...] [--quick]``: speed and quality claims, checkable.

Each benchmark trains the course's own code (``fit``, ``predict``, the lesson models and losses)
side by side with what a user would otherwise write (a torchvision dataset with ``ToTensor`` per
item and a ``DataLoader``), on the SAME images with the SAME test protocol, and prints ONE JSON
line: both sides' figures, their ratio, the data used and the thread counts. Warm-up steps are
run and excluded for both sides. Everything is offline (``COURSE_OFFLINE=1`` is set).

Benchmarks (both sides' recipes: ``course_admin.bench.recipes``; results: docs/PERFORMANCE.md):
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
import math
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from course_admin.bench.recipes import (
    BenchConfig,
    ClassicVAE,
    Recipe,
    Stopwatch,
    _loader,
    _warm_up,
    classic_train,
    classic_vae_loss,
    fit_recipe,
    ratio,
    torch_threads,
    torchvision_dataset,
    vae_test_loss,
)
from course_utils.conv import ConvAutoencoder
from course_utils.corruption import best_blur_sigma, corrupt, gaussian_blur, psnr
from course_utils.data import ImageData, load_dataset
from course_utils.denoising import DenoisingObjective, SkipDenoisingAutoencoder, denoise
from course_utils.losses import mse_per_pixel
from course_utils.models import DenseAutoencoder, LinearAutoencoder
from course_utils.pca import PCA
from course_utils.train import Callback, TrainState, predict
from course_utils.vae import VAE, VAEObjective

QUICK_SIZES = {"train": 512, "valid": 256, "test": 256}  # images per split with --quick


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


def _registry() -> dict[str, Callable[[BenchConfig], dict]]:
    return {
        "vae-mlp": bench_vae_mlp,
        "ae-dense": bench_ae_dense,
        "ae-conv": bench_ae_conv,
        "dae": bench_dae,
        "linear-pca": bench_linear_pca,
    }


# ---------------------------------------------------------------------- the benchmarks
GAUSSIAN_LEVELS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6)


# At most six epochs (the classic recipe: ten), a larger learning rate decayed to 0 along a
# cosine over those six (how many epochs it takes to reach the classic loss: docs/PERFORMANCE.md).
VAE_EPOCHS, VAE_BATCH, VAE_LR = 6, 128, 5e-3


def bench_vae_mlp(cfg: BenchConfig) -> dict:
    x, y, x_test = cfg.data.train.x, cfg.data.train.y, cfg.data.test.x
    epochs = 1 if cfg.quick else 10
    with tempfile.TemporaryDirectory() as root:
        dataset = torchvision_dataset(cfg, x, y, Path(root))
        torch.manual_seed(0)
        _warm_up(
            ClassicVAE, classic_vae_loss, dataset, lambda: VAE(784, (400,), 20), x, VAEObjective()
        )
        torch.manual_seed(0)
        reference = ClassicVAE()
        seconds = classic_train(reference, _loader(dataset), classic_vae_loss, epochs)
    target = vae_test_loss(reference, x_test)
    ref_total = sum(seconds)

    class StopAtTarget(Callback):
        def __init__(self) -> None:
            self.losses: list[float] = []

        def on_epoch_end(self, state: TrainState) -> None:
            self.losses.append(vae_test_loss(state.model, x_test))
            state.stop = self.losses[-1] <= target

    stopper = StopAtTarget()
    recipe = Recipe(steps=VAE_EPOCHS * math.ceil(len(x) / VAE_BATCH), batch_size=VAE_BATCH,
                    lr=VAE_LR, cosine=True)  # fmt: skip
    torch.manual_seed(0)
    ours = VAE(784, hidden=(400,), n_latent=20)
    with Stopwatch() as sw:  # the clock includes our test-loss checks after every epoch
        fit_recipe(ours, x, recipe, cfg.quick, objective=VAEObjective(), callbacks=[stopper])
    reached = stopper.losses[-1] <= target
    return {
        "reference": {"seconds_per_epoch": round(ref_total / epochs, 2), "epochs": epochs,
                      "test_loss": round(target, 2), "seconds": round(ref_total, 1)},
        "ours": {"seconds_to_reference_loss": round(sw.seconds, 1), "epochs": len(stopper.losses),
                 "test_loss": round(stopper.losses[-1], 2), "reached": reached,
                 "recipe": asdict(recipe)},
        "ratio": ratio(sw.seconds, ref_total) if reached else None,
        "goal": "ours time-to-quality <= 0.35 x reference",
        "goal_met": bool(reached and sw.seconds <= 0.35 * ref_total),
    }  # fmt: skip


# ------------------------------------------------------------------------- ae-dense, ae-conv
def _mse_objective(model: nn.Module, x: Tensor) -> Tensor:
    return F.mse_loss(model(x), x, reduction="mean")  # the classic: mean over every pixel


def _bench_ae(cfg: BenchConfig, make_model, recipe: Recipe, goal: float) -> dict:
    x, y, x_test = cfg.data.train.x, cfg.data.train.y, cfg.data.test.x
    epochs = recipe.epochs(len(x), cfg.quick)  # both sides: the lesson's budget in epochs
    with tempfile.TemporaryDirectory() as root:
        dataset = torchvision_dataset(cfg, x, y, Path(root))
        torch.manual_seed(0)
        _warm_up(make_model, _mse_objective, dataset, make_model, x)
        torch.manual_seed(0)
        reference = make_model()
        ref_seconds = sum(classic_train(reference, _loader(dataset), _mse_objective, epochs))
    torch.manual_seed(0)
    ours = make_model()
    with Stopwatch() as sw:
        fit_recipe(ours, x, recipe, cfg.quick)
    mse_ref = mse_per_pixel(predict(reference, x_test), x_test).item()
    mse_ours = mse_per_pixel(predict(ours, x_test), x_test).item()
    return {
        "reference": {"test_mse_per_pixel": round(mse_ref, 5), "seconds": round(ref_seconds, 1),
                      "epochs": epochs, "batch_size": 128, "lr": 1e-3},
        "ours": {"test_mse_per_pixel": round(mse_ours, 5), "seconds": round(sw.seconds, 1),
                 "epochs": epochs, "recipe": asdict(recipe)},
        "ratio": {"mse": ratio(mse_ours, mse_ref), "time": ratio(sw.seconds, ref_seconds)},
        "goal": f"ours test MSE per pixel <= {goal} within the lesson's budget",
        "goal_met": mse_ours <= goal,
    }  # fmt: skip


DENSE_RECIPE = Recipe(steps=4000, batch_size=128, lr=2e-3, cosine=True)  # lesson 02's budget
CONV_RECIPE = Recipe(steps=1300, batch_size=128, lr=6e-3, cosine=True)  # lesson 03's recipe


def bench_ae_dense(cfg: BenchConfig) -> dict:
    return _bench_ae(cfg, lambda: DenseAutoencoder(784, hidden=(128,), n_latent=32),
                     DENSE_RECIPE, goal=0.0125)  # fmt: skip


def bench_ae_conv(cfg: BenchConfig) -> dict:
    """Lesson 03's upsample model, with BatchNorm, trained with the lesson's recipe."""
    return _bench_ae(cfg, lambda: ConvAutoencoder(n_latent=32, decoder="upsample", batch_norm=True),
                     CONV_RECIPE, goal=0.0100)  # fmt: skip


# ---------------------------------------------------------------------------------------- dae
DAE_LEVELS = {"gaussian": (0.1, 0.7), "masking": (0.1, 0.9), "salt_and_pepper": (0.05, 0.6)}
# The benchmark's budget; lesson 04 itself trains 3,000 steps (docs/PERFORMANCE.md).
DAE_RECIPE = Recipe(steps=3400, batch_size=128, lr=2e-3, cosine=True)


def bench_dae(cfg: BenchConfig) -> dict:
    """Mean PSNR (dB) of lesson 04's denoiser vs the best Gaussian blur (width tuned on valid)."""
    d = cfg.data
    torch.manual_seed(0)
    dae = SkipDenoisingAutoencoder(784, hidden=(512,), n_latent=256)  # lesson 04's model
    objective = DenoisingObjective(DAE_LEVELS, seed=1, valid_noise=("gaussian", 0.3), relative=True)
    with Stopwatch() as sw:
        fit_recipe(dae, d.train.x, DAE_RECIPE, cfg.quick, objective=objective)
    test, valid = d.test.x[:2000], d.valid.x[:1000]
    rows = []
    for j, level in enumerate(GAUSSIAN_LEVELS):  # the seeds of lesson 04's psnr_table
        g = torch.Generator().manual_seed(10 + j)
        noisy_valid, noisy_test = (
            corrupt(valid, "gaussian", level, g),
            corrupt(test, "gaussian", level, g),
        )
        sigma, _ = best_blur_sigma(noisy_valid, valid)
        blur = psnr(gaussian_blur(noisy_test, sigma), test).mean().item()
        ours = psnr(denoise(dae, noisy_test), test).mean().item()
        rows.append({"sigma": level, "blur_db": round(blur, 2), "ours_db": round(ours, 2)})
    margins = [r["ours_db"] - r["blur_db"] for r in rows]
    return {
        "reference": {"name": "Gaussian blur, width tuned on noisy validation images",
                      "psnr_db": [r["blur_db"] for r in rows]},
        "ours": {"psnr_db": [r["ours_db"] for r in rows], "train_seconds": round(sw.seconds, 1),
                 "recipe": asdict(DAE_RECIPE), "levels": DAE_LEVELS,
                 "model": "SkipDenoisingAutoencoder 784-512-256, relative loss (lesson 04)"},
        "sigmas": list(GAUSSIAN_LEVELS),
        "ratio": {"min_margin_db": round(min(margins), 2)},
        "goal": "ours ahead of the tuned blur at every sigma 0.1..0.6",
        "goal_met": min(margins) > 0,
    }  # fmt: skip


# --------------------------------------------------------------------------------- linear-pca
LINEAR_RECIPE = Recipe(steps=6000, batch_size=128, lr=3e-3, cosine=True)  # lesson 01's budget


def bench_linear_pca(cfg: BenchConfig) -> dict:
    x, x_test = cfg.data.train.x, cfg.data.test.x
    flat = x.flatten(1)  # (N, 1, 28, 28) -> (N, 784)
    PCA(2).fit(flat[:1000])  # warm-up
    with Stopwatch() as fit_time:
        pca = PCA(32).fit(flat)
    with Stopwatch() as svd_time:  # the reference: a full SVD of the centred data
        torch.linalg.svd(flat - flat.mean(0), full_matrices=False)
    ks = (2, 10, 32) if not cfg.quick else (2,)
    per_k = {}
    for k in ks:
        torch.manual_seed(0)
        model = LinearAutoencoder(784, k)
        fit_recipe(model, x, LINEAR_RECIPE, cfg.quick)
        ae = mse_per_pixel(predict(model, x_test), x_test).item()
        ref = mse_per_pixel(pca.truncated(k).reconstruct(x_test.flatten(1)),
                            x_test.flatten(1)).item()  # fmt: skip
        per_k[str(k)] = {"ae": round(ae, 6), "pca": round(ref, 6), "ratio": ratio(ae, ref)}
    worst = max(v["ratio"] for v in per_k.values())
    return {
        "reference": {"pca_test_mse_per_pixel": {k: v["pca"] for k, v in per_k.items()},
                      "full_svd_seconds": round(svd_time.seconds, 2)},
        "ours": {"linear_ae_test_mse_per_pixel": {k: v["ae"] for k, v in per_k.items()},
                 "pca_fit_seconds": round(fit_time.seconds, 2), "pca_fit_images": len(flat),
                 "recipe": asdict(LINEAR_RECIPE)},
        "ratio": {"mse": {k: v["ratio"] for k, v in per_k.items()},
                  "pca_fit_time": ratio(fit_time.seconds, svd_time.seconds)},
        "goal": "linear-AE test MSE / PCA's <= 1.005 at every k",
        "goal_met": worst <= 1.005,
    }  # fmt: skip


# ------------------------------------------------------------------ running them
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
    handicapped by our choice: on a busy machine 2 threads per process can be slower than 1
    (docs/PERFORMANCE.md has the measurement).
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
        prog="python -m course_admin.bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"among {', '.join(BENCHMARKS)}")
    parser.add_argument("--quick", action="store_true", help="tiny data, 1 epoch: JSON shape only")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads for both sides (default: torch's default)")  # fmt: skip
    args = parser.parse_args(argv)
    run(args.names, quick=args.quick, threads=args.threads)
