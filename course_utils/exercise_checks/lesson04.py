"""Checks for exercise 04 (denoising autoencoders): three corruptions and PSNR.

The noise checks do not demand one particular way of drawing random numbers: they test what any
correct corruption must satisfy (shape, range, which pixels change and how often, the measured
noise level, reproducibility with the generator, no change to the input) on large random images.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from course_utils.exercise_checks import expect
from course_utils.exercise_checks.core import (
    CheckResult,
    Wrong,
    call,
    randint,
    random_generator,
    run_check,
)

POINTS = {
    "gaussian_noise": 2,
    "masking_noise": 2,
    "salt_and_pepper": 2,
    "psnr": 2,
    "predict_psnr": 1,
}


def _basic(fn, x: Tensor, level: float, name: str, clipped: bool = False) -> Tensor:
    """Shape, dtype, input untouched, the generator used (not the global RNG); range if clipped."""
    before = x.clone()
    out = expect.tensor(call(fn, x, level, generator=torch.Generator().manual_seed(0)), name)
    expect.unchanged(before, x, "x")
    expect.shape(out, x.shape, name)
    expect.dtype(out, x.dtype, name)
    if clipped and (out.min() < 0 or out.max() > 1):
        raise Wrong(
            "not clipped to [0, 1]",
            f"{name} has values from {out.min().item():.3g} to "
            f"{out.max().item():.3g}; images must stay in [0, 1]: clip with .clamp(0, 1) "
            "AFTER adding the noise.",
            f"{name} có giá trị từ {out.min().item():.3g} đến "
            f"{out.max().item():.3g}; ảnh phải nằm trong [0, 1]: hãy cắt bằng "
            ".clamp(0, 1) SAU khi cộng nhiễu.",
        )
    expect.generator_respected(lambda gen: call(fn, x, level, generator=gen), name)
    return out


def _rate(count: Tensor, n: int) -> float:
    return count.sum().item() / n


def _near(value: float, target: float, n: int) -> bool:
    """Within 6 binomial standard errors (and a little slack) of a rate ``target``."""
    return abs(value - target) <= 6 * math.sqrt(max(target * (1 - target), 1e-4) / n) + 2e-3


def check_gaussian_noise(add_gaussian_noise) -> CheckResult:
    """``add_gaussian_noise(x, std, generator) -> clip(x + std * eps, 0, 1)``, eps ~ N(0, 1)."""

    def body() -> tuple[str, str]:
        g = random_generator()
        x = torch.rand(randint(g, 2, 5), 1, randint(g, 5, 12), randint(g, 5, 12), generator=g)
        _basic(
            add_gaussian_noise,
            x,
            0.05 + 0.25 * torch.rand(1, generator=g).item(),
            "add_gaussian_noise(x, std)",
            clipped=True,
        )
        grey = torch.full((400, 1, 28, 28), 0.5)
        std = 0.05  # 10 standard deviations from 0 and 1: clipping never bites
        noisy = call(add_gaussian_noise, grey, std, generator=g)
        if noisy.min() == 0 and noisy.max() == 1:
            raise Wrong(
                "rescaled instead of clipped",
                "Your output spans exactly [0, 1] even for "
                "grey images with weak noise: it was rescaled (min-max). Clip instead: "
                ".clamp(0, 1) changes only the values outside [0, 1].",
                "Đầu ra phủ đúng "
                "[0, 1] ngay cả với ảnh xám và nhiễu yếu: nó đã bị co giãn (min-max). Hãy "
                "cắt thay vì co giãn: .clamp(0, 1) chỉ đổi các giá trị nằm ngoài [0, 1].",
            )
        noise = noisy - 0.5
        mean, measured = noise.mean().item(), noise.std().item()
        if not (abs(mean) < 0.01 and expect.about(measured, std, 0.03)):
            hints = [
                (std**2, "variance used as std", "std**2 (the variance)"),
                (math.sqrt(std), "sqrt(std) used as std", "sqrt(std)"),
                (1.0, "noise not scaled by std", "1 (the noise is not multiplied by std)"),
                (0.0, "no noise", "0 (no noise was added)"),
            ]
            for target, note, what in hints:
                if abs(measured - target) <= 0.03 * max(target, 0.01):
                    raise Wrong(
                        note,
                        f"The noise's standard deviation is {what}, expected std = "
                        f"{std}: add std * torch.randn(...).",
                        f"Độ lệch chuẩn của nhiễu "
                        f"là {what}, cần std = {std}: hãy cộng std * torch.randn(...).",
                    )
            if expect.about(mean, std / 2, 0.1) and expect.about(measured, std / 12**0.5, 0.1):
                raise Wrong(
                    "uniform noise",
                    f"The noise has mean {mean:.3f}, not 0: draw it with "
                    "torch.randn (normal), not torch.rand (uniform on [0, 1)).",
                    f"Nhiễu có trung bình {mean:.3f}, không phải 0: hãy dùng torch.randn "
                    "(chuẩn), không phải torch.rand (đều trên [0, 1)).",
                )
            raise Wrong(
                "wrong noise level",
                f"On grey images the noise has mean {mean:.4f} and "
                f"standard deviation {measured:.4f}; expected 0 and {std}.",
                f"Trên ảnh "
                f"xám, nhiễu có trung bình {mean:.4f} và độ lệch chuẩn {measured:.4f}; cần "
                f"0 và {std}.",
            )
        binary = (torch.rand(400, 1, 28, 28, generator=g) > 0.5).float()
        out = call(add_gaussian_noise, binary, 0.5, generator=g)
        black = _rate(out[binary == 0] == 0, int((binary == 0).sum()))
        white = _rate(out[binary == 1] == 1, int((binary == 1).sum()))
        if black < 0.45 or white < 0.45:
            raise Wrong(
                "clipped wrongly",
                f"With std 0.5 about half the black pixels should end "
                f"at exactly 0 and half the white ones at exactly 1 (clipping), got "
                f"{black:.0%} and {white:.0%}. Clip with .clamp(0, 1); do not rescale or "
                "squash the values.",
                f"Với std 0.5, khoảng một nửa số điểm ảnh đen phải "
                f"đúng bằng 0 và một nửa số điểm trắng đúng bằng 1 (do cắt), nhận được "
                f"{black:.0%} và {white:.0%}. Hãy cắt bằng .clamp(0, 1); đừng co giãn hay "
                "nén giá trị.",
            )
        return (
            "add_gaussian_noise: right noise level, clipped to [0, 1], driven by the generator.",
            "add_gaussian_noise: đúng mức nhiễu, cắt về [0, 1], dùng đúng generator.",
        )

    return run_check("gaussian_noise", POINTS["gaussian_noise"], body)


def check_masking_noise(mask_pixels) -> CheckResult:
    """``mask_pixels(x, p, generator)``: each pixel set to 0 with probability p, others kept."""

    def body() -> tuple[str, str]:
        g = random_generator()
        x = torch.rand(randint(g, 2, 5), 1, randint(g, 5, 12), randint(g, 5, 12), generator=g)
        _basic(mask_pixels, x, 0.3, "mask_pixels(x, p)")
        p = 0.15 + 0.2 * torch.rand(1, generator=g).item()  # far from 1 - p, so a swap shows
        bright = 0.2 + 0.8 * torch.rand(100, 1, 28, 28, generator=g)  # no pixel is 0 already
        out = call(mask_pixels, bright, p, generator=g)
        kept = out != 0
        if not torch.allclose(out[kept], bright[kept]):
            ratio = (out[kept] / bright[kept]).mean().item()
            if expect.about(ratio, 1 / (1 - p), 0.01):
                raise Wrong(
                    "rescaled like dropout",
                    "The kept pixels were divided by (1 - p), as "
                    "nn.Dropout does. Masking keeps them unchanged: x * keep.",
                    "Các điểm ảnh được giữ bị chia cho (1 - p) như nn.Dropout. Che điểm ảnh "
                    "phải giữ nguyên chúng: x * keep.",
                )
            raise Wrong(
                "kept pixels changed",
                "Pixels that are not masked must keep their value.",
                "Các điểm ảnh không bị che phải giữ nguyên giá trị.",
            )
        rate, n = _rate(~kept, out.numel()), out.numel()
        if not _near(rate, p, n):
            if _near(rate, 1 - p, n):
                raise Wrong(
                    "p used as the keep probability",
                    f"You masked {rate:.1%} of the "
                    f"pixels with p = {p:.2f}: p is the probability of DROPPING a pixel.",
                    f"Bạn đã che {rate:.1%} số điểm ảnh với p = {p:.2f}: p là xác suất BỎ "
                    "một điểm ảnh.",
                )
            raise Wrong(
                "wrong rate",
                f"You masked {rate:.1%} of the pixels, expected p = {p:.1%}.",
                f"Bạn đã che {rate:.1%} số điểm ảnh, cần p = {p:.1%}.",
            )
        return (
            "mask_pixels drops the right share of pixels and keeps the others unchanged.",
            "mask_pixels bỏ đúng tỉ lệ điểm ảnh và giữ nguyên các điểm còn lại.",
        )

    return run_check("masking_noise", POINTS["masking_noise"], body)


def check_salt_and_pepper(salt_and_pepper) -> CheckResult:
    """``salt_and_pepper(x, p, generator)``: with probability p a pixel becomes 0 or 1."""

    def body() -> tuple[str, str]:
        g = random_generator()
        x = torch.rand(randint(g, 2, 5), 1, randint(g, 5, 12), randint(g, 5, 12), generator=g)
        _basic(salt_and_pepper, x, 0.3, "salt_and_pepper(x, p)")
        p = 0.15 + 0.2 * torch.rand(1, generator=g).item()  # far from 1 - p, so a swap shows
        grey = 0.2 + 0.6 * torch.rand(100, 1, 28, 28, generator=g)  # no pixel is 0 or 1 already
        out = call(salt_and_pepper, grey, p, generator=g)
        hit, n = out != grey, out.numel()
        if not torch.all((out[hit] == 0) | (out[hit] == 1)):
            raise Wrong(
                "hit pixels not 0 or 1",
                "A pixel that is hit must become exactly 0 "
                "(pepper) or 1 (salt); the others keep their value.",
                "Điểm ảnh bị nhiễu "
                "phải thành đúng 0 (tiêu) hoặc 1 (muối); các điểm khác giữ nguyên.",
            )
        rate, salt, pepper = _rate(hit, n), _rate(out == 1, n), _rate(out == 0, n)
        if pepper == 0 or salt == 0:
            missing = ("pepper (0)", "tiêu (0)") if pepper == 0 else ("salt (1)", "muối (1)")
            raise Wrong(
                "only salt or only pepper",
                f"No {missing[0]} at all: half the hit pixels become 0 and half become 1.",
                f"Không có chút {missing[1]} nào: một nửa "
                "số điểm bị nhiễu thành 0, nửa kia thành 1.",
            )
        if not _near(rate, p, n):
            half = _near(rate, p / 2, n)
            raise Wrong(
                "wrong rate",
                f"{rate:.1%} of the pixels were hit, expected p = {p:.1%}"
                + (
                    ": p is the TOTAL share of pixels hit, salt and pepper together."
                    if half
                    else ". Draw ONE uniform number per pixel and compare it with p."
                ),
                f"{rate:.1%} số điểm ảnh bị nhiễu, cần p = {p:.1%}"
                + (
                    ": p là TỔNG tỉ lệ điểm bị nhiễu, cả muối lẫn tiêu."
                    if half
                    else ". Hãy rút MỘT số ngẫu nhiên đều cho mỗi điểm ảnh rồi so với p."
                ),
            )
        if not (_near(salt, p / 2, n) and _near(pepper, p / 2, n)):
            raise Wrong(
                "salt and pepper unbalanced",
                f"Salt {salt:.1%} and pepper {pepper:.1%}: each should be about p / 2.",
                f"Muối {salt:.1%} và tiêu {pepper:.1%}: mỗi loại nên khoảng p / 2.",
            )
        return (
            "salt_and_pepper hits the right share of pixels, half salt and half pepper.",
            "salt_and_pepper làm nhiễu đúng tỉ lệ điểm ảnh, nửa muối nửa tiêu.",
        )

    return run_check("salt_and_pepper", POINTS["salt_and_pepper"], body)
