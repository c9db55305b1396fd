"""course_utils.pca and the lesson-01 claim: a linear autoencoder finds the PCA subspace."""

import math

import numpy as np
import pytest
import torch

from course_utils.losses import mean_sse_per_image
from course_utils.models import LinearAutoencoder
from course_utils.pca import PCA, pca_reconstruction_figure, pca_view, principal_angles_deg
from course_utils.toy_manifolds import toy_cloud
from course_utils.train import fit


@pytest.fixture
def x():
    g = torch.Generator().manual_seed(0)
    return torch.randn(200, 6, generator=g, dtype=torch.float64) @ torch.randn(
        6, 6, generator=g, dtype=torch.float64
    )


def test_matches_numpy_svd(x):
    pca = PCA(3).fit(x)
    xc = x.numpy() - x.numpy().mean(axis=0)
    _, s, vt = np.linalg.svd(xc, full_matrices=False)
    np.testing.assert_allclose(pca.eigenvalues.numpy(), s**2 / len(xc), rtol=1e-10)
    for j in range(3):  # directions agree up to sign
        assert abs(float(np.dot(pca.components[j].numpy(), vt[j]))) == pytest.approx(1, abs=1e-10)
    np.testing.assert_allclose(
        pca.components.numpy() @ pca.components.numpy().T, np.eye(3), atol=1e-10
    )


def test_reconstruction_error_is_the_sum_of_discarded_eigenvalues(x):
    full = PCA(6).fit(x)
    for k in range(1, 6):
        small = full.truncated(k)
        err = mean_sse_per_image(small.reconstruct(x), x).item()
        assert err == pytest.approx(full.eigenvalues[k:].sum().item(), rel=1e-10)
    assert full.explained_variance_ratio.sum().item() == pytest.approx(1.0)


def test_encode_decode_shapes_and_errors(x):
    pca = PCA(2).fit(x)
    assert pca.encode(x).shape == (200, 2) and pca.decode(pca.encode(x)).shape == (200, 6)
    with pytest.raises(ValueError, match=r"2-D tensor.*x.flatten\(1\)"):
        pca.fit(x.view(200, 1, 2, 3))
    with pytest.raises(ValueError, match="at most 6"):
        PCA(7).fit(x)
    with pytest.raises(ValueError, match="between 1 and 2"):
        pca.truncated(3)


def test_principal_angles_known_cases():
    e = torch.eye(3, dtype=torch.float64)
    assert principal_angles_deg(e[:, :2], e[:, :2]).tolist() == pytest.approx([0, 0], abs=1e-6)
    assert principal_angles_deg(e[:, [0]], e[:, [1]]).item() == pytest.approx(90)
    tilted = torch.tensor([[math.cos(math.radians(30))], [math.sin(math.radians(30))], [0.0]])
    assert principal_angles_deg(e[:, [0]], tilted).item() == pytest.approx(30)
    mixed = e[:, :2] @ torch.tensor([[2.0, 1.0], [0.5, -3.0]], dtype=torch.float64)  # new basis
    assert principal_angles_deg(mixed, e[:, :2]).max().item() == pytest.approx(0, abs=1e-6)
    with pytest.raises(ValueError, match="same D"):
        principal_angles_deg(torch.zeros(3, 2), torch.zeros(4, 2))


def test_linear_autoencoder_finds_the_pca_subspace_on_the_toy_cloud():
    cloud = toy_cloud(500, seed=0)
    pca = PCA(2).fit(cloud)
    torch.manual_seed(0)
    ae = LinearAutoencoder(3, 2)
    fit(ae, cloud, epochs=200, batch_size=64, lr=1e-2, verbose=False)
    with torch.no_grad():
        ae_err, pca_err = (
            mean_sse_per_image(ae(cloud), cloud).item(),
            mean_sse_per_image(pca.reconstruct(cloud), cloud).item(),
        )
    assert pca_err <= ae_err * (1 + 1e-6)  # PCA is the optimum...
    assert ae_err <= 1.02 * pca_err  # ...and the autoencoder gets within 2% of it
    assert principal_angles_deg(ae.decoder.weight.detach(), pca.components.T).max() < 5.0


IMAGES = torch.rand(12, 1, 28, 28, generator=torch.Generator().manual_seed(0))


def test_pca_reconstructions_improve_with_k_and_slider_follows():
    x = IMAGES
    pca = PCA(10).fit(x.flatten(1))
    fig = pca_reconstruction_figure(pca, x[:4], 3)
    assert "3 principal components keep" in fig._suptitle.get_text()
    errors = []
    for k in (1, 5, 10):
        recon = torch.tensor(pca_reconstruction_figure(pca, x[:4], k).axes[4].images[0].get_array())
        errors.append(((recon - x[0, 0]) ** 2).sum().item())
    assert errors[0] > errors[1] > errors[2]
    view = pca_view(pca, x[:4], k=50)  # clipped to the 10 fitted components
    assert view.controls["k"].value == 10 and view.controls["k"].continuous_update is False
    view.controls["k"].value = 2
    assert "2 principal components" in view.figure._suptitle.get_text()


def test_errors_for_every_k_match_reconstructing_k_by_k(x):
    from course_utils.pca import errors_for_every_k

    pca = PCA(5).fit(x[:150])
    held_out = x[150:]
    curve = errors_for_every_k(pca, held_out)
    assert curve.shape == (5,)
    for k in range(1, 6):
        direct = mean_sse_per_image(pca.truncated(k).reconstruct(held_out), held_out).item()
        assert curve[k - 1].item() == pytest.approx(direct, rel=1e-8)
    on_fit = errors_for_every_k(pca, x[:150])
    assert on_fit[1].item() == pytest.approx(pca.eigenvalues[2:].sum().item(), rel=1e-8)
    with pytest.raises(ValueError, match="2-D tensor"):
        errors_for_every_k(pca, x.view(200, 1, 2, 3))


def test_subspace_projection_error_splits_an_oblique_map_from_a_wrong_subspace(x):
    """The orthogonal projection onto PCA's own span reaches PCA's error; a rotated span costs
    more; an independent computation (numpy lstsq) gives the same number."""
    from course_utils.pca import subspace_projection_error

    pca = PCA(6).fit(x)
    on_pca = subspace_projection_error(x, pca.components[:3].T * 5.0, pca.mean)  # any scaling
    assert on_pca == pytest.approx(pca.eigenvalues[3:].sum().item(), rel=1e-9)
    other = pca.components[[0, 1, 3]].T  # swaps v3 for v4: costs lambda_3 - lambda_4
    cost = (pca.eigenvalues[2] - pca.eigenvalues[3]).item()
    assert subspace_projection_error(x, other, pca.mean) - on_pca == pytest.approx(cost, rel=1e-9)
    b = torch.randn(6, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    xc = (x - x.mean(0)).numpy()
    coef, *_ = np.linalg.lstsq(b.numpy(), xc.T, rcond=None)  # least squares = orthogonal proj.
    expected = ((xc.T - b.numpy() @ coef) ** 2).sum(axis=0).mean()
    assert subspace_projection_error(x, b, x.mean(0)) == pytest.approx(expected, rel=1e-9)
    with pytest.raises(ValueError, match="not its transpose"):
        subspace_projection_error(x, b.T, x.mean(0))


def test_clearly_kept_directions_counts_eigenvalues_well_above_the_cut():
    from course_utils.pca import clearly_kept_directions

    eig = torch.tensor([10.0, 5.0, 2.5, 2.2, 2.0, 1.0])
    assert clearly_kept_directions(eig, 3, ratio=1.2) == 2  # 2.5 < 1.2 * 2.2
    assert clearly_kept_directions(eig, 4, ratio=1.2) == 3  # 2.2 < 2.4 = 1.2 * 2.0; 2.5 >= 2.4
    assert clearly_kept_directions(eig, 5, ratio=1.2) == 5
    with pytest.raises(ValueError, match="0 < k < 6"):
        clearly_kept_directions(eig, 6)


def test_subspace_cost_by_direction_splits_the_excess_over_pca():
    from course_utils.pca import subspace_cost_by_direction, subspace_projection_error

    g = torch.Generator().manual_seed(0)
    x = torch.randn(400, 6, generator=g) * torch.tensor([5.0, 4.0, 3.0, 2.0, 1.0, 0.5])
    pca = PCA(6).fit(x.double())
    v, lam = pca.components, pca.eigenvalues
    # PCA's own subspace costs nothing anywhere
    zero = torch.zeros(6, dtype=torch.float64)
    assert torch.allclose(subspace_cost_by_direction(pca, v[:3].T), zero, atol=1e-9)
    # swap v3 for v4: v3's variance is lost, v4's gained, nothing else moves (by hand)
    swapped = subspace_cost_by_direction(pca, torch.stack([v[0], v[1], v[3]], dim=1))
    expected = torch.zeros(6, dtype=torch.float64)
    expected[2], expected[3] = lam[2], -lam[3]
    assert torch.allclose(swapped, expected, atol=1e-9)
    # any subspace: the entries add up to its orthogonal-projection error minus PCA's error
    basis = torch.randn(6, 3, generator=g).double()
    total = subspace_projection_error(x.double(), basis, pca.mean) - lam[3:].sum().item()
    assert subspace_cost_by_direction(pca, basis).sum().item() == pytest.approx(total, rel=1e-9)
    with pytest.raises(ValueError, match="not its transpose"):
        subspace_cost_by_direction(pca, basis.T)


def test_share_inside_subspace_matches_an_explicit_projection_matrix():
    from course_utils.pca import share_inside_subspace

    g = torch.Generator().manual_seed(3)
    basis = torch.randn(12, 3, generator=g, dtype=torch.float64)  # (D, k), not orthonormal
    v, _ = torch.linalg.qr(torch.randn(12, 12, generator=g, dtype=torch.float64))
    directions = v.T  # (12, 12) orthonormal rows
    p = basis @ torch.linalg.pinv(basis)  # (D, D) orthogonal projector, built independently
    expected = (directions @ p.T).pow(2).sum(dim=1)
    shares = share_inside_subspace(directions, basis)
    assert torch.allclose(shares, expected, atol=1e-10)
    assert math.isclose(shares.sum().item(), 3.0, abs_tol=1e-10)  # trace of P = k
    unit = basis.T / basis.T.norm(dim=1, keepdim=True)  # the basis's own directions lie inside
    assert torch.allclose(share_inside_subspace(unit, basis), torch.ones(3, dtype=torch.float64))
    with pytest.raises(ValueError, match="same D"):
        share_inside_subspace(directions, basis.T)
