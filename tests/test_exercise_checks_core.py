"""The machinery shared by every exercise check: results, languages, strict mode, safe calls."""

import inspect
import json
import warnings

import pytest
import torch

from course_utils import exercise_checks as ec
from course_utils.exercise_checks import core, expect, missing_answer
from course_utils.exercise_checks.core import CheckFailed, CheckResult, Wrong, call, forbid
from course_utils.quiz import resolve_lang


def _ok():
    return "all good", "tốt cả"


def _wrong():
    raise Wrong("wrong sign", "The sign is wrong.", "Sai dấu.")


@pytest.fixture(autouse=True)
def _plain_mode(monkeypatch):
    for name in ("COURSE_LANG", "COURSE_CHECKS_STRICT", "NBGRADER_EXECUTION"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("value", ["", "en", "vi", "vi_VN", "VI", "vi-VN", "fr"])
def test_language_follows_the_same_rule_as_the_quizzes(value, monkeypatch):
    monkeypatch.setenv("COURSE_LANG", value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert core.language() == resolve_lang(None)


def test_results_read_as_one_line_in_either_language(monkeypatch):
    right = core.run_check("task_a", 2, _ok)
    wrong = core.run_check("task_a", 2, _wrong)
    assert (right.passed, right.points, wrong.passed, wrong.points) == (True, 2, False, 0)
    assert str(right) == "✅ task_a: correct (2/2 points). all good"
    assert str(wrong) == "❌ task_a: wrong (0/2 points). The sign is wrong."
    monkeypatch.setenv("COURSE_LANG", "vi")
    assert str(wrong) == "❌ task_a: sai (0/2 điểm). Sai dấu."


def test_the_stub_is_not_attempted_and_other_errors_are_wrong():
    def stub(x):
        raise NotImplementedError()

    def broken(x):
        y = x + 1
        return y.shape  # an int has no shape

    assert core.run_check("t", 1, lambda: call(stub, 1)).status == "not attempted"
    result = core.run_check("t", 1, lambda: call(broken, 1))
    assert result.status == "wrong" and result.note == "raised AttributeError"
    assert "broken raised AttributeError: 'int' object has no attribute 'shape'" in result.en
    assert f"(line {broken.__code__.co_firstlineno + 2} of broken)" in result.en


def test_an_unexpected_error_inside_a_check_is_reported_not_raised():
    result = core.run_check("t", 1, lambda: {}["missing"])
    assert result.status == "wrong" and "KeyError" in result.message and "\n" not in str(result)


def test_the_machine_readable_copy_is_what_the_grader_reads():
    bundle = core.run_check("task_a", 2, _wrong)._repr_mimebundle_()
    data = json.loads(bundle[core.MIME])
    assert data["task"] == "task_a" and data["status"] == "wrong" and data["note"] == "wrong sign"
    assert bundle["text/plain"].startswith("❌ task_a")


@pytest.mark.parametrize("variable", ["COURSE_CHECKS_STRICT", "NBGRADER_EXECUTION"])
def test_strict_mode_raises_on_failure_only(variable, monkeypatch):
    monkeypatch.setenv(variable, "1" if variable == "COURSE_CHECKS_STRICT" else "autograde")
    assert core.run_check("t", 1, _ok).passed
    with pytest.raises(CheckFailed) as info:
        core.run_check("t", 1, _wrong)
    one_line = "CheckFailed: ❌ t: wrong (0/1 points). The sign is wrong."
    assert info.value._render_traceback_() == [one_line]


def test_forbid_blocks_even_names_imported_earlier_and_always_restores():
    from course_utils.pca import principal_angles_deg

    a = torch.randn(5, 2)
    with forbid("course_utils.pca:principal_angles_deg", "no_such.module:thing"):
        with pytest.raises(Wrong, match="ready-made") as info:
            call(lambda a, b: principal_angles_deg(a, b), a, a)
    assert info.value.note == "calls course_utils.pca.principal_angles_deg"
    assert principal_angles_deg(a, a).shape == (2,)  # restored
    with pytest.raises(RuntimeError, match="boom"), forbid("course_utils.pca:PCA.fit"):
        raise RuntimeError("boom")
    from course_utils.pca import PCA

    assert PCA(1).fit(torch.randn(4, 3)).components.shape == (1, 3)  # restored after an error


def test_a_check_leaves_the_global_random_state_alone():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    core.run_check("t", 1, lambda: (torch.rand(100), _ok())[1])
    assert torch.equal(torch.rand(3), expected)


def test_close_names_the_largest_difference_and_spots_constants():
    with pytest.raises(Wrong, match=r"off by up to 0.5 at index \(1,\): expected 2, got 2.5"):
        expect.close(torch.tensor([1.0, 2.5]), torch.tensor([1.0, 2.0]), "y")
    with pytest.raises(Wrong) as info:
        expect.close(torch.zeros(3), torch.tensor([1.0, 2.0, 3.0]), "y")
    assert info.value.note == "constant"


def test_generator_respected_tells_global_rng_from_ignored_generator():
    def global_rng(generator):
        return torch.rand(3)

    def no_randomness(generator):
        return torch.ones(3)

    for draw, note in ((global_rng, "used the global RNG"), (no_randomness, "ignores the gen")):
        with pytest.raises(Wrong) as info:
            expect.generator_respected(draw, "noise")
        assert info.value.note.startswith(note)
    expect.generator_respected(lambda g: torch.rand(3, generator=g), "noise")


def test_check_results_are_immutable_records():
    result = CheckResult("t", "passed", 1, 1, "", "en", "vi")
    with pytest.raises(AttributeError):
        result.points = 5


def test_the_check_decorator_keeps_the_signature_and_draws_a_fresh_generator_per_run():
    seeds = []

    @core.check("task_b", {"task_b": 3})
    def check_thing(answer, g: torch.Generator) -> tuple[str, str]:
        """What the docstring says."""
        seeds.append(g.initial_seed())
        if answer != 42:
            raise Wrong("not 42", "Not 42.", "Không phải 42.")
        return "right", "đúng"

    assert (
        check_thing.__name__ == "check_thing" and check_thing.__doc__ == "What the docstring says."
    )
    assert list(inspect.signature(check_thing).parameters) == ["answer"]
    right, wrong = check_thing(42), check_thing(answer=7)
    assert (right.passed, right.points, right.max_points, right.task) == (True, 3, 3, "task_b")
    assert (wrong.status, wrong.note, wrong.max_points) == ("wrong", "not 42", 3)
    assert len(seeds) == 2 and seeds[0] != seeds[1]  # a fresh generator for every run
    with pytest.raises(TypeError):  # a wrong call is the caller's bug, not the student's
        check_thing(42, 43)


def test_the_check_decorator_gives_no_generator_to_a_check_that_takes_none():
    @core.check("predict_c", {"predict_c": 1})
    def check_prediction(predicted) -> tuple[str, str]:
        return ("right", "đúng") if predicted == 3 else ("odd", "lạ")

    assert list(inspect.signature(check_prediction).parameters) == ["predicted"]
    assert check_prediction(3).passed and check_prediction(None).passed


def test_every_public_check_takes_only_the_students_answers():
    for name in (n for n in ec.__all__ if n.startswith("check_")):
        params = inspect.signature(getattr(ec, name)).parameters
        assert params and "g" not in params, name
        assert inspect.signature(getattr(ec, name)).return_annotation is CheckResult, name


def test_returns_calls_under_forbid_and_names_a_wrong_shape_with_its_hint():
    from course_utils.pca import principal_angles_deg

    a = torch.randn(5, 2)
    with pytest.raises(Wrong) as info:
        forbidden = ["course_utils.pca:principal_angles_deg"]
        expect.returns(principal_angles_deg, a, a, what="p", forbidden=forbidden)
    assert info.value.note == "calls course_utils.pca.principal_angles_deg"
    with pytest.raises(Wrong) as info:
        expect.returns(lambda t: t.sum(), a, what="s(a)", shape=(5,), hint=(" Sum rows.", " Cộng."))
    assert info.value.note == "wrong shape" and info.value.en.endswith("expected (5,). Sum rows.")
    with pytest.raises(Wrong) as info:
        expect.returns(lambda t: None, a, what="s(a)")
    assert info.value.note == "returned None"
    assert expect.returns(lambda t: t.sum(1), a, what="s(a)", shape=(5,)).shape == (5,)


def test_every_task_but_the_predict_questions_has_a_success_message_in_both_languages():
    """``passed.PASSED`` and the lessons' POINTS name the same tasks; each message is bilingual."""
    from course_utils.exercise_checks.passed import PASSED

    graded = {task for task in ec.POINTS if not task.startswith("predict_")}
    assert set(PASSED) == graded
    for english, vietnamese in PASSED.values():
        assert english and vietnamese and english != vietnamese


def test_a_passing_check_fills_its_values_into_the_success_message(monkeypatch):
    """A check that returns values gets PASSED[task] formatted with them, in each language."""
    from course_utils.exercise_checks import passed

    monkeypatch.setitem(passed.PASSED, "demo_task", ("right (D={d}).", "đúng (D={d})."))

    @core.check("demo_task", {"demo_task": 1})
    def check_demo(answer):
        expect.tensor(answer, "answer")
        return {"d": answer.shape[0]}

    result = check_demo(torch.zeros(7))
    assert result.passed and (result.en, result.vi) == ("right (D=7).", "đúng (D=7).")
    assert not check_demo("not a tensor").passed


# ------------------------------------------------------- a check cell run before its task cell
def test_a_missing_task_answer_gets_run_the_task_cell_above_first(monkeypatch):
    error = NameError("name 'bernoulli_kl' is not defined", name="bernoulli_kl")
    hint = missing_answer.name_error_hint(error)
    assert hint.startswith("👉 bernoulli_kl is written in the task cell above (task bernoulli_kl)")
    assert "run the task cell above first, then this check cell again" in hint
    shared = missing_answer.name_error_hint(NameError("name 'predicted_shape' is not defined"))
    assert "run the task cell above first" in shared and "(task" not in shared  # 3 lessons
    monkeypatch.setenv("COURSE_LANG", "vi")
    assert "hãy chạy ô bài tập phía trên trước" in missing_answer.name_error_hint(error)


@pytest.mark.parametrize(
    "error",
    [NameError("name 'undefined_thing' is not defined", name="undefined_thing"),
     NameError("name 'torch' is not defined"), TypeError("bernoulli_kl"), KeyError("x")],
)  # fmt: skip
def test_any_other_error_gets_no_hint(error):
    assert missing_answer.name_error_hint(error) is None


def test_every_task_answer_a_check_takes_is_known():
    names = missing_answer.task_answer_names()
    assert names["mean_l1_penalty_per_image"] == {"l1_penalty"}
    assert names["kl_sparsity_penalty_per_batch"] == {"kl_sparsity"}
    assert names["predicted_shape"] == {"predict_rate_shape", "predict_transpose_shape",
                                        "predict_z_shape"}  # fmt: skip
    assert names["denoising_loss"] == {"denoising_loss"}  # exercise 04, task 6
    assert len(names) == 39  # exercise 01: pca_from_autoencoder, predicted_extra_error;
    # exercise 02: CentredStackedAE, count_dead_units, threshold_at_false_alarm;
    # exercise 03: receptive_field, evaluate_mse, parity_sums


class _FakeTB:
    def structured_traceback(self, etype, value, tb, tb_offset=None):
        return ["Traceback ...", f"{etype.__name__}: {value}"]


class _FakeShell:
    InteractiveTB = _FakeTB()

    def __init__(self):
        self.shown, self.custom_exceptions = [], ()

    def _showtraceback(self, etype, value, stb):
        self.shown.append(stb)


def test_the_ipython_handler_shows_the_usual_traceback_plus_the_hint():
    shell = _FakeShell()
    error = NameError("name 'vae_loss' is not defined", name="vae_loss")
    stb = missing_answer._show_name_error(shell, NameError, error, None)
    assert shell.shown == [stb] and stb[:2] == ["Traceback ...", f"NameError: {error}"]
    assert "run the task cell above first" in stb[2] and len(stb) == 3
    other = NameError("name 'x' is not defined", name="x")
    assert missing_answer._show_name_error(shell, NameError, other, None) == [
        "Traceback ...",
        f"NameError: {other}",
    ]


def test_outside_ipython_nothing_is_installed():
    assert missing_answer.install_name_error_hint() is False  # pytest is no IPython shell


def test_in_a_real_kernel_a_check_before_its_task_says_run_the_task_cell_above_first():
    """A notebook under nbclient: the check cell of exercise 05 run before its task cell, then
    an unrelated NameError (the usual traceback, no hint), then the task and the check."""
    import nbformat
    from nbclient import NotebookClient

    cells = [
        "from course_utils.exercise_checks import check_l1_penalty\n\n"
        "check_l1_penalty(mean_l1_penalty_per_image)",
        "print(no_such_name)",
        "def mean_l1_penalty_per_image(h):\n    return h.abs().sum(dim=1).mean()",
        "check_l1_penalty(mean_l1_penalty_per_image)",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=120, allow_errors=True, kernel_name="python3").execute()
    (first,), (second,) = nb.cells[0].outputs, nb.cells[1].outputs
    assert first.output_type == "error" and first.ename == "NameError"
    text = "\n".join(first.traceback)
    assert "name 'mean_l1_penalty_per_image' is not defined" in text
    assert "(task l1_penalty), which has not run in this kernel yet: run the task cell above " \
           "first, then this check cell again." in text  # fmt: skip
    assert second.ename == "NameError" and "task cell" not in "\n".join(second.traceback)
    assert "no_such_name" in "\n".join(second.traceback)
    assert "✅ l1_penalty: correct" in nb.cells[3].outputs[0]["data"]["text/plain"]


def test_tensors_unpacks_a_tuple_and_names_what_is_wrong():
    a, b = torch.zeros(2), torch.ones(3)
    got = expect.tensors((a, b), ("the mean", "the components"), "Return (m, c).", "Trả về (m, c).")
    assert got[0] is a and got[1] is b
    with pytest.raises(Wrong) as wrong:  # one tensor instead of a pair
        expect.tensors(a, ("the mean", "the components"), "Return (m, c).", "Trả về (m, c).")
    assert wrong.value.note == "wrong return value" and wrong.value.en == "Return (m, c)."
    with pytest.raises(Wrong) as wrong:  # a pair of the wrong length
        expect.tensors((a, b, a), ("x", "y"), "Return (x, y).", "Trả về (x, y).")
    assert wrong.value.note == "wrong return value"
    with pytest.raises(Wrong) as wrong:  # right length, but not a tensor inside
        expect.tensors(
            (a, [1.0]), ("the mean", "the components"), "Return (m, c).", "Trả về (m, c)."
        )
    assert "the components" in wrong.value.en
