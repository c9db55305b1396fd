"""Lesson 07 exercise check: the predict-then-run question on the CVAE decoder's input width."""

from __future__ import annotations

from course_utils.exercise_checks import predict
from course_utils.exercise_checks.core import (
    CheckResult,
)
from course_utils.exercise_checks.lesson07 import POINTS


def check_prediction_decoder_width(predicted_width) -> CheckResult:
    """Input width of a CVAE decoder for MNIST: latent size 2 plus 10 one-hot classes."""
    return predict.check_number(
        "predict_decoder_width",
        POINTS["predict_decoder_width"],
        predicted_width,
        12,
        {
            2: (
                "label forgotten",
                "The decoder also receives the one-hot label.",
                "Bộ giải mã cũng nhận nhãn one-hot.",
            ),
            3: (
                "label not one-hot",
                "The label enters one-hot: 10 numbers, not 1.",
                "Nhãn được đưa vào dạng one-hot: 10 số, không phải 1.",
            ),
            794: (
                "encoder width",
                "794 = 784 + 10 is the ENCODER's input; the decoder reads z.",
                "794 = 784 + 10 là đầu vào của BỘ MÃ HÓA; bộ giải mã đọc z.",
            ),
        },
    )
