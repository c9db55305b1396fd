"""course_utils.denoising: the objective, the PSNR table, figures and the view (lesson 04)."""

import math

import numpy as np
import pytest
import torch
from figure_checks import cut_titles
from torch import nn

from course_utils.corruption import corrupt, gaussian_blur, median_filter, psnr
from course_utils.denoising import (
    DenoisingObjective,
    SkipDenoisingAutoencoder,
    best_method,
    circle_posterior_mean,
    classic_baselines,
    compare_columns,
    dae_flow_figure,
    denoise,
    denoising_field_figure,
    denoising_figure,
    denoising_view,
    leftover_noise_share,
    linear_probe_accuracy,
    linear_probe_hits,
    paired_difference,
    pca_denoise,
    psnr_curves_figure,
    psnr_table,
    psnr_table_text,
    total_variation_per_image,
    trust_figure,
    validation_curves_figure,
)
from course_utils.models import DenseAutoencoder
from course_utils.pca import PCA
from course_utils.plots import NotebookFigure, history_figure
from course_utils.train import evaluate, fit


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


IMAGES = torch.rand(64, 1, 28, 28, generator=gen(123))


def _small_model():
    torch.manual_seed(0)
    return DenseAutoencoder(784, hidden=(32,), n_latent=8)


def test_denoising_objective_corrupts_on_the_fly_and_fixes_validation_noise():
    model = _small_model()
    seen = []
    model.register_forward_pre_hook(lambda m, inp: seen.append(inp[0].clone()))
    objective = DenoisingObjective({"masking": (0.5, 0.5)}, seed=0)
    clean = torch.ones(8, 1, 28, 28)
    objective(model, (clean,))
    objective(model, (clean,))
    assert not torch.equal(seen[0], seen[1])  # fresh noise every training step
    assert 0.4 < (seen[0] == 0).float().mean() < 0.6
    model.eval()
    loss_a, _ = objective(model, (clean,))
    loss_b, _ = objective(model, (clean,))
    assert torch.equal(seen[-1], seen[-2]) and loss_a == loss_b  # eval: the same noise
    assert torch.isclose(loss_a, ((model(seen[-1]) - clean) ** 2).flatten(1).sum(1).mean())


def test_denoising_objective_relative_divides_by_the_damage_of_the_noisy_input():
    model = _small_model().eval()
    seen = []
    model.register_forward_pre_hook(lambda m, inp: seen.append(inp[0].clone()))
    clean = torch.rand(4, 1, 28, 28, generator=gen(5))
    plain = DenoisingObjective({"gaussian": (0.3, 0.3)}, valid_noise=("gaussian", 0.3))
    relative = DenoisingObjective({"gaussian": (0.3, 0.3)}, valid_noise=("gaussian", 0.3),
                                  relative=True)  # fmt: skip
    loss, _ = plain(model, (clean,))
    rel, _ = relative(model, (clean,))
    damage = ((seen[-1] - clean) ** 2).flatten(1).sum(1).mean()  # the same eval noise both times
    assert torch.equal(seen[-1], seen[-2]) and damage > 1.0
    assert torch.isclose(rel, loss / damage)
    assert torch.isclose(relative(nn.Identity(), (clean,))[0], torch.tensor(1.0))  # copying: 1
    floored = DenoisingObjective({"gaussian": (0.0, 0.0)}, relative=True, min_damage=2.0)
    assert torch.isclose(floored(model, (clean,))[0], plain_sse(model, clean) / 2.0)


def test_relative_loss_gradient_scales_as_one_over_the_damage_down_to_the_floor():
    """ratio = loss / max(damage, floor); the damage does not depend on the weights, so the
    gradient is the plain loss's gradient divided by it: 1 / damage grows without bound as the
    damage goes to 0, unless the floor caps it at 1 / floor."""
    clean = torch.rand(8, 1, 28, 28, generator=gen(7))

    def grads(objective):
        model = _small_model().eval()  # eval: the same noise for both objectives
        model.zero_grad()
        objective(model, (clean,))[0].backward()
        return torch.cat([p.grad.flatten() for p in model.parameters()])

    for sigma, floor in ((0.3, 1.0), (0.01, 1e-9), (0.01, 5.0)):
        levels, noise = {"gaussian": (sigma, sigma)}, ("gaussian", sigma)
        plain = grads(DenoisingObjective(levels, seed=3, valid_noise=noise))
        rel = grads(DenoisingObjective(levels, seed=3, valid_noise=noise, relative=True,
                                       min_damage=floor))  # fmt: skip
        noisy = corrupt(clean, "gaussian", sigma, gen(0))
        damage = ((noisy - clean) ** 2).flatten(1).sum(1).mean().item()  # about 784 sigma^2 / 2
        factor = (plain.norm() / rel.norm()).item()  # what the gradient was divided by
        assert math.isclose(factor, max(damage, floor), rel_tol=0.1), (sigma, floor, factor)
    assert factor == pytest.approx(5.0, rel=1e-4)  # sigma 0.01: damage ~0.04, floored at 5


def plain_sse(model, clean):
    return ((model(clean) - clean) ** 2).flatten(1).sum(1).mean()


def test_denoising_objective_valid_noise_sets_kind_and_level_in_eval_mode():
    model = _small_model().eval()
    seen = []
    model.register_forward_pre_hook(lambda m, inp: seen.append(inp[0].clone()))
    objective = DenoisingObjective({"masking": (0.9, 0.9)}, valid_noise=("gaussian", 0.0))
    clean = torch.rand(4, 1, 28, 28)
    objective(model, (clean,))
    assert torch.equal(seen[-1], clean)  # Gaussian noise of std 0, not 90% masking
    with pytest.raises(ValueError, match="noise kinds"):
        DenoisingObjective({"blur": (0.1, 0.2)})


def test_fit_with_denoising_objective_lowers_the_loss():
    model = _small_model()
    clean = IMAGES.round()
    history = fit(model, clean, objective=DenoisingObjective({"gaussian": (0.0, 0.3)}),
                  epochs=3, batch_size=16, lr=1e-2, verbose=False)  # fmt: skip
    assert history["train_loss"][-1] < history["train_loss"][0]


def test_relative_loss_is_recorded_and_printed_as_a_damage_ratio(capsys):
    objective = DenoisingObjective({"gaussian": (0.2, 0.3)}, valid_noise=("gaussian", 0.3),
                                   relative=True)  # fmt: skip
    assert objective.loss_name == "damage_ratio"
    model = _small_model()
    history = fit(model, IMAGES[:32], IMAGES[32:], objective=objective, epochs=2, batch_size=16,
                  verbose=True)  # fmt: skip
    assert history.loss_name == "damage_ratio"
    columns = set(history.rows[-1])
    assert {"train_damage_ratio", "valid_damage_ratio"} <= columns
    assert not {"train_loss", "valid_loss"} & columns  # never a "loss" that reads like an SSE
    assert "train_damage_ratio" in capsys.readouterr().out
    scores = evaluate(model, IMAGES[32:], objective)
    assert list(scores) == ["damage_ratio"] and 0 < scores["damage_ratio"] < 2
    with pytest.raises(KeyError, match="'valid_loss'.*recorded as 'damage_ratio'"):
        history.last("valid_loss")
    fig = history_figure(history)  # "loss" stands for the damage ratio here
    assert fig.axes[0].get_ylabel() == "damage_ratio" and len(fig.axes[0].lines) == 2
    plain = DenoisingObjective({"gaussian": (0.2, 0.3)})
    assert plain.loss_name == "loss"
    assert "train_loss" in fit(model, IMAGES[:16], objective=plain, epochs=1, verbose=False).rows[0]


def _skip_model(trust_bias: float | None = None) -> SkipDenoisingAutoencoder:
    torch.manual_seed(0)
    model = SkipDenoisingAutoencoder(784, hidden=(32,), n_latent=8)
    if trust_bias is not None:  # force the trust map t: bias +-30 saturates the sigmoid
        last = model.decoder[-1]
        with torch.no_grad():
            last.weight[784:] = 0.0
            last.bias[784:] = trust_bias
    return model


def test_skip_dae_shapes_and_range():
    model = _skip_model()
    x = IMAGES[:5]
    assert model.encode(x).shape == (5, 8)
    r, t = model.decode(model.encode(x))
    assert r.shape == t.shape == (5, 784) and bool(((t > 0) & (t < 1)).all())
    out = model(x)
    assert out.shape == x.shape and model(x.flatten(1)).shape == (5, 784)
    assert bool(((out >= 0) & (out <= 1)).all())
    assert torch.allclose(out, (t * x.flatten(1) + (1 - t) * r).view_as(x))
    assert model.reconstruct(x).shape == x.shape


def test_skip_dae_skip_path_reaches_the_output():
    x = IMAGES[:4].clone().requires_grad_(True)
    # trust 1 everywhere: the output IS the noisy input, whatever the code says
    assert torch.allclose(_skip_model(trust_bias=30.0)(x), x, atol=1e-6)
    # trust 0 everywhere: only the code path is left, and it is `reconstruct`
    closed = _skip_model(trust_bias=-30.0)
    assert torch.allclose(closed(x), closed.reconstruct(x), atol=1e-6)
    # cut the code path (encoder weights 0: the code no longer depends on x): the input still
    # reaches the output through the skip, pixel by pixel, with weight t
    model = _skip_model()
    with torch.no_grad():
        model.encoder[0].weight.zero_()
    out = model(x)
    out[0, 0, 5, 5].backward()
    _, t = model.decode(model.encode(x[:1]))
    grad = x.grad[0, 0]  # (28, 28): d output(5, 5) / d input
    assert torch.isclose(grad[5, 5], t[0, 5 * 28 + 5]) and grad[5, 5] > 0
    assert grad.abs().sum() == grad[5, 5].abs()  # no other pixel matters


def test_skip_dae_trains_with_the_denoising_objective():
    model = _skip_model()
    history = fit(model, IMAGES.round(), objective=DenoisingObjective({"gaussian": (0.0, 0.3)}),
                  epochs=3, batch_size=16, lr=1e-2, verbose=False)  # fmt: skip
    assert history["train_loss"][-1] < history["train_loss"][0]


def test_wrong_image_shape_into_the_model_says_expected_and_received():
    with pytest.raises(ValueError, match=r"or \(B, 1, 28, 28\), but received .*\(4, 1, 14, 14\)"):
        denoise(_small_model(), torch.rand(4, 1, 14, 14))


def test_psnr_table_and_curves():
    model = _small_model()
    levels = {"gaussian": (0.1, 0.3), "masking": (0.2,), "salt_and_pepper": (0.1,)}
    rows = psnr_table(model, IMAGES[:16], IMAGES[16:32], levels, seed=0)
    expected = [("gaussian", 0.1), ("gaussian", 0.3), ("masking", 0.2), ("salt_and_pepper", 0.1)]
    assert [(r["kind"], r["level"]) for r in rows] == expected
    assert rows == psnr_table(model, IMAGES[:16], IMAGES[16:32], levels, seed=0)  # reproducible
    assert rows[0]["noisy"] > rows[1]["noisy"]  # more noise, lower PSNR
    assert list(rows[0]) == ["kind", "level", "noisy", "blur", "blur_knob", "model"]
    fig = psnr_curves_figure(rows, title="t")
    assert isinstance(fig, NotebookFigure) and len(fig.axes) == 3
    labels = [ln.get_label() for ln in fig.axes[0].lines]
    assert labels == ["noisy input (no denoising)", "best Gaussian blur", "model"]
    assert list(fig.axes[0].lines[0].get_xdata()) == [0.1, 0.3]
    assert list(fig.axes[0].lines[2].get_ydata()) == [rows[0]["model"], rows[1]["model"]]
    flat = psnr_curves_figure(rows, title="t", constant=11.0).axes[1].lines[-1]
    assert flat.get_label() == "constant output (11.00 dB)" and set(flat.get_ydata()) == {11.0}


def test_psnr_table_uses_the_same_noise_for_every_model_and_the_seeds_it_documents():
    test, valid = IMAGES[:16], IMAGES[16:32]
    levels = {"gaussian": (0.1, 0.3), "masking": (0.5,)}
    both = psnr_table({"copy": nn.Identity(), "half": _Half()}, test, valid, levels, seed=7)
    alone = psnr_table({"half": _Half()}, test, valid, levels, seed=7, baselines={})
    assert [r["half"] for r in both] == [r["half"] for r in alone]  # same noise, call after call
    assert [r["copy"] for r in both] == [r["noisy"] for r in both]  # copying = doing nothing
    g = torch.Generator().manual_seed(7 + 1000 * 1 + 0)  # masking is kind 1, level 0
    corrupt(valid, "masking", 0.5, g)  # the validation noise comes first
    noisy_test = corrupt(test, "masking", 0.5, g)
    assert math.isclose(both[2]["noisy"], psnr(noisy_test, test).mean().item(), rel_tol=1e-6)


class _Half(nn.Module):
    def forward(self, x):
        return x / 2


def test_psnr_table_tunes_each_knob_on_validation_images_never_on_test_images():
    grey = torch.full((16, 1, 28, 28), 0.5)  # validation: flat images, where blur only helps
    texture = torch.rand(16, 1, 28, 28, generator=gen(3))  # test: pure texture, blur destroys it
    rows = psnr_table(nn.Identity(), texture, grey, {"gaussian": (0.3,)}, seed=0,
                      baselines=classic_baselines())  # fmt: skip
    assert rows[0]["blur_knob"] == 2.0 and rows[0]["median_knob"] == 5  # the widest: tuned on grey
    assert rows[0]["blur"] < rows[0]["noisy"]  # and so they hurt on the test texture


def test_classic_baselines_and_pca_denoise_against_an_independent_projection():
    flat = IMAGES.flatten(1)  # (64, 784)
    pca = PCA(20).fit(flat)
    baselines = classic_baselines(pca, ks=(5, 10, 40))
    assert list(baselines) == ["blur", "median", "PCA"] and baselines["PCA"][1] == (5, 10)
    assert baselines["median"][0] is median_filter and baselines["blur"][0] is gaussian_blur
    assert "PCA" not in classic_baselines()
    data = flat.double().numpy()
    mean = data.mean(axis=0)
    _, _, vt = np.linalg.svd(data - mean, full_matrices=False)  # numpy, not course_utils.pca
    noisy = corrupt(IMAGES[:8], "gaussian", 0.2, gen(1))
    for k in (5, 10):
        u = vt[:k].T  # (784, k)
        expected = np.clip(mean + (noisy.flatten(1).double().numpy() - mean) @ u @ u.T, 0, 1)
        out = baselines["PCA"][0](noisy, k)
        assert out.shape == noisy.shape
        assert np.allclose(out.flatten(1).double().numpy(), expected, atol=1e-4)
    assert pca_denoise(pca, noisy, 20).min() >= 0 and pca_denoise(pca, noisy, 20).max() <= 1


def test_psnr_table_text_names_the_best_method_of_each_row():
    rows = [{"kind": "gaussian", "level": 0.1, "noisy": 21.0, "blur": 22.5, "blur_knob": 0.5,
             "DAE": 22.0},
            {"kind": "masking", "level": 0.5, "noisy": 10.0, "blur": 11.0, "blur_knob": 1.0,
             "DAE": 14.25}]  # fmt: skip
    assert [best_method(r) for r in rows] == ["blur", "DAE"]
    assert best_method({"kind": "gaussian", "level": 0.0, "noisy": 30.0, "DAE": 20.0}) == "noisy"
    lines = psnr_table_text(rows).splitlines()
    assert lines[0].split() == ["noise", "level", "noisy", "blur", "DAE", "best"]
    assert lines[1].split() == ["gaussian", "0.10", "21.00", "22.50", "(0.5)", "22.00", "blur"]
    assert lines[2].split()[-2:] == ["14.25", "DAE"]
    assert len({len(line.rsplit(maxsplit=1)[0]) for line in lines}) == 1  # aligned columns


def test_best_method_with_a_margin_names_every_method_tied_with_the_best():
    row = {"kind": "gaussian", "level": 0.1, "noisy": 21.63, "blur": 22.60, "blur_knob": 0.5,
           "PCA": 22.71, "DAE": 22.02}  # fmt: skip
    assert best_method(row) == "PCA"
    assert best_method(row, margin=0.5) == "PCA ~ blur"  # DAE is 0.69 dB behind: not tied
    assert best_method(row, margin=0.7) == "PCA ~ blur ~ DAE"  # best first
    assert best_method({"kind": "masking", "level": 0.5, "noisy": 10.0, "DAE": 14.0}, 0.5) == "DAE"
    lines = psnr_table_text([row], margin=0.5).splitlines()
    assert lines[1].endswith("PCA ~ blur")
    with pytest.raises(ValueError, match="margin"):
        best_method(row, margin=-0.1)


def test_compare_columns_counts_only_differences_above_the_margin():
    rows = [{"kind": "gaussian", "level": 0.1, "noisy": 20.0, "skip": 23.0, "plain": 18.0},
            {"kind": "gaussian", "level": 0.5, "noisy": 9.0, "skip": 17.3, "plain": 17.0},
            {"kind": "masking", "level": 0.1, "noisy": 18.0, "skip": 17.0, "plain": 18.2},
            {"kind": "masking", "level": 0.5, "noisy": 10.0, "skip": 16.0, "plain": 15.5},
            ]  # fmt: skip
    assert compare_columns(rows, "skip", "plain", margin=0.5) == {
        "better": [("gaussian", 0.1)],
        "worse": [("masking", 0.1)],
        "within": [("gaussian", 0.5), ("masking", 0.5)],  # +0.3 dB, and exactly +0.5: not counted
    }
    flipped = compare_columns(rows, "plain", "skip", margin=0.5)
    assert flipped["better"] == [("masking", 0.1)] and flipped["worse"] == [("gaussian", 0.1)]
    assert compare_columns(rows, "skip", "plain", margin=0.0)["better"] == [
        ("gaussian", 0.1), ("gaussian", 0.5), ("masking", 0.5)]  # fmt: skip
    with pytest.raises(ValueError, match="received \\['DAE'\\]"):
        compare_columns(rows, "DAE", "plain")
    with pytest.raises(ValueError, match="at least 0 dB"):
        compare_columns(rows, "skip", "plain", margin=-1)


def test_trust_figure_shows_each_pair_on_a_fixed_0_to_1_scale_with_a_colour_bar():
    noisy = IMAGES[:3]
    trust = torch.linspace(0.2, 0.4, 3 * 784).reshape(3, 1, 28, 28)  # a narrow range of values
    fig = trust_figure(noisy, trust, ["sigma 0.1", "sigma 0.3", "sigma 0.6"], title="trust")
    image_axes = [ax for ax in fig.axes if ax.images]
    assert len(image_axes) == 6
    trust_images = [ax.images[0] for ax in image_axes[1::2]]
    assert all(im.get_clim() == (0, 1) for im in trust_images)  # not stretched to 0.2-0.4
    np.testing.assert_allclose(trust_images[1].get_array(), trust[1, 0].numpy())
    assert image_axes[2].get_title() == "noisy, sigma 0.3"
    colour_bars = [ax for ax in fig.axes if ax not in image_axes]
    assert len(colour_bars) == 1 and "trust" in colour_bars[0].get_ylabel()
    assert not cut_titles(fig)
    with pytest.raises(ValueError, match="one label per pair"):
        trust_figure(noisy, trust, ["sigma 0.1"])


def test_linear_probe_matches_scikit_learns_ridge_classifier():
    from sklearn.linear_model import RidgeClassifier

    g = gen(7)
    centres = torch.randn(4, 30, generator=g)  # 4 classes in a 30-D code space
    labels = torch.multinomial(
        torch.tensor([0.55, 0.25, 0.15, 0.05]), 300, replacement=True, generator=g
    )  # unbalanced classes: the intercept matters
    scales = torch.logspace(-1, 1, 30)  # dimensions of very different sizes: standardising matters
    codes = (centres[labels] + 1.5 * torch.randn(300, 30, generator=g)) * scales  # overlapping
    train, test = slice(0, 80), slice(80, 300)  # few training codes: the ridge matters
    accuracy = linear_probe_accuracy(
        codes[train], labels[train], codes[test], labels[test], ridge=30.0
    )
    z = codes.numpy().astype(np.float64)
    mean, std = z[train].mean(axis=0), z[train].std(axis=0, ddof=1)  # standardised independently
    sk = RidgeClassifier(alpha=30.0).fit((z[train] - mean) / std, labels[train].numpy())
    expected = (sk.predict((z[test] - mean) / std) == labels[test].numpy()).mean()
    assert accuracy == pytest.approx(expected, abs=1e-12)
    assert 0.6 < accuracy < 1.0  # neither trivial nor perfect: the data overlap
    separable = centres[labels] * 10  # far-apart clusters, no noise
    far = (separable[train], labels[train], separable[test], labels[test])
    assert linear_probe_accuracy(*far) == 1.0
    uniform = torch.randint(0, 4, (300,), generator=g)  # labels unrelated to the codes
    assert linear_probe_accuracy(codes[train], uniform[train], codes[test], uniform[test]) < 0.4
    with pytest.raises(ValueError, match="same K"):
        linear_probe_accuracy(codes[train], labels[train], codes[test, :5], labels[test])
    hits = linear_probe_hits(codes[train], labels[train], codes[test], labels[test], ridge=30.0)
    assert hits.shape == (220,) and set(hits.tolist()) <= {0.0, 1.0}
    assert hits.mean().item() == accuracy


def correlated_hits(n: int, p_both: float, p_a_only: float, p_b_only: float, g):
    """n images scored by two methods: both right, only a right, only b right, else both wrong."""
    u = torch.rand(n, generator=g)
    a = (u < p_both + p_a_only).double()
    b = ((u < p_both) | ((u >= p_both + p_a_only) & (u < p_both + p_a_only + p_b_only))).double()
    return a, b


def test_paired_difference_matches_the_spread_of_simulated_differences():
    # a and b agree on most images (both right 0.75, a only 0.06, b only 0.03): the true SE of
    # the difference of their accuracies over n images is sqrt((0.09 - 0.03**2) / n)
    g, n = gen(11), 2000
    true_se = math.sqrt((0.06 + 0.03 - 0.03**2) / n)
    diffs, ses = [], []
    for _ in range(400):
        a, b = correlated_hits(n, 0.75, 0.06, 0.03, g)
        diff, se = paired_difference(a, b)
        assert diff == pytest.approx((a.mean() - b.mean()).item(), abs=1e-12)
        diffs.append(diff)
        ses.append(se)
    assert np.mean(diffs) == pytest.approx(0.03, abs=0.001)
    assert np.std(diffs) == pytest.approx(true_se, rel=0.1)  # the spread it claims to estimate
    assert np.mean(ses) == pytest.approx(true_se, rel=0.02)
    pa, pb = 0.81, 0.78  # the two accuracies: quadrature would claim about 2x the true SE
    assert math.sqrt((pa * (1 - pa) + pb * (1 - pb)) / n) > 1.8 * true_se
    # McNemar's form from the counts of disagreeing images gives the same number
    n10, n01 = int(((a == 1) & (b == 0)).sum()), int(((a == 0) & (b == 1)).sum())
    mcnemar = math.sqrt((n10 + n01 - (n10 - n01) ** 2 / n) / (n - 1)) / math.sqrt(n)
    assert ses[-1] == pytest.approx(mcnemar, rel=1e-9)


def test_paired_and_quadrature_verdicts_differ_on_strongly_correlated_hits():
    # 2,000 images; b gets 1,560 right; a gets the same ones right except 10, and 46 more:
    # +1.8 points. Paired, only the 56 disagreeing images count; in quadrature, all of them
    b = torch.zeros(2000, dtype=torch.float64)
    b[:1560] = 1
    a = b.clone()
    a[:10] = 0
    a[1560:1606] = 1
    diff, se = paired_difference(a, b)
    assert diff == pytest.approx(0.018)
    pa, pb = a.mean().item(), b.mean().item()
    quadrature = math.sqrt((pa * (1 - pa) + pb * (1 - pb)) / 2000)
    assert diff > 2 * se  # paired: clearly better
    assert diff < 2 * quadrature  # in quadrature: "within noise"
    assert paired_difference(b, a) == pytest.approx((-diff, se))  # antisymmetric
    assert paired_difference(a, a) == (0.0, 0.0)  # identical hits: no noise at all
    with pytest.raises(ValueError, match="same length"):
        paired_difference(a, b[:-1])


def test_total_variation_sums_absolute_neighbour_differences():
    checker = (torch.arange(28)[:, None] + torch.arange(28)[None, :]) % 2  # (28, 28) of 0 and 1
    images = torch.stack([checker.float(), torch.full((28, 28), 0.3)])[:, None]  # (2, 1, 28, 28)
    assert total_variation_per_image(images).tolist() == [2 * 28 * 27, 0.0]
    ramp = torch.linspace(0, 1, 28).repeat(28, 1)[None, None]  # left to right, 0 to 1
    assert math.isclose(total_variation_per_image(ramp).item(), 28.0, rel_tol=1e-5)
    assert total_variation_per_image(gaussian_blur(IMAGES, 1.0)).mean() < (
        total_variation_per_image(IMAGES).mean()
    )


def test_trust_is_the_second_map_of_the_decoder():
    model = _skip_model()
    x = IMAGES[:3]
    assert torch.equal(model.trust(x), model.decode(model.encode(x))[1].view_as(x))
    assert torch.allclose(_skip_model(trust_bias=30.0).trust(x), torch.ones_like(x))
    assert torch.allclose(_skip_model(trust_bias=-30.0).trust(x), torch.zeros_like(x), atol=1e-6)


def _posterior_mean_by_quadrature(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """E[clean | x] for a uniform unit circle, by weighting 20,000 circle points (float64)."""
    theta = torch.linspace(0, 2 * math.pi, 20_001, dtype=torch.float64)[:-1]
    points = torch.stack([theta.cos(), theta.sin()], dim=1)  # (M, 2)
    log_w = -((x.double()[:, None, :] - points[None]) ** 2).sum(-1) / (2 * sigma**2)  # (N, M)
    return torch.softmax(log_w, dim=1) @ points  # (N, 2)


def test_circle_posterior_mean_matches_a_direct_average_over_the_circle():
    x = torch.tensor([[0.1, 0.0], [0.0, -0.2], [0.5, 0.5], [0.9, 0.1], [-1.4, 0.3], [2.0, 2.0]])
    for sigma in (0.2, 0.3, 0.5):
        expected = _posterior_mean_by_quadrature(x, sigma).float()
        assert torch.allclose(circle_posterior_mean(x, sigma), expected, atol=1e-4)
    out = circle_posterior_mean(torch.zeros(1, 2), 0.3)
    assert torch.equal(out, torch.zeros(1, 2))  # the centre: every direction equally likely
    step = circle_posterior_mean(torch.tensor([[0.1, 0.0], [0.2, 0.0]]), 0.3)[:, 0] - torch.tensor(
        [0.1, 0.2]
    )
    assert step[0] > 0.35 and step[1] > 0.5  # long arrows pointing OUTWARDS near the centre
    big = circle_posterior_mean(torch.tensor([[50.0, 0.0]]), 0.05)  # kappa = 20,000: no overflow
    assert torch.allclose(big, torch.tensor([[1.0, 0.0]]), atol=1e-4)


def test_circle_posterior_mean_is_tweedies_score_of_the_noised_density():
    sigma = 0.3
    theta = torch.linspace(0, 2 * math.pi, 20_001, dtype=torch.float64)[:-1]
    points = torch.stack([theta.cos(), theta.sin()], dim=1)  # (M, 2)

    def log_p_sigma(x):  # the density of noisy points: the circle convolved with the noise
        sq = ((x[:, None, :] - points[None]) ** 2).sum(-1)  # (N, M)
        return torch.logsumexp(-sq / (2 * sigma**2), dim=1)  # up to a constant

    x = torch.tensor([[0.15, 0.05], [0.6, -0.3], [1.3, 0.2]], dtype=torch.float64)
    x.requires_grad_(True)
    (score,) = torch.autograd.grad(log_p_sigma(x).sum(), x)
    tweedie = x.detach() + sigma**2 * score  # r*(x) = x + sigma^2 grad log p_sigma(x)
    assert torch.allclose(circle_posterior_mean(x.detach().float(), sigma), tweedie.float(),
                          atol=1e-4)  # fmt: skip


def test_denoising_figure_and_view_driven_like_a_student():
    model, clean = _small_model(), IMAGES[:5]
    fig = denoising_figure(model, clean, "salt_and_pepper", 0.2)
    assert len([ax for ax in fig.axes if ax.images]) == 15
    assert [fig.axes[i].get_ylabel() for i in (0, 5, 10)] == ["noisy input", "denoised",
                                                              "clean target"]  # fmt: skip
    assert "salt_and_pepper, level 0.20" in fig._suptitle.get_text()
    view = denoising_view(model, clean, kind="gaussian", level=0.1)
    first = view.figure
    assert "gaussian, level 0.10" in first._suptitle.get_text()
    view.controls["level"].value = 0.5
    assert view.figure is not first and "level 0.50" in view.figure._suptitle.get_text()
    view.controls["kind"].value = "masking"
    assert view.figure._suptitle.get_text().startswith("masking, level 0.50")
    assert view.controls["level"].continuous_update is False


def test_plot_denoising_field_draws_arrows():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
    pts = torch.randn(50, 2)
    fig = denoising_field_figure(net, pts, pts + 0.1, n_grid=5)
    assert isinstance(fig, NotebookFigure) and len(fig.axes[0].collections) == 3
    with_best = denoising_field_figure(net, pts, pts + 0.1, n_grid=5,
                                       optimal=lambda x: circle_posterior_mean(x, 0.3))  # fmt: skip
    assert len(with_best.axes) == 2 and "optimal" in with_best.axes[1].get_title()
    arrows = with_best.axes[1].collections[2]  # the optimal arrows, in the second panel
    grid = torch.cartesian_prod(*(2 * [torch.linspace(-1.8, 1.8, 5)]))
    best = circle_posterior_mean(grid, 0.3) - grid
    assert np.allclose(arrows.U, best[:, 0].numpy()) and np.allclose(arrows.V, best[:, 1].numpy())
    net_arrows = with_best.axes[0].collections[2]
    assert np.allclose(net_arrows.U, (net(grid) - grid)[:, 0].detach().numpy(), atol=1e-6)
    assert not cut_titles(with_best)


def test_flow_figure_draws_the_skip_as_a_bypass_and_keeps_its_title_whole():
    fig = dae_flow_figure(
        skip=True, title="a denoising autoencoder with a skip path and a trust map"
    )
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts if "bypass" in t.get_text()]
    (bracket,) = [ln for ln in ax.lines if ln.get_color() == "tab:red"]
    assert list(bracket.get_xdata()) == [2, 2, 7]  # from x~ (box 2) to the blend (box 7)
    names = [t.get_text() for t in ax.texts if t.get_fontweight() == "bold"]  # the boxes
    assert names[2] == "x~" and names[7] == "blend"
    assert not cut_titles(fig)
    narrow = [t.get_text() for t in dae_flow_figure(hidden=372, skip=True).axes[0].texts]
    assert "784 -> 372\n-> 256" in narrow and "256 -> 372\n-> 2 x 784" in narrow
    plain = dae_flow_figure(title="a denoising autoencoder: damage the input, score the clean one")
    plain_names = [t.get_text() for t in plain.axes[0].texts if t.get_fontweight() == "bold"]
    assert plain_names == ["x", "corrupt", "x~", "encoder", "h", "decoder", "x^", "loss"]
    assert not [ln for ln in plain.axes[0].lines if ln.get_color() == "tab:red"]  # no bypass
    assert [t for t in plain.axes[0].texts if "CLEAN x goes to the loss" in t.get_text()]
    assert not cut_titles(plain)
    for diagram in (fig, plain):  # readable at notebook width: no label under 10 pt, <= 12 in
        assert min(t.get_fontsize() for t in diagram.axes[0].texts) >= 10
        assert diagram.get_figwidth() <= 12


def test_validation_curves_figure_draws_each_curve_against_steps():
    points = {
        "plain DAE": [(100, 0.6), (200, 0.5), (211, 0.49)],
        "skip DAE": [(100, 0.4), (211, 0.3)],
    }
    fig = validation_curves_figure(points, title="two curves")
    ax = fig.axes[0]
    drawn = {ln.get_label(): ln for ln in ax.lines}
    assert list(drawn["plain DAE"].get_xdata()) == [100, 200, 211]
    assert list(drawn["skip DAE"].get_ydata()) == [0.4, 0.3]
    assert ax.get_xlabel() == "optimizer steps" and not cut_titles(fig)
    with pytest.raises(ValueError, match="at least one point"):
        validation_curves_figure({"plain DAE": []})


def test_leftover_noise_share_counts_noise_let_through_not_texture_kept():
    clean = torch.rand(300, 1, 28, 28, generator=gen(1))
    for kind, level in (("gaussian", 0.3), ("masking", 0.5), ("salt_and_pepper", 0.2)):
        noisy, again = corrupt(clean, kind, level, gen(2)), corrupt(clean, kind, level, gen(3))

        def share(output, noisy=noisy, again=again):
            return leftover_noise_share(output, noisy, clean, again).item()

        assert share(noisy) == pytest.approx(1.0)  # the identity: all the noise
        assert share(clean) == pytest.approx(0.0, abs=1e-6)  # a perfect denoiser: none
        assert share(clean + 0.3 * (noisy - clean)) == pytest.approx(0.3, abs=1e-5)
        # outputs that depend on the clean image only: darker, or with extra texture of their own
        darker = 0.7 * clean
        texture = clean + 0.2 * torch.randn(clean.shape, generator=gen(4))
        assert abs(share(darker)) < 0.03 and abs(share(texture)) < 0.03, kind
        assert total_variation_per_image(texture).mean() > total_variation_per_image(clean).mean()
    # why the second draw: masking damage is -x where a pixel is dropped, so a merely darker
    # output correlates with it; the one-draw coefficient <e, d> / <d, d> is then far from 0
    noisy = corrupt(clean, "masking", 0.5, gen(2))
    d, e = (noisy - clean).flatten(), (0.7 * clean - clean).flatten()
    assert (e @ d / (d @ d)).item() > 0.2
    # independent check against a least-squares fit: e = a d + (something that follows x only)
    out = clean + 0.5 * (noisy - clean) - 0.1 * clean
    assert leftover_noise_share(
        out, noisy, clean, corrupt(clean, "masking", 0.5, gen(5))
    ).item() == pytest.approx(0.5, abs=0.02)


def test_lesson_figures_keep_their_titles_inside():
    model = _skip_model()
    for kind in ("gaussian", "salt_and_pepper"):
        assert not cut_titles(denoising_figure(model, IMAGES[:8], kind, 0.35))
    rows = psnr_table(model, IMAGES[:8], IMAGES[8:16], {"gaussian": (0.1,), "masking": (0.1,)})
    assert not cut_titles(psnr_curves_figure(rows, title="Fashion-MNIST: learned vs non-learned "
                                                        "denoisers (full mode)"))  # fmt: skip
