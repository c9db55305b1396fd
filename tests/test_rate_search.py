"""course_utils.rate_search: paired z by hand, the rate rule with a fake trainer, bad inputs."""

import math

import pytest
import torch
from torch import nn

from course_utils.rate_search import Z_NOISE, LogEvery, Recipe, paired_z, search_rates, z_word


def test_paired_z_matches_a_hand_computation():
    a = torch.tensor([3.0, 5.0, 4.0, 6.0])
    b = torch.tensor([1.0, 2.0, 2.0, 2.0])
    # gaps 2, 3, 2, 4: mean 2.75; sample variance ((.75)^2 + (.25)^2 + (.75)^2 + (1.25)^2) / 3
    sd = math.sqrt((0.5625 + 0.0625 + 0.5625 + 1.5625) / 3)
    assert paired_z(a, b) == pytest.approx(2.75 / (sd / 2))
    assert paired_z(b, a) == pytest.approx(-2.75 / (sd / 2))
    assert paired_z(a, a) == 0.0
    assert paired_z(a + 1, a) == math.inf  # the same gap on every image: no noise


@pytest.mark.parametrize("b", [torch.ones(3), torch.ones(1)])
def test_paired_z_rejects_unpaired_errors(b):
    with pytest.raises(ValueError, match="same length"):
        paired_z(torch.ones(1) if len(b) == 1 else torch.ones(4), b)


def _fake_search(errors: dict[float, torch.Tensor], rates=None):
    """search_rates with a fake trainer: the 'model' trained at lr IS its (N,) error vector."""
    trained = []

    def train_at(lr):
        trained.append(lr)
        return (errors[lr], f"history at {lr}")

    runs, kept = search_rates("fake", train_at, rates or list(errors), torch.zeros(5),
                              error=lambda model, x: model)  # fmt: skip
    assert sorted(trained) == sorted(runs) == sorted(errors)
    return runs, kept


def test_keeps_the_lowest_rate_within_the_noise_of_the_best():
    base = torch.linspace(0, 1, 400)
    noise = 0.05 * torch.cos(torch.arange(400.0)) + 0.0005  # image-to-image noise, mean > 0
    errors = {0.01: base + noise, 0.02: base - noise, 0.04: base + 1.0}  # 0.02 is the best
    assert errors[0.02].mean() < errors[0.01].mean()
    assert 0 < paired_z(errors[0.01], errors[0.02]) <= 2  # but the lowest rate is within the noise
    runs, kept = _fake_search(errors)
    assert kept == 0.01 and runs[kept][1] == "history at 0.01"


def test_keeps_the_best_when_the_others_are_clearly_worse(capsys):
    base = torch.linspace(0, 1, 100)
    errors = {0.01: base + 0.5, 0.02: base, 0.04: base + 0.3 + 0.01 * torch.cos(base * 50)}
    _, kept = _fake_search(errors)
    assert kept == 0.02
    assert "kept: 0.02, the best itself" in capsys.readouterr().out


def test_an_edge_best_is_printed_as_unbracketed(capsys):
    base = torch.linspace(0, 1, 100)
    errors = {0.01: base + 0.5 + 0.01 * torch.sin(base * 9), 0.02: base + 0.1, 0.04: base}
    _, kept = _fake_search(errors)
    assert kept == 0.04 and "unbracketed, at the high edge" in capsys.readouterr().out


@pytest.mark.parametrize("rates", [[], [0.01, 0.01], [0.0, 0.01], [-0.01]])
def test_bad_rates_get_a_clear_error(rates):
    with pytest.raises(ValueError, match="distinct positive learning rates"):
        search_rates("bad", lambda lr: (None,), rates, torch.zeros(3))


def test_log_every_rejects_zero_steps():
    with pytest.raises(ValueError, match="every >= 1"):
        LogEvery(torch.zeros(2, 4), 0)


def test_recipe_trains_from_the_seed_and_logs_a_curve():
    x = torch.rand(64, 4)
    recipe = Recipe(x, x[:16], epochs=2, batch_size=16, warmup_steps=2, log_every=3, verbose=False)
    build = lambda: nn.Sequential(nn.Linear(4, 2), nn.Linear(2, 4))  # noqa: E731
    m1, history, curve = recipe.train(build, 1e-2)
    m2, _, _ = recipe.train(build, 1e-2)
    m3, _, _ = recipe.train(build, 1e-2, run_seed=1)
    assert not m1.training and len(history["valid_loss"]) == 2
    assert [step for step, _ in curve] == [3, 6]  # 8 steps, a point every 3
    assert torch.equal(m1[0].weight, m2[0].weight) and not torch.equal(m1[0].weight, m3[0].weight)


@pytest.mark.parametrize(
    ("z", "word"),
    [(5.0, "up"), (2.01, "up"), (2.0, "same"), (0.0, "same"), (-2.0, "same"), (-2.01, "down"),
     (-math.inf, "down"), (math.inf, "up")],
)  # fmt: skip
def test_z_word_branches_and_the_boundary(z, word):
    assert z_word(z, lower="down", higher="up", tie="same") == word


def test_z_word_defaults_and_threshold():
    assert (z_word(3), z_word(-3), z_word(1.5)) == ("higher", "lower", "within the noise of")
    # a mutated threshold (e.g. 1 instead of Z_NOISE = 2) would call z = 1.5 higher: it must not
    assert Z_NOISE == 2.0 and z_word(1.5) == z_word(-1.5) == "within the noise of"
    assert z_word(Z_NOISE + 1e-9) == "higher" and z_word(-Z_NOISE - 1e-9) == "lower"


@pytest.mark.parametrize("z", [float("nan"), "3", None])
def test_z_word_rejects_a_non_number(z):
    with pytest.raises(ValueError, match="z as a number"):
        z_word(z)


def test_recipe_passes_an_objective_to_fit():
    x = torch.rand(32, 4)
    recipe = Recipe(x, x[:8], epochs=1, batch_size=8, warmup_steps=1, log_every=2, verbose=False)
    build = lambda: nn.Sequential(nn.Linear(4, 4))  # noqa: E731
    calls = []

    def objective(model, batch):
        calls.append(model.training)
        return (model(batch[0]) - batch[0]).pow(2).sum(dim=1).mean(), {}

    recipe.train(build, 1e-2, objective=objective)
    assert calls.count(True) == 4  # 4 training steps through the objective (and validation too)
