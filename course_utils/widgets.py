"""Interactive views: thin ipywidgets shells over plain functions that return figures.

Every view here is ``FigureView(render, controls)``: when a control changes, ``render(**values)``
is called and its figure shown. The render functions are ordinary functions, unit-tested without a
browser, and every notebook also shows their static output, so the lessons read well on GitHub.
Works with ipywidgets 7.7+ and 8.x (no 8-only widgets or arguments).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import ipywidgets as widgets
from IPython.display import display
from matplotlib.figure import Figure


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
        with self.output:
            self.output.clear_output(wait=True)
            display(self.figure)

    def _ipython_display_(self) -> None:  # understood by ipywidgets 7 and 8 alike
        display(self.widget)
