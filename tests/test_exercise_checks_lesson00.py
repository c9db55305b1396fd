"""Lesson 00's coding tasks: ``check_reconstruction_loss``, ``check_weighted_loss`` and
``check_training_pass``.

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
    check_training_pass,
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
        lambda x_hat, x, weights: (mean_sse_per_image_rows(x_hat, x) * weights.flatten()).sum(),
        "wrong",
        "sum over the batch",
    ),
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


def test_a_weighted_loss_summed_over_the_batch_is_told_b_times_too_large():
    result = check_weighted_loss(
        lambda x_hat, x, weights: (mean_sse_per_image_rows(x_hat, x) * weights[:, 0]).sum()
    )
    b = int(result.en.split("(B = ")[1].split(")")[0])
    assert f"{b} times too large" in result.en and f"lớn hơn {b} lần" in result.vi


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


# The third task: one training pass, the five moves per batch.
def loss_of(model, xb):
    return ((model(xb) - xb.flatten(1)) ** 2).sum(dim=1).mean()


def pass_right(model, optimizer, batches):
    for xb in batches:
        optimizer.zero_grad()
        loss = loss_of(model, xb)
        loss.backward()
        optimizer.step()


def pass_first_try(model, optimizer, batches):  # the notebook's committed first try: no zero_grad
    for xb in batches:
        x_hat = model(xb)
        loss = ((x_hat - xb.flatten(1)) ** 2).sum(dim=1).mean()
        loss.backward()
        optimizer.step()


def pass_zero_grad_last(model, optimizer, batches):  # also right: .grad emptied after each step
    for xb in batches:
        loss_of(model, xb).backward()
        optimizer.step()
        model.zero_grad()


def pass_no_step(model, optimizer, batches):
    for xb in batches:
        optimizer.zero_grad()
        loss_of(model, xb).backward()


def pass_step_before_backward(model, optimizer, batches):
    for xb in batches:
        optimizer.zero_grad()
        loss = loss_of(model, xb)
        optimizer.step()
        loss.backward()


def pass_lagging(model, optimizer, batches):  # each step uses the previous batch's gradient
    for xb in batches:
        optimizer.step()
        optimizer.zero_grad()
        loss_of(model, xb).backward()


def pass_backward_on_output(model, optimizer, batches):
    for xb in batches:
        optimizer.zero_grad()
        x_hat = model(xb)
        x_hat.mean().backward()
        optimizer.step()


def pass_per_pixel(model, optimizer, batches):
    for xb in batches:
        optimizer.zero_grad()
        F.mse_loss(model(xb), xb.flatten(1)).backward()
        optimizer.step()


def pass_batch_sum(model, optimizer, batches):
    for xb in batches:
        optimizer.zero_grad()
        ((model(xb) - xb.flatten(1)) ** 2).sum().backward()
        optimizer.step()


A_BATCH = torch.rand(
    8, 1, 28, 28, generator=torch.Generator().manual_seed(1)
)  # "from another cell"


def pass_global_batch(model, optimizer, batches):
    for _ in batches:
        optimizer.zero_grad()
        loss_of(model, A_BATCH).backward()
        optimizer.step()


def pass_first_batch_only(model, optimizer, batches):
    for _ in batches:
        optimizer.zero_grad()
        loss_of(model, batches[0]).backward()
        optimizer.step()


def pass_one_step(model, optimizer, batches):
    pass_right(model, optimizer, batches[:1])


def pass_no_square(model, optimizer, batches):
    for xb in batches:
        optimizer.zero_grad()
        (model(xb) - xb.flatten(1)).abs().sum(dim=1).mean().backward()
        optimizer.step()


def pass_stub(model, optimizer, batches):
    raise NotImplementedError()


PASS_CASES = [
    (pass_right, "passed", ""),
    (pass_zero_grad_last, "passed", ""),
    (pass_first_try, "wrong", "zero_grad missing"),
    (pass_no_step, "wrong", "no step"),
    (pass_step_before_backward, "wrong", "step before backward"),
    (pass_lagging, "wrong", "step before backward"),
    (pass_backward_on_output, "wrong", "backward on the wrong tensor"),
    (pass_per_pixel, "wrong", "mean over pixels"),
    (pass_batch_sum, "wrong", "sum over the batch"),
    (pass_global_batch, "wrong", "batch not used"),
    (pass_first_batch_only, "wrong", "batch not used"),
    (pass_one_step, "wrong", "steps per batch"),
    (pass_no_square, "wrong", "wrong gradient"),
    (pass_stub, "not attempted", "not attempted"),
]


@pytest.mark.parametrize(("fn", "status", "note"), PASS_CASES)
def test_each_training_pass_gets_its_own_verdict(fn, status, note):
    result = check_training_pass(fn)
    assert (result.status, result.note) == (status, note)
    assert result.en and result.vi and "\n" not in result.en


def test_the_first_try_is_told_to_call_zero_grad():
    result = check_training_pass(pass_first_try)
    assert "SUM of the gradients" in result.en and "optimizer.zero_grad()" in result.en
    assert "zero_grad()" in result.vi


def test_the_training_check_leaves_the_global_generator_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    check_training_pass(pass_right)
    assert torch.equal(torch.rand(3), expected)
