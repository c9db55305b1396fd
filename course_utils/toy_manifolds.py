"""Toy data for lesson 01: a flat cloud PCA fits, and a curve it cannot.

``toy_cloud`` draws a noisy, tilted, nearly flat elliptical cloud in 3-D: two principal
components keep almost all of its variance; ``plane_fit_figure`` shows it with its best-fitting
plane, from an angle and edge-on. ``noisy_arc`` draws points near a half circle in the plane: a
one-dimensional curve living in two dimensions. A 1-D code is enough to say where a point sits on
the curve, but PCA with one component can only project onto a straight line.
``curve_fit_figure`` draws the data next to reconstructions, so a student sees the line and the
curve side by side.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import matplotlib.ticker
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


def best_plane(points: Tensor) -> tuple[Tensor, Tensor]:
    """The plane that fits a cloud (N, 3) best in squared distance: (mean (3,), axes (3, 3)).

    The rows of ``axes`` are the principal directions, widest first (an SVD of the centred
    points): rows 0 and 1 span the plane, row 2 is its normal.
    """
    pts = torch.as_tensor(points).detach().cpu().double()
    if pts.dim() != 2 or pts.shape[1] != 3:
        raise ValueError(
            f"best_plane expects points of shape (N, 3), but received {tuple(pts.shape)}."
        )
    mean = pts.mean(dim=0)  # (3,)
    axes = torch.linalg.svd(pts - mean, full_matrices=False).Vh  # (3, 3), rows widest first
    return mean, axes


def plane_fit_figure(
    points: Tensor, projected: Tensor | None = None, title: str | None = None
) -> Figure:
    """A 3-D cloud (N, 3) and its best-fitting plane: from an angle, and edge-on.

    Left: the points in 3-D with the plane drawn as a translucent square. Right: the same points
    seen edge-on, as flat coordinates (along the widest direction, off the plane), where the
    plane is the horizontal line at 0 and the thickness of the band is the spread off the plane.
    With ``projected`` (N, 3), e.g. PCA's reconstructions, those are drawn too (in red), joined
    to every tenth point by thick black error segments.
    """
    mean, axes = best_plane(points)
    pts = torch.as_tensor(points).detach().cpu().double()
    layers = {"data": pts}
    if projected is not None:
        proj = torch.as_tensor(projected).detach().cpu().double()
        if proj.shape != pts.shape:
            raise ValueError(
                f"plane_fit_figure expects projected points shaped like the points "
                f"{tuple(pts.shape)}, but received {tuple(proj.shape)}."
            )
        layers["reconstruction"] = proj
    fig = NotebookFigure(figsize=(10.5, 4.6), layout="constrained")
    ax3d = fig.add_subplot(1, 2, 1, projection="3d")
    side = fig.add_subplot(1, 2, 2)
    half = 2.0 * (pts - mean).matmul(axes[:2].T).std(dim=0)  # (2,) two standard deviations
    u, v = torch.meshgrid(
        torch.linspace(-1, 1, 2, dtype=torch.float64),
        torch.linspace(-1, 1, 2, dtype=torch.float64),
        indexing="ij",
    )
    corners = (
        mean + u[..., None] * half[0] * axes[0] + v[..., None] * half[1] * axes[1]
    )  # (2, 2, 3)
    ax3d.plot_surface(*corners.unbind(-1), color="tab:green", alpha=0.18, label="best plane")
    flat = {}
    for (name, layer), colour in zip(layers.items(), ("tab:blue", "tab:red"), strict=False):
        ax3d.scatter(*layer.numpy().T, s=5, alpha=0.45, color=colour, label=name)
        flat[name] = (layer - mean) @ axes[[0, 2]].T  # (N, 2): along the widest, off the plane
        side.scatter(*flat[name].numpy().T, s=5, alpha=0.45, color=colour, label=name)
    if projected is not None:
        segment = {"color": "black", "lw": 1.8, "zorder": 4}  # thick and dark: visible on top
        every_tenth = zip(
            pts[::10], proj[::10], flat["data"][::10], flat["reconstruction"][::10], strict=True
        )
        for i, (a, b, fa, fb) in enumerate(every_tenth):
            label = {"label": "error segment"} if i == 0 else {}  # one legend entry
            ax3d.plot(*torch.stack([a, b]).T.numpy(), **segment, **label)
            side.plot(*torch.stack([fa, fb]).T.numpy(), **segment, **label)
    ax3d.set_aspect("equal")
    for axis in (ax3d.xaxis, ax3d.yaxis, ax3d.zaxis):
        axis.set_major_locator(matplotlib.ticker.MaxNLocator(4))  # few ticks: no overlap
    ax3d.set(xlabel="x1", ylabel="x2", title="from an angle")
    ax3d.set_zlabel("x3", labelpad=2)
    ax3d.set_box_aspect(None, zoom=0.82)  # leave room for the x3 label
    ax3d.legend(loc="upper left", fontsize=8)
    side.axhline(0, color="tab:green", lw=2, alpha=0.6, label="best plane (edge-on)")
    low, high = flat["data"][:, 0].min().item(), flat["data"][:, 0].max().item()
    side.set_xlim(low - 0.5, high + 0.5)
    side.set_ylim(-(high - low + 1) / 4, (high - low + 1) / 4)  # the same scale on both axes
    side.set_aspect("equal")
    side.set(
        xlabel="position along the widest direction",
        ylabel="distance off the plane",
        title="edge-on: looking along the plane",
    )
    side.legend(loc="upper left", fontsize=8)
    side.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    return fig


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
    span = (pts.max(dim=0).values - pts.min(dim=0).values).clamp_min(1e-9)  # (2,) data extent
    panel_h = min(4.2, max(1.5, 3.6 * (span[1] / span[0]).item()))  # equal axes: no empty band
    fig = NotebookFigure(figsize=(4.6 * len(reconstructions), panel_h + 1.25), layout="constrained")
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
