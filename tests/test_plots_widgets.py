"""Figures return NotebookFigure objects; widgets are thin shells driven like a student would."""

import ipywidgets as widgets
import pytest
import torch

from course_utils.data import toy_cloud
from course_utils.pca import PCA
from course_utils.plots import (
    NotebookFigure,
    as_images,
    plot_cloud,
    plot_codes,
    plot_history,
    show_images,
    show_rows,
)
from course_utils.train import History
from course_utils.widgets import FigureView, pca_reconstruction_figure, pca_slider

IMAGES = torch.rand(12, 1, 28, 28, generator=torch.Generator().manual_seed(0))


def _image_axes(fig):
    return [ax for ax in fig.axes if ax.images]


def test_as_images_accepts_the_three_layouts():
    for x in (IMAGES, IMAGES[:, 0], IMAGES.flatten(1), IMAGES.numpy()):
        assert as_images(x).shape == (12, 28, 28)
    with pytest.raises(ValueError, match=r"x\[None\]"):
        as_images(torch.rand(28, 28, 1, 1, 1))


def test_show_images_grid_and_png_display():
    fig = show_images(IMAGES, ncols=5, titles=[str(i) for i in range(12)], title="t")
    assert isinstance(fig, NotebookFigure)
    assert len(fig.axes) == 15 and len(_image_axes(fig)) == 12
    assert fig.axes[11].get_title() == "11"
    assert fig._repr_png_().startswith(b"\x89PNG")


def test_show_rows_lines_up_columns_and_labels_rows():
    fig = show_rows({"input": IMAGES, "output": 1 - IMAGES}, n=6)
    assert len(_image_axes(fig)) == 12
    assert [fig.axes[0].get_ylabel(), fig.axes[6].get_ylabel()] == ["input", "output"]
    assert (fig.axes[6].images[0].get_array() == 1 - IMAGES[0, 0].numpy()).all()


def test_plot_history_draws_train_and_valid():
    hist = History(
        [
            {"epoch": 1, "train_loss": 3.0, "valid_loss": 3.5, "train_kl": 1.0},
            {"epoch": 2, "train_loss": 2.0, "valid_loss": 2.5, "train_kl": 0.5},
        ]
    )
    fig = plot_history(hist, keys=("loss", "kl"))
    loss_ax, kl_ax = fig.axes
    assert [ln.get_label() for ln in loss_ax.lines] == ["train", "valid"]
    assert list(loss_ax.lines[1].get_ydata()) == [3.5, 2.5] and len(kl_ax.lines) == 1


def test_plot_codes_colours_classes_and_adds_thumbnails():
    codes, labels = torch.randn(50, 2), torch.arange(50) % 3
    fig = plot_codes(
        codes, labels, ["a", "b", "c"], images=IMAGES.repeat(5, 1, 1, 1)[:50], n_thumbnails=4
    )
    ax = fig.axes[0]
    assert len(ax.collections) == 3 and len(ax.artists) == 4
    with pytest.raises(ValueError, match=r"codes of shape \(N, 2\)"):
        plot_codes(torch.randn(5, 3), torch.zeros(5), ["a"])


def test_plot_cloud_two_views():
    cloud = toy_cloud(100)
    fig = plot_cloud(cloud, projected=PCA(2).fit(cloud).reconstruct(cloud))
    assert [ax.get_title() for ax in fig.axes] == ["from an angle", "edge-on"]
    assert len(fig.axes[1].collections) == 2  # data and reconstructions


def test_figure_view_redraws_when_a_control_changes():
    calls = []

    def render(k, name):
        calls.append((k, name))
        return show_images(IMAGES[:k], title=name)

    view = FigureView(
        render,
        {
            "k": widgets.IntSlider(value=2, min=1, max=5),
            "name": widgets.Dropdown(options=["a", "b"], value="a"),
        },
    )
    assert calls == [(2, "a")] and len(_image_axes(view.figure)) == 2
    view.controls["k"].value = 4
    view.controls["name"].value = "b"
    assert calls[-2:] == [(4, "a"), (4, "b")]
    assert len(_image_axes(view.figure)) == 4 and view.figure._suptitle.get_text() == "b"
    assert isinstance(view.widget, widgets.VBox)


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
    view = pca_slider(pca, x[:4], k=50)  # clipped to the 10 fitted components
    assert view.controls["k"].value == 10 and view.controls["k"].continuous_update is False
    view.controls["k"].value = 2
    assert "2 principal components" in view.figure._suptitle.get_text()
