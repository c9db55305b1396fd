"""course_utils.pca.error_rise_for_rotation and its view: the cheap turn across a near-tie."""

import math

import pytest
import torch

from course_utils.pca import PCA, error_rise_for_rotation, rotation_figure, rotation_view

SCALES = torch.tensor([3.0, 2.0, 1.5, 0.5, 0.2], dtype=torch.float64)  # std along 5 axes
X = torch.randn(4000, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * SCALES
# a random rotation, so the principal directions are not the coordinate axes
Q = torch.linalg.qr(
    torch.randn(5, 5, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
).Q
X = X @ Q.T + 4.0  # and off the origin: the mean must be subtracted
PCA4 = PCA(n_components=4).fit(X)


@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize("theta", [0.0, 20.0, 45.0, 90.0])
def test_measured_rise_equals_the_closed_form(k, theta):
    measured, formula = error_rise_for_rotation(PCA4, X, k, theta)
    lam = PCA4.eigenvalues
    closed_form = (lam[k - 1] - lam[k]).item() * math.sin(math.radians(theta)) ** 2
    assert formula == pytest.approx(closed_form, rel=1e-12, abs=1e-12)
    assert measured == pytest.approx(closed_form, rel=1e-6, abs=1e-9)
    assert measured >= -1e-9  # turning away from PCA never lowers the error on the fitting data


def test_a_wrong_sign_or_a_missing_factor_fails():
    measured, _ = error_rise_for_rotation(PCA4, X, 2, 30.0)
    lam = PCA4.eigenvalues
    assert measured > 0
    assert measured == pytest.approx((lam[1] - lam[2]).item() * 0.25, rel=1e-6)  # sin^2 30° = 1/4
    for wrong in (
        (lam[2] - lam[1]) * 0.25,
        (lam[1] - lam[2]) * 0.5,
        lam[1] * 0.25,
        lam[1] - lam[2],
    ):
        assert measured != pytest.approx(wrong.item(), rel=1e-3)


def test_the_rise_is_the_full_gap_at_90_degrees_and_nearly_nothing_at_a_tie():
    tied = torch.randn(20000, 3, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    tied = tied * torch.tensor([2.0, 1.0, 1.0], dtype=torch.float64)  # lambda_2 ~ lambda_3
    pca = PCA(n_components=3).fit(tied)
    measured, formula = error_rise_for_rotation(pca, tied, 2, 90.0)
    assert measured == pytest.approx(formula, rel=1e-6, abs=1e-9)
    assert measured < 0.05 * pca.eigenvalues[2].item()  # a near-tie: the swap costs little


def test_k_must_leave_a_next_direction():
    with pytest.raises(ValueError, match="k must be between 1 and 3"):
        error_rise_for_rotation(PCA4, X, 4, 10.0)
    with pytest.raises(ValueError, match="2-D"):
        error_rise_for_rotation(PCA4, X[0], 1, 10.0)


def test_rotation_figure_marks_the_measured_point_on_the_curve():
    fig = rotation_figure({"toy": (PCA4, X, 2)}, 60.0)
    (ax,) = fig.axes
    curve, point = ax.lines[:2]
    floor = PCA4.eigenvalues[2:].sum().item()
    measured, _ = error_rise_for_rotation(PCA4, X, 2, 60.0)
    assert point.get_xdata()[0] == 60.0
    assert point.get_ydata()[0] == pytest.approx(100 * measured / floor)
    assert curve.get_ydata()[60] == pytest.approx(100 * measured / floor, rel=1e-5)  # grid: 0..90
    assert ax.get_xlabel() and ax.get_ylabel()


def test_rotation_view_callback_redraws_at_the_new_angle():
    view = rotation_view({"a": (PCA4, X, 1), "b": (PCA4, X, 3)}, theta_deg=30.0)
    assert len(view.figure.axes) == 2
    assert view.figure.axes[0].lines[1].get_xdata()[0] == 30.0
    view.controls["theta"].value = 75.0
    assert all(ax.lines[1].get_xdata()[0] == 75.0 for ax in view.figure.axes)
    assert "at 75°" in view.figure.axes[1].get_title()
