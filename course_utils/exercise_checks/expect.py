"""Expectations the checks share: types, shapes, values, gradients and random number generators.

Each function returns quietly when the expectation holds and raises ``Wrong`` (with an English
and a Vietnamese message) when it does not. ``close`` also tries a list of known mistakes
(``Mistake``) so that the message names the mistake ("mean instead of sum") instead of only
saying that the numbers differ.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from course_utils.exercise_checks.core import Wrong, call, forbid


@dataclass(frozen=True)
class Mistake:
    """What a known wrong answer would return, and what to tell the student who returned it."""

    value: Tensor | float
    note: str
    en: str
    vi: str


def tensor(value, what: str) -> Tensor:
    """``value`` must be a torch.Tensor (``what`` names it in the message, e.g. "The mean")."""
    if isinstance(value, Tensor):
        return value
    if value is None:
        raise Wrong(
            "returned None",
            f"{what} is None: did you forget the `return` line?",
            f"{what} là None: bạn quên dòng `return` chăng?",
        )
    raise Wrong(
        "not a tensor",
        f"{what} should be a torch.Tensor, got {type(value).__name__}.",
        f"{what} phải là một torch.Tensor, nhận được {type(value).__name__}.",
    )


def tensors(out, names: Sequence[str], en: str, vi: str) -> list[Tensor]:
    """``out`` must be a tuple (or list) of len(names) tensors; returns them as a list.

    ``names`` name each tensor in its own message (e.g. "the mean"); ``en``/``vi`` say what the
    function should return when ``out`` is not such a tuple (e.g. "Return (mean, components).").
    """
    if not isinstance(out, tuple | list) or len(out) != len(names):
        raise Wrong("wrong return value", en, vi)
    return [tensor(t, n) for t, n in zip(out, names, strict=True)]


def shape(t: Tensor, expected: Sequence[int], what: str, hint: tuple[str, str] = ("", "")) -> None:
    """``t`` must have exactly the shape ``expected``; ``hint`` (en, vi) is appended if not."""
    if tuple(t.shape) != tuple(expected):
        raise Wrong(
            "wrong shape",
            f"{what} has shape {tuple(t.shape)}, expected {tuple(expected)}.{hint[0]}",
            f"{what} có kích thước {tuple(t.shape)}, cần {tuple(expected)}.{hint[1]}",
        )


_shape_is = shape  # under another name: returns() has a parameter called shape


def returns(
    fn,
    *args,
    what: str,
    shape: Sequence[int] | None = None,
    hint: tuple[str, str] = ("", ""),
    forbidden: Sequence[str] = (),
    **kwargs,
) -> Tensor:
    """The student's ``fn(*args, **kwargs)``, run with the ``forbidden`` course functions blocked
    (``core.forbid``): it must return a tensor (``what`` names it in the messages) and, if
    ``shape`` is given, have that shape (``hint`` (en, vi) is appended if not)."""
    with forbid(*forbidden):
        result = tensor(call(fn, *args, **kwargs), what)
    if shape is not None:
        _shape_is(result, shape, what, hint)
    return result


def dtype(t: Tensor, expected: torch.dtype, what: str) -> None:
    if t.dtype != expected:
        raise Wrong(
            "wrong dtype",
            f"{what} has dtype {t.dtype}, expected {expected} (the dtype of the inputs).",
            f"{what} có kiểu dữ liệu (dtype) {t.dtype}, cần {expected} (dtype của đầu vào).",
        )


def number(value, what: str) -> float:
    """A real number: a Python int/float, a NumPy scalar or a one-element tensor."""
    if isinstance(value, Tensor) and value.numel() == 1:
        return float(value.detach())
    if isinstance(value, bool) or value is None:
        return tensor(value, what)  # raises with the "returned None" message
    try:
        return float(value)
    except (TypeError, ValueError):
        raise Wrong(
            "not a number",
            f"{what} should be a number, got {type(value).__name__}.",
            f"{what} phải là một số, nhận được {type(value).__name__}.",
        ) from None


def _matches(got: Tensor, want, atol: float, rtol: float) -> bool:
    want = torch.as_tensor(want, dtype=torch.float64)
    got = got.detach().to(torch.float64)
    return got.shape == want.shape and torch.allclose(got, want, atol=atol, rtol=rtol)


def close(
    got: Tensor,
    want: Tensor,
    what: str,
    mistakes: Sequence[Mistake] = (),
    atol: float = 1e-4,
    rtol: float = 1e-4,
) -> None:
    """``got`` must equal ``want`` up to tolerance; name the mistake if one of ``mistakes`` fits."""
    got_d, want_d = got.detach().to(torch.float64), want.detach().to(torch.float64)
    if got_d.shape == want_d.shape and torch.allclose(got_d, want_d, atol=atol, rtol=rtol):
        return
    for m in mistakes:
        if _matches(got_d, m.value, atol, rtol):
            raise Wrong(m.note, m.en, m.vi)
    shape(got_d, want_d.shape, what)
    if not torch.isfinite(got_d).all():
        raise Wrong(
            "not finite",
            f"{what} contains NaN or inf where the reference is finite.",
            f"{what} chứa NaN hoặc inf trong khi kết quả tham chiếu là hữu hạn.",
        )
    if got_d.numel() > 1 and torch.all(got_d == got_d.flatten()[0]) and want_d.std() > 0:
        raise Wrong(
            "constant",
            f"{what} is the same number everywhere ({got_d.flatten()[0].item():.4g}); the answer "
            "depends on the inputs. Compute it from them instead of returning a constant.",
            f"{what} chỉ là một hằng số ({got_d.flatten()[0].item():.4g}) ở mọi vị trí, trong khi "
            "kết quả phụ thuộc vào đầu vào. Hãy tính từ đầu vào thay vì trả về hằng số.",
        )
    diff = (got_d - want_d).abs()
    index = tuple(int(i) for i in torch.unravel_index(diff.argmax(), diff.shape))
    at = f" at index {index}" if index else ""
    at_vi = f" tại vị trí {index}" if index else ""
    g, w = got_d[index].item(), want_d[index].item()
    raise Wrong(
        "wrong values",
        f"{what} is off by up to {diff.max().item():.3g}{at}: expected {w:.5g}, got {g:.5g}.",
        f"{what} lệch tối đa {diff.max().item():.3g}{at_vi}: cần {w:.5g}, nhận được {g:.5g}.",
    )


def unchanged(before: Tensor, after: Tensor, what: str) -> None:
    """An input must not be modified in place (``x += ...``, ``x.clamp_()``, ``x[mask] = 0``)."""
    if not torch.equal(before, after):
        raise Wrong(
            "modified the input in place",
            f"Your function changed its input {what} in place. Work on a new tensor "
            "(e.g. `x + noise`, not `x += noise`; `x.clamp(0, 1)`, not `x.clamp_(0, 1)`).",
            f"Hàm của bạn đã sửa trực tiếp đầu vào {what}. Hãy tạo tensor mới (ví dụ "
            "`x + noise` thay vì `x += noise`; `x.clamp(0, 1)` thay vì `x.clamp_(0, 1)`).",
        )


def generator_respected(draw: Callable[[torch.Generator], Tensor], what: str) -> None:
    """``draw(generator)`` must depend on the generator and only on it (not the global RNG).

    Same generator seed under two different global seeds -> same output; two generator seeds ->
    different outputs.
    """
    torch.manual_seed(1)
    first = draw(torch.Generator().manual_seed(1234)).detach()
    torch.manual_seed(2)
    second = draw(torch.Generator().manual_seed(1234)).detach()
    if first.shape != second.shape or not torch.equal(first, second):
        raise Wrong(
            "used the global RNG instead of the generator",
            f"{what} changes when the GLOBAL random seed changes, with the same generator: it "
            "draws from the global RNG. Pass the generator on: "
            "torch.randn(shape, generator=generator) (torch.randn_like has no generator).",
            f"{what} thay đổi khi đổi seed TOÀN CỤC dù generator giữ nguyên: code đang lấy số từ "
            "bộ sinh số ngẫu nhiên toàn cục. Hãy truyền generator: "
            "torch.randn(shape, generator=generator) (torch.randn_like không nhận generator).",
        )
    third = draw(torch.Generator().manual_seed(4321)).detach()
    if third.shape == first.shape and torch.equal(first, third):
        raise Wrong(
            "ignores the generator",
            f"{what} is the same for two different generators: no randomness reaches it. "
            "Draw the random numbers with generator=generator.",
            f"{what} giống hệt nhau với hai generator khác nhau: không có tính ngẫu nhiên nào. "
            "Hãy lấy số ngẫu nhiên với generator=generator.",
        )


def backward(result: Tensor, what: str) -> None:
    """Backpropagate from ``result`` (summed), with a clear message when it has no graph."""
    if not result.requires_grad:
        raise Wrong(
            "cut off from the graph",
            f"{what} carries no gradient: it was cut off from its inputs (.item(), .detach(), "
            ".numpy(), torch.tensor(...) or torch.no_grad()). Keep it a torch computation.",
            f"{what} không mang gradient: nó đã bị tách khỏi đầu vào (.item(), .detach(), "
            ".numpy(), torch.tensor(...) hoặc torch.no_grad()). Hãy giữ nó là một phép tính torch.",
        )
    result.sum().backward()


def gradient_reaches(leaf: Tensor, what_en: str, what_vi: str) -> Tensor:
    """After ``backward()``, ``leaf.grad`` must exist and not be all zero. Returns the gradient."""
    if leaf.grad is None or not torch.any(leaf.grad != 0):
        raise Wrong(
            f"no gradient reaches {what_en}",
            f"No gradient reaches {what_en}. Keep the computation in torch and connected to it: "
            "no .detach(), .data, .item(), .numpy(), torch.tensor(...) copies or torch.normal "
            "sampling on the way.",
            f"Không có gradient nào đến được {what_vi}. Hãy giữ phép tính trong torch và nối với "
            "nó: không dùng .detach(), .data, .item(), .numpy(), bản sao torch.tensor(...) hay "
            "lấy mẫu bằng torch.normal trên đường đi.",
        )
    return leaf.grad


def about(value: float, target: float, rel: float) -> bool:
    """``value`` is within a relative distance ``rel`` of ``target``."""
    return abs(value - target) <= rel * abs(target)
