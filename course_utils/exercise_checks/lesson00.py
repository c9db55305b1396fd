"""The checks of lesson 00's two coding tasks: the reconstruction loss, and a weighted one.

The course's one convention (``course_utils.losses.mean_sse_per_image``): the squared error summed
over each image's pixels, then averaged over the images. The reference is written here with torch
only. The check tries the student's function on flat (B, 784) and on image-shaped (B, 1, 28, 28)
batches and names the typical wrong answers: ``.sum(dim=1)`` on images (it sums over the single
grey channel), the mean over every pixel (``F.mse_loss``'s default), the sum over the batch, a
result that is not one number, and a missing ``return``. ``check_weighted_loss`` names the
silent broadcasting bug: per-image losses (B,) times weights (B, 1) make a (B, B) table.
Lesson 00 is not graded: its tasks are not in the grading table (``exercise_checks.POINTS``),
and the success messages are written here. So its checks show "(practice, not graded)" where the
graded lessons show points (``PracticeResult``).
"""

from __future__ import annotations

import functools
from dataclasses import asdict

import torch
from torch import Tensor

from course_utils.exercise_checks.core import CheckResult, Wrong, call, check, language, randint

POINTS = {"reconstruction_loss": 1, "weighted_loss": 1}


class PracticeResult(CheckResult):
    """A check result shown without points: "✅ task: correct (practice, not graded). ..."."""

    def __str__(self) -> str:
        head = super().__str__().partition(" (")[0]  # "✅ task: correct", before "(1/1 points)"
        practice = "luyện tập, không chấm điểm" if language() == "vi" else "practice, not graded"
        return f"{head} ({practice}). {self.message}"


def _practice(public_check):
    """Wrap a check so that it returns a ``PracticeResult`` (same fields, no points shown)."""

    @functools.wraps(public_check)
    def practice_check(*args, **kwargs) -> PracticeResult:
        return PracticeResult(**asdict(public_check(*args, **kwargs)))

    return practice_check


def reference_loss(x_hat: Tensor, x: Tensor) -> Tensor:
    """(B, ...) and (B, ...) -> one number: per-image sum of squared errors, mean over images."""
    return ((x_hat.double() - x.double()) ** 2).flatten(1).sum(dim=1).mean()


def _close(value: Tensor, target: Tensor) -> bool:
    return bool(torch.isclose(value, target, rtol=1e-4, atol=1e-7))


def _diagnose(value: Tensor, x_hat: Tensor, x: Tensor, shape: str) -> Wrong:
    """The message for a wrong number ``value`` on the batch (x_hat, x) of the given ``shape``."""
    ref = reference_loss(x_hat, x)
    b, n_pixels = x.shape[0], x[0].numel()
    got = (
        f"On the check's own random {shape} batch (B = {b}), not your cell's, your loss is "
        f"{value.item():.4g}; the right value is {ref.item():.4g}"
    )
    got_vi = (
        f"Trên batch {shape} ngẫu nhiên riêng của bài kiểm tra (B = {b}), không phải batch trong ô "
        f"của bạn, hàm mất mát của bạn cho {value.item():.4g}; giá trị đúng là {ref.item():.4g}"
    )
    if _close(value, ref / n_pixels) and x.dim() > 2:
        return Wrong(
            "sum over dim=1 of images",
            f"{got}: {n_pixels} times too small. On (B, 1, 28, 28) tensors, `.sum(dim=1)` sums "
            "over the single grey channel, not over the pixels. Flatten each image first: "
            "`.flatten(1).sum(dim=1)`.",
            f"{got_vi}: nhỏ hơn {n_pixels} lần. Với tensor (B, 1, 28, 28), `.sum(dim=1)` cộng theo "
            "kênh xám duy nhất, không phải theo các điểm ảnh. Hãy làm phẳng mỗi ảnh trước: "
            "`.flatten(1).sum(dim=1)`.",
        )
    if _close(value, ref / n_pixels):
        return Wrong(
            "mean over pixels",
            f"{got}: {n_pixels} times too small. This is the mean over every pixel (what "
            "`F.mse_loss` or `.mean()` gives). Sum over each image's pixels, then average over "
            "the images.",
            f"{got_vi}: nhỏ hơn {n_pixels} lần. Đây là trung bình trên mọi điểm ảnh (kết quả của "
            "`F.mse_loss` hay `.mean()`). Hãy cộng trên các điểm ảnh của mỗi ảnh, rồi lấy trung "
            "bình trên các ảnh.",
        )
    if _close(value, ref * b):
        return Wrong(
            "sum over the batch",
            f"{got}: {b} times too large, the batch size. Average over the images instead of "
            "summing them, so the loss does not grow with the batch.",
            f"{got_vi}: lớn hơn {b} lần, đúng bằng kích thước batch. Hãy lấy trung bình trên các "
            "ảnh thay vì cộng lại, để hàm mất mát không lớn lên theo batch.",
        )
    return Wrong(
        "wrong value",
        f"{got}. Square the differences, sum them over each image's pixels, then average over "
        "the images.",
        f"{got_vi}. Hãy bình phương các hiệu, cộng trên các điểm ảnh của mỗi ảnh, rồi lấy trung "
        "bình trên các ảnh.",
    )


@_practice
@check("reconstruction_loss", POINTS)
def check_reconstruction_loss(loss_fn, g: torch.Generator) -> tuple[str, str]:
    """``loss_fn(x_hat, x) -> scalar tensor`` on (B, 784) and on (B, 1, 28, 28) batches."""
    b = randint(g, 3, 9)
    cases = [("(B, 784)", (b, 784)), ("(B, 1, 28, 28)", (b, 1, 28, 28))]
    for shape, size in cases:
        x = torch.rand(size, generator=g)
        x_hat = torch.rand(size, generator=g)
        out = call(loss_fn, x_hat.clone(), x.clone())
        if out is None:
            raise Wrong(
                "returned None",
                "Your function returned None: is the `return` missing?",
                "Hàm của bạn trả về None: có phải thiếu `return`?",
            )
        if not isinstance(out, Tensor):
            raise Wrong(
                "not a tensor",
                f"Your function returned a {type(out).__name__}, not a tensor. Return the tensor "
                "itself (no `.item()`), so that `loss.backward()` can follow it.",
                f"Hàm của bạn trả về {type(out).__name__}, không phải tensor. Hãy trả về chính "
                "tensor đó (không dùng `.item()`), để `loss.backward()` lần ngược được.",
            )
        if out.numel() != 1:
            raise Wrong(
                "not a scalar",
                f"On a {shape} batch your loss has shape {tuple(out.shape)}; it should be one "
                "number. Sum over each image's pixels, then average over the images.",
                f"Trên một batch {shape}, hàm mất mát của bạn có kích thước {tuple(out.shape)}; "
                "nó phải là một số. Hãy cộng trên các điểm ảnh của mỗi ảnh, rồi lấy trung bình "
                "trên các ảnh.",
            )
        value = out.detach().double().reshape(())
        if not _close(value, reference_loss(x_hat, x)):
            raise _diagnose(value, x_hat, x, shape)
    return (
        f"reconstruction_loss is right on (B, 784) and (B, 1, 28, 28) batches (B = {b}).",
        f"reconstruction_loss đúng trên các batch (B, 784) và (B, 1, 28, 28) (B = {b}).",
    )


def reference_weighted_loss(x_hat: Tensor, x: Tensor, weights: Tensor) -> Tensor:
    """(B, ...), (B, ...), weights (B, 1) -> one number: mean over images of weight x SSE."""
    per_image = ((x_hat.double() - x.double()) ** 2).flatten(1).sum(dim=1)  # (B,)
    return (per_image * weights.double().flatten()).mean()  # (B,) * (B,): one product per image


@_practice
@check("weighted_loss", POINTS)
def check_weighted_loss(loss_fn, g: torch.Generator) -> tuple[str, str]:
    """``loss_fn(x_hat, x, weights) -> scalar tensor``, x_hat and x (B, 784), weights (B, 1).

    The typical wrong answer multiplies the per-image losses (B,) by the weights (B, 1):
    broadcasting makes a (B, B) table of every loss times every weight, whose mean is
    mean(losses) x mean(weights), a wrong number and no error.
    """
    b = randint(g, 3, 9)
    x = torch.rand(b, 784, generator=g)
    scale = torch.arange(1.0, b + 1).unsqueeze(1)  # (B, 1): image i's error grows with i
    x_hat = x + scale * (torch.rand(b, 784, generator=g) - 0.5)  # (B, 784)
    # (B, 1): weights in [1.5, 2.5), growing with i too, so mean(losses x weights) is clearly
    # larger than mean(losses) x mean(weights), and mean(weights) is never 1
    weights = torch.rand(b, 1, generator=g).sort(dim=0).values + 1.5
    out = call(loss_fn, x_hat.clone(), x.clone(), weights.clone())
    if not isinstance(out, Tensor):
        raise Wrong(
            "not a tensor",
            f"Your function returned {type(out).__name__}, not a tensor: is the `return` missing?",
            f"Hàm của bạn trả về {type(out).__name__}, không phải tensor: có phải thiếu `return`?",
        )
    if tuple(out.shape) == (b, b):
        raise Wrong(
            "(B, B) table",
            f"Your loss has shape {(b, b)}: a (B,) tensor times a (B, 1) tensor broadcasts to a "
            "(B, B) table, every image's loss times every weight. Flatten the weights first: "
            "`weights.flatten()` or `weights[:, 0]`.",
            f"Hàm mất mát của bạn có kích thước {(b, b)}: một tensor (B,) nhân một tensor (B, 1) "
            "được broadcast thành bảng (B, B), mất mát của mỗi ảnh nhân với mọi "
            "trọng số. Hãy làm phẳng trọng số trước: `weights.flatten()` hoặc `weights[:, 0]`.",
        )
    if out.numel() != 1:
        raise Wrong(
            "not a scalar",
            f"Your loss has shape {tuple(out.shape)}; it should be one number: average the "
            "weighted per-image losses.",
            f"Hàm mất mát của bạn có kích thước {tuple(out.shape)}; nó phải là một số: hãy lấy "
            "trung bình các mất mát từng ảnh đã nhân trọng số.",
        )
    value = out.detach().double().reshape(())
    ref = reference_weighted_loss(x_hat, x, weights)
    mean_loss = reference_loss(x_hat, x)  # the unweighted mean of the per-image losses
    got = (
        f"On the check's own random batch (B = {b}), not your cell's, your loss is "
        f"{value.item():.4g}; the right value is {ref.item():.4g}"
    )
    got_vi = (
        f"Trên batch ngẫu nhiên riêng của bài kiểm tra (B = {b}), không phải batch trong ô của "
        f"bạn, hàm mất mát của bạn cho {value.item():.4g}; giá trị đúng là {ref.item():.4g}"
    )
    if _close(value, ref):
        return (
            f"weighted_loss is right: one weight per image (B = {b}), no (B, B) table.",
            f"weighted_loss đúng: mỗi ảnh một trọng số (B = {b}), không có bảng (B, B).",
        )
    if _close(value, mean_loss * weights.double().mean()):
        raise Wrong(
            "(B, B) broadcast",
            f"{got}: it is mean(losses) x mean(weights), the mean of a (B, B) table. A (B,) "
            "tensor times a (B, 1) tensor broadcasts to (B, B). Flatten the weights first: "
            "`weights.flatten()` or `weights[:, 0]`.",
            f"{got_vi}: đó là trung bình(mất mát) x trung bình(trọng số), trung bình của một bảng "
            "(B, B). Một tensor (B,) nhân một tensor (B, 1) được broadcast thành "
            "(B, B). Hãy làm phẳng trọng số trước: `weights.flatten()` hoặc `weights[:, 0]`.",
        )
    if _close(value, mean_loss):
        raise Wrong(
            "weights ignored",
            f"{got}: the plain mean of the per-image losses. Multiply each image's loss by its "
            "weight before averaging.",
            f"{got_vi}: trung bình thường của các mất mát từng ảnh. Hãy nhân mất mát của mỗi ảnh "
            "với trọng số của nó trước khi lấy trung bình.",
        )
    raise Wrong(
        "wrong value",
        f"{got}. Sum the squared errors over each image's pixels, multiply by that image's "
        "weight, then average over the images.",
        f"{got_vi}. Hãy cộng bình phương sai số trên các điểm ảnh của mỗi ảnh, nhân với trọng số "
        "của ảnh đó, rồi lấy trung bình trên các ảnh.",
    )
