"""course_utils.toy_manifolds: lesson 01's toys (a flat cloud; PCA's line vs a bending AE)."""

import pytest
import torch
from torch import nn

from course_utils.losses import mean_sse_per_image
from course_utils.pca import PCA
from course_utils.toy_manifolds import curve_fit_figure, noisy_arc, toy_cloud
from course_utils.train import fit, predict


def test_toy_cloud_is_seeded_and_nearly_flat():
    a, b = toy_cloud(300, seed=1), toy_cloud(300, seed=1)
    assert a.shape == (300, 3) and torch.equal(a, b) and not torch.equal(a, toy_cloud(300, seed=2))
    eig = torch.linalg.eigvalsh(torch.cov(a.T)).flip(0)
    assert eig[0] > 3 and 0.7 < eig[1] < 1.4 and eig[2] < 0.05


def test_the_old_place_of_toy_cloud_still_works_and_says_where_it_went():
    from course_utils.data import toy_cloud as old

    with pytest.warns(DeprecationWarning, match=r"course_utils\.toy_manifolds\.toy_cloud"):
        moved = old(200, noise=0.3, seed=4)
    assert torch.equal(moved, toy_cloud(200, noise=0.3, seed=4))
    with pytest.warns(DeprecationWarning):
        assert torch.equal(old(), toy_cloud())  # the same defaults


def test_noisy_arc_lies_near_the_half_circle_and_is_seeded():
    arc = noisy_arc(500, noise=0.0, seed=1)
    assert arc.shape == (500, 2) and arc.dtype == torch.float32
    assert torch.allclose(arc.norm(dim=1), torch.ones(500), atol=1e-5)  # on the unit circle
    assert (arc[:, 1] >= -1e-6).all()  # the upper half
    assert torch.equal(noisy_arc(50, seed=3), noisy_arc(50, seed=3))
    assert not torch.equal(noisy_arc(50, seed=3), noisy_arc(50, seed=4))
    with pytest.raises(ValueError, match="n >= 2"):
        noisy_arc(1)
    with pytest.raises(ValueError, match="noise level"):
        noisy_arc(10, noise=-1)


def test_pca_misses_the_curve_and_a_small_nonlinear_autoencoder_follows_it():
    arc = noisy_arc(600, noise=0.05, seed=0)
    pca_error = mean_sse_per_image(PCA(1).fit(arc).reconstruct(arc), arc).item()
    torch.manual_seed(0)
    ae = nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 1),
                       nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 2))  # fmt: skip
    fit(ae, arc, epochs=60, batch_size=64, lr=1e-2, verbose=False)
    ae_error = mean_sse_per_image(predict(ae, arc), arc).item()
    assert pca_error > 0.05  # the variance across the line is left out
    assert ae_error < 0.25 * pca_error


def test_curve_fit_figure_draws_one_panel_per_model_and_checks_shapes():
    arc = noisy_arc(100, seed=0)
    fig = curve_fit_figure(arc, {"a": arc, "b": arc * 0.5}, title="t")
    assert [ax.get_title() for ax in fig.axes] == ["a", "b"]
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        curve_fit_figure(torch.zeros(5, 3), {"a": torch.zeros(5, 3)})
    with pytest.raises(ValueError, match="shaped like the points"):
        curve_fit_figure(arc, {"a": arc[:10]})
