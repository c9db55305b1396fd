"""Training curves logged every few optimizer steps (lesson 07).

``fit`` records one history row per EPOCH. A short budget on 60,000 images is one or two epochs:
one or two rows, no curve, and "still falling?" cannot be asked. ``StepLog`` wraps an objective
and averages what it returns over every ``every`` training steps, so a curve has about the same
number of points whatever the size of the data set:

    log = StepLog(VAEObjective(), every=50)
    fit(model, x, objective=log, epochs=2)
    log.column("kl")  # one number per 50 steps, each the mean over those 50 batches

Nothing else changes: ``fit`` sees the wrapped objective's loss and logs unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from torch import Tensor, nn

from course_utils.inputs import InputError
from course_utils.plots import NotebookFigure
from course_utils.train import Objective, loss_name


class StepLog:
    """An objective for ``fit`` that records its own loss and logs every ``every`` steps.

    ``rows[i]`` = {"step": s, "loss": ..., "recon": ..., ...}: the means over the training
    batches s - every + 1 ... s (the loss under the wrapped objective's ``loss_name``). Calls
    made in eval mode (``fit``'s validation pass, ``evaluate``) are not training steps and are
    not recorded. A last window shorter than ``every`` steps is not recorded.
    """

    def __init__(self, objective: Objective, every: int) -> None:
        if not (isinstance(every, int) and not isinstance(every, bool) and every >= 1):
            raise InputError(
                f"StepLog expects every= to be a whole number of steps >= 1, but received "
                f"{every!r}. Use e.g. every=max(1, total_steps // 10) for about ten points."
            )
        self.objective, self.every = objective, every
        self.rows: list[dict[str, float]] = []
        self.steps = 0  # training steps seen so far
        self._sums: dict[str, float] = {}
        self._count = 0

    @property
    def loss_name(self) -> str:
        return loss_name(self.objective)

    def __call__(self, model: nn.Module, batch: tuple[Tensor, ...]):
        loss, logs = self.objective(model, batch)
        if model.training:
            self.steps += 1
            values = {self.loss_name: loss, **logs}
            for key, value in values.items():
                number = float(value.detach()) if isinstance(value, Tensor) else float(value)
                self._sums[key] = self._sums.get(key, 0.0) + number
            self._count += 1
            if self._count == self.every:
                means = {key: total / self._count for key, total in self._sums.items()}
                self.rows.append({"step": self.steps, **means})
                self._sums, self._count = {}, 0
        return loss, logs

    def column(self, key: str) -> list[float]:
        """One logged quantity, one value per window, e.g. ``log.column("kl")``."""
        if self.rows and key not in self.rows[0]:
            raise KeyError(
                f"StepLog.column expects one of {sorted(self.rows[0])}, but received {key!r}."
            )
        return [row[key] for row in self.rows]


def late_slope(values: Sequence[float], steps: Sequence[int]) -> float:
    """Least-squares slope of the LAST HALF of a curve, per 100 steps (negative: still falling).

    values, steps: (P,) with P >= 4 points (fewer cannot tell a trend from noise).
    """
    if len(values) != len(steps) or len(values) < 4:
        raise InputError(
            f"late_slope expects at least 4 (step, value) points of equal number, but received "
            f"{len(steps)} steps and {len(values)} values. Log more often (StepLog(every=...))."
        )
    half = len(values) // 2
    x, y = np.asarray(steps[half:], float), np.asarray(values[half:], float)
    return float(np.polyfit(x, y, 1)[0] * 100)


def curves_figure(
    logs: dict[str, StepLog],
    keys: Sequence[str] = ("loss",),
    title: str | None = None,
    logy: Sequence[str] = (),
) -> Figure:
    """One panel per logged key, one line per labelled StepLog; x = optimizer step.

    ``logy``: the keys whose panel gets a logarithmic y axis.
    """
    fig = NotebookFigure(figsize=(3.6 * len(keys) + 0.6, 3.1), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(keys)))
    for ax, key in zip(axes, keys, strict=True):
        for label, log in logs.items():
            column = log.loss_name if key == "loss" else key
            ax.plot([row["step"] for row in log.rows], log.column(column), "-o", markersize=2.5,
                    label=label)  # fmt: skip
        ax.set(xlabel="training step", ylabel=f"{key} (per image, training)")
        ax.grid(alpha=0.3)
        if key in logy:
            ax.set_yscale("log")
    if len(logs) > 1:
        axes[-1].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return fig
