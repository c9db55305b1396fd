"""Losses (the course convention) and the linear autoencoder's interface."""

import pytest
import torch
from torch.distributions import Normal, kl_divergence

from course_utils.losses import bce_loss, gaussian_kl, mse_loss, mse_per_pixel, sse_per_image
from course_utils.models import DenseAutoencoder, LinearAutoencoder


def test_losses_follow_the_per_image_convention():
    x = torch.tensor([[0.0, 0.5, 1.0], [1.0, 1.0, 0.0]])
    x_hat = torch.tensor([[0.1, 0.4, 0.7], [0.8, 0.9, 0.3]])
    assert sse_per_image(x_hat, x).tolist() == pytest.approx([0.11, 0.14])
    assert mse_loss(x_hat, x).item() == pytest.approx(0.125)  # mean over images of per-image sums
    assert mse_per_pixel(x_hat, x).item() == pytest.approx(0.125 / 3)
    p = x_hat
    by_hand = -(x * p.log() + (1 - x) * (1 - p).log()).sum(1).mean()
    assert bce_loss(torch.logit(p), x).item() == pytest.approx(by_hand.item(), rel=1e-5)


def test_loss_input_errors_are_explained():
    with pytest.raises(ValueError, match=r"shape \(2, 3\) but the target has shape \(2, 4\)"):
        mse_loss(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match=r"targets in \[0, 1\]"):
        bce_loss(torch.zeros(1, 3), torch.tensor([[0.0, 2.0, 0.5]]))


def test_gaussian_kl_closed_form():
    mu, logvar = torch.zeros(4, 3), torch.zeros(4, 3)
    assert torch.equal(gaussian_kl(mu, logvar), torch.zeros(4))
    g = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(5, 3, generator=g), torch.randn(5, 3, generator=g)
    ref = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0)).sum(1)
    assert torch.allclose(gaussian_kl(mu, logvar), ref, atol=1e-6)
    with pytest.raises(ValueError, match="mu has shape"):
        gaussian_kl(torch.zeros(2, 3), torch.zeros(2, 4))


def test_linear_autoencoder_shapes_and_parameters():
    model = LinearAutoencoder(784, 10)
    x = torch.rand(3, 1, 28, 28)
    assert model.encode(x).shape == (3, 10)
    assert model(x).shape == x.shape and model(x.flatten(1)).shape == (3, 784)
    assert sum(p.numel() for p in model.parameters()) == 784 * 10 + 10 + 10 * 784 + 784


def test_linear_autoencoder_wrong_input_is_explained():
    model = LinearAutoencoder(784, 10)
    with pytest.raises(ValueError, match=r"784 values each.*got shape \(1, 32, 32\)"):
        model(torch.rand(1, 32, 32))
    with pytest.raises(ValueError, match=r"x.unsqueeze\(0\)"):
        model(torch.rand(784))


def test_dense_autoencoder_is_symmetric_and_checks_codes():
    model = DenseAutoencoder(784, hidden=(128,), n_latent=32)
    x = torch.rand(3, 1, 28, 28)
    assert model.encode(x).shape == (3, 32) and model(x).shape == x.shape
    assert 0 <= model(x).min() and model(x).max() <= 1  # sigmoid output
    sizes = [m.out_features for m in model.modules() if isinstance(m, torch.nn.Linear)]
    assert sizes == [128, 32, 128, 784]
    n_params = (784 * 128 + 128) + (128 * 32 + 32) + (32 * 128 + 128) + (128 * 784 + 784)
    assert sum(p.numel() for p in model.parameters()) == n_params
    logits_model = DenseAutoencoder(784, n_latent=8, sigmoid_output=False)
    assert logits_model.decode(torch.randn(2, 8)).shape == (2, 784)
    with pytest.raises(ValueError, match=r"codes of shape \(B, 32\), got \(3, 10\)"):
        model.decode(torch.zeros(3, 10))
