"""course_utils.losses: the per-image convention, closed forms, input errors."""

import pytest
import torch
from torch.distributions import Normal, kl_divergence

from course_utils.losses import (
    gaussian_kl_per_image,
    mean_bce_per_image,
    mean_sse_per_image,
    mse_per_pixel,
    sse_per_image,
)


def test_losses_follow_the_per_image_convention():
    x = torch.tensor([[0.0, 0.5, 1.0], [1.0, 1.0, 0.0]])
    x_hat = torch.tensor([[0.1, 0.4, 0.7], [0.8, 0.9, 0.3]])
    assert sse_per_image(x_hat, x).tolist() == pytest.approx([0.11, 0.14])
    assert mean_sse_per_image(x_hat, x).item() == pytest.approx(
        0.125
    )  # mean over images of per-image sums
    assert mse_per_pixel(x_hat, x).item() == pytest.approx(0.125 / 3)
    p = x_hat
    by_hand = -(x * p.log() + (1 - x) * (1 - p).log()).sum(1).mean()
    assert mean_bce_per_image(torch.logit(p), x).item() == pytest.approx(by_hand.item(), rel=1e-5)


def test_loss_input_errors_are_explained():
    with pytest.raises(ValueError, match=r"x_hat \(2, 3\) and x \(2, 4\)"):
        mean_sse_per_image(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match=r"targets in \[0, 1\]"):
        mean_bce_per_image(torch.zeros(1, 3), torch.tensor([[0.0, 2.0, 0.5]]))


def test_gaussian_kl_closed_form():
    mu, logvar = torch.zeros(4, 3), torch.zeros(4, 3)
    assert torch.equal(gaussian_kl_per_image(mu, logvar), torch.zeros(4))
    g = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(5, 3, generator=g), torch.randn(5, 3, generator=g)
    ref = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0)).sum(1)
    assert torch.allclose(gaussian_kl_per_image(mu, logvar), ref, atol=1e-6)
    with pytest.raises(ValueError, match=r"mu \(2, 3\) and logvar \(2, 4\)"):
        gaussian_kl_per_image(torch.zeros(2, 3), torch.zeros(2, 4))
