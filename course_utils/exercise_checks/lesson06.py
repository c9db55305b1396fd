"""Checks for exercise 06 (variational autoencoders): reparameterize, the Gaussian KL, the VAE loss
in nats per image, sampling from the prior, and latent interpolation.

Conventions (the course's): mu and logvar are (B, L) with logvar = log sigma^2, so
sigma = exp(logvar / 2); KL = 1/2 sum_j (mu_j^2 + exp(logvar_j) - logvar_j - 1) per image; the
loss sums over pixels and latent dimensions and averages over the batch.
"""

from __future__ import annotations

import math

import torch

from course_utils.exercise_checks import expect, predict
from course_utils.exercise_checks.core import Values, Wrong, call, check, forbid, randint
from course_utils.exercise_checks.expect import Mistake
from course_utils.exercise_checks.vae_reference import (
    RecordingLinear,
    kl_mistakes,
    kl_reference,
    loss_mistakes,
    random_batch,
    random_posterior,
    std_mistakes,
)

POINTS = {
    "reparameterize": 2,
    "gaussian_kl": 2,
    "vae_loss": 2,
    "sample_prior": 2,
    "interpolate": 1,
    "predict_z_shape": 1,
}


@check("reparameterize", POINTS)
def check_reparameterize(reparameterize, g: torch.Generator) -> Values:
    """``reparameterize(mu, logvar, generator) -> mu + exp(logvar / 2) * eps``, eps ~ N(0, I)."""
    mu, logvar = random_posterior(g)
    b, latent = mu.shape
    with forbid("course_utils.vae:reparameterize"):
        z = expect.tensor(call(reparameterize, mu, logvar, generator=g), "z")
        expect.shape(
            z,
            (b, latent),
            "z",
            (
                " z has the shape of mu and logvar: (B, L).",
                " z có cùng kích thước với mu và logvar: (B, L).",
            ),
        )
        if torch.equal(z.detach(), mu.detach()):
            raise Wrong(
                "no noise",
                "z equals mu: z must be a SAMPLE, mu + sigma * eps.",
                "z bằng mu: z phải là một MẪU, mu + sigma * eps.",
            )
        weights = torch.randn(b, latent, generator=g)
        expect.backward(z * weights, "z")
        expect.gradient_reaches(mu, "mu", "mu")
        expect.gradient_reaches(logvar, "logvar", "logvar")
        expect.close(mu.grad, weights, "dz/dmu")
        expect.generator_respected(
            lambda gen: call(reparameterize, mu.detach(), logvar.detach(), generator=gen), "z"
        )
        level = math.log(4.0)  # sigma = 2
        big_mu = torch.full((4000, 4), 3.0)
        z = call(reparameterize, big_mu, torch.full((4000, 4), level), generator=g)
    eps = (z.detach() - 3.0) / 2.0
    if abs(z.detach().mean().item() - 3.0) > 0.3 and abs(z.detach().mean().item()) < 0.3:
        raise Wrong(
            "mu not added",
            "z is centred at 0, not at mu: z = mu + sigma * eps.",
            "z có tâm tại 0, không phải mu: z = mu + sigma * eps.",
        )
    if abs(eps.mean().item()) > 0.05:
        raise Wrong(
            "noise not standard normal",
            f"The noise eps has mean "
            f"{eps.mean().item():.2f}, not 0: use torch.randn (normal), not "
            "torch.rand (uniform).",
            f"Nhiễu eps có trung bình {eps.mean().item():.2f}, "
            "không phải 0: hãy dùng torch.randn (phân phối chuẩn tắc), không phải torch.rand "
            "(phân phối đều).",
        )
    measured = (z.detach() - 3.0).std().item()
    if abs(measured - 2.0) > 0.1:
        std_mistakes(measured, 2.0, level)
    centred = eps - eps.mean()
    kurtosis = (centred**4).mean().item() / centred.var().item() ** 2  # normal: 3, uniform: 1.8
    if abs(kurtosis - 3.0) > 0.5:  # standard error about 0.04 with 16,000 draws
        raise Wrong(
            "noise not standard normal",
            f"The noise eps has mean 0 and standard deviation 1, but kurtosis {kurtosis:.2f}, "
            "not 3: it is not normal. Use torch.randn, not a rescaled torch.rand.",
            f"Nhiễu eps có trung bình 0 và độ lệch chuẩn 1, nhưng độ nhọn {kurtosis:.2f}, "
            "không phải 3: nó không theo phân phối Gauss. Hãy dùng torch.randn, không phải "
            "torch.rand đã co giãn.",
        )


@check("gaussian_kl", POINTS)
def check_gaussian_kl(gaussian_kl_per_image, g: torch.Generator) -> Values:
    """``gaussian_kl_per_image(mu, logvar) -> (B,)``: KL(N(mu, diag exp(logvar)) || N(0, I))."""
    mu, logvar = random_posterior(g, logvar_std=1.0)
    b, latent = mu.shape
    targets = ("course_utils.losses:gaussian_kl_per_image",)
    kl = expect.returns(
        gaussian_kl_per_image,
        mu,
        logvar,
        what="gaussian_kl_per_image(mu, logvar)",
        forbidden=targets,
        shape=(b,),
        hint=(
            " One KL per image: sum over the latent dimensions only, .sum(dim=1).",
            " Mỗi ảnh một giá trị KL: chỉ cộng trên các chiều tiềm ẩn, .sum(dim=1).",
        ),
    )
    zeros = torch.zeros(2, latent)
    zero = expect.returns(
        gaussian_kl_per_image, zeros, zeros, what="gaussian_kl_per_image(0, 0)", forbidden=targets
    )
    ref = kl_reference(mu, logvar)
    expect.close(kl, ref, "gaussian_kl_per_image(mu, logvar)", kl_mistakes(mu, logvar, ref))
    expect.close(zero, torch.zeros(2), "gaussian_kl_per_image(0, 0)")
    expect.backward(kl, "gaussian_kl_per_image(mu, logvar)")
    expect.gradient_reaches(mu, "mu", "mu")


@check("vae_loss", POINTS)
def check_vae_loss(vae_loss, g: torch.Generator) -> Values:
    """``vae_loss(logits, x, mu, logvar) -> scalar``: mean over images of (BCE sum + KL sum)."""
    x, logits, mu, logvar = random_batch(g)
    loss = expect.returns(
        vae_loss,
        logits,
        x,
        mu,
        logvar,
        what="vae_loss(...)",
        forbidden=("course_utils.vae:vae_loss",),
        shape=(),
        hint=(
            " Return one number: the mean over the batch.",
            " Hãy trả về một số: trung bình trên batch.",
        ),
    )
    ref, mistakes = loss_mistakes(logits, x, mu, logvar)
    expect.close(loss, ref, "vae_loss(...)", mistakes, atol=1e-3)
    expect.backward(loss, "vae_loss(...)")
    for leaf, name in ((logits, "logits"), (mu, "mu"), (logvar, "logvar")):
        expect.gradient_reaches(leaf, name, name)


@check("sample_prior", POINTS)
def check_sample_prior(sample_prior, g: torch.Generator) -> Values:
    """``sample_prior(decoder, n, n_latent, generator) -> sigmoid(decoder(z))``, z ~ N(0, I)."""
    n, latent, pixels = randint(g, 5, 9), randint(g, 2, 6), randint(g, 10, 20)
    decoder = RecordingLinear(latent, pixels, g)
    with forbid("course_utils.vae_views:prior_samples"):
        out = expect.tensor(
            call(sample_prior, decoder, n, latent, generator=g), "The output of sample_prior"
        )
    if not decoder.inputs:
        raise Wrong(
            "decoder not called",
            "Decode the codes: decoder(z).",
            "Hãy giải mã các mã: decoder(z).",
        )
    z = decoder.inputs[-1]
    expect.shape(z, (n, latent), "The codes z given to the decoder")
    logits = decoder.layer(z).detach()
    expect.close(
        out,
        torch.sigmoid(logits),
        "The output of sample_prior",
        [
            Mistake(
                logits,
                "sigmoid missing",
                "The decoder returns logits: apply torch.sigmoid to get pixel means in [0, 1].",
                "Bộ giải mã cho ra logit: hãy áp dụng "
                "torch.sigmoid để có trung bình điểm ảnh trong [0, 1].",
            ),
        ],
    )
    if out.requires_grad:
        raise Wrong(
            "gradients tracked",
            "Sampling needs no gradients: wrap it in `with torch.no_grad():`.",
            "Lấy mẫu không cần gradient: hãy đặt nó trong `with torch.no_grad():`.",
        )
    expect.generator_respected(
        lambda gen: call(sample_prior, decoder, n, latent, generator=gen),
        "The output of sample_prior",
    )
    big = RecordingLinear(4, 3, g)
    call(sample_prior, big, 3000, 4, generator=g)
    many = big.inputs[-1]
    if abs(many.mean().item()) > 0.05 or abs(many.std().item() - 1) > 0.05:
        raise Wrong(
            "codes not from N(0, I)",
            f"The codes have mean {many.mean().item():.2f} "
            f"and std {many.std().item():.2f}; the prior is N(0, I): "
            "torch.randn(n, n_latent, generator=generator).",
            f"Các mã có trung bình "
            f"{many.mean().item():.2f} và độ lệch chuẩn {many.std().item():.2f}; phân "
            "phối tiên nghiệm là N(0, I): torch.randn(n, n_latent, generator=generator).",
        )


@check("interpolate", POINTS)
def check_interpolate(interpolate, g: torch.Generator) -> Values:
    """``interpolate(z_a (L,), z_b (L,), steps) -> (steps, L)``, from z_a to z_b inclusive."""
    latent, steps = randint(g, 2, 8), randint(g, 4, 11)
    steps += steps == latent  # a transposed (L, steps) answer must not fit by chance
    z_a, z_b = torch.randn(latent, generator=g), torch.randn(latent, generator=g)
    got = expect.tensor(call(interpolate, z_a.clone(), z_b.clone(), steps), "interpolate(...)")
    expect.shape(
        got,
        (steps, latent),
        "interpolate(z_a, z_b, steps)",
        (" One row per step: (steps, L).", " Mỗi bước một hàng: (steps, L)."),
    )
    t = torch.linspace(0, 1, steps, dtype=torch.float64)[:, None]  # (steps, 1)
    ref = (1 - t) * z_a.double() + t * z_b.double()
    short = torch.arange(steps, dtype=torch.float64)[:, None] / steps
    expect.close(
        got,
        ref,
        "interpolate(z_a, z_b, steps)",
        [
            Mistake(
                ref.flip(0),
                "reversed",
                "Start at z_a (t = 0) and end at z_b (t = 1).",
                "Hãy bắt đầu tại z_a (t = 0) và kết thúc tại z_b (t = 1).",
            ),
            Mistake(
                (1 - short) * z_a + short * z_b,
                "end point missing",
                "Include both ends: "
                "t = torch.linspace(0, 1, steps), so the last row is z_b itself.",
                "Hãy gồm cả hai đầu: t = torch.linspace(0, 1, steps), để hàng cuối chính là z_b.",
            ),
        ],
    )


@check("predict_z_shape", POINTS)
def check_prediction_z_shape(predicted_shape) -> tuple[str, str]:
    """Shape of z for a batch of 3 images with latent size 10."""
    sample = (
        "z is ONE sample per image, not mu and sigma stacked.",
        "z là MỘT mẫu cho mỗi ảnh, không phải mu và sigma xếp chồng.",
    )
    return predict.shape(
        predicted_shape,
        (3, 10),
        {
            (10,): (
                "batch dimension dropped",
                "Every image gets its own code: the batch dimension stays.",
                "Mỗi ảnh có mã riêng: chiều batch vẫn còn.",
            ),
            (3,): (
                "latent dimension dropped",
                "Each code has 10 numbers (the latent size); they are not class probabilities.",
                "Mỗi mã có 10 số (số chiều tiềm ẩn); chúng không phải xác suất của các "
                "lớp (class).",
            ),
            (10, 3): (
                "batch not first",
                "The batch comes first: (B, L).",
                "Chiều batch đứng trước: (B, L).",
            ),
            (2, 3, 10): ("z taken for the distribution", *sample),
            (3, 20): ("z taken for the distribution", *sample),
        },
    )
