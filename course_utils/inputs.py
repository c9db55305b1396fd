"""Input checks shared by every model and loss of the course (all lessons).

A wrong input should stop with a message a student can act on, not with a stack trace fifteen
frames deep inside torch. Every message here has the same three parts:

    "<who> expects <what was expected>, but received <what came in>. <what to do>"

``who`` names the function or model the student called (e.g. ``"VAE.decode"``).
"""

from __future__ import annotations

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
    return f"a {type(x).__name__}"


def check_tensor(x: object, who: str, dtype: torch.dtype | None = torch.float32) -> None:
    """Raise unless ``x`` is a torch tensor (of ``dtype`` when given, e.g. the model's)."""
    if isinstance(x, np.ndarray):
        raise InputError(
            f"{who} expects a torch tensor, but received {describe(x)}. "
            "Convert it first: torch.from_numpy(x).float()."
        )
    if not isinstance(x, Tensor):
        raise InputError(f"{who} expects a torch tensor, but received {describe(x)}.")
    if dtype is None or x.dtype == dtype:
        return
    if x.dtype == torch.uint8:
        hint = "Raw pixels are 0-255 integers: use x.float() / 255 to get values in [0, 1]."
    elif not x.is_floating_point():
        hint = f"Convert it with x.to({dtype})."
    else:
        hint = f"Convert it with x.to({dtype}) (the model's weights are {dtype})."
    raise InputError(f"{who} expects a {dtype} tensor, but received {describe(x)}. {hint}")


def _shape_hint(x: Tensor, n_inputs: int) -> str:
    """What to do about a batch of images of the wrong shape."""
    side = IMAGE_SIDE
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
    check_tensor(y, who, dtype=None)
    if y.dtype not in (torch.int64, torch.int32, torch.int16, torch.uint8) or y.dim() != 1:
        raise InputError(
            f"{who} expects labels of shape (B,) with integer class numbers, but received "
            f"{describe(y)}. Pass the labels themselves (data.train.y), not one-hot vectors."
        )
    if y.numel() and (int(y.min()) < 0 or int(y.max()) >= n_classes):
        raise InputError(
            f"{who} expects labels from 0 to {n_classes - 1}, but received labels from "
            f"{int(y.min())} to {int(y.max())}. Build the model with n_classes equal to the "
            "number of classes of the dataset."
        )


def check_model(model: object, who: str) -> None:
    """Raise unless ``model`` is a PyTorch model (a cell run before the one that builds it)."""
    if not isinstance(model, torch.nn.Module):
        raise InputError(
            f"{who} expects a model (a torch.nn.Module), but received {describe(model)}. "
            "Run the cell that builds and trains the model first, then this one."
        )


def model_dtype(model: torch.nn.Module) -> torch.dtype:
    """The dtype of a model's weights (float32 unless the student converted it)."""
    first = next(model.parameters(), None)
    return torch.float32 if first is None else first.dtype
