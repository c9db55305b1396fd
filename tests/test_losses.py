"""course_utils.losses: the per-image convention, closed forms, input errors."""

import math

import pytest
import torch
from torch.distributions import Normal, kl_divergence

from course_utils.losses import (
    bce_floor_per_image,
    bce_per_image,
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


def test_bce_floor_is_the_bce_of_the_perfect_prediction_and_zero_on_binary_pixels():
    """The floor is reached at p = x, i.e. logits = logit(x); binary targets can be hit exactly.

    Mutants caught (each seen failing): the (1 - x) term dropped, the sign flipped, a mean over
    pixels instead of a sum, an eps of 1e-3 inside the logs.
    """
    g = torch.Generator().manual_seed(0)
    x = 0.01 + 0.98 * torch.rand(4, 1, 28, 28, generator=g, dtype=torch.float64)  # in (0, 1)
    floor = bce_floor_per_image(x)
    assert floor.shape == (4,) and floor.dtype == torch.float64
    torch.testing.assert_close(floor, bce_per_image(torch.logit(x), x), rtol=1e-10, atol=1e-9)
    pixels = torch.tensor([[0.5, 0.25]], dtype=torch.float64)  # log 2 + H(1/4), by hand
    by_hand = math.log(2) - 0.25 * math.log(0.25) - 0.75 * math.log(0.75)
    assert bce_floor_per_image(pixels).item() == pytest.approx(by_hand, rel=1e-9)
    binary = torch.bernoulli(torch.full((4, 1, 28, 28), 0.3, dtype=torch.float64), generator=g)
    assert set(binary.unique().tolist()) == {0.0, 1.0}
    torch.testing.assert_close(bce_floor_per_image(binary), torch.zeros(4, dtype=torch.float64),
                               rtol=0, atol=1e-9)  # fmt: skip
