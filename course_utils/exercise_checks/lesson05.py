"""Checks for exercise 05 (sparse autoencoders): the Bernoulli KL penalty and the L1 penalty.

References follow the course's convention: penalties are per image, so that their weight is
comparable with the reconstruction loss (the KL penalty is one number per batch of codes: a sum
over units of KL(p || q_hat_j), where q_hat_j is unit j's mean activation over the batch).
"""

from __future__ import annotations

import torch
from torch import Tensor

from course_utils.exercise_checks import expect, predict
from course_utils.exercise_checks.core import Values, Wrong, check, randint
from course_utils.exercise_checks.expect import Mistake

POINTS = {"bernoulli_kl": 2, "kl_sparsity": 2, "l1_penalty": 2, "predict_rate_shape": 1}

_EPS = 1e-6


def _kl(p: float, q: Tensor) -> Tensor:
    q = q.double().clamp(_EPS, 1 - _EPS)
    return p * torch.log(p / q) + (1 - p) * torch.log((1 - p) / (1 - q))


@check("bernoulli_kl", POINTS)
def check_bernoulli_kl(bernoulli_kl, g: torch.Generator) -> Values:
    """``bernoulli_kl(p, q) -> KL(Bernoulli(p) || Bernoulli(q))`` elementwise, shape of q."""
    p = 0.02 + 0.18 * torch.rand(1, generator=g).item()
    q = 0.01 + 0.98 * torch.rand(randint(g, 3, 6), randint(g, 5, 12), generator=g)
    targets = ("course_utils.sparse:bernoulli_kl",)
    got = expect.returns(
        bernoulli_kl,
        p,
        q.clone(),
        what="bernoulli_kl(p, q)",
        forbidden=targets,
        shape=q.shape,
        hint=(
            " Return one value per element of q (do not sum).",
            " Hãy trả về một giá trị cho mỗi phần tử của q (đừng cộng lại).",
        ),
    )
    qd = q.double()
    expect.close(
        got,
        _kl(p, q),
        "bernoulli_kl(p, q)",
        [
            Mistake(
                qd * torch.log(qd / p) + (1 - qd) * torch.log((1 - qd) / (1 - p)),
                "arguments swapped",
                "The arguments are swapped: the penalty is KL(p || q) = p log(p/q) + "
                "(1-p) log((1-p)/(1-q)), with the TARGET p first.",
                "Hai đối số bị đảo: hàm phạt là KL(p || q) = p log(p/q) + "
                "(1-p) log((1-p)/(1-q)), với MỤC TIÊU p đứng trước.",
            ),
            Mistake(
                p * torch.log(p / qd),
                "second term missing",
                "The second term (1-p) log((1-p)/(1-q)) is missing: a Bernoulli has two outcomes.",
                "Thiếu số hạng thứ hai (1-p) log((1-p)/(1-q)): phân phối Bernoulli có hai kết quả.",
            ),
            Mistake(
                -_kl(p, q),
                "wrong sign",
                "Wrong sign: a KL divergence is never negative.",
                "Sai dấu: độ phân kỳ KL không bao giờ âm.",
            ),
        ],
        atol=1e-4,
    )
    edge = torch.tensor([0.0, 1.0, p])
    edge_kl = expect.returns(
        bernoulli_kl, p, edge, what="bernoulli_kl(p, [0, 1, p])", forbidden=targets
    )
    if not torch.isfinite(edge_kl).all():
        raise Wrong(
            "not clamped",
            "bernoulli_kl gives inf or nan when a unit never fires "
            "(q = 0) or always fires (q = 1): clamp q to [1e-6, 1 - 1e-6] first.",
            "bernoulli_kl cho inf hoặc nan khi một đơn vị không bao giờ kích hoạt "
            "(q = 0) hoặc luôn kích hoạt (q = 1): hãy cắt q về [1e-6, 1 - 1e-6] "
            "trước.",
        )
    want = _kl(p, edge)
    if not torch.allclose(edge_kl.detach().double(), want, rtol=0.02, atol=1e-3):
        raise Wrong(
            "clamped at the wrong value",
            f"bernoulli_kl(p, [0, 1, p]) gives {edge_kl.detach().double().tolist()}, expected "
            f"{want.tolist()}: clamp q to exactly [1e-6, 1 - 1e-6], the interval the task gives.",
            f"bernoulli_kl(p, [0, 1, p]) cho {edge_kl.detach().double().tolist()}, cần "
            f"{want.tolist()}: hãy cắt q về đúng [1e-6, 1 - 1e-6], khoảng mà đề bài cho.",
        )


@check("kl_sparsity", POINTS)
def check_kl_sparsity_penalty(kl_sparsity_penalty_per_batch, g: torch.Generator) -> Values:
    """``kl_sparsity_penalty_per_batch(h (B, n), p) -> scalar``: sum_j KL(p || mean_b h_bj)."""
    b, n = randint(g, 8, 20), randint(g, 10, 30)
    p = 0.02 + 0.1 * torch.rand(1, generator=g).item()
    h = torch.sigmoid(2 * torch.randn(b, n, generator=g)).requires_grad_()
    targets = (
        "course_utils.sparse:kl_sparsity_penalty_per_batch",
        "course_utils.sparse:bernoulli_kl",
    )
    got = expect.returns(
        kl_sparsity_penalty_per_batch,
        h,
        p,
        what="kl_sparsity_penalty_per_batch(h, p)",
        forbidden=targets,
        shape=(),
        hint=(
            " Return one number: sum the KL over the units.",
            " Hãy trả về một số: cộng KL trên các đơn vị.",
        ),
    )
    hd = h.detach()
    per_unit = _kl(p, hd.mean(dim=0))  # (n,)
    before = (
        "Average the activations over the batch FIRST (q_hat = h.mean(dim=0)), then take "
        "the KL: the penalty controls each unit's mean activation over the batch, not "
        "every activation.",
        "Hãy lấy trung bình kích hoạt trên batch TRƯỚC (q_hat = "
        "h.mean(dim=0)), rồi mới tính KL: hàm phạt điều khiển kích hoạt trung bình trên batch "
        "của mỗi đơn vị, không phải từng kích hoạt.",
    )
    expect.close(
        got,
        per_unit.sum(),
        "kl_sparsity_penalty_per_batch(h, p)",
        [
            Mistake(
                per_unit.mean(),
                "mean instead of sum",
                "Mean instead of sum: add up the KL of every unit, .sum(), do not average it.",
                "Dùng mean thay vì sum: hãy cộng "
                "KL của mọi đơn vị bằng .sum(), đừng lấy trung bình.",
            ),
            Mistake(
                _kl(p, hd.mean(dim=1)).sum(),
                "averaged over the units",
                "You averaged each "
                "IMAGE's activations (dim=1). q_hat is one mean per UNIT: h.mean(dim=0).",
                "Bạn đã lấy trung bình kích hoạt của mỗi ẢNH (dim=1). q_hat là một giá trị "
                "trung bình cho mỗi ĐƠN VỊ: h.mean(dim=0).",
            ),
            Mistake(_kl(p, hd).sum(dim=1).mean(), "KL before averaging", *before),
            Mistake(_kl(p, hd).sum(), "KL before averaging", *before),
            Mistake(_kl(p, hd).mean(), "KL before averaging", *before),
        ],
        atol=1e-4,
    )
    expect.backward(got, "kl_sparsity_penalty_per_batch(h, p)")
    expect.gradient_reaches(h, "the codes h", "các mã h")


@check("l1_penalty", POINTS)
def check_l1_penalty(mean_l1_penalty_per_image, g: torch.Generator) -> Values:
    """``mean_l1_penalty_per_image(h (B, n)) -> scalar``: sum_j |h_j| per image, batch mean."""
    b, n = randint(g, 4, 12), randint(g, 6, 20)
    h = torch.randn(b, n, generator=g).requires_grad_()  # negative values too
    got = expect.returns(
        mean_l1_penalty_per_image,
        h,
        what="mean_l1_penalty_per_image(h)",
        forbidden=("course_utils.sparse:mean_l1_penalty_per_image",),
        shape=(),
        hint=(" Return one number for the batch.", " Hãy trả về một số cho cả batch."),
    )
    hd = h.detach().double()
    expect.close(
        got,
        hd.abs().sum(dim=1).mean(),
        "mean_l1_penalty_per_image(h)",
        [
            Mistake(
                hd.abs().mean(),
                "mean instead of sum",
                "Mean instead of sum: per image, SUM "
                "|h_j| over the units, then average over the images.",
                "Dùng mean thay vì sum: "
                "với mỗi ảnh, hãy CỘNG |h_j| trên các đơn vị, rồi lấy trung bình trên các ảnh.",
            ),
            Mistake(
                hd.sum(dim=1).mean(),
                "absolute value missing",
                "Take the absolute value "
                "|h_j|: negative activations cost as much as positive ones.",
                "Hãy lấy giá trị tuyệt đối |h_j|: kích hoạt âm cũng bị phạt như kích hoạt dương.",
            ),
            Mistake(
                hd.abs().sum(),
                "summed over the batch",
                "Average over the images, do not sum over them: .sum(dim=1).mean().",
                "Hãy lấy trung bình trên các ảnh, đừng cộng: .sum(dim=1).mean().",
            ),
            Mistake(
                hd.pow(2).sum(dim=1).mean(),
                "L2 instead of L1",
                "That is an L2 penalty (squares); L1 uses absolute values.",
                "Đó là hàm phạt L2 (bình phương); L1 dùng giá trị tuyệt đối.",
            ),
        ],
    )
    expect.backward(got, "mean_l1_penalty_per_image(h)")
    expect.gradient_reaches(h, "the codes h", "các mã h")


@check("predict_rate_shape", POINTS)
def check_prediction_rate_shape(predicted_shape) -> tuple[str, str]:
    """Shape of q_hat = h.mean(dim=0) for codes h of shape (64, 1024)."""
    return predict.shape(
        predicted_shape,
        (1024,),
        {
            (64,): (
                "averaged over the wrong dimension",
                "mean(dim=0) averages over the IMAGES (dim 0), leaving one mean per unit.",
                "mean(dim=0) lấy trung bình trên các ẢNH "
                "(chiều 0), còn lại một giá trị trung bình cho mỗi đơn vị.",
            ),
            (64, 1024): (
                "dimension kept",
                "A mean over a dimension removes it (unless keepdim=True).",
                "Lấy trung bình theo một chiều sẽ bỏ chiều đó (trừ khi keepdim=True).",
            ),
            (1, 1024): (
                "dimension kept",
                "A mean over a dimension removes it (unless keepdim=True).",
                "Lấy trung bình theo một chiều sẽ bỏ chiều đó (trừ khi keepdim=True).",
            ),
            (): (
                "one number",
                "Only dim 0 is averaged; the 1024 units remain.",
                "Chỉ chiều 0 bị lấy trung bình; 1024 đơn vị vẫn còn.",
            ),
        },
    )
