"""WeightSnapshots and log_spaced_steps: the copies are the weights at exactly the listed steps
(checked by replaying the same training for fewer steps), they are copies (later training does
not change them), only the last epochs are kept, and bad input gets a clear error."""

import pytest
import torch

from course_utils.models import LinearAutoencoder
from course_utils.recorders import WeightSnapshots, log_spaced_steps
from course_utils.train import fit


def _train(steps_or_epochs: int, callbacks=()):
    """A small linear AE on fixed data, 4 batches of 8 per epoch; the same run every call."""
    torch.manual_seed(0)
    x = torch.rand(32, 6)
    torch.manual_seed(1)
    model = LinearAutoencoder(n_inputs=6, n_latent=2)
    fit(
        model,
        x,
        epochs=steps_or_epochs,
        batch_size=8,
        lr=1e-2,
        callbacks=list(callbacks),
        verbose=False,
    )
    return model


def test_snapshots_hold_the_weights_after_exactly_the_listed_steps():
    snapshots = WeightSnapshots(at_steps=[1, 4, 6], last_epochs=2)
    final = _train(3, [snapshots])  # 3 epochs x 4 batches = 12 steps
    assert sorted(snapshots.states) == [1, 4, 6]
    after_one_epoch = _train(1)  # step 4 is the end of epoch 1
    for name, w in after_one_epoch.state_dict().items():
        assert torch.equal(snapshots.states[4][name], w)
    assert not torch.equal(
        snapshots.states[1]["decoder.weight"], snapshots.states[4]["decoder.weight"]
    )
    # the last two epoch ends: after epochs 2 and 3 (steps 8 and 12); the last is the final model
    assert len(snapshots.epoch_states) == 2
    after_two_epochs = _train(2)
    assert torch.equal(
        snapshots.epoch_states[0]["encoder.weight"], after_two_epochs.encoder.weight.detach()
    )
    assert torch.equal(snapshots.epoch_states[-1]["decoder.weight"], final.decoder.weight.detach())


def test_snapshots_are_copies_not_views_and_default_keeps_nothing():
    snapshots, empty = WeightSnapshots(at_steps=[2]), WeightSnapshots()
    model = _train(2, [snapshots, empty])
    assert not torch.equal(snapshots.states[2]["decoder.weight"], model.decoder.weight.detach())
    assert snapshots.states[2]["decoder.weight"].device.type == "cpu"
    assert len(snapshots.epoch_states) == 0 and empty.states == {} and len(empty.epoch_states) == 0


def test_log_spaced_steps_runs_from_1_to_last_without_repeats():
    steps = log_spaced_steps(6042, n=60)
    assert steps[0] == 1 and steps[-1] == 6042
    assert steps == sorted(set(steps)) and 40 < len(steps) <= 60
    gaps = [
        b / a for a, b in zip(steps[len(steps) // 2 :], steps[len(steps) // 2 + 1 :], strict=False)
    ]
    assert max(gaps) / min(gaps) < 1.1  # evenly spaced on a log scale once rounding stops merging
    assert log_spaced_steps(1, n=5) == [1]


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: WeightSnapshots(at_steps=[0, 5]), "at_steps"),
        (lambda: WeightSnapshots(at_steps=[2.5]), "at_steps"),
        (lambda: WeightSnapshots(last_epochs=-1), "last_epochs"),
        (lambda: log_spaced_steps(0), "last_step"),
        (lambda: log_spaced_steps(100, n=1), "n, a whole number >= 2"),
    ],
)
def test_bad_input_says_what_was_expected_and_received(call, words):
    with pytest.raises(ValueError, match="expects") as info:
        call()
    assert words in str(info.value) and "received" in str(info.value)
