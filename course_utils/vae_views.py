"""One idea: looking at trained VAEs (lesson 06): samples, interpolations, grids, sliders, figures.

Plain functions return images (N, 1, 28, 28) in [0, 1] or figures; the ``*_view`` functions are
thin ``FigureView`` shells over them (ipywidgets 7.7+ and 8.x). Decoded images are the decoder's
pixel MEANS, sigmoid(logits), not Bernoulli samples. Every pass goes through ``train.predict``
(eval mode, the model's device, results on the CPU).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor, nn
from torch.distributions import Normal

from course_utils.inputs import (
    InputError,
    check_model,
    check_size,
    check_tensor,
    describe,
    is_whole,
    model_dtype,
)
from course_utils.plots import NotebookFigure, as_images, rows_figure
from course_utils.train import predict
from course_utils.widgets import FigureView

GAUSSIAN = "N(0, I)"


def check_vae(model: object, who: str, prior: str | None = GAUSSIAN) -> None:
    """Raise unless ``model`` is a VAE of the course: its decoder returns logits (every view
    applies the sigmoid) and, unless ``prior`` is None, its codes follow that prior."""
    check_model(model, who)
    has = getattr(model, "latent_prior", None)
    if has is not None and prior in (None, has):
        return
    if has is None:
        got, todo = (
            f"{describe(model)}, a plain autoencoder (its decoder outputs pixels, and its codes "
            "follow no prior)",
            "Pass a VAE (lesson 06); for a plain autoencoder's codes use predict(model, x, "
            "fn=lambda m, xb: m.encode(xb)) and predict(model, z, fn=lambda m, zb: m.decode(zb)).",
        )
    else:
        got, todo = (
            f"{describe(model)}, whose codes follow a {has} prior",
            "Decode its own codes with decode_images(model, z).",
        )
    wanted = "a VAE (VAE, ConvVAE, ConditionalVAE, GumbelVAE)" if prior is None else (
        f"a VAE whose codes follow the prior {prior} (VAE, ConvVAE, ConditionalVAE)"
    )  # fmt: skip
    raise InputError(f"{who} expects {wanted}, but received {got}. {todo}")


def _check_dims(dims: Sequence[int], n_latent: int, who: str) -> list[int]:
    """Latent dimensions to show: whole numbers from 0 to n_latent - 1 (ints or integer tensors,
    e.g. ``kl.argsort(descending=True)[:3]``)."""
    dims = [int(d) if _integer_scalar(d) else d for d in dims]
    if not dims or not all(is_whole(d) and 0 <= d < n_latent for d in dims):
        raise InputError(
            f"{who} expects dims among 0 .. {n_latent - 1} (the model has n_latent={n_latent}), "
            f"but received dims={dims!r}. Dimensions count from 0: z1 is dims=[0]."
        )
    return dims


def _integer_scalar(d: object) -> bool:
    return isinstance(d, Tensor) and d.numel() == 1 and not d.is_floating_point()


def _one_image(x: object, who: str, name: str, dtype: torch.dtype) -> Tensor:
    """``x`` as ONE image (1, 1, 28, 28), or a message (a batch, a wrong size)."""
    check_tensor(x, who, dtype)
    if x.numel() != 28 * 28:
        raise InputError(
            f"{who} expects {name} as ONE image, (1, 28, 28) or (1, 1, 28, 28), but received "
            f"{describe(x)}. Pick one image of the batch, e.g. x[0]."
        )
    return x.reshape(1, 1, 28, 28)


def _decode(model: nn.Module, z: Tensor, *condition: Tensor) -> Tensor:
    return model.decode(z, *condition)


def _encode_mean(model: nn.Module, x: Tensor, *condition: Tensor) -> Tensor:
    return model.encode(x, *condition)[0]


def decode_images(model: nn.Module, z: Tensor, *condition: Tensor) -> Tensor:
    """Codes z (N, L) (plus labels (N,) for a CVAE) -> images (N, 1, 28, 28) in [0, 1], on CPU."""
    check_vae(model, "decode_images", prior=None)
    logits = predict(model, z, *condition, fn=_decode)
    return torch.sigmoid(logits).view(-1, 1, 28, 28)  # pixel means


def encode_means(model: nn.Module, x: Tensor, *condition: Tensor) -> Tensor:
    """The centres mu(x) of q(z|x) for images x (N, ...): (N, L) on CPU."""
    check_vae(model, "encode_means")
    return predict(model, x, *condition, fn=_encode_mean)


def reconstruct(model: nn.Module, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """x (N, ...) -> reconstructions (N, 1, 28, 28) through ONE sampled z per image."""

    def sampled_logits(model: nn.Module, xb: Tensor) -> Tensor:
        return model(xb, generator=generator)[0]

    return torch.sigmoid(predict(model, x, fn=sampled_logits)).view(-1, 1, 28, 28)


def prior_samples(model: nn.Module, n: int, generator: torch.Generator | None = None) -> Tensor:
    """Decode n codes drawn from the prior N(0, I): images (n, 1, 28, 28)."""
    check_vae(model, "prior_samples")
    n = check_size(n, "n", "prior_samples")
    z = torch.randn(n, model.n_latent, generator=generator)  # (n, L), drawn on the CPU
    return decode_images(model, z)


def interpolate(model: nn.Module, x_a: Tensor, x_b: Tensor, steps: int = 10) -> Tensor:
    """Decode the straight line between the codes mu(x_a) and mu(x_b): images (steps, 1, 28, 28).

    x_a, x_b: single images (1, 28, 28) or (1, 1, 28, 28); ``steps`` >= 2 (both ends included).
    """
    check_vae(model, "interpolate")
    x_a, x_b = (_one_image(x, "interpolate", name, model_dtype(model))
                for x, name in ((x_a, "x_a"), (x_b, "x_b")))  # fmt: skip
    steps = check_size(steps, "steps", "interpolate", minimum=2)
    mus = encode_means(model, torch.cat([x_a, x_b]))  # (2, L)
    t = torch.linspace(0, 1, steps)[:, None]  # (steps, 1)
    return decode_images(model, (1 - t) * mus[0] + t * mus[1])  # (steps, L) -> images


def manifold_grid(
    model: nn.Module, n: int = 15, dims: tuple[int, int] = (0, 1), base: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    """Decode an n x n grid of codes placed at N(0, 1) QUANTILES 0.05 ... 0.95 in two dimensions.

    Quantiles, not even steps, so that every cell covers the same prior probability mass. The
    other dimensions are set from ``base`` (L,) (default zeros). Returns (images (n*n, 1, 28,
    28) row by row, top row = largest value of dims[1]; values (n,) the z values used).
    """
    check_vae(model, "manifold_grid")
    n = check_size(n, "n", "manifold_grid", minimum=2)
    dims = _check_dims(dims, model.n_latent, "manifold_grid")
    if len(dims) != 2 or dims[0] == dims[1]:
        raise InputError(
            f"manifold_grid expects dims as two different dimensions, but received dims={dims}. "
            "Choose the two to draw, e.g. dims=(0, 1)."
        )
    values = Normal(0.0, 1.0).icdf(torch.linspace(0.05, 0.95, n))  # (n,)
    base = torch.zeros(model.n_latent) if base is None else base.detach().cpu().clone()
    z = base.repeat(n * n, 1)  # (n*n, L)
    rows, cols = torch.meshgrid(values.flip(0), values, indexing="ij")  # top row: high z[dims[1]]
    z[:, dims[0]], z[:, dims[1]] = cols.reshape(-1), rows.reshape(-1)
    return decode_images(model, z), values


def manifold_figure(model: nn.Module, n: int = 15, title: str | None = None) -> Figure:
    """The decoded 2-D manifold as one big image, axes labelled with the z values.

    It varies z1 and z2 only. A VAE with more latent dimensions (e.g. 20) is drawn as a 2-D
    SLICE of its code space: every other dimension is fixed at 0 (the prior's mean), and the
    figure says so under its title. The slice is a true picture of the decoder, but only of
    that plane: other dimensions may carry most of what the model encodes.
    """
    check_vae(model, "manifold_figure")
    n = check_size(n, "n", "manifold_figure", minimum=2)
    images, values = manifold_grid(model, n)
    tiles = as_images(images).reshape(n, n, 28, 28)
    big = tiles.transpose(0, 2, 1, 3).reshape(n * 28, n * 28)  # (n, n, 28, 28) -> (28n, 28n)
    fig = NotebookFigure(figsize=(7, 7), layout="constrained")
    ax = fig.subplots()
    ax.imshow(big, cmap="gray", vmin=0, vmax=1)
    ticks = np.arange(n) * 28 + 14
    labels = [f"{v:.1f}" for v in values.tolist()]
    ax.set_xticks(ticks, labels, fontsize=7)
    ax.set_yticks(ticks, labels[::-1], fontsize=7)
    ax.set(xlabel="z1 (at N(0,1) quantiles)", ylabel="z2", title=title or "decoded latent grid")
    if model.n_latent > 2:
        rest = "z3" if model.n_latent == 3 else f"z3 ... z{model.n_latent}"
        fig.suptitle(
            f"a 2-D slice of a {model.n_latent}-D code space: {rest} fixed at 0",
            fontsize=9,
            color="tab:red",
        )
    return fig


def traversal_figure(
    model: nn.Module, z: Tensor, dims: Sequence[int], span: float = 3.0, steps: int = 9
) -> Figure:
    """Rows = latent dimensions, columns = that dimension set from -span to +span, rest = z (L,)."""
    check_vae(model, "traversal_figure")
    dims = _check_dims(dims, model.n_latent, "traversal_figure")
    if not isinstance(z, Tensor) or z.numel() != model.n_latent:
        raise InputError(
            f"traversal_figure expects z as ONE code of {model.n_latent} numbers, shape "
            f"({model.n_latent},), but received {describe(z)}. Pick one code, e.g. "
            "encode_means(model, x[:1])[0]."
        )
    values = torch.linspace(-span, span, steps)
    rows = {}
    for d in dims:
        codes = z.detach().cpu().repeat(steps, 1)  # (steps, L)
        codes[:, d] = values
        rows[f"z{d + 1}"] = decode_images(model, codes)
    return rows_figure(rows, n=steps, title=f"latent traversals from {-span:g} to {span:g}")


def decode_code_figure(model: nn.Module, z: Tensor, original: Tensor | None = None) -> Figure:
    """One code z (L,) decoded; next to the original image if given. Backs ``latent_view``."""
    images = [decode_images(model, z.reshape(1, -1))[0]]
    titles = ["decoded z"]
    if original is not None:
        images.insert(0, original.reshape(1, 28, 28).cpu())
        titles.insert(0, "original")
    fig = NotebookFigure(figsize=(2.2 * len(images), 2.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(images)))
    for ax, img, title in zip(axes, images, titles, strict=True):
        ax.imshow(img[0].numpy(), cmap="gray", vmin=0, vmax=1)
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    shown = ", ".join(f"{v:.2f}" for v in z.tolist()[:8])
    fig.suptitle(f"z = [{shown}{', ...' if len(z) > 8 else ''}]", fontsize=8)
    return fig


def latent_view(
    model: nn.Module, image: Tensor, dims: Sequence[int] | None = None, span: float = 3.0
) -> FigureView:
    """One vertical slider per latent dimension, starting at the chosen image's mu; live decoding.

    ``dims``: which dimensions get a slider (default: all, fine for small latents; for a large
    latent pass the few most active ones). The other dimensions stay at the image's mu.
    """
    check_vae(model, "latent_view")
    image = _one_image(image, "latent_view", "image", model_dtype(model))
    dims = list(range(model.n_latent)) if dims is None else list(dims)
    dims = _check_dims(dims, model.n_latent, "latent_view")
    mu = encode_means(model, image)[0]  # (L,)
    sliders = {
        f"z{d + 1}": widgets.FloatSlider(
            value=round(float(mu[d]), 2),
            min=-span,
            max=span,
            step=0.05,
            description=f"z{d + 1}",
            orientation="vertical",
            continuous_update=False,
        )  # fmt: skip
        for d in dims
    }

    def render(**values: float) -> Figure:
        z = mu.clone()
        for d in dims:
            z[d] = values[f"z{d + 1}"]
        return decode_code_figure(model, z, original=image)

    return FigureView(render, sliders)


def kl_per_dimension_figure(
    per_dim: dict[str, Tensor],
    threshold: float | None = None,
    ylabel: str = "average KL (nats)",
    logy: bool = False,
    mark_share: float | None = None,
) -> Figure:
    """Bar chart of a per-dimension statistic (by default the average KL), one panel per model.

    ``per_dim``: {panel title: values (L,)}, drawn sorted, largest first. With ``threshold`` a
    dashed line is drawn and each title counts the dimensions above it; lesson 06 passes the
    variance of mu_j(x) with Burda's 0.01 (``elbo.active_units``) and ``logy=True``, so that
    values far below the line stay visible. With ``mark_share`` (e.g. 0.99) a dotted vertical
    line marks the fewest bars that hold that share of the panel's total.
    """
    fig = NotebookFigure(figsize=(4.5 * len(per_dim), 3.2), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(per_dim), sharey=True))
    for ax, (name, kl) in zip(axes, per_dim.items(), strict=True):
        order = torch.argsort(kl, descending=True)
        ax.bar(range(1, len(kl) + 1), kl[order].numpy(), color="tab:purple")
        title = name
        if threshold is not None:
            used = int((kl > threshold).sum())
            ax.axhline(threshold, color="grey", ls="--", lw=1)
            title = f"{name}: {used} of {len(kl)} above {threshold:g}"
        if mark_share is not None:
            share = kl[order].cumsum(0) / kl.sum()  # (L,) share held by the largest k bars
            count = int((share < mark_share).sum()) + 1
            ax.axvline(count + 0.5, color="black", ls=":", lw=1.2)
            title = f"{name}: {mark_share:.0%} in {count} dims"
        ax.set(xlabel="latent dimension (sorted, largest first)", title=title)
        if logy:
            ax.set_yscale("log")
        ax.set_xticks(range(1, len(kl) + 1, max(1, len(kl) // 10)))
        ax.grid(alpha=0.3, axis="y")
    axes[0].set_ylabel(ylabel)
    return fig


def _encode_both(model: nn.Module, x: Tensor) -> tuple[Tensor, Tensor]:
    return model.encode(x)


def posterior_figure(
    model: nn.Module,
    x: Tensor,
    labels: Tensor,
    n_ellipses: int = 12,
    generator: torch.Generator | None = None,
) -> Figure:
    """The three distributions of z of a 2-D VAE, side by side.

    Left: the means mu(x) of all images x (grey) and, for ``n_ellipses`` of them, the
    per-image posterior q(z|x) drawn as its 2-sigma ellipse (colour = label). Right: the
    AGGREGATE posterior, one z ~ q(z|x) per image, as a 2-D histogram, with the prior
    N(0, I)'s circles of radius 1 and 2 on top, labelled with the prior mass inside each
    (1 - exp(-r^2 / 2) in 2-D: 39% and 86%).
    """
    from matplotlib.patches import Ellipse

    mu, logvar = predict(model, x, fn=_encode_both)  # (N, 2) each
    sigma = torch.exp(0.5 * logvar)
    z = mu + sigma * torch.randn(mu.shape, generator=generator)  # one sample per image
    fig = NotebookFigure(figsize=(10, 4.6), layout="constrained")
    left, right = fig.subplots(1, 2, sharex=True, sharey=True)
    left.scatter(mu[:, 0], mu[:, 1], s=2, color="lightgrey")
    colours = [f"C{int(c) % 10}" for c in labels.tolist()]
    step = max(1, len(x) // n_ellipses)
    for i in range(0, step * n_ellipses, step):
        if i >= len(x):
            break
        w, h = 4 * sigma[i].tolist()[0], 4 * sigma[i].tolist()[1]
        left.add_patch(Ellipse(mu[i].tolist(), w, h, fill=False, color=colours[i], lw=1.5))
        left.plot(*mu[i].tolist(), "o", color=colours[i], ms=3)
    left.set(title="q(z|x) of single images (2-sigma ellipses)", xlabel="z1", ylabel="z2")
    lim = float(torch.quantile(z.abs().flatten(), 0.995)) + 0.5
    lim = max(lim, 3.0)
    right.hist2d(z[:, 0].numpy(), z[:, 1].numpy(), bins=60, range=[[-lim, lim], [-lim, lim]],
                 cmap="Blues")  # fmt: skip
    angle = np.linspace(0, 2 * np.pi, 200)
    for r, style in ((1, "-"), (2, "--")):
        right.plot(
            r * np.cos(angle),
            r * np.sin(angle),
            color="tab:red",
            lw=1.2,
            ls=style,
            label=f"N(0, I): radius {r} (holds {1 - math.exp(-r * r / 2):.0%})",
        )
    right.legend(loc="upper right", fontsize=8)
    right.set(title="aggregate posterior: one z per image", xlabel="z1")
    for ax in (left, right):
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_aspect("equal")
    return fig


def terms_by_step_figure(
    log,
    keys: Sequence[str] = ("recon", "kl"),
    marks: dict[str, float] | None = None,
    title: str | None = None,
    logy: Sequence[str] = (),
) -> Figure:
    """The ELBO's terms against the optimizer step, one panel per key, from ``elbo.ElboTermsLog``.

    ``log`` has rows {"step", "beta", "loss", "recon", "kl", ...}; ``keys`` picks the panels
    (any of them, e.g. ("beta", "recon", "kl")). ``marks`` {label: step} draws labelled dashed
    vertical lines (e.g. the end of a KL warm-up) on every panel. The panels of the keys in
    ``logy`` get a log-scaled y axis, so that the untrained model's first row (a recon several
    times the final one, a KL near 0) does not flatten the rest of the curve.
    """
    rows = getattr(log, "rows", None)
    if not rows or "step" not in rows[0]:
        raise ValueError(
            "terms_by_step_figure expects the ElboTermsLog passed to fit as a callback, with at "
            f"least one recorded row, but received {type(log).__name__} with rows={rows!r:.60}. "
            "Pass callbacks=[log] to fit and train first."
        )
    missing = [k for k in (*keys, *logy) if k not in rows[0]]
    if missing:
        raise ValueError(
            f"terms_by_step_figure expects keys among {sorted(rows[0])}, but received {missing}."
        )
    names = {"beta": "beta (KL weight)", "recon": "recon (nats/image)", "kl": "KL (nats/image)",
             "loss": "recon + KL (nats/image)"}  # fmt: skip
    steps = [row["step"] for row in rows]
    fig = NotebookFigure(figsize=(3.6 * len(keys), 3.0), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(keys)))
    for ax, key in zip(axes, keys, strict=True):
        ax.plot(steps, [row[key] for row in rows], "-o", markersize=2, lw=1.2)
        for i, (label, step) in enumerate((marks or {}).items()):
            ax.axvline(step, color=f"C{i + 1}", ls="--", lw=1, label=label)
        log_scale = key in logy
        ax.set(
            xlabel="optimizer step",
            yscale="log" if log_scale else "linear",
            ylabel=names.get(key, key) + (", log scale" if log_scale else ""),
        )
        ax.grid(alpha=0.3, which="both")
    if marks:
        axes[0].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return fig
