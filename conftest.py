"""Shared test set-up, at the repository root so that it covers tests/ AND notebooks/.

Every pytest run in this repository (``pytest``, ``pytest notebooks/02_x.ipynb``, ...) runs in
FAST mode unless COURSE_FAST is already set. The variable is set here, at import time, so the
Jupyter kernels that nbval starts inherit it. Full mode is for students (run the notebooks in
Jupyter); nbval waits at most 5 s for each output message after a cell ends, which long full-mode
training cells can exceed.
"""

import gzip
import os
import struct
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("COURSE_FAST", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

ROOT = Path(__file__).resolve().parent


def write_idx(path: Path, array: np.ndarray, gz: bool = True) -> Path:
    """Write a uint8 array as an IDX file (gzipped when the name ends in .gz)."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    raw = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(raw) if gz else raw)
    return path


def make_idx_folder(folder: Path, n_train: int | None, n_test: int | None, seed: int = 0) -> Path:
    """A folder of MNIST-style files whose image i has the value (i % 251) in its first pixel."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for split, n in (("train", n_train), ("t10k", n_test)):
        if n is None:
            continue
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        images[:, 0, 0] = np.arange(n) % 251
        write_idx(folder / f"{split}-images-idx3-ubyte.gz", images)
        write_idx(folder / f"{split}-labels-idx1-ubyte.gz", np.arange(n) % 10)
    return folder


@pytest.fixture
def isolated_data(tmp_path, monkeypatch):
    """No real data anywhere: empty cache, no env folders, no Debian folders, no download."""
    from course_utils import data

    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    for key, spec in data.DATASETS.items():
        monkeypatch.delenv(spec.env, raising=False)
        monkeypatch.setitem(
            data.DATASETS, key, data._Spec(**{**spec.__dict__, "debian_dir": str(tmp_path / "no")})
        )
    return tmp_path
