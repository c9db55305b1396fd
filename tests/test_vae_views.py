"""course_utils.vae_views: VAE figures and views, driven by setting control values."""

import torch

from course_utils.plots import NotebookFigure
from course_utils.vae import VAE
from course_utils.vae_views import (
    decode_code_figure,
    decode_images,
    interpolate,
    kl_per_dimension_figure,
    latent_view,
    manifold_figure,
    manifold_grid,
    posterior_figure,
    prior_samples,
    reconstruct,
    traversal_figure,
)

X = torch.rand(6, 1, 28, 28, generator=torch.Generator().manual_seed(0))


def _vae(n_latent=2):
    torch.manual_seed(0)
    return VAE(784, (16,), n_latent)


def _shown(fig):
    return fig.axes[-1].images[0].get_array()


def test_images_come_out_in_unit_range_with_image_shape():
    model = _vae(3)
    g = torch.Generator().manual_seed(0)
    for images in (
        decode_images(model, torch.zeros(4, 3)),
        reconstruct(model, X, generator=g),
        prior_samples(model, 5, generator=g),
    ):
        assert images.shape[1:] == (1, 28, 28)
        assert images.min() >= 0 and images.max() <= 1
    a = prior_samples(model, 5, torch.Generator().manual_seed(1))
    assert torch.equal(a, prior_samples(model, 5, torch.Generator().manual_seed(1)))


def test_interpolation_starts_and_ends_at_the_two_codes():
    model = _vae(3)
    path = interpolate(model, X[0], X[1], steps=7)
    assert path.shape == (7, 1, 28, 28)
    mus = model.encode(X[:2])[0]
    assert torch.allclose(path[0], decode_images(model, mus[:1])[0], atol=1e-6)
    assert torch.allclose(path[-1], decode_images(model, mus[1:])[0], atol=1e-6)


def test_manifold_grid_uses_normal_quantiles():
    model = _vae(2)
    images, values = manifold_grid(model, n=5)
    assert images.shape == (25, 1, 28, 28)
    assert values[0].item() < -1.6 and values[-1].item() > 1.6 and abs(values[2].item()) < 1e-6
    top_left = decode_images(model, torch.tensor([[values[0].item(), values[-1].item()]]))
    assert torch.allclose(images[0], top_left[0], atol=1e-6)  # top row = largest z2
    assert isinstance(manifold_figure(model, n=5), NotebookFigure)


def test_static_figures_build():
    model = _vae(4)
    assert len(traversal_figure(model, torch.zeros(4), dims=[0, 2], steps=5).axes) == 10
    fig = decode_code_figure(model, torch.zeros(4), original=X[0])
    assert len(fig.axes) == 2
    kl = {"a": torch.tensor([1.0, 0.0, 2.0]), "b": torch.tensor([0.5, 0.5, 0.0])}
    assert len(kl_per_dimension_figure(kl).axes) == 2


def test_latent_view_decodes_what_the_sliders_say():
    model = _vae(3)
    view = latent_view(model, X[0], dims=[0, 2])
    assert list(view.controls) == ["z1", "z3"]
    mu = model.encode(X[:1])[0][0]
    assert abs(view.controls["z1"].value - mu[0].item()) < 0.01  # starts at the image's code
    view.controls["z1"].value = 2.5
    view.controls["z3"].value = -1.0
    z = mu.clone()
    z[0], z[2] = 2.5, -1.0
    expected = decode_images(model, z[None])[0, 0].numpy()
    assert abs(_shown(view.figure) - expected).max() < 1e-6
    assert "2.50" in view.figure._suptitle.get_text()


def test_posterior_figure_draws_ellipses_and_the_aggregate():
    fig = posterior_figure(_vae(2), X, torch.arange(6), n_ellipses=3, generator=torch.Generator())
    assert len(fig.axes) >= 2
    assert len(fig.axes[0].patches) == 3


def test_kl_per_dimension_figure_without_threshold():
    fig = kl_per_dimension_figure({"a": torch.rand(5)}, threshold=None, ylabel="Var mu")
    assert fig.axes[0].get_title() == "a"


def test_kl_per_dimension_figure_marks_the_share_count():
    kl = torch.tensor([0.001, 5.0, 0.5, 0.01, 4.0])  # sorted: 5, 4, 0.5, 0.01, 0.001 (total 9.511)
    fig = kl_per_dimension_figure({"a": kl}, mark_share=0.99)
    top = kl.sort(descending=True).values  # (5,)
    by_hand = next(k for k in range(1, 6) if top[:k].sum() >= 0.99 * kl.sum())
    line = [ln for ln in fig.axes[0].get_lines() if ln.get_linestyle() == ":"]
    assert by_hand == 3 and line[0].get_xdata()[0] == 3.5  # after the third bar
    assert "99% in 3 dims" in fig.axes[0].get_title()


def test_terms_by_step_figure_plots_each_key_against_the_step():
    import pytest

    from course_utils.vae_views import terms_by_step_figure

    class Log:
        rows = [{"step": 0, "beta": 0.0, "recon": 500.0, "kl": 0.1},
                {"step": 10, "beta": 0.5, "recon": 200.0, "kl": 9.0}]  # fmt: skip

    fig = terms_by_step_figure(Log(), keys=("beta", "kl"), marks={"end of warm-up": 10})
    assert len(fig.axes) == 2
    beta, kl = fig.axes[0].lines[0], fig.axes[1].lines[0]
    assert list(kl.get_xdata()) == [0, 10] and list(kl.get_ydata()) == [0.1, 9.0]
    assert list(beta.get_ydata()) == [0.0, 0.5]  # each panel its own key
    assert fig.axes[0].get_ylabel().startswith("beta")
    assert any(ln.get_label() == "end of warm-up" for ln in fig.axes[0].lines)
    with pytest.raises(ValueError, match="keys among .*received \\['loss'\\]"):
        terms_by_step_figure(Log(), keys=("loss",))
    with pytest.raises(ValueError, match="expects the ElboTermsLog"):
        terms_by_step_figure({"kl": [1.0]})


def test_terms_by_step_figure_log_scales_only_the_keys_asked_for():
    import pytest

    from course_utils.vae_views import terms_by_step_figure

    class Log:
        rows = [{"step": 0, "beta": 1.0, "recon": 553.0, "kl": 0.01},
                {"step": 20, "beta": 1.0, "recon": 160.0, "kl": 5.0}]  # fmt: skip

    fig = terms_by_step_figure(Log(), keys=("recon", "kl"), logy=("recon",))
    assert [ax.get_yscale() for ax in fig.axes] == ["log", "linear"]
    assert fig.axes[0].get_ylabel().endswith("log scale")
    assert not fig.axes[1].get_ylabel().endswith("log scale")
    with pytest.raises(ValueError, match="received \\['elbo'\\]"):
        terms_by_step_figure(Log(), keys=("kl",), logy=("elbo",))


def test_posterior_figure_labels_the_prior_circles_with_their_mass():
    fig = posterior_figure(_vae(2), X, torch.arange(6), n_ellipses=3, generator=torch.Generator())
    labels = [text.get_text() for text in fig.axes[1].get_legend().get_texts()]
    assert labels == ["N(0, I): radius 1 (holds 39%)", "N(0, I): radius 2 (holds 86%)"]


def test_kl_per_dimension_figure_counts_above_the_threshold_sorted_on_a_log_scale():
    values = torch.tensor([1e-4, 0.5, 0.02, 2e-3])
    fig = kl_per_dimension_figure({"50-D": values}, threshold=0.01, logy=True)
    ax = fig.axes[0]
    assert ax.get_title() == "50-D: 2 of 4 above 0.01"
    heights = [bar.get_height() for bar in ax.patches]
    assert heights == sorted(values.tolist(), reverse=True)
    assert ax.get_yscale() == "log"
    assert ax.lines[0].get_ydata()[0] == 0.01  # the dashed threshold line
