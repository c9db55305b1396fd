"""The machinery every exercise check shares: results, bilingual messages, safe calls.

A check (``check_pca_fit(fit_pca)``, ...) runs right after a task. It calls the student's code on
inputs the student cannot anticipate (random shapes and seeds), compares the answer with an
independent reference written in the lesson's check module, and returns a ``CheckResult``:

    ✅ pca_fit: correct (2/2 points). ...            one line when right
    ❌ pca_fit: wrong (0/2 points). <what is wrong>  what to fix when not
    ⏳ pca_fit: not attempted (0/2 points). ...      the stub still raises NotImplementedError

A check never raises in a student notebook (so "Run all" shows every task's status) unless the
environment variable COURSE_CHECKS_STRICT=1 is set (CI, through solutions/conftest.py) or the
notebook runs under nbgrader's autograder: then a failed check raises ``CheckFailed``. The grader
(``python -m course_admin.grade``) reads the machine-readable copy of the result that Jupyter
stores with the check cell's output (MIME type ``MIME``).

Messages exist in English and Vietnamese; ``COURSE_LANG`` picks one, as for the quizzes.

Where a task forbids calling the course's own version of a function, ``forbid`` makes that
function raise while the check runs (its code object is swapped and always restored), so even a
name imported earlier with ``from course_utils... import ...`` is caught.

Every public check is written as its expectations only and decorated with ``@check(task,
POINTS)``, which supplies a freshly seeded generator ``g`` and turns the outcome into a
``CheckResult`` (through ``run_check``).
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
import os
import secrets
import sys
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from course_utils import settings
from course_utils.exercise_checks.passed import PASSED

STRICT_ENV = "COURSE_CHECKS_STRICT"
MIME = "application/vnd.course-check+json"
_FORBIDDEN = "__course_forbidden__"
_LIBRARY_DIRS = (str(Path(torch.__file__).parent.parent), str(Path(os.__file__).parent))
_CHECKS_DIR = str(Path(__file__).parent)
Values = dict[str, object] | None  # what a check fills into its PASSED message (None: nothing)
# (*answers[, g]) -> Values, or directly the (English, Vietnamese) message (the predict questions)
Expectations = Callable[..., "Values | tuple[str, str]"]


def language() -> str:
    """ "vi" when COURSE_LANG starts with "vi" (e.g. "vi", "vi_VN"), else "en" (as the quizzes:
    the one resolver, ``course_utils.settings.language``)."""
    return settings.language()


def strict() -> bool:
    """Failed checks raise in CI (COURSE_CHECKS_STRICT=1) and under nbgrader's autograder, which
    awards a grade cell's points when the cell raises no error (it sets NBGRADER_EXECUTION)."""
    return settings.checks_strict()  # COURSE_CHECKS_STRICT on (1, true, ...) or NBGRADER_EXECUTION


# ----------------------------------------------------------------------------- results
class NotAttempted(Exception):
    """The student's code raised NotImplementedError: the stub is still in place."""


class Wrong(Exception):
    """A problem found by a check: a short English note for graders and a message per language."""

    def __init__(self, note: str, en: str, vi: str) -> None:
        super().__init__(en)
        self.note, self.en, self.vi = note, en, vi


class CheckFailed(AssertionError):
    """Raised by a failed check in strict mode (CI). Jupyter shows only its one-line message."""

    def _render_traceback_(self) -> list[str]:
        return [f"CheckFailed: {self}"]


_ICONS = {"passed": "✅", "wrong": "❌", "not attempted": "⏳"}
_STATUS_VI = {"passed": "đúng", "wrong": "sai", "not attempted": "chưa làm"}


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check. ``note`` is a short English reason for the grading CSV."""

    task: str
    status: str  # "passed", "wrong" or "not attempted"
    points: float
    max_points: float
    note: str
    en: str
    vi: str

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def message(self) -> str:
        return self.vi if language() == "vi" else self.en

    def __str__(self) -> str:
        vi = language() == "vi"
        status = (
            _STATUS_VI[self.status] if vi else {"passed": "correct"}.get(self.status, self.status)
        )
        points = "điểm" if vi else "points"
        head = f"{_ICONS[self.status]} {self.task}: {status} ({self.points:g}/{self.max_points:g} "
        return f"{head}{points}). {self.message}"

    def _repr_pretty_(self, printer, cycle: bool) -> None:  # IPython's plain-text display
        printer.text(str(self))

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, str]:
        return {"text/plain": str(self), MIME: json.dumps(asdict(self), ensure_ascii=False)}


def run_check(task: str, points: float, body: Callable[[], tuple[str, str]]) -> CheckResult:
    """Run ``body`` (returns the English and Vietnamese success message) and wrap the outcome.

    The global torch RNG state is restored afterwards, so a check never changes what the
    student's next cells draw. In strict mode (COURSE_CHECKS_STRICT=1) a failure raises.
    """
    rng_state = torch.get_rng_state()
    try:
        with torch.enable_grad():
            en, vi = body()
        result = CheckResult(task, "passed", points, points, "", en, vi)
    except NotAttempted:
        result = CheckResult(
            task,
            "not attempted",
            0,
            points,
            "not attempted",
            "Replace `raise NotImplementedError()` with your code, run that cell, then this one.",
            "Hãy thay `raise NotImplementedError()` bằng code của bạn, chạy ô đó rồi chạy lại ô "
            "này.",
        )
    except Wrong as problem:
        result = CheckResult(task, "wrong", 0, points, problem.note, problem.en, problem.vi)
    except Exception as error:  # the check could not digest what the student's code returned
        what = f"{type(error).__name__}: {_first_line(error)}"
        result = CheckResult(
            task,
            "wrong",
            0,
            points,
            f"unexpected result ({what})",
            f"The check could not use what your code returned ({what}). Re-read the task: what "
            "type and shape should it return?",
            f"Bài kiểm tra không dùng được kết quả code của bạn trả về ({what}). Hãy đọc lại đề: "
            "cần trả về kiểu gì, kích thước (shape) nào?",
        )
    finally:
        torch.set_rng_state(rng_state)
    if not result.passed and strict():
        raise CheckFailed(str(result))
    return result


def check(task: str, points: Mapping[str, float]) -> Callable[[Expectations], Callable]:
    """Make ``expectations(*answers)`` the public check ``check_x(*answers) -> CheckResult``.

    The decorated function states what a right answer must satisfy: it receives the student's
    answers and raises ``Wrong`` on a problem. If it returns, the answer is right and the student
    reads ``PASSED[task]`` (``exercise_checks.passed``: every success message, in English and
    Vietnamese); a message with ``{names}`` is filled in from the dict the function returns (e.g.
    the sizes it drew). A predict question returns its (English, Vietnamese) message itself.
    If the function has a parameter ``g``, that one receives a generator freshly seeded from the
    operating system (inputs nobody can anticipate). The check runs it through ``run_check`` for
    ``points[task]`` points; the public function keeps its name, docstring and signature (less
    ``g``)::

        # in passed.py: "pca_fit": ("fit_pca is right (D={d}).", "fit_pca đúng (D={d}).")
        @check("pca_fit", POINTS)
        def check_pca_fit(fit_pca, g):
            d = randint(g, 3, 8)
            ...  # expectations that raise Wrong
            return {"d": d}
    """

    def decorate(expectations: Expectations) -> Callable[..., CheckResult]:
        signature = inspect.signature(expectations)
        answers = [p for name, p in signature.parameters.items() if name != "g"]
        wants_generator = len(answers) < len(signature.parameters)
        public = signature.replace(parameters=answers, return_annotation=CheckResult)

        def messages(**arguments) -> tuple[str, str]:
            result = expectations(**arguments)
            if task not in PASSED:  # a predict question words its own verdict
                return result
            english, vietnamese = PASSED[task]
            return english.format(**(result or {})), vietnamese.format(**(result or {}))

        @functools.wraps(expectations)
        def public_check(*args, **kwargs) -> CheckResult:
            bound = public.bind(*args, **kwargs)  # a wrong call raises TypeError, as usual
            if wants_generator:
                bound.arguments["g"] = random_generator()
            return run_check(task, points[task], lambda: messages(**bound.arguments))

        public_check.__signature__ = public  # type: ignore[attr-defined]
        public_check.task = task  # type: ignore[attr-defined]  # read by name_error_hint
        return public_check

    return decorate


# ------------------------------------------------------------------- calling student code
def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    line = text[0] if text else ""
    return line if len(line) <= 160 else line[:157] + "..."


def _student_frame(error: BaseException) -> traceback.FrameSummary | None:
    """The deepest frame of the traceback that is neither a library nor the checks."""
    frames = traceback.extract_tb(error.__traceback__)
    mine = [f for f in frames if not f.filename.startswith((*_LIBRARY_DIRS, _CHECKS_DIR))]
    return mine[-1] if mine else None


def call(fn, *args, **kwargs):
    """Call the student's ``fn``; turn whatever it raises into one readable line.

    NotImplementedError -> NotAttempted; a forbidden course_utils function -> Wrong; any other
    exception -> Wrong("your function raised RuntimeError: ... (line 4 of fit_pca)").
    """
    name = getattr(fn, "__name__", "your code")
    if not callable(fn):
        raise Wrong(
            "not a function",
            f"Expected a function, got {type(fn).__name__}. Run the task cell (it defines it).",
            f"Cần một hàm, nhận được {type(fn).__name__}. Hãy chạy ô bài tập (ô định nghĩa hàm).",
        )
    try:
        return fn(*args, **kwargs)
    except NotImplementedError as error:
        raise NotAttempted from error
    except (Wrong, NotAttempted):
        raise
    except Exception as error:
        text = _first_line(error)
        if text.startswith(_FORBIDDEN):
            used = text.removeprefix(_FORBIDDEN).strip().replace(":", ".")
            raise Wrong(
                f"calls {used}",
                f"{name} calls {used}, a ready-made version of what this task asks you to write. "
                "Write it yourself with torch operations.",
                f"{name} gọi {used}, một phiên bản có sẵn của đúng việc bài này yêu cầu bạn tự "
                "viết. Hãy tự viết bằng các phép toán torch.",
            ) from error
        frame = _student_frame(error)
        where = f" (line {frame.lineno} of {frame.name})" if frame else ""
        hint_en = hint_vi = ""
        if "shape" in text or "size" in text:
            hint_en = " Print the shapes of your tensors to find the mismatch."
            hint_vi = " Hãy in kích thước (shape) của các tensor để tìm chỗ không khớp."
        raise Wrong(
            f"raised {type(error).__name__}",
            f"{name} raised {type(error).__name__}: {text}{where}.{hint_en}",
            f"{name} báo lỗi {type(error).__name__}: {text}{where}.{hint_vi}",
        ) from error


@contextmanager
def forbid(*targets: str) -> Iterator[None]:
    """Make course_utils functions raise while the block runs. Targets: "module:qualname".

    A third-party library that nobody has imported yet is skipped; a course_utils target that
    does not exist is a bug in the check (a renamed function) and raises ``LookupError``.
    """
    swapped = []
    try:
        for target in targets:
            function = _lookup(target)
            if function is None and target.startswith("course_utils."):
                raise LookupError(f"forbid: {target} does not exist; was it renamed?")
            if function is None:
                continue
            blocker = {}
            exec(  # noqa: S102 - builds a stub with the same (empty) closure as the target
                f"def blocked(*args, **kwargs):\n raise RuntimeError({f'{_FORBIDDEN} {target}'!r})",
                {},
                blocker,
            )
            swapped.append((function, function.__code__))
            function.__code__ = blocker["blocked"].__code__
        yield
    finally:
        for function, code in swapped:
            function.__code__ = code


def _lookup(target: str):
    module_name, _, qualname = target.partition(":")
    if not module_name.startswith("course_utils.") and module_name not in sys.modules:
        return None  # a library the student has not imported cannot have been called
    try:
        obj = importlib.import_module(module_name)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError):
        return None
    while hasattr(obj, "__wrapped__"):  # decorated functions: block the inner one
        obj = obj.__wrapped__
    if getattr(obj, "__code__", None) is None or obj.__code__.co_freevars:
        return None
    return obj


def random_generator() -> torch.Generator:
    """A generator seeded from the operating system: inputs nobody can anticipate."""
    return torch.Generator().manual_seed(secrets.randbits(63))


def randint(g: torch.Generator, low: int, high: int) -> int:
    """A random integer in [low, high] drawn from ``g``."""
    return int(torch.randint(low, high + 1, (1,), generator=g))
