"""course_utils.beta_vae: the beta sweep and its figures (lesson 07)."""

import pytest
import torch
import torch.nn.functional as F

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


def _one_sample_terms(model, x, seed):
    """BCE summed over pixels and KL(q || N(0, I)), per image, batch-averaged; z = mu + sigma eps
    with eps drawn ONCE from a generator seeded with ``seed`` (the sweep's test protocol)."""
    with torch.no_grad():
        mu, logvar = model.encode(x)  # (N, L) each
        kl = 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1).sum(dim=1)  # (N,)
        z = mu + (0.5 * logvar).exp() * torch.randn(mu.shape, generator=_gen(seed))
        logits, t = model.decode(z).flatten(1), x.flatten(1)  # (N, 784) each
        recon = -(t * F.logsigmoid(logits) + (1 - t) * F.logsigmoid(-logits)).sum(dim=1)
    return recon.mean().item(), kl.mean().item()


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
    for beta, row in zip(sweep.betas, sweep.rows, strict=True):  # measured at beta = 1, by hand
        recon, kl = _one_sample_terms(sweep.model(beta), x[200:], seed=0)
        assert row["kl"] == pytest.approx(kl, rel=1e-5)  # the whole KL, not beta times it
        assert row["recon"] == pytest.approx(recon, rel=1e-5)
        assert row["loss"] == pytest.approx(recon + kl, rel=1e-5)
    good = BetaSweep(rows=[{"beta": 2, "recon": 6, "kl": 1}, {"beta": 1, "recon": 5, "kl": 2}])
    assert good.is_monotone()  # order of the rows does not matter
    bad = BetaSweep(rows=[{"beta": 1, "recon": 5, "kl": 1}, {"beta": 2, "recon": 4, "kl": 0.5}])
    assert not bad.is_monotone()
