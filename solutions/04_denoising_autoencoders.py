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
# # Exercise 04 · Denoising autoencoders
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ae-course/autoencoders-pca-to-vae/blob/main/solutions/04_denoising_autoencoders.ipynb)
#
# This exercise goes with [lesson 04](../notebooks/04_denoising_autoencoders.ipynb). You write
# the three corruptions of the lesson, each driven by an explicit random generator, the PSNR
# that measures how close a picture is to the clean one, and the loss a denoising autoencoder
# trains on.
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
# **Randomness with a generator.** Every corruption takes `generator=`, a `torch.Generator`. Draw
# ALL random numbers from it, e.g. `torch.rand(x.shape, generator=generator)`; then the same
# generator state gives the same noise, whatever else ran before. `torch.randn_like(x)` and
# `torch.rand_like(x)` cannot take a generator: they use the global one, and the check notices.
# Never modify `x` itself (`x += ...`, `x.clamp_(...)`, `x[mask] = 0`): build a new tensor.
# A generator draws on its own device (a `torch.Generator()` on the CPU), so draw there and move
# the draw to x's device: `torch.rand(x.shape, generator=generator,
# device=generator.device).to(x.device)`; then the same code also runs on images on a GPU.
#
# **Which data.** This exercise loads MNIST digits, the lesson used Fashion-MNIST clothes: the
# functions you write work on any images in $[0, 1]$, whichever set is loaded.

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
from course_utils.data import load_dataset

course = setup_course(seed=0)
data = load_dataset("mnist")


# %% [markdown]
# ## Task 1 · Gaussian noise (2 points)
#
# Add independent Gaussian noise with standard deviation `std` to every pixel, then **clip** the
# result back into $[0, 1]$, the range of an image:
# $$ \tilde x = \mathrm{clip}(x + \sigma \varepsilon,\ 0,\ 1), \qquad \varepsilon \sim \mathcal N(0, 1). $$
# `std` is the standard deviation, not the variance. Clip with `.clamp(0, 1)` AFTER adding the
# noise; do not rescale the values.

# %% nbgrader={"grade": false, "grade_id": "gaussian_noise", "locked": false, "schema_version": 3, "solution": true}
# Task gaussian_noise
def add_gaussian_noise(x: Tensor, std: float, generator: torch.Generator) -> Tensor:
    """x: images of any shape in [0, 1] -> same shape, Gaussian noise of std `std`, clipped."""
    # BEGIN SOLUTION
    eps = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=generator.device)
    eps = eps.to(x.device)  # N(0, 1), shaped like x, drawn where the generator lives
    return (x + std * eps).clamp(0.0, 1.0)
    # END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_gaussian_noise", "locked": true, "points": 2, "schema_version": 3, "solution": false}
from course_utils.exercise_checks import check_gaussian_noise

check_gaussian_noise(add_gaussian_noise)


# %% [markdown]
# ## Task 2 · Masking noise (2 points)
#
# Set each pixel to 0 independently with probability `p` and keep the others **unchanged**.
# Unlike `nn.Dropout`, do not divide the kept pixels by $1 - p$: we want an image with holes,
# not one whose brightness is preserved. (Hint: compare one uniform random number per pixel
# with `p`.)

# %% nbgrader={"grade": false, "grade_id": "masking_noise", "locked": false, "schema_version": 3, "solution": true}
# Task masking_noise
def mask_pixels(x: Tensor, p: float, generator: torch.Generator) -> Tensor:
    """x: images in [0, 1] -> same shape, each pixel set to 0 with probability p."""
    # BEGIN SOLUTION
    u = torch.rand(x.shape, generator=generator, device=generator.device).to(x.device)
    keep = u >= p  # True with probability 1 - p
    return x * keep
    # END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_masking_noise", "locked": true, "points": 2, "schema_version": 3, "solution": false}
from course_utils.exercise_checks import check_masking_noise

check_masking_noise(mask_pixels)


# %% [markdown]
# ## Task 3 · Salt-and-pepper noise (2 points)
#
# With probability `p` a pixel is **hit** and replaced by 0 (pepper) or 1 (salt), each with equal
# chance; the other pixels keep their value. So about $p/2$ of the pixels become 1 and $p/2$
# become 0. One uniform number $u$ per pixel can decide both: hit when $u < p$, salt when
# $u < p/2$.

# %% nbgrader={"grade": false, "grade_id": "salt_and_pepper", "locked": false, "schema_version": 3, "solution": true}
# Task salt_and_pepper
def salt_and_pepper(x: Tensor, p: float, generator: torch.Generator) -> Tensor:
    """x: images in [0, 1] -> same shape; a share p of the pixels becomes 0 or 1."""
    # BEGIN SOLUTION
    u = torch.rand(x.shape, generator=generator, device=generator.device).to(x.device)
    salt = (u < p / 2).to(x.dtype)  # 1 for the first half of the hits, 0 otherwise
    return torch.where(u < p, salt, x)
    # END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_salt_and_pepper", "locked": true, "points": 2, "schema_version": 3, "solution": false}
from course_utils.exercise_checks import check_salt_and_pepper

check_salt_and_pepper(salt_and_pepper)

# %% [markdown]
# ## Task 4 · Predict, then run (1 point)
#
# The peak signal-to-noise ratio of a picture $\hat x$ against the clean $x$, with pixel values up
# to `max_value`, is
# $$ \mathrm{PSNR} = 10 \log_{10} \frac{\text{max\_value}^2}{\mathrm{MSE}}, \qquad
#    \mathrm{MSE} = \text{mean over the pixels of } (\hat x - x)^2 , $$
# in decibels (dB); higher is better. An image with values in $[0, 1]$ is reconstructed with
# EVERY pixel off by exactly 0.1. What is its PSNR? Write the number into `predicted_psnr_db`,
# run the check, then run the cell that computes it.

# %% nbgrader={"grade": false, "grade_id": "predict_psnr", "locked": false, "schema_version": 3, "solution": true}
# Task predict_psnr
predicted_psnr_db = None  # your prediction, in dB
# BEGIN SOLUTION
predicted_psnr_db = 10 * torch.log10(torch.tensor(1.0 / 0.1**2)).item()  # MSE = 0.01
# END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "check_predict_psnr", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course_utils.exercise_checks import check_prediction_psnr

check_prediction_psnr(predicted_psnr_db)

# %%
# The answer, computed.
x = torch.full((1, 1, 28, 28), 0.5)
mse = ((x + 0.1 - x) ** 2).mean()
print(f"PSNR = {10 * torch.log10(1.0 / mse).item():.2f} dB")


# %% [markdown]
# ## Task 5 · PSNR (2 points)
#
# Now write `psnr(x_hat, x, max_value)` for a batch: **one value per image**, shape `(B,)`, with
# the MSE averaged over the pixels of each image (not over the whole batch, not summed). Use
# `torch.log10`. Do not call `course_utils.corruption.psnr`.

# %% nbgrader={"grade": false, "grade_id": "psnr", "locked": false, "schema_version": 3, "solution": true}
# Task psnr
def psnr(x_hat: Tensor, x: Tensor, max_value: float = 1.0) -> Tensor:
    """x_hat, x: (B, ...) -> PSNR in dB per image, (B,)."""
    # BEGIN SOLUTION
    mse = (x_hat - x).pow(2).flatten(1).mean(dim=1)  # (B, ...) -> (B,)
    return 10 * torch.log10(max_value**2 / mse)
    # END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_psnr", "locked": true, "points": 2, "schema_version": 3, "solution": false}
from course_utils.exercise_checks import check_psnr

check_psnr(psnr)

# %% [markdown]
# ## Task 6 · The denoising loss (2 points)
#
# The loss of a denoising autoencoder, for one batch of CLEAN images `x`, in three steps:
# 1. **corrupt**: make a noisy copy with Gaussian noise of standard deviation `std`, clipped to
#    $[0, 1]$ (your `add_gaussian_noise` from Task 1, with the generator);
# 2. **reconstruct**: run the model on the noisy copy, `model(noisy)`;
# 3. **compare with the clean images**: the squared error between the output and `x` (not the
#    noisy copy), summed over the pixels of each image and averaged over the batch, the
#    course's convention.
#
# Return that one number as a tensor that still carries the gradient (no `.item()`), so that
# `loss.backward()` can train the model. Do not modify `x`.

# %% nbgrader={"grade": false, "grade_id": "denoising_loss", "locked": false, "schema_version": 3, "solution": true}
# Task denoising_loss
def denoising_loss(model, x: Tensor, std: float, generator: torch.Generator) -> Tensor:
    """model: (B, ...) -> (B, ...); x: clean images (B, ...) in [0, 1] -> scalar loss."""
    # BEGIN SOLUTION
    noisy = add_gaussian_noise(x, std, generator)  # the INPUT: a damaged copy
    output = model(noisy)  # (B, ...)
    return (output - x).pow(2).flatten(1).sum(dim=1).mean()  # the TARGET: the clean x
    # END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_denoising_loss", "locked": true, "points": 2, "schema_version": 3, "solution": false}
from course_utils.exercise_checks import check_denoising_loss

check_denoising_loss(denoising_loss)

# %% [markdown]
# ### See it work: the three corruptions on real digits
#
# The cell corrupts eight test digits with each of your functions (one generator, seeded, so the
# picture is the same every run) and prints the mean PSNR of each corrupted batch against the
# clean digits. Which corruption costs the most dB at these levels?

# %%
# See it work (extra code): your corruptions and your PSNR on test digits.
from course_utils.plots import rows_figure

clean = data.test.x[:8]  # (8, 1, 28, 28)
generator = torch.Generator().manual_seed(0)
corrupted = {
    "Gaussian, std 0.3": add_gaussian_noise(clean, 0.3, generator),
    "masking, p 0.3": mask_pixels(clean, 0.3, generator),
    "salt and pepper, p 0.1": salt_and_pepper(clean, 0.1, generator),
}
for name, noisy in corrupted.items():
    print(f"{name:<24} mean PSNR {psnr(noisy, clean).mean().item():6.2f} dB")
rows_figure({"clean": clean, **corrupted}, n=8)

# %% [markdown]
# ## Done
#
# These corruptions are the inputs of a denoising autoencoder, `denoising_loss` is what it
# trains on (lesson 04 does the same inside `DenoisingObjective`, with three noise kinds and
# fresh noise at every step), and PSNR is how lesson 04 compares it
# with three non-learned denoisers (a Gaussian blur, a median filter and a PCA projection). Back
# to [lesson 04](../notebooks/04_denoising_autoencoders.ipynb), or on to
# [exercise 05](05_sparse_autoencoders.ipynb).
