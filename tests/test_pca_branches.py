"""``PCA.fit``'s two branches give one answer, the answer of NumPy's SVD, in float32.

``PCA.fit`` diagonalises the covariance (``eigh`` in float64) when N >= 2D, and takes the SVD of
the centred data otherwise; CI's no-data run and lesson 01 at full size take different ones.
Here the SAME cloud is fitted both ways: N = 2D - 1 points (SVD branch) and the same points plus
one at their mean (N = 2D, covariance branch). That extra point changes neither the mean nor the
directions, and scales every variance by (2D - 1) / 2D (the covariance is normalised by N).

Mutants these tests catch (each seen failing): the covariance branch normalised by N - 1, or
without the ``flip`` (smallest variance first), or returning float64; the SVD branch without
centring, or with s^2 / (N - 1); the branch test written ``n > 2 * d``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_utils.pca import PCA

D, K = 16, 5


def _cloud(n: int) -> torch.Tensor:
    """n float32 points in D dimensions, well-separated variances, far from the origin: (n, D)."""
    g = torch.Generator().manual_seed(0)
    scales = 2.0 ** -torch.arange(D, dtype=torch.float64)  # std 1, 1/2, 1/4, ...
    rotation, _ = torch.linalg.qr(torch.randn(D, D, generator=g, dtype=torch.float64))
    points = torch.randn(n, D, generator=g, dtype=torch.float64) * scales @ rotation.T
    return (points + 3.0).float()  # an offset: forgetting to centre shows


def _numpy_reference(x: torch.Tensor, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Variances (min(N, D),) and the first k directions (k, D) by NumPy's SVD in float64."""
    data = x.double().numpy()
    centred = data - data.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    return s**2 / len(data), vt[:k]


def _fit_spying(x: torch.Tensor, monkeypatch) -> tuple[PCA, list[str]]:
    """Fit PCA(K) on x and record which torch.linalg routine did the work."""
    calls: list[str] = []
    for name in ("svd", "eigh"):
        real = getattr(torch.linalg, name)

        def spy(*args, _real=real, _name=name, **kwargs):
            calls.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(torch.linalg, name, spy)
    pca = PCA(K).fit(x)
    monkeypatch.undo()
    return pca, calls


def _same_directions(a: np.ndarray, b: np.ndarray) -> None:
    """Rows of a and b are the same unit vectors up to sign."""
    cosines = np.abs(np.sum(a * b, axis=1))
    np.testing.assert_allclose(cosines, 1.0, atol=1e-4)


@pytest.mark.parametrize(("n", "branch"), [(2 * D - 1, "svd"), (2 * D, "eigh")])
def test_each_branch_matches_numpy_svd_in_float32(n, branch, monkeypatch):
    x = _cloud(2 * D - 1)
    if n == 2 * D:
        x = torch.cat([x, x.mean(dim=0, keepdim=True)])  # one more point, at the mean
    pca, calls = _fit_spying(x, monkeypatch)
    assert calls == [branch], f"N = {n}, D = {D}: expected the {branch} branch, ran {calls}"
    assert pca.mean.dtype == pca.components.dtype == pca.eigenvalues.dtype == torch.float32
    assert pca.components.shape == (K, D) and pca.eigenvalues.shape == (D,)
    variances, directions = _numpy_reference(x, K)
    np.testing.assert_allclose(pca.eigenvalues.numpy(), variances, rtol=1e-4,
                               atol=1e-6 * variances[0])  # fmt: skip
    _same_directions(pca.components.numpy(), directions)
    np.testing.assert_allclose(pca.mean.numpy(), x.double().mean(dim=0).numpy(), atol=1e-5)


def test_the_two_branches_agree_on_the_same_cloud(monkeypatch):
    x = _cloud(2 * D - 1)
    by_svd, calls_svd = _fit_spying(x, monkeypatch)
    with_mean = torch.cat([x, x.mean(dim=0, keepdim=True)])  # N = 2D: the covariance branch
    by_eigh, calls_eigh = _fit_spying(with_mean, monkeypatch)
    assert (calls_svd, calls_eigh) == (["svd"], ["eigh"])
    _same_directions(by_svd.components.numpy(), by_eigh.components.numpy())
    scale = (2 * D - 1) / (2 * D)  # the same squared deviations, divided by one more point
    np.testing.assert_allclose(by_eigh.eigenvalues.numpy(), by_svd.eigenvalues.numpy() * scale,
                               rtol=1e-4, atol=1e-6 * float(by_svd.eigenvalues[0]))  # fmt: skip
    np.testing.assert_allclose(by_eigh.mean.numpy(), by_svd.mean.numpy(), atol=1e-6)
    residual = [((x - p.reconstruct(x)) ** 2).sum(1).mean().item() for p in (by_svd, by_eigh)]
    assert residual[0] == pytest.approx(residual[1], rel=1e-3)
