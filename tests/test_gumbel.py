"""course_utils.gumbel: Gumbel-softmax samples, the categorical KL, annealing (lesson 07)."""

import math

import pytest
import torch
import torch.nn.functional as F

from course_utils.gumbel import (
    GumbelObjective,
    GumbelVAE,
    TemperatureAnnealing,
    annealed_temperature,
    categorical_kl_per_image,
    gumbel_negative_elbo,
    gumbel_negative_elbo_per_image,
    gumbel_reconstruct,
    gumbel_softmax_sample,
    gumbel_surrogate_loss,
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


def _relaxed_reference(model, x, temperature, seed):
    """BCE + categorical KL with a relaxed sample written out (u drawn with seed ``seed``)."""
    with torch.no_grad():
        q_logits = model.encoder(x.flatten(1)).view(len(x), model.n_vars, model.n_categories)
        u = torch.rand(q_logits.shape, generator=_gen(seed))
        z = torch.softmax((q_logits - torch.log(-torch.log(u))) / temperature, dim=-1)
        logits = model.decoder(z.flatten(1))
        t = x.flatten(1)
        recon = -(t * F.logsigmoid(logits) + (1 - t) * F.logsigmoid(-logits)).sum(1)
        q = torch.softmax(q_logits, dim=-1)
        kl = (q * torch.log(q * model.n_categories)).sum(dim=(1, 2))
    return recon.mean().item(), kl.mean().item()


def test_surrogate_uses_relaxed_samples_at_the_given_temperature():
    torch.manual_seed(0)
    model = GumbelVAE(784, (16,), n_vars=4, n_categories=3)
    x = (torch.rand(6, 1, 28, 28, generator=_gen(7)) > 0.5).float()
    result = gumbel_surrogate_loss(model, x, temperature=0.7, generator=_gen(8))
    recon, kl = _relaxed_reference(model, x, 0.7, seed=8)
    assert result["recon"] == pytest.approx(recon, rel=1e-5)
    assert result["kl"] == pytest.approx(kl, rel=1e-5)
    assert result["loss"] == pytest.approx(recon + kl, rel=1e-5)
    hard = gumbel_negative_elbo(model, x, generator=_gen(8))
    assert abs(hard["recon"] - result["recon"]) > 1e-3  # soft and one-hot codes decode differently


def test_per_image_negative_elbo_uses_one_hard_sample_per_image():
    torch.manual_seed(0)
    model = GumbelVAE(784, (16,), n_vars=4, n_categories=3)
    x = (torch.rand(6, 1, 28, 28, generator=_gen(12)) > 0.5).float()
    per_image = gumbel_negative_elbo_per_image(model, x, generator=_gen(13))
    with torch.no_grad():  # written out: Gumbel-max one-hot codes, BCE and the categorical KL
        q_logits = model.encoder(x.flatten(1)).view(6, 4, 3)
        u = torch.rand(q_logits.shape, generator=_gen(13))
        z = F.one_hot((q_logits - torch.log(-torch.log(u))).argmax(-1), 3).float()
        logits, t = model.decoder(z.flatten(1)), x.flatten(1)
        recon = -(t * F.logsigmoid(logits) + (1 - t) * F.logsigmoid(-logits)).sum(1)
        q = torch.softmax(q_logits, dim=-1)
        kl = (q * torch.log(q * 3)).sum(dim=(1, 2))
    assert per_image.shape == (6, 3)
    assert torch.allclose(per_image[:, 1], recon, atol=1e-4)
    assert torch.allclose(per_image[:, 2], kl, atol=1e-5)
    assert torch.allclose(per_image[:, 0], recon + kl, atol=1e-4)
    mean = gumbel_negative_elbo(model, x, generator=_gen(13))
    assert mean["loss"] == pytest.approx(per_image[:, 0].mean().item(), rel=1e-6)


def test_gumbel_reconstruct_decodes_one_hot_samples():
    torch.manual_seed(0)
    model = GumbelVAE(784, (16,), n_vars=4, n_categories=3)
    x = torch.rand(5, 1, 28, 28, generator=_gen(9))
    images = gumbel_reconstruct(model, x, generator=_gen(10))
    with torch.no_grad():
        q_logits = model.encoder(x.flatten(1)).view(5, 4, 3)
        u = torch.rand(q_logits.shape, generator=_gen(10))
        index = (q_logits - torch.log(-torch.log(u))).argmax(-1)  # the Gumbel-max sample
        expected = torch.sigmoid(model.decoder(F.one_hot(index, 3).float().flatten(1)))
    assert images.shape == (5, 1, 28, 28)
    assert torch.allclose(images.flatten(1), expected, atol=1e-6)


def test_gumbel_objective_binarizes_and_straight_through_feeds_one_hot_codes():
    torch.manual_seed(0)
    model = GumbelVAE(784, (16,), n_vars=4, n_categories=3, hard=True)
    x = torch.rand(6, 1, 28, 28, generator=_gen(11))
    seen = []
    model.decoder.register_forward_pre_hook(lambda m, args: seen.append(args[0]))
    torch.manual_seed(3)
    loss, logs = GumbelObjective(binarize=True)(model, (x,))
    torch.manual_seed(3)
    xb = torch.bernoulli(x)  # the same draw the objective made
    logits, q_logits = model(xb)
    t, out = xb.flatten(1), logits.flatten(1)  # (6, 784) each
    recon = -(t * F.logsigmoid(out) + (1 - t) * F.logsigmoid(-out)).sum(1)
    assert logs["recon"].item() == pytest.approx(recon.mean().item(), rel=1e-5)
    assert set(seen[0].unique().tolist()) == {0.0, 1.0}  # straight-through: one-hot codes
