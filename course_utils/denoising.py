"""Training and judging denoising autoencoders (lesson 04): the objective, PSNR table, figures.

The corruption functions and the classic non-learned denoisers (blur, median filter) live in
``course_utils.corruption``; here are the learned side (``DenoisingObjective``, the skip-path
model), the PCA-projection baseline, the PSNR table that puts them all side by side, and the 2-D
toy of the lesson's last section, with the optimal denoiser of a circle (Tweedie's formula).
One idea: everything lesson 04 needs to train a denoiser and judge it against the non-learned
ones, in the order the lesson uses it; the noise itself stays in ``course_utils.corruption``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial

import ipywidgets as widgets
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from torch import Tensor, nn

from course_utils.corruption import (
    NOISE_KINDS,
    best_knob,
    corrupt,
    gaussian_blur,
    median_filter,
    psnr,
)
from course_utils.inputs import check_codes, check_sizes, check_widths, model_dtype
from course_utils.losses import sse_per_image
from course_utils.models import flatten_input, mlp
from course_utils.pca import PCA
from course_utils.plots import NotebookFigure, flow_diagram_figure, rows_figure
from course_utils.train import Batch, predict
from course_utils.widgets import FigureView

NOISE_LABELS = {"gaussian": "Gaussian std", "masking": "masked fraction p",
                "salt_and_pepper": "salt-and-pepper fraction p"}  # fmt: skip
BLUR_SIGMAS = (0.0, 0.5, 0.75, 1.0, 1.5, 2.0)  # blur widths (pixels) tried on validation images


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

    def trust(self, x: Tensor) -> Tensor:
        """The trust map t for inputs x, shaped like x: 1 keeps the noisy pixel, 0 uses r."""
        return self.decode(self.encode(x))[1].view_as(x)

    def forward(self, x: Tensor) -> Tensor:
        r, t = self.decode(self.encode(x))  # (B, 784) each
        return (t * x.reshape(len(x), -1) + (1 - t) * r).view_as(x)


def denoise(model: nn.Module, noisy: Tensor, batch_size: int = 1000) -> Tensor:
    """The model's outputs for noisy images (N, ...), clamped to [0, 1], on the CPU."""
    return predict(model, noisy, batch_size=batch_size).clamp(0, 1)


def pca_denoise(pca: PCA, noisy: Tensor, k: int) -> Tensor:
    """Project noisy images (N, 1, 28, 28) onto the first ``k`` principal components, in [0, 1].

    A linear baseline for "keep what images have in common": the projection keeps the part of
    the image that lies in the k-dimensional subspace where the clean training images vary most,
    and throws away the rest, noise included. ``pca`` is fitted on CLEAN training images with at
    least k components. Returns images shaped like ``noisy``.
    """
    flat = noisy.flatten(1)  # (N, 1, 28, 28) -> (N, 784)
    return pca.truncated(k).reconstruct(flat).clamp(0, 1).view_as(noisy)


def classic_baselines(pca: PCA | None = None, ks: tuple[int, ...] = (16, 32, 64, 128, 256)) -> dict:
    """The non-learned denoisers of lesson 04, each with the knob values tuned on validation.

    Returns {name: (denoiser(noisy, knob), knobs)}: "blur" (Gaussian blur, width in pixels),
    "median" (median filter, window size) and, given a PCA fitted on clean training images,
    "PCA" (projection onto k components). Pass it to ``psnr_table``.
    """
    baselines = {"blur": (gaussian_blur, BLUR_SIGMAS), "median": (median_filter, (1, 3, 5))}
    if pca is not None:
        kept = tuple(k for k in ks if k <= pca.n_components)  # a PCA(n) offers k <= n
        baselines["PCA"] = (partial(pca_denoise, pca), kept)
    return baselines


def psnr_table(
    models: nn.Module | Mapping[str, nn.Module],
    test: Tensor,
    valid: Tensor,
    levels: Mapping[str, tuple[float, ...]],
    seed: int = 0,
    baselines: Mapping[str, tuple[Callable, tuple]] | None = None,
) -> list[dict[str, float | str]]:
    """Mean PSNR (dB) on corrupted TEST images: the noisy input, each baseline and each model.

    For each kind and level, the validation images ``valid`` and then the test images ``test``
    (N, 1, 28, 28) are corrupted with one generator seeded with ``seed + 1000 * k + j`` (kind k,
    level j), so every call sees the same noise. Each baseline's knob is tuned on the corrupted
    validation images, never on the test images (``best_knob``). ``models`` is one model (its
    column is "model") or {column name: model}; ``baselines`` is {name: (denoiser, knobs)},
    default the Gaussian blur alone (``classic_baselines`` gives blur, median and PCA).

    Returns one dict per (kind, level): kind, level, noisy, then for each baseline its PSNR and
    "<name>_knob" (the tuned knob), then each model's PSNR.
    """
    if isinstance(models, nn.Module):
        models = {"model": models}
    if baselines is None:
        baselines = {"blur": (gaussian_blur, BLUR_SIGMAS)}
    rows = []
    for k, kind in enumerate(levels):
        for j, level in enumerate(levels[kind]):
            g = torch.Generator().manual_seed(seed + 1000 * k + j)
            noisy_valid, noisy_test = corrupt(valid, kind, level, g), corrupt(test, kind, level, g)
            row = {"kind": kind, "level": float(level)}
            row["noisy"] = psnr(noisy_test, test).mean().item()  # doing nothing
            for name, (denoiser, knobs) in baselines.items():
                knob, _ = best_knob(denoiser, knobs, noisy_valid, valid)
                row[name] = psnr(denoiser(noisy_test, knob), test).mean().item()
                row[f"{name}_knob"] = knob
            for name, model in models.items():
                row[name] = psnr(denoise(model, noisy_test), test).mean().item()
            rows.append(row)
    return rows


def method_columns(rows: list[dict]) -> list[str]:
    """The columns of a ``psnr_table`` that hold a method's PSNR: "noisy", baselines, models."""
    return [key for key in rows[0] if key not in ("kind", "level") and not key.endswith("_knob")]


def best_method(row: dict, margin: float = 0.0) -> str:
    """The column with the highest PSNR in one ``psnr_table`` row ("noisy" means: do nothing).

    With ``margin`` > 0 (dB), every other column within ``margin`` of the best ties with it:
    they are returned too, best first, joined by " ~ " (e.g. "PCA ~ blur"), because a
    difference that small is not counted as a win (see ``compare_columns``).
    """
    if margin < 0:
        raise ValueError(f"best_method expects a margin of at least 0 dB, but got {margin}.")
    ranked = sorted(method_columns([row]), key=lambda key: row[key], reverse=True)
    if margin == 0:
        return ranked[0]
    return " ~ ".join(key for key in ranked if row[ranked[0]] - row[key] <= margin)


def compare_columns(
    rows: list[dict], a: str, b: str, margin: float = 0.5
) -> dict[str, list[tuple[str, float]]]:
    """Where method ``a`` beats method ``b`` in ``psnr_table`` rows, by more than ``margin`` dB.

    Returns {"better": [(kind, level), ...] where a - b > margin, "worse": ... where
    b - a > margin, "within": the other rows}: differences smaller than the margin (e.g. what
    another training seed could change) are not counted as a win for either.
    """
    if margin < 0:
        raise ValueError(f"compare_columns expects a margin of at least 0 dB, but got {margin}.")
    missing = [c for c in (a, b) if c not in method_columns(rows)]
    if missing:
        raise ValueError(
            f"compare_columns expects method columns of the table, among {method_columns(rows)}, "
            f"but received {missing}. Add that model's column to the rows first."
        )
    outcome: dict[str, list[tuple[str, float]]] = {"better": [], "worse": [], "within": []}
    for r in rows:
        diff = r[a] - r[b]
        key = "better" if diff > margin else "worse" if diff < -margin else "within"
        outcome[key].append((r["kind"], r["level"]))
    return outcome


def psnr_table_text(rows: list[dict], margin: float = 0.0) -> str:
    """The rows of ``psnr_table`` as an aligned text table, one line per (kind, level).

    Every method column is printed with its PSNR (dB); a baseline's tuned knob follows it in
    parentheses; the last column names the best method of the row, with every method within
    ``margin`` dB of it (``best_method``).
    """
    columns = method_columns(rows)
    widths = {c: max(len(c), 6) + (7 if f"{c}_knob" in rows[0] else 0) for c in columns}
    lines = [f"{'noise':>15} {'level':>5} " + " ".join(f"{c:>{widths[c]}}" for c in columns)
             + "  best"]  # fmt: skip
    for r in rows:
        cells = []
        for c in columns:
            knob = f" ({r[c + '_knob']:g})" if f"{c}_knob" in r else ""
            cells.append(f"{f'{r[c]:.2f}{knob}':>{widths[c]}}")
        lead = f"{r['kind']:>15} {r['level']:>5.2f} "
        lines.append(lead + " ".join(cells) + f"  {best_method(r, margin)}")
    return "\n".join(lines)


CURVE_LABELS = {"noisy": "noisy input (no denoising)", "blur": "best Gaussian blur",
                "median": "best median filter", "PCA": "best PCA projection"}  # fmt: skip


def psnr_curves_figure(
    rows: list[dict], title: str | None = None, constant: float | None = None
) -> Figure:
    """One panel per noise kind: PSNR vs noise level for every method column of ``psnr_table``.

    The non-learned methods (noisy input, baselines) are dashed or dotted, the models solid.
    ``constant`` (dB), if given: the score of a constant output, drawn as a flat grey dashed line.
    """
    kinds = [k for k in NOISE_KINDS if any(r["kind"] == k for r in rows)]
    columns = method_columns(rows)
    fig = NotebookFigure(figsize=(4.4 * len(kinds), 3.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(kinds)))
    for ax, kind in zip(axes, kinds, strict=True):
        sub = [r for r in rows if r["kind"] == kind]
        for column in columns:
            learned = column not in CURVE_LABELS
            style = "-o" if learned else (":^" if column == "noisy" else "--s")
            ax.plot([r["level"] for r in sub], [r[column] for r in sub], style,
                    label=CURVE_LABELS.get(column, column), markersize=4,
                    lw=2 if learned else 1.2)  # fmt: skip
        if constant is not None:
            label = f"constant output ({constant:.2f} dB)"
            ax.axhline(constant, color="0.5", ls="--", lw=1, label=label)
        ax.set(xlabel=NOISE_LABELS[kind], ylabel="mean PSNR on test images (dB)", title=kind)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    if title:
        fig.suptitle(title)
    return fig


def linear_probe_hits(
    train_codes: Tensor,
    train_labels: Tensor,
    test_codes: Tensor,
    test_labels: Tensor,
    ridge: float = 1.0,
) -> Tensor:
    """How well a LINEAR classifier reads the class from codes, image by image.

    A least-squares (ridge) classifier solved in closed form, no training loop: every code
    dimension is standardised with the training codes' mean and std; the targets are +1 for the
    image's class and -1 for the others; W = (Z^T Z + ridge I)^-1 Z^T (Y - mean Y), plus the
    mean as intercept. A test code gets the class with the highest score.
    train_codes (N, K) with train_labels (N,) int64; test_codes (M, K) with test_labels (M,).
    Returns (M,) float64: 1 where test image i gets its true class, else 0.
    """
    if train_codes.dim() != 2 or test_codes.shape[1:] != train_codes.shape[1:]:
        raise ValueError(
            f"the linear probe expects codes (N, K) and (M, K) with the same K, but received "
            f"{tuple(train_codes.shape)} and {tuple(test_codes.shape)}. Flatten images first."
        )
    z = train_codes.double()
    mean, std = z.mean(dim=0), z.std(dim=0).clamp_min(1e-8)  # (K,) each
    z = (z - mean) / std  # (N, K), standardised
    classes = int(max(train_labels.max(), test_labels.max())) + 1
    y = 2.0 * F.one_hot(train_labels, classes).double() - 1  # (N, C), +1 / -1
    y_mean = y.mean(dim=0)  # (C,): the intercept, as the codes are centred
    gram = z.T @ z + ridge * torch.eye(z.shape[1], dtype=z.dtype)  # (K, K)
    weights = torch.linalg.solve(gram, z.T @ (y - y_mean))  # (K, C)
    scores = ((test_codes.double() - mean) / std) @ weights + y_mean  # (M, C)
    return (scores.argmax(dim=1) == test_labels).double()


def linear_probe_accuracy(
    train_codes: Tensor,
    train_labels: Tensor,
    test_codes: Tensor,
    test_labels: Tensor,
    ridge: float = 1.0,
) -> float:
    """The linear probe's accuracy on the test codes: the mean of ``linear_probe_hits``.

    Same arguments as ``linear_probe_hits``; returns a fraction in [0, 1].
    """
    hits = linear_probe_hits(train_codes, train_labels, test_codes, test_labels, ridge)  # (M,)
    return hits.mean().item()


def paired_difference(hits_a: Tensor, hits_b: Tensor) -> tuple[float, float]:
    """The difference of two accuracies measured on the SAME images, with its standard error.

    hits_a, hits_b (M,): 1 where method a (b) got image i right, else 0. Scored on the same
    images, the two are paired: the per-image differences d_i = a_i - b_i (each -1, 0 or +1)
    are M values, their mean is the accuracy difference, and its standard error is
    std(d) / sqrt(M). Images both get right (or both wrong) give d_i = 0: only the images where
    the two disagree carry noise (McNemar's idea). Adding the two accuracies' binomial standard
    errors in quadrature would be right only for two INDEPENDENT test sets; when a and b tend to
    get the same images right, it overstates the noise.
    Returns (mean of d, standard error of that mean), both as fractions.
    """
    if hits_a.dim() != 1 or hits_a.shape != hits_b.shape or len(hits_a) < 2:
        raise ValueError(
            f"paired_difference expects two vectors of per-image hits (M,) of the same length "
            f"M >= 2, scored on the same images, but received {tuple(hits_a.shape)} and "
            f"{tuple(hits_b.shape)}."
        )
    d = hits_a.double() - hits_b.double()  # (M,) values -1, 0, +1
    return d.mean().item(), (d.std() / len(d) ** 0.5).item()


def total_variation_per_image(x: Tensor) -> Tensor:
    """How rough an image is: the summed absolute differences between neighbouring pixels.

    (B, 1, H, W) -> (B,). Speckle (isolated bright or dark dots) raises it, smoothing lowers it;
    compare an output's value with its clean target's to see which way a denoiser went.
    """
    across = (x[..., :, 1:] - x[..., :, :-1]).abs().flatten(1).sum(dim=1)  # left-right neighbours
    down = (x[..., 1:, :] - x[..., :-1, :]).abs().flatten(1).sum(dim=1)  # up-down neighbours
    return across + down


def leftover_noise_share(
    output: Tensor, noisy: Tensor, clean: Tensor, noisy_again: Tensor
) -> Tensor:
    """How much of the noise draw in ``noisy`` is still in the ``output``: a number, 1 for all.

    All four are (B, ...): the model's output for ``noisy``, that noisy input, the clean images,
    and a second, independent draw of the same corruption of them. With the damages d = noisy -
    clean and d' = noisy_again - clean and the output's error e = output - clean, summed over
    the batch:

        share = <e, d - d'> / <d, d - d'>

    1 for the noisy input itself (e = d), 0 when nothing in the error follows THIS draw, 0.3 for
    clean + 0.3 * d. Why the second draw: the damage is not independent of the image (masking
    darkens only bright pixels, clipping lifts only dark ones), so an output that is merely
    darker or smoother than the target correlates with d; it correlates as much with d', and the
    difference cancels it. Texture the model keeps comes from the clean image, so it cancels too;
    noise let through does not. (Roughness cannot make this split: kept texture and leftover
    noise both raise it.) Needs the clean images: a test-time measure.
    """
    d, d_again, e = ((t - clean).flatten(1) for t in (noisy, noisy_again, output))  # (B, D) each
    return (e * (d - d_again)).sum() / (d * (d - d_again)).sum().clamp_min(1e-12)


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


def circle_posterior_mean(noisy: Tensor, sigma: float, radius: float = 1.0) -> Tensor:
    """The optimal denoiser r*(x) = E[clean | noisy = x] for points spread uniformly on a circle.

    Clean points lie on the circle of ``radius`` around 0 (uniform angle); the noisy ones are
    clean + sigma * eps, eps ~ N(0, I) in 2-D. Given a noisy x, the clean point's angle has a
    posterior proportional to exp(radius * |x| cos(angle to x) / sigma^2) (a von Mises law), so
    its mean is radius * A(kappa) in the direction of x, kappa = radius * |x| / sigma^2, with
    A = I1 / I0 (modified Bessel functions; ``i1e / i0e`` avoids overflow). At x = 0 it is 0.

    noisy: (N, 2) -> (N, 2). Tweedie: r*(x) - x = sigma^2 grad log p_sigma(x).
    """
    norm = noisy.norm(dim=1, keepdim=True)  # (N, 1)
    kappa = radius * norm / sigma**2
    shrink = torch.special.i1e(kappa) / torch.special.i0e(kappa)  # (N, 1), in [0, 1)
    return radius * shrink * noisy / norm.clamp_min(1e-12)  # (N, 2); 0 at the centre


def denoising_field_figure(
    model: nn.Module,
    clean: Tensor,
    noisy: Tensor,
    lim: float = 1.8,
    n_grid: int = 21,
    optimal: Callable[[Tensor], Tensor] | None = None,
) -> Figure:
    """2-D toy picture: arrows from points x of a grid to the model's output r(x).

    ``clean`` and ``noisy`` are (N, 2) point clouds. A denoiser trained on points near a curve
    learns arrows that point back TOWARDS the curve: it has learned where the data lives. With
    ``optimal`` (a function (M, 2) -> (M, 2), e.g. the circle's posterior mean), a second panel
    draws its arrows r*(x) - x on the same grid, to compare with the network's.
    """
    t = torch.linspace(-lim, lim, n_grid)
    grid = torch.cartesian_prod(t, t)  # (n_grid^2, 2)
    panels = [("the network: arrows x -> r(x)", predict(model, grid) - grid, "0.2")]
    if optimal is not None:
        panels.append(("the optimal denoiser: x -> r*(x)", optimal(grid) - grid, "tab:red"))
    fig = NotebookFigure(figsize=(5 * len(panels), 5.5), layout="constrained")  # taller than wide
    axes = np.atleast_1d(fig.subplots(1, len(panels), sharex=True, sharey=True))
    for ax, (title, step, colour) in zip(axes, panels, strict=True):
        ax.scatter(*noisy.T, s=3, color="tab:orange", alpha=0.3, label="one draw of noisy inputs")
        ax.scatter(*clean.T, s=3, color="tab:blue", label="clean data (a circle)")
        ax.quiver(*grid.T, *step.T, angles="xy", scale_units="xy", scale=1, width=0.005,
                  color=colour, label="r(x) - x", zorder=3)  # fmt: skip
        ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal", title=title)
    axes[0].legend(loc="upper right", fontsize=7, framealpha=0.9)
    return fig


def trust_figure(
    noisy: Tensor, trust: Tensor, labels: list[str], title: str | None = None
) -> Figure:
    """Noisy images next to the skip DAE's trust maps, the trust on a 0-1 scale with a colour bar.

    ``noisy`` and ``trust`` are (N, 1, 28, 28): image i and the trust map the model computed for
    it; ``labels`` names each pair (e.g. its noise level). Bright trust keeps the noisy pixel,
    dark trust uses the reconstruction.
    """
    if not (len(noisy) == len(trust) == len(labels)):
        raise ValueError(
            f"trust_figure expects as many noisy images, trust maps and labels, but received "
            f"{len(noisy)}, {len(trust)} and {len(labels)}. Pass one label per pair."
        )
    fig = NotebookFigure(figsize=(2.6 * len(noisy) + 0.9, 2.9), layout="constrained")
    axes = np.atleast_2d(fig.subplots(1, 2 * len(noisy)))[0]
    for i, label in enumerate(labels):
        image_ax, trust_ax = axes[2 * i], axes[2 * i + 1]
        pixels, trusted = (v[i].detach().cpu().reshape(28, 28).numpy() for v in (noisy, trust))
        image_ax.imshow(pixels, cmap="gray", vmin=0, vmax=1)
        shown = trust_ax.imshow(trusted, cmap="viridis", vmin=0, vmax=1)
        image_ax.set_title(f"noisy, {label}", fontsize=8)
        trust_ax.set_title(f"trust t, {label}", fontsize=8)
        image_ax.axis("off")
        trust_ax.axis("off")
    fig.colorbar(shown, ax=list(axes), shrink=0.8, label="trust t (1: keep the noisy pixel)")
    if title:
        fig.suptitle(title)
    return fig


def validation_curves_figure(
    curves: Mapping[str, list[tuple[int, float]]], title: str | None = None
) -> Figure:
    """Validation curves against optimizer steps: {name: [(step, value), ...]}, one line each.

    The values are whatever the curve recorded (in lesson 04 the damage ratio on fixed noise:
    1 = no better than the noisy input, 0 = perfect); a grey line marks 1.
    """
    if not curves or any(len(points) == 0 for points in curves.values()):
        raise ValueError(
            "validation_curves_figure expects {name: [(step, value), ...]} with at least one "
            f"point per curve, but received {dict((k, len(v)) for k, v in curves.items())} "
            "points. Train first (the callback fills the list), then draw."
        )
    fig = NotebookFigure(figsize=(5.5, 3.4), layout="constrained")
    ax = fig.subplots()
    for name, points in curves.items():
        steps, values = zip(*points, strict=True)
        ax.plot(steps, values, "-o", markersize=3, label=name)
    ax.axhline(1.0, color="grey", lw=1, ls=":", label="1: no better than the noisy input")
    ax.set_xlabel("optimizer steps")
    ax.set_ylabel("validation damage ratio")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return fig


def _enlarge_details(ax) -> None:
    """Write the small detail lines of a flow diagram at a readable 10 pt (names stay 11 pt)."""
    for text in ax.texts:
        if text.get_fontsize() < 10:
            text.set_fontsize(10)


def dae_flow_figure(
    hidden: int = 512, n_latent: int = 256, skip: bool = False, title: str | None = None
) -> Figure:
    """The data flow of lesson 04's dense denoising autoencoders, boxes left to right.

    ``skip=False``: the plain DAE, x -> corrupt -> x~ -> encoder -> code h -> decoder -> x^, scored
    against the CLEAN x (a green dashed arrow below the boxes carries x to the loss).
    ``skip=True``: ``SkipDenoisingAutoencoder``; its decoder outputs a reconstruction r and a
    trust t, and the skip is drawn as a red BYPASS arrow that leaves the
    noisy x~ above the boxes and joins the blend without passing the encoder, code or decoder.
    ``hidden`` and ``n_latent`` are the widths written under the encoder and decoder boxes.
    """
    head = [("x", "clean\n(B, 1, 28, 28)"), ("corrupt", "fresh noise\nevery step"),
            ("x~", "noisy\n(B, 1, 28, 28)"), ("encoder", f"784 -> {hidden}\n-> {n_latent}"),
            ("h", f"code\n(B, {n_latent})")]  # fmt: skip
    if not skip:
        tail = [("decoder", f"{n_latent} -> {hidden}\n-> 784"), ("x^", "output\n(B, 1, 28, 28)"),
                ("loss", "||x^ - x||^2\nvs the CLEAN x")]  # fmt: skip
        stages = [*head, *tail]
        fig = flow_diagram_figure(stages, title=title, width=1.3)
        ax = fig.axes[0]
        _enlarge_details(ax)
        ax.set_ylim(-1.45, 1.0)
        bottom = -1.0  # the clean x -> the loss, drawn as a bracket below the boxes
        ax.plot(
            [0, 0], [-0.85, bottom], [0, 7], [bottom, bottom], color="tab:green", lw=1.5, ls="--"
        )
        ax.annotate("", xy=(7, -0.8), xytext=(7, bottom),
                    arrowprops={"arrowstyle": "->", "lw": 1.5, "color": "tab:green"})  # fmt: skip
        ax.text(3.5, bottom - 0.07, "the target: the CLEAN x goes to the loss", ha="center",
                va="top", fontsize=10, color="tab:green")  # fmt: skip
        return fig
    stages = [*head, ("decoder", f"{n_latent} -> {hidden}\n-> 2 x 784"),
              ("r, t", "reconstruction r\ntrust t in (0, 1)"),
              ("blend", "t x~ + (1 - t) r"), ("x^", "output\n(B, 1, 28, 28)")]  # fmt: skip
    fig = flow_diagram_figure(stages, title=title, width=1.3)
    ax = fig.axes[0]
    _enlarge_details(ax)
    ax.set_ylim(-1.0, 1.35)
    skip_from, skip_to, top = 2, 7, 0.95  # x~ -> blend, drawn as a bracket above the boxes
    ax.plot([skip_from, skip_from, skip_to], [0.45, top, top], color="tab:red", lw=1.8)
    ax.annotate("", xy=(skip_to, 0.42), xytext=(skip_to, top),
                arrowprops={"arrowstyle": "->", "lw": 1.8, "color": "tab:red"})  # fmt: skip
    label = "skip path (bypass): x~ goes around encoder, code and decoder"
    ax.text((skip_from + skip_to) / 2, top + 0.08, label, ha="center", va="bottom", fontsize=10,
            color="tab:red")  # fmt: skip
    return fig
