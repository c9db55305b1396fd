"""Probes of what a latent code holds (lesson 07): the digit's class, and its style.

Two questions a lesson asks of a trained encoder, answered with numbers instead of by eye:

* Which class? ``knn_class_accuracy`` predicts the label of each test code from its k nearest
  training codes. Near 10% (chance on 10 balanced classes): the code holds little class
  information. ``category_purity`` asks the same of each discrete variable of a Gumbel VAE.
* What do decoded samples look like to a classifier? ``sample_probe`` reports how many images a
  digit classifier labels confidently and how evenly its labels spread over the classes.
* Which style? MNIST has no labelled style factors, but three can be MEASURED on every image
  from its moments (``digit_style``): slant, width and ink. ``factor_correlations`` correlates
  each with each latent dimension (with the posterior noise, as the decoder sees it); a
  disentangled code gives each factor a dimension of its own that follows it more than any
  other dimension does (``disentanglement_table``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from torch import Tensor, nn

from course_utils.inputs import InputError, describe
from course_utils.plots import NotebookFigure
from course_utils.train import predict


def digit_style(x: Tensor) -> dict[str, Tensor]:
    """Three style factors of each image from its intensity moments: (N, 1, 28, 28) -> (N,) each.

    With pixel intensities as weights, (cx, cy) the centroid and y counted downwards:
    slant = -cov(x, y) / var(y), the sideways shift per row (> 0: the top leans right);
    width = sqrt(var(x)), the horizontal spread in pixels; ink = mean intensity (thicker or
    bigger strokes, more ink).
    """
    if x.dim() != 4 or x.shape[1] != 1:
        raise InputError(
            f"digit_style expects images of shape (N, 1, H, W), but received {describe(x)}."
        )
    w = x[:, 0].double()  # (N, H, W)
    h, wd = w.shape[1:]
    ys = torch.arange(h, dtype=w.dtype).view(1, h, 1)
    xs = torch.arange(wd, dtype=w.dtype).view(1, 1, wd)
    mass = w.sum(dim=(1, 2)).clamp_min(1e-8)  # (N,)
    cx = (w * xs).sum(dim=(1, 2)) / mass  # (N,)
    cy = (w * ys).sum(dim=(1, 2)) / mass
    dx, dy = xs - cx.view(-1, 1, 1), ys - cy.view(-1, 1, 1)  # (N, 1, W), (N, H, 1)
    var_x = (w * dx**2).sum(dim=(1, 2)) / mass
    var_y = (w * dy**2).sum(dim=(1, 2)) / mass
    cov_xy = (w * dx * dy).sum(dim=(1, 2)) / mass
    return {
        "slant": (-cov_xy / var_y.clamp_min(1e-8)).float(),
        "width": var_x.sqrt().float(),
        "ink": w.mean(dim=(1, 2)).float(),
    }


def _centre_per_class(t: Tensor, labels: Tensor) -> Tensor:
    """Subtract each class's mean from its rows: (N, C) -> (N, C)."""
    out = t.clone()
    for c in labels.unique():
        rows = labels == c
        out[rows] -= t[rows].mean(dim=0)
    return out


def factor_correlations(
    codes: Tensor,
    factors: Mapping[str, Tensor],
    labels: Tensor | None = None,
    noise_var: Tensor | None = None,
) -> Tensor:
    """Pearson correlation of every factor with every latent dimension: (F, L).

    codes (N, L), factors {name: (N,)}. With ``labels`` (N,), both are first centred within
    each class, so a dimension that only encodes the class (and classes differ in slant or ink)
    does not count as a style dimension.

    ``noise_var`` (N, L): the posterior variances sigma_j^2(x) when ``codes`` are the means
    mu(x). Then the result is the correlation with a SAMPLED code z = mu + sigma * eps (in
    expectation over eps): the noise adds mean(sigma_j^2) to the variance of dimension j and
    nothing to its covariance with a factor. A dimension whose mean follows a factor but whose
    posterior noise swamps that (Var mu << sigma^2) passes little of it to the decoder.
    """
    f = torch.stack([factors[name].double() for name in factors], dim=1)  # (N, F)
    z = codes.double()
    if len(f) != len(z) or (noise_var is not None and noise_var.shape != codes.shape):
        raise InputError(
            f"factor_correlations expects one factor value per code (and noise_var shaped like "
            f"the codes), but received {len(z)} codes {tuple(codes.shape)}, {len(f)} factor "
            f"values and noise_var {None if noise_var is None else tuple(noise_var.shape)}."
        )
    if labels is not None:
        f, z = _centre_per_class(f, labels), _centre_per_class(z, labels)
    f, z = f - f.mean(0), z - z.mean(0)
    cov = f.T @ z / (len(z) - 1)  # (F, N) @ (N, L) -> (F, L)
    var_z = z.var(0)  # (L,)
    if noise_var is not None:
        var_z = var_z + noise_var.double().mean(0)  # Var of the sampled code
    return (cov / (f.std(0).clamp_min(1e-12)[:, None] * var_z.sqrt().clamp_min(1e-12))).float()


def disentanglement_table(
    corr: Tensor, names: Sequence[str], active: Tensor | None = None
) -> list[dict[str, float]]:
    """Each factor gets its OWN dimension; how far that dimension beats every other one.

    corr (F, L) from ``factor_correlations``; ``active`` (L,) booleans: only these dimensions
    count (default: all). The factors are assigned to different active dimensions, the
    assignment with the largest total |r| (so one dimension cannot win two factors). Per factor:
    ``dim`` (-1 when no active dimension is left), ``best`` = |r| of its dimension, ``rival`` =
    the largest |r| of the factor with any OTHER active dimension, ``gap`` = best - rival.
    Every gap > 0: each factor has a dimension of its own that follows it more than any other
    dimension does (disentangled). A negative gap: the factor's strongest dimension belongs to
    another factor, or no dimension stands out.
    """
    r = corr.abs().double()  # (F, L)
    dims = list(range(r.shape[1])) if active is None else active.nonzero().flatten().tolist()
    n_factors = len(names)
    if r.shape[0] != n_factors:
        raise InputError(
            f"disentanglement_table expects one name per row of corr {tuple(corr.shape)}, but "
            f"received {len(names)} names."
        )
    best_total, assignment = -1.0, [-1] * n_factors
    k = min(n_factors, len(dims))
    table = r.numpy()
    for factors in itertools.combinations(range(n_factors), k):  # the factors that get a dim
        for chosen in itertools.permutations(dims, k):  # their dims, in every order
            total = sum(table[f, d] for f, d in zip(factors, chosen, strict=True))
            if total > best_total:
                best_total, assignment = total, [-1] * n_factors
                for f, d in zip(factors, chosen, strict=True):
                    assignment[f] = d
    rows = []
    for f, name in enumerate(names):
        d = assignment[f]
        best = float(r[f, d]) if d >= 0 else 0.0
        others = [float(r[f, j]) for j in dims if j != d]
        rival = max(others, default=0.0)
        rows.append({"factor": name, "dim": d, "best": best, "rival": rival, "gap": best - rival})
    return rows


def correlation_figure(
    corrs: Mapping[str, Tensor], names: Sequence[str], label: str = "|within-class r|"
) -> Figure:
    """|correlation| heat maps, one panel per model: rows = factors, columns = latent dims.

    ``label`` names what the colours show (say whether the codes were means or samples).
    """
    fig = NotebookFigure(figsize=(2.0 * len(corrs) + 1.2, 2.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(corrs), sharey=True))
    image = None
    for ax, (title, corr) in zip(axes, corrs.items(), strict=True):
        image = ax.imshow(corr.abs().numpy(), vmin=0, vmax=1, cmap="viridis", aspect="auto")
        ax.set_title(title, fontsize=9)
        ax.set_xticks(range(corr.shape[1]), [str(d + 1) for d in range(corr.shape[1])],
                      fontsize=7)  # fmt: skip
        ax.set_xlabel("latent dimension", fontsize=8)
    axes[0].set_yticks(range(len(names)), list(names))
    fig.colorbar(image, ax=list(axes), label=label, shrink=0.9)
    return fig


def knn_class_accuracy(
    train_codes: Tensor, train_labels: Tensor, test_codes: Tensor, test_labels: Tensor, k: int = 10
) -> float:
    """Share of test codes (M, L) whose k nearest training codes (N, L) vote for their label."""
    if train_codes.shape[1] != test_codes.shape[1] or len(train_codes) < k:
        raise InputError(
            f"knn_class_accuracy expects codes of the same size and at least k = {k} training "
            f"codes, but received {describe(train_codes)} and {describe(test_codes)}."
        )
    correct = 0
    for start in range(0, len(test_codes), 1000):  # (1000, N) distances at a time
        block = test_codes[start : start + 1000]
        nearest = torch.cdist(block.float(), train_codes.float()).topk(k, largest=False).indices
        votes = train_labels[nearest]  # (b, k)
        predicted = votes.mode(dim=1).values  # (b,)
        correct += int((predicted == test_labels[start : start + 1000]).sum())
    return correct / len(test_codes)


def category_purity(
    indices: Tensor,
    labels: Tensor,
    test_indices: Tensor | None = None,
    test_labels: Tensor | None = None,
) -> Tensor:
    """How well each discrete variable's category predicts the label: (N, V) -> (V,).

    For variable v, every category votes for the label most common among the images (indices,
    labels) that chose it. Without test data the result is the share of those same images whose
    label wins the vote (in-sample). With ``test_indices`` (M, V) and ``test_labels`` (M,), the
    votes learned on the first set label the test images (a category never chosen in the first
    set votes for its commonest label): an out-of-sample share, comparable with a k-NN probe.
    1.0: the variable IS the class; about the share of the commonest class: it says nothing.
    """
    if indices.dim() != 2 or len(indices) != len(labels):
        raise InputError(
            f"category_purity expects indices (N, V) and labels (N,), but received "
            f"{describe(indices)} and {describe(labels)}."
        )
    if (test_indices is None) != (test_labels is None) or (
        test_indices is not None
        and (test_indices.dim() != 2 or test_indices.shape[1] != indices.shape[1]
             or len(test_indices) != len(test_labels))
    ):  # fmt: skip
        raise InputError(
            f"category_purity expects test_indices (M, {indices.shape[1]}) and test_labels (M,) "
            f"together, but received {describe(test_indices)} and {describe(test_labels)}."
        )
    n_labels = int(labels.max()) + 1
    n_categories = int(indices.max()) + 1
    if test_indices is not None:
        n_categories = max(n_categories, int(test_indices.max()) + 1)
    commonest = int(torch.bincount(labels).argmax())
    purity = []
    for v in range(indices.shape[1]):
        table = torch.zeros(n_categories, n_labels)
        table.index_put_((indices[:, v], labels), torch.ones(len(labels)), accumulate=True)
        if test_indices is None:
            purity.append(float(table.max(dim=1).values.sum()) / len(labels))
            continue
        vote = table.argmax(dim=1)  # (K,) the label each category votes for
        vote[table.sum(dim=1) == 0] = commonest  # never chosen in the first set
        predicted = vote[test_indices[:, v]]  # (M,)
        purity.append(float((predicted == test_labels).float().mean()))
    return torch.tensor(purity)


def sample_probe(classifier: nn.Module, images: Tensor, threshold: float = 0.9) -> dict[str, float]:
    """What a digit classifier (logits (N, C)) sees in images (N, 1, 28, 28).

    "confident": the share of images it gives one class a probability >= ``threshold``;
    "class_bits": the entropy, in bits, of the classes it predicts (log2 C when every class is
    predicted equally often, 0 when every image gets the same class).
    """
    probs = F.softmax(predict(classifier, images), dim=1)  # (N, C)
    confident = float((probs.max(dim=1).values >= threshold).float().mean())
    counts = torch.bincount(probs.argmax(dim=1), minlength=probs.shape[1]).double()  # (C,)
    p = counts[counts > 0] / counts.sum()
    bits = float(-(p * p.log()).sum() / math.log(2))
    return {"confident": confident, "class_bits": max(0.0, bits)}  # never -0.0
