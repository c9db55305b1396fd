"""Recorders: ``fit`` callbacks that keep copies of a model's weights while it trains.

A recorder changes nothing in training; it only copies. Pass one to ``fit`` and read its
attributes afterwards, for instance to measure how a subspace turned between two steps::

    snapshots = WeightSnapshots(at_steps=log_spaced_steps(6000), last_epochs=2)
    fit(model, x, epochs=..., callbacks=[snapshots])
    snapshots.states[100]["decoder.weight"]      # the decoder weight after optimizer step 100
    snapshots.epoch_states[-2]["decoder.weight"]  # ... after the second-to-last epoch

Every copy is a ``state_dict`` (parameter name -> tensor) detached and moved to the CPU, so a
model trained on a GPU can be inspected, or loaded back with ``load_state_dict``.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable

import torch
from torch import Tensor

from course_utils.train import Callback, TrainState

__all__ = ["WeightSnapshots", "log_spaced_steps"]


def log_spaced_steps(last_step: int, n: int = 60) -> list[int]:
    """About ``n`` optimizer steps from 1 to ``last_step``, evenly spaced on a log scale.

    Rounding to whole steps merges the first few, so the list (sorted, no repeats) can be
    shorter than ``n``. Dense early, sparse late: right for curves drawn on a log axis.
    """
    if int(last_step) != last_step or last_step < 1:
        raise ValueError(
            f"log_spaced_steps expects last_step, a whole number >= 1, but received {last_step!r}."
        )
    if int(n) != n or n < 2:
        raise ValueError(f"log_spaced_steps expects n, a whole number >= 2, but received {n!r}.")
    values = torch.logspace(0, math.log10(last_step), int(n), dtype=torch.float64)  # (n,)
    return sorted({round(v) for v in values.tolist()})


def _cpu_copy(model: torch.nn.Module) -> dict[str, Tensor]:
    """A detached CPU copy of ``model.state_dict()``: name -> tensor."""
    return {name: w.detach().cpu().clone() for name, w in model.state_dict().items()}


class WeightSnapshots(Callback):
    """Copy the model's weights after chosen optimizer steps and after the last few epochs.

    Args:
        at_steps: optimizer steps (counted from 1, as ``fit``'s ``state.step``) after which to
            copy every weight; the copies land in ``states[step]``.
        last_epochs: how many epoch-end copies to keep, the most recent ones; they land in
            ``epoch_states`` (oldest first). 0 keeps none.

    Memory: one copy per listed step plus ``last_epochs`` copies of the whole model.
    """

    def __init__(self, at_steps: Iterable[int] = (), last_epochs: int = 0) -> None:
        steps = list(at_steps)
        if any(int(t) != t or t < 1 for t in steps):
            raise ValueError(
                f"WeightSnapshots expects at_steps to be whole numbers >= 1 (optimizer steps), "
                f"but received {steps[:5]}{' ...' if len(steps) > 5 else ''}."
            )
        if int(last_epochs) != last_epochs or last_epochs < 0:
            raise ValueError(
                f"WeightSnapshots expects last_epochs >= 0, but received {last_epochs!r}."
            )
        self.at_steps = {int(t) for t in steps}
        self.states: dict[int, dict[str, Tensor]] = {}  # step -> state_dict copy
        self.epoch_states: deque[dict[str, Tensor]] = deque(maxlen=int(last_epochs))

    def on_batch_end(self, state: TrainState) -> None:
        if state.step in self.at_steps:  # state.step: optimizer steps done so far
            self.states[state.step] = _cpu_copy(state.model)

    def on_epoch_end(self, state: TrainState) -> None:
        if self.epoch_states.maxlen:
            self.epoch_states.append(_cpu_copy(state.model))
