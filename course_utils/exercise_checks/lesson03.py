"""Checks for exercise 03 (convolutional autoencoders): output sizes, a conv encoder and decoder.

The reference for the size formulas is PyTorch itself: a real ``nn.Conv2d`` or
``nn.ConvTranspose2d`` run on a blank image of the given size.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from course_utils.exercise_checks import expect, predict
from course_utils.exercise_checks.core import Values, Wrong, call, check, randint

POINTS = {"conv_sizes": 2, "conv_encoder": 2, "conv_decoder": 2, "predict_transpose_shape": 1}


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
