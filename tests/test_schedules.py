"""CosineDecay: the learning rate of every step against the closed form, and bad input."""

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


def test_cosine_decay_follows_the_half_cosine_from_lr_to_zero():
    torch.manual_seed(0)
    x = torch.rand(40, 1, 4, 4)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 16), nn.Unflatten(1, (1, 4, 4)))
    record = RecordLR()
    fit(model, x, epochs=3, batch_size=10, lr=0.02, callbacks=[CosineDecay(0.02), record],
        verbose=False)  # fmt: skip
    total = 3 * 4
    expected = [0.02 * 0.5 * (1 + math.cos(math.pi * s / total)) for s in range(total)]
    assert record.lrs == pytest.approx(expected, rel=1e-12)
    assert record.lrs[0] == pytest.approx(0.02)
    assert record.lrs[-1] < 0.02 * 0.02  # the last step is close to 0
    assert all(a > b for a, b in zip(record.lrs[:-1], record.lrs[1:], strict=True))  # decreasing


@pytest.mark.parametrize("lr", [0.0, -1e-3, float("nan")])
def test_cosine_decay_rejects_a_learning_rate_that_is_not_positive(lr):
    with pytest.raises(ValueError, match="learning rate > 0"):
        CosineDecay(lr)
