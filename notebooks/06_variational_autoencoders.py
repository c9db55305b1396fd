# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 06 · Variational autoencoders
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ae-course/autoencoders-pca-to-vae/blob/main/notebooks/06_variational_autoencoders.ipynb)
#
# Every autoencoder so far could copy an image through a short code. None of them could make a
# *new* image: pick a code at random, decode it, and you usually get a smudge. A **variational
# autoencoder** (VAE, Kingma & Welling 2014) changes one thing about the encoder, which now
# outputs a small Gaussian cloud of codes instead of one point, and adds one term to the loss.
# Together they turn the latent space into a place you can sample from.
#
# **Learning objectives.** After this lesson you can
# 1. show why a plain autoencoder is not a generative model (gaps in its latent space);
# 2. describe the probabilistic encoder $q(z\mid x) = \mathcal N(\mu(x), \operatorname{diag}
#    \sigma^2(x))$ and give the shapes of $\mu$, $\log\sigma^2$ and $z$ for a batch;
# 3. implement the reparameterization trick and show with autograd that the reconstruction
#    loss reaches the encoder's weights through $z = \mu + \sigma\varepsilon$, and not through a
#    direct sample;
# 4. derive the ELBO and its gap $\mathrm{KL}(q(z\mid x)\,\|\,p(z\mid x))$, check the closed-form
#    Gaussian KL against Monte Carlo, and measure the tug of war between the two terms;
# 5. read the reconstruction term as a likelihood (BCE = Bernoulli for binary pixels, squared
#    error = Gaussian with a fixed variance), explain the BCE floor of grey images, and report a
#    VAE's quality under a protocol that is a true likelihood (binarized images);
# 6. tell apart the three distributions of $z$ (per image, prior, aggregate), explore a 2-D and a
#    20-D latent space (scatter, grid, samples, interpolation, sliders), walk through a conv VAE,
#    and tell posterior collapse from switched-off surplus dimensions.

# %%
# Setup (extra code): on Colab, install the course package; locally it is already installed.
# Colab already has every dependency, so --no-deps leaves its own torch and Jupyter untouched.
import sys

if "google.colab" in sys.modules:
    # %pip install -q --no-deps "autoencoders-course @ git+https://github.com/ae-course/autoencoders-pca-to-vae"

# %%
import torch
from torch import nn

from course_utils import setup_course

course = setup_course(seed=0)
DATASET = "mnist"  # try "fashion_mnist": every cell below works with either

# %% [markdown]
# We use MNIST, held in memory. `valid_fraction=0.0` keeps every training image for training; we
# measure on held-out test images. (Without the MNIST files the course falls back to scikit-learn's
# small 8x8 digits, resized; the cell below says which you have.) Every model below is trained for a
# fixed number of optimizer *steps*, so the lesson trains comparably on 1,400 or 60,000 images.

# %%
from course_utils.data import load_dataset

data = load_dataset(DATASET, seed=course.seed, valid_fraction=0.0)
x_train, y_train = data.train.x, data.train.y  # (N, 1, 28, 28) in [0, 1], (N,)
x_test, y_test = data.test.x, data.test.y
print(f"{len(x_train):,} training and {len(x_test):,} test images; embedded fallback: {data.is_fallback}")

# %%
# extra code – training budgets in optimizer STEPS, turned into epochs for the data at hand
import math


def epochs_for(steps, n_images=None, batch_size=128):
    """Epochs that give about `steps` optimizer steps on n_images (at least one epoch)."""
    n_images = len(x_train) if n_images is None else n_images
    return max(1, round(steps / math.ceil(n_images / batch_size)))

# %% [markdown]
# ## 1. Why a plain autoencoder is not generative
#
# Train a small dense autoencoder (lesson 02) with a 2-number code, then do what a generative
# model must do: draw random codes and decode them.

# %%
from course_utils.losses import bce_per_image
from course_utils.models import DenseAutoencoder
from course_utils.train import ReconstructionObjective, fit

torch.manual_seed(0)
ae = DenseAutoencoder(784, hidden=(400,), n_latent=2, sigmoid_output=False).to(course.device)
fit(ae, x_train, objective=ReconstructionObjective(bce_per_image), epochs=epochs_for(course.pick(full=600, fast=100)),
    batch_size=128, lr=1e-3, verbose=False)
ae = ae.cpu()
with torch.no_grad():
    ae_codes = ae.encode(x_test)  # (N, 2)
print("plain AE codes: min", ae_codes.min(0).values.numpy().round(1),
      "max", ae_codes.max(0).values.numpy().round(1), "std", ae_codes.std(0).numpy().round(1))

# %% [markdown]
# The codes live wherever training happened to put them: the range printed above is set by
# nothing in the loss. Nobody told us which region is "valid", so we draw random codes two ways:
# from $\mathcal N(0, I)$, and uniformly over the box that the test codes span.

# %%
from course_utils.plots import codes_figure, rows_figure

g = torch.Generator().manual_seed(1)
lo, hi = ae_codes.min(0).values, ae_codes.max(0).values
random_normal = torch.randn(10, 2, generator=g)  # (10, 2)
random_box = lo + (hi - lo) * torch.rand(10, 2, generator=g)  # (10, 2)
with torch.no_grad():
    show_ae = {"N(0, I) codes": torch.sigmoid(ae.decode(random_normal)),
               "codes in the box": torch.sigmoid(ae.decode(random_box))}
rows_figure(show_ae, title="a plain autoencoder decoding random codes")

# %% [markdown]
# Look at the two rows, then at the scatter below, whose cell prints what share of the test codes
# lie within radius 2 of the origin, where $\mathcal N(0, I)$ puts 86% of its draws. The codes
# spread over the range printed above, unevenly: clusters, sparse regions and **gaps** between
# classes. When that share is small, most $\mathcal N(0, I)$ codes land where no image was encoded,
# and the decoder improvises: similar shapes or smudges. The decoder has never been
# asked what to do in a gap, and nothing tells us where the codes are. A latent space we can sample from needs two properties:
# **continuity** (nearby codes decode to similar images) and **completeness** (every code from
# the sampling distribution decodes to something meaningful). Nothing in the plain AE's loss asks
# for either.

# %%
inside = (ae_codes.norm(dim=1) < 2).float().mean().item()
print(f"plain AE: {inside:.0%} of the test codes lie within radius 2 of the origin (N(0, I): 86%)")
codes_figure(ae_codes, y_test, data.classes, title="plain autoencoder: codes of the test images")

# %% [markdown]
# ## 2. The probabilistic encoder
#
# A VAE's encoder maps an image $x$ to the parameters of a Gaussian over codes,
#
# $$ q(z \mid x) = \mathcal N\big(z;\ \mu(x),\ \operatorname{diag}\sigma^2(x)\big), $$
#
# outputting two vectors of length $L$: the centre $\mu(x)$ and the **log-variance**
# $\log\sigma^2(x)$. The decoder takes a code $z$ and outputs one logit per pixel; $\sigma(\text
# {logit})$ is the probability that the pixel is ink (a Bernoulli decoder $p(x \mid z)$). The
# prior over codes is $p(z) = \mathcal N(0, I)$. The models live in `course_utils/vae.py`:
# `encode(x) -> (mu, logvar)`, `reparameterize(mu, logvar)`, `decode(z) -> logits`,
# `forward(x) -> (logits, mu, logvar)`.
#
# > **Misconception: shapes.** A batch of 3 images with latent size 10 gives `mu`, `logvar` and
# > `z` **all** of shape (3, 10): one row per image, one column per latent dimension.
#
# Here is the whole model, written out. The encoder has a shared body and **two heads**, one
# for $\mu$ and one for $\log\sigma^2$; the decoder is a plain MLP that outputs logits.

# %%
class MyVAE(nn.Module):
    def __init__(self, n_latent=10):
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(784, 400), nn.ReLU())  # (B, 400)
        self.to_mu = nn.Linear(400, n_latent)  # head 1: mu, (B, L)
        self.to_logvar = nn.Linear(400, n_latent)  # head 2: log sigma^2, (B, L)
        self.decoder = nn.Sequential(nn.Linear(n_latent, 400), nn.ReLU(), nn.Linear(400, 784))

    def forward(self, x):
        h = self.body(x)
        mu, logvar = self.to_mu(h), self.to_logvar(h)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)  # one sample (section 3)
        return self.decoder(z).view_as(x), mu, logvar


from course_utils.vae import VAE  # the course's version: the same layers, plus input checks

torch.manual_seed(0)
demo = VAE(784, hidden=(400,), n_latent=10)
n_mine = sum(p.numel() for p in MyVAE(10).parameters())
n_course = sum(p.numel() for p in demo.parameters())
print(f"parameters: MyVAE {n_mine:,} | course VAE {n_course:,} | same: {n_mine == n_course}")

# %% [markdown]
# The data flow for a batch of $B$ images with latent size $L$ (here the numbers of the 2-D and
# 20-D models trained below):

# %%
from course_utils.plots import flow_diagram_figure

flow_diagram_figure(
    stages=[("x", "(B, 1, 28, 28)"), ("encoder", "784 -> 400"), ("mu, logvar", "(B, L) each"),
            ("z", "mu + sigma * eps\n(B, L)"), ("decoder", "L -> 400 -> 784"),
            ("logits", "(B, 1, 28, 28)"), ("loss", "recon (B,) + KL (B,)\n-> mean: scalar")],
    arrows=["", "two heads", "eps ~ N(0, I)", "", "", "BCE vs x; KL from mu, logvar"],
    title="a VAE's forward pass and loss (B images, latent size L)",
)

# %%
x3 = x_test[:3]  # (3, 1, 28, 28)
mu, logvar = demo.encode(x3)
z = demo.reparameterize(mu, logvar)
print("x", tuple(x3.shape), "-> mu", tuple(mu.shape), "logvar", tuple(logvar.shape), "z", tuple(z.shape))

# %% [markdown]
# > **Misconception: $z$ is the distribution.** It is not: $z$ is **one sample** from
# > $q(z \mid x)$. Encode the same image twice and $\mu$ is identical, but each call to
# > `reparameterize` draws a different $z$.

# %%
g = torch.Generator().manual_seed(0)
z_a = demo.reparameterize(mu, logvar, generator=g)
z_b = demo.reparameterize(mu, logvar, generator=g)
print("same mu twice:", torch.equal(demo.encode(x3)[0], mu))
print("first image, first 4 dims: z_a", z_a[0, :4].detach().numpy().round(2),
      "z_b", z_b[0, :4].detach().numpy().round(2))

# %% [markdown]
# > **Misconception: the entries of $z$ are class probabilities.** They are coordinates, not
# > probabilities: they can be negative, they need not sum to 1, and the latent size (10 here)
# > has nothing to do with the 10 digit classes. Later in this lesson a 2-D code holds all ten
# > digits, and one with 20 dimensions does better still.

# %%
print("z of image 0:", z_a[0].detach().numpy().round(2))
print(f"sum {z_a[0].sum():.2f}, smallest {z_a[0].min():.2f}: not a probability vector")

# %% [markdown]
# > **Misconception: $\mu$ and $\sigma$ are parameters updated by backprop.** They are
# > **activations**: outputs of the encoder, recomputed for every input. The trainable parameters
# > are the weights and biases of the layers. The cell below checks it four ways.

# %%
mu, logvar = demo.encode(x3)
print("mu.grad_fn:", type(mu.grad_fn).__name__, "| mu is a leaf tensor:", mu.is_leaf)
print("mu is one of demo.parameters():", any(mu is p for p in demo.parameters()))
print("mu for image 0 and image 1 differ:", not torch.allclose(mu[0], mu[1]))
step_demo = torch.optim.SGD(demo.parameters(), lr=1e-3)
w_before, mu_before = demo.to_mu.weight.detach().clone(), mu.detach().clone()
demo(x3)[0].sum().backward()  # any loss; one optimizer step changes the WEIGHTS
step_demo.step()
demo.zero_grad()
mu_after = demo.encode(x3)[0].detach()
print(f"after one step: weights moved by {(demo.to_mu.weight - w_before).abs().max():.2e}, "
      f"mu of the same image moved by {(mu_after - mu_before).abs().max():.2e}")
torch.manual_seed(0)
demo = VAE(784, hidden=(400,), n_latent=10)  # back to the untouched model for what follows
mu, logvar = demo.encode(x3)

# %% [markdown]
# `mu` has a `grad_fn` (it was computed by a layer), is not a leaf, and is not in the parameter
# list: the optimizer never touches it. The cell shows its value for the *same* image changing
# after a step only because the weights under it changed.

# %% [markdown]
# > **Misconception: why log-variance and not $\sigma$?** A linear layer outputs any real number.
# > A standard deviation must be positive; $\log\sigma^2$ can be anything, and
# > $\sigma = \exp(\tfrac12 \log\sigma^2)$ is then positive automatically. It also spreads the
# > useful range evenly: variances from $10^{-4}$ to $1$ are log-variances from about $-9.2$ to
# > $0$, a range a layer reaches easily, where a raw $\sigma$ would need tiny, precise outputs.
# > A raw output used as $\sigma$ breaks as soon as it goes negative:

# %%
raw = torch.tensor([0.5, -0.2])  # what a linear layer might output
print("as log-variance -> sigma =", torch.exp(0.5 * raw).numpy().round(3), "(always positive)")
try:
    torch.distributions.Normal(torch.zeros(2), raw, validate_args=True)
except ValueError as err:
    print("as sigma -> ValueError:", str(err).split(" but")[0][:90])
print("log sigma^2 for variances 1e-4 .. 1:", torch.log(torch.tensor([1e-4, 1e-2, 1.0])).numpy().round(2))

# %% [markdown]
# ## 3. The reparameterization trick
#
# Training needs $\partial\,\text{loss} / \partial\,\text{weights}$, but the loss depends on a
# random draw $z \sim q(z \mid x)$. The trick writes the draw as a deterministic function of
# $\mu$ and $\sigma$ plus noise that depends on no weight:
#
# $$ z = \mu + \sigma \odot \varepsilon, \qquad \varepsilon \sim \mathcal N(0, I), \qquad
#    \sigma = \exp(\tfrac12 \log\sigma^2). $$
#
# Then $\partial z / \partial \mu = 1$ and $\partial z / \partial \log\sigma^2 = \tfrac12 \sigma
# \varepsilon$, and the chain rule carries on into the encoder's weights. Here it is in three
# lines, then the course's version:

# %%
def my_reparameterize(mu, logvar, generator=None):
    eps = torch.randn(mu.shape, generator=generator)  # noise: no weight inside
    return mu + torch.exp(0.5 * logvar) * eps        # (B, L)

from course_utils.vae import reparameterize  # same maths; follows the input's device

g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
print("same as the course's version:", torch.allclose(my_reparameterize(mu, logvar, g1), reparameterize(mu, logvar, g2)))

# %% [markdown]
# **Autograd check, done so that it can fail.** The full loss is no good test: its KL term
# depends on $\mu$ and $\log\sigma^2$ *directly*, so the encoder gets gradients from it even if
# $z$ were cut off. The trick exists for the other path, reconstruction -> decoder -> $z$ ->
# $\mu, \log\sigma^2$ -> encoder weights. So we backpropagate the **reconstruction term only**,
# through the real encoder, and read the gradient of `to_mu.weight` (the head that outputs
# $\mu$) for three ways of drawing $z$: the trick, `torch.normal(mu, sigma)` and
# `Normal(mu, sigma).sample()`. (`reconstruction_gradients` in `course_utils/elbo.py` is those few
# lines; read it.)

# %%
from course_utils.elbo import reconstruction_gradients

grad_norms = {}
for sampler in ("reparameterize", "torch.normal", "Normal.sample"):
    grad_norms[sampler] = reconstruction_gradients(demo, x3, sampler)
    print(f"{sampler:<15} |grad to_mu.weight| = {grad_norms[sampler]['to_mu.weight']:.4f}   "
          f"|grad to_logvar.weight| = {grad_norms[sampler]['to_logvar.weight']:.4f}")
only_trick = grad_norms["reparameterize"]["to_mu.weight"] > 0 and all(
    g["to_mu.weight"] == 0 for name, g in grad_norms.items() if name != "reparameterize")
print("the reconstruction reaches the encoder through the trick only:", only_trick)

# %% [markdown]
# The printed verdict answers it. `torch.normal` keeps $z$ in the graph, but autograd treats the
# draw as a constant, so the gradient it passes to $\mu$ is exactly zero; `.sample()` cuts $z$
# out of the graph, so nothing arrives at all. The course's unit tests run this same check, and
# also swap in a broken `reparameterize` (one that detaches its output) to see the check fail.
#
# > **Misconception: "without the trick, $\mu$ and $\sigma$ are just numbers."** They are still
# > computed by the encoder from $x$, in the graph. What is lost is the *reconstruction's*
# > gradient: only the KL term would train the encoder, and the KL alone is minimised by
# > $\mu = 0, \sigma = 1$ for every image, a code that says nothing about $x$.

# %% [markdown]
# ## 4. The ELBO: two terms in a tug of war
#
# We would like to maximise $\log p(x) = \log \int p(x\mid z)\,p(z)\,dz$, an intractable
# integral. For any density $q(z\mid x)$, since $p(x) = p(x\mid z)p(z)/p(z\mid x)$ for every $z$,
#
# $$ \log p(x) = \mathbb E_{q(z\mid x)}\Big[\log \frac{p(x\mid z)\,p(z)}{q(z\mid x)}\Big]
#    + \mathbb E_{q(z\mid x)}\Big[\log \frac{q(z\mid x)}{p(z\mid x)}\Big]
#    = \mathrm{ELBO}(x) + \mathrm{KL}\big(q(z\mid x)\,\|\,p(z\mid x)\big). $$
#
# The second KL compares the encoder with the true posterior $p(z\mid x)$; it is never negative,
# so the first term is a lower bound, the **evidence lower bound**, and the **gap** is exactly
# how far the encoder is from the true posterior. Splitting the ELBO's $\log$:
#
# $$ \mathrm{ELBO}(x) = \underbrace{\mathbb E_{q(z\mid x)}\big[\log p(x \mid z)\big]}_{\text{reconstruction}}
#    \;-\; \underbrace{\mathrm{KL}\big(q(z\mid x)\,\|\,p(z)\big)}_{\text{stay close to the prior}}. $$
#
# Raising the ELBO does two things at once: it raises $\log p(x)$ (a better model) and shrinks
# the gap (a better encoder). Section 6 measures the gap.
#
# We minimise the **negative** ELBO: reconstruction loss **plus** KL. The first term wants each
# $q(z\mid x)$ to be a narrow spike at a code that identifies $x$; the second pulls every
# $q(z \mid x)$ towards the same $\mathcal N(0, I)$, which closes the gaps between codes. The
# expectation is estimated with one sample $z$ per image.
#
# **The KL in closed form** (Kingma & Welling 2014, appendix B), for a diagonal Gaussian against
# $\mathcal N(0, I)$, summed over the $L$ latent dimensions:
#
# $$ \mathrm{KL} = \tfrac12 \sum_{j=1}^{L} \big( \mu_j^2 + \sigma_j^2 - \log\sigma_j^2 - 1 \big). $$
#
# Note $\sigma_j^2$, the variance, in two places. We check the formula against a Monte Carlo
# estimate, $\mathrm{KL} = \mathbb E_{q}[\log q(z) - \log p(z)]$, averaged over many samples,
# for three Gaussians of the kind a trained encoder outputs.

# %%
from torch.distributions import Normal, kl_divergence

from course_utils.losses import gaussian_kl_per_image

g = torch.Generator().manual_seed(0)
mu_k = torch.randn(3, 10, generator=g)  # (3, 10): centres and log-variances like those
logvar_k = -2.0 + 0.5 * torch.randn(3, 10, generator=g)  # of a trained encoder (sigma ~ 0.37)
closed = gaussian_kl_per_image(mu_k, logvar_k)  # (3,)
n_mc = course.pick(full=200_000, fast=50_000)
z_mc = reparameterize(mu_k.expand(n_mc, 3, 10), logvar_k.expand(n_mc, 3, 10), generator=g)
q, prior = Normal(mu_k, torch.exp(0.5 * logvar_k)), Normal(0.0, 1.0)
monte_carlo = (q.log_prob(z_mc) - prior.log_prob(z_mc)).sum(-1).mean(0)  # (3,)
torch_kl = kl_divergence(q, prior).sum(-1)
rel = ((monte_carlo - closed).abs() / closed).max().item()
print("closed form :", closed.numpy().round(4))
print("torch       :", torch_kl.numpy().round(4))
print(f"Monte Carlo : {monte_carlo.numpy().round(4)}  ({n_mc:,} samples)")
print(f"largest relative difference closed vs MC: {rel:.3%}")
assert rel < 0.01, "closed form and Monte Carlo should agree within 1%"

# %% [markdown]
# With the number of samples printed above they agree within a percent, and the closed form
# matches PyTorch's own `kl_divergence`. Two things a formula can get wrong, shown on the same
# numbers: writing $\sigma$ where $\sigma^2$ belongs, and flipping the sign. The KL is never
# negative; it is zero exactly when $\mu = 0$ and $\sigma = 1$.

# %%
sigma = torch.exp(0.5 * logvar_k)
wrong_sigma = 0.5 * (mu_k**2 + sigma - torch.log(sigma) - 1).sum(1)  # sigma where sigma^2 belongs
print("correct KL          :", closed.numpy().round(3))
print("with sigma, not s^2 :", wrong_sigma.numpy().round(3), "(a different number)")
print("KL at mu=0, logvar=0:", gaussian_kl_per_image(torch.zeros(1, 10), torch.zeros(1, 10)).item())

# %% [markdown]
# ### The reconstruction term is a likelihood
#
# **Bernoulli decoder.** Each pixel is ink with probability $p_i = \sigma(\text{logit}_i)$. For a
# **binary** image, $-\log p(x \mid z)$ is exactly the binary cross-entropy summed over pixels
# (lesson 01). MNIST pixels are **grey** levels in $[0, 1]$, and then BCE is a cross-entropy, not a
# likelihood: no decoder can bring it below the summed entropy of the pixels,
# $-\sum_i [x_i\log x_i + (1-x_i)\log(1-x_i)]$, reached at $p_i = x_i$ (`bce_floor_per_image`).
# So a BCE number on grey images mixes the model's error with a floor set by the data.

# %%
from course_utils.losses import bce_floor_per_image

floor = bce_floor_per_image(x_test).mean().item()
perfect = bce_per_image(torch.logit(x_test.clamp(1e-6, 1 - 1e-6)), x_test).mean().item()
print(f"BCE floor of these test images: {floor:.1f} nats/image; a 'perfect' decoder (p = x) scores {perfect:.1f}")
print(f"share of pixels that are neither 0 nor 1: {((x_test > 0) & (x_test < 1)).float().mean():.1%}")
try:
    bce_per_image(torch.zeros_like(x_test[:2]), 255 * x_test[:2])  # pixels left at 0-255
except ValueError as err:
    print("0-255 pixels into BCE ->", err)

# %% [markdown]
# The first line is the floor; a model that copied every grey level exactly would still score it.
# The last line is what you get for feeding unscaled 0-255 pixels to the loss: a clear error,
# because a "probability of ink" of 255 means nothing. Two honest ways to report a VAE on grey
# images: as **nats above the floor** (BCE minus the floor), or under a protocol where the pixels
# really are binary. Papers use the second, **dynamically binarized MNIST**: each pixel is drawn
# as 1 with probability equal to its grey level, afresh at every pass (`binarize` in
# `course_utils/vae.py`); then BCE is a true negative log-likelihood and the negative ELBO is an
# upper bound on $-\log p(x)$. Section 6 does both.
#
# **Gaussian decoder with a fixed standard deviation $s$** (we write $s$ to keep it apart from
# the encoder's $\sigma$). With mean $m_i$ for pixel $i$:
#
# $$ -\log p(x \mid z) = \sum_{i=1}^{D} \frac{(x_i - m_i)^2}{2 s^2} + D\big(\log s + \tfrac12\log 2\pi\big). $$
#
# The second part does not depend on the model. So "squared error times a weight $w$" **is** this
# likelihood with $w = 1/(2s^2)$: the weight says how much pixel noise the decoder assumes. The
# course writes $s$ as a visible argument, `mean_gaussian_nll_per_image(mean, x, sigma)`.

# %%

from course_utils.losses import mean_gaussian_nll_per_image, sse_per_image

mean = torch.sigmoid(demo(x3)[0].detach())  # (3, 1, 28, 28) decoder means of the untrained demo
for s in (1.0, 0.1):
    by_hand = sse_per_image(mean, x3).mean() / (2 * s**2) + 784 * (math.log(s) + 0.5 * math.log(2 * math.pi))
    torch_nll = -Normal(mean, s).log_prob(x3).flatten(1).sum(1).mean()
    print(f"s = {s}: mean_gaussian_nll_per_image {mean_gaussian_nll_per_image(mean, x3, s):9.2f} | by hand {by_hand:9.2f} | torch {torch_nll:9.2f}")

# %% [markdown]
# **The mysterious `* 1000`.** Many tutorials write `loss = 1000 * mse + kl` without a word. Read
# through the formula above, a weight $w$ on the summed squared error means a decoder noise of
# $s = \sqrt{1/(2w)}$; equivalently, dividing the whole loss by $w$ shows it is $\beta = 1/w$ on
# the KL (lesson 07). If the MSE is a *mean* over the 784 pixels, the weight per summed pixel is
# only $1000/784$. The numbers:

# %%
for label, w in (("1000 * summed SE", 1000.0), ("1000 * per-pixel MSE", 1000 / 784), ("plain SE", 1.0)):
    print(f"{label:<22} w = {w:8.3f} -> decoder noise s = {math.sqrt(1 / (2 * w)):.4f}, or beta = {1 / w:.4f}")

# %% [markdown]
# > **The course's VAE loss convention.** Nats per image: the reconstruction negative
# > log-likelihood **summed over pixels**, plus $\beta$ times the KL **summed over latent
# > dimensions**, both **averaged over the images of the batch**. With $\beta = 1$ and binary
# > pixels this is the negative ELBO; on grey pixels it is the same formula with a BCE floor
# > inside. It is `course_utils.vae.vae_loss`, and `VAEObjective` wraps it as an `objective` for
# > `fit` (`VAEObjective(binarize=True)` binarizes every batch afresh).
#
# ## 5. A VAE with a 2-D latent space
#
# Two latent dimensions are too few for good images, but they let us *see* the whole latent
# space. This model trains on the grey images, with the MLP written out in section 2
# (`VAE(784, hidden=(400,), n_latent=2)`), for a fixed number of optimizer steps.

# %%
from course_utils.elbo import negative_elbo
from course_utils.plots import history_figure
from course_utils.vae import VAEObjective

torch.manual_seed(0)
vae2 = VAE(784, hidden=(400,), n_latent=2).to(course.device)
hist2 = fit(vae2, x_train, x_test, objective=VAEObjective(), epochs=epochs_for(course.pick(full=1500, fast=250)),
            batch_size=128, lr=2e-3, verbose=False)
vae2 = vae2.cpu()
res2 = negative_elbo(vae2, x_test, generator=torch.Generator().manual_seed(0))
print(f"2-D VAE after {hist2.last('epoch')} epochs: test {res2['loss']:.1f} nats/image = "
      f"recon {res2['recon']:.1f} + KL {res2['kl']:.1f}")
print(f"recon is {res2['recon'] - floor:.1f} nats above the BCE floor ({floor:.1f}) of these grey images")
recon_drop = hist2["valid_recon"][0] - hist2["valid_recon"][-1]
kl_rise = hist2["valid_kl"][-1] - hist2["valid_kl"][0]
print(f"from the first to the last epoch: recon fell by {recon_drop:.1f}, KL rose by {kl_rise:.1f} nats -> "
      f"{'the two terms moved in opposite directions' if recon_drop > 0 and kl_rise > 0 else 'not a tug of war this time'}")
history_figure(hist2, keys=("loss", "recon", "kl"), title="2-D VAE: the loss and its two terms")

# %% [markdown]
# ("valid" in these panels is the test set, passed to `fit` for monitoring only.) Read the last
# printed line: usually the reconstruction term falls while the KL term *rises* from near zero,
# because every nat the encoder spends telling images apart (KL) buys a better reconstruction.
# That is the tug of war, measured; section 7 measures it again, with the KL's weight changing.
# The recon number is given twice: as BCE, and as nats above the floor of section 4, the part
# of it the model could still remove.
#
# **Mixing mean and sum, with a trained model's numbers.** The KL is a sum over latent
# dimensions. Average the reconstruction over pixels instead of summing it and you have silently
# multiplied the KL's weight by 784, and the KL takes over the loss:

# %%
recon_sum = res2["recon"]  # BCE summed over pixels, mean over images
recon_mean = recon_sum / 784  # BCE averaged over pixels
print(f"recon summed {recon_sum:.1f}, recon per pixel {recon_mean:.4f}, KL {res2['kl']:.2f}")
print(f"KL share of the loss: {res2['kl'] / (recon_sum + res2['kl']):.1%} (course convention) vs "
      f"{res2['kl'] / (recon_mean + res2['kl']):.1%} (per-pixel mean + summed KL)")

# %% [markdown]
# **The latent space.** Each test image's centre $\mu(x)$, coloured by digit, with some
# thumbnails. The KL term charges every code for wandering away from $\mathcal N(0, I)$, so
# after enough training the centres should sit around the origin at about unit scale, unlike the
# plain autoencoder's codes. The cell prints whether they do.

# %%
from course_utils.vae_views import encode_means

mu2 = encode_means(vae2, x_test)  # (N, 2)
centred = bool((mu2.mean(0).abs() < 0.5).all() and ((mu2.std(0) > 0.4) & (mu2.std(0) < 1.5)).all())
print("VAE codes: mean", mu2.mean(0).numpy().round(2), "std", mu2.std(0).numpy().round(2),
      "-> centred at unit scale:", centred)
print(f"within radius 2 of the origin: VAE {(mu2.norm(dim=1) < 2).float().mean():.0%} | plain AE {inside:.0%}")
codes_figure(mu2, y_test, data.classes, images=x_test, n_thumbnails=40,
             title="2-D VAE: mu(x) of the test images")

# %% [markdown]
# > **Misconception: "the distribution of $z$".** Three different distributions hide behind the
# > phrase. (1) The **posterior of one image**, $q(z\mid x) = \mathcal N(\mu(x), \sigma^2(x))$: a
# > small ellipse, one per image. (2) The **prior** $p(z) = \mathcal N(0, I)$, which we sample
# > from to make new images. (3) The **aggregate posterior** $q(z) = \frac1N\sum_n q(z\mid x_n)$,
# > the cloud of codes of the whole data set. The KL term pulls each ellipse towards the prior;
# > what matters for sampling is that the aggregate covers the prior. Left: ellipses of a few
# > images on top of all the centres; right: one $z$ per test image against the prior's circles.

# %%
from course_utils.vae_views import posterior_figure

g = torch.Generator().manual_seed(3)
mu_all, logvar_all = vae2.encode(x_test)  # (N, 2) each
z_agg = reparameterize(mu_all, logvar_all, generator=g).detach()  # one z per image: the aggregate
print(f"one image's q(z|x): average sigma {torch.exp(0.5 * logvar_all).mean():.2f} (prior: 1)")
print("aggregate posterior: mean", z_agg.mean(0).numpy().round(2), "covariance",
      torch.cov(z_agg.T).numpy().round(2).tolist(), "(prior: 0 and the identity)")
posterior_figure(vae2, x_test, y_test, n_ellipses=12, generator=torch.Generator().manual_seed(3))

# %% [markdown]
# Each ellipse is far narrower than the prior: one image's code is known quite precisely. The
# aggregate is what should resemble $\mathcal N(0, I)$; compare the printed mean and covariance with
# 0 and the identity, and the histogram with the red circles.
#
# > **Misconception: "if $\mu$ and $\sigma$ should follow $\mathcal N(0, I)$, why learn them?"**
# > Because it is the *aggregate* that should match the prior, not each image's posterior. An
# > encoder whose output is exactly $\mathcal N(0, I)$ for every $x$ makes the KL zero, and then
# > $z$ says nothing about $x$: the best the decoder can do is output the **average image**. Let
# > us build that encoder and see.

# %%
class IgnoresTheImage(VAE):
    def encode(self, x):
        zeros = torch.zeros(len(x), self.n_latent, device=x.device)
        return zeros, zeros  # mu = 0, log sigma^2 = 0: q(z|x) = N(0, I) for every x


torch.manual_seed(0)
blind = IgnoresTheImage(784, hidden=(400,), n_latent=2).to(course.device)
fit(blind, x_train, objective=VAEObjective(), epochs=epochs_for(course.pick(full=600, fast=100)),
    batch_size=128, lr=2e-3, verbose=False)
blind = blind.cpu()
res_blind = negative_elbo(blind, x_test, generator=torch.Generator().manual_seed(0))
from course_utils.vae_views import decode_images, reconstruct

blind_out = reconstruct(blind, x_test[:6], torch.Generator().manual_seed(0))  # (6, 1, 28, 28)
mean_image = x_train.mean(0, keepdim=True)  # (1, 1, 28, 28)
print(f"KL {res_blind['kl']:.2f} nats; test -ELBO {res_blind['loss']:.1f} vs {res2['loss']:.1f} for the 2-D VAE")
print(f"largest pixel difference, outputs vs the mean training image: {(blind_out - mean_image).abs().max():.3f}")
rows_figure({"input": x_test[:6], "decoded": blind_out, "mean image": mean_image.expand(6, -1, -1, -1)},
            title="an encoder that outputs N(0, I) for every image")

# %% [markdown]
# The KL printed is zero, and the decoded rows should match the mean training image (the printed
# largest difference says how closely): six different inputs, one output. This is also what
# **posterior collapse** (section 7) looks like when it is complete.
#
# **The decoded manifold.** Decode a 15 x 15 grid of codes. The grid is placed at the quantiles
# 0.05 ... 0.95 of $\mathcal N(0, 1)$ in each dimension, so every cell covers the same prior
# probability: this is the part of the latent space that sampling actually visits. Continuity
# means neighbouring cells look alike; the cell compares the pixel difference of neighbouring
# cells with that of two random test images.

# %%
from course_utils.vae_views import manifold_figure, manifold_grid

grid_images, _ = manifold_grid(vae2, n=15)  # (225, 1, 28, 28), row by row
tiles = grid_images.view(15, 15, -1)
neighbour_gap = (tiles[:, 1:] - tiles[:, :-1]).abs().mean().item()
perm = torch.randperm(len(x_test), generator=torch.Generator().manual_seed(0))
random_gap = (x_test - x_test[perm]).abs().mean().item()
print(f"mean pixel difference: neighbouring grid cells {neighbour_gap:.3f} | random test pairs {random_gap:.3f}")
manifold_figure(vae2, n=15, title="2-D VAE: decoded grid over N(0,1) quantiles")

# %% [markdown]
# In full mode on MNIST the grid usually shows digits morphing into each other, and neighbouring
# cells differ far less than random pairs do. After a fast-mode run, or on the small fallback
# digits, expect blurrier shapes and fewer distinct digits; the numbers above say how smooth the
# grid is either way.
#
# **Sampling new images, and the plain AE again.** Draw $z \sim \mathcal N(0, I)$ and decode, with
# the same random codes fed to the plain autoencoder's decoder. The cell measures the variety of
# each row (mean pixel difference between its images).

# %%
z_random = torch.randn(10, 2, generator=torch.Generator().manual_seed(1))  # (10, 2)
with torch.no_grad():
    ae_decoded = torch.sigmoid(ae.decode(z_random))
vae_decoded = decode_images(vae2, z_random)


def variety(images):
    return torch.cdist(images.flatten(1), images.flatten(1), p=1).mean().item() / 784


print(f"variety of the ten images: plain AE {variety(ae_decoded):.3f} | VAE {variety(vae_decoded):.3f} | "
      f"ten test images {variety(x_test[:10]):.3f}")
rows_figure({"plain AE": ae_decoded, "VAE": vae_decoded}, title="the same ten N(0, I) codes through two decoders")

# %% [markdown]
# The VAE was trained so that $\mathcal N(0, I)$ is where its codes live; the plain autoencoder
# was not, so its decoder meets most of these codes for the first time. Compare the printed
# variety with that of real test images.
#
# **Interpolation.** Encode two test digits, walk along the straight line between their $\mu$'s
# and decode each point.

# %%
from course_utils.vae_views import interpolate

pairs = [(0, 1), (4, 9), (3, 8)]
first = {c: int((y_test == c).nonzero()[0]) for pair in pairs for c in pair}  # first test image of each class
rows_figure({f"{a} -> {b}": interpolate(vae2, x_test[first[a]], x_test[first[b]], steps=10) for a, b in pairs},
            title="decoded straight lines between two codes")

# %% [markdown]
# **Sliders.** The static figure shows traversals: start from one test image's code, and move one
# latent dimension at a time from $-3$ to $3$ while the other stays put. Below it, one slider per
# latent dimension starts at that image's $\mu$ and decodes live.

# %%
from course_utils.vae_views import latent_view, traversal_figure

chosen = x_test[first[4]]  # (1, 28, 28)
traversal_figure(vae2, encode_means(vae2, chosen[None])[0], dims=[0, 1], span=3.0, steps=11)

# %% tags=["nbval-ignore-output"]
latent_view(vae2, chosen)

# ## 6. A larger latent space, for quality, under a true likelihood
#
# Two numbers per image lose detail. The classic model is a 784-400-20 MLP VAE (latent size 20).
# To report a number that *is* a bound on $-\log p(x)$, we train it on **dynamically binarized**
# images (`VAEObjective(binarize=True)`, a fresh Bernoulli draw of every pixel at every step) and
# test it on one fixed binarization of the test images, one latent sample per image.

# %%
from course_utils.elbo import importance_sampled_nll
from course_utils.vae import binarize

steps20 = course.pick(full=1500, fast=150)
torch.manual_seed(0)
vae20 = VAE(784, hidden=(400,), n_latent=20).to(course.device)
hist20 = fit(vae20, x_train, objective=VAEObjective(binarize=True), epochs=epochs_for(steps20),
             batch_size=128, lr=2e-3, verbose=False)
vae20 = vae20.cpu()
xb_test = binarize(x_test, torch.Generator().manual_seed(0))  # one fixed binary copy of the test set
res20 = negative_elbo(vae20, xb_test, generator=torch.Generator().manual_seed(0))
print(f"{len(x_train):,} training images ({'embedded fallback digits' if data.is_fallback else data.name}), "
      f"{hist20.last('epoch')} epochs, {course.mode} mode")
print(f"binarized test set: -ELBO {res20['loss']:.1f} nats/image (recon {res20['recon']:.1f} + KL {res20['kl']:.1f})")

# %% [markdown]
# **Measuring the gap.** Section 4 says $\log p(x) = \mathrm{ELBO} + \mathrm{KL}(q(z\mid x)\,\|\,
# p(z\mid x))$. An importance-sampled estimate with $k$ samples from $q$ (Burda et al. 2016),
# $\log \frac1k \sum_i p(x\mid z_i)p(z_i)/q(z_i\mid x)$, is a tighter bound that approaches
# $\log p(x)$ as $k$ grows; the difference to the ELBO is a lower estimate of the gap.

# %%
n_iw, k_iw = course.pick(full=500, fast=50), course.pick(full=500, fast=50)
g = torch.Generator().manual_seed(1)
iw_nll = importance_sampled_nll(vae20, xb_test[:n_iw], k=k_iw, generator=g).mean().item()
elbo_nll = negative_elbo(vae20, xb_test[:n_iw], generator=torch.Generator().manual_seed(0))["loss"]
print(f"{n_iw} binarized test images: -ELBO {elbo_nll:.1f} | importance sampled (k={k_iw}) {iw_nll:.1f} nats | "
      f"gap at least {elbo_nll - iw_nll:.1f} nats")

# %% [markdown]
# The gap printed is the price of the Gaussian encoder: the true posterior $p(z\mid x)$ is not
# exactly a diagonal Gaussian. (Published numbers for binarized MNIST come from this protocol, but
# with 60,000 training images, hundreds or thousands of epochs and importance sampling with
# thousands of samples; with the training set and budget printed above, ours are not comparable
# to them.)
#
# **Grey images: is Fashion-MNIST "harder"?** A tutorial comparing BCE numbers of MNIST and
# Fashion-MNIST mostly compares their **floors**: Fashion-MNIST has many more grey pixels. The
# cell computes both floors when the two data sets are available.

# %%
if data.is_fallback:
    print("embedded fallback in use: there is no second data set to compare; "
          f"the floor of these digits is {floor:.1f} nats/image")
else:
    for name in ("mnist", "fashion_mnist"):
        other = load_dataset(name, seed=course.seed, valid_fraction=0.0)
        print(f"{other.name}: {len(other.test.x):,} test images, BCE floor "
              f"{bce_floor_per_image(other.test.x).mean():.1f} nats/image")

# %% [markdown]
# A model's BCE on grey images can never go below the printed floor, so compare data sets, or a
# model with a tutorial's number, only as nats above the floor or on binarized images.
#
# ### A convolutional VAE, walked through
#
# The model of many tutorials is convolutional. The encoder is two stride-2 convolutions
# (lesson 03) followed by the same two heads; the decoder mirrors it with transposed
# convolutions. Written out:

# %%
c1, c2, n_latent = 16, 32, 16
conv_encoder = nn.Sequential(
    nn.Conv2d(1, c1, 4, stride=2, padding=1), nn.ReLU(),  # (B, 1, 28, 28) -> (B, 16, 14, 14)
    nn.Conv2d(c1, c2, 4, stride=2, padding=1), nn.ReLU(),  # -> (B, 32, 7, 7)
    nn.Flatten(),  # -> (B, 32 * 49 = 1568)
)
conv_heads = nn.Linear(c2 * 49, n_latent), nn.Linear(c2 * 49, n_latent)  # mu, logvar: (B, 16) each
conv_decoder = nn.Sequential(
    nn.Linear(n_latent, c2 * 49), nn.ReLU(), nn.Unflatten(1, (c2, 7, 7)),  # (B, 16) -> (B, 32, 7, 7)
    nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1), nn.ReLU(),  # -> (B, 16, 14, 14)
    nn.ConvTranspose2d(c1, 1, 4, stride=2, padding=1),  # -> (B, 1, 28, 28) logits
)
print("encoder output:", tuple(conv_encoder(x3).shape), "| decoder output:",
      tuple(conv_decoder(torch.zeros(3, n_latent)).shape))

# %% [markdown]
# `ConvVAE` in `course_utils/vae.py` holds exactly these layers. Its shape table (lesson 03's tool)
# lists every layer in call order, encoder, heads, then decoder, for a batch of 2:

# %%
from course_utils.conv import format_shape_table, shape_table
from course_utils.vae import ConvVAE

torch.manual_seed(0)
conv_vae = ConvVAE(n_latent=n_latent, channels=(c1, c2))
print(format_shape_table(shape_table(conv_vae, x_test[:2]), input_shape=tuple(x_test[:2].shape)))
n_written = sum(p.numel() for m in (conv_encoder, *conv_heads, conv_decoder) for p in m.parameters())
print(f"parameters: written out {n_written:,} | ConvVAE {sum(p.numel() for p in conv_vae.parameters()):,}")

# %%
conv_vae = conv_vae.to(course.device)
fit(conv_vae, x_train, objective=VAEObjective(binarize=True), epochs=epochs_for(course.pick(full=700, fast=60)),
    batch_size=128, lr=2e-3, verbose=False)
conv_vae = conv_vae.cpu()
res_conv = negative_elbo(conv_vae, xb_test, generator=torch.Generator().manual_seed(0))
print(f"binarized test -ELBO (nats/image): 20-D MLP {res20['loss']:.1f} | 16-D conv {res_conv['loss']:.1f} -> "
      f"{'the conv VAE' if res_conv['loss'] < res20['loss'] else 'the MLP VAE'} scores better with these budgets")

# %%
from course_utils.vae_views import prior_samples

g = torch.Generator().manual_seed(0)
rows_figure({"input": x_test[:10], "2-D MLP": reconstruct(vae2, x_test[:10], g),
             "20-D MLP": reconstruct(vae20, x_test[:10], g), "16-D conv": reconstruct(conv_vae, x_test[:10], g)},
            title="reconstructions (one z sample each; pixel means)")

# %%
g = torch.Generator().manual_seed(2)
rows_figure({"20-D MLP": prior_samples(vae20, 10, g), "16-D conv": prior_samples(conv_vae, 10, g)},
            title="new images: z ~ N(0, I), decoded")

# %% [markdown]
# Compare the rows yourself: with more latent dimensions reconstructions usually keep more
# detail than the 2-D model's, while samples gain less (many are stroke-like rather than clean
# digits). In 20 dimensions the aggregate posterior fills $\mathcal N(0, I)$ less completely than
# in 2, so a random code often lands where no image's $q(z \mid x)$ put much mass. More data,
# longer training and the $\beta$ of lesson 07 help. A transposed-convolution decoder can leave
# faint grid-like artefacts (lesson 03).
#
# **Traversals of the 20-D model.** Twenty sliders would be too many; we take the four dimensions
# whose $\mu_j(x)$ varies most across the test images (section 7 explains why some barely vary).

# %%
from course_utils.elbo import active_units

_, mu_var20 = active_units(vae20, x_test)
top4 = mu_var20.argsort(descending=True)[:4].tolist()
print("most used dimensions:", [d + 1 for d in top4], "Var mu:", mu_var20[top4].numpy().round(2))
traversal_figure(vae20, encode_means(vae20, chosen[None])[0], dims=top4, span=3.0, steps=11)

# %% tags=["nbval-ignore-output"]
latent_view(vae20, chosen, dims=top4)

# %% [markdown]
# ### Why VAE outputs look blurry
#
# The decoder shows a pixel's *mean*, $\sigma(\text{logit})$, and the mean is an average over all
# the images the decoder believes could sit at that code. Because the KL term makes the
# Gaussians $q(z\mid x)$ of different images overlap, a code is shared by several slightly
# different digits, and the best prediction (the one with the lowest expected BCE) is their
# average: a soft, blurry digit. We can see this directly in the 2-D model: take a code, find the
# 50 training images whose $\mu$ lies closest to it, and average them.

# %%
mu_train2 = encode_means(vae2, x_train)  # (N, 2)
probe = torch.tensor([[0.0, 0.0], [1.0, -0.5], [-1.0, 1.0], [0.5, 1.5]])  # (4, 2) codes
nearest = torch.cdist(probe, mu_train2).topk(50, largest=False).indices  # (4, 50)
neighbours_mean = x_train[nearest].mean(dim=1)  # (4, 50, 1, 28, 28) -> (4, 1, 28, 28)
decoded = decode_images(vae2, probe)
gap = (decoded - neighbours_mean).abs().mean().item()
one_gap = (decoded - x_train[nearest[:, 0]]).abs().mean().item()
print(f"mean absolute pixel difference of the decoded codes: to the average of 50 neighbours {gap:.3f}, "
      f"to the single nearest neighbour {one_gap:.3f}")
rows_figure({"decoded code": decoded, "mean of 50 neighbours": neighbours_mean,
           "one neighbour": x_train[nearest[:, 0]]}, title="a decoded code is close to an average of images")

# %% [markdown]
# When the first printed difference is the smaller one, the decoder's output is closer to an
# average of images than to any one of them, which is what blur is. More latent dimensions mean fewer images share a code, hence sharper
# reconstructions (compare the rows of the reconstruction figure); lowering the KL's weight
# helps too, at the price of worse samples. That trade-off is lesson 07's $\beta$-VAE.
#
# ## 7. Switched-off dimensions, posterior collapse and KL warm-up
#
# Two things are often mixed up.
#
# - **Switching off surplus dimensions.** A dimension costs KL as soon as $\mu_j(x)$ varies with
#   $x$ or $\sigma_j(x) < 1$. If the decoder gains less reconstruction from it than it costs,
#   the optimum sets $q(z_j\mid x) = \mathcal N(0, 1)$ for every $x$ and the decoder ignores
#   $z_j$. A 20-D MLP VAE on MNIST typically keeps only part of its 20 dimensions: this is the
#   ELBO doing its job (a kind of automatic model-size selection), not a failure.
# - **Posterior collapse.** The *whole* posterior matches the prior, $\mathrm{KL} \approx 0$,
#   although $z$ could have carried useful information: the decoder models the data without
#   looking at $z$. Section 5's encoder that ignores the image is the extreme case. It happens
#   with decoders powerful enough to do without $z$ (autoregressive ones, such as PixelCNN or an
#   LSTM text decoder), and is a failure of optimisation and model choice.
#
# The course uses **one** definition of an active dimension, Burda et al.'s (2016): unit $j$ is
# active when $\operatorname{Var}_x[\mu_j(x)] > 0.01$ (`active_units`).
#
# **KL warm-up** (or annealing) starts training with $\beta = 0$ and raises it linearly to 1, so
# the decoder learns to rely on $z$ before the KL term starts to pull. In the course it is a
# callback, `KLWarmup`, that sets the `beta` of the loss object before each step. We train the
# same 20-D model with warm-up over the first half of its steps, and measure.

# %%
from course_utils.elbo import kl_per_dimension
from course_utils.vae import KLWarmup
from course_utils.vae_views import kl_per_dimension_figure

objective = VAEObjective(beta=0.0, binarize=True)
torch.manual_seed(0)
vae_warm = VAE(784, hidden=(400,), n_latent=20).to(course.device)
hist_warm = fit(vae_warm, x_train, xb_test, objective=objective, epochs=epochs_for(steps20), batch_size=128,
                lr=2e-3, callbacks=[KLWarmup(objective, fraction=0.5)], verbose=False)
vae_warm = vae_warm.cpu()
res_warm = negative_elbo(vae_warm, xb_test, generator=torch.Generator().manual_seed(0))
half = max(0, len(hist_warm["valid_kl"]) // 2 - 1)  # the last epoch of the warm-up
kl_change = hist_warm["valid_kl"][-1] - hist_warm["valid_kl"][half]
recon_change = hist_warm["valid_recon"][-1] - hist_warm["valid_recon"][half]
print(f"beta at the end: {objective.beta}; from the end of warm-up (epoch {half + 1}) to the end: "
      f"KL {kl_change:+.1f} nats, recon {recon_change:+.1f} nats")
print("tug of war:", "KL fell while recon rose" if kl_change < 0 < recon_change else "not visible in this run")

# %% [markdown]
# (Here the "valid" history is the fixed binarized test copy.) While $\beta$ is small the encoder
# spends KL freely; as $\beta$ grows to 1 the KL term pulls it back and the reconstruction pays:
# the printed changes measure that pull. Now the two models side by side:

# %%
active = {}
for name, model, res in (("no warm-up", vae20, res20), ("KL warm-up", vae_warm, res_warm)):
    n_active, variances = active_units(model, x_test)
    active[name] = variances
    print(f"{name:<11}: binarized test -ELBO {res['loss']:.1f}, KL {res['kl']:.1f} nats, "
          f"active units {n_active} of 20")
for name, model in (("no warm-up", vae20), ("KL warm-up", vae_warm)):
    print(f"{name:<11} KL per dimension, sorted:",
          kl_per_dimension(model, x_test).sort(descending=True).values.numpy().round(2))
kl_per_dimension_figure(active, threshold=0.01, ylabel="Var over x of mu_j(x)")

# %% [markdown]
# Read the counts and the bars (log scale would not help: inactive units sit far below the
# dashed 0.01 line). The inactive dimensions of the model without warm-up are switched-off
# surplus dimensions, not a collapse: the model still has a large KL in total, spent on the
# active ones. Whether warm-up changes the count, and by how much it moves the negative ELBO, is
# what the printed lines say for this run; on MNIST-sized data with an MLP decoder the
# difference is usually small, because this decoder cannot do without $z$. Warm-up, "free bits"
# and a weaker decoder matter where collapse is real: powerful autoregressive decoders. (In fast
# mode, or on the fallback digits, the models are trained briefly and the counts are rough.)
#
# > **Common mistakes**
# > - *KL with the wrong sign, or subtracted.* The loss is reconstruction **plus** KL; the KL is
# >   never negative (section 4). If your KL goes negative, the formula is wrong.
# > - *$\sigma$ where $\sigma^2$ belongs* in $\tfrac12\sum(\mu^2 + \sigma^2 - \log\sigma^2 - 1)$.
# >   With `logvar`, $\sigma^2$ is `logvar.exp()` and $\log\sigma^2$ is `logvar` itself.
# > - *Mixing mean and sum.* A per-pixel mean for the reconstruction with a summed KL weights the
# >   KL 784 times more than you think; dividing the KL by batch x pixels does the opposite. Use
# >   one convention: nats per image.
# > - *An unexplained `* 1000` on the MSE.* A weight on the squared error is a decoder noise
# >   $s = \sqrt{1/(2w)}$, or a $\beta = 1/w$; say which.
# > - *Sampling with `torch.normal` or `.sample()`.* No reconstruction gradient reaches the
# >   encoder; use $\mu + \sigma\varepsilon$ (`reparameterize`). Test it with the
# >   reconstruction term alone: the KL term hides the bug.
# > - *Reading BCE on grey images as a likelihood.* It has a floor (the pixels' entropy); report
# >   nats above the floor, or train and test on binarized images.
# > - *Feeding 0-255 pixels to BCE.* Divide by 255 first (the course's losses refuse them).
# > - *Calling every inactive dimension "posterior collapse".* A 20-D VAE switching off surplus
# >   dimensions is the optimum; collapse is the whole posterior ignoring $x$.
# > - *Treating $\mu, \sigma$ as parameters.* They are encoder outputs; the weights are trained.
# > - *Applying a sigmoid inside the model and BCE-with-logits outside.* The VAE's decoder outputs
# >   logits; `sigmoid` only for pictures.
# > - *Hundreds of epochs for a 2-D MNIST VAE.* A few epochs from memory suffice (section 5).
#
# ## Summary
#
# - A plain autoencoder's latent space has gaps; random codes decode to smudges.
# - A VAE encodes $x$ as $q(z\mid x) = \mathcal N(\mu(x), \operatorname{diag}\sigma^2(x))$; the
#   encoder outputs $\mu$ and $\log\sigma^2$ (activations, shapes (B, L)); $z$ is one sample.
# - The reparameterization trick $z = \mu + \sigma\varepsilon$ lets gradients reach the encoder's
#   weights; a direct sample does not.
# - Loss = negative ELBO = reconstruction NLL (summed over pixels) + KL (summed over latent
#   dimensions), averaged over images: nats per image. The closed-form KL matches Monte Carlo.
# - $\log p(x) = \mathrm{ELBO} + \mathrm{KL}(q(z\mid x)\,\|\,p(z\mid x))$: the gap is the
#   encoder's error, measured with importance sampling.
# - BCE is a Bernoulli likelihood for binary pixels only; on grey pixels it has a floor. Squared
#   error is a Gaussian likelihood with fixed noise $s$, and a weight on it is $1/(2s^2)$.
# - Three distributions of $z$: one image's $q(z\mid x)$, the prior, and the aggregate posterior,
#   which is what should cover the prior.
# - The KL term makes the latent space continuous and complete (measured on the grid and the
#   samples). It also causes blur, and it switches off surplus dimensions; posterior collapse is
#   the whole posterior ignoring $x$.

# %% [markdown]
# **Exercise.** In the exercise you implement `reparameterize` and the closed-form Gaussian KL
# yourself, check them against Monte Carlo and against the reconstruction-only gradient test of
# section 3, and train a small VAE in nats per image.
#
# [Exercise 06](../exercises/06_variational_autoencoders.ipynb) [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ae-course/autoencoders-pca-to-vae/blob/main/exercises/06_variational_autoencoders.ipynb)

# %% [markdown]
# ## Quiz
#
# Check yourself: the questions cover this lesson's objectives and its misconceptions.

# %% tags=["nbval-ignore-output"]
from course_utils.quiz import show_quiz

show_quiz("06_variational_autoencoders")

# %% [markdown]
# Next: [07 · Beyond the vanilla VAE](07_beyond_the_vanilla_vae.ipynb): $\beta$-VAE, conditional
# VAEs, discrete latents and the road to latent diffusion.
