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
# # Exercise 07 · Beyond the vanilla VAE
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ae-course/autoencoders-pca-to-vae/blob/main/solutions/07_beyond_the_vanilla_vae.ipynb)
#
# This exercise goes with [lesson 07](../notebooks/07_beyond_the_vanilla_vae.ipynb). You give a
# VAE a label to condition on (a conditional VAE, CVAE) and write the beta-VAE loss, then train a
# small CVAE with both and ask it for a digit of your choice.
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
# ## Task 1 · Appending a one-hot label (2 points)
#
# A conditional VAE tells both of its networks which class an image belongs to. The label
# $y \in \{0, \dots, C - 1\}$ enters as a **one-hot** vector of length $C$ (a 1 at position $y$,
# zeros elsewhere), glued after the usual input:
# $$ [\,v,\ \mathrm{onehot}(y)\,] \in \mathbb R^{D + C}. $$
# Write `concat_one_hot(v, y, n_classes)` for a batch `v` of shape `(B, D)` and integer labels
# `y` of shape `(B,)`, returning `(B, D + C)` with the dtype of `v`. `F.one_hot(y, n_classes)`
# builds the one-hot rows (as integers: convert them); `torch.cat(..., dim=1)` glues.

# %% nbgrader={"grade": false, "grade_id": "cvae_concat", "locked": false, "schema_version": 3, "solution": true}
# Task cvae_concat
def concat_one_hot(v: Tensor, y: Tensor, n_classes: int) -> Tensor:
    """v: (B, D), y: (B,) integer labels -> (B, D + n_classes): [v, one_hot(y)]."""
    # BEGIN SOLUTION
    one_hot = F.one_hot(y, n_classes).to(v.dtype)  # (B,) -> (B, C)
    return torch.cat([v, one_hot], dim=1)  # (B, D + C)
    # END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_cvae_concat", "locked": true, "points": 2, "schema_version": 3, "solution": false}
from course_utils.exercise_checks import check_concat_one_hot

check_concat_one_hot(concat_one_hot)

# %% [markdown]
# ## Task 2 · Predict, then run (1 point)
#
# A CVAE for MNIST has 784 pixels, 10 classes and a latent size of 2. How many numbers does its
# **decoder** receive for each image? Write the number into `predicted_width`, run the check,
# then run the cell that builds lesson 07's CVAE and reads the width of its decoder's first
# layer.

# %% nbgrader={"grade": false, "grade_id": "predict_decoder_width", "locked": false, "schema_version": 3, "solution": true}
# Task predict_decoder_width
predicted_width = None  # your prediction: a whole number
# BEGIN SOLUTION
predicted_width = 2 + 10  # the code z and the one-hot label
# END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "check_predict_decoder_width", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course_utils.exercise_checks import check_prediction_decoder_width

check_prediction_decoder_width(predicted_width)

# %%
# The answer: the input width of the first layer of the course's CVAE decoder.
from course_utils.cvae import ConditionalVAE

cvae = ConditionalVAE(784, n_classes=10, n_latent=2)
print("decoder input width:", cvae.decoder[0].in_features)


# %% [markdown]
# ## Task 3 · The CVAE forward pass (2 points)
#
# Put it together. Given an `encoder` that maps `(B, D + C)` to `(mu, logvar)` and a `decoder`
# that maps `(B, L + C)` to logits `(B, D)`, write the forward pass for flat images `x` `(B, D)`
# and labels `y` `(B,)`:
#
# 1. the encoder reads the image AND its label: `mu, logvar = encoder([x, onehot(y)])`;
# 2. draw one code with the reparameterization trick, $z = \mu + e^{\text{logvar}/2} \odot
#    \varepsilon$, $\varepsilon$ from `generator`;
# 3. the decoder reads the code AND the label: `logits = decoder([z, onehot(y)])`.
#
# Return `(logits, mu, logvar)`. Use your `concat_one_hot` for steps 1 and 3.

# %% nbgrader={"grade": false, "grade_id": "cvae_forward", "locked": false, "schema_version": 3, "solution": true}
# Task cvae_forward
def cvae_forward(
    encoder: nn.Module,
    decoder: nn.Module,
    x: Tensor,
    y: Tensor,
    n_classes: int,
    generator: torch.Generator,
) -> tuple[Tensor, Tensor, Tensor]:
    """x: (B, D), y: (B,) -> logits (B, D), mu (B, L), logvar (B, L); both networks see y."""
    # BEGIN SOLUTION
    mu, logvar = encoder(concat_one_hot(x, y, n_classes))  # (B, D + C) -> (B, L), (B, L)
    eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype)
    z = mu + torch.exp(0.5 * logvar) * eps  # (B, L)
    return decoder(concat_one_hot(z, y, n_classes)), mu, logvar  # (B, L + C) -> (B, D)
    # END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_cvae_forward", "locked": true, "points": 2, "schema_version": 3, "solution": false}
from course_utils.exercise_checks import check_cvae_forward

check_cvae_forward(cvae_forward)


# %% [markdown]
# ## Task 4 · The beta-VAE loss (2 points)
#
# A beta-VAE weighs the KL term by $\beta$: with $\beta > 1$ every nat the code carries costs
# more, so the trained model keeps fewer nats of KL per image and reconstructs worse; $\beta < 1$
# the opposite. (Whether the codes of all images then match the prior better is a separate
# question: lesson 07 measures it two ways, a KL bracket and a prior-hole test, and they need
# not agree.) In the course's convention:
# $$ \text{recon} = \frac1B \sum_b \sum_i \mathrm{BCE}(\text{logit}_{bi}, x_{bi}), \quad
#    \text{kl} = \frac1B \sum_b \mathrm{KL}_b, \quad
#    \text{loss} = \text{recon} + \beta\, \text{kl}, $$
# with the per-image KL $\frac12 \sum_j (\mu_j^2 + e^{\text{logvar}_j} - \text{logvar}_j - 1)$.
# Return all three as 0-dimensional tensors: `(loss, recon, kl)`, with `kl` WITHOUT the $\beta$
# (so you can log both terms). Do not call `course_utils.vae.vae_loss`.

# %% nbgrader={"grade": false, "grade_id": "beta_vae_loss", "locked": false, "schema_version": 3, "solution": true}
# Task beta_vae_loss
def beta_vae_loss(
    logits: Tensor, x: Tensor, mu: Tensor, logvar: Tensor, beta: float
) -> tuple[Tensor, Tensor, Tensor]:
    """logits, x: (B, ...); mu, logvar: (B, L) -> (loss, recon, kl), nats per image."""
    # BEGIN SOLUTION
    bce = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    recon = bce.flatten(1).sum(dim=1).mean()  # sum over pixels, mean over images
    kl = 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1).sum(dim=1).mean()
    return recon + beta * kl, recon, kl
    # END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_beta_vae_loss", "locked": true, "points": 2, "schema_version": 3, "solution": false}
from course_utils.exercise_checks import check_beta_vae_loss

check_beta_vae_loss(beta_vae_loss)

# %% [markdown]
# ### See it work: a small CVAE trained with your functions
#
# The cell trains a small CVAE (latent size 2) on digits with YOUR `cvae_forward` and
# `beta_vae_loss` ($\beta = 1$), printing both terms per epoch, then decodes ONE style code as
# each digit you ask for: change `wanted` to the digits of your choice. As in the lesson, each batch is binarized afresh (every pixel 1 with probability
# its grey level), so the reconstruction term is a true negative log-likelihood and the printed
# numbers are nats per image (on grey pixels BCE is not a likelihood: lesson 06). In fast mode the training is too short for good digits; full mode gives
# recognisable ones.

# %%
# See it work (extra code): one style code, the digits you ask for.
from course_utils.data import iterate_batches, load_dataset
from course_utils.plots import images_figure

data = load_dataset("mnist")
n_classes, n_latent = 10, 2
torch.manual_seed(0)
mlp_encoder = nn.Sequential(nn.Linear(784 + n_classes, 256), nn.ReLU(), nn.Linear(256, 2 * n_latent))
encoder = lambda v: mlp_encoder(v).chunk(2, dim=1)  # noqa: E731 - (B, 2L) -> mu, logvar
decoder = nn.Sequential(nn.Linear(n_latent + n_classes, 256), nn.ReLU(), nn.Linear(256, 784))
optimizer = torch.optim.Adam([*mlp_encoder.parameters(), *decoder.parameters()], lr=1e-3)
generator = torch.Generator().manual_seed(0)
for epoch in range(course.pick(10, 1)):
    sums, n = torch.zeros(2), 0
    for xb, yb in iterate_batches(data.train.x, data.train.y, shuffle=True, generator=generator):
        flat = torch.bernoulli(xb.flatten(1), generator=generator)  # (B, 784): binarized afresh, as in the lesson
        logits, mu, logvar = cvae_forward(encoder, decoder, flat, yb, n_classes, generator)
        loss, recon, kl = beta_vae_loss(logits, flat, mu, logvar, beta=1.0)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        sums += torch.tensor([recon.item(), kl.item()]) * len(xb)
        n += len(xb)
    print(f"epoch {epoch + 1}: recon {sums[0] / n:.1f}, kl {sums[1] / n:.2f} nats per image")

wanted = torch.arange(n_classes)  # the digits to ask for: change to your choice, e.g. torch.tensor([3, 3, 7])
with torch.no_grad():
    style = torch.zeros(len(wanted), n_latent)  # the same code z = 0 for every digit asked for
    digits = torch.sigmoid(decoder(concat_one_hot(style, wanted, n_classes)))
images_figure(digits.view(-1, 1, 28, 28), titles=[str(c) for c in wanted.tolist()])

# %% [markdown]
# ## Done
#
# Conditioning is one concatenation in each network; beta is one factor on the KL. Back to
# [lesson 07](../notebooks/07_beyond_the_vanilla_vae.ipynb).
