"""``importance_sampled_nll`` and ``negative_elbo`` against log p(x) computed EXACTLY.

With a 1-D latent, p(x) = integral of p(x|z) N(z; 0, 1) dz is a one-dimensional integral: a fine
float64 grid over z gives it to far better than 0.01 nats. The decoder is tiny (1 -> 8 -> 12
pixels, weights scaled up so that x says a lot about z) and nothing is trained: the test needs a
known model, not a good one. The encoder is set so that q(z|x) = N(mu(x), 1.2^2), wider than the
prior: importance weights stay bounded, so k = 5000 samples are plenty, and the ELBO's gap is
large enough (about half a nat) to be seen.

Mutants these tests catch (each seen failing): ``importance_sampled_nll`` without its
``- log k`` (off by log 5000 = 8.5 nats, and it grows with k), without ``log q(z|x)`` in the
weights (off by up to 1.5 nats), ``negative_elbo`` without its KL term (0.07 nats below its
quadrature).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from course_utils.elbo import importance_sampled_nll, negative_elbo
from course_utils.vae import VAE

N_PIXELS, Q_STD = 12, 1.2
GRID = torch.linspace(-10.0, 10.0, 20_001, dtype=torch.float64)  # step 1e-3; N(0,1) ~ e^-50 at 10


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _model_and_images(n_images: int = 8) -> tuple[VAE, torch.Tensor]:
    """A float64 VAE with one latent dimension, and binary images drawn from its own decoder."""
    torch.manual_seed(0)
    model = VAE(N_PIXELS, hidden=(8,), n_latent=1).double()
    with torch.no_grad():
        model.decoder[-1].weight.mul_(3.0)  # an informative likelihood: a narrow posterior
        model.to_mu.weight.mul_(0.5)
        model.to_logvar.weight.zero_()
        model.to_logvar.bias.fill_(2 * math.log(Q_STD))  # q(z|x) = N(mu(x), 1.2^2)
        z = torch.randn(n_images, 1, generator=_gen(1), dtype=torch.float64)
        probs = torch.sigmoid(model.decoder(z))  # (N, 12)
    return model, torch.bernoulli(probs, generator=_gen(2))


def _log_likelihood_on_grid(model: VAE, x: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """log p(x_n | z_g) for every image n and grid point g, Bernoulli written out: (N, G)."""
    with torch.no_grad():
        logits = model.decoder(grid[:, None])  # (G, 12)
    x = x[:, None, :]  # (N, 1, 12)
    return (x * F.logsigmoid(logits) + (1 - x) * F.logsigmoid(-logits)).sum(-1)


def _log_normal(z: torch.Tensor, mean: torch.Tensor | float, std: torch.Tensor | float):
    return (
        -0.5 * ((z - mean) / std) ** 2
        - torch.log(torch.as_tensor(std))
        - 0.5 * math.log(2 * math.pi)
    )


def exact_nll(model: VAE, x: torch.Tensor, grid: torch.Tensor = GRID) -> torch.Tensor:
    """-log p(x) per image by quadrature (rectangle rule on the fine grid): (N,)."""
    log_joint = _log_likelihood_on_grid(model, x, grid) + _log_normal(grid, 0.0, 1.0)  # (N, G)
    step = float(grid[1] - grid[0])
    return -(torch.logsumexp(log_joint, dim=1) + math.log(step))


def exact_elbo_terms(model: VAE, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """E_q[-log p(x|z)] and E_q[log q(z|x) - log p(z)] per image by quadrature: (N,), (N,)."""
    with torch.no_grad():
        mu, logvar = model.encode(x)  # (N, 1) each
    log_q = _log_normal(GRID, mu, torch.exp(0.5 * logvar))  # (N, G)
    q_step = log_q.exp() * float(GRID[1] - GRID[0])  # q(z_g|x_n) dz
    recon = -(q_step * _log_likelihood_on_grid(model, x, GRID)).sum(dim=1)
    kl = (q_step * (log_q - _log_normal(GRID, 0.0, 1.0))).sum(dim=1)
    return recon, kl


def test_the_quadrature_itself_is_converged():
    """Half as many grid points give the same numbers: the reference is not the weak link."""
    model, x = _model_and_images()
    fine, coarse = exact_nll(model, x), exact_nll(model, x, GRID[::2])
    assert torch.allclose(fine, coarse, atol=1e-6)
    assert fine.min() > 0  # binary images: p(x) < 1


def test_importance_sampled_nll_with_5000_samples_matches_the_exact_value():
    model, x = _model_and_images()
    exact = exact_nll(model, x)  # (8,)
    estimate = importance_sampled_nll(model, x, k=5000, generator=_gen(3))
    assert estimate.dtype == torch.float64 and estimate.shape == exact.shape
    worst = (estimate - exact).abs().max().item()
    assert worst < 0.05, f"exact {exact.tolist()}\nestimate {estimate.tolist()}"


def test_importance_sampled_nll_does_not_increase_with_k_on_average():
    """E[estimate] falls towards -log p(x) as k grows (Burda et al. 2016), mean over 20 seeds."""
    model, x = _model_and_images()
    exact = exact_nll(model, x).mean().item()
    means = []
    for k in (1, 10, 100):
        runs = [importance_sampled_nll(model, x, k=k, generator=_gen(s)).mean() for s in range(20)]
        means.append(torch.stack(runs).mean().item())
    assert means[0] >= means[1] >= means[2] - 0.01, means
    assert means[0] - exact > 0.3, (means, exact)  # one sample: the ELBO's gap is visible
    assert means[2] >= exact - 0.02, (means, exact)  # above -log p(x), up to noise


def test_negative_elbo_is_an_upper_bound_and_matches_its_quadrature():
    model, x = _model_and_images()
    many = x.repeat(4000, 1)  # 32,000 one-sample estimates: Monte Carlo noise ~0.01 nats
    result = negative_elbo(model, many, generator=_gen(4))
    recon, kl = (t.mean().item() for t in exact_elbo_terms(model, x))
    exact = exact_nll(model, x).mean().item()
    assert recon + kl > exact + 0.3  # q is not the posterior: a gap of about half a nat
    assert result["loss"] >= exact, (result, exact)
    assert abs(result["loss"] - (recon + kl)) < 0.04, (result, recon, kl)
    assert abs(result["recon"] - recon) < 0.04, (result, recon)
    assert abs(result["kl"] - kl) < 1e-6, (result, kl)  # closed form, no sampling noise


def _exact_nelbo_of_gaussian(model: VAE, x_n: torch.Tensor, mean: float, log_std: float) -> float:
    """-ELBO of ONE image under q = N(mean, exp(log_std)^2), by quadrature (nats)."""
    grid = GRID[::10]  # step 0.01: fine for the standard deviations >= 0.05 searched below
    log_q = _log_normal(grid, mean, math.exp(log_std))  # (G,)
    q_step = log_q.exp() * float(grid[1] - grid[0])
    log_lik = _log_likelihood_on_grid(model, x_n[None], grid)[0]  # (G,)
    return float((q_step * (log_q - _log_normal(grid, 0.0, 1.0) - log_lik)).sum())


def test_optimized_gaussian_matches_the_best_gaussian_found_by_quadrature():
    """Each image's best N(m, s^2), searched with scipy on the exact -ELBO, against the tuner.

    The encoder's q has a deliberately wrong width (1.2): its -ELBO is well above the best
    Gaussian's, which is itself above -log p(x) (1-D: no diagonal Gaussian is the posterior).
    Mutants caught: the tuned objective without its KL, a sign flip, weights left trainable
    (gradients pile up in them).
    """
    from scipy.optimize import minimize

    from course_utils.elbo import optimized_gaussian_nelbo

    model, x = _model_and_images(n_images=6)
    before = [p.detach().clone() for p in model.parameters()]
    encoder, tuned = optimized_gaussian_nelbo(
        model, x, steps=400, n_samples=32, lr=0.05, n_eval=20_000, generator=_gen(5)
    )
    assert encoder.shape == tuned.shape == (6,)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    assert all(p.requires_grad for p in model.parameters())  # unfrozen again after the call
    assert all(p.grad is None for p in model.parameters())  # and no gradient left in the weights

    recon, kl = exact_elbo_terms(model, x)
    exact_encoder = recon + kl  # (6,)
    best = []
    for n in range(len(x)):
        with torch.no_grad():
            start = [float(model.encode(x[n : n + 1])[0]), math.log(0.5)]
        found = minimize(lambda v, n=n: _exact_nelbo_of_gaussian(model, x[n], *v), start,
                         method="Nelder-Mead", options={"xatol": 1e-4, "fatol": 1e-6})  # fmt: skip
        best.append(found.fun)
    best = torch.tensor(best, dtype=torch.float64)
    nll = exact_nll(model, x)
    assert torch.allclose(encoder, exact_encoder, atol=0.05), (encoder, exact_encoder)
    assert torch.allclose(tuned, best, atol=0.05), (tuned, best)
    assert (exact_encoder - best > 0.05).all()  # the encoder's width is wrong: a real gap
    assert (exact_encoder - best).mean() > 0.3
    assert (best >= nll - 1e-9).all()  # a Gaussian's -ELBO never goes below -log p(x)


def test_importance_sampled_nll_with_a_tuned_proposal_matches_the_exact_value():
    """Each image's tuned Gaussian as the proposal: still an estimate of the SAME -log p(x).

    With few samples it is closer to the exact value than the encoder's proposal (the tuned
    Gaussian is nearer the posterior than the too-wide q). Mutants caught: log q of the ENCODER
    left in the weights while sampling from the tuned Gaussian (off by up to a nat), the
    proposal ignored (no gain at small k).
    """
    from course_utils.elbo import tuned_gaussians

    model, x = _model_and_images()
    exact = exact_nll(model, x)  # (8,)
    before = [p.detach().clone() for p in model.parameters()]
    mu, logvar = tuned_gaussians(model, x, steps=400, n_samples=32, lr=0.05, generator=_gen(7))
    assert mu.shape == logvar.shape == (8, 1) and not mu.requires_grad
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    many = importance_sampled_nll(model, x, k=5000, generator=_gen(8), proposal=(mu, logvar))
    assert (many - exact).abs().max().item() < 0.05, (many, exact)
    few_tuned = [importance_sampled_nll(model, x, k=5, generator=_gen(s), proposal=(mu, logvar))
                 for s in range(20)]  # fmt: skip
    few_encoder = [importance_sampled_nll(model, x, k=5, generator=_gen(s)) for s in range(20)]
    err_tuned = (torch.stack(few_tuned).mean(0) - exact).mean().item()
    err_encoder = (torch.stack(few_encoder).mean(0) - exact).mean().item()
    assert -0.02 < err_tuned < err_encoder, (err_tuned, err_encoder)


def test_importance_sampled_nll_with_the_encoders_own_gaussians_is_the_default():
    model, x = _model_and_images()
    with torch.no_grad():
        own = model.encode(x)
    default = importance_sampled_nll(model, x, k=50, generator=_gen(9))
    given = importance_sampled_nll(model, x, k=50, generator=_gen(9), proposal=own)
    assert torch.allclose(default, given)


def test_importance_sampled_nll_refuses_a_proposal_of_the_wrong_shape():
    import pytest

    model, x = _model_and_images()
    with pytest.raises(ValueError, match="one row per image"):
        importance_sampled_nll(model, x, k=5, proposal=(torch.zeros(3, 1), torch.zeros(3, 1)))


def test_optimized_gaussian_nelbo_accepts_gaussians_tuned_beforehand():
    """tuned= evaluates given Gaussians: the same numbers as tuning inside, same generator."""
    from course_utils.elbo import optimized_gaussian_nelbo, tuned_gaussians

    model, x = _model_and_images(n_images=4)
    inside = optimized_gaussian_nelbo(model, x, steps=30, generator=_gen(10))
    g = _gen(10)
    tuned = tuned_gaussians(model, x, steps=30, generator=g)
    outside = optimized_gaussian_nelbo(model, x, tuned=tuned, generator=g)
    assert all(torch.allclose(a, b) for a, b in zip(inside, outside, strict=True))
