"""CosineDecay: the learning rate of every step against the closed form, the starting rate read
from the optimizer, the old ``CosineDecay(lr)`` form, and bad input."""

import math

import pytest
import torch
from torch import nn

from course_utils.schedules import CosineDecay
from course_utils.train import Callback, fit


class RecordLR(Callback):
    def __init__(self) -> None:
        self.lrs: list[float] = []

    def on_batch_end(self, state) -> None:
        self.lrs.append(state.optimizer.param_groups[0]["lr"])


class RecordAllLR(Callback):
    def __init__(self) -> None:
        self.lrs: list[list[float]] = []

    def on_batch_end(self, state) -> None:
        self.lrs.append([group["lr"] for group in state.optimizer.param_groups])


def _tiny_model():
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 16), nn.Unflatten(1, (1, 4, 4)))


def _half_cosine(lr0: float, total: int) -> list[float]:
    return [lr0 * 0.5 * (1 + math.cos(math.pi * s / total)) for s in range(total)]


@pytest.mark.parametrize("lr", [0.02, 0.005])
def test_cosine_decay_follows_the_half_cosine_from_fits_lr_to_zero(lr):
    torch.manual_seed(0)
    x = torch.rand(40, 1, 4, 4)
    record = RecordLR()
    fit(_tiny_model(), x, epochs=3, batch_size=10, lr=lr, callbacks=[CosineDecay(), record],
        verbose=False)  # fmt: skip
    assert record.lrs == pytest.approx(_half_cosine(lr, 3 * 4), rel=1e-12)  # lr read, not given
    assert record.lrs[0] == pytest.approx(lr)
    assert record.lrs[-1] < lr * 0.02  # the last step is close to 0
    assert all(a > b for a, b in zip(record.lrs[:-1], record.lrs[1:], strict=True))  # decreasing


def test_cosine_decay_starts_each_group_of_a_given_optimizer_at_its_own_rate():
    torch.manual_seed(0)
    model = _tiny_model()
    first, second = model[1].weight, model[1].bias
    optimizer = torch.optim.SGD([{"params": [first], "lr": 0.1}, {"params": [second]}], lr=0.01)
    record = RecordAllLR()
    fit(model, torch.rand(20, 1, 4, 4), epochs=2, batch_size=10, optimizer=optimizer,
        callbacks=[CosineDecay(), record], verbose=False)  # fmt: skip
    first_lrs, second_lrs = zip(*record.lrs, strict=True)
    assert first_lrs == pytest.approx(_half_cosine(0.1, 4), rel=1e-12)
    assert second_lrs == pytest.approx(_half_cosine(0.01, 4), rel=1e-12)
    assert [g["initial_lr"] for g in optimizer.param_groups] == [0.1, 0.01]  # torch's key


def test_cosine_decay_with_the_old_lr_argument_warns_and_uses_it():
    torch.manual_seed(0)
    record = RecordLR()
    old_form = r"CosineDecay\(0.02\) is deprecated; use CosineDecay\(\)"
    with pytest.warns(DeprecationWarning, match=old_form):
        decay = CosineDecay(0.02)
    fit(_tiny_model(), torch.rand(40, 1, 4, 4), epochs=3, batch_size=10, lr=0.02,
        callbacks=[decay, record], verbose=False)  # fmt: skip
    assert record.lrs == pytest.approx(_half_cosine(0.02, 12), rel=1e-12)


@pytest.mark.parametrize("lr", [0.0, -1e-3, float("nan")])
def test_cosine_decay_rejects_a_learning_rate_that_is_not_positive(lr):
    with pytest.warns(DeprecationWarning), pytest.raises(ValueError, match="learning rate > 0"):
        CosineDecay(lr)


def test_cosine_decay_with_warmup_rises_linearly_then_follows_the_half_cosine():
    torch.manual_seed(0)
    record, lr, warmup, total = RecordLR(), 0.02, 5, 3 * 4
    fit(_tiny_model(), torch.rand(40, 1, 4, 4), epochs=3, batch_size=10, lr=lr,
        callbacks=[CosineDecay(warmup_steps=warmup), record], verbose=False)  # fmt: skip
    assert len(record.lrs) == total
    assert record.lrs[0] == pytest.approx(lr / warmup)  # step 0: the first of W equal rises
    assert record.lrs[warmup - 1] == pytest.approx(lr)  # the warm-up ends at the full rate
    assert record.lrs[warmup] == pytest.approx(lr)  # the half cosine starts from it
    after = total - warmup
    assert record.lrs[-1] == pytest.approx(lr * 0.5 * (1 + math.cos(math.pi * (after - 1) / after)))
    assert record.lrs[:warmup] == pytest.approx([lr * (s + 1) / warmup for s in range(warmup)])
    assert record.lrs[warmup:] == pytest.approx(_half_cosine(lr, after), rel=1e-12)


def test_cosine_decay_default_warmup_is_the_plain_half_cosine():
    torch.manual_seed(0)
    plain, zero = RecordLR(), RecordLR()
    for decay, record in ((CosineDecay(), plain), (CosineDecay(warmup_steps=0), zero)):
        fit(_tiny_model(), torch.rand(40, 1, 4, 4), epochs=3, batch_size=10, lr=0.01,
            callbacks=[decay, record], verbose=False)  # fmt: skip
    assert plain.lrs == zero.lrs == pytest.approx(_half_cosine(0.01, 12), rel=1e-12)


@pytest.mark.parametrize("warmup", [-1, 2.5, "10", True])
def test_cosine_decay_rejects_a_warmup_that_is_not_a_non_negative_integer(warmup):
    with pytest.raises(ValueError, match="warmup_steps to be an integer >= 0"):
        CosineDecay(warmup_steps=warmup)


def test_cosine_decay_rejects_a_warmup_as_long_as_training():
    with pytest.raises(ValueError, match=r"warmup_steps=12\) needs more training steps.*runs 12"):
        fit(_tiny_model(), torch.rand(40, 1, 4, 4), epochs=3, batch_size=10, lr=0.01,
            callbacks=[CosineDecay(warmup_steps=12)], verbose=False)  # fmt: skip
