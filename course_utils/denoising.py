"""Training and judging denoising autoencoders (lesson 04): the loss, the PSNR table, figures.

The corruption functions themselves live in ``course_utils.corruption``.
"""

from __future__ import annotations

from collections.abc import Mapping

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor, nn

from course_utils.corruption import NOISE_KINDS, best_blur_sigma, corrupt, gaussian_blur, psnr
from course_utils.losses import mse_loss
from course_utils.plots import NotebookFigure, show_rows
from course_utils.train import Batch, LossFn
from course_utils.widgets import FigureView

NOISE_LABELS = {"gaussian": "Gaussian std", "masking": "masked fraction p",
                "salt_and_pepper": "salt-and-pepper fraction p"}  # fmt: skip


def denoising_loss(
    levels: Mapping[str, tuple[float, float]], generator: torch.Generator, loss=mse_loss
) -> LossFn:
    """A ``loss_fn(model, batch)`` for ``fit`` that corrupts the clean images ON THE FLY.

    ``levels`` maps a noise kind to the (low, high) range its level is drawn from, e.g.
    ``{"gaussian": (0.0, 0.5)}``. For every batch one kind is picked at random and one level is
    drawn uniformly from its range; the noise comes from ``generator``,
    whose state moves on, so each epoch sees NEW noise on the same clean images.

    A batch ``(x,)`` is corrupted here; a batch ``(noisy, clean)`` is used as it is (a fixed,
    reproducible validation set). Either way the TARGET is the clean image.
    """
    kinds = list(levels)

    def loss_fn(model: nn.Module, batch: Batch) -> Tensor:
        if len(batch) == 2:  # (noisy, clean): already corrupted
            noisy, clean = batch
        else:
            clean = batch[0]
            kind = kinds[torch.randint(len(kinds), (1,), generator=generator).item()]
            low, high = levels[kind]
            level = low + (high - low) * torch.rand(1, generator=generator).item()
            noisy = corrupt(clean, kind, level, generator)  # (B, 1, 28, 28), new noise each call
        return loss(model(noisy), clean)

    return loss_fn


@torch.no_grad()
def denoise(model: nn.Module, noisy: Tensor, batch_size: int = 1000) -> Tensor:
    """Run ``model`` in eval mode on its device, in batches; returns a CPU tensor like ``noisy``."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    out = torch.cat([model(noisy[i : i + batch_size].to(device)).cpu()
                     for i in range(0, len(noisy), batch_size)])  # fmt: skip
    model.train(was_training)
    return out.clamp(0, 1)


def psnr_table(
    model: nn.Module,
    test: Tensor,
    valid: Tensor,
    levels: Mapping[str, tuple[float, ...]],
    seed: int = 0,
) -> list[dict[str, float | str]]:
    """Mean PSNR (dB) on corrupted TEST images for the noisy input, the best blur and the model.

    For each kind and level, the test images (N, 1, 28, 28) are corrupted with a generator
    seeded from ``seed`` (the same noise every run). The blur width is tuned on corrupted
    ``valid`` images, never on the test images. Returns one dict per (kind, level) with keys
    kind, level, noisy, blur, blur_sigma, model.
    """
    rows = []
    for k, kind in enumerate(levels):
        for j, level in enumerate(levels[kind]):
            g = torch.Generator().manual_seed(seed + 1000 * k + j)
            noisy_valid, noisy_test = corrupt(valid, kind, level, g), corrupt(test, kind, level, g)
            sigma, _ = best_blur_sigma(noisy_valid, valid)
            rows.append({
                "kind": kind, "level": float(level),
                "noisy": psnr(noisy_test, test).mean().item(),
                "blur": psnr(gaussian_blur(noisy_test, sigma), test).mean().item(),
                "blur_sigma": sigma,
                "model": psnr(denoise(model, noisy_test), test).mean().item(),
            })  # fmt: skip
    return rows


def plot_psnr_curves(rows: list[dict], title: str | None = None) -> Figure:
    """One panel per noise kind: PSNR vs noise level for the model, the blur and the input."""
    kinds = [k for k in NOISE_KINDS if any(r["kind"] == k for r in rows)]
    fig = NotebookFigure(figsize=(4.2 * len(kinds), 3.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(kinds)))
    styles = (("model", "denoising AE", "-o"), ("blur", "best Gaussian blur", "--s"),
              ("noisy", "noisy input (no denoising)", ":^"))  # fmt: skip
    for ax, kind in zip(axes, kinds, strict=True):
        sub = [r for r in rows if r["kind"] == kind]
        for key, label, style in styles:
            ax.plot([r["level"] for r in sub], [r[key] for r in sub], style, label=label)
        ax.set(xlabel=NOISE_LABELS[kind], ylabel="mean PSNR on test images (dB)", title=kind)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def denoising_figure(
    model: nn.Module, clean: Tensor, kind: str = "gaussian", level: float = 0.3, seed: int = 0
) -> Figure:
    """Rows noisy / denoised / clean for images (N, 1, 28, 28), with the mean PSNRs in the title.

    The noise is drawn from a generator seeded with ``seed``: the same level shows the same noise.
    """
    noisy = corrupt(clean, kind, level, torch.Generator().manual_seed(seed))
    denoised = denoise(model, noisy)
    title = (f"{kind}, level {level:.2f}: PSNR noisy {psnr(noisy, clean).mean():.1f} dB -> "
             f"denoised {psnr(denoised, clean).mean():.1f} dB")  # fmt: skip
    return show_rows({"noisy input": noisy, "denoised": denoised, "clean target": clean},
                     n=len(clean), title=title)  # fmt: skip


def denoising_view(
    model: nn.Module, clean: Tensor, kind: str = "gaussian", level: float = 0.3
) -> FigureView:
    """Lesson 04: a noise-kind menu and a noise-level slider over ``denoising_figure``."""
    controls = {
        "kind": widgets.Dropdown(options=list(NOISE_KINDS), value=kind, description="noise"),
        "level": widgets.FloatSlider(value=level, min=0.0, max=0.8, step=0.05,
                                     description="level", continuous_update=False),
    }  # fmt: skip
    return FigureView(lambda kind, level: denoising_figure(model, clean, kind, level), controls)


def plot_denoising_field(
    model: nn.Module, clean: Tensor, noisy: Tensor, lim: float = 1.8, n_grid: int = 21
) -> Figure:
    """2-D toy picture: arrows from points x to the model's output r(x), on a grid.

    ``clean`` and ``noisy`` are (N, 2) point clouds. A denoiser trained on points near a curve
    learns arrows that point back TOWARDS the curve: it has learned where the data lives.
    """
    t = torch.linspace(-lim, lim, n_grid)
    grid = torch.cartesian_prod(t, t)  # (n_grid^2, 2)
    with torch.no_grad():
        step = model(grid.to(next(model.parameters()).device)).cpu() - grid  # r(x) - x
    fig = NotebookFigure(figsize=(5.2, 5), layout="constrained")
    ax = fig.subplots()
    ax.scatter(*noisy.T, s=3, color="tab:orange", alpha=0.35, label="noisy training inputs")
    ax.scatter(*clean.T, s=3, color="tab:blue", label="clean data (a circle)")
    ax.quiver(*grid.T, *step.T, angles="xy", scale_units="xy", scale=1, width=0.004,
              color="0.2", label="r(x) - x", zorder=3)  # fmt: skip
    ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal",
           title="the denoiser's arrows point back to the data")  # fmt: skip
    ax.legend(loc="upper right", fontsize=8, framealpha=0.9)
    return fig
