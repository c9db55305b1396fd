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
from torch import Tensor

from course_utils.pca import PCA
from course_utils.plots import show_rows


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


def pca_reconstruction_figure(pca: PCA, images: Tensor, k: int) -> Figure:
    """Images (N, 1, 28, 28) next to their PCA reconstructions from the first k components."""
    small = pca.truncated(k)
    recon = small.reconstruct(images.flatten(1)).view_as(images).clamp(0, 1)  # (N, 784) -> images
    kept = small.explained_variance_ratio.sum().item()
    return show_rows(
        {"original": images, f"k = {k}": recon},
        title=f"{k} principal components keep {kept:.1%} of the variance",
    )


def pca_slider(pca: PCA, images: Tensor, k: int = 10) -> FigureView:
    """Lesson 01: a slider for the number of components k and the reconstructions it gives."""
    slider = widgets.IntSlider(
        value=min(k, pca.n_components),
        min=1,
        max=pca.n_components,
        description="k",
        continuous_update=False,
    )
    return FigureView(lambda k: pca_reconstruction_figure(pca, images, k), {"k": slider})
