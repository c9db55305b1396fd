"""course_utils.toy_manifolds: lesson 01's toys (a flat cloud; PCA's line vs a bending AE)."""

import matplotlib
import pytest
import torch
from mpl_toolkits.mplot3d.art3d import Poly3DCollection
from torch import nn

from course_utils.losses import mean_sse_per_image
from course_utils.pca import PCA
from course_utils.toy_manifolds import (
    best_plane,
    curve_fit_figure,
    noisy_arc,
    plane_fit_figure,
    toy_cloud,
)
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


def _plane_normal_of_toy_cloud() -> torch.Tensor:
    """The normal of toy_cloud's plane, from its construction (not from any fit): (3,)."""
    a, b = torch.tensor(0.6), torch.tensor(-0.4)
    rot_x = torch.tensor([[1, 0, 0], [0, a.cos(), -a.sin()], [0, a.sin(), a.cos()]])
    rot_z = torch.tensor([[b.cos(), -b.sin(), 0], [b.sin(), b.cos(), 0], [0, 0, 1]])
    return (rot_z @ rot_x) @ torch.tensor([0.0, 0.0, 1.0])  # the rotated third axis


def test_best_plane_finds_the_plane_the_cloud_was_built_on():
    flat = toy_cloud(300, noise=0.0, seed=2)  # exactly on the plane
    mean, axes = best_plane(flat)
    assert mean.shape == (3,) and axes.shape == (3, 3)
    torch.testing.assert_close(mean, flat.double().mean(dim=0))
    normal = _plane_normal_of_toy_cloud().double()
    assert abs(float(axes[2] @ normal)) == pytest.approx(1.0, abs=1e-5)  # row 2 is the normal
    assert ((flat.double() - mean) @ axes[2]).abs().max() < 1e-5  # every point on the plane
    torch.testing.assert_close(axes @ axes.T, torch.eye(3, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"\(N, 3\), but received \(5, 2\)"):
        best_plane(torch.zeros(5, 2))


def test_plane_fit_figure_draws_the_plane_and_an_edge_on_view_of_the_thin_direction():
    cloud = toy_cloud(500, noise=0.15, seed=0)
    fig = plane_fit_figure(cloud, title="t")
    ax3d, side = fig.axes
    assert ax3d.get_title() == "from an angle"
    assert side.get_title() == "edge-on: looking along the plane"
    surfaces = [c for c in ax3d.collections if isinstance(c, Poly3DCollection)]
    assert len(surfaces) == 1  # the plane is drawn
    corners = torch.tensor(surfaces[0]._faces[0], dtype=torch.float64)  # (4, 3), matplotlib 3.x
    normal = _plane_normal_of_toy_cloud().double()
    offsets = (corners - cloud.double().mean(dim=0)) @ normal
    assert offsets.abs().max() < 0.05  # the drawn square lies in the cloud's plane
    flat = torch.tensor(side.collections[0].get_offsets().data)  # (500, 2) edge-on coordinates
    assert flat.shape == (500, 2)
    assert flat[:, 0].std() > 1.5  # along the widest direction (standard deviation 2)
    assert flat[:, 1].std() < 0.2  # off the plane (noise 0.15): the thin direction
    assert side.get_ylabel() == "distance off the plane"


def test_plane_fit_figure_puts_pca_reconstructions_on_the_plane_and_checks_shapes():
    cloud = toy_cloud(200, seed=1)
    fig = plane_fit_figure(cloud, PCA(2).fit(cloud).reconstruct(cloud))
    side = fig.axes[1]
    data, recon = (torch.tensor(c.get_offsets().data) for c in side.collections[:2])
    assert recon[:, 1].abs().max() < 1e-4 < data[:, 1].abs().max()  # on the line, data off it
    assert len(side.lines) == 1 + 20  # the plane's line and one error segment per 10th point
    segments = [line for line in side.lines if line.get_label() != "best plane (edge-on)"]  # (20,)
    for line in segments:  # visible: thick, dark (unlike the blue/red points, green plane)
        assert line.get_linewidth() >= 1.5
        assert max(matplotlib.colors.to_rgb(line.get_color())) < 0.3
    assert "error segment" in side.get_legend_handles_labels()[1]  # named once in the legend
    with pytest.raises(ValueError, match="shaped like the points"):
        plane_fit_figure(cloud, cloud[:10])


def test_curve_fit_figure_height_follows_the_data_so_no_empty_band_remains():
    """Equal axes on a wide, flat arc used to leave a large empty band under the title: the
    panel height now follows the data's height / width."""
    arc = noisy_arc(n=200, seed=0)  # about 2.2 wide, 1.2 high
    fig = curve_fit_figure(arc, {"a": arc})
    width, height = fig.get_size_inches()
    assert height < 0.85 * width
    tall = torch.stack([arc[:, 1], arc[:, 0]], dim=1)  # the same arc turned on its side
    assert curve_fit_figure(tall, {"a": tall}).get_size_inches()[1] > height
