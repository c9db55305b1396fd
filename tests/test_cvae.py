"""course_utils.cvae: the conditional VAE, its label checks, figures and view (lesson 07)."""

import math

import pytest
import torch

from course_utils.cvae import (
    ConditionalVAE,
    conditional_importance_sampled_nll,
    cvae_figure,
    cvae_style_figure,
    cvae_view,
    one_hot_labels,
    style_row_share,
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


def test_importance_sampled_nll_against_quadrature_and_the_one_sample_bound():
    torch.manual_seed(0)
    model = ConditionalVAE(784, 10, (8,), n_latent=1)
    x = (torch.rand(3, 1, 28, 28, generator=_gen(4)) > 0.5).float()
    y = torch.tensor([2, 5, 5])
    # -log p(x|y) by numerical integration over the 1-D latent: p(x|y) = int p(x|z,y) N(z; 0, 1) dz
    grid = torch.linspace(-8, 8, 4001, dtype=torch.float64)  # (G,)
    model64 = model.double()
    exact = []
    with torch.no_grad():
        for i in range(3):
            logits = model64.decode(grid[:, None], y[i].repeat(len(grid))).reshape(len(grid), -1)
            t = x[i].double().reshape(1, -1)
            log_px = -torch.nn.functional.binary_cross_entropy_with_logits(
                logits, t.expand_as(logits), reduction="none").sum(1)  # fmt: skip
            log_pz = -0.5 * grid**2 - 0.5 * math.log(2 * math.pi)
            dz = float(grid[1] - grid[0])
            exact.append(-(torch.logsumexp(log_px + log_pz, 0) + math.log(dz)).item())
    model = model64.float()
    estimate = conditional_importance_sampled_nll(model, x, y, k=20_000, generator=_gen(5))
    assert estimate.tolist() == pytest.approx(exact, abs=0.05)
    # k = 1: one-sample -ELBO written out with the same draw of eps
    one = conditional_importance_sampled_nll(model, x, y, k=1, generator=_gen(6))
    with torch.no_grad():
        mu, logvar = model.encode(x, y)
        eps = torch.randn(1, 3, 1, generator=_gen(6))[0]
        z = mu + torch.exp(0.5 * logvar) * eps
        logits = model.decode(z, y).flatten(1)
        recon = torch.nn.functional.binary_cross_entropy_with_logits(
            logits, x.flatten(1), reduction="none").sum(1)  # fmt: skip
        log_ratio = (-0.5 * z**2 + 0.5 * eps**2 + 0.5 * logvar).sum(1)  # log p(z) - log q(z|x,y)
    assert one.tolist() == pytest.approx((recon - log_ratio).tolist(), abs=1e-3)


def test_style_row_share_consistent_rows_vs_shuffled():
    rows = torch.tensor([-2.0, -1.0, 0.0, 1.0, 2.0])  # (5,) the same move for every class
    class_means = torch.arange(10.0) * 3  # (10,) different level per class
    consistent = rows[:, None] + class_means[None, :]  # (5, 10)
    share, floor = style_row_share(consistent, generator=torch.Generator().manual_seed(0))
    assert share == pytest.approx(1.0)  # the row means explain all within-class variance
    assert floor < 0.4
    by_hand = torch.randn(5, 10, generator=torch.Generator().manual_seed(1)).double()
    c = by_hand - by_hand.mean(0)
    expected = 10 * (c.mean(1) ** 2).sum() / (c**2).sum()  # row sum of squares / total
    share, floor = style_row_share(by_hand.float(), generator=torch.Generator().manual_seed(0))
    assert share == pytest.approx(float(expected), rel=1e-5)
    assert 0.1 < floor < 0.5  # chance level for 5 x 10 is about 4 / 40, its 95th percentile higher
    reversed_cols = consistent.clone()
    reversed_cols[:, 5:] = reversed_cols.flip(0)[:, 5:]  # half the classes move the other way
    assert style_row_share(reversed_cols)[0] < 0.05


def test_style_row_share_rejects_a_single_row():
    with pytest.raises(Exception, match="style_row_share expects"):
        style_row_share(torch.zeros(1, 10))
