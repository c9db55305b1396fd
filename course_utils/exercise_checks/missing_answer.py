"""A check cell run before its task cell: "run the task cell above first", not a bare NameError.

The check cell names the task's answer (``check_l1_penalty(mean_l1_penalty_per_image)``); if the
task cell has not run in this kernel, Python raises NameError. Imported inside IPython (Jupyter),
``course_utils.exercise_checks`` installs a handler for NameError that adds, under the usual
traceback, "run the task cell above first" when the missing name is a task's answer
(``name_error_hint``); any other NameError is shown as usual.
"""

from __future__ import annotations

import inspect
import sys

from course_utils.exercise_checks.core import language


def task_answer_names() -> dict[str, set[str]]:
    """The names the exercises' task cells define, each with its task(s): the answers the public
    checks take, e.g. ``check_l1_penalty(mean_l1_penalty_per_image)`` gives "l1_penalty"."""
    from course_utils import exercise_checks  # the lesson modules import this one

    names: dict[str, set[str]] = {}
    for attribute in exercise_checks.__all__:
        check_function = getattr(exercise_checks, attribute)
        if attribute.startswith("check_") and hasattr(check_function, "task"):
            for name in inspect.signature(check_function).parameters:
                names.setdefault(name, set()).add(check_function.task)
    return names


def name_error_hint(error: BaseException) -> str | None:
    """What to tell a student whose check cell raised ``error``: None unless it is a NameError
    for a task's answer (its task cell has not been run in this kernel yet)."""
    if not isinstance(error, NameError):
        return None
    name = getattr(error, "name", None) or (str(error).split("'")[1:2] or [None])[0]
    tasks = task_answer_names().get(name)
    if not tasks:
        return None
    which = f" (task {next(iter(tasks))})" if len(tasks) == 1 else ""  # names shared by lessons
    if language() == "vi":
        return (
            f"👉 {name} được viết trong ô bài tập phía trên{which.replace('task', 'bài')}, ô đó "
            "chưa chạy trong kernel này: hãy chạy ô bài tập phía trên trước (run the task cell "
            "above first), rồi chạy lại ô kiểm tra này."
        )
    return (
        f"👉 {name} is written in the task cell above{which}, which has not run in this kernel "
        "yet: run the task cell above first, then this check cell again."
    )


def _show_name_error(shell, etype, value, tb, tb_offset=None) -> list[str]:
    """IPython's custom handler for NameError: the usual traceback, plus the hint if any."""
    stb = shell.InteractiveTB.structured_traceback(etype, value, tb, tb_offset=tb_offset)
    hint = name_error_hint(value)
    if hint:
        stb = [*stb, hint]
    shell._showtraceback(etype, value, stb)  # as IPython's own showtraceback does
    return stb


def install_name_error_hint() -> bool:
    """Install ``_show_name_error`` in the running IPython (Jupyter) shell, once. Nothing happens
    outside IPython, or where another handler of NameError is already installed."""
    if "IPython" not in sys.modules:
        return False
    shell = sys.modules["IPython"].get_ipython()
    if shell is None or not hasattr(shell, "set_custom_exc"):
        return False
    if getattr(shell, "_course_name_error_hint", False):
        return True
    if shell.custom_exceptions:  # someone else's handler: leave it
        return False
    shell.set_custom_exc((NameError,), _show_name_error)
    shell._course_name_error_hint = True
    return True
