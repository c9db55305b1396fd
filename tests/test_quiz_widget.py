"""The ipywidgets view, driven as plain Python: build it, tick options, call the handlers.

Also: the answer key never reaches the widget state or the embedded HTML, and a notebook that
calls show_quiz runs headless (no widget front end) without error. Runs on ipywidgets 7.7 and 8.
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

from course_admin.quiz.seal import seal, unseal
from course_utils.quiz import grade, load_bank, option_order, quiz_dir, render_text
from course_utils.quiz.bank import LETTERS, decode, right_options
from course_utils.quiz.validate import parse_bank
from course_utils.quiz.widget import (
    OPTION_CLASS,
    QuizWidget,
    feedback_html,
    option_label,
    question_html,
)

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "tests" / "data" / "quiz" / "tiny_draft.yaml"
BANKS = sorted(p.stem for p in quiz_dir().glob("*.yaml"))


@pytest.fixture
def tiny():
    return load_bank(TINY)


@pytest.fixture(autouse=True)
def close_widgets(monkeypatch):
    monkeypatch.delenv("COURSE_LEARNER", raising=False)
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
    found = [q.key for q in bank.questions]
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


def position_of(view: QuizWidget, qid: str, index: int) -> int:
    """Where the widget shows bank option ``index`` of question ``qid``."""
    return view.order[qid].index(index)


def test_each_option_is_a_box_labelled_with_its_text(tiny):
    view = QuizWidget(tiny, "en")
    q = tiny.questions[2]  # primes: 5 options, LaTeX in the question
    boxes = view.boxes[q.id]
    assert len(boxes) == 5 and all(isinstance(b, W.Checkbox) for b in boxes)
    for position, box in enumerate(boxes):
        index = view.order[q.id][position]
        assert box.description == f"({LETTERS[position]}) {q.options[index]['en']}"
        assert OPTION_CLASS in box._dom_classes and box.indent is False
        if box.has_trait("description_allow_html"):  # ipywidgets 8: HTML as in 7, sanitised
            assert box.description_allow_html is True


def test_clicking_an_option_text_sets_the_answer(tiny):
    view = QuizWidget(tiny, "en")
    view.click_option("capital", position_of(view, "capital", 1))  # the text "A"
    assert view.answers() == {"capital": 1}  # the bank's index, whatever the position
    view.click_option("capital", position_of(view, "capital", 1))  # a second click unticks
    assert view.answers() == {}


def test_single_answer_keeps_one_tick(tiny):
    view = QuizWidget(tiny, "en")
    first, second = position_of(view, "capital", 0), position_of(view, "capital", 2)
    view.click_option("capital", first)
    view.boxes["capital"][second].value = True  # as a click in the browser does
    assert [b.value for b in view.boxes["capital"]] == [p == second for p in range(3)]
    assert view.answers() == {"capital": 2}


def test_multiple_answer_keeps_every_tick(tiny):
    view = QuizWidget(tiny, "en")
    for index in (2, 0):
        view.click_option("evens", position_of(view, "evens", index))
    assert view.answers() == {"evens": [0, 2]}


def test_submit_grades_and_shows_feedback(tiny):
    view = QuizWidget(tiny, "en")
    view.select("capital", 0)  # bank index 0: "B"
    view.select("evens", [0, 2])
    assert view.answers() == {"capital": 0, "evens": [0, 2]}
    view.submit_button.click()  # runs on_submit, as a click in the browser does
    assert "Incorrect" in view.feedback["capital"].value
    assert "A is the first letter." in view.feedback["capital"].value
    assert "B comes second." in view.feedback["capital"].value  # the note on option "B"
    shown = LETTERS[position_of(view, "capital", 0)]
    assert f"You chose ({shown})." in view.feedback["capital"].value  # the letter it showed
    assert "Correct" in view.feedback["evens"].value
    assert view.feedback["primes"].value.endswith("Not answered</b>")
    assert "two divisors" not in view.feedback["primes"].value  # no explanation when skipped
    assert "Score: 1 / 3" in view.score.value and "answered: 2" in view.score.value


def test_every_displayed_choice_grades_as_its_bank_option(tiny):
    """Whatever the order, ticking the box that shows the right text scores 1, others 0."""
    for learner in ("An", "Bình", "Chi", None):
        view = QuizWidget(tiny, "en", learner)
        q = tiny.questions[0]
        for position in range(len(q.options)):
            view.on_reset()
            view.click_option(q.id, position)
            view.on_submit()
            text = view.boxes[q.id][position].description.split(") ", 1)[1]
            right = text == q.options[right_options(q)[0]]["en"]
            assert grade(tiny, view.answers()).total == float(right)
            assert ("Correct" in view.feedback[q.id].value) == right


def test_feedback_matches_grade(tiny):
    result = grade(tiny, {"primes": [0, 1]}, "vi")
    view = QuizWidget(tiny, "vi")
    view.select("primes", [0, 1])
    view.on_submit()
    assert view.feedback["primes"].value == feedback_html(
        result.questions[2], "vi", view.order["primes"]
    )
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


def test_language_toggle_rerenders_in_the_same_order(tiny):
    view = QuizWidget(tiny, "en", learner="An")
    order = view.order
    view.select("capital", 1)
    view.on_submit()
    english = [b.description for b in view.boxes["primes"]]
    assert "Which letter" in view.texts["capital"].value
    view.lang_toggle.value = "vi"  # as a click on the toggle does
    assert view.lang == "vi" and view.order == order
    assert "Chữ cái nào" in view.texts["capital"].value
    assert "Which letter" not in view.texts["capital"].value
    assert view.submit_button.description == "Nộp bài"
    assert "A là chữ cái đầu tiên." in view.feedback["capital"].value  # re-graded in Vietnamese
    assert "Bài kiểm tra nhỏ" in view.title.value
    assert view.answers() == {"capital": 1}  # the tick stays on the same option
    view.lang_toggle.value = "en"
    assert view.submit_button.description == "Submit"
    assert "A is the first letter." in view.feedback["capital"].value
    assert [b.description for b in view.boxes["primes"]] == english
    view.render()  # a re-render changes nothing either
    assert [b.description for b in view.boxes["primes"]] == english


def test_widget_and_text_form_show_the_same_order(tiny):
    for learner in (None, "An"):
        view = QuizWidget(tiny, "vi", learner)
        assert view.order == option_order(tiny, learner)
        text = view._repr_mimebundle_()["text/plain"]
        assert text == render_text(tiny, "vi", learner)
        for q in tiny.questions:
            for box in view.boxes[q.id]:
                assert f"   {box.description}" in text


def test_export_shows_json_with_bank_indices(tiny):
    view = QuizWidget(tiny, learner="Minh")
    assert view.name.value == "Minh"  # the learner's name is the default for the export
    view.click_option("capital", position_of(view, "capital", 1))
    view.export_button.click()
    data = json.loads(view.export_area.value)
    assert data["student"] == "Minh" and data["lesson"] == "tiny" and data["total"] == 1.0
    assert data["questions"][0] == {"id": "capital", "chosen": [1], "correct": True, "score": 1.0}
    assert view.export_area.layout.display is None  # visible
    assert "Correct" in view.feedback["capital"].value  # export also shows the feedback


def test_question_and_option_html_escape_but_keep_latex(tiny):
    html = question_html(tiny.questions[2], 3, "en")
    assert "($p &gt; 1$)" in html  # MathJax reads the text, so the formula still renders
    assert "partial credit" in html
    assert option_label(tiny.questions[2], 4, 1, "en") == "(b) 6"
    vae = load_bank("06_variational_autoencoders")
    shapes = next(q for q in vae.questions if q.id == "shapes")
    assert "<code>mu</code>" in question_html(shapes, 4, "en")  # `mu` in a code font
    labels = [option_label(shapes, i, i, "en") for i in range(len(shapes.options))]
    assert any("<code>mu</code> (3, 10)" in label for label in labels)  # in options too
    kl = next(q for q in vae.questions if q.id == "kl-formula")
    assert all("$" in option_label(kl, i, 0, "en") for i in range(len(kl.options)))


def test_mimebundle_has_widget_and_text_fallback(tiny):
    view = QuizWidget(tiny, "vi")
    bundle = view._repr_mimebundle_()
    assert bundle["text/plain"] == render_text(tiny, "vi")
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == view.root.model_id


# ---- the answer key never reaches the front end --------------------------------------------


def with_other_answers(bank):
    """The same bank (same texts, ids) with every answer changed."""
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
    assert show_quiz("02_stacked_autoencoders", learner="An") is None
    (view, named) = shown
    assert isinstance(view, QuizWidget) and view.lang == "vi"
    assert view.bank.lesson == "02_stacked_autoencoders"
    assert named.order == option_order(named.bank, "An") != view.order


def test_show_quiz_prints_if_the_widget_cannot_be_built(monkeypatch, capsys):
    import IPython

    import course_utils.quiz.widget

    def broken(*args, **kwargs):
        raise RuntimeError("no widgets today")

    monkeypatch.setattr(IPython, "get_ipython", lambda: FakeKernelShell())
    monkeypatch.setattr(course_utils.quiz.widget, "QuizWidget", broken)
    from course_utils.quiz import show_quiz

    show_quiz("02_stacked_autoencoders", lang="en")
    out = capsys.readouterr().out
    assert "Interactive quiz unavailable: RuntimeError('no widgets today')" in out
    assert render_text(load_bank("02_stacked_autoencoders"), "en") in out
