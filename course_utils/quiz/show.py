"""``show_quiz``: the last cell of every lesson. A widget under Jupyter, printed text elsewhere.

The widget module (and ipywidgets) is imported only when a kernel can show it, so the text
form, the grading and the command line work without ipywidgets.
"""

from __future__ import annotations

from course_utils.quiz.bank import resolve_lang
from course_utils.quiz.files import load_bank
from course_utils.quiz.text import render_text


def _in_kernel() -> bool:
    """True under a Jupyter (IPython) kernel; False in plain Python or a terminal IPython."""
    try:
        from IPython import get_ipython
    except ImportError:  # no IPython installed at all
        return False
    shell = get_ipython()  # None in plain Python
    return shell is not None and hasattr(shell, "kernel")


def show_quiz(lesson: str, lang: str | None = None, learner: str | None = None) -> None:
    """Show a lesson's quiz: a widget under a Jupyter kernel, printed text elsewhere.

    ``lang``: "en" or "vi"; None means $COURSE_LANG, else English (the widget can switch).
    ``learner``: your name; it fixes the shuffled order of the options, so that you see the same
    order every time (None means $COURSE_LEARNER, else one order per lesson).

    Under a kernel without a widget front end (headless nbval/nbconvert runs) the display falls
    back to the printed quiz, so this never fails for a valid bank.
    """
    bank, lang = load_bank(lesson), resolve_lang(lang)
    if not _in_kernel():
        print(render_text(bank, lang, learner))
        return
    from IPython.display import display

    try:
        from course_utils.quiz.widget import QuizWidget

        view = QuizWidget(bank, lang, learner)
    except Exception as err:  # a missing/odd ipywidgets must not break a lesson: print instead
        print(
            f"(Interactive quiz unavailable: {err!r}. Printed form:)\n"
            f"{render_text(bank, lang, learner)}"
        )
        return
    display(view)
