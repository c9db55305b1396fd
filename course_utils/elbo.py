"""Measuring a VAE (lesson 06): the negative ELBO, a tighter importance-sampled estimate of
-log p(x) (proposal: the encoder's q, or each image's tuned Gaussian), the best Gaussian per
image (the amortization gap), which gradients reach the encoder, which latent dimensions are
used, and the ELBO's two terms every few steps during training.

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
from course_utils.train import Callback, TrainState, predict
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
    proposal: tuple[Tensor, Tensor] | None = None,
) -> Tensor:
    """-log p(x) estimated with k importance samples per image: (N, ...) -> (N,).

    log p(x) ~ log (1/k) sum_i p(x|z_i) p(z_i) / r(z_i),  z_i ~ r  (Burda et al. 2016).
    The proposal r is the encoder's q(z|x) by default; ``proposal=(mu, logvar)``, each (N, L),
    gives each image its own diagonal Gaussian instead (e.g. from ``tuned_gaussians``). Any
    proposal gives an unbiased estimate of p(x), so a stochastic lower bound on log p(x) that
    rises towards it as k grows; a proposal closer to p(z|x) gets there with fewer samples.
    Bernoulli decoder; meant for BINARY x. With k = 1 and the encoder's q this is the
    one-sample negative ELBO, so (negative ELBO - this) estimates the gap
    KL(q(z|x) || p(z|x)) from below.
    """

    def nll(model: nn.Module, xb: Tensor, *gaussian: Tensor) -> Tensor:
        mu, logvar = gaussian if gaussian else model.encode(xb)  # (b, L) each
        b, n_latent = mu.shape
        eps = torch.randn(k, b, n_latent, generator=generator).to(mu.device)  # (k, b, L)
        z = mu + torch.exp(0.5 * logvar) * eps  # (k, b, L)
        logits = model.decode(z.reshape(k * b, n_latent)).reshape(k, b, -1)  # (k, b, D)
        target = xb.reshape(1, b, -1).expand_as(logits)
        log_px_z = -F.binary_cross_entropy_with_logits(logits, target, reduction="none").sum(-1)
        log_pz = Normal(0.0, 1.0).log_prob(z).sum(-1)  # (k, b)
        log_r = Normal(mu, torch.exp(0.5 * logvar)).log_prob(z).sum(-1)  # (k, b)
        log_w = log_px_z + log_pz - log_r  # (k, b)
        return -(torch.logsumexp(log_w, dim=0) - math.log(k))  # (b,)

    if proposal is None:
        return predict(model, x, fn=nll, batch_size=batch_size)
    mu, logvar = proposal
    if not (mu.shape == logvar.shape and mu.dim() == 2 and len(mu) == len(x)):
        raise ValueError(
            "importance_sampled_nll expects proposal=(mu, logvar), two tensors (N, L) with one "
            f"row per image of x (N = {len(x)}), but received shapes {tuple(mu.shape)} and "
            f"{tuple(logvar.shape)}. Pass e.g. the output of tuned_gaussians(model, x)."
        )
    return predict(model, x, mu.detach(), logvar.detach(), fn=nll, batch_size=batch_size)


def _nelbo_samples(model: nn.Module, x: Tensor, mu: Tensor, logvar: Tensor, eps: Tensor) -> Tensor:
    """-ELBO per image, E_q[-log p(x|z)] averaged over the draws eps (S, N, L), KL closed form."""
    z = mu + torch.exp(0.5 * logvar) * eps  # (S, N, L)
    s, n, n_latent = z.shape
    logits = model.decode(z.reshape(s * n, n_latent)).reshape(s, n, -1)  # (S, N, D)
    target = x.reshape(1, n, -1).expand_as(logits)
    recon = F.binary_cross_entropy_with_logits(logits, target, reduction="none").sum(-1)  # (S, N)
    return recon.mean(0) + gaussian_kl_per_image(mu, logvar)  # (N,)


def tuned_gaussians(
    model: nn.Module,
    x: Tensor,
    steps: int = 100,
    n_samples: int = 4,
    lr: float = 0.05,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """Each image's OWN diagonal Gaussian, tuned on its -ELBO: x (N, ...) -> (mu, logvar) (N, L).

    The encoder AMORTIZES inference: one network gives every image its (mu, logvar). Here each
    image gets its own (mu, logvar), started at the encoder's output and tuned by Adam on that
    image's -ELBO (``n_samples`` reparameterized draws per step, KL in closed form); the
    model's weights stay frozen and are left as they were. Returned on the CPU, detached.
    Bernoulli decoder: x BINARY.
    """
    device = next(model.parameters()).device
    mu0, logvar0 = predict(model, x, fn=_encode_gaussian)  # (N, L) each, CPU
    xf = x.reshape(len(x), -1).to(device)  # (N, D)
    mu = mu0.clone().to(device).requires_grad_(True)
    logvar = logvar0.clone().to(device).requires_grad_(True)
    optimizer = torch.optim.Adam([mu, logvar], lr=lr)
    weights = [p for p in model.parameters() if p.requires_grad]
    was_training = model.training
    model.eval()
    try:
        for p in weights:  # frozen: only the per-image (mu, logvar) move
            p.requires_grad_(False)
        for _ in range(steps):
            eps = torch.randn(n_samples, *mu.shape, generator=generator).to(device)  # (S, N, L)
            loss = _nelbo_samples(model, xf, mu, logvar, eps).sum()  # images are independent
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    finally:
        for p in weights:
            p.requires_grad_(True)
        model.train(was_training)
    return mu.detach().cpu(), logvar.detach().cpu()


def optimized_gaussian_nelbo(
    model: nn.Module,
    x: Tensor,
    steps: int = 100,
    n_samples: int = 4,
    lr: float = 0.05,
    n_eval: int = 100,
    generator: torch.Generator | None = None,
    tuned: tuple[Tensor, Tensor] | None = None,
) -> tuple[Tensor, Tensor]:
    """-ELBO per image with the encoder's q(z|x), and with the best Gaussian found per image.

    x: BINARY images (N, ...) -> (encoder's, optimized), each (N,) nats. The per-image
    Gaussians come from ``tuned_gaussians`` (``steps``, ``n_samples``, ``lr``), or pass ones
    already tuned as ``tuned=(mu, logvar)`` (N, L). With log p(x) in between (Cremer, Li &
    Duvenaud 2018):

        -ELBO(encoder) - -ELBO(best Gaussian)  = amortization gap  (the encoder's shortfall)
        -ELBO(best Gaussian) - (-log p(x))     = approximation gap (no diagonal Gaussian fits)

    Both -ELBOs are measured with the same ``n_eval`` draws per image (KL in closed form). A
    finite search finds a Gaussian no better than the best one, so the first difference, as
    measured, is a lower estimate of the amortization gap. Bernoulli decoder.
    """
    if tuned is None:
        tuned = tuned_gaussians(model, x, steps, n_samples, lr, generator)
    device = next(model.parameters()).device
    mu0, logvar0 = predict(model, x, fn=_encode_gaussian)  # (N, L) each, CPU
    xf = x.reshape(len(x), -1).to(device)  # (N, D)
    with torch.no_grad():  # the same draws for both: their difference has less noise
        eps = torch.randn(n_eval, *mu0.shape, generator=generator).to(device)  # (S, N, L)
        encoder = _nelbo_samples(model, xf, mu0.to(device), logvar0.to(device), eps)
        optimized = _nelbo_samples(model, xf, tuned[0].to(device), tuned[1].to(device), eps)
    return encoder.cpu(), optimized.cpu()


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
    information about the input. The course calls such a dimension SWITCHED OFF and keeps
    "posterior collapse" for the whole posterior (every dimension) ignoring the input; some
    papers call a switched-off dimension a partial collapse.
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


class ElboTermsLog(Callback):
    """Measure the negative ELBO and its two terms on a fixed probe set every ``every`` steps.

    ``fit``'s history has one row per EPOCH: on 60,000 images a budget of 1,500 steps is three
    rows, too few to see the terms move. This callback records a row before the first step
    (step 0), after every ``every``-th optimizer step and after the last one:
    {"step", "epoch", "beta", "loss", "recon", "kl"}, where "loss" is recon + KL (the -ELBO,
    beta = 1 whatever the training beta), "beta" the weight the objective used for that step
    and "epoch" the epoch (1-based, 0 before training) that step belongs to.

    ``probe``: images (n, ...) measured each time, binary ones for a model trained on binarized
    images. ``warmup``: a ``vae.KLWarmup`` listed BEFORE this log in ``callbacks``; its
    objective's beta is logged, and the step at which its warm-up ends is recorded too. The
    latent noise is drawn from a generator seeded with ``seed`` every time, so two rows differ
    only because the model changed. ``log["kl"]`` lists one column.
    """

    def __init__(self, probe: Tensor, every: int = 25, warmup=None, seed: int = 0) -> None:
        if not (isinstance(every, int) and every >= 1):
            raise ValueError(
                f"ElboTermsLog expects every= as a whole number of steps >= 1, but received "
                f"{every!r}. Use e.g. every=25."
            )
        self.probe, self.every, self.warmup, self.seed = probe, every, warmup, seed
        self.rows: list[dict[str, float]] = []

    def __getitem__(self, key: str) -> list[float]:
        return [row[key] for row in self.rows]

    def on_batch_start(self, state: TrainState) -> None:
        if state.step == 0:  # before the first update (beta already set by the warm-up)
            self.rows.clear()
            self._record(state)

    def on_batch_end(self, state: TrainState) -> None:
        end_of_warmup = self.warmup is not None and state.step == self.warmup.end_step
        if state.step % self.every == 0 or state.step == state.total_steps or end_of_warmup:
            self._record(state)

    def _record(self, state: TrainState) -> None:
        generator = torch.Generator().manual_seed(self.seed)  # the same draws every time
        terms = negative_elbo(state.model, self.probe, generator=generator)
        beta = 1.0 if self.warmup is None else float(self.warmup.objective.beta)
        epoch = math.ceil(state.step / state.steps_per_epoch)  # step s (1-based) is in this epoch
        self.rows.append({"step": state.step, "epoch": epoch, "beta": beta, **terms})
