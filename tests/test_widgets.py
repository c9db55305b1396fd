"""course_utils.widgets: FigureView redraws when a control changes, driven like a student."""

import base64
import os
from pathlib import Path

import ipywidgets as widgets
import nbformat
import pytest
import torch

from course_utils import widgets as widgets_module
from course_utils.plots import (
    images_figure,
)
from course_utils.widgets import FigureView, figure_output

REPO = Path(__file__).resolve().parent.parent

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


def _png(output: dict) -> bytes:
    """The PNG bytes of one ``display_data`` output (its base64 text decoded)."""
    assert output["output_type"] == "display_data"
    text = output["data"]["image/png"]
    assert isinstance(text, str), "widget state must hold base64 text, not raw bytes"
    return base64.b64decode(text, validate=True)


def test_figure_view_writes_its_figure_into_the_output_state():
    """No ``with output: display(...)``: the figure is the Output widget's one output (state)."""
    view = FigureView(
        lambda k: images_figure(IMAGES[:k]), {"k": widgets.IntSlider(value=2, min=1, max=5)}
    )
    (first,) = view.output.outputs
    assert _png(first).startswith(b"\x89PNG\r\n\x1a\n")
    view.controls["k"].value = 5
    (second,) = view.output.outputs  # replaced, not appended
    assert _png(second).startswith(b"\x89PNG") and _png(second) != _png(first)
    assert view.output.msg_id == ""  # nothing was captured: no output message to route


class FakeShell:
    """What ``figure_output`` uses of a running IPython: its display formatter."""

    def __init__(self, data: dict, metadata: dict) -> None:
        self.display_formatter = self
        self.data, self.metadata = data, metadata

    def format(self, obj):
        return dict(self.data), dict(self.metadata)


def test_figure_output_uses_the_shells_formats_and_stores_bytes_as_base64(monkeypatch):
    fig = images_figure(IMAGES[:2])
    raw = b"\x89PNG fake bytes"
    shell = FakeShell({"image/png": raw, "text/plain": "<Figure>"}, {"image/png": {"width": 10}})
    monkeypatch.setattr(widgets_module, "get_ipython", lambda: shell)
    out = figure_output(fig)
    assert out == {
        "output_type": "display_data",
        "data": {"image/png": "iVBORyBmYWtlIGJ5dGVz", "text/plain": "<Figure>"},
        "metadata": {"image/png": {"width": 10}},
    }
    # a shell with no image format for figures (MPLBACKEND=Agg): matplotlib draws the PNG
    monkeypatch.setattr(widgets_module, "get_ipython", lambda: FakeShell({"text/plain": "t"}, {}))
    out = figure_output(fig)
    assert out["data"]["text/plain"] == "t" and _png(out).startswith(b"\x89PNG")


def test_figure_views_send_nothing_back_from_a_headless_client(monkeypatch):
    """nbclient, with no front end, never writes to the kernel while a view's cell runs.

    A captured output (``with output: display(...)``) makes nbclient echo it to the kernel on the
    shell socket while it waits for the cell's reply; that send can hide the reply until the
    cell's timeout (docs/PERFORMANCE.md). Here the client's sends are recorded.
    """
    nbclient = pytest.importorskip("nbclient")
    from jupyter_client.session import Session

    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    sent: list[str] = []
    send = Session.send

    def recording_send(self, stream, msg_or_type, *args, **kwargs):
        msg = send(self, stream, msg_or_type, *args, **kwargs)
        sent.append(msg["msg_type"] if isinstance(msg, dict) else str(msg_or_type))
        return msg

    monkeypatch.setattr(Session, "send", recording_send)
    code = (
        "import ipywidgets as widgets\n"
        "import matplotlib.pyplot as plt\n"
        "from course_utils.widgets import FigureView\n"
        "def render(k):\n"
        "    fig, ax = plt.subplots()\n"
        "    ax.plot(range(k))\n"
        "    plt.close(fig)\n"
        "    return fig\n"
    )
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(code)] + [
        nbformat.v4.new_code_cell(f"FigureView(render, {{'k': widgets.IntSlider(value={k})}})")
        for k in (2, 3)
    ]
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    assert "comm_msg" not in sent and sent.count("execute_request") == 3, sent
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    outputs = [m["state"]["outputs"] for m in state.values() if m["model_name"] == "OutputModel"]
    assert len(outputs) == 2 and all(len(o) == 1 and _png(o[0]) for o in outputs)


def test_show_static_displays_the_current_figure_as_a_plain_png(monkeypatch):
    """The fallback under a widget: a plain image output of the figure at its current value."""
    shown = []
    monkeypatch.setattr(widgets_module, "get_ipython", lambda: None)  # matplotlib draws the PNG
    monkeypatch.setattr(widgets_module, "display", lambda *args, **kw: shown.append((args, kw)))
    view = FigureView(
        lambda k: images_figure(IMAGES[:k]), {"k": widgets.IntSlider(value=2, min=1, max=5)}
    )
    view.controls["k"].value = 3
    view.show_static()
    ((data,), kwargs) = shown[-1]
    assert kwargs.get("raw") is True
    assert base64.b64decode(data["image/png"]).startswith(b"\x89PNG")
    assert data["image/png"] == figure_output(view.figure)["data"]["image/png"]  # the k = 3 figure
    assert "application/vnd.jupyter.widget-view+json" not in data
