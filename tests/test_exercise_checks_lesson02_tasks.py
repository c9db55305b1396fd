"""Exercise 02's tasks on the centred stacked AE, dead units and the validation threshold.

Each check is tested both ways: the right answer passes (several times: the checks draw fresh
random inputs every call), and typical wrong answers, written here as plain code, fail with the
reason that names their mistake, in English and in Vietnamese. The generated stubs ("not
attempted") are covered by test_exercise_checks_notebooks.py on the real exercise notebook.
"""

import pytest
import torch
from torch import nn

from course_utils import exercise_checks as ec
from course_utils.exercise_checks import lesson02

# ----------------------------------------------------------------- the centred stacked AE


class CentredStackedAE(nn.Module):
    """The solution: 784-128-32-128-784, centred input, output bias at logit(mean)."""

    def __init__(self, input_mean, centre=True, logit=True, eps=1e-3, buffer=True, sigmoid=True):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 32))
        self.decoder = nn.Sequential(nn.Linear(32, 128), nn.ReLU(), nn.Linear(128, 784))
        mean = input_mean.flatten()
        if buffer:
            self.register_buffer("input_mean", mean.clone())
        else:
            self.input_mean = nn.Parameter(mean.clone())
        self.centre, self.sigmoid = centre, sigmoid
        with torch.no_grad():
            if logit:
                start = torch.logit(mean, eps=eps) if eps is not None else torch.logit(mean)
                self.decoder[2].bias.copy_(start)
            elif logit is None:
                self.decoder[2].bias.copy_(mean)

    def encode(self, x):
        x = x.flatten(1)
        return self.encoder(x - self.input_mean if self.centre else x)

    def decode(self, z):
        out = self.decoder(z)
        return torch.sigmoid(out) if self.sigmoid else out

    def forward(self, x):
        return self.decode(self.encode(x)).view_as(x)


def variant(**options):
    return lambda input_mean: CentredStackedAE(input_mean, **options)


class NoReluModule(CentredStackedAE):
    def __init__(self, input_mean):
        super().__init__(input_mean)
        self.encoder = nn.Sequential(nn.Linear(784, 128), nn.Sigmoid(), nn.Linear(128, 32))


class FunctionalRelu(CentredStackedAE):
    def __init__(self, input_mean):
        super().__init__(input_mean)
        self.encoder = nn.Sequential(nn.Linear(784, 128), nn.Linear(128, 32))


def from_the_package(input_mean):
    from course_utils.models import DenseAutoencoder

    return DenseAutoencoder(784, hidden=(128,), n_latent=32, input_mean=input_mean)


class Stub(nn.Module):
    def __init__(self, input_mean):
        super().__init__()
        raise NotImplementedError()


CENTRED_CASES = [
    (CentredStackedAE, None),
    (variant(eps=1e-4), None),  # another clamp is fine: only never-lit pixels move
    (variant(centre=False), "not centred"),
    (variant(logit=False), "output bias start wrong"),  # PyTorch's random start left in place
    (variant(logit=None), "logit missing"),
    (variant(eps=None), "logit not clamped"),
    (variant(buffer=False), "input_mean not a buffer"),
    (variant(sigmoid=False), "sigmoid missing"),
    (NoReluModule, "encoder layout"),
    (FunctionalRelu, "encoder layout"),
    (from_the_package, "calls course_utils.models.mlp"),
    (Stub, "not attempted"),
]


@pytest.mark.parametrize(("answer", "note"), CENTRED_CASES)
def test_check_centred_ae(answer, note):
    for _ in range(2 if note is None else 1):
        result = ec.check_centred_ae(answer)
        if note is None:
            assert result.passed, result.message
            assert "209,968" in result.en and "209,968" in result.vi
        elif note == "not attempted":
            assert result.status == "not attempted"
        else:
            assert result.status == "wrong" and result.note == note, (result.note, result.en)
            assert result.en != result.vi and result.vi


def test_centred_ae_zero_output_bias_is_named():
    class ZeroBias(CentredStackedAE):
        def __init__(self, input_mean):
            super().__init__(input_mean)
            with torch.no_grad():
                self.decoder[2].bias.zero_()

    result = ec.check_centred_ae(ZeroBias)
    assert result.note == "output bias not started", result.en


# ------------------------------------------------------------------------- dead units


def count_dead_units(model, x):
    """The solution: first-layer units whose ReLU output is 0 on every image of x."""
    with torch.no_grad():
        h = torch.relu(model.encoder[0](x.flatten(1) - model.input_mean))  # (N, width)
    return int((h == 0).all(dim=0).sum())


def first_layer(model, x, centre=True):
    x = x.flatten(1)
    with torch.no_grad():
        return model.encoder[0](x - model.input_mean if centre else x)


DEAD_CASES = [
    (count_dead_units, None),
    (lambda m, x: (first_layer(m, x) <= 0).all(dim=0).sum(), None),  # a tensor is fine
    (lambda m, x: int((first_layer(m, x) < 0).all(dim=0).sum()), "strict inequality"),
    (lambda m, x: int((first_layer(m, x, False) <= 0).all(dim=0).sum()), "not centred"),
    (lambda m, x: int((first_layer(m, x) <= 0).any(dim=0).sum()), "per image, not over the batch"),
    (lambda m, x: int((first_layer(m, x) <= 0).all(dim=1).sum()), "reduced over the units"),
    (lambda m, x: int((torch.relu(first_layer(m, x)) >= 0).all(dim=0).sum()), "ReLU output >= 0"),
    (lambda m, x: int((first_layer(m, x) > 0).any(dim=0).sum()), "counted live units"),
    (lambda m, x: int((m.encode(x) <= 0).all(dim=0).sum()), "wrong layer (code)"),
    (
        lambda m, x: int((m.decoder[:2](m.encode(x)) == 0).all(dim=0).sum()),
        "wrong layer (decoder)",
    ),
    (
        lambda m, x: sum(
            int(d.sum()) for d in __import__("course_utils.models").models.dead_units(m, x)
        ),
        "calls course_utils.models.dead_units",
    ),
]


@pytest.mark.parametrize(("answer", "note"), DEAD_CASES)
def test_check_count_dead_units(answer, note):
    for _ in range(5):  # fresh planted models each time: every mistake is told apart every time
        result = ec.check_count_dead_units(answer)
        if note is None:
            assert result.passed, result.message
        else:
            assert result.status == "wrong" and result.note == note, (result.note, result.en)
            assert result.en != result.vi and result.vi


def test_planted_models_hold_what_they_promise():
    """The reference agrees with the package's dead_units, and every planted state occurs."""
    from course_utils.models import dead_units

    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        x = torch.rand(50, 1, 5, 5, generator=g)
        model = lesson02._planted_model(g, x)
        with torch.no_grad():
            a = lesson02._hidden_layers(model, x)
        encoder_mask, decoder_mask = dead_units(model, x)
        assert lesson02._dead(a["first"]) == int(encoder_mask.sum())
        assert lesson02._dead(a["decoder"]) == int(decoder_mask.sum())
        assert int((a["first"] == 0).all(dim=0).sum()) == 1  # the unit whose input is exactly 0
        assert int(((a["first"] > 0).sum(dim=0) == 1).sum()) >= 1  # live on exactly one image
        assert lesson02._dead(a["raw"]) > lesson02._dead(a["first"])  # dead on raw pixels only


# ------------------------------------------------------------------ a threshold on validation


def threshold_at_false_alarm(valid_errors, test_errors, rate=0.05):
    """The solution: the (1 - rate) quantile of the validation errors; test share >= it."""
    threshold = torch.quantile(valid_errors, 1 - rate).item()
    return threshold, (test_errors >= threshold).float().mean().item()


def sorted_index(valid_errors, test_errors, rate=0.05):  # another usual quantile rule
    ordered = valid_errors.sort().values
    threshold = ordered[int((1 - rate) * len(ordered))].item()
    return threshold, (test_errors >= threshold).float().mean().item()


def with_threshold(pick, measure):
    def answer(valid_errors, test_errors, rate=0.05):
        threshold = pick(valid_errors, test_errors, rate)
        return threshold, measure(valid_errors, test_errors, threshold)

    return answer


def on_valid(v, t, rate):
    return torch.quantile(v, 1 - rate).item()


def on_test(v, t, rate):
    return torch.quantile(t, 1 - rate).item()


def share_at_least(v, t, threshold):
    return (t >= threshold).float().mean().item()


THRESHOLD_CASES = [
    (threshold_at_false_alarm, None),
    (sorted_index, None),
    (with_threshold(on_test, share_at_least), "set on the test errors"),
    (
        with_threshold(lambda v, t, r: torch.quantile(v, r).item(), share_at_least),
        "quantile direction",
    ),
    (
        with_threshold(lambda v, t, r: torch.quantile(v, 0.95).item(), share_at_least),
        "rate ignored",
    ),
    (
        with_threshold(on_valid, lambda v, t, th: (t > th).float().mean().item()),
        "> instead of >=",
    ),
    (
        with_threshold(on_valid, lambda v, t, th: (v >= th).float().mean().item()),
        "measured on validation",
    ),
    (
        with_threshold(on_valid, lambda v, t, th: (t < th).float().mean().item()),
        "share kept, not flagged",
    ),
    (with_threshold(on_valid, lambda v, t, th: int((t >= th).sum())), "a count, not a share"),
    (lambda v, t, rate=0.05: torch.quantile(v, 1 - rate).item(), "wrong return value"),
]


@pytest.mark.parametrize(("answer", "note"), THRESHOLD_CASES)
def test_check_threshold_at_false_alarm(answer, note):
    for _ in range(5):
        result = ec.check_threshold_at_false_alarm(answer)
        if note is None:
            assert result.passed, result.message
        else:
            assert result.status == "wrong" and result.note == note, (result.note, result.en)
            assert result.en != result.vi and result.vi


def test_threshold_check_plants_ties_on_the_threshold():
    """The tie case puts the quantile ON a tied value that many test errors share, so that > and
    >= give different rates whatever quantile rule the student uses."""
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        valid, test = lesson02._error_sets(g, ties=True, rate=0.1)
        low, high = lesson02._order_stats(valid, 0.9)
        assert low == high
        assert (test == low).sum() >= len(test) // 8


def test_stubs_are_not_attempted():
    def stub(*args):
        raise NotImplementedError()

    assert ec.check_count_dead_units(stub).status == "not attempted"
    assert ec.check_threshold_at_false_alarm(stub).status == "not attempted"
