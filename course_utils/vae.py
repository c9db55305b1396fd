"""Variational autoencoders: the reparameterization trick, the VAE loss, two VAEs (lesson 06).

The encoder of a VAE does not output a code; it outputs a distribution over codes,
q(z|x) = N(mu(x), diag sigma^2(x)), as two vectors ``mu`` and ``logvar = log sigma^2``.
A code ``z`` is one SAMPLE from that distribution, drawn with the reparameterization trick so
that gradients flow back into ``mu`` and ``logvar`` and from there into the encoder's weights.

The loss convention (the course's, see ``losses``): nats PER IMAGE.
    loss = mean over the batch of [ reconstruction NLL summed over pixels
                                    + beta * KL summed over latent dimensions ]
With beta = 1 this is the negative ELBO. It is an upper bound on -log p(x) only when the
reconstruction term is a true likelihood: BCE is the Bernoulli NLL for BINARY pixels. On grey
pixels BCE has a floor (their summed entropy, ``losses.bce_floor_per_image``) and is not a
likelihood; papers train and test on binarized MNIST (``binarize=True`` here: a fresh Bernoulli
draw of every pixel, "dynamic binarization"), and their figures are comparable only under that
protocol, with the same training set size and estimator.

Shapes: images (B, 1, 28, 28) or (B, 784); mu, logvar, z (B, L); decoder logits like the input.
"""

from __future__ import annotations

import math
import numbers
from typing import Literal

import torch
from torch import Tensor, nn

from course_utils.deprecation import deprecated_alias, warn_deprecated
from course_utils.inputs import (
    check_codes,
    check_images,
    check_same_shape,
    check_sizes,
    check_unit_range,
    check_widths,
    model_dtype,
)
from course_utils.losses import bce_per_image, gaussian_kl_per_image, gaussian_nll_per_image
from course_utils.models import flatten_input, mlp
from course_utils.train import Callback, TrainState

Likelihood = Literal["bernoulli", "gaussian"]


def reparameterize(mu: Tensor, logvar: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """One sample z = mu + sigma * eps with eps ~ N(0, I) and sigma = exp(logvar / 2).

    mu, logvar: (B, L) -> z: (B, L). The randomness sits in ``eps``, which does not depend on
    any weight, so z is a differentiable function of mu and logvar. ``generator`` (optional,
    a CPU or same-device ``torch.Generator``) makes the draw reproducible.
    """
    check_same_shape(mu, logvar, "reparameterize", names=("mu", "logvar"))
    std = torch.exp(0.5 * logvar)  # sigma = sqrt(exp(logvar)), always positive
    if generator is None:
        eps = torch.randn_like(std)
    else:  # draw on the generator's device, then follow the input's device
        eps = torch.randn(std.shape, generator=generator, dtype=std.dtype, device=generator.device)
        eps = eps.to(std.device)
    return mu + std * eps


def reconstruction_nll_per_image(
    logits: Tensor, x: Tensor, likelihood: Likelihood = "bernoulli", sigma: float = 0.1
) -> Tensor:
    """-log p(x|z) summed over pixels, one value per image: (B, ...) -> (B,).

    "bernoulli": BCE with the decoder's logits (pixels in [0, 1] read as probabilities of ink).
    "gaussian": N(x; sigmoid(logits), sigma^2 I) with a FIXED sigma, constant included, so it is
    squared error / (2 sigma^2) + const. A smaller sigma weighs reconstruction more heavily.
    """
    if likelihood == "bernoulli":
        return bce_per_image(logits, x)
    if likelihood == "gaussian":
        return gaussian_nll_per_image(torch.sigmoid(logits), x, sigma)
    raise ValueError(
        f"reconstruction_nll_per_image expects likelihood 'bernoulli' or 'gaussian', but "
        f"received {likelihood!r}."
    )


def vae_loss(
    logits: Tensor,
    x: Tensor,
    mu: Tensor,
    logvar: Tensor,
    *,
    beta: float = 1.0,
    likelihood: Likelihood = "bernoulli",
    sigma: float = 0.1,
) -> tuple[Tensor, dict[str, Tensor]]:
    """The VAE loss in nats per image, and its two terms for logging.

    loss = mean_b [ recon_b + beta * kl_b ], recon_b summed over pixels
    (``reconstruction_nll_per_image``), kl_b = KL(q(z|x_b) || N(0, I)) summed over latent dims
    (``gaussian_kl_per_image``, Kingma & Welling 2014, appendix B). Returns
    (loss, {"recon": mean recon, "kl": mean kl}), the form ``fit`` logs. With beta = 1 the loss
    is the negative ELBO.
    """
    recon = reconstruction_nll_per_image(logits, x, likelihood, sigma)  # (B,)
    kl = gaussian_kl_per_image(mu, logvar)  # (B,)
    loss = (recon + beta * kl).mean()
    return loss, {"recon": recon.mean().detach(), "kl": kl.mean().detach()}


def binarize(x: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Binary images: each pixel is 1 with probability x (its grey level), 0 otherwise.

    Drawn afresh each time ("dynamic binarization"), this turns grey images into samples of a
    Bernoulli distribution, so BCE becomes a true negative log-likelihood. Same shape as x.
    ``generator`` (CPU) makes the draw reproducible.
    """
    check_unit_range(x, "binarize")
    if generator is None:
        return torch.bernoulli(x)
    return torch.bernoulli(x.cpu(), generator=generator).to(x.device)


class VAEObjective:
    """An objective for ``fit(..., objective=...)``: runs ``model(*batch)``, applies ``vae_loss``.

    ``beta`` is an attribute, so a callback (``KLWarmup``) can change it during training.
    Batches are ``(x,)`` for a VAE and ``(x, y)`` for a conditional VAE (lesson 07).
    ``binarize=True`` draws fresh binary images from every batch (dynamic binarization), the
    protocol under which the loss is a true negative ELBO.
    """

    def __init__(
        self,
        beta: float = 1.0,
        likelihood: Likelihood = "bernoulli",
        sigma: float = 0.1,
        binarize: bool = False,
    ) -> None:
        self.beta, self.likelihood, self.sigma = beta, likelihood, sigma
        self.binarize = binarize

    def __call__(self, model: nn.Module, batch: tuple[Tensor, ...]):
        if self.binarize:
            batch = (torch.bernoulli(batch[0]), *batch[1:])
        logits, mu, logvar = model(*batch)
        return vae_loss(
            logits, batch[0], mu, logvar, beta=self.beta, likelihood=self.likelihood,
            sigma=self.sigma,
        )  # fmt: skip


def warmup_beta(step: int, warmup_steps: int, target: float = 1.0) -> float:
    """Linear KL warm-up: beta = target * step / warmup_steps, then target from then on."""
    if warmup_steps <= 0:
        return target
    return target * min(1.0, step / warmup_steps)


class KLWarmup(Callback):
    """Raise ``objective.beta`` linearly from 0 to ``target`` during the first part of training.

    Say how long the warm-up lasts with exactly one keyword:
        ``KLWarmup(objective, epochs=3)``        the first 3 epochs (0: no warm-up)
        ``KLWarmup(objective, fraction=0.3)``    the first 30% of all optimizer steps
    Early in training the KL term easily wins (it can be made zero by ignoring the input); the
    warm-up lets the decoder learn to use z first. Beta is set before every optimizer step.
    Once training runs, ``end_step`` is the optimizer step at which beta reaches ``target`` and
    ``end_epoch`` the epoch (1-based; 0 for no warm-up) that step belongs to.

    The old call forms ``KLWarmup(objective, 3)`` / ``KLWarmup(objective, 0.3)`` (an int meant
    epochs, a float a fraction) and ``warmup=`` still work for one release, with a warning.
    """

    def __init__(
        self,
        objective: VAEObjective,
        *legacy: float,
        epochs: int | None = None,
        fraction: float | None = None,
        target: float = 1.0,
        warmup: float | None = None,
    ) -> None:
        if (legacy or warmup is not None) and epochs is None and fraction is None:
            epochs, fraction, target = _legacy_warmup(legacy, warmup, target)
        elif legacy or warmup is not None:
            raise ValueError(
                f"KLWarmup expects epochs= or fraction= alone, but also received {legacy!r} and "
                f"warmup={warmup!r}. Use KLWarmup(objective, epochs=N) or fraction=f."
            )
        if (epochs is None) == (fraction is None):
            raise ValueError(
                "KLWarmup expects exactly one of epochs= (a number of epochs, e.g. epochs=3) or "
                f"fraction= (a share of all steps, e.g. fraction=0.3), but received "
                f"epochs={epochs!r} and fraction={fraction!r}."
            )
        if epochs is not None and not (_is_int(epochs) and epochs >= 0):
            raise ValueError(
                f"KLWarmup expects epochs= as a whole number of epochs >= 0, but received "
                f"{epochs!r}. For a share of training, use fraction= instead."
            )
        if fraction is not None and not (_is_number(fraction) and 0 < fraction <= 1):
            raise ValueError(
                f"KLWarmup expects fraction= as a share of all training steps in (0, 1], but "
                f"received {fraction!r}. For a number of epochs, use epochs= instead."
            )
        self.objective, self.target = objective, target
        self.epochs, self.fraction = epochs, fraction
        self.end_step: int | None = None  # set when training starts (on_batch_start)
        self.end_epoch: int | None = None

    def warmup_steps(self, state: TrainState) -> int:
        """The number of optimizer steps over which beta rises from 0 to ``target``."""
        if self.fraction is not None:
            return round(self.fraction * state.total_steps)
        return self.epochs * state.steps_per_epoch

    def on_batch_start(self, state: TrainState) -> None:
        steps = self.warmup_steps(state)
        self.end_step = steps  # from fit's own step count; step s (1-based) is in epoch ceil(s/n)
        self.end_epoch = math.ceil(steps / state.steps_per_epoch)
        self.objective.beta = warmup_beta(state.step, steps, self.target)


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _legacy_warmup(legacy: tuple, warmup, target: float) -> tuple:
    """The pre-issue-17 forms ``(objective, warmup[, target])`` and ``warmup=``: an int meant
    epochs, a float a fraction. Returns (epochs, fraction, target) after a DeprecationWarning."""
    if len(legacy) > 2 or (legacy and warmup is not None):
        raise ValueError(
            "KLWarmup expects KLWarmup(objective, epochs=N) or KLWarmup(objective, fraction=f), "
            f"but received the extra arguments {legacy!r} and warmup={warmup!r}."
        )
    if legacy:
        warmup, target = legacy[0], (legacy[1] if len(legacy) == 2 else target)
    if _is_int(warmup):
        keyword = "epochs"
    elif isinstance(warmup, float):
        keyword = "fraction"
    else:
        raise ValueError(
            "KLWarmup expects warmup as a number of epochs (an int >= 0) or a fraction of "
            f"training (a float in (0, 1]), but received {warmup!r}. Better: "
            "KLWarmup(objective, epochs=N) or KLWarmup(objective, fraction=f)."
        )
    old, new = f"KLWarmup(objective, {warmup!r})", f"KLWarmup(objective, {keyword}={warmup!r})"
    warn_deprecated(old, new, stacklevel=4)
    return (warmup, None, target) if keyword == "epochs" else (None, warmup, target)


class GaussianVAE(nn.Module):
    """What every VAE of lesson 06 shares: sample z with the trick, decode it (the forward pass).

    A subclass defines ``encode(x) -> (mu, logvar)`` and ``decode(z) -> logits``.
    """

    latent_prior = "N(0, I)"  # what ``vae_views`` checks: codes follow this prior

    def reparameterize(
        self, mu: Tensor, logvar: Tensor, generator: torch.Generator | None = None
    ) -> Tensor:
        return reparameterize(mu, logvar, generator)

    def forward(self, x: Tensor, generator: torch.Generator | None = None):
        """x -> (logits shaped like x, mu, logvar), with z ONE reparameterized sample per image."""
        mu, logvar = self.encode(x)  # (B, L), (B, L)
        z = self.reparameterize(mu, logvar, generator)  # (B, L)
        return self.decode(z).view_as(x), mu, logvar


class VAE(GaussianVAE):
    """A dense VAE (lesson 06). ``VAE(784, hidden=(400,), n_latent=20)`` is the classic one.

    encode: (B, 784) or (B, 1, 28, 28) -> mu, logvar, each (B, n_latent)
    decode: z (B, n_latent) -> logits (B, 1, 28, 28)    (sigmoid(logits) = pixel means), the
            same contract as ``ConvVAE.decode`` ((B, n_inputs) if n_inputs is not 784)
    forward: x -> (logits shaped like x, mu, logvar), with z one reparameterized sample.
    mu and logvar are ACTIVATIONS, recomputed for every input; the weights are the parameters.
    """

    def __init__(
        self,
        n_inputs: int = 784,
        hidden: tuple[int, ...] = (400,),
        n_latent: int = 20,
        activation: type[nn.Module] = nn.ReLU,
    ) -> None:
        check_sizes("VAE", n_inputs=n_inputs, n_latent=n_latent)
        hidden = check_widths(hidden, "hidden", "VAE", allow_empty=False)
        super().__init__()
        self.n_inputs, self.n_latent = n_inputs, n_latent
        self.output_shape = (1, 28, 28) if n_inputs == 28 * 28 else (n_inputs,)
        self.body = nn.Sequential(mlp([n_inputs, *hidden], activation), activation())
        self.to_mu = nn.Linear(hidden[-1], n_latent)
        self.to_logvar = nn.Linear(hidden[-1], n_latent)  # log sigma^2: any real number is valid
        self.decoder = mlp([n_latent, *reversed(hidden), n_inputs], activation)

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        x = flatten_input(x, self.n_inputs, "VAE", model_dtype(self))  # (B, 784)
        h = self.body(x)  # (B, 784) -> (B, hidden)
        return self.to_mu(h), self.to_logvar(h)  # (B, L), (B, L)

    def decode(self, z: Tensor) -> Tensor:
        check_codes(z, self.n_latent, "VAE.decode", model_dtype(self))
        logits = self.decoder(z)  # (B, L) -> (B, 784)
        return logits.view(-1, *self.output_shape)  # (B, 784) -> (B, 1, 28, 28)


class ConvVAE(GaussianVAE):
    """A convolutional VAE for 28x28 images (lesson 06), same interface as ``VAE``.

    encode: (B, 1, 28, 28) -> conv 28x28 => 14x14 => 7x7 -> mu, logvar (B, n_latent)
    decode: z (B, n_latent) -> 7x7 => 14x14 => 28x28 -> logits (B, 1, 28, 28)
    """

    def __init__(self, n_latent: int = 16, channels: tuple[int, int] = (32, 64)) -> None:
        check_sizes("ConvVAE", n_latent=n_latent)
        c1, c2 = check_widths(channels, "channels", "ConvVAE", length=2)
        super().__init__()
        self.n_latent, self.channels = n_latent, channels
        self.body = nn.Sequential(
            nn.Conv2d(1, c1, 4, stride=2, padding=1), nn.ReLU(),  # 28x28 => 14x14
            nn.Conv2d(c1, c2, 4, stride=2, padding=1), nn.ReLU(),  # 14x14 => 7x7
            nn.Flatten(),  # (B, c2, 7, 7) -> (B, c2 * 49)
        )  # fmt: skip
        self.to_mu = nn.Linear(c2 * 49, n_latent)
        self.to_logvar = nn.Linear(c2 * 49, n_latent)
        self.from_z = nn.Sequential(nn.Linear(n_latent, c2 * 49), nn.ReLU())
        self.deconv = nn.Sequential(
            nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1), nn.ReLU(),  # 7x7 => 14x14
            nn.ConvTranspose2d(c1, 1, 4, stride=2, padding=1),  # 14x14 => 28x28, logits
        )  # fmt: skip

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        check_images(x, "ConvVAE", flat_ok=False, dtype=model_dtype(self))
        h = self.body(x)  # (B, c2 * 49)
        return self.to_mu(h), self.to_logvar(h)

    def decode(self, z: Tensor) -> Tensor:
        check_codes(z, self.n_latent, "ConvVAE.decode", model_dtype(self))
        h = self.from_z(z).view(-1, self.channels[1], 7, 7)  # (B, c2 * 49) -> (B, c2, 7, 7)
        return self.deconv(h)  # (B, 1, 28, 28) logits


# Old names, kept for one release (issue 17): calling one warns and names the new one.
reconstruction_nll = deprecated_alias("reconstruction_nll", reconstruction_nll_per_image)
