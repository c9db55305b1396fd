"""Measuring a trained VAE (lesson 06): the negative ELBO, a tighter importance-sampled
estimate of -log p(x), which gradients reach the encoder, and which latent dimensions are used.

Every pass over a dataset goes through ``train.predict`` (eval mode, the model's device, CPU
results). Numbers are nats PER IMAGE, the course's convention (see ``vae`` and ``losses``).
"""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.distributions import Normal

from course_utils.deprecation import warn_deprecated
from course_utils.losses import bce_per_image, gaussian_kl_per_image
from course_utils.train import predict
from course_utils.vae import binarize


def negative_elbo(
    model: nn.Module,
    *inputs: Tensor,
    batch_size: int = 1000,
    generator: torch.Generator | None = None,
    binarize: bool = False,
) -> dict[str, float]:
    """Test negative ELBO in nats per image: BCE summed over pixels + KL, ONE z sample per image.

    ``inputs`` are what the model's forward takes: ``(x,)``, or ``(x, y)`` for a conditional
    VAE. Returns {"loss": ..., "recon": ..., "kl": ...}, each averaged over all images. Runs
    through ``train.predict`` (eval mode, the model's device, batches).

    On grey images the "loss" is NOT a bound on -log p(x) (BCE of grey targets has a floor, see
    ``losses.bce_floor_per_image``). With ``binarize=True`` the images are first binarized once
    with ``generator`` (one fixed Bernoulli draw), and the loss is a true negative ELBO of those
    binary images: an upper bound on their -log p(x).
    """
    if binarize:
        inputs = (binarize_images(inputs[0], generator), *inputs[1:])

    def terms(model: nn.Module, *batch: Tensor) -> Tensor:
        logits, mu, logvar = model(*batch, generator=generator)
        recon, kl = bce_per_image(logits, batch[0]), gaussian_kl_per_image(mu, logvar)  # (b,), (b,)
        return torch.stack([recon + kl, recon, kl], dim=1)  # (b, 3)

    means = predict(model, *inputs, fn=terms, batch_size=batch_size).mean(dim=0)  # (3,)
    return dict(zip(("loss", "recon", "kl"), means.tolist(), strict=True))


binarize_images = binarize  # the name negative_elbo uses (its argument is called ``binarize``)


def importance_sampled_nll(
    model: nn.Module,
    x: Tensor,
    k: int = 500,
    batch_size: int = 100,
    generator: torch.Generator | None = None,
) -> Tensor:
    """-log p(x) estimated with k importance samples from q(z|x), per image: (N, ...) -> (N,).

    log p(x) ~ log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x),  z_i ~ q(z|x)  (Burda et al. 2016).
    Bernoulli decoder; meant for BINARY x. With k = 1 this is the one-sample negative ELBO; as
    k grows it falls towards -log p(x), so (negative ELBO - this) estimates the gap
    KL(q(z|x) || p(z|x)) from below.
    """

    def nll(model: nn.Module, xb: Tensor) -> Tensor:
        mu, logvar = model.encode(xb)  # (b, L) each
        b, n_latent = mu.shape
        eps = torch.randn(k, b, n_latent, generator=generator).to(mu.device)  # (k, b, L)
        z = mu + torch.exp(0.5 * logvar) * eps  # (k, b, L)
        logits = model.decode(z.reshape(k * b, n_latent)).reshape(k, b, -1)  # (k, b, D)
        target = xb.reshape(1, b, -1).expand_as(logits)
        log_px_z = -F.binary_cross_entropy_with_logits(logits, target, reduction="none").sum(-1)
        log_pz = Normal(0.0, 1.0).log_prob(z).sum(-1)  # (k, b)
        log_qz = Normal(mu, torch.exp(0.5 * logvar)).log_prob(z).sum(-1)  # (k, b)
        log_w = log_px_z + log_pz - log_qz  # (k, b)
        return -(torch.logsumexp(log_w, dim=0) - math.log(k))  # (b,)

    return predict(model, x, fn=nll, batch_size=batch_size)


Sampler = Literal["reparameterize", "torch.normal", "Normal.sample"]


def reconstruction_gradients(
    model: nn.Module,
    x: Tensor,
    sampler: Sampler = "reparameterize",
    generator: torch.Generator | None = None,
    seed: int | None = None,
) -> dict[str, float]:
    """Backpropagate the RECONSTRUCTION term only, through the real encoder; gradient norms.

    The KL term depends on mu and logvar directly, so it gives the encoder gradients even if z
    were cut from the graph; leaving it out isolates the path  loss -> decoder -> z -> mu,
    logvar -> encoder weights, the one the reparameterization trick exists for. ``sampler``:
    "reparameterize" (the model's ``reparameterize``: mu + sigma * eps), "torch.normal" (in the
    graph, but autograd treats the draw as a constant: zero gradient) or "Normal.sample" (cut
    from the graph: no gradient at all). Returns the norms of the gradients of
    ``to_mu.weight`` and ``to_logvar.weight`` (0.0 where none arrived). Leaves the model's
    gradients zeroed.

    ``generator`` draws the noise (default: a new one seeded with 0, on x's device), so the same
    generator state gives the same numbers. Nothing here calls ``torch.manual_seed``: the global
    CPU random state is the same after the call as before. (``seed=`` is the old spelling: it
    still works for one release, with a DeprecationWarning.)
    """
    if seed is not None or isinstance(generator, int):
        seed = generator if isinstance(generator, int) else seed
        new = f"reconstruction_gradients(..., generator=torch.Generator().manual_seed({seed}))"
        warn_deprecated(f"reconstruction_gradients(..., seed={seed})", new)
        generator = torch.Generator(device=x.device).manual_seed(seed)
    model.zero_grad()
    mu, logvar = model.encode(x)  # (B, L) each, in the graph of the encoder's weights
    std = torch.exp(0.5 * logvar)
    if generator is None:
        generator = torch.Generator(device=mu.device).manual_seed(0)
    if sampler == "reparameterize":
        z = model.reparameterize(mu, logvar, generator)
    elif sampler == "torch.normal":
        z = torch.normal(mu, std, generator=generator)
    elif sampler == "Normal.sample":  # takes no generator; the draw happens in a fork of the
        with torch.random.fork_rng(devices=[]):  # global CPU state (restored after). Whatever
            z = Normal(mu, std).sample()  # it draws, .sample() cuts z out of the graph.
    else:
        raise ValueError(
            "reconstruction_gradients expects sampler 'reparameterize', 'torch.normal' or "
            f"'Normal.sample', but received {sampler!r}."
        )
    recon = bce_per_image(model.decode(z).view_as(x), x).mean()  # no KL term
    recon.backward()
    out = {}
    for name in ("to_mu.weight", "to_logvar.weight"):
        grad = model.get_parameter(name).grad
        out[name] = 0.0 if grad is None else float(grad.norm())
    model.zero_grad()
    return out


def _encode_gaussian(model: nn.Module, x: Tensor) -> tuple[Tensor, Tensor]:
    return model.encode(x)


def kl_per_dimension(model: nn.Module, x: Tensor, batch_size: int = 1000) -> Tensor:
    """Average KL of each latent dimension over the images x: (N, ...) -> (L,), nats.

    A dimension whose KL is about 0 has q(z_j|x) = N(0, 1) for every x: it carries no
    information about the input (it has collapsed to the prior).
    """
    mu, logvar = predict(model, x, fn=_encode_gaussian, batch_size=batch_size)  # (N, L) each
    return (0.5 * (mu.pow(2) + logvar.exp() - logvar - 1)).mean(dim=0)  # (L,)


def active_units(
    model: nn.Module, x: Tensor, threshold: float = 0.01, batch_size: int = 1000
) -> tuple[int, Tensor]:
    """Count latent dimensions whose mean code varies with the input (Burda et al., 2016).

    Unit j is active when Var_x( mu_j(x) ) > threshold, 0.01 as in Burda et al.: the course's
    ONE definition of an active unit (lesson 06 and 07). Returns (count, variances (L,)).
    """
    mu, _ = predict(model, x, fn=_encode_gaussian, batch_size=batch_size)  # (N, L)
    variances = mu.var(dim=0)  # (N, L) -> (L,)
    return int((variances > threshold).sum()), variances
