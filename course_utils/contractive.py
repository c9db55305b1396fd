"""Inside the contractive penalty: the encoder's Jacobian, direction by direction (lesson 05).

For a sigmoid encoder h = sigmoid(W x + b), with W of shape (K, D), the Jacobian at an image x is

    J(x) = diag(s) W,   s_j = h_j (1 - h_j)   (the sigmoid's slope at unit j, at most 1/4),

row j being unit j's weight row W_j scaled by its slope. ``sparse.contractive_penalty_per_image``
is its squared Frobenius norm, ||J||_F^2 = sum_j s_j^2 ||W_j||^2, the sum of its squared
singular values. This module takes that one number apart, in three ways:

    ``sigmoid_encoder_jacobian(h, W)``        (B, K, D): J of each image, written out
    ``jacobian_singular_values(h, W)``        (B, min(K, D)): how far the code moves per unit
                                              step of x in each of J's input directions
    ``directions_holding(sv, share)``         (B,): how many directions hold that share of
                                              ||J||_F^2 (few = sensitive in few directions)
    ``sensitivity_in_subspace(h, W, basis)``  (B,): ||J U||_F^2, the part of ||J||_F^2 felt
                                              by moves inside the span of U's orthonormal columns
    ``jacobian_factors(h, W)``                ||J||_F^2 averaged over images, split into the
                                              sigmoid slopes and the weight norms

All take the codes h (B, K) of the images, so the Jacobian never has to be built for the last
two (each is one matrix product).
"""

from __future__ import annotations

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor

from course_utils.inputs import InputError
from course_utils.plots import NotebookFigure


def _check(h: Tensor, weight: Tensor, who: str) -> None:
    if h.dim() != 2 or weight.dim() != 2 or h.shape[1] != weight.shape[0]:
        raise InputError(
            f"{who} expects codes h of shape (B, K) and the encoder weight W of shape (K, D), "
            f"but received h of shape {tuple(h.shape)} and W of shape {tuple(weight.shape)}. "
            "Pass the codes of the images (codes_of(model, x)) and model.encoder.weight."
        )


def sigmoid_encoder_jacobian(h: Tensor, weight: Tensor) -> Tensor:
    """d h / d x of h = sigmoid(W x + b) for each image: diag(h (1 - h)) W.

    h: (B, K) codes; weight: W (K, D). Returns (B, K, D); row j of image b is
    h_bj (1 - h_bj) W_j.
    """
    _check(h, weight, "sigmoid_encoder_jacobian")
    slopes = h * (1 - h)  # (B, K)
    return slopes[:, :, None] * weight[None]  # (B, K, 1) * (1, K, D) -> (B, K, D)


def jacobian_singular_values(h: Tensor, weight: Tensor) -> Tensor:
    """Singular values of each image's Jacobian, largest first: (B, K), (K, D) -> (B, min(K, D)).

    The i-th value is how much the code moves for a unit step of x along the i-th most
    sensitive input direction; their squares add up to ||J||_F^2.
    """
    return torch.linalg.svdvals(sigmoid_encoder_jacobian(h, weight))


def directions_holding(singular_values: Tensor, share: float = 0.9) -> Tensor:
    """How many input directions hold ``share`` of each Jacobian's ||J||_F^2: (B, n) -> (B,).

    singular_values: (B, n), each row sorted largest first (``jacobian_singular_values``).
    """
    if not 0 < share <= 1:
        raise InputError(
            f"directions_holding expects a share in (0, 1], but received {share!r}. "
            "Use e.g. share=0.9 for 90% of ||J||_F^2."
        )
    energy = singular_values.pow(2)  # (B, n)
    cumulative = energy.cumsum(dim=1) / energy.sum(dim=1, keepdim=True)
    return (cumulative < share - 1e-12).sum(dim=1) + 1  # first index reaching the share, 1-based


def sensitivity_in_subspace(h: Tensor, weight: Tensor, basis: Tensor) -> Tensor:
    """||J U||_F^2 per image: the code's sensitivity to moves inside span(U). (B,)

    h: (B, K); weight: W (K, D); basis: U (D, m) with orthonormal columns (e.g. the top m
    principal directions of the images). ||J U||_F^2 = sum_j (h_j (1 - h_j))^2 ||W_j U||^2; with
    U = all D directions it is ||J||_F^2, and a random m-dimensional U gets m / D of it on
    average.
    """
    _check(h, weight, "sensitivity_in_subspace")
    if basis.dim() != 2 or basis.shape[0] != weight.shape[1]:
        raise InputError(
            f"sensitivity_in_subspace expects a basis U of shape (D, m) = ({weight.shape[1]}, m), "
            f"but received {tuple(basis.shape)}. Put the directions in the COLUMNS: e.g. "
            "pca.components.T."
        )
    projected = (weight @ basis).pow(2).sum(dim=1)  # (K, D) @ (D, m) -> (K, m) -> (K,)
    return (h * (1 - h)).pow(2) @ projected  # (B, K) @ (K,) -> (B,)


def jacobian_factors(h: Tensor, weight: Tensor) -> dict[str, float]:
    """The mean ||J||_F^2 over the images, split into what the slopes and the weights give.

    h: (B, K); weight: (K, D). With S_j = mean over images of (h_j (1 - h_j))^2 and
    n_j = ||W_j||^2, the mean of ||J||_F^2 is sum_j S_j n_j = K * slope * weight * coupling:

        "slope"     mean_j S_j: how steep the sigmoids are where the images put them (<= 1/16)
        "weight"    mean_j n_j: the squared length of a unit's weight row
        "coupling"  sum_j S_j n_j / (K slope weight): above 1 when the units with long weight
                    rows are also the steep ones, below 1 when they are the flat ones
        "jacobian"  the mean ||J||_F^2 itself, "units" K
    """
    _check(h, weight, "jacobian_factors")
    slopes = (h * (1 - h)).pow(2).mean(dim=0)  # (B, K) -> (K,)
    norms = weight.pow(2).sum(dim=1)  # (K, D) -> (K,)
    jacobian = (slopes * norms).sum()
    k = len(norms)
    return {"jacobian": jacobian.item(), "units": k, "slope": slopes.mean().item(),
            "weight": norms.mean().item(),
            "coupling": (jacobian / (k * slopes.mean() * norms.mean())).item()}  # fmt: skip


def jacobian_spectrum_figure(spectra: dict[str, Tensor]) -> Figure:
    """Left: each model's mean singular value spectrum. Right: the share of ||J||_F^2 held by
    the first n directions. spectra: name -> (B, n) singular values, rows sorted largest first.
    """
    fig = NotebookFigure(figsize=(10, 3.6), layout="constrained")
    ax_sv, ax_share = fig.subplots(1, 2)
    for name, sv in spectra.items():
        energy = sv.pow(2)  # (B, n)
        share = (energy.cumsum(dim=1) / energy.sum(dim=1, keepdim=True)).mean(dim=0)
        rank = np.arange(1, sv.shape[1] + 1)
        ax_sv.plot(rank, sv.mean(dim=0).numpy(), label=name)
        ax_share.plot(rank, share.numpy(), label=name)
    ax_sv.set(xscale="log", yscale="log", xlabel="direction (sorted by sensitivity)",
              ylabel="singular value of J (mean over images)",
              title="how sensitive the code is, direction by direction")  # fmt: skip
    ax_share.set(xscale="log", xlabel="number of most sensitive directions",
                 ylabel=r"share of $\|J\|_F^2$",
                 title="how few directions hold the sensitivity")  # fmt: skip
    ax_share.axhline(0.9, color="grey", ls=":", lw=1)
    for ax in (ax_sv, ax_share):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return fig
