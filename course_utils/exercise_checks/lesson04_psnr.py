"""Lesson 04 exercise checks: PSNR by hand, and the predict-then-run PSNR question."""

from __future__ import annotations

import torch

from course_utils.exercise_checks import expect, predict
from course_utils.exercise_checks.core import (
    CheckResult,
    call,
    forbid,
    randint,
    random_generator,
    run_check,
)
from course_utils.exercise_checks.expect import Mistake
from course_utils.exercise_checks.lesson04 import POINTS


def check_psnr(psnr) -> CheckResult:
    """``psnr(x_hat, x, max_value=1.0) -> (B,)``: 10 log10(max^2 / per-image mean squared error)."""

    def body() -> tuple[str, str]:
        g = random_generator()
        b, h, w = randint(g, 3, 7), randint(g, 5, 12), randint(g, 5, 12)
        for max_value in (1.0, 255.0):
            x = max_value * torch.rand(b, 1, h, w, generator=g)
            levels = torch.linspace(0.02, 0.3, b).view(b, 1, 1, 1) * max_value
            x_hat = x + levels * torch.randn(x.shape, generator=g)
            with forbid("course_utils.corruption:psnr"):
                got = expect.tensor(call(psnr, x_hat, x, max_value=max_value), "psnr(x_hat, x)")
            expect.shape(
                got,
                (b,),
                "psnr(x_hat, x)",
                (
                    " One value per image: average the squared error over each image's pixels, "
                    "(x_hat - x).pow(2).flatten(1).mean(dim=1), not over the whole batch.",
                    " Mỗi ảnh một giá trị: lấy trung bình bình phương sai số trên các điểm ảnh "
                    "của từng ảnh, (x_hat - x).pow(2).flatten(1).mean(dim=1), không phải trên "
                    "cả lô.",
                ),
            )
            se = (x_hat - x).double().pow(2).flatten(1)
            mse = se.mean(dim=1)
            ref = 10 * torch.log10(max_value**2 / mse)
            mistakes = [
                Mistake(
                    10 * torch.log(max_value**2 / mse),
                    "natural log",
                    "That is the natural log: use torch.log10.",
                    "Đó là log tự nhiên: hãy dùng torch.log10.",
                ),
                Mistake(
                    2 * ref,
                    "20 log10 of the squared error",
                    "20 log10 goes with max / RMSE; with the squared error it is 10 log10.",
                    "20 log10 đi với max / RMSE; với bình phương sai số thì là 10 log10.",
                ),
                Mistake(
                    ref / 2,
                    "RMSE instead of MSE",
                    "Use the MEAN SQUARED error, not its root.",
                    "Hãy dùng sai số BÌNH PHƯƠNG trung bình, không lấy căn.",
                ),
                Mistake(
                    10 * torch.log10(max_value**2 / se.sum(dim=1)),
                    "sum instead of mean",
                    "Average the squared error over the pixels (mean), do not sum it.",
                    "Hãy lấy trung bình bình phương sai số trên các điểm ảnh (mean), đừng cộng.",
                ),
                Mistake(
                    -ref,
                    "ratio upside down",
                    "The ratio is max_value^2 / MSE, not its inverse.",
                    "Tỉ số là max_value^2 / MSE, không phải nghịch đảo.",
                ),
            ]
            if max_value != 1.0:
                mistakes.append(
                    Mistake(
                        10 * torch.log10(max_value / mse),
                        "max_value not squared",
                        "Square the peak value: max_value ** 2 / MSE.",
                        "Hãy bình phương giá trị đỉnh: max_value ** 2 / MSE.",
                    )
                )
            expect.close(got, ref, f"psnr (max_value={max_value:g})", mistakes, atol=1e-3)
        return (
            "psnr is right: one value in dB per image, for any max_value.",
            "psnr đúng: mỗi ảnh một giá trị dB, với mọi max_value.",
        )

    return run_check("psnr", POINTS["psnr"], body)


def check_prediction_psnr(predicted_psnr_db) -> CheckResult:
    """PSNR of an image whose every pixel is off by exactly 0.1 (max value 1): 20 dB."""
    return predict.check_number(
        "predict_psnr",
        POINTS["predict_psnr"],
        predicted_psnr_db,
        20.0,
        {
            10.0: (
                "error not squared",
                "10 log10(1 / 0.1) uses the error; PSNR uses the SQUARED error (0.01).",
                "10 log10(1 / 0.1) dùng sai số; PSNR dùng BÌNH PHƯƠNG sai số (0.01).",
            ),
            40.0: (
                "20 log10 of the squared error",
                "20 log10 goes with the error itself, 10 log10 with its square.",
                "20 log10 đi với chính sai số, 10 log10 đi với bình phương của nó.",
            ),
            -20.0: (
                "sign",
                "A closer image has a HIGHER PSNR: max^2 / MSE > 1 here.",
                "Ảnh càng gần thì PSNR càng CAO: ở đây max^2 / MSE > 1.",
            ),
        },
        tol=0.5,
    )
