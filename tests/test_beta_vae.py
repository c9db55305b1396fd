"""course_utils.beta_vae: the beta sweep and its figures (lesson 07)."""

import pytest
import torch

from course_utils.beta_vae import BetaSweep, beta_figure, beta_sweep, beta_view, tradeoff_figure
from course_utils.vae import VAE

X = torch.rand(6, 1, 28, 28, generator=torch.Generator().manual_seed(0))


def _vae(n_latent=2):
    torch.manual_seed(0)
    return VAE(784, (16,), n_latent)


def test_beta_figures_and_view_switch_models():
    models = [_vae(2), VAE(784, (16,), 2)]
    rows = [
        {"beta": 1.0, "recon": 100.0, "kl": 10.0, "loss": 110.0},
        {"beta": 4.0, "recon": 120.0, "kl": 3.0, "loss": 123.0},
    ]
    sweep = BetaSweep(rows, models)
    assert len(tradeoff_figure(sweep, highlight=4.0).axes) == 2
    assert "beta = 4" in beta_figure(sweep, 4.0, X)._suptitle.get_text()
    view = beta_view(sweep, X)
    assert "beta = 1" in view.figure._suptitle.get_text()
    view.controls["beta"].value = 4.0
    assert "beta = 4" in view.figure._suptitle.get_text()


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_beta_sweep_measures_the_tradeoff():
    torch.manual_seed(0)
    g = _gen()
    patterns = torch.rand(2, 784, generator=g)  # images that mix two patterns: 2 real factors
    x = (torch.rand(300, 2, generator=g) @ patterns / 2).view(300, 1, 28, 28)
    sweep = beta_sweep(lambda: VAE(784, (32,), 4), x[:200], x[200:], betas=[0.5, 4.0, 32.0],
                       epochs=10, batch_size=50, lr=3e-3)  # fmt: skip
    assert sweep.betas == [0.5, 4.0, 32.0] and len(sweep.models) == 3
    assert sweep.model(4.0) is sweep.models[1]
    assert sweep.column("kl")[0] > sweep.column("kl")[-1]  # more beta, less information in z
    for row in sweep.rows:
        assert row["loss"] == pytest.approx(row["recon"] + row["kl"])  # measured at beta = 1
    good = BetaSweep(rows=[{"beta": 2, "recon": 6, "kl": 1}, {"beta": 1, "recon": 5, "kl": 2}])
    assert good.is_monotone()  # order of the rows does not matter
    bad = BetaSweep(rows=[{"beta": 1, "recon": 5, "kl": 1}, {"beta": 2, "recon": 4, "kl": 0.5}])
    assert not bad.is_monotone()
