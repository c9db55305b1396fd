"""Interactive views: thin ipywidgets shells over plain functions that return figures.

Every view here is ``FigureView(render, controls)``: when a control changes, ``render(**values)``
is called and its figure shown. The render functions are ordinary functions, unit-tested without a
browser, and ``FigureView.show_static()`` draws the figure again as a plain image output under
the widget, so a saved notebook shows a picture on GitHub too.
Works with ipywidgets 7.7+ and 8.x (no 8-only widgets or arguments).

The figure is written into the ``Output`` widget's ``outputs`` (its state, sent by the kernel),
never captured with ``with output: display(...)``. Capturing makes a headless client such as
nbclient send each captured output back to the kernel while it waits for the cell's reply, and
that send can hide the reply from it until the cell's timeout (docs/PERFORMANCE.md, "Lesson
runtimes"). Written as state, a view costs a headless run nothing and looks the same in a browser.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Mapping

import ipywidgets as widgets
from IPython import get_ipython
from IPython.display import display
from matplotlib.figure import Figure


def figure_output(figure: Figure) -> dict:
    """``figure`` as one notebook output (a ``display_data`` dict), as ``display(figure)`` sends it.

    Inside IPython the shell's own formatters draw it (so ``%config InlineBackend`` settings hold);
    elsewhere, or when no image format is registered, matplotlib draws a PNG. Binary images are
    stored as base64 text, as in a saved notebook: front ends do not render raw bytes from a
    widget's state.
    """
    data: dict = {}
    metadata: dict = {}
    shell = get_ipython()
    if shell is not None:
        data, metadata = shell.display_formatter.format(figure)
    if not any(mime.startswith("image/") for mime in data):
        png = io.BytesIO()
        figure.savefig(png, format="png", bbox_inches="tight")
        data = {"text/plain": repr(figure), **data, "image/png": png.getvalue()}
    data = {
        mime: base64.b64encode(value).decode("ascii") if isinstance(value, bytes) else value
        for mime, value in data.items()
    }
    return {"output_type": "display_data", "data": data, "metadata": metadata}


class FigureView:
    """Controls (sliders, dropdowns, ...) above a figure that is redrawn when they change.

    ``view.figure`` is the last figure drawn and ``view.update()`` redraws it, so tests can drive
    a view exactly as a student does: set ``view.controls["k"].value = 5`` and read the figure.
    """

    def __init__(
        self, render: Callable[..., Figure], controls: Mapping[str, widgets.ValueWidget]
    ) -> None:
        self.render, self.controls = render, dict(controls)
        self.output = widgets.Output()
        self.figure: Figure | None = None
        for control in self.controls.values():
            control.observe(self.update, names="value")
        self.widget = widgets.VBox([widgets.HBox(list(self.controls.values())), self.output])
        self.update()

    def values(self) -> dict:
        return {name: control.value for name, control in self.controls.items()}

    def update(self, change: dict | None = None) -> None:
        self.figure = self.render(**self.values())
        self.output.outputs = (figure_output(self.figure),)  # replaces the last figure (see above)

    def show_static(self) -> None:
        """Display the current figure as a plain image output, under the widget.

        A saved notebook viewed without a kernel (GitHub, nbviewer) cannot draw the widget; this
        copy of its figure at the current values is what such a reader sees.
        """
        output = figure_output(self.figure)
        display(output["data"], metadata=output["metadata"], raw=True)

    def _ipython_display_(self) -> None:  # understood by ipywidgets 7 and 8 alike
        display(self.widget)
