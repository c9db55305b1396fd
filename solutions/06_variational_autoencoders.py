# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: nbgrader,tags,-all
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
# # Exercise 06 · Variational autoencoders
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ae-course/autoencoders-pca-to-vae/blob/main/solutions/06_variational_autoencoders.ipynb)
#
# This exercise goes with [lesson 06](../notebooks/06_variational_autoencoders.ipynb). You write
# the heart of a VAE: the reparameterization trick, the closed-form KL to the prior, the loss in
# the course's convention, sampling new images from the prior, and interpolating between codes.
#
# **How the exercises work.**
# - Each task cell says `# YOUR CODE HERE` and `raise NotImplementedError()`. Replace those two
#   lines with your code; keep the `def` line, the function's name and its arguments.
# - Run the check cell right below the task. It prints one line: ✅ right, ❌ wrong (and what is
#   wrong), or ⏳ not attempted yet. It tests your code on random inputs you have not seen, so a
#   hard-coded answer fails, and it notices when you call the course's own version instead of
#   writing it.
# - "Predict, then run" questions: write your prediction BEFORE you run the cell that shows the
#   answer.
# - Do not delete or edit the check cells: your instructor grades with the original ones.
# - Check messages in Vietnamese: open this notebook's Vietnamese edition (the link above), or
#   run `%env COURSE_LANG=vi` in a cell and run the check again; `%env COURSE_LANG=en` switches
#   back to English.
#
# **Notation.** The encoder outputs, for every image, two vectors of length $L$ (the latent
# size): the mean `mu` and the log-variance `logvar` $= \log \sigma^2$. For a batch of $B$ images
# both have shape `(B, L)`. So $\sigma^2 = e^{\text{logvar}}$ is the variance and
# $\sigma = e^{\text{logvar}/2}$ the standard deviation.

# %%
# Setup (extra code): on Colab, install the course package; locally it is already installed.
# Colab already has every dependency, so --no-deps leaves its own torch and Jupyter untouched.
import sys

if "google.colab" in sys.modules:
    print("Colab: installing the course package from GitHub")
    # %pip install -q --no-deps "autoencoders-course @ git+https://github.com/ae-course/autoencoders-pca-to-vae"

# %%
import torch
import torch.nn.functional as F  # noqa: F401 - you will need it in your answers
from torch import Tensor, nn

from course_utils import setup_course

course = setup_course(seed=0)

# %% [markdown]
# ## Task 1 · Predict, then run (1 point)
#
# A VAE with latent size 10 encodes a batch of 3 images. The code `z` it passes to the decoder
# is drawn with the reparameterization trick from `mu` and `logvar`. What is the shape of `z`?
# Write it as a tuple into `predicted_shape`, run the check, then run the cell that shows it.

# %% nbgrader={"grade": false, "grade_id": "predict_z_shape", "locked": false, "schema_version": 3, "solution": true}
# Task predict_z_shape
predicted_shape = None  # your prediction: a tuple such as (4, 7)
# BEGIN SOLUTION
predicted_shape = (3, 10)  # one sample of L numbers per image
# END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "check_predict_z_shape", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course_utils.exercise_checks import check_prediction_z_shape

check_prediction_z_shape(predicted_shape)

# %%
# The answer: a real VAE of the course, latent size 10, on 3 images.
from course_utils.vae import VAE

vae = VAE(784, hidden=(64,), n_latent=10)
mu, logvar = vae.encode(torch.rand(3, 1, 28, 28))  # an untrained model is enough for shapes
z = vae.reparameterize(mu, logvar)  # the code the decoder receives
print("mu", tuple(mu.shape), "| logvar", tuple(logvar.shape), "| z", tuple(z.shape))
print("entries of z for the first image:", [round(v, 2) for v in z[0].tolist()])
print("their sum (no reason to be 1: they are not probabilities):", round(z[0].sum().item(), 2))


# %% [markdown]
# ## Task 2 · The reparameterization trick (2 points)
#
# Sampling $z \sim \mathcal N(\mu, \sigma^2)$ directly passes $\mu$ and $\sigma$ no useful
# gradient: `torch.normal` keeps $z$ in the graph but passes back exactly zero, and
# `.sample()` cuts $z$ out of the graph. The gradient of the expected reconstruction term still
# exists (the
# score-function, or REINFORCE, estimator gives it without bias), but with a variance so high
# that it needs many samples; the trick gives a low-variance gradient through the sample itself.
# Write the sample as a function of $\mu$ and $\sigma$, with all the randomness in a noise
# $\varepsilon$ that depends on no weight:
# $$ z = \mu + \sigma \odot \varepsilon, \qquad \sigma = e^{\text{logvar}/2}, \qquad
#    \varepsilon \sim \mathcal N(0, I) . $$
# Draw $\varepsilon$ from `generator` with `torch.randn(shape, generator=generator)`
# (`torch.randn_like` cannot take a generator). Mind which exponential gives the standard
# deviation. Do not use `torch.normal(mu, std)` (its gradient is exactly zero) or `course_utils.vae`.

# %% nbgrader={"grade": false, "grade_id": "reparameterize", "locked": false, "schema_version": 3, "solution": true}
# Task reparameterize
def reparameterize(mu: Tensor, logvar: Tensor, generator: torch.Generator) -> Tensor:
    """mu, logvar: (B, L) -> one sample z (B, L), differentiable in mu and logvar."""
    # BEGIN SOLUTION
    std = torch.exp(0.5 * logvar)  # sigma = sqrt(exp(logvar))
    eps = torch.randn(std.shape, generator=generator, dtype=std.dtype)  # N(0, I)
    return mu + std * eps
    # END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_reparameterize", "locked": true, "points": 2, "schema_version": 3, "solution": false}
from course_utils.exercise_checks import check_reparameterize

check_reparameterize(reparameterize)


# %% [markdown]
# ## Task 3 · The KL divergence to the prior (2 points)
#
# The prior is $p(z) = \mathcal N(0, I)$. For the encoder's diagonal Gaussian the KL has a closed
# form (Kingma and Welling 2014, appendix B), summed over the $L$ latent dimensions:
# $$ \mathrm{KL}\big(\mathcal N(\mu, \sigma^2) \,\|\, \mathcal N(0, I)\big)
#    = \frac12 \sum_{j=1}^{L} \left( \mu_j^2 + \sigma_j^2 - \log \sigma_j^2 - 1 \right). $$
# With `logvar` $= \log\sigma^2$ every term is easy to write. Return **one value per image**,
# shape `(B,)`: that is what the `_per_image` in the name promises. A KL is never negative, and
# it is 0 exactly when `mu = 0` and `logvar = 0`.

# %% nbgrader={"grade": false, "grade_id": "gaussian_kl", "locked": false, "schema_version": 3, "solution": true}
# Task gaussian_kl
def gaussian_kl_per_image(mu: Tensor, logvar: Tensor) -> Tensor:
    """mu, logvar: (B, L) -> KL(N(mu, exp(logvar)) || N(0, I)) per image, (B,)."""
    # BEGIN SOLUTION
    return 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1).sum(dim=1)  # (B, L) -> (B,)
    # END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_gaussian_kl", "locked": true, "points": 2, "schema_version": 3, "solution": false}
from course_utils.exercise_checks import check_gaussian_kl

check_gaussian_kl(gaussian_kl_per_image)

# %% [markdown]
# ### See it work: the closed form against a Monte Carlo estimate
#
# The KL is an expectation, $\mathbb E_{z \sim q}[\log q(z) - \log p(z)]$, so averaging
# $\log q(z) - \log p(z)$ over many samples $z$ drawn with YOUR `reparameterize` should approach
# YOUR closed form. The cell prints both for one made-up encoder output.

# %%
# See it work (extra code): closed-form KL vs a Monte Carlo average of log q(z) - log p(z).
mu1, logvar1 = torch.tensor([[0.5, -1.0, 2.0]]), torch.tensor([[0.3, -0.7, -1.5]])
n_samples = 100_000
samples = reparameterize(mu1.expand(n_samples, 3), logvar1.expand(n_samples, 3),
                         torch.Generator().manual_seed(0))  # (n_samples, 3)
q = torch.distributions.Normal(mu1, torch.exp(0.5 * logvar1))
p = torch.distributions.Normal(0.0, 1.0)
monte_carlo = (q.log_prob(samples) - p.log_prob(samples)).sum(dim=1).mean()
print(f"closed form {gaussian_kl_per_image(mu1, logvar1).item():.4f} | Monte Carlo {monte_carlo.item():.4f}")


# %% [markdown]
# ## Task 4 · The VAE loss in nats per image (2 points)
#
# The loss of a VAE is the negative ELBO. With a Bernoulli decoder that outputs **logits**, in
# the course's convention (sum over pixels and latent dimensions, then mean over the batch):
# $$ \mathcal L = \frac1B \sum_{b=1}^{B} \Big( \underbrace{\textstyle\sum_i \mathrm{BCE}(\text{logit}_{bi}, x_{bi})}_{\text{reconstruction}}
#    + \mathrm{KL}_b \Big). $$
# Use `F.binary_cross_entropy_with_logits(logits, x, reduction="none")` (it applies the sigmoid
# itself), sum each image's pixels (`.flatten(1).sum(dim=1)`), add your per-image KL, and
# average. Images may have any shape `(B, 1, H, W)`. Return a 0-dimensional tensor; do not call
# `course_utils.vae.vae_loss`.

# %% nbgrader={"grade": false, "grade_id": "vae_loss", "locked": false, "schema_version": 3, "solution": true}
# Task vae_loss
def vae_loss(logits: Tensor, x: Tensor, mu: Tensor, logvar: Tensor) -> Tensor:
    """logits, x: (B, ...) with x in [0, 1]; mu, logvar: (B, L) -> scalar, nats per image."""
    # BEGIN SOLUTION
    bce = F.binary_cross_entropy_with_logits(logits, x, reduction="none")  # (B, ...)
    recon = bce.flatten(1).sum(dim=1)  # (B,): summed over the pixels of each image
    return (recon + gaussian_kl_per_image(mu, logvar)).mean()
    # END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_vae_loss", "locked": true, "points": 2, "schema_version": 3, "solution": false}
from course_utils.exercise_checks import check_vae_loss

check_vae_loss(vae_loss)


# %% [markdown]
# ## Task 5 · Sampling from the prior (2 points)
#
# A trained VAE generates new images by decoding codes drawn from the **prior**, not from any
# encoder: $z \sim \mathcal N(0, I)$, shape `(n, n_latent)`, drawn from `generator`. The decoder
# returns logits; `torch.sigmoid` turns them into pixel means in $[0, 1]$, which is what we show.
# Sampling trains nothing, so wrap it in `with torch.no_grad():`.

# %% nbgrader={"grade": false, "grade_id": "sample_prior", "locked": false, "schema_version": 3, "solution": true}
# Task sample_prior
def sample_prior(decoder: nn.Module, n: int, n_latent: int, generator: torch.Generator) -> Tensor:
    """n codes from N(0, I), decoded: sigmoid(decoder(z)), without gradients."""
    # BEGIN SOLUTION
    with torch.no_grad():
        z = torch.randn(n, n_latent, generator=generator)  # (n, L) from the prior
        return torch.sigmoid(decoder(z))
    # END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_sample_prior", "locked": true, "points": 2, "schema_version": 3, "solution": false}
from course_utils.exercise_checks import check_sample_prior

check_sample_prior(sample_prior)


# %% [markdown]
# ## Task 6 · Latent interpolation (1 point)
#
# To morph one image into another, walk in a straight line between their codes $z_a$ and $z_b$
# (each of shape `(L,)`) and decode every point. Return `steps` codes as the rows of a
# `(steps, L)` tensor, evenly spaced, the first row exactly $z_a$ and the last exactly $z_b$:
# $$ z(t) = (1 - t)\, z_a + t\, z_b, \qquad t = 0, \tfrac{1}{\text{steps} - 1}, \dots, 1 . $$
# (`torch.linspace(0, 1, steps)` gives the $t$'s; broadcasting does the rest.)

# %% nbgrader={"grade": false, "grade_id": "interpolate", "locked": false, "schema_version": 3, "solution": true}
# Task interpolate
def interpolate(z_a: Tensor, z_b: Tensor, steps: int) -> Tensor:
    """z_a, z_b: (L,) -> (steps, L), from z_a to z_b, both included."""
    # BEGIN SOLUTION
    t = torch.linspace(0, 1, steps, dtype=z_a.dtype)[:, None]  # (steps, 1)
    return (1 - t) * z_a + t * z_b  # (steps, 1) * (L,) -> (steps, L)
    # END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_interpolate", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course_utils.exercise_checks import check_interpolate

check_interpolate(interpolate)

# %% [markdown]
# ### See it work: a short training run with your loss, then samples
#
# The cell trains a small dense VAE (latent size 2) for a short while with YOUR `reparameterize`
# and `vae_loss`, then decodes samples from the prior with YOUR `sample_prior` and a walk between
# two digits' codes with YOUR `interpolate`. Like the lesson, it counts optimizer steps, not
# epochs (1,500 steps, 100 in fast mode, whatever the size of the training set), and prints
# the average loss of the last steps in nats per image. In fast mode the run is too short for
# good digits; run the notebook in full mode for those.

# %%
# See it work (extra code): a 2-D VAE trained with your functions.
from course_utils.data import iterate_batches, load_dataset
from course_utils.plots import rows_figure

data = load_dataset("mnist")
torch.manual_seed(0)
encoder = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 2 * 2))
decoder = nn.Sequential(nn.Linear(2, 256), nn.ReLU(), nn.Linear(256, 784))
optimizer = torch.optim.Adam([*encoder.parameters(), *decoder.parameters()], lr=1e-3)
generator = torch.Generator().manual_seed(0)
steps, step, recent = course.pick(1500, 100), 0, []  # a budget in optimizer steps
while step < steps:
    for (xb,) in iterate_batches(data.train.x, batch_size=128, shuffle=True, generator=generator):
        mu, logvar = encoder(xb).chunk(2, dim=1)  # (B, 4) -> two (B, 2)
        logits = decoder(reparameterize(mu, logvar, generator)).view_as(xb)
        loss = vae_loss(logits, xb, mu, logvar)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        step, recent = step + 1, [*recent, loss.item()]
        if step % course.pick(300, 50) == 0:
            print(f"step {step}: {sum(recent) / len(recent):.1f} nats per image over the last {len(recent)} steps")
            recent = []
        if step == steps:
            break

samples = sample_prior(decoder, 8, 2, generator).view(-1, 1, 28, 28)
with torch.no_grad():
    codes = encoder(data.test.x[:2]).chunk(2, dim=1)[0]  # the means of two test digits
    walk = torch.sigmoid(decoder(interpolate(codes[0], codes[1], 8))).view(-1, 1, 28, 28)
rows_figure({"from the prior": samples, "interpolation": walk}, n=8)

# %% [markdown]
# ## Done
#
# These five functions are a whole VAE apart from the two networks. Back to
# [lesson 06](../notebooks/06_variational_autoencoders.ipynb), or on to
# [exercise 07](07_beyond_the_vanilla_vae.ipynb).
