"""Checks for exercise 04 (denoising autoencoders): three corruptions, PSNR by hand, the
predict-then-run PSNR question, and the denoising loss (corrupt, reconstruct, compare with the
CLEAN image).

The noise checks do not demand one particular way of drawing random numbers: they test what any
correct corruption must satisfy (shape, range, which pixels change and how often, the measured
noise level, reproducibility with the generator, no change to the input) on large random images.
One idea: the checks of one exercise, task by task in the exercise's order (over 400 lines
because each corruption check needs its own statistical tests and typical-mistake messages).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from course_utils.exercise_checks import expect, predict
from course_utils.exercise_checks.core import Values, Wrong, call, check, randint
from course_utils.exercise_checks.expect import Mistake

POINTS = {
    "gaussian_noise": 2,
    "masking_noise": 2,
    "salt_and_pepper": 2,
    "psnr": 2,
    "predict_psnr": 1,
    "denoising_loss": 2,
}


def _basic(fn, level: float, name: str, g: torch.Generator, clipped: bool = False) -> None:
    """On random images x (B, 1, H, W) of random size, ``fn(x, level, generator)`` keeps the shape
    and dtype, leaves x untouched and draws from the generator (not the global RNG); if
    ``clipped``, it stays in [0, 1]."""
    x = torch.rand(randint(g, 2, 5), 1, randint(g, 5, 12), randint(g, 5, 12), generator=g)
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


def _rate(count: Tensor, n: int) -> float:
    return count.sum().item() / n


def _near(value: float, target: float, n: int) -> bool:
    """Within 6 binomial standard errors (and a little slack) of a rate ``target``."""
    return abs(value - target) <= 6 * math.sqrt(max(target * (1 - target), 1e-4) / n) + 2e-3


@check("gaussian_noise", POINTS)
def check_gaussian_noise(add_gaussian_noise, g: torch.Generator) -> Values:
    """``add_gaussian_noise(x, std, generator) -> clip(x + std * eps, 0, 1)``, eps ~ N(0, 1)."""
    level = 0.05 + 0.25 * torch.rand(1, generator=g).item()
    _basic(add_gaussian_noise, level, "add_gaussian_noise(x, std)", g, clipped=True)
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
                "(phân phối chuẩn tắc), không phải torch.rand (phân phối đều trên [0, 1)).",
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


def _random_rate_trial(fn, name: str, g: torch.Generator) -> tuple[float, Tensor, Tensor]:
    """The basic properties of a pixel-hitting corruption ``fn(x, p, generator)``, then one run on
    100 grey images (no pixel is 0 or 1 already) at a random p in [0.15, 0.35], far from 1 - p so
    that a swapped p shows. Returns p, the grey images (100, 1, 28, 28) and fn's output."""
    _basic(fn, 0.3, name, g)
    p = 0.15 + 0.2 * torch.rand(1, generator=g).item()
    grey = 0.2 + 0.6 * torch.rand(100, 1, 28, 28, generator=g)
    return p, grey, call(fn, grey, p, generator=g)


@check("masking_noise", POINTS)
def check_masking_noise(mask_pixels, g: torch.Generator) -> Values:
    """``mask_pixels(x, p, generator)``: each pixel set to 0 with probability p, others kept."""
    p, grey, out = _random_rate_trial(mask_pixels, "mask_pixels(x, p)", g)
    kept = out != 0
    if not torch.allclose(out[kept], grey[kept]):
        ratio = (out[kept] / grey[kept]).mean().item()
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


@check("salt_and_pepper", POINTS)
def check_salt_and_pepper(salt_and_pepper, g: torch.Generator) -> Values:
    """``salt_and_pepper(x, p, generator)``: with probability p a pixel becomes 0 or 1."""
    p, grey, out = _random_rate_trial(salt_and_pepper, "salt_and_pepper(x, p)", g)
    hit, n = out != grey, out.numel()
    if not torch.all((out[hit] == 0) | (out[hit] == 1)):
        raise Wrong(
            "hit pixels not 0 or 1",
            "A pixel that is hit must become exactly 0 "
            "(pepper) or 1 (salt); the others keep their value.",
            "Điểm ảnh bị nhiễu phải thành đúng 0 (tiêu) hoặc 1 (muối); các điểm khác giữ nguyên.",
        )
    rate, salt, pepper = _rate(hit, n), _rate(out == 1, n), _rate(out == 0, n)
    if pepper == 0 or salt == 0:
        missing = ("pepper (0)", "tiêu (0)") if pepper == 0 else ("salt (1)", "muối (1)")
        raise Wrong(
            "only salt or only pepper",
            f"No {missing[0]} at all: half the hit pixels become 0 and half become 1.",
            f"Không có chút {missing[1]} nào: một nửa số điểm bị nhiễu thành 0, nửa kia thành 1.",
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
                else ". Hãy lấy MỘT số ngẫu nhiên theo phân phối đều cho mỗi điểm ảnh rồi so với p."
            ),
        )
    if not (_near(salt, p / 2, n) and _near(pepper, p / 2, n)):
        raise Wrong(
            "salt and pepper unbalanced",
            f"Salt {salt:.1%} and pepper {pepper:.1%}: each should be about p / 2.",
            f"Muối {salt:.1%} và tiêu {pepper:.1%}: mỗi loại nên khoảng p / 2.",
        )


@check("psnr", POINTS)
def check_psnr(psnr, g: torch.Generator) -> Values:
    """``psnr(x_hat, x, max_value=1.0) -> (B,)``: 10 log10(max^2 / per-image mean squared error)."""
    b, h, w = randint(g, 3, 7), randint(g, 5, 12), randint(g, 5, 12)
    for max_value in (1.0, 255.0):
        x = max_value * torch.rand(b, 1, h, w, generator=g)
        levels = torch.linspace(0.02, 0.3, b).view(b, 1, 1, 1) * max_value
        x_hat = x + levels * torch.randn(x.shape, generator=g)
        got = expect.returns(
            psnr,
            x_hat,
            x,
            max_value=max_value,
            what="psnr(x_hat, x)",
            forbidden=("course_utils.corruption:psnr",),
            shape=(b,),
            hint=(
                " One value per image: average the squared error over each image's pixels, "
                "(x_hat - x).pow(2).flatten(1).mean(dim=1), not over the whole batch.",
                " Mỗi ảnh một giá trị: lấy trung bình bình phương sai số trên các điểm ảnh "
                "của từng ảnh, (x_hat - x).pow(2).flatten(1).mean(dim=1), không phải trên "
                "cả batch.",
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
                torch.full_like(ref, (10 * torch.log10(max_value**2 / se.mean())).item()),
                "MSE pooled over the batch",
                "You averaged the error over the whole batch; PSNR is per image: average over "
                "each image's pixels, (x_hat - x).pow(2).flatten(1).mean(dim=1).",
                "Bạn đã lấy trung bình sai số trên cả batch; PSNR tính cho từng ảnh: lấy trung "
                "bình trên các điểm ảnh của từng ảnh, (x_hat - x).pow(2).flatten(1).mean(dim=1).",
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


@check("predict_psnr", POINTS)
def check_prediction_psnr(predicted_psnr_db) -> tuple[str, str]:
    """PSNR of an image whose every pixel is off by exactly 0.1 (max value 1): 20 dB."""
    return predict.number(
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


class _RecordingDenoiser(nn.Module):
    """A fixed random denoiser (B, 1, H, W) -> (B, 1, H, W), pixels in (0, 1), that remembers
    every input it is given: the check sees exactly what the student's code fed the model."""

    def __init__(self, n_pixels: int, g: torch.Generator) -> None:
        super().__init__()
        self.layer = nn.Linear(n_pixels, n_pixels)
        with torch.no_grad():
            self.layer.weight.copy_(torch.randn(n_pixels, n_pixels, generator=g) / n_pixels**0.5)
            self.layer.bias.copy_(0.1 * torch.randn(n_pixels, generator=g))  # not the global RNG
        self.inputs: list[Tensor] = []

    def forward(self, x: Tensor) -> Tensor:
        self.inputs.append(x.detach().clone())
        return torch.sigmoid(self.layer(x.flatten(1))).view_as(x)


@check("denoising_loss", POINTS)
def check_denoising_loss(denoising_loss, g: torch.Generator) -> Values:
    """``denoising_loss(model, x, std, generator) -> scalar``: corrupt the clean x with Gaussian
    noise of std ``std`` (clipped), run the model on the NOISY images and return the squared
    error against the CLEAN x, summed over each image's pixels and averaged over the batch."""
    b, h, w = randint(g, 4, 8), randint(g, 5, 9), randint(g, 5, 9)
    x = 0.3 + 0.4 * torch.rand(b, 1, h, w, generator=g)  # grey: noise of std <= 0.05 never clips
    std = 0.03 + 0.02 * torch.rand(1, generator=g).item()
    before = x.clone()
    model = _RecordingDenoiser(h * w, g)
    name = "denoising_loss(model, x, std, generator)"
    loss = expect.returns(
        denoising_loss,
        model,
        x,
        std,
        generator=torch.Generator().manual_seed(7),
        what=name,
        shape=(),
        hint=(
            " Return one number: the squared error summed over each image's pixels, then "
            "averaged over the batch.",
            " Hãy trả về một số: bình phương sai số cộng trên các điểm ảnh của từng ảnh, rồi "
            "lấy trung bình trên batch.",
        ),
    )
    expect.unchanged(before, x, "x")
    if not model.inputs:
        raise Wrong(
            "model not called",
            "Run the model on the noisy images: output = model(noisy).",
            "Hãy chạy mô hình trên ảnh nhiễu: output = model(noisy).",
        )
    noisy = model.inputs[-1]
    expect.shape(noisy, x.shape, "The input given to the model")
    if torch.allclose(noisy, x):
        raise Wrong(
            "no corruption",
            "The model was given the CLEAN images: corrupt x first (Gaussian noise of std "
            "`std`, clipped), then run the model on the noisy copy. Without damage, copying is "
            "the best answer and nothing forces the model to learn what images look like.",
            "Mô hình nhận ảnh SẠCH: hãy làm nhiễu x trước (nhiễu Gauss độ lệch chuẩn `std`, "
            "cắt về [0, 1]), rồi chạy mô hình trên bản nhiễu. Không có hư hại thì sao chép là "
            "tốt nhất và không gì buộc mô hình học ảnh trông như thế nào.",
        )
    measured = (noisy - x).std().item()
    if not expect.about(measured, std, 0.25):
        raise Wrong(
            "wrong noise level",
            f"The noise given to the model has standard deviation {measured:.4f}, but std is "
            f"{std:.4f}: add std * eps with eps ~ N(0, 1) (std is the standard deviation, not "
            "the variance).",
            f"Nhiễu đưa vào mô hình có độ lệch chuẩn {measured:.4f}, nhưng std là {std:.4f}: "
            "hãy cộng std * eps với eps ~ N(0, 1) (std là độ lệch chuẩn, không phải phương sai).",
        )
    out = model.layer(noisy.flatten(1)).sigmoid().view_as(x).detach()  # what the model returned
    se_clean, se_noisy = (out - x).pow(2).flatten(1), (out - noisy).pow(2).flatten(1)
    mistakes = [
        Mistake(
            se_noisy.sum(dim=1).mean(),
            "target = noisy input",
            "You compared the output with the NOISY images: the model would learn to "
            "reproduce the noise. The target is the CLEAN x.",
            "Bạn so đầu ra với ảnh NHIỄU: mô hình sẽ học tái tạo nhiễu. Đích là ảnh SẠCH x.",
        ),
        Mistake(
            se_clean.sum(),
            "sum instead of mean over the batch",
            "You summed over the batch too: sum over each image's pixels, then take the MEAN "
            "over the images, so the loss does not grow with the batch size.",
            "Bạn cộng cả trên batch: hãy cộng trên các điểm ảnh của từng ảnh, rồi lấy TRUNG BÌNH "
            "trên các ảnh, để hàm mất mát không tăng theo kích thước batch.",
        ),
        Mistake(
            se_clean.mean(),
            "mean over the pixels",
            "You averaged over the pixels too: the course's convention sums the squared error "
            "over each image's pixels and averages over the batch only.",
            "Bạn lấy trung bình cả trên các điểm ảnh: quy ước của khóa học cộng bình phương "
            "sai số trên các điểm ảnh của từng ảnh và chỉ lấy trung bình trên batch.",
        ),
    ]
    expect.close(loss, se_clean.sum(dim=1).mean(), name, mistakes, atol=1e-4)
    expect.backward(loss, name)
    expect.gradient_reaches(model.layer.weight, "the model's weights", "trọng số của mô hình")
    fresh = torch.Generator().manual_seed(1)  # the same model for every draw: one seed

    def loss_with(gen: torch.Generator) -> Tensor:
        return call(denoising_loss, _RecordingDenoiser(h * w, fresh.manual_seed(1)), x, std,
                    generator=gen)  # fmt: skip

    expect.generator_respected(loss_with, name)
    return None
