# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 07 · Beyond the vanilla VAE
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ae-course/autoencoders-pca-to-vae/blob/main/notebooks/07_beyond_the_vanilla_vae.ipynb)
#
# **English** · [Tiếng Việt](vi/07_beyond_the_vanilla_vae.ipynb)
#
# Lesson 06 built the VAE: an encoder that outputs a Gaussian, the reparameterization trick, and a
# loss made of a reconstruction term and a KL term. This lesson changes one piece at a time.
# Weigh the KL term differently ($\beta$-VAE); tell the model the class (conditional VAE); make
# the latent variables discrete (Gumbel-softmax); quantise them to a learned codebook (VQ-VAE).
# We end with the autoencoder inside Stable Diffusion.
#
# **Learning objectives.** After this lesson you can
# 1. write the $\beta$-VAE objective, measure the reconstruction-vs-KL trade-off over several
#    values of $\beta$, and test claims about active dimensions, the prior and disentanglement
#    with numbers instead of by eye;
# 2. build a conditional VAE (label into encoder and decoder), and measure whether its code holds
#    the style and not the class;
# 3. sample discrete latents with the Gumbel-softmax relaxation and its straight-through form,
#    anneal the temperature, and explain why a discrete model must be scored with **hard** samples
#    (the relaxed training loss is a **surrogate**);
# 4. train a tiny VQ-VAE (codebook, straight-through gradient, codebook usage), fit a **learned
#    prior** over its codes, and describe how latent diffusion uses an autoencoder.

# %%
# Setup (extra code): on Colab, install the course package; locally it is already installed.
# Colab already has every dependency, so --no-deps leaves its own torch and Jupyter untouched.
import sys

if "google.colab" in sys.modules:
    print("Colab: installing the course package from GitHub")
    # %pip install -q --no-deps "autoencoders-course @ git+https://github.com/ae-course/autoencoders-pca-to-vae"

# %%
import torch
from torch import nn

from course_utils import setup_course

course = setup_course(seed=0)
DATASET = "mnist"  # "fashion_mnist" also runs, but the prose is written about digits (slant, "keeps digit")

# %% [markdown]
# **Data and budget.** Every model of this lesson gets the same budget: exactly `STEPS`
# optimizer steps on batches of 128 images, whatever the size of the data. `fit` counts in whole
# epochs, and 630 steps are not a whole number of epochs of 60,000 images (one epoch is 469
# steps), so `step_budget` lays shuffled copies of the training set end to end and cuts the
# stream at `STEPS` x 128 images: one `fit` epoch over it is exactly `STEPS` steps, and every
# image is used equally often (give or take one). On 60,000 images that is about 1.3 passes
# over the data; on a small data set, many. `fit` keeps one history row per epoch, so each model
# also logs its training terms every `LOG_EVERY` steps (about ten points per model; `StepLog` in
# `course_utils/curves.py`).
#
# As in lesson 06 (section 6), every model trains on **dynamically binarized** images (each pixel
# drawn as 1 with probability equal to its grey level, afresh at every step) and is tested on one
# fixed binarized copy of the test images. Then every reconstruction term below is a true
# negative log-likelihood in nats per image, and every negative ELBO a true bound on
# $-\log p(x)$. (On grey pixels BCE is a cross-entropy with a floor, not a likelihood: lesson 06.)

# %%
import math

from course_utils.curves import step_budget
from course_utils.data import load_dataset
from course_utils.vae import binarize

data = load_dataset(DATASET, seed=course.seed, valid_fraction=0.0)
x_train, y_train = data.train.x, data.train.y  # (N, 1, 28, 28) in [0, 1], (N,)
x_test, y_test = data.test.x, data.test.y
xb_test = binarize(x_test, torch.Generator().manual_seed(0))  # one fixed binary copy, (T, 1, 28, 28): T test images
STEPS = course.pick(full=630, fast=48)  # the budget in optimizer steps, per model
x_stream, y_stream = step_budget(x_train, y_train, steps=STEPS, batch_size=128,
                                 generator=torch.Generator().manual_seed(0))  # (STEPS * 128, ...)
passes = STEPS * 128 / len(x_train)
LOG_EVERY = max(1, STEPS // 10)
print(f"{data.name} (embedded fallback: {data.is_fallback}): {len(x_train):,} training images, "
      f"{len(x_test):,} test images ({course.mode} mode)")
print(f"each model: {STEPS} steps of 128 images = {passes:.1f} passes over the training images; "
      f"training terms logged every {LOG_EVERY} steps ({STEPS // LOG_EVERY} points)")
if passes > 5:
    print(f"{passes:.0f} passes over so few images: the models may fit their training images "
          "better than new ones; section 1 measures the train/test gap")

# %% [markdown]
# ## 1. The $\beta$-VAE: one knob on the KL term
#
# **Intuition.** The KL term is what every image pays for the information its code carries: a
# code that says a lot about $x$ sits far from the prior and costs many nats. Put a price tag
# $\beta$ on that information. A high price: the encoder sends only what is worth it (coarse shape,
# and, unless the price is too high, the class), reconstructions lose detail, codes crowd
# towards the prior; at a high enough price even the class is dropped (the table below says at
# which $\beta$). A low price: the encoder
# sends more, reconstructions improve, and the codes spread out, away from $\mathcal N(0, I)$.
#
# Higgins et al. (2017) wrote this as a weight $\beta$ on the KL term:
#
# $$ \mathcal L_\beta(x) = \underbrace{-\mathbb E_{q(z\mid x)}[\log p(x\mid z)]}_{\text{reconstruction (distortion)}}
#    + \beta\, \underbrace{\mathrm{KL}\big(q(z\mid x)\,\|\,\mathcal N(0, I)\big)}_{\text{rate}}. $$
#
# $\beta = 1$ is the ordinary VAE (the negative ELBO). The reconstruction term is the
# **distortion**, the average KL the **rate**. The rate is not exactly the information $z$
# carries about $x$: averaged over the images it splits into two parts (Hoffman & Johnson 2016),
# $\mathbb E_x\,\mathrm{KL}(q(z\mid x)\,\|\,p(z)) = I(x; z) + \mathrm{KL}(q(z)\,\|\,p(z))$, the
# mutual information between image and code plus the mismatch between the codes of all images
# together, $q(z)$, and the prior. So the rate is an **upper bound** on the nats of information
# that pass through $z$; this section estimates both parts, and says how far each estimate can
# be trusted.
# Higgins et al. hoped for more: that a large $\beta$ makes each latent dimension follow one
# factor of variation ("disentanglement"). Every one of these claims is a claim about numbers,
# and this section measures each.
#
# The loss in a few lines, per image (sum over pixels and latent dimensions), then the batch
# mean, the course's one convention:

# %%
import torch.nn.functional as F

from course_utils.vae import VAE, VAEObjective


def beta_vae_loss(logits, x, mu, logvar, beta):
    recon = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)  # (B,)
    kl = 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(1)  # (B, L) -> (B,)
    return (recon + beta * kl).mean()  # nats per image, averaged over the batch


torch.manual_seed(0)
model = VAE(784, hidden=(400,), n_latent=10)  # untrained: any weights will do for the check
xb = xb_test[:64]  # (64, 1, 28, 28)
torch.manual_seed(1)  # the same epsilon for both computations
logits, mu, logvar = model(xb)
ours = beta_vae_loss(logits, xb, mu, logvar, beta=4.0)
torch.manual_seed(1)
package, _ = VAEObjective(beta=4.0)(model, (xb,))
print(f"our beta-VAE loss {ours.item():.3f} | VAEObjective(beta=4) {package.item():.3f} | same: "
      f"{torch.allclose(ours, package)}")

# %% [markdown]
# You will meet this knob under other names. Lesson 06 took apart the tutorial loss
# `1000 * mse + kl`: dividing the whole loss by a weight $B$ on the reconstruction term leaves
# reconstruction + KL / $B$, the same minimiser as a $\beta$-VAE with $\beta = 1/B$. So $B = 1000$
# is $\beta = 0.001$ (on a squared error instead of our BCE), far out on the low-rate-price side
# of the sweep below: nearly an autoencoder, with codes that need not look like the prior.

# %% [markdown]
# In the course, $\beta$ is the `beta` argument of `VAEObjective` (lesson 06). `beta_sweep` trains
# one fresh VAE per $\beta$ (same initial weights, same batches, 10 latent dimensions) and scores
# each on the binarized test images **at $\beta = 1$**, so that every row is in the same unit: a
# negative ELBO in nats per image. It also counts each model's **active units**, with the course's
# one definition (lesson 06, Burda et al. 2016): dimension $j$ is active when its mean code
# $\mu_j(x)$ varies over the images, $\operatorname{Var}_x[\mu_j(x)] > 0.01$.

# %%
from course_utils.beta_vae import beta_sweep
from course_utils.elbo import active_units, kl_per_dimension, negative_elbo
from course_utils.train import predict

BETAS = [0.5, 1.0, 2.0, 4.0, 8.0, 16.0]
sweep = beta_sweep(lambda: VAE(784, hidden=(400,), n_latent=10).to(course.device), x_stream, xb_test,
                   betas=BETAS, epochs=1, batch_size=128, lr=1e-3, seed=0, binarize=True,
                   log_every=LOG_EVERY)
mu_variances = {beta: active_units(sweep.model(beta), xb_test)[1] for beta in BETAS}  # (10,) each
n_active = {beta: int((var > 0.01).sum()) for beta, var in mu_variances.items()}
kl_dims = {beta: kl_per_dimension(sweep.model(beta), xb_test) for beta in BETAS}  # (10,) nats each
n_informative = {beta: int((kl > 0.1).sum()) for beta, kl in kl_dims.items()}  # a cross-check, not a definition
borderline = {beta: int(((var > 0.005) & (var < 0.02)).sum()) for beta, var in mu_variances.items()}
print(f"{data.name}, latent size 10, {STEPS} steps per model ({course.mode} mode); test, nats per image")
print(f"{'beta':>6} {'recon':>8} {'KL':>7} {'-ELBO':>8} {'active units':>13} {'dims > 0.1 nats':>16} "
      f"{'Var mu in 0.005-0.02':>21}")
for row in sweep.rows:
    b = row["beta"]
    print(f"{b:>6g} {row['recon']:>8.1f} {row['kl']:>7.2f} {row['loss']:>8.1f} "
          f"{n_active[b]:>9} of 10 {n_informative[b]:>16} {borderline[b]:>21}")
print("KL falls and reconstruction rises at every step up in beta:", sweep.is_monotone())
best = min(sweep.rows, key=lambda row: row["loss"])  # the lowest -ELBO (beta = 1 units)
print(f"lowest test -ELBO at beta = {best['beta']:g} ({best['loss']:.1f} nats per image)")
counts = [n_active[beta] for beta in BETAS]
top_beta = BETAS[-1]
fewer_var, fewer_kl = n_active[top_beta] < n_active[1.0], n_informative[top_beta] < n_informative[1.0]
print(f"fewer active units at beta = {top_beta:g} than at beta = 1: {fewer_var} ({n_active[1.0]} -> "
      f"{n_active[top_beta]}); fewer dims carrying > 0.1 nats: {fewer_kl} ({n_informative[1.0]} -> "
      f"{n_informative[top_beta]}); the Var mu count never rises with beta: "
      f"{all(a >= b for a, b in zip(counts, counts[1:], strict=False))}")
reasons = ([f"{borderline[top_beta]} dimension(s) of the beta = {top_beta:g} model within a factor 2 of 0.01"]
           if borderline[top_beta] else []) + (["the two counts disagree"] if fewer_var != fewer_kl else [])
print(f"robust verdict (both counts agree, and no dimension of the beta = {top_beta:g} model within a "
      f"factor 2 of the 0.01 threshold): "
      + (f"undecided ({'; '.join(reasons)})" if reasons else "fewer" if fewer_var else "not fewer"))


def nelbo_per_image(model, xb, seed=0):  # (N,): -ELBO of each image, ONE sampled z each, nats
    g = torch.Generator().manual_seed(seed)

    def terms(m, b):  # (B,): recon + KL of each image, as in beta_vae_loss with beta = 1
        logits, mu, logvar = m(b, generator=g)
        recon = F.binary_cross_entropy_with_logits(logits, b, reduction="none").flatten(1).sum(1)
        return recon + 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(1)

    return predict(model, xb, fn=terms)


xb_seen = binarize(x_train[: len(xb_test)], torch.Generator().manual_seed(2))  # training images
on_train, on_test = nelbo_per_image(sweep.model(1.0), xb_seen), nelbo_per_image(sweep.model(1.0), xb_test)
gap = (on_test.mean() - on_train.mean()).item()
gap_se = math.sqrt(on_test.var().item() / len(on_test) + on_train.var().item() / len(on_train))
print(f"beta = 1 model: -ELBO {on_train.mean():.1f} on {len(xb_seen):,} training images, {on_test.mean():.1f} "
      f"on the test images (test - train {gap:+.1f} +- {gap_se:.1f} nats, {gap / on_train.mean().item():+.0%}); "
      f"overfitting (test worse by more than 5% and by more than two standard errors): "
      f"{gap > 0.05 * on_train.mean().item() and gap > 2 * gap_se}")

# %% [markdown]
# How to read the table. The first verdict line says whether this run shows the trade-off
# cleanly: every step up in $\beta$ buying a smaller KL (less information in $z$) with a larger
# reconstruction loss. Two neighbouring $\beta$ can swap places in a short run; that is noise in
# one run, not a law failing, so we print the check instead of stopping the notebook. The
# second line says where the negative ELBO, the objective of $\beta = 1$, came out lowest: we
# expect it at or near $\beta = 1$, the only model trained on it. The next two lines test the claim
# "a larger $\beta$ leaves fewer active dimensions" on this run. A count against a threshold can
# turn on one dimension sitting just above or below 0.01, so the table adds two columns: how
# many dimensions carry more than 0.1 nats of KL (a second view of "used", not the course's
# definition), and how many have $\operatorname{Var}\mu_j$ within a factor 2 of the threshold.
# The robust verdict says "fewer" only when both counts drop and no dimension of the largest
# $\beta$'s model is borderline, "not fewer" only when neither count drops and none is borderline.
# Otherwise it says "undecided" and names the reason: a borderline dimension (the count could
# flip with a slightly different run) or two counts that disagree (the two views of "used" give
# different answers). Then read the figure below instead. The last line compares the
# $\beta = 1$ model on training and test images, with the standard error of the difference (each
# image's $-$ELBO varies, and the two means come from different images). It says True only when
# the test images score worse by more than 5% and by more than two standard errors (typically on a
# small data set, seen many times): then the models have partly memorised their training images,
# and every test number in this lesson describes such models, not converged ones on plenty of
# data.
#
# When the price of information rises, a dimension whose information is not worth its KL is switched off: its $\mu_j$ stops
# depending on $x$. At which $\beta$ that starts depends on the latent size, the data and the
# budget; the figure shows how close each dimension came to the threshold:

# %%
from course_utils.beta_vae import active_units_figure

active_units_figure({f"beta {b:g}": var for b, var in mu_variances.items()})

# %% [markdown]
# Each line is one model, its 10 dimensions sorted from the most to the least varying code. If a
# line drops below the dashed threshold, that model switched dimensions off (the table counts
# them); a model with none left active has collapsed completely (lesson 06): its codes say
# nothing about the image. Lines that stay above the threshold but sink as $\beta$ grows show the
# milder form of the same pressure: codes that vary less from image to image in every
# dimension, instead of a few dimensions being switched off.
#
# **Training curves.** Are these models trained to the end of their budget, or still improving?
# Each curve is the mean of the training terms over `LOG_EVERY` steps:

# %%
from course_utils.curves import curves_figure, late_slope

log_steps = [row["step"] for row in sweep.logs[0].rows]
print(f"points logged per model: {len(log_steps)} (steps {log_steps[0]} to {log_steps[-1]})")
kl_slopes = {}
for beta, log in zip(BETAS, sweep.logs, strict=True):
    slope = late_slope(log.column("loss"), log_steps)
    kl_slopes[beta] = late_slope(log.column("kl"), log_steps)
    print(f"beta {beta:>3g}: training loss {log.column('loss')[0]:.1f} -> {log.column('loss')[-1]:.1f}, "
          f"slope over the last half {slope:+.2f} nats per 100 steps; KL slope {kl_slopes[beta]:+.2f}")
rising = [f"{b:g}" for b in BETAS if kl_slopes[b] > 0.1]
print(f"models whose KL still rises by more than 0.1 nats per 100 steps: {', '.join(rising) or 'none'}")
curves_figure({f"beta {b:g}": log for b, log in zip(BETAS, sweep.logs, strict=True)},
              keys=("recon", "kl"), title="beta-VAE training terms (binarized training batches)")

# %% [markdown]
# A negative slope over the last half means that model was still improving when its budget ran
# out: longer training would lower its test numbers, so compare the models as "after the same
# budget", not as converged. The KL panel shows how each model's rate moved: typically it climbs
# while the decoder learns to use the code, and the larger $\beta$, the lower it stays. The last
# printed line names the models whose KL was still rising at the end of the budget: their rate
# had not settled, and with longer training their KL column in the table may be higher (a KL can
# also peak and fall later, as a negative KL slope shows).
#
# The trade-off as a picture, on the test images: each term against $\beta$ (a dashed line marks
# $\beta = 1$), and the two against each other, the **rate-distortion curve** (Alemi et al. 2018
# read VAEs this way). Each point is one
# model; moving along the curve trades nats of rate for nats of distortion, and $\beta$ picks the
# point. (At $\beta = 1$ the model minimises rate + distortion, the negative ELBO.) On the right
# panel, every point of a line of slope $-1$ has the same rate + distortion; the dashed one is
# drawn through the model with the lowest negative ELBO of the sweep, so every other model sits
# above it, and the lower a point lies above the line, the closer its negative ELBO to the best.
#
# $\beta$ also sets the **slope** of the curve at its point: the slope is $-\beta$. If each model minimised its own
# objective, distortion $+ \beta \cdot$ rate, exactly, then moving from the model of $\beta_a$ to
# that of a larger $\beta_b$ could not pay off at either price: the chord between their two points
# has a slope (change in distortion per nat of rate) between $-\beta_b$ and $-\beta_a$. So a line
# of slope $-\beta$ touches the curve at the point of $\beta$, and $\beta = 1$ is where the line of
# slope $-1$, the constant negative ELBO, touches it. Our models are trained for a fixed budget
# and scored on test images, so this need not hold exactly; the cell prints each chord's slope
# and says whether it lies in its interval.

# %%
from course_utils.beta_vae import tradeoff_figure

by_beta = sorted(sweep.rows, key=lambda row: row["beta"])
chords = [((b["recon"] - a["recon"]) / (b["kl"] - a["kl"]), a["beta"], b["beta"])
          for a, b in zip(by_beta, by_beta[1:], strict=False)]  # (slope, beta_a, beta_b)
outside = [f"{ba:g} -> {bb:g}" for sl, ba, bb in chords if not -bb <= sl <= -ba]
print("chord slopes (change in recon per nat of KL) between neighbouring betas: "
      + ", ".join(f"{ba:g} -> {bb:g}: {sl:+.2f}" for sl, ba, bb in chords))
print(f"every chord's slope between -beta of its two ends: {not outside}"
      + (f" (outside at {', '.join(outside)})" if outside else ""))
tradeoff_figure(sweep, highlight=1.0)

# %% [markdown]
# ### Optional: is $q(z)$ close to the prior?
#
# This part measures more carefully than the rest of the lesson, and can be skipped on a first
# reading: a summary cell at its end prints its results in four lines. (Its cells still run: they
# also train the digit classifier that the rest of the lesson uses.)
#
# **Is the latent space of a large $\beta$ "closer to the prior"?** Samples are drawn from
# $\mathcal N(0, I)$, but the decoder was trained on the codes of real images. What matters is
# the **aggregate posterior** $q(z) = \frac1N\sum_x q(z \mid x)$, where all those codes lie
# together: where it is far from the prior, a prior sample can fall where the decoder has seen
# nothing. Two numbers bracket $\mathrm{KL}(q(z)\,\|\,\mathcal N(0, I))$.
#
# - **From below: a moment fit** (`aggregate_posterior_kl`, lesson 06; the first number of the
#   bracket column): the KL of a
#   Gaussian with the same mean and covariance as the codes of $M$ test images. Because
#   the prior is Gaussian, $\mathrm{KL}(q\,\|\,p) = -H(q) + \text{cross-entropy}(q, p)$ and the
#   cross-entropy term depends on $q$ only through its mean and covariance; of all distributions
#   with a given mean and covariance the Gaussian has the largest entropy $H$, so this
#   is a **lower bound** on the full KL (exactly for the mixture of these $M$ images; for $q(z)$
#   of all images, up to the sampling error of a mean and a covariance). It sees only a
#   mean/covariance mismatch: twenty tight clusters arranged with mean 0 and covariance $I$ score
#   0 on it, however empty the space between them.
# - **From above: a Monte Carlo split** (`aggregate_posterior_split`). Draw $z$ from the
#   posterior of each of $M$ test images, score it under its own posterior, under the mixture
#   $q_M(z) = \frac1M\sum_i q(z \mid x_i)$ of the $M$ posteriors (an $M \times M$ table of Gaussian
#   densities) and under the prior. The averages split the rate on these images into
#   $I(x; z) = \mathbb E[\log q(z \mid x) - \log q_M(z)]$ plus $\mathrm{KL}(q_M\,\|\,p)$. The catch is
#   $M$: a code can at most single out one image among $M$, so this $I$ never exceeds $\log M$.
#   On average over the choice of the $M$ images it is a lower bound on the true $I(x; z)$ (the
#   "InfoNCE" bound), and the rate is measured without bias, so the KL part, rate minus $I$, is
#   on average an **upper bound** on the true $\mathrm{KL}(q(z)\,\|\,p)$ that comes down as $M$
#   grows. When $I$ sits at its ceiling
#   $\log M$, the "KL" is just rate $- \log M$: a number set by how many images we used, not by the
#   model.
#
# So the cell prints the split at $M/4$, $M/2$ and $M$ images. The InfoNCE estimate of $I$ is
# biased low at every $M$, not only at its ceiling (on a one-dimensional toy with a known answer,
# `tests/test_beta_vae.py` finds $I$ at about 70% of $\log M$ and the KL part still more than 20%
# too high), so a low $I$ alone does not make the KL part a measurement. `split_verdict` asks for both: $I$ below $0.9 \log M$, **and** a KL
# part that no longer moves with $M$, its values at $M/2$ and at $M$ within two standard errors of
# their difference (computed as if the two were independent; they share the first $M/2$ images and
# even the same random draws of $z$ for them, so this error is too large, possibly by a lot, and
# the test leans towards "no longer moves"). Where both hold, the split measures the model; elsewhere only the bracket is
# worth reading. Where $I$ follows $\log M$ (rising by $\log 2 = 0.69$ per doubling), the KL part
# falls by about as much.

# %%
from course_utils.beta_vae import aggregate_posterior_kl, aggregate_posterior_split, split_verdict

n_mc = min(2000, len(xb_test) // 2)  # M test images for the split; later ones stay new (next cell)
sizes = [n_mc // 4, n_mc // 2, n_mc]
print(f"nats per image; I(x;z) and the KL part at M = {', '.join(f'{m:,}' for m in sizes)} images "
      f"(log M = {', '.join(f'{math.log(m):.2f}' for m in sizes)})")
print(f"{'beta':>6} {'rate':>6} {'I(x;z) at M/4, M/2, M':>23} {'KL part at M/4, M/2, M':>24} "
      f"{'bracket on KL(q(z)||p): [mean/cov, KL part at M]':>50}")
split = {}
for beta in BETAS:
    model = sweep.model(beta).cpu()
    split[beta] = {m: aggregate_posterior_split(model, xb_test[:m], generator=torch.Generator().manual_seed(0))
                   for m in sizes}
    s = split[beta][n_mc]
    lower, upper = aggregate_posterior_kl(model, xb_test[:n_mc]), s["kl_q_prior"]
    split[beta].update(lower=lower, upper=upper, upper_se=s["kl_q_prior_se"])
    print(f"{beta:>6g} {s['rate']:>6.2f} " + " ".join(f"{split[beta][m]['mutual_info']:>7.2f}" for m in sizes)
          + " " + " ".join(f"{split[beta][m]['kl_q_prior']:>7.2f}" for m in sizes)
          + f" {'':>17}[{lower:6.2f}, {upper:6.2f} +- {s['kl_q_prior_se']:.2f}]")
verdicts = {b: split_verdict({m: split[b][m] for m in sizes}) for b in BETAS}  # compares M/2 with M
measured = [b for b in BETAS if verdicts[b]["measured"]]
print(f"models whose split measures KL(q(z)||p) (I(x;z) below 0.9 log M = {0.9 * math.log(n_mc):.2f}, and the "
      f"KL part at M/2 and M within two standard errors): beta = {', '.join(f'{b:g}' for b in measured) or 'none'}")
for b in [b for b in BETAS if b not in measured]:
    v = verdicts[b]
    print(f"  beta = {b:g}: {v['reason']}; its KL part moved by {-v['drift']:+.2f} +- {v['drift_se']:.2f} nats "
          f"from M/2 to M images (log 2 = {math.log(2):.2f}): an upper bound only")


def bracket_below(a, b):  # the whole bracket of beta = a lies below that of beta = b (2 standard errors)
    return split[a]["upper"] + 2 * split[a]["upper_se"] < split[b]["lower"]


pairs = [(a, b) for i, a in enumerate(BETAS) for b in BETAS[i + 1 :]]  # a < b
closer = [f"{b:g} < {a:g}" for a, b in pairs if bracket_below(b, a)]
farther = [f"{b:g} > {a:g}" for a, b in pairs if bracket_below(a, b)]
print(f"pairs of betas whose brackets do not overlap, of {len(pairs)}: the larger beta clearly closer to "
      f"the prior: {len(closer)}; clearly farther: {len(farther)}" + (f" ({', '.join(farther)})" if farther else ""))
print(f"largest vs smallest beta: KL(q(z)||p) at beta = {BETAS[-1]:g} is at most {split[BETAS[-1]]['upper']:.2f}, "
      f"at beta = {BETAS[0]:g} at least {split[BETAS[0]]['lower']:.2f}: clearly closer to the prior: "
      f"{bracket_below(BETAS[-1], BETAS[0])}")
kl_m = [(split[b][n_mc]["kl_q_prior"], split[b][n_mc]["kl_q_prior_se"]) for b in measured]
rises = [f"{a:g} -> {b:g}" for a, b, (ka, sa), (kb, sb) in zip(measured, measured[1:], kl_m, kl_m[1:], strict=False)
         if kb - ka > 2 * math.hypot(sa, sb)]
if len(measured) >= 2:
    print(f"among the measured models, the KL part never rises beyond two standard errors as beta grows: "
          f"{not rises}" + (f" (rises at {', '.join(rises)})" if rises else ""))

# %% [markdown]
# Read the verdict lines as follows. The first names the models whose split measures the model:
# their $I(x; z)$ stays well below $\log M$ and their KL part no longer moves with $M$. Every other
# model gets an indented line with the reason and the move of its KL part from $M/2$ to $M$
# images, with its standard error. At the ceiling the KL part falls by about $\log 2$ when $M$
# doubles: it measures our $M$. Below the ceiling, a move beyond two standard errors says the
# estimate has not settled: a larger $M$ would give another number (on average a smaller one).
# Either way, the true $\mathrm{KL}(q(z)\,\|\,p)$ of such a model lies somewhere in its bracket,
# and the KL part is its upper end, nothing more. If the first line says "none", this holds for every model of the
# run: the split gives upper bounds only, and the bracket is all we have. The pairs line is the safe verdict for
# every model: for a pair whose brackets do not overlap (by two standard errors of the upper end),
# the larger $\beta$'s $\mathrm{KL}(q(z)\,\|\,p)$ lies below its upper end and the smaller $\beta$'s
# above its lower end, so their order holds whatever a larger $M$ would give; overlapping
# brackets decide nothing. (The upper end is a Monte Carlo estimate, printed with its standard
# error; on few images that noise can even put it a little below the lower end.) The last line,
# printed only when at least two models are measured, compares the KL part itself among those
# models alone.
#
# **Does a gap between prior and $q(z)$ show in the samples? A prior-hole test.** "Far from the
# prior" could mean $q(z)$ is shifted or squeezed, or that it leaves **holes**: regions where the
# prior puts mass and no real image's code lands. `prior_hole_test` asks this directly. It scores
# codes under the mixture $q_M(z)$ of the $M$ test images above: one code of each of up to 1,000
# **other** test images (new to the mixture), and 1,000 prior samples. A "hole" is where $q_M$ is
# lower than at 95% of the new images' codes, so a code of a real image falls in a hole 5% of the
# time by construction. The share of prior samples in holes says how often sampling lands where
# real images do not. Then we decode both kinds of code and let an instrument judge the images: a
# small digit classifier trained on the real training images. An image it labels with probability
# at least 0.9 looks like *some* digit to it; the spread of its labels over the 10 classes (in
# bits, at most $\log_2 10 = 3.32$) says whether the samples cover all digits.

# %%
from course_utils.train import fit


def classification_objective(model, batch):
    images, labels = batch  # (B, 1, 28, 28), (B,)
    return F.cross_entropy(model(images), labels), {}  # (loss, nothing else to log)


torch.manual_seed(0)
classifier = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
classifier = classifier.to(course.device)  # (B, 1, 28, 28) -> (B, 10) logits
fit(classifier, (x_stream, y_stream), objective=classification_objective, epochs=1,
    batch_size=128, lr=1e-3, verbose=False)
classifier = classifier.cpu()
with torch.no_grad():
    real_acc = (classifier(x_test).argmax(1) == y_test).float().mean().item()
print(f"digit classifier: {real_acc:.1%} of the real test images right")

# %%
from course_utils.beta_vae import prior_hole_test
from course_utils.code_probes import sample_probe
from course_utils.vae_views import decode_images, reconstruct


def confident_share(images):  # the share of images the classifier gives one class >= 0.9
    return sample_probe(classifier, images)["confident"] if len(images) else float("nan")


def clearly_below(a, b, n_a=1000, n_b=None):  # share a below share b by more than two standard errors
    n_b = n_a if n_b is None else n_b
    return b - a > 2 * math.sqrt(a * (1 - a) / n_a + b * (1 - b) / n_b)


real = sample_probe(classifier, x_test)
n_samples = 1000
x_new = xb_test[n_mc : n_mc + min(1000, len(xb_test) - n_mc)]  # test images NOT in the mixture
print(f"{'beta':>6} {'keeps digit':>11} {'spread':>6} {'prior in holes':>15} {'confident: new codes':>21} "
      f"{'prior':>6} {'in holes':>9} {'outside':>8} {'classes (bits)':>15}   ({len(x_new)} new images)")
quality = {}
for beta in BETAS:
    model = sweep.model(beta).cpu()
    recon = reconstruct(model, xb_test, generator=torch.Generator().manual_seed(0))  # (T, 1, 28, 28)
    with torch.no_grad():
        kept = (classifier(recon).argmax(1) == y_test).float().mean().item()
    hole = prior_hole_test(model, xb_test[:n_mc], x_new, n_prior=n_samples, generator=torch.Generator().manual_seed(0))
    samples = decode_images(model, hole["z_prior"])  # (1000, 1, 28, 28): prior samples
    n_in = int(hole["in_hole"].sum())
    q = quality[beta] = {"kept": kept, **hole, **sample_probe(classifier, samples), "n_in": n_in,
                         "spread": (hole["z_new"] ** 2).sum(1).mean().item() / hole["z_new"].shape[1],
                         "new": confident_share(decode_images(model, hole["z_new"])),
                         "in": confident_share(samples[hole["in_hole"]]),
                         "out": confident_share(samples[~hole["in_hole"]])}
    groups = " ".join(f"{q[k]:>{w}.0%}" if n >= 30 else f"{'(' + str(n) + ')':>{w}}"
                      for k, w, n in (("in", 9, n_in), ("out", 8, n_samples - n_in)))  # too few: the count
    print(f"{beta:>6g} {kept:>11.1%} {q['spread']:>6.2f} {n_in:>5} ({q['hole_share']:>3.0%} +-{q['hole_share_se']:.0%}) "
          f"{q['new']:>21.0%} {q['confident']:>6.0%} {groups} {q['class_bits']:>15.2f}")
print(f"{'real':>6} {real_acc:>11.1%} {'':>22} {real['confident']:>21.0%} {'':>24} {real['class_bits']:>15.2f}")
null_se = math.sqrt(0.05 * 0.95 / n_samples + 0.05 * 0.95 / len(x_new))  # the 5% is itself measured
holes = [f"{b:g}" for b in BETAS if quality[b]["hole_share"] - 0.05 > 2 * null_se]
print(f"prior samples fall in holes clearly more often than real codes (5%, two standard errors): beta = "
      f"{', '.join(holes) or 'none'}")
shares = [(quality[b]["hole_share"], quality[b]["hole_share_se"]) for b in BETAS]
hole_rises = [f"{a:g} -> {b:g}" for a, b, (ha, sa), (hb, sb) in zip(BETAS, BETAS[1:], shares, shares[1:], strict=False)
              if hb - ha > 2 * math.hypot(sa, sb)]
print("the share in holes never rises beyond two standard errors as beta grows: "
      f"{not hole_rises}" + (f" (rises at {', '.join(hole_rises)})" if hole_rises else ""))
worse = [f"{b:g}" for b in BETAS if clearly_below(quality[b]["confident"], quality[b]["new"], n_samples, len(x_new))]
print(f"prior samples confidently classified clearly less often than decoded codes of new images: "
      f"beta = {', '.join(worse) or 'none'}")
both = [b for b in BETAS if min(quality[b]["n_in"], n_samples - quality[b]["n_in"]) >= 30]
hole_worse = [f"{b:g}" for b in both
              if clearly_below(quality[b]["in"], quality[b]["out"], quality[b]["n_in"], n_samples - quality[b]["n_in"])]
print(f"prior samples in holes confident clearly less often than those outside (models with >= 30 of each: "
      f"{', '.join(f'{b:g}' for b in both) or 'none'}): beta = {', '.join(hole_worse) or 'none'}")
top = max(BETAS, key=lambda beta: quality[beta]["confident"])
ties = [f"{b:g}" for b in BETAS if not clearly_below(quality[b]["confident"], quality[top]["confident"], n_samples)]
print(f"most confidently classified prior samples at beta = {top:g}; within two standard errors of "
      f"it (a tie on 1,000 samples): beta = {', '.join(ties)}")
small, one = quality[BETAS[0]]["confident"], quality[1.0]["confident"]
print(f"beta = {BETAS[0]:g} samples confident clearly less often than beta = 1 samples: "
      f"{clearly_below(small, one, n_samples)} ({small:.0%} vs {one:.0%})")

# %% [markdown]
# **Keeps digit**: the share of test images whose reconstruction (one sampled $z$) the
# classifier assigns to the input's label, with its accuracy on the real images in the last row;
# where it drops as $\beta$ grows, the model spends so few nats per image that some digits come
# back as another digit. **Spread**: the mean of $\lVert z \rVert^2 / L$ over the new images'
# codes, 1 for the prior: above 1, the codes of real images spread wider than the prior, below 1
# they crowd into a smaller region. **Prior in holes**: how many of the 1,000 prior samples land
# where $q_M(z)$ is lower than for 95% of the new images' codes (about 5% would mean no holes),
# with the share and its standard error. The **confident** columns are our stand-in for image
# quality: decoded codes of new images (what the decoder does with codes like those it was
# trained on), prior samples, and the prior samples split into those in holes and those outside
# (a count in brackets where a group has fewer than 30 samples: too few for a share). Real test
# images are the yardstick.
#
# The first three verdict lines test, in order: do prior samples fall in holes; do fewer of them
# fall there as $\beta$ grows (the sense of "closer to the prior" that matters for sampling); and
# are prior samples worse than decoded codes of real images. The fourth asks whether the holes are
# *why*: True for a $\beta$ if its samples in holes are confidently classified clearly less often
# than its samples outside. Three things to keep in mind when reading them.
#
# - The test sees only holes wider than the gaps between the codes of the $M$ images. The
#   threshold is set by new real codes, which also fall between the $M$ posteriors when those are
#   narrow (small $\beta$): such a model can score few samples "in holes" without its $q(z)$
#   filling the prior, the same limit of $M$ images as the $\log M$ ceiling above.
# - Few prior samples in holes together with a spread above 1 means the prior sits inside a wider
#   $q(z)$: prior samples land in its dense core, and it is the real codes that reach where the
#   prior rarely goes. "Far from the prior" (a large bracket) need not mean "prior samples fall in
#   holes".
# - If prior samples are worse than decoded real codes but the fourth line names no $\beta$, the
#   holes this test finds do not explain the gap: samples outside the holes are no better than
#   those inside. The comparison also flatters the real codes: each is one sample of the posterior
#   of a real image, so its decoding is a reconstruction of that image.
#
# Across $\beta$, two effects pull against each other: a small $\beta$ leaves codes spread and
# detailed, a large $\beta$ keeps them close to the prior but decodes everything blurrier,
# because its codes carry less information. So the confident share of prior samples can peak at
# an intermediate $\beta$; the next line says where it did, and which $\beta$ are tied with it (a
# share measured on 1,000 samples has a standard error of about 1.5 percentage points).
# **Classes (bits)** says whether the samples cover all ten digits (3.32 bits) or a few. The
# textbook claim "$\beta < 1$ gives worse samples" is tested by the last line, True only when the
# difference exceeds two standard errors. A classifier's confidence is a crude measure (a blurry
# but typical "1" can score high, a blob can be read as some digit); the figures below let you
# check by eye, for the smallest and the largest $\beta$.

# %%
# The optional part in four lines, for readers who skipped it
print(f"KL(q(z)||p) measured by the split at beta = {', '.join(f'{b:g}' for b in measured) or 'none'} (elsewhere "
      f"bracketed only); brackets clearly apart in {len(closer) + len(farther)} of {len(pairs)} pairs of betas: "
      f"the larger beta closer to the prior in {len(closer)}, farther in {len(farther)}")
print(f"prior samples in holes of q(z) clearly more often than real codes: beta = {', '.join(holes) or 'none'}; "
      f"samples in holes confident clearly less often than those outside: beta = {', '.join(hole_worse) or 'none'}")
print(f"prior samples confident clearly less often than decoded codes of new images: beta = "
      f"{', '.join(worse) or 'none'}; most confident prior samples at beta = {top:g} (tied: {', '.join(ties)})")
print("reconstructions still read as the input's digit (keeps digit): "
      + ", ".join(f"beta {b:g} {quality[b]['kept']:.0%}" for b in BETAS) + f"; real images {real_acc:.0%}")

# %% [markdown]
# **If you skipped the optional part**, these four lines are its result. The first says for which
# $\beta$ a Monte Carlo estimate measures $\mathrm{KL}(q(z)\,\|\,p)$, how far the codes of all
# images together sit from the prior (for the other models we only know it lies between two
# bounds), and in how many pairs of $\beta$ those bounds are far enough apart to order the two
# models. The second says whether prior samples land in **holes**, regions where the codes of real
# images rarely fall, more often than real codes do (5% by construction), and whether the samples
# that land there look worse. The third compares prior samples with decoded codes of real images,
# as judged by a small digit classifier trained on the real training images (a sample counts as
# "confident" when the classifier gives one class a probability of at least 0.9), and names the
# $\beta$ with the best samples. The fourth says how often the classifier still reads a
# reconstruction as the input's digit. That classifier is used again below. The lesson's main line
# goes on with samples, reconstructions and disentanglement.
#
# ### Samples and reconstructions

# %%
from IPython.display import display

from course_utils.beta_vae import beta_figure

display(beta_figure(sweep, BETAS[0], xb_test))
beta_figure(sweep, BETAS[-1], xb_test)

# %% [markdown]
# The inputs are the binarized test images the models read; reconstructions and samples are
# shown as pixel probabilities. The titles repeat each model's test reconstruction term and KL.
# Compare the middle rows with those numbers and with the "keeps digit" column: the model
# with the lower reconstruction term keeps more of each input's details, and where a large
# $\beta$ lost information you can find digits that come back blurred into a typical shape, or
# as another digit.
#
# ### Disentanglement, measured
#
# The hope of a $\beta$-VAE is that each latent dimension controls one factor of variation.
# Handwritten digits come with no labelled factors, but three can be **computed** from every image's moments
# (`digit_style`): the **slant** (sideways shift of the ink per row), the **width** (horizontal
# spread of the ink) and the **ink** (mean intensity: thicker or larger strokes). For each model we
# correlate each factor with each latent dimension, with three precautions:
#
# 1. **Within each digit class** (factor and code both centred per class), so that a dimension
#    that only encodes "this is a 1" does not pass for a slant dimension.
# 2. **With the code the decoder receives**, $z_j = \mu_j + \sigma_j\varepsilon$, not the mean
#    $\mu_j$ alone. A dimension whose mean follows the slant but whose posterior noise is much
#    larger ($\operatorname{Var}\mu_j \ll \sigma_j^2$) passes little slant to the decoder. The noise
#    adds the mean of $\sigma_j^2$ to the variance of $z_j$ and nothing to its covariance with a
#    factor, so `factor_correlations(..., noise_var=sigma2)` computes this correlation exactly.
# 3. **Active dimensions only** ($\operatorname{Var}\mu_j > 0.01$), and **each factor gets a
#    dimension of its own**: factors are assigned to different dimensions, the assignment with
#    the largest total $|r|$. A factor's **gap** is the $|r|$ of its own dimension minus the
#    largest $|r|$ it has with any other active dimension.
#
# A disentangled code has every gap clearly above 0: each factor has a dimension that follows it
# more closely than any other dimension does. "Clearly" means above two of its own standard
# errors. A gap is a difference of two correlations measured on the same images, after a max over
# the rivals and a choice of assignment, so no simple formula gives its standard error (one
# correlation's is about $(1 - r^2)/\sqrt{T}$ on $T$ images; a difference of two can be larger):
# the cell estimates it by the **bootstrap**, redoing the correlations, the assignment and the max
# on test sets resampled with replacement, and taking the spread of the gaps. A gap below two of
# its standard errors is within the noise of the measurement. A gap is negative only when the
# factor's strongest dimension was given to another factor (one dimension carries two factors) or
# the factor got no active dimension at all; when no dimension stands out, the gap is near 0. The factors themselves are not independent (wider digits tend to use more ink), so the
# cell first prints how strongly they correlate with each other within a class.

# %%
from course_utils.code_probes import (
    correlation_figure,
    digit_style,
    disentanglement_table,
    factor_correlations,
)
from course_utils.vae_views import encode_means

style = digit_style(x_test)  # {"slant", "width", "ink"}: (T,) each, from the grey test images
names = list(style)
boot_gen = torch.Generator().manual_seed(0)


def class_mean_of(t, labels):
    """(N, ...) -> (N, ...): each row replaced by the mean of its class."""
    means = torch.stack([t[labels == c].mean(0) if (labels == c).any() else t.mean(0) for c in range(10)])
    return means[labels]


between = factor_correlations(torch.stack(list(style.values()), dim=1), style, labels=y_test)  # (3, 3)
print("within-class r between the factors: " + "; ".join(
      f"{names[i]}-{names[j]} {between[i, j]:+.2f}" for i, j in ((0, 1), (0, 2), (1, 2))))
corrs, tables, gaps, separated = {}, {}, {}, {}
n_boot = course.pick(full=30, fast=5)  # bootstrap resamples of the test images, for each gap's standard error
f_centred = {name: v - class_mean_of(v, y_test) for name, v in style.items()}  # (T,) each, centred per class
print(f"{'beta':>6} {'active':>6} " + " ".join(f"{name + ': own dim |r| (gap +- SE)':>33}" for name in names)
      + f" {'mean gap':>9} {'all gaps > 2 SE':>16}")
for beta in BETAS:
    mu_test, logvar_test = predict(sweep.model(beta), xb_test, fn=lambda m, xb: m.encode(xb))  # (T, 10) each
    corrs[beta] = factor_correlations(mu_test, style, labels=y_test, noise_var=logvar_test.exp())  # (3, 10)
    active = mu_variances[beta] > 0.01  # (10,)
    tables[beta] = disentanglement_table(corrs[beta], names, active=active)
    mu_centred, boot = mu_test - class_mean_of(mu_test, y_test), []  # (T, 10)
    for _ in range(n_boot):  # resample the test images; redo the correlations, the assignment and the max
        idx = torch.randint(0, len(mu_test), (len(mu_test),), generator=boot_gen)  # (T,)
        r_boot = factor_correlations(mu_centred[idx], {k: v[idx] for k, v in f_centred.items()},
                                     noise_var=logvar_test.exp()[idx])  # (3, 10); class means kept
        boot.append([row["gap"] for row in disentanglement_table(r_boot, names, active=active)])
    gap_se = torch.tensor(boot).std(0)  # (3,) bootstrap standard error of each factor's gap
    gaps[beta] = sum(row["gap"] for row in tables[beta]) / len(names)
    separated[beta] = all(row["gap"] > 2 * se for row, se in zip(tables[beta], gap_se.tolist(), strict=True))
    cells = " ".join(f"{'z' + str(row['dim'] + 1) + ' ' + format(row['best'], '.2f') if row['dim'] >= 0 else 'none':>17}"
                     f" ({row['gap']:+.2f} +- {se:.2f})" for row, se in zip(tables[beta], gap_se.tolist(), strict=True))
    print(f"{beta:>6g} {n_active[beta]:>6} {cells} {gaps[beta]:>9.2f} {separated[beta]!s:>16}")
most = max(BETAS, key=gaps.get)
print(f"largest mean gap at beta = {most:g} ({gaps[most]:.2f}); every factor has a dimension of its own, "
      f"every gap above two of its standard errors ({n_boot} bootstrap resamples), at beta = "
      f"{', '.join(f'{b:g}' for b in BETAS if separated[b]) or 'none of them'}")
heat = correlation_figure({f"beta {b:g}": corrs[b] for b in BETAS}, names, label="|within-class r|, sampled z")
heat.set_size_inches(15, 3.2)  # larger than the default, for legible ticks
for ax, beta in zip(heat.axes, BETAS, strict=False):  # inactive dimensions: red numbers with an x
    active = (mu_variances[beta] > 0.01).tolist()  # (10,) bools
    ax.set_xticks(range(10), [f"{d + 1}" if a else f"{d + 1}\nx" for d, a in enumerate(active)], fontsize=10)
    ax.tick_params(axis="y", labelsize=11)
    ax.set_title(ax.get_title(), fontsize=12)
    ax.set_xlabel("latent dimension", fontsize=10)
    for tick, a in zip(ax.get_xticklabels(), active, strict=True):
        tick.set_color("black" if a else "red")
heat.suptitle("red dimension numbers marked x: inactive (Var mu <= 0.01)", fontsize=11)
heat

# %% [markdown]
# Each cell of the table names the factor's own dimension, its $|r|$ with the sampled code, and
# its gap (signed) with its bootstrap standard error; the last column says whether every gap of
# that model is above two of its standard errors. The heat
# maps show all the correlations: a disentangled code has one bright cell per row, in a
# different column for each factor. Inactive dimensions (red, marked x) come out dark by construction: with
# $\operatorname{Var}\mu_j < 0.01$ and $\sigma_j^2$ near 1, $|r|$ cannot exceed about 0.1. The last line names the $\beta$ with the largest mean gap and
# every $\beta$ whose code gave each factor a dimension of its own. Read the two together: a
# large mean gap with a False in the last column means one factor is cleanly carried while
# another shares its dimension; gaps of a few hundredths everywhere mean that no $\beta$ of this
# sweep separated these factors, whatever the verdicts say about the largest one. Three hand-made, correlated factors are not all the factors of
# handwriting, and one run is one run: this is a measurement of *these* factors. Disentanglement
# metrics (Higgins et al. 2017; Chen et al. 2018's MIG) are defined on data whose factors are
# known and independent by construction (dSprites, 3D Shapes), where each factor can be varied
# alone. Two later results matter for reading any such table. Chen et al. (2018, $\beta$-TCVAE)
# split the $\mathrm{KL}(q(z)\,\|\,p)$ of section 1 further, into the **total correlation** of $q(z)$,
# $\mathrm{KL}\big(q(z)\,\|\,\prod_j q(z_j)\big)$ (how far its dimensions are from independent),
# plus a KL per dimension, $\sum_j \mathrm{KL}(q(z_j)\,\|\,p(z_j))$; with $I(x; z)$ these are the
# three parts of the rate. They argued that the total correlation is the part whose penalty
# makes the dimensions independent, and two methods raise the price of that part alone, leaving
# the others at weight 1. $\beta$-TCVAE weights it by $\beta$ and estimates it from each
# minibatch, scoring every code under a weighted mixture of the batch's posteriors (the same kind
# of mixture estimate as our $q_M(z)$); FactorVAE (Kim & Mnih 2018) adds $\gamma$ times the total
# correlation to the ordinary VAE loss and estimates it with a second network, a discriminator
# trained to tell codes $z \sim q(z)$ from codes whose dimensions were shuffled independently
# across the batch (samples of $\prod_j q(z_j)$): the log of its odds estimates the density ratio
# inside the KL. And Locatello et al. (2019) proved that learning disentangled codes without
# labels is impossible without assumptions built into the model and the data (many codes fit
# the data equally well, entangled or not), then trained thousands of such models and found
# that which one disentangles depends more on the random seed and the hyperparameters than on
# the choice of method: one sweep on one seed, as here, is a measurement of that run, not of
# the method.
#
# Now look: traversals of the dimensions assigned to slant, width and ink, for $\beta = 1$ and
# $\beta = 4$. Take one test image's code (the first test 0: round, so changes of slant and width
# show), set one dimension to each of nine values from $-3$ to $+3$ (prior standard deviations),
# keep the others, decode. The nine columns are absolute values, not steps away from the image's
# own code: the printed line of each row gives the image's own value of that dimension, and the
# column nearest that value shows roughly the image's own decoding.

# %%
from course_utils.vae_views import decode_images, traversal_figure

start = int((y_test == 0).nonzero()[0]) if (y_test == 0).any() else 0  # the first test 0
for beta in (1.0, 4.0):
    table = [row for row in tables[beta] if row["dim"] >= 0]  # factors that got a dimension
    dims = [row["dim"] for row in table]
    if not dims:
        print(f"beta = {beta:g}: no active dimension, nothing to traverse")
        continue
    print(f"beta = {beta:g}: " + ", ".join(f"{row['factor']} -> z{row['dim'] + 1} (r = "
                                           f"{corrs[beta][names.index(row['factor']), row['dim']]:+.2f})"
                                           for row in table))
    mu0 = encode_means(sweep.model(beta), xb_test[start : start + 1])[0]  # (10,)
    for d in dims:  # what the classifier reads along each row
        codes = mu0.repeat(9, 1)  # (9, 10)
        codes[:, d] = torch.linspace(-3, 3, 9)
        seen = classifier(decode_images(sweep.model(beta), codes)).argmax(1).tolist()
        print(f"  row z{d + 1} (the image's own value {mu0[d]:+.2f}), classified as: {' '.join(map(str, seen))} "
              f"({len(set(seen))} different class(es))")
    fig = traversal_figure(sweep.model(beta), mu0, dims)  # rows: dims; columns: -3 ... +3
    for r, row in enumerate(table):  # label each row by its factor, each column by its value
        fig.axes[9 * r].set_ylabel(f"{row['factor']}: z{row['dim'] + 1}", rotation=0, ha="right", va="center")
    for ax, value in zip(fig.axes[:9], torch.linspace(-3, 3, 9).tolist(), strict=True):
        ax.set_title(f"{value:+.2f}", fontsize=8)
    fig.suptitle(f"beta = {beta:g}: one dimension set to -3 ... +3, the others kept at the code of a test 0")
    display(fig)
if course.fast:
    print("fast mode: these models had only a few dozen steps; blurry traversals say nothing about beta")

# %% [markdown]
# The printed lines say which row to read for which factor, and what the classifier reads along
# each row. Does the slant row change the
# slant while the digit stays, or does it change the digit too? A row read as one class
# throughout changes the style only; a row read as several classes also changes the digit, so
# that dimension is not a pure style factor, however large its within-class correlation. The
# correlations say how strongly a dimension follows a factor; the rows say what else it changes.
#
# **Slider.** The models are already trained; the slider only picks one of them (nothing is
# retrained when it moves).

# %% tags=["nbval-ignore-output"]
from course_utils.beta_vae import beta_view

beta_view(sweep, xb_test)

# %% [markdown]
# ## 2. The conditional VAE: say which digit, let $z$ hold the style
#
# **Intuition.** A plain VAE with a 2-D code must squeeze everything into two numbers: which
# digit, and how it is written. If we simply *tell* both networks the digit, the code no longer
# needs to carry it, and every nat the code costs can go to the style.
#
# A conditional VAE (Sohn et al. 2015) gives the label $y$ to both networks: the encoder models
# $q(z \mid x, y)$ and the decoder $p(x \mid z, y)$. In practice the one-hot label is
# concatenated to the encoder's input (784 + 10 numbers) and to the code (2 + 10 numbers). Its
# bound is the ELBO with every distribution conditioned on $y$:
#
# $$ \log p(x \mid y) \;\ge\; \mathbb E_{q(z \mid x, y)}\big[\log p(x \mid z, y)\big]
#    - \mathrm{KL}\big(q(z \mid x, y)\,\|\,p(z)\big). $$
#
# Note the prior: here it is the **unconditional** $p(z) = \mathcal N(0, I)$, the same for every
# class, the common simple choice. Sohn et al. (2015) condition on an input $x$ to predict an
# output $y$ (for example, an image's segmentation), so their third network is a learned prior
# $p(z \mid x)$ given the input; with the roles named as here (the label is what we condition on)
# that is a learned $p(z \mid y)$, and the bound has $\mathrm{KL}(q(z \mid x, y) \,\|\, p(z \mid y))$.
# The KL term charges for every nat in $z$, and class information in $z$ would cost nats while
# telling the decoder nothing it does not already get from $y$, so we expect the trained encoder
# to leave it out. We will measure it.
#
# The conditioning itself is two concatenations. Written out on five test images with the layers
# of an untrained `ConditionalVAE` (a Linear(794, 400) + ReLU body, two Linear(400, 2) heads for
# $\mu$ and $\log\sigma^2$, a decoder 12 -> 400 -> 784), and checked against its `forward`:

# %%
from course_utils.cvae import ConditionalVAE

torch.manual_seed(0)
cdemo = ConditionalVAE(784, n_classes=10, hidden=(400,), n_latent=2)  # untrained: a check of the wiring
x5, y5 = xb_test[:5], y_test[:5]
y_onehot = F.one_hot(y5, 10).float()  # (5,) -> (5, 10)
enc_in = torch.cat([x5.flatten(1), y_onehot], dim=1)  # (5, 784) + (5, 10) -> (5, 794)
h5 = cdemo.body(enc_in)  # (5, 794) -> (5, 400)
mu5, logvar5 = cdemo.to_mu(h5), cdemo.to_logvar(h5)  # (5, 2) each
eps5 = torch.randn(5, 2, generator=torch.Generator().manual_seed(0))
z5 = mu5 + (0.5 * logvar5).exp() * eps5  # reparameterized z: (5, 2)
ours = cdemo.decoder(torch.cat([z5, y_onehot], dim=1)).view(5, 1, 28, 28)  # (5, 12) -> pixel logits
package, _, _ = cdemo(x5, y5, generator=torch.Generator().manual_seed(0))
print("encoder input", tuple(enc_in.shape), "| z", tuple(z5.shape), "| decoder output", tuple(ours.shape))
print("our forward pass = ConditionalVAE's:", torch.allclose(ours, package, atol=1e-5))

# %% [markdown]
# The course's `ConditionalVAE` is this network with `encode(x, y)` and `decode(z, y)`. The flow,
# for a batch of $B$ images (the training batches are `(x, y)` tuples; the loss is the same
# `VAEObjective`):

# %%
from course_utils.plots import flow_diagram_figure

flow_diagram_figure(
    [("x, y", "(B, 784), (B, 10)"), ("encoder", "794 -> 400 -> 2 x 2"), ("mu, lv", "(B, 2) each"),
     ("z", "mu + sigma * eps\n(B, 2)"), ("decoder", "(2 + 10) -> 400\n-> 784"), ("x^", "(B, 784) logits"),
     ("loss", "BCE(x^, x) + KL(q || N(0, I))")],
    arrows=["concat", "", "reparam.", "concat y", "", "vs x"],
    title="conditional VAE: the label goes into the encoder AND the decoder")

# %% [markdown]
# We train it, and next to it a plain VAE with the same 2-D code and the same budget but no
# label: the comparison that shows what the label changes.

# %%
from course_utils.curves import StepLog
from course_utils.cvae import conditional_importance_sampled_nll
from course_utils.elbo import importance_sampled_nll

torch.manual_seed(0)
cvae = ConditionalVAE(784, n_classes=10, hidden=(400,), n_latent=2).to(course.device)
log_cvae = StepLog(VAEObjective(binarize=True), every=LOG_EVERY)
fit(cvae, (x_stream, y_stream), objective=log_cvae, epochs=1, batch_size=128, lr=1e-3, verbose=False)
torch.manual_seed(0)
vae2 = VAE(784, hidden=(400,), n_latent=2).to(course.device)
log_vae2 = StepLog(VAEObjective(binarize=True), every=LOG_EVERY)
fit(vae2, x_stream, objective=log_vae2, epochs=1, batch_size=128, lr=1e-3, verbose=False)
cvae, vae2 = cvae.cpu(), vae2.cpu()
res_cvae = negative_elbo(cvae, xb_test, y_test, generator=torch.Generator().manual_seed(0))
res_vae2 = negative_elbo(vae2, xb_test, generator=torch.Generator().manual_seed(0))
print(f"CVAE (2-D z + label): test -ELBO {res_cvae['loss']:.1f} nats/image "
      f"(recon {res_cvae['recon']:.1f} + KL {res_cvae['kl']:.1f}), a bound on -log p(x | y)")
print(f"plain VAE (2-D z):    test -ELBO {res_vae2['loss']:.1f} nats/image "
      f"(recon {res_vae2['recon']:.1f} + KL {res_vae2['kl']:.1f}), a bound on -log p(x)")
freq = torch.bincount(y_train, minlength=10).double() / len(y_train)  # (10,) label frequencies
label_nats = float(-(freq[freq > 0] * freq[freq > 0].log()).sum())  # H(y), at most log 10
gain = res_vae2["loss"] - res_cvae["loss"]
print(f"the CVAE's bound is {gain:.1f} nats lower; for ONE model, knowing the digit lowers -log p(x) "
      f"by at most H(y) = {label_nats:.2f} nats on average (log 10 = {math.log(10):.2f})")
print(f"logged points: {len(log_cvae.rows)} and {len(log_vae2.rows)}; slope of the training loss over "
      f"the last half: {late_slope(log_cvae.column('loss'), log_steps):+.2f} and "
      f"{late_slope(log_vae2.column('loss'), log_steps):+.2f} nats per 100 steps")
n_is = min(500, len(xb_test))  # importance sampling: 100 samples per image, on 500 test images
nll_cvae = conditional_importance_sampled_nll(cvae, xb_test[:n_is], y_test[:n_is], k=100,
                                              generator=torch.Generator().manual_seed(0)).mean().item()
nll_vae2 = importance_sampled_nll(vae2, xb_test[:n_is], k=100,
                                  generator=torch.Generator().manual_seed(0)).mean().item()
elbo_cvae = negative_elbo(cvae, xb_test[:n_is], y_test[:n_is], generator=torch.Generator().manual_seed(0))
elbo_vae2 = negative_elbo(vae2, xb_test[:n_is], generator=torch.Generator().manual_seed(0))
print(f"on the first {n_is} test images: {'':>23}{'-ELBO':>7} {'-log p (100 samples)':>21} {'bound gap':>10}")
print(f"  CVAE, -log p(x | y): {'':>17}{elbo_cvae['loss']:>7.1f} {nll_cvae:>21.1f} {elbo_cvae['loss'] - nll_cvae:>10.1f}")
print(f"  plain VAE, -log p(x): {'':>16}{elbo_vae2['loss']:>7.1f} {nll_vae2:>21.1f} {elbo_vae2['loss'] - nll_vae2:>10.1f}")
print(f"difference of the -log p estimates: {nll_vae2 - nll_cvae:.1f} nats, of the bound gaps: "
      f"{(elbo_vae2['loss'] - nll_vae2) - (elbo_cvae['loss'] - nll_cvae):.1f} nats")

# %% [markdown]
# The two bounds are of different things: the CVAE's bounds $-\log p(x \mid y)$, the plain
# VAE's $-\log p(x)$. For ONE model of the pairs $(x, y)$,
# $\log p(x \mid y) = \log p(x) + \log p(y \mid x) - \log p(y)$, and $\log p(y \mid x) \le 0$, so
# $-\log p(x \mid y)$ is below $-\log p(x)$ by at most $-\log p(y)$; averaged over the data, by at
# most the cross-entropy between the label frequencies and the model's $p(y)$, which is the label
# entropy $H(y)$ when the two agree. The third line prints $H(y)$ of the training labels
# ($\log 10$ for ten equally frequent digits).
# Our two numbers come from two **separately trained models**, so a larger difference says
# nothing about what the label is worth: it is the sum of two other differences. The models
# differ in how well they fit the data (the plain VAE must squeeze "which digit" and "how
# written" into the same two numbers, and its reconstruction term is worse), and their bounds
# differ in how tight they are. The importance-sampled estimates below the slopes (lesson 06:
# 100 samples of $q$ per image, on the first test images) separate the two: the difference of
# the bound gaps is the difference in tightness, and the difference of the $-\log p$ estimates
# is what the label is worth (at most $H(y)$) plus the difference in fit. Each importance-sampled
# $-\log p$ with 100 samples is itself an upper bound (on average; it tightens as the number of
# samples grows), so the printed bound gaps **understate** the true gaps between $-$ELBO and
# $-\log p$. The fourth line shows the two training curves' late slopes
# (negative: still improving).
#
# **Where is the class? A probe.** If the label pushes class information out of $z$, the code
# of a CVAE should be a poor predictor of the digit, and the code of the plain VAE a good one. We
# predict each test image's digit from its 2-D mean code by a vote of its 10 nearest training
# codes (a $k$-nearest-neighbour probe; chance is about 10%).

# %%
from course_utils.code_probes import knn_class_accuracy

n_probe = min(len(x_train), 10_000)
xb_probe = binarize(x_train[:n_probe], torch.Generator().manual_seed(1))  # (n, 1, 28, 28)
probe = {
    "plain VAE": knn_class_accuracy(encode_means(vae2, xb_probe), y_train[:n_probe],
                                    encode_means(vae2, xb_test), y_test),
    "CVAE": knn_class_accuracy(encode_means(cvae, xb_probe, y_train[:n_probe]), y_train[:n_probe],
                               encode_means(cvae, xb_test, y_test), y_test),
}
chance = torch.bincount(y_test).max().item() / len(y_test)  # always guessing the commonest class
print(f"digit predicted from the 2-D code: plain VAE {probe['plain VAE']:.1%} | CVAE {probe['CVAE']:.1%} "
      f"| chance {chance:.1%}")
print("the CVAE's code holds much less class information than the plain VAE's (< half the accuracy):",
      probe["CVAE"] < 0.5 * probe["plain VAE"])
mu_c, logvar_c = predict(cvae, xb_test, y_test, fn=lambda m, xb, yb: m.encode(xb, yb))  # (T, 2) each
cvae_corr = factor_correlations(mu_c, style, labels=y_test, noise_var=logvar_c.exp())  # (3, 2), sampled z
print("within-class |r| of the CVAE's sampled z1, z2 with " + "; ".join(
      f"{name}: {cvae_corr[i, 0].abs():.2f}, {cvae_corr[i, 1].abs():.2f}" for i, name in enumerate(names)))

# %% [markdown]
# Read the first line against chance: the plain VAE's two numbers must encode the digit, so its
# code predicts the class far above chance. If the verdict is True, the CVAE's code predicts it
# much worse: the label took over "which digit", and the KL term pushed that information out of
# $z$. Some usually stays above chance, because styles differ between digits: a code for "wide
# and round" is more often a 0 than a 1. If the verdict is False, the CVAE's $z$ kept a good part
# of the class information in this run: the KL term pushes it out only as far as it costs more
# than it helps, and a short run may stop before that is done. What the CVAE's two numbers hold
# besides is on the last line: the within-class correlations of the sampled code (as in
# section 1) with slant, width and ink. Large values there mean $z$ holds those parts of the
# style; the figures below show it.
#
# **One style, every digit.** Each row below uses one style code $z$ (five points of the prior,
# two standard deviations out along each axis, and the centre), and each column asks for a
# different class. If the code holds the style, two things are true: down a column (one class,
# five codes) the style changes, and along a row (one code, ten classes) it stays. The cell
# measures the slant, width and ink of every decoded digit and tests both. **Down a column**:
# the spread over the five codes, compared with the spread of real test images of one class.
# **Along a row**: after removing each class's average, the share of the remaining variation
# that the row (the style code) explains (`style_row_share`): 1 if the code moves the factor by
# the same amount in every class, and near a chance level if each class reacts differently.
# The chance level is measured: the 95th percentile of the same share with the five values of
# each column shuffled. The cell also counts the decoded digits the classifier does not read as
# the class asked for: a failed decoding (a blob, a wrong digit) also adds to the spread.

# %%
from course_utils.cvae import cvae_style_figure, style_row_share

styles = torch.tensor([[-2.0, 0.0], [0.0, -2.0], [0.0, 0.0], [0.0, 2.0], [2.0, 0.0]])  # (5, 2)
grid = torch.stack([decode_images(cvae, s.repeat(10, 1), torch.arange(10)) for s in styles])  # (5, 10, 1, 28, 28)
grid_style = digit_style(grid.flatten(0, 1))  # {factor: (50,)}, row-major: style code, then class
with torch.no_grad():
    grid_probs = F.softmax(classifier(grid.flatten(0, 1)), dim=1)  # (50, 10)
asked = torch.arange(10).repeat(5)  # (50,): the class asked for, row-major
read_ok = ((grid_probs.argmax(1) == asked) & (grid_probs.max(1).values >= 0.9)).view(5, 10)
real_spread = {}
for name in names:
    centred = torch.cat([style[name][y_test == c] - style[name][y_test == c].mean() for c in y_test.unique()])
    real_spread[name] = centred.std().item()  # real test images of one class
    down_columns = grid_style[name].view(5, 10).std(dim=0).mean().item()  # spread over the 5 codes, per class
    share, floor = style_row_share(grid_style[name].view(5, 10), generator=torch.Generator().manual_seed(0))
    print(f"{name:>5}: down a column {down_columns:.3f} vs real images of one class {real_spread[name]:.3f} "
          f"({down_columns / real_spread[name]:.0%}; at least a third: {down_columns > real_spread[name] / 3}); "
          f"along the rows: share explained by the code {share:.2f}, chance level {floor:.2f}, "
          f"consistent across classes: {share > floor}")
print(f"decoded digits read confidently (p >= 0.9) AND as the class asked for: {int(read_ok.sum())} of 50 "
      f"(per style code: {read_ok.sum(1).tolist()})")
print(f"CVAE KL {res_cvae['kl']:.2f} nats per image; e^KL = {math.exp(res_cvae['kl']):.0f} (a rough "
      f"count of the styles its code can tell apart, not a theorem)")
cvae_style_figure(cvae, styles, data.classes)

# %% [markdown]
# Read the factor lines with the figure. The first verdict of a line says whether the style code
# changes that factor by a visible amount, comparable with how much real handwriting of one digit
# varies; the second whether it changes it **the same way in every class**, more than chance
# would (a style in the sense of "this code means slanted", not "this code means something
# different for each digit"). A factor with a large column spread but no consistency along the
# rows is changed by the code, differently for each digit; and where the count of digits read
# confidently as the class asked for is below 50, part of the column spread can come from failed
# decodings (a blob, an ambiguous or a wrong digit), not from style. The count asks for both a
# confident and a correct reading, because a blob is often read as *some* digit, without
# confidence.
#
# How much can two numbers hold? The CVAE's KL is an upper bound on the information $I(x; z)$
# its code carries about the image (section 1: the rate is $I$ plus the mismatch of $q(z)$). A
# code carrying $I$ nats is often pictured as telling apart about $e^{I}$ equally likely styles,
# so $e^{\mathrm{KL}}$, on the last line, is a rough order of magnitude for how many styles the
# code distinguishes. It is a heuristic, not a theorem: information is an average, and a
# continuous code does not sort images into a fixed number of boxes. Either way it is far from
# every detail of a handwriting. The factor lines say whether the code spends those few nats on
# the broad strokes that slant, width and ink measure.
#
# **Style transfer.** Encode a real (binarized) test image with its own label, keep its $\mu$,
# and decode it with every other label. A measurement on many test images first, then three
# examples: if the code carries the source's slant (or width, ink), a source that is more slanted
# than the average of its class should give transferred digits that are more slanted than the
# average of *their* classes. We measure each factor in units of its own class (subtract the
# real class mean, divide by the real within-class standard deviation) and correlate, over the
# sources, the source's value with the mean of its nine transfers to the other classes.

# %%
from course_utils.plots import images_figure, rows_figure

n_src = min(300, len(xb_test))  # sources: the first test images
z_src = encode_means(cvae, xb_test[:n_src], y_test[:n_src])  # (n, 2)
moved = decode_images(cvae, z_src.repeat_interleave(10, 0), torch.arange(10).repeat(n_src))  # (n*10, 1, 28, 28)
moved_style = digit_style(moved)  # {factor: (n*10,)}
class_mean = {name: torch.stack([style[name][y_test == c].mean() for c in range(10)]) for name in names}  # (10,)
other = F.one_hot(y_test[:n_src], 10) == 0  # (n, 10): the nine other classes
r_noise = 2 / math.sqrt(n_src)
transfer_units = {}  # {factor: (n,)} mean of each source's nine transfers, in class units
for name in names:
    src = (style[name][:n_src] - class_mean[name][y_test[:n_src]]) / real_spread[name]  # (n,) in class units
    out = (moved_style[name].view(n_src, 10) - class_mean[name]) / real_spread[name]  # (n, 10)
    out_mean = (out * other).sum(1) / 9  # (n,) mean over the other classes
    transfer_units[name] = out_mean
    r = torch.corrcoef(torch.stack([src, out_mean]))[0, 1].item()
    print(f"{name:>5}: r(source, its transfers) = {r:+.3f} over {n_src} sources (noise level {r_noise:.3f}); "
          f"the transfers keep the source's {name}: {r > r_noise}")
slant_units = (style["slant"][:n_src] - class_mean["slant"][y_test[:n_src]]) / real_spread["slant"]  # (n,)
order = slant_units.argsort()  # sources from the most left- to the most right-leaning
picks = [int(order[round(q * (n_src - 1))]) for q in (0.05, 0.5, 0.95)]  # 5th, 50th, 95th percentile
display(images_figure(xb_test[picks], titles=[f"a {int(y_test[i])}, slant {slant_units[i]:+.1f} SD" for i in picks],
                      size=1.6))
rows = {}
for i in picks:  # sources at the 5th, 50th and 95th percentile of slant
    z_style = encode_means(cvae, xb_test[i : i + 1], y_test[i : i + 1])  # (1, 2)
    rows[f"code of the {int(y_test[i])} ({slant_units[i]:+.1f} SD)"] = decode_images(
        cvae, z_style.repeat(10, 1), torch.arange(10))
    print(f"row of the {int(y_test[i])}: its transfers' mean " + ", ".join(
          f"{name} {transfer_units[name][i]:+.1f} SD" for name in names) + " (class units)")
spread_rows = {name: float(transfer_units[name][picks].max() - transfer_units[name][picks].min()) for name in names}
print("the three rows differ most in " + max(spread_rows, key=spread_rows.get) + " (range over the rows: "
      + ", ".join(f"{name} {v:.1f} SD" for name, v in spread_rows.items()) + ")")
rows_figure(rows, title="each row: one test image's style code, decoded as every class")

# %% [markdown]
# The three sources of the figure sit at the 5th, 50th and 95th percentile of the sources'
# slant, measured in standard deviations (SD) of real images of their class. They are picked by
# slant, but slant is not all that differs between them: the lines above the figure give each
# row's mean slant, width and ink, in the same class units, and say in which of them the rows
# differ most; that is what to look for in the figure. The first lines measure each factor's
# transfer on all the sources. For a factor marked True,
# the style code carries that part of the source's handwriting into other digits (the larger
# $r$, the more of it); for one marked False, the transfers do not follow the source in that
# respect beyond the noise level: the code of two numbers did not keep it, and rows that look
# alike in the figure are the visible side of that.
#
# **Does the label control the class? Measure it.** We ask the CVAE for 100 samples of every
# class, $z \sim \mathcal N(0, I)$, and let the digit classifier of section 1 say which digit it
# sees. Its accuracy on real test images is the yardstick.

# %%
with torch.no_grad():
    wanted = torch.arange(10).repeat_interleave(100)  # (1000,)
    z = torch.randn(1000, 2, generator=torch.Generator().manual_seed(0))
    fake_probs = F.softmax(classifier(decode_images(cvae, z, wanted)), dim=1)  # (1000, 10)
    real_probs = F.softmax(classifier(x_test), dim=1)  # (T, 10)
fake_acc = (fake_probs.argmax(1) == wanted).float().mean().item()
fake_sure = ((fake_probs.argmax(1) == wanted) & (fake_probs.max(1).values >= 0.9)).float().mean().item()
real_sure = ((real_probs.argmax(1) == y_test) & (real_probs.max(1).values >= 0.9)).float().mean().item()
print(f"real test images: classified right {real_acc:.1%}, right AND confidently (p >= 0.9) {real_sure:.1%}")
print(f"CVAE samples, as the class asked for: {fake_acc:.1%}, right AND confidently {fake_sure:.1%}")
print("samples recognised right and confidently at least 90% as often as real images:", fake_sure >= 0.9 * real_sure)
per_class = (fake_probs.argmax(1) == wanted).float().view(10, 100).mean(1)  # (10,) share right per class asked for
print("right, per class asked for: " + ", ".join(f"{c}: {a:.0%}" for c, a in enumerate(per_class.tolist()))
      + f"; lowest: class {int(per_class.argmin())}")

# %% [markdown]
# Compare the two lines column by column. The "right AND confidently" share is the stricter one:
# a blurred blob is often assigned to *some* class, sometimes the right one, but rarely with
# probability 0.9. If the samples' strict share is close to the real images' or above it (the third
# line checks "at least 90% as often"), the label really decides the digit of the samples. Samples
# can score higher than real images: they are smooth, typical digits, without the odd strokes of
# real handwriting. The last line splits the samples' accuracy by the class asked for. If a few
# classes score far below the others, the label fails for those classes: look at their columns in
# the style figure above. If the shares are low for every class, no class is to blame: look
# instead for rows of that figure that decode to the same shape whatever the label (a style code
# that overrides the class), or for blur everywhere. In fast mode the models are barely trained and the
# numbers are rough.
#
# **Sliders.** Choose a class, then move the two style sliders.

# %% tags=["nbval-ignore-output"]
from course_utils.cvae import cvae_view

cvae_view(cvae, data.classes)

# %% [markdown]
# ## 3. Discrete latents with the Gumbel-softmax
#
# Some things are naturally discrete: a word, a yes/no attribute, a choice among a few parts. A
# discrete latent variable takes one of $K$ values, written as a one-hot vector. Sampling it is
# easy, with the **Gumbel-max trick**: add independent Gumbel noise $g_k = -\log(-\log u_k)$,
# $u_k \sim U(0, 1)$, to the log-probabilities and take the argmax; the result is distributed
# exactly as $\operatorname{softmax}(\text{logits})$. But an argmax has no useful gradient: a small
# change of the logits either changes nothing or jumps to another category.
#
# The **Gumbel-softmax** (Jang et al. 2017; "Concrete", Maddison et al. 2017) replaces the argmax
# by a softmax with a temperature $\tau$:
#
# $$ y_k = \frac{\exp\big((\text{logit}_k + g_k)/\tau\big)}{\sum_{j}\exp\big((\text{logit}_j + g_j)/\tau\big)}. $$
#
# It is the reparameterization trick again: the noise $g$ depends on no weight, and $y$ is a
# differentiable function of the logits. As $\tau \to 0$ the sample approaches a one-hot vector;
# a large $\tau$ makes it nearly uniform. Written out, and compared with the course's
# `gumbel_softmax_sample` (`course_utils/gumbel.py`, the same maths as
# `torch.nn.functional.gumbel_softmax`, plus a `generator`) on the same uniform numbers:

# %%
from course_utils.gumbel import gumbel_softmax_sample

probs = torch.tensor([0.1, 0.2, 0.4, 0.3])  # a categorical distribution over K = 4 values
logits4 = probs.log().expand(3, 4)  # three samples of it: (3, 4)
u = torch.rand(3, 4, generator=torch.Generator().manual_seed(0))  # U(0, 1) noise
g = -torch.log(-torch.log(u))  # Gumbel(0, 1) noise, (3, 4)
ours = F.softmax((logits4 + g) / 0.5, dim=-1)  # tau = 0.5
package = gumbel_softmax_sample(logits4, 0.5, generator=torch.Generator().manual_seed(0))
print("our relaxed samples:\n", ours.numpy().round(3))
print("same as gumbel_softmax_sample:", torch.allclose(ours, package, atol=1e-6))
print("argmax of the relaxed samples = argmax of logits + g (the Gumbel-max sample):",
      torch.equal(ours.argmax(1), (logits4 + g).argmax(1)))

# %% [markdown]
# The temperature at work: five samples of the same distribution at four temperatures.

# %%
from course_utils.plots import NotebookFigure

fig = NotebookFigure(figsize=(11, 2.6), layout="constrained")
axes = fig.subplots(1, 4, sharey=True)
for ax, tau in zip(axes, (5.0, 1.0, 0.5, 0.1), strict=True):
    samples = gumbel_softmax_sample(probs.log().expand(5, 4), tau, generator=torch.Generator().manual_seed(0))
    for k, s in enumerate(samples):  # five samples, side by side
        ax.bar(torch.arange(4) + 0.16 * (k - 2), s.numpy(), width=0.15)
    ax.set(title=f"temperature {tau}", xlabel="category", xticks=range(4))
axes[0].set_ylabel("sample value")
fig.suptitle("five Gumbel-softmax samples of the same distribution")
fig

# %% [markdown]
# At $\tau = 5$ every sample is nearly uniform (bars near 0.25); at $\tau = 0.1$ most samples are
# almost one-hot (a bar may still keep a fifth of the mass), and which category wins varies from sample to sample, as in the categorical.
#
# The **hard** (straight-through) variant outputs the exact one-hot argmax in the forward pass and
# uses the soft sample's gradient in the backward pass: `one_hot - soft.detach() + soft`. Checked
# on 100,000 samples:

# %%
logits = probs.log().expand(100_000, 4)
hard = gumbel_softmax_sample(logits, 1.0, hard=True, generator=torch.Generator().manual_seed(1))
print("hard samples are one-hot:", bool(((hard == 0) | (hard == 1)).all() and (hard.sum(1) == 1).all()))
print("category frequencies:", hard.mean(0).numpy().round(3), "vs probabilities", probs.numpy())
logits_leaf = probs.log().clone().requires_grad_()
sample = gumbel_softmax_sample(logits_leaf, 0.5, hard=True, generator=torch.Generator().manual_seed(2))
(sample * torch.arange(4.0)).sum().backward()  # a loss that depends on which category was drawn
print("gradient through the hard sample (straight-through):", logits_leaf.grad.numpy().round(3))
for tau in (1.0, 0.5, 0.1):  # the mean of the SOFT samples, on the same 100,000 draws
    soft_mean = gumbel_softmax_sample(logits, tau, generator=torch.Generator().manual_seed(1)).mean(0)
    print(f"mean of the relaxed samples at tau {tau}: {soft_mean.numpy().round(3)} (largest distance from "
          f"the probabilities: {(soft_mean - probs).abs().max():.3f})")

# %% [markdown]
# The hard samples' frequencies match the probabilities: the Gumbel-max trick is exact. The
# relaxed samples are not: their mean is pulled towards the uniform vector (0.25 each), the more
# so the warmer $\tau$, and the last lines measure by how much. So at a warm temperature the
# relaxed sample is a **biased** stand-in for the categorical one: a decoder trained on it sees
# inputs with the wrong average and the wrong shape (never one-hot), and the objective it lowers
# is not the expected loss under the categorical. The bias shrinks as $\tau \to 0$. Training
# starts warm anyway, because of what the next cell measures.
#
# **Why not a very low temperature from the start?** The soft sample's gradient is
# $\partial y_k / \partial \text{logit}_j = y_k(\delta_{kj} - y_j)/\tau$: near zero when one category
# wins clearly (at low $\tau$, almost always), of order $1/\tau$ when two categories are nearly
# tied (rarely). At low $\tau$ we expect rare large gradients and many near-zero ones: a high
# variance. We measure it:
# 4,000 draws of the same distribution, each with the gradient of the loss above with respect to
# its own copy of the logits, and the spread of those gradients (summed variance of the 4
# components, with a standard error over the draws). The last line gives the shape: the median
# and the 99th percentile of the size of each draw's gradient. The expectation is about low
# $\tau$: there most draws should have a gradient near 0 (a median near 0) and a few a large one
# (a 99th percentile far above the median).

# %%
n_draw = 4000
grad_var, grad_size = {}, {}
for tau in (2.0, 1.0, 0.5, 0.1):
    leaf = probs.log().repeat(n_draw, 1).requires_grad_()  # (4000, 4): one copy of the logits per draw
    soft = gumbel_softmax_sample(leaf, tau, generator=torch.Generator().manual_seed(3))
    (soft * torch.arange(4.0)).sum().backward()  # each draw's loss reaches only its own copy
    sq = ((leaf.grad - leaf.grad.mean(0)) ** 2).sum(1)  # (4000,) squared distance from the mean gradient
    grad_var[tau] = (sq.mean().item(), sq.std().item() / math.sqrt(n_draw))
    grad_size[tau] = torch.quantile(leaf.grad.norm(dim=1), torch.tensor([0.5, 0.99])).tolist()  # per-draw size
    print(f"tau {tau:>4}: gradient variance {grad_var[tau][0]:.3f} +- {grad_var[tau][1]:.3f}, "
          f"mean gradient {leaf.grad.mean(0).numpy().round(3)}")
values = torch.arange(4.0)  # the loss of each category, as above
exact = probs * (values - (probs * values).sum())  # (4,): gradient of E_categorical[loss] w.r.t. the logits
print(f"exact gradient of the discrete objective: {exact.numpy().round(3)} (compare the mean gradients above)")
taus = list(grad_var)
print("the variance rises at every step down in tau, each rise beyond two standard errors:",
      all(grad_var[b][0] - grad_var[a][0] > 2 * math.hypot(grad_var[a][1], grad_var[b][1])
          for a, b in zip(taus, taus[1:], strict=False)))
print("size of each draw's gradient, median / 99th percentile: " + "; ".join(
      f"tau {tau}: {q50:.3f} / {q99:.2f}" for tau, (q50, q99) in grad_size.items()))

# %% [markdown]
# If the verdict says True, each step down in $\tau$ (2, 1, 0.5, 0.1) made the gradient noisier,
# beyond the measurement's own noise, while the mean gradient does not grow in step with it. The
# line after the loop prints the exact gradient of the discrete objective,
# $p_j(\text{loss}_j - \mathbb E[\text{loss}])$: where a warm $\tau$'s mean gradient differs from
# it, the relaxed gradient is biased, the trade-off's other half. Warm is biased, cold is noisy. That is
# why the schedule below starts warm and **floors** the temperature (at 0.5) instead of letting
# it fall towards 0. A low floor buys samples closer to one-hot at the price of noisier
# gradients; the straight-through variant gets exact one-hot samples in the forward pass
# whatever $\tau$, with the soft sample's gradient.

# %% [markdown]
# **A VAE with discrete latents.** `GumbelVAE` has $N = 20$ categorical variables with $K = 10$
# categories each. The encoder outputs logits (B, 20, 10); each variable is sampled with the
# Gumbel-softmax; the decoder reads the (B, 20, 10) samples. The prior is uniform over the $K$
# values, and the KL term is the categorical one:
# $\mathrm{KL}(q \,\|\, \mathcal U) = \sum_{n}\sum_k q_{nk}\log(q_{nk} K)$, at most
# $N \log K$ nats.
#
# **Ten categories are not ten digits.** A variable with $K = 10$ values on digits looks as if it
# should be "the digit". Nothing in the loss says so: the encoder uses the 20 variables in
# whatever way lowers the loss, and a category is just one of 10 values of one code number, the
# same way a Gaussian $z$ is not a vector of class probabilities (lesson 06). We measure this
# below. The forward pass with the model's own layers, checked against `GumbelVAE.forward`:

# %%
from course_utils.gumbel import GumbelVAE

torch.manual_seed(0)
gdemo = GumbelVAE(784, hidden=(400,), n_vars=20, n_categories=10)  # untrained: a check of the wiring
q_logits = gdemo.encoder(x5.flatten(1)).view(5, 20, 10)  # (5, 784) -> (5, 200) -> (5, 20, 10)
u = torch.rand(q_logits.shape, generator=torch.Generator().manual_seed(0))
z = F.softmax((q_logits - torch.log(-torch.log(u))) / gdemo.temperature, dim=-1)  # relaxed: (5, 20, 10)
ours = gdemo.decoder(z.flatten(1)).view(5, 1, 28, 28)  # (5, 200) -> (5, 784) -> images
package, _ = gdemo(x5, generator=torch.Generator().manual_seed(0))
print("each relaxed variable sums to 1:", torch.allclose(z.sum(-1), torch.ones(5, 20)))
print("our forward pass = GumbelVAE's:", torch.allclose(ours, package, atol=1e-5))

# %% [markdown]
# **Which objective is this, exactly?** Training plugs the *relaxed* (soft) samples into the
# decoder but uses the KL between the *categorical* $q$ and the uniform prior. That mix is a
# **surrogate** objective: it is not the ELBO of the discrete model (whose samples are one-hot),
# and not the ELBO of the relaxed Concrete model (which would need the KL between Concrete
# densities, Maddison et al. 2017). It is what Jang et al. (2017) train, and it works, but its
# value is not a bound on anything, and a decoder trained on soft codes has never seen a one-hot
# one. The discrete model is scored with **hard** one-hot samples (`gumbel_negative_elbo_per_image`): a
# Monte Carlo estimate of the true discrete ELBO.
#
# The alternative is to train **straight-through** (`GumbelVAE(hard=True)`): the decoder sees
# one-hot codes already in training, so the training loss is a one-sample estimate of the
# discrete negative ELBO itself, at the price of a biased gradient (the soft sample's). We
# train both, with the same budget.
#
# **Temperature annealing.** Start warm ($\tau = 1$: smooth, low-variance gradients, but far from
# discrete) and cool down, $\tau = \max(\tau_{\min}, \tau_0\, e^{-r\,\text{step}})$, Jang et al.'s
# schedule. It is a callback, `TemperatureAnnealing`, that sets `model.temperature` before every
# step. The rate is chosen so that $\tau$ reaches its floor of 0.5 halfway through training.

# %%
from course_utils.gumbel import GumbelObjective, TemperatureAnnealing

gumbel_models, gumbel_logs, annealings = {}, {}, {}
for name, hard_samples in (("relaxed", False), ("straight-through", True)):
    annealings[name] = TemperatureAnnealing(start=1.0, minimum=0.5, rate=math.log(2) / (STEPS / 2))
    gumbel_logs[name] = StepLog(GumbelObjective(binarize=True), every=LOG_EVERY)
    torch.manual_seed(0)
    model = GumbelVAE(784, hidden=(400,), n_vars=20, n_categories=10, hard=hard_samples).to(course.device)
    fit(model, x_stream, objective=gumbel_logs[name], epochs=1, batch_size=128, lr=1e-3,
        callbacks=[annealings[name]], verbose=False)
    gumbel_models[name] = model.cpu()
schedule = annealings["relaxed"].log
floor_step = next(step for step, tau in schedule if tau <= 0.5 + 1e-9)  # first step at the floor
print(f"temperature: {schedule[0][1]:.2f} at step 0 -> 0.50 from step {floor_step} of {len(schedule)}")
for name, log in gumbel_logs.items():
    kl = log.column("kl")
    print(f"{name:>16}: {len(log.rows)} logged points; training KL first {kl[0]:.1f}, max {max(kl):.1f}, "
          f"last {kl[-1]:.1f} nats; loss slope over the last half "
          f"{late_slope(log.column('loss'), log_steps):+.2f} per 100 steps")

# %%
fig = NotebookFigure(figsize=(4, 3), layout="constrained")
ax = fig.subplots()
ax.plot(*zip(*schedule, strict=True))
ax.set(xlabel="training step", ylabel="temperature", title="the annealing schedule")
display(fig)
curves_figure(gumbel_logs, keys=("loss", "kl"),
              title="Gumbel VAE training: relaxed (a surrogate) vs straight-through (hard codes)")

# %% [markdown]
# The KL panel shows how much each encoder uses its discrete variables: the printed first,
# largest and last values say whether the KL climbed during training (the decoder learning to
# read the codes). The two loss curves are **not the same quantity**: the relaxed model's is the
# surrogate, the straight-through model's a one-sample discrete negative ELBO. A negative late
# slope means the model was still improving when its budget ran out.
#
# **Scoring, honestly.** For the relaxed model we compute its surrogate on the test images
# (relaxed samples at the final temperature) and its true discrete score (hard samples); the
# difference is the **train-soft / test-hard mismatch**. The straight-through model has none by
# construction.

# %%
from course_utils.gumbel import gumbel_negative_elbo_per_image, gumbel_surrogate_loss

tau_end = gumbel_models["relaxed"].temperature
surrogate = gumbel_surrogate_loss(gumbel_models["relaxed"], xb_test, tau_end,
                                  generator=torch.Generator().manual_seed(0))
per_image = {name: gumbel_negative_elbo_per_image(model, xb_test, generator=torch.Generator().manual_seed(0))
             for name, model in gumbel_models.items()}  # (T, 3) each: loss, recon, kl
discrete = {name: dict(zip(("loss", "recon", "kl"), terms.mean(0).tolist(), strict=True))
            for name, terms in per_image.items()}
gauss = sweep.rows[sweep.betas.index(1.0)]
print(f"relaxed training, test surrogate (soft samples, tau {tau_end:.2f}): {surrogate['loss']:.1f} "
      f"(recon {surrogate['recon']:.1f} + KL {surrogate['kl']:.1f})")
for name, res in discrete.items():
    print(f"{name} training, test -ELBO with HARD samples: {res['loss']:.1f} "
          f"(recon {res['recon']:.1f} + KL {res['kl']:.1f}; the KL can be at most {20 * math.log(10):.1f})")
print(f"Gaussian VAE, 10 dimensions (beta = 1, section 1): -ELBO {gauss['loss']:.1f}")
mismatch = discrete["relaxed"]["loss"] - surrogate["loss"]
print(f"train-soft / test-hard mismatch of the relaxed model: {mismatch:+.1f} nats per image")
diff = per_image["straight-through"][:, 0] - per_image["relaxed"][:, 0]  # (T,) paired, image by image
se = diff.std().item() / math.sqrt(len(diff))
print(f"straight-through minus relaxed, image by image: {diff.mean():+.2f} nats +- {se:.2f} (one standard "
      f"error); a difference beyond two standard errors: {abs(diff.mean().item()) > 2 * se}")
best_discrete = min(discrete, key=lambda name: discrete[name]["loss"])
extra = discrete[best_discrete]["loss"] - gauss["loss"]
print(f"lower discrete -ELBO: {best_discrete} training; it pays {abs(extra):.1f} nats per image "
      f"{'more' if extra > 0 else 'less'} than the Gaussian VAE")

# %% [markdown]
# Read the lines in order. The first is the number the relaxed training optimised; the next two
# are the discrete models' true scores. A positive mismatch means the relaxed surrogate flatters
# the model: its decoder, trained on soft codes, does worse when handed the one-hot codes a
# discrete model actually produces (reporting the surrogate as "the ELBO" would hide exactly this);
# a negative one would mean the opposite. Straight-through training has no such mismatch by
# construction; whether it also reaches a lower discrete score, despite its biased gradient, is
# the comparison of the second and third lines, and the paired line below the mismatch says
# whether their difference is larger than two standard errors of the image-by-image difference.
# That error covers both the one sample of $z$ per image and the choice of the test images: it asks
# whether another test set from the same distribution, scored the same way, would agree. If it says False, the two trainings tie on
# this budget. Even a True is one training run of each: another seed can move both scores by a
# similar amount, so treat a small win as a tie. The last line compares the better discrete
# model with the Gaussian VAE of section 1 under the same protocol; the sign says which one pays
# more nats per image here, and that difference is no longer flattered by a surrogate: it is the
# price (or the gain) of a code of 20 ten-way choices instead of 10 real numbers, at this budget.
#
# Reconstructions, each from one **hard** sample of $q(z \mid x)$, and samples from the uniform
# prior (a uniformly random category for each of the 20 variables):

# %%
from course_utils.gumbel import gumbel_reconstruct

g = torch.Generator().manual_seed(0)
index = torch.randint(0, 10, (10, 20), generator=g)  # (10 images, 20 variables)
z_prior = F.one_hot(index, 10).float()  # (10, 20, 10) one-hot codes
rows = {"input": xb_test[:10]}
for name, model in gumbel_models.items():
    rows[f"{name}: recon."] = gumbel_reconstruct(model, xb_test[:10], generator=g)
with torch.no_grad():
    rows["prior sample (s.-t.)"] = torch.sigmoid(gumbel_models["straight-through"].decode(z_prior))
display(rows_figure(rows, title="Gumbel VAEs: hard-sample reconstructions, and samples from the uniform prior"))
z_many = F.one_hot(torch.randint(0, 10, (1000, 20), generator=g), 10).float()  # (1000, 20, 10)
uniform_quality = sample_probe(classifier, decode_images(gumbel_models["straight-through"], z_many))
print(f"uniform-prior samples the classifier labels confidently: {uniform_quality['confident']:.0%} "
      f"(real test images: {real['confident']:.0%})")
st_model = gumbel_models["straight-through"]
codes_seen = predict(st_model, xb_probe, fn=lambda m, xb: m.encode(xb).argmax(-1))  # (n, 20) training codes
codes_test = predict(st_model, xb_test[:1000], fn=lambda m, xb: m.encode(xb).argmax(-1))  # (<=1000, 20)


def nearest_differs(codes):  # (S, 20) -> (S,): in how many variables a code differs from the closest training code
    return torch.cat([(c[:, None] != codes_seen[None]).sum(-1).min(1).values for c in codes.split(100)])


far_uniform, far_test = nearest_differs(z_many.argmax(-1)).float(), nearest_differs(codes_test).float()
print(f"variables (of 20) in which a code differs from the closest of {len(codes_seen):,} training codes: "
      f"uniform-prior samples {far_uniform.mean():.1f}, codes of {len(codes_test):,} test images {far_test.mean():.1f}")

# %% [markdown]
# The prior row and the printed share show what a uniform prior gives. The last line measures how
# new its combinations are: for each code, the training code that agrees with it in the most
# variables, and in how many of the 20 they still differ. The codes of test images are the
# yardstick: new images, but real ones. If uniform samples differ from every training code in
# clearly more variables than test codes do, choosing each variable at random makes combinations
# the encoder never used for a real image, and the samples tend to be hybrids; if the two numbers
# are close, the fault of the samples lies elsewhere. Section 4 fits a **learned** prior to the codes of another discrete
# model, the VQ-VAE, and measures how much that helps its samples.
#
# **Is any variable "the digit"?** For each of the 20 variables, take the category the encoder
# picks for each image (the argmax of $q$), and predict the digit from that category alone: each
# category votes for its most common digit among the training images, and the votes are scored
# on the test images, as the 10-nearest-neighbour probe of the whole code is. Compare with
# always guessing the commonest digit, and with the whole code.

# %%
from course_utils.code_probes import category_purity
from course_utils.train import predict

model = gumbel_models[best_discrete]
picked = predict(model, xb_test, fn=lambda m, xb: m.encode(xb).argmax(-1))  # (T, 20) category per variable
picked_train = predict(model, xb_probe, fn=lambda m, xb: m.encode(xb).argmax(-1))  # (n, 20)
purity = category_purity(picked_train, y_train[:n_probe], picked, y_test)  # (20,) votes from training codes
whole = knn_class_accuracy(F.one_hot(picked_train, 10).flatten(1), y_train[:n_probe],
                           F.one_hot(picked, 10).flatten(1), y_test)
print(f"{best_discrete} model: digit predicted from ONE variable's category: best {purity.max():.1%}, "
      f"median {purity.median():.1%} (commonest digit: {chance:.1%})")
print(f"digit predicted from the whole code (20 categories, 10-NN): {whole:.1%}")
print("some single variable predicts the digit as well as the whole code:", bool(purity.max() >= whole - 0.02))

# %% [markdown]
# If the best single variable stays far below the whole code (the last line says False), the
# digit is spread over many variables: no variable's 10 categories are the 10 digits, although
# the code as a whole carries the class. If a variable did come close, the model happened to
# build one class-like variable in this run, by itself, not because $K = 10$. This answers a
# common misreading, that $z$ holds 10 class probabilities: $z$ is 20 one-hot choices whose
# categories mean whatever the model made them mean, and the lines above measure how much of the
# digit any single one of them tells. Either way the
# categories are code values the model invented, like the coordinates of a Gaussian $z$; a
# model whose categories must match the classes needs labels, or a loss that asks for it.
#
# ## 4. Where this leads: VQ-VAE and latent diffusion
#
# **VQ-VAE** (van den Oord et al. 2017) also has discrete latents, without Gumbel noise. The
# encoder outputs a grid of vectors, for example (B, 64, 7, 7); each of the 49 vectors is
# replaced by its nearest neighbour in a learned **codebook** of, say, 512 vectors, and the
# decoder reads the quantised grid. The gradient skips the non-differentiable nearest-neighbour
# step (straight-through), and two extra loss terms pull codebook vectors and encoder outputs
# towards each other. There is no KL term to a prior during training; instead a second model
# learns the prior over the codebook indices afterwards, and sampling means sampling indices from
# it, then decoding. The quantisation step in a few lines:

# %%
g = torch.Generator().manual_seed(0)
z_e = torch.randn(2, 64, 7, 7, generator=g)  # encoder output: (B, D, H, W)
codebook = torch.randn(512, 64, generator=g)  # (K, D): K learned code vectors
flat = z_e.permute(0, 2, 3, 1).reshape(-1, 64)  # (B, D, H, W) -> (B*H*W, D)
indices = torch.cdist(flat, codebook).argmin(dim=1)  # nearest code vector: (B*H*W,)
z_q = codebook[indices].view(2, 7, 7, 64).permute(0, 3, 1, 2)  # back to (B, D, H, W)
print("indices per image:", tuple(indices.view(2, 7, 7).shape[1:]), "| quantised grid:", tuple(z_q.shape))
print(f"each image is now {7 * 7} integers in 0..511: {7 * 7 * math.log2(512):.0f} bits")

# %% [markdown]
# **The VQ-VAE loss and its one straight-through line.** With $\operatorname{sg}[\cdot]$ the
# stop-gradient (`.detach()`), $z_e$ the encoder output and $e$ the chosen code vector, the loss of
# one image is
#
# $$ \mathcal L = \underbrace{-\log p(x \mid z_q)}_{\text{reconstruction}}
#    + \underbrace{\lVert \operatorname{sg}[z_e] - e \rVert^2}_{\text{codebook: moves } e}
#    + \beta\, \underbrace{\lVert z_e - \operatorname{sg}[e] \rVert^2}_{\text{commitment: moves the encoder}}, $$
#
# with $\beta = 0.25$ in the paper (a different $\beta$ from section 1's). The nearest-neighbour
# step has no gradient, so the forward pass uses $z_q$ and the backward pass copies the decoder's
# gradient straight to $z_e$: `z_q = z_e + (e - z_e).detach()`. On a toy codebook, with a
# stand-in "decoder loss" $\sum z_q^2$, we can check where the gradients go:

# %%
g = torch.Generator().manual_seed(0)
z_e = torch.randn(6, 2, generator=g).requires_grad_()  # 6 encoder outputs, D = 2 (a leaf for the demo)
codebook = torch.randn(4, 2, generator=g).requires_grad_()  # K = 4 code vectors
chosen = torch.cdist(z_e, codebook).argmin(dim=1)  # (6,) index of the nearest code vector
nearest = codebook[chosen]  # (6, 2): no gradient to z_e
z_q = z_e + (nearest - z_e).detach()  # forward: the code vectors; backward: identity to z_e
codebook_loss = ((z_e.detach() - nearest) ** 2).sum()  # sg[z_e]: moves only the codebook
commitment = 0.25 * ((z_e - nearest.detach()) ** 2).sum()  # sg[e]: moves only the encoder
((z_q**2).sum() + codebook_loss + commitment).backward()  # stand-in reconstruction: sum z_q^2
print("forward value of z_q equals the chosen code vectors (to rounding):", torch.allclose(z_q, nearest))
print("z_e.grad == 2 z_q + 0.5 (z_e - e), straight through:",
      torch.allclose(z_e.grad, 2 * nearest.detach() + 0.5 * (z_e.detach() - nearest.detach())))
print("chosen code vectors:", sorted(set(chosen.tolist())), "| code vectors with a gradient:",
      codebook.grad.abs().sum(dim=1).gt(0).nonzero().flatten().tolist())

# %% [markdown]
# Only the chosen code vectors receive a gradient. A code vector that is never the nearest one
# never moves: a **dead code**, and a codebook where most codes are dead wastes its capacity
# ("codebook collapse"). So the first thing to check after training a VQ-VAE is its **codebook
# usage**: how many codes are used, and the **perplexity** $\exp(H)$ of their frequencies (64
# when 64 codes are used equally often, 1 when one code is used for everything).
#
# **A tiny VQ-VAE.** `VQVAE` (`course_utils/vqvae.py`) is an MLP version: the encoder turns an
# image into 16 vectors of size 8, each is snapped to the nearest of 64 codebook vectors, and the
# decoder reads the 16 chosen vectors. An image becomes 16 integers in 0..63. Two design choices
# aim at keeping the codebook alive; we use them without comparing them with alternatives here,
# so treat them as common practice, not as measured cures. The codebook starts as 64 encoder
# outputs of random training images (`init_codebook`), so that every code starts near some
# encoder output; and it gets a larger learning rate than the networks (`vq_optimizer`): Adam
# moves each parameter by about its learning rate per step, and the code vectors must keep up
# with the encoder's outputs, which move fast in the first steps. (Other common remedies: update
# the codebook as a moving average of the encoder outputs assigned to each code, and restart
# dead codes at random encoder outputs.) The usage line after training says how many codes
# this run kept in use.
#
# Its forward pass, written out with the layers of an untrained `VQVAE` on the five test images
# of section 2, and checked against `VQVAE.forward`:

# %%
from course_utils.vqvae import (
    VQVAE,
    VQObjective,
    code_indices,
    codebook_usage,
    init_codebook,
    vq_optimizer,
)

torch.manual_seed(0)
vqdemo = VQVAE(784, hidden=(400,), n_slots=16, code_dim=8, n_codes=64)  # untrained: a check of the wiring
z_e5 = vqdemo.encoder(x5.flatten(1)).view(5, 16, 8)  # (5, 784) -> (5, 128) -> 16 vectors of size 8
idx5 = torch.cdist(z_e5.reshape(-1, 8), vqdemo.codebook).argmin(dim=1).view(5, 16)  # nearest code per slot
e5 = vqdemo.codebook[idx5]  # (5, 16, 8): the chosen code vectors
z_q5 = z_e5 + (e5 - z_e5).detach()  # straight-through: value e, gradient to z_e
ours = vqdemo.decoder(z_q5.flatten(1)).view(5, 1, 28, 28)  # (5, 128) -> pixel logits
package, _, _, package_idx = vqdemo(x5)
print("our codes = VQVAE's:", torch.equal(idx5, package_idx), "| our forward pass = VQVAE's:",
      torch.allclose(ours, package, atol=1e-5))

# %%
torch.manual_seed(0)
vq = VQVAE(784, hidden=(400,), n_slots=16, code_dim=8, n_codes=64).to(course.device)
init_codebook(vq, x_train[:256], generator=torch.Generator().manual_seed(0))
log_vq = StepLog(VQObjective(commitment=0.25, binarize=True), every=LOG_EVERY)
fit(vq, x_stream, objective=log_vq, epochs=1, batch_size=128, optimizer=vq_optimizer(vq, lr=1e-3),
    verbose=False)
vq = vq.cpu()
codes_test = code_indices(vq, xb_test)  # (T, 16) integers in 0..63
with torch.no_grad():
    vq_recon = F.binary_cross_entropy_with_logits(vq(xb_test)[0], xb_test, reduction="sum").item() / len(xb_test)
used, perplexity = codebook_usage(codes_test, 64)
print(f"VQ-VAE: test reconstruction {vq_recon:.1f} nats/image (Gaussian VAE, beta = 1: {gauss['recon']:.1f})")
print(f"codebook usage on the test images: {used} of 64 codes used, perplexity {perplexity:.1f}")
print(f"{len(log_vq.rows)} logged points; training reconstruction {log_vq.column('recon')[0]:.1f} -> "
      f"{log_vq.column('recon')[-1]:.1f}; slope over the last half "
      f"{late_slope(log_vq.column('recon'), log_steps):+.2f} per 100 steps")
book, size = log_vq.column("codebook"), log_vq.column("encoder_sq")
windows = {"first": 0, "lowest term": book.index(min(book)), "last": len(book) - 1}
print(f"{'window':>12} {'step':>5} {'||z_e - e||^2':>14} {'||z_e||^2':>10} {'ratio':>6}")
for label, i in windows.items():
    print(f"{label:>12} {log_vq.rows[i]['step']:>5} {book[i]:>14.1f} {size[i]:>10.1f} {book[i] / size[i]:>6.3f}")
low = windows["lowest term"]
print(f"||z_e||^2 grew from the lowest-term window to the last: {size[-1] > size[low]} ({size[low]:.1f} -> "
      f"{size[-1]:.1f}, x{size[-1] / size[low]:.1f})")
curves_figure({"VQ-VAE": log_vq}, keys=("recon", "codebook", "encoder_sq"), title="tiny VQ-VAE training",
              logy=("codebook", "encoder_sq"))

# %% [markdown]
# The usage line says whether the codebook stayed alive: a perplexity close to the number of codes
# used means they are used about equally often. The reconstruction term is comparable with the
# Gaussian VAE's (both are $-\log p(x \mid z)$ on the same binarized test images); the slope says
# whether more training would still help. The middle panel (log scale) is the codebook term, a
# squared distance between the encoder's outputs and their code vectors, not nats; the right
# panel the squared size of the encoder's outputs, $\lVert z_e \rVert^2$. What does the loss say
# about that size? Multiply $z_e$ and every code vector by $c$ and let the decoder's first layer
# absorb $1/c$: the same code vectors are chosen, the reconstruction is unchanged, but the codebook
# and commitment terms, squared distances, grow by $c^2$. So the codebook and commitment terms pull
# towards *smaller* outputs, and the reconstruction term is indifferent along this rescaling: no
# term of the loss pulls towards larger ones. The line below the table says whether
# $\lVert z_e \rVert^2$ grew anyway. If it did, the loss does not explain it: the encoder is
# trained with the straight-through gradient (the decoder's gradient at $z_q$, copied onto $z_e$),
# and that copy is not the gradient of any loss, so nothing makes the encoder's updates go downhill
# on the loss along this direction. And a squared distance measured on a larger scale is larger. The small table
# shows both at three windows, and their ratio: the quantisation error relative to the size of
# what is quantised (a ratio of 0.1 means each vector is replaced by one about
# $\sqrt{0.1} \approx 30\%$ of its length away). If the raw term grew from its lowest window to the
# last while the ratio stayed about the same, the growth is the encoder's outputs getting larger,
# not the codebook falling behind. Judge the codebook by the ratio and by its usage.
#
# **A learned prior.** The VQ-VAE has no prior yet. A uniform one (each of the 16 slots a uniform
# choice among 64 codes) costs $16 \log_2 64 = 96$ bits per image and, like the Gumbel VAE's,
# produces combinations no real image uses. The simplest **learned** prior counts, for each slot,
# how often each code occurs in the training images (`slot_prior`: 16 independent categoricals).
# A prior is good when real images' codes are likely under it: we measure the average number of
# bits the test images' codes cost under each prior (lower: the prior knows more about the data),
# and how the decoded samples look to the classifier.

# %%
from course_utils.vqvae import prior_bits, sample_codes, slot_prior

codes_train = code_indices(vq, xb_probe)  # (n, 16) codes of (binarized) training images
learned = slot_prior(codes_train, 64)  # (16, 64) log-probabilities
uniform = torch.full((16, 64), -math.log(64), dtype=torch.float64)
bits = {"uniform": prior_bits(codes_test, uniform), "learned per slot": prior_bits(codes_test, learned)}
g = torch.Generator().manual_seed(0)
vq_samples = {name: torch.sigmoid(predict(vq, sample_codes(prior, 1000, generator=g),
                                          fn=lambda m, idx: m.decode_indices(idx)))
              for name, prior in (("uniform", uniform), ("learned per slot", learned))}
confident = {name: sample_probe(classifier, vq_samples[name])["confident"] for name in bits}
for name in bits:
    print(f"{name:>16} prior: test codes cost {bits[name]:.1f} bits per image; samples labelled "
          f"confidently {confident[name]:.0%}")
print("the learned prior codes the test images in fewer bits:", bits["learned per slot"] < bits["uniform"])
print("its samples are confidently classified clearly more often (2 standard errors):",
      clearly_below(confident["uniform"], confident["learned per slot"]))
for name in bits:  # -ELBO = recon + KL, and the KL of a one-code posterior is the code length in nats
    print(f"negative ELBO with the {name} prior: {vq_recon:.1f} + {bits[name] * math.log(2):.1f} = "
          f"{vq_recon + bits[name] * math.log(2):.1f} nats/image (Gaussian VAE, beta = 1: {gauss['loss']:.1f})")
rows_figure({"uniform prior": vq_samples["uniform"], "learned prior": vq_samples["learned per slot"]},
            title="VQ-VAE samples: codes drawn from a uniform vs a learned prior")

# %% [markdown]
# The bits line measures what the learned prior knows: every bit saved is regularity of the
# codes of real images that it captured. It is also what makes a VQ-VAE a VAE. Its encoder puts
# all of $q(k \mid x)$ on one code $k^*$, and the KL of such a posterior to a prior $p(k)$ is
# $\log \frac{1}{p(k^*)}$, the code's length in nats. So reconstruction + code length is a true
# negative ELBO, printed on the last two lines. With the uniform prior the KL is the constant
# $16 \log 64 = 66.5$ nats whatever the image, which is why VQ-VAE training can leave it out; a
# learned prior shortens it, and the better the prior, the tighter the bound.
#
# Do its samples look better? The verdict above the ELBO lines says whether the classifier is
# clearly more often sure about them. Either way, our prior knows only how often each code occurs
# in each slot, not which codes go *together*, so its samples can still combine slots of
# different digits (look at the second row). Real VQ-VAEs fit an **autoregressive** prior
# that predicts each code from the ones before it (a PixelCNN in the original paper, a transformer
# in VQ-GAN; DALL-E did the same over the codes of a Gumbel-softmax discrete VAE, section 3's
# model at scale), which captures exactly those dependencies. The recipe is the same: train
# the autoencoder, freeze it, learn the distribution of its codes, sample codes, decode.
#
# **Latent diffusion** (Rombach et al. 2022, the model behind Stable Diffusion) uses an
# autoencoder as a compressor in the same two-stage way. Its first stage is a VAE-like autoencoder
# (a KL-regularised one with a very small KL weight, trained with perceptual and adversarial
# losses on top of the reconstruction) that maps a 512 x 512 RGB image, a tensor of shape
# 512 x 512 x 3, to a latent of shape 64 x 64 x 4: the spatial size shrinks by a factor of 8 in
# each direction and there are 4 channels. The second stage, a diffusion model, is the learned
# prior over those latents: it is trained and run entirely in latent space, which is why it is
# affordable, and the decoder turns its final latent back into pixels. (In Stable Diffusion v1 the
# latents are also multiplied by a fixed 0.18215 so that they have roughly unit variance.) The
# arithmetic:

# %%
pixels = 512 * 512 * 3
latent = 64 * 64 * 4
print(f"image: {pixels:,} numbers | latent: {latent:,} numbers | {pixels / latent:.0f} times fewer")
print(f"downsampling factor per side: {512 // 64}; MNIST VAE of lesson 06: 784 -> 20, {784 / 20:.0f} times fewer")

# %% [markdown]
# Everything in this course is visible in that design: an encoder and a decoder (lessons
# 01-03), a reconstruction loss read as a likelihood, a KL term that keeps the latent space
# well-behaved (lesson 06) with a small weight, as in a $\beta$-VAE with $\beta \ll 1$
# (section 1), and a separate model that learns the distribution of the latents, the same idea
# as VQ-VAE's learned prior.
#
# > **Common mistakes**
# > - *Comparing $\beta$-VAEs by their training loss.* The training loss depends on $\beta$;
# >   compare reconstruction and KL separately, or the negative ELBO at $\beta = 1$ (section 1).
# > - *Reading "higher $\beta$ is better disentanglement" as "higher $\beta$ is better".* It
# >   costs reconstruction quality, measured in the table above, and whether it disentangles is a
# >   measurement (the gap table), not a consequence of the formula.
# > - *Trusting a Monte Carlo $\mathrm{KL}(q(z)\,\|\,p)$ whose $I(x; z)$ sits at $\log M$, or whose
# >   value still moves when $M$ doubles.* At the ceiling the number is rate $-\log M$, set by the
# >   number of images used; below it, it is still an upper bound until it stops moving. Bracket it
# >   from below with the moment fit and print it at several $M$ (section 1).
# > - *Mixing definitions of an "active" dimension.* Counts by KL and by the variance of $\mu$ can
# >   differ; the course uses one, $\operatorname{Var}_x[\mu_j(x)] > 0.01$ (Burda et al.).
# > - *A CVAE whose decoder does not get the label.* Then $z$ must still encode the class and
# >   the label only helps the encoder; both networks need it.
# > - *Reading the 10 categories of a discrete latent as the 10 digits.* They are code values the
# >   model invented; the probe in section 3 measures how much one variable says about the class.
# > - *Feeding soft Gumbel-softmax samples at test time and calling the model discrete.* Score
# >   with hard one-hot samples; the relaxed training loss is a surrogate, not an ELBO.
# > - *Annealing the temperature too fast or too low.* A very low $\tau$ gives high-variance
# >   gradients (measured in section 3); floor it (0.5 here).
# > - *Sampling a VQ-VAE from a uniform prior, or never checking codebook usage.* Learn a prior over
# >   the codes; count the codes in use.
#
# ## Summary
#
# - $\beta$ weighs rate (KL) against distortion (reconstruction): section 1 measured the
#   trade-off and the active units (Var $\mu$ > 0.01). It bracketed the distance of all codes
#   together from the prior, $\mathrm{KL}(q(z)\,\|\,p(z))$, between a Gaussian moment fit (a lower
#   bound) and a Monte Carlo split of the rate on $M$ images (an upper bound on average at every
#   $M$, because its $I(x; z)$ part is a lower bound, capped at $\log M$; printed at three $M$, and
#   read as a measurement only where $I$ stays below the cap and the KL part no longer moves
#   with $M$). A prior-hole test counted how often prior samples land where the codes
#   of real images rarely do, and whether those samples are worse. Disentanglement was measured as
#   within-class correlations of the sampled code with three measured factors, each factor given
#   its own active dimension; the verdict lines said which of the textbook claims held in this run.
# - A conditional VAE gets the label in encoder and decoder and bounds $\log p(x \mid y)$; here
#   with the unconditional prior $\mathcal N(0, I)$ (Sohn et al. learn a prior given what is
#   conditioned on, here $p(z \mid y)$). For one
#   model the label can lower $-\log p(x)$ by at most $H(y) \le \log 10$ nats; two separately
#   trained models also differ in fit and in the tightness of their bounds. A probe measures how
#   much class information its $z$ keeps compared with a plain VAE.
# - Gumbel-softmax makes discrete sampling differentiable; the hard version is exactly one-hot
#   with straight-through gradients; the temperature is annealed during training. Training with
#   relaxed samples and a categorical KL is a surrogate objective: score the discrete model with
#   hard samples, and measure the train-soft / test-hard mismatch.
# - VQ-VAE quantises latents to a codebook with a straight-through gradient,
#   `z_q = z_e + (e - z_e).detach()` ($e$: the nearest code vector), a codebook and a commitment loss; check the codebook usage,
#   then learn a prior over the codes. Latent diffusion compresses 512 x 512 x 3 images to
#   64 x 64 x 4 latents with a VAE-like autoencoder and learns the prior there with diffusion.

# %% [markdown]
# ## Exercise
#
# [Exercise 07](../exercises/07_beyond_the_vanilla_vae.ipynb) [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ae-course/autoencoders-pca-to-vae/blob/main/exercises/07_beyond_the_vanilla_vae.ipynb)
#
# In the exercise you implement the CVAE's conditioning (the one-hot label glued to the encoder's
# input and to the code), its forward pass, and the $\beta$-VAE loss with both of its terms, and
# a check cell after each task tells you what is wrong.

# %% [markdown]
# ## Quiz
#
# The last quiz of the course: $\beta$-VAE, conditional VAEs, Gumbel-softmax, VQ-VAE and latent
# diffusion.

# %% tags=["nbval-ignore-output"]
from course_utils.quiz import show_quiz

show_quiz("07_beyond_the_vanilla_vae")

# %% [markdown]
# This is the last lesson of the course. Back to the [course overview and syllabus](../README.md),
# where the exercises for every lesson are listed.
