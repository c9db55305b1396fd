"""The one training loop of the course: ``fit`` (lesson 01, then every lesson).

What differs between lessons goes into the LOSS FUNCTION, not into a new loop:
``loss_fn(model, batch) -> loss`` or ``-> (loss, {"name": value, ...})`` for extra numbers to log
(e.g. the two terms of the VAE loss). ``batch`` is the tuple of tensors from ``iterate_batches``,
already on the model's device. Small hooks (callbacks) handle schedules such as KL warm-up.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from course_utils.data import iterate_batches
from course_utils.losses import mse_loss

Batch = tuple[Tensor, ...]
LossFn = Callable[[nn.Module, Batch], "Tensor | tuple[Tensor, dict[str, Tensor | float]]"]


class NonFiniteLossError(FloatingPointError):
    """The loss became NaN or infinite during training."""


def reconstruction_loss(loss: Callable[[Tensor, Tensor], Tensor] = mse_loss) -> LossFn:
    """Plain autoencoder objective: ``loss(model(x), target)``; target = x unless given.

    Batches are ``(x,)`` for a plain autoencoder or ``(x_input, x_target)``, e.g. a noisy input
    and its clean target in lesson 04.
    """

    def loss_fn(model: nn.Module, batch: Batch) -> Tensor:
        x, target = batch[0], batch[-1]
        return loss(model(x), target)

    return loss_fn


@dataclass
class History:
    """One row per epoch: {"epoch", "train_loss", "valid_loss", ..., "seconds"}."""

    rows: list[dict[str, float]] = field(default_factory=list)

    def __getitem__(self, key: str) -> list[float]:
        """All epochs' values of one column, e.g. ``history["valid_loss"]``."""
        return [row[key] for row in self.rows if key in row]

    def last(self, key: str) -> float:
        return self[key][-1]


@dataclass
class TrainState:
    """What a callback can see (and change) while ``fit`` runs."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    history: History
    epoch: int = 0  # 1-based while training
    step: int = 0  # optimizer steps so far
    stop: bool = False  # a callback sets this to end training after the current epoch


class Callback:
    """Override any of these; ``fit`` calls them at the matching moments."""

    def on_epoch_start(self, state: TrainState) -> None: ...

    def on_batch_end(self, state: TrainState) -> None: ...

    def on_epoch_end(self, state: TrainState) -> None: ...


def _as_tuple(data: Tensor | Sequence[Tensor]) -> Batch:
    return (data,) if isinstance(data, Tensor) else tuple(data)


def _split_output(out) -> tuple[Tensor, dict[str, float]]:
    if isinstance(out, tuple):
        loss, extras = out
        return loss, {
            k: float(v.detach() if isinstance(v, Tensor) else v) for k, v in extras.items()
        }
    return out, {}


@torch.no_grad()
def evaluate(
    model: nn.Module,
    data: Tensor | Sequence[Tensor],
    loss_fn: LossFn | None = None,
    batch_size: int = 512,
) -> dict[str, float]:
    """Average loss (and extras) over a whole dataset, in eval mode: {"loss": ..., ...}.

    Averages are weighted by batch size, so the result is a true per-image mean.
    """
    loss_fn = loss_fn or reconstruction_loss()
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    totals: dict[str, float] = {}
    n = 0
    for batch in iterate_batches(*_as_tuple(data), batch_size=batch_size):
        loss, extras = _split_output(loss_fn(model, tuple(t.to(device) for t in batch)))
        size = len(batch[0])
        for key, value in {"loss": float(loss), **extras}.items():
            totals[key] = totals.get(key, 0.0) + value * size
        n += size
    model.train(was_training)
    return {key: total / n for key, total in totals.items()}


def fit(
    model: nn.Module,
    train: Tensor | Sequence[Tensor],
    valid: Tensor | Sequence[Tensor] | None = None,
    *,
    loss_fn: LossFn | None = None,
    epochs: int = 10,
    batch_size: int = 128,
    lr: float = 1e-3,
    optimizer: torch.optim.Optimizer | None = None,
    grad_clip: float | None = None,
    callbacks: Sequence[Callback] = (),
    seed: int = 0,
    verbose: bool = True,
) -> History:
    """Train ``model`` and return its per-epoch history.

    Args:
        model: any nn.Module; training runs on the device its parameters are on.
        train: a tensor x (N, ...) or a tuple of aligned tensors, e.g. (noisy, clean).
        valid: the same for validation (optional), evaluated after every epoch.
        loss_fn: ``loss_fn(model, batch)``; default: squared error per image (``mse_loss``).
        epochs, batch_size, lr: the usual; Adam is used unless ``optimizer`` is given.
        grad_clip: if set, clip the gradient norm to this value (helps unstable runs).
        callbacks: objects with ``on_epoch_start`` / ``on_batch_end`` / ``on_epoch_end``.
        seed: seeds the shuffling of the batches (the model's init is seeded by its builder).
        verbose: show a progress bar and print one summary line per epoch.
    Raises:
        NonFiniteLossError: the loss became NaN or infinite (says where and what to try).
    """
    loss_fn = loss_fn or reconstruction_loss()
    device = next(model.parameters()).device
    optimizer = optimizer or torch.optim.Adam(model.parameters(), lr=lr)
    train_data = _as_tuple(train)
    generator = torch.Generator().manual_seed(seed)
    state = TrainState(model, optimizer, History())
    n_batches = math.ceil(len(train_data[0]) / batch_size)
    bar = tqdm(total=epochs * n_batches, disable=not verbose, unit="batch", leave=False)
    for epoch in range(1, epochs + 1):
        state.epoch, start = epoch, time.perf_counter()
        for cb in callbacks:
            cb.on_epoch_start(state)
        model.train()
        totals: dict[str, float] = {}
        n_seen = 0
        batches = iterate_batches(
            *train_data, batch_size=batch_size, shuffle=True, generator=generator
        )
        for i, batch in enumerate(batches, start=1):
            batch = tuple(t.to(device) for t in batch)
            loss, extras = _split_output(loss_fn(model, batch))
            if not torch.isfinite(loss):
                bar.close()
                raise NonFiniteLossError(
                    f"The loss became {loss.item()} at epoch {epoch}, batch {i} of {n_batches}. "
                    f"Try a smaller learning rate (now {optimizer.param_groups[0]['lr']:g}), "
                    "gradient clipping (fit(..., grad_clip=1.0)), and check the inputs: no NaN, "
                    "values in [0, 1] for BCE, and log-variances that are not huge."
                )
            optimizer.zero_grad()
            loss.backward()
            if grad_clip is not None:
                nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
            optimizer.step()
            state.step += 1
            size = len(batch[0])
            for key, value in {"loss": loss.item(), **extras}.items():
                totals[key] = totals.get(key, 0.0) + value * size
            n_seen += size
            for cb in callbacks:
                cb.on_batch_end(state)
            bar.set_description(f"epoch {epoch}/{epochs}")
            bar.update()
        row = {"epoch": epoch, **{f"train_{k}": v / n_seen for k, v in totals.items()}}
        if valid is not None:
            row.update({f"valid_{k}": v for k, v in evaluate(model, valid, loss_fn).items()})
        row["seconds"] = time.perf_counter() - start
        state.history.rows.append(row)
        for cb in callbacks:
            cb.on_epoch_end(state)
        if verbose:  # the summary sits INSIDE the epoch loop: one line per epoch
            numbers = "  ".join(
                f"{k} {v:.4g}" for k, v in row.items() if k not in ("epoch", "seconds")
            )
            tqdm.write(f"epoch {epoch:>3}/{epochs}  {numbers}  ({row['seconds']:.1f} s)")
        if state.stop:
            break
    bar.close()
    return state.history
