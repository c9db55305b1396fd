"""Checks for exercise 07 (beyond the vanilla VAE): CVAE conditioning, the beta-VAE loss, and the
predict-then-run question on the CVAE decoder's input width.

The CVAE check hands the student's forward pass an encoder and a decoder that record what they
receive, so it can tell exactly which of the two was (not) given the one-hot label.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from course_utils.exercise_checks import expect, predict
from course_utils.exercise_checks.core import Values, Wrong, call, check, forbid, randint
from course_utils.exercise_checks.expect import Mistake
from course_utils.exercise_checks.vae_reference import (
    RecordingLinear,
    bce_reference,
    kl_reference,
    random_batch,
    std_mistakes,
)

POINTS = {"cvae_concat": 2, "cvae_forward": 2, "beta_vae_loss": 2, "predict_decoder_width": 1}


@check("cvae_concat", POINTS)
def check_concat_one_hot(concat_one_hot, g: torch.Generator) -> Values:
    """``concat_one_hot(v (B, D), y (B,), n_classes) -> (B, D + C)``: [v, one_hot(y)]."""
    b, d, c = randint(g, 3, 8), randint(g, 4, 12), randint(g, 3, 10)
    d += d == c  # D != C, so joining along the wrong dimension cannot fit by chance
    v = torch.randn(b, d, generator=g)
    y = torch.randint(0, c, (b,), generator=g)
    got = expect.tensor(call(concat_one_hot, v.clone(), y.clone(), c), "concat_one_hot(v, y)")
    if tuple(got.shape) == (b, d + 1):
        raise Wrong(
            "label not one-hot",
            "You appended the label as ONE number. Append its "
            f"one-hot code, C = {c} numbers: F.one_hot(y, n_classes).",
            "Bạn đã nối "
            f"nhãn như MỘT con số. Hãy nối vectơ one-hot của nó, C = {c} số: "
            "F.one_hot(y, n_classes).",
        )
    expect.shape(
        got,
        (b, d + c),
        "concat_one_hot(v, y)",
        (
            " Concatenate along the features: torch.cat([v, one_hot], dim=1).",
            " Hãy nối theo chiều đặc trưng: torch.cat([v, one_hot], dim=1).",
        ),
    )
    expect.dtype(got, v.dtype, "concat_one_hot(v, y)")
    one_hot = F.one_hot(y, c).to(v.dtype)
    expect.close(
        got,
        torch.cat([v, one_hot], dim=1),
        "concat_one_hot(v, y)",
        [
            Mistake(
                torch.cat([one_hot, v], dim=1),
                "one-hot first",
                "Put v first and the one-hot label after it: torch.cat([v, one_hot], dim=1).",
                "Hãy đặt v trước và nhãn one-hot sau: torch.cat([v, one_hot], dim=1).",
            ),
        ],
    )


class _Encoder(RecordingLinear):
    """(B, D + C) -> (mu, logvar), logvar fixed at log 4 (sigma = 2); remembers its inputs."""

    def forward(self, v: Tensor) -> tuple[Tensor, Tensor]:
        mu = super().forward(v)
        return mu, torch.full_like(mu, math.log(4.0)) + 0 * mu


def _conditioned(inputs: list[Tensor], rest: int, c: int, y: Tensor, who: tuple[str, str]):
    """The last input of a recording module must be [something (B, rest), one_hot(y) (B, c)]."""
    if not inputs:
        raise Wrong(f"{who[0]} not called", f"Call the {who[0]}.", f"Hãy gọi {who[1]}.")
    v = inputs[-1]
    if v.dim() != 2 or v.shape[1] != rest + c:
        missing = v.dim() == 2 and v.shape[1] == rest
        raise Wrong(
            f"{who[0]} not conditioned" if missing else f"wrong {who[0]} input",
            f"The {who[0]} received shape {tuple(v.shape)}, expected (B, {rest} + {c}): "
            + (
                "it must see the one-hot label too (concatenate it)."
                if missing
                else "its input and the one-hot label side by side."
            ),
            f"{who[1].capitalize()} nhận đầu vào kích thước {tuple(v.shape)}, "
            f"cần (B, {rest} + {c}): "
            + (
                "nó cũng phải thấy nhãn one-hot (hãy nối vào)."
                if missing
                else "đầu vào của nó và nhãn one-hot đặt cạnh nhau."
            ),
        )
    if not torch.equal(v[:, rest:], F.one_hot(y, c).to(v.dtype)):
        raise Wrong(
            "wrong label columns",
            f"The last {c} columns of the {who[0]}'s input are not one_hot(y).",
            f"{c} cột cuối của đầu vào {who[1]} không phải one_hot(y).",
        )
    return v[:, :rest]


@check("cvae_forward", POINTS)
def check_cvae_forward(cvae_forward, g: torch.Generator) -> Values:
    """``cvae_forward(encoder, decoder, x, y, n_classes, generator) -> (logits, mu, logvar)``."""
    b, d, c, latent = randint(g, 600, 800), randint(g, 6, 12), randint(g, 3, 10), 3
    x, y = torch.rand(b, d, generator=g), torch.randint(0, c, (b,), generator=g)
    encoder, decoder = _Encoder(d + c, latent, g), RecordingLinear(latent + c, d, g)
    with forbid("course_utils.vae:vae_loss"):
        out = call(cvae_forward, encoder, decoder, x, y, c, generator=g)
    logits, mu, logvar = expect.tensors(
        out,
        ("logits", "mu", "logvar"),
        "Return (logits, mu, logvar).",
        "Hãy trả về (logits, mu, logvar).",
    )
    enc_x = _conditioned(encoder.inputs, d, c, y, ("encoder", "bộ mã hóa"))
    expect.close(enc_x, x, "The x part of the encoder's input")
    z = _conditioned(decoder.inputs, latent, c, y, ("decoder", "bộ giải mã"))
    ref_mu = encoder.layer(torch.cat([x, F.one_hot(y, c).float()], dim=1)).detach()
    expect.close(mu, ref_mu, "The returned mu")
    expect.close(logvar, torch.full_like(mu, math.log(4.0)), "The returned logvar")
    expect.close(logits, decoder.layer(decoder.inputs[-1]).detach(), "The returned logits")
    if torch.equal(z, mu.detach()):
        raise Wrong(
            "no noise",
            "The decoder got mu itself: decode a SAMPLE, z = mu + sigma * eps.",
            "Bộ giải mã nhận chính mu: hãy giải mã một MẪU, z = mu + sigma * eps.",
        )
    measured = (z - mu.detach()).std().item()
    if abs(measured - 2.0) > 0.3:
        std_mistakes(measured, 2.0, math.log(4.0))
    expect.backward(logits, "logits")
    expect.gradient_reaches(encoder.layer.weight, "the encoder's weights", "trọng số của bộ mã hóa")
    expect.generator_respected(
        lambda gen: call(cvae_forward, encoder, decoder, x, y, c, generator=gen)[0],
        "cvae_forward's logits",
    )


@check("beta_vae_loss", POINTS)
def check_beta_vae_loss(beta_vae_loss, g: torch.Generator) -> Values:
    """``beta_vae_loss(logits, x, mu, logvar, beta) -> (loss, recon, kl)``, nats per image."""
    x, logits, mu, logvar = random_batch(g)
    beta = round(2 + 4 * torch.rand(1, generator=g).item(), 2)
    pixels, latent = x[0].numel(), mu.shape[1]
    with forbid("course_utils.vae:vae_loss"):
        out = call(beta_vae_loss, logits, x, mu, logvar, beta)
    loss, recon, kl = expect.tensors(
        out, ("loss", "recon", "kl"), "Return (loss, recon, kl).", "Hãy trả về (loss, recon, kl)."
    )
    r, k = bce_reference(logits, x).mean(), kl_reference(mu, logvar).mean()
    for t, name in ((loss, "loss"), (recon, "recon"), (kl, "kl")):
        expect.shape(
            t,
            (),
            name,
            (
                " Each of the three is one number, a mean over the batch.",
                " Mỗi giá trị là một số, trung bình trên batch.",
            ),
        )
    expect.close(
        recon,
        r,
        "recon",
        [
            Mistake(
                r / pixels,
                "mean instead of sum (reconstruction)",
                "recon is averaged over "
                "the pixels: sum over the pixels of each image, then average over images.",
                "recon bị lấy trung bình trên điểm ảnh: hãy cộng trên các điểm ảnh của mỗi "
                "ảnh, rồi lấy trung bình trên các ảnh.",
            ),
        ],
        atol=1e-3,
    )
    expect.close(
        kl,
        k,
        "kl",
        [
            Mistake(
                -k, "wrong sign of the KL", "The KL is never negative.", "KL không bao giờ âm."
            ),
            Mistake(
                k / latent,
                "mean instead of sum (KL)",
                "kl is averaged over the latent dimensions: sum over them.",
                "kl bị lấy trung bình trên các chiều tiềm ẩn: hãy cộng.",
            ),
            Mistake(
                beta * k,
                "beta inside kl",
                "Return kl WITHOUT beta (for logging); beta goes into the loss only.",
                "Hãy trả về kl KHÔNG có beta (để ghi log); beta chỉ nằm trong loss.",
            ),
        ],
        atol=1e-3,
    )
    expect.close(
        loss,
        r + beta * k,
        f"loss (beta = {beta})",
        [
            Mistake(
                r + k,
                "beta ignored",
                "beta is ignored: loss = recon + beta * kl.",
                "beta bị bỏ qua: loss = recon + beta * kl.",
            ),
            Mistake(
                beta * r + k,
                "beta on the reconstruction",
                "beta weighs the KL, not the reconstruction: loss = recon + beta * kl.",
                "beta nhân với KL, không phải với số hạng tái tạo: loss = recon + beta * kl.",
            ),
            Mistake(
                r + k / beta,
                "divided by beta",
                "Multiply the KL by beta, do not divide.",
                "Hãy nhân KL với beta, đừng chia.",
            ),
        ],
        atol=1e-3,
    )
    expect.backward(loss, "loss")
    expect.gradient_reaches(logvar, "logvar", "logvar")
    return {"beta": beta}  # for PASSED["beta_vae_loss"]


@check("predict_decoder_width", POINTS)
def check_prediction_decoder_width(predicted_width) -> tuple[str, str]:
    """Input width of a CVAE decoder for MNIST: latent size 2 plus 10 one-hot classes."""
    return predict.number(
        predicted_width,
        12,
        {
            2: (
                "label forgotten",
                "The decoder also receives the one-hot label.",
                "Bộ giải mã cũng nhận nhãn one-hot.",
            ),
            3: (
                "label not one-hot",
                "The label enters one-hot: 10 numbers, not 1.",
                "Nhãn được đưa vào dạng one-hot: 10 số, không phải 1.",
            ),
            794: (
                "encoder width",
                "794 = 784 + 10 is the ENCODER's input; the decoder reads z.",
                "794 = 784 + 10 là đầu vào của BỘ MÃ HÓA; bộ giải mã đọc z.",
            ),
        },
    )
