"""The beta-VAE (lesson 07): the same VAE trained with a weight beta on its KL term.

``beta_sweep`` trains one model per beta and measures each on test images; the figures and the
slider show the reconstruction-KL trade-off. ``aggregate_posterior_kl`` compares the mean
and covariance of the codes of all images with the prior N(0, I);
``aggregate_posterior_split`` splits the rate into I(x; z) and the full KL(q(z) || N(0, I)) by
Monte Carlo (``split_verdict`` says whether that KL part measures the model or only bounds it);
``prior_hole_test`` asks whether prior samples fall where real codes rarely do.
Loss convention: nats per image, as in ``vae``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure
from torch import Tensor, nn

from course_utils.curves import StepLog
from course_utils.elbo import negative_elbo
from course_utils.plots import NotebookFigure, rows_figure
from course_utils.train import fit, predict
from course_utils.vae import VAEObjective
from course_utils.vae_views import prior_samples, reconstruct
from course_utils.widgets import FigureView


@dataclass
class BetaSweep:
    """Models trained with different beta and their TEST numbers (nats per image, beta = 1 ELBO).

    rows[i] = {"beta", "recon", "kl", "loss"}; models[i] is the model trained with rows[i]["beta"];
    logs[i] its training curve (a ``StepLog``) when the sweep logged one.
    """

    rows: list[dict[str, float]] = field(default_factory=list)
    models: list[nn.Module] = field(default_factory=list)
    logs: list[StepLog] = field(default_factory=list)

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
    binarize: bool = False,
    log_every: int | None = None,
) -> BetaSweep:
    """Train one fresh model per beta (same seed, same data order) and measure it on test_x.

    ``make_model()`` builds a model on the device you want (seeded here before each call).
    The test numbers use one latent sample per image drawn from a generator seeded with ``seed``.
    ``binarize=True`` trains on freshly binarized batches (``VAEObjective(binarize=True)``);
    then pass a binarized test_x. ``log_every``: record the training terms every that many
    steps (``sweep.logs``).
    """
    sweep = BetaSweep()
    for beta in betas:
        torch.manual_seed(seed)  # the same initial weights for every beta
        model = make_model()
        objective = VAEObjective(beta=beta, binarize=binarize)
        if log_every is not None:
            objective = StepLog(objective, every=log_every)
            sweep.logs.append(objective)
        fit(model, train_x, objective=objective, epochs=epochs, batch_size=batch_size, lr=lr,
            seed=seed, verbose=False)  # fmt: skip
        test = negative_elbo(model, test_x, generator=torch.Generator().manual_seed(seed))
        sweep.rows.append({"beta": float(beta), **test})
        sweep.models.append(model)
    return sweep


def aggregate_posterior_kl(model: nn.Module, x: Tensor, batch_size: int = 1000) -> float:
    """KL(N(m, S) || N(0, I)), nats: a Gaussian fitted to the codes of ALL images x vs the prior.

    The aggregate posterior q(z) = mean over x of q(z|x) has mean m = mean of mu(x) and
    covariance S = Cov(mu) + mean of diag(sigma^2(x)) (L, L). Samples z ~ N(0, I) land where the
    decoder was trained only if q(z) is close to the prior; 0 means the same first two moments.
    Among distributions with these moments the Gaussian has the largest entropy, so this number
    is a LOWER bound on KL(q(z) || N(0, I)): exactly for the mixture of these images, and for
    q(z) over all images up to the sampling error of the two moments.
    """
    mu, logvar = predict(model, x, fn=lambda m, xb: m.encode(xb), batch_size=batch_size)  # (N, L)
    mu, var = mu.double(), logvar.double().exp()
    mean = mu.mean(dim=0)  # (L,)
    cov = torch.cov(mu.T, correction=0) + torch.diag(var.mean(dim=0))  # (L, L)
    n_latent = len(mean)
    kl = 0.5 * (torch.trace(cov) + mean @ mean - n_latent - torch.logdet(cov))
    return float(kl)


_LOG_2PI = math.log(2 * math.pi)


def log_mixture_density(z: Tensor, mu: Tensor, logvar: Tensor, chunk: int = 512) -> Tensor:
    """log q(z) at each z (S, L) for the mixture q = (1/N) sum_i N(mu_i, diag exp(logvar_i)).

    mu, logvar: (N, L), the posteriors of N images. Returns (S,) float64. The (S, N) table of
    component densities is built ``chunk`` rows at a time (in float32: the costly step).
    """
    mu, logvar = mu.double(), logvar.double()
    inv_sd = (-0.5 * logvar).exp().float()  # (N, L)
    const = -0.5 * (logvar + _LOG_2PI).sum(-1)  # (N,): the normalising part of each component
    parts = []
    for start in range(0, len(z), chunk):
        zc = z[start : start + chunk, None, :].float()  # (C, 1, L) vs every component (1, N, L)
        dist = (((zc - mu.float()) * inv_sd) ** 2).sum(-1).double()  # (C, N)
        parts.append(torch.logsumexp(const - 0.5 * dist, dim=1) - math.log(len(mu)))  # (C,)
    return torch.cat(parts)


def aggregate_posterior_split(
    model: nn.Module,
    x: Tensor,
    samples_per_image: int = 2,
    generator: torch.Generator | None = None,
    chunk: int = 512,
) -> dict[str, float]:
    """Split the rate of the images x into I(x; z) + KL(q(z) || N(0, I)), by Monte Carlo, nats.

    q(z) is the EXACT mixture (1/N) sum_i N(mu_i, diag sigma_i^2) over the N images x (N, ...),
    not a Gaussian fitted to it, so it sees gaps between the codes. For each image, z is drawn
    ``samples_per_image`` times from q(z | x_j) and scored three ways:
    log q(z | x_j) (its own posterior), log q(z) (the mixture: an N x N logsumexp, in chunks of
    ``chunk`` samples) and log p(z). Returned: "rate" = mean of log q(z|x) - log p(z),
    "kl_q_prior" = mean of log q(z) - log p(z), "mutual_info" = mean of log q(z|x) - log q(z)
    (rate = mutual_info + kl_q_prior, sample by sample), each with a standard error over the
    images ("*_se"), and "log_n" = log N: the mutual information of N distinct images can never
    exceed it (each term is at most log N, since q(z) >= q(z | x_j) / N).

    What the numbers bound: "kl_q_prior" estimates, without bias, the KL of the N-image mixture.
    For q(z) over ALL images, "mutual_info" is a lower bound on I(x; z) in expectation (the
    InfoNCE bound, capped at log N) and "rate" is unbiased, so "kl_q_prior" is an UPPER bound in
    expectation on KL(q(z) || N(0, I)) that falls as N grows (``aggregate_posterior_kl`` gives a
    lower bound).
    """
    mu, logvar = predict(model, x, fn=lambda m, xb: m.encode(xb))  # (N, L) each
    mu, logvar = mu.double(), logvar.double()
    n, n_latent = mu.shape
    var = logvar.exp()
    eps = torch.randn(n, samples_per_image, n_latent, generator=generator, dtype=torch.float64)
    z = mu[:, None] + var.sqrt()[:, None] * eps  # (N, S, L): S samples of each q(z | x_j)
    log_own = -0.5 * (eps**2 + logvar[:, None] + _LOG_2PI).sum(-1)  # (N, S)
    log_prior = -0.5 * (z**2 + _LOG_2PI).sum(-1)  # (N, S)
    log_mix = log_mixture_density(z.reshape(-1, n_latent), mu, logvar, chunk)  # (N*S,): log q(z)
    log_mix = log_mix.view(n, samples_per_image)  # (N, S)
    out = {"log_n": float(torch.log(torch.tensor(float(n))))}
    for key, terms in (("rate", log_own - log_prior), ("kl_q_prior", log_mix - log_prior),
                       ("mutual_info", log_own - log_mix)):  # fmt: skip
        per_image = terms.mean(dim=1)  # (N,)
        out[key] = float(per_image.mean())
        out[key + "_se"] = float(per_image.std() / n**0.5) if n > 1 else float("nan")
    return out


def split_verdict(
    split: dict[int, dict[str, float]], ceiling: float = 0.9, n_se: float = 2.0
) -> dict[str, float | bool | str]:
    """Does a Monte Carlo split MEASURE KL(q(z) || N(0, I)), or only bound it from above?

    split: {M: ``aggregate_posterior_split`` of the first M images}, two sizes or more; the two
    largest, M and M' < M (M' = M/2 in lesson 07), are compared. The KL part at M measures the
    model only when BOTH hold:

    - I(x; z) at M stays below ``ceiling`` * log M (its InfoNCE estimate is not at its ceiling);
    - the KL part no longer moves with M: |KL part(M') - KL part(M)| <= ``n_se`` standard errors
      of that difference. The SE is sqrt(se(M')^2 + se(M)^2), as if the two were independent;
      they share M' images, so it is too large if anything, and the test errs towards "no
      longer moves".

    The InfoNCE estimate of I is biased low at every M, not only near log M, so the first test
    alone is not enough (tests/test_beta_vae.py: a 1-D toy with I at about 70% of log M and the
    KL part still more than 20% too high).
    Returned: "measured", "at_ceiling", "moving" (bools); "drift" = KL part(M') - KL part(M),
    "drift_se" (nats); "reason": "measured", "I at its ceiling" or "KL part still moves with M".
    """
    if len(split) < 2:
        raise ValueError(
            f"split_verdict: expected the split at two sizes M or more, received {len(split)}; "
            "pass {M / 2: aggregate_posterior_split(...), M: aggregate_posterior_split(...)}."
        )
    small, large = sorted(split)[-2:]
    at_ceiling = split[large]["mutual_info"] >= ceiling * math.log(large)
    drift = split[small]["kl_q_prior"] - split[large]["kl_q_prior"]
    drift_se = math.hypot(split[small]["kl_q_prior_se"], split[large]["kl_q_prior_se"])
    moving = abs(drift) > n_se * drift_se
    reason = "measured"
    if at_ceiling or moving:
        reason = "I at its ceiling" if at_ceiling else "KL part still moves with M"
    return {"measured": not (at_ceiling or moving), "at_ceiling": at_ceiling, "moving": moving,
            "drift": drift, "drift_se": drift_se, "reason": reason}  # fmt: skip


def prior_hole_test(
    model: nn.Module,
    x_mix: Tensor,
    x_new: Tensor,
    n_prior: int = 1000,
    quantile: float = 0.05,
    generator: torch.Generator | None = None,
) -> dict[str, float | Tensor]:
    """Do prior samples land in the holes of q(z), where the codes of real images rarely fall?

    q(z) is the mixture of the posteriors of the images x_mix (N, ...). One code of each NEW image
    x_new (M, ...), z ~ q(z | x), and ``n_prior`` prior samples z ~ N(0, I) are scored by log q(z).
    The threshold is the ``quantile`` of the new images' scores, so a code of a real image falls
    below it with probability about ``quantile``: "below" is a hole. Returned: "hole_share", the
    share of prior samples below it, with "hole_share_se" (binomial); "threshold";
    "z_prior" (n_prior, L) and "z_new" (M, L), the codes, to decode; "in_hole" (n_prior,) bools.
    """
    if len(x_new) < 20:
        raise ValueError(
            f"prior_hole_test: expected at least 20 new images to set the threshold, received "
            f"{len(x_new)}; pass more images in x_new (images not in x_mix)."
        )
    mu, logvar = predict(model, x_mix, fn=lambda m, xb: m.encode(xb))  # (N, L) each
    mu_new, logvar_new = predict(model, x_new, fn=lambda m, xb: m.encode(xb))  # (M, L) each
    eps = torch.randn(mu_new.shape, generator=generator)  # (M, L)
    z_new = mu_new + (0.5 * logvar_new).exp() * eps  # (M, L): one code of each new image
    z_prior = torch.randn(n_prior, mu.shape[1], generator=generator)  # (n_prior, L)
    threshold = torch.quantile(log_mixture_density(z_new, mu, logvar), quantile).item()
    in_hole = log_mixture_density(z_prior, mu, logvar) < threshold  # (n_prior,)
    share = in_hole.double().mean().item()
    se = (share * (1 - share) / n_prior) ** 0.5
    return {"hole_share": share, "hole_share_se": se, "threshold": threshold,
            "z_prior": z_prior, "z_new": z_new, "in_hole": in_hole}  # fmt: skip


def tradeoff_figure(sweep: BetaSweep, highlight: float | None = None) -> Figure:
    """Test reconstruction loss and KL (nats per image) against beta (log-scaled beta axis), and
    the two against each other: the rate-distortion curve, one point per beta, with the dashed
    line of slope -1 on which recon + KL equals the sweep's lowest -ELBO (no point lies below it).

    The titles name what is plotted, never which way it goes: the run decides that.
    """
    fig = NotebookFigure(figsize=(12.5, 3.3), layout="constrained")
    ax1, ax2, ax3 = fig.subplots(1, 3)
    for ax, key, colour in ((ax1, "recon", "tab:blue"), (ax2, "kl", "tab:red")):
        ax.plot(sweep.betas, sweep.column(key), "o-", color=colour)
        ax.set_xscale("log", base=2)
        ax.set_xticks(sweep.betas, [f"{b:g}" for b in sweep.betas])
        ax.set(xlabel="beta", ylabel=f"test {key} (nats/image)")
        ax.grid(alpha=0.3)
        if highlight is not None:
            ax.axvline(highlight, color="grey", ls="--")
    ax1.set_title("distortion: reconstruction term")
    ax2.set_title("rate: KL term")
    ax3.plot(sweep.column("kl"), sweep.column("recon"), "o-", color="tab:purple")
    for beta, kl, recon in zip(sweep.betas, sweep.column("kl"), sweep.column("recon"), strict=True):
        ax3.annotate(f"beta {beta:g}", (kl, recon), textcoords="offset points", xytext=(4, 4),
                     fontsize=8)  # fmt: skip
    ax3.set(xlabel="rate: test KL (nats/image)", ylabel="distortion: test recon (nats/image)",
            title="distortion against rate")  # fmt: skip
    kl, recon = sweep.column("kl"), sweep.column("recon")
    best = min(k + r for k, r in zip(kl, recon, strict=True))  # the lowest -ELBO of the sweep
    xlim, ylim = ax3.get_xlim(), ax3.get_ylim()
    ax3.plot(xlim, [best - xlim[0], best - xlim[1]], color="grey", ls="--", lw=1,
             label=f"recon + KL = {best:.1f} (slope -1)")  # fmt: skip
    ax3.set(xlim=xlim, ylim=ylim)
    ax3.legend(fontsize=7, loc="upper right")
    ax3.grid(alpha=0.3)
    return fig


def active_units_figure(variances: dict[str, Tensor], threshold: float = 0.01) -> Figure:
    """Var_x[mu_j(x)] of every latent dimension, sorted, one line per model (log scale).

    variances {label: (L,)} as returned by ``elbo.active_units``; the dashed line is the
    threshold above which a dimension counts as active (0.01, Burda et al. 2016).
    """
    fig = NotebookFigure(figsize=(6.4, 3.3), layout="constrained")
    ax = fig.subplots()
    for label, var in variances.items():
        ranks = range(1, len(var) + 1)
        ax.plot(ranks, var.sort(descending=True).values.clamp_min(1e-6).numpy(), "o-", label=label,
                markersize=3)  # fmt: skip
    ax.axhline(threshold, color="grey", ls="--", lw=1, label=f"active above {threshold:g}")
    ax.set_yscale("log")
    ax.set(xlabel="latent dimension (sorted)", ylabel="Var over x of mu_j(x)",
           title="how much each dimension's code varies")  # fmt: skip
    ax.grid(alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()  # legend outside: it hides no line
    fig.legend(handles, labels, loc="outside right center", fontsize=7)
    return fig


def beta_figure(
    sweep: BetaSweep, beta: float, x: Tensor, generator_seed: int = 0, n: int = 8
) -> Figure:
    """For one beta of the sweep: n test images, their reconstructions and n prior samples."""
    model = sweep.model(beta)
    row = sweep.rows[sweep.betas.index(beta)]
    g = torch.Generator().manual_seed(generator_seed)
    return rows_figure(
        {
            "input": x[:n],
            "reconstruction": reconstruct(model, x[:n], generator=g),
            "prior sample": prior_samples(model, n, generator=g),
        },
        n=n,
        title=f"beta = {beta:g}: recon {row['recon']:.1f}, KL {row['kl']:.1f} nats/image",
    )


def beta_view(sweep: BetaSweep, x: Tensor) -> FigureView:
    """A slider over the precomputed beta values of a sweep (nothing is trained when it moves)."""
    slider = widgets.SelectionSlider(
        options=[(f"{b:g}", b) for b in sweep.betas], value=sweep.betas[0], description="beta",
        continuous_update=False,
    )  # fmt: skip
    return FigureView(partial(beta_figure, sweep, x=x), {"beta": slider})
