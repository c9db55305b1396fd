"""The checks of lesson 00's three coding tasks: the reconstruction loss, a weighted one, and
one training pass (the five moves: zero_grad, forward, loss, backward, step).

One idea: run the student's code on the check's own seeded inputs, compare with a reference written
here, and name each typical mistake by the trace it leaves (a number off by 784 or by B, a
gradient that is a sum or a step late).

The course's one convention (``course_utils.losses.mean_sse_per_image``): the squared error summed
over each image's pixels, then averaged over the images. The reference is written here with torch
only. The check tries the student's function on flat (B, 784) and on image-shaped (B, 1, 28, 28)
batches and names the typical wrong answers: ``.sum(dim=1)`` on images (it sums over the single
grey channel), the mean over every pixel (``F.mse_loss``'s default), the sum over the batch, a
result that is not one number, and a missing ``return``. ``check_weighted_loss`` names the
silent broadcasting bug: per-image losses (B,) times weights (B, 1) make a (B, B) table.
``check_training_pass`` hands the student's loop an optimizer that records the gradient each
``step()`` used, and compares it with the right gradient of that batch: a missing ``zero_grad``,
a step before ``backward``, ``backward`` on the wrong tensor, a per-pixel loss and an unused
batch each leave their own trace there.
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

POINTS = {"reconstruction_loss": 1, "weighted_loss": 1, "training_pass": 1}


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
    if _close(value, ref * b):
        raise Wrong(
            "sum over the batch",
            f"{got}: {b} times too large, the batch size. Average the weighted per-image losses "
            "instead of summing them, so the loss does not grow with the batch.",
            f"{got_vi}: lớn hơn {b} lần, đúng bằng kích thước batch. Hãy lấy trung bình các "
            "mất mát từng ảnh đã nhân trọng số thay vì cộng lại, để hàm mất mát không lớn lên "
            "theo batch.",
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


class _RecordingSGD(torch.optim.SGD):
    """Plain SGD that also keeps a copy of the gradients each ``step()`` used (None: none)."""

    def __init__(self, params, lr: float) -> None:
        super().__init__(params, lr=lr)
        self.used: list[Tensor | None] = []  # one entry per step: all gradients as one flat vector
        self.weights_at_step: list[Tensor] = []  # one entry per step: the weights before it

    def step(self, closure=None):  # noqa: D102 (same as SGD.step)
        params = [p for group in self.param_groups for p in group["params"]]
        grads = [p.grad for p in params]
        self.used.append(
            None
            if any(gr is None for gr in grads)
            else torch.cat([gr.flatten() for gr in grads]).clone()
        )
        self.weights_at_step.append(torch.cat([p.detach().flatten() for p in params]).clone())
        return super().step(closure)


def _tiny_model() -> torch.nn.Module:
    """A small TinyAE: (B, 1, 28, 28) or (B, 784) -> (B, 784) through a code of 4 numbers."""
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 4), torch.nn.Linear(4, 784))


def _gradient(weights: Tensor, loss_of) -> Tensor:
    """The gradient (flat) of ``loss_of(model)`` for the small model with the flat ``weights``."""
    probe = _tiny_model()
    torch.nn.utils.vector_to_parameters(weights, probe.parameters())
    loss = loss_of(probe)
    return torch.cat([gr.flatten() for gr in torch.autograd.grad(loss, list(probe.parameters()))])


def _run_pass(train_pass, batches: list[Tensor]) -> _RecordingSGD:
    """Run the student's pass on a fresh seeded model; return the optimizer with its records."""
    model = _tiny_model()
    optimizer = _RecordingSGD(model.parameters(), lr=1e-3)
    try:
        call(train_pass, model, optimizer, [xb.clone() for xb in batches])
    except Wrong as problem:
        if "inplace operation" in problem.en:  # step() changed weights backward() still needed
            raise Wrong(
                "step before backward",
                "Your loop calls optimizer.step() between the loss and loss.backward(): the step "
                "changes the weights the loss was computed from, so backward() fails. Order: "
                "zero_grad, forward, loss, backward, step.",
                "Vòng lặp của bạn gọi optimizer.step() giữa hàm mất mát và loss.backward(): bước "
                "cập nhật thay đổi trọng số dùng để tính mất mát, nên backward() báo lỗi. Thứ tự: "
                "zero_grad, forward, loss, backward, step.",
            ) from problem
        raise
    return optimizer


def _near(a: Tensor | None, b: Tensor) -> bool:
    return a is not None and bool((a - b).norm() <= 1e-4 * b.norm() + 1e-8)


@_practice
@check("training_pass", POINTS)
def check_training_pass(train_pass) -> tuple[str, str]:
    """``train_pass(model, optimizer, batches)``: one step per batch (B, 1, 28, 28), per-image loss.

    The check runs the function on a small seeded TinyAE with an SGD that records, at every step,
    the gradient it was handed, and compares it with the gradient of the per-image loss of that
    batch at the weights of that moment (seeded data, so every run of the check sees the same).
    """
    g = torch.Generator().manual_seed(0)
    batches = [torch.rand(8, 1, 28, 28, generator=g) for _ in range(3)]
    others = [torch.rand(8, 1, 28, 28, generator=g) for _ in range(3)]
    optimizer = _run_pass(train_pass, batches)
    steps = len(optimizer.used)
    if steps == 0:
        raise Wrong(
            "no step",
            "Your loop never calls optimizer.step(): the weights did not change. Add the fifth "
            "move, optimizer.step(), after loss.backward().",
            "Vòng lặp của bạn không gọi optimizer.step(): trọng số không đổi. Hãy thêm bước thứ "
            "năm, optimizer.step(), sau loss.backward().",
        )
    if all(u is None or not u.any() for u in optimizer.used):
        raise Wrong(
            "step before backward",
            "Every optimizer.step() found no gradient (.grad empty or zero), so the weights did "
            "not change: the step comes before loss.backward(), or zero_grad() runs between them. "
            "Order: zero_grad, forward, loss, backward, step.",
            "Mọi lần optimizer.step() đều không thấy gradient (.grad rỗng hoặc bằng 0), nên trọng "
            "số không đổi: bước tối ưu đứng trước loss.backward(), hoặc zero_grad() chen giữa "
            "hai bước. Thứ tự: zero_grad, forward, loss, backward, step.",
        )
    if steps != len(batches):
        raise Wrong(
            "steps per batch",
            f"Given {len(batches)} batches, your loop made {steps} optimizer step(s): it should "
            "make one step per batch.",
            f"Với {len(batches)} batch, vòng lặp của bạn thực hiện {steps} bước tối ưu: cần "
            "đúng một bước cho mỗi batch.",
        )
    if all(
        _near(u, v) for u, v in zip(optimizer.used, _run_pass(train_pass, others).used, strict=True)
    ):
        raise Wrong(
            "batch not used",
            "Given other batches, your loop used the same gradients: it does not train on the "
            "batches it receives. Compute the loss of each batch xb of `batches` (not of a "
            "variable from another cell).",
            "Với các batch khác, vòng lặp của bạn vẫn dùng đúng các gradient cũ: nó không huấn "
            "luyện trên các batch nhận được. Hãy tính mất mát của từng batch xb trong `batches` "
            "(không phải của một biến từ ô khác).",
        )
    right = []  # the right gradient of each batch, at the weights of its step
    for k, (xb, weights) in enumerate(zip(batches, optimizer.weights_at_step, strict=True)):

        def per_image(model, xb=xb):
            return ((model(xb) - xb.flatten(1)) ** 2).sum(dim=1).mean()

        right.append(_gradient(weights, per_image))
        used = optimizer.used[k]
        if _near(used, right[k]):
            continue
        if used is not None and k > 0 and _near(used, sum(right)):
            raise Wrong(
                "zero_grad missing",
                f"At step {k + 1} your optimizer received the SUM of the gradients of batches 1 to "
                f"{k + 1}: backward() adds into .grad, and nothing emptied it. Call "
                "optimizer.zero_grad() at the start of each batch.",
                f"Ở bước {k + 1}, bộ tối ưu nhận TỔNG gradient của các batch 1 đến {k + 1}: "
                "backward() cộng dồn vào .grad, và không gì làm rỗng nó. Hãy gọi "
                "optimizer.zero_grad() ở đầu mỗi batch.",
            )
        if used is None or (k > 0 and _near(used, right[k - 1])) or not used.any():
            raise Wrong(
                "step before backward",
                f"At step {k + 1} your optimizer received no gradient of batch {k + 1} (none, or "
                "the previous batch's): the step comes before loss.backward(). Order: zero_grad, "
                "forward, loss, backward, step.",
                f"Ở bước {k + 1}, bộ tối ưu không nhận gradient của batch {k + 1} (không có, hoặc "
                "là của batch trước): bước tối ưu đứng trước loss.backward(). Thứ tự: "
                "zero_grad, forward, loss, backward, step.",
            )
        if _near(used, right[k] / 784):
            raise Wrong(
                "mean over pixels",
                "Your gradients are 784 times too small: the loss is the mean over every pixel. "
                "Sum the squared errors over each image's 784 pixels, then average over the "
                "images.",
                "Gradient của bạn nhỏ hơn 784 lần: hàm mất mát là trung bình trên mọi điểm ảnh. "
                "Hãy cộng bình phương sai số trên 784 điểm ảnh của mỗi ảnh, rồi lấy trung bình "
                "trên các ảnh.",
            )
        if _near(used, right[k] * len(xb)):
            raise Wrong(
                "sum over the batch",
                f"Your gradients are {len(xb)} times too large, the batch size: the loss sums over "
                "the images. Average over the images instead.",
                f"Gradient của bạn lớn hơn {len(xb)} lần, đúng bằng kích thước batch: hàm mất mát "
                "cộng trên các ảnh. Hãy lấy trung bình trên các ảnh.",
            )
        for j, other in enumerate(batches):
            if j != k and _near(used, _gradient(weights, lambda m, o=other: per_image(m, o))):
                raise Wrong(
                    "batch not used",
                    f"At step {k + 1} your optimizer received the gradient of batch {j + 1}, not "
                    f"of batch {k + 1}: compute each step's loss on the batch xb of that step.",
                    f"Ở bước {k + 1}, bộ tối ưu nhận gradient của batch {j + 1}, không phải của "
                    f"batch {k + 1}: hãy tính mất mát của mỗi bước trên batch xb của bước đó.",
                )
        if any(
            _near(used, _gradient(weights, lambda m, f=f, xb=xb: f(m(xb))))
            for f in (Tensor.sum, Tensor.mean)
        ):
            raise Wrong(
                "backward on the wrong tensor",
                f"At step {k + 1} your optimizer received the gradient of the model's output "
                "x_hat (summed or averaged), not of the loss: call backward() on the loss, "
                "((x_hat - xb.flatten(1)) ** 2).sum(dim=1).mean().",
                f"Ở bước {k + 1}, bộ tối ưu nhận gradient của đầu ra x_hat của mô hình (cộng hoặc "
                "lấy trung bình), không phải của hàm mất mát: hãy gọi backward() trên hàm mất "
                "mát, ((x_hat - xb.flatten(1)) ** 2).sum(dim=1).mean().",
            )
        raise Wrong(
            "wrong gradient",
            f"At step {k + 1} your optimizer received a gradient that is not that of the "
            f"per-image loss of batch {k + 1}: square the errors, sum them over each image's "
            "pixels, average over the images, and call backward() on that one number.",
            f"Ở bước {k + 1}, bộ tối ưu nhận một gradient không phải gradient của hàm mất mát theo "
            f"ảnh của batch {k + 1}: hãy bình phương sai số, cộng trên các điểm ảnh của mỗi ảnh, "
            "lấy trung bình trên các ảnh, rồi gọi backward() trên số đó.",
        )
    return (
        f"train_pass is right: one step per batch ({len(batches)} batches), each with the gradient "
        "of that batch's per-image loss.",
        f"train_pass đúng: mỗi batch một bước ({len(batches)} batch), mỗi bước dùng gradient của "
        "hàm mất mát theo ảnh của batch đó.",
    )
