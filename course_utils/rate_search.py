"""Train under one fixed recipe, compare two models image by image, and pick a learning rate.

- ``LogEvery``: a ``fit`` callback that records the loss on fixed images every N steps (a curve).
- ``Recipe``: the data, epochs, batch size, warm-up and seed that every run shares;
  ``recipe.train(build, lr)`` builds a model from the seed and fits it with ``CosineDecay``.
- ``paired_z``: is the gap between two models' errors on the SAME images bigger than its noise?
- ``z_word``: the word a printed verdict uses for a z: higher, lower, or within the noise.
- ``search_rates``: train one model per starting rate and keep the LOWEST rate whose validation
  error is within the noise of the best (paired z <= 2): a higher rate must win clearly.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from course_utils.anomaly import mse_per_pixel_per_image
from course_utils.schedules import CosineDecay
from course_utils.train import Callback, History, evaluate, fit
from course_utils.verdicts import margin_word

Z_NOISE = 2.0  # |z| at or below this: within the noise


class LogEvery(Callback):
    """Every ``every`` optimizer steps, the loss on the fixed images ``x`` (N, ...): a curve.

    ``points`` collects (step, loss) pairs; ``evaluate`` switches to eval mode and back.
    """

    def __init__(self, x: Tensor, every: int) -> None:
        if every < 1:
            raise ValueError(f"LogEvery needs every >= 1 step, got {every}: pass e.g. every=100.")
        self.x, self.every, self.points = x, every, []

    def on_batch_end(self, state) -> None:
        if state.step % self.every == 0:
            self.points.append((state.step, evaluate(state.model, self.x)["loss"]))


@dataclass
class Recipe:
    """What every run shares: x_train (N, ...) and x_valid (M, ...) on the training device,
    epochs, batch size, warm-up steps, seed, and the curve's images and spacing."""

    x_train: Tensor
    x_valid: Tensor
    epochs: int
    batch_size: int = 128
    warmup_steps: int = 100
    seed: int = 0
    x_curve: Tensor | None = None  # None: the first 500 validation images
    log_every: int = 100
    verbose: bool = True  # a progress bar per run

    def train(
        self,
        build: Callable[[], nn.Module],
        lr: float,
        run_seed: int | None = None,
        n_epochs: int | None = None,
        warmup_steps: int | None = None,
        objective: Callable | None = None,
    ) -> tuple[nn.Module, History, list]:
        """Seed (``run_seed`` or the recipe's), build, fit at starting rate ``lr`` with a linear
        warm-up and a half cosine (``CosineDecay``); return (model in eval mode, history, curve).
        ``objective``: passed on to ``fit`` (None: plain reconstruction of each batch)."""
        run_seed = self.seed if run_seed is None else run_seed
        torch.manual_seed(run_seed)  # the initial weights; fit's seed= fixes the batch order
        model = build().to(self.x_train.device)
        x_curve = self.x_valid[:500] if self.x_curve is None else self.x_curve
        logger = LogEvery(x_curve, self.log_every)
        warm = self.warmup_steps if warmup_steps is None else warmup_steps
        callbacks = [CosineDecay(warmup_steps=warm), logger]  # warm-up, half cosine; the curve
        history = fit(model, self.x_train, self.x_valid, epochs=n_epochs or self.epochs, lr=lr,
                      batch_size=self.batch_size, callbacks=callbacks, seed=run_seed,
                      objective=objective, verbose=self.verbose)  # fmt: skip
        return model.eval(), history, logger.points  # eval: BatchNorm uses its running averages


def paired_z(err_a: Tensor, err_b: Tensor) -> float:
    """z of the mean gap err_a - err_b, two (N,) errors on the SAME N images: mean / its standard
    error, std(gap) / sqrt(N). z > 2: a higher beyond the image noise; z < -2: a lower."""
    err_a, err_b = torch.as_tensor(err_a).flatten(), torch.as_tensor(err_b).flatten()
    if err_a.shape != err_b.shape or len(err_a) < 2:
        raise ValueError(
            f"paired_z needs two error vectors of the same length >= 2 (one error per image, "
            f"the same images), got {len(err_a)} and {len(err_b)}: score both models on the "
            "same images."
        )
    gap = (err_a - err_b).double()  # (N,)
    mean, se = gap.mean().item(), gap.std().item() / len(gap) ** 0.5
    if se == 0:  # every image has the same gap: no noise at all
        return 0.0 if mean == 0 else math.copysign(math.inf, mean)
    return mean / se


def z_word(
    z: float, lower: str = "lower", higher: str = "higher", tie: str = "within the noise of"
) -> str:
    """The verdict for a paired z (``paired_z``): ``higher`` if z > Z_NOISE, ``lower`` if
    z < -Z_NOISE, else ``tie`` (|z| <= 2 is within the image noise)."""
    if not isinstance(z, (int, float)) or math.isnan(z):
        raise ValueError(f"z_word expects a z as a number (paired_z's result), got {z!r}: pass "
                         "e.g. z_word(paired_z(err_a, err_b)).")  # fmt: skip
    return margin_word(z, 0.0, Z_NOISE, lower=lower, higher=higher, tie=tie)  # lesson 02's rule


def search_rates(
    name: str,
    train_at: Callable[[float], tuple],
    rates: Sequence[float],
    x_valid: Tensor,
    error: Callable[[nn.Module, Tensor], Tensor] = mse_per_pixel_per_image,
) -> tuple[dict[float, tuple], float]:
    """Train one run per starting rate (``train_at(lr)`` returns a tuple, the model first) and
    score it on x_valid with ``error`` ((N,) per image). The best rate has the lowest mean error;
    keep the LOWEST rate within the noise of the best (paired z <= 2). Prints one line; returns
    (runs: lr -> what train_at returned, the kept rate)."""
    rates = sorted(rates)
    if not rates or len(set(rates)) != len(rates) or min(rates) <= 0:
        raise ValueError(
            f"search_rates needs distinct positive learning rates, got {rates}: pass e.g. "
            "rates=(1.2e-2, 2.4e-2, 4.8e-2)."
        )
    runs = {lr: train_at(lr) for lr in rates}
    err = {lr: error(run[0], x_valid) for lr, run in runs.items()}  # (N,) each
    best = min(rates, key=lambda lr: err[lr].mean().item())
    z = {lr: 0.0 if lr == best else paired_z(err[lr], err[best]) for lr in rates}  # > 0: worse
    kept = min(lr for lr in rates if z[lr] <= Z_NOISE)
    edge = (
        "inside the bracket"
        if rates[0] < best < rates[-1] or len(rates) == 1
        else f"unbracketed, at the {'low' if best == rates[0] else 'high'} edge of the rates tried"
    )
    scores = ", ".join(f"{lr:g}: {err[lr].mean():.5f} (z = {z[lr]:+.1f})" for lr in rates)
    why = (
        "the best itself."
        if kept == best
        else "the lowest rate within the noise (z <= 2) of the best."
    )
    print(f"{name}: validation MSE per pixel {scores}; lowest at {best:g} ({edge}); "
          f"kept: {kept:g}, {why}")  # fmt: skip
    return runs, kept
