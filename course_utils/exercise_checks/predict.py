"""Grading "predict, then run" questions: the student writes a number or a shape BEFORE the cell
that reveals it. The check compares the prediction with the true value and, for the usual wrong
predictions, says what was probably overlooked.

``number`` and ``shape`` are the expectations of a prediction check (see ``core.check``)::

    @check("predict_psnr", POINTS)
    def check_prediction_psnr(predicted_psnr_db):
        return predict.number(predicted_psnr_db, 20.0, {10.0: (note, en, vi)}, tol=0.5)
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from course_utils.exercise_checks.core import NotAttempted, Wrong

Hint = tuple[str, str, str]  # (note for graders, English message, Vietnamese message)


def _not_attempted(value) -> None:
    if value is None or value is Ellipsis:
        raise NotAttempted


def number(
    value, truth: float, mistakes: Mapping[float, Hint], tol: float = 0.0
) -> tuple[str, str]:
    """A numeric prediction must be within ``tol`` of ``truth``."""
    _not_attempted(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Wrong(
            "not a number",
            f"Write your prediction as a number, e.g. 12 or 0.5; got {type(value).__name__}.",
            f"Hãy ghi dự đoán dưới dạng một số, ví dụ 12 hoặc 0.5; nhận được "
            f"{type(value).__name__}.",
        )
    if abs(value - truth) <= tol:
        return (f"Your prediction {value:g} is right.", f"Dự đoán {value:g} của bạn đúng.")
    for wrong, hint in mistakes.items():
        if abs(value - wrong) <= tol:
            raise Wrong(*hint)
    raise Wrong(
        "wrong prediction",
        f"Your prediction {value:g} is not right. Work it out again, then run the next cell.",
        f"Dự đoán {value:g} của bạn chưa đúng. Hãy tính lại, rồi chạy ô tiếp theo để xem.",
    )


def shape(value, truth: tuple[int, ...], mistakes: Mapping[tuple, Hint]) -> tuple[str, str]:
    """A shape prediction: a tuple (or list, or torch.Size) of ints equal to ``truth``."""
    _not_attempted(value)
    ok_type = isinstance(value, tuple | list | torch.Size)
    if not ok_type or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise Wrong(
            "not a shape",
            f"Write the shape as a tuple of integers, e.g. (4, 7); got {value!r}.",
            f"Hãy ghi kích thước (shape) dưới dạng tuple các số nguyên, ví dụ (4, 7); nhận "
            f"được {value!r}.",
        )
    predicted = tuple(value)
    if predicted == truth:
        return (f"Your prediction {predicted} is right.", f"Dự đoán {predicted} của bạn đúng.")
    if predicted in mistakes:
        raise Wrong(*mistakes[predicted])
    raise Wrong(
        "wrong prediction",
        f"Your prediction {predicted} is not right. Think about what each dimension counts.",
        f"Dự đoán {predicted} của bạn chưa đúng. Hãy nghĩ xem mỗi chiều đếm cái gì.",
    )
