"""Learning-rate schedules for ``fit``, written as callbacks (``fit(..., callbacks=[...])``).

A constant learning rate keeps jumping around the minimum at the end of training; letting it
decay towards 0 lets the last steps settle. For the same number of steps this lowers the final loss
at no cost per step (docs/PERFORMANCE.md has the measurements).
"""

from __future__ import annotations

import math

from course_utils.deprecation import warn_deprecated
from course_utils.train import Callback, TrainState


class CosineDecay(Callback):
    """Set each learning rate to ``lr0 * (1 + cos(pi * step / total_steps)) / 2`` before each step.

    ``lr0`` is the optimizer's STARTING learning rate, read from the optimizer itself (the
    ``lr`` given to ``fit``, or the one an optimizer passed to ``fit`` was built with), so it is
    never written twice: ``fit(model, x, lr=3e-3, callbacks=[CosineDecay()])``. It is kept in
    each parameter group as ``"initial_lr"``, the key torch's own schedulers use. With ``step``
    counted from 0 and ``total_steps`` = T = epochs x batches per epoch, the last step of ``fit``
    (step T - 1) runs at ``lr0 * (1 + cos(pi * (T - 1) / T)) / 2``: almost 0, not exactly 0
    (about ``lr0 * pi**2 / (4 * T**2)``, e.g. 6.9e-8 x ``lr0`` for T = 6000).

    ``CosineDecay(lr)``, the old form that repeated the rate, still works for one release (with
    a DeprecationWarning) and starts every group at that ``lr``.
    """

    def __init__(self, lr: float | None = None) -> None:
        if lr is not None:
            warn_deprecated(f"CosineDecay({lr!r})", "CosineDecay() (it reads fit's lr)")
            if not lr > 0:
                raise ValueError(f"CosineDecay expects a learning rate > 0, but received {lr!r}.")
        self.lr = lr

    def on_batch_start(self, state: TrainState) -> None:
        progress = min(1.0, state.step / max(1, state.total_steps))
        factor = 0.5 * (1.0 + math.cos(math.pi * progress))
        for group in state.optimizer.param_groups:
            start = group.setdefault("initial_lr", group["lr"]) if self.lr is None else self.lr
            group["lr"] = start * factor
