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

import gzip
import os
import socket
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from course_utils.setup import is_fast_mode

CACHE_ENV = "COURSE_DATA_DIR"
OFFLINE_ENV = "COURSE_OFFLINE"  # 1 = never try to download
FAST_SIZES = {"train": 2000, "valid": 500, "test": 1000}  # images per split in fast mode


@dataclass(frozen=True)
class _Spec:
    title: str  # name shown to students
    env: str  # environment variable naming a folder of IDX files
    torchvision_class: str  # torchvision.datasets class, also the cache sub-folder name
    debian_dir: str
    classes: tuple[str, ...]


DATASETS = {
    "mnist": _Spec(
        "MNIST",
        "COURSE_MNIST_DIR",
        "MNIST",
        "/usr/share/datasets/mnist",
        tuple(str(d) for d in range(10)),
    ),
    "fashion_mnist": _Spec(
        "Fashion-MNIST",
        "COURSE_FASHION_MNIST_DIR",
        "FashionMNIST",
        "/usr/share/datasets/fashion-mnist",
        ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat")
        + ("Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
    ),
}
_FILES = {  # split -> (images, labels), file names without the optional ".gz"
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


class DataError(RuntimeError):
    """A dataset was asked for that does not exist, or its files are broken."""


class Split(NamedTuple):
    """Images (N, 1, 28, 28) float32 in [0, 1] and labels (N,) int64."""

    x: Tensor
    y: Tensor


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


# ---------------------------------------------------------------- reading IDX files from disk
def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file (optionally gzipped) into a uint8 array; clear errors if it is broken."""
    path = Path(path)
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError) as err:
        raise DataError(
            f"Could not read {path}: {err}. The file is damaged or truncated; delete it and "
            "load the dataset again (it will be found elsewhere, downloaded, or replaced)."
        ) from err
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08 or not 1 <= raw[3] <= 3:
        raise DataError(
            f"{path} is not an IDX file of unsigned bytes (it starts with {raw[:4]!r}, expected "
            "b'\\x00\\x00\\x08' and a dimension count). Replace it with the original file."
        )
    ndim = raw[3]
    shape = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    expected = int(np.prod(shape)) + 4 + 4 * ndim
    if len(raw) != expected:
        raise DataError(
            f"{path} is truncated or padded: its header promises shape {shape} "
            f"({expected:,} bytes) but the file holds {len(raw):,} bytes. Delete it and load "
            "the dataset again."
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def _find(folder: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def _read_folder(folder: Path) -> dict[str, Split]:
    """Read every split whose two files are in ``folder``: {"train": Split, "test": Split}."""
    splits = {}
    for split, (img_stem, lab_stem) in _FILES.items():
        img, lab = _find(folder, img_stem), _find(folder, lab_stem)
        if img is None or lab is None:
            continue
        x, y = read_idx(img), read_idx(lab)
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise DataError(
                f"{img} and {lab} do not belong together: images have shape {x.shape}, labels "
                f"{y.shape}; expected (N, 28, 28) and (N,). Replace them with the original files."
            )
        images = (
            torch.from_numpy(x.copy()).float().div_(255).unsqueeze(1)
        )  # (N, 28, 28) -> (N, 1, 28, 28)
        splits[split] = Split(images, torch.from_numpy(y.astype(np.int64)))
    return splits


def _cache_root() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "autoencoders-course")


def _from_disk(spec: _Spec) -> tuple[dict[str, Split], str] | None:
    """Return (splits, description) from the first folder holding the files, or None."""
    if os.environ.get(spec.env):  # a folder the user named explicitly must work
        folder = Path(os.environ[spec.env]).expanduser()
        if not folder.is_dir():
            raise DataError(f"{spec.env}={folder} is not a folder. Fix or unset the variable.")
        splits = _read_folder(folder)
        if not splits:
            raise DataError(
                f"{spec.env}={folder} holds no {spec.title} files. Expected "
                "t10k-images-idx3-ubyte(.gz) and t10k-labels-idx1-ubyte(.gz) (and the train-* "
                "pair if you have it). Put the files there or unset the variable."
            )
        return splits, f"files in {folder} (from {spec.env})"
    candidates = [
        (_cache_root() / spec.torchvision_class / "raw", "the course cache"),
        (Path(spec.debian_dir), "Debian package"),
    ]
    for folder, why in candidates:
        splits = _read_folder(folder) if folder.is_dir() else {}
        if splits:
            return splits, f"files in {folder} ({why})"
    return None


# ------------------------------------------------------------- download, then embedded fallback
def _download(spec: _Spec, timeout: float = 5.0) -> tuple[dict[str, Split], str] | str:
    """Try a torchvision download into the cache; return the splits, or the reason it failed."""
    if os.environ.get(OFFLINE_ENV, "").lower() in {"1", "true", "yes"}:
        return f"{OFFLINE_ENV} is set"
    try:  # a quick probe, so that an offline machine fails in seconds, not minutes
        socket.create_connection(("ossci-datasets.s3.amazonaws.com", 443), timeout=timeout).close()
    except OSError as err:
        return f"no network ({type(err).__name__})"
    try:
        import torchvision.datasets as tvd
    except Exception as err:  # a broken torchvision install must not stop the course
        return f"torchvision cannot be imported ({type(err).__name__}: {err})"
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout * 4)
    try:
        for train in (True, False):
            getattr(tvd, spec.torchvision_class)(str(_cache_root()), train=train, download=True)
    except Exception as err:  # network errors come in many types; report and fall back
        return f"download failed ({type(err).__name__}: {err})"
    finally:
        socket.setdefaulttimeout(old)
    folder = _cache_root() / spec.torchvision_class / "raw"
    return _read_folder(folder), f"downloaded by torchvision into {folder}"


def embedded_digits() -> Split:
    """scikit-learn's 1,797 8x8 digit scans made to look like MNIST: (1797, 1, 28, 28), [0, 1]."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0  # (N, 1, 8, 8)
    x = F.interpolate(x, size=(20, 20), mode="bilinear", align_corners=False)  # -> (N, 1, 20, 20)
    x = F.pad(x, (4, 4, 4, 4)).clamp_(0.0, 1.0)  # centred in (N, 1, 28, 28) like MNIST
    return Split(x, torch.tensor(digits.target, dtype=torch.int64))


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
    fast = is_fast_mode() if fast is None else fast
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
    """A noisy, tilted elliptical cloud in 3-D (lesson 01): (n, 3) float32.

    The points spread along two axes (standard deviations 2 and 1) of a tilted plane and only
    ``noise`` off it, so two principal components keep almost all of the variance.
    """
    g = torch.Generator().manual_seed(seed)
    flat = torch.randn(n, 3, generator=g) * torch.tensor([2.0, 1.0, noise])  # (n, 3)
    tilt_a, tilt_b = torch.tensor(0.6), torch.tensor(-0.4)  # radians
    rot_x = torch.tensor(
        [[1, 0, 0], [0, tilt_a.cos(), -tilt_a.sin()], [0, tilt_a.sin(), tilt_a.cos()]]
    )
    rot_z = torch.tensor(
        [[tilt_b.cos(), -tilt_b.sin(), 0], [tilt_b.sin(), tilt_b.cos(), 0], [0, 0, 1]]
    )
    return flat @ (rot_z @ rot_x).T + torch.tensor([1.0, -0.5, 2.0])  # rotate, then shift
