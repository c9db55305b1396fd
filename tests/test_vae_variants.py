"""Lesson 07 pieces: conditional VAE, beta sweep, Gumbel-softmax and its temperature schedule."""

import math

import pytest
import torch

from course_utils.train import fit
from course_utils.vae import VAE, VAEObjective, negative_elbo
from course_utils.vae_variants import (
    BetaSweep,
    ConditionalVAE,
    GumbelVAE,
    TemperatureAnnealing,
    annealed_temperature,
    beta_sweep,
    categorical_kl,
    gumbel_negative_elbo,
    gumbel_softmax_sample,
    gumbel_vae_loss,
    one_hot_labels,
)


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_cvae_shapes_and_label_checks():
    torch.manual_seed(0)
    model = ConditionalVAE(784, 10, (32,), n_latent=10)
    x, y = torch.rand(3, 1, 28, 28, generator=_gen()), torch.tensor([0, 4, 9])
    logits, mu, logvar = model(x, y)
    assert logits.shape == x.shape and mu.shape == logvar.shape == (3, 10)
    assert model.decode(mu, y).shape == (3, 784)
    with pytest.raises(ValueError, match=r"0\.\.9, got values 0\.\.10"):
        model.encode(x, torch.tensor([0, 1, 10]))
    with pytest.raises(ValueError, match="integer class labels"):
        one_hot_labels(torch.tensor([0.0, 1.0]), 10)
    with pytest.raises(ValueError, match=r"\(B, 10\) but received \(3, 2\)"):
        model.decode(torch.zeros(3, 2), y)


def test_cvae_conditioning_changes_the_output_classwise():
    """Two classes drawn as two fixed patterns: the trained CVAE follows the label it is given."""
    torch.manual_seed(0)
    patterns = torch.zeros(2, 784)
    patterns[0, :392], patterns[1, 392:] = 1.0, 1.0  # class 0: top half on; class 1: bottom
    y = torch.arange(200) % 2
    x = patterns[y]
    model = ConditionalVAE(784, 2, (32,), n_latent=2)
    fit(model, (x, y), loss_fn=VAEObjective(), epochs=30, batch_size=20, lr=3e-3, verbose=False)
    z = torch.zeros(2, 2)
    with torch.no_grad():
        images = torch.sigmoid(model.decode(z, torch.tensor([0, 1])))  # same z, two labels
    top, bottom = images[:, :392].mean(1), images[:, 392:].mean(1)  # (2,), (2,)
    assert top[0] - bottom[0] > 0.5 and bottom[1] - top[1] > 0.5  # each label draws its class
    result = negative_elbo(model, x, y, generator=_gen())
    assert result["loss"] < 50  # it learned both classes


def test_gumbel_softmax_hard_is_one_hot_and_passes_gradients():
    logits = torch.randn(4, 5, 6, generator=_gen(), requires_grad=True)
    soft = gumbel_softmax_sample(logits, 0.5, hard=False, generator=_gen(1))
    hard = gumbel_softmax_sample(logits, 0.5, hard=True, generator=_gen(1))
    assert torch.allclose(soft.sum(-1), torch.ones(4, 5))
    assert set(hard.unique().tolist()) == {0.0, 1.0} and torch.equal(hard.sum(-1), torch.ones(4, 5))
    assert torch.equal(hard.argmax(-1), soft.argmax(-1))
    (hard * torch.arange(6.0)).sum().backward()  # straight-through: the soft sample's gradient
    assert logits.grad is not None and logits.grad.abs().sum() > 0
    again = gumbel_softmax_sample(logits, 0.5, hard=True, generator=_gen(1))
    assert torch.equal(again, hard)  # seeded
    with pytest.raises(ValueError, match="positive"):
        gumbel_softmax_sample(logits, 0.0)


def test_gumbel_samples_follow_the_categorical_and_temperature_sharpens():
    probs = torch.tensor([0.1, 0.2, 0.7])
    logits = probs.log().expand(100_000, 3)
    hard = gumbel_softmax_sample(logits, 1.0, hard=True, generator=_gen(2))
    assert torch.allclose(hard.mean(0), probs, atol=0.01)  # the Gumbel-max trick
    cold = gumbel_softmax_sample(logits, 0.1, generator=_gen(3)).max(-1).values.mean()
    warm = gumbel_softmax_sample(logits, 5.0, generator=_gen(3)).max(-1).values.mean()
    assert cold > 0.9 > 0.5 > warm


def test_categorical_kl_to_uniform():
    assert torch.allclose(categorical_kl(torch.zeros(2, 3, 4)), torch.zeros(2), atol=1e-6)
    peaked = torch.full((1, 3, 4), -1e4)
    peaked[..., 0] = 0.0
    assert categorical_kl(peaked).item() == pytest.approx(3 * math.log(4), rel=1e-5)
    q = torch.distributions.Categorical(logits=torch.randn(2, 3, 4, generator=_gen()))
    ref = torch.distributions.kl_divergence(q, torch.distributions.Categorical(torch.ones(4)))
    assert torch.allclose(categorical_kl(q.logits), ref.sum(-1), atol=1e-5)


def test_gumbel_vae_shapes_and_errors():
    model = GumbelVAE(784, (32,), n_vars=5, n_categories=4, hard=True)
    x = torch.rand(3, 1, 28, 28, generator=_gen())
    logits, q_logits = model(x)
    assert logits.shape == x.shape and q_logits.shape == (3, 5, 4)
    with pytest.raises(ValueError, match=r"\(B, 5, 4\) but received \(3, 20\)"):
        model.decode(torch.zeros(3, 20))


def test_temperature_schedule_and_callback():
    assert annealed_temperature(0, 1.0, 0.5, 0.1) == 1.0
    assert annealed_temperature(3, 1.0, 0.5, 0.1) == pytest.approx(math.exp(-0.3))
    assert annealed_temperature(100, 1.0, 0.5, 0.1) == 0.5  # floored at the minimum
    torch.manual_seed(0)
    model = GumbelVAE(784, (16,), n_vars=4, n_categories=3)
    x = (torch.rand(40, 1, 28, 28, generator=_gen()) > 0.5).float()
    annealing = TemperatureAnnealing(start=1.0, minimum=0.5, rate=0.1)
    hist = fit(model, x, loss_fn=gumbel_vae_loss, epochs=2, batch_size=10, callbacks=[annealing],
               verbose=False)  # fmt: skip
    steps = [s for s, _ in annealing.log]
    assert steps[0] == 0 and steps[-1] == 8
    assert model.temperature == pytest.approx(max(0.5, math.exp(-0.8)))
    assert all(a >= b for (_, a), (_, b) in zip(annealing.log, annealing.log[1:], strict=False))
    result = gumbel_negative_elbo(model, x, generator=_gen())
    assert result["loss"] == pytest.approx(result["recon"] + result["kl"])
    assert "train_kl" in hist.rows[0]


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
