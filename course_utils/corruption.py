"""Corrupting images, non-learned baselines, and PSNR (lesson 04, denoising autoencoders).

Every corruption takes clean images ``x`` of any shape, e.g. (B, 1, 28, 28), with values in
[0, 1], and returns a corrupted copy of the same shape, dtype and device, also in [0, 1]. The
input is never modified. Randomness comes only from ``generator=`` (a ``torch.Generator``), so
the same generator state gives the same noise. The noise is drawn on the generator's device
(CPU by default) and then moved to ``x.device``.

=====================  ===========================================  ====================
function               what it does to each pixel                   level (valid range)
=====================  ===========================================  ====================
``gaussian_noise``     adds N(0, std^2), then clips to [0, 1]       std >= 0
``masking_noise``      sets it to 0 with probability ``p``          p in [0, 1]
``salt_and_pepper``    with prob. ``p`` replaces it by 0 or 1       p in [0, 1]
=====================  ===========================================  ====================

Two classic non-learned denoisers serve as baselines, each with one knob that ``best_knob``
tunes on validation images: ``gaussian_blur`` (width in pixels, against Gaussian noise) and
``median_filter`` (window size, against impulse noise such as salt-and-pepper).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

NOISE_KINDS = ("gaussian", "masking", "salt_and_pepper")


def _check_level(name: str, value: float, low: float, high: float, meaning: str) -> float:
    """Return ``value`` as a float, or raise a ValueError saying what was expected."""
    if isinstance(value, Tensor):
        value = value.item()
    value = float(value)
    if not (low <= value <= high):  # also catches NaN
        upper = "" if math.isinf(high) else f" and at most {high:g}"
        raise ValueError(
            f"{name} must be at least {low:g}{upper} ({meaning}), but got {value!r}. "
            f"Pick a value in [{low:g}, {high:g}]."
        )
    return value


def _draw(kind: str, x: Tensor, generator: torch.Generator | None) -> Tensor:
    """Random numbers shaped like ``x``: "normal" N(0, 1) or "uniform" U[0, 1)."""
    device = generator.device if generator is not None else x.device
    draw = torch.randn if kind == "normal" else torch.rand
    return draw(x.shape, generator=generator, device=device, dtype=x.dtype).to(x.device)


def gaussian_noise(x: Tensor, std: float, generator: torch.Generator | None = None) -> Tensor:
    """Additive Gaussian noise, clipped back to [0, 1]: clip(x + std * eps, 0, 1), eps ~ N(0, 1).

    Args:
        x: clean images, any shape, values in [0, 1].
        std: standard deviation of the noise BEFORE clipping, >= 0 (0 returns a copy of x).
        generator: the source of randomness.
    Returns:
        Noisy images, same shape as x, values in [0, 1]. Clipping removes part of the noise on
        black and white pixels, so the measured std AFTER clipping is smaller than ``std``.
    """
    std = _check_level("gaussian_noise: std", std, 0.0, math.inf, "a standard deviation")
    return (x + std * _draw("normal", x, generator)).clamp(0.0, 1.0)


def masking_noise(x: Tensor, p: float, generator: torch.Generator | None = None) -> Tensor:
    """Masking (pixel dropout): each pixel independently set to 0 with probability ``p``.

    Unlike ``nn.Dropout`` the kept pixels are NOT rescaled by 1 / (1 - p): we want an image with
    holes, not an image whose mean brightness is preserved.

    Args:
        x: clean images, any shape, values in [0, 1].
        p: fraction of pixels to drop, in [0, 1].
    Returns:
        Same shape as x; each pixel is either its clean value or 0.
    """
    p = _check_level("masking_noise: p", p, 0.0, 1.0, "a probability")
    keep = _draw("uniform", x, generator) >= p  # True with probability 1 - p
    return x * keep


def salt_and_pepper(x: Tensor, p: float, generator: torch.Generator | None = None) -> Tensor:
    """Salt-and-pepper noise: each pixel, with probability ``p``, becomes 0 or 1 (a coin flip).

    Args:
        x: clean images, any shape, values in [0, 1].
        p: fraction of pixels to replace, in [0, 1]; about p/2 become 0 and p/2 become 1.
    Returns:
        Same shape as x, values in [0, 1].
    """
    p = _check_level("salt_and_pepper: p", p, 0.0, 1.0, "a probability")
    u = _draw("uniform", x, generator)  # one draw decides both "hit?" and "salt or pepper?"
    hit = u < p
    salt = (u < p / 2).to(x.dtype)  # the first half of the hits become 1, the rest 0
    return torch.where(hit, salt, x)


def corrupt(x: Tensor, kind: str, level: float, generator: torch.Generator | None = None) -> Tensor:
    """Dispatch by name: ``kind`` is one of ``NOISE_KINDS``; ``level`` is its std or p."""
    functions = {
        "gaussian": gaussian_noise,
        "masking": masking_noise,
        "salt_and_pepper": salt_and_pepper,
    }
    if kind not in functions:
        raise ValueError(f"Unknown noise kind {kind!r}; expected one of {NOISE_KINDS}.")
    return functions[kind](x, level, generator=generator)


def gaussian_kernel(sigma: float, radius: int | None = None) -> Tensor:
    """A 1-D Gaussian kernel of length 2 * radius + 1 that sums to 1 (default radius 3 sigma)."""
    sigma = _check_level("gaussian_kernel: sigma", sigma, 0.0, math.inf, "a blur width in pixels")
    if sigma == 0:
        return torch.ones(1)
    radius = max(1, math.ceil(3 * sigma)) if radius is None else radius
    t = torch.arange(-radius, radius + 1, dtype=torch.float32)
    kernel = torch.exp(-0.5 * (t / sigma) ** 2)
    return kernel / kernel.sum()


def gaussian_blur(x: Tensor, sigma: float) -> Tensor:
    """Blur images with a Gaussian of width ``sigma`` pixels: the non-learned baseline.

    Written with ``conv2d``: the 2-D Gaussian is separable, so we blur the rows and then the
    columns with the same 1-D kernel. Borders are padded by repeating the edge pixels, so a
    constant image stays exactly constant (the kernel sums to 1).

    Args:
        x: images (B, 1, H, W) (or (B, C, H, W): each channel is blurred separately).
        sigma: blur width in pixels, >= 0; 0 returns x unchanged.
    Returns:
        Blurred images, same shape as x.
    """
    if x.dim() != 4:
        raise ValueError(
            f"gaussian_blur expects images of shape (B, C, H, W), got {tuple(x.shape)}. "
            "A flat batch (B, 784) can be reshaped with x.view(-1, 1, 28, 28)."
        )
    kernel = gaussian_kernel(sigma).to(x.device, x.dtype)  # (K,)
    if len(kernel) == 1:
        return x.clone()
    r, channels = len(kernel) // 2, x.shape[1]
    rows = kernel.view(1, 1, 1, -1).repeat(channels, 1, 1, 1)  # (C, 1, 1, K)
    cols = kernel.view(1, 1, -1, 1).repeat(channels, 1, 1, 1)  # (C, 1, K, 1)
    out = F.conv2d(F.pad(x, (r, r, 0, 0), mode="replicate"), rows, groups=channels)
    return F.conv2d(F.pad(out, (0, 0, r, r), mode="replicate"), cols, groups=channels)


def psnr(x_hat: Tensor, x: Tensor, max_value: float = 1.0) -> Tensor:
    """Peak signal-to-noise ratio in decibels, one value per image: (B, ...) -> (B,).

        PSNR = 10 * log10( max_value^2 / MSE ),   MSE = mean over the pixels of one image.

    Higher is better; +10 dB means 10 times less squared error. Identical images give MSE = 0
    and PSNR = +inf (no cap). To summarise a test set, average the per-image values.
    """
    if x_hat.shape != x.shape:
        raise ValueError(
            f"psnr: the two image batches must have the same shape, got {tuple(x_hat.shape)} "
            f"and {tuple(x.shape)}."
        )
    mse = (x_hat - x).pow(2).flatten(1).mean(dim=1)  # (B, ...) -> (B,)
    return 10 * torch.log10(max_value**2 / mse)


def median_filter(x: Tensor, size: int = 3) -> Tensor:
    """Replace every pixel by the median of the ``size`` x ``size`` window around it.

    The classic non-learned denoiser for impulse noise: a lone white or black dot (salt and
    pepper) is an outlier in its window, so the median ignores it, where an average (a blur)
    would smear it over its neighbours. Borders are padded by repeating the edge pixels.

    Args:
        x: images (B, C, H, W); each channel is filtered separately.
        size: window width in pixels, odd and >= 1; 1 returns a copy of x.
    Returns:
        Filtered images, same shape as x.
    """
    if x.dim() != 4:
        raise ValueError(
            f"median_filter expects images of shape (B, C, H, W), got {tuple(x.shape)}. "
            "A flat batch (B, 784) can be reshaped with x.view(-1, 1, 28, 28)."
        )
    if not (isinstance(size, int) and size >= 1 and size % 2 == 1):
        raise ValueError(
            f"median_filter: size must be an odd whole number >= 1 (a window centred on the "
            f"pixel), but got {size!r}. Try 3 or 5."
        )
    if size == 1:
        return x.clone()
    r = size // 2
    padded = F.pad(x, (r, r, r, r), mode="replicate")  # (B, C, H + 2r, W + 2r)
    windows = padded.unfold(2, size, 1).unfold(3, size, 1)  # (B, C, H, W, size, size)
    return windows.flatten(-2).median(dim=-1).values  # (B, C, H, W)


def best_knob(
    denoiser: Callable[[Tensor, float], Tensor],
    knobs: Sequence,
    noisy: Tensor,
    clean: Tensor,
) -> tuple[object, float]:
    """The knob value that gives the highest mean PSNR of ``denoiser(noisy, knob)``, and that PSNR.

    ``denoiser`` maps noisy images (N, 1, 28, 28) and one knob value (a blur width, a window
    size, a number of principal components) to denoised images of the same shape. Tune it on
    VALIDATION images, then report the baseline on test images: a fair baseline gets the same
    chance to fit its knob as the learned model gets to fit its weights.
    """
    scores = {k: psnr(denoiser(noisy, k), clean).mean().item() for k in knobs}
    best = max(scores, key=scores.get)
    return best, scores[best]


def best_blur_sigma(
    noisy: Tensor, clean: Tensor, sigmas: tuple[float, ...] = (0.0, 0.5, 0.75, 1.0, 1.5, 2.0)
) -> tuple[float, float]:
    """The blur width that gives the highest mean PSNR on (noisy, clean) pairs, and that PSNR.

    ``best_knob`` for ``gaussian_blur``: tune it on validation images, report it on test images.
    """
    return best_knob(gaussian_blur, sigmas, noisy, clean)
