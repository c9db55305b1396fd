"""course_utils.cvae: the conditional VAE, its label checks, figures and view (lesson 07)."""

import pytest
import torch

from course_utils.cvae import (
    ConditionalVAE,
    cvae_figure,
    cvae_style_figure,
    cvae_view,
    one_hot_labels,
)
from course_utils.elbo import negative_elbo
from course_utils.train import fit
from course_utils.vae import VAEObjective
from course_utils.vae_views import (
    decode_images,
)

CLASSES = [str(i) for i in range(10)]


def _shown(fig):
    return fig.axes[-1].images[0].get_array()


def test_cvae_figures_and_view():
    torch.manual_seed(0)
    model = ConditionalVAE(784, 10, (16,), n_latent=2)
    fig = cvae_figure(model, 3, torch.tensor([0.5, -0.5]), CLASSES)
    assert "class 3" in fig.axes[0].get_title()
    assert len(cvae_style_figure(model, torch.zeros(2, 2), CLASSES).axes) == 20
    view = cvae_view(model, CLASSES)
    assert list(view.controls) == ["label", "z1", "z2"]
    view.controls["label"].value = 7
    view.controls["z2"].value = 1.5
    expected = decode_images(model, torch.tensor([[0.0, 1.5]]), torch.tensor([7]))[0, 0]
    assert abs(_shown(view.figure) - expected.numpy()).max() < 1e-6
    assert "class 7" in view.figure.axes[0].get_title()


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_cvae_shapes_and_label_checks():
    torch.manual_seed(0)
    model = ConditionalVAE(784, 10, (32,), n_latent=10)
    x, y = torch.rand(3, 1, 28, 28, generator=_gen()), torch.tensor([0, 4, 9])
    logits, mu, logvar = model(x, y)
    assert logits.shape == x.shape and mu.shape == logvar.shape == (3, 10)
    assert model.decode(mu, y).shape == (3, 1, 28, 28)  # the same contract as VAE.decode
    with pytest.raises(ValueError, match=r"labels from 0 to 9, but received labels from 0 to 10"):
        model.encode(x, torch.tensor([0, 1, 10]))
    with pytest.raises(ValueError, match="integer class numbers"):
        one_hot_labels(torch.tensor([0.0, 1.0]), 10)
    with pytest.raises(ValueError, match=r"\(B, 10\), but received .*\(3, 2\)"):
        model.decode(torch.zeros(3, 2), y)


def test_cvae_conditioning_changes_the_output_classwise():
    """Two classes drawn as two fixed patterns: the trained CVAE follows the label it is given."""
    torch.manual_seed(0)
    patterns = torch.zeros(2, 784)
    patterns[0, :392], patterns[1, 392:] = 1.0, 1.0  # class 0: top half on; class 1: bottom
    y = torch.arange(200) % 2
    x = patterns[y]
    model = ConditionalVAE(784, 2, (32,), n_latent=2)
    fit(model, (x, y), objective=VAEObjective(), epochs=30, batch_size=20, lr=3e-3, verbose=False)
    z = torch.zeros(2, 2)
    with torch.no_grad():
        images = torch.sigmoid(model.decode(z, torch.tensor([0, 1]))).flatten(1)  # (2, 784)
    top, bottom = images[:, :392].mean(1), images[:, 392:].mean(1)  # (2,), (2,)
    assert top[0] - bottom[0] > 0.5 and bottom[1] - top[1] > 0.5  # each label draws its class
    result = negative_elbo(model, x, y, generator=_gen())
    assert result["loss"] < 50  # it learned both classes
