"""course_utils.train: the one training loop."""

import re

import pytest
import torch
from torch import nn

from course_utils.inputs import InputError
from course_utils.losses import mean_sse_per_image
from course_utils.models import LinearAutoencoder
from course_utils.train import (
    Callback,
    NonFiniteLossError,
    ReconstructionObjective,
    eval_mode,
    evaluate,
    fit,
    predict,
)


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

    def objective(model, batch):
        calls["n"] += 1
        loss = mean_sse_per_image(model(batch[0]), batch[0])
        return (loss * float("nan") if calls["n"] == 3 else loss), {}

    with pytest.raises(NonFiniteLossError, match=r"nan at epoch 1, batch 3 of 8.*learning rate"):
        fit(LinearAutoencoder(16, 2), _data(256), objective=objective, batch_size=32, verbose=False)


def test_infinite_loss_is_caught_too():
    def objective(model, batch):
        return model(batch[0]).sum() * float("inf"), {}

    with pytest.raises(NonFiniteLossError, match="inf at epoch 1, batch 1"):
        fit(LinearAutoencoder(16, 2), _data(64), objective=objective, verbose=False)


def test_extras_are_logged_and_evaluate_is_a_true_mean():
    def objective(model, batch):
        loss = mean_sse_per_image(model(batch[0]), batch[0])
        return loss, {"double": 2 * loss}

    model = LinearAutoencoder(16, 2)
    x = _data(100)
    hist = fit(model, x, x, objective=objective, epochs=1, verbose=False)
    assert hist.last("train_double") == pytest.approx(2 * hist.last("train_loss"))
    result = evaluate(model, x, objective, batch_size=33)  # uneven batches: weighted mean
    with torch.no_grad():
        assert result["loss"] == pytest.approx(mean_sse_per_image(model(x), x).item(), rel=1e-5)
    assert result["double"] == pytest.approx(2 * result["loss"], rel=1e-6)


def test_the_old_loss_fn_keyword_still_works_with_a_warning():
    torch.manual_seed(0)
    model, x = LinearAutoencoder(16, 2), _data(64)
    objective = ReconstructionObjective()
    message = re.escape("fit(..., loss_fn=...) is deprecated; use fit(..., objective=...)")
    with pytest.warns(DeprecationWarning, match=message):
        old = fit(model, x, loss_fn=objective, epochs=1, seed=3, verbose=False)
    torch.manual_seed(0)
    new = fit(LinearAutoencoder(16, 2), x, objective=objective, epochs=1, seed=3, verbose=False)
    assert old.last("train_loss") == new.last("train_loss")
    with pytest.raises(InputError, match="objective once.*both objective= and loss_fn="):
        fit(model, x, objective=objective, loss_fn=objective, verbose=False)


def test_an_objective_can_name_its_loss():
    class Ratio(ReconstructionObjective):
        loss_name = "ratio"

    model, x = LinearAutoencoder(16, 2), _data(64)
    history = fit(model, x, x[:16], objective=Ratio(), epochs=2, verbose=False)
    assert history.loss_name == "ratio" and set(history.rows[0]) == {
        "epoch", "train_ratio", "valid_ratio", "seconds"
    }  # fmt: skip
    assert history["train_loss"] == [] and list(evaluate(model, x, Ratio())) == ["ratio"]
    with pytest.raises(KeyError, match=r"'train_loss'; its columns are .*'train_ratio'"):
        history.last("train_loss")
    Ratio.loss_name = "a ratio"
    with pytest.raises(InputError, match="loss_name to be a plain word .* received 'a ratio'"):
        fit(model, x, objective=Ratio(), verbose=False)


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

        def on_batch_start(self, state):
            self.events.append(("before", state.step))

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
        ("before", 0),
        ("batch", 1),
        ("before", 1),
        ("batch", 2),
        ("end", 1),
        ("start", 2),
        ("before", 2),
        ("batch", 3),
        ("before", 3),
        ("batch", 4),
        ("end", 2),
    ]


def test_same_seed_same_result():
    def run():
        torch.manual_seed(0)
        model = LinearAutoencoder(16, 2)
        return fit(model, _data(), epochs=2, seed=5, verbose=False).last("train_loss")

    assert run() == run()


class DropoutNet(nn.Module):
    """A model whose output is random in training mode and exact in eval mode."""

    def __init__(self):
        super().__init__()
        self.drop, self.scale = nn.Dropout(0.5), nn.Linear(4, 4)

    def forward(self, x):
        return self.scale(self.drop(x))


def test_predict_runs_in_eval_mode_and_restores_training_mode():
    torch.manual_seed(0)
    model = DropoutNet().train()
    x = torch.rand(50, 4)
    first = predict(model, x, batch_size=7)
    second = predict(model, x, batch_size=50)
    assert model.training  # its previous mode is back
    assert torch.allclose(first, second, atol=1e-6)  # no dropout inside: deterministic
    assert not first.requires_grad and first.device.type == "cpu"
    with torch.no_grad():
        assert torch.allclose(first, model.scale(x), atol=1e-6)  # eval mode: dropout is identity
    model.eval()
    predict(model, x)
    assert not model.training  # a model in eval mode stays in eval mode


def test_predict_returns_tuples_column_by_column_and_eval_mode_restores_on_error():
    model = DropoutNet()

    def two_outputs(m, xb):
        return m(xb), xb.sum(dim=1)

    out, sums = predict(model, torch.ones(10, 4), fn=two_outputs, batch_size=3)
    assert out.shape == (10, 4) and torch.equal(sums, torch.full((10,), 4.0))
    with pytest.raises(RuntimeError), eval_mode(model):
        assert not model.training
        raise RuntimeError("boom")
    assert model.training


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (none on this machine)")
def test_predict_moves_cpu_inputs_to_a_cuda_model_and_returns_cpu_results():
    model = DropoutNet().cuda()
    out = predict(model, torch.rand(9, 4), batch_size=4)
    assert out.device.type == "cpu" and out.shape == (9, 4)


def test_fit_trains_on_the_device_of_the_model_not_of_the_data(monkeypatch):
    seen = []
    model = LinearAutoencoder(16, 4)
    model.register_forward_pre_hook(lambda m, inp: seen.append(inp[0].device))
    fake = torch.device("meta")
    monkeypatch.setattr("course_utils.train.model_device", lambda m: fake)
    with pytest.raises((RuntimeError, NotImplementedError, ValueError, TypeError)):
        fit(model, _data(32), epochs=1, verbose=False)  # a CPU model cannot run meta tensors
    assert seen and seen[0] == fake  # the batch was moved to the model's device first


def test_fit_refuses_uint8_images_and_a_vae_without_its_objective():
    x = (_data(32) * 255).to(torch.uint8)
    with pytest.raises(InputError, match=r"uint8.*x.float\(\) / 255"):
        fit(LinearAutoencoder(16, 2), x, epochs=1, verbose=False)

    class TupleModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(16, 16)

        def forward(self, x):
            return self.lin(x.flatten(1)), None

    with pytest.raises(InputError, match="VAEObjective"):
        fit(TupleModel(), _data(32), epochs=1, verbose=False)


def test_keyboard_interrupt_keeps_the_model_and_the_history(capsys):
    class StopAfter(Callback):
        def on_batch_end(self, state):
            if state.epoch == 2 and state.step == 3:
                raise KeyboardInterrupt

    model = LinearAutoencoder(16, 2)
    hist = fit(model, _data(64), epochs=5, batch_size=32, callbacks=[StopAfter()], verbose=False)
    assert hist.interrupted and len(hist.rows) == 1
    assert "interrupted during epoch 2" in capsys.readouterr().out


def test_reconstruction_objective_uses_a_per_image_loss():
    model = LinearAutoencoder(16, 2)
    x = _data(8)
    loss, logs = ReconstructionObjective()(model, (x,))
    assert logs == {}
    with torch.no_grad():
        assert loss.item() == pytest.approx(((model(x) - x) ** 2).flatten(1).sum(1).mean().item())


def test_make_adam_is_adam_with_the_fused_update_where_torch_has_one(monkeypatch):
    from course_utils import train

    model = nn.Linear(3, 2)
    opt = train.make_adam(model, 0.01)
    assert type(opt) is torch.optim.Adam and opt.defaults["lr"] == 0.01
    assert opt.defaults["fused"] is True  # torch >= 2.4 has the fused update on the CPU
    plain = torch.optim.Adam

    def no_fused(params, lr, **kwargs):  # an older torch: fused= is not accepted
        if kwargs.get("fused"):
            raise TypeError("unexpected keyword argument 'fused'")
        return plain(params, lr=lr)

    monkeypatch.setattr(torch.optim, "Adam", no_fused)
    fallback = train.make_adam(model, 0.02)
    assert type(fallback) is plain and not fallback.defaults["fused"]


def test_fit_builds_its_optimizer_with_make_adam(monkeypatch):
    from course_utils import train

    asked = []

    def spy(model, lr):
        asked.append(lr)
        return torch.optim.SGD(model.parameters(), lr=lr)

    monkeypatch.setattr(train, "make_adam", spy)
    train.fit(nn.Linear(4, 4), torch.rand(8, 4), epochs=1, lr=0.003, verbose=False)
    assert asked == [0.003]
