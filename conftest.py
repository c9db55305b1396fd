"""Shared test set-up, at the repository root so that it covers tests/, notebooks/ and solutions/.

Every pytest run in this repository (``pytest``, ``pytest notebooks/02_x.ipynb``, ...) runs in
FAST mode unless COURSE_FAST is already set. The variable is set here, at import time, so the
Jupyter kernels that nbval starts inherit it. Full mode is for students (run the notebooks in
Jupyter); nbval waits at most 5 s for each output message after a cell ends, which long full-mode
training cells can exceed. Helper functions for tests live in ``tests/helpers.py``.
"""

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("COURSE_FAST", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
sys.path.insert(0, str(Path(__file__).resolve().parent / "tests"))  # so tests can import helpers


@pytest.fixture
def isolated_data(tmp_path, monkeypatch):
    """No real data anywhere: empty cache, no env folders, no Debian folders, no download."""
    from course_utils import data_sources

    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    for key, spec in data_sources.DATASETS.items():
        monkeypatch.delenv(spec.env, raising=False)
        no_debian = data_sources._Spec(**{**spec.__dict__, "debian_dir": str(tmp_path / "no")})
        monkeypatch.setitem(data_sources.DATASETS, key, no_debian)
    return tmp_path
