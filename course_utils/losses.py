"""Losses, and the ONE loss convention of the course (lesson 01, used again in lessons 02-07).

Convention: every loss is PER IMAGE. Sum over the pixels of one image (and, for a VAE, over the
latent dimensions), then average over the images of the batch. For a VAE this is "nats per
image". The names say the reduction:

    ``*_per_image``        one value per image, summed over its pixels:   (B, ...) -> (B,)
    ``mean_*_per_image``   the same, averaged over the batch:              (B, ...) -> scalar
    ``mse_per_pixel``      the mean over every pixel of every image (torch's ``F.mse_loss``)
    ``*_per_batch``        one number for the whole batch that is NOT a mean of per-image values
                           (``sparse.kl_sparsity_penalty_per_batch`` looks at the batch's mean
                           activations), so it changes with the batch's size and make-up

Every module of the package follows these names (``vae.reconstruction_nll_per_image``,
``gumbel.categorical_kl_per_image``, ``sparse.mean_l1_penalty_per_image``,
``anomaly.mse_per_pixel_per_image``), and ``tests/test_reductions.py`` checks the promise: a
batch made of every image twice leaves each ``mean_*`` value as it is and each image's
``*_per_image`` value too.

For a plain autoencoder we also print the mean squared error PER PIXEL (= squared error per image
/ number of pixels), a number that does not grow with the image size and is the unit most
benchmark tables use. PCA's discarded variance (the sum of the dropped eigenvalues) is a squared
error PER IMAGE; divide it by 784 to compare it with a per-pixel MSE.

None of these names equals a ``torch.nn.functional`` name: ``F.mse_loss`` averages over pixels,
``mean_sse_per_image`` sums over them, a number 784 times larger on 28x28 images.
"""

from __future__ import annotations

import math

import torch.nn.functional as F
from torch import Tensor

from course_utils.deprecation import deprecated_alias
from course_utils.inputs import check_not_0_255, check_same_shape, check_unit_range


def _check_pair(x_hat: Tensor, x: Tensor, who: str) -> None:
    check_same_shape(x_hat, x, who)
    check_not_0_255(x, who)  # targets of 0-255 would give losses 65,025 times too large


def sse_per_image(x_hat: Tensor, x: Tensor) -> Tensor:
    """Squared error summed over pixels, one value per image: (B, ...) -> (B,)."""
    _check_pair(x_hat, x, "sse_per_image")
    return F.mse_loss(x_hat, x, reduction="none").flatten(1).sum(dim=1)


def mean_sse_per_image(x_hat: Tensor, x: Tensor) -> Tensor:
    """Squared error summed over pixels, averaged over the batch: (B, ...) -> scalar.

    This is the negative log-likelihood of a Gaussian decoder with variance 1/2, up to a
    constant (lesson 06 makes the variance explicit).
    """
    return sse_per_image(x_hat, x).mean()


def mse_per_pixel(x_hat: Tensor, x: Tensor) -> Tensor:
    """Mean squared error per pixel (the reporting unit for plain autoencoders). Scalar."""
    _check_pair(x_hat, x, "mse_per_pixel")
    return F.mse_loss(x_hat, x, reduction="mean")


def bce_per_image(logits: Tensor, x: Tensor) -> Tensor:
    """Binary cross-entropy from logits, summed over pixels: (B, ...) -> (B,).

    The decoder outputs LOGITS (any real number); ``sigmoid(logits)`` is the probability that a
    pixel is "on". Targets ``x`` must lie in [0, 1]. Working with logits is numerically safer
    than applying a sigmoid and then a log.

    For BINARY pixels this is exactly the Bernoulli negative log-likelihood
    -sum_i [x_i log p_i + (1 - x_i) log(1 - p_i)]. For GREY targets it is a cross-entropy that
    cannot reach 0: its minimum, at p_i = x_i, is the summed entropy of the pixels
    (``bce_floor_per_image``). Lessons 01 and 06 show that floor.
    """
    check_same_shape(logits, x, "bce_per_image")
    check_unit_range(x, "bce_per_image")
    bce = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    return bce.flatten(1).sum(dim=1)  # (B, ...) -> (B,)


def mean_bce_per_image(logits: Tensor, x: Tensor) -> Tensor:
    """``bce_per_image`` averaged over the batch: (B, ...) -> scalar."""
    return bce_per_image(logits, x).mean()


def bce_floor_per_image(x: Tensor, eps: float = 1e-12) -> Tensor:
    """The smallest BCE any model can reach on targets x: their summed entropy, (B, ...) -> (B,).

    -sum_i [x_i log x_i + (1 - x_i) log(1 - x_i)]: zero for binary pixels, positive for grey.
    """
    check_unit_range(x, "bce_floor_per_image")
    x = x.flatten(1)
    return -(x * (x + eps).log() + (1 - x) * (1 - x + eps).log()).sum(dim=1)


def gaussian_kl_per_image(mu: Tensor, logvar: Tensor) -> Tensor:
    """KL( N(mu, diag exp(logvar)) || N(0, I) ), summed over latent dims: (B, L) -> (B,).

    Closed form (Kingma and Welling 2014, appendix B), with sigma^2 = exp(logvar):
        KL = 1/2 * sum_j ( mu_j^2 + sigma_j^2 - log sigma_j^2 - 1 )
    It is zero exactly when mu = 0 and sigma^2 = 1 (logvar = 0), and positive otherwise.
    """
    check_same_shape(mu, logvar, "gaussian_kl_per_image", names=("mu", "logvar"))
    return 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1).sum(dim=1)


def gaussian_nll_per_image(x_mean: Tensor, x: Tensor, sigma: float) -> Tensor:
    """-log N(x; x_mean, sigma^2 I), summed over the D pixels of each image: (B, ...) -> (B,).

    With the constant written out:
        NLL = sum_i (x_i - mean_i)^2 / (2 sigma^2)  +  D * (log sigma + 1/2 log(2 pi))
            = squared error / (2 sigma^2)  +  a constant that does not depend on the model.
    So "squared error times a weight w" is this likelihood with w = 1 / (2 sigma^2): a weight on
    the squared error is a statement about the decoder's assumed pixel noise sigma (lesson 06).
    ``sigma`` is fixed (not learned) and must be positive.
    """
    if not sigma > 0:
        raise ValueError(
            f"gaussian_nll_per_image expects a positive sigma, but received {sigma}. "
            "Pass the decoder's assumed pixel noise, e.g. sigma=0.1."
        )
    _check_pair(x_mean, x, "gaussian_nll_per_image")  # names the function the student called
    n_pixels = x[0].numel()
    constant = n_pixels * (math.log(sigma) + 0.5 * math.log(2 * math.pi))
    return sse_per_image(x_mean, x) / (2 * sigma**2) + constant


def mean_gaussian_nll_per_image(x_mean: Tensor, x: Tensor, sigma: float) -> Tensor:
    """``gaussian_nll_per_image`` averaged over the batch: (B, ...) -> scalar."""
    return gaussian_nll_per_image(x_mean, x, sigma).mean()


# Old names, kept for one release (issue 17): calling one warns and names the new one.
gaussian_kl = deprecated_alias("gaussian_kl", gaussian_kl_per_image)
