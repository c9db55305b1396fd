"""The one training loop (``fit``) and the one evaluation path (``predict``) of the course.

Lesson 01 introduces them; every later lesson reuses them.

OBJECTIVES. What differs between lessons goes into the objective, not into a new loop. An
objective is any callable ``objective(model, batch) -> (loss, logs)``:

- ``batch`` is a tuple of tensors already on the model's device. ``batch[0]`` is always the
  batch of clean images x (B, ...); a conditional model also gets its labels, ``(x, y)``.
- ``loss`` is a scalar tensor in the course's convention (per image, averaged over the batch).
- ``logs`` is a dict of extra numbers to print and record each epoch, e.g. {"kl": ...}; {} if none.

One keyword for both: ``fit(model, x, objective=...)``, ``evaluate(model, x, objective=...)``.

THE LOSS'S NAME is "loss" unless the objective has an attribute ``loss_name``: the history's
columns are ``train_<name>``, ``valid_<name>``, and ``evaluate`` returns {<name>: ...}.
``DenoisingObjective(relative=True)`` reports a RATIO (the share of the damage that remains), so
its ``loss_name`` is "damage_ratio": no ``valid_loss`` column that reads like a squared error.

Objectives are small classes whose settings are attributes (``VAEObjective.beta``), so that a
callback can change them while training runs: ``ReconstructionObjective`` here,
``DenoisingObjective`` (lesson 04), ``SparseObjective`` (05), ``VAEObjective`` (06),
``GumbelObjective`` (07).

EVALUATION. ``predict(model, x)`` runs a model over a whole dataset without gradients, with one
contract: inputs may live on the CPU and are moved batch by batch to the model's device; the
model is in eval mode inside and its previous mode is restored after; results come back on the
CPU. ``evaluate`` (average objective over a dataset) is built on it.

CHECKS FIRST. ``fit``, ``predict`` and ``evaluate`` check every argument before any work
(``course_utils.inputs``: a list of single images, a whole ImageData, 0 epochs, NaN pixels, an
optimizer of another model, ... each get a message saying what to write instead). One idea: the
loop that trains and the path that evaluates, read from top to bottom in one file.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from course_utils.data import iterate_batches
from course_utils.deprecation import warn_deprecated
from course_utils.inputs import (
    InputError,
    call_objective,
    check_callbacks,
    check_dataset,
    check_model,
    check_objective,
    check_optimizer,
    check_positive,
    check_seed,
    check_size,
    model_dtype,
)
from course_utils.losses import sse_per_image

Batch = tuple[Tensor, ...]
Logs = dict[str, "Tensor | float"]
Objective = Callable[[nn.Module, Batch], tuple[Tensor, Logs]]


class NonFiniteLossError(FloatingPointError):
    """The loss became NaN or infinite during training."""


def _data_dtype(model: nn.Module) -> torch.dtype | None:
    """The dtype the data must have: the model's weights' (None for a model without weights)."""
    return model_dtype(model) if next(model.parameters(), None) is not None else None


def model_device(model: nn.Module) -> torch.device:
    """The device of a model's weights (the model decides; data follows it)."""
    first = next(model.parameters(), None)
    return torch.device("cpu") if first is None else first.device


# ------------------------------------------------------------------------ the evaluation path
@contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Put ``model`` in eval mode (Dropout off, BatchNorm frozen) and restore its mode after."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def _forward(model: nn.Module, *batch: Tensor):
    return model(*batch)


@torch.no_grad()
def predict(
    model: nn.Module,
    *inputs: Tensor,
    fn: Callable[..., Tensor | tuple[Tensor, ...]] = _forward,
    batch_size: int = 512,
) -> Tensor | tuple[Tensor, ...]:
    """Run ``fn(model, *batch)`` over aligned inputs (N, ...) in batches; concatenate the results.

    The default ``fn`` is the forward pass, so ``predict(model, x)`` is ``model(x)`` for a whole
    dataset. Another ``fn`` asks for something else, e.g. the codes:
    ``predict(model, x, fn=lambda m, xb: m.encode(xb))``. ``fn`` returns a tensor (b, ...) or a
    tuple of them (a VAE's forward gives (logits, mu, logvar)); the results come back the same
    way, concatenated along the first dimension, on the CPU. Runs in eval mode, without
    gradients, on the model's device.
    """
    check_model(model, "predict")
    if not inputs:
        raise InputError(
            "predict expects at least one tensor of inputs, but received none. Pass the data: "
            "predict(model, x)."
        )
    inputs = check_dataset(inputs[0] if len(inputs) == 1 else inputs, "predict", None,
                           split_ok=False)  # fmt: skip
    batch_size = check_size(batch_size, "batch_size", "predict")
    device = model_device(model)
    parts: list = []
    with eval_mode(model):
        for batch in iterate_batches(*inputs, batch_size=batch_size):
            out = fn(model, *(t.to(device) for t in batch))
            parts.append(tuple(o.cpu() for o in out) if isinstance(out, tuple) else out.cpu())
    if isinstance(parts[0], tuple):
        return tuple(torch.cat(column) for column in zip(*parts, strict=True))
    return torch.cat(parts)


def loss_name(objective: Objective) -> str:
    """The name under which ``objective``'s loss is recorded: its ``loss_name``, else "loss"."""
    name = getattr(objective, "loss_name", "loss")
    if not (isinstance(name, str) and name.isidentifier()):
        raise InputError(
            f"fit expects the objective's loss_name to be a plain word such as 'loss' or "
            f"'damage_ratio', but received {name!r}. Set it to a string without spaces."
        )
    return name


def evaluate(
    model: nn.Module,
    data: Tensor | Sequence[Tensor],
    objective: Objective | None = None,
    batch_size: int = 512,
) -> dict[str, float]:
    """The objective's loss (and logs) averaged over a whole dataset: {"loss": ..., ...}.

    Batches are weighted by their size, so the result is a true per-image mean. The loss's key
    is ``loss_name(objective)``: "loss", or e.g. "damage_ratio" (module docstring).
    """
    check_model(model, "evaluate")
    objective = ReconstructionObjective() if objective is None else objective
    check_objective(objective, "evaluate")
    name = loss_name(objective)
    inputs = check_dataset(data, "evaluate", _data_dtype(model))
    keys: list[str] = []

    def weighted_sums(model: nn.Module, *batch: Tensor) -> Tensor:
        loss, logs = call_objective(objective, model, batch, "evaluate")
        values = {name: loss, **logs}
        keys[:] = list(values)
        return torch.tensor([[_number(v) * len(batch[0]) for v in values.values()]])  # (1, k)

    sums = predict(model, *inputs, fn=weighted_sums, batch_size=batch_size).sum(dim=0)  # (k,)
    return {key: float(total) / len(inputs[0]) for key, total in zip(keys, sums, strict=True)}


# ---------------------------------------------------------------------------- the objective
class ReconstructionObjective:
    """Plain autoencoder objective: ``per_image_loss(model(x), x)`` averaged over the batch.

    ``per_image_loss`` maps (x_hat, x) to one value per image (B,); default ``sse_per_image``,
    the squared error summed over pixels. Logs nothing extra.
    """

    def __init__(self, per_image_loss: Callable[[Tensor, Tensor], Tensor] = sse_per_image):
        self.per_image_loss = per_image_loss

    def __call__(self, model: nn.Module, batch: Batch) -> tuple[Tensor, Logs]:
        x = batch[0]
        x_hat = model(x)
        if not isinstance(x_hat, Tensor):
            raise InputError(
                f"ReconstructionObjective expects the model to return ONE tensor (the "
                f"reconstruction), but it returned a {type(x_hat).__name__}. A VAE returns "
                "(logits, mu, logvar): train it with fit(..., objective=VAEObjective())."
            )
        return self.per_image_loss(x_hat, x).mean(), {}


# ------------------------------------------------------------------------- the training loop
@dataclass
class History:
    """One row per epoch: {"epoch", "train_loss", "valid_loss", ..., "seconds"}.

    ``loss_name`` is the objective's name for its loss ("loss" unless the objective sets
    another, see the module docstring): the columns are ``train_<loss_name>`` and so on.
    """

    rows: list[dict[str, float]] = field(default_factory=list)
    interrupted: bool = False  # True when training was stopped with Ctrl-C / "interrupt kernel"
    loss_name: str = "loss"

    def __getitem__(self, key: str) -> list[float]:
        """All epochs' values of one column, e.g. ``history["valid_loss"]`` ([] if none)."""
        return [row[key] for row in self.rows if key in row]

    def last(self, key: str) -> float:
        """The last epoch's value of one column, e.g. ``history.last("train_loss")``."""
        values = self[key]
        if not self.rows:
            raise InputError(
                f"History.last expects a history with at least one finished epoch, but received "
                f"an empty history (asked for {key!r}): no epoch finished, e.g. training was "
                "interrupted during its first epoch. Run fit again and let an epoch finish."
            )
        if not values:
            columns = sorted({k for row in self.rows for k in row})
            raise KeyError(
                f"History.last expects a column of this history, but received {key!r}; its "
                f"columns are {columns} (the loss is recorded as {self.loss_name!r}). Use one "
                "of them."
            )
        return values[-1]


@dataclass
class TrainState:
    """What a callback can see (and change) while ``fit`` runs."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    history: History
    epochs: int  # epochs asked for
    steps_per_epoch: int
    epoch: int = 0  # 1-based while training
    step: int = 0  # optimizer steps so far
    stop: bool = False  # a callback sets this to end training after the current epoch

    @property
    def total_steps(self) -> int:
        return self.epochs * self.steps_per_epoch


class Callback:
    """Override any of these; ``fit`` calls them at the matching moments."""

    def on_epoch_start(self, state: TrainState) -> None: ...

    def on_batch_start(self, state: TrainState) -> None: ...

    def on_batch_end(self, state: TrainState) -> None: ...

    def on_epoch_end(self, state: TrainState) -> None: ...


def _train_step(state: TrainState, objective: Objective, batch: Batch, grad_clip, where: str):
    """One optimizer step on one batch; returns the logged numbers as floats, loss first."""
    loss, logs = call_objective(objective, state.model, batch, "fit")
    if not torch.isfinite(loss):
        raise NonFiniteLossError(
            f"The loss became {loss.item()} at {where}. Try a smaller learning rate (now "
            f"{state.optimizer.param_groups[0]['lr']:g}), gradient clipping "
            "(fit(..., grad_clip=1.0)), and check the inputs: no NaN, values in [0, 1] for "
            "BCE, and log-variances that are not huge."
        )
    state.optimizer.zero_grad()
    loss.backward()
    if grad_clip is not None:
        nn.utils.clip_grad_norm_(state.model.parameters(), grad_clip)
    state.optimizer.step()
    state.step += 1
    return {state.history.loss_name: loss.item(), **{k: _number(v) for k, v in logs.items()}}


def _number(value: Tensor | float) -> float:
    return float(value.detach()) if isinstance(value, Tensor) else float(value)


def fit(
    model: nn.Module,
    train: Tensor | Sequence[Tensor],
    valid: Tensor | Sequence[Tensor] | None = None,
    *,
    objective: Objective | None = None,
    epochs: int = 10,
    batch_size: int = 128,
    lr: float = 1e-3,
    optimizer: torch.optim.Optimizer | None = None,
    grad_clip: float | None = None,
    callbacks: Sequence[Callback] = (),
    seed: int = 0,
    verbose: bool = True,
    loss_fn: Objective | None = None,
) -> History:
    """Train ``model`` and return its per-epoch history.

    Args:
        model: any nn.Module; training runs on the device its parameters are on.
        train: images x (N, ...), or a tuple of aligned tensors such as (x, labels).
        valid: the same for validation (optional), evaluated after every epoch.
        objective: the objective (see the module docstring), the same keyword as
            ``evaluate``'s; default ``ReconstructionObjective()``.
        epochs, batch_size, lr: the usual; Adam is used unless ``optimizer`` is given.
        grad_clip: if set, clip the gradient norm to this value (helps unstable runs).
        callbacks: objects with ``on_epoch_start`` / ``on_batch_start`` / ``on_batch_end`` /
            ``on_epoch_end``.
        seed: seeds the shuffling of the batches (the model's init is seeded by its builder).
        verbose: show a progress bar and print one summary line per epoch.
        loss_fn: the old name of ``objective`` (one release, with a DeprecationWarning).
    Returns:
        The History, its loss recorded under ``loss_name(objective)``. Interrupting the
        kernel (Ctrl-C) stops training cleanly: the model keeps the weights it has, and the
        history of the finished epochs is returned.
    Raises:
        NonFiniteLossError: the loss became NaN or infinite (says where and what to try).
    """
    if loss_fn is not None:
        objective = _renamed_objective(objective, loss_fn)
    check_model(model, "fit")
    objective = ReconstructionObjective() if objective is None else objective
    check_objective(objective, "fit")
    history = History(loss_name=loss_name(objective))
    if optimizer is None:
        lr = check_positive(lr, "lr", "fit", "1e-3")  # the learning rate
    train_data = check_dataset(train, "fit (the training images)", _data_dtype(model))
    if valid is not None:
        valid = check_dataset(
            valid, "fit (the validation set)", _data_dtype(model), like=train_data
        )
        if len(valid) != len(train_data):  # e.g. x alone for a model trained on (x, y)
            _try_the_validation_form(model, objective, valid, len(train_data))
    epochs = check_size(epochs, "epochs", "fit")
    batch_size = check_size(batch_size, "batch_size", "fit")
    seed = check_seed(seed, "fit")
    if grad_clip is not None:
        grad_clip = check_positive(grad_clip, "grad_clip", "fit", "1.0")
    callbacks = check_callbacks(callbacks, "fit")
    device = model_device(model)
    optimizer = (
        make_adam(model, lr) if optimizer is None else check_optimizer(optimizer, model, "fit")
    )
    generator = torch.Generator().manual_seed(seed)
    n_batches = math.ceil(len(train_data[0]) / batch_size)
    state = TrainState(model, optimizer, history, epochs=epochs, steps_per_epoch=n_batches)
    bar = tqdm(total=epochs * n_batches, disable=not verbose, unit="batch", leave=False)
    every = math.ceil(epochs / MAX_PRINTED_EPOCHS)  # print every epoch up to 20, then thin out
    try:
        for epoch in range(1, epochs + 1):
            state.epoch, start = epoch, time.perf_counter()
            for cb in callbacks:
                cb.on_epoch_start(state)
            model.train()
            totals: dict[str, float] = {}
            batches = iterate_batches(
                *train_data, batch_size=batch_size, shuffle=True, generator=generator
            )
            for i, batch in enumerate(batches, start=1):
                for cb in callbacks:
                    cb.on_batch_start(state)
                batch = tuple(t.to(device) for t in batch)
                where = f"epoch {epoch}, batch {i} of {n_batches}"
                for key, value in _train_step(state, objective, batch, grad_clip, where).items():
                    totals[key] = totals.get(key, 0.0) + value * len(batch[0])
                for cb in callbacks:
                    cb.on_batch_end(state)
                bar.set_description(f"epoch {epoch}/{epochs}")
                bar.update()
            n_seen = len(train_data[0])
            row = {"epoch": epoch, **{f"train_{k}": v / n_seen for k, v in totals.items()}}
            if valid is not None:
                scores = evaluate(model, valid, objective)
                row.update({f"valid_{k}": v for k, v in scores.items()})
            row["seconds"] = time.perf_counter() - start
            state.history.rows.append(row)
            for cb in callbacks:
                cb.on_epoch_end(state)
            last = epoch == epochs or state.stop
            if verbose and (last or (epoch - 1) % every == 0):  # inside the loop: one line
                _print_row(row, epochs, every)  # per epoch (per ``every`` epochs when many)
            if state.stop:
                break
    except KeyboardInterrupt:
        state.history.interrupted = True
        rows = state.history.rows
        if verbose and rows and every > 1 and (rows[-1]["epoch"] - 1) % every:
            _print_row(rows[-1], epochs, every)  # the last finished epoch, not printed yet
        print(
            f"Training interrupted during epoch {state.epoch} (after {state.step} steps): the "
            f"model keeps its current weights; the history holds the "
            f"{len(state.history.rows)} finished epochs."
        )
    finally:
        bar.close()
    return state.history


def _try_the_validation_form(model: nn.Module, objective, valid: Batch, n_train: int) -> None:
    """A validation set of another form than the training set: fine if the objective can use
    it (a plain autoencoder needs only x), else refused before any training."""
    try:
        with torch.no_grad(), eval_mode(model):
            device = model_device(model)
            call_objective(objective, model, tuple(t[:2].to(device) for t in valid), "fit")
    except Exception as error:  # noqa: BLE001 - any failure: the form does not suit the model
        raise InputError(
            f"fit (the validation set) expects the form of the training set ({n_train} aligned "
            f"tensors), but received {len(valid)}, which the objective cannot use "
            f"({type(error).__name__}). Pass it like the training set, e.g. (x_valid, y_valid) "
            "when training on (x, y)."
        ) from error


def make_adam(model: nn.Module, lr: float) -> torch.optim.Optimizer:
    """Adam over ``model``'s parameters, with its update fused into one kernel where torch has
    one (CPU since torch 2.4), else the plain Adam: the same update, only its speed differs
    (docs/PERFORMANCE.md). ``fit`` uses it when no ``optimizer`` is given."""
    try:
        return torch.optim.Adam(model.parameters(), lr=lr, fused=True)
    except (RuntimeError, TypeError):  # an older torch, or a device without the fused kernel
        return torch.optim.Adam(model.parameters(), lr=lr)


def _renamed_objective(objective: Objective | None, loss_fn: Objective) -> Objective:
    """``fit(loss_fn=...)``, the old spelling of ``objective=``: warn, and use it."""
    if objective is not None:
        raise InputError(
            "fit expects the objective once, as objective=..., but received both objective= "
            "and loss_fn= (its old name). Keep objective= only."
        )
    warn_deprecated("fit(..., loss_fn=...)", "fit(..., objective=...)", stacklevel=4)
    return loss_fn


MAX_PRINTED_EPOCHS = 20  # fit prints at most about this many epoch lines (and always the last)


def _print_row(row: dict[str, float], epochs: int, every: int = 1) -> None:
    numbers = "  ".join(f"{k} {v:.4g}" for k, v in row.items() if k not in ("epoch", "seconds"))
    note = ""
    if every > 1 and row["epoch"] == 1:
        note = f"  (printing every {every}th epoch of {epochs}; the history keeps them all)"
    tqdm.write(f"epoch {row['epoch']:>3}/{epochs}  {numbers}  ({row['seconds']:.1f} s){note}")
