"""The VAE core (lesson 06): reparameterize, KL, the loss convention, the two VAEs, warm-up."""

import math
import re

import pytest
import torch
from torch.distributions import Normal, kl_divergence

from course_utils.elbo import (
    importance_sampled_nll,
    kl_per_dimension,
    negative_elbo,
    reconstruction_gradients,
)
from course_utils.losses import (
    gaussian_kl_per_image,
    gaussian_nll_per_image,
    mean_bce_per_image,
    mean_gaussian_nll_per_image,
    sse_per_image,
)
from course_utils.train import fit
from course_utils.vae import (
    VAE,
    ConvVAE,
    KLWarmup,
    VAEObjective,
    binarize,
    reconstruction_nll_per_image,
    reparameterize,
    vae_loss,
    warmup_beta,
)


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("model", [VAE(784, (64,), 10), ConvVAE(10, channels=(4, 8))])
def test_batch_of_three_with_latent_ten_gives_three_by_ten(model):
    x = torch.rand(3, 1, 28, 28, generator=_gen())
    mu, logvar = model.encode(x)
    z = model.reparameterize(mu, logvar)
    logits, mu2, logvar2 = model(x)
    assert mu.shape == logvar.shape == z.shape == (3, 10)
    assert mu2.shape == logvar2.shape == (3, 10)
    assert model.decode(z).shape in {(3, 784), (3, 1, 28, 28)}
    assert logits.shape == x.shape  # logits, any real number: no sigmoid inside the model


def test_mlp_vae_accepts_flat_input_and_returns_its_shape():
    model = VAE(784, (32,), 4)
    logits, _, _ = model(torch.rand(5, 784))
    assert logits.shape == (5, 784)


def test_reparameterize_statistics_and_seeded_reproducibility():
    mu = torch.tensor([[1.0, -2.0, 0.0]]).expand(200_000, 3)
    logvar = torch.tensor([[0.0, math.log(4.0), math.log(0.01)]]).expand(200_000, 3)
    z = reparameterize(mu, logvar, generator=_gen(1))
    assert torch.allclose(z.mean(0), torch.tensor([1.0, -2.0, 0.0]), atol=0.02)
    assert torch.allclose(z.std(0), torch.tensor([1.0, 2.0, 0.1]), rtol=0.02)
    assert torch.equal(reparameterize(mu, logvar, _gen(1)), z)  # same seed, same z
    assert not torch.equal(reparameterize(mu, logvar, _gen(2)), z)


def test_reparameterize_passes_gradients_to_mu_and_logvar():
    mu = torch.tensor([[0.5, -1.0]], requires_grad=True)
    logvar = torch.tensor([[0.2, -0.3]], requires_grad=True)
    z = reparameterize(mu, logvar, generator=_gen())
    z.sum().backward()
    assert torch.equal(mu.grad, torch.ones_like(mu))  # dz/dmu = 1
    eps = (z - mu) / (0.5 * logvar).exp()
    expected = (0.5 * eps * (0.5 * logvar).exp()).detach()  # dz/dlogvar = eps * sigma / 2
    assert torch.allclose(logvar.grad, expected)


def _reconstruction_reaches_encoder(model, x):
    """The check: does the RECONSTRUCTION term alone send gradients into the encoder's weights?"""
    grads = reconstruction_gradients(model, x, "reparameterize")
    return grads["to_mu.weight"] > 0 and grads["to_logvar.weight"] > 0


@pytest.mark.parametrize("model", [VAE(784, (16,), 3), ConvVAE(3, channels=(4, 8))])
def test_reconstruction_term_alone_reaches_the_encoder_only_through_the_trick(model):
    x = torch.rand(4, 1, 28, 28, generator=_gen())
    assert _reconstruction_reaches_encoder(model, x)
    assert reconstruction_gradients(model, x, "torch.normal") == {
        "to_mu.weight": 0.0,
        "to_logvar.weight": 0.0,
    }  # in the graph, zero gradient
    assert reconstruction_gradients(model, x, "Normal.sample") == {
        "to_mu.weight": 0.0,
        "to_logvar.weight": 0.0,
    }  # cut from the graph
    assert all(p.grad is None or not p.grad.any() for p in model.parameters())  # left zeroed


@pytest.mark.parametrize("sampler", ["reparameterize", "torch.normal", "Normal.sample"])
def test_reconstruction_gradients_leave_the_global_random_state_alone(sampler):
    model, x = VAE(784, (16,), 3), torch.rand(4, 1, 28, 28, generator=_gen())
    torch.manual_seed(123)
    torch.rand(3)  # a state that no torch.manual_seed(0) inside could restore by chance
    before = torch.get_rng_state()
    reconstruction_gradients(model, x, sampler)
    reconstruction_gradients(model, x, sampler, generator=_gen(1))
    assert torch.equal(torch.get_rng_state(), before)


def test_reconstruction_gradients_draw_from_the_given_generator():
    model, x = VAE(784, (16,), 3), torch.rand(4, 1, 28, 28, generator=_gen())
    a = reconstruction_gradients(model, x, generator=_gen(1))
    assert reconstruction_gradients(model, x, generator=_gen(1)) == a  # same state, same numbers
    assert reconstruction_gradients(model, x, generator=_gen(2)) != a  # other noise, other ones
    assert reconstruction_gradients(model, x) == reconstruction_gradients(model, x)  # default: 0
    with pytest.warns(DeprecationWarning, match=r"seed=1\) is deprecated; use .*generator="):
        assert reconstruction_gradients(model, x, seed=1) == a


def test_the_gradient_check_fails_with_a_broken_reparameterize(monkeypatch):
    import course_utils.vae as vae_module

    model, x = VAE(784, (16,), 3), torch.rand(4, 784, generator=_gen())
    assert _reconstruction_reaches_encoder(model, x)

    def detached(mu, logvar, generator=None):  # a classic bug: the sample leaves the graph
        return (mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)).detach()

    monkeypatch.setattr(vae_module, "reparameterize", detached)
    assert not _reconstruction_reaches_encoder(model, x)

    def no_sigma_path(mu, logvar, generator=None):  # sigma computed from a detached logvar
        return mu + torch.exp(0.5 * logvar.detach()) * torch.randn_like(mu)

    monkeypatch.setattr(vae_module, "reparameterize", no_sigma_path)
    assert not _reconstruction_reaches_encoder(model, x)
    # and the full loss would NOT catch either bug: the KL term feeds the encoder directly
    logits, mu, logvar = model(x)
    vae_loss(logits, x, mu, logvar)[0].backward()
    assert model.to_mu.weight.grad.abs().sum() > 0


def test_binarize_draws_bernoulli_pixels_and_objective_binarizes():
    x = torch.full((2000, 4), 0.3)
    b = binarize(x, _gen(0))
    assert set(b.unique().tolist()) <= {0.0, 1.0}
    assert abs(b.mean().item() - 0.3) < 0.02
    assert torch.equal(binarize(x, _gen(0)), b)
    seen = []

    class Spy(VAE):
        def forward(self, x, generator=None):
            seen.append(x)
            return super().forward(x, generator)

    VAEObjective(binarize=True)(Spy(784, (8,), 2), (torch.full((3, 784), 0.5),))
    assert set(seen[0].unique().tolist()) <= {0.0, 1.0}


def test_importance_sampled_nll_is_below_the_negative_elbo_and_k1_matches_it():
    torch.manual_seed(0)
    model = VAE(784, (16,), 2)
    x = binarize(torch.rand(20, 784, generator=_gen(1)), _gen(2))
    nelbo = negative_elbo(model, x, generator=_gen(3))["loss"]
    iw = importance_sampled_nll(model, x, k=200, generator=_gen(3)).mean().item()
    assert iw <= nelbo + 0.5
    k1 = importance_sampled_nll(model, x, k=1, generator=_gen(5)).mean().item()
    assert abs(k1 - nelbo) / nelbo < 0.05  # one sample: the single-sample negative ELBO


def test_gradients_reach_the_encoder_weights_but_not_through_torch_normal():
    torch.manual_seed(0)
    model = VAE(784, (16,), 3)
    x = torch.rand(4, 784, generator=_gen())
    logits, mu, logvar = model(x)
    vae_loss(logits, x, mu, logvar)[0].backward()
    assert model.to_mu.weight.grad.abs().sum() > 0
    assert model.to_logvar.weight.grad.abs().sum() > 0
    assert model.body[0][0].weight.grad.abs().sum() > 0
    mu = torch.zeros(2, 3, requires_grad=True)
    logvar = torch.zeros(2, 3, requires_grad=True)
    torch.normal(mu, (0.5 * logvar).exp()).pow(2).sum().backward()  # a direct sample
    assert torch.equal(mu.grad, torch.zeros(2, 3))  # autograd treats the draw as a constant
    assert torch.equal(logvar.grad, torch.zeros(2, 3))
    z = Normal(mu, (0.5 * logvar).exp()).sample()  # .sample() is cut off from the graph
    assert not z.requires_grad
    with pytest.raises(RuntimeError, match="does not require grad"):
        z.sum().backward()


def test_reparameterize_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"mu \(2, 3\) and logvar \(2, 4\)"):
        reparameterize(torch.zeros(2, 3), torch.zeros(2, 4))


def test_kl_closed_form_matches_torch_and_monte_carlo():
    g = _gen(3)
    mu, logvar = torch.randn(4, 5, generator=g), torch.randn(4, 5, generator=g)
    closed = gaussian_kl_per_image(mu, logvar)  # (4,)
    ref = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0)).sum(1)
    assert torch.allclose(closed, ref, atol=1e-5)
    z = reparameterize(mu.expand(200_000, 4, 5), logvar.expand(200_000, 4, 5), _gen(4))
    q, p = Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0)
    mc = (q.log_prob(z) - p.log_prob(z)).sum(-1).mean(0)  # E_q[log q - log p], (4,)
    assert torch.allclose(mc, closed, rtol=0.01)
    zeros = torch.zeros(3, 10)
    assert torch.equal(gaussian_kl_per_image(zeros, zeros), torch.zeros(3))


def test_loss_convention_on_a_hand_computed_case():
    # two images of two pixels, latent size 1
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    logits = torch.zeros(2, 2)  # p = 0.5 everywhere: BCE = 2 log 2 per image
    mu, logvar = torch.tensor([[1.0], [0.0]]), torch.tensor([[0.0], [math.log(2.0)]])
    kl = torch.tensor([0.5, 0.5 * (2 - math.log(2.0) - 1)])  # 1/2 (mu^2 + s^2 - log s^2 - 1)
    assert torch.allclose(gaussian_kl_per_image(mu, logvar), kl)
    recon = 2 * math.log(2.0)
    for beta in (1.0, 0.5, 4.0):
        loss, parts = vae_loss(logits, x, mu, logvar, beta=beta)
        assert loss.item() == pytest.approx(recon + beta * kl.mean().item(), rel=1e-6)
        assert parts["recon"].item() == pytest.approx(recon)
        assert parts["kl"].item() == pytest.approx(kl.mean().item())
    assert mean_bce_per_image(logits, x).item() == pytest.approx(recon)  # 2 log 2, by hand


def test_gaussian_decoder_has_its_variance_as_a_parameter():
    x = torch.tensor([[0.0, 1.0, 0.5]])
    mean = torch.tensor([[0.1, 0.7, 0.5]])
    sse = 0.01 + 0.09  # by hand
    for sigma in (1.0, 0.1):
        const = 3 * (math.log(sigma) + 0.5 * math.log(2 * math.pi))
        expected = sse / (2 * sigma**2) + const
        assert mean_gaussian_nll_per_image(mean, x, sigma).item() == pytest.approx(
            expected, rel=1e-5
        )
        ref = -Normal(mean, sigma).log_prob(x).sum()
        assert gaussian_nll_per_image(mean, x, sigma).item() == pytest.approx(ref.item(), rel=1e-5)
    # "squared error times w" is the Gaussian NLL with sigma^2 = 1 / (2 w), up to a constant
    w = 1000.0
    sigma = math.sqrt(1 / (2 * w))
    diff = mean_gaussian_nll_per_image(mean, x, sigma) - w * sse_per_image(mean, x).mean()
    assert diff.item() == pytest.approx(3 * (math.log(sigma) + 0.5 * math.log(2 * math.pi)))
    logits = torch.logit(mean.clamp(1e-4, 1 - 1e-4))
    nll = reconstruction_nll_per_image(logits, x, "gaussian", sigma=0.1)
    assert nll.item() == pytest.approx(
        mean_gaussian_nll_per_image(torch.sigmoid(logits), x, 0.1).item()
    )
    with pytest.raises(ValueError, match="positive sigma"):
        mean_gaussian_nll_per_image(mean, x, 0.0)
    with pytest.raises(ValueError, match="'bernoulli' or 'gaussian'"):
        reconstruction_nll_per_image(logits, x, "laplace")


def test_wrong_input_shape_and_latent_mismatch_are_explained():
    model = VAE(784, (16,), 20)
    with pytest.raises(ValueError, match=r"or \(B, 1, 28, 28\), but received .*\(2, 1, 14, 14\)"):
        model.encode(torch.rand(2, 1, 14, 14))
    with pytest.raises(
        ValueError, match=r"expects codes of shape \(B, 20\), but received .*\(3, 10\)"
    ):
        model.decode(torch.zeros(3, 10))
    with pytest.raises(ValueError, match=r"\(B, 1, 28, 28\), but received .*\(2, 784\)"):
        ConvVAE(4, channels=(4, 8)).encode(torch.rand(2, 784))
    with pytest.raises(ValueError, match=r"\(B, 4\), but received .*\(4,\).*unsqueeze\(0\)"):
        ConvVAE(4, channels=(4, 8)).decode(torch.zeros(4))


def test_warmup_schedule_and_callback_drive_beta():
    assert [warmup_beta(s, 4) for s in range(6)] == [0, 0.25, 0.5, 0.75, 1, 1]
    assert warmup_beta(3, 0, target=2.0) == 2.0
    seen = []

    class Spy(VAEObjective):
        def __call__(self, model, batch):
            seen.append(self.beta)
            return super().__call__(model, batch)

    x = torch.rand(40, 1, 28, 28, generator=_gen())
    # one epoch of four steps, or half of the eight steps: the same schedule
    for length in ({"epochs": 1}, {"fraction": 0.5}, {"fraction": 1 / 2}):
        seen.clear()
        objective = Spy()
        torch.manual_seed(0)
        model = VAE(784, (8,), 2)
        fit(model, x, objective=objective, epochs=2, batch_size=10,
            callbacks=[KLWarmup(objective, **length)], verbose=False)  # fmt: skip
        assert seen == [0, 0.25, 0.5, 0.75, 1, 1, 1, 1]  # 8 steps, beta set before each one
    seen.clear()
    objective = Spy()
    fit(VAE(784, (8,), 2), x, objective=objective, epochs=2, batch_size=10,
        callbacks=[KLWarmup(objective, fraction=1, target=2.0)], verbose=False)  # fmt: skip
    assert seen == [0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75]  # all 8 steps, towards 2


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "exactly one of epochs= .* or fraction="),
        ({"epochs": 1, "fraction": 0.5}, "exactly one of epochs="),
        ({"epochs": -1}, "whole number of epochs >= 0"),
        ({"epochs": 1.0}, "whole number of epochs >= 0.*use fraction="),
        ({"epochs": True}, "whole number of epochs"),
        ({"fraction": 0.0}, r"share of all training steps in \(0, 1\]"),
        ({"fraction": 1.5}, r"in \(0, 1\].*use epochs="),
        ({"fraction": "0.3"}, r"in \(0, 1\]"),
    ],
)
def test_warmup_length_is_said_with_one_keyword(kwargs, match):
    with pytest.raises(ValueError, match=match):
        KLWarmup(VAEObjective(), **kwargs)


@pytest.mark.parametrize(
    ("args", "kwargs", "epochs", "fraction", "target"),
    [((3,), {}, 3, None, 1.0), ((0.3,), {}, None, 0.3, 1.0), ((), {"warmup": 2}, 2, None, 1.0),
     ((0.5, 2.0), {}, None, 0.5, 2.0)],
)  # fmt: skip
def test_warmup_old_int_or_float_forms_still_work_with_a_warning(
    args, kwargs, epochs, fraction, target
):
    new = f"epochs={epochs}" if epochs is not None else f"fraction={fraction}"
    with pytest.warns(DeprecationWarning, match=re.escape(f"; use KLWarmup(objective, {new})")):
        warm = KLWarmup(VAEObjective(), *args, **kwargs)
    assert (warm.epochs, warm.fraction, warm.target) == (epochs, fraction, target)


@pytest.mark.parametrize("bad", [-1, 1.5])
def test_warmup_old_forms_keep_their_checks(bad):
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match="epochs|fraction"):
        KLWarmup(VAEObjective(), bad)
    with pytest.raises(ValueError, match="number of epochs .* or a fraction .* received '3'"):
        KLWarmup(VAEObjective(), "3")
    with pytest.raises(ValueError, match="epochs= or fraction= alone"):
        KLWarmup(VAEObjective(), 3, epochs=3)


def test_negative_elbo_and_latent_diagnostics():
    torch.manual_seed(0)
    model = VAE(784, (16,), 3)
    x = torch.rand(30, 1, 28, 28, generator=_gen())
    a = negative_elbo(model, x, batch_size=7, generator=_gen(5))
    assert negative_elbo(model, x, batch_size=7, generator=_gen(5)) == a  # seeded: repeatable
    # its value against log p(x) by quadrature: tests/test_elbo_exact.py
    kl = kl_per_dimension(model, x)
    assert kl.shape == (3,) and kl.sum().item() == pytest.approx(a["kl"], rel=1e-5)
    # active_units and kl_per_dimension on a collapsed dimension: tests/test_posterior_collapse.py


def test_a_short_training_run_lowers_the_loss():
    torch.manual_seed(0)
    x = (torch.rand(256, 1, 28, 28, generator=_gen()) > 0.7).float()
    model = VAE(784, (32,), 4)
    hist = fit(model, x, objective=VAEObjective(), epochs=5, batch_size=64, lr=3e-3, verbose=False)
    assert hist["train_loss"][-1] < hist["train_loss"][0]
    assert {"train_recon", "train_kl"} <= set(hist.rows[-1])


def test_warmup_says_where_it_ends_from_fit_s_own_step_count():
    """40 images in batches of 10: 4 steps per epoch. Half of 3 epochs ends at step 6, epoch 2."""
    x = torch.rand(40, 1, 28, 28, generator=_gen())
    cases = [({"fraction": 0.5}, 6, 2), ({"epochs": 1}, 4, 1), ({"fraction": 0.75}, 9, 3),
             ({"epochs": 0}, 0, 0)]  # fmt: skip
    for length, end_step, end_epoch in cases:
        objective = VAEObjective(beta=0.0)
        warm = KLWarmup(objective, **length)
        assert warm.end_step is None  # known only once training runs
        fit(VAE(784, (8,), 2), x, objective=objective, epochs=3, batch_size=10,
            callbacks=[warm], verbose=False)  # fmt: skip
        assert (warm.end_step, warm.end_epoch) == (end_step, end_epoch), length


def test_elbo_terms_log_records_step_zero_every_n_steps_and_the_last():
    from course_utils.elbo import ElboTermsLog

    x = (torch.rand(40, 1, 28, 28, generator=_gen()) > 0.5).float()
    probe = x[:8]
    objective = VAEObjective(beta=0.0)
    torch.manual_seed(0)
    model = VAE(784, (8,), 2)
    untrained = negative_elbo(model, probe, generator=_gen(3))
    warmup = KLWarmup(objective, fraction=0.5)  # 12 steps, 4 per epoch: warm-up ends at step 6
    log = ElboTermsLog(probe, every=4, warmup=warmup, seed=3)
    fit(model, x, objective=objective, epochs=3, batch_size=10, verbose=False,
        callbacks=[warmup, log])  # fmt: skip
    assert log["step"] == [0, 4, 6, 8, 12]  # and the end of the warm-up
    assert log["epoch"] == [0, 1, 2, 2, 3]  # step 4 is the last of epoch 1
    assert log["beta"] == [0, 3 / 6, 5 / 6, 1, 1]  # used FOR step s: warmup_beta(s - 1, 6)
    first = {k: log.rows[0][k] for k in ("loss", "recon", "kl")}
    last = {k: log.rows[-1][k] for k in ("loss", "recon", "kl")}
    assert first == untrained  # measured before the first update, with the seeded draws
    assert last == negative_elbo(model, probe, generator=_gen(3))  # and after the last one
    assert last != first
    log14 = ElboTermsLog(probe, every=5)  # 5 does not divide 12: the last step is still logged
    fit(VAE(784, (8,), 2), x, objective=VAEObjective(), epochs=3, batch_size=10, verbose=False,
        callbacks=[log14])  # fmt: skip
    assert log14["step"] == [0, 5, 10, 12] and log14["beta"] == [1.0] * 4
    with pytest.raises(ValueError, match="every= as a whole number of steps >= 1.*received 0"):
        ElboTermsLog(probe, every=0)
