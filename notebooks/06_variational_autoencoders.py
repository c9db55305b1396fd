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
# 3. implement the reparameterization trick and show with autograd that gradients reach the
#    encoder's weights through $\mu$ and $\log\sigma^2$, and not through a direct sample;
# 4. write the ELBO, its reconstruction and KL terms, the closed-form Gaussian KL, and check it
#    against a Monte Carlo estimate;
# 5. read the reconstruction term as a likelihood (BCE = Bernoulli, squared error = Gaussian with
#    a fixed variance) and explain what a weight on it means;
# 6. explore a 2-D latent space (scatter, manifold grid, samples, interpolation, sliders), measure
#    a larger VAE in nats per image, and explain blurry outputs and posterior collapse.

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
# measure on the official test images.

# %%
from course_utils.data import load_dataset

data = load_dataset(DATASET, seed=course.seed, valid_fraction=0.0)
x_train, y_train = data.train.x, data.train.y  # (N, 1, 28, 28) in [0, 1], (N,)
x_test, y_test = data.test.x, data.test.y

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
fit(ae, x_train, loss_fn=ReconstructionObjective(bce_per_image), epochs=course.pick(full=10, fast=2),
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
# Codes from $\mathcal N(0, I)$ give a few similar blurry shapes; codes from the box give some
# digits and some smudges or hybrids. The scatter shows why. The codes spread over the wide
# range printed above, unevenly: dense clusters, sparse regions and **gaps** between classes,
# and $\mathcal N(0, I)$ covers only a small patch in the middle. The decoder has never been
# asked what to do in a gap, and nothing tells us where the codes are. A latent space we can sample from needs two properties:
# **continuity** (nearby codes decode to similar images) and **completeness** (every code from
# the sampling distribution decodes to something meaningful). Nothing in the plain AE's loss asks
# for either.

# %%
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

# %%
from course_utils.vae import VAE

torch.manual_seed(0)
demo = VAE(784, hidden=(400,), n_latent=10)
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
# > are the weights and biases of the layers. The list of parameters contains no `mu` and no
# > `sigma`, and two different images get two different $\mu$ from the same weights.

# %%
for name, p in demo.named_parameters():
    print(f"{name:<20} {tuple(p.shape)}  trainable parameter: {isinstance(p, nn.Parameter)}")
print("mu for image 0 and image 1 differ:", not torch.allclose(mu[0], mu[1]))

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
# **Autograd check.** Push the three images through the VAE, compute the loss, and look at the
# gradients of the encoder's weights: the layer that produces $\mu$, the one that produces
# $\log\sigma^2$, and the shared first layer.

# %%
from course_utils.vae import vae_loss

demo.zero_grad()
logits, mu, logvar = demo(x3)
mu.retain_grad()
logvar.retain_grad()
loss, terms = vae_loss(logits, x3, mu, logvar)
loss.backward()
print(f"loss {loss.item():.1f} nats/image = recon {terms['recon']:.1f} + KL {terms['kl']:.2f}")
for name in ("to_mu.weight", "to_logvar.weight", "body.0.0.weight"):
    print(f"gradient norm of {name:<17}: {demo.get_parameter(name).grad.norm():.4f}")
print("mu.grad and logvar.grad exist (activations on the path):", mu.grad is not None, logvar.grad is not None)

# %% [markdown]
# Now the tempting alternative: draw $z$ directly with `torch.normal(mu, sigma)` or
# `Normal(mu, sigma).sample()`. The draw is not a differentiable function of $\mu$ in either
# case. `torch.normal` returns a tensor in the graph whose gradient is **zero**; `.sample()` is
# cut out of the graph altogether, and `backward` refuses to run.

# %%
mu_leaf = mu.detach().clone().requires_grad_()
logvar_leaf = logvar.detach().clone().requires_grad_()
z_direct = torch.normal(mu_leaf, torch.exp(0.5 * logvar_leaf))
(z_direct**2).sum().backward()
print("torch.normal: mu.grad is all zeros:", bool((mu_leaf.grad == 0).all()),
      "| logvar.grad all zeros:", bool((logvar_leaf.grad == 0).all()))
z_sample = torch.distributions.Normal(mu_leaf, torch.exp(0.5 * logvar_leaf)).sample()
try:
    z_sample.sum().backward()
except RuntimeError as err:
    print("Normal(...).sample():", str(err)[:70])
z_trick = reparameterize(mu_leaf, logvar_leaf)
mu_leaf.grad = None
(z_trick**2).sum().backward()
print(f"reparameterized: |mu.grad| = {mu_leaf.grad.norm():.3f} (not zero)")

# %% [markdown]
# ## 4. The ELBO: two terms in a tug of war
#
# We would like to maximise $\log p(x)$, but it is an intractable integral over $z$. For any
# encoder $q$ it has a lower bound, the **evidence lower bound**:
#
# $$ \log p(x) \;\ge\; \underbrace{\mathbb E_{q(z\mid x)}\big[\log p(x \mid z)\big]}_{\text{reconstruction}}
#    \;-\; \underbrace{\mathrm{KL}\big(q(z\mid x)\,\|\,p(z)\big)}_{\text{stay close to the prior}}
#    = \mathrm{ELBO}(x). $$
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

from course_utils.losses import gaussian_kl

g = torch.Generator().manual_seed(0)
mu_k = torch.randn(3, 10, generator=g)  # (3, 10): centres and log-variances like those
logvar_k = -2.0 + 0.5 * torch.randn(3, 10, generator=g)  # of a trained encoder (sigma ~ 0.37)
closed = gaussian_kl(mu_k, logvar_k)  # (3,)
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
print("KL at mu=0, logvar=0:", gaussian_kl(torch.zeros(1, 10), torch.zeros(1, 10)).item())

# %% [markdown]
# ### The reconstruction term is a likelihood
#
# **Bernoulli decoder.** Each pixel is ink with probability $p_i = \sigma(\text{logit}_i)$, and
# $-\log p(x \mid z)$ is exactly the binary cross-entropy summed over pixels (lesson 01).
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
import math

from course_utils.losses import mean_gaussian_nll_per_image, sse_per_image

mean = torch.sigmoid(logits.detach())  # (3, 1, 28, 28) decoder means
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
# > dimensions**, both **averaged over the images of the batch**. With $\beta = 1$ this is the
# > negative ELBO, the number papers report. It is `course_utils.vae.vae_loss`, and
# > `VAEObjective` wraps it as a `loss_fn` for `fit`.
#
# ## 5. A VAE with a 2-D latent space
#
# Two latent dimensions are too few for good images, but they let us *see* the whole latent
# space. A few epochs suffice when the data is batched from memory.

# %%
from course_utils.plots import history_figure
from course_utils.vae import VAEObjective, negative_elbo

torch.manual_seed(0)
vae2 = VAE(784, hidden=(400,), n_latent=2).to(course.device)
hist2 = fit(vae2, x_train, x_test, loss_fn=VAEObjective(), epochs=course.pick(full=15, fast=3),
            batch_size=128, lr=1e-3, verbose=False)
vae2 = vae2.cpu()
res2 = negative_elbo(vae2, x_test, generator=torch.Generator().manual_seed(0))
print(f"2-D VAE, test: {res2['loss']:.1f} nats/image = recon {res2['recon']:.1f} + KL {res2['kl']:.1f}")
history_figure(hist2, keys=("loss", "recon", "kl"), title="2-D VAE: the loss and its two terms")

# %% [markdown]
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
# ("valid" in these panels is the test set, passed to `fit` for monitoring only.) The
# reconstruction term falls steadily. The KL term does not go to zero: it settles at a few nats
# per image, the price the encoder pays for codes that tell images apart. Pushing it lower would
# cost reconstruction, pushing reconstruction lower would cost KL: that is the tug of war,
# measured.
#
# **The latent space.** Each test image's centre $\mu(x)$, coloured by digit, with some
# thumbnails. Compare the printed mean and spread with the plain autoencoder's range in
# section 1: after full training the codes fill a roughly round region around the origin, of
# about unit scale, because the KL term charges every code for wandering away from
# $\mathcal N(0, I)$. (In fast mode, after three short epochs, the cloud may still sit off
# centre.)

# %%
from course_utils.vae_views import encode_means

mu2 = encode_means(vae2, x_test)  # (N, 2)
print("VAE codes: mean", mu2.mean(0).numpy().round(2), "std", mu2.std(0).numpy().round(2))
codes_figure(mu2, y_test, data.classes, images=x_test, n_thumbnails=40,
           title="2-D VAE: mu(x) of the test images")

# %% [markdown]
# **The decoded manifold.** Decode a 15 x 15 grid of codes. The grid is placed at the quantiles
# 0.05 ... 0.95 of $\mathcal N(0, 1)$ in each dimension, so every cell covers the same prior
# probability: this is the part of the latent space that sampling actually visits. Digits morph
# smoothly into each other: continuity and completeness.

# %%
from course_utils.vae_views import manifold_figure

manifold_figure(vae2, n=15, title="2-D VAE: decoded grid over N(0,1) quantiles")

# %% [markdown]
# **Sampling new digits, and the plain AE again.** Draw $z \sim \mathcal N(0, I)$ and decode, with
# the same random codes fed to the plain autoencoder's decoder.

# %%
from course_utils.vae_views import decode_images

z_random = torch.randn(10, 2, generator=torch.Generator().manual_seed(1))  # (10, 2)
with torch.no_grad():
    ae_decoded = torch.sigmoid(ae.decode(z_random))
rows_figure({"plain AE": ae_decoded, "VAE": decode_images(vae2, z_random)},
          title="the same ten N(0, I) codes through two decoders")

# %% [markdown]
# The same ten codes: the plain autoencoder turns them into a few variations of one blurry
# shape, the VAE into a variety of digits, because the VAE was trained so that
# $\mathcal N(0, I)$ is where its codes live.

# %% [markdown]
# **Interpolation.** Encode two test digits, walk along the straight line between their $\mu$'s
# and decode each point. In a VAE every point on the way decodes to something digit-like.

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

# %% [markdown]
# ## 6. A larger latent space, for quality
#
# Two numbers per image lose detail. The classic recipe is a 784-400-20 MLP VAE (latent size 20),
# batches of 128, Adam, 10 epochs, and the test loss reported as the negative ELBO in nats per
# image with one latent sample per image. The classic learning rate is $10^{-3}$; with only 10
# epochs, $2 \times 10^{-3}$ gets further, so we use that. We run it on MNIST and on
# Fashion-MNIST, and time the Fashion-MNIST run (60,000 training images in full mode).

# %%
torch.manual_seed(0)
vae20 = VAE(784, hidden=(400,), n_latent=20).to(course.device)
hist20 = fit(vae20, x_train, loss_fn=VAEObjective(), epochs=course.pick(full=10, fast=2),
             batch_size=128, lr=2e-3, verbose=False)
vae20 = vae20.cpu()
res20 = negative_elbo(vae20, x_test, generator=torch.Generator().manual_seed(0))
print(f"{data.name}, {len(x_train):,} training images, {hist20.last('epoch')} epochs ({course.mode} mode)")
print(f"test negative ELBO: {res20['loss']:.1f} nats/image (recon {res20['recon']:.1f} + KL {res20['kl']:.1f})")
if not course.fast and DATASET == "mnist":
    print("reference for MNIST (10 epochs): 122 or lower ->", "met" if res20["loss"] <= 122 else "NOT met")

# %%
import os
import time

fashion = load_dataset("fashion_mnist", seed=course.seed, valid_fraction=0.0)
torch.manual_seed(0)
vae_f = VAE(784, hidden=(400,), n_latent=20).to(course.device)
load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
start = time.perf_counter()
fit(vae_f, fashion.train.x, loss_fn=VAEObjective(), epochs=course.pick(full=10, fast=2),
    batch_size=128, lr=2e-3, verbose=False)
seconds = time.perf_counter() - start
vae_f = vae_f.cpu()
res_f = negative_elbo(vae_f, fashion.test.x, generator=torch.Generator().manual_seed(0))
print(f"Fashion-MNIST: {len(fashion.train.x):,} training images, {seconds:.0f} s on {torch.get_num_threads()} threads "
      f"(load average {load_before:.1f} at the start)")
print(f"test negative ELBO: {res_f['loss']:.1f} nats/image (recon {res_f['recon']:.1f} + KL {res_f['kl']:.1f})")
if not course.fast:
    print("reference for Fashion-MNIST (10 epochs): 243.9 or lower ->", "met" if res_f["loss"] <= 243.9 else "NOT met")

# %% [markdown]
# In full mode the cells compare these numbers with the course's reference points for this
# recipe (MNIST 122 or lower, Fashion-MNIST 243.9 or lower) and say whether they were met.
# Fashion-MNIST costs more nats than MNIST: its images have texture and grey levels that
# a Bernoulli decoder finds harder to predict. In fast mode the numbers are rough: a few
# thousand images and two epochs.
#
# **A convolutional VAE.** Same interface, convolutional encoder and transposed-convolution
# decoder (`ConvVAE` in `course_utils/vae.py`), latent size 16.

# %%
from course_utils.vae import ConvVAE

torch.manual_seed(0)
conv_vae = ConvVAE(n_latent=16, channels=(16, 32)).to(course.device)
fit(conv_vae, x_train, loss_fn=VAEObjective(), epochs=course.pick(full=10, fast=2),
    batch_size=128, lr=1e-3, verbose=False)
conv_vae = conv_vae.cpu()
res_conv = negative_elbo(conv_vae, x_test, generator=torch.Generator().manual_seed(0))
print(f"{data.name} test negative ELBO (nats/image): 2-D MLP {res2['loss']:.1f} | "
      f"20-D MLP {res20['loss']:.1f} | 16-D conv {res_conv['loss']:.1f}")

# %%
from course_utils.vae_views import prior_samples, reconstruct

g = torch.Generator().manual_seed(0)
rows_figure({"input": x_test[:10], "2-D MLP": reconstruct(vae2, x_test[:10], g),
           "20-D MLP": reconstruct(vae20, x_test[:10], g), "16-D conv": reconstruct(conv_vae, x_test[:10], g)},
          title="reconstructions (one z sample each)")

# %%
g = torch.Generator().manual_seed(2)
rows_figure({"20-D MLP": prior_samples(vae20, 10, g), "16-D conv": prior_samples(conv_vae, 10, g)},
          title="new images: z ~ N(0, I), decoded")

# %% [markdown]
# Reconstructions improve a lot with more latent dimensions, samples less so: many are
# digit-like strokes rather than clean digits. In 20 dimensions the codes of the training images
# fill $\mathcal N(0, I)$ far less completely than in 2, so a random code often lands where no
# training image's $q(z \mid x)$ put much mass, and the decoder improvises. More data and longer
# training help (in full mode this lesson uses the 8,000-image split when only the MNIST test
# files are on disk), as does the $\beta$ of lesson 07. The convolutional decoder can also leave
# faint grid-like artefacts from its transposed convolutions (lesson 03).

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
print(f"mean absolute pixel difference, decoded vs average of 50 neighbours: {gap:.3f}")
rows_figure({"decoded code": decoded, "mean of 50 neighbours": neighbours_mean,
           "one neighbour": x_train[nearest[:, 0]]}, title="a decoded code is close to an average of images")

# %% [markdown]
# The decoded images and the averages of their neighbours look alike, and both are softer than
# any single neighbour. More latent dimensions mean fewer images share a code, hence sharper
# reconstructions (compare the rows of the reconstruction figure); lowering the KL's weight
# helps too, at the price of worse samples. That trade-off is lesson 07's $\beta$-VAE.
#
# ## 7. Posterior collapse and KL warm-up
#
# The KL term can be driven to zero for a latent dimension by making $q(z_j \mid x) = \mathcal
# N(0, 1)$ for **every** $x$: the dimension then carries no information and the decoder learns to
# ignore it. When that happens to useful dimensions it is called **posterior collapse**. A
# dimension's average KL tells us whether it is used; so does the variance of $\mu_j(x)$ across
# images ("active units", Burda et al. 2016: active when above 0.01).
#
# **KL warm-up** (or annealing) starts training with $\beta = 0$ and raises it linearly to 1, so
# the decoder learns to rely on $z$ before the KL term starts to pull. In the course it is a
# callback, `KLWarmup`, that changes the `beta` of the loss object before each step. We compare
# the 20-D VAE above with the same model trained with warm-up over the first half of training.

# %%
from course_utils.vae import KLWarmup, active_units, kl_per_dimension

objective = VAEObjective(beta=0.0)
epochs20 = course.pick(full=10, fast=2)
torch.manual_seed(0)
vae_warm = VAE(784, hidden=(400,), n_latent=20).to(course.device)
fit(vae_warm, x_train, loss_fn=objective, epochs=epochs20, batch_size=128, lr=2e-3,
    callbacks=[KLWarmup(objective, warmup=0.5)], verbose=False)
vae_warm = vae_warm.cpu()
res_warm = negative_elbo(vae_warm, x_test, generator=torch.Generator().manual_seed(0))
print(f"beta at the end of training: {objective.beta}")

# %%
from course_utils.vae_views import kl_per_dimension_figure

per_dim = {"no warm-up": kl_per_dimension(vae20, x_test), "KL warm-up": kl_per_dimension(vae_warm, x_test)}
for name, model, res in (("no warm-up", vae20, res20), ("KL warm-up", vae_warm, res_warm)):
    n_active, _ = active_units(model, x_test)
    print(f"{name:<11}: test -ELBO {res['loss']:.1f}, KL {res['kl']:.1f} nats, "
          f"active units {n_active} of 20, dims with KL > 0.01: {int((per_dim[name] > 0.01).sum())}")
for name, kl in per_dim.items():
    print(f"{name:<11} KL per dimension, sorted:", kl.sort(descending=True).values.numpy().round(2))
kl_per_dimension_figure(per_dim, threshold=0.5)

# %% [markdown]
# Read the bars from left to right (each panel's title counts the dimensions above 0.5 nats).
# Without warm-up, information is spread unevenly: the dimensions at the right end of the left
# panel carry far less KL than the rest. They are on their way to **collapse**: with longer
# training such a dimension's KL keeps falling towards zero and the decoder learns to ignore it.
# With warm-up the decoder learned to use every dimension before the KL term began to pull, so
# the right panel's KL is spread more evenly. Compare the printed sorted values and the test
# numbers of the two models: warm-up changes *how* the information is distributed much more than
# the negative ELBO. (In fast mode the models are barely trained and the picture is rough.) Collapse becomes severe with powerful decoders (autoregressive ones, such
# as PixelCNN or an LSTM text decoder) that can model the data without looking at $z$; warm-up,
# "free bits" and a weaker decoder are the usual remedies.
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
# > - *Sampling with `torch.normal` or `.sample()`.* No gradient reaches the encoder; use
# >   $\mu + \sigma\varepsilon$ (`reparameterize`).
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
# - BCE is a Bernoulli likelihood; squared error is a Gaussian one with fixed noise $s$, and a
#   weight on it is $1/(2s^2)$.
# - The KL term makes the latent space continuous and complete: grids, samples and
#   interpolations decode to digits. It also causes blur and, per dimension, collapse.

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
