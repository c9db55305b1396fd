"""Lesson 02 anomaly detection: scores, ROC/AUROC by hand, precision/recall, figures, slider."""

import warnings

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from course_utils.anomaly import (
    auroc,
    auroc_difference_se,
    error_histograms_figure,
    flag_counts,
    fpr_at_tpr,
    matched_subsets,
    mse_per_pixel_per_image,
    out_of_distribution_images,
    photo_patches,
    precision_at_prevalence,
    rank_correlation,
    roc_curve,
    roc_figure,
    shared_image_count,
    threshold_figure,
    threshold_view,
)
from course_utils.data import ImageData, Split
from course_utils.models import DenseAutoencoder

G = torch.Generator().manual_seed(0)
IMAGES = torch.rand(6, 1, 28, 28, generator=G)


def test_roc_and_auroc_on_a_hand_made_case():
    fpr, tpr, thresholds = roc_curve([0.1, 0.2, 0.3], [0.25, 0.4])
    np.testing.assert_allclose(thresholds, [np.inf, 0.4, 0.3, 0.25, 0.2, 0.1])
    np.testing.assert_allclose(fpr, [0, 0, 1 / 3, 1 / 3, 2 / 3, 1])
    np.testing.assert_allclose(tpr, [0, 0.5, 0.5, 1, 1, 1])
    assert auroc([0.1, 0.2, 0.3], [0.25, 0.4]) == pytest.approx(5 / 6)  # 5 of 6 pairs in order


def test_ties_count_one_half_and_make_a_diagonal_step():
    fpr, tpr, _ = roc_curve([1, 2], [2, 3])
    np.testing.assert_allclose(fpr, [0, 0, 0.5, 1])
    np.testing.assert_allclose(tpr, [0, 0.5, 1, 1])  # the tie at 2 moves both rates at once
    assert auroc([1, 2], [2, 3]) == pytest.approx(3.5 / 4)
    assert auroc([1, 1, 1], [1, 1]) == pytest.approx(0.5)  # all tied: a coin toss
    assert auroc([0, 1], [2, 3]) == 1.0 and auroc([2, 3], [0, 1]) == 0.0


def test_auroc_matches_sklearn_with_many_ties():
    rng = np.random.default_rng(0)
    normal, anomalous = rng.integers(0, 6, 300), rng.integers(2, 9, 200)
    expected = roc_auc_score(np.r_[np.zeros(300), np.ones(200)], np.r_[normal, anomalous])
    assert auroc(torch.tensor(normal), torch.tensor(anomalous)) == pytest.approx(expected)
    with pytest.raises(ValueError, match="at least one normal and one anomalous"):
        auroc([], [1.0])


def test_flag_counts_precision_recall():
    c = flag_counts([0.1, 0.2, 0.3, 0.4], [0.3, 0.5], threshold=0.3)  # flags score >= 0.3
    assert (c.true_positives, c.false_positives, c.false_negatives, c.true_negatives) == (
        2,
        2,
        0,
        2,
    )
    assert c.precision == 0.5 and c.recall == 1.0 and c.false_alarm_rate == 0.5
    assert np.isnan(flag_counts([0.1], [0.2], threshold=1.0).precision)  # nothing flagged


def test_reconstruction_errors_are_per_pixel_mse():
    torch.manual_seed(0)
    model = DenseAutoencoder(784, (16,), 4)
    errors = mse_per_pixel_per_image(model, IMAGES, batch_size=4)  # two batches
    with torch.no_grad():
        expected = ((model(IMAGES) - IMAGES) ** 2).mean(dim=(1, 2, 3))
    assert errors.shape == (6,)
    torch.testing.assert_close(errors, expected)


def test_figures_and_threshold_slider():
    normal, anomalous = torch.rand(6, generator=G) * 0.1, 0.05 + torch.rand(6, generator=G)
    assert len(error_histograms_figure(normal, anomalous, threshold=0.05).axes[0].patches) > 0
    assert "AUROC" in roc_figure(normal, anomalous).axes[0].get_legend().get_texts()[0].get_text()
    fig = threshold_figure(normal, anomalous, IMAGES, 1 - IMAGES, threshold=0.08)
    c = flag_counts(normal, anomalous, 0.08)
    assert f"recall {c.recall:.3f}" in fig._suptitle.get_text()
    assert f"precision {c.precision:.3f} (at 50% anomalies)" in fig._suptitle.get_text()
    rare = threshold_figure(normal, anomalous[:2], IMAGES, 1 - IMAGES, threshold=0.08)
    assert "(at 25% anomalies)" in rare._suptitle.get_text()  # 2 of 8 images: precision's context
    roc_legend = [
        t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()
    ]
    assert any(text.startswith("autoencoder") for text in roc_legend)
    named = threshold_view(normal, anomalous, IMAGES, 1 - IMAGES, label="stacked AE").figure
    assert any(t.get_text().startswith("stacked AE") for ax in named.axes if ax.get_legend()
               for t in ax.get_legend().get_texts())  # fmt: skip
    view = threshold_view(normal, anomalous, IMAGES, 1 - IMAGES)
    assert view.controls["threshold"].continuous_update is False
    low = view.controls["threshold"].min
    view.controls["threshold"].value = low  # everything flagged: recall 1
    assert "recall 1.000" in view.figure._suptitle.get_text()
    assert f"threshold {low:.4f}" in view.figure._suptitle.get_text()


def test_out_of_distribution_set_never_reuses_the_fallback_digits():
    split = Split(IMAGES, torch.zeros(6, dtype=torch.int64))
    real = ImageData("Fashion-MNIST", "files", ("a",), split, split, split)
    x, name = out_of_distribution_images(real, n=4)
    assert torch.equal(x, IMAGES[:4]) and "Fashion-MNIST" in name
    fallback = ImageData("digits (embedded fallback)", "none", ("a",), split, split, split)
    x, name = out_of_distribution_images(fallback, n=5)
    assert x.shape == (5, 1, 28, 28) and "photo" in name
    assert 0 <= photo_patches(3).min() and photo_patches(3).max() <= 1


def test_roc_figure_on_a_log_axis_draws_zero_false_alarms_at_one():
    normal, anomalous = torch.arange(10.0), torch.arange(5.0, 25.0)  # the top scores: all anomalies
    ax = roc_figure(normal, anomalous, log_fpr=True).axes[0]
    assert ax.get_xscale() == "log" and ax.get_xlim()[0] == pytest.approx(0.1)
    curve = ax.get_lines()[0].get_xydata()  # (points, 2): fpr, tpr
    assert curve[:, 0].min() == pytest.approx(0.1)  # fpr 0 drawn at one false alarm in ten
    at_left_edge = curve[curve[:, 0] == curve[:, 0].min(), 1]  # recall at zero or one false alarm
    assert at_left_edge.max() == pytest.approx(0.8)  # 15 of 20 with none, 16 with one
    linear = roc_figure(normal, anomalous).axes[0]
    assert linear.get_xscale() == "linear" and linear.get_lines()[0].get_xydata()[:, 0].min() == 0


def test_anomalies_identical_to_normal_images_are_reported():
    split = Split(IMAGES, torch.zeros(6, dtype=torch.int64))
    same_files = ImageData("Fashion-MNIST", "files", ("a",), split, split, split)
    with pytest.warns(UserWarning, match="4 of the 4 anomalies are identical"):
        x, name = out_of_distribution_images(same_files, n=4, normal=IMAGES)
    assert "WARNING" in name and "COURSE_MNIST_DIR" in name and torch.equal(x, IMAGES[:4])
    other = 1 - IMAGES  # no image in common with IMAGES
    assert shared_image_count(other, IMAGES) == 0 and shared_image_count(IMAGES[:2], IMAGES) == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a distinct set must not warn
        x, name = out_of_distribution_images(same_files, n=4, normal=1 - IMAGES)
    assert "WARNING" not in name


def test_precision_depends_on_prevalence_and_matches_counts():
    # recall 0.8, false-alarm rate 0.05: at 50% prevalence precision 0.8/0.85, at 1% far lower
    assert abs(precision_at_prevalence(0.8, 0.05, 0.5) - 0.8 / 0.85) < 1e-12
    assert precision_at_prevalence(0.8, 0.05, 0.01) < 0.15
    normal, anomalous = torch.arange(100.0), torch.arange(50.0, 60.0)  # 1 in 11 is anomalous
    c = flag_counts(normal, anomalous, threshold=55)  # flags 55..59 and 55..99: 5 of 50 right
    assert c.precision == pytest.approx(0.1, abs=1e-12)  # 5 / (5 + 45), counted by hand
    prevalence = len(anomalous) / (len(normal) + len(anomalous))  # recall 0.5, false alarms 0.45
    assert precision_at_prevalence(c.recall, c.false_alarm_rate, prevalence) == pytest.approx(
        0.1, abs=1e-12
    )  # Bayes' rule at the sample's own prevalence gives the counted precision
    with pytest.raises(ValueError, match="between 0 and 1"):
        precision_at_prevalence(0.8, 0.05, 0.0)


def test_histograms_are_densities_of_log10_error():
    normal, anomalous = torch.full((50,), 1e-3), torch.full((50,), 1e-1)
    ax = error_histograms_figure(normal, anomalous, threshold=1e-2).axes[0]
    bars = ax.patches
    half = len(bars) // 2  # the normal set's bars come first, then the anomalies'
    for part in (bars[:half], bars[half:]):
        assert abs(sum(p.get_height() * p.get_width() for p in part) - 1) < 1e-6  # densities
    lefts = [p.get_x() for p in bars if p.get_height() > 0]
    assert min(lefts) >= -3.01 and max(lefts) <= -1.0  # the axis is log10(error): -3 .. -1
    assert abs(ax.lines[0].get_xdata()[0] - (-2)) < 1e-9  # the threshold drawn at log10(t)


def test_roc_overlay_draws_the_diagonal_once():
    normal, anomalous = torch.rand(20, generator=G), 0.3 + torch.rand(20, generator=G)
    ax = roc_figure(normal, anomalous, label="a").axes[0]
    roc_figure(normal, -anomalous, label="b", ax=ax, color="tab:green", chance=False)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert len(ax.lines) == 3 and sum("coin toss" in t for t in labels) == 1


def test_rank_correlation_on_hand_made_cases():
    # one swapped pair of four: 1 - 6 * sum(d^2) / (n (n^2 - 1)) = 1 - 6 * 2 / 60 = 0.8
    assert rank_correlation([1, 2, 3, 4], [10, 30, 20, 40]) == pytest.approx(0.8)
    # only the order counts: any increasing transform gives +1 (a Pearson correlation would not)
    x = torch.tensor([0.1, 0.5, 1.0, 2.0, 4.0])
    assert rank_correlation(x, torch.exp(3 * x)) == pytest.approx(1.0)
    assert rank_correlation(x, -(x**3)) == pytest.approx(-1.0)


def test_rank_correlation_matches_scipy_with_ties():
    from scipy.stats import spearmanr

    rng = np.random.default_rng(1)
    a = rng.integers(0, 5, 200)  # many ties in both
    b = a + rng.integers(0, 4, 200)
    expected = spearmanr(a, b).statistic
    assert rank_correlation(torch.tensor(a), torch.tensor(b)) == pytest.approx(expected)
    # ties must share their mean rank: ranking them 0, 1, 2 in order of appearance would give 1.0
    assert rank_correlation([1, 1, 1, 2], [1, 2, 3, 4]) == pytest.approx(3 / 15**0.5)


def test_rank_correlation_rejects_what_has_no_order():
    with pytest.raises(ValueError, match="same images"):
        rank_correlation([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="every image has the same value"):
        rank_correlation([1.0, 2.0, 3.0], [5.0, 5.0, 5.0])


def test_matched_subsets_by_hand():
    # common range [2, 3]: the normal images 2 and 3 and the anomalous 2 and 3 (one bin)
    idx_n, idx_a = matched_subsets([0.0, 1.0, 2.0, 3.0], [2.0, 3.0, 4.0, 5.0], n_bins=1)
    assert idx_n.tolist() == [2, 3] and idx_a.tolist() == [0, 1]


def test_matched_subsets_remove_what_the_covariate_alone_separates():
    g = np.random.default_rng(0)
    normal, anomalous = g.normal(0, 1, 4000), g.normal(1, 1, 4000)
    assert auroc(normal, anomalous) > 0.7  # before: the covariate separates the groups
    idx_n, idx_a = matched_subsets(normal, anomalous, n_bins=20, seed=0)
    assert len(idx_n) == len(idx_a) > 1000
    assert len(set(idx_n.tolist())) == len(idx_n) and len(set(idx_a.tolist())) == len(idx_a)
    assert abs(auroc(normal[idx_n.numpy()], anomalous[idx_a.numpy()]) - 0.5) < 0.03  # after: not
    again = matched_subsets(normal, anomalous, n_bins=20, seed=0)
    assert torch.equal(again[0], idx_n) and torch.equal(again[1], idx_a)  # seeded


def test_matched_subsets_refuse_groups_that_do_not_overlap():
    with pytest.raises(ValueError, match="matched_subsets expects two groups whose values overlap"):
        matched_subsets([0.0, 1.0], [2.0, 3.0])
    with pytest.raises(ValueError, match="n_bins"):
        matched_subsets([0.0, 1.0], [0.5, 2.0], n_bins=0)


def test_auroc_difference_se_is_zero_for_the_same_detector_and_paired():
    g = np.random.default_rng(1)
    normal, anomalous = g.normal(0, 1, 200), g.normal(1, 1, 200)
    assert auroc_difference_se((normal, anomalous), (normal, anomalous)) == 0.0
    # a detector that adds the same shift to every score orders the images identically
    assert auroc_difference_se((normal, anomalous), (normal + 5, anomalous + 5)) == 0.0


def test_auroc_difference_se_matches_the_spread_over_fresh_samples():
    """Against a constant detector (AUROC 0.5 always), the bootstrap SE from ONE sample must be
    close to the true spread of the AUROC over many fresh samples of the same distributions."""
    g = np.random.default_rng(2)
    fresh = [auroc(g.normal(0, 1, 300), g.normal(1, 1, 300)) for _ in range(400)]
    true_se = np.std(fresh, ddof=1)
    normal, anomalous = g.normal(0, 1, 300), g.normal(1, 1, 300)
    flat = (np.zeros(300), np.zeros(300))
    se = auroc_difference_se((normal, anomalous), flat, n_boot=400, seed=0)
    assert 0.8 * true_se < se < 1.25 * true_se


def test_auroc_difference_se_refuses_scores_of_different_images():
    with pytest.raises(
        ValueError, match="auroc_difference_se expects both detectors scored on the same"
    ):
        auroc_difference_se(([0.1, 0.2], [0.3]), ([0.1], [0.3]))


def test_fpr_at_tpr_by_hand_and_against_sklearn():
    """Catching both anomalies (0.35, 0.5) needs t = 0.35, which also flags the normal 0.4."""
    assert fpr_at_tpr([0.1, 0.2, 0.3, 0.4], [0.35, 0.5]) == 0.25
    assert fpr_at_tpr([0.1, 0.2, 0.3, 0.4], [0.35, 0.5], tpr=0.5) == 0.0  # t = 0.5 catches half
    from sklearn.metrics import roc_curve as sk_roc_curve

    rng = np.random.default_rng(0)
    normal, anomalous = rng.normal(0, 1, 300), rng.normal(1.5, 1, 200)
    fpr, tpr, _ = sk_roc_curve(np.r_[np.zeros(300), np.ones(200)], np.r_[normal, anomalous])
    assert fpr_at_tpr(normal, anomalous) == pytest.approx(fpr[np.argmax(tpr >= 0.95)])
