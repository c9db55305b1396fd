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

    ``CosineDecay(warmup_steps=W)`` first raises the rate linearly, ``lr0 * (step + 1) / W`` for
    steps 0 to W - 1 (so step W - 1 runs at ``lr0``), then decays it over the remaining T - W
    steps: ``lr0 * (1 + cos(pi * (step - W) / (T - W))) / 2``. Small early steps keep a fresh
    ReLU channel from being pushed below 0 everywhere (a dead channel) before training settles.
    W = 0, the default, is the plain half cosine above. W must be an integer >= 0 and below T.

    ``CosineDecay(lr)``, the old form that repeated the rate, still works for one release (with
    a DeprecationWarning) and starts every group at that ``lr``.
    """

    def __init__(self, lr: float | None = None, *, warmup_steps: int = 0) -> None:
        if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, int) or warmup_steps < 0:
            raise ValueError(
                f"CosineDecay expects warmup_steps to be an integer >= 0 (0 = no warm-up), "
                f"but received {warmup_steps!r}."
            )
        self.warmup_steps = warmup_steps
        if lr is not None:
            warn_deprecated(f"CosineDecay({lr!r})", "CosineDecay() (it reads fit's lr)")
            if not lr > 0:
                raise ValueError(f"CosineDecay expects a learning rate > 0, but received {lr!r}.")
        self.lr = lr

    def on_batch_start(self, state: TrainState) -> None:
        warmup, total = self.warmup_steps, state.total_steps
        if warmup and warmup >= total:
            raise ValueError(
                f"CosineDecay(warmup_steps={warmup}) needs more training steps than that, "
                f"but fit runs {total}: lower warmup_steps or train longer."
            )
        if state.step < warmup:  # linear warm-up: lr0 / W, 2 lr0 / W, ..., lr0
            factor = (state.step + 1) / warmup
        else:  # half cosine over the steps after the warm-up
            progress = min(1.0, (state.step - warmup) / max(1, total - warmup))
            factor = 0.5 * (1.0 + math.cos(math.pi * progress))
        for group in state.optimizer.param_groups:
            start = group.setdefault("initial_lr", group["lr"]) if self.lr is None else self.lr
            group["lr"] = start * factor
