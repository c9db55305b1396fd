"""course_utils.train: the one training loop."""

import pytest
import torch
from torch import nn

from course_utils.losses import mse_loss
from course_utils.models import LinearAutoencoder
from course_utils.train import Callback, NonFiniteLossError, evaluate, fit


def _data(n=256, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 4, 4, generator=g)


def test_loss_goes_down_and_history_has_a_row_per_epoch():
    torch.manual_seed(0)
    model = LinearAutoencoder(16, 4)
    x = _data()
    before = evaluate(model, x)["loss"]
    hist = fit(model, x, x[:64], epochs=5, lr=1e-2, batch_size=32, verbose=False)
    assert hist["epoch"] == [1, 2, 3, 4, 5]
    assert hist.last("train_loss") < 0.5 * before
    assert hist["valid_loss"][-1] < hist["valid_loss"][0]
    assert all(row["seconds"] >= 0 for row in hist.rows)


def test_one_summary_line_per_epoch(capsys):
    fit(LinearAutoencoder(16, 2), _data(64), epochs=3, batch_size=32, verbose=True)
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("epoch")]
    assert len(lines) == 3 and lines[-1].startswith("epoch   3/3")


def test_nan_guard_says_where_and_what_to_try():
    calls = {"n": 0}

    def loss_fn(model, batch):
        calls["n"] += 1
        loss = mse_loss(model(batch[0]), batch[0])
        return loss * float("nan") if calls["n"] == 3 else loss

    with pytest.raises(NonFiniteLossError, match=r"nan at epoch 1, batch 3 of 8.*learning rate"):
        fit(LinearAutoencoder(16, 2), _data(256), loss_fn=loss_fn, batch_size=32, verbose=False)


def test_infinite_loss_is_caught_too():
    def loss_fn(model, batch):
        return model(batch[0]).sum() * float("inf")

    with pytest.raises(NonFiniteLossError, match="inf at epoch 1, batch 1"):
        fit(LinearAutoencoder(16, 2), _data(64), loss_fn=loss_fn, verbose=False)


def test_extras_are_logged_and_evaluate_is_a_true_mean():
    def loss_fn(model, batch):
        loss = mse_loss(model(batch[0]), batch[0])
        return loss, {"double": 2 * loss}

    model = LinearAutoencoder(16, 2)
    x = _data(100)
    hist = fit(model, x, x, loss_fn=loss_fn, epochs=1, verbose=False)
    assert hist.last("train_double") == pytest.approx(2 * hist.last("train_loss"))
    result = evaluate(model, x, loss_fn, batch_size=33)  # uneven batches: weighted mean
    with torch.no_grad():
        assert result["loss"] == pytest.approx(mse_loss(model(x), x).item(), rel=1e-5)
    assert result["double"] == pytest.approx(2 * result["loss"], rel=1e-6)


def test_noisy_input_clean_target_pairs():
    noisy, clean = _data(64, seed=1), _data(64, seed=2)
    model = LinearAutoencoder(16, 16)
    fit(model, (noisy, clean), epochs=30, lr=1e-2, verbose=False)
    with torch.no_grad():
        assert mse_loss(model(noisy), clean) < mse_loss(model(noisy), noisy)  # learned the target


def test_grad_clip_limits_each_step():
    x = _data(64)

    def run(clip):
        torch.manual_seed(0)
        model = LinearAutoencoder(16, 2)
        start = [p.detach().clone() for p in model.parameters()]
        opt = torch.optim.SGD(model.parameters(), lr=1.0)
        fit(model, x, epochs=1, batch_size=64, optimizer=opt, grad_clip=clip, verbose=False)
        moved = [
            (p.detach() - s).norm() ** 2 for p, s in zip(model.parameters(), start, strict=True)
        ]
        return sum(moved).item()

    assert run(1e-3) ** 0.5 == pytest.approx(1e-3, rel=1e-3)  # one SGD step of norm lr * clip
    assert run(None) ** 0.5 > 0.1


def test_callbacks_are_called_and_can_stop_training():
    class Recorder(Callback):
        def __init__(self):
            self.events = []

        def on_epoch_start(self, state):
            self.events.append(("start", state.epoch))

        def on_batch_end(self, state):
            self.events.append(("batch", state.step))

        def on_epoch_end(self, state):
            self.events.append(("end", state.epoch))
            state.stop = state.epoch == 2

    rec = Recorder()
    hist = fit(
        LinearAutoencoder(16, 2),
        _data(64),
        epochs=10,
        batch_size=32,
        callbacks=[rec],
        verbose=False,
    )
    assert len(hist.rows) == 2
    assert rec.events == [
        ("start", 1),
        ("batch", 1),
        ("batch", 2),
        ("end", 1),
        ("start", 2),
        ("batch", 3),
        ("batch", 4),
        ("end", 2),
    ]


def test_same_seed_same_result():
    def run():
        torch.manual_seed(0)
        model = LinearAutoencoder(16, 2)
        return fit(model, _data(), epochs=2, seed=5, verbose=False).last("train_loss")

    assert run() == run()


def test_model_device_is_used():
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 16), nn.Unflatten(1, (1, 4, 4)))
    hist = fit(model, _data(32), epochs=1, verbose=False)  # cpu tensors on a cpu model
    assert hist.rows and next(model.parameters()).device.type == "cpu"
