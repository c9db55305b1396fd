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


def pick_device(prefer: str | None = None) -> tuple[torch.device, str]:
    """Choose cuda, then mps (Apple GPU), then cpu. Return the device and the reason."""
    if prefer is not None:
        return torch.device(prefer), f"{prefer} (asked for)"
    if torch.cuda.is_available():
        return torch.device("cuda"), f"cuda ({torch.cuda.get_device_name(0)})"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps"), "mps (Apple GPU)"
    return torch.device("cpu"), "cpu (no GPU found; every lesson is sized to run on a laptop CPU)"


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
        seed: seed for Python, NumPy and PyTorch.
        device: force a device ("cpu", "cuda", "mps"); by default the best available one.
        verbose: print the summary line.
    """
    seed_everything(seed)
    dev, why = pick_device(device)
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
