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
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Exercise 03 · Convolutional autoencoders
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ae-course/autoencoders-pca-to-vae/blob/main/solutions/03_convolutional_autoencoders.ipynb)
#
# This exercise goes with [lesson 03](../notebooks/03_convolutional_autoencoders.ipynb). You
# compute the output size of a convolution and of a transposed convolution, then build a small
# convolutional encoder and decoder with exactly the shapes asked for.
#
# **How the exercises work.**
# - Each task cell says `# YOUR CODE HERE` and `raise NotImplementedError()`. Replace those two
#   lines with your code; keep the `def` line, the function's name and its arguments.
# - Run the check cell right below the task. It prints one line: ✅ right, ❌ wrong (and what is
#   wrong), or ⏳ not attempted yet. It tests your code on random inputs you have not seen, so a
#   hard-coded answer fails.
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
from torch import nn

from course_utils import setup_course

course = setup_course(seed=0)


# %% [markdown]
# ## Task 1 · Output sizes (2 points)
#
# A convolution with kernel size $k$, stride $s$ and padding $p$ on an input of size $n$ (height
# or width) places its kernel at $\lfloor (n + 2p - k) / s \rfloor + 1$ positions:
# $$ n_\text{out} = \left\lfloor \frac{n + 2p - k}{s} \right\rfloor + 1 . $$
# A transposed convolution runs the same bookkeeping backwards. Each input position spreads a
# $k \times k$ window onto the output, windows $s$ apart, then $p$ rows are cut from each side
# and `output_padding` extra rows are added at the end:
# $$ n_\text{out} = (n - 1)\, s - 2p + k + \text{output\_padding} . $$
# Write both as functions of plain integers that return an `int` (use `//`, not `/`). The check
# compares them with real PyTorch layers on random settings.

# %% nbgrader={"grade": false, "grade_id": "conv_sizes", "locked": false, "schema_version": 3, "solution": true}
# Task conv_sizes
def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0) -> int:
    """Height (or width) after nn.Conv2d(kernel_size, stride, padding)."""
    # BEGIN SOLUTION
    return (size + 2 * padding - kernel_size) // stride + 1
    # END SOLUTION


def conv_transpose_output_size(
    size: int, kernel_size: int, stride: int = 1, padding: int = 0, output_padding: int = 0
) -> int:
    """Height (or width) after nn.ConvTranspose2d(kernel_size, stride, padding, output_padding)."""
    # BEGIN SOLUTION
    return (size - 1) * stride - 2 * padding + kernel_size + output_padding
    # END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_conv_sizes", "locked": true, "points": 2, "schema_version": 3, "solution": false}
from course_utils.exercise_checks import check_conv_sizes

check_conv_sizes(conv_output_size, conv_transpose_output_size)

# %% [markdown]
# ## Task 2 · Predict, then run (1 point)
#
# A decoder layer `nn.ConvTranspose2d(32, 16, kernel_size=3, stride=2, padding=1)` receives a
# batch of shape `(8, 32, 7, 7)`. What is the shape of its output? Write it as a tuple into
# `predicted_shape` (use your formula from task 1 if you like), run the check, then run the cell
# that applies the layer.

# %% nbgrader={"grade": false, "grade_id": "predict_transpose_shape", "locked": false, "schema_version": 3, "solution": true}
# Task predict_transpose_shape
predicted_shape = None  # your prediction: a tuple such as (2, 3, 4, 5)
# BEGIN SOLUTION
size = conv_transpose_output_size(7, kernel_size=3, stride=2, padding=1)
predicted_shape = (8, 16, size, size)
# END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "check_predict_transpose_shape", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course_utils.exercise_checks import check_prediction_transpose_shape

check_prediction_transpose_shape(predicted_shape)

# %%
# The answer: apply the layer.
layer = nn.ConvTranspose2d(32, 16, kernel_size=3, stride=2, padding=1)
print(tuple(layer(torch.zeros(8, 32, 7, 7)).shape))


# %% [markdown]
# One row short of 14: that is why the decoder in task 4 needs `output_padding=1` (or a kernel
# of size 4 with stride 2 and padding 1, which gives exactly $2n$).
#
# ## Task 3 · A convolutional encoder (2 points)
#
# Write `make_conv_encoder(c1, c2)` that returns an `nn.Module` (an `nn.Sequential` is enough)
# mapping a batch of images to feature maps in two halving steps:
#
# | stage | shape |
# |---|---|
# | input | `(B, 1, 28, 28)` |
# | after the first convolution | `(B, c1, 14, 14)` |
# | output | `(B, c2, 7, 7)` |
#
# Use `nn.Conv2d` with stride 2 (task 1 tells you which padding keeps 28 -> 14 -> 7 exact for a
# 3x3 kernel) and a ReLU after each convolution. Do not flatten: the linear layer to the code
# comes later.

# %% nbgrader={"grade": false, "grade_id": "conv_encoder", "locked": false, "schema_version": 3, "solution": true}
# Task conv_encoder
def make_conv_encoder(c1: int, c2: int) -> nn.Module:
    """(B, 1, 28, 28) -> (B, c1, 14, 14) -> (B, c2, 7, 7)."""
    # BEGIN SOLUTION
    return nn.Sequential(
        nn.Conv2d(1, c1, kernel_size=3, stride=2, padding=1),  # 28x28 -> 14x14
        nn.ReLU(),
        nn.Conv2d(c1, c2, kernel_size=3, stride=2, padding=1),  # 14x14 -> 7x7
        nn.ReLU(),
    )
    # END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_conv_encoder", "locked": true, "points": 2, "schema_version": 3, "solution": false}
from course_utils.exercise_checks import check_conv_encoder

check_conv_encoder(make_conv_encoder)


# %% [markdown]
# ## Task 4 · A convolutional decoder (2 points)
#
# Now the mirror image: `make_conv_decoder(c2, c1)` maps `(B, c2, 7, 7)` to `(B, c1, 14, 14)` to
# `(B, 1, 28, 28)`, doubling the size twice with `nn.ConvTranspose2d` (mind the missing row from
# task 2), with a ReLU between the two layers and a sigmoid at the end so every pixel lies in
# $[0, 1]$.

# %% nbgrader={"grade": false, "grade_id": "conv_decoder", "locked": false, "schema_version": 3, "solution": true}
# Task conv_decoder
def make_conv_decoder(c2: int, c1: int) -> nn.Module:
    """(B, c2, 7, 7) -> (B, c1, 14, 14) -> (B, 1, 28, 28), pixels in [0, 1]."""
    # BEGIN SOLUTION
    return nn.Sequential(
        nn.ConvTranspose2d(c2, c1, kernel_size=3, stride=2, padding=1, output_padding=1),  # 7 -> 14
        nn.ReLU(),
        nn.ConvTranspose2d(c1, 1, kernel_size=3, stride=2, padding=1, output_padding=1),  # 14 -> 28
        nn.Sigmoid(),
    )
    # END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_conv_decoder", "locked": true, "points": 2, "schema_version": 3, "solution": false}
from course_utils.exercise_checks import check_conv_decoder

check_conv_decoder(make_conv_decoder)

# %% [markdown]
# ### See it work: the shapes, layer by layer
#
# The cell below chains your encoder and decoder into an autoencoder, runs a batch of 4 blank
# images through it and prints each layer's output shape and parameter count (lesson 03's shape
# table). Compare it with the table of task 3. Your two blocks alone would make no bottleneck:
# the encoder's output, $32 \times 7 \times 7$ = 1,568 numbers, is more than the 784 pixels, so
# the cell puts a 32-number code between them with two linear layers, as lesson 03's
# `ConvAutoencoder` does.

# %%
# See it work (extra code): your encoder and decoder, one layer at a time.
from course_utils.conv import format_shape_table, shape_table

torch.manual_seed(0)
autoencoder = nn.Sequential(
    make_conv_encoder(16, 32),  # (B, 1, 28, 28) -> (B, 32, 7, 7)
    nn.Flatten(),  # (B, 1568)
    nn.Linear(32 * 7 * 7, 32),  # the code: 32 numbers, the bottleneck
    nn.Linear(32, 32 * 7 * 7),  # back to (B, 1568)
    nn.ReLU(),
    nn.Unflatten(1, (32, 7, 7)),  # (B, 32, 7, 7)
    make_conv_decoder(32, 16),  # (B, 32, 7, 7) -> (B, 1, 28, 28)
)
x = torch.zeros(4, 1, 28, 28)
print(format_shape_table(shape_table(autoencoder, x), tuple(x.shape)))

# %% [markdown]
# ## Done
#
# With these two size formulas you can design any convolutional encoder on paper before writing
# it. Back to [lesson 03](../notebooks/03_convolutional_autoencoders.ipynb), or on to
# [exercise 04](04_denoising_autoencoders.ipynb).
