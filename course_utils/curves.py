"""Training curves logged every few optimizer steps (lesson 07).

``fit`` records one history row per EPOCH. A short budget on 60,000 images is one or two epochs:
one or two rows, no curve, and "still falling?" cannot be asked. ``StepLog`` wraps an objective
and averages what it returns over every ``every`` training steps, so a curve has about the same
number of points whatever the size of the data set:

    log = StepLog(VAEObjective(), every=50)
    fit(model, x, objective=log, epochs=2)
    log.column("kl")  # one number per 50 steps, each the mean over those 50 batches

Nothing else changes: ``fit`` sees the wrapped objective's loss and logs unchanged.

``step_budget`` makes a budget of optimizer steps exact at any data size: ``fit`` counts in
whole epochs, so "630 steps" would be 1 epoch = 469 steps on 60,000 images. Instead, pass
``fit`` ONE epoch over a stream of exactly steps x batch_size rows in which every image appears
equally often (give or take one).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
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


def step_budget(
    *tensors: Tensor, steps: int, batch_size: int, generator: torch.Generator | None = None
) -> tuple[Tensor, ...]:
    """Aligned tensors (N, ...) -> the same tensors with exactly steps x batch_size rows.

    The rows are whole random permutations of 0..N-1 laid end to end and cut at
    steps x batch_size, so every row is used floor(k) or ceil(k) times (k = steps x batch_size
    / N; rows are dropped, never repeated, when k < 1). ``fit(model, stream, epochs=1,
    batch_size=batch_size)`` then takes exactly ``steps`` optimizer steps:

        x_stream, y_stream = step_budget(x, y, steps=630, batch_size=128)
    """
    n = len(tensors[0]) if tensors else 0
    if n == 0 or any(len(t) != n for t in tensors):
        raise InputError(
            f"step_budget expects one or more tensors with the same number of rows (> 0), but "
            f"received {[tuple(t.shape) for t in tensors]}."
        )
    whole = [isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in (steps, batch_size)]
    if not all(whole):
        raise InputError(
            f"step_budget expects steps and batch_size to be whole numbers >= 1, but received "
            f"steps={steps!r}, batch_size={batch_size!r}."
        )
    total = steps * batch_size
    rounds = -(-total // n)  # ceil: permutations needed
    order = torch.cat([torch.randperm(n, generator=generator) for _ in range(rounds)])[:total]
    return tuple(t[order] for t in tensors)


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
    if len(logs) > 1:  # outside the panels: a legend inside would hide a curve
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside right center", fontsize=8)
    if title:
        fig.suptitle(title)
    return fig
