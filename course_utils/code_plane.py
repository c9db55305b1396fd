"""Explore a 2-number code by hand (lesson 02): two sliders pick a point of the code plane.

An autoencoder with ``n_latent=2`` maps every image to a point in a plane. ``code_plane_figure``
draws the codes of some images, coloured by class, marks one point ``z`` of the plane, and shows
what the decoder makes of ``z``; ``code_plane_view`` puts two sliders on ``z``. The title names the
nearest real code and its distance, so a student sees when the point has left the data: the
decoder still returns an image there, but nothing in training asked for it to look real.
"""

from __future__ import annotations

from collections.abc import Sequence

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from torch import Tensor, nn

from course_utils.inputs import InputError, describe
from course_utils.plots import NotebookFigure
from course_utils.widgets import FigureView


def _check_plane(model: nn.Module, codes: Tensor, labels: Tensor, classes: Sequence[str]) -> None:
    if not hasattr(model, "decode"):
        raise InputError(
            f"code_plane expects an autoencoder with a .decode method (such as DenseAutoencoder), "
            f"but received {type(model).__name__}. Pass the trained model itself."
        )
    if not isinstance(codes, Tensor) or codes.dim() != 2 or codes.shape[1] != 2 or len(codes) == 0:
        raise InputError(
            f"code_plane expects the codes as an (N, 2) tensor, but received {describe(codes)}. "
            "It draws 2-number codes only: encode with a model trained with n_latent=2."
        )
    if not isinstance(labels, Tensor) or labels.shape != (len(codes),):
        raise InputError(
            f"code_plane expects one label per code, a tensor of shape ({len(codes)},), but "
            f"received {describe(labels)}. Pass the labels of the images you encoded."
        )
    if int(labels.max()) >= len(classes) or int(labels.min()) < 0:
        raise InputError(
            f"code_plane received labels from {int(labels.min())} to {int(labels.max())} but "
            f"{len(classes)} class names. Pass the dataset's list of class names."
        )


def plane_limits(codes: Tensor) -> tuple[list[float], list[float]]:
    """The codes' (N, 2) range, a quarter wider on each side: ([x low, y low], [x high, y high])."""
    low, high = codes.detach().min(dim=0).values, codes.detach().max(dim=0).values  # (2,) each
    pad = 0.25 * (high - low)  # room to leave the data
    return (low - pad).tolist(), (high + pad).tolist()


def decode_point(model: nn.Module, z: Sequence[float]) -> Tensor:
    """What the decoder makes of one point z = (z1, z2) of the code plane: an image (28, 28)."""
    parameter = next(model.parameters())
    point = torch.tensor([list(z)], dtype=parameter.dtype, device=parameter.device)  # (1, 2)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        image = model.decode(point).reshape(28, 28).cpu()  # (1, 784) or (1, 1, 28, 28) -> (28, 28)
    model.train(was_training)
    return image


def code_plane_figure(
    model: nn.Module, codes: Tensor, labels: Tensor, classes: Sequence[str], z: Sequence[float]
) -> Figure:
    """Left: codes (N, 2) coloured by labels (N,), a cross at z; right: the decoding of z.

    The title gives the class of the nearest of the N codes and its distance to z, beside the
    median distance from a code to its nearest other code (a yardstick for "near the data").
    """
    _check_plane(model, codes, labels, classes)
    codes = codes.detach().cpu().float()
    point = torch.tensor([list(z)], dtype=torch.float32)  # (1, 2)
    distances = torch.cdist(point, codes)[0]  # (N,)
    nearest = int(distances.argmin())
    sample = codes[:2000]  # enough for the yardstick, fast for any N
    spacing = torch.cdist(sample, sample).fill_diagonal_(float("inf")).min(dim=1).values.median()
    fig = NotebookFigure(figsize=(9.0, 4.6), layout="constrained")
    ax_codes, ax_image = fig.subplots(1, 2, width_ratios=[1.6, 1])
    handles = []
    for c, name in enumerate(classes):
        chosen = codes[labels.cpu() == c]
        ax_codes.scatter(chosen[:, 0], chosen[:, 1], s=3, alpha=0.4, color=f"C{c % 10}")
        handles.append(Line2D([], [], ls="", marker="o", ms=5, color=f"C{c % 10}", label=name))
    ax_codes.plot(*point[0].tolist(), "kx", ms=14, mew=3)
    handles.append(Line2D([], [], ls="", marker="x", ms=8, mew=2, color="k", label="z"))
    low, high = plane_limits(codes)  # fixed axes: the view does not jump as z moves
    for axis, set_limits in enumerate((ax_codes.set_xlim, ax_codes.set_ylim)):
        lo, hi = min(low[axis], z[axis]), max(high[axis], z[axis])  # z stays inside the frame
        set_limits(lo - 0.04 * (hi - lo), hi + 0.04 * (hi - lo))
    ax_codes.set(title="the codes, and z", xlabel="code number 1", ylabel="code number 2")
    fig.legend(handles=handles, loc="outside lower center", ncol=6, fontsize=8)
    ax_image.imshow(decode_point(model, z).numpy(), cmap="gray", vmin=0, vmax=1)
    ax_image.axis("off")
    ax_image.set_title(f"decoded z = ({z[0]:.2f}, {z[1]:.2f})", fontsize=10)
    fig.suptitle(
        f"nearest code: {classes[int(labels[nearest])]}, distance {distances[nearest]:.2f} "
        f"(a typical code's nearest other code: {spacing:.2f})",
        fontsize=10,
    )
    return fig


def code_plane_view(
    model: nn.Module, codes: Tensor, labels: Tensor, classes: Sequence[str]
) -> FigureView:
    """Two sliders, z1 and z2, over the codes' range plus a margin; starts at the first code."""
    _check_plane(model, codes, labels, classes)
    low, high = plane_limits(codes)
    sliders = {
        name: widgets.FloatSlider(
            value=round(float(codes[0, i]), 2),
            min=round(low[i], 2),
            max=round(high[i], 2),
            step=round((high[i] - low[i]) / 150, 3) or 0.01,
            description=name,
            continuous_update=False,
        )
        for i, name in enumerate(("z1", "z2"))
    }
    return FigureView(
        lambda z1, z2: code_plane_figure(model, codes, labels, classes, (z1, z2)), sliders
    )
