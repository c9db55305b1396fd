"""Every exercise check, tested both ways: the right answer passes, and typical wrong answers
(written here as plain functions) fail with the intended reason, in English and in Vietnamese.

The generated stubs ("not attempted") are tested in test_exercise_checks_notebooks.py, on the
real exercise notebooks.
"""

import importlib
import inspect
import math
from functools import partial
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_utils import exercise_checks as ec

# exercise 02's tasks 3, 4 and 6: their right and wrong answers, tested in full there
from test_exercise_checks_lesson02_tasks import (  # isort: skip
    CENTRED_CASES,
    DEAD_CASES,
    THRESHOLD_CASES,
)

# ----------------------------------------------------------------------- 01 PCA, linear AE


def fit_pca(x, k):
    mean = x.mean(0)
    return mean, torch.linalg.svd(x - mean, full_matrices=False)[2][:k]


def fit_pca_uncentred(x, k):
    return x.mean(0), torch.linalg.svd(x, full_matrices=False)[2][:k]


def fit_pca_eigh(x, k):  # eigh sorts eigenvalues in ascending order: the smallest come first
    mean = x.mean(0)
    _, vectors = torch.linalg.eigh((x - mean).T @ (x - mean))
    return mean, vectors[:, :k].T


def fit_pca_columns(x, k):
    return fit_pca(x, k)[0], fit_pca(x, k)[1].T


def pca_from_ae(model, x, centre=True, power=2, divide=True, n_minus_1=False):
    k = model.decoder.weight.shape[1]
    with torch.no_grad():
        y = model(x)
    y = y - y.mean(0) if centre else y
    _, s, vh = torch.linalg.svd(y, full_matrices=False)
    n = len(y) - 1 if n_minus_1 else len(y)
    return vh[:k], s[:k] ** power / (n if divide else 1)


def pca_from_ae_columns(model, x):  # the decoder's columns, made unit length
    w = model.decoder.weight.detach()
    return (w / w.norm(dim=0)).T, pca_from_ae(model, x)[1]


def pca_from_data(model, x):  # PCA of the data: right only where the model's subspace is PCA's
    k = model.decoder.weight.shape[1]
    _, s, vh = torch.linalg.svd(x - x.mean(0), full_matrices=False)
    return vh[:k], s[:k] ** 2 / len(x)


def pca_from_ae_eigh(model, x):  # eigh sorts ascending: the smallest of the k come first
    comps, var = pca_from_ae(model, x)
    return comps.flip(0), var.flip(0)


def pca_from_ae_course(model, x):
    from course_utils.pca import PCA

    with torch.no_grad():
        pca = PCA(n_components=model.decoder.weight.shape[1]).fit(model(x))
    return pca.components, pca.explained_variance


def fit_pca_course(x, k):
    from course_utils.pca import PCA

    pca = PCA(k).fit(x)
    return pca.mean, pca.components


def encode(x, m, c):
    return (x - m) @ c.T


def decode(z, m, c):
    return z @ c + m


def angles(a, b):
    qa, qb = torch.linalg.qr(a)[0], torch.linalg.qr(b)[0]
    return torch.rad2deg(torch.arccos(torch.linalg.svdvals(qa.T @ qb).clamp(-1, 1)))


def angles_radians(a, b):
    return torch.deg2rad(angles(a, b))


def angles_no_qr(a, b):
    return torch.rad2deg(torch.arccos(torch.linalg.svdvals(a.T @ b).clamp(-1, 1)))


def angles_course(a, b):
    from course_utils.pca import principal_angles_deg

    return principal_angles_deg(a, b)


def step(model, x, opt, loss_fn=lambda xh, x: ((xh - x) ** 2).sum(1).mean(), zero=True):
    if zero:
        opt.zero_grad()
    loss = loss_fn(model(x), x)
    loss.backward()
    opt.step()
    return loss.item()


def step_no_update(model, x, opt):
    opt.zero_grad()
    return ((model(x) - x) ** 2).sum(1).mean().item()


# ----------------------------------------------------------------------- 02 tied, AUROC


def auroc(normal, anomalous, tie=0.5):
    diff = anomalous[:, None] - normal[None, :]
    return ((diff > 0).float() + tie * (diff == 0).float()).mean().item()


def auroc_sklearn(normal, anomalous):
    import numpy as np
    from sklearn.metrics import roc_auc_score

    labels = np.r_[np.zeros(len(normal)), np.ones(len(anomalous))]
    return roc_auc_score(labels, np.r_[normal.numpy(), anomalous.numpy()])


# ----------------------------------------------------------------------- 03 conv


def conv_size(n, k, s=1, p=0):
    return (n + 2 * p - k) // s + 1


def transpose_size(n, k, s=1, p=0, op=0):
    return (n - 1) * s - 2 * p + k + op


def encoder(c1, c2, padding=1, act=nn.ReLU, flat=False):
    layers = [nn.Conv2d(1, c1, 3, 2, padding), act(), nn.Conv2d(c1, c2, 3, 2, padding), act()]
    return nn.Sequential(*layers, *([nn.Flatten()] if flat else []))


def decoder(c2, c1, output_padding=1, last=nn.Sigmoid):
    return nn.Sequential(
        nn.ConvTranspose2d(c2, c1, 3, 2, 1, output_padding), nn.ReLU(),
        nn.ConvTranspose2d(c1, 1, 3, 2, 1, output_padding), last(),
    )  # fmt: skip


# ----------------------------------------------------------------------- 04 noise, PSNR


def gaussian(x, std, generator=None, clip=True):
    noisy = x + std * torch.randn(x.shape, generator=generator)
    return noisy.clamp(0, 1) if clip else noisy


def gaussian_global(x, std, generator=None):
    return (x + std * torch.randn_like(x)).clamp(0, 1)


def gaussian_in_place(x, std, generator=None):
    x += std * torch.randn(x.shape, generator=generator)
    return x.clamp_(0, 1)


def gaussian_min_max(x, std, generator=None):
    y = x + std * torch.randn(x.shape, generator=generator)
    return (y - y.min()) / (y.max() - y.min())


def mask(x, p, generator=None):
    return x * (torch.rand(x.shape, generator=generator) >= p)


def salt_pepper(x, p, generator=None, salt_share=0.5, scale=1.0):
    u = torch.rand(x.shape, generator=generator)
    return torch.where(u < p * scale, (u < p * scale * salt_share).to(x.dtype), x)


def psnr(x_hat, x, max_value=1.0, log=torch.log10, power=2):
    return 10 * log(max_value**power / (x_hat - x).pow(2).flatten(1).mean(1))


def psnr_whole_batch(x_hat, x, max_value=1.0):
    return 10 * torch.log10(max_value**2 / ((x_hat - x) ** 2).mean())


def psnr_pooled_expanded(x_hat, x, max_value=1.0):
    return psnr_whole_batch(x_hat, x, max_value).expand(len(x))


def psnr_course(x_hat, x, max_value=1.0):
    from course_utils.corruption import psnr as course_psnr

    return course_psnr(x_hat, x, max_value)


def denoising_loss(
    model, x, std, generator=None, target="clean", corrupt=True, reduce="mean", noise=gaussian
):
    noisy = noise(x, std, generator) if corrupt else x
    out = model(noisy)
    se = (out - (x if target == "clean" else noisy)).pow(2).flatten(1)
    return {"mean": se.sum(1).mean(), "sum": se.sum(), "pixels": se.mean()}[reduce]


# ----------------------------------------------------------------------- 05 sparsity


def bkl(p, q, clamp=True):
    q = q.clamp(1e-6, 1 - 1e-6) if clamp else q
    return p * torch.log(p / q) + (1 - p) * torch.log((1 - p) / (1 - q))


def bkl_swapped(p, q):
    q = q.clamp(1e-6, 1 - 1e-6)
    return q * torch.log(q / p) + (1 - q) * torch.log((1 - q) / (1 - p))


# ----------------------------------------------------------------------- 06 VAE


def reparam(mu, logvar, generator=None, std=lambda lv: torch.exp(0.5 * lv)):
    return mu + std(logvar) * torch.randn(mu.shape, generator=generator)


def reparam_uniform(mu, logvar, generator=None):
    """Noise with mean 0 and variance 1, but uniform: only a test of its shape catches it."""
    uniform = (torch.rand(mu.shape, generator=generator) - 0.5) * math.sqrt(12.0)
    return mu + torch.exp(0.5 * logvar) * uniform


def reparam_global(mu, logvar, generator=None):
    return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)


def kl(mu, logvar):
    return 0.5 * (mu**2 + logvar.exp() - logvar - 1).sum(1)


def bce(logits, x):
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)


def vae_loss_bce_mean(logits, x, mu, logvar):
    return F.binary_cross_entropy_with_logits(logits, x) + kl(mu, logvar).mean()


def sample(decoder, n, n_latent, generator=None, draw=torch.randn, squash=torch.sigmoid):
    with torch.no_grad():
        return squash(decoder(draw(n, n_latent, generator=generator)))


def sample_with_grad(decoder, n, n_latent, generator=None):
    return torch.sigmoid(decoder(torch.randn(n, n_latent, generator=generator)))


def lerp(a, b, steps):
    t = torch.linspace(0, 1, steps)[:, None]
    return (1 - t) * a + t * b


# ----------------------------------------------------------------------- 07 CVAE, beta


def concat(v, y, n):
    return torch.cat([v, F.one_hot(y, n).to(v.dtype)], 1)


def cvae(enc, dec, x, y, n, generator=None, cond_enc=True, cond_dec=True, std_power=0.5):
    mu, logvar = enc(concat(x, y, n) if cond_enc else x)
    z = mu + torch.exp(std_power * logvar) * torch.randn(mu.shape, generator=generator)
    return dec(concat(z, y, n) if cond_dec else z), mu, logvar


def beta_loss(logits, x, mu, logvar, beta, on_recon=False, use_beta=True, kl_sign=1):
    recon, k = bce(logits, x).mean(), kl_sign * kl(mu, logvar).mean()
    b = beta if use_beta else 1.0
    return (b * recon + k if on_recon else recon + b * k), recon, k


CASES = [
    # 01
    (ec.check_pca_fit, fit_pca, None),
    (ec.check_pca_fit, fit_pca_uncentred, "data not centred"),
    (ec.check_pca_fit, fit_pca_eigh, "wrong order"),
    (ec.check_pca_fit, fit_pca_columns, "components as columns"),
    (ec.check_pca_fit, fit_pca_course, "calls course_utils.pca.PCA.fit"),
    (ec.check_pca_codec, (encode, decode), None),
    (ec.check_pca_codec, (lambda x, m, c: x @ c.T, decode), "encode without centring"),
    (ec.check_pca_codec, (encode, lambda z, m, c: z @ c), "decode without the mean"),
    (ec.check_principal_angles, angles, None),
    (ec.check_principal_angles, angles_radians, "radians instead of degrees"),
    (ec.check_principal_angles, angles_no_qr, "columns not orthonormalised"),
    (ec.check_principal_angles, angles_course, "calls course_utils.pca.principal_angles_deg"),
    (ec.check_train_step, step, None),
    (ec.check_train_step, lambda m, x, o: step(m, x, o, F.mse_loss), "mean instead of sum"),
    (ec.check_train_step, lambda m, x, o: step(m, x, o, zero=False), "no zero_grad"),
    (ec.check_train_step, step_no_update, "no update"),
    (ec.check_train_step, lambda m, x, o: torch.tensor(step(m, x, o)), "returned a tensor"),
    (ec.check_pca_from_autoencoder, pca_from_ae, None),
    (ec.check_pca_from_autoencoder, partial(pca_from_ae, n_minus_1=True), None),
    (ec.check_pca_from_autoencoder, pca_from_ae_columns, "decoder columns"),
    (ec.check_pca_from_autoencoder, partial(pca_from_ae, centre=False), "outputs not centred"),
    (ec.check_pca_from_autoencoder, pca_from_data, "PCA of the data, not of the network"),
    (ec.check_pca_from_autoencoder, pca_from_ae_eigh, "wrong order"),
    (ec.check_pca_from_autoencoder, partial(pca_from_ae, power=1, divide=False), "singular values"),
    (ec.check_pca_from_autoencoder, partial(pca_from_ae, divide=False), "not divided by N"),
    (ec.check_pca_from_autoencoder, pca_from_ae_course, "calls course_utils.pca.PCA.fit"),
    (ec.check_prediction_turn_cost, 0.75, None),
    (ec.check_prediction_turn_cost, 1.5, "sine not squared"),
    (ec.check_prediction_turn_cost, 1.0, "gap forgotten"),
    (ec.check_prediction_turn_cost, 3, "full swap"),
    # 02
    (ec.check_tied_decode, lambda h, w, b: F.linear(h, w.T, b), None),
    (ec.check_tied_decode, lambda h, w, b: F.linear(h, w, b), "transpose missing"),
    (ec.check_tied_decode, lambda h, w, b: F.linear(h, w.T.detach(), b),
     "no gradient reaches the encoder weight"),
    (ec.check_tied_decode, lambda h, w, b: h @ w, "bias missing"),
    (ec.check_auroc, auroc, None),
    (ec.check_auroc, lambda n, a: auroc(n, a, tie=0.0), "ties not counted as one half"),
    (ec.check_auroc, lambda n, a: 1 - auroc(n, a), "orientation reversed"),
    (ec.check_auroc, auroc_sklearn, "calls sklearn.metrics._ranking.roc_auc_score"),
    (ec.check_prediction_tied_params, 219552, None),
    (ec.check_prediction_tied_params, 437664, "counted the untied model"),
    (ec.check_prediction_tied_params, 218448, "decoder biases not counted"),
    *[(ec.check_centred_ae, a, n) for a, n in CENTRED_CASES if n != "not attempted"],
    *[(ec.check_count_dead_units, a, n) for a, n in DEAD_CASES],
    *[(ec.check_threshold_at_false_alarm, a, n) for a, n in THRESHOLD_CASES],
    # 03
    (ec.check_conv_sizes, (conv_size, transpose_size), None),
    (ec.check_conv_sizes, (lambda n, k, s=1, p=0: (n + 2 * p - k) / s + 1, transpose_size),
     "used / instead of //"),
    (ec.check_conv_sizes, (lambda n, k, s=1, p=0: (n + 2 * p - k) // s, transpose_size),
     "+1 missing"),
    (ec.check_conv_sizes, (conv_size, lambda n, k, s=1, p=0, op=0: transpose_size(n, k, s, p)),
     "output_padding ignored"),
    (ec.check_conv_sizes, (conv_size, lambda n, k, s=1, p=0, op=0: conv_size(n, k, s, p)),
     "convolution formula used"),
    (ec.check_conv_encoder, encoder, None),
    (ec.check_conv_encoder, lambda c1, c2: encoder(c1, c2, padding=0), "wrong shape"),
    (ec.check_conv_encoder, lambda c1, c2: encoder(c1, c2, act=nn.Identity), "no activation"),
    (ec.check_conv_encoder, lambda c1, c2: encoder(c1, c2, flat=True), "flattened"),
    (ec.check_conv_decoder, decoder, None),
    (ec.check_conv_decoder, lambda c2, c1: decoder(c2, c1, output_padding=0),
     "output_padding missing"),
    (ec.check_conv_decoder, lambda c2, c1: decoder(c2, c1, last=nn.Identity), "no sigmoid"),
    (ec.check_prediction_transpose_shape, (8, 16, 13, 13), None),
    (ec.check_prediction_transpose_shape, (8, 16, 14, 14), "expected 14"),
    (ec.check_prediction_transpose_shape, "(8, 16, 13, 13)", "not a shape"),
    # 04
    (ec.check_gaussian_noise, gaussian, None),
    (ec.check_gaussian_noise, gaussian_global, "used the global RNG instead of the generator"),
    (ec.check_gaussian_noise, partial(gaussian, clip=False), "not clipped to [0, 1]"),
    (ec.check_gaussian_noise, lambda x, std, generator=None: gaussian(x, std**2, generator),
     "variance used as std"),
    (ec.check_gaussian_noise, gaussian_in_place, "modified the input in place"),
    (ec.check_gaussian_noise, gaussian_min_max, "rescaled instead of clipped"),
    (ec.check_masking_noise, mask, None),
    (ec.check_masking_noise, lambda x, p, generator=None: mask(x, p, generator) / (1 - p),
     "rescaled like dropout"),
    (ec.check_masking_noise, lambda x, p, generator=None: mask(x, 1 - p, generator),
     "p used as the keep probability"),
    (ec.check_masking_noise, lambda x, p, generator=None: F.dropout(x, p) * (1 - p),
     "used the global RNG instead of the generator"),
    (ec.check_salt_and_pepper, salt_pepper, None),
    (ec.check_salt_and_pepper, lambda x, p, generator=None: salt_pepper(x, p, generator, 1.0),
     "only salt or only pepper"),
    (ec.check_salt_and_pepper, lambda x, p, generator=None: salt_pepper(x, p, generator, scale=0.5),
     "wrong rate"),
    (ec.check_psnr, psnr, None),
    (ec.check_psnr, psnr_whole_batch, "wrong shape"),
    (ec.check_psnr, psnr_pooled_expanded, "MSE pooled over the batch"),
    (ec.check_psnr, partial(psnr, log=torch.log), "natural log"),
    (ec.check_psnr, lambda xh, x, max_value=1.0: psnr(xh, x, max_value, power=1),
     "max_value not squared"),
    (ec.check_psnr, psnr_course, "calls course_utils.corruption.psnr"),
    (ec.check_prediction_psnr, 20.0, None),
    (ec.check_prediction_psnr, 10, "error not squared"),
    (ec.check_prediction_psnr, 40, "20 log10 of the squared error"),
    (ec.check_denoising_loss, denoising_loss, None),
    (ec.check_denoising_loss, partial(denoising_loss, target="noisy"), "target = noisy input"),
    (ec.check_denoising_loss, partial(denoising_loss, corrupt=False), "no corruption"),
    (ec.check_denoising_loss, partial(denoising_loss, reduce="sum"),
     "sum instead of mean over the batch"),
    (ec.check_denoising_loss, partial(denoising_loss, reduce="pixels"), "mean over the pixels"),
    (ec.check_denoising_loss, partial(denoising_loss, noise=gaussian_global),
     "used the global RNG instead of the generator"),
    (ec.check_denoising_loss, lambda m, x, std, generator=None: denoising_loss(
        m, x, std**2, generator), "wrong noise level"),
    (ec.check_denoising_loss, lambda m, x, std, generator=None: denoising_loss(
        m, x, std, generator).detach(), "cut off from the graph"),
    # 05
    (ec.check_bernoulli_kl, bkl, None),
    (ec.check_bernoulli_kl, lambda p, q: bkl(p, q, clamp=False), "not clamped"),
    (ec.check_bernoulli_kl, lambda p, q: bkl(p, q.clamp(1e-2, 1 - 1e-2)),
     "clamped at the wrong value"),
    (ec.check_bernoulli_kl, bkl_swapped, "arguments swapped"),
    (ec.check_bernoulli_kl, lambda p, q: p * torch.log(p / q.clamp(1e-6, 1)),
     "second term missing"),
    (ec.check_kl_sparsity_penalty, lambda h, p: bkl(p, h.mean(0)).sum(), None),
    (ec.check_kl_sparsity_penalty, lambda h, p: bkl(p, h.mean(0)).mean(), "mean instead of sum"),
    (ec.check_kl_sparsity_penalty, lambda h, p: bkl(p, h).sum(1).mean(), "KL before averaging"),
    (ec.check_kl_sparsity_penalty, lambda h, p: bkl(p, h.mean(1)).sum(), "averaged over the units"),
    (ec.check_l1_penalty, lambda h: h.abs().sum(1).mean(), None),
    (ec.check_l1_penalty, lambda h: h.abs().mean(), "mean instead of sum"),
    (ec.check_l1_penalty, lambda h: h.sum(1).mean(), "absolute value missing"),
    (ec.check_l1_penalty, lambda h: h.pow(2).sum(1).mean(), "L2 instead of L1"),
    (ec.check_prediction_rate_shape, (1024,), None),
    (ec.check_prediction_rate_shape, (64,), "averaged over the wrong dimension"),
    (ec.check_prediction_rate_shape, [64, 1024], "dimension kept"),
    # 06
    (ec.check_reparameterize, reparam, None),
    (ec.check_reparameterize, lambda m, lv, generator=None: reparam(m, lv, generator, torch.exp),
     "exp(logvar) used as the standard deviation"),
    (ec.check_reparameterize, reparam_global, "used the global RNG instead of the generator"),
    (ec.check_reparameterize, lambda m, lv, generator=None: torch.normal(m, torch.exp(0.5 * lv)),
     "no gradient reaches mu"),
    (ec.check_reparameterize, lambda m, lv, generator=None: m, "no noise"),
    (ec.check_reparameterize, reparam_uniform, "noise not standard normal"),
    (ec.check_gaussian_kl, kl, None),
    (ec.check_gaussian_kl, lambda m, lv: -kl(m, lv), "wrong sign"),
    (ec.check_gaussian_kl, lambda m, lv: 0.5 * (m**2 + lv.exp() - lv - 1).mean(1),
     "mean instead of sum"),
    (ec.check_gaussian_kl, lambda m, lv: 0.5 * (m**2 + (0.5 * lv).exp() - lv - 1).sum(1),
     "sigma where sigma^2 belongs"),
    (ec.check_gaussian_kl, lambda m, lv: kl(m, lv).sum(), "wrong shape"),
    (ec.check_vae_loss, lambda lo, x, m, lv: (bce(lo, x) + kl(m, lv)).mean(), None),
    (ec.check_vae_loss, vae_loss_bce_mean, "mean instead of sum (reconstruction)"),
    (ec.check_vae_loss, lambda lo, x, m, lv: (bce(lo, x) - kl(m, lv)).mean(),
     "wrong sign of the KL"),
    (ec.check_vae_loss, lambda lo, x, m, lv: (bce(lo, x) + kl(m, lv)).sum(),
     "summed over the batch"),
    (ec.check_vae_loss, lambda lo, x, m, lv: torch.tensor((bce(lo, x) + kl(m, lv)).mean().item()),
     "cut off from the graph"),
    (ec.check_sample_prior, sample, None),
    (ec.check_sample_prior, partial(sample, squash=lambda t: t), "sigmoid missing"),
    (ec.check_sample_prior, partial(sample, draw=torch.rand), "codes not from N(0, I)"),
    (ec.check_sample_prior, lambda d, n, L, generator=None: sample(d, n, L),
     "used the global RNG instead of the generator"),
    (ec.check_sample_prior, sample_with_grad, "gradients tracked"),
    (ec.check_sample_prior, lambda d, n, L, generator=None: sample(d, n, L + 1, generator),
     "wrong shape"),
    (ec.check_interpolate, lerp, None),
    (ec.check_interpolate, lambda a, b, s: lerp(b, a, s), "reversed"),
    (ec.check_interpolate, lambda a, b, s: a + (torch.arange(s)[:, None] / s) * (b - a),
     "end point missing"),
    (ec.check_interpolate, lambda a, b, s: lerp(a, b, s).T, "wrong shape"),
    (ec.check_prediction_z_shape, (3, 10), None),
    (ec.check_prediction_z_shape, (10,), "batch dimension dropped"),
    (ec.check_prediction_z_shape, (2, 3, 10), "z taken for the distribution"),
    # 07
    (ec.check_concat_one_hot, concat, None),
    (ec.check_concat_one_hot, lambda v, y, n: torch.cat([v, y[:, None].float()], 1),
     "label not one-hot"),
    (ec.check_concat_one_hot, lambda v, y, n: torch.cat([F.one_hot(y, n).float(), v], 1),
     "one-hot first"),
    (ec.check_concat_one_hot, lambda v, y, n: torch.cat([v, F.one_hot(y, n).float()], 0),
     "raised RuntimeError"),
    (ec.check_cvae_forward, cvae, None),
    (ec.check_cvae_forward, partial(cvae, cond_dec=False), "decoder not conditioned"),
    (ec.check_cvae_forward, partial(cvae, cond_enc=False), "encoder not conditioned"),
    (ec.check_cvae_forward, partial(cvae, std_power=1.0),
     "exp(logvar) used as the standard deviation"),
    (ec.check_beta_vae_loss, beta_loss, None),
    (ec.check_beta_vae_loss, lambda lo, x, m, lv, b: beta_loss(lo, x, m, lv, b, on_recon=True),
     "beta on the reconstruction"),
    (ec.check_beta_vae_loss, lambda lo, x, m, lv, b: beta_loss(lo, x, m, lv, b, use_beta=False),
     "beta ignored"),
    (ec.check_beta_vae_loss, partial(beta_loss, kl_sign=-1), "wrong sign of the KL"),
    (ec.check_prediction_decoder_width, 12, None),
    (ec.check_prediction_decoder_width, 2, "label forgotten"),
    (ec.check_prediction_decoder_width, 794, "encoder width"),
]  # fmt: skip


FUNCTION_CHECKS = sorted(
    {c for c, a, _ in CASES if callable(a) or isinstance(a, tuple) and callable(a[0])},
    key=lambda c: c.__name__,
)


def _name(case) -> str:
    check, _, note = case
    return f"{check.__name__.removeprefix('check_')}-{note or 'right'}"


@pytest.mark.parametrize("case", CASES, ids=[_name(c) for c in CASES])
def test_check_passes_the_right_answer_and_names_the_mistake(case, monkeypatch):
    check, answer, note = case
    monkeypatch.delenv("COURSE_LANG", raising=False)
    result = check(*answer) if isinstance(answer, tuple) and callable(answer[0]) else check(answer)
    assert isinstance(result, ec.CheckResult)
    if note is None:
        assert result.passed, result.message
        assert result.points == result.max_points > 0
        return
    assert result.status == "wrong" and result.points == 0, result.message
    assert result.note == note, result.message
    assert "\n" not in str(result) and result.en and result.vi and result.en != result.vi
    monkeypatch.setenv("COURSE_LANG", "vi_VN")
    assert result.message == result.vi and " sai " in str(result)


def _tasks_tested_in_their_own_modules() -> set[str]:
    """Tasks whose cases live in a tests/test_exercise_checks_lessonNN_tasks.py module's CASES.

    (Exercise 02's task modules export their cases by task instead; CASES above imports them.)
    """
    found = set()
    for path in sorted(Path(__file__).parent.glob("test_exercise_checks_lesson*_tasks.py")):
        cases = getattr(importlib.import_module(path.stem), "CASES", [])
        found |= {check.task for check, _, _ in cases}
    return found


def test_every_task_has_a_right_answer_and_two_wrong_ones_here():
    tasks = {}
    for check, _, note in CASES:
        tasks.setdefault(check, []).append(note)
    assert {check.task for check in tasks} | _tasks_tested_in_their_own_modules() == set(ec.POINTS)
    for check, notes in tasks.items():
        assert None in notes and len([n for n in notes if n]) >= 2, check.__name__


@pytest.mark.parametrize("bad", ["none", "string", "raises", "huge"])
@pytest.mark.parametrize("check", FUNCTION_CHECKS, ids=lambda c: c.__name__)
def test_nonsense_answers_give_one_readable_line_never_an_exception(check, bad):
    def answer(*args, **kwargs):
        if bad == "raises":
            raise ValueError("something odd\nwith a second line")
        return {"none": None, "string": "garbage", "huge": math.inf}[bad]

    n_functions = len(inspect.signature(check).parameters)
    result = check(*[answer] * n_functions)
    assert result.status == "wrong" and "\n" not in str(result)
    if bad == "raises":
        assert "raised ValueError: something odd (line" in result.message
