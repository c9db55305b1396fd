"""course_utils.gumbel: Gumbel-softmax samples, the categorical KL, annealing (lesson 07)."""

import math

import pytest
import torch

from course_utils.gumbel import (
    GumbelObjective,
    GumbelVAE,
    TemperatureAnnealing,
    annealed_temperature,
    categorical_kl_per_image,
    gumbel_softmax_sample,
)
from course_utils.train import fit


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


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
    assert torch.allclose(categorical_kl_per_image(torch.zeros(2, 3, 4)), torch.zeros(2), atol=1e-6)
    peaked = torch.full((1, 3, 4), -1e4)
    peaked[..., 0] = 0.0
    assert categorical_kl_per_image(peaked).item() == pytest.approx(3 * math.log(4), rel=1e-5)
    q = torch.distributions.Categorical(logits=torch.randn(2, 3, 4, generator=_gen()))
    ref = torch.distributions.kl_divergence(q, torch.distributions.Categorical(torch.ones(4)))
    assert torch.allclose(categorical_kl_per_image(q.logits), ref.sum(-1), atol=1e-5)


def test_gumbel_vae_shapes_and_errors():
    model = GumbelVAE(784, (32,), n_vars=5, n_categories=4, hard=True)
    x = torch.rand(3, 1, 28, 28, generator=_gen())
    logits, q_logits = model(x)
    assert logits.shape == x.shape and q_logits.shape == (3, 5, 4)
    with pytest.raises(ValueError, match=r"\(B, 5, 4\) .*but received .*\(3, 20\)"):
        model.decode(torch.zeros(3, 20))


def test_temperature_schedule_and_callback():
    assert annealed_temperature(0, 1.0, 0.5, 0.1) == 1.0
    assert annealed_temperature(3, 1.0, 0.5, 0.1) == pytest.approx(math.exp(-0.3))
    assert annealed_temperature(100, 1.0, 0.5, 0.1) == 0.5  # floored at the minimum
    torch.manual_seed(0)
    model = GumbelVAE(784, (16,), n_vars=4, n_categories=3)
    x = (torch.rand(40, 1, 28, 28, generator=_gen()) > 0.5).float()
    annealing = TemperatureAnnealing(start=1.0, minimum=0.5, rate=0.1)
    hist = fit(model, x, objective=GumbelObjective(), epochs=2, batch_size=10,
               callbacks=[annealing], verbose=False)  # fmt: skip
    steps = [s for s, _ in annealing.log]
    assert steps == list(range(8))  # set before each of the 8 steps
    assert model.temperature == pytest.approx(max(0.5, math.exp(-0.7)))
    assert all(a >= b for (_, a), (_, b) in zip(annealing.log, annealing.log[1:], strict=False))
    # gumbel_negative_elbo against the exact discrete bound: tests/test_gumbel_exact.py
    assert "train_kl" in hist.rows[0]
