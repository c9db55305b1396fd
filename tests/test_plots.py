"""course_utils.plots: figures are NotebookFigure objects, drawn without pyplot."""

import io

import numpy as np
import pytest
import torch
from matplotlib.text import Annotation

from course_utils.inputs import InputError
from course_utils.pca import PCA
from course_utils.plots import (
    NotebookFigure,
    as_images,
    cloud_figure,
    codes_figure,
    history_figure,
    hourglass_figure,
    images_figure,
    linear_widths,
    loss_curves_figure,
    rows_figure,
    search_order_figure,
)
from course_utils.toy_manifolds import toy_cloud
from course_utils.train import History

IMAGES = torch.rand(12, 1, 28, 28, generator=torch.Generator().manual_seed(0))


def _image_axes(fig):
    return [ax for ax in fig.axes if ax.images]


def test_as_images_accepts_the_three_layouts():
    for x in (IMAGES, IMAGES[:, 0], IMAGES.flatten(1), IMAGES.numpy()):
        assert as_images(x).shape == (12, 28, 28)
    with pytest.raises(ValueError, match=r"x\[None\]"):
        as_images(torch.rand(28, 28, 1, 1, 1))


def test_show_images_grid_and_png_display():
    fig = images_figure(IMAGES, ncols=5, titles=[str(i) for i in range(12)], title="t")
    assert isinstance(fig, NotebookFigure)
    assert len(fig.axes) == 15 and len(_image_axes(fig)) == 12
    assert fig.axes[11].get_title() == "11"
    assert fig._repr_png_().startswith(b"\x89PNG")


def test_show_rows_lines_up_columns_and_labels_rows():
    fig = rows_figure({"input": IMAGES, "output": 1 - IMAGES}, n=6)
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
    fig = history_figure(hist, keys=("loss", "kl"))
    loss_ax, kl_ax = fig.axes
    assert [ln.get_label() for ln in loss_ax.lines] == ["train", "valid"]
    assert list(loss_ax.lines[1].get_ydata()) == [3.5, 2.5] and len(kl_ax.lines) == 1


def test_log_history_axis_has_plain_labels_and_no_minor_ticks():
    hist = History(
        [{"epoch": e, "train_loss": 30.0 / e, "valid_loss": 28.0 / e} for e in (1, 2, 3)]
    )
    ax = history_figure(hist, logy=True).axes[0]
    assert ax.get_yscale() == "log"
    fig = ax.figure
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert labels and all("10^" not in t and "$" not in t for t in labels)  # plain numbers
    assert "15" in labels  # within one decade: 10, 15, 20, 30, ...
    assert not ax.yaxis.get_minorticklocs().size
    wide = History([{"epoch": e, "train_loss": 1000.0 / 10**e, "valid_loss": 900.0 / 10**e}
                    for e in (1, 2, 3)])  # fmt: skip
    wide_ax = history_figure(wide, logy=True).axes[0]
    wide_ax.figure.canvas.draw()
    wide_labels = [t.get_text() for t in wide_ax.get_yticklabels() if t.get_text()]
    assert "15" not in wide_labels and {"2", "5"} & set(wide_labels)  # over decades: 1, 2, 5


def test_plot_codes_colours_classes_and_adds_thumbnails():
    codes, labels = torch.randn(50, 2), torch.arange(50) % 3
    fig = codes_figure(
        codes, labels, ["a", "b", "c"], images=IMAGES.repeat(5, 1, 1, 1)[:50], n_thumbnails=4
    )
    ax = fig.axes[0]
    assert len(ax.collections) == 3 and len(ax.artists) == 4
    with pytest.raises(ValueError, match=r"codes of shape \(N, 2\)"):
        codes_figure(torch.randn(5, 3), torch.zeros(5), ["a"])
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("code dimension 1", "code dimension 2")
    assert ax.artists[0].offsetbox.get_children()[0].get_cmap().name == "gray_r"  # the default


def test_codes_figure_thumbnails_do_not_overlap():
    """Clustered points: the thumbnails skip points within 8% of an axis range of one shown.
    Regression: thumbnails at random points that covered each other."""
    codes = torch.cat([torch.zeros(40, 2) + 0.001 * torch.randn(40, 2), torch.tensor([[1.0, 1.0]])])
    fig = codes_figure(
        codes, torch.zeros(41), ["a"], images=IMAGES.repeat(41, 1, 1, 1)[:41], n_thumbnails=5
    )
    centres = torch.tensor([box.xy for box in fig.axes[0].artists])
    assert len(centres) == 2  # one in the tight cluster, one at (1, 1)
    assert (centres[0] - centres[1]).abs().max() > 0.5


def test_codes_figure_names_its_axes_and_thumbnail_colours():
    codes, labels = torch.randn(50, 2), torch.arange(50) % 3
    fig = codes_figure(
        codes,
        labels,
        ["a", "b", "c"],
        images=IMAGES.repeat(5, 1, 1, 1)[:50],
        n_thumbnails=2,
        axis_labels=("PC 1", "PC 2"),
        thumbnail_cmap="gray",
    )
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("PC 1", "PC 2")
    assert {box.offsetbox.get_children()[0].get_cmap().name for box in ax.artists} == {"gray"}


def test_plot_cloud_two_views():
    cloud = toy_cloud(100)
    fig = cloud_figure(cloud, projected=PCA(2).fit(cloud).reconstruct(cloud))
    assert [ax.get_title() for ax in fig.axes] == ["from an angle", "edge-on"]
    assert len(fig.axes[1].collections) == 2  # data and reconstructions


def test_search_order_figure_joins_every_source_to_the_result():
    """Each source can deliver the result (the search stops at the first hit), so each has an
    arrow to it; the misses join consecutive sources. Regression: a plain chain whose only
    arrow into the result came from the last source (the fallback)."""
    fig = search_order_figure(
        [("disk", "a"), ("download", "b"), ("embedded", "c")], ("ImageData", "d"), ["no", "nope"]
    )
    ax = fig.axes[0]
    arrows = [t for t in ax.texts if isinstance(t, Annotation)]
    targets = {tuple(np.round(a.xy, 6)) for a in arrows}
    result_box = next(t for t in ax.texts if t.get_text().startswith("ImageData"))
    into_result = [a for a in arrows if a.xy[1] == pytest.approx(result_box.get_position()[1])]
    sources = [t for t in ax.texts if t.get_text()[:2] in ("1.", "2.", "3.")]
    assert len(sources) == 3
    starts = {round(a.xyann[1], 6) for a in into_result}
    assert starts == {round(s.get_position()[1], 6) for s in sources}
    assert len(arrows) == 3 + 2 and len(targets) == 1 + 2  # 3 into the result, 2 misses
    labels = [t.get_text() for t in ax.texts]
    assert "no" in labels and "nope" in labels and labels.count("found") == 3
    with pytest.raises(ValueError, match="one miss label per gap"):
        search_order_figure([("a", ""), ("b", "")], ("r", ""), [])
    with pytest.raises(ValueError, match="at least two sources"):
        search_order_figure([("a", "")], ("r", ""), [])
    hits = ["found", "downloaded", "used"]  # per-source labels of the arrows into the result
    fig = search_order_figure([("a", ""), ("b", ""), ("c", "")], ("r", ""), ["x", "y"], hits=hits)
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert [t for t in labels if t in hits] == hits  # in source order, none left as "found"
    with pytest.raises(ValueError, match="one hit label per source"):
        search_order_figure([("a", ""), ("b", "")], ("r", ""), ["x"], hits=["found"])


def test_directions_figure_shares_one_symmetric_scale_per_row():
    """Tiles of a row share one scale centred on 0 (a faint tile has small weights); each row
    its own. Regression: each tile scaled to its own maximum."""
    from course_utils.plots import directions_figure

    big = torch.zeros(3, 784)
    big[0, 0], big[1, 1], big[2, 2] = 4.0, -1.0, 0.5
    small = big / 100
    fig = directions_figure({"big": big, "small": small}, column_titles=["a", "b", "c"])
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 6
    assert {im.get_clim() for im in images[:3]} == {(-4.0, 4.0)}
    assert {tuple(round(c, 6) for c in im.get_clim()) for im in images[3:]} == {(-0.04, 0.04)}
    assert fig.axes[0].get_title() == "a" and fig.axes[0].get_ylabel() == "big"


def test_search_order_figure_arrows_start_on_the_box_edges():
    """Regression: 'found' arrows started well right of their boxes (looked detached)."""
    from matplotlib.patches import FancyBboxPatch

    fig = search_order_figure([("disk", "a"), ("download", "b")], ("R", "d"), ["no"])
    ax = fig.axes[0]
    boxes = [p for p in ax.patches if isinstance(p, FancyBboxPatch)]
    right_edges = {round(p.get_x() + p.get_width(), 6) for p in boxes[:2]}
    found = [t for t in ax.texts if isinstance(t, Annotation) and t.xy[0] > 1.5]
    assert {round(a.xyann[0], 6) for a in found} == right_edges
    assert {round(a.xy[0], 6) for a in found} == {round(boxes[-1].get_x(), 6)}


def test_codes_side_by_side_draws_each_code_set_in_its_own_panel():
    from course_utils.plots import codes_side_by_side_figure

    labels = torch.arange(30) % 3
    first, second = torch.randn(30, 2), torch.randn(30, 2) * 5
    fig = codes_side_by_side_figure(
        {"PCA": first, "AE": second}, labels, ["a", "b", "c"], title="t"
    )
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in panels] == ["PCA", "AE"]
    for ax, codes in zip(panels, (first, second), strict=True):
        assert len(ax.collections) == 3  # one scatter per class
        for k, points in enumerate(ax.collections):  # class k's points are class k's codes
            assert np.allclose(points.get_offsets(), codes[labels == k].numpy())
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["a", "b", "c"]
    fig.savefig(io.BytesIO(), format="png")  # draws
    with pytest.raises(InputError, match=r"'AE' has shape \(30, 3\)"):
        codes_side_by_side_figure({"PCA": first, "AE": torch.randn(30, 3)}, labels, ["a", "b", "c"])


def test_linear_widths_and_hourglass_read_the_model():
    from course_utils.models import DenseAutoencoder

    model = DenseAutoencoder(784, hidden=(256, 64), n_latent=8)
    assert linear_widths(model) == [784, 256, 64, 8, 64, 256, 784]
    fig = hourglass_figure(model, title="t")
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert labels[:7] == ["784", "256", "64", "8", "64", "256", "784"]
    heights = [p.get_height() for p in fig.axes[0].patches if hasattr(p, "get_height")]
    assert heights[3] == min(heights) and heights[0] == max(heights) == 1.0
    assert not any(spine.get_visible() for spine in fig.axes[0].spines.values())  # no stray line
    with pytest.raises(ValueError, match="nn.Linear"):
        linear_widths(torch.nn.ReLU())


def test_images_figure_titles_size():
    fig = images_figure(torch.zeros(2, 1, 28, 28), titles=["a", "b"], titles_size=9)
    assert [ax.title.get_fontsize() for ax in fig.axes] == [9, 9]


def _span_heights(ax):
    """(bottom, top) in data units of each shaded span (axhspan) on ax."""
    spans = []
    for patch in ax.patches:
        corners = patch.get_patch_transform().transform(patch.get_path().vertices)
        spans.append((corners[:, 1].min(), corners[:, 1].max()))
    return spans


def test_loss_curves_figure_draws_both_panels_and_the_band():
    train, valid = [100.0, 40.0, 25.0, 21.0], [101.0, 41.0, 26.0, 21.5]
    fig = loss_curves_figure(train, valid, reference=20.0, band=0.1, n_train=640, n_valid=300)
    ax, ax_ratio = fig.axes
    assert ax.get_yscale() == "log" and ax_ratio.get_yscale() == "linear"
    assert [list(line.get_ydata()) for line in ax.lines[:2]] == [valid, train]
    assert list(ax_ratio.lines[-1].get_ydata()) == pytest.approx([v / 20.0 for v in valid])
    # the band: a shaded span from the reference to 10% above it, on both panels
    assert _span_heights(ax) == [pytest.approx((20.0, 22.0))]
    assert _span_heights(ax_ratio) == [pytest.approx((1.0, 1.1))]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "validation images (300)" in labels and "training images (640)" in labels
    # the early points off the top of the zoomed panel are counted in its legend
    assert (
        ax_ratio.get_legend().get_title().get_text().startswith("2 early point(s)")
    )  # 5.05 and 2.05 > 1.3
    fig.savefig(io.BytesIO(), format="png")


@pytest.mark.parametrize(
    ("train", "valid", "reference", "band", "match"),
    [
        ([3.0, 2.0, 1.0], [3.0, 2.0], 1.0, 0.1, "same length"),
        ([3.0], [3.0], 1.0, 0.1, "at least 2"),
        ([3.0, 2.0], [3.0, 2.0], 1.0, 0.0, "band > 0"),
        ([3.0, 2.0], [3.0, 2.0], 1.0, -0.1, "band > 0"),
        ([3.0, float("nan")], [3.0, 2.0], 1.0, 0.1, "finite losses > 0"),
        ([3.0, 2.0], [3.0, 2.0], 0.0, 0.1, "finite losses > 0"),
    ],
)
def test_loss_curves_figure_rejects_bad_input(train, valid, reference, band, match):
    with pytest.raises(ValueError, match=match):
        loss_curves_figure(train, valid, reference, band)
