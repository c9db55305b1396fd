"""Lesson 00's coding task: ``check_reconstruction_loss``.

The right answer passes; the stub and each typical wrong answer (written here as plain functions)
fail with its own note and a one-line message in English and Vietnamese; the check never raises
outside strict mode; its reference matches the course's loss and a hand-computed value.
"""

import re

import pytest
import torch
import torch.nn.functional as F

from course_utils.exercise_checks.lesson00 import (
    check_reconstruction_loss,
    check_weighted_loss,
    reference_loss,
    reference_weighted_loss,
)
from course_utils.losses import mean_sse_per_image


@pytest.fixture(autouse=True)
def _practice_mode(monkeypatch):
    """Every test starts outside strict and grading mode; a test may switch strict mode on."""
    monkeypatch.delenv("COURSE_CHECKS_STRICT", raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)


def right(x_hat, x):
    return ((x_hat - x) ** 2).flatten(1).sum(dim=1).mean()


def first_try(x_hat, x):  # the notebook's committed first try: right only for (B, 784)
    return ((x_hat - x) ** 2).sum(dim=1).mean()


def stub(x_hat, x):
    raise NotImplementedError()


def no_return(x_hat, x):
    ((x_hat - x) ** 2).flatten(1).sum(dim=1).mean()


def as_float(x_hat, x):
    return right(x_hat, x).item()


def per_image(x_hat, x):
    return ((x_hat - x) ** 2).flatten(1).sum(dim=1)


def sum_over_batch(x_hat, x):
    return ((x_hat - x) ** 2).sum()


def no_square(x_hat, x):
    return (x_hat - x).abs().flatten(1).sum(dim=1).mean()


CASES = [
    (right, "passed", ""),
    (lambda x_hat, x: mean_sse_per_image(x_hat, x), "passed", ""),
    (first_try, "wrong", "sum over dim=1 of images"),
    (lambda x_hat, x: F.mse_loss(x_hat, x), "wrong", "mean over pixels"),
    (sum_over_batch, "wrong", "sum over the batch"),
    (per_image, "wrong", "not a scalar"),
    (as_float, "wrong", "not a tensor"),
    (no_return, "wrong", "returned None"),
    (no_square, "wrong", "wrong value"),
    (stub, "not attempted", "not attempted"),
]


@pytest.mark.parametrize(("fn", "status", "note"), CASES)
def test_each_answer_gets_its_own_verdict(fn, status, note, monkeypatch):
    result = check_reconstruction_loss(fn)
    assert (result.status, result.note) == (status, note)
    assert result.en and result.vi and "\n" not in result.en


def test_the_first_try_is_told_to_flatten(monkeypatch):
    result = check_reconstruction_loss(first_try)
    assert "784 times too small" in result.en and "flatten(1)" in result.en


def test_a_wrong_number_is_said_to_come_from_the_checks_own_batch(monkeypatch):
    for result in (
        check_reconstruction_loss(first_try),
        check_weighted_loss(lambda x_hat, x, weights: weighted_right(x_hat, x, weights) * 2),
    ):
        assert "check's own random" in result.en and "not your cell's" in result.en
        assert "riêng của bài kiểm tra" in result.vi


@pytest.mark.parametrize(
    ("lang", "practice"), [("en", "practice, not graded"), ("vi", "luyện tập, không chấm điểm")]
)
def test_lesson_00_shows_no_points(lang, practice, monkeypatch):
    monkeypatch.setenv("COURSE_LANG", lang)
    for result in (
        check_reconstruction_loss(first_try),
        check_reconstruction_loss(right),
        check_weighted_loss(weighted_right),
    ):
        line = str(result)
        assert f"({practice}). " in line and not re.search(r"\(\d+/\d+ ", line)
        assert line.endswith(result.message) and result.task in line


def test_strict_mode_raises_on_a_wrong_answer(monkeypatch):
    monkeypatch.setenv("COURSE_CHECKS_STRICT", "1")
    with pytest.raises(AssertionError):
        check_reconstruction_loss(first_try)


def test_reference_matches_the_course_loss_and_a_hand_value():
    g = torch.Generator().manual_seed(0)
    x_hat, x = torch.rand(5, 1, 28, 28, generator=g), torch.rand(5, 1, 28, 28, generator=g)
    assert torch.isclose(reference_loss(x_hat, x).float(), mean_sse_per_image(x_hat, x))
    ones = torch.ones(2, 1, 28, 28)
    assert reference_loss(ones, torch.zeros_like(ones)).item() == 784.0  # 784 pixels, error 1
    assert torch.isclose(first_try(x_hat, x) * 784, reference_loss(x_hat, x).float())


# The second task: per-image weights given as a (B, 1) column.
def weighted_right(x_hat, x, weights):
    return (((x_hat - x) ** 2).flatten(1).sum(dim=1) * weights.flatten()).mean()


def weighted_first_try(
    x_hat, x, weights
):  # the notebook's committed first try: (B,) * (B, 1) -> (B, B)
    return (((x_hat - x) ** 2).flatten(1).sum(dim=1) * weights).mean()


WEIGHTED_CASES = [
    (weighted_right, "passed", ""),
    (
        lambda x_hat, x, weights: (weights[:, 0] * mean_sse_per_image_rows(x_hat, x)).mean(),
        "passed",
        "",
    ),
    (weighted_first_try, "wrong", "(B, B) broadcast"),
    (
        lambda x_hat, x, weights: ((x_hat - x) ** 2).flatten(1).sum(dim=1) * weights,
        "wrong",
        "(B, B) table",
    ),
    (
        lambda x_hat, x, weights: ((x_hat - x) ** 2).flatten(1).sum(dim=1).mean(),
        "wrong",
        "weights ignored",
    ),
    (lambda x_hat, x, weights: weighted_right(x_hat, x, weights) * 2, "wrong", "wrong value"),
    (
        lambda x_hat, x, weights: ((x_hat - x) ** 2).flatten(1).sum(dim=1) * weights.flatten(),
        "wrong",
        "not a scalar",
    ),
    (lambda x_hat, x, weights: None, "wrong", "not a tensor"),
    (lambda x_hat, x, weights: stub(x_hat, x), "not attempted", "not attempted"),
]


def mean_sse_per_image_rows(x_hat, x):
    return ((x_hat - x) ** 2).flatten(1).sum(dim=1)  # (B,)


@pytest.mark.parametrize(("fn", "status", "note"), WEIGHTED_CASES)
def test_each_weighted_answer_gets_its_own_verdict(fn, status, note, monkeypatch):
    result = check_weighted_loss(fn)
    assert (result.status, result.note) == (status, note)
    assert result.en and result.vi and "\n" not in result.en


def test_the_broadcast_first_try_is_named_and_told_to_flatten(monkeypatch):
    result = check_weighted_loss(weighted_first_try)
    assert "(B, B)" in result.en and "weights.flatten()" in result.en


def test_weighted_reference_by_hand():
    x_hat, x = torch.zeros(2, 784), torch.ones(2, 784)  # every image: summed squared error 784
    weights = torch.tensor([[1.0], [3.0]])  # (2, 1)
    assert (
        reference_weighted_loss(x_hat, x, weights).item() == 784.0 * 2
    )  # mean of 784 x 1 and 784 x 3
    assert (
        weighted_first_try(x_hat, x, weights).item() == 784.0 * 2
    )  # equal here: all losses are the same
    x[1] = 0.0  # now the losses differ (784 and 0): the (B, B) table's mean is wrong
    assert reference_weighted_loss(x_hat, x, weights).item() == 784.0 / 2
    assert weighted_first_try(x_hat, x, weights).item() == 784.0 * 2 / 2
