"""course_utils.corruption: noise functions, blur and median baselines, PSNR (lesson 04)."""

import math

import pytest
import torch

from course_utils.corruption import (
    best_blur_sigma,
    best_knob,
    corrupt,
    gaussian_blur,
    gaussian_kernel,
    gaussian_noise,
    masking_noise,
    median_filter,
    psnr,
    salt_and_pepper,
)


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


MID_GREY = torch.full((64, 1, 28, 28), 0.5)  # far from 0 and 1: clipping is rare

IMAGES = torch.rand(64, 1, 28, 28, generator=gen(123))


def test_gaussian_noise_std_matches_before_clipping_and_output_is_clipped():
    noisy = gaussian_noise(MID_GREY, 0.1, generator=gen())
    assert noisy.shape == MID_GREY.shape and noisy.dtype == MID_GREY.dtype
    assert abs((noisy - 0.5).std().item() - 0.1) < 0.003  # 50k pixels, clipping negligible
    assert abs((noisy - 0.5).mean().item()) < 0.003
    strong = gaussian_noise(IMAGES, 2.0, generator=gen())
    assert strong.min() >= 0 and strong.max() <= 1
    assert ((strong == 0) | (strong == 1)).float().mean() > 0.5  # most pixels were clipped
    assert torch.equal(gaussian_noise(IMAGES, 0.0, generator=gen()), IMAGES)


@pytest.mark.parametrize("p", [0.0, 0.1, 0.5, 0.9, 1.0])
def test_masking_drops_about_the_requested_fraction(p):
    ones = torch.ones(100, 1, 28, 28)
    dropped = (masking_noise(ones, p, generator=gen()) == 0).float().mean().item()
    assert abs(dropped - p) < 0.01
    out = masking_noise(IMAGES, p, generator=gen())
    assert ((out == 0) | (out == IMAGES)).all()  # kept pixels are NOT rescaled


@pytest.mark.parametrize("p", [0.0, 0.05, 0.3, 1.0])
def test_salt_and_pepper_sets_about_the_requested_fraction_to_0_and_1(p):
    out = salt_and_pepper(MID_GREY.repeat(2, 1, 1, 1), p, generator=gen())
    salt, pepper = (out == 1).float().mean().item(), (out == 0).float().mean().item()
    assert abs(salt + pepper - p) < 0.01
    assert abs(salt - pepper) < 0.01  # a fair coin between 0 and 1
    assert ((out == 0) | (out == 1) | (out == 0.5)).all()


@pytest.mark.parametrize("kind", ["gaussian", "masking", "salt_and_pepper"])
def test_corruptions_are_reproducible_and_leave_the_input_alone(kind):
    before = IMAGES.clone()
    a, b = corrupt(IMAGES, kind, 0.3, gen(7)), corrupt(IMAGES, kind, 0.3, gen(7))
    assert torch.equal(a, b)
    assert not torch.equal(a, corrupt(IMAGES, kind, 0.3, gen(8)))
    assert torch.equal(IMAGES, before)
    assert a.min() >= 0 and a.max() <= 1 and a.shape == IMAGES.shape
    g = gen(7)  # one generator, two calls: the state moves on, so the noise differs
    assert not torch.equal(corrupt(IMAGES, kind, 0.3, g), corrupt(IMAGES, kind, 0.3, g))


@pytest.mark.parametrize(
    ("function", "bad", "expected"),
    [
        (gaussian_noise, -0.1, r"std must be at least 0 .*got -0\.1"),
        (gaussian_noise, float("nan"), r"std must be at least 0 .*got nan"),
        (masking_noise, 1.5, r"p must be at least 0 and at most 1 .*got 1\.5"),
        (salt_and_pepper, -0.2, r"p must be at least 0 and at most 1 .*got -0\.2"),
    ],
)
def test_noise_level_out_of_range_says_expected_and_received(function, bad, expected):
    with pytest.raises(ValueError, match=expected):
        function(IMAGES, bad, generator=gen())


def test_unknown_noise_kind_lists_the_choices():
    with pytest.raises(ValueError, match="expected one of .*gaussian"):
        corrupt(IMAGES, "speckle", 0.1)


def test_blur_kernel_is_normalised_and_blur_keeps_shape_and_constants():
    for sigma in (0.5, 1.0, 2.0):
        kernel = gaussian_kernel(sigma)
        assert math.isclose(kernel.sum().item(), 1.0, rel_tol=1e-6)
        assert len(kernel) % 2 == 1 and torch.equal(kernel, kernel.flip(0))
    constant = torch.full((3, 1, 28, 28), 0.7)
    assert torch.allclose(gaussian_blur(constant, 1.5), constant, atol=1e-6)
    blurred = gaussian_blur(IMAGES, 1.0)
    assert blurred.shape == IMAGES.shape
    assert math.isclose(blurred.mean().item(), IMAGES.mean().item(), rel_tol=0.01)
    assert blurred.std() < IMAGES.std()  # smoother
    assert torch.equal(gaussian_blur(IMAGES, 0.0), IMAGES)


def test_blur_of_a_single_dot_is_the_separable_gaussian():
    dot = torch.zeros(1, 1, 15, 15)
    dot[0, 0, 7, 7] = 1.0
    k = gaussian_kernel(1.0)  # (7,)
    expected = torch.zeros(15, 15)
    expected[4:11, 4:11] = torch.outer(k, k)
    assert torch.allclose(gaussian_blur(dot, 1.0)[0, 0], expected, atol=1e-7)


def test_blur_rejects_flat_images_with_a_hint():
    with pytest.raises(ValueError, match=r"\(B, C, H, W\), got \(4, 784\)"):
        gaussian_blur(torch.rand(4, 784), 1.0)


def test_psnr_hand_computed_and_identical_images_give_inf():
    x = torch.zeros(2, 1, 2, 2)
    x_hat = x.clone()
    x_hat[0] += 0.1  # MSE 0.01 -> 20 dB
    x_hat[1, 0, 0, 0] = 0.5  # MSE 0.25 / 4 = 0.0625 -> 10 log10(16) = 12.041 dB
    assert torch.allclose(psnr(x_hat, x), torch.tensor([20.0, 12.0412]), atol=1e-3)
    assert psnr(x, x).isinf().all()
    assert math.isclose(
        psnr(x_hat, x, max_value=255.0)[0].item(), 20 + 20 * math.log10(255), rel_tol=1e-5
    )
    with pytest.raises(ValueError, match="same shape"):
        psnr(x_hat, x.flatten(1))


def test_best_blur_sigma_prefers_blur_for_noise_and_none_for_clean_images():
    smooth = gaussian_blur(IMAGES, 2.0)
    noisy = gaussian_noise(smooth, 0.3, generator=gen())
    sigma, score = best_blur_sigma(noisy, smooth)
    assert sigma > 0 and score > psnr(noisy, smooth).mean()
    assert best_blur_sigma(IMAGES, IMAGES)[0] == 0.0


def test_median_filter_matches_scipy_with_edge_padding():
    ndimage = pytest.importorskip("scipy.ndimage")  # an independent implementation
    for size in (3, 5):
        ours = median_filter(IMAGES[:4], size)
        theirs = ndimage.median_filter(IMAGES[:4].numpy(), size=(1, 1, size, size), mode="nearest")
        assert ours.shape == IMAGES[:4].shape
        assert torch.allclose(ours, torch.from_numpy(theirs))
    assert torch.equal(median_filter(IMAGES, 1), IMAGES)


def test_median_filter_deletes_salt_where_a_blur_smears_it():
    dark = torch.zeros(1, 1, 9, 9)
    dark[0, 0, 4, 4] = 1.0  # one salt dot on black
    assert median_filter(dark, 3).abs().max() == 0  # gone
    assert (gaussian_blur(dark, 1.0) > 0.01).sum() > 1  # spread over its neighbours
    edge = torch.zeros(1, 1, 9, 9)
    edge[..., 4:] = 1.0  # a straight edge survives the median unchanged
    assert torch.equal(median_filter(edge, 3), edge)


@pytest.mark.parametrize("bad", [2, 0, -3, 1.5])
def test_median_filter_rejects_even_or_non_integer_sizes(bad):
    with pytest.raises(ValueError, match=f"odd whole number >= 1.*got {bad!r}"):
        median_filter(IMAGES, bad)
    with pytest.raises(ValueError, match=r"\(B, C, H, W\), got \(4, 784\)"):
        median_filter(torch.rand(4, 784), 3)


def test_best_knob_returns_the_knob_with_the_highest_mean_psnr_and_that_psnr():
    clean = torch.full((4, 1, 8, 8), 0.5)
    noisy = clean + 0.2

    def shift(x, knob):  # knob 0.2 undoes the damage exactly, the others only in part
        return x - knob

    knob, score = best_knob(shift, (0.0, 0.1, 0.15), noisy, clean)
    assert knob == 0.15 and math.isclose(score, 10 * math.log10(1 / 0.05**2), rel_tol=1e-4)
    assert best_knob(shift, (0.1, 0.2, 0.3), noisy, clean)[1] == math.inf
