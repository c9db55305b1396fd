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
# # Exercise 05 · Sparse autoencoders
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ae-course/autoencoders-pca-to-vae/blob/main/solutions/05_sparse_autoencoders.ipynb)
#
# This exercise goes with [lesson 05](../notebooks/05_sparse_autoencoders.ipynb). You write the
# two sparsity penalties of the lesson: the Bernoulli KL penalty on each unit's average
# activation, and the L1 penalty on the activations themselves.
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
from torch import Tensor

from course_utils import setup_course

course = setup_course(seed=0)

# %% [markdown]
# ## Task 1 · Predict, then run (1 point)
#
# A sparse autoencoder's code layer has 1024 sigmoid units, and a batch of 64 images gives codes
# `h` of shape `(64, 1024)`. The KL penalty looks at each unit's **average activation over the
# batch**, `q_hat = h.mean(dim=0)`. What is the shape of `q_hat`? Write it as a tuple into
# `predicted_shape`, run the check, then run the cell that computes it.

# %% nbgrader={"grade": false, "grade_id": "predict_rate_shape", "locked": false, "schema_version": 3, "solution": true}
# Task predict_rate_shape
predicted_shape = None  # your prediction: a tuple such as (3, 4)
# BEGIN SOLUTION
predicted_shape = (1024,)  # dim 0 (the images) is averaged away: one rate per unit
# END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "check_predict_rate_shape", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course_utils.exercise_checks import check_prediction_rate_shape

check_prediction_rate_shape(predicted_shape)

# %%
# The answer, computed.
h = torch.sigmoid(torch.randn(64, 1024))
print(tuple(h.mean(dim=0).shape))


# %% [markdown]
# ## Task 2 · The Bernoulli KL divergence (2 points)
#
# A unit's activation $h_j$ is a number in $(0, 1)$ computed from the image, not a random bit and
# not a probability (the 1,024 values of one image do not sum to 1). The KL penalty borrows the
# language of coins only for a unit's *mean* activation over images, $q$: it reads $q$ as if it
# were the probability of a coin coming up "on", and compares that coin with one of probability
# $p$, the target mean activation (e.g. 0.05), by the KL between two Bernoulli distributions.
# Only a reading: $q$ is a mean activation, not the share of images for which the unit is on
# (a mean of 0.05 can be many small activations). The formula:
# $$ \mathrm{KL}(p \,\|\, q) = p \log\frac{p}{q} + (1 - p) \log\frac{1 - p}{1 - q} . $$
# It is zero exactly when $q = p$ and grows without bound as $q$ approaches 0 or 1. Write
# `bernoulli_kl(p, q)` for a float `p` and a tensor `q` of any shape, returning one value per
# element of `q`. A sigmoid is never 0 in exact arithmetic, but in float32 it rounds to exactly 0
# for inputs below about $-90$, and a unit that does so for every image has $q = 0$ and
# $\log q = -\infty$: clamp `q` to $[10^{-6}, 1 - 10^{-6}]$ first so the result stays finite.
# The target $p$ comes first.

# %% nbgrader={"grade": false, "grade_id": "bernoulli_kl", "locked": false, "schema_version": 3, "solution": true}
# Task bernoulli_kl
def bernoulli_kl(p: float, q: Tensor) -> Tensor:
    """KL(Bernoulli(p) || Bernoulli(q)) for every element of q: same shape as q."""
    # BEGIN SOLUTION
    q = q.clamp(1e-6, 1 - 1e-6)
    return p * torch.log(p / q) + (1 - p) * torch.log((1 - p) / (1 - q))
    # END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_bernoulli_kl", "locked": true, "points": 2, "schema_version": 3, "solution": false}
from course_utils.exercise_checks import check_bernoulli_kl

check_bernoulli_kl(bernoulli_kl)


# %% [markdown]
# ## Task 3 · The KL sparsity penalty (2 points)
#
# For codes `h` of shape `(B, n)`, first average each unit over the batch,
# $\hat q_j = \frac1B \sum_b h_{bj}$, then **sum** the KL over the units:
# $$ \Omega_\text{KL}(h) = \sum_{j=1}^{n} \mathrm{KL}(p \,\|\, \hat q_j) . $$
# Averaging first is the point: one image may light a unit up fully, as long as most images do
# not. Return one number (a 0-dimensional tensor) that gradients can flow through. You may call
# your `bernoulli_kl`, not the course's. The name ends in `_per_batch`: the penalty is made from
# the batch's mean activations, one number for the whole batch, not a sum of per-image values.

# %% nbgrader={"grade": false, "grade_id": "kl_sparsity", "locked": false, "schema_version": 3, "solution": true}
# Task kl_sparsity
def kl_sparsity_penalty_per_batch(h: Tensor, p: float) -> Tensor:
    """h: (B, n) codes in (0, 1), p: target mean activation -> scalar sum_j KL(p || mean_b h_bj)."""
    # BEGIN SOLUTION
    q_hat = h.mean(dim=0)  # (B, n) -> (n,): each unit's average activation
    return bernoulli_kl(p, q_hat).sum()
    # END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_kl_sparsity", "locked": true, "points": 2, "schema_version": 3, "solution": false}
from course_utils.exercise_checks import check_kl_sparsity_penalty

check_kl_sparsity_penalty(kl_sparsity_penalty_per_batch)


# %% [markdown]
# ## Task 4 · The L1 activity penalty (2 points)
#
# The L1 penalty pushes every activation towards zero, image by image. In the course's
# convention (per image, then averaged over the batch):
# $$ \Omega_\text{L1}(h) = \frac1B \sum_{b=1}^{B} \sum_{j=1}^{n} |h_{bj}| . $$
# Use the absolute value: codes need not be positive in general. Return one number. The name
# says that reduction: `mean_` over the batch of a value `_per_image`.

# %% nbgrader={"grade": false, "grade_id": "l1_penalty", "locked": false, "schema_version": 3, "solution": true}
# Task l1_penalty
def mean_l1_penalty_per_image(h: Tensor) -> Tensor:
    """h: (B, n) -> scalar: sum over units of |h|, averaged over the batch."""
    # BEGIN SOLUTION
    return h.abs().sum(dim=1).mean()  # (B, n) -> (B,) -> ()
    # END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_l1_penalty", "locked": true, "points": 2, "schema_version": 3, "solution": false}
from course_utils.exercise_checks import check_l1_penalty

check_l1_penalty(mean_l1_penalty_per_image)

# %% [markdown]
# ### See it work: how the two penalties react to the mean activation
#
# Take 1024 units whose activation is the same value $q$ for every image of a batch of 64 (every
# activation equal to $q$) and a target mean activation $p = 0.05$. No trained model gives codes like these: they are a
# controlled case, chosen so that each unit's batch mean is exactly $q$ and you can check every
# printed number by hand (the L1 penalty is $1024\,q$, the KL one 1024 times
# $\mathrm{KL}(p \,\|\, q)$). The cell prints both penalties for a few values of $q$. Notice which penalty
# is zero at the target and which keeps pushing below it.
#
# Then make the codes less uniform, with the same mean $q$: in a few images each unit is fully
# on, in the rest not at all, `(torch.rand(64, 1024) < q).float()`. The second loop of the cell
# prints both penalties for such on/off codes, and how many units are off for all 64 images.
# Which penalty changes, and why? (Hint: the L1 penalty adds up single activations; the KL
# penalty sees only each unit's mean over the 64 images. Is that mean still exactly $q$?)
#
# **Answer** (read it after you have compared the lines): the L1 penalty hardly moves. It sums
# the activations, and on/off codes with mean $q$ have the same sum on average; only sampling
# noise changes it a little. The KL penalty rises, even at $q = p$, where it was 0. A unit's
# mean over 64 on/off values wobbles around $q$ from batch to batch, and the KL charges every
# wobble away from $p$ (the upward bias of section 2 of the lesson). A unit that is off for all
# 64 images has batch mean 0 and is charged at the clamp, as if it were dead; at $q = 0.01$
# that is the case for a large share of the units (printed), so the KL penalty grows most there.

# %%
# See it work (extra code): both penalties for codes whose every activation equals q ...
target = 0.05
for q in (0.0, 0.01, 0.05, 0.2, 0.5):
    codes = torch.full((64, 1024), q)
    kl = abs(kl_sparsity_penalty_per_batch(codes, target).item())  # abs: a KL is >= 0; no "-0.00" from rounding
    l1 = mean_l1_penalty_per_image(codes).item()
    print(f"q = {q:<5} KL penalty {kl:9.2f}   L1 penalty {l1:7.1f}")
# ... and for on/off codes with the same mean q: each activation is 1 with probability q, else 0
g = torch.Generator().manual_seed(0)
for q in (0.01, 0.05, 0.2):
    codes = (torch.rand(64, 1024, generator=g) < q).float()
    kl = kl_sparsity_penalty_per_batch(codes, target).item()
    l1 = mean_l1_penalty_per_image(codes).item()
    off = (codes.sum(dim=0) == 0).float().mean().item()  # units off for every image of the batch
    print(f"on/off, q = {q:<5} KL penalty {kl:9.2f}   L1 penalty {l1:7.1f}   units off for all 64 images {off:.0%}")

# %% [markdown]
# ## Done
#
# The KL penalty aims each unit's average at the target and leaves single activations free; the
# L1 penalty shrinks every activation of every image. Back to
# [lesson 05](../notebooks/05_sparse_autoencoders.ipynb), or on to
# [exercise 06](06_variational_autoencoders.ipynb).
