"""The ipywidgets view, driven as plain Python: build it, set choices, call the handlers.

Also: the answer key never reaches the widget state or the embedded HTML, and a notebook that
calls show_quiz runs headless (no widget front end) without error.
"""

from __future__ import annotations

import html
import json
import os
from pathlib import Path

import ipywidgets as W
import nbformat
import pytest
from ipywidgets.embed import dependency_state, embed_minimal_html

from course_utils.quiz import grade, load_bank, quiz_dir, render_text
from course_utils.quiz_bank import decode, parse_bank, seal, unseal
from course_utils.quiz_widget import QuizWidget, feedback_html, question_html

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "tests" / "data" / "quiz" / "tiny_draft.yaml"
BANKS = sorted(p.stem for p in quiz_dir().glob("*.yaml"))


@pytest.fixture
def tiny():
    return load_bank(TINY)


@pytest.fixture(autouse=True)
def close_widgets():
    yield
    W.Widget.close_all()  # widgets live in a global registry until closed


def tree_state(widget: W.Widget) -> dict:
    """The state of a widget with every child widget (children, layout, style) resolved."""
    out = {}
    for name, value in widget.get_state().items():
        attr = getattr(widget, name, None)
        if isinstance(attr, W.Widget):
            out[name] = tree_state(attr)
        elif isinstance(attr, list | tuple) and attr and all(isinstance(a, W.Widget) for a in attr):
            out[name] = [tree_state(a) for a in attr]
        else:
            out[name] = value
    return out


def strings_in(value) -> str:
    """Every string in a (nested) widget state, one per line: what the front end receives."""
    if isinstance(value, dict):
        return "\n".join(strings_in(v) for v in value.values())
    if isinstance(value, list | tuple):
        return "\n".join(strings_in(v) for v in value)
    return value if isinstance(value, str) else ""


def secrets_of(bank) -> list[str]:
    """Everything that would give an answer away: keys, salt, explanations, option notes."""
    found = [bank.salt, *(q.key for q in bank.questions)]
    for q in bank.questions:
        found += decode(q.explanation).values()
        for note in (decode(q.feedback) if q.feedback else {}).values():
            found += note.values()
    return found


def spellings(secret: str) -> set[str]:
    """A secret (its first 40 characters) as it may appear raw, in JSON or in HTML."""
    head = secret[:40]
    return {head, json.dumps(head)[1:-1], json.dumps(head, ensure_ascii=False)[1:-1],
            html.escape(head, quote=False)}  # fmt: skip


# ---- callbacks as plain functions --------------------------------------------------------------


def test_submit_grades_and_shows_feedback(tiny):
    view = QuizWidget(tiny, "en")
    assert isinstance(view.selectors["capital"], W.RadioButtons)
    assert [box.description for box in view.selectors["evens"].children] == [
        "(a)", "(b)", "(c)", "(d)"
    ]  # fmt: skip
    view.select("capital", 0)
    view.selectors["evens"].children[0].value = True  # tick as a student would
    view.selectors["evens"].children[2].value = True
    assert view.answers() == {"capital": 0, "evens": [0, 2]}
    view.submit_button.click()  # runs on_submit, as a click in the browser does
    assert "Incorrect" in view.feedback["capital"].value
    assert "A is the first letter." in view.feedback["capital"].value
    assert "B comes second." in view.feedback["capital"].value  # the note on option (a)
    assert "Correct" in view.feedback["evens"].value
    assert view.feedback["primes"].value.endswith("Not answered</b>")
    assert "two divisors" not in view.feedback["primes"].value  # no explanation when skipped
    assert "Score: 1 / 3" in view.score.value and "answered: 2" in view.score.value


def test_feedback_matches_grade(tiny):
    result = grade(tiny, {"primes": [0, 1]}, "vi")
    view = QuizWidget(tiny, "vi")
    view.select("primes", [0, 1])
    view.on_submit()
    assert view.feedback["primes"].value == feedback_html(result.questions[2], "vi")
    assert "Đúng một phần" in view.feedback["primes"].value  # partial credit, 2/3


def test_reset_clears_everything(tiny):
    view = QuizWidget(tiny)
    view.select("capital", 1)
    view.select("evens", [1])
    view.name.value = "Lan"
    view.on_export()
    view.reset_button.click()
    assert view.answers() == {}
    assert all(area.value == "" for area in view.feedback.values())
    assert view.score.value == "" and view.export_area.value == ""
    assert view.export_area.layout.display == "none"
    assert view.submitted is None


def test_language_toggle_rerenders(tiny):
    view = QuizWidget(tiny, "en")
    view.select("capital", 1)
    view.on_submit()
    assert "Which letter" in view.texts["capital"].value
    view.lang_toggle.value = "vi"  # as a click on the toggle does
    assert view.lang == "vi"
    assert "Chữ cái nào" in view.texts["capital"].value
    assert "Which letter" not in view.texts["capital"].value
    assert view.submit_button.description == "Nộp bài"
    assert "A là chữ cái đầu tiên." in view.feedback["capital"].value  # re-graded in Vietnamese
    assert "Bài kiểm tra nhỏ" in view.title.value
    view.lang_toggle.value = "en"
    assert view.submit_button.description == "Submit"
    assert "A is the first letter." in view.feedback["capital"].value


def test_export_shows_json(tiny):
    view = QuizWidget(tiny)
    view.select("capital", 1)
    view.name.value = "Minh"
    view.export_button.click()
    data = json.loads(view.export_area.value)
    assert data["student"] == "Minh" and data["lesson"] == "tiny" and data["total"] == 1.0
    assert data["questions"][0] == {"id": "capital", "chosen": [1], "correct": True, "score": 1.0}
    assert view.export_area.layout.display is None  # visible
    assert "Correct" in view.feedback["capital"].value  # export also shows the feedback


def test_question_html_escapes_but_keeps_latex(tiny):
    html = question_html(tiny.questions[2], 3, "en")
    assert "($p &gt; 1$)" in html  # MathJax reads the text, so the formula still renders
    assert "(e) 6" in html and "partial credit" in html
    shapes = load_bank("06_variational_autoencoders").questions[3]
    assert "<code>mu</code> (3, 10)" in question_html(shapes, 4, "en")  # `mu` in a code font


def test_mimebundle_has_widget_and_text_fallback(tiny):
    view = QuizWidget(tiny, "vi")
    bundle = view._repr_mimebundle_()
    assert bundle["text/plain"] == render_text(tiny, "vi")
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == view.root.model_id


# ---- the answer key never reaches the front end --------------------------------------------


def with_other_answers(bank):
    """The same bank (same salt, texts, ids) with every answer changed."""
    draft = unseal(bank)
    for q in draft["questions"]:
        n, old = len(q["options"]), q["answer"]
        if q["type"] == "single":
            q["answer"] = [(old[0] + 1) % n]
        else:  # the complement, or option 0 alone if every option was right
            q["answer"] = [i for i in range(n) if i not in old] or [0]
    return parse_bank(seal(draft), "other.yaml")


@pytest.mark.parametrize("lesson", BANKS)
def test_widget_state_does_not_depend_on_the_answers(lesson, tmp_path):
    bank = load_bank(lesson)
    other = with_other_answers(bank)
    assert [q.key for q in other.questions] != [q.key for q in bank.questions]
    for lang in ("en", "vi"):
        view = QuizWidget(bank, lang)
        state = tree_state(view.root)
        assert state == tree_state(QuizWidget(other, lang).root)
        text = strings_in(state)
        embed_minimal_html(
            tmp_path / "quiz.html", [view.root], state=dependency_state(view.root), title="quiz"
        )
        page = (tmp_path / "quiz.html").read_text(encoding="utf-8")
        plain = view._repr_mimebundle_()["text/plain"]
        last = bank.questions[-1]
        assert question_html(last, len(bank.questions), lang) in text  # the state is complete
        assert json.dumps(view.texts[last.id].value)[1:-1] in page
        for secret in secrets_of(bank):
            for form in spellings(secret):
                assert form not in text and form not in page and form not in plain, form


def test_after_submit_only_answered_questions_reveal_anything():
    bank = load_bank("06_variational_autoencoders")
    view = QuizWidget(bank, "en")
    first, *rest = bank.questions
    view.select(first.id, 0)
    view.on_submit()
    text = strings_in(tree_state(view.root))
    assert html.escape(decode(first.explanation)["en"], quote=False) in text
    for q in rest:
        for secret in (decode(q.explanation)["en"], q.key):
            assert not any(form in text for form in spellings(secret))


# ---- headless execution ------------------------------------------------------------------------


def test_show_quiz_runs_headless_in_a_kernel(tmp_path, monkeypatch):
    """nbclient runs a kernel with no widget front end, as nbval and CI do."""
    nbclient = pytest.importorskip("nbclient")  # a test dependency of the project
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("COURSE_LANG", "vi")
    nb = nbformat.v4.new_notebook()
    nb.cells.append(
        nbformat.v4.new_code_cell(
            'from course_utils.quiz import show_quiz\nshow_quiz("01_linear_autoencoder_and_pca")'
        )
    )
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    outputs = nb.cells[0].outputs
    assert [o.output_type for o in outputs] == ["display_data"], outputs
    data = outputs[0].data
    assert "application/vnd.jupyter.widget-view+json" in data
    assert data["text/plain"] == render_text(load_bank("01_linear_autoencoder_and_pca"), "vi")


class FakeKernelShell:
    kernel = object()  # what show_quiz looks for: an IPython kernel is running


def test_show_quiz_displays_the_widget_under_a_kernel(monkeypatch):
    import IPython
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython, "get_ipython", lambda: FakeKernelShell())
    monkeypatch.setattr(IPython.display, "display", shown.append)
    monkeypatch.setenv("COURSE_LANG", "vi")
    from course_utils.quiz import show_quiz

    assert show_quiz("02_stacked_autoencoders") is None
    (view,) = shown
    assert isinstance(view, QuizWidget) and view.lang == "vi"
    assert view.bank.lesson == "02_stacked_autoencoders"


def test_show_quiz_prints_if_the_widget_cannot_be_built(monkeypatch, capsys):
    import IPython

    import course_utils.quiz_widget

    def broken(*args, **kwargs):
        raise RuntimeError("no widgets today")

    monkeypatch.setattr(IPython, "get_ipython", lambda: FakeKernelShell())
    monkeypatch.setattr(course_utils.quiz_widget, "QuizWidget", broken)
    from course_utils.quiz import show_quiz

    show_quiz("02_stacked_autoencoders", lang="en")
    out = capsys.readouterr().out
    assert "Interactive quiz unavailable: RuntimeError('no widgets today')" in out
    assert render_text(load_bank("02_stacked_autoencoders"), "en") in out
