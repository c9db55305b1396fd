"""course_utils.curves: training terms logged every N steps (lesson 07).

Mutants these tests catch (each seen failing): a window averaged over ``every + 1`` calls or
divided by the wrong count, eval-mode calls (fit's validation pass) counted as training steps,
the wrapped objective's ``loss_name`` ignored, a slope fitted over the whole curve instead of
its last half, a slope per step instead of per 100 steps; a step budget rounded to whole epochs
(too few rows), rows drawn with replacement (uneven use), a legend drawn inside a panel.
"""

import pytest
import torch
from torch import nn

from course_utils.curves import StepLog, curves_figure, late_slope, step_budget
from course_utils.train import fit


class CountingObjective:
    """loss = the call number (1, 2, 3, ...), and a log "twice" = 2 x the call number."""

    def __init__(self):
        self.calls = 0

    def __call__(self, model, batch):
        self.calls += 1
        loss = model(batch[0]).sum() * 0 + self.calls  # differentiable, value = call number
        return loss, {"twice": torch.tensor(2.0 * self.calls)}


def test_windows_are_means_of_their_steps():
    model = nn.Linear(3, 1)
    log = StepLog(CountingObjective(), every=4)
    batch = (torch.zeros(2, 3),)
    for _ in range(10):
        log(model, batch)
    assert log.steps == 10
    assert [row["step"] for row in log.rows] == [4, 8]  # steps 9-10 are an unfinished window
    assert log.column("loss") == [2.5, 6.5]  # (1+2+3+4)/4, (5+6+7+8)/4
    assert log.column("twice") == [5.0, 13.0]
    with pytest.raises(KeyError, match="twice"):
        log.column("kl")


def test_eval_calls_are_not_training_steps():
    model = nn.Linear(3, 1)
    log = StepLog(CountingObjective(), every=2)
    batch = (torch.zeros(2, 3),)
    model.eval()
    log(model, batch)
    model.train()
    log(model, batch)
    assert log.steps == 1 and log.rows == []


def test_with_fit_and_a_named_loss():
    class Named(CountingObjective):
        loss_name = "damage_ratio"

    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 1))
    log = StepLog(Named(), every=3)
    x = torch.rand(20, 4)
    history = fit(model, x, x[:5], objective=log, epochs=2, batch_size=4, verbose=False)
    assert log.steps == 10  # 5 batches x 2 epochs; the validation passes are not counted
    assert [row["step"] for row in log.rows] == [3, 6, 9]
    assert log.column("damage_ratio")[0] == pytest.approx(2.0)
    assert "train_damage_ratio" in history.rows[0]
    with pytest.raises(ValueError, match="whole number of steps"):
        StepLog(Named(), every=0)


def test_late_slope_uses_the_last_half_per_100_steps():
    steps = [10, 20, 30, 40, 50, 60, 70, 80]
    values = [100, 50, 0, -50, 7.0, 6.8, 6.6, 6.4]  # steep first half, -0.02 per step after
    assert late_slope(values, steps) == pytest.approx(-2.0)
    assert late_slope([1, 1, 1, 1], [1, 2, 3, 4]) == pytest.approx(0.0)
    with pytest.raises(ValueError, match="at least 4"):
        late_slope([1, 2, 3], [1, 2, 3])


def test_curves_figure_draws_one_line_per_log():
    logs = {}
    for name in ("a", "b"):
        logs[name] = StepLog(CountingObjective(), every=1)
        for _ in range(3):
            logs[name](nn.Linear(1, 1), (torch.zeros(1, 1),))
    fig = curves_figure(logs, keys=("loss", "twice"), title="t", logy=("twice",))
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) == 2
    assert [ax.get_yscale() for ax in fig.axes] == ["linear", "log"]
    assert list(fig.axes[1].lines[0].get_ydata()) == [2.0, 4.0, 6.0]


def test_step_budget_gives_exact_steps_and_even_use():
    x = torch.arange(10.0).view(10, 1)
    y = torch.arange(10)
    xs, ys = step_budget(x, y, steps=7, batch_size=4, generator=torch.Generator().manual_seed(0))
    assert xs.shape == (28, 1) and ys.shape == (28,)
    assert torch.equal(xs[:, 0].long(), ys)  # rows stay aligned
    counts = torch.bincount(ys, minlength=10)
    assert counts.min() == 2 and counts.max() == 3  # 28 rows over 10 images: 2 or 3 uses each
    assert sorted(ys[:10].tolist()) == list(range(10))  # the first pass is a permutation
    small = step_budget(x, steps=2, batch_size=3)[0]  # k < 1: rows dropped, none repeated
    assert len(small) == 6 and len(set(small[:, 0].tolist())) == 6
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(1, 1))
    log = StepLog(CountingObjective(), every=1)
    fit(model, step_budget(x, steps=7, batch_size=4), objective=log, epochs=1, batch_size=4,
        verbose=False)  # fmt: skip
    assert log.steps == 7
    with pytest.raises(ValueError, match="same number of rows"):
        step_budget(x, y[:5], steps=1, batch_size=1)
    with pytest.raises(ValueError, match="whole numbers"):
        step_budget(x, steps=0, batch_size=4)


def test_curves_legend_sits_outside_the_panels():
    logs = {}
    for name in ("a", "b"):
        logs[name] = StepLog(CountingObjective(), every=1)
        logs[name](nn.Linear(1, 1), (torch.zeros(1, 1),))
    fig = curves_figure(logs, keys=("loss", "twice"))
    assert all(ax.get_legend() is None for ax in fig.axes) and len(fig.legends) == 1
