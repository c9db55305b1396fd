"""course_utils.denoising: the objective, the PSNR table, figures and the view (lesson 04)."""

import pytest
import torch
from torch import nn

from course_utils.denoising import (
    DenoisingObjective,
    SkipDenoisingAutoencoder,
    denoise,
    denoising_field_figure,
    denoising_figure,
    denoising_view,
    psnr_curves_figure,
    psnr_table,
)
from course_utils.models import DenseAutoencoder
from course_utils.plots import NotebookFigure, history_figure
from course_utils.train import evaluate, fit


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


IMAGES = torch.rand(64, 1, 28, 28, generator=gen(123))


def _small_model():
    torch.manual_seed(0)
    return DenseAutoencoder(784, hidden=(32,), n_latent=8)


def test_denoising_objective_corrupts_on_the_fly_and_fixes_validation_noise():
    model = _small_model()
    seen = []
    model.register_forward_pre_hook(lambda m, inp: seen.append(inp[0].clone()))
    objective = DenoisingObjective({"masking": (0.5, 0.5)}, seed=0)
    clean = torch.ones(8, 1, 28, 28)
    objective(model, (clean,))
    objective(model, (clean,))
    assert not torch.equal(seen[0], seen[1])  # fresh noise every training step
    assert 0.4 < (seen[0] == 0).float().mean() < 0.6
    model.eval()
    loss_a, _ = objective(model, (clean,))
    loss_b, _ = objective(model, (clean,))
    assert torch.equal(seen[-1], seen[-2]) and loss_a == loss_b  # eval: the same noise
    assert torch.isclose(loss_a, ((model(seen[-1]) - clean) ** 2).flatten(1).sum(1).mean())


def test_denoising_objective_relative_divides_by_the_damage_of_the_noisy_input():
    model = _small_model().eval()
    seen = []
    model.register_forward_pre_hook(lambda m, inp: seen.append(inp[0].clone()))
    clean = torch.rand(4, 1, 28, 28, generator=gen(5))
    plain = DenoisingObjective({"gaussian": (0.3, 0.3)}, valid_noise=("gaussian", 0.3))
    relative = DenoisingObjective({"gaussian": (0.3, 0.3)}, valid_noise=("gaussian", 0.3),
                                  relative=True)  # fmt: skip
    loss, _ = plain(model, (clean,))
    rel, _ = relative(model, (clean,))
    damage = ((seen[-1] - clean) ** 2).flatten(1).sum(1).mean()  # the same eval noise both times
    assert torch.equal(seen[-1], seen[-2]) and damage > 1.0
    assert torch.isclose(rel, loss / damage)
    assert torch.isclose(relative(nn.Identity(), (clean,))[0], torch.tensor(1.0))  # copying: 1
    floored = DenoisingObjective({"gaussian": (0.0, 0.0)}, relative=True, min_damage=2.0)
    assert torch.isclose(floored(model, (clean,))[0], plain_sse(model, clean) / 2.0)


def plain_sse(model, clean):
    return ((model(clean) - clean) ** 2).flatten(1).sum(1).mean()


def test_denoising_objective_valid_noise_sets_kind_and_level_in_eval_mode():
    model = _small_model().eval()
    seen = []
    model.register_forward_pre_hook(lambda m, inp: seen.append(inp[0].clone()))
    objective = DenoisingObjective({"masking": (0.9, 0.9)}, valid_noise=("gaussian", 0.0))
    clean = torch.rand(4, 1, 28, 28)
    objective(model, (clean,))
    assert torch.equal(seen[-1], clean)  # Gaussian noise of std 0, not 90% masking
    with pytest.raises(ValueError, match="noise kinds"):
        DenoisingObjective({"blur": (0.1, 0.2)})


def test_fit_with_denoising_objective_lowers_the_loss():
    model = _small_model()
    clean = IMAGES.round()
    history = fit(model, clean, objective=DenoisingObjective({"gaussian": (0.0, 0.3)}),
                  epochs=3, batch_size=16, lr=1e-2, verbose=False)  # fmt: skip
    assert history["train_loss"][-1] < history["train_loss"][0]


def test_relative_loss_is_recorded_and_printed_as_a_damage_ratio(capsys):
    objective = DenoisingObjective({"gaussian": (0.2, 0.3)}, valid_noise=("gaussian", 0.3),
                                   relative=True)  # fmt: skip
    assert objective.loss_name == "damage_ratio"
    model = _small_model()
    history = fit(model, IMAGES[:32], IMAGES[32:], objective=objective, epochs=2, batch_size=16,
                  verbose=True)  # fmt: skip
    assert history.loss_name == "damage_ratio"
    columns = set(history.rows[-1])
    assert {"train_damage_ratio", "valid_damage_ratio"} <= columns
    assert not {"train_loss", "valid_loss"} & columns  # never a "loss" that reads like an SSE
    assert "train_damage_ratio" in capsys.readouterr().out
    scores = evaluate(model, IMAGES[32:], objective)
    assert list(scores) == ["damage_ratio"] and 0 < scores["damage_ratio"] < 2
    with pytest.raises(KeyError, match="'valid_loss'.*recorded as 'damage_ratio'"):
        history.last("valid_loss")
    fig = history_figure(history)  # "loss" stands for the damage ratio here
    assert fig.axes[0].get_ylabel() == "damage_ratio" and len(fig.axes[0].lines) == 2
    plain = DenoisingObjective({"gaussian": (0.2, 0.3)})
    assert plain.loss_name == "loss"
    assert "train_loss" in fit(model, IMAGES[:16], objective=plain, epochs=1, verbose=False).rows[0]


def _skip_model(trust_bias: float | None = None) -> SkipDenoisingAutoencoder:
    torch.manual_seed(0)
    model = SkipDenoisingAutoencoder(784, hidden=(32,), n_latent=8)
    if trust_bias is not None:  # force the trust map t: bias +-30 saturates the sigmoid
        last = model.decoder[-1]
        with torch.no_grad():
            last.weight[784:] = 0.0
            last.bias[784:] = trust_bias
    return model


def test_skip_dae_shapes_and_range():
    model = _skip_model()
    x = IMAGES[:5]
    assert model.encode(x).shape == (5, 8)
    r, t = model.decode(model.encode(x))
    assert r.shape == t.shape == (5, 784) and bool(((t > 0) & (t < 1)).all())
    out = model(x)
    assert out.shape == x.shape and model(x.flatten(1)).shape == (5, 784)
    assert bool(((out >= 0) & (out <= 1)).all())
    assert torch.allclose(out, (t * x.flatten(1) + (1 - t) * r).view_as(x))
    assert model.reconstruct(x).shape == x.shape


def test_skip_dae_skip_path_reaches_the_output():
    x = IMAGES[:4].clone().requires_grad_(True)
    # trust 1 everywhere: the output IS the noisy input, whatever the code says
    assert torch.allclose(_skip_model(trust_bias=30.0)(x), x, atol=1e-6)
    # trust 0 everywhere: only the code path is left, and it is `reconstruct`
    closed = _skip_model(trust_bias=-30.0)
    assert torch.allclose(closed(x), closed.reconstruct(x), atol=1e-6)
    # cut the code path (encoder weights 0: the code no longer depends on x): the input still
    # reaches the output through the skip, pixel by pixel, with weight t
    model = _skip_model()
    with torch.no_grad():
        model.encoder[0].weight.zero_()
    out = model(x)
    out[0, 0, 5, 5].backward()
    _, t = model.decode(model.encode(x[:1]))
    grad = x.grad[0, 0]  # (28, 28): d output(5, 5) / d input
    assert torch.isclose(grad[5, 5], t[0, 5 * 28 + 5]) and grad[5, 5] > 0
    assert grad.abs().sum() == grad[5, 5].abs()  # no other pixel matters


def test_skip_dae_trains_with_the_denoising_objective():
    model = _skip_model()
    history = fit(model, IMAGES.round(), objective=DenoisingObjective({"gaussian": (0.0, 0.3)}),
                  epochs=3, batch_size=16, lr=1e-2, verbose=False)  # fmt: skip
    assert history["train_loss"][-1] < history["train_loss"][0]


def test_wrong_image_shape_into_the_model_says_expected_and_received():
    with pytest.raises(ValueError, match=r"or \(B, 1, 28, 28\), but received .*\(4, 1, 14, 14\)"):
        denoise(_small_model(), torch.rand(4, 1, 14, 14))


def test_psnr_table_and_curves():
    model = _small_model()
    levels = {"gaussian": (0.1, 0.3), "masking": (0.2,), "salt_and_pepper": (0.1,)}
    rows = psnr_table(model, IMAGES[:16], IMAGES[16:32], levels, seed=0)
    expected = [("gaussian", 0.1), ("gaussian", 0.3), ("masking", 0.2), ("salt_and_pepper", 0.1)]
    assert [(r["kind"], r["level"]) for r in rows] == expected
    assert rows == psnr_table(model, IMAGES[:16], IMAGES[16:32], levels, seed=0)  # reproducible
    assert rows[0]["noisy"] > rows[1]["noisy"]  # more noise, lower PSNR
    fig = psnr_curves_figure(rows, title="t")
    assert isinstance(fig, NotebookFigure) and len(fig.axes) == 3
    assert [ln.get_label() for ln in fig.axes[0].lines][0] == "denoising AE"
    assert list(fig.axes[0].lines[0].get_xdata()) == [0.1, 0.3]


def test_denoising_figure_and_view_driven_like_a_student():
    model, clean = _small_model(), IMAGES[:5]
    fig = denoising_figure(model, clean, "salt_and_pepper", 0.2)
    assert len([ax for ax in fig.axes if ax.images]) == 15
    assert [fig.axes[i].get_ylabel() for i in (0, 5, 10)] == ["noisy input", "denoised",
                                                              "clean target"]  # fmt: skip
    assert "salt_and_pepper, level 0.20" in fig._suptitle.get_text()
    view = denoising_view(model, clean, kind="gaussian", level=0.1)
    first = view.figure
    assert "gaussian, level 0.10" in first._suptitle.get_text()
    view.controls["level"].value = 0.5
    assert view.figure is not first and "level 0.50" in view.figure._suptitle.get_text()
    view.controls["kind"].value = "masking"
    assert view.figure._suptitle.get_text().startswith("masking, level 0.50")
    assert view.controls["level"].continuous_update is False


def test_plot_denoising_field_draws_arrows():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
    pts = torch.randn(50, 2)
    fig = denoising_field_figure(net, pts, pts + 0.1, n_grid=5)
    assert isinstance(fig, NotebookFigure) and len(fig.axes[0].collections) == 3
