"""Measurements of lesson 03: what a conv model sees, and whether it paints a grid.

The models live in ``course_utils.conv``; this module measures them. Sections:

* receptive fields: ``receptive_field`` COMPUTES the window of input pixels that one output cell
  of a stack of convolutions can see (sizes, strides, paddings); ``measured_receptive_field``
  MEASURES it with a gradient, on a copy of the layers (the model itself is never moved or cast);
* checkerboards: ``parity_contrast`` (one number per map: for grids of fixed phase, e.g. the
  mean output of untrained decoders; a smooth slope moves it too), ``period2_power`` (per map,
  the power at the three period-2 frequencies after a slope-blind ``high_pass``: how much fine
  structure, of any phase), ``coherent_grid`` (the period-2 amplitudes of the image-AVERAGED
  high-passed maps, bootstrapped: a grid at a fixed place in the frame, for trained decoders),
  ``difference_verdict`` (two paired bootstrap measurements, one sentence, with
  their noise scale), ``noise_floor_verdict``, the per-pixel
  ``error_maps`` and ``decoder_logits`` (a decoder's output before its final sigmoid);

Shifted images, first-layer maps and dead channels are in ``course_utils.conv_filters``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor, nn

from course_utils.inputs import InputError, check_images, model_dtype
from course_utils.plots import NotebookFigure
from course_utils.train import model_device, predict


# ------------------------------------------------------------------ receptive fields
def receptive_field(
    layers: nn.Sequential | list[nn.Module], cell: int, image_size: int = 28
) -> tuple[int, int]:
    """The input rows (or columns) that output cell ``cell`` of ``layers`` can see, computed.

    Walks the layers in order, keeping three numbers: the window side r (1 pixel at the input),
    the jump j between neighbouring cells in input pixels (1 at the input), and the centre c0 of
    cell 0 (0 at the input). A convolution or pooling with kernel k, stride s, padding p gives
    r += (k - 1) j, c0 += ((k - 1) / 2 - p) j, j *= s. BatchNorm, activations and 1x1
    convolutions change nothing. Returns (first, last) pixel of the window of cell ``cell``,
    clipped to the image [0, image_size - 1]. Square kernels, strides and paddings only.
    """
    r, j, c0 = 1, 1, 0.0
    for layer in layers:
        if isinstance(layer, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            k, s, p = (_first(getattr(layer, a)) for a in ("kernel_size", "stride", "padding"))
            r, c0, j = r + (k - 1) * j, c0 + ((k - 1) / 2 - p) * j, j * s
        elif isinstance(layer, (nn.Linear, nn.Flatten, nn.ConvTranspose2d, nn.Upsample)):
            raise InputError(
                f"receptive_field expects the layers from the image up to a feature map "
                f"(convolutions, pooling, BatchNorm, activations), but received a "
                f"{type(layer).__name__}. Pass only the layers before it, e.g. model[:7]."
            )
    centre = c0 + cell * j
    first, last = centre - (r - 1) / 2, centre + (r - 1) / 2
    return max(0, int(first)), min(image_size - 1, int(last))


def _first(v: int | tuple[int, ...]) -> int:
    return v[0] if isinstance(v, tuple) else int(v)


def measured_receptive_field(
    layers: nn.Module, x: Tensor, cell: tuple[int, int]
) -> tuple[tuple[int, int], tuple[int, int]]:
    """The input pixels that output cell ``cell`` = (row, col) of ``layers`` depends on, measured.

    x (N, 1, H, W): a few images. The gradient of that cell (channel 0, summed over the N images
    so that no single ReLU hides a pixel) with respect to the images is non-zero exactly on the
    pixels that reach it. Returns ((first row, last row), (first col, last col)). Runs on a COPY
    of ``layers`` in eval mode, on the copy's own device and dtype: the caller's model is never
    moved, cast, switched to eval or given gradients (a slice ``model[:k]`` shares its layers
    with ``model``, so moving the slice would move part of the model).
    """
    check_images(x, "measured_receptive_field", flat_ok=False)
    probe = copy.deepcopy(layers).eval()
    probe.requires_grad_(False)
    x = x.detach().to(model_device(probe), model_dtype(probe)).requires_grad_(True)
    probe(x)[:, 0, cell[0], cell[1]].sum().backward()  # (N, C, h, w) -> one cell, summed
    seen = (x.grad.abs().sum(dim=(0, 1)) > 0).cpu()  # (H, W): pixels that reach the cell
    if not seen.any():
        raise ValueError(
            f"measured_receptive_field found no pixel that reaches cell {cell}: every ReLU on "
            "the way was off for these images. Pass more (or brighter) images."
        )
    rows, cols = seen.any(dim=1).nonzero().flatten(), seen.any(dim=0).nonzero().flatten()
    return (int(rows.min()), int(rows.max())), (int(cols.min()), int(cols.max()))


# ------------------------------------------------------------------ checkerboard artefacts
def parity_contrast(image_map: Tensor, border: int = 2) -> float:
    """How much a map (H, W) differs between the four pixel parities: a checkerboard detector.

    A stride-2 transposed convolution treats output pixels differently by the parity of their
    row and column, (even, even), (even, odd), (odd, even), (odd, odd). This returns
    (largest - smallest of the four parity means) / overall mean, ignoring ``border`` pixels on
    each side (zero padding makes borders different for every decoder). 0 = no grid at all.
    """
    if image_map.dim() != 2:
        raise ValueError(
            f"parity_contrast expects one map of shape (H, W), but received shape "
            f"{tuple(image_map.shape)}. Average over images and channels first."
        )
    inner = image_map[border : image_map.shape[0] - border, border : image_map.shape[1] - border]
    means = torch.stack([inner[i::2, j::2].mean() for i in (0, 1) for j in (0, 1)])  # (4,)
    return ((means.max() - means.min()) / inner.mean().abs().clamp_min(1e-12)).item()


def period2_power(maps: Tensor, border: int = 2) -> Tensor:
    """Per map, the power of its period-2 (checkerboard) patterns, blind to smooth slopes.

    maps (N, H, W) -> (N,). A period-2 pattern alternates from one pixel to the next: along the
    rows s = (-1)^i, along the columns (-1)^j, or both (-1)^(i+j) (the 2-D DFT at the
    frequencies (pi, 0), (0, pi) and (pi, pi)). For each map:

    1. high-pass: h = 4 x - (its four neighbours), a discrete Laplacian with the sign flipped.
       A ramp a i + b j + c gives exactly 0, a smooth blob almost 0; it multiplies the three
       patterns by 4, 4 and 8, so we divide by these gains afterwards;
    2. drop ``border`` pixels on each side (zero padding), multiply by a 2-D Hann window w,
       which fades to 0 at the edges, so that a cut-off slope cannot leak into the period-2 bins;
    3. the three amplitudes a_k = sum(w h s_k) / (gain_k sum(w)); power = a_1^2 + a_2^2 + a_3^2.

    A pure grid a s_k gives back power a^2, and keeps it when the map is shifted by one pixel
    (the shift only flips the sign of a_k). Returns the (N,) powers, in squared map units.
    """
    return period2_amplitudes(maps, border).pow(2).sum(dim=1).float()  # (N, 3) -> (N,)


def high_pass(maps: Tensor) -> Tensor:
    """4 x each pixel - its four neighbours: (N, H, W) -> (N, H - 2, W - 2), in float64.

    Step 1 of ``period2_power``: a ramp gives exactly 0 and a smooth blob almost 0, while the
    three period-2 patterns come out 4, 4 and 8 times as large, so what is left of a map is its
    fine, pixel-to-pixel structure (the edge pixels, which lack a neighbour, are dropped).
    """
    if maps.dim() != 3 or min(maps.shape[1:]) < 3:
        raise InputError(
            f"high_pass expects maps (N, H, W) with H, W >= 3, but received shape "
            f"{tuple(maps.shape)}. For one map, pass map[None]."
        )
    x = maps.detach().cpu().double()
    centre, up, down = x[:, 1:-1, 1:-1], x[:, :-2, 1:-1], x[:, 2:, 1:-1]  # (N, H - 2, W - 2) each
    return 4 * centre - up - down - x[:, 1:-1, :-2] - x[:, 1:-1, 2:]  # minus left and right


def period2_amplitudes(maps: Tensor, border: int = 2) -> Tensor:
    """Per map, the SIGNED amplitudes of the three period-2 patterns: (N, H, W) -> (N, 3).

    Columns: (pi, 0) rows alternate, (0, pi) columns alternate, (pi, pi) a checkerboard; the
    steps 1-3 of ``period2_power`` (high-pass, border and Hann window, divide by the gain), in
    float64. The amplitudes are LINEAR in the map: the amplitudes of the mean of N maps are the
    mean of their amplitudes. A one-pixel shift flips the sign of the patterns that alternate
    along it (a column shift: (0, pi) and (pi, pi)).
    """
    if maps.dim() != 3 or min(maps.shape[1:]) - 2 * border < 4 or border < 1:
        raise InputError(
            f"period2_power and period2_amplitudes expect maps (N, H, W) at least 4 pixels "
            f"wider than 2 x border, border >= 1, but received shape {tuple(maps.shape)} and "
            f"border {border}. Drop the channel: maps[:, 0]."
        )
    h = high_pass(maps)  # (N, H - 2, W - 2), float64
    b = border - 1  # h already lost one pixel on each side
    h = h[:, b : h.shape[1] - b, b : h.shape[2] - b]  # (N, H', W')
    rows, cols = (torch.arange(n, dtype=torch.float64) for n in h.shape[1:])
    w = torch.outer(_hann(len(rows)), _hann(len(cols)))  # (H', W'): 1 in the middle, ~0 at edges
    si, sj = 1 - 2 * (rows % 2), 1 - 2 * (cols % 2)  # (H',), (W',): +1, -1, +1, ...
    one_i, one_j = torch.ones_like(si), torch.ones_like(sj)
    patterns = [(torch.outer(si, one_j), 4), (torch.outer(one_i, sj), 4), (torch.outer(si, sj), 8)]
    amps = [(w * s * h).sum(dim=(1, 2)) / (gain * w.sum()) for s, gain in patterns]  # 3 x (N,)
    return torch.stack(amps, dim=1)  # (N, 3)


@dataclass
class CoherentGrid:
    """What ``coherent_grid`` measured; amplitudes in map units, SEs from the bootstrap."""

    amplitudes: Tensor  # (3,): (pi, 0), (0, pi), (pi, pi) amplitudes of the MEAN map, signed
    ses: Tensor  # (3,): their bootstrap standard errors (resampled images)
    size: float  # root-sum-square of the three amplitudes
    size_se: float  # its bootstrap standard error
    z: float  # the largest |amplitude| / its SE
    grid: bool  # z > z_limit: a grid at a fixed place in the frame, beyond the noise


GRID_Z_LIMIT = 3.0  # one threshold for every grid verdict: coherent_grid's and grid_above_floor's


def coherent_grid(
    maps: Tensor, n_boot: int = 200, z_limit: float = GRID_Z_LIMIT, border: int = 2, seed: int = 0
) -> CoherentGrid:
    """Is there a period-2 grid at the SAME place in every map? maps (N, H, W) -> CoherentGrid.

    Averages the high-passed maps over the N images FIRST (through ``period2_amplitudes``, which
    is linear: the mean of the per-map amplitudes), then reads the three signed amplitudes of
    that mean. A grid that a layer paints at a fixed phase in every map survives the average;
    detail whose alternation falls differently in each image cancels, shrinking like 1/sqrt(N).
    Noise: resample the N maps with replacement ``n_boot`` times (seeded) and take the standard
    deviation of each amplitude (and of the size) over the resamples. ``grid`` is True when some
    amplitude exceeds ``z_limit`` of its SEs (with no grid, all three stay within 3 SEs in about
    99% of runs).
    """
    amps = period2_amplitudes(maps, border)  # (N, 3), raises on a bad shape
    if len(amps) < 2 or n_boot < 2:
        raise InputError(
            f"coherent_grid expects at least 2 maps and n_boot >= 2, but received {len(amps)} "
            f"maps and n_boot={n_boot}. Pass one map per image, e.g. 2,000 of them."
        )
    g = torch.Generator().manual_seed(seed)
    draws = torch.randint(len(amps), (n_boot, len(amps)), generator=g)  # (n_boot, N)
    boot = amps[draws].mean(dim=1)  # (n_boot, 3): the amplitudes of each resample's mean
    mean, ses = amps.mean(dim=0), boot.std(dim=0).clamp_min(1e-300)  # (3,) each
    z = (mean.abs() / ses).max().item()
    return CoherentGrid(
        mean, ses, mean.norm().item(), boot.norm(dim=1).std().item(), z, z > z_limit
    )


def grid_above_floor(
    g: CoherentGrid, floor: CoherentGrid, z_limit: float = GRID_Z_LIMIT
) -> tuple[float, bool]:
    """Is grid ``g`` larger than the ``floor`` grid (a model with no strided layer)?

    Returns (z, above): z = (g.size - floor.size) / sqrt(g.size_se^2 + floor.size_se^2), and
    above = z > z_limit, the same limit that ``coherent_grid`` uses, so both verdicts agree.
    """
    z = (g.size - floor.size) / max(g.size_se**2 + floor.size_se**2, 1e-300) ** 0.5
    return z, z > z_limit


def _hann(n: int) -> Tensor:
    """A Hann window of n positive weights (n,): sin^2, near 0 at both ends, 1 in the middle."""
    return torch.hann_window(n + 2, periodic=False, dtype=torch.float64)[1:-1]


def difference_verdict(
    name_a: str, a: Tensor, name_b: str, b: Tensor, quantity: str, z: float = 2.0
) -> str:
    """One sentence: is ``a`` above, below or within the noise of ``b``?

    a, b (n_boot,): PAIRED replicates of one quantity for two models (the same resamples of the
    same images for both). The difference is the mean of a - b; its noise
    scale is the standard deviation of a - b over the resamples. "higher"/"lower" needs
    |difference| > z x noise scale (z = 2: about 95% if the spread is normal), else "no
    difference beyond the noise". The sentence prints both numbers, so the reader can judge.
    """
    if a.shape != b.shape or a.dim() != 1 or len(a) < 2:
        raise InputError(
            f"difference_verdict expects two paired vectors of replicates (n,) with n >= 2, "
            f"but received shapes {tuple(a.shape)} and {tuple(b.shape)}. Measure both models "
            "on the same resamples."
        )
    diff = (a - b).double()
    d, scale = diff.mean().item(), diff.std().item()
    numbers = f"{quantity}: {name_a} - {name_b} = {d:+.3f}, noise scale {scale:.3f}"
    if abs(d) <= z * scale:
        return f"{numbers}: no difference beyond the noise"
    return f"{numbers}: {name_a} {'higher' if d > 0 else 'lower'}"


def noise_floor_verdict(values: list[float], floor_values: list[float]) -> str:
    """Compare repeated measurements with those of a reference that has no mechanism for them.

    ``values``: e.g. the parity contrast of one decoder, once per seed or per group of images;
    ``floor_values``: the same measurement of a reference model that has no reason to show a grid
    (the noise floor). "above the noise floor" if EVERY value exceeds the LARGEST floor value,
    "within the noise floor" if none does, else "above the noise floor in k of n" (e.g. k of n
    seeds: different decoders of one kind can differ).
    """
    if not values or not floor_values:
        raise ValueError(
            f"noise_floor_verdict expects at least one value and one floor value, but received "
            f"{len(values)} and {len(floor_values)}. Measure both models at least once."
        )
    above = sum(v > max(floor_values) for v in values)
    if above == len(values):
        return "above the noise floor"
    if above == 0:
        return "within the noise floor"
    return f"above the noise floor in {above} of {len(values)}"


def decoder_logits(model: nn.Module, z: Tensor) -> Tensor:
    """The decoder's output BEFORE its final sigmoid: codes (B, n_latent) -> logits.

    ``torch.sigmoid(decoder_logits(model, z))`` equals ``model.decode(z)``. Works for a decoder
    that ends in ``nn.Sigmoid`` (``ConvAutoencoder``: shape (B, 1, 28, 28)) and for a model that
    applies the sigmoid in ``decode`` (``DenseAutoencoder`` with ``sigmoid_output=True``: (B, 784)).
    Useful because a sigmoid is not linear: a measurement on the outputs can show structure
    that the (linear) last layer did not produce.
    """
    decoder = getattr(model, "decoder", None)
    if isinstance(decoder, nn.Sequential) and isinstance(decoder[-1], nn.Sigmoid):
        return decoder[:-1](z)  # every layer but the sigmoid
    if isinstance(decoder, nn.Module) and getattr(model, "sigmoid_output", False):
        return decoder(z)  # the model applies the sigmoid itself, after this
    raise InputError(
        f"decoder_logits expects a model whose decoder ends in nn.Sigmoid (ConvAutoencoder) or "
        f"one with sigmoid_output=True (DenseAutoencoder), but received a {type(model).__name__}. "
        "For other models, run their last layer yourself without the sigmoid."
    )


def error_maps(model: nn.Module, x: Tensor, batch_size: int = 500) -> Tensor:
    """Mean absolute reconstruction error at every pixel position: x (N, 1, H, W) -> (H, W)."""
    x_hat = predict(model, x, batch_size=batch_size)  # (N, 1, H, W), on the CPU
    return (x_hat - x).abs().mean(dim=(0, 1))  # (N, 1, H, W) -> (H, W)


def error_maps_figure(models: dict[str, nn.Module], x: Tensor) -> Figure:
    """One ``error_maps`` panel per model, on a shared colour scale."""
    maps = {name: error_maps(m, x) for name, m in models.items()}
    top = max(m.max().item() for m in maps.values())
    fig = NotebookFigure(figsize=(3.6 * len(maps) + 0.8, 3.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(maps)))
    for ax, (name, m) in zip(axes, maps.items(), strict=True):
        im = ax.imshow(m.numpy(), cmap="magma", vmin=0, vmax=top)
        ax.set_title(f"{name}\n(mean {m.mean():.4f})", fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(im, ax=list(axes), shrink=0.8, label="mean |error| per pixel")
    return fig
