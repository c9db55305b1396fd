"""Measurements of lesson 03: what a trained conv model's filters do with an image.

The models live in ``course_utils.conv``; receptive fields and checkerboards are measured in
``course_utils.conv_probes``. Here:

* shifts: ``shift_images`` moves images sideways on a black background (section 4's test);
* learned filters: ``first_layer_maps`` and ``first_layer_figure`` (what each first-layer filter
  makes of one image), ``channel_activity`` (how active each first-layer channel is on average);
* dead channels: ``dead_channels``, lesson 02's dead units counted per channel of a conv layer.
"""

from __future__ import annotations

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor, nn

from course_utils.inputs import InputError, check_images, model_dtype
from course_utils.plots import NotebookFigure
from course_utils.train import eval_mode, model_device


# ------------------------------------------------------------------ shifts and learned filters
def shift_images(x: Tensor, pixels: int) -> Tensor:
    """Move every image ``pixels`` to the right (left if negative), filling with 0 (black).

    x (N, C, H, W) -> (N, C, H, W). Nothing wraps around: the columns pushed out are dropped,
    the columns uncovered are 0, like moving a garment on a black background.
    """
    check_images(x, "shift_images", flat_ok=False)
    if not isinstance(pixels, int) or abs(pixels) >= x.shape[-1]:
        raise ValueError(
            f"shift_images expects a whole number of pixels smaller than the width "
            f"{x.shape[-1]}, but received {pixels!r}. Use e.g. pixels=2 (right) or -2 (left)."
        )
    out = torch.zeros_like(x)
    if pixels >= 0:
        out[..., pixels:] = x[..., : x.shape[-1] - pixels]  # (N, C, H, W - p) moved right
    else:
        out[..., :pixels] = x[..., -pixels:]  # (N, C, H, W - |p|) moved left
    return out


def _first_block(model: nn.Module) -> nn.Sequential:
    """The layers of ``model.encoder`` up to and including the first ReLU."""
    layers = list(model.encoder)
    first_relu = next(i for i, layer in enumerate(layers) if isinstance(layer, nn.ReLU))
    return nn.Sequential(*layers[: first_relu + 1])


def _as_encoder_sees(model: nn.Module, x: Tensor) -> Tensor:
    """x (N, 1, H, W) on the model's device and dtype, minus ``model.input_mean`` if it has one."""
    x = x.to(model_device(model), model_dtype(model))
    if getattr(model, "input_mean", None) is not None:  # a centred model: as encode sees it
        x = x - model.input_mean
    return x


@torch.no_grad()
def first_layer_maps(model: nn.Module, image: Tensor) -> Tensor:
    """What the first block of ``model.encoder`` makes of one image: (1, H, W) -> (C, H', W').

    The block is every layer up to and including the first ReLU (the first convolution, its
    BatchNorm if any, the ReLU), run in eval mode on the image (minus ``model.input_mean`` for a
    centred model, as ``encode`` does). Each of the C maps is ONE filter applied at
    every position of the image.
    """
    check_images(image[None], "first_layer_maps", flat_ok=False)
    block = _first_block(model)
    with eval_mode(model):
        return block(_as_encoder_sees(model, image[None]))[0].cpu()  # (1, C, H', W') -> (C, H', W')


@torch.no_grad()
def channel_activity(model: nn.Module, x: Tensor, batch_size: int = 1000) -> Tensor:
    """Mean value of each first-layer map over the images and positions of x: (N, 1, H, W) -> (C,).

    The maps are those of ``first_layer_maps`` (after the first ReLU, eval mode). A ReLU output is
    never negative, so a channel's activity is 0 exactly when it is dead on these images (the
    first layer of ``dead_channels``) and positive otherwise: sort it to find the most active
    live channels.
    """
    if len(x) == 0:
        raise InputError("channel_activity expects at least one image, but received 0.")
    check_images(x, "channel_activity", flat_ok=False)
    block, total = _first_block(model), None
    with eval_mode(model):
        for start in range(0, len(x), batch_size):
            maps = block(_as_encoder_sees(model, x[start : start + batch_size]))  # (B, C, H', W')
            summed = maps.sum(dim=(0, 2, 3)).double().cpu()  # (C,)
            total = summed if total is None else total + summed
    return (total / (len(x) * maps.shape[2] * maps.shape[3])).float()  # (C,)


def first_layer_figure(
    model: nn.Module,
    image: Tensor,
    n: int = 8,
    dead: Tensor | None = None,
    channels: list[int] | None = None,
) -> Figure:
    """Top row: the image the first layer sees, then first-layer filters (k x k weights);
    bottom row: their maps of ``image``.

    channels: the channel indices to show, in order (e.g. the most active by
    ``channel_activity``); if None, channels 0 to n - 1. Panels are titled with the channel index.

    image: (1, H, W). For a centred model (``model.input_mean``) the first panel shows the centred
    image x - mean (red above the mean image, blue below), as the filters see it; otherwise the
    raw image. dead: optional (C,) bool from ``dead_channels``; a dead channel's map is titled
    "dead". Each row uses one colour scale for all its panels (a colour bar shows it), so filters
    and maps can be compared with each other: weights symmetric around 0, maps from 0 (after ReLU).
    """
    channels = list(range(n)) if channels is None else [int(j) for j in channels]
    n = len(channels)
    filters = model.encoder[0].weight.detach().cpu()[channels, 0]  # (C, 1, k, k) -> (n, k, k)
    maps = first_layer_maps(model, image)[channels]  # (n, H', W')
    fig = NotebookFigure(figsize=(1.25 * n + 2.2, 3.3), layout="constrained")
    axes = np.array(fig.subplots(2, n + 1, squeeze=False))
    mean = getattr(model, "input_mean", None)
    if mean is not None:  # what the first convolution receives
        seen = (image.cpu() - mean.detach().cpu().reshape(image.shape))[0]  # (H, W)
        edge = max(seen.abs().max().item(), 1e-12)
        axes[0, 0].imshow(seen.numpy(), cmap="RdBu_r", vmin=-edge, vmax=edge)
        axes[0, 0].set_title("centred image", fontsize=10)
    else:
        axes[0, 0].imshow(image[0].cpu().numpy(), cmap="gray", vmin=0, vmax=1)
        axes[0, 0].set_title("image", fontsize=10)
    axes[1, 0].axis("off")
    top = filters.abs().max().item()  # one symmetric scale for all filters
    map_top = max(maps.max().item(), 1e-12)  # one scale for all maps, from 0
    for i, j in enumerate(channels):
        weights_im = axes[0, i + 1].imshow(filters[i].numpy(), cmap="RdBu_r", vmin=-top, vmax=top)
        axes[0, i + 1].set_title(f"filter {j}", fontsize=10)
        maps_im = axes[1, i + 1].imshow(maps[i].numpy(), cmap="magma", vmin=0, vmax=map_top)
        is_dead = dead is not None and bool(dead[j])
        axes[1, i + 1].set_title(f"map {j}" + (" (dead)" if is_dead else ""), fontsize=10)
    fig.colorbar(weights_im, ax=list(axes[0, 1:]), shrink=0.8, label="weight")
    fig.colorbar(maps_im, ax=list(axes[1, 1:]), shrink=0.8, label="map value")
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("first convolution: 3x3 filters (red +, blue -) and what each makes of the image")
    return fig


# ------------------------------------------------------------------ dead channels


@torch.no_grad()
def dead_channels(model: nn.Module, x: Tensor, batch_size: int = 1000) -> dict[str, Tensor]:
    """Which channels of each convolutional ReLU of ``model`` are 0 on EVERY image of ``x``.

    Lesson 02's ``dead_units`` counts a unit as dead when it outputs 0 for every image; a conv
    layer's unit is a channel, one filter applied at every position, so a channel is dead when
    its map is 0 at every position of every image. model: runs in eval mode (BatchNorm with its
    stored averages). x: (N, 1, 28, 28) images. Returns {ReLU module name: (C,) bool, True = dead}
    for every ``nn.ReLU`` whose output is a (B, C, H, W) map, in calling order; ReLUs after a
    linear layer, (B, F), are skipped (``dead_units`` counts those). A channel dead on these images
    may still fire for some other image.
    """
    check_images(x, "dead_channels", flat_ok=False)
    if len(x) == 0:
        raise InputError("dead_channels expects at least one image, but received 0.")
    fired: dict[str, Tensor] = {}  # name -> (C,) bool: the channel was > 0 somewhere

    def hook(name: str):
        def record(_module: nn.Module, _inputs: tuple, out: Tensor) -> None:
            if out.dim() == 4:  # (B, C, H, W): any image, any position
                now = (out > 0).any(dim=3).any(dim=2).any(dim=0).cpu()  # (C,)
                fired[name] = fired[name] | now if name in fired else now

        return record

    relus = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.ReLU)]
    hooks = [m.register_forward_hook(hook(n)) for n, m in relus]
    try:
        with eval_mode(model):
            for start in range(0, len(x), batch_size):
                batch = x[start : start + batch_size]
                model(batch.to(model_device(model), model_dtype(model)))
    finally:
        for h in hooks:
            h.remove()
    return {name: ~active for name, active in fired.items()}
