"""The beta-VAE (lesson 07): the same VAE trained with a weight beta on its KL term.

``beta_sweep`` trains one model per beta and measures each on test images; the figures and the
slider show the reconstruction-KL trade-off. Loss convention: nats per image, as in ``vae``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure
from torch import Tensor, nn

from course_utils.elbo import negative_elbo
from course_utils.plots import NotebookFigure, rows_figure
from course_utils.train import fit
from course_utils.vae import VAEObjective
from course_utils.vae_views import prior_samples, reconstruct
from course_utils.widgets import FigureView


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
        fit(model, train_x, objective=VAEObjective(beta=beta), epochs=epochs,
            batch_size=batch_size, lr=lr, seed=seed, verbose=False)  # fmt: skip
        test = negative_elbo(model, test_x, generator=torch.Generator().manual_seed(seed))
        sweep.rows.append({"beta": float(beta), **test})
        sweep.models.append(model)
    return sweep


def tradeoff_figure(sweep: BetaSweep, highlight: float | None = None) -> Figure:
    """Test reconstruction loss and KL (nats per image) against beta, log-scaled beta axis."""
    fig = NotebookFigure(figsize=(9, 3.3), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    for ax, key, colour in ((ax1, "recon", "tab:blue"), (ax2, "kl", "tab:red")):
        ax.plot(sweep.betas, sweep.column(key), "o-", color=colour)
        ax.set_xscale("log", base=2)
        ax.set_xticks(sweep.betas, [f"{b:g}" for b in sweep.betas])
        ax.set(xlabel="beta", ylabel=f"test {key} (nats/image)")
        ax.grid(alpha=0.3)
        if highlight is not None:
            ax.axvline(highlight, color="grey", ls="--")
    ax1.set_title("reconstruction rises with beta")
    ax2.set_title("KL falls with beta")
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
