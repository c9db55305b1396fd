"""The 2-number code explorer of lesson 02: its render function, sliders and input checks."""

import pytest
import torch

from course_utils.code_plane import code_plane_figure, code_plane_view, decode_point
from course_utils.inputs import InputError
from course_utils.models import DenseAutoencoder

CLASSES = ["a", "b", "c"]


@pytest.fixture
def model_and_codes():
    torch.manual_seed(0)
    model = DenseAutoencoder(784, hidden=(16,), n_latent=2)
    x = torch.rand(30, 1, 28, 28)
    with torch.no_grad():
        codes = model.encode(x)  # (30, 2)
    labels = torch.arange(30) % 3
    return model, codes, labels


def test_decode_point_is_the_models_decoding_of_that_point(model_and_codes):
    model, codes, _ = model_and_codes
    model.train()
    image = decode_point(model, (0.5, -1.0))
    with torch.no_grad():
        expected = model.decode(torch.tensor([[0.5, -1.0]])).reshape(28, 28)
    assert image.shape == (28, 28)
    assert torch.allclose(image, expected)
    assert model.training  # the caller's mode is restored


def test_the_title_names_the_nearest_code_and_its_distance(model_and_codes):
    model, codes, labels = model_and_codes
    z = codes[4].tolist()  # exactly on the code of image 4 (class 4 % 3 = 1: "b")
    title = code_plane_figure(model, codes, labels, CLASSES, z)._suptitle.get_text()
    assert title.startswith("nearest code: b, distance 0.00")
    far = (codes[:, 0].max().item() + 100.0, 0.0)
    far_title = code_plane_figure(model, codes, labels, CLASSES, far)._suptitle.get_text()
    assert float(far_title.split("distance ")[1].split(" ")[0]) > 99


def test_the_view_starts_at_the_first_code_and_redraws_on_a_slider(model_and_codes):
    model, codes, labels = model_and_codes
    view = code_plane_view(model, codes, labels, CLASSES)
    z1, z2 = view.controls["z1"], view.controls["z2"]
    assert z1.value == pytest.approx(codes[0, 0].item(), abs=0.01)
    assert z1.min < codes[:, 0].min().item() and z1.max > codes[:, 0].max().item()
    assert z1.continuous_update is False
    z2.value = z2.max
    title = view.figure.axes[1].get_title()
    assert f"{z2.max:.2f})" in title


def test_bad_inputs_get_clear_errors(model_and_codes):
    model, codes, labels = model_and_codes
    with pytest.raises(InputError, match=r"\(N, 2\) tensor"):
        code_plane_view(model, torch.zeros(30, 32), labels, CLASSES)
    with pytest.raises(InputError, match="one label per code"):
        code_plane_view(model, codes, labels[:5], CLASSES)
    with pytest.raises(InputError, match="class names"):
        code_plane_view(model, codes, labels, ["a", "b"])
    with pytest.raises(InputError, match="decode method"):
        code_plane_view(torch.nn.Linear(2, 2), codes, labels, CLASSES)
