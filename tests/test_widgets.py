"""course_utils.widgets: FigureView redraws when a control changes, driven like a student."""

import ipywidgets as widgets
import torch

from course_utils.plots import (
    images_figure,
)
from course_utils.widgets import FigureView

IMAGES = torch.rand(12, 1, 28, 28, generator=torch.Generator().manual_seed(0))


def _image_axes(fig):
    return [ax for ax in fig.axes if ax.images]


def test_figure_view_redraws_when_a_control_changes():
    calls = []

    def render(k, name):
        calls.append((k, name))
        return images_figure(IMAGES[:k], title=name)

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
