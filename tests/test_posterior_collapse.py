"""Posterior collapse, made by hand: ``kl_per_dimension`` and ``active_units`` must see it.

Zeroing the weights AND biases of one output of the mu and logvar heads makes mu_j(x) = 0 and
logvar_j(x) = 0 for every image: q(z_j|x) = N(0, 1), the prior. That dimension carries nothing
about x, so its KL is 0 and it is not an active unit; every other dimension is untouched.

The model is not trained: each row of the mu head is rescaled so that Var_x(mu_j(x)) has a
chosen value, all well above the 0.01 threshold of Burda et al. (2016), so every unit is active
before the collapse, and the threshold itself can be probed just below and above it.

Mutants these tests catch (each seen failing): ``kl_per_dimension`` without the ``- 1``, with
``logvar`` in place of ``exp(logvar)``, or averaged over dimensions instead of images;
``active_units`` on the standard deviation instead of the variance, on logvar instead of mu, or
over dimensions instead of images.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.distributions import Normal, kl_divergence

from course_utils.elbo import active_units, kl_per_dimension
from course_utils.vae import VAE

N_LATENT, COLLAPSED = 5, 2
TARGET_VARIANCES = (1.0, 0.3, 0.5, 0.05, 2.0)  # Var_x(mu_j(x)) per dimension, all > 0.01


def _images(n: int = 300) -> torch.Tensor:
    g = torch.Generator().manual_seed(1)
    brightness = torch.rand(n, 1, 1, 1, generator=g)  # images that differ from each other
    return brightness * torch.rand(n, 1, 28, 28, generator=g)


def _mu_and_logvar(model: VAE, x: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """The encoder's outputs straight from the model, float64 NumPy: (N, L) each."""
    with torch.no_grad():
        mu, logvar = model.encode(x)
    return mu.double().numpy(), logvar.double().numpy()


def _model_with_variances(x: torch.Tensor, variances=TARGET_VARIANCES) -> VAE:
    """A VAE whose mu head is rescaled row by row so that Var_x(mu_j(x)) = variances[j]."""
    torch.manual_seed(0)
    model = VAE(784, (32,), N_LATENT)
    now = _mu_and_logvar(model, x)[0].var(axis=0, ddof=1)  # (L,)
    with torch.no_grad():
        scale = torch.tensor(np.sqrt(np.asarray(variances) / now), dtype=torch.float32)
        model.to_mu.weight.mul_(scale[:, None])  # Var(c * w.h + b) = c^2 Var(w.h)
    return model


def _collapse(model: VAE, j: int) -> None:
    """q(z_j|x) = N(0, 1) for every x: row j of both heads, weights and bias, set to zero."""
    with torch.no_grad():
        for head in (model.to_mu, model.to_logvar):
            head.weight[j].zero_()
            head.bias[j].zero_()


def _kl_by_torch(model: VAE, x: torch.Tensor) -> np.ndarray:
    """KL(q(z_j|x) || N(0, 1)) averaged over the images, by torch.distributions: (L,)."""
    mu, logvar = (torch.from_numpy(a) for a in _mu_and_logvar(model, x))
    kl = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0))  # (N, L)
    return kl.mean(dim=0).numpy()


def test_every_unit_is_active_before_the_collapse():
    x = _images()
    model = _model_with_variances(x)
    count, variances = active_units(model, x)
    np.testing.assert_allclose(variances.numpy(), TARGET_VARIANCES, rtol=1e-3)
    assert count == N_LATENT
    np.testing.assert_allclose(kl_per_dimension(model, x).numpy(), _kl_by_torch(model, x),
                               rtol=1e-4, atol=1e-7)  # fmt: skip
    assert (kl_per_dimension(model, x) > 1e-3).all()  # no dimension is at the prior yet


def test_a_collapsed_dimension_has_zero_kl_and_is_not_active():
    x = _images()
    model = _model_with_variances(x)
    _collapse(model, COLLAPSED)
    mu, logvar = _mu_and_logvar(model, x)
    assert not mu[:, COLLAPSED].any() and not logvar[:, COLLAPSED].any()  # q(z_j|x) = N(0, 1)

    kl = kl_per_dimension(model, x)
    assert kl.shape == (N_LATENT,)
    assert kl[COLLAPSED] < 1e-6, kl
    others = [j for j in range(N_LATENT) if j != COLLAPSED]
    np.testing.assert_allclose(kl.numpy(), _kl_by_torch(model, x), rtol=1e-4, atol=1e-7)
    assert (kl[others] > 1e-3).all()  # the others are untouched

    count, variances = active_units(model, x)
    assert count == N_LATENT - 1
    np.testing.assert_allclose(variances.numpy(), mu.var(axis=0, ddof=1), rtol=1e-4, atol=1e-9)
    assert (variances > 0.01).nonzero().flatten().tolist() == others  # exactly that one dropped


@pytest.mark.parametrize(("variance", "active"), [(0.005, False), (0.02, True)])
def test_the_threshold_is_on_the_variance_of_mu(variance, active):
    """Var 0.005 (std 0.07) is below Burda et al.'s 0.01, var 0.02 above: the variance counts."""
    x = _images()
    model = _model_with_variances(x, (1.0, 1.0, variance, 1.0, 1.0))
    count, _ = active_units(model, x)
    assert count == N_LATENT - 1 + active
