"""Input checks shared by every model and loss of the course (all lessons).

A wrong input should stop with a message a student can act on, not with a stack trace fifteen
frames deep inside torch. Every message here has the same three parts:

    "<who> expects <what was expected>, but received <what came in>. <what to do>"

``who`` names the function or model the student called (e.g. ``"VAE.decode"``).

The checks come in four groups: tensors and images (``check_tensor``, ``check_images``, ...);
codes and labels (``check_codes``, ``check_labels``); sizes, counts and seeds (``check_size``,
``check_widths``, ``check_seed``: 0, -2, 2.5, True and "10" are refused); whole datasets
(``check_dataset``: what ``fit``, ``predict`` and ``evaluate`` accept, and every careless form
of it: a list of single images, a whole ``ImageData``, an empty set, NaN pixels, ...). One idea:
the course's vocabulary for a bad input, kept in one module so that every message reads alike.
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Iterable

import numpy as np
import torch
from torch import Tensor

IMAGE_SIDE = 28  # every dataset of the course is 28x28 grey images


class InputError(ValueError):
    """An input of the wrong type, dtype, shape or range (a ValueError, so old code still works)."""


def describe(x: object) -> str:
    """A short description of what was received: type, shape and dtype."""
    if isinstance(x, Tensor):
        return f"a {x.dtype} tensor of shape {tuple(x.shape)}"
    if isinstance(x, np.ndarray):
        return f"a NumPy array of shape {x.shape} (dtype {x.dtype})"
    if x is None or isinstance(x, str | numbers.Number):
        return repr(x) if x is None else f"the {type(x).__name__} {x!r}"
    if isinstance(x, type):
        return f"the class {x.__name__} itself"
    if inspect.isfunction(x) or inspect.isbuiltin(x):
        return f"the function {x.__name__}"
    if _is_split(x):
        return f"a data split (x of shape {tuple(x.x.shape)}, y of shape {tuple(x.y.shape)})"
    if _is_image_data(x):
        return "a whole ImageData (its train, valid and test splits together)"
    if isinstance(x, list | tuple) and x and all(isinstance(t, Tensor) for t in x):
        shapes = {tuple(t.shape) for t in x}
        shape = f"of shape {shapes.pop()}" if len(shapes) == 1 else "of different shapes"
        return f"a {type(x).__name__} of {len(x)} tensors {shape}"
    if isinstance(x, list | tuple):
        text = repr(x)
        return f"a {type(x).__name__} {text if len(text) <= 60 else text[:56] + ' ...'}"
    return f"a {type(x).__name__}"


def _is_split(x: object) -> bool:
    """A split of ``load_dataset`` (images x and labels y, a named tuple)."""
    return isinstance(x, tuple) and getattr(x, "_fields", None) == ("x", "y")


def _is_image_data(x: object) -> bool:
    """What ``load_dataset`` returns: train, valid and test splits together."""
    return all(hasattr(x, name) for name in ("train", "valid", "test"))


def check_tensor(x: object, who: str, dtype: torch.dtype | None = torch.float32) -> None:
    """Raise unless ``x`` is a torch tensor (of ``dtype`` when given, e.g. the model's)."""
    if isinstance(x, np.ndarray):
        raise InputError(
            f"{who} expects a torch tensor, but received {describe(x)}. "
            "Convert it first: torch.from_numpy(x).float()."
        )
    if not isinstance(x, Tensor):
        raise InputError(
            f"{who} expects a torch tensor, but received {describe(x)}. {_make_tensor(x)}"
        )
    if dtype is None or x.dtype == dtype:
        return
    if x.dtype == torch.uint8 or (_is_integer(x) and x.numel() and int(x.max()) > 1):
        hint = "Raw pixels are 0-255 integers: use x.float() / 255 to get values in [0, 1]."
    elif not x.is_floating_point():
        hint = f"Convert it with x.to({dtype})."
    else:
        hint = f"Convert it with x.to({dtype}) (the model's weights are {dtype})."
    raise InputError(f"{who} expects a {dtype} tensor, but received {describe(x)}. {hint}")


def _is_integer(x: Tensor) -> bool:
    return not (x.is_floating_point() or x.is_complex() or x.dtype == torch.bool)


def _make_tensor(x: object) -> str:
    """What to do with something that is not a tensor."""
    if x is None:
        return "It is None: run the cell that computes it first, then this one."
    if isinstance(x, list | tuple) and x and all(isinstance(t, Tensor) for t in x):
        return "Stack a list of tensors into one: torch.stack(list)."
    if isinstance(x, list | tuple | numbers.Number):
        return "Make one with torch.tensor(...)."
    return "Pass a torch tensor."


def _shape_hint(x: Tensor, n_inputs: int) -> str:
    """What to do about a batch of images of the wrong shape."""
    side = IMAGE_SIDE
    if channels_last(x):
        return (
            "The channels come last, (B, 28, 28, C) as in NumPy, PIL or TensorFlow: "
            "x.permute(0, 3, 1, 2) puts them first, (B, C, 28, 28)."
        )
    if x.dim() == 4 and x.shape[1] == 3:
        return (
            "The course uses grey images with ONE channel; make a colour batch grey with "
            "x.mean(dim=1, keepdim=True)."
        )
    if x.dim() == 3 and tuple(x.shape[1:]) == (side, side):
        return (
            "The channel dimension is missing: x.unsqueeze(1) turns (B, 28, 28) into "
            "(B, 1, 28, 28)."
        )
    if x.dim() == 1 and x.numel() == n_inputs:
        return "A single image needs a batch dimension: x.unsqueeze(0)."
    if x.dim() == 3 and x.shape[0] == 1:
        return "A single image needs a batch dimension: x.unsqueeze(0) -> (1, 1, 28, 28)."
    return "Check the model's input size and reshape the batch."


def check_images(
    x: object,
    who: str,
    *,
    flat_ok: bool = True,
    n_inputs: int = IMAGE_SIDE * IMAGE_SIDE,
    dtype: torch.dtype = torch.float32,
) -> None:
    """Raise unless ``x`` is a float batch of images in [0, 1] that the model can take.

    flat_ok=True (dense models): any (B, ...) with n_inputs values per item, e.g. (B, 784) or
    (B, 1, 28, 28); the model flattens it.
    flat_ok=False (conv models): (B, 1, 28, 28) only.
    Values far above 1 (0-255 pixels) are refused; noisy inputs slightly outside [0, 1] pass.
    """
    check_tensor(x, who, dtype)
    side = IMAGE_SIDE
    conv_shape = x.dim() == 4 and tuple(x.shape[1:]) == (1, side, side)
    dense_shape = x.dim() >= 2 and x[0].numel() == n_inputs  # flattened by the model
    if not (dense_shape if flat_ok else conv_shape):
        expected = f"(B, {n_inputs}) or (B, 1, 28, 28)" if flat_ok else "(B, 1, 28, 28)"
        if not flat_ok and x.dim() == 2 and x.shape[1] == side * side:
            hint = "It looks flattened: x.view(-1, 1, 28, 28) restores the image shape."
        else:
            hint = _shape_hint(x, n_inputs)
        raise InputError(
            f"{who} expects a batch of images of shape {expected}, but received "
            f"{describe(x)}. {hint}"
        )
    check_not_0_255(x, who)


def channels_last(x: Tensor) -> bool:
    """True for a batch laid out (B, 28, 28, 1) or (B, 28, 28, 3): channels after the pixels."""
    return x.dim() == 4 and tuple(x.shape[1:3]) == (IMAGE_SIDE, IMAGE_SIDE) and x.shape[3] in (1, 3)


def looks_like_images(x: Tensor) -> bool:
    """True for a batch shaped like the course's images: (B, 1, 28, 28) or (B, 784)."""
    side = IMAGE_SIDE
    return (x.dim() == 4 and tuple(x.shape[1:]) == (1, side, side)) or (
        x.dim() == 2 and x.shape[1] == side * side
    )


def check_not_0_255(x: Tensor, who: str) -> None:
    """Raise when a float batch of IMAGES looks like raw 0-255 pixels (maximum above 2).

    Other tensors (2-D toy points, codes) may hold any values and are not checked.
    """
    if not (looks_like_images(x) and x.is_floating_point() and x.numel()):
        return
    if float(x.detach().max()) > 2.0:
        raise InputError(
            f"{who} expects pixel values in [0, 1], but received values up to "
            f"{float(x.detach().max()):.4g}. These look like raw 0-255 pixels: divide by 255."
        )


def check_unit_range(x: Tensor, who: str) -> None:
    """Raise unless every value of ``x`` lies in [0, 1] (targets of a BCE loss)."""
    check_tensor(x, who, dtype=None)
    if not x.is_floating_point():
        raise InputError(
            f"{who} expects float targets in [0, 1], but received {describe(x)}. "
            "Use x.float() (and divide by 255 if these are raw pixels)."
        )
    low, high = float(x.detach().min()), float(x.detach().max())
    if low < 0 or high > 1:
        hint = (
            "These look like raw 0-255 pixels: divide by 255."
            if high > 2
            else "Scale the targets to [0, 1], or use a squared-error (Gaussian) loss instead."
        )
        raise InputError(
            f"{who} expects targets in [0, 1], but received values from {low:.3g} to "
            f"{high:.3g}. {hint}"
        )


def check_same_shape(
    a: Tensor, b: Tensor, who: str, names: tuple[str, str] = ("x_hat", "x")
) -> None:
    """Raise unless two tensors (by default a reconstruction and its target) have one shape."""
    check_tensor(a, who, dtype=None)
    check_tensor(b, who, dtype=None)
    if a.shape != b.shape:
        hint = (
            "Reshape one of them, e.g. x_hat.view_as(x), before computing the loss."
            if names == ("x_hat", "x")
            else "Both come from the encoder and must have the shape (batch, latent)."
        )
        raise InputError(
            f"{who} expects {names[0]} and {names[1]} of the same shape, but received "
            f"{names[0]} {tuple(a.shape)} and {names[1]} {tuple(b.shape)}. {hint}"
        )


def check_codes(
    z: object,
    n_latent: int,
    who: str,
    dtype: torch.dtype = torch.float32,
    size_name: str = "n_latent",
) -> None:
    """Raise unless ``z`` is a batch of codes of shape (B, n_latent) (``size_name``: the model's
    argument that sets that size, named in the message)."""
    check_tensor(z, who, dtype)
    if z.dim() != 2 or z.shape[1] != n_latent:
        hint = (
            f"A single code needs a batch dimension: z.unsqueeze(0) -> (1, {n_latent})."
            if z.dim() == 1 and z.shape[0] == n_latent
            else f"The encoder and decoder must share one code size: this model was built "
            f"with {size_name}={n_latent}."
        )
        raise InputError(
            f"{who} expects codes of shape (B, {n_latent}), but received {describe(z)}. {hint}"
        )


def check_labels(y: object, n_classes: int, who: str) -> None:
    """Raise unless ``y`` is a 1-D integer tensor of class labels in 0 .. n_classes - 1."""
    todo = _label_fix(y, n_classes)
    if todo:
        raise InputError(
            f"{who} expects labels of shape (B,) with integer class numbers (a LongTensor), but "
            f"received {describe(y)}. {todo}"
        )
    if y.numel() and (int(y.min()) < 0 or int(y.max()) >= n_classes):
        raise InputError(
            f"{who} expects labels from 0 to {n_classes - 1}, but received labels from "
            f"{int(y.min())} to {int(y.max())}. Build the model with n_classes equal to the "
            "number of classes of the dataset."
        )


def _label_fix(y: object, n_classes: int) -> str:
    """What to do to turn ``y`` into labels (B,) of integers; "" when it already is."""
    if isinstance(y, np.ndarray):
        return "Convert them with torch.from_numpy(y).long()."
    if isinstance(y, list | tuple) and y and all(isinstance(v, str) for v in y):
        return (
            "Class numbers are ints, not text: torch.tensor([int(s) for s in y]) for digits "
            "such as '7', or torch.tensor([classes.index(s) for s in y]) for class names."
        )
    if isinstance(y, list | tuple):
        return "Make a LongTensor of them: torch.tensor(y, dtype=torch.long)."
    if is_whole(y):
        return f"Give one label per image, as a tensor: torch.full((B,), {y})."
    if not isinstance(y, Tensor):
        return "Pass a LongTensor of class numbers, such as data.train.y."
    one_hot = y.dim() == 2 and y.shape[1] == n_classes and n_classes > 1
    if one_hot:
        return "Pass the class numbers, not one-hot vectors: y.argmax(dim=1) (or data.train.y)."
    if y.is_floating_point() or y.dtype == torch.bool:
        return "Labels are whole class numbers: y.long() makes them a LongTensor (torch.int64)."
    if y.dim() == 2 and y.shape[1] == 1:
        return "Remove the extra dimension: y.squeeze(1) gives shape (B,)."
    if y.dim() != 1:
        return "Pass one class number per image, a 1-D tensor such as data.train.y."
    return ""


def check_model(model: object, who: str) -> None:
    """Raise unless ``model`` is a PyTorch model (a cell run before the one that builds it)."""
    if isinstance(model, torch.nn.Module):
        return
    if isinstance(model, type) and issubclass(model, torch.nn.Module):
        todo = f"Build one first, e.g. model = {model.__name__}(...), and pass the model."
    elif isinstance(model, Tensor | np.ndarray):
        todo = f"The model comes first: {who.split(' ')[0]}(model, x)."
    else:
        todo = "Run the cell that builds and trains the model first, then this one."
    raise InputError(
        f"{who} expects a model (a torch.nn.Module), but received {describe(model)}. {todo}"
    )


def model_dtype(model: torch.nn.Module) -> torch.dtype:
    """The dtype of a model's weights (float32 unless the student converted it)."""
    first = next(model.parameters(), None)
    return torch.float32 if first is None else first.dtype


# ------------------------------------------------------------------ sizes, counts and seeds
EXAMPLES = {"n_inputs": 784, "n_latent": 2, "n_code": 1024, "n_classes": 10, "n_vars": 20,
            "n_categories": 10, "epochs": 10, "batch_size": 128, "steps": 10, "n": 15,
            "seed": 0, "hidden": 128, "n_rows": 28, "n_cols": 28}  # fmt: skip


def is_whole(value: object) -> bool:
    """True for an int (NumPy's too); False for a bool, a float such as 2.0, a str, a tensor."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_size(
    value: object, name: str, who: str, minimum: int = 1, maximum: int | None = None
) -> int:
    """``value`` as an int; raise unless it is a whole number from ``minimum`` to ``maximum``.

    For sizes (``n_latent``, a layer width), counts (``epochs``, ``batch_size``) and seeds:
    0, -2, 2.5, True and "10" are refused, each with what to write instead.
    """
    if is_whole(value) and value >= minimum and (maximum is None or value <= maximum):
        return int(value)
    example = EXAMPLES.get(name, max(minimum, 1))
    bounds = f"from {minimum} to {maximum}" if maximum is not None else f">= {minimum}"
    if isinstance(value, bool):
        todo = f"True and False are not numbers here: write one, e.g. {name}={example}."
    elif isinstance(value, str):
        digits = value.strip()
        fits = digits.lstrip("-").isdigit() and is_whole(int(digits)) and int(digits) >= minimum
        todo = (
            f"Write the number without quotes: {name}={int(digits)}."
            if fits
            else f"Write a whole number, e.g. {name}={example}."
        )
    elif isinstance(value, float) and math.isfinite(value) and value >= minimum:
        low, high = math.floor(value), math.ceil(value)
        todo = (
            f"Write it without the decimal point: {name}={low}."
            if low == high
            else f"It counts whole things: use {name}={low} or {name}={high}."
        )
    elif isinstance(value, numbers.Real):
        todo = f"Use a whole number {bounds}, e.g. {name}={example}."
    else:
        todo = f"Pass a whole number, e.g. {name}={example}."
    raise InputError(
        f"{who} expects {name} as a whole number {bounds}, but received {name}={value!r}. {todo}"
    )


def check_sizes(who: str, **sizes: object) -> None:
    """``check_size`` for each keyword: the sizes a model is built with, e.g.
    ``check_sizes("VAE", n_inputs=n_inputs, n_latent=n_latent)`` (0 units is not a layer)."""
    for name, value in sizes.items():
        check_size(value, name, who)


def check_widths(
    widths: object, name: str, who: str, *, allow_empty: bool = True, length: int | None = None
) -> tuple[int, ...]:
    """Raise unless ``widths`` is a tuple (or list) of layer widths, each a whole number >= 1.

    ``hidden=128`` is told to write ``hidden=(128,)``: the comma makes a one-element tuple.
    """
    example = "(16, 32)" if length == 2 else "(128,)"
    if is_whole(widths):
        todo = f"Write {name}=({widths},): the comma makes a one-element tuple."
        if name == "hidden":
            todo += f" (If {widths} was meant as the code size, name it: n_latent={widths}.)"
    elif not isinstance(widths, tuple | list):
        todo = f"Pass a tuple of whole numbers, e.g. {name}={example}."
    elif length is not None and len(widths) != length:
        todo = f"Give exactly {length} widths, e.g. {name}={example}."
    elif not widths and not allow_empty:
        todo = f"This model needs at least one hidden layer, e.g. {name}={example}."
    elif not all(is_whole(w) and w >= 1 for w in widths):
        todo = f"Every layer needs at least one unit, a whole number, e.g. {name}={example}."
    else:
        return tuple(int(w) for w in widths)
    count = f"{length} " if length else ""
    raise InputError(
        f"{who} expects {name} as a tuple of {count}layer widths (whole numbers >= 1), but "
        f"received {name}={widths!r}. {todo}"
    )


def check_seed(seed: object, who: str) -> int:
    """Raise unless ``seed`` is a whole number NumPy accepts as a seed: 0 to 2**32 - 1."""
    return check_size(seed, "seed", who, minimum=0, maximum=2**32 - 1)


def check_positive(value: object, name: str, who: str, example: str) -> float:
    """Raise unless ``value`` is a positive, finite number (not a bool, not a string)."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        if math.isfinite(value) and value > 0:
            return float(value)
    raise InputError(
        f"{who} expects {name} as a positive, finite number, but received {name}={value!r}. "
        f"Use a number such as {name}={example}."
    )


# ------------------------------------------------------------------------- whole datasets
def check_dataset(
    data: object,
    who: str,
    dtype: torch.dtype = torch.float32,
    *,
    split_ok: bool = True,
    like: tuple[Tensor, ...] | None = None,
) -> tuple[Tensor, ...]:
    """The aligned tensors (N, ...) of ``data``, or a message for every careless form of it.

    Accepted: a tensor x; a tuple or list of aligned tensors such as (x, y); a split of
    ``load_dataset`` (``data.train``: its x and y) when ``split_ok``. Refused, each with what to
    write: a whole ImageData, a list of single images, NumPy arrays, nothing at all (0 images),
    tensors of different lengths, integer or 0-255 pixels, channels last, NaN or infinite values.
    ``like``: the training set, whose form and image shape ``data`` (a validation set) must share.
    """
    tensors = _as_tensors(data, who, split_ok)
    x = tensors[0]
    check_tensor(x, who, dtype)
    lengths = [len(t) if t.dim() else 0 for t in tensors]
    if len(set(lengths)) > 1:
        raise InputError(
            f"{who} expects aligned tensors (one row per image in each), but received lengths "
            f"{lengths}. Select the same images in each, e.g. (x[:n], y[:n])."
        )
    if x.dim() == 0 or len(x) == 0:
        raise InputError(
            f"{who} expects at least one image, but received {describe(x)}: no images. Check the "
            "cell that selects the data (a filter or a slice that kept nothing?)."
        )
    if channels_last(x):
        raise InputError(
            f"{who} expects images of shape (N, 1, 28, 28), but received {describe(x)}. "
            f"{_shape_hint(x, IMAGE_SIDE * IMAGE_SIDE)}"
        )
    if like is not None:
        _check_like(tensors, like, who)
    check_not_0_255(x, who)
    check_finite(x, who)
    return tensors


def _as_tensors(data: object, who: str, split_ok: bool) -> tuple[Tensor, ...]:
    """``data`` as a tuple of tensors, refusing the forms that are not a dataset."""
    expected = f"{who} expects a tensor of images (or aligned tensors such as (x, y))"
    if isinstance(data, Tensor):
        return (data,)
    if _is_image_data(data):
        todo = "Pass one split: data.train (data.valid for validation, data.test to test)."
    elif _is_split(data) and split_ok:
        return tuple(data)
    elif _is_split(data):
        todo = (
            "Pass its images: data.test.x (a conditional model also takes the labels: "
            "data.test.x, data.test.y)."
        )
    elif isinstance(data, list | tuple) and data and all(isinstance(t, Tensor) for t in data):
        shapes = {tuple(t.shape) for t in data}
        one_image = {s for s in shapes if s in ((1, 28, 28), (28, 28), (784,), (28, 28, 1))}
        points = len(data) > 3 and len(shapes) == 1 and len(next(iter(shapes))) <= 1
        if not (one_image or points):  # aligned tensors, not one tensor per image or point
            return tuple(data)
        todo = (
            f"These look like single items, one tensor each: stack them into one batch "
            f"first, torch.stack(list) -> {(len(data), *shapes.pop())}."
        )
    elif isinstance(data, np.ndarray):
        todo = "Convert it first: torch.from_numpy(x).float()."
    elif isinstance(data, list | tuple) and any(isinstance(t, np.ndarray) for t in data):
        todo = "Convert each NumPy array first: torch.from_numpy(a)."
    else:
        todo = _make_tensor(data)
    raise InputError(f"{expected}, but received {describe(data)}. {todo}")


def _check_like(tensors: tuple[Tensor, ...], like: tuple[Tensor, ...], who: str) -> None:
    """A validation set's images must have the training images' shape (``fit`` tries a
    validation set of another form, e.g. x alone when training on (x, y), on the objective)."""
    x, x_train = tensors[0], like[0]
    if x.shape[1:] != x_train.shape[1:]:
        hint = "Prepare both sets the same way (the same reshaping, cropping and channels)."
        if channels_last(x) or (x.dim() == 3 and x_train.dim() == 4):
            hint = _shape_hint(x, x_train[0].numel())
        elif x.dim() == 2 and x_train.dim() == 4:
            hint = f"It looks flattened: x.view(-1, {', '.join(map(str, x_train.shape[1:]))})."
        raise InputError(
            f"{who} expects images shaped like the training images, (N, "
            f"{', '.join(map(str, x_train.shape[1:]))}), but received {describe(x)}. {hint}"
        )


def check_finite(x: Tensor, who: str) -> None:
    """Raise when ``x`` holds NaN or infinite values (a broken image, not a learning rate)."""
    if not (x.is_floating_point() and x.numel()):
        return
    bad = ~torch.isfinite(x.detach())
    if not bad.any():
        return
    n_nan = int(torch.isnan(x.detach()).sum())
    first = int(bad.reshape(len(x), -1).any(dim=1).nonzero()[0, 0]) if x.dim() else 0
    raise InputError(
        f"{who} expects finite values, but received {n_nan} NaN and {int(bad.sum()) - n_nan} "
        f"infinite value(s), the first in image {first}. Check the inputs before blaming the "
        "learning rate: find them with (~torch.isfinite(x)).nonzero() and fix or drop those "
        "images."
    )


# ---------------------------------------------------------- objectives, callbacks, optimizers
_LOSS_FIRST_ARGUMENTS = {"x_hat", "logits", "recon", "reconstruction", "prediction", "pred",
                         "output", "y_hat", "input"}  # fmt: skip
_HOOKS = ("on_epoch_start", "on_batch_start", "on_batch_end", "on_epoch_end")


def is_number(value: object) -> bool:
    """True for an int or a float; False for a bool and a string."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_objective(objective: object, who: str) -> None:
    """Raise unless ``objective`` can be called as objective(model, batch) -> (loss, logs)."""
    expected = (
        f"{who} expects objective as objective(model, batch) -> (loss, logs), such as "
        "ReconstructionObjective() or VAEObjective()"
    )
    if isinstance(objective, type):
        todo = f"Build one with parentheses: objective={objective.__name__}()."
    elif not callable(objective):
        todo = "Pass an objective object, e.g. objective=ReconstructionObjective()."
    elif _first_argument(objective) in _LOSS_FIRST_ARGUMENTS:
        name = getattr(objective, "__name__", "loss")
        todo = (
            f"That is a loss of (x_hat, x), not an objective: wrap it, "
            f"objective=ReconstructionObjective({name})."
        )
    else:
        return
    raise InputError(f"{expected}, but received {describe(objective)}. {todo}")


def _first_argument(fn: object) -> str | None:
    try:
        parameters = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):  # a builtin without a signature
        return None
    return parameters[0] if parameters else None


def call_objective(objective, model: torch.nn.Module, batch: tuple, who: str) -> tuple:
    """``objective(model, batch)``, with a message when it does not return (loss, logs)."""
    out = objective(model, batch)
    if isinstance(out, tuple) and len(out) == 2 and isinstance(out[1], dict):
        if isinstance(out[0], Tensor) and out[0].dim() == 0:
            return out
    raise InputError(
        f"{who} expects the objective to return (loss, logs), a scalar loss tensor and a dict "
        f"of extra numbers, but received {describe(out)} from it. Return (loss, {{}}) when "
        "there is nothing else to log, with the loss averaged over the batch (loss.mean())."
    )


def check_callbacks(callbacks: object, who: str) -> list:
    """``callbacks`` as a list; a single callback, a class or an object without hooks raise."""
    if any(hasattr(callbacks, hook) for hook in _HOOKS) or not isinstance(callbacks, Iterable):
        raise InputError(
            f"{who} expects callbacks as a list, but received {describe(callbacks)}. Put it in "
            "square brackets: callbacks=[callback]."
        )
    callbacks = list(callbacks)
    for cb in callbacks:
        if isinstance(cb, type):
            raise InputError(
                f"{who} expects callbacks built from their classes, but received "
                f"{describe(cb)}. Build it with its arguments: callbacks=[{cb.__name__}(...)]."
            )
        if not any(hasattr(cb, hook) for hook in _HOOKS):
            raise InputError(
                f"{who} expects callbacks with {'/'.join(_HOOKS)} methods, but received "
                f"{describe(cb)}. Subclass course_utils.train.Callback."
            )
    return callbacks


def check_optimizer(optimizer: object, model: torch.nn.Module, who: str) -> torch.optim.Optimizer:
    """Raise unless ``optimizer`` is an optimizer over (some of) ``model``'s parameters."""
    if isinstance(optimizer, type):
        todo = f"Build it: optimizer=torch.optim.{optimizer.__name__}(model.parameters(), lr=1e-3)."
    elif not isinstance(optimizer, torch.optim.Optimizer):
        todo = "Pass a torch optimizer, e.g. torch.optim.Adam(model.parameters(), lr=1e-3)."
    else:
        mine = {id(p) for p in model.parameters()}
        theirs = {id(p) for group in optimizer.param_groups for p in group["params"]}
        if not mine or mine & theirs:
            return optimizer
        raise InputError(
            f"{who} expects an optimizer over this model's parameters, but received one over "
            f"{len(theirs)} other tensor(s), none of the model's {len(mine)}: training would "
            "change nothing. Build it from this model, after building the model: "
            "torch.optim.Adam(model.parameters(), lr=1e-3)."
        )
    raise InputError(f"{who} expects an optimizer, but received {describe(optimizer)}. {todo}")
