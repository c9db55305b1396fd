"""Learning-rate schedules for ``fit``, written as callbacks (``fit(..., callbacks=[...])``).

A constant learning rate keeps jumping around the minimum at the end of training; letting it
decay to 0 lets the last steps settle. For the same number of steps this lowers the final loss
at no cost per step (docs/PERFORMANCE.md has the measurements).
"""

from __future__ import annotations

import math

from course_utils.train import Callback, TrainState


class CosineDecay(Callback):
    """Set the learning rate to ``lr * (1 + cos(pi * step / total_steps)) / 2`` before each step.

    It starts at ``lr`` and reaches 0 at the last step of ``fit`` (``total_steps`` = epochs x
    batches per epoch), so it must be given the same ``lr`` as ``fit``.
    """

    def __init__(self, lr: float) -> None:
        if not lr > 0:
            raise ValueError(f"CosineDecay expects a learning rate > 0, but received lr={lr!r}.")
        self.lr = lr

    def on_batch_start(self, state: TrainState) -> None:
        progress = min(1.0, state.step / max(1, state.total_steps))
        for group in state.optimizer.param_groups:
            group["lr"] = self.lr * 0.5 * (1.0 + math.cos(math.pi * progress))
