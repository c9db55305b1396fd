"""course_utils.inputs: every bad input gets expected / received / what to do."""

import numpy as np
import pytest
import torch

from course_utils.inputs import (
    InputError,
    check_codes,
    check_images,
    check_labels,
    check_not_0_255,
    check_same_shape,
    check_tensor,
    check_unit_range,
)


@pytest.mark.parametrize(
    ("x", "pattern"),
    [
        (np.zeros((2, 784)), r"expects a torch tensor, but received a NumPy array.*from_numpy"),
        ([1, 2], r"expects a torch tensor, but received a list"),
        (torch.zeros(2, 784, dtype=torch.uint8), r"but received a torch.uint8 .*x.float\(\) / 255"),
        (torch.zeros(2, 784, dtype=torch.float64), r"float32 tensor, but received .*float64"),
    ],
)
def test_check_tensor_explains_type_and_dtype(x, pattern):
    with pytest.raises(InputError, match=pattern):
        check_images(x, "Model")


@pytest.mark.parametrize(
    ("shape", "flat_ok", "hint"),
    [
        ((4, 28, 28), False, r"x.unsqueeze\(1\)"),
        ((4, 3, 28, 28), True, "grey images with ONE channel"),
        ((4, 3, 28, 28), False, "grey images with ONE channel"),
        ((4, 784), False, r"x.view\(-1, 1, 28, 28\)"),
        ((784,), True, r"x.unsqueeze\(0\)"),
    ],
)
def test_check_images_shape_hints(shape, flat_ok, hint):
    with pytest.raises(InputError, match=rf"ConvModel expects .*, but received .*{hint}"):
        check_images(torch.zeros(shape), "ConvModel", flat_ok=flat_ok)


def test_good_inputs_pass_silently():
    check_images(torch.rand(3, 1, 28, 28), "M", flat_ok=False)
    check_images(torch.rand(3, 784), "M")
    check_images(torch.rand(3, 1, 28, 28) + 0.5, "M")  # noisy inputs slightly above 1 are fine
    check_codes(torch.zeros(3, 2), 2, "M.decode")
    check_labels(torch.tensor([0, 9]), 10, "M")
    check_unit_range(torch.rand(5), "loss")
    check_not_0_255(torch.full((2, 3), 100.0), "loss")  # not images: toy points may be large


def test_raw_pixel_values_are_named():
    with pytest.raises(InputError, match="0-255 pixels: divide by 255"):
        check_images(torch.full((2, 1, 28, 28), 255.0), "M")
    with pytest.raises(InputError, match="0-255 pixels: divide by 255"):
        check_unit_range(torch.full((2, 784), 200.0), "bce")
    with pytest.raises(InputError, match=r"targets in \[0, 1\].*-0.5.*Scale the targets"):
        check_unit_range(torch.tensor([-0.5, 0.5]), "bce")
    with pytest.raises(InputError, match=r"float targets.*x.float\(\)"):
        check_unit_range(torch.tensor([0, 1]), "bce")


def test_codes_labels_and_pairs():
    with pytest.raises(InputError, match=r"\(B, 4\), but received .*\(4,\).*unsqueeze\(0\)"):
        check_codes(torch.zeros(4), 4, "VAE.decode")
    with pytest.raises(InputError, match="built with n_latent=4"):
        check_codes(torch.zeros(2, 3), 4, "VAE.decode")
    with pytest.raises(InputError, match="labels from 0 to 9, but received labels from 0 to 10"):
        check_labels(torch.tensor([0, 10]), 10, "CVAE")
    with pytest.raises(InputError, match="not one-hot vectors"):
        check_labels(torch.zeros(2, 10), 10, "CVAE")
    with pytest.raises(InputError, match=r"x_hat \(2, 3\) and x \(2, 4\).*view_as"):
        check_same_shape(torch.zeros(2, 3), torch.zeros(2, 4), "loss")
    with pytest.raises(InputError, match=r"received None. It is None: run the cell that computes"):
        check_tensor(None, "loss")


def test_the_old_module_name_still_works_and_names_the_new_one():
    import course_utils.checks as old
    from course_utils import inputs

    with pytest.warns(DeprecationWarning, match="import InputError from course_utils.inputs"):
        assert old.InputError is inputs.InputError
    with pytest.warns(DeprecationWarning, match="course_utils.inputs"):
        from course_utils.checks import check_tensor
    assert check_tensor is inputs.check_tensor
    with pytest.raises(AttributeError):
        old.no_such_check  # noqa: B018
