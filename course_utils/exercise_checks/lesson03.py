"""Checks for exercise 03 (convolutional autoencoders): output sizes, a conv encoder and decoder,
the receptive field of a stack of layers, evaluating a BatchNorm model (the eval trap), and the
four parity classes of a stride-2 transposed convolution (the checkerboard mechanism).

Each reference is PyTorch itself, never the course's own helpers: a real ``nn.Conv2d`` or
``nn.ConvTranspose2d`` run on a blank image (sizes), the gradient of one output cell of a chain
of 1-D convolutions (receptive field), a copy of the model run in eval mode (the eval trap), and a
real transposed convolution run on a flat image (parity sums). One idea: the checks of one
exercise, task by task in the exercise's order (over 400 lines because each task gets its own
diagnosis of the typical wrong answers: a forgotten eval() or mode left switched, a jump
ignored, rows and columns of the parity classes swapped).
"""

from __future__ import annotations

import copy

import torch
from torch import Tensor, nn

from course_utils.exercise_checks import expect, predict
from course_utils.exercise_checks.core import Values, Wrong, call, check, forbid, randint

POINTS = {
    "conv_sizes": 2,
    "conv_encoder": 2,
    "conv_decoder": 2,
    "predict_transpose_shape": 1,
    "receptive_field": 2,
    "evaluate_mse": 3,
    "parity_sums": 2,
}


def _torch_size(size: int, k: int, s: int, p: int, op: int | None = None) -> int:
    layer = nn.Conv2d(1, 1, k, s, p) if op is None else nn.ConvTranspose2d(1, 1, k, s, p, op)
    with torch.no_grad():
        return layer(torch.zeros(1, 1, size, size)).shape[-1]


def _integer(value, what: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    number = expect.number(value, what)
    if number != int(number):
        raise Wrong(
            "used / instead of //",
            f"{what} gives {number:g}, not a whole number: sizes are "
            "integers; use floor division //.",
            f"{what} cho {number:g}, không phải số "
            "nguyên: kích thước là số nguyên; hãy dùng phép chia lấy phần nguyên //.",
        )
    raise Wrong(
        "used / instead of //",
        f"{what} returns {value!r}; return an int (use // instead of /).",
        f"{what} trả về {value!r}; hãy trả về int (dùng // thay vì /).",
    )


# Typical wrong formulas: (note, English, Vietnamese, formula of (size, k, s, p, output_padding)).
_CONV_MISTAKES = [
    (
        "+1 missing",
        "The +1 is missing: (size + 2 * padding - kernel_size) // stride + 1.",
        "Thiếu +1: (size + 2 * padding - kernel_size) // stride + 1.",
        lambda n, k, s, p, op: (n + 2 * p - k) // s,
    ),
    (
        "padding counted once",
        "Padding is added on BOTH sides: 2 * padding.",
        "Phần đệm được thêm ở CẢ HAI phía: 2 * padding.",
        lambda n, k, s, p, op: (n + p - k) // s + 1,
    ),
    (
        "padding ignored",
        "The padding is missing from your formula.",
        "Công thức của bạn thiếu phần đệm (padding).",
        lambda n, k, s, p, op: (n - k) // s + 1,
    ),
]
_TRANSPOSE_MISTAKES = [
    ("convolution formula used", "That is the formula of an ordinary convolution. A transposed "
     "one goes the other way: (size - 1) * stride - 2 * padding + kernel_size + output_padding.",
     "Đó là công thức của tích chập thường. Tích chập chuyển vị đi theo chiều ngược lại: "
     "(size - 1) * stride - 2 * padding + kernel_size + output_padding.",
     lambda n, k, s, p, op: (n + 2 * p - k) // s + 1),
    ("size instead of size - 1", "Use (size - 1) * stride, not size * stride.",
     "Dùng (size - 1) * stride, không phải size * stride.",
     lambda n, k, s, p, op: n * s - 2 * p + k + op),
    ("output_padding ignored", "output_padding adds that many rows at the end: + output_padding.",
     "output_padding thêm đúng chừng ấy hàng ở cuối: + output_padding.",
     lambda n, k, s, p, op: (n - 1) * s - 2 * p + k),
    ("padding counted once", "Padding is removed on BOTH sides: - 2 * padding.",
     "Phần đệm bị bỏ ở CẢ HAI phía: - 2 * padding.",
     lambda n, k, s, p, op: (n - 1) * s - p + k + op),
]  # fmt: skip


def _compare_sizes(fn, settings, transposed: bool) -> None:
    """Run ``fn`` on every setting; on a mismatch name the wrong formula that explains them all."""
    name = fn.__name__ if hasattr(fn, "__name__") else "your function"
    got = []
    for n, k, s, p, op in settings:
        args = (n, k, s, p, op) if transposed else (n, k, s, p)
        got.append(_integer(call(fn, *args), name))
    want = [_torch_size(n, k, s, p, op if transposed else None) for n, k, s, p, op in settings]
    if got == want:
        return
    for note, en, vi, formula in _TRANSPOSE_MISTAKES if transposed else _CONV_MISTAKES:
        if got == [formula(*setting) for setting in settings]:
            raise Wrong(note, en, vi)
    i = next(i for i, (g, w) in enumerate(zip(got, want, strict=True)) if g != w)
    n, k, s, p, op = settings[i]
    extra = f", output_padding={op}" if transposed else ""
    text = f"{name}({n}, kernel_size={k}, stride={s}, padding={p}{extra})"
    raise Wrong("wrong size", f"{text} gives {got[i]}, PyTorch gives {want[i]}.",
                f"{text} cho {got[i]}, PyTorch cho {want[i]}.")  # fmt: skip


@check("conv_sizes", POINTS)
def check_conv_sizes(conv_output_size, conv_transpose_output_size, g: torch.Generator) -> Values:
    """``conv_output_size(size, k, stride, padding)`` and its transposed twin (+ output_padding)."""
    settings = []
    for i in range(12):
        size, k = randint(g, 6, 30), randint(g, 2, 5)
        s, p = randint(g, 2, 3), randint(g, 1, k // 2 + 1)
        if i >= 8:  # a few plain cases too
            s, p = randint(g, 1, 3), randint(g, 0, 2)
        settings.append((size, k, s, p, randint(g, 0, s - 1)))
    _compare_sizes(conv_output_size, settings, transposed=False)
    _compare_sizes(conv_transpose_output_size, settings, transposed=True)


def _run_recording(model: nn.Module, x: Tensor, name: str) -> tuple[Tensor, list[tuple]]:
    """Run ``model(x)`` and record the output shape of every submodule."""
    if not isinstance(model, nn.Module):
        raise Wrong(
            "not a module",
            f"{name} should return an nn.Module (e.g. nn.Sequential), got {type(model).__name__}.",
            f"{name} cần trả về một nn.Module (ví dụ "
            f"nn.Sequential), nhận được {type(model).__name__}.",
        )
    shapes: list[tuple] = []
    record = lambda module, inputs, o: shapes.append(tuple(getattr(o, "shape", ())))  # noqa: E731
    hooks = [m.register_forward_hook(record) for m in model.modules() if m is not model]
    try:
        out = expect.tensor(call(model, x), f"The output of {name}(...)")
    finally:
        for hook in hooks:
            hook.remove()
    return out, shapes


def _check_trainable_and_nonlinear(model: nn.Module, x: Tensor, out: Tensor, name: str) -> None:
    expect.backward(out, f"The output of {name}")
    for pname, p in model.named_parameters():
        if p.requires_grad and p.grad is None:
            raise Wrong(
                "no gradient",
                f"No gradient reaches {pname} of {name}: is that layer used in forward?",
                f"Không có gradient đến {pname} của {name}: lớp đó có được "
                "dùng trong forward không?",
            )
    with torch.no_grad():
        x2 = torch.rand_like(x)
        f = lambda v: model(v).double()  # noqa: E731
        if torch.allclose(f(x + x2) + f(torch.zeros_like(x)), f(x) + f(x2), atol=1e-4):
            raise Wrong(
                "no activation",
                f"{name} is linear: put an activation (e.g. nn.ReLU()) "
                "between the layers, or stacking them adds nothing.",
                f"{name} là hàm "
                "tuyến tính: hãy đặt hàm kích hoạt (ví dụ nn.ReLU()) giữa các lớp, nếu không "
                "xếp chồng nhiều lớp chẳng thêm được gì.",
            )


def _check_relus(model: nn.Module, x: Tensor, name: str, relu_at_end: bool) -> None:
    """A ReLU before every convolution but the first (its input is then >= 0), and at the end."""
    lowest: list[float] = []  # the smallest input value of each convolution, in call order
    convs = (nn.Conv2d, nn.ConvTranspose2d)
    record = lambda module, inputs: lowest.append(inputs[0].min().item())  # noqa: E731
    hooks = [m.register_forward_pre_hook(record) for m in model.modules() if isinstance(m, convs)]
    try:
        with torch.no_grad():
            out = model(x)
    finally:
        for hook in hooks:
            hook.remove()
    if any(low < 0 for low in lowest[1:]):
        raise Wrong(
            "ReLU missing between layers",
            f"A convolution of {name} after the first receives negative values: put nn.ReLU() "
            "between the layers.",
            f"Một phép tích chập của {name} sau phép đầu tiên nhận giá trị âm: hãy đặt "
            "nn.ReLU() giữa các lớp.",
        )
    if relu_at_end and out.min() < 0:
        raise Wrong(
            "no ReLU at the end",
            f"{name} outputs negative values ({out.min().item():.3g}): end with nn.ReLU() after "
            "the last convolution.",
            f"{name} cho ra giá trị âm ({out.min().item():.3g}): hãy kết thúc bằng nn.ReLU() "
            "sau phép tích chập cuối cùng.",
        )


_SHAPE_HINT = (
    " With kernel_size=3 and stride=2 you need padding=1 to halve 28 -> 14 -> 7.",
    " Với kernel_size=3 và stride=2 cần padding=1 để giảm một nửa 28 -> 14 -> 7.",
)


@check("conv_encoder", POINTS)
def check_conv_encoder(make_conv_encoder, g: torch.Generator) -> Values:
    """``make_conv_encoder(c1, c2)``: (B, 1, 28, 28) -> (B, c1, 14, 14) -> (B, c2, 7, 7)."""
    c1, c2, b = randint(g, 3, 8), randint(g, 9, 14), randint(g, 2, 5)
    model = call(make_conv_encoder, c1, c2)
    x = torch.rand(b, 1, 28, 28, generator=g)
    out, shapes = _run_recording(model, x, "make_conv_encoder")
    if out.dim() == 2:
        raise Wrong(
            "flattened",
            f"The encoder returns shape {tuple(out.shape)}: keep the "
            f"feature maps (B, c2, 7, 7); flattening comes later.",
            f"Đầu ra của bộ mã hóa có "
            f"kích thước {tuple(out.shape)}: hãy giữ các bản đồ đặc trưng (B, c2, 7, 7); "
            "việc làm phẳng để sau.",
        )
    expect.shape(out, (b, c2, 7, 7), f"The encoder's output (c1={c1}, c2={c2})", _SHAPE_HINT)
    if (b, c1, 14, 14) not in shapes:
        raise Wrong(
            "no 14x14 stage",
            f"No layer outputs (B, c1, 14, 14) = {(b, c1, 14, 14)}; got {shapes}.",
            f"Không lớp nào cho ra (B, c1, 14, 14) = {(b, c1, 14, 14)}; nhận được {shapes}.",
        )
    if not any(isinstance(m, nn.Conv2d) for m in model.modules()):
        raise Wrong(
            "no convolution",
            "Build the encoder from nn.Conv2d layers.",
            "Hãy xây bộ mã hóa từ các lớp nn.Conv2d.",
        )
    _check_trainable_and_nonlinear(model, x, out, "The encoder")
    _check_relus(model, x, "The encoder", relu_at_end=True)
    return {"c1": c1, "c2": c2}  # for PASSED["conv_encoder"]


@check("conv_decoder", POINTS)
def check_conv_decoder(make_conv_decoder, g: torch.Generator) -> Values:
    """``make_conv_decoder(c2, c1)``: (B, c2, 7, 7) -> (B, c1, 14, 14) -> (B, 1, 28, 28)."""
    c1, c2, b = randint(g, 3, 8), randint(g, 9, 14), randint(g, 2, 5)
    model = call(make_conv_decoder, c2, c1)
    h = 5 * torch.randn(b, c2, 7, 7, generator=g)
    out, shapes = _run_recording(model, h, "make_conv_decoder")
    if tuple(out.shape) == (b, 1, 25, 25):
        raise Wrong(
            "output_padding missing",
            "The output is 25x25: ConvTranspose2d(kernel 3, "
            "stride 2, padding 1) turns 7 into 13, not 14. Add output_padding=1.",
            "Đầu ra là 25x25: ConvTranspose2d(kernel 3, stride 2, padding 1) biến 7 "
            "thành 13, không phải 14. Hãy thêm output_padding=1.",
        )
    expect.shape(out, (b, 1, 28, 28), f"The decoder's output (c2={c2}, c1={c1})")
    if (b, c1, 14, 14) not in shapes:
        raise Wrong(
            "no 14x14 stage",
            f"No layer outputs (B, c1, 14, 14) = {(b, c1, 14, 14)}; got {shapes}.",
            f"Không lớp nào cho ra (B, c1, 14, 14) = {(b, c1, 14, 14)}; nhận được {shapes}.",
        )
    if out.min() < 0 or out.max() > 1:
        raise Wrong(
            "no sigmoid",
            f"Pixels range from {out.min().item():.3g} to "
            f"{out.max().item():.3g}: end with nn.Sigmoid() so they lie in [0, 1].",
            f"Điểm ảnh nằm từ {out.min().item():.3g} đến {out.max().item():.3g}: hãy "
            "kết thúc bằng nn.Sigmoid() để chúng nằm trong [0, 1].",
        )
    ups = (nn.ConvTranspose2d, nn.Upsample)
    if not any(isinstance(m, ups) for m in model.modules()):
        raise Wrong(
            "no upsampling layer",
            "Upsample with nn.ConvTranspose2d (or nn.Upsample followed by nn.Conv2d).",
            "Hãy phóng to bằng nn.ConvTranspose2d (hoặc nn.Upsample rồi nn.Conv2d).",
        )
    _check_trainable_and_nonlinear(model, h, out, "The decoder")
    _check_relus(model, h, "The decoder", relu_at_end=False)
    return {"c1": c1, "c2": c2}  # for PASSED["conv_decoder"]


@check("predict_transpose_shape", POINTS)
def check_prediction_transpose_shape(predicted_shape) -> tuple[str, str]:
    """Shape of ConvTranspose2d(32, 16, 3, stride=2, padding=1) applied to (8, 32, 7, 7)."""
    channels = (
        "channels unchanged",
        "The channels become out_channels = 16.",
        "Số kênh trở thành out_channels = 16.",
    )
    return predict.shape(
        predicted_shape,
        (8, 16, 13, 13),
        {
            (8, 16, 14, 14): (
                "expected 14",
                "Not 14: (7 - 1) * 2 - 2 * 1 + 3 = 13. This missing row "
                "is why decoders add output_padding=1.",
                "Không phải 14: (7 - 1) * 2 - "
                "2 * 1 + 3 = 13. Hàng bị thiếu này là lý do bộ giải mã thêm "
                "output_padding=1.",
            ),
            (8, 32, 13, 13): channels,
            (8, 32, 14, 14): channels,
        },
    )


# ------------------------------------------------------------------ the receptive field
def _measured_field(stack: list[tuple[int, int]]) -> tuple[int, int]:
    """(window size, jump) of a stack of (kernel, stride) layers, MEASURED: a chain of 1-D
    convolutions with all weights 1 (no padding, no activation); the gradient of output cell 0
    (and of cell 1) with respect to the input is non-zero exactly on the pixels it sees."""
    x = torch.zeros(1, 1, 400, dtype=torch.float64, requires_grad=True)
    h = x
    for k, s in stack:
        h = torch.nn.functional.conv1d(h, torch.ones(1, 1, k, dtype=torch.float64), stride=s)
    windows = []
    for cell in (0, 1):
        (grad,) = torch.autograd.grad(h[0, 0, cell], x, retain_graph=True)
        seen = grad[0, 0].nonzero().flatten()
        windows.append((int(seen[0]), int(seen[-1])))
    (first0, last0), (first1, _) = windows
    return last0 - first0 + 1, first1 - first0


def _field_formula(stack, start: int = 1, widen_after_jump: bool = False, use_jump: bool = True):
    """Typical wrong walks through the layers (the right one with the defaults)."""
    r, j = start, 1
    for k, s in stack:
        if widen_after_jump:
            j *= s
        r += (k - 1) * (j if use_jump else 1)
        if not widen_after_jump:
            j *= s
    return r, j


_FIELD_MISTAKES = [
    (
        "jump ignored",
        "Each layer widens the window by (kernel - 1) steps of the current JUMP, not by "
        "kernel - 1 pixels: after a stride-2 layer, neighbouring cells are 2 input pixels apart, "
        "so one more tap reaches 2 pixels further.",
        "Mỗi lớp mở rộng cửa sổ thêm (kernel - 1) lần KHOẢNG NHẢY hiện tại, không phải "
        "kernel - 1 điểm ảnh: sau một lớp bước trượt 2, hai ô cạnh nhau cách nhau 2 điểm ảnh đầu "
        "vào, nên thêm một phần tử kernel là với xa thêm 2 điểm ảnh.",
        {"use_jump": False},
    ),
    (
        "jump multiplied too early",
        "You multiply the jump by a layer's stride BEFORE widening the window with that layer. "
        "A layer's kernel steps over the cells of its INPUT, which are the old jump apart: widen "
        "first (size += (kernel - 1) * jump), then jump *= stride.",
        "Bạn nhân khoảng nhảy với bước trượt của một lớp TRƯỚC khi mở rộng cửa sổ bằng chính lớp "
        "đó. Kernel của một lớp đi qua các ô ở ĐẦU VÀO của nó, cách nhau khoảng nhảy cũ: hãy mở "
        "rộng trước (size += (kernel - 1) * jump), rồi mới jump *= stride.",
        {"widen_after_jump": True},
    ),
    (
        "window starts at 0",
        "Your windows are one pixel too small: with no layer at all, a cell is one input pixel, "
        "so the window starts at size 1 (and jump 1).",
        "Cửa sổ của bạn thiếu một điểm ảnh: khi chưa có lớp nào, mỗi ô là một điểm ảnh đầu vào, "
        "nên cửa sổ bắt đầu với kích thước 1 (và khoảng nhảy 1).",
        {"start": 0},
    ),
]


@check("receptive_field", POINTS)
def check_receptive_field(receptive_field, g: torch.Generator) -> Values:
    """``receptive_field([(kernel, stride), ...]) -> (size, jump)`` of a cell of the last layer."""
    stacks = [[(3, 2), (3, 2), (1, 1)], [(5, 1), (3, 1)]]  # the lesson's encoder; no stride
    for _ in range(3):
        stacks.append([(randint(g, 1, 5), randint(g, 1, 3)) for _ in range(randint(g, 2, 4))])
    got = []
    with forbid("course_utils.conv_probes:receptive_field"):
        for stack in stacks:
            out = call(receptive_field, [tuple(layer) for layer in stack])
            if not isinstance(out, tuple | list) or len(out) != 2:
                raise Wrong(
                    "wrong return value",
                    f"receptive_field({stack}) returns {out!r}; return two integers: (size, jump).",
                    f"receptive_field({stack}) trả về {out!r}; hãy trả về hai số nguyên: "
                    "(size, jump).",
                )
            got.append(tuple(_integer(v, "receptive_field") for v in out))
    want = [_measured_field(stack) for stack in stacks]
    if got == want:
        return None
    i = next(i for i, (a, b) in enumerate(zip(got, want, strict=True)) if a != b)
    for note, en, vi, options in _FIELD_MISTAKES:
        if got == [_field_formula(stack, **options) for stack in stacks]:
            example = f" receptive_field({stacks[i]}): "
            raise Wrong(
                note,
                f"{en}{example}you return {got[i]}, measured {want[i]}.",
                f"{vi}{example}bạn trả về {got[i]}, đo được {want[i]}.",
            )
    raise Wrong(
        "wrong receptive field",
        f"receptive_field({stacks[i]}) returns {got[i]}; measured (the gradient of one output "
        f"cell of convolutions with these kernels and strides): {want[i]}. Start from a 1-pixel "
        "window and jump 1; walk the layers in order: widen the window by (kernel - 1) steps of "
        "the current jump, then multiply the jump by the stride.",
        f"receptive_field({stacks[i]}) trả về {got[i]}; đo được (gradient của một ô đầu ra qua "
        f"các phép tích chập có đúng các kernel và bước trượt này): {want[i]}. Hãy bắt đầu từ "
        "cửa sổ 1 điểm ảnh và khoảng nhảy 1; đi qua các lớp theo thứ tự: mở rộng cửa sổ thêm "
        "(kernel - 1) lần khoảng nhảy hiện tại, rồi nhân khoảng nhảy với bước trượt.",
    )


# -------------------------------------------------------------- evaluating: the eval trap
def _bn_model(g: torch.Generator) -> nn.Sequential:
    """A tiny conv AE with BatchNorm whose stored running averages differ from any batch's."""
    torch.manual_seed(randint(g, 0, 2**31 - 1))  # run_check restores the global RNG afterwards
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.Conv2d(4, 1, 3, padding=1),
        nn.Sigmoid(),
    )
    bn = model[1]
    with torch.no_grad():
        bn.running_mean.copy_(0.5 * torch.randn(4, generator=g))
        bn.running_var.copy_(0.3 + 2 * torch.rand(4, generator=g))
        bn.num_batches_tracked.fill_(100)
        bn.weight.copy_(0.5 + torch.rand(4, generator=g))
        bn.bias.copy_(0.5 * torch.randn(4, generator=g))
    return model


def _mse(model: nn.Module, x: Tensor, training: bool) -> float:
    """The reference: a COPY of the model in the given mode, per-pixel MSE over the batch."""
    twin = copy.deepcopy(model).train(training)
    with torch.no_grad():
        return ((twin(x) - x) ** 2).mean().item()


def _near(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-4 * abs(b) + 1e-8


_EVALUATE_FORBIDDEN = (
    "course_utils.train:evaluate",
    "course_utils.train:predict",
    "course_utils.train:eval_mode",
    "course_utils.anomaly:mse_per_pixel_per_image",
)


@check("evaluate_mse", POINTS)
def check_evaluate_mse(evaluate_mse, g: torch.Generator) -> Values:
    """``evaluate_mse(model, x) -> float``: eval mode, no_grad, mean over pixels, mode restored."""
    for _ in range(20):  # a model whose training-mode and eval-mode errors clearly differ
        b, side = randint(g, 4, 8), randint(g, 6, 10)
        model, x = _bn_model(g), torch.rand(b, 1, side, side, generator=g)
        want, in_training = _mse(model, x, False), _mse(model, x, True)
        if abs(in_training - want) > 0.1 * want:
            break
    bn = model[1]
    seen: list[tuple[bool, bool]] = []  # (BatchNorm in training mode, gradients on) per call
    record = lambda m, i, o: seen.append((m.training, torch.is_grad_enabled()))  # noqa: E731
    hook = bn.register_forward_hook(record)
    stored, x_before = bn.running_mean.clone(), x.clone()
    try:
        model.train()  # as during training: evaluate_mse must hand it back in training mode
        with forbid(*_EVALUATE_FORBIDDEN):
            value = call(evaluate_mse, model, x)
        got = expect.number(value, "evaluate_mse(model, x)")
        expect.unchanged(x_before, x, "x")
        if not seen:
            raise Wrong(
                "model not run",
                "evaluate_mse never runs the model: compute model(x) and compare it with x.",
                "evaluate_mse không hề chạy mô hình: hãy tính model(x) rồi so với x.",
            )
        moved = (bn.running_mean - stored).abs().max().item()
        if any(training for training, _ in seen):
            raise Wrong(
                "forgot eval()",
                f"Your function ran the model in training mode: BatchNorm normalised with this "
                f"batch's own statistics and moved its running averages (running_mean by up to "
                f"{moved:.3g}; no_grad does not stop that). You returned {got:.5g}; in eval mode "
                f"the MSE is {want:.5g}. Call model.eval() before the forward pass.",
                f"Hàm của bạn chạy mô hình ở chế độ huấn luyện: BatchNorm chuẩn hóa bằng thống "
                f"kê của chính batch này và dịch chuyển các trung bình trượt (running_mean lệch "
                f"tới {moved:.3g}; no_grad không ngăn được việc đó). Bạn trả về {got:.5g}; ở chế "
                f"độ đánh giá "
                f"MSE là {want:.5g}. Hãy gọi model.eval() trước lượt truyền xuôi.",
            )
        if any(grad for _, grad in seen) or (isinstance(value, Tensor) and value.requires_grad):
            raise Wrong(
                "gradients on",
                "The forward pass ran with gradients on: autograd recorded a graph nobody will "
                "use, and on a large test set it costs a lot of memory. Wrap the forward pass in "
                "`with torch.no_grad():`.",
                "Lượt truyền xuôi chạy khi gradient đang bật: autograd ghi lại một đồ thị tính "
                "toán không ai dùng đến, và trên một tập kiểm tra lớn nó tốn rất nhiều bộ nhớ. "
                "Hãy đặt lượt truyền xuôi trong `with torch.no_grad():`.",
            )
        if not _near(got, want):
            n = x.numel()
            for factor, note, en, vi in (
                (n, "summed instead of averaged",
                 f"You returned {got:.5g}, the SUM of the {n} squared errors; the MSE per pixel "
                 f"is their mean, {want:.5g}. Use .mean() instead of .sum().",
                 f"Bạn trả về {got:.5g}, là TỔNG của {n} bình phương sai số; MSE trên mỗi điểm "
                 f"ảnh là trung bình của chúng, {want:.5g}. Hãy dùng .mean() thay vì .sum()."),
                (n / b, "summed over each image's pixels",
                 f"You returned {got:.5g}: the squared errors summed over each image's pixels, "
                 f"then averaged over the images (the error per image). The task asks per pixel: "
                 f"average over the pixels too, which gives {want:.5g}.",
                 f"Bạn trả về {got:.5g}: bình phương sai số cộng trên các điểm ảnh của mỗi ảnh "
                 f"rồi lấy trung bình trên các ảnh (sai số trên mỗi ảnh). Đề bài hỏi trên mỗi "
                 f"điểm ảnh: hãy lấy trung bình cả trên các điểm ảnh, được {want:.5g}."),
                (b, "summed over the images",
                 f"You returned {got:.5g}: the per-pixel errors summed over the {b} images. "
                 f"Average over the images too, which gives {want:.5g}.",
                 f"Bạn trả về {got:.5g}: sai số trên mỗi điểm ảnh cộng trên {b} ảnh. Hãy lấy "
                 f"trung bình cả trên các ảnh, được {want:.5g}."),
            ):  # fmt: skip
                if _near(got, factor * want):
                    raise Wrong(note, en, vi)
            raise Wrong(
                "wrong value",
                f"evaluate_mse returns {got:.6g}; this model's MSE per pixel in eval mode is "
                f"{want:.6g}. Average ((model(x) - x) ** 2) over every pixel of every image.",
                f"evaluate_mse trả về {got:.6g}; MSE trên mỗi điểm ảnh của mô hình này ở chế độ "
                f"đánh giá là {want:.6g}. Hãy lấy trung bình ((model(x) - x) ** 2) trên mọi "
                "điểm ảnh của mọi ảnh.",
            )
        if not model.training or not bn.training:
            raise Wrong(
                "training mode not restored",
                "The model came in training mode and your function left it in eval mode: a "
                "training loop that calls evaluate_mse between steps would go on training with "
                "BatchNorm frozen. Save `was_training = model.training` first and end with "
                "`model.train(was_training)`.",
                "Mô hình được đưa vào ở chế độ huấn luyện và hàm của bạn để nó lại ở chế độ "
                "đánh giá: một vòng huấn luyện gọi evaluate_mse giữa các bước sẽ tiếp tục huấn "
                "luyện với BatchNorm bị đóng băng. Hãy lưu `was_training = model.training` "
                "trước, và kết thúc bằng `model.train(was_training)`.",
            )
        model.eval()  # and a model that comes in eval mode must stay in eval mode
        with forbid(*_EVALUATE_FORBIDDEN):
            again = expect.number(call(evaluate_mse, model, x), "evaluate_mse(model, x)")
        if model.training or bn.training:
            raise Wrong(
                "always returns to training mode",
                "The model came in eval mode and your function left it in training mode: it "
                "calls model.train() whatever the mode was before. Restore the previous mode: "
                "`model.train(was_training)`.",
                "Mô hình được đưa vào ở chế độ đánh giá và hàm của bạn để nó lại ở chế độ huấn "
                "luyện: hàm gọi model.train() bất kể chế độ trước đó. Hãy trả nó về chế độ cũ: "
                "`model.train(was_training)`.",
            )
        if not _near(again, want):
            raise Wrong(
                "different on a second call",
                f"A second call on the same model and images returns {again:.6g}, the first "
                f"{got:.6g}: evaluation must not change the model.",
                f"Lần gọi thứ hai trên cùng mô hình và cùng ảnh trả về {again:.6g}, lần đầu "
                f"{got:.6g}: việc đánh giá không được thay đổi mô hình.",
            )
    finally:
        hook.remove()
    return None


# -------------------------------------------- the checkerboard: four parity classes of taps
def _flat_output_by_parity(w: Tensor, padding: int) -> Tensor:
    """(2, 2): a real stride-2 ConvTranspose2d with kernel ``w`` run on a flat image of 1s,
    entry [r, c] = its output at inner pixels whose row has parity r and column parity c."""
    k = w.shape[0]
    with torch.no_grad():
        out = torch.nn.functional.conv_transpose2d(
            torch.ones(1, 1, 16, 16, dtype=torch.float64), w.double()[None, None], stride=2,
            padding=padding,
        )[0, 0]  # fmt: skip
    inner = out[2 * k : -2 * k, 2 * k : -2 * k]  # starts at an even row and column: parities kept
    return torch.stack([torch.stack([inner[r::2, c::2].mean() for c in (0, 1)]) for r in (0, 1)])


def _by_parity(w: Tensor, padding: int, shift: bool = True, reduce=torch.sum) -> Tensor:
    p = padding if shift else 0
    return torch.stack(
        [
            torch.stack([reduce(w.double()[(r + p) % 2 :: 2, (c + p) % 2 :: 2]) for c in (0, 1)])
            for r in (0, 1)
        ]
    )


def _grid(t: Tensor) -> str:
    return "[" + ", ".join("[" + ", ".join(f"{v:.3f}" for v in row) + "]" for row in t) + "]"


_PARITY_MISTAKES = [
    (
        "padding shift ignored",
        "Right when the padding is even, wrong when it is odd: the padding shifts the output. "
        "Output pixel o = 2 i + t - padding, so tap t reaches the outputs whose parity is that "
        "of t - padding, not of t.",
        "Đúng khi phần đệm chẵn, sai khi nó lẻ: phần đệm dịch đầu ra. Điểm ảnh đầu ra "
        "o = 2 i + t - padding, nên phần tử t của kernel tới các đầu ra có tính chẵn lẻ của "
        "t - padding, không phải của t.",
        lambda w, p: _by_parity(w, p, shift=False),
    ),
    (
        "rows and columns swapped",
        "Your answer is the transpose of the right one: entry [r, c] is for output ROW parity r "
        "(the first index of the weight) and COLUMN parity c (the second index).",
        "Kết quả của bạn là chuyển vị của đáp án đúng: phần tử [r, c] ứng với tính chẵn lẻ "
        "của HÀNG r (chỉ số thứ nhất của trọng số) và của CỘT c (chỉ số thứ hai).",
        lambda w, p: _by_parity(w, p).T,
    ),
    (
        "mean instead of sum",
        "On a flat input of 1s every tap that reaches a pixel adds its weight: SUM the taps of "
        "each class, do not average them.",
        "Trên một đầu vào toàn số 1, mọi phần tử kernel tới được một điểm ảnh đều cộng trọng số "
        "của nó: hãy CỘNG các phần tử của mỗi nhóm, đừng lấy trung bình.",
        lambda w, p: _by_parity(w, p, reduce=torch.mean),
    ),
    (
        "counted the taps",
        "You counted the taps of each class (the overlap counts, right only for weights that "
        "are all 1). Add up their WEIGHTS: with learned weights the four sums differ, and that "
        "difference is the grid.",
        "Bạn đếm số phần tử kernel của mỗi nhóm (số lần chồng lấp, chỉ đúng khi mọi trọng số "
        "bằng 1). Hãy cộng các TRỌNG SỐ của chúng: với trọng số học được, bốn tổng khác nhau, và "
        "chính sự khác nhau đó là dạng lưới.",
        lambda w, p: _by_parity(torch.ones_like(w), p),
    ),
]


@check("parity_sums", POINTS)
def check_parity_sums(parity_sums, g: torch.Generator) -> Values:
    """``parity_sums(weight (k, k), padding) -> (2, 2)``: a stride-2 transposed convolution's
    output on a flat input of 1s, by the parity of the output row and column."""
    settings = [(3, 1), (4, 1)]  # the lesson's two kernels
    for _ in range(3):
        k = randint(g, 2, 5)
        settings.append((k, randint(g, 0, k // 2)))
    settings.append((2 * randint(g, 1, 2) + 1, 1))  # one more odd padding: the shift matters
    weights = [torch.randn(k, k, generator=g) for k, _ in settings]
    got = []
    for (k, p), w in zip(settings, weights, strict=True):
        what = f"parity_sums(<{k}x{k} weight>, padding={p})"
        out = expect.tensor(call(parity_sums, w.clone(), p), what)
        expect.shape(out, (2, 2), what, (
            " Row r, column c: the output pixels with row parity r and column parity c.",
            " Hàng r, cột c: các điểm ảnh đầu ra có hàng chẵn lẻ r và cột chẵn lẻ c.",
        ))  # fmt: skip
        got.append(out.detach().double())
    want = [_flat_output_by_parity(w, p) for (_, p), w in zip(settings, weights, strict=True)]
    ok = [torch.allclose(a, b, atol=1e-4) for a, b in zip(got, want, strict=True)]
    if all(ok):
        return None
    i = ok.index(False)
    (k, p), a, b = settings[i], _grid(got[i]), _grid(want[i])
    for note, en, vi, formula in _PARITY_MISTAKES:
        if all(
            torch.allclose(a, formula(w, p), atol=1e-4)
            for a, (_, p), w in zip(got, settings, weights, strict=True)
        ):
            raise Wrong(
                note,
                f"{en} For a random {k}x{k} kernel with padding={p} you return {a}; a real "
                f"layer gives {b}.",
                f"{vi} Với một kernel ngẫu nhiên {k}x{k} và padding={p} bạn trả về {a}; một "
                f"lớp thật cho {b}.",
            )
    raise Wrong(
        "wrong parity sums",
        f"For a random {k}x{k} kernel with padding={p} you return {a}; a real "
        f"ConvTranspose2d(stride=2, padding={p}) with these weights on a flat image of 1s gives "
        f"{b}. Output pixel o = 2 i + t - padding receives input pixel i through tap t: which "
        "taps t can reach an even o, and which an odd one?",
        f"Với một kernel ngẫu nhiên {k}x{k} và padding={p} bạn trả về {a}; một "
        f"ConvTranspose2d(stride=2, padding={p}) thật với các trọng số này trên ảnh phẳng toàn "
        f"số 1 cho {b}. Điểm ảnh đầu ra o = 2 i + t - padding nhận điểm ảnh đầu vào i qua phần "
        "tử t của kernel: những phần tử t nào tới được một o chẵn, những phần tử nào tới o lẻ?",
    )
