"""Discrete latents with the Gumbel-softmax relaxation (lesson 07).

A ``GumbelVAE`` codes each image as a few categorical variables; during training each is a
relaxed (soft) one-hot sample at a temperature that ``TemperatureAnnealing`` lowers step by step.
Loss convention: nats per image, as in ``vae``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from course_utils.deprecation import deprecated_alias
from course_utils.inputs import (
    InputError,
    check_positive,
    check_size,
    check_sizes,
    check_tensor,
    check_widths,
    describe,
    model_dtype,
)
from course_utils.losses import bce_per_image
from course_utils.models import flatten_input, mlp
from course_utils.train import Callback, TrainState, predict


def gumbel_softmax_sample(
    logits: Tensor, temperature: float, hard: bool = False, generator: torch.Generator | None = None
) -> Tensor:
    """A relaxed one-hot sample of Categorical(softmax(logits)) (Jang et al.; Maddison et al. 2017).

    logits (..., K) -> sample (..., K) on the simplex: softmax((logits + g) / temperature),
    g ~ Gumbel(0, 1). Low temperature: close to one-hot; high: close to uniform. With
    ``hard=True`` the forward value is exactly one-hot (argmax) while the gradient is that of the
    soft sample (the straight-through estimator). Same maths as torch.nn.functional.gumbel_softmax,
    written out, plus a ``generator`` for reproducible draws.
    """
    if temperature <= 0:
        raise ValueError(f"The temperature must be positive, got {temperature}.")
    if generator is None:
        u = torch.rand_like(logits)
    else:
        u = torch.rand(logits.shape, generator=generator, device=generator.device).to(logits)
    neg_log_u = (-torch.log(u.clamp_min(1e-20))).clamp_min(1e-20)  # Exponential(1), > 0
    gumbel = -torch.log(neg_log_u)  # Gumbel(0, 1) noise
    soft = F.softmax((logits + gumbel) / temperature, dim=-1)
    if not hard:
        return soft
    index = soft.argmax(dim=-1, keepdim=True)
    one_hot = torch.zeros_like(soft).scatter_(-1, index, 1.0)
    return one_hot - soft.detach() + soft  # value: one-hot; gradient: the soft sample's


def categorical_kl_per_image(q_logits: Tensor) -> Tensor:
    """KL( Categorical(softmax(q_logits)) || uniform ), summed over variables: (B, N, K) -> (B,).

    KL = sum_n sum_k q_nk log(q_nk * K). Zero when every q is uniform; at most N log K nats.
    """
    log_q = F.log_softmax(q_logits, dim=-1)
    k = q_logits.shape[-1]
    return (log_q.exp() * (log_q + math.log(k))).sum(dim=(-2, -1))


class GumbelVAE(nn.Module):
    """A VAE with N discrete latent variables of K categories each (lesson 07).

    encode: (B, 784) or (B, 1, 28, 28) -> q_logits (B, N, K)
    sample: q_logits -> z (B, N, K), relaxed one-hot (or exactly one-hot with ``hard=True``)
    decode: z (B, N, K) -> logits (B, 1, 28, 28), like the other VAEs
    forward: x -> (logits shaped like x, q_logits)
    ``temperature`` is an attribute: ``TemperatureAnnealing`` lowers it during training.
    """

    latent_prior = "uniform categorical"  # ``vae_views``: decodable, but not a Gaussian code

    def __init__(
        self,
        n_inputs: int = 784,
        hidden: tuple[int, ...] = (400,),
        n_vars: int = 20,
        n_categories: int = 10,
        temperature: float = 1.0,
        hard: bool = False,
        activation: type[nn.Module] = nn.ReLU,
    ) -> None:
        check_sizes("GumbelVAE", n_inputs=n_inputs, n_vars=n_vars)
        check_size(n_categories, "n_categories", "GumbelVAE", minimum=2)  # 1 category: no choice
        hidden = check_widths(hidden, "hidden", "GumbelVAE")
        check_positive(temperature, "temperature", "GumbelVAE", "1.0")
        super().__init__()
        self.n_inputs, self.n_vars, self.n_categories = n_inputs, n_vars, n_categories
        self.temperature, self.hard = temperature, hard
        self.output_shape = (1, 28, 28) if n_inputs == 28 * 28 else (n_inputs,)
        self.encoder = mlp([n_inputs, *hidden, n_vars * n_categories], activation)
        self.decoder = mlp([n_vars * n_categories, *reversed(hidden), n_inputs], activation)

    def encode(self, x: Tensor) -> Tensor:
        flat = flatten_input(x, self.n_inputs, "GumbelVAE", model_dtype(self))
        return self.encoder(flat).view(-1, self.n_vars, self.n_categories)  # (B, N*K) -> (B, N, K)

    def decode(self, z: Tensor) -> Tensor:
        check_tensor(z, "GumbelVAE.decode", model_dtype(self))
        if z.dim() != 3 or tuple(z.shape[1:]) != (self.n_vars, self.n_categories):
            raise InputError(
                f"GumbelVAE.decode expects codes of shape (B, {self.n_vars}, "
                f"{self.n_categories}) (one one-hot row per variable), but received "
                f"{describe(z)}. Make codes with F.one_hot(indices, {self.n_categories}).float() "
                "or gumbel_softmax_sample(q_logits, temperature)."
            )
        logits = self.decoder(z.flatten(1))  # (B, N, K) -> (B, N*K) -> (B, 784)
        return logits.view(-1, *self.output_shape)  # (B, 784) -> (B, 1, 28, 28)

    def forward(self, x: Tensor, generator: torch.Generator | None = None):
        q_logits = self.encode(x)
        z = gumbel_softmax_sample(q_logits, self.temperature, self.hard, generator)
        return self.decode(z).view_as(x), q_logits


class GumbelObjective:
    """Objective for ``fit``: BCE summed over pixels + categorical KL, nats per image.

    With relaxed samples this is a SURROGATE objective: neither the ELBO of the discrete model
    nor that of the Concrete relaxation; ``gumbel_negative_elbo`` scores the discrete model.
    With a straight-through model (``GumbelVAE(hard=True)``) the decoder sees one-hot codes and
    the value is a one-sample estimate of the discrete negative ELBO (its gradient is biased).
    ``binarize=True`` draws fresh binary images from every batch, as ``VAEObjective`` does.
    """

    def __init__(self, binarize: bool = False) -> None:
        self.binarize = binarize

    def __call__(self, model: GumbelVAE, batch: tuple[Tensor, ...]):
        x = torch.bernoulli(batch[0]) if self.binarize else batch[0]
        logits, q_logits = model(x)
        recon, kl = bce_per_image(logits, x), categorical_kl_per_image(q_logits)  # (B,), (B,)
        return (recon + kl).mean(), {"recon": recon.mean().detach(), "kl": kl.mean().detach()}


def annealed_temperature(step: int, start: float = 1.0, minimum: float = 0.5, rate: float = 3e-4):
    """Exponential temperature schedule: max(minimum, start * exp(-rate * step)) (Jang et al.)."""
    return max(minimum, start * math.exp(-rate * step))


class TemperatureAnnealing(Callback):
    """Lower ``model.temperature`` along ``annealed_temperature`` as training steps go by.

    Records (step, temperature) pairs in ``self.log`` so the schedule can be plotted.
    """

    def __init__(self, start: float = 1.0, minimum: float = 0.5, rate: float = 3e-4) -> None:
        self.start, self.minimum, self.rate = start, minimum, rate
        self.log: list[tuple[int, float]] = []

    def on_batch_start(self, state: TrainState) -> None:
        tau = annealed_temperature(state.step, self.start, self.minimum, self.rate)
        state.model.temperature = tau
        self.log.append((state.step, tau))


def gumbel_negative_elbo_per_image(
    model: GumbelVAE, x: Tensor, batch_size: int = 1000, generator: torch.Generator | None = None
) -> Tensor:
    """Each image's negative ELBO with ONE hard (one-hot) sample, nats: x (N, ...) -> (N, 3).

    Columns: loss = recon + kl, recon, kl. Per image, so that two models scored on the same
    images can be compared image by image (the standard error of a paired difference).
    """

    def terms(model: GumbelVAE, xb: Tensor) -> Tensor:
        q_logits = model.encode(xb)
        z = gumbel_softmax_sample(q_logits, 1.0, hard=True, generator=generator)  # exact one-hot
        recon = bce_per_image(model.decode(z).view_as(xb), xb)  # (b,)
        kl = categorical_kl_per_image(q_logits)  # (b,)
        return torch.stack([recon + kl, recon, kl], dim=1)  # (b, 3)

    return predict(model, x, fn=terms, batch_size=batch_size)


def gumbel_negative_elbo(
    model: GumbelVAE, x: Tensor, batch_size: int = 1000, generator: torch.Generator | None = None
) -> dict[str, float]:
    """Test negative ELBO of a GumbelVAE with truly DISCRETE samples (hard one-hot), nats/image.

    The mean over x of ``gumbel_negative_elbo_per_image``; runs through ``train.predict`` (eval
    mode, the model's device, batches).
    """
    means = gumbel_negative_elbo_per_image(model, x, batch_size, generator).mean(dim=0)  # (3,)
    return dict(zip(("loss", "recon", "kl"), means.tolist(), strict=True))


def gumbel_surrogate_loss(
    model: GumbelVAE,
    x: Tensor,
    temperature: float,
    batch_size: int = 1000,
    generator: torch.Generator | None = None,
) -> dict[str, float]:
    """The relaxed training objective on x: RELAXED samples at ``temperature``, nats per image.

    What ``GumbelObjective`` computes for a model trained with soft samples, measured on test
    images: compare it with ``gumbel_negative_elbo`` to see the train-soft / test-hard mismatch.
    """

    def terms(model: GumbelVAE, xb: Tensor) -> Tensor:
        q_logits = model.encode(xb)
        z = gumbel_softmax_sample(q_logits, temperature, hard=False, generator=generator)
        recon = bce_per_image(model.decode(z).view_as(xb), xb)  # (b,)
        kl = categorical_kl_per_image(q_logits)  # (b,)
        return torch.stack([recon + kl, recon, kl], dim=1)  # (b, 3)

    means = predict(model, x, fn=terms, batch_size=batch_size).mean(dim=0)  # (3,)
    return dict(zip(("loss", "recon", "kl"), means.tolist(), strict=True))


def gumbel_reconstruct(
    model: GumbelVAE, x: Tensor, generator: torch.Generator | None = None
) -> Tensor:
    """Pixel probabilities from ONE hard (one-hot) sample of q(z|x): (N, ...) -> (N, 1, 28, 28)."""

    def decoded(model: GumbelVAE, xb: Tensor) -> Tensor:
        z = gumbel_softmax_sample(model.encode(xb), 1.0, hard=True, generator=generator)
        return torch.sigmoid(model.decode(z))

    return predict(model, x, fn=decoded)


# Old names, kept for one release (issue 17): calling one warns and names the new one.
categorical_kl = deprecated_alias("categorical_kl", categorical_kl_per_image)
