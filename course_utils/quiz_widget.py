"""The ipywidgets view of a quiz: a thin shell over ``course_utils.quiz`` (every lesson).

Everything that decides something is a plain function tested without a browser:
``question_html`` and ``feedback_html`` build the HTML, ``grade`` scores. The widget only keeps
the student's choices. The answer key never enters a widget: the front end receives the
questions, and after Submit the feedback for the questions that were answered.

Works with ipywidgets 7.7+ and 8.x (Colab ships 7.x): only widgets and traits both have.
"""

from __future__ import annotations

import html
import re

import ipywidgets as W

from course_utils.quiz import (
    LETTERS,
    UI,
    Bank,
    Question,
    QuestionResult,
    QuizResult,
    grade,
    render_text,
)
from course_utils.quiz import rule_note as _rule_note

COLOURS = {"right": "#1a7f37", "part": "#9a6700", "wrong": "#cf222e", "none": "#57606a"}


def _esc(text: str) -> str:
    """Escape for HTML (keeping $...$ for MathJax) and show `code` in a code font."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text, quote=False))


def question_html(q: Question, number: int, lang: str) -> str:
    """One question with its lettered options (HTMLMath typesets the $...$ LaTeX)."""
    options = "".join(
        f"<div style='margin-left:1.5em'>({LETTERS[i]}) {_esc(o[lang])}</div>"
        for i, o in enumerate(q.options)
    )
    note = f"<div style='color:#57606a'><i>{_esc(_rule_note(q, lang))}</i></div>"
    return f"<div><b>{number}.</b> {_esc(q.text[lang])}</div>{note}{options}"


def feedback_html(r: QuestionResult, lang: str) -> str:
    """Verdict, the options chosen, the authors' notes and the explanation for one question."""
    ui, v = UI[lang], r.verdict
    head = f"<b style='color:{COLOURS[v]}'>{ui[v]}</b>"
    if not r.answered:
        return head
    chosen = ", ".join(f"({LETTERS[i]})" for i in r.chosen)
    notes = "".join(f"<div>{_esc(t)}</div>" for t in r.feedback)
    return (
        f"{head} ({r.score:.2g}/1). {ui['chose']} {chosen}.{notes}"
        f"<div style='margin-top:0.3em'>{_esc(r.explanation)}</div>"
    )


def score_html(total: float, max_score: int, n_answered: int, lang: str) -> str:
    ui = UI[lang]
    return f"<b>{ui['score']}: {total:.3g} / {max_score}</b> ({ui['answered']}: {n_answered})"


class QuizWidget:
    """The interactive quiz for one bank. ``root`` is the widget to display.

    Per question: an HTMLMath block (text and lettered options), a selector (RadioButtons for
    single-answer, one Checkbox per option for multiple-answer questions) and an HTMLMath
    feedback area. Below: Submit, Reset, the running score, a language toggle, Export.
    """

    def __init__(self, bank: Bank, lang: str = "en"):
        self.bank, self.lang = bank, lang
        self.submitted: dict | None = None  # answers of the last Submit, re-graded on toggle
        self.title = W.HTML()
        self.lang_toggle = W.ToggleButtons(options=[("English", "en"), ("Tiếng Việt", "vi")])
        self.lang_toggle.value = lang
        self.texts = {q.id: W.HTMLMath() for q in bank.questions}
        self.selectors = {q.id: self._selector(q) for q in bank.questions}
        self.feedback = {q.id: W.HTMLMath() for q in bank.questions}
        self.submit_button = W.Button(button_style="primary")
        self.reset_button = W.Button()
        self.export_button = W.Button()
        self.score = W.HTML()
        self.name = W.Text()
        self.export_area = W.Textarea(layout=W.Layout(width="100%", height="14em", display="none"))
        self.submit_button.on_click(self.on_submit)
        self.reset_button.on_click(self.on_reset)
        self.export_button.on_click(self.on_export)
        self.lang_toggle.observe(self.on_lang, names="value")
        blocks = [
            W.VBox(
                [self.texts[q.id], self.selectors[q.id], self.feedback[q.id]],
                layout=W.Layout(margin="0 0 1em 0"),
            )
            for q in bank.questions
        ]
        buttons = W.HBox([self.submit_button, self.reset_button])
        export = W.HBox([self.name, self.export_button])
        self.root = W.VBox([self.title, self.lang_toggle, *blocks, buttons, self.score, export,
                            self.export_area])  # fmt: skip
        self.render()

    @staticmethod
    def _selector(q: Question) -> W.Widget:
        labels = [(LETTERS[i], i) for i in range(len(q.options))]
        if q.type == "single":
            radio = W.RadioButtons(options=labels, value=None, layout=W.Layout(width="auto"))
            if radio.has_trait("orientation"):  # ipywidgets 8.1+; 7.x stacks them vertically
                radio.orientation = "horizontal"
            return radio
        boxes = [W.Checkbox(value=False, description=f"({c})", indent=False) for c, _ in labels]
        for box in boxes:
            box.layout.width, box.layout.margin = "auto", "0 1.5em 0 0"
        return W.HBox(boxes)

    def answers(self) -> dict[str, int | list[int]]:
        """The current choices as ``grade`` expects them; unanswered questions are left out."""
        out: dict[str, int | list[int]] = {}
        for qid, sel in self.selectors.items():
            if isinstance(sel, W.RadioButtons):
                if sel.value is not None:
                    out[qid] = sel.value
            elif ticked := [i for i, box in enumerate(sel.children) if box.value]:
                out[qid] = ticked
        return out

    def select(self, qid: str, choice: int | list[int] | None) -> None:
        """Set a question's choice from code (tests, demos): an index, a list, or None."""
        sel = self.selectors[qid]
        if isinstance(sel, W.RadioButtons):
            sel.value = choice
            return
        chosen = {choice} if isinstance(choice, int) else set(choice or ())
        for i, box in enumerate(sel.children):
            box.value = i in chosen

    def render(self) -> None:
        """(Re)write every text in ``self.lang``; re-grade the last submission if any."""
        ui, bank = UI[self.lang], self.bank
        self.title.value = f"<h3>{ui['quiz']}: {_esc(bank.title[self.lang])}</h3>"
        for n, q in enumerate(bank.questions, 1):
            self.texts[q.id].value = question_html(q, n, self.lang)
        self.submit_button.description = ui["submit"]
        self.reset_button.description = ui["reset"]
        self.export_button.description = ui["export"]
        self.name.placeholder = ui["name"]
        if self.submitted is not None:
            self._show(self.submitted)

    def _show(self, answers: dict) -> QuizResult:
        result = grade(self.bank, answers, self.lang)
        for r in result.questions:
            self.feedback[r.id].value = feedback_html(r, self.lang)
        n_answered = sum(r.answered for r in result.questions)
        self.score.value = score_html(result.total, result.max_score, n_answered, self.lang)
        return result

    def on_submit(self, _button=None) -> None:
        self.submitted = self.answers()
        self._show(self.submitted)

    def on_reset(self, _button=None) -> None:
        for qid in self.selectors:
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
            "text/plain": render_text(self.bank, self.lang),
            "application/vnd.jupyter.widget-view+json": view,
        }
