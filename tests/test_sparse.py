"""Lesson 05: sparsity penalties, the contractive penalty vs autograd, unit analysis, figures."""

import math

import pytest
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgba
from matplotlib.text import Text

from course_utils.plots import NotebookFigure
from course_utils.sparse import (
    AnnealK,
    SparseAutoencoder,
    SparseObjective,
    TopKSparseAutoencoder,
    activations_figure,
    bernoulli_kl,
    codes_of,
    contractive_penalty_per_image,
    dead_unit_share,
    decoder_images,
    features_figure,
    firing_fraction,
    jacobian_frobenius_autograd,
    kl_sparsity_penalty_per_batch,
    mean_l1_penalty_per_image,
    sparsity_costs_figure,
    top_activating,
    top_image_purity,
    top_k_relu,
    tradeoff_figure,
    unit_figure,
    unit_view,
    units_near_median,
)
from course_utils.train import Callback, fit


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
    rates = h.mean(dim=0)  # the units' mean activations over all 256 images, by hand:
    by_hand = (0.05 * (0.05 / rates).log() + 0.95 * (0.95 / (1 - rates)).log()).sum().item()
    assert math.isclose(whole, by_hand, rel_tol=1e-9)


def test_kl_push_on_a_uniform_batch_is_p_minus_q_and_zero_below_the_clamp():
    # lesson 05, section 2: d KL(p || q_hat) / d a_bj summed over the batch is
    # (-p/q + (1-p)/(1-q)) * q(1-q) = q - p when all images share the pre-activation a
    for a0 in (-1.0, -4.0, -9.0):
        a = torch.full((64, 1), a0, dtype=torch.float64, requires_grad=True)
        kl_sparsity_penalty_per_batch(torch.sigmoid(a), 0.05).backward()
        q = 1 / (1 + math.exp(-a0))
        assert math.isclose(a.grad.sum().item(), q - 0.05, rel_tol=1e-9, abs_tol=1e-12)
    # q = sigmoid(-16) = 1.1e-7, below the clamp
    a = torch.full((64, 1), -16.0, dtype=torch.float64, requires_grad=True)
    kl_sparsity_penalty_per_batch(torch.sigmoid(a), 0.05).backward()
    assert a.grad.abs().max().item() == 0.0


def test_kl_bias_of_on_off_coins_matches_the_binomial_sum():
    # lesson 05, section 2: for units that are 1 with probability p, else 0, a batch of B holds
    # n "on" images with binomial probability, and E[penalty] = K sum_n P(n) KL(p || n / B).
    # Checked against a Monte Carlo average of the package's per-batch penalty.
    p, batch, n_code = 0.05, 32, 200
    chance = [math.comb(batch, n) * p**n * (1 - p) ** (batch - n) for n in range(batch + 1)]
    kl = bernoulli_kl(p, torch.arange(batch + 1, dtype=torch.float64) / batch)
    exact = n_code * sum(c * k for c, k in zip(chance, kl.tolist(), strict=True))
    uniform = torch.rand(400 * batch, n_code, generator=torch.Generator().manual_seed(0))
    coins = (uniform < p).double()  # (400 B, n_code): each unit on with probability p
    penalties = torch.stack([kl_sparsity_penalty_per_batch(part, p) for part in coins.split(batch)])
    standard_error = penalties.std().item() / len(penalties) ** 0.5
    assert abs(penalties.mean().item() - exact) < 4 * standard_error
    assert exact > n_code / (2 * batch)  # the quadratic rule K / (2B) undershoots at small B


def test_a_small_mean_activation_bounds_the_mean_sigmoid_slope():
    # lesson 05, section 8: E[h(1 - h)] = E[h] - E[h^2] <= q (1 - q), q = E[h], for any codes
    gen = torch.Generator().manual_seed(0)
    power = 1 + 20 * torch.rand(64, generator=gen)  # (64,) from spread-out to mostly near 0
    h = torch.rand(500, 64, generator=gen, dtype=torch.float64) ** power  # (500, 64) in (0, 1)
    q = h.mean(dim=0)  # (64,) each unit's mean activation
    slope = (h * (1 - h)).mean(dim=0)  # (64,) mean sigmoid slope
    assert (slope <= q * (1 - q) + 1e-12).all()
    assert (slope < 0.9 * q * (1 - q)).any()  # an inequality, not an identity


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
    on_share = (codes > 0.1).double().mean().item()  # the legend gives it next to the mean
    assert f"{on_share:.1%} above 0.1" in fig.axes[0].get_legend_handles_labels()[1][0]


def test_unit_figure_and_view_driven_like_a_student():
    model = _model()
    codes = codes_of(model, IMAGES)
    fig = unit_figure(model, codes, IMAGES, unit=2, k=4)
    assert len([ax for ax in fig.axes if ax.images]) == 5  # feature + 4 images
    assert fig.axes[0].get_title().startswith("unit 2")
    hist = fig.axes[-1]
    assert hist.get_xlabel() == "h of unit 2" and hist.get_ylabel() == "images (log)"
    top = top_activating(codes, 2, 4)
    assert (fig.axes[1].images[0].get_array() == IMAGES[top[0], 0].numpy()).all()
    view = unit_view(model, codes, IMAGES, unit=0, k=4)
    assert view.figure.axes[0].get_title().startswith("unit 0")
    view.controls["unit"].value = 7
    assert view.figure.axes[0].get_title().startswith("unit 7")
    assert view.controls["unit"].max == 39 and view.controls["unit"].continuous_update is False


# ------------------------------------------------------------------ top-k sparse autoencoder
def test_top_k_relu_keeps_the_k_largest_positive_entries_of_each_row():
    a = torch.tensor([[0.5, -1.0, 2.0, 0.1, 0.3], [-0.2, -0.1, -0.3, 0.4, -0.5]])
    out = top_k_relu(a, 2)
    expected = torch.tensor([[0.5, 0.0, 2.0, 0.0, 0.0],  # 2.0 and 0.5 kept
                             [0.0, 0.0, 0.0, 0.4, 0.0]])  # one positive entry only  # fmt: skip
    assert torch.equal(out, expected)


def test_top_k_relu_matches_a_sort_and_passes_gradients_only_to_kept_units():
    a = torch.randn(7, 30, generator=torch.Generator().manual_seed(2), requires_grad=True)
    out = top_k_relu(a, 5)
    for row_in, row_out in zip(a.detach(), out.detach(), strict=True):
        threshold = row_in.sort(descending=True).values[4]  # the 5th largest
        by_hand = torch.where(row_in >= threshold, row_in.clamp_min(0), torch.zeros(()))
        assert torch.equal(row_out, by_hand)
    out.sum().backward()
    assert torch.equal(a.grad, (out > 0).float())  # d out / d a is 1 where kept, else 0


def test_top_k_autoencoder_codes_have_at_most_k_exact_non_zeros():
    torch.manual_seed(0)
    model = TopKSparseAutoencoder(784, 40, k=6)
    h = model.encode(IMAGES)
    assert h.shape == (30, 40) and (h >= 0).all()
    assert ((h != 0).sum(dim=1) <= 6).all() and ((h != 0).sum(dim=1) == 6).any()
    assert model(IMAGES).shape == IMAGES.shape
    x = IMAGES.flatten(1)  # by hand: the same linear layer, then keep the 6 largest
    a = x @ model.encoder.weight.T + model.encoder.bias
    kept = a >= a.topk(6, dim=1).values[:, -1:]
    assert torch.allclose(h, torch.where(kept, a.clamp_min(0), torch.zeros(())), atol=1e-6)


@pytest.mark.parametrize("bad", [0, 41, 2.5])
def test_top_k_autoencoder_bad_k_says_expected_and_received(bad):
    with pytest.raises(ValueError, match=rf"between 1 and n_code=40, but received k={bad}"):
        TopKSparseAutoencoder(784, 40, k=bad)


@pytest.mark.parametrize("penalty", ["kl", "contractive"])
def test_rate_penalties_refuse_relu_codes(penalty):
    torch.manual_seed(0)
    model = TopKSparseAutoencoder(784, 40, k=6)
    with pytest.raises(ValueError, match="expects a sigmoid code.*SparseObjective\\(None\\)"):
        SparseObjective(penalty, 1.0)(model, (IMAGES,))
    loss, _ = SparseObjective(None)(model, (IMAGES,))  # the top-k needs no penalty
    assert loss.item() > 0


class _KSeen(Callback):
    """A callback that records the model's k at every training step."""

    def __init__(self):
        self.k = []

    def on_batch_end(self, state):
        self.k.append(state.model.k)


def test_anneal_k_lowers_k_linearly_over_the_first_share_then_holds_it():
    torch.manual_seed(0)
    model = TopKSparseAutoencoder(784, 40, k=6)
    seen = _KSeen()
    fit(model, IMAGES, epochs=4, batch_size=10, callbacks=[AnnealK(k_start=30, k_end=6), seen],
        verbose=False)  # fmt: skip
    # 12 steps, k falls over the first 6: 30 - 24 * step / 6 at steps 0..5, then 6 (by hand)
    assert seen.k == [30, 26, 22, 18, 14, 10, 6, 6, 6, 6, 6, 6]
    assert model.k == 6
    assert AnnealK(100, 15, share=1.0).k_at(50, 100) == 58  # halfway: 100 - 85 / 2 = 57.5 -> 58


def test_anneal_k_ends_at_k_end_when_k_falls_over_all_of_training():
    torch.manual_seed(0)
    model = TopKSparseAutoencoder(784, 40, k=6)
    anneal = AnnealK(20, 6, share=1.0)
    fit(model, IMAGES, epochs=2, batch_size=10, callbacks=[anneal], verbose=False)
    assert model.k == 6


@pytest.mark.parametrize(("args", "match"), [((5, 6), "k_start >= k_end >= 1"),
                                             ((6, 0), "k_start >= k_end >= 1"),
                                             ((6, 3, 0.0), "share.*in \\(0, 1\\]")])  # fmt: skip
def test_anneal_k_bad_arguments_say_expected_and_received(args, match):
    with pytest.raises(ValueError, match=match):
        AnnealK(*args)


def test_anneal_k_refuses_a_model_without_k():
    match = "expects a TopKSparseAutoencoder.*received SparseAutoencoder"
    with pytest.raises(ValueError, match=match):
        fit(_model(), IMAGES, epochs=1, batch_size=10, callbacks=[AnnealK(20, 6)], verbose=False)


# ------------------------------------------------------------------ reading a code's units
def test_dead_units_and_firing_fraction_by_hand():
    codes = torch.tensor([[0.0, 0.5, 0.05, 0.2], [0.09, 0.3, 0.0, 0.0], [0.1, 0.0, 0.0, 0.0]])
    assert math.isclose(firing_fraction(codes), 3 / 12)  # 0.5, 0.2, 0.3 are above 0.1
    assert math.isclose(dead_unit_share(codes), 2 / 4)  # units 0 (0.1 is not above) and 2
    assert math.isclose(dead_unit_share(codes, threshold=0.0), 0.0)


def test_units_near_median_are_typical_not_the_busiest():
    means = torch.tensor([0.9, 0.01, 0.05, 0.06, 0.2, 0.04, 0.5])  # median 0.06
    codes = means.repeat(4, 1)  # (4 images, 7 units), each unit constant
    assert units_near_median(codes, 3) == [3, 2, 5]  # 0.06, then 0.05 and 0.04 (0.01 and 0.02 away)
    assert 0 not in units_near_median(codes, 5)  # the busiest unit is never among them


def test_features_and_tradeoff_figures():
    model = _model()
    fig = features_figure(model, [3, 1, 4], title="three units", ncols=2)
    shown = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in shown] == ["unit 3", "unit 1", "unit 4"]
    assert shown[0].images[0].get_cmap().name == "RdBu_r"
    assert (shown[1].images[0].get_array() == decoder_images(model, [1])[0].numpy()).all()
    rows = [{"name": "none", "on": 0.8, "mse": 0.007, "dead": 0.0, "sweep": "L1"},
            {"name": "L1 0.05", "on": 0.12, "mse": 0.011, "dead": 0.55, "sweep": "L1"},
            {"name": "top-k", "on": 0.05, "mse": 0.010, "dead": 0.8}]  # fmt: skip
    fig = tradeoff_figure(rows)
    ax_mse, ax_dead = fig.axes
    sweep_line = ax_mse.lines[0]
    assert list(sweep_line.get_xdata()) == [0.8, 0.12]
    assert list(sweep_line.get_ydata()) == [0.007, 0.011]
    assert list(ax_dead.lines[0].get_ydata()) == [0.0, 0.55]
    assert [t.get_text() for t in ax_mse.texts] == ["none", "L1 0.05", "top-k"]
    points = [tuple(c.get_offsets()[0]) for c in ax_dead.collections]
    assert points == [(0.8, 0.0), (0.12, 0.55), (0.05, 0.8)]
    # a row on two sweeps (the unpenalised end of both) starts both lines, each its own style
    rows = [{"name": "none", "on": 0.8, "mse": 0.007, "dead": 0.0, "sweep": ("L1", "KL")},
            {"name": "L1 0.05", "on": 0.12, "mse": 0.011, "dead": 0.55, "sweep": "L1"},
            {"name": "KL 1", "on": 0.2, "mse": 0.02, "dead": 0.0, "sweep": "KL"},
            {"name": "KL 3", "on": 0.15, "mse": 0.03, "dead": 0.0, "sweep": "KL"}]  # fmt: skip
    lines = {ln.get_label(): ln for ln in tradeoff_figure(rows).axes[0].lines}
    assert list(lines["KL sweep"].get_xdata()) == [0.8, 0.2, 0.15]
    assert list(lines["L1 sweep"].get_ydata()) == [0.007, 0.011]
    assert lines["KL sweep"].get_linestyle() != lines["L1 sweep"].get_linestyle()
    assert lines["L1 sweep"].get_linestyle() == "-"  # the first sweep named is drawn solid


def test_tradeoff_labels_never_overlap_when_drawn():
    rows = [{"name": "none", "on": 0.79, "mse": 0.0102, "dead": 0.0},
            {"name": "L1 0.05", "on": 0.146, "mse": 0.014, "dead": 0.113},
            {"name": "L1 0.1", "on": 0.084, "mse": 0.0158, "dead": 0.46},
            {"name": "KL 0.3", "on": 0.177, "mse": 0.0183, "dead": 0.0},
            {"name": "KL 1", "on": 0.167, "mse": 0.0237, "dead": 0.0},
            {"name": "KL 3", "on": 0.165, "mse": 0.0294, "dead": 0.0},
            {"name": "top-k", "on": 0.05, "mse": 0.0126, "dead": 0.765},
            {"name": "top-k annealed", "on": 0.05, "mse": 0.0124, "dead": 0.451}]  # fmt: skip
    fig = tradeoff_figure(rows)
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    for ax in fig.axes:
        boxes = [Text.get_window_extent(t, renderer) for t in ax.texts]  # labels, not leader lines
        assert len(boxes) == len(rows)
        clashes = [(a.get_text(), b.get_text()) for i, a in enumerate(ax.texts)
                   for b, box in zip(ax.texts[i + 1 :], boxes[i + 1 :], strict=True)
                   if boxes[i].overlaps(box)]  # fmt: skip
        assert not clashes, f"{ax.get_title()}: labels overlap: {clashes}"
    offsets = {t.get_text(): t.xyann[1] for t in fig.axes[1].texts}
    assert offsets["none"] == 4.0  # a label that overlaps nothing stays where it was put
    assert offsets["KL 0.3"] == 4.0 and offsets["KL 1"] != 4.0  # the three KL points coincide
    colours = [(t.get_color(), c.get_facecolor()[0].tolist()) for t, c in
               zip(fig.axes[0].texts, fig.axes[0].collections, strict=True)]  # fmt: skip
    assert all(to_rgba(text) == tuple(point) for text, point in colours)  # label in point colour


def test_top_image_purity_counts_the_commonest_class_among_each_units_top_images():
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    codes = torch.tensor(
        [  # (6 images, 3 units)
            [0.9, 0.1, 0.9],
            [0.8, 0.2, 0.1],
            [0.1, 0.9, 0.8],
            [0.2, 0.8, 0.2],
            [0.3, 0.7, 0.3],
            [0.0, 0.0, 0.7],
        ]
    )
    # unit 0: top 4 images 0, 1, 4, 3 -> classes 0, 0, 2, 1 -> 2 of 4; unit 1: 2, 3, 4, 1 ->
    # 1, 1, 2, 0 -> 2 of 4; unit 2: 0, 2, 5, 4 -> 0, 1, 2, 2 -> 2 of 4. With k = 2: 1, 1, 1/2.
    assert top_image_purity(codes, labels, k=2).tolist() == [1.0, 1.0, 0.5]
    assert top_image_purity(codes, labels, k=4).tolist() == [0.5, 0.5, 0.5]
    assert top_image_purity(codes, labels, k=1).tolist() == [1.0, 1.0, 1.0]


def test_top_image_purity_bad_labels_say_expected_and_received():
    with pytest.raises(ValueError, match=r"labels of shape \(6,\).*received"):
        top_image_purity(torch.rand(6, 3), torch.zeros(5, dtype=torch.long))
