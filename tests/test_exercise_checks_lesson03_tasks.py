"""Exercise 03's tasks on the lesson's own content: the receptive field, the eval trap and the
four parity classes of a stride-2 transposed convolution (``check_receptive_field``,
``check_evaluate_mse``, ``check_parity_sums``).

Each check is tested both ways: the right answer passes, and typical wrong answers (written here
as plain functions) fail with the intended note and a one-line message in English and
Vietnamese. The generated stubs are "not attempted", and the checks' own references are checked
against hand-computed values.
"""

from functools import partial

import pytest
import torch
from helpers import ROOT
from test_exercise_checks_notebooks import _run_graded_cells
from torch import nn

from course_utils import exercise_checks as ec
from course_utils.exercise_checks import lesson03

TASKS = {"receptive_field", "evaluate_mse", "parity_sums"}

# ------------------------------------------------------------------------ receptive field


def receptive_field(layers, start=1, jump_first=False, use_jump=True):
    size, jump = start, 1
    for k, s in layers:
        if jump_first:
            jump *= s
        size += (k - 1) * (jump if use_jump else 1)
        if not jump_first:
            jump *= s
    return size, jump


def receptive_field_product(layers):  # multiplies the kernels: wrong whenever a stride is 1
    size, jump = 1, 1
    for k, s in layers:
        size, jump = size * k, jump * s
    return size, jump


def receptive_field_course(layers):  # the course's helper (on nn layers): forbidden
    from course_utils.conv_probes import receptive_field as course

    convs = [nn.Conv2d(1, 1, k, s) for k, s in layers]
    first, last = course(convs, cell=0, image_size=10_000)
    return last - first + 1, 1


# ----------------------------------------------------------------------------- eval trap


def evaluate_mse(model, x, use_eval=True, no_grad=True, restore=True, reduce="mean"):
    was_training = model.training
    if use_eval:
        model.eval()
    with torch.set_grad_enabled(not no_grad):
        error = (model(x) - x) ** 2
        value = {
            "mean": error.mean(),
            "sum": error.sum(),
            "per image": error.sum(dim=(1, 2, 3)).mean(),
            "over images": error.mean(dim=(1, 2, 3)).sum(),
        }[reduce]
    if restore == "always train":
        model.train()
    elif restore:
        model.train(was_training)
    return value.item()


def evaluate_mse_tensor(model, x):  # a 0-dim tensor without a graph is fine too
    was_training = model.training
    model.eval()
    with torch.no_grad():
        value = nn.functional.mse_loss(model(x), x)
    model.train(was_training)
    return value


def evaluate_mse_course(model, x):
    from course_utils.train import evaluate

    return evaluate(model, x)


# --------------------------------------------------------------------------- parity sums


def parity_sums(weight, padding, shift=True, reduce=torch.sum, transpose=False, count=False):
    w = torch.ones_like(weight) if count else weight
    p = padding if shift else 0
    sums = torch.stack(
        [torch.stack([reduce(w[(r + p) % 2 :: 2, (c + p) % 2 :: 2]) for c in (0, 1)])
         for r in (0, 1)]
    )  # fmt: skip
    return sums.T if transpose else sums


def parity_sums_by_layer(weight, padding):  # runs a layer on 1s: allowed (the right numbers)
    k = weight.shape[0]
    out = nn.functional.conv_transpose2d(
        torch.ones(1, 1, 20, 20), weight[None, None], stride=2, padding=padding
    )[0, 0, 2 * k : 2 * k + 2, 2 * k : 2 * k + 2]
    return out


CASES = [
    (ec.check_receptive_field, receptive_field, None),
    (ec.check_receptive_field, lambda layers: list(receptive_field(layers)), None),
    (ec.check_receptive_field, partial(receptive_field, use_jump=False), "jump ignored"),
    (ec.check_receptive_field, partial(receptive_field, jump_first=True),
     "jump multiplied too early"),
    (ec.check_receptive_field, partial(receptive_field, start=0), "window starts at 0"),
    (ec.check_receptive_field, receptive_field_product, "wrong receptive field"),
    (ec.check_receptive_field, lambda layers: receptive_field(layers)[0], "wrong return value"),
    (ec.check_receptive_field, receptive_field_course,
     "calls course_utils.conv_probes.receptive_field"),
    (ec.check_evaluate_mse, evaluate_mse, None),
    (ec.check_evaluate_mse, evaluate_mse_tensor, None),
    (ec.check_evaluate_mse, partial(evaluate_mse, use_eval=False), "forgot eval()"),
    (ec.check_evaluate_mse, partial(evaluate_mse, use_eval=False, restore=False),
     "forgot eval()"),
    (ec.check_evaluate_mse, partial(evaluate_mse, no_grad=False), "gradients on"),
    (ec.check_evaluate_mse, partial(evaluate_mse, restore=False), "training mode not restored"),
    (ec.check_evaluate_mse, partial(evaluate_mse, restore="always train"),
     "always returns to training mode"),
    (ec.check_evaluate_mse, partial(evaluate_mse, reduce="sum"), "summed instead of averaged"),
    (ec.check_evaluate_mse, partial(evaluate_mse, reduce="per image"),
     "summed over each image's pixels"),
    (ec.check_evaluate_mse, partial(evaluate_mse, reduce="over images"),
     "summed over the images"),
    (ec.check_evaluate_mse, lambda m, x: evaluate_mse(m, x) + 0.01, "wrong value"),
    (ec.check_evaluate_mse, evaluate_mse_course, "calls course_utils.train.evaluate"),
    (ec.check_parity_sums, parity_sums, None),
    (ec.check_parity_sums, parity_sums_by_layer, None),
    (ec.check_parity_sums, partial(parity_sums, shift=False), "padding shift ignored"),
    (ec.check_parity_sums, partial(parity_sums, transpose=True), "rows and columns swapped"),
    (ec.check_parity_sums, partial(parity_sums, reduce=torch.mean), "mean instead of sum"),
    (ec.check_parity_sums, partial(parity_sums, count=True), "counted the taps"),
    (ec.check_parity_sums, lambda w, p: torch.zeros(2, 2), "wrong parity sums"),
    (ec.check_parity_sums, lambda w, p: w[:2, :2], "wrong parity sums"),
    (ec.check_parity_sums, lambda w, p: torch.zeros(4), "wrong shape"),
]  # fmt: skip


def _name(case) -> str:
    check, _, note = case
    return f"{check.__name__.removeprefix('check_')}-{note or 'right'}"


@pytest.mark.parametrize("case", CASES, ids=[f"{_name(c)}-{i}" for i, c in enumerate(CASES)])
def test_check_passes_the_right_answer_and_names_the_mistake(case, monkeypatch):
    check, answer, note = case
    monkeypatch.delenv("COURSE_LANG", raising=False)
    monkeypatch.delenv("COURSE_CHECKS_STRICT", raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    for _ in range(3):  # fresh random inputs each time
        result = check(answer)
        assert isinstance(result, ec.CheckResult)
        if note is None:
            assert result.passed and result.points == result.max_points > 0, result.message
            continue
        assert result.status == "wrong" and result.points == 0, result.message
        assert result.note == note, result.message
        assert "\n" not in str(result) and result.en and result.vi and result.en != result.vi
    if note is not None:
        monkeypatch.setenv("COURSE_LANG", "vi_VN")
        assert result.message == result.vi and " sai " in str(result)


def test_every_new_task_has_a_right_answer_and_two_wrong_ones_here():
    notes = {}
    for check, _, note in CASES:
        notes.setdefault(check.task, set()).add(note)
    assert set(notes) == TASKS <= set(lesson03.POINTS)
    for task, found in notes.items():
        assert None in found and len(found - {None}) >= 2, task


@pytest.mark.parametrize("check", sorted({c for c, _, _ in CASES}, key=lambda c: c.__name__))
@pytest.mark.parametrize("bad", ["none", "string", "raises", "stub"])
def test_nonsense_answers_give_one_readable_line(check, bad, monkeypatch):
    monkeypatch.delenv("COURSE_CHECKS_STRICT", raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)

    def answer(*args):
        if bad == "raises":
            raise ValueError("something odd\nwith a second line")
        if bad == "stub":
            raise NotImplementedError()
        return {"none": None, "string": "garbage"}[bad]

    result = check(answer)
    assert "\n" not in str(result)
    if bad == "stub":
        assert result.status == "not attempted" and result.points == 0
    else:
        assert result.status == "wrong", result.message
    if bad == "raises":
        assert "raised ValueError: something odd (line" in result.message


def test_the_generated_stubs_are_not_attempted_with_a_clear_message(monkeypatch):
    path = ROOT / "exercises" / "03_convolutional_autoencoders.ipynb"
    results = _run_graded_cells(path, monkeypatch)
    for task in TASKS:
        assert results[task].status == "not attempted", results[task].message
        assert "raise NotImplementedError()" in results[task].message


def test_the_solutions_pass(monkeypatch):
    path = ROOT / "solutions" / "03_convolutional_autoencoders.ipynb"
    results = _run_graded_cells(path, monkeypatch)
    assert all(results[task].passed for task in TASKS), {t: results[t].message for t in TASKS}


# ------------------------------------------------------------ the checks' own references


def test_the_measured_receptive_field_matches_hand_computed_stacks():
    assert lesson03._measured_field([(3, 2), (3, 2), (1, 1)]) == (7, 4)  # the lesson's encoder
    assert lesson03._measured_field([(3, 1), (3, 1)]) == (5, 1)
    assert lesson03._measured_field([(2, 2), (3, 3), (5, 1)]) == (1 + 1 + 2 * 2 + 4 * 6, 6)
    assert lesson03._measured_field([]) == (1, 1)


def test_the_flat_output_reference_gives_the_lessons_overlap_counts_and_a_known_kernel():
    counts = lesson03._flat_output_by_parity(torch.ones(3, 3), padding=1)
    assert counts.tolist() == [[1.0, 2.0], [2.0, 4.0]]  # lesson 03: kernel 3, stride 2
    assert lesson03._flat_output_by_parity(torch.ones(4, 4), padding=1).tolist() == [[4.0] * 2] * 2
    w = torch.arange(9.0).reshape(3, 3)  # padding 1: (even, even) gets the centre tap alone
    assert lesson03._flat_output_by_parity(w, padding=1)[0, 0] == w[1, 1]
    assert lesson03._flat_output_by_parity(w, padding=0)[0, 0] == w[::2, ::2].sum()


def test_the_eval_trap_model_scores_differently_in_training_mode():
    g = torch.Generator().manual_seed(0)
    model, x = lesson03._bn_model(g), torch.rand(6, 1, 8, 8, generator=g)
    assert abs(lesson03._mse(model, x, True) - lesson03._mse(model, x, False)) > 1e-3
    assert model.training  # the reference works on copies: the model keeps its mode and stats
    assert model[1].num_batches_tracked.item() == 100
