"""The conditional VAE (lesson 07): a label given to both the encoder and the decoder.

Same loss convention as ``vae``: nats per image. Train it with ``fit(model, (x, y),
objective=VAEObjective())``: the batch is (images, labels) and the objective runs
``model(x, y)``. Its bound is log p(x|y) >= E_q[log p(x|z, y)] - KL(q(z|x, y) || p(z)),
with an unconditional prior p(z) = N(0, I) here. ``conditional_importance_sampled_nll``
estimates -log p(x|y) itself, so that the bound's gap can be told apart from the model's fit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import ipywidgets as widgets
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from torch import Tensor, nn

from course_utils.inputs import (
    InputError,
    check_codes,
    check_labels,
    check_sizes,
    check_widths,
    describe,
    model_dtype,
)
from course_utils.models import flatten_input, mlp
from course_utils.plots import NotebookFigure, rows_figure
from course_utils.train import predict
from course_utils.vae import reparameterize
from course_utils.vae_views import decode_images
from course_utils.widgets import FigureView


def one_hot_labels(y: Tensor, n_classes: int, dtype: torch.dtype = torch.float32) -> Tensor:
    """Integer labels (B,) -> one-hot rows (B, n_classes), with a clear error for bad labels."""
    check_labels(y, n_classes, "one_hot_labels")
    return F.one_hot(y.long(), n_classes).to(dtype)


class ConditionalVAE(nn.Module):
    """A conditional VAE (CVAE): the label is given to BOTH the encoder and the decoder.

    encode(x (B, 784) or (B, 1, 28, 28), y (B,)) -> mu, logvar (B, n_latent);
        the encoder sees [x, one_hot(y)]  (B, 784 + C)
    decode(z (B, n_latent), y (B,)) -> logits (B, 1, 28, 28); the decoder sees [z, one_hot(y)]
    Because the decoder is told the class, z is free to hold the rest: the STYLE (slant,
    thickness, width). Choose a class, move z, and you change the style, not the digit.
    """

    latent_prior = "N(0, I)"  # what ``vae_views`` checks: codes follow this prior

    def __init__(
        self,
        n_inputs: int = 784,
        n_classes: int = 10,
        hidden: tuple[int, ...] = (400,),
        n_latent: int = 2,
        activation: type[nn.Module] = nn.ReLU,
    ) -> None:
        check_sizes("ConditionalVAE", n_inputs=n_inputs, n_classes=n_classes, n_latent=n_latent)
        hidden = check_widths(hidden, "hidden", "ConditionalVAE", allow_empty=False)
        super().__init__()
        self.n_inputs, self.n_classes, self.n_latent = n_inputs, n_classes, n_latent
        self.output_shape = (1, 28, 28) if n_inputs == 28 * 28 else (n_inputs,)
        self.body = nn.Sequential(mlp([n_inputs + n_classes, *hidden], activation), activation())
        self.to_mu = nn.Linear(hidden[-1], n_latent)
        self.to_logvar = nn.Linear(hidden[-1], n_latent)
        self.decoder = mlp([n_latent + n_classes, *reversed(hidden), n_inputs], activation)

    def encode(self, x: Tensor, y: Tensor | None = None) -> tuple[Tensor, Tensor]:
        flat = flatten_input(x, self.n_inputs, "ConditionalVAE", model_dtype(self))  # (B, 784)
        _check_given(y, "ConditionalVAE")
        check_labels(y, self.n_classes, "ConditionalVAE (the labels y)")
        _check_one_label_each(flat, y, "ConditionalVAE", "image")
        h = self.body(torch.cat([flat, one_hot_labels(y, self.n_classes, flat.dtype)], dim=1))
        return self.to_mu(h), self.to_logvar(h)  # (B, L), (B, L)

    def decode(self, z: Tensor, y: Tensor | None = None) -> Tensor:
        check_codes(z, self.n_latent, "ConditionalVAE.decode", model_dtype(self))
        _check_given(y, "ConditionalVAE.decode")
        check_labels(y, self.n_classes, "ConditionalVAE.decode (the labels y)")
        _check_one_label_each(z, y, "ConditionalVAE.decode", "code")
        zy = torch.cat([z, one_hot_labels(y, self.n_classes, z.dtype)], dim=1)  # (B, L + C)
        return self.decoder(zy).view(-1, *self.output_shape)  # (B, 784) -> (B, 1, 28, 28)

    def forward(self, x: Tensor, y: Tensor | None = None, generator: torch.Generator | None = None):
        mu, logvar = self.encode(x, y)
        z = reparameterize(mu, logvar, generator)
        return self.decode(z, y).view_as(x), mu, logvar


def conditional_importance_sampled_nll(
    model: ConditionalVAE,
    x: Tensor,
    y: Tensor,
    k: int = 100,
    batch_size: int = 100,
    generator: torch.Generator | None = None,
) -> Tensor:
    """-log p(x | y) estimated with k importance samples from q(z|x, y): (N, ...), (N,) -> (N,).

    log p(x|y) ~ log (1/k) sum_i p(x|z_i, y) p(z_i) / q(z_i|x, y),  z_i ~ q(z|x, y), the
    conditional twin of ``elbo.importance_sampled_nll`` (Bernoulli decoder, meant for BINARY x).
    With k = 1 it is the one-sample negative ELBO; as k grows it falls towards -log p(x|y).
    """

    def nll(model: ConditionalVAE, xb: Tensor, yb: Tensor) -> Tensor:
        mu, logvar = model.encode(xb, yb)  # (b, L) each
        b, n_latent = mu.shape
        eps = torch.randn(k, b, n_latent, generator=generator).to(mu.device)  # (k, b, L)
        std = torch.exp(0.5 * logvar)
        z = mu + std * eps  # (k, b, L)
        logits = model.decode(z.reshape(k * b, n_latent), yb.repeat(k))  # (k*b, 1, 28, 28)
        logits = logits.reshape(k, b, -1)  # (k, b, D)
        target = xb.reshape(1, b, -1).expand_as(logits)
        log_px = -F.binary_cross_entropy_with_logits(logits, target, reduction="none").sum(-1)
        log_pz = (-0.5 * z**2 - 0.5 * math.log(2 * math.pi)).sum(-1)  # (k, b)
        log_qz = (-0.5 * eps**2 - 0.5 * math.log(2 * math.pi) - 0.5 * logvar).sum(-1)  # (k, b)
        log_w = log_px + log_pz - log_qz  # (k, b)
        return -(torch.logsumexp(log_w, dim=0) - math.log(k))  # (b,)

    return predict(model, x, y, fn=nll, batch_size=batch_size)


def _check_given(y: object, who: str) -> None:
    """A CVAE without its labels: say how to give them (``y`` defaults to None only for this)."""
    if y is None:
        raise InputError(
            f"{who} expects the class labels y with its input, but received none. Call it as "
            "model(x, y); to train it, give fit the pair: fit(model, (x, y), "
            "objective=VAEObjective())."
        )


def _check_one_label_each(rows: Tensor, y: Tensor, who: str, what: str) -> None:
    if len(y) != len(rows):
        raise InputError(
            f"{who} expects one label per {what}, but received {len(rows)} {what}s and {len(y)} "
            f"labels. Select the same {what}s' labels, or give one class to all: "
            f"torch.full(({len(rows)},), label)."
        )


def cvae_figure(model: nn.Module, label: int, z: Tensor, classes: Sequence[str]) -> Figure:
    """The CVAE decoding one style code z (L,) as class ``label``. Backs ``cvae_view``."""
    img = decode_images(model, z.reshape(1, -1), torch.tensor([label]))
    title = f"class {classes[label]}, style z = {np.round(z.tolist(), 2).tolist()}"
    fig = NotebookFigure(figsize=(3, 3.2), layout="constrained")
    ax = fig.subplots()
    ax.imshow(img[0, 0].numpy(), cmap="gray", vmin=0, vmax=1)
    ax.set_title(title, fontsize=8)
    ax.axis("off")
    return fig


def style_row_share(
    values: Tensor,
    n_perm: int = 1000,
    generator: torch.Generator | None = None,
) -> tuple[float, float]:
    """Does a style code move a factor the same way in every class? (S, C) -> (share, floor).

    values[s, c]: a factor (slant, width...) of the image decoded from style code s as class c.
    After removing each class's (column's) mean, ``share`` is the part of the remaining variance
    explained by the style codes (the row means): 1 when every class moves by the same amount,
    about (S - 1) / (S C - C) when the rows are unrelated. ``floor``: the 95th percentile of the
    same share when each column's S values are shuffled independently (``n_perm`` times), the
    share that chance alone reaches.
    """
    if values.dim() != 2 or min(values.shape) < 2:
        raise InputError(
            f"style_row_share expects a (styles, classes) grid with at least 2 of each, but "
            f"received {describe(values)}."
        )
    v = values.double()
    centred = v - v.mean(dim=0, keepdim=True)  # (S, C): class effects removed

    def share(grid: Tensor) -> Tensor:  # (..., S, C) -> (...,)
        total = (grid**2).sum(dim=(-2, -1)).clamp_min(1e-12)
        return grid.shape[-1] * (grid.mean(dim=-1) ** 2).sum(dim=-1) / total

    n_styles, n_classes = v.shape
    noise = torch.rand(n_perm, n_styles, n_classes, generator=generator)
    order = noise.argsort(dim=1)  # an independent shuffle of every column
    shuffled = torch.gather(centred.expand(n_perm, -1, -1), 1, order)  # (n_perm, S, C)
    return float(share(centred)), float(share(shuffled).quantile(0.95))


def cvae_style_figure(model: nn.Module, styles: Tensor, classes: Sequence[str]) -> Figure:
    """Rows = style codes (S, L), columns = classes: each row keeps one style across all digits.

    Each row is labelled with its number and code, e.g. "1: z = (-2, 0)".
    """
    n_classes = len(classes)
    rows = {}
    for s, z in enumerate(styles):
        labels = torch.arange(n_classes)
        name = f"{s + 1}: z = (" + ", ".join(f"{v:g}" for v in z.tolist()) + ")"
        rows[name] = decode_images(model, z.repeat(n_classes, 1), labels)
    return rows_figure(rows, n=n_classes, title="one style code per row, one class per column")


def cvae_view(model: nn.Module, classes: Sequence[str], span: float = 3.0) -> FigureView:
    """Pick a class, then move one slider per style dimension (z), decoding live."""
    controls: dict[str, widgets.ValueWidget] = {
        "label": widgets.Dropdown(
            options=[(name, i) for i, name in enumerate(classes)], value=0, description="class"
        )
    }
    for d in range(model.n_latent):
        controls[f"z{d + 1}"] = widgets.FloatSlider(
            value=0.0, min=-span, max=span, step=0.1, description=f"style z{d + 1}",
            continuous_update=False,
        )  # fmt: skip

    def render(label: int, **values: float) -> Figure:
        z = torch.tensor([values[f"z{d + 1}"] for d in range(model.n_latent)])
        return cvae_figure(model, label, z, classes)

    return FigureView(render, controls)
