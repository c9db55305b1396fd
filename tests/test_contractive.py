"""Lesson 05: the contractive autoencoder's Jacobian, checked against torch.autograd and NumPy.

Mutants seen failing: the slope without its square in ``sensitivity_in_subspace`` and
``jacobian_factors``; h instead of h (1 - h) in the Jacobian; ``directions_holding`` off by one;
the basis used as rows instead of columns; the coupling's mean over images taken after the
product.
"""

import math

import numpy as np
import pytest
import torch

from course_utils.contractive import (
    directions_holding,
    jacobian_factors,
    jacobian_singular_values,
    jacobian_spectrum_figure,
    sensitivity_in_subspace,
    sigmoid_encoder_jacobian,
)
from course_utils.inputs import InputError
from course_utils.sparse import SparseAutoencoder, contractive_penalty_per_image


def _encoder(n_inputs: int = 6, n_code: int = 4, seed: int = 0):
    torch.manual_seed(seed)
    model = SparseAutoencoder(n_inputs=n_inputs, n_code=n_code).double()
    x = torch.rand(5, n_inputs, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        h = model.encode(x)
    return model, x, h, model.encoder.weight.detach()


def _autograd_jacobians(model, x):
    """(B, K, D): every image's Jacobian from torch.autograd, no closed form involved."""
    return torch.stack(
        [torch.autograd.functional.jacobian(lambda v: model.encode(v[None])[0], xi) for xi in x]
    )


@pytest.mark.parametrize("shape", [(6, 4), (3, 8)])  # more or fewer units than inputs
def test_jacobian_and_its_singular_values_match_autograd_and_numpy(shape):
    model, x, h, w = _encoder(*shape)
    reference = _autograd_jacobians(model, x)
    jac = sigmoid_encoder_jacobian(h, w)
    assert jac.shape == (5, shape[1], shape[0])
    assert torch.allclose(jac, reference, rtol=1e-10, atol=1e-12)
    sv = jacobian_singular_values(h, w)
    numpy_sv = np.stack([np.linalg.svd(j, compute_uv=False) for j in reference.numpy()])
    assert sv.shape == (5, min(shape)) and np.allclose(sv.numpy(), numpy_sv, rtol=1e-9)
    squares = sv.pow(2).sum(dim=1)  # the Frobenius norm is the sum of the squared values
    assert torch.allclose(squares, contractive_penalty_per_image(h, w), rtol=1e-10)


def test_directions_holding_counts_the_first_directions_reaching_the_share():
    sv = torch.tensor([[2.0, 1.0, 1.0, 0.0], [1.0, 1.0, 1.0, 1.0]])  # squares 4,1,1,0 and 1,1,1,1
    assert directions_holding(sv, 0.9).tolist() == [3, 4]  # 5/6 < 0.9 <= 6/6; 3/4 < 0.9
    assert directions_holding(sv, 4 / 6).tolist() == [1, 3]  # exactly reached counts
    assert directions_holding(sv, 0.5).tolist() == [1, 2]
    with pytest.raises(InputError, match=r"expects a share in \(0, 1\], but received 1.5"):
        directions_holding(sv, 1.5)


def test_sensitivity_in_subspace_is_the_norm_of_the_projected_jacobian():
    model, x, h, w = _encoder(6, 4)
    reference = _autograd_jacobians(model, x)  # (5, 4, 6)
    basis, _ = torch.linalg.qr(torch.randn(6, 2, dtype=torch.float64,
                                           generator=torch.Generator().manual_seed(3)))  # fmt: skip
    by_hand = (reference @ basis).pow(2).sum(dim=(1, 2))  # ||J U||_F^2 of each image
    assert torch.allclose(sensitivity_in_subspace(h, w, basis), by_hand, rtol=1e-10)
    everything = torch.eye(6, dtype=torch.float64)  # all directions: the whole ||J||_F^2
    whole = reference.pow(2).sum(dim=(1, 2))
    assert torch.allclose(sensitivity_in_subspace(h, w, everything), whole, rtol=1e-10)
    expected = r"basis U of shape \(D, m\) = \(6, m\), but received \(2, 6\)"
    with pytest.raises(InputError, match=expected):
        sensitivity_in_subspace(h, w, basis.T)


def test_jacobian_factors_multiply_back_to_the_mean_penalty():
    model, x, h, w = _encoder(6, 4)
    f = jacobian_factors(h, w)
    whole = _autograd_jacobians(model, x).pow(2).sum(dim=(1, 2)).mean().item()
    assert math.isclose(f["jacobian"], whole, rel_tol=1e-10)
    assert math.isclose(f["units"] * f["slope"] * f["weight"] * f["coupling"], whole, rel_tol=1e-10)
    slopes = (h * (1 - h)).pow(2)  # (5, 4), by hand
    assert math.isclose(f["slope"], slopes.mean().item(), rel_tol=1e-12)
    assert math.isclose(f["weight"], (w**2).sum().item() / 4, rel_tol=1e-12)


def test_coupling_says_whether_steep_units_have_long_rows():
    h = torch.tensor([[0.5, 0.01], [0.5, 0.01]])  # unit 0 steep (slope 1/4), unit 1 nearly flat
    long_on_steep = torch.tensor([[3.0, 0.0], [0.0, 1.0]])  # row norms^2: 9 (steep) and 1
    long_on_flat = torch.tensor([[1.0, 0.0], [0.0, 3.0]])
    assert jacobian_factors(h, long_on_steep)["coupling"] > 1
    assert jacobian_factors(h, long_on_flat)["coupling"] < 1
    assert math.isclose(jacobian_factors(h, torch.eye(2))["coupling"], 1.0)


def test_wrong_shapes_say_what_to_pass():
    with pytest.raises(InputError, match=r"h of shape \(3, 5\) and W of shape \(4, 6\)"):
        sigmoid_encoder_jacobian(torch.rand(3, 5), torch.rand(4, 6))
    with pytest.raises(InputError, match=r"codes_of\(model, x\).*model.encoder.weight"):
        jacobian_factors(torch.rand(5), torch.rand(4, 6))


def test_spectrum_figure_plots_each_models_mean_spectrum_and_share():
    sv = {"a": torch.tensor([[2.0, 1.0, 0.0], [4.0, 1.0, 1.0]]), "b": torch.ones(2, 3)}
    fig = jacobian_spectrum_figure(sv)
    ax_sv, ax_share = fig.axes
    assert [line.get_label() for line in ax_sv.lines] == ["a", "b"]
    assert list(ax_sv.lines[0].get_ydata()) == [3.0, 1.0, 0.5]
    share_a = ax_share.lines[0].get_ydata()  # squares 4, 1, 0 and 16, 1, 1: mean of the shares
    assert np.allclose(share_a, [(4 / 5 + 16 / 18) / 2, (5 / 5 + 17 / 18) / 2, 1.0])
    assert np.allclose(ax_share.lines[1].get_ydata(), [1 / 3, 2 / 3, 1.0])
