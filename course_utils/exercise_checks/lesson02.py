"""Checks for exercise 02 (stacked autoencoders): the tied decoder and AUROC by hand.

The AUROC reference counts pairs directly (every anomalous score against every normal one), an
independent route from ``course_utils.anomaly``'s ROC curve, which the student may not call.
"""

from __future__ import annotations

import torch
from torch import Tensor

from course_utils.exercise_checks import expect, predict
from course_utils.exercise_checks.core import Values, Wrong, call, check, forbid, randint
from course_utils.exercise_checks.expect import Mistake

POINTS = {"tied_decoder": 2, "auroc": 2, "predict_tied_params": 1}


@check("tied_decoder", POINTS)
def check_tied_decode(tied_decode, g: torch.Generator) -> Values:
    """``tied_decode(h (B, n_out), weight (n_out, n_in), bias (n_in,)) -> (B, n_in)``."""
    # a square weight first: a missing transpose runs but gives W h instead of W^T h
    for n_in, n_out in ((randint(g, 5, 9),) * 2, (randint(g, 10, 20), randint(g, 3, 8))):
        b = randint(g, 2, 6)
        h = torch.randn(b, n_out, generator=g)
        weight = torch.randn(n_out, n_in, generator=g).requires_grad_()
        bias = torch.randn(n_in, generator=g).requires_grad_()
        try:
            out = expect.tensor(call(tied_decode, h, weight, bias), "tied_decode(h)")
        except Wrong as problem:
            if problem.note == "raised RuntimeError" and "mat" in problem.en:
                raise Wrong(
                    "transpose missing",
                    f"{problem.en} The encoder weight is (n_out, n_in) = {(n_out, n_in)}; the "
                    "decoder maps n_out back to n_in, so it needs the TRANSPOSE: "
                    "F.linear(h, weight.T, bias).",
                    f"{problem.vi} Trọng số bộ mã hóa có kích thước (n_out, n_in) = "
                    f"{(n_out, n_in)}; bộ giải mã đưa n_out về n_in nên cần ma trận CHUYỂN VỊ: "
                    "F.linear(h, weight.T, bias).",
                ) from None
            raise
        expect.shape(out, (b, n_in), "tied_decode(h)")
        ref = h @ weight.detach() + bias.detach()
        no_transpose = (
            [
                Mistake(
                    h @ weight.detach().T + bias.detach(),
                    "transpose missing",
                    "You used the encoder weight W itself; the tied decoder uses its "
                    "TRANSPOSE: F.linear(h, weight.T, bias).",
                    "Bạn dùng chính trọng số W của bộ mã hóa; bộ giải mã dùng chung trọng số "
                    "lấy ma trận CHUYỂN VỊ của W: F.linear(h, weight.T, bias).",
                )
            ]
            if n_in == n_out
            else []
        )
        expect.close(
            out,
            ref,
            "tied_decode(h)",
            [
                *no_transpose,
                Mistake(
                    h @ weight.detach(),
                    "bias missing",
                    "The decoder's own bias is missing: add bias.",
                    "Thiếu bias riêng của bộ giải mã: hãy cộng bias.",
                ),
                Mistake(
                    torch.sigmoid(ref),
                    "activation applied",
                    "Return the linear output; the model applies the activation afterwards.",
                    "Hãy trả về đầu ra tuyến tính; mô hình sẽ áp dụng hàm kích hoạt sau.",
                ),
                Mistake(
                    torch.relu(ref),
                    "activation applied",
                    "Return the linear output; the model applies the activation afterwards.",
                    "Hãy trả về đầu ra tuyến tính; mô hình sẽ áp dụng hàm kích hoạt sau.",
                ),
            ],
        )
        expect.backward(out, "tied_decode(h)")
        expect.gradient_reaches(weight, "the encoder weight", "trọng số của bộ mã hóa")
        expect.gradient_reaches(bias, "the decoder bias", "bias của bộ giải mã")
        expect.close(weight.grad, h.T @ torch.ones(b, n_in), "The gradient of the weight")


def _pairwise_auroc(normal: Tensor, anomalous: Tensor, tie: float = 0.5) -> float:
    """P(anomalous score > normal score) + tie * P(equal), over all pairs."""
    diff = anomalous.double()[:, None] - normal.double()[None, :]  # (N1, N0)
    return ((diff > 0).double() + tie * (diff == 0).double()).mean().item()


@check("auroc", POINTS)
def check_auroc(auroc, g: torch.Generator) -> Values:
    """``auroc(normal (N0,), anomalous (N1,)) -> float``, ties counted one half."""
    n0, n1 = randint(g, 25, 40), randint(g, 10, 20)
    cases = [  # integer scores: plenty of ties between the two groups
        (
            torch.randint(0, 8, (n0,), generator=g).float(),
            torch.randint(3, 11, (n1,), generator=g).float(),
        ),
        (torch.rand(n0, generator=g), torch.rand(n1, generator=g) + 0.3),
        (torch.full((n0,), 0.2), torch.full((n1,), 0.2)),  # all tied: 0.5
        (torch.rand(n0, generator=g), torch.rand(n1, generator=g) + 1.0),  # separated: 1.0
    ]
    targets = (
        "course_utils.anomaly:auroc",
        "course_utils.anomaly:roc_curve",
        "sklearn.metrics._ranking:roc_auc_score",
        "sklearn.metrics._ranking:roc_curve",
    )
    for normal, anomalous in cases:
        with forbid(*targets):
            value = call(auroc, normal.clone(), anomalous.clone())
        got = expect.number(value, "auroc(normal, anomalous)")
        ref = _pairwise_auroc(normal, anomalous)
        if abs(got - ref) <= 1e-6:
            continue
        hints = [
            (
                1 - ref,
                "orientation reversed",
                "Your AUROC is 1 minus the right one: an anomaly should score HIGHER than a "
                "normal image (score >= threshold is flagged).",
                "AUROC của bạn bằng 1 trừ giá trị đúng: ảnh bất thường phải có điểm CAO "
                "hơn ảnh bình thường (điểm >= ngưỡng thì bị đánh dấu).",
            ),
            (
                _pairwise_auroc(normal, anomalous, 0.0),
                "ties not counted as one half",
                "Ties count one half: a pair with equal scores is a coin toss. You counted "
                "them as 0.",
                "Các cặp bằng điểm tính một nửa (như tung đồng xu). Bạn tính chúng là 0.",
            ),
            (
                _pairwise_auroc(normal, anomalous, 1.0),
                "ties not counted as one half",
                "Ties count one half: a pair with equal scores is a coin toss. You counted "
                "them as 1.",
                "Các cặp bằng điểm tính một nửa (như tung đồng xu). Bạn tính chúng là 1.",
            ),
        ]
        for wrong, *hint in hints:
            if abs(got - wrong) <= 1e-6:
                raise Wrong(*hint)
        raise Wrong(
            "wrong value",
            f"auroc gives {got:.4f}, expected {ref:.4f} for {n0} normal and {n1} anomalous "
            "scores (the two groups need not have the same size).",
            f"auroc cho {got:.4f}, cần {ref:.4f} với {n0} điểm bình thường và {n1} điểm bất "
            "thường (hai nhóm không nhất thiết cùng kích thước).",
        )


@check("predict_tied_params", POINTS)
def check_prediction_tied_params(predicted_n_params) -> tuple[str, str]:
    """Parameters of TiedAutoencoder(784, hidden=(256, 64), n_latent=16)."""
    encoder = 784 * 256 + 256 + 256 * 64 + 64 + 64 * 16 + 16
    untied = encoder + 16 * 64 + 64 + 64 * 256 + 256 + 256 * 784 + 784
    return predict.number(
        predicted_n_params,
        encoder + 64 + 256 + 784,
        {
            untied: (
                "counted the untied model",
                "That is the UNTIED model's count: a tied weight is "
                "one tensor used twice and counts once.",
                "Đó là số tham số của mô hình KHÔNG dùng chung trọng số: một trọng số "
                "dùng chung là một tensor dùng hai lần, chỉ đếm một lần.",
            ),
            encoder: (
                "decoder biases not counted",
                "The tied decoder still has its own biases (64, 256 and 784 numbers).",
                "Bộ giải mã dùng chung trọng số vẫn có bias riêng (64, 256 và 784 số).",
            ),
        },
    )
