"""Lesson 01 exercise check: one training step of a linear autoencoder, written by the student."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from course_utils.exercise_checks import expect
from course_utils.exercise_checks.core import (
    CheckResult,
    Wrong,
    call,
    randint,
    random_generator,
    run_check,
)
from course_utils.exercise_checks.expect import Mistake
from course_utils.exercise_checks.lesson01 import POINTS


def _flat(params) -> Tensor:
    return torch.cat([p.detach().double().flatten() for p in params])


def check_train_step(train_step) -> CheckResult:
    """``train_step(model, x, optimizer) -> float``: one step on the squared error per image."""

    def body() -> tuple[str, str]:
        g = random_generator()
        d, k, b = randint(g, 8, 16), randint(g, 2, 4), randint(g, 6, 12)
        lr = 0.01 + 0.04 * float(torch.rand(1, generator=g))
        model = nn.Sequential(nn.Linear(d, k), nn.Linear(k, d))
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(0.3 * torch.randn(p.shape, generator=g))
        x = torch.rand(b, d, generator=g)
        before = [p.detach().clone() for p in model.parameters()]
        loss = ((model(x) - x) ** 2).sum(dim=1).mean()  # the reference: per image, batch mean
        grads = torch.autograd.grad(loss, list(model.parameters()))
        stale = [torch.randn(p.shape, generator=g) for p in model.parameters()]
        for p, s in zip(model.parameters(), stale, strict=True):
            p.grad = s.clone()  # left over from an earlier step: zero_grad must clear it
        optimizer = torch.optim.SGD(model.parameters(), lr=lr)
        value = call(train_step, model, x.clone(), optimizer)
        if isinstance(value, torch.Tensor):
            raise Wrong(
                "returned a tensor",
                "Return the loss as a Python float: loss.item().",
                "Hãy trả về giá trị mất mát dạng số thực Python: loss.item().",
            )
        got = expect.number(value, "The returned loss")
        ref = loss.item()
        if not expect.about(got, ref, 1e-4):
            hints = {
                ref / d: (
                    "mean instead of sum",
                    "The loss is averaged over the pixels too "
                    "(mean instead of sum; F.mse_loss does this by default). The course "
                    "sums over the pixels of an image, then averages over images.",
                    "Mất mát đang lấy trung bình cả trên các điểm ảnh (mean thay vì "
                    "sum; F.mse_loss mặc định làm vậy). Khóa học cộng trên các điểm ảnh "
                    "của một ảnh, rồi lấy trung bình trên các ảnh.",
                ),
                ref * b: (
                    "summed over the batch",
                    "The loss is summed over the batch too; "
                    "average over the images: .sum(dim=1).mean().",
                    "Mất mát đang cộng cả trên lô; hãy lấy trung bình trên các ảnh: "
                    ".sum(dim=1).mean().",
                ),
            }
            for wrong, hint in hints.items():
                if expect.about(got, wrong, 1e-4):
                    raise Wrong(*hint)
            raise Wrong(
                "wrong loss",
                f"The returned loss is {got:.5g}, expected {ref:.5g} (squared "
                "error summed over pixels, averaged over the batch, BEFORE the step).",
                f"Giá trị mất mát trả về là {got:.5g}, cần {ref:.5g} (bình phương sai số "
                "cộng trên điểm ảnh, trung bình trên lô, TRƯỚC bước cập nhật).",
            )
        after = _flat(model.parameters())
        step = lambda gs: _flat(before) - lr * _flat(gs)  # noqa: E731
        expect.close(
            after,
            step(grads),
            "The parameters after your step",
            [
                Mistake(
                    _flat(before),
                    "no update",
                    "The parameters did not change: call "
                    "loss.backward() and then optimizer.step().",
                    "Tham số không thay đổi: hãy gọi loss.backward() rồi optimizer.step().",
                ),
                Mistake(
                    step([gr + s for gr, s in zip(grads, stale, strict=True)]),
                    "no zero_grad",
                    "Old gradients were added to the new ones: call optimizer.zero_grad() before "
                    "loss.backward().",
                    "Gradient cũ bị cộng vào gradient mới: hãy gọi "
                    "optimizer.zero_grad() trước loss.backward().",
                ),
                Mistake(
                    step(stale),
                    "no backward",
                    "The step used stale gradients: call loss.backward() before optimizer.step().",
                    "Bước cập nhật dùng gradient cũ: "
                    "hãy gọi loss.backward() trước optimizer.step().",
                ),
            ],
            atol=1e-5,
        )
        return (
            "train_step makes one correct gradient step and returns the loss.",
            "train_step thực hiện đúng một bước gradient và trả về giá trị mất mát.",
        )

    return run_check("linear_ae_step", POINTS["linear_ae_step"], body)
