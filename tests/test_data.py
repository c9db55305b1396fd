"""course_utils.data: reading IDX files, the resolution order, splits, batches, the toy cloud."""

import gzip
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import make_idx_folder, write_idx

from course_utils import data_sources
from course_utils.data import DataError, iterate_batches, load_dataset
from course_utils.data_sources import read_idx


# --------------------------------------------------------------------------------- IDX files
def test_read_idx_round_trip_plain_and_gzip(tmp_path):
    arr = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    for gz in (True, False):
        path = write_idx(tmp_path / ("a.gz" if gz else "a"), arr, gz=gz)
        np.testing.assert_array_equal(read_idx(path), arr)


def test_truncated_idx_names_the_file_and_what_to_do(tmp_path):
    path = write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((5, 28, 28)), gz=False)
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte is truncated.*Delete it"):
        read_idx(path)


def test_not_an_idx_file(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(b"<html>404 not found</html>")
    with pytest.raises(DataError, match="is not an IDX file"):
        read_idx(path)


def test_corrupt_gzip_names_the_file(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(b"\x00" * 1000)[:20])
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz.*damaged or truncated"):
        read_idx(path)


def test_images_and_labels_that_do_not_match(tmp_path, isolated_data, monkeypatch):
    folder = make_idx_folder(tmp_path / "m", n_train=None, n_test=20)
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", np.zeros(7))
    monkeypatch.setenv("COURSE_MNIST_DIR", str(folder))
    with pytest.raises(DataError, match="do not belong together"):
        load_dataset("mnist")


# ------------------------------------------------------------------------- resolution order
def test_unknown_dataset_lists_the_choices():
    with pytest.raises(DataError, match="Unknown dataset 'cifar10'.*mnist, fashion_mnist"):
        load_dataset("cifar10")


def test_env_folder_is_used_and_announced(tmp_path, isolated_data, monkeypatch, capsys):
    folder = make_idx_folder(tmp_path / "m", n_train=600, n_test=100)
    monkeypatch.setenv("COURSE_MNIST_DIR", str(folder))
    d = load_dataset("mnist", fast=False)
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and str(folder) in out and "COURSE_MNIST_DIR" in out
    assert d.name == "MNIST" and not d.is_fallback
    assert (len(d.train.y), len(d.valid.y), len(d.test.y)) == (540, 60, 100)  # official test split


def test_empty_env_folder_is_a_clear_error(tmp_path, isolated_data, monkeypatch):
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("COURSE_FASHION_MNIST_DIR", str(tmp_path / "empty"))
    with pytest.raises(DataError, match=r"holds no Fashion-MNIST files.*t10k-images-idx3-ubyte"):
        load_dataset("fashion_mnist")


def test_missing_env_folder_is_a_clear_error(tmp_path, isolated_data, monkeypatch):
    monkeypatch.setenv("COURSE_MNIST_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match="is not a folder"):
        load_dataset("mnist")


def test_cache_in_torchvision_layout_is_found(isolated_data, capsys):
    make_idx_folder(Path(os.environ["COURSE_DATA_DIR"]) / "FashionMNIST" / "raw", 120, 40)
    d = load_dataset("fashion_mnist", fast=False)
    assert d.name == "Fashion-MNIST" and "course cache" in capsys.readouterr().out


def test_fallback_to_embedded_digits_says_why(isolated_data, capsys):
    d = load_dataset("mnist", fast=False)
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert "EMBEDDED FALLBACK" in out and "COURSE_OFFLINE is set" in out
    assert d.is_fallback and d.train.x.shape[1:] == (1, 28, 28)
    assert len(d.train.y) + len(d.valid.y) + len(d.test.y) == 1797


def test_no_network_is_detected_quickly(isolated_data, monkeypatch):
    monkeypatch.delenv("COURSE_OFFLINE")

    def refuse(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(data_sources.socket, "create_connection", refuse)
    reason = data_sources._download(data_sources.DATASETS["mnist"])
    assert reason == "no network (OSError)"


def test_embedded_digits_look_like_mnist():
    x, y = data_sources.embedded_digits()
    assert x.shape == (1797, 1, 28, 28) and x.dtype == torch.float32 and y.shape == (1797,)
    assert 0.0 <= x.min() and x.max() <= 1.0 and x.max() > 0.9
    border = torch.cat([x[..., :4, :].flatten(), x[..., -4:, :].flatten(), x[..., :4].flatten()])
    assert border.abs().max() == 0  # centred: a 4-pixel empty frame like MNIST's
    assert set(y.tolist()) == set(range(10))


# ----------------------------------------------------------------------------------- splits
def _ids(split):
    return (split.x[:, 0, 0, 0] * 255).round().long()  # the id written into the first pixel


def test_only_test_files_are_split_80_20_with_a_fixed_seed(tmp_path, isolated_data, monkeypatch):
    monkeypatch.setenv("COURSE_MNIST_DIR", str(make_idx_folder(tmp_path / "m", None, 250)))
    a = load_dataset("mnist", seed=3, valid_fraction=0.0, fast=False)
    b = load_dataset("mnist", seed=3, valid_fraction=0.0, fast=False)
    c = load_dataset("mnist", seed=4, valid_fraction=0.0, fast=False)
    assert (len(a.train.y), len(a.valid.y), len(a.test.y)) == (200, 0, 50)
    assert torch.equal(a.test.x, b.test.x) and not torch.equal(a.test.x, c.test.x)
    ids_train, ids_test = set(_ids(a.train).tolist()), set(_ids(a.test).tolist())
    assert not ids_train & ids_test and len(ids_train | ids_test) == 250  # disjoint and complete


def test_splits_are_disjoint_and_fast_mode_shrinks_them(tmp_path, isolated_data, monkeypatch):
    monkeypatch.setenv("COURSE_MNIST_DIR", str(make_idx_folder(tmp_path / "m", 240, None)))
    full = load_dataset("mnist", valid_fraction=0.25, fast=False)
    parts = [set(_ids(s).tolist()) for s in (full.train, full.valid, full.test)]
    assert [len(p) for p in parts] == [144, 48, 48]
    assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    monkeypatch.setattr("course_utils.data.FAST_SIZES", {"train": 10, "valid": 5, "test": 7})
    fast = load_dataset("mnist", valid_fraction=0.25, fast=True)
    assert (len(fast.train.y), len(fast.valid.y), len(fast.test.y)) == (10, 5, 7)


def test_bad_valid_fraction():
    with pytest.raises(ValueError, match="valid_fraction"):
        load_dataset("mnist", valid_fraction=1.5)


@pytest.mark.skipif("COURSE_MNIST_DIR" not in os.environ, reason="real MNIST folder not set")
def test_real_mnist_test_split_when_available():
    d = load_dataset("mnist", valid_fraction=0.0, fast=False)
    labels = torch.cat([d.train.y, d.test.y])
    assert labels.bincount().tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert d.train.x.shape == (8000, 1, 28, 28)


# ---------------------------------------------------------------------- batches, toy cloud
def test_iterate_batches_covers_everything_once():
    x, y = torch.arange(10).float(), torch.arange(10)
    batches = list(
        iterate_batches(
            x, y, batch_size=4, shuffle=True, generator=torch.Generator().manual_seed(0)
        )
    )
    assert [len(b[0]) for b in batches] == [4, 4, 2]
    seen = torch.cat([b[1] for b in batches])
    assert sorted(seen.tolist()) == list(range(10)) and seen.tolist() != list(range(10))
    assert all(torch.equal(bx, by.float()) for bx, by in batches)  # rows stay aligned


def test_iterate_batches_rejects_unaligned_tensors():
    with pytest.raises(ValueError, match="same length"):
        next(iterate_batches(torch.zeros(5), torch.zeros(4)))
