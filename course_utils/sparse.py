"""Sparse autoencoders (lesson 05): sigmoid and top-k codes, the penalties, reading the units.

Shapes: images x are (B, 1, 28, 28) or (B, 784); codes h are (B, n_code), in (0, 1) for the
sigmoid ``SparseAutoencoder``, >= 0 with at most k non-zeros per image for the top-k one.
Loss convention of the course: per image (summed over pixels, averaged over the batch). The
penalties' names say their reduction (see ``losses``):

    ``mean_l1_penalty_per_image(h)``          scalar: sum_j |h_j| of each image, batch mean
    ``contractive_penalty_per_image(h, W)``   (B,): ||dh/dx||_F^2 of each image
    ``kl_sparsity_penalty_per_batch(h, p)``   scalar: sum_j KL(p || q_hat_j), q_hat_j the
                                              batch's MEAN activation of unit j

The first two are per-image quantities averaged over the batch, so their weight compares with
the reconstruction loss in the usual way. The KL penalty is not: it plugs the batch's mean
activations into the KL, one number for the whole batch that no single image owns. Because
KL(p || q) is convex in q, the KL of a mean is at most the mean of the KLs (Jensen): split a
batch of 256 into four batches of 64 and their average penalty is at least the big batch's.
So the plug-in estimate is biased UPWARDS for small batches (its expectation exceeds the KL at
the units' true mean activations), and the bias can be large: a weight tuned at one batch size
does not carry over to another (lesson 05 prints it for on/off units at the target: the expected
penalty falls about 44-fold from batches of 16 to batches of 128). Repeating every image of a
batch leaves the penalty unchanged (the means stay the same).
The contractive penalty's Jacobian, taken apart direction by direction, is in ``contractive``.

One idea: the sparse autoencoder of lesson 05, from its code and penalties to reading its units;
the figures read the same codes the penalties shape, so they stay next to them.
"""

from __future__ import annotations

from functools import partial

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import FixedLocator, NullFormatter, PercentFormatter
from torch import Tensor, nn

from course_utils.deprecation import deprecated_alias
from course_utils.inputs import check_codes, check_sizes, model_dtype
from course_utils.losses import sse_per_image
from course_utils.models import flatten_input
from course_utils.plots import NotebookFigure, as_images
from course_utils.train import Batch, Callback, TrainState, predict
from course_utils.widgets import FigureView


class SparseAutoencoder(nn.Module):
    """One hidden layer of sigmoid units, usually WIDER than the input (overcomplete).

    encode: (B, 784) or (B, 1, 28, 28) -> h = sigmoid(W x + b)          (B, n_code), in (0, 1)
    decode: (B, n_code) -> x_hat = sigmoid(W_d h + b_d)                  (B, 784), in (0, 1)
    The sigmoid code is what the Bernoulli KL penalty needs: values in (0, 1), whose batch mean
    it compares with a target mean activation p (a mean, not the share of images a unit is on for).
    """

    def __init__(self, n_inputs: int = 784, n_code: int = 1024) -> None:
        check_sizes("SparseAutoencoder", n_inputs=n_inputs, n_code=n_code)
        super().__init__()
        self.n_inputs, self.n_code = n_inputs, n_code
        self.encoder = nn.Linear(n_inputs, n_code)
        self.decoder = nn.Linear(n_code, n_inputs)

    def encode(self, x: Tensor) -> Tensor:
        x = flatten_input(x, self.n_inputs, type(self).__name__, model_dtype(self))
        return torch.sigmoid(self.encoder(x))  # (B, n_inputs) -> (B, n_code)

    def decode(self, h: Tensor) -> Tensor:
        who = f"{type(self).__name__}.decode"
        check_codes(h, self.n_code, who, model_dtype(self), "n_code")
        return torch.sigmoid(self.decoder(h))  # (B, n_code) -> (B, n_inputs)

    def forward(self, x: Tensor) -> Tensor:
        return self.decode(self.encode(x)).view_as(x)  # same shape as the input


def top_k_relu(a: Tensor, k: int) -> Tensor:
    """Keep the k largest entries of each row of ReLU(a) and set all others to exactly 0.

    a: (B, n) pre-activations -> (B, n) codes with at most k non-zero entries per row (fewer
    when a row has fewer than k positive entries). Gradients reach only the kept entries.
    """
    top = a.topk(k, dim=1)  # values and indices, each (B, k)
    return torch.zeros_like(a).scatter(1, top.indices, top.values.relu())


class TopKSparseAutoencoder(SparseAutoencoder):
    """A sparse autoencoder with sparsity by construction: a top-k code.

    Makhzani and Frey (2013) kept the k largest of linear units; the ReLU form used here is that
    of Gao et al. (2024). ``AnnealK`` lowers k during training (fewer dead units).

    encode: (B, 784) or (B, 1, 28, 28) -> h = top_k_relu(W x + b, k)    (B, n_code), >= 0,
            exactly k or fewer non-zero units per image; no penalty is needed to make it sparse.
    decode: as ``SparseAutoencoder`` (sigmoid output), so that only the code differs.
    ReLU codes are not values in (0, 1): the KL and contractive penalties do not apply to them.
    """

    def __init__(self, n_inputs: int = 784, n_code: int = 1024, k: int = 51) -> None:
        if not (isinstance(k, int) and 1 <= k <= n_code):
            raise ValueError(
                f"TopKSparseAutoencoder expects k, the number of units kept per image, between 1 "
                f"and n_code={n_code}, but received k={k!r}. Try k = n_code // 20 (5% active)."
            )
        super().__init__(n_inputs, n_code)
        self.k = k

    def encode(self, x: Tensor) -> Tensor:
        x = flatten_input(x, self.n_inputs, type(self).__name__, model_dtype(self))
        return top_k_relu(self.encoder(x), self.k)  # (B, n_inputs) -> (B, n_code)


class AnnealK(Callback):
    """Lower a top-k model's k during training, a remedy for dead units (Makhzani and Frey 2013).

    A unit that wins a top-k slot for no image gets no gradient and stays dead. Starting with a
    large k lets most units win slots, and so learn, before k shrinks: k falls linearly from
    ``k_start`` to ``k_end`` over the first ``share`` of the training steps, then stays at
    ``k_end`` (and is ``k_end`` when training ends). For ``fit(..., callbacks=[AnnealK(...)])``.
    """

    def __init__(self, k_start: int, k_end: int, share: float = 0.5) -> None:
        if not (isinstance(k_start, int) and isinstance(k_end, int) and k_start >= k_end >= 1):
            raise ValueError(
                f"AnnealK expects whole numbers k_start >= k_end >= 1 (units kept per image, "
                f"first and last), but received k_start={k_start!r}, k_end={k_end!r}. "
                "Try AnnealK(k_start=4 * k, k_end=k)."
            )
        if not 0 < share <= 1:
            raise ValueError(f"AnnealK expects share, the part of training during which k falls, "
                             f"in (0, 1], but received {share!r}. Try share=0.5.")  # fmt: skip
        self.k_start, self.k_end, self.share = k_start, k_end, share

    def k_at(self, step: int, total_steps: int) -> int:
        """k for the optimizer step that follows ``step`` steps of ``total_steps``."""
        progress = min(1.0, step / max(1.0, self.share * total_steps))
        return round(self.k_start + (self.k_end - self.k_start) * progress)

    def on_batch_start(self, state: TrainState) -> None:
        if not isinstance(state.model, TopKSparseAutoencoder):
            raise ValueError(
                f"AnnealK expects a TopKSparseAutoencoder (a model with a k to lower), but "
                f"received {type(state.model).__name__}. Use it only with top-k models."
            )
        state.model.k = min(self.k_at(state.step, state.total_steps), state.model.n_code)

    def on_epoch_end(self, state: TrainState) -> None:
        if state.epoch == state.epochs:
            state.model.k = self.k_end  # the model ends at the k it was built for


# ------------------------------------------------------------------------------ penalties
def _check_target(p: float) -> float:
    if not 0 < p < 1:
        raise ValueError(
            f"The sparsity target p must be strictly between 0 and 1 (a target mean activation), "
            f"got {p!r}. Typical values are 0.01 to 0.1."
        )
    return float(p)


def mean_l1_penalty_per_image(h: Tensor) -> Tensor:
    """L1 activity penalty: sum_j |h_j| per image, averaged over the batch. (B, n) -> scalar."""
    return h.abs().sum(dim=1).mean()


def bernoulli_kl(p: float, q: Tensor, eps: float = 1e-6) -> Tensor:
    """KL( Bernoulli(p) || Bernoulli(q) ) elementwise: p log(p/q) + (1-p) log((1-p)/(1-q)).

    Zero exactly when q = p, positive otherwise, and it grows without bound as q -> 0 or 1
    (q is clamped to [eps, 1 - eps] to stay finite). ``q`` is any tensor of values in [0, 1]
    (in lesson 05, the units' mean activations).
    """
    p = _check_target(p)
    q = q.clamp(eps, 1 - eps)
    return p * torch.log(p / q) + (1 - p) * torch.log((1 - p) / (1 - q))


def kl_sparsity_penalty_per_batch(h: Tensor, p: float) -> Tensor:
    """sum_j KL(p || q_hat_j), with q_hat_j = mean activation of unit j over the batch. Scalar.

    h: (B, n_code) codes in (0, 1) -> one number for the whole BATCH. The penalty looks at each
    unit's MEAN ACTIVATION across the batch's images, so one image may light a unit up fully
    as long as most images do not. It is a plug-in estimate of the KL at the units' true mean
    activations, biased upwards for small batches (see the module docstring), not a per-image value.
    """
    q_hat = h.mean(dim=0)  # (B, n_code) -> (n_code,)
    return bernoulli_kl(p, q_hat).sum()


def contractive_penalty_per_image(h: Tensor, weight: Tensor) -> Tensor:
    """Squared Frobenius norm of the encoder's Jacobian, closed form for h = sigmoid(W x + b).

    dh_j / dx_i = h_j (1 - h_j) W_ji, so ||J||_F^2 = sum_j (h_j (1 - h_j))^2 sum_i W_ji^2.
    h: (B, n_code); weight: W of shape (n_code, n_inputs). Returns one value per image: (B,).
    """
    row_norms = weight.pow(2).sum(dim=1)  # (n_code, n_inputs) -> (n_code,)
    return (h * (1 - h)).pow(2) @ row_norms  # (B, n_code) @ (n_code,) -> (B,)


def jacobian_frobenius_autograd(encode, x: Tensor) -> Tensor:
    """||d encode(x) / dx||_F^2 for each row of x (B, n_inputs), with torch.autograd. (B,)

    Slow (one Jacobian per image) but makes no assumption about the encoder: the reference
    against which ``contractive_penalty_per_image`` is checked.
    """
    norms = [torch.autograd.functional.jacobian(lambda v: encode(v[None])[0], xi).pow(2).sum()
             for xi in x]  # fmt: skip
    return torch.stack(norms)


class SparseObjective:
    """Objective for ``fit``: reconstruction + weight * penalty (lesson 05).

    penalty: None, "l1" (``mean_l1_penalty_per_image``), "kl" (``kl_sparsity_penalty_per_batch``
    with ``target``) or "contractive" (batch mean of ``contractive_penalty_per_image``). The
    reconstruction term is the squared error summed over pixels (``sse_per_image``), averaged
    over the batch. The "l1" and "contractive" penalties are per image; "kl" is per batch (see
    the module docstring). Also logs "recon", "penalty" and "mean_activation" (mean of h over
    images and units) every epoch.
    """

    def __init__(self, penalty: str | None = None, weight: float = 0.0, target: float = 0.05):
        if penalty not in (None, "l1", "kl", "contractive"):
            raise ValueError(
                f"SparseObjective expects penalty None, 'l1', 'kl' or 'contractive', but "
                f"received {penalty!r}."
            )
        self.penalty, self.weight = penalty, weight
        self.target = _check_target(target) if penalty == "kl" else target

    def _penalty(self, model: nn.Module, h: Tensor) -> Tensor:
        if self.penalty in ("kl", "contractive") and isinstance(model, TopKSparseAutoencoder):
            raise ValueError(
                f"SparseObjective({self.penalty!r}) expects a sigmoid code (values in (0, 1)), but "
                "received a TopKSparseAutoencoder, whose ReLU code is not one. Its top-k is the "
                "sparsity constraint already: train it with SparseObjective(None)."
            )
        if self.penalty == "l1":
            return mean_l1_penalty_per_image(h)
        if self.penalty == "kl":
            return kl_sparsity_penalty_per_batch(h, self.target)
        if self.penalty == "contractive":
            return contractive_penalty_per_image(h, model.encoder.weight).mean()
        return torch.zeros((), device=h.device)

    def __call__(self, model: nn.Module, batch: Batch) -> tuple[Tensor, dict[str, Tensor]]:
        x = batch[0]
        h = model.encode(x)  # (B, n_code)
        recon = sse_per_image(model.decode(h).view_as(x), x).mean()
        extra = self._penalty(model, h)
        stats = {"recon": recon.detach(), "penalty": extra.detach(), "mean_activation": h.mean()}
        return recon + self.weight * extra, stats


# -------------------------------------------------------------------------- unit analysis
def codes_of(model: nn.Module, x: Tensor, batch_size: int = 1000) -> Tensor:
    """Codes of all images x (N, ...) via ``train.predict`` (eval mode, batches): (N, n_code)."""
    return predict(model, x, fn=_encode, batch_size=batch_size)


def _encode(model: nn.Module, x: Tensor) -> Tensor:
    return model.encode(x)


def top_activating(codes: Tensor, unit: int, k: int = 10) -> Tensor:
    """Indices of the k images with the largest activations of ``unit``, largest first: (k,)."""
    if not 0 <= unit < codes.shape[1]:
        raise ValueError(f"unit must be in [0, {codes.shape[1] - 1}], got {unit}.")
    return codes[:, unit].topk(min(k, len(codes))).indices


def decoder_images(model: SparseAutoencoder, units) -> Tensor:
    """Decoder weight columns of ``units`` as images scaled to [0, 1], grey = 0: (n, 28, 28).

    Column j of W_d is what unit j ADDS to the reconstruction (before the output sigmoid) when it
    fires: its "feature". Each is divided by its largest absolute value, then mapped to [0, 1].
    """
    w = model.decoder.weight.detach().cpu()[:, list(units)].T  # (784, n) -> (n, 784)
    w = 0.5 + 0.5 * w / w.abs().amax(dim=1, keepdim=True).clamp_min(1e-12)
    return w.view(-1, 28, 28)  # (n, 784) -> (n, 28, 28)


# -------------------------------------------------------------------------------- figures
def sparsity_costs_figure(p: float = 0.05) -> Figure:
    """KL(p || q) against the L1 and L2 distances |q - p| and (q - p)^2, for means q in (0, 1).

    Left: the whole range of q (log scale). Right: a zoom around the target p.
    """
    p = _check_target(p)
    fig = NotebookFigure(figsize=(10, 3.6), layout="constrained")
    for ax, (lo, hi, logy) in zip(fig.subplots(1, 2), ((0.001, 0.999, True), (0.0, 4 * p, False)),
                                  strict=True):  # fmt: skip
        q = torch.linspace(max(lo, 1e-4), hi, 400, dtype=torch.float64)
        kl, q = bernoulli_kl(p, q).numpy(), q.numpy()
        ax.plot(q, kl, label=r"KL$(p\,\|\,q)$")
        ax.plot(q, np.abs(q - p), "--", label=r"$|q - p|$ (L1 distance)")
        ax.plot(q, (q - p) ** 2, ":", label=r"$(q - p)^2$ (squared distance)")
        ax.axvline(p, color="grey", lw=0.8)
        ax.set(xlabel="mean activation q of a unit", ylabel="cost")
        ax.grid(alpha=0.3)
        if logy:
            ax.set_yscale("log")
            ax.set_ylim(1e-5, 10)
    fig.axes[0].set_title(f"whole range (target p = {p})")
    fig.axes[1].set_title("zoom around the target")
    fig.axes[0].legend(fontsize=8)
    return fig


def activations_figure(codes: dict[str, Tensor], target: float | None = None) -> Figure:
    """Per run: a histogram of all activations (log counts) and of each unit's mean activation.

    codes: {name: (N, n_code)}. The legend gives each run's mean activation AND its share of
    activations above 0.1: a mean of 0.05 need not mean that 5% of the activations are "on".
    """
    fig = NotebookFigure(figsize=(10, 3.6), layout="constrained")
    ax_all, ax_units = fig.subplots(1, 2)
    bins = np.linspace(0, 1, 51)
    for name, h in codes.items():
        on = firing_fraction(h)  # share of activations above 0.1, next to the mean: not the same
        ax_all.hist(h.flatten().numpy(), bins=bins, histtype="step", lw=1.5,
                    label=f"{name} (mean {h.mean():.3f}, {on:.1%} above 0.1)")  # fmt: skip
        means = h.mean(dim=0).numpy()  # (n_code,)
        ax_units.hist(means, bins=np.geomspace(1e-4, 1, 41), histtype="step", lw=1.5,
                      label=f"{name} (mean {means.mean():.3f})")  # fmt: skip
    ax_all.set(yscale="log", xlabel="activation h_j (all images, all units)", ylabel="count",
               title="all activations")  # fmt: skip
    ax_units.set(xscale="log", xlabel="mean activation of a unit over the test images",
                 ylabel="number of units", title="each unit's mean activation")  # fmt: skip
    if target is not None:
        ax_units.axvline(target, color="black", ls="--", lw=1, label=f"target p = {target}")
    ax_all.legend(fontsize=8)
    ax_units.legend(fontsize=8)
    return fig


def unit_figure(
    model: SparseAutoencoder, codes: Tensor, images: Tensor, unit: int, k: int = 8
) -> Figure:
    """What one unit does: its decoder feature, its k top-activating images, its histogram.

    codes: (N, n_code) codes of ``images`` (N, 1, 28, 28).
    """
    top = top_activating(codes, unit, k)
    fig = NotebookFigure(figsize=(1.3 * (k + 1) + 3.4, 2.5), layout="constrained")
    grid = fig.add_gridspec(1, k + 3)
    ax = fig.add_subplot(grid[0, 0])
    ax.imshow(decoder_images(model, [unit])[0].numpy(), cmap="RdBu_r", vmin=0, vmax=1)
    ax.set_title(f"unit {unit}\nfeature", fontsize=10)
    ax.axis("off")
    imgs = as_images(images[top])
    for i in range(len(top)):
        ax = fig.add_subplot(grid[0, i + 1])
        ax.imshow(imgs[i], cmap="gray", vmin=0, vmax=1)
        ax.set_title(f"h = {codes[top[i], unit]:.2f}", fontsize=10)
        ax.axis("off")
    ax = fig.add_subplot(grid[0, k + 1 :])
    ax.hist(codes[:, unit].numpy(), bins=np.linspace(0, 1, 26), color="tab:blue")
    ax.set_yscale("log")
    ax.set_title(f"mean {codes[:, unit].mean():.3f}", fontsize=10)
    ax.set_xlabel(f"h of unit {unit}", fontsize=9)
    ax.set_ylabel("images (log)", fontsize=9)
    ax.tick_params(labelsize=9)
    return fig


def unit_view(
    model: SparseAutoencoder, codes: Tensor, images: Tensor, unit: int = 0, k: int = 8
) -> FigureView:
    """Lesson 05: pick a unit with a slider and see ``unit_figure`` for it."""
    picker = widgets.IntSlider(value=unit, min=0, max=codes.shape[1] - 1, description="unit",
                               continuous_update=False)  # fmt: skip
    return FigureView(partial(unit_figure, model, codes, images, k=k), {"unit": picker})


def firing_fraction(codes: Tensor, threshold: float = 0.1) -> float:
    """Fraction of (image, unit) pairs above ``threshold``: (N, n_code) -> float. The same
    number is the average over images of the share of units "on" in each image."""
    return (codes > threshold).float().mean().item()


def dead_unit_share(codes: Tensor, threshold: float = 0.1) -> float:
    """Share of units that are above ``threshold`` for NO image: (N, n_code) -> float.

    A dead unit never reaches the "on" level of ``firing_fraction`` on these images, so it
    carries no information about them (its decoder column is wasted capacity).
    """
    return ((codes > threshold).sum(dim=0) == 0).float().mean().item()


def units_near_median(codes: Tensor, n: int = 3) -> list[int]:
    """The n units whose mean activation is closest to the median unit's: typical units.

    codes: (N, n_code). Picking the busiest units (``argsort(descending)[:n]``) would show the
    most atypical ones; these are ordered by closeness to the median mean activation.
    """
    means = codes.mean(dim=0)  # (N, n_code) -> (n_code,)
    return (means - means.median()).abs().argsort()[:n].tolist()


def top_image_purity(codes: Tensor, labels: Tensor, k: int = 8) -> Tensor:
    """How readable each unit is: the share of its k top-activating images in their commonest class.

    codes: (N, n_code); labels: (N,) integer classes of the same images. Returns (n_code,) values
    in [1/k, 1]: 1 when all k images that excite the unit most share one class (a unit you can
    name by looking at them), near the chance level when they are a random mix. The chance level
    is measured, not assumed: call it again with ``labels`` shuffled.
    """
    if not isinstance(codes, Tensor) or codes.dim() != 2:
        raise ValueError(f"top_image_purity expects codes of shape (N, n_code), but received "
                         f"{getattr(codes, 'shape', type(codes).__name__)}.")  # fmt: skip
    if not isinstance(labels, Tensor) or labels.shape != (len(codes),):
        got = getattr(labels, "shape", type(labels).__name__)
        raise ValueError(f"top_image_purity expects labels of shape ({len(codes)},), one per image "
                         f"of codes, but received {got}.")  # fmt: skip
    k = min(k, len(codes))
    top = codes.topk(k, dim=0).indices  # (k, n_code): the images that excite each unit most
    classes = labels[top].long()  # (k, n_code)
    ones = torch.ones_like(classes, dtype=torch.float)
    counts = torch.zeros(int(labels.max()) + 1, codes.shape[1]).scatter_add_(0, classes, ones)
    return counts.amax(dim=0) / k  # (n_code,)


def features_figure(model: SparseAutoencoder, units, title: str, ncols: int = 10) -> Figure:
    """Decoder features (``decoder_images``) of ``units`` in a grid.

    Red raises, blue lowers the output layer's input (before its sigmoid): where the unit
    brightens or darkens the reconstruction when it fires.
    """
    features = decoder_images(model, units).numpy()  # (n, 28, 28), 0.5 = zero weight
    nrows = -(-len(features) // ncols)
    fig = NotebookFigure(figsize=(1.05 * ncols, 1.05 * nrows + 0.4), layout="constrained")
    for ax, feature, unit in zip(fig.subplots(nrows, ncols).ravel(), features, units, strict=False):
        ax.imshow(feature, cmap="RdBu_r", vmin=0, vmax=1)
        ax.set_title(f"unit {unit}", fontsize=7)
    for ax in fig.axes:
        ax.axis("off")
    fig.suptitle(title)
    return fig


def _separate_labels(fig: Figure, axes, step: float = 11.0) -> None:
    """Move each point label that overlaps an earlier label of its axes to a free place.

    Draws the figure once (Agg, as ``NotebookFigure`` does to show itself) to measure the
    labels, then tries offsets of ``step`` points above and below the point in turn (above
    first, then below, then further out) and keeps the first that overlaps no earlier label.
    """
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)  # runs the layout engine, so the labels sit where the PNG has them
    for ax in axes:
        placed: list = []
        for text in ax.texts:
            dx, dy = text.xyann
            above = [dy + n * step for n in range(1, 7)]  # 15, 26, ... for dy = 4
            below = [dy - 16 - n * step for n in range(6)]  # -12, -23, ...: under the point
            candidates = [dy] + [o for pair in zip(above, below, strict=True) for o in pair]
            for offset in candidates:
                text.xyann = (dx, offset)
                text.update_positions(renderer)
                box = Text.get_window_extent(text, renderer)  # the label alone, not its leader line
                if not any(box.overlaps(other) for other in placed):
                    break
            else:
                text.xyann = (dx, dy)  # nowhere free: leave it where it was put
            text.update_positions(renderer)
            placed.append(Text.get_window_extent(text, renderer))


def tradeoff_figure(rows: list[dict]) -> Figure:
    """What sparsity costs: test error and dead units against the share of active units.

    rows: one dict per trained model with "name", "on" (``firing_fraction`` of its test codes),
    "mse" (test MSE per pixel), "dead" (``dead_unit_share``) and optionally "sweep": a curve
    name such as "L1", or a tuple of names for a row on several curves (the unpenalised model
    ends both the L1 and the KL sweep). The rows of one sweep are joined by a grey line in the
    order given, each sweep in its own line style.
    """
    fig = NotebookFigure(figsize=(10, 3.8), layout="constrained")
    ax_mse, ax_dead = fig.subplots(1, 2, sharex=True)
    member = [(r.get("sweep"),) if isinstance(r.get("sweep"), str) else tuple(r.get("sweep") or ())
              for r in rows]  # fmt: skip
    sweeps = list(dict.fromkeys(name for names in member for name in names))  # first seen first
    for sweep, style in zip(sweeps, ("-", "--", ":", "-."), strict=False):
        curve = [row for row, names in zip(rows, member, strict=True) if sweep in names]
        for ax, key in ((ax_mse, "mse"), (ax_dead, "dead")):
            ax.plot([r["on"] for r in curve], [r[key] for r in curve], style, color="grey", lw=1,
                    label=f"{sweep} sweep", zorder=1)  # fmt: skip
    for i, row in enumerate(rows):
        for ax, key in ((ax_mse, "mse"), (ax_dead, "dead")):
            ax.scatter(row["on"], row[key], s=40, color=f"C{i % 10}", zorder=2)
            ax.annotate(row["name"], (row["on"], row[key]), textcoords="offset points",
                        xytext=(5, 4), fontsize=8, color=f"C{i % 10}",
                        arrowprops={"arrowstyle": "-", "color": f"C{i % 10}", "lw": 0.6,
                                    "shrinkA": 0, "shrinkB": 3})  # fmt: skip
    ax_mse.set(xlabel="share of activations above 0.1 (test images)", ylabel="test MSE per pixel",
               title="reconstruction error against sparsity")  # fmt: skip
    ax_dead.set(xlabel="share of activations above 0.1 (test images)",
                ylabel="share of dead units (never above 0.1)", title="dead units")  # fmt: skip
    ax_dead.yaxis.set_major_formatter(PercentFormatter(1.0))
    for ax in (ax_mse, ax_dead):
        ax.set_xscale("log")  # shares from a few % (top-k) to most units (no penalty)
        ax.xaxis.set_major_locator(FixedLocator([0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0]))
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.margins(x=0.15, y=0.1)
        ax.grid(alpha=0.3)
    if sweeps:
        ax_mse.legend(fontsize=8, loc="upper right")
    _separate_labels(fig, (ax_mse, ax_dead))
    return fig


# Old names, kept for one release (issue 17): calling one warns and names the new one.
l1_penalty = deprecated_alias("l1_penalty", mean_l1_penalty_per_image)
kl_sparsity_penalty = deprecated_alias("kl_sparsity_penalty", kl_sparsity_penalty_per_batch)
contractive_penalty = deprecated_alias("contractive_penalty", contractive_penalty_per_image)
