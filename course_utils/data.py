"""Datasets as in-memory tensors, offline first (lesson 00).

``load_dataset("mnist")`` or ``load_dataset("fashion_mnist")`` looks for the data in this order and
prints ONE line saying what it uses and why:

1. files on disk: the folder named by ``COURSE_MNIST_DIR`` / ``COURSE_FASHION_MNIST_DIR``; the
   course cache ``COURSE_DATA_DIR`` (default ``~/.cache/autoencoders-course``) in torchvision's
   layout; Debian's packages (``/usr/share/datasets/...``);
2. a torchvision download into the course cache, with a short timeout;
3. an embedded fallback that needs no file and no network: scikit-learn's 1,797 real 8x8 digit
   scans, resized to 20x20 and centred in 28x28 like MNIST.

Images come back as float32 tensors of shape (N, 1, 28, 28) with values in [0, 1], labels as int64
tensors of shape (N,). Everything stays in memory and is batched from memory
(``iterate_batches``): no per-image PIL transform slows the training loop down.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import Tensor

from course_utils import settings
from course_utils.data_sources import (
    DATASETS,
    DataError,
    Split,
    _download,
    _from_disk,
    embedded_digits,
)

__all__ = ["DATASETS", "DataError", "ImageData", "Split", "iterate_batches", "load_dataset"]

FAST_SIZES = {"train": 2000, "valid": 500, "test": 1000}  # images per split in fast mode


@dataclass
class ImageData:
    """Train, validation and test splits plus where they came from."""

    name: str  # e.g. "MNIST", or "digits (embedded fallback)"
    source: str  # the one line printed when loading
    classes: tuple[str, ...]
    train: Split
    valid: Split
    test: Split

    @property
    def is_fallback(self) -> bool:
        return "fallback" in self.name


# ------------------------------------------------------------------------- splits and batches
def _shuffle_split(s: Split, sizes: list[int], generator: torch.Generator) -> list[Split]:
    idx = torch.randperm(len(s.y), generator=generator)
    parts, start = [], 0
    for n in sizes:
        parts.append(Split(s.x[idx[start : start + n]], s.y[idx[start : start + n]]))
        start += n
    return parts


def _make_splits(
    splits: dict[str, Split], valid_fraction: float, seed: int
) -> tuple[Split, Split, Split, str]:
    g = torch.Generator().manual_seed(seed)
    if "train" in splits and "test" in splits:  # the official split; carve valid out of train
        train, test, note = splits["train"], splits["test"], "official test split"
    else:  # only one part on disk (e.g. the 10k test files): hold out 20% as test
        (only,) = splits.values()
        n_test = len(only.y) // 5
        test, train = _shuffle_split(only, [n_test, len(only.y) - n_test], g)
        note = (
            f"only {len(only.y):,} images on disk, split {len(train.y):,}/{n_test:,} (seed {seed})"
        )
    n_valid = int(round(valid_fraction * len(train.y)))
    valid, train = _shuffle_split(train, [n_valid, len(train.y) - n_valid], g)
    return train, valid, test, note


def load_dataset(
    name: str = "mnist", *, valid_fraction: float = 0.1, seed: int = 0, fast: bool | None = None
) -> ImageData:
    """Load MNIST or Fashion-MNIST (or the embedded fallback) as in-memory train/valid/test splits.

    Args:
        name: "mnist" or "fashion_mnist".
        valid_fraction: share of the training images held out for validation (0 for none).
        seed: seed of the fixed shuffles that make the splits (same seed, same splits).
        fast: keep only a few thousand images; default: the COURSE_FAST environment variable.
    Returns:
        ImageData whose splits hold x (N, 1, 28, 28) float32 in [0, 1] and y (N,) int64.
    """
    key = name.lower().replace("-", "_")
    if key not in DATASETS:
        raise DataError(f"Unknown dataset {name!r}. Choose one of: {', '.join(DATASETS)}.")
    if not 0 <= valid_fraction < 1:
        raise ValueError(f"valid_fraction must be in [0, 1), got {valid_fraction}.")
    spec = DATASETS[key]
    found = _from_disk(spec)
    if found is None:
        downloaded = _download(spec)
        found = downloaded if isinstance(downloaded, tuple) else None
    if found is not None:
        splits, where = found
        train, valid, test, note = _make_splits(splits, valid_fraction, seed)
        title, classes = spec.title, spec.classes
        source = f"{spec.title}: {where}; {note}"
    else:
        train, valid, test, _ = _make_splits({"all": embedded_digits()}, valid_fraction, seed)
        title, classes = "digits (embedded fallback)", DATASETS["mnist"].classes
        source = (
            f"EMBEDDED FALLBACK (scikit-learn's 1,797 8x8 digits, resized to 28x28): {spec.title} "
            f"is not on disk and could not be downloaded: {downloaded}"
        )
    fast = settings.fast_mode() if fast is None else fast
    if fast:
        g = torch.Generator().manual_seed(seed)
        train, valid, test = (
            _shuffle_split(s, [min(FAST_SIZES[k], len(s.y))], g)[0]
            for k, s in zip(("train", "valid", "test"), (train, valid, test), strict=True)
        )
    counts = f"{len(train.y):,} train / {len(valid.y):,} valid / {len(test.y):,} test"
    source += f" -> {counts}{' (FAST mode subset)' if fast else ''}"
    print("Data:", source)
    return ImageData(title, source, classes, train, valid, test)


def iterate_batches(
    *tensors: Tensor,
    batch_size: int = 128,
    shuffle: bool = False,
    generator: torch.Generator | None = None,
) -> Iterator[tuple[Tensor, ...]]:
    """Yield aligned mini-batches of in-memory tensors, e.g. ``for (xb,) in iterate_batches(x)``.

    Every tensor has the same first dimension N; each batch holds ``batch_size`` rows
    (the last one fewer). With ``shuffle=True`` the order is a fresh permutation each call.
    """
    n = len(tensors[0])
    if any(len(t) != n for t in tensors):
        raise ValueError(f"All tensors must have the same length, got {[len(t) for t in tensors]}.")
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    for start in range(0, n, batch_size):
        idx = order[start : start + batch_size]
        yield tuple(t[idx] for t in tensors)


def toy_cloud(n: int = 500, noise: float = 0.15, seed: int = 0) -> Tensor:
    """Deprecated: ``course_utils.toy_manifolds.toy_cloud`` (moved in issue 17; same result)."""
    from course_utils.toy_manifolds import toy_cloud as moved  # the one allowed upward import

    warnings.warn(
        "course_utils.data.toy_cloud moved to course_utils.toy_manifolds.toy_cloud: "
        "import it from there",
        DeprecationWarning,
        stacklevel=2,
    )
    return moved(n=n, noise=noise, seed=seed)
