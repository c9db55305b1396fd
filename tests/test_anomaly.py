"""Lesson 02 anomaly detection: scores, ROC/AUROC by hand, precision/recall, figures, slider."""

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from course_utils.anomaly import (
    auroc,
    error_histograms_figure,
    flag_counts,
    out_of_distribution_images,
    photo_patches,
    reconstruction_errors,
    roc_curve,
    roc_figure,
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
    errors = reconstruction_errors(model, IMAGES, batch_size=4)  # two batches
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
