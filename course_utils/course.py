"""One call at the top of every notebook: ``course = setup_course()`` (lesson 00).

It seeds every random number generator, picks the device, reads the fast-mode switch and detects
Colab, then prints one line that says what it chose and why.
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass

import numpy as np
import torch

from course_utils import settings
from course_utils.inputs import InputError, check_seed


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and PyTorch; return a ``torch.Generator`` seeded with ``seed``.

    Pass the generator to functions that draw random numbers (``generator=``) so that a cell
    gives the same result however many times the cells above it were run.
    """
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - seeds the legacy global generator students may use
    torch.manual_seed(seed)  # also seeds CUDA and MPS
    return torch.Generator().manual_seed(seed)


def is_fast_mode() -> bool:
    """True when ``COURSE_FAST`` is on (1, true, yes, ...: ``course_utils.settings``)."""
    return settings.fast_mode()


def in_colab() -> bool:
    """True when running inside Google Colab."""
    return "google.colab" in sys.modules


def pick_device(prefer: str | torch.device | None = None) -> tuple[torch.device, str]:
    """Choose cuda, then mps (Apple GPU), then cpu. Return the device and the reason.

    ``prefer`` ("cpu", "cuda", "cuda:1", "mps") must be a device this machine has: anything else
    is refused at once, with the list of what it has (``available_devices``).
    """
    if prefer is not None:
        device = _asked_device(prefer)
        return device, f"{device} (asked for)"
    if torch.cuda.is_available():
        return torch.device("cuda"), f"cuda ({torch.cuda.get_device_name(0)})"
    if _mps_available():
        return torch.device("mps"), "mps (Apple GPU)"
    return torch.device("cpu"), "cpu (no GPU found; every lesson is sized to run on a laptop CPU)"


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return mps is not None and mps.is_available()


def available_devices() -> list[str]:
    """What this machine has, e.g. ["cpu"] or ["cpu", "cuda:0 (NVIDIA T4)"]."""
    found = ["cpu"]
    if torch.cuda.is_available():
        n = torch.cuda.device_count()
        found += [f"cuda:{i} ({torch.cuda.get_device_name(i)})" for i in range(n)]
    if _mps_available():
        found.append("mps (Apple GPU)")
    return found


def _asked_device(prefer: object) -> torch.device:
    """``prefer`` as a device this machine has, or an InputError that lists what it has."""
    has = f"This machine has: {', '.join(available_devices())}."
    expected = 'setup_course expects device "cpu", "cuda", "cuda:N", "mps" or None (the best one)'
    try:
        device = torch.device(prefer.strip().lower() if isinstance(prefer, str) else prefer)
    except (RuntimeError, TypeError):
        hint = ' For a GPU write "cuda" (NVIDIA) or "mps" (Apple).' if _says_gpu(prefer) else ""
        raise InputError(
            f"{expected}, but received device={prefer!r}.{hint} {has} Or leave device out: "
            "setup_course() takes the best one."
        ) from None
    if device.type == "cuda" and not torch.cuda.is_available():
        missing = "torch finds no CUDA GPU here (torch.cuda.is_available() is False)"
    elif device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
        missing = f"there is no {device} ({torch.cuda.device_count()} CUDA GPU(s), from cuda:0)"
    elif device.type == "mps" and not _mps_available():
        missing = "torch finds no Apple GPU here (torch.backends.mps.is_available() is False)"
    elif device.type not in ("cpu", "cuda", "mps"):
        missing = f"the course does not run on {device.type} devices"
    else:
        return device
    raise InputError(
        f"{expected} that this machine has, but received device={prefer!r}: {missing}. {has} "
        "Leave device out (setup_course()) to take the best one; on Colab choose Runtime > "
        "Change runtime type > GPU first."
    )


def _says_gpu(prefer: object) -> bool:
    return isinstance(prefer, str) and prefer.strip().lower().startswith(("gpu", "nvidia"))


@dataclass(frozen=True)
class Course:
    """What ``setup_course`` chose. Notebooks pass ``course.device`` to models explicitly."""

    seed: int
    device: torch.device
    fast: bool
    colab: bool

    def pick(self, full, fast):
        """``fast`` in fast mode, else ``full``: e.g. ``epochs = course.pick(10, 1)``."""
        return fast if self.fast else full

    @property
    def mode(self) -> str:
        return "fast" if self.fast else "full"


def setup_course(seed: int = 0, device: str | None = None, verbose: bool = True) -> Course:
    """Seed everything, choose the device, read fast mode, detect Colab; print one summary.

    Args:
        seed: seed for Python, NumPy and PyTorch, a whole number from 0 to 2**32 - 1.
        device: force a device ("cpu", "cuda", "cuda:1", "mps"); by default the best available
            one. A device this machine lacks is refused here, with what it has.
        verbose: print the summary line.
    """
    seed = check_seed(seed, "setup_course")
    dev, why = pick_device(device)
    seed_everything(seed)
    course = Course(seed=seed, device=dev, fast=is_fast_mode(), colab=in_colab())
    if verbose:
        where = "Google Colab" if course.colab else "a local Jupyter/Python"
        mode = (
            "FAST (COURSE_FAST=1: small data, few epochs; numbers are rough)"
            if course.fast
            else "full (what students run)"
        )
        print(f"Running in {where} | device: {why} | mode: {mode} | seed: {seed}")
    return course
