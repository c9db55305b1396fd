"""Training and judging denoising autoencoders (lesson 04): the objective, PSNR table, figures.

The corruption functions themselves live in ``course_utils.corruption``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor, nn

from course_utils.corruption import NOISE_KINDS, best_blur_sigma, corrupt, gaussian_blur, psnr
from course_utils.inputs import check_codes, check_sizes, check_widths, model_dtype
from course_utils.losses import sse_per_image
from course_utils.models import flatten_input, mlp
from course_utils.plots import NotebookFigure, rows_figure
from course_utils.train import Batch, predict
from course_utils.widgets import FigureView

NOISE_LABELS = {"gaussian": "Gaussian std", "masking": "masked fraction p",
                "salt_and_pepper": "salt-and-pepper fraction p"}  # fmt: skip


class DenoisingObjective:
    """Objective for ``fit``: corrupt the clean images ON THE FLY, reconstruct the clean ones.

    ``levels`` maps a noise kind to the (low, high) range its level is drawn from, e.g.
    ``{"gaussian": (0.0, 0.5)}``. For every batch ``(x,)`` one kind is picked at random and one
    level drawn uniformly from its range, so the model is a BLIND denoiser: it is never told the
    noise level. The loss is ``per_image_loss(model(noisy), x)``: the TARGET is the clean image.

    While training, the noise comes from a generator seeded with ``seed`` whose state moves on,
    so each epoch sees NEW noise on the same clean images. In eval mode (validation inside
    ``fit``, or ``evaluate``) the noise of a batch is fixed: the same batch always gets the same
    noise, so validation scores of different epochs are comparable. ``valid_noise=(kind, level)``
    fixes the kind and level used in eval mode too (default: drawn like in training).

    ``relative=True`` divides the batch's loss by the same loss of the noisy input itself (the
    damage, floored at ``min_damage``): the loss becomes the SHARE of the damage that remains
    (1: no better than the input, 0: perfect). Mild noise does little damage, so with plain
    squared error its batches weigh little next to heavy noise; relative, every level counts.
    A ratio is not a squared error, so it is logged under its own name: ``loss_name`` is
    "damage_ratio" (history columns ``train_damage_ratio``, ``valid_damage_ratio``; see
    ``train``), and "loss" when ``relative=False``.
    """

    def __init__(
        self,
        levels: Mapping[str, tuple[float, float]],
        seed: int = 0,
        per_image_loss: Callable[[Tensor, Tensor], Tensor] = sse_per_image,
        valid_noise: tuple[str, float] | None = None,
        relative: bool = False,
        min_damage: float = 1.0,
    ) -> None:
        unknown = [k for k in levels if k not in NOISE_KINDS]
        if not levels or unknown:
            raise ValueError(
                f"DenoisingObjective expects levels for noise kinds among {list(NOISE_KINDS)}, "
                f"but received {list(levels)}."
            )
        self.levels, self.seed, self.per_image_loss = dict(levels), seed, per_image_loss
        self.valid_noise, self.relative, self.min_damage = valid_noise, relative, min_damage
        self.generator = torch.Generator().manual_seed(seed)

    @property
    def loss_name(self) -> str:
        """The name ``fit`` and ``evaluate`` record the loss under: a ratio says so."""
        return "damage_ratio" if self.relative else "loss"

    def _noise_generator(self, model: nn.Module, x: Tensor) -> torch.Generator:
        if model.training:
            return self.generator
        fingerprint = int(x.double().sum().item() * 1000) % 2**31  # same batch, same noise
        return torch.Generator().manual_seed(self.seed + fingerprint)

    def __call__(self, model: nn.Module, batch: Batch) -> tuple[Tensor, dict]:
        x = batch[0]  # (B, 1, 28, 28) clean images
        g = self._noise_generator(model, x)
        if self.valid_noise is not None and not model.training:
            kind, level = self.valid_noise
        else:
            kinds = list(self.levels)
            kind = kinds[int(torch.randint(len(kinds), (1,), generator=g))]
            low, high = self.levels[kind]
            level = low + (high - low) * torch.rand(1, generator=g).item()
        noisy = corrupt(x, kind, level, g)  # (B, 1, 28, 28), new noise each training step
        loss = self.per_image_loss(model(noisy), x).mean()
        if self.relative:  # divide by the damage: the same loss of the noisy input, a constant
            loss = loss / self.per_image_loss(noisy, x).mean().clamp_min(self.min_damage)
        return loss, {}


class SkipDenoisingAutoencoder(nn.Module):
    """A dense denoising autoencoder whose output can also take pixels straight from its input.

    The code path is the usual one: ``encode`` (B, 1, 28, 28) or (B, 784) -> (B, n_latent),
    then ``decode`` (B, n_latent) -> two maps of (B, 784): a reconstruction ``r`` in (0, 1) and
    a per-pixel TRUST ``t`` in (0, 1), both through a sigmoid. The skip path carries the noisy
    input x~ around the bottleneck, so the output (same shape as the input) is the blend

        output = t * x~ + (1 - t) * r          per pixel; in [0, 1] when x~ is in [0, 1].

    Fine detail that cannot pass the code passes the skip; the decoder, which sees only the code,
    decides where the noisy pixel is worth keeping. ``reconstruct`` returns ``r`` alone (shaped
    like the input): what the code path outputs without the skip.
    """

    def __init__(self, n_inputs: int = 784, hidden: tuple[int, ...] = (512,), n_latent: int = 256):
        check_sizes("SkipDenoisingAutoencoder", n_inputs=n_inputs, n_latent=n_latent)
        hidden = check_widths(hidden, "hidden", "SkipDenoisingAutoencoder")
        super().__init__()
        self.n_inputs, self.n_latent = n_inputs, n_latent
        self.encoder = mlp([n_inputs, *hidden, n_latent])  # (B, 784) -> (B, n_latent)
        self.decoder = mlp([n_latent, *reversed(hidden), 2 * n_inputs])  # -> (B, 2 * 784)

    def encode(self, x: Tensor) -> Tensor:
        x = flatten_input(x, self.n_inputs, "SkipDenoisingAutoencoder", model_dtype(self))
        return self.encoder(x)  # (B, 784) -> (B, n_latent)

    def decode(self, z: Tensor) -> tuple[Tensor, Tensor]:
        """(B, n_latent) -> reconstruction r (B, 784) and trust t (B, 784), both in (0, 1)."""
        check_codes(z, self.n_latent, "SkipDenoisingAutoencoder.decode", model_dtype(self))
        r_logits, t_logits = self.decoder(z).chunk(2, dim=1)
        return torch.sigmoid(r_logits), torch.sigmoid(t_logits)

    def reconstruct(self, x: Tensor) -> Tensor:
        """The code path alone, no skip: r for inputs x, shaped like x."""
        return self.decode(self.encode(x))[0].view_as(x)

    def forward(self, x: Tensor) -> Tensor:
        r, t = self.decode(self.encode(x))  # (B, 784) each
        return (t * x.reshape(len(x), -1) + (1 - t) * r).view_as(x)


def denoise(model: nn.Module, noisy: Tensor, batch_size: int = 1000) -> Tensor:
    """The model's outputs for noisy images (N, ...), clamped to [0, 1], on the CPU."""
    return predict(model, noisy, batch_size=batch_size).clamp(0, 1)


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


def psnr_curves_figure(rows: list[dict], title: str | None = None) -> Figure:
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
    return rows_figure({"noisy input": noisy, "denoised": denoised, "clean target": clean},
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
    return FigureView(partial(denoising_figure, model, clean), controls)


def denoising_field_figure(
    model: nn.Module, clean: Tensor, noisy: Tensor, lim: float = 1.8, n_grid: int = 21
) -> Figure:
    """2-D toy picture: arrows from points x to the model's output r(x), on a grid.

    ``clean`` and ``noisy`` are (N, 2) point clouds. A denoiser trained on points near a curve
    learns arrows that point back TOWARDS the curve: it has learned where the data lives.
    """
    t = torch.linspace(-lim, lim, n_grid)
    grid = torch.cartesian_prod(t, t)  # (n_grid^2, 2)
    step = predict(model, grid) - grid  # r(x) - x, (n_grid^2, 2)
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
