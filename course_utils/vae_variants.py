"""Beyond the vanilla VAE (lesson 07): beta sweeps, a conditional VAE, Gumbel-softmax latents.

Same loss convention as ``vae``: nats per image (sums over pixels and latent dimensions, mean
over the batch). Same training loop: ``course_utils.train.fit`` with a loss object and callbacks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from course_utils.losses import bce_per_image
from course_utils.models import flatten_input, mlp
from course_utils.train import Callback, TrainState, fit
from course_utils.vae import VAEObjective, check_codes, negative_elbo, reparameterize

# --------------------------------------------------------------------------- conditional VAE


def one_hot_labels(y: Tensor, n_classes: int, dtype: torch.dtype = torch.float32) -> Tensor:
    """Integer labels (B,) -> one-hot rows (B, n_classes), with a clear error for bad labels."""
    if y.dim() != 1 or y.dtype not in (torch.int64, torch.int32, torch.int16, torch.uint8):
        raise ValueError(
            f"Expected integer class labels of shape (B,), got dtype {y.dtype} and shape "
            f"{tuple(y.shape)}. Pass e.g. torch.tensor([3, 7]) for two images of classes 3 and 7."
        )
    if len(y) and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(
            f"Labels must lie in 0..{n_classes - 1}, got values {y.min().item()}..{y.max().item()}."
        )
    return F.one_hot(y.long(), n_classes).to(dtype)


class ConditionalVAE(nn.Module):
    """A conditional VAE (CVAE): the label is given to BOTH the encoder and the decoder.

    encode(x (B, 784) or (B, 1, 28, 28), y (B,)) -> mu, logvar (B, n_latent);
        the encoder sees [x, one_hot(y)]  (B, 784 + C)
    decode(z (B, n_latent), y (B,)) -> logits (B, 784);  the decoder sees [z, one_hot(y)]
    Because the decoder is told the class, z is free to hold the rest: the STYLE (slant,
    thickness, width). Choose a class, move z, and you change the style, not the digit.
    """

    def __init__(
        self,
        n_inputs: int = 784,
        n_classes: int = 10,
        hidden: tuple[int, ...] = (400,),
        n_latent: int = 2,
        activation: type[nn.Module] = nn.ReLU,
    ) -> None:
        super().__init__()
        self.n_inputs, self.n_classes, self.n_latent = n_inputs, n_classes, n_latent
        self.body = nn.Sequential(mlp([n_inputs + n_classes, *hidden], activation), activation())
        self.to_mu = nn.Linear(hidden[-1], n_latent)
        self.to_logvar = nn.Linear(hidden[-1], n_latent)
        self.decoder = mlp([n_latent + n_classes, *reversed(hidden), n_inputs], activation)

    def encode(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        flat = flatten_input(x, self.n_inputs, "ConditionalVAE")  # (B, 784)
        h = self.body(torch.cat([flat, one_hot_labels(y, self.n_classes, flat.dtype)], dim=1))
        return self.to_mu(h), self.to_logvar(h)  # (B, L), (B, L)

    def decode(self, z: Tensor, y: Tensor) -> Tensor:
        check_codes(z, self.n_latent, "ConditionalVAE")
        if len(y) != len(z):
            raise ValueError(f"decode got {len(z)} codes but {len(y)} labels; give one each.")
        return self.decoder(torch.cat([z, one_hot_labels(y, self.n_classes, z.dtype)], dim=1))

    def forward(self, x: Tensor, y: Tensor, generator: torch.Generator | None = None):
        mu, logvar = self.encode(x, y)
        z = reparameterize(mu, logvar, generator)
        return self.decode(z, y).view_as(x), mu, logvar


# --------------------------------------------------------------------------- beta sweep


@dataclass
class BetaSweep:
    """Models trained with different beta and their TEST numbers (nats per image, beta = 1 ELBO).

    rows[i] = {"beta", "recon", "kl", "loss"}; models[i] is the model trained with rows[i]["beta"].
    """

    rows: list[dict[str, float]] = field(default_factory=list)
    models: list[nn.Module] = field(default_factory=list)

    @property
    def betas(self) -> list[float]:
        return [row["beta"] for row in self.rows]

    def column(self, key: str) -> list[float]:
        return [row[key] for row in self.rows]

    def model(self, beta: float) -> nn.Module:
        return self.models[self.betas.index(beta)]

    def is_monotone(self) -> bool:
        """True when, as beta grows, the KL never rises and the reconstruction loss never falls."""
        order = sorted(range(len(self.rows)), key=lambda i: self.rows[i]["beta"])
        kl = [self.rows[i]["kl"] for i in order]
        recon = [self.rows[i]["recon"] for i in order]
        return all(a >= b for a, b in zip(kl, kl[1:], strict=False)) and all(
            a <= b for a, b in zip(recon, recon[1:], strict=False)
        )


def beta_sweep(
    make_model: Callable[[], nn.Module],
    train_x: Tensor,
    test_x: Tensor,
    betas: Sequence[float],
    *,
    epochs: int,
    batch_size: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
) -> BetaSweep:
    """Train one fresh model per beta (same seed, same data order) and measure it on test_x.

    ``make_model()`` builds a model on the device you want (seeded here before each call).
    The test numbers use one latent sample per image drawn from a generator seeded with ``seed``.
    """
    sweep = BetaSweep()
    for beta in betas:
        torch.manual_seed(seed)  # the same initial weights for every beta
        model = make_model()
        fit(model, train_x, loss_fn=VAEObjective(beta=beta), epochs=epochs,
            batch_size=batch_size, lr=lr, seed=seed, verbose=False)  # fmt: skip
        test = negative_elbo(model, test_x, generator=torch.Generator().manual_seed(seed))
        sweep.rows.append({"beta": float(beta), **test})
        sweep.models.append(model)
    return sweep


# --------------------------------------------------------------------------- Gumbel-softmax


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


def categorical_kl(q_logits: Tensor) -> Tensor:
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
    decode: z (B, N, K) -> logits (B, 784)
    forward: x -> (logits shaped like x, q_logits)
    ``temperature`` is an attribute: ``TemperatureAnnealing`` lowers it during training.
    """

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
        super().__init__()
        self.n_inputs, self.n_vars, self.n_categories = n_inputs, n_vars, n_categories
        self.temperature, self.hard = temperature, hard
        self.encoder = mlp([n_inputs, *hidden, n_vars * n_categories], activation)
        self.decoder = mlp([n_vars * n_categories, *reversed(hidden), n_inputs], activation)

    def encode(self, x: Tensor) -> Tensor:
        flat = flatten_input(x, self.n_inputs, "GumbelVAE")
        return self.encoder(flat).view(-1, self.n_vars, self.n_categories)  # (B, N*K) -> (B, N, K)

    def decode(self, z: Tensor) -> Tensor:
        if z.dim() != 3 or tuple(z.shape[1:]) != (self.n_vars, self.n_categories):
            raise ValueError(
                f"GumbelVAE.decode expects codes of shape (B, {self.n_vars}, "
                f"{self.n_categories}) but received {tuple(z.shape)}."
            )
        return self.decoder(z.flatten(1))  # (B, N, K) -> (B, N*K) -> (B, 784)

    def forward(self, x: Tensor, generator: torch.Generator | None = None):
        q_logits = self.encode(x)
        z = gumbel_softmax_sample(q_logits, self.temperature, self.hard, generator)
        return self.decode(z).view_as(x), q_logits


def gumbel_vae_loss(model: GumbelVAE, batch: tuple[Tensor, ...]):
    """``fit`` loss for ``GumbelVAE``: BCE summed over pixels + categorical KL, nats per image."""
    x = batch[0]
    logits, q_logits = model(x)
    recon, kl = bce_per_image(logits, x), categorical_kl(q_logits)  # (B,), (B,)
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

    def _set(self, state: TrainState) -> None:
        tau = annealed_temperature(state.step, self.start, self.minimum, self.rate)
        state.model.temperature = tau
        self.log.append((state.step, tau))

    def on_epoch_start(self, state: TrainState) -> None:
        self._set(state)

    def on_batch_end(self, state: TrainState) -> None:
        self._set(state)


@torch.no_grad()
def gumbel_negative_elbo(
    model: GumbelVAE, x: Tensor, batch_size: int = 1000, generator: torch.Generator | None = None
) -> dict[str, float]:
    """Test negative ELBO of a GumbelVAE with truly DISCRETE samples (hard one-hot), nats/image."""
    device = next(model.parameters()).device
    totals = {"loss": 0.0, "recon": 0.0, "kl": 0.0}
    for start in range(0, len(x), batch_size):
        xb = x[start : start + batch_size].to(device)
        q_logits = model.encode(xb)
        z = gumbel_softmax_sample(q_logits, 1.0, hard=True, generator=generator)  # exact one-hot
        recon, kl = bce_per_image(model.decode(z).view_as(xb), xb), categorical_kl(q_logits)
        totals["recon"] += recon.sum().item()
        totals["kl"] += kl.sum().item()
        totals["loss"] += (recon + kl).sum().item()
    return {key: value / len(x) for key, value in totals.items()}
