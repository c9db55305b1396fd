"""Toy data for lesson 01: a flat cloud PCA fits, and a curve it cannot.

``toy_cloud`` draws a noisy, tilted, nearly flat elliptical cloud in 3-D: two principal
components keep almost all of its variance. ``noisy_arc`` draws points near a half circle in the
plane: a one-dimensional curve living in two dimensions. A 1-D code is enough to say where a point
sits on the curve, but PCA with one component can only project onto a straight line.
``curve_fit_figure`` draws the data next to reconstructions, so a student sees the line and the
curve side by side.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch
from matplotlib.figure import Figure
from torch import Tensor

from course_utils.plots import NotebookFigure


def toy_cloud(n: int = 500, noise: float = 0.15, seed: int = 0) -> Tensor:
    """A noisy, tilted elliptical cloud in 3-D (lesson 01): (n, 3) float32.

    The points spread along two axes (standard deviations 2 and 1) of a tilted plane and only
    ``noise`` off it, so two principal components keep almost all of the variance.
    """
    g = torch.Generator().manual_seed(seed)
    flat = torch.randn(n, 3, generator=g) * torch.tensor([2.0, 1.0, noise])  # (n, 3)
    tilt_a, tilt_b = torch.tensor(0.6), torch.tensor(-0.4)  # radians
    rot_x = torch.tensor(
        [[1, 0, 0], [0, tilt_a.cos(), -tilt_a.sin()], [0, tilt_a.sin(), tilt_a.cos()]]
    )
    rot_z = torch.tensor(
        [[tilt_b.cos(), -tilt_b.sin(), 0], [tilt_b.sin(), tilt_b.cos(), 0], [0, 0, 1]]
    )
    return flat @ (rot_z @ rot_x).T + torch.tensor([1.0, -0.5, 2.0])  # rotate, then shift


def noisy_arc(n: int = 1000, noise: float = 0.05, seed: int = 0) -> Tensor:
    """n points near the upper half of the unit circle: (n, 2) float32.

    Each point is (cos t, sin t) with t drawn uniformly in [0, pi], plus Gaussian noise of
    standard deviation ``noise`` in each coordinate. The curve itself has one dimension (t).
    """
    if n < 2:
        raise ValueError(f"noisy_arc expects n >= 2 points, but received {n}.")
    if noise < 0:
        raise ValueError(f"noisy_arc expects a noise level >= 0, but received {noise}.")
    g = torch.Generator().manual_seed(seed)
    t = torch.rand(n, generator=g) * math.pi  # (n,) position along the curve
    on_curve = torch.stack([t.cos(), t.sin()], dim=1)  # (n,) -> (n, 2)
    return on_curve + noise * torch.randn(n, 2, generator=g)


def curve_fit_figure(
    points: Tensor, reconstructions: Mapping[str, Tensor], title: str | None = None
) -> Figure:
    """One panel per model: the data points (N, 2) and that model's reconstructions (N, 2).

    ``reconstructions`` maps a panel title (e.g. "PCA, k = 1") to reconstructions of ``points``.
    Grey segments join a few points to their reconstruction: their length is the error.
    """
    pts = torch.as_tensor(points).detach().cpu()
    if pts.dim() != 2 or pts.shape[1] != 2:
        raise ValueError(
            f"curve_fit_figure expects points of shape (N, 2), but received {tuple(pts.shape)}."
        )
    fig = NotebookFigure(figsize=(4.6 * len(reconstructions), 4.2), layout="constrained")
    axes = fig.subplots(1, len(reconstructions), squeeze=False)[0]
    for ax, (name, recon) in zip(axes, reconstructions.items(), strict=True):
        rec = torch.as_tensor(recon).detach().cpu()
        if rec.shape != pts.shape:
            raise ValueError(
                f"curve_fit_figure expects reconstructions shaped like the points "
                f"{tuple(pts.shape)}, but {name!r} has {tuple(rec.shape)}."
            )
        for a, b in zip(pts[::15], rec[::15], strict=True):  # a few error segments
            ax.plot([a[0], b[0]], [a[1], b[1]], color="grey", lw=0.7)
        ax.scatter(pts[:, 0], pts[:, 1], s=5, alpha=0.4, label="data")
        order = rec[:, 0].argsort()
        ax.scatter(rec[order, 0], rec[order, 1], s=5, color="tab:red", label="reconstruction")
        ax.set_aspect("equal")
        ax.set(xlabel="x1", ylabel="x2", title=name)
        ax.legend(loc="lower center", fontsize=8)
    if title:
        fig.suptitle(title)
    return fig
