"""Figures used across the lessons. Every function RETURNS a figure and shows nothing.

Naming rule, for the whole package: a function that returns a figure ends in ``_figure``
(``images_figure``, ``history_figure``); one that returns an interactive view (sliders over a
figure, ``widgets.FigureView``) ends in ``_view``; a function that returns images or numbers is
named after what it computes (``manifold_grid``, ``error_maps``) and never draws.

In a notebook a returned figure is displayed once, as the cell's result. In tests and scripts,
call ``fig.savefig("name.png")``. Figures are ``NotebookFigure`` objects (a matplotlib Figure that
knows how to show itself as a PNG) built without ``pyplot``, so library code never leaves open
windows or global state behind.

Image arguments accept tensors or arrays of shape (N, 1, 28, 28), (N, 28, 28) or (N, 784).

One idea: the figures that more than one lesson draws, or that follow one shared layout (image
grids, code scatters, diagrams), kept together so that every lesson's figures look alike.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence

import matplotlib
import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.offsetbox import AnnotationBbox, OffsetImage
from matplotlib.patches import FancyBboxPatch
from matplotlib.ticker import FormatStrFormatter, LogLocator, NullLocator

from course_utils.inputs import InputError, describe


class NotebookFigure(Figure):
    """A matplotlib Figure that Jupyter displays as a PNG when it is the result of a cell."""

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()


def as_images(images) -> np.ndarray:
    """(N, 1, H, W), (N, H, W) or (N, H*W) tensor/array -> (N, H, W) float numpy array."""
    arr = images.detach().cpu().numpy() if isinstance(images, torch.Tensor) else np.asarray(images)
    if arr.ndim == 4 and arr.shape[1] == 1:
        return arr[:, 0]  # (N, 1, H, W) -> (N, H, W)
    if arr.ndim == 3:
        return arr
    if arr.ndim == 2 and int(np.sqrt(arr.shape[1])) ** 2 == arr.shape[1]:
        side = int(np.sqrt(arr.shape[1]))
        return arr.reshape(len(arr), side, side)  # (N, H*W) -> (N, H, W)
    raise ValueError(
        f"Expected images of shape (N, 1, H, W), (N, H, W) or (N, H*W), got {arr.shape}. "
        "For a single image add a batch dimension, e.g. x[None]."
    )


def images_figure(
    images,
    ncols: int = 10,
    titles: Sequence[str] | None = None,
    title: str | None = None,
    size: float = 1.1,
    vmin: float | None = 0.0,
    vmax: float | None = 1.0,
    titles_size: float = 8,
) -> Figure:
    """A grid of grey-scale images, optionally with a title (``titles_size`` points) above each."""
    imgs = as_images(images)
    ncols = max(1, min(ncols, len(imgs)))
    nrows = int(np.ceil(len(imgs) / ncols))
    fig = NotebookFigure(
        figsize=(size * ncols, size * nrows + (0.3 if title else 0)), layout="constrained"
    )
    axes = np.atleast_1d(fig.subplots(nrows, ncols)).ravel()
    for i, ax in enumerate(axes):
        ax.axis("off")
        if i < len(imgs):
            ax.imshow(imgs[i], cmap="gray", vmin=vmin, vmax=vmax)
            if titles is not None:
                ax.set_title(titles[i], fontsize=titles_size)
    if title:
        fig.suptitle(title)
    return fig


def rows_figure(
    rows: Mapping[str, object],
    n: int = 10,
    title: str | None = None,
    size: float = 1.1,
    vmin: float | None = 0.0,
    vmax: float | None = 1.0,
) -> Figure:
    """Rows of images to compare, one row per entry: e.g. {"input": x, "reconstruction": x_hat}.

    Column j of every row shows image j, so originals and their reconstructions line up.
    """
    arrays = {name: as_images(imgs)[:n] for name, imgs in rows.items()}
    n = min(len(a) for a in arrays.values())
    fig = NotebookFigure(figsize=(size * n + 1.2, size * len(arrays) + 0.3), layout="constrained")
    axes = np.array(fig.subplots(len(arrays), n, squeeze=False))
    for r, (name, imgs) in enumerate(arrays.items()):
        for c in range(n):
            ax = axes[r, c]
            ax.imshow(imgs[c], cmap="gray", vmin=vmin, vmax=vmax)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
    if title:
        fig.suptitle(title)
    return fig


def directions_figure(
    rows: Mapping[str, object],
    n: int = 10,
    column_titles: Sequence[str] | None = None,
    title: str | None = None,
    size: float = 1.1,
) -> Figure:
    """Rows of directions in pixel space, e.g. {"PCA": components (n, 784), "W_d": columns.T}.

    Each direction (n, 784), (n, 28, 28) or (n, 1, 28, 28) is a 28x28 tile on a diverging scale:
    white is 0, red positive, blue negative. All tiles of ONE row share one scale (the row's
    largest absolute weight), so a faint tile really has small weights; different rows may have
    different norms (a decoder column need not have length 1), so each row gets its own scale.
    A direction and its negative are the same line: a tile may appear with its colours swapped.
    """
    arrays = {
        name: as_images(torch.as_tensor(d).detach().cpu().float())[:n] for name, d in rows.items()
    }
    n = min(len(a) for a in arrays.values())
    fig = NotebookFigure(figsize=(size * n + 1.6, size * len(arrays) + 0.5), layout="constrained")
    axes = np.array(fig.subplots(len(arrays), n, squeeze=False))
    for r, (name, tiles) in enumerate(arrays.items()):
        scale = float(np.abs(tiles[:n]).max()) or 1.0  # one scale per row
        for c in range(n):
            ax = axes[r, c]
            ax.imshow(tiles[c], cmap="RdBu_r", vmin=-scale, vmax=scale)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0 and column_titles is not None:
                ax.set_title(column_titles[c], fontsize=8)
        axes[r, 0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
    if title:
        fig.suptitle(title)
    return fig


def plain_log_yaxis(ax) -> None:
    """Label a log-scale y axis with plain numbers and no minor ticks: 10, 15, 20, 30, ... when it
    spans at most one decade, else 10, 20, 50, ..."""
    low, high = ax.get_ylim()
    one_decade = high / low <= 10
    ax.yaxis.set_major_locator(LogLocator(subs=(1, 1.5, 2, 3, 5, 7) if one_decade else (1, 2, 5)))
    ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.yaxis.set_minor_locator(NullLocator())


def history_figure(
    history, keys: Sequence[str] = ("loss",), title: str | None = None, logy: bool = False
) -> Figure:
    """Training and validation curves per epoch, one panel per key (e.g. "loss", "kl").

    ``history`` is the ``train.History`` that ``fit`` returns. The key "loss" stands for the
    loss under whatever name the objective gave it (``history.loss_name``, e.g. "damage_ratio").
    """
    if not hasattr(history, "rows"):
        raise InputError(
            f"history_figure expects the History that fit returns, but received "
            f"{describe(history)}. Run the training cell first (history = fit(...)), then this one."
        )
    fig = NotebookFigure(figsize=(4.2 * len(keys), 3.2), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(keys)))
    epochs = history["epoch"]
    loss_name = getattr(history, "loss_name", "loss")
    for ax, key in zip(axes, keys, strict=True):
        column = loss_name if key == "loss" else key
        for split, style in (("train", "-o"), ("valid", "--s")):
            values = history[f"{split}_{column}"]
            if values:
                ax.plot(epochs[: len(values)], values, style, label=split, markersize=3)
        ax.set_xlabel("epoch")
        ax.set_ylabel(column)
        ax.grid(alpha=0.3)
        ax.legend()
        if logy:
            ax.set_yscale("log")
            plain_log_yaxis(ax)  # 10, 15, 20, ... rather than 10^1 and unlabelled minor ticks
    if title:
        fig.suptitle(title)
    return fig


def codes_figure(
    codes,
    labels,
    classes: Sequence[str],
    images=None,
    n_thumbnails: int = 0,
    title: str | None = None,
    seed: int = 0,
    axis_labels: tuple[str, str] = ("code dimension 1", "code dimension 2"),
    thumbnail_cmap: str = "gray_r",
) -> Figure:
    """Scatter of 2-D codes (N, 2) coloured by label (N,), with optional image thumbnails.

    With ``images`` (N, ...) and ``n_thumbnails > 0``, up to that many randomly chosen points also
    show their image, so you can see what each region of the latent space holds; a point within
    8% of either axis's range of one already shown is skipped, so thumbnails do not overlap.
    ``axis_labels`` name the two axes (e.g. the first two principal components of wider codes);
    ``thumbnail_cmap="gray"`` draws the thumbnails as the other figures draw images.
    """
    codes = torch.as_tensor(codes).detach().cpu().numpy()
    labels = torch.as_tensor(labels).cpu().numpy()
    if codes.ndim != 2 or codes.shape[1] != 2:
        raise ValueError(f"codes_figure needs codes of shape (N, 2), got {codes.shape}.")
    fig = NotebookFigure(figsize=(7, 6), layout="constrained")
    ax = fig.subplots()
    cmap = matplotlib.colormaps["tab10"]
    for c, name in enumerate(classes):
        pts = codes[labels == c]
        ax.scatter(pts[:, 0], pts[:, 1], s=4, alpha=0.6, color=cmap(c % 10), label=name)
    if images is not None and n_thumbnails > 0:
        imgs = as_images(images)
        rng = np.random.default_rng(seed)
        span = np.ptp(codes, axis=0) + 1e-12  # (2,) so that gaps are fractions of each axis
        shown: list[int] = []
        for i in rng.permutation(len(codes)):  # random points, skipping any too close to one shown
            if len(shown) == n_thumbnails:
                break
            if all(np.abs((codes[i] - codes[j]) / span).max() >= 0.08 for j in shown):
                shown.append(int(i))
        for i in shown:
            box = OffsetImage(imgs[i], cmap=thumbnail_cmap, zoom=0.6)
            ax.add_artist(AnnotationBbox(box, codes[i], frameon=True, pad=0.1))
    ax.set_xlabel(axis_labels[0])
    ax.set_ylabel(axis_labels[1])
    ax.legend(markerscale=3, fontsize=8, loc="best")
    if title:
        ax.set_title(title)
    return fig


def cloud_figure(points, projected=None, title: str | None = None) -> Figure:
    """A 3-D point cloud (N, 3), seen from an angle and edge-on to its best-fitting plane.

    With ``projected`` (N, 3) each point's reconstruction is drawn too, joined to a few points by
    grey error segments. The edge-on view looks along the cloud's widest direction, so a flat
    cloud appears as a thin band.
    """
    pts = torch.as_tensor(points).detach().cpu().double()
    widest = torch.linalg.svd(pts - pts.mean(0), full_matrices=False).Vh[0]  # (3,)
    edge_on = (math.degrees(math.asin(widest[2])), math.degrees(math.atan2(widest[1], widest[0])))
    fig = NotebookFigure(figsize=(10, 4.6), layout="constrained")
    for i, (view, name) in enumerate(((None, "from an angle"), (edge_on, "edge-on"))):
        ax = fig.add_subplot(1, 2, i + 1, projection="3d")
        ax.scatter(*pts.numpy().T, s=5, alpha=0.45, label="data")
        if projected is not None:
            proj = torch.as_tensor(projected).detach().cpu().numpy()
            ax.scatter(*proj.T, s=5, color="tab:red", alpha=0.6, label="reconstruction")
            for a, b in zip(pts.numpy()[::10], proj[::10], strict=True):  # some error segments
                ax.plot(*np.stack([a, b]).T, color="grey", lw=0.7)
        if view is not None:
            ax.view_init(elev=view[0], azim=view[1])
        ax.set_aspect("equal")
        ax.set(xlabel="x1", ylabel="x2", zlabel="x3", title=name)
        ax.legend(loc="upper left", fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def flow_diagram_figure(
    stages: Sequence[tuple[str, str]],
    title: str | None = None,
    arrows: Sequence[str] | None = None,
    width: float = 1.9,
) -> Figure:
    """An architecture or data-flow diagram: boxes left to right, joined by arrows.

    ``stages`` is a list of (name, detail) pairs, e.g. ``[("x", "(B, 784)"), ("encoder",
    "784 -> 128 -> 32"), ("z", "(B, 32)"), ...]``; the detail (a shape, a layer list) is written
    under the name. ``arrows`` optionally labels the arrow after each stage but the last.
    Names that are tensors (one letter or a Greek name) get a round box, layers a square one.
    """
    if len(stages) < 2:
        raise ValueError(
            f"flow_diagram_figure expects at least two stages, but received {len(stages)}."
        )
    if arrows is not None and len(arrows) != len(stages) - 1:
        raise ValueError(
            f"flow_diagram_figure expects one arrow label per gap ({len(stages) - 1}), but "
            f"received {len(arrows)}."
        )
    fig = NotebookFigure(figsize=(width * len(stages), 2.2), layout="constrained")
    ax = fig.subplots()
    ax.set_xlim(-0.5, len(stages) - 0.5)
    ax.set_ylim(-1, 1)
    ax.axis("off")
    for i, (name, detail) in enumerate(stages):
        tensor_like = len(name.split()[0]) <= 3
        style = "round,pad=0.35" if tensor_like else "square,pad=0.35"
        colour = "#dbeafe" if tensor_like else "#fde68a"
        ax.text(i, 0.15, name, ha="center", va="center", fontsize=11, fontweight="bold",
                bbox={"boxstyle": style, "facecolor": colour, "edgecolor": "#555"})  # fmt: skip
        ax.text(i, -0.55, detail, ha="center", va="center", fontsize=8, wrap=True)
        if i < len(stages) - 1:
            ax.annotate("", xy=(i + 0.62, 0.15), xytext=(i + 0.38, 0.15),
                        arrowprops={"arrowstyle": "->", "lw": 1.5})  # fmt: skip
            if arrows is not None and arrows[i]:
                ax.text(i + 0.5, 0.5, arrows[i], ha="center", va="bottom", fontsize=8)
    if title:
        ax.set_title(title)
    return fig


def linear_widths(model: torch.nn.Module) -> list[int]:
    """The widths a stack of ``nn.Linear`` layers passes through, in the order they are built.

    For a 784-128-32-128-784 autoencoder: ``[784, 128, 32, 128, 784]`` (the first layer's input
    width, then every layer's output width). Read from the module, so a diagram drawn from it
    cannot disagree with the model."""
    layers = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    if not layers:
        raise ValueError("linear_widths expects a module with nn.Linear layers, but found none.")
    return [layers[0].in_features] + [layer.out_features for layer in layers]


def hourglass_figure(model: torch.nn.Module, title: str | None = None) -> Figure:
    """An autoencoder drawn as an hourglass: one bar per layer width, its height proportional
    to the width (read by ``linear_widths``), the narrowest bar (the code) in orange."""
    widths = linear_widths(model)
    fig = NotebookFigure(figsize=(1.1 * len(widths) + 1, 3.0), layout="constrained")
    ax = fig.subplots()
    top = max(widths)
    narrowest = widths.index(min(widths))
    for i, width in enumerate(widths):
        h = max(width / top, 0.02)  # (a visible sliver for a tiny code)
        ax.bar(i, h, bottom=-h / 2, width=0.5, color="#fdba74" if i == narrowest else "#93c5fd",
               edgecolor="#555")  # fmt: skip
        ax.text(i, h / 2 + 0.04, str(width), ha="center", va="bottom", fontsize=10)
        if i < len(widths) - 1:
            nxt = max(widths[i + 1] / top, 0.02)
            ax.fill([i + 0.25, i + 0.75, i + 0.75, i + 0.25], [h / 2, nxt / 2, -nxt / 2, -h / 2],
                    color="0.9", zorder=0)  # fmt: skip
    ax.set_xlim(-0.6, len(widths) - 0.4)
    ax.set_ylim(-0.6, 0.72)
    ax.set_xticks(range(len(widths)), ["input"] + [""] * (len(widths) - 2) + ["output"])
    ax.tick_params(length=0, labelsize=10)
    ax.set_yticks([])
    for side in ("top", "right", "left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.text(narrowest, -0.55, "code", ha="center", fontsize=10, color="#c2410c")
    if title:
        ax.set_title(title)
    return fig


def _arrow(color: str) -> dict:
    """matplotlib arrow properties for the search-order figure: starts and ends on the box edges."""
    return {"arrowstyle": "->", "lw": 1.3, "color": color, "shrinkA": 0, "shrinkB": 0}


def search_order_figure(
    sources: Sequence[tuple[str, str]],
    result: tuple[str, str],
    misses: Sequence[str],
    title: str | None = None,
    hits: Sequence[str] | None = None,
) -> Figure:
    """A search in order, drawn as a ladder: try each source top to bottom, stop at the first hit.

    ``sources`` are (name, detail) pairs in the order they are tried; ``misses`` labels the arrow
    from each source to the next ("not found", ...), one per gap. EVERY source also has an arrow
    to ``result`` (name, detail), the box on the right: whichever source answers first delivers
    it, so the figure never suggests that only the last source can. ``hits`` labels those arrows,
    one per source ("found" for each by default).
    """
    if len(sources) < 2:
        raise ValueError(
            f"search_order_figure expects at least two sources, but received {len(sources)}."
        )
    if len(misses) != len(sources) - 1:
        raise ValueError(
            f"search_order_figure expects one miss label per gap ({len(sources) - 1}), but "
            f"received {len(misses)}."
        )
    hits = ["found"] * len(sources) if hits is None else list(hits)
    if len(hits) != len(sources):
        raise ValueError(
            f"search_order_figure expects one hit label per source ({len(sources)}), but "
            f"received {len(hits)}."
        )
    n = len(sources)
    fig = NotebookFigure(figsize=(10, 1.4 * n + 0.6), layout="constrained")
    ax = fig.subplots()
    ax.set_xlim(-1.5, 3.4)
    ax.set_ylim(-n + 0.5, 0.5)
    ax.axis("off")
    # Boxes of a fixed size, drawn as patches, so that every arrow starts ON a box's edge.
    half_w, half_h, right_x, result_x = 0.6, 0.3, 2.2, 2.75  # data units
    target_y = -(n - 1) / 2  # the result box sits level with the middle of the ladder
    for i, (name, detail) in enumerate(sources):
        ax.add_patch(FancyBboxPatch((0.55 - half_w, -i - half_h), 2 * half_w, 2 * half_h,
                                    boxstyle="square,pad=0", facecolor="#fde68a",
                                    edgecolor="#555"))  # fmt: skip
        ax.text(0.55, -i, f"{i + 1}. {name}\n{detail}", ha="center", va="center", fontsize=9)
        ax.annotate(
            "",
            xy=(right_x, target_y),
            xytext=(0.55 + half_w, -i),
            arrowprops=_arrow("tab:green"),
        )
        ax.text(0.55 + half_w + 0.03, -i + 0.05, hits[i], ha="left", va="bottom", fontsize=8,
                color="tab:green")  # fmt: skip
        if i < n - 1:
            ax.annotate(
                "",
                xy=(0.55, -i - 1 + half_h),
                xytext=(0.55, -i - half_h),
                arrowprops=_arrow("tab:red"),
            )
            ax.text(0.5, -i - 0.5, misses[i], ha="right", va="center", fontsize=8,
                    color="tab:red")  # fmt: skip
    ax.add_patch(FancyBboxPatch((right_x, target_y - half_h), 2 * (result_x - right_x),
                                2 * half_h, boxstyle="round,pad=0,rounding_size=0.08",
                                facecolor="#dbeafe", edgecolor="#555"))  # fmt: skip
    ax.text(
        result_x,
        target_y,
        f"{result[0]}\n{result[1]}",
        ha="center",
        va="center",
        fontsize=9,
        fontweight="bold",
    )
    if title:
        ax.set_title(title)
    return fig


def codes_side_by_side_figure(
    codes: Mapping[str, object],
    labels,
    classes: Sequence[str],
    title: str | None = None,
) -> Figure:
    """Several sets of 2-D codes of the SAME images, one panel each, coloured by label.

    ``codes`` maps a panel title to codes (N, 2) (e.g. PCA's and an autoencoder's codes of the
    test images); ``labels`` is (N,). One legend serves all panels. Each panel keeps its own
    axis scale: two codes that differ by an affine map then show the same picture, turned,
    stretched or mirrored.
    """
    labels = torch.as_tensor(labels).cpu().numpy()
    panels = {name: torch.as_tensor(c).detach().cpu().numpy() for name, c in codes.items()}
    for name, c in panels.items():
        if c.ndim != 2 or c.shape[1] != 2 or len(c) != len(labels):
            raise InputError(
                f"codes_side_by_side_figure expects every code set of shape (N={len(labels)}, 2), "
                f"one row per label; {name!r} has shape {c.shape}. "
                "Pass 2-D codes of the same images."
            )
    fig = NotebookFigure(figsize=(5.2 * len(panels), 4.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(panels)))
    cmap = matplotlib.colormaps["tab10"]
    for ax, (name, c) in zip(axes, panels.items(), strict=True):
        for k, cls in enumerate(classes):
            pts = c[labels == k]
            ax.scatter(pts[:, 0], pts[:, 1], s=3, alpha=0.5, color=cmap(k % 10), label=cls)
        ax.set(xlabel="code dimension 1", ylabel="code dimension 2", title=name)
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside right center", markerscale=4, fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def loss_curves_figure(
    train_curve: Sequence[float],
    valid_curve: Sequence[float],
    reference: float,
    band: float,
    *,
    n_train: int | None = None,
    n_valid: int | None = None,
    reference_label: str = "reference",
    title: str | None = None,
) -> Figure:
    """A training run's loss curves, next to a reference loss and a pass band above it.

    - ``train_curve``, ``valid_curve``: the loss per image on the training and validation images,
      one number per pass; entry 0 is the loss before training. Same length, at least 2, all > 0.
    - ``reference``: a loss to compare with (lesson 00: PCA's validation loss), > 0.
    - ``band``: the pass band's relative width (0.10: within 10% of ``reference``), > 0.
    - ``n_train``, ``n_valid``: how many images each curve was measured on (for the legend).
    - ``reference_label``: what the reference is (for the legend).
    - ``title``: the left panel's title.

    Left panel: both curves on a log axis, with ``reference`` dotted and the band shaded. Right
    panel: the validation curve in units of ``reference`` on a linear axis zoomed onto the band;
    its legend counts the early points drawn off the top.
    """
    from matplotlib.ticker import LogLocator, MaxNLocator, NullFormatter, ScalarFormatter

    train, valid = list(train_curve), list(valid_curve)
    if len(train) != len(valid) or len(valid) < 2:
        raise InputError(
            f"loss_curves_figure expects two curves of the same length (at least 2: before "
            f"training and after one pass), but received {len(train)} training and "
            f"{len(valid)} validation losses. Append one of each after every pass."
        )
    if not all(math.isfinite(v) and v > 0 for v in [*train, *valid, reference]):
        raise InputError(
            "loss_curves_figure expects finite losses > 0 (they are drawn on a log axis), but a "
            "curve or the reference holds a value <= 0, inf or nan. Did training diverge? Check "
            "the learning rate and the loss."
        )
    if not (math.isfinite(band) and band > 0):
        raise InputError(
            f"loss_curves_figure expects band > 0, the band's relative width (0.10 for 10%), but "
            f"received {band!r}."
        )
    n_passes = len(valid) - 1
    fig = NotebookFigure(figsize=(10, 3), layout="constrained")
    ax, ax_ratio = fig.subplots(1, 2, width_ratios=[3, 2])
    ax.plot(valid, marker=".", lw=1, clip_on=False, label="validation images" + _count(n_valid))
    ax.plot(
        train,  # open circles, dashed, drawn on top
        marker="o",
        mfc="none",
        ls="--",
        lw=1,
        zorder=3,
        clip_on=False,
        label="training images" + _count(n_train),
    )
    ax.axhline(reference, color="k", ls=":", lw=1.5, label=f"{reference_label} (a reference)")
    ax.axhspan(
        reference, (1 + band) * reference, color="0.85", label=f"pass band: within {band:.0%}"
    )
    ax.set(
        xlabel="passes over the training images",
        ylabel="loss per image (log scale)",
        yscale="log",
        title=title or "the loss after each pass",
    )
    ax.yaxis.set_major_locator(LogLocator(subs=(1, 2, 5)))  # ticks at 10, 20, 50, 100, ...
    ax.yaxis.set_major_formatter(ScalarFormatter())  # plain numbers, not powers of ten
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # whole passes
    ax.set_xlim(0, n_passes)  # from before training (0) to the last pass
    ax.legend(fontsize=8)
    ratios = [loss / reference for loss in valid]  # the validation loss in units of the reference
    top = max(1 + 3 * band, 1.1 * ratios[-1])  # shows the band and the last passes
    ax_ratio.axhspan(1, 1 + band, color="0.85", label=f"pass band: 1 to {1 + band:g}")
    ax_ratio.axhline(1, color="k", ls=":", lw=1.5)
    ax_ratio.plot(ratios, marker=".", lw=1, label="validation loss / reference")
    ax_ratio.set(
        xlabel="passes over the training images",
        ylabel="loss / reference (linear scale)",
        ylim=(1 - 2 * band, top),
        xlim=(0, n_passes),
        title="the check's view, zoomed in",
    )
    ax_ratio.xaxis.set_major_locator(MaxNLocator(integer=True))
    above = sum(r > top for r in ratios)  # the early points, drawn off the top of this panel
    ax_ratio.legend(
        fontsize=8,
        loc="lower left",
        title_fontsize=8,
        title=f"{above} early point(s) above the top" if above else None,
    )
    return fig


def _count(n: int | None) -> str:
    """ " (54,000)" for a legend, or "" when n is None."""
    return "" if n is None else f" ({n:,})"
