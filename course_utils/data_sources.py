"""Where the images come from (lesson 00): IDX files on disk, a download, embedded fallbacks.

``course_utils.data.load_dataset`` asks these functions in order; students rarely call them
directly. Everything here returns ``Split`` tensors: images (N, 1, 28, 28) float32 in [0, 1] and
labels (N,) int64. Two embedded sources need no file and no network: scikit-learn's 1,797 8x8
digit scans (``embedded_digits``), and crops of its two sample photographs (``photo_patches``),
a genuinely different kind of image for out-of-distribution experiments.
"""

from __future__ import annotations

import gzip
import os
import shutil
import socket
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from course_utils import settings

CACHE_ENV = settings.DATA_DIR
OFFLINE_ENV = settings.OFFLINE  # on = never try to download


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
        settings.MNIST_DIR,
        "MNIST",
        "/usr/share/datasets/mnist",
        tuple(str(d) for d in range(10)),
    ),
    "fashion_mnist": _Spec(
        "Fashion-MNIST",
        settings.FASHION_MNIST_DIR,
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


def _read_folder(folder: Path, strict: bool = False) -> dict[str, Split]:
    """Read every split whose two files are in ``folder``: {"train": Split, "test": Split}.

    strict (a folder the user named): half a pair (images without labels, or the reverse) is an
    error that names the missing file; otherwise that split is skipped."""
    splits = {}
    for split, (img_stem, lab_stem) in _FILES.items():
        img, lab = _find(folder, img_stem), _find(folder, lab_stem)
        if strict and (img is None) != (lab is None):  # half a pair: name the missing file
            have, missing = (img, lab_stem) if lab is None else (lab, img_stem)
            raise DataError(
                f"{folder} has {have.name} but not {missing}(.gz) beside it: the images and "
                "labels files of a split come as a pair. Put the missing file there (from the "
                "same download), or remove both."
            )
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
    return settings.data_dir()


def _from_disk(spec: _Spec) -> tuple[dict[str, Split], str] | None:
    """Return (splits, description) from the first folder holding the files, or None."""
    folder = settings.dataset_dir(spec.env)
    if folder is not None:  # a folder the user named explicitly must work
        if not folder.is_dir():
            raise DataError(f"{spec.env}={folder} is not a folder. Fix or unset the variable.")
        splits = _read_folder(folder, strict=True)
        if not splits:
            raise DataError(
                f"{spec.env}={folder} holds no {spec.title} files. Expected "
                "t10k-images-idx3-ubyte(.gz) and t10k-labels-idx1-ubyte(.gz) (and the train-* "
                "pair if you have it). Put the files there or unset the variable."
            )
        return splits, f"files in {folder} (from {spec.env})"
    candidates = [(_cache_root() / spec.torchvision_class / "raw", "the course cache")]
    if not settings.no_system_data():  # CI sets it to test the lessons with no data at all
        candidates.append((Path(spec.debian_dir), "Debian package"))
    for folder, why in candidates:
        splits = _read_folder(folder) if folder.is_dir() else {}
        if splits:
            return splits, f"files in {folder} ({why})"
    return None


# ------------------------------------------------------------- download, then embedded fallback
def _download(spec: _Spec, timeout: float = 5.0) -> tuple[dict[str, Split], str] | str:
    """Try a torchvision download into the cache; return the splits, or the reason it failed."""
    if settings.offline():
        return f"{OFFLINE_ENV} is set"
    try:  # a quick probe, so that an offline machine fails in seconds, not minutes
        socket.create_connection(("ossci-datasets.s3.amazonaws.com", 443), timeout=timeout).close()
    except OSError as err:
        return f"no network ({type(err).__name__})"
    try:
        import torchvision.datasets as tvd
    except Exception as err:  # a broken torchvision install must not stop the course
        return f"torchvision cannot be imported ({type(err).__name__}: {err})"
    folder = _cache_root() / spec.torchvision_class / "raw"
    try:  # download into a temporary folder beside the cache, then move the files in whole:
        folder.mkdir(parents=True, exist_ok=True)  # a full disk or a failure midway never
        staging = Path(tempfile.mkdtemp(prefix=".download-", dir=_cache_root()))  # leaves a
    except OSError as err:  # half-written file in the cache, and the old files stay usable
        return (
            f"the cache folder {_cache_root()} is not writable ({type(err).__name__}: {err}); "
            f"set {CACHE_ENV} to a folder you can write to"
        )
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout * 4)
    try:
        for train in (True, False):
            getattr(tvd, spec.torchvision_class)(str(staging), train=train, download=True)
        for file in sorted((staging / spec.torchvision_class / "raw").iterdir()):
            os.replace(file, folder / file.name)  # atomic: the whole file or the old one
    except Exception as err:  # network errors come in many types; report and fall back
        return f"download failed ({type(err).__name__}: {err})"
    finally:
        socket.setdefaulttimeout(old)
        shutil.rmtree(staging, ignore_errors=True)
    return _read_folder(folder), f"downloaded by torchvision into {folder}"


def embedded_digits() -> Split:
    """scikit-learn's 1,797 8x8 digit scans made to look like MNIST: (1797, 1, 28, 28), [0, 1]."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0  # (N, 1, 8, 8)
    x = F.interpolate(x, size=(20, 20), mode="bilinear", align_corners=False)  # -> (N, 1, 20, 20)
    x = F.pad(x, (4, 4, 4, 4)).clamp_(0.0, 1.0)  # centred in (N, 1, 28, 28) like MNIST
    return Split(x, torch.tensor(digits.target, dtype=torch.int64))


def photo_patches(n: int, seed: int = 0) -> Tensor:
    """n grey 28x28 crops of scikit-learn's two sample photos: (n, 1, 28, 28) in [0, 1].

    The photos ship inside scikit-learn, so this needs no file and no network. Each photo is
    turned grey and shrunk 4 times (so that a crop holds a whole object part, not a flat patch)
    before random crops are cut.
    """
    from sklearn.datasets import load_sample_images

    g = torch.Generator().manual_seed(seed)
    photos = []
    for rgb in load_sample_images().images:  # each (H, W, 3) uint8
        grey = torch.tensor(rgb, dtype=torch.float32).mean(dim=2) / 255.0  # (H, W)
        small = torch.nn.functional.avg_pool2d(grey[None, None], 4)[0, 0]  # (H/4, W/4)
        photos.append(small)
    crops = []
    for i in range(n):
        photo = photos[i % len(photos)]
        top = int(torch.randint(0, photo.shape[0] - 28, (1,), generator=g))
        left = int(torch.randint(0, photo.shape[1] - 28, (1,), generator=g))
        crops.append(photo[top : top + 28, left : left + 28])
    return torch.stack(crops).unsqueeze(1)  # (n, 28, 28) -> (n, 1, 28, 28)
