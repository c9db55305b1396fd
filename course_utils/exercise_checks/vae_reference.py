"""References, recording layers and catalogues of typical mistakes shared by the VAE checks
(lessons 06 and 07).

Conventions (the course's): mu and logvar are (B, L) with logvar = log sigma^2, so
sigma = exp(logvar / 2); KL = 1/2 sum_j (mu_j^2 + exp(logvar_j) - logvar_j - 1) per image; the
loss sums over pixels and latent dimensions and averages over the batch (nats per image).
Everything here is computed in float64, independently of ``course_utils.vae`` and ``losses``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from course_utils.exercise_checks.core import Wrong, randint
from course_utils.exercise_checks.expect import Mistake


def random_posterior(g: torch.Generator, logvar_std: float = 0.5) -> tuple[Tensor, Tensor]:
    """mu and logvar (B, L) of random sizes, leaves that track gradients; logvar ~ N(0, std^2)."""
    b, latent = randint(g, 3, 9), randint(g, 2, 12)
    mu = torch.randn(b, latent, generator=g).requires_grad_()
    logvar = (logvar_std * torch.randn(b, latent, generator=g)).requires_grad_()
    return mu, logvar


def random_batch(g: torch.Generator) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Images x (B, 1, H, W) in [0, 1], logits like x, mu and logvar (B, L), all random sizes."""
    mu, logvar = random_posterior(g)
    b, h, w = mu.shape[0], randint(g, 4, 9), randint(g, 4, 9)
    x = torch.rand(b, 1, h, w, generator=g)
    logits = (2 * torch.randn(b, 1, h, w, generator=g)).requires_grad_()
    return x, logits, mu, logvar


class RecordingLinear(nn.Module):
    """A random linear layer (B, n_in) -> (B, n_out) that remembers every input it is given.

    Handed to the student's code as an encoder or a decoder, it lets a check see exactly what
    that code fed it. A 2-D input of the wrong width is padded with zeros or cut to n_in, so that
    a wrong answer still runs and the check can say what was wrong with the input.
    """

    def __init__(self, n_in: int, n_out: int, g: torch.Generator) -> None:
        super().__init__()
        self.layer = nn.Linear(n_in, n_out)
        with torch.no_grad():
            self.layer.weight.copy_(torch.randn(n_out, n_in, generator=g))
        self.inputs: list[Tensor] = []

    def forward(self, v: Tensor) -> Tensor:
        self.inputs.append(v.detach().clone())
        if v.dim() == 2 and v.shape[1] != self.layer.in_features:  # (B, w) -> (B, n_in)
            width = self.layer.in_features
            v = F.pad(v, (0, width - v.shape[1])) if v.shape[1] < width else v[:, :width]
        return self.layer(v)


def bce_reference(logits: Tensor, x: Tensor) -> Tensor:
    """Bernoulli negative log-likelihood summed over pixels: (B, ...) -> (B,)."""
    bce = F.binary_cross_entropy_with_logits(logits.detach().double(), x.double(), reduction="none")
    return bce.flatten(1).sum(dim=1)


def kl_reference(mu: Tensor, logvar: Tensor) -> Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) per row, in float64: (B, L) -> (B,)."""
    mu, logvar = mu.detach().double(), logvar.detach().double()
    return 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1).sum(dim=1)


def std_mistakes(measured: float, std: float, logvar: float) -> None:
    """Name the usual wrong standard deviations, given the one measured on samples."""
    hints = [
        (
            math.exp(logvar),
            "exp(logvar) used as the standard deviation",
            "exp(logvar) is the VARIANCE sigma^2, not the standard deviation: sigma = "
            "exp(0.5 * logvar).",
            "exp(logvar) là PHƯƠNG SAI sigma^2, không phải độ lệch chuẩn: "
            "sigma = exp(0.5 * logvar).",
        ),
        (
            logvar,
            "logvar used as the standard deviation",
            "logvar is log sigma^2, not sigma: sigma = exp(0.5 * logvar).",
            "logvar là log sigma^2, không phải sigma: sigma = exp(0.5 * logvar).",
        ),
        (
            1.0,
            "noise not scaled by sigma",
            "The noise is not multiplied by sigma = exp(0.5 * logvar).",
            "Nhiễu chưa được nhân với sigma = exp(0.5 * logvar).",
        ),
        (
            0.0,
            "no noise",
            "There is no noise: z must be a SAMPLE, mu + sigma * eps, not mu.",
            "Không có nhiễu: z phải là một MẪU, mu + sigma * eps, không phải mu.",
        ),
    ]
    for target, note, en, vi in hints:
        if abs(measured - target) <= 0.06 * max(abs(target), 0.05):
            raise Wrong(note, en, vi)
    raise Wrong(
        "wrong spread",
        f"The samples have standard deviation {measured:.3f} around mu, "
        f"expected sigma = exp(0.5 * logvar) = {std:.3f}.",
        f"Các mẫu có độ lệch chuẩn "
        f"{measured:.3f} quanh mu, cần sigma = exp(0.5 * logvar) = {std:.3f}.",
    )


def kl_mistakes(mu: Tensor, logvar: Tensor, ref: Tensor) -> list[Mistake]:
    """The usual wrong KLs, per image (B,), for ``expect.close``."""
    mu, logvar = mu.detach().double(), logvar.detach().double()
    sigma_for_var = 0.5 * (mu.pow(2) + (0.5 * logvar).exp() - 0.5 * logvar - 1).sum(dim=1)
    sigma_in_exp = 0.5 * (mu.pow(2) + (0.5 * logvar).exp() - logvar - 1).sum(dim=1)
    sigma = (
        "The formula uses sigma where sigma^2 belongs: with logvar = log sigma^2 the KL is "
        "1/2 sum(mu^2 + exp(logvar) - logvar - 1).",
        "Công thức dùng sigma ở chỗ cần "
        "sigma^2: với logvar = log sigma^2, KL = 1/2 sum(mu^2 + exp(logvar) - logvar - 1).",
    )
    return [
        Mistake(
            -ref,
            "wrong sign",
            "Wrong sign: the KL is never negative. It is "
            "+1/2 sum(mu^2 + exp(logvar) - logvar - 1); the ELBO is what has a minus.",
            "Sai dấu: KL không bao giờ âm. KL = +1/2 sum(mu^2 + exp(logvar) - logvar - 1); "
            "dấu trừ thuộc về ELBO.",
        ),
        Mistake(
            ref / mu.shape[1],
            "mean instead of sum",
            "Mean instead of sum over the latent "
            "dimensions: the KL of a diagonal Gaussian is a SUM over dimensions.",
            "Dùng mean "
            "thay vì sum trên các chiều tiềm ẩn: KL của Gauss chéo là TỔNG trên các chiều.",
        ),
        Mistake(2 * ref, "factor 1/2 missing", "The factor 1/2 is missing.", "Thiếu hệ số 1/2."),
        Mistake(sigma_for_var, "sigma where sigma^2 belongs", *sigma),
        Mistake(sigma_in_exp, "sigma where sigma^2 belongs", *sigma),
    ]


def loss_mistakes(logits: Tensor, x: Tensor, mu: Tensor, logvar: Tensor):
    """The VAE loss in nats per image and the usual wrong versions of it (for ``expect.close``)."""
    ld = logits.detach().double()
    bce = F.binary_cross_entropy_with_logits(ld, x.double(), reduction="none").flatten(1)
    recon, kl = bce.sum(dim=1), kl_reference(mu, logvar)
    pixels, latent = x[0].numel(), mu.shape[1]
    sq = (torch.sigmoid(ld) - x).pow(2).flatten(1).sum(dim=1)
    double_sigmoid = (
        F.binary_cross_entropy_with_logits(torch.sigmoid(ld), x.double(), reduction="none")
        .flatten(1)
        .sum(dim=1)
    )
    mean_recon = (
        "The reconstruction term is averaged over the pixels (mean instead of sum): "
        "use reduction='none', then .flatten(1).sum(dim=1) per image.",
        "Số hạng "
        "tái tạo bị lấy trung bình trên các điểm ảnh (mean thay vì sum): hãy dùng "
        "reduction='none' rồi .flatten(1).sum(dim=1) cho mỗi ảnh.",
    )
    return (recon + kl).mean(), [
        Mistake(
            recon.mean() / pixels + kl.mean(),
            "mean instead of sum (reconstruction)",
            *mean_recon,
        ),
        Mistake(
            recon.mean() / pixels + kl.mean() / latent,
            "mean instead of sum (both terms)",
            *mean_recon,
        ),
        Mistake(
            recon.mean() + kl.mean() / latent,
            "mean instead of sum (KL)",
            "The KL is averaged over the latent dimensions (mean instead of sum): sum over them.",
            "KL bị lấy trung bình trên các chiều tiềm ẩn (mean thay vì sum): hãy cộng.",
        ),
        Mistake(
            (recon + kl).sum(),
            "summed over the batch",
            "The loss is summed over the batch: average over the images (nats PER IMAGE).",
            "Mất mát đang cộng trên batch: hãy lấy trung bình trên các ảnh (nat TRÊN MỖI ẢNH).",
        ),
        Mistake(
            recon.sum() + kl.mean(),
            "terms reduced differently",
            "The two terms use different reductions; average BOTH over the batch.",
            "Hai số hạng dùng cách gộp khác nhau; hãy lấy trung bình CẢ HAI trên batch.",
        ),
        Mistake(
            (recon - kl).mean(),
            "wrong sign of the KL",
            "The KL is ADDED to the reconstruction loss (the loss is minus the ELBO).",
            "KL được CỘNG vào mất mát tái tạo (mất mát là âm ELBO).",
        ),
        Mistake(
            (double_sigmoid + kl).mean(),
            "sigmoid applied twice",
            "logits are raw scores: binary_cross_entropy_with_logits applies the sigmoid itself.",
            "logits là điểm thô: binary_cross_entropy_with_logits tự áp dụng sigmoid.",
        ),
        Mistake(
            (sq + kl).mean(),
            "squared error instead of BCE",
            "Use the Bernoulli "
            "likelihood: binary cross-entropy with logits, not the squared error.",
            "Hãy dùng hàm hợp lý Bernoulli: entropy chéo nhị phân với logits, không phải "
            "bình phương sai số.",
        ),
    ]
