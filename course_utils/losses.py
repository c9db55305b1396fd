"""Losses, and the ONE loss convention of the course (lesson 01, used again in lessons 02-07).

Convention: every loss is PER IMAGE. Sum over the pixels of one image (and, for a VAE, over the
latent dimensions), then average over the images of the batch. For a VAE this is "nats per
image", the unit papers report for MNIST.

For a plain autoencoder we also print the mean squared error PER PIXEL
(= squared error per image / number of pixels), because that is the unit in which PCA's
discarded variance and most benchmark tables are written. It is the same quantity, divided by
784 for a 28x28 image.

Shapes: ``x`` and ``x_hat`` are (B, ...) with the same shape; ``mu`` and ``logvar`` are (B, L).
"""

from __future__ import annotations

import math

import torch.nn.functional as F
from torch import Tensor


def _check_same_shape(x_hat: Tensor, x: Tensor, name: str) -> None:
    if x_hat.shape != x.shape:
        raise ValueError(
            f"{name}: the reconstruction has shape {tuple(x_hat.shape)} but the target has shape "
            f"{tuple(x.shape)}. They must match; reshape one of them, e.g. "
            "x_hat.view_as(x), before computing the loss."
        )


def sse_per_image(x_hat: Tensor, x: Tensor) -> Tensor:
    """Squared error summed over pixels, one value per image: (B, ...) -> (B,)."""
    _check_same_shape(x_hat, x, "sse_per_image")
    return F.mse_loss(x_hat, x, reduction="none").flatten(1).sum(dim=1)


def mse_loss(x_hat: Tensor, x: Tensor) -> Tensor:
    """Squared-error reconstruction loss: summed over pixels, averaged over the batch. Scalar.

    This is the negative log-likelihood of a Gaussian decoder with variance 1/2, up to a
    constant (lesson 06 makes the variance explicit).
    """
    return sse_per_image(x_hat, x).mean()


def mse_per_pixel(x_hat: Tensor, x: Tensor) -> Tensor:
    """Mean squared error per pixel (the reporting unit for plain autoencoders). Scalar."""
    _check_same_shape(x_hat, x, "mse_per_pixel")
    return F.mse_loss(x_hat, x, reduction="mean")


def bce_loss(logits: Tensor, x: Tensor) -> Tensor:
    """Binary cross-entropy, summed over pixels, averaged over the batch. Scalar.

    The decoder outputs LOGITS (any real number); ``sigmoid(logits)`` is the probability that a
    pixel is "on". Targets ``x`` must lie in [0, 1]. Working with logits is numerically safer
    than applying a sigmoid and then a log. This is the negative log-likelihood of a Bernoulli
    decoder: -sum_i [x_i log p_i + (1 - x_i) log(1 - p_i)].
    """
    return bce_per_image(logits, x).mean()


def gaussian_kl(mu: Tensor, logvar: Tensor) -> Tensor:
    """KL( N(mu, diag exp(logvar)) || N(0, I) ), summed over latent dims: (B, L) -> (B,).

    Closed form (Kingma and Welling 2014, appendix B), with sigma^2 = exp(logvar):
        KL = 1/2 * sum_j ( mu_j^2 + sigma_j^2 - log sigma_j^2 - 1 )
    It is zero exactly when mu = 0 and sigma^2 = 1 (logvar = 0), and positive otherwise.
    """
    if mu.shape != logvar.shape:
        raise ValueError(
            f"gaussian_kl: mu has shape {tuple(mu.shape)} but logvar has shape "
            f"{tuple(logvar.shape)}; the encoder must output both with shape (batch, latent)."
        )
    return 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1).sum(dim=1)


# --- Added for lesson 06: per-image terms and the Gaussian decoder with its variance in view ---


def bce_per_image(logits: Tensor, x: Tensor) -> Tensor:
    """Bernoulli negative log-likelihood (BCE from logits) summed over pixels: (B, ...) -> (B,).

    ``bce_loss(logits, x) == bce_per_image(logits, x).mean()``; the per-image form lets a VAE add
    its KL term image by image before averaging over the batch.
    """
    _check_same_shape(logits, x, "bce_per_image")
    if x.min() < 0 or x.max() > 1:
        raise ValueError(
            f"bce_per_image needs targets in [0, 1], got values from {x.min().item():.3g} to "
            f"{x.max().item():.3g}. Scale the images to [0, 1] or use a Gaussian decoder instead."
        )
    bce = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    return bce.flatten(1).sum(dim=1)  # (B, ...) -> (B,)


def gaussian_nll_per_image(x_mean: Tensor, x: Tensor, sigma: float) -> Tensor:
    """-log N(x; x_mean, sigma^2 I), summed over the D pixels of each image: (B, ...) -> (B,).

    With the constant written out:
        NLL = sum_i (x_i - mean_i)^2 / (2 sigma^2)  +  D * (log sigma + 1/2 log(2 pi))
            = squared error / (2 sigma^2)  +  a constant that does not depend on the model.
    So "squared error times a weight w" is this likelihood with w = 1 / (2 sigma^2): a weight on
    the squared error is a statement about the decoder's assumed pixel noise sigma (lesson 06).
    ``sigma`` is fixed (not learned) and must be positive.
    """
    _check_same_shape(x_mean, x, "gaussian_nll_per_image")
    if not sigma > 0:
        raise ValueError(f"gaussian_nll_per_image needs a positive sigma, got {sigma}.")
    n_pixels = x[0].numel()
    constant = n_pixels * (math.log(sigma) + 0.5 * math.log(2 * math.pi))
    return sse_per_image(x_mean, x) / (2 * sigma**2) + constant


def gaussian_nll(x_mean: Tensor, x: Tensor, sigma: float) -> Tensor:
    """Gaussian negative log-likelihood per image (see ``gaussian_nll_per_image``), batch mean."""
    return gaussian_nll_per_image(x_mean, x, sigma).mean()
