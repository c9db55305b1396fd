"""PCA by the singular value decomposition, and principal angles between subspaces (lesson 01).

``PCA.fit`` gives the same result two ways: when there are many more samples than features
(N >= 2 D, e.g. 54,000 images of 784 pixels) it diagonalises the D x D covariance in float64
with ``eigh``, which is faster than an SVD of the N x D data (docs/PERFORMANCE.md) and as
accurate for the components we keep; otherwise it takes the SVD of the centred data.

Convention: the covariance is normalised by N (not N - 1), so that the mean squared
reconstruction error per sample, ``((x - pca.reconstruct(x)) ** 2).sum(1).mean()``, equals the
sum of the discarded eigenvalues exactly on the data PCA was fitted on.
"""

from __future__ import annotations

import math

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure
from torch import Tensor

from course_utils.deprecation import deprecated_alias
from course_utils.plots import rows_figure
from course_utils.widgets import FigureView


def _check_2d(x: Tensor, who: str) -> None:
    if x.dim() != 2:
        raise ValueError(
            f"{who} expects a 2-D tensor (N samples, D features), got shape {tuple(x.shape)}. "
            "Flatten images first, e.g. x.flatten(1) turns (N, 1, 28, 28) into (N, 784)."
        )


class PCA:
    """Principal component analysis fitted by SVD of the centred data (or, equivalently and
    faster when N >= 2 D, by ``eigh`` of its covariance in float64).

    After ``fit(x)`` with x of shape (N, D):
        mean:        (D,)      the average sample
        components:  (k, D)    orthonormal rows, the principal directions, largest variance first
        eigenvalues: (min(N, D),)  variance along every principal direction (all of them)
    """

    def __init__(self, n_components: int) -> None:
        if n_components < 1:
            raise ValueError(f"n_components must be at least 1, got {n_components}.")
        self.n_components = n_components

    def fit(self, x: Tensor) -> PCA:
        """Fit on x (N, D). Returns self, so ``PCA(10).fit(x)`` works."""
        _check_2d(x, "PCA.fit")
        n, d = x.shape
        if self.n_components > min(n, d):
            raise ValueError(
                f"Asked for {self.n_components} components but x of shape {(n, d)} has at most "
                f"{min(n, d)}."
            )
        self.mean = x.mean(dim=0)  # (D,)
        if n >= 2 * d:  # covariance C = (x - mean)^T (x - mean) / N = V diag(S^2 / N) V^T
            centred = (x - self.mean).double()  # (N, D), float64 so that C keeps its precision
            values, vectors = torch.linalg.eigh(centred.T @ centred / n)  # ascending, (D,), (D, D)
            self.eigenvalues = values.flip(0).clamp_min(0).to(x.dtype)  # largest first, (D,)
            self.components = vectors.flip(1)[:, : self.n_components].T.to(x.dtype)  # (k, D)
            return self
        # x - mean = U diag(S) V^T; the rows of V^T are the principal directions.
        _, s, vt = torch.linalg.svd(x - self.mean, full_matrices=False)  # s: (min(N, D),)
        self.components = vt[: self.n_components]  # (k, D)
        self.eigenvalues = s.pow(2) / n  # variance along each direction
        return self

    @property
    def explained_variance(self) -> Tensor:
        """Variance captured by each kept component: (k,)."""
        return self.eigenvalues[: self.n_components]

    @property
    def explained_variance_ratio(self) -> Tensor:
        """Share of the total variance captured by each kept component: (k,)."""
        return self.explained_variance / self.eigenvalues.sum()

    def encode(self, x: Tensor) -> Tensor:
        """Coordinates in the principal basis: (N, D) -> (N, k)."""
        _check_2d(x, "PCA.encode")
        return (x - self.mean) @ self.components.T

    def decode(self, z: Tensor) -> Tensor:
        """Back to data space: (N, k) -> (N, D)."""
        return z @ self.components + self.mean

    def reconstruct(self, x: Tensor) -> Tensor:
        """Project onto the principal subspace: (N, D) -> (N, D)."""
        return self.decode(self.encode(x))

    def truncated(self, k: int) -> PCA:
        """The same fit with only the first k components (no refit): cheap for sliders."""
        if not 1 <= k <= self.n_components:
            raise ValueError(
                f"k must be between 1 and {self.n_components} (the kept components), got {k}."
            )
        out = PCA(k)
        out.mean, out.eigenvalues, out.components = self.mean, self.eigenvalues, self.components[:k]
        return out


def errors_for_every_k(pca: PCA, x: Tensor) -> Tensor:
    """Mean squared error per sample of PCA reconstructions of x (N, D), for k = 1..K: (K,).

    K is ``pca.n_components``. Because the principal directions are orthonormal, keeping one more
    direction removes exactly that coordinate's squared length from every residual:
        ||x - reconstruct_k(x)||^2 = ||x - mean||^2 - sum_{j <= k} z_j^2,  z = encode(x),
    so one encoding gives the whole curve (the same numbers as reconstructing k by k).
    On the data PCA was fitted on, entry k - 1 equals the sum of the discarded eigenvalues.
    """
    _check_2d(x, "errors_for_every_k")
    z = pca.encode(x).double()  # (N, K)
    total = (x.double() - pca.mean.double()).pow(2).sum(dim=1)  # (N,)
    kept = z.pow(2).cumsum(dim=1)  # (N, K): squared length captured by the first k directions
    return (total[:, None] - kept).mean(dim=0)  # (K,)


def principal_angles_deg(a: Tensor, b: Tensor) -> Tensor:
    """Angles in degrees between the subspaces spanned by the COLUMNS of a (D, k1) and b (D, k2).

    Returns min(k1, k2) angles, smallest first. All zero means one subspace contains the other;
    the largest angle tells how far apart they are. The columns need not be orthonormal.
    """
    if a.dim() != 2 or b.dim() != 2 or a.shape[0] != b.shape[0]:
        raise ValueError(
            f"principal_angles_deg expects two matrices (D, k1) and (D, k2) with the same D, got "
            f"{tuple(a.shape)} and {tuple(b.shape)}."
        )
    qa, _ = torch.linalg.qr(a.double())  # orthonormal basis of span(a): (D, k1)
    qb, _ = torch.linalg.qr(b.double())  # (D, k2)
    cosines = torch.linalg.svdvals(qa.T @ qb).clamp(-1.0, 1.0)  # (min(k1, k2),), largest first
    return torch.arccos(cosines) * (180.0 / math.pi)


def subspace_projection_error(x: Tensor, basis: Tensor, mean: Tensor) -> float:
    """Mean squared error per sample of x (N, D) projected ORTHOGONALLY onto mean + span(basis).

    ``basis`` is (D, k), any basis (e.g. a decoder's weight); it is orthonormalised first. This is
    the best any linear map with that decoder subspace can do, so for a trained linear
    autoencoder: its error - this = what its oblique (non-orthogonal) map costs, and this - PCA's
    error = what its subspace being off PCA's costs.
    """
    _check_2d(x, "subspace_projection_error")
    if basis.dim() != 2 or basis.shape[0] != x.shape[1]:
        raise ValueError(
            f"subspace_projection_error expects a basis of shape (D={x.shape[1]}, k), got "
            f"{tuple(basis.shape)}. Pass a decoder weight (D, k), not its transpose."
        )
    q, _ = torch.linalg.qr(basis.double())  # (D, k), orthonormal
    xc = x.double() - mean.double()  # (N, D)
    residual = xc - (xc @ q) @ q.T  # (N, D)
    return residual.pow(2).sum(dim=1).mean().item()


def subspace_cost_by_direction(pca: PCA, basis: Tensor) -> Tensor:
    """Where the cost of a k-dimensional subspace over PCA's sits, direction by direction: (K,).

    ``basis`` is (D, k), any basis of the subspace (e.g. a decoder's weight); K is
    ``pca.n_components``. For the orthogonal projection P onto the subspace (orthonormalised
    ``basis``), the error on the data PCA was fitted on is sum_j lambda_j ||(I - P) v_j||^2 over
    all D principal directions v_j, and PCA's is sum_{j > k} lambda_j. So the excess splits into
        entry j <= k:  lambda_j ||(I - P) v_j||^2  >= 0   (variance LOST from a kept direction)
        entry j > k:  -lambda_j ||P v_j||^2        <= 0   (variance GAINED from a discarded one)
    Summed over all D directions (K = D) this is exactly
    ``subspace_projection_error(x, basis, pca.mean)`` minus PCA's error at k; with K < D the
    directions after K are left out (they can only add gains, entries <= 0).
    """
    k = basis.shape[-1]
    if basis.dim() != 2 or basis.shape[0] != pca.components.shape[1] or k >= pca.n_components:
        raise ValueError(
            f"subspace_cost_by_direction expects a basis of shape (D={pca.components.shape[1]}, k) "
            f"with k < {pca.n_components} (the kept components), got {tuple(basis.shape)}. Pass a "
            "decoder weight (D, k), not its transpose."
        )
    q, _ = torch.linalg.qr(basis.double())  # (D, k), orthonormal
    inside = (pca.components.double() @ q).pow(2).sum(dim=1)  # (K,): ||P v_j||^2
    lam = pca.eigenvalues[: pca.n_components].double()  # (K,)
    cost = lam * (1 - inside)  # j <= k: lambda_j ||(I - P) v_j||^2
    cost[k:] = -lam[k:] * inside[k:]  # j > k: minus the variance the subspace picks up
    return cost


def share_inside_subspace(directions: Tensor, basis: Tensor) -> Tensor:
    """||P v_j||^2 for each row v_j of ``directions`` (J, D): the share of v_j inside span(basis).

    ``basis`` is (D, k), any basis (e.g. a decoder's weight); P is the orthogonal projection onto
    its span. Returns (J,) values in [0, 1]: 1 = v_j lies in the subspace, 0 = orthogonal to it.
    For orthonormal v_j (principal directions) the values over all D directions sum to k.
    """
    if directions.dim() != 2 or basis.dim() != 2 or directions.shape[1] != basis.shape[0]:
        raise ValueError(
            f"share_inside_subspace expects directions (J, D) and a basis (D, k) with the same D, "
            f"got {tuple(directions.shape)} and {tuple(basis.shape)}. Pass pca.components[:J] and "
            "a decoder weight (D, k)."
        )
    q, _ = torch.linalg.qr(basis.double())  # (D, k), orthonormal
    return (directions.double() @ q).pow(2).sum(dim=1)  # (J,)


def clearly_kept_directions(eigenvalues: Tensor, k: int, ratio: float = 1.2) -> int:
    """How many of the first k principal directions stand clearly above the cut at k.

    Counts the j <= k with eigenvalue_j >= ratio * eigenvalue_(k+1) (``eigenvalues`` (K,),
    largest first, K > k). Swapping one of them for a direction outside the top k costs at
    least (ratio - 1) * eigenvalue_(k+1) of error per image, so a model exactly at PCA's error
    must contain them; a model merely NEAR PCA's error may not (the cost can be small), which is
    why lesson 01's lab (deep dives 3, 5, 9) measures containment with angles.
    """
    if not 0 < k < len(eigenvalues):
        raise ValueError(
            f"clearly_kept_directions needs 0 < k < {len(eigenvalues)} (the eigenvalue after the "
            f"cut must exist), got k = {k}."
        )
    return int((eigenvalues[:k] >= ratio * eigenvalues[k]).sum())


def pca_reconstruction_figure(pca: PCA, images: Tensor, k: int) -> Figure:
    """Images (N, 1, 28, 28) next to their PCA reconstructions from the first k components."""
    small = pca.truncated(k)
    recon = small.reconstruct(images.flatten(1)).view_as(images).clamp(0, 1)  # (N, 784) -> images
    kept = small.explained_variance_ratio.sum().item()
    return rows_figure(
        {"original": images, f"k = {k}": recon},
        title=f"{k} principal components keep {kept:.1%} of the variance",
    )


def pca_view(pca: PCA, images: Tensor, k: int = 10) -> FigureView:
    """Lesson 01: a slider for the number of components k and the reconstructions it gives."""
    slider = widgets.IntSlider(
        value=min(k, pca.n_components),
        min=1,
        max=pca.n_components,
        description="k",
        continuous_update=False,
    )
    return FigureView(lambda k: pca_reconstruction_figure(pca, images, k), {"k": slider})


def error_rise_for_rotation(pca: PCA, x: Tensor, k: int, theta_deg: float) -> tuple[float, float]:
    """Turn the k-th principal direction by theta towards the (k+1)-th: how much error it adds.

    x: (N, D), the data ``pca`` was fitted on; k: 1 <= k < ``pca.n_components``. The kept basis
    is PCA's first k directions (k, D) with row k replaced by cos(theta) v_k + sin(theta) v_(k+1),
    still orthonormal. Returns (measured, formula), both per sample:
        measured: the mean squared error of the orthogonal projection of x onto mean + the
                  turned basis, minus the same for PCA's first k directions (residuals computed
                  in float64, 8,192 rows at a time);
        formula:  (lambda_k - lambda_(k+1)) * sin(theta)^2.
    On the fitting data the two agree up to rounding, because v_k^T Sigma v_(k+1) = 0.
    """
    _check_2d(x, "error_rise_for_rotation")
    if not 1 <= k < pca.n_components:
        raise ValueError(f"k must be between 1 and {pca.n_components - 1}, got {k}.")
    theta = math.radians(theta_deg)
    kept = pca.components[:k].double()  # (k, D)
    turned = kept.clone()
    turned[k - 1] = math.cos(theta) * kept[k - 1] + math.sin(theta) * pca.components[k].double()
    errors = []
    for basis in (kept, turned):
        total = 0.0
        for chunk in x.split(8192):
            xc = chunk.double() - pca.mean.double()  # (n, D)
            total += (xc - xc @ basis.T @ basis).pow(2).sum().item()
        errors.append(total / len(x))
    gap = (pca.eigenvalues[k - 1] - pca.eigenvalues[k]).item()
    return errors[1] - errors[0], gap * math.sin(theta) ** 2


def rotation_figure(cases: dict, theta_deg: float) -> Figure:
    """One panel per case: the rise (lambda_k - lambda_(k+1)) sin^2 theta over 0-90 degrees,
    as a share of PCA's error, with the measured rise at ``theta_deg`` marked.

    cases: {title: (pca, x, k)} with x (N, D) the data ``pca`` was fitted on (see
    ``error_rise_for_rotation``). The panel title gives lambda_k / lambda_(k+1).
    """
    fig = Figure(figsize=(4.2 * len(cases), 3.4), layout="constrained")
    axes = fig.subplots(1, len(cases), squeeze=False)[0]
    grid = torch.linspace(0, 90, 91)  # (91,) degrees
    for ax, (title, (pca, x, k)) in zip(axes, cases.items(), strict=True):
        floor = pca.eigenvalues[k:].sum().item()  # PCA's error per sample on x
        measured, formula = error_rise_for_rotation(pca, x, k, theta_deg)
        gap = (pca.eigenvalues[k - 1] - pca.eigenvalues[k]).item()
        ratio = (pca.eigenvalues[k - 1] / pca.eigenvalues[k]).item()
        curve = 100 * gap * torch.sin(torch.deg2rad(grid)) ** 2 / floor
        ax.plot(grid, curve, "-", label="formula")
        ax.plot([theta_deg], [100 * measured / floor], "o", color="tab:red", label="measured")
        ax.set(xlabel="turn angle theta (degrees)", ylabel="error rise, % of PCA's error",
               title=f"{title}: k = {k}, lambda ratio {ratio:.3f}\n"
               f"at {theta_deg:.0f}°: measured {100 * measured / floor:.3g}%, "
               f"formula {100 * formula / floor:.3g}%")  # fmt: skip
        ax.title.set_fontsize(10)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", fontsize=9)
    return fig


def rotation_view(cases: dict, theta_deg: float = 30.0) -> FigureView:
    """Lesson 01's lab, deep dive 5: a slider for the turn angle theta of ``rotation_figure``."""
    slider = widgets.FloatSlider(
        value=theta_deg,
        min=0.0,
        max=90.0,
        step=5.0,
        description="theta",
        continuous_update=False,
    )
    return FigureView(lambda theta: rotation_figure(cases, theta), {"theta": slider})


# Old names, kept for one release (issue 17): calling one warns and names the new one.
principal_angles = deprecated_alias("principal_angles", principal_angles_deg)
