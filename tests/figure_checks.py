"""Figure checks shared by tests: is any title cut off at the figure's edge?

``cut_titles(fig)`` draws a figure with Agg (as ``NotebookFigure`` does to show itself) and
returns the titles whose drawn extent leaves the figure: a suptitle or an axes title wider than
the figure is cut on both sides in the PNG the student sees.
"""

from __future__ import annotations

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

TOLERANCE_PX = 1.0


def _titles(fig: Figure) -> list:
    texts = [fig._suptitle] if fig._suptitle is not None else []
    for ax in fig.axes:
        texts += [ax.title, ax._left_title, ax._right_title]
    return [t for t in texts if t.get_text() and t.get_visible()]


def cut_titles(fig: Figure, dpi: float = 100) -> list[str]:
    """The texts of the titles of ``fig`` that do not fit inside it when drawn at ``dpi``."""
    fig.set_dpi(dpi)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()  # runs the layout engine, so the titles sit where the PNG has them
    renderer = canvas.get_renderer()
    edge = fig.bbox
    cut = []
    for text in _titles(fig):
        box = text.get_window_extent(renderer)
        tol = TOLERANCE_PX
        across = box.x0 >= edge.x0 - tol and box.x1 <= edge.x1 + tol
        up_down = box.y0 >= edge.y0 - tol and box.y1 <= edge.y1 + tol
        if not (across and up_down):
            cut.append(text.get_text())
    return cut
