"""The ipywidgets view of a quiz: a thin shell over ``grading`` and ``text`` (every lesson).

Each option is a Checkbox whose description IS the option's text, so clicking the text ticks
the option (the browser's <label> does it), and MathJax typesets the $...$ in it: ipywidgets 7.7
and 8 both typeset a checkbox's description. A single-answer question keeps one tick: ticking
an option unticks the others (``on_tick``). Options appear in the learner's shuffled order
(``course_utils.quiz.order``); the widget keeps the bank index behind each box, so grading and
the export never see the displayed positions.

Everything that decides something is a plain function tested without a browser:
``question_html``, ``option_label`` and ``feedback_html`` build the HTML, ``grade`` scores. The
answer key never enters a widget: the front end receives the questions, and after Submit the
feedback for the questions that were answered.

Works with ipywidgets 7.7+ and 8.x (Colab ships 7.x): only widgets and traits both have.
"""

from __future__ import annotations

import html
import re
from functools import partial

import ipywidgets as W

from course_utils import settings
from course_utils.quiz.bank import LETTERS, Bank, Question
from course_utils.quiz.grading import QuestionResult, QuizResult, grade
from course_utils.quiz.order import option_order, to_bank
from course_utils.quiz.text import UI, render_text, rule_note, shown_letters

COLOURS = {"right": "#1a7f37", "part": "#9a6700", "wrong": "#cf222e", "none": "#57606a"}
OPTION_CLASS = "course-quiz-option"
# ipywidgets draws a checkbox's text on one line, cut with an ellipsis. This lets long options
# wrap. A front end that drops <style> still works: long options are cut, the tooltip has all.
STYLE = f"""<style>
.{OPTION_CLASS} .widget-label-basic, .{OPTION_CLASS} .jupyter-widget-label-basic {{
  white-space: normal; overflow: visible; line-height: 1.5; display: flex; cursor: pointer;
  padding: 2px 0; }}
.{OPTION_CLASS} input[type='checkbox'] {{ flex-grow: 0; align-self: flex-start; margin-top: 4px; }}
</style>"""


def _esc(text: str) -> str:
    """Escape for HTML (keeping $...$ for MathJax) and show `code` in a code font."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text, quote=False))


def question_html(q: Question, number: int, lang: str) -> str:
    """A question's number, text and scoring rule (HTMLMath typesets the $...$ LaTeX)."""
    note = f"<div style='color:#57606a'><i>{_esc(rule_note(q, lang))}</i></div>"
    return f"<div><b>{number}.</b> {_esc(q.text[lang])}</div>{note}"


def option_label(q: Question, index: int, position: int, lang: str) -> str:
    """The description of the box showing bank option ``index`` at ``position``: "(b) text"."""
    return f"({LETTERS[position]}) {_esc(q.options[index][lang])}"


def feedback_html(r: QuestionResult, lang: str, shown: tuple[int, ...] | None = None) -> str:
    """Verdict, the options chosen (by the letters shown), the authors' notes on them and the
    explanation, for one question."""
    ui, v = UI[lang], r.verdict
    head = f"<b style='color:{COLOURS[v]}'>{ui[v]}</b>"
    if not r.answered:
        return head
    chosen = ", ".join(f"({c})" for c in shown_letters(shown, r.chosen).split(", "))
    notes = "".join(f"<div>{_esc(t)}</div>" for t in r.feedback)
    return (
        f"{head} ({r.score:.2g}/1). {ui['chose']} {chosen}.{notes}"
        f"<div style='margin-top:0.3em'>{_esc(r.explanation)}</div>"
    )


def score_html(total: float, max_score: int, n_answered: int, lang: str) -> str:
    ui = UI[lang]
    return f"<b>{ui['score']}: {total:.3g} / {max_score}</b> ({ui['answered']}: {n_answered})"


def option_box() -> W.Checkbox:
    """One option's control: a full-width Checkbox whose description will be the option."""
    box = W.Checkbox(value=False, indent=False, layout=W.Layout(width="100%", height="auto"))
    if box.has_trait("description_allow_html"):  # ipywidgets 8: HTML (sanitised), as 7 always
        box.description_allow_html = True
    box.add_class(OPTION_CLASS)
    return box


class QuizWidget:
    """The interactive quiz for one bank and one learner. ``root`` is the widget to display.

    Per question: an HTMLMath block (number, text, scoring rule), one option box per option in
    the learner's order (``boxes[qid][position]``, showing bank option ``order[qid][position]``)
    and an HTMLMath feedback area. Below: Submit, Reset, the score, a language toggle, Export.
    """

    def __init__(self, bank: Bank, lang: str = "en", learner: str | None = None):
        self.bank, self.lang, self.learner = bank, lang, learner
        self.questions = {q.id: q for q in bank.questions}
        self.order = option_order(bank, learner)
        self.submitted: dict | None = None  # answers of the last Submit, re-graded on toggle
        self.title = W.HTML()
        self.lang_toggle = W.ToggleButtons(options=[("English", "en"), ("Tiếng Việt", "vi")])
        self.lang_toggle.value = lang
        self.texts = {q.id: W.HTMLMath() for q in bank.questions}
        self.boxes = {q.id: [option_box() for _ in q.options] for q in bank.questions}
        self.feedback = {q.id: W.HTMLMath() for q in bank.questions}
        self.submit_button = W.Button(button_style="primary")
        self.reset_button = W.Button()
        self.export_button = W.Button()
        self.score = W.HTML()
        name = settings.learner() if learner is None else learner
        self.name = W.Text(value=name.strip())
        self.export_area = W.Textarea(layout=W.Layout(width="100%", height="14em", display="none"))
        for q in bank.questions:
            for position, box in enumerate(self.boxes[q.id]):
                box.observe(partial(self.on_tick, q.id, position), names="value")
        self.submit_button.on_click(self.on_submit)
        self.reset_button.on_click(self.on_reset)
        self.export_button.on_click(self.on_export)
        self.lang_toggle.observe(self.on_lang, names="value")
        blocks = [
            W.VBox(
                [self.texts[q.id], W.VBox(self.boxes[q.id]), self.feedback[q.id]],
                layout=W.Layout(margin="0 0 1em 0"),
            )
            for q in bank.questions
        ]
        buttons = W.HBox([self.submit_button, self.reset_button])
        export = W.HBox([self.name, self.export_button])
        self.root = W.VBox([W.HTML(STYLE), self.title, self.lang_toggle, *blocks, buttons,
                            self.score, export, self.export_area])  # fmt: skip
        self.render()

    def answers(self) -> dict[str, int | list[int]]:
        """The ticked options as ``grade`` expects them (bank indices); unanswered left out."""
        out: dict[str, int | list[int]] = {}
        for q in self.bank.questions:
            if ticked := [p for p, box in enumerate(self.boxes[q.id]) if box.value]:
                indices = to_bank(self.order[q.id], ticked)
                out[q.id] = indices[0] if q.type == "single" else indices
        return out

    def select(self, qid: str, choice: int | list[int] | None) -> None:
        """Set a question's ticks from code (tests, demos): bank index, list of them, or None."""
        chosen = {choice} if isinstance(choice, int) else set(choice or ())
        for position, box in enumerate(self.boxes[qid]):
            box.value = self.order[qid][position] in chosen

    def click_option(self, qid: str, position: int) -> None:
        """What a click on the text of the option shown at ``position`` does: toggle its box."""
        box = self.boxes[qid][position]
        box.value = not box.value

    def on_tick(self, qid: str, position: int, change: dict) -> None:
        """A box changed. In a single-answer question, a tick removes the other ticks."""
        if change["new"] and self.questions[qid].type == "single":
            for other, box in enumerate(self.boxes[qid]):
                if other != position:
                    box.value = False

    def render(self) -> None:
        """(Re)write every text in ``self.lang``; re-grade the last submission if any.

        The order of the options and the ticks stay as they are."""
        ui, bank = UI[self.lang], self.bank
        self.title.value = f"<h3>{ui['quiz']}: {_esc(bank.title[self.lang])}</h3>"
        for n, q in enumerate(bank.questions, 1):
            self.texts[q.id].value = question_html(q, n, self.lang)
            for position, box in enumerate(self.boxes[q.id]):
                index = self.order[q.id][position]  # the bank option shown in this box
                box.description = option_label(q, index, position, self.lang)
        self.submit_button.description = ui["submit"]
        self.reset_button.description = ui["reset"]
        self.export_button.description = ui["export"]
        self.name.placeholder = ui["name"]
        if self.submitted is not None:
            self._show(self.submitted)

    def _show(self, answers: dict) -> QuizResult:
        result = grade(self.bank, answers, self.lang)
        for r in result.questions:
            self.feedback[r.id].value = feedback_html(r, self.lang, self.order[r.id])
        n_answered = sum(r.answered for r in result.questions)
        self.score.value = score_html(result.total, result.max_score, n_answered, self.lang)
        return result

    def on_submit(self, _button=None) -> None:
        self.submitted = self.answers()
        self._show(self.submitted)

    def on_reset(self, _button=None) -> None:
        for qid in self.boxes:
            self.select(qid, None)
        for area in self.feedback.values():
            area.value = ""
        self.submitted, self.score.value, self.export_area.value = None, "", ""
        self.export_area.layout.display = "none"

    def on_export(self, _button=None) -> None:
        """Grade the current choices (as Submit does) and show the result as JSON."""
        self.submitted = self.answers()
        result = self._show(self.submitted)
        self.export_area.value = result.to_json(student=self.name.value)
        self.export_area.layout.display = None

    def on_lang(self, change: dict) -> None:
        self.lang = change["new"]
        self.render()

    def _repr_mimebundle_(self, **kwargs) -> dict:
        """The widget for a front end that has widgets, the printed quiz for any other."""
        view = {"version_major": 2, "version_minor": 0, "model_id": self.root.model_id}
        return {
            "text/plain": render_text(self.bank, self.lang, self.learner),
            "application/vnd.jupyter.widget-view+json": view,
        }
