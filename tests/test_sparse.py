"""Lesson 05: sparsity penalties, the contractive penalty vs autograd, unit analysis, figures."""

import math

import pytest
import torch

from course_utils.plots import NotebookFigure
from course_utils.sparse import (
    SparseAutoencoder,
    SparseObjective,
    activations_figure,
    bernoulli_kl,
    codes_of,
    contractive_penalty_per_image,
    decoder_images,
    firing_fraction,
    jacobian_frobenius_autograd,
    kl_sparsity_penalty_per_batch,
    mean_l1_penalty_per_image,
    sparsity_costs_figure,
    top_activating,
    unit_figure,
    unit_view,
)
from course_utils.train import fit


def _model(n_code: int = 40, seed: int = 0) -> SparseAutoencoder:
    torch.manual_seed(seed)
    return SparseAutoencoder(784, n_code)


IMAGES = torch.rand(30, 1, 28, 28, generator=torch.Generator().manual_seed(1))


# ------------------------------------------------------------------------------ the model
def test_sparse_autoencoder_shapes_and_ranges():
    model = _model()
    h = model.encode(IMAGES)
    assert h.shape == (30, 40) and h.min() > 0 and h.max() < 1
    assert model(IMAGES).shape == IMAGES.shape
    assert model(IMAGES.flatten(1)).shape == (30, 784)


def test_wrong_image_shape_says_expected_and_received():
    with pytest.raises(ValueError, match=r"or \(B, 1, 28, 28\), but received .*\(2, 1, 14, 14\)"):
        _model().encode(torch.rand(2, 1, 14, 14))


# ---------------------------------------------------------------------------- penalties
def test_bernoulli_kl_zero_exactly_at_target_positive_elsewhere():
    p = 0.05
    assert bernoulli_kl(p, torch.tensor(p)).item() == 0.0
    q = torch.tensor([0.001, 0.01, 0.04, 0.06, 0.2, 0.5, 0.99])
    assert (bernoulli_kl(p, q) > 0).all()


def test_bernoulli_kl_matches_a_hand_computed_value():
    # KL(0.1 || 0.2) = 0.1 ln(0.1/0.2) + 0.9 ln(0.9/0.8) = -0.0693147 + 0.1060047 = 0.0366900
    assert math.isclose(bernoulli_kl(0.1, torch.tensor(0.2)).item(), 0.0366900, rel_tol=1e-5)
    # the curvature at q = p is 1 / (p (1 - p)): KL ~ (q - p)^2 / (2 p (1 - p)) nearby
    p, d = 0.05, 1e-3
    approx = d**2 / (2 * p * (1 - p))
    assert math.isclose(bernoulli_kl(p, torch.tensor(p + d, dtype=torch.float64)).item(), approx,
                        rel_tol=0.02)  # fmt: skip


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.1, 1.5])
def test_sparsity_target_out_of_range_says_expected_and_received(bad):
    with pytest.raises(ValueError, match=rf"strictly between 0 and 1.*got {bad}"):
        bernoulli_kl(bad, torch.tensor(0.3))
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        SparseObjective("kl", 1.0, target=bad)


def test_kl_sparsity_penalty_uses_each_units_batch_mean():
    h = torch.tensor([[0.0, 0.2], [0.1, 0.2]])  # unit means: 0.05 and 0.2
    expected = 0.05 * math.log(0.05 / 0.2) + 0.95 * math.log(0.95 / 0.8)  # unit 0 is on target
    assert math.isclose(kl_sparsity_penalty_per_batch(h, 0.05).item(), expected, rel_tol=1e-6)


def test_kl_sparsity_penalty_is_per_batch_and_larger_on_small_batches():
    # the docstring's claim: KL is convex in q, so four batches of 64 average at least the
    # penalty of their union (Jensen), and the plug-in estimate is biased upwards when small
    h = torch.rand(256, 30, generator=torch.Generator().manual_seed(0), dtype=torch.float64) ** 4
    whole = kl_sparsity_penalty_per_batch(h, 0.05).item()
    quarters = [kl_sparsity_penalty_per_batch(part, 0.05).item() for part in h.split(64)]
    assert sum(quarters) / 4 > whole
    rates = h.mean(dim=0)  # the units' firing rates over all 256 images, by hand:
    by_hand = (0.05 * (0.05 / rates).log() + 0.95 * (0.95 / (1 - rates)).log()).sum().item()
    assert math.isclose(whole, by_hand, rel_tol=1e-9)


def test_l1_penalty_sums_units_and_averages_images():
    h = torch.tensor([[0.1, 0.2, 0.3], [0.0, 0.0, 0.4]])
    assert math.isclose(mean_l1_penalty_per_image(h).item(), (0.6 + 0.4) / 2, rel_tol=1e-6)


def test_contractive_penalty_matches_autograd():
    torch.manual_seed(0)
    model = SparseAutoencoder(n_inputs=6, n_code=4).double()
    x = torch.rand(5, 6, dtype=torch.float64)
    closed = contractive_penalty_per_image(model.encode(x), model.encoder.weight)
    reference = jacobian_frobenius_autograd(model.encode, x)
    assert closed.shape == (5,)
    assert torch.allclose(closed, reference, rtol=1e-10)


# ------------------------------------------------------------------------------ training
@pytest.mark.parametrize("penalty", [None, "l1", "kl", "contractive"])
def test_sparse_loss_logs_its_parts(penalty):
    model = _model()
    loss, stats = SparseObjective(penalty, 0.5, target=0.05)(model, (IMAGES,))
    assert set(stats) == {"recon", "penalty", "mean_activation"}
    x = IMAGES.flatten(1)  # (30, 784); the model written out by hand:
    with torch.no_grad():
        h = torch.sigmoid(x @ model.encoder.weight.T + model.encoder.bias)  # (30, 40)
        x_hat = torch.sigmoid(h @ model.decoder.weight.T + model.decoder.bias)  # (30, 784)
    recon = (x_hat - x).pow(2).sum(dim=1).mean()  # per image, then over the batch
    q = h.mean(dim=0)  # each unit's firing rate over the batch
    by_hand = {
        None: torch.tensor(0.0),
        "l1": h.sum(dim=1).mean(),  # h > 0: |h| = h
        "kl": (0.05 * torch.log(0.05 / q) + 0.95 * torch.log(0.95 / (1 - q))).sum(),
        "contractive": jacobian_frobenius_autograd(model.encode, x).mean(),
    }[penalty]
    assert stats["recon"].item() == pytest.approx(recon.item(), rel=1e-5)
    assert stats["penalty"].item() == pytest.approx(by_hand.item(), rel=1e-4, abs=1e-7)
    assert loss.item() == pytest.approx(recon.item() + 0.5 * by_hand.item(), rel=1e-5)
    assert stats["mean_activation"].item() == pytest.approx(h.mean().item(), rel=1e-5)


def test_unknown_penalty_lists_the_choices():
    with pytest.raises(ValueError, match="'l1', 'kl' or 'contractive', but received 'l2'"):
        SparseObjective("l2")


def test_kl_penalty_drives_the_mean_activation_to_the_target():
    model = _model(n_code=50)
    x = IMAGES.round()
    history = fit(model, x, objective=SparseObjective("kl", 100.0, target=0.1), epochs=60,
                  batch_size=30, lr=1e-2, verbose=False)  # fmt: skip
    assert history["train_mean_activation"][0] > 0.3
    assert abs(codes_of(model, x).mean().item() - 0.1) < 0.02


# ------------------------------------------------------------------------- unit analysis
def test_codes_top_activating_and_decoder_images():
    model = _model()
    codes = codes_of(model, IMAGES, batch_size=7)
    assert torch.allclose(codes, model.encode(IMAGES).detach())
    top = top_activating(codes, 3, k=5)
    assert top.tolist() == codes[:, 3].argsort(descending=True)[:5].tolist()
    with pytest.raises(ValueError, match=r"unit must be in \[0, 39\], got 40"):
        top_activating(codes, 40)
    imgs = decoder_images(model, [0, 5])
    assert imgs.shape == (2, 28, 28) and imgs.min() >= 0 and imgs.max() <= 1
    assert math.isclose((imgs - 0.5).abs().amax().item(), 0.5, rel_tol=1e-6)  # scaled per unit
    assert math.isclose(firing_fraction(torch.tensor([[0.0, 0.5], [0.2, 0.05]])), 0.5)


def test_figures():
    fig = sparsity_costs_figure(0.05)
    assert isinstance(fig, NotebookFigure) and len(fig.axes) == 2
    labels = [ln.get_label() for ln in fig.axes[0].lines][:3]
    assert labels == [
        r"KL$(p\,\|\,q)$",
        r"$|q - p|$ (L1 distance)",
        r"$(q - p)^2$ (squared distance)",
    ]
    kl_line = fig.axes[1].lines[0]
    q, cost = kl_line.get_xdata(), kl_line.get_ydata()
    assert abs(q[cost.argmin()] - 0.05) < 0.001  # the KL curve bottoms out at the target
    model = _model()
    codes = codes_of(model, IMAGES)
    fig = activations_figure({"none": codes, "half": codes / 2}, target=0.05)
    assert len(fig.axes) == 2 and "mean" in fig.axes[1].get_legend_handles_labels()[1][0]


def test_unit_figure_and_view_driven_like_a_student():
    model = _model()
    codes = codes_of(model, IMAGES)
    fig = unit_figure(model, codes, IMAGES, unit=2, k=4)
    assert len([ax for ax in fig.axes if ax.images]) == 5  # feature + 4 images
    assert fig.axes[0].get_title().startswith("unit 2")
    top = top_activating(codes, 2, 4)
    assert (fig.axes[1].images[0].get_array() == IMAGES[top[0], 0].numpy()).all()
    view = unit_view(model, codes, IMAGES, unit=0, k=4)
    assert view.figure.axes[0].get_title().startswith("unit 0")
    view.controls["unit"].value = 7
    assert view.figure.axes[0].get_title().startswith("unit 7")
    assert view.controls["unit"].max == 39 and view.controls["unit"].continuous_update is False
