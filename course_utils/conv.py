"""Convolutional and recurrent autoencoders, and a per-layer shape table (lesson 03).

``ConvAutoencoder``: strided convolutions shrink 28x28 to 7x7, a linear layer makes the code;
the decoder mirrors it with ``ConvTranspose2d`` (``decoder="transpose"``) or with nearest-neighbour
upsampling followed by an ordinary convolution (``decoder="upsample"``), the usual cure for
checkerboard artefacts (Odena, Dumoulin and Olah, "Deconvolution and Checkerboard Artifacts",
Distill 2016).

``LSTMAutoencoder``: reads an image as a sequence of 28 rows of 28 pixels.

``shape_table(model, x)``: runs one batch through ``model`` and lists every layer's output shape
and parameter count, read from the real model rather than typed by hand.

The flat-input checkerboard test (``overlap_maps``, ``overlap_figure``, ``overlap_view``) and
``upsample_conv_kernel`` (upsample + convolution written as one transposed convolution) are
here too; the lesson's measurements of trained models live in ``course_utils.conv_probes``.
"""

from __future__ import annotations

from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor, nn

from course_utils.inputs import (
    InputError,
    check_codes,
    check_images,
    check_sizes,
    check_widths,
    model_dtype,
)
from course_utils.models import centring_buffer, output_bias_for_mean
from course_utils.plots import NotebookFigure
from course_utils.train import eval_mode
from course_utils.widgets import FigureView


class ConvAutoencoder(nn.Module):
    """A convolutional autoencoder for 28x28 grey images (lesson 03).

    encode: (B, 1, 28, 28) -> conv s2 -> (B, c1, 14, 14) -> conv s2 -> (B, c2, 7, 7)
            -> flatten (B, c2*49) -> linear -> (B, n_latent)
    decode: (B, n_latent) -> linear -> (B, c2, 7, 7) -> up x2 -> (B, c1, 14, 14) -> up x2
            -> (B, 1, 28, 28) through a sigmoid, so pixels land in [0, 1]
    ``decoder="transpose"``: each "up x2" is ConvTranspose2d(kernel 3, stride 2), whose kernel
    size is not a multiple of its stride (uneven overlap, a source of checkerboard patterns).
    ``decoder="upsample"``: each "up x2" is nearest-neighbour Upsample then Conv2d(kernel 3).
    ``batch_norm=True``: a BatchNorm2d (same shape in and out) after each of the three hidden
    convolutions (c1, c2 and the decoder's c2 -> c1), before its ReLU; it normalises every channel
    over the batch in training and uses running averages in eval mode (``predict`` switches).
    ``input_mean`` (optional, the mean training image, any shape with 784 numbers) centres the
    model like lesson 02's ``DenseAutoencoder``: ``encode`` feeds the first convolution
    x - input_mean (the buffer ``input_mean``, shape (1, 1, 28, 28)), and the decoder adds a
    learned per-pixel ``LogitOffset`` (1, 28, 28), started at logit(input_mean), just before its
    sigmoid, so an untrained decoder starts near the mean image. A per-pixel mean is tied to
    positions: a centred model's first layer is no longer exactly shift-equivariant.
    """

    def __init__(
        self,
        n_latent: int = 32,
        channels: tuple[int, int] = (16, 32),
        decoder: str = "transpose",
        batch_norm: bool = False,
        input_mean: Tensor | None = None,
    ) -> None:
        check_sizes("ConvAutoencoder", n_latent=n_latent)
        input_mean = centring_buffer(input_mean, 28 * 28, "ConvAutoencoder")  # (784,) or None
        c1, c2 = check_widths(channels, "channels", "ConvAutoencoder", length=2)
        if decoder not in ("transpose", "upsample"):
            raise InputError(
                f'ConvAutoencoder expects decoder "transpose" or "upsample", but received '
                f"decoder={decoder!r}. Pick one of the two (lesson 03 compares them)."
            )
        super().__init__()
        self.n_latent, self.decoder_kind = n_latent, decoder
        centred = input_mean is not None
        self.register_buffer("input_mean", input_mean.reshape(1, 1, 28, 28) if centred else None)

        def norm(c: int) -> list[nn.Module]:  # (B, c, H, W) -> (B, c, H, W), or nothing
            return [nn.BatchNorm2d(c)] if batch_norm else []

        self.encoder = nn.Sequential(
            nn.Conv2d(1, c1, kernel_size=3, stride=2, padding=1),  # 28x28 -> 14x14
            *norm(c1),
            nn.ReLU(),
            nn.Conv2d(c1, c2, kernel_size=3, stride=2, padding=1),  # 14x14 -> 7x7
            *norm(c2),
            nn.ReLU(),
            nn.Flatten(),  # (B, c2, 7, 7) -> (B, c2 * 49)
            nn.Linear(c2 * 7 * 7, n_latent),  # no activation on the code
        )
        self.decoder = nn.Sequential(
            nn.Linear(n_latent, c2 * 7 * 7),
            nn.ReLU(),
            nn.Unflatten(1, (c2, 7, 7)),  # (B, c2 * 49) -> (B, c2, 7, 7)
            *_up(c2, c1, decoder),  # 7x7 -> 14x14
            *norm(c1),
            nn.ReLU(),
            *_up(c1, 1, decoder),  # 14x14 -> 28x28
            *([LogitOffset(output_bias_for_mean(input_mean))] if centred else []),
            nn.Sigmoid(),
        )

    def encode(self, x: Tensor) -> Tensor:
        check_images(x, "ConvAutoencoder", flat_ok=False, dtype=model_dtype(self))
        if self.input_mean is not None:
            x = x - self.input_mean  # (B, 1, 28, 28) - (1, 1, 28, 28): the centred image
        return self.encoder(x)

    def decode(self, z: Tensor) -> Tensor:
        check_codes(z, self.n_latent, "ConvAutoencoder.decode", model_dtype(self))
        return self.decoder(z)

    def forward(self, x: Tensor) -> Tensor:
        return self.decode(self.encode(x))


class LogitOffset(nn.Module):
    """Add a learned offset to every pixel's logit: (B, 1, H, W) -> (B, 1, H, W).

    ``start`` (H * W numbers, e.g. logit of the mean image) is the offset's initial value,
    stored as the parameter ``offset`` of shape (1, H, W) and broadcast over the batch.
    """

    def __init__(self, start: Tensor, size: int = 28) -> None:
        super().__init__()
        self.offset = nn.Parameter(start.detach().float().reshape(1, size, size).clone())

    def forward(self, logits: Tensor) -> Tensor:
        return logits + self.offset  # (B, 1, H, W) + (1, H, W)


def _up(c_in: int, c_out: int, kind: str) -> list[nn.Module]:
    """Double the height and width: (B, c_in, H, W) -> (B, c_out, 2H, 2W)."""
    if kind == "transpose":  # output = (H - 1) * 2 - 2 * 1 + 3 + 1 = 2H
        return [nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=1)]
    return [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c_in, c_out, 3, padding=1)]


class LSTMAutoencoder(nn.Module):
    """A recurrent autoencoder that reads an image row by row (lesson 03, optional section).

    The image is a sequence of ``n_rows`` time steps, each a row of ``n_cols`` pixels.
    encode: (B, 1, 28, 28) -> rows (B, 28, 28) -> LSTM -> last hidden state (B, hidden)
            -> linear -> (B, n_latent)
    decode: the code is fed to a second LSTM at every one of the 28 steps (its initial hidden
            state is also computed from the code); each step's output -> linear -> one row
            of 28 pixels through a sigmoid -> (B, 1, 28, 28)
    """

    def __init__(
        self, n_latent: int = 32, hidden: int = 128, n_rows: int = 28, n_cols: int = 28
    ) -> None:
        check_sizes("LSTMAutoencoder", n_latent=n_latent, hidden=hidden, n_rows=n_rows,
                    n_cols=n_cols)  # fmt: skip
        super().__init__()
        self.n_latent, self.n_rows, self.n_cols = n_latent, n_rows, n_cols
        self.encoder_rnn = nn.LSTM(n_cols, hidden, batch_first=True)
        self.to_code = nn.Linear(hidden, n_latent)
        self.from_code = nn.Linear(n_latent, hidden)
        self.decoder_rnn = nn.LSTM(n_latent, hidden, batch_first=True)
        self.to_row = nn.Linear(hidden, n_cols)

    def encode(self, x: Tensor) -> Tensor:
        check_images(x, "LSTMAutoencoder", flat_ok=False, dtype=model_dtype(self))
        rows = x.squeeze(1)  # (B, 1, 28, 28) -> (B, 28 steps, 28 pixels)
        _, (h_last, _) = self.encoder_rnn(rows)  # h_last: (1 layer, B, hidden)
        return self.to_code(h_last[-1])  # (B, n_latent)

    def decode(self, z: Tensor) -> Tensor:
        check_codes(z, self.n_latent, "LSTMAutoencoder.decode", model_dtype(self))
        steps = z.unsqueeze(1).expand(-1, self.n_rows, -1)  # (B, L) -> (B, 28, L)
        h0 = torch.tanh(self.from_code(z)).unsqueeze(0)  # (B, hidden) -> (1, B, hidden)
        out, _ = self.decoder_rnn(steps, (h0, torch.zeros_like(h0)))  # (B, 28, hidden)
        rows = torch.sigmoid(self.to_row(out))  # (B, 28, 28)
        return rows.unsqueeze(1)  # (B, 28, 28) -> (B, 1, 28, 28)

    def forward(self, x: Tensor) -> Tensor:
        return self.decode(self.encode(x))


@dataclass
class LayerRow:
    """One line of a shape table."""

    name: str  # e.g. "encoder.0"
    layer: str  # e.g. "Conv2d(1, 32, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))"
    output_shape: tuple[int, ...]
    n_params: int


@torch.no_grad()
def shape_table(model: nn.Module, x: Tensor) -> list[LayerRow]:
    """Run ``x`` through ``model`` once and record every leaf layer's output shape, in call order.

    Layers with no sub-layers (Conv2d, ReLU, Linear, ...) are listed; for an LSTM the shape of
    its output sequence is shown. Parameters of a layer called twice are counted once.
    """
    rows: list[LayerRow] = []
    seen: set[int] = set()
    hooks = []

    def record(name: str):
        def hook(module: nn.Module, inputs, output) -> None:
            out = output[0] if isinstance(output, tuple) else output  # LSTM: (seq, (h, c))
            new = [p for p in module.parameters(recurse=False) if id(p) not in seen]
            seen.update(id(p) for p in new)
            layer = repr(module) if len(repr(module)) <= 70 else type(module).__name__
            rows.append(LayerRow(name, layer, tuple(out.shape), sum(p.numel() for p in new)))

        return hook

    for name, module in model.named_modules():
        if name and not list(module.children()):
            hooks.append(module.register_forward_hook(record(name)))
    try:
        with eval_mode(model):
            model(x)
    finally:
        for h in hooks:
            h.remove()
    return rows


def format_shape_table(rows: list[LayerRow], input_shape: tuple[int, ...] | None = None) -> str:
    """The rows of ``shape_table`` as aligned text, with a total parameter count at the bottom."""
    width = max(len(r.layer) for r in rows)
    lines = [f"{'layer':<12} {'what':<{width}}  {'output shape':<18} {'parameters':>10}"]
    if input_shape is not None:
        lines.append(f"{'input':<12} {'':<{width}}  {str(input_shape):<18} {'':>10}")
    for r in rows:
        lines.append(
            f"{r.name:<12} {r.layer:<{width}}  {str(r.output_shape):<18} {r.n_params:>10,}"
        )
    total = sum(r.n_params for r in rows)
    lines.append(f"{'total':<12} {'':<{width}}  {'':<18} {total:>10,}")
    return "\n".join(lines)


# ------------------------------------------------------------------ checkerboard artefacts
@torch.no_grad()
def overlap_maps(kernel_size: int = 3, stride: int = 2, size: int = 8) -> tuple[Tensor, Tensor]:
    """What a constant input of 1s becomes after growing by ``stride``, with every weight 1.

    Returns two (H, W) maps: a transposed convolution (kernel ``kernel_size``, ``stride``,
    padding ``(kernel_size - 1) // 2``), and nearest upsampling by ``stride`` followed by a
    convolution of the same kernel size (padding ``kernel_size // 2``; an even kernel's extra
    last row and column are cropped). With weights and inputs all 1, each output value is the
    number of (weight, input pixel) products that land on it, unscaled: 1, 2 or 4 for kernel 3
    and stride 2 (uneven: a checkerboard), ``kernel_size**2`` everywhere inside for upsample +
    convolution (even). Near the border, zero padding lowers both.
    """
    x = torch.ones(1, 1, size, size)  # (1, 1, size, size)
    pad = (kernel_size - 1) // 2
    transpose = nn.ConvTranspose2d(1, 1, kernel_size, stride=stride, padding=pad, bias=False)
    nn.init.ones_(transpose.weight)
    upsample = nn.Conv2d(1, 1, kernel_size, padding=kernel_size // 2, bias=False)
    nn.init.ones_(upsample.weight)
    up = nn.functional.interpolate(x, scale_factor=stride, mode="nearest")  # (1, 1, s*n, s*n)
    n = up.shape[-1]  # an even kernel gives one extra row and column: crop them
    return transpose(x)[0, 0], upsample(up)[0, 0, :n, :n]


def overlap_figure(kernel_size: int = 3, stride: int = 2, size: int = 6) -> Figure:
    """The two maps of ``overlap_maps`` side by side, each with its values written in."""
    t_map, u_map = overlap_maps(kernel_size, stride, size)
    fig = NotebookFigure(figsize=(10, 5.4), layout="constrained")
    for ax, m, name in zip(
        fig.subplots(1, 2), (t_map, u_map), ("ConvTranspose2d", "Upsample + Conv2d"), strict=True
    ):
        ax.imshow(m.numpy(), cmap="viridis", vmin=0)
        ax.set_title(f"{name}: output {tuple(m.shape)}", fontsize=12)
        ax.set_xticks([])
        ax.set_yticks([])
        if m.shape[0] <= 20:
            top = m.max().item()
            for (i, j), v in np.ndenumerate(m.numpy()):
                color = "k" if v > 0.6 * top else "w"  # dark text on the bright cells
                ax.text(j, i, f"{v:g}", ha="center", va="center", fontsize=9, color=color)
    fig.suptitle(
        f"a constant {size}x{size} input of 1s, kernel {kernel_size}, stride {stride}, all "
        "weights 1:\neach number counts the weight x input products that land on that pixel",
        fontsize=12,
    )
    return fig


def overlap_view() -> FigureView:
    """Sliders for kernel size and stride over ``overlap_figure`` (lesson 03)."""
    return FigureView(
        overlap_figure,
        {
            "kernel_size": widgets.IntSlider(value=3, min=1, max=7, description="kernel"),
            "stride": widgets.IntSlider(value=2, min=1, max=3, description="stride"),
        },
    )


def upsample_conv_kernel(weight: Tensor, stride: int = 2) -> Tensor:
    """The transposed-convolution kernel that equals nearest upsampling followed by a convolution.

    ``weight`` (k, k), k odd: the kernel of ``Conv2d(1, 1, k, padding=k // 2)`` applied after
    ``Upsample(scale_factor=stride, mode="nearest")``. Returns K (k + stride - 1, k + stride - 1)
    such that ``ConvTranspose2d(1, 1, k + stride - 1, stride=stride, padding=k - 1 - k // 2)``
    with weight K computes exactly the same map. Copying a pixel into a ``stride x stride`` block
    is a transposed convolution with a kernel of ones, so K is the (full) convolution of the
    flipped ``weight`` with ``ones(stride, stride)``: every tap of K is a sum of a
    ``stride x stride`` block of ``weight``. For stride 2 the four sub-kernels
    ``K[r::2, c::2]`` (one per output parity) each sum to ``weight.sum()``.
    """
    if weight.dim() != 2 or weight.shape[0] != weight.shape[1] or weight.shape[0] % 2 == 0:
        raise InputError(
            f"upsample_conv_kernel expects one square kernel (k, k) with k odd, but received "
            f"shape {tuple(weight.shape)}. Pass e.g. layer.weight[0, 0] of a 3x3 Conv2d."
        )
    s = stride
    flipped = weight.detach().flip(0, 1)[None, None]  # (1, 1, k, k)
    padded = nn.functional.pad(flipped, (s - 1, s - 1, s - 1, s - 1))  # (1, 1, k+2s-2, k+2s-2)
    ones = torch.ones(1, 1, s, s, dtype=weight.dtype)
    return nn.functional.conv2d(padded, ones)[0, 0]  # (k + s - 1, k + s - 1)
