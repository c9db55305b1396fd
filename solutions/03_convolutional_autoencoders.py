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
# # Exercise 03 · Convolutional autoencoders
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ae-course/autoencoders-pca-to-vae/blob/main/solutions/03_convolutional_autoencoders.ipynb)
#
# This exercise goes with [lesson 03](../notebooks/03_convolutional_autoencoders.ipynb). You
# compute the output size of a convolution and of a transposed convolution, then build a small
# convolutional encoder and decoder with exactly the shapes asked for. The last three tasks are
# the lesson's traps and mechanisms: what a code cell can see (its receptive field), how to score
# a model with BatchNorm (the eval trap), and why a stride-2 transposed convolution paints a grid
# (its four parity classes).
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
# ## Task 5 · The receptive field (2 points)
#
# A cell of a feature map depends on only a window of the input image, its **receptive field**.
# Lesson 03 computes it layer by layer with two numbers: the window size (1 pixel at the input)
# and the **jump**, the distance in input pixels between neighbouring cells of the current map
# (1 at the input). A layer with kernel size $k$ and stride $s$ steps its kernel over the cells of
# its input, which are one jump apart: it widens the window by $k - 1$ steps of the jump it
# receives, and its own cells are $s$ of its input cells apart, so it multiplies the jump by $s$.
# Padding moves the window but does not change its size.
#
# Write `receptive_field(layers)`: `layers` is a list of `(kernel_size, stride)` pairs, in order
# from the image; return `(size, jump)` for a cell of the last layer, two ints. The encoder of
# task 3 followed by a $1 \times 1$ code layer, `[(3, 2), (3, 2), (1, 1)]`, must give `(7, 4)`, as
# in the lesson. The check compares your function with a measurement (the gradient of one output
# cell, as the lesson's `measured_receptive_field` does) on random stacks; do not call the
# course's `receptive_field`.

# %% nbgrader={"grade": false, "grade_id": "receptive_field", "locked": false, "schema_version": 3, "solution": true}
# Task receptive_field
def receptive_field(layers: list[tuple[int, int]]) -> tuple[int, int]:
    """(size, jump) in input pixels of one cell after layers [(kernel_size, stride), ...]."""
    # BEGIN SOLUTION
    size, jump = 1, 1  # at the input: one pixel, neighbours 1 pixel apart
    for kernel_size, stride in layers:
        size += (kernel_size - 1) * jump  # the kernel steps over cells `jump` pixels apart
        jump *= stride
    return size, jump
    # END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_receptive_field", "locked": true, "points": 2, "schema_version": 3, "solution": false}
from course_utils.exercise_checks import check_receptive_field

check_receptive_field(receptive_field)

# %% [markdown]
# ### See it work: your formula against a measurement
#
# The cell reads the kernel sizes and strides of your task-3 encoder, applies your formula, and
# measures the window of its output cell (3, 3) with the lesson's `measured_receptive_field`
# (the input pixels where the gradient of that cell is not zero, over 64 random images).

# %%
# See it work (extra code): the receptive field of your encoder, computed and measured.
from course_utils.conv_probes import measured_receptive_field

torch.manual_seed(0)
encoder = make_conv_encoder(4, 8)  # (B, 1, 28, 28) -> (B, 8, 7, 7)
layers = [(m.kernel_size[0], m.stride[0]) for m in encoder.modules() if isinstance(m, nn.Conv2d)]
size, jump = receptive_field(layers)
rows, cols = measured_receptive_field(encoder, torch.rand(64, 1, 28, 28), cell=(3, 3))
print(f"your formula for {layers}: a window of {size} pixels, cells {jump} pixels apart")
print(f"measured for cell (3, 3): rows {rows[0]}-{rows[1]} ({rows[1] - rows[0] + 1} pixels), "
      f"columns {cols[0]}-{cols[1]} ({cols[1] - cols[0] + 1} pixels)")

# %% [markdown]
# ## Task 6 · Scoring a model with BatchNorm: the eval trap (3 points)
#
# In training mode BatchNorm normalises each channel with the statistics of the current batch,
# so an image's reconstruction depends on the other images of its batch, and every forward pass
# moves the stored running averages, even under `torch.no_grad()`. Lesson 03's lab (section A) measured what that
# costs a trained model. Write `evaluate_mse(model, x)` that returns the reconstruction error of
# `model` on the batch `x` (shape `(B, 1, H, W)`) as a Python float: the squared error averaged
# over every pixel of every image, the lesson's MSE per pixel. It must
#
# - run the model in eval mode (`model.eval()`);
# - build no autograd graph (`with torch.no_grad():`), since nobody will call `backward`;
# - hand the model back in the mode it came in: a training loop that scores the model between
#   steps must go on training with batch statistics, and a model that came in eval mode stays
#   in eval mode (`model.training` tells you which).
#
# Do not call the course's `evaluate`, `predict`, `eval_mode` or `mse_per_pixel_per_image`: they
# do this for you. The check uses a small model with BatchNorm whose running averages differ from
# the statistics of its batch.

# %% nbgrader={"grade": false, "grade_id": "evaluate_mse", "locked": false, "schema_version": 3, "solution": true}
# Task evaluate_mse
def evaluate_mse(model: nn.Module, x: torch.Tensor) -> float:
    """Mean of (model(x) - x) ** 2 over all pixels of x (B, 1, H, W), in eval mode, no graph."""
    # BEGIN SOLUTION
    was_training = model.training
    model.eval()  # BatchNorm: the stored running averages, not this batch's statistics
    try:
        with torch.no_grad():
            error = ((model(x) - x) ** 2).mean().item()
    finally:
        model.train(was_training)  # back to the mode the model came in
    return error
    # END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_evaluate_mse", "locked": true, "points": 3, "schema_version": 3, "solution": false}
from course_utils.exercise_checks import check_evaluate_mse

check_evaluate_mse(evaluate_mse)

# %% [markdown]
# ### See it work: scoring in training mode changes the answer and the model
#
# The cell builds an untrained encoder-decoder with BatchNorm and runs 20 training-mode forward
# passes on random batches, so that its running averages move as during training. Then it scores
# carelessly, in training mode: image 0 alone and image 0 with 7 companions, and how far those
# two passes moved `running_mean`. Last, your `evaluate_mse` on 64 images: its score, how far it
# moved `running_mean`, and the model's mode afterwards.

# %%
# See it work (extra code): careless training-mode scoring against your evaluate_mse.
torch.manual_seed(0)
bn_model = nn.Sequential(
    nn.Conv2d(1, 8, 3, stride=2, padding=1),  # (B, 1, 28, 28) -> (B, 8, 14, 14)
    nn.BatchNorm2d(8),
    nn.ReLU(),
    nn.ConvTranspose2d(8, 1, 3, stride=2, padding=1, output_padding=1),  # -> (B, 1, 28, 28)
    nn.Sigmoid(),
)
bn, images = bn_model[1], torch.rand(64, 1, 28, 28)
with torch.no_grad():
    for _ in range(20):  # training-mode passes move the running averages
        bn_model(torch.rand(32, 1, 28, 28))
    stored = bn.running_mean.clone()
    alone, in_batch = bn_model(images[:1]), bn_model(images[:8])[:1]  # training mode: careless
moved = (bn.running_mean - stored).abs().max().item()
print(f"training mode: image 0's reconstruction changes with its batch by up to "
      f"{(alone - in_batch).abs().max():.4f}; the two passes moved running_mean by up to {moved:.4f}")
stored = bn.running_mean.clone()
score = evaluate_mse(bn_model, images)
print(f"evaluate_mse: MSE per pixel {score:.5f}; running_mean moved by "
      f"{(bn.running_mean - stored).abs().max():.4f}; in training mode afterwards: {bn_model.training}")

# %% [markdown]
# ## Task 7 · Four kernels in one: where the checkerboard comes from (2 points)
#
# A stride-2 transposed convolution with a $k \times k$ kernel and padding $p$ sends input pixel
# $i$ through the kernel tap in row $t$ ($0 \le t < k$) to output row $o = 2i + t - p$; columns
# work the same way. So each output row is reached only by the taps whose row has the right
# parity, and the layer is four small convolutions interleaved on the four parity classes
# (even or odd row, even or odd column), as lesson 03 shows in its section on checkerboard
# artefacts. On a flat input of 1s, away from the border, every output pixel of a class is the sum of that
# class's taps; four different sums paint a grid on a flat image, a checkerboard.
#
# Write `parity_sums(weight, padding)`: `weight` is the $(k, k)$ kernel of
# `nn.ConvTranspose2d(1, 1, k, stride=2, padding=padding, bias=False)`; return a `(2, 2)` tensor
# whose entry `[r, c]` is that layer's output on a flat input of 1s, at the inner pixels whose row
# has parity `r` and whose column has parity `c`. Compute it by indexing the weights (slicing
# with step 2 picks every other row or column), not by running a layer. The check compares it
# with a real layer on random kernels of sizes 2 to 5 and paddings 0 to 2.

# %% nbgrader={"grade": false, "grade_id": "parity_sums", "locked": false, "schema_version": 3, "solution": true}
# Task parity_sums
def parity_sums(weight: torch.Tensor, padding: int) -> torch.Tensor:
    """(2, 2): stride-2 transposed conv output on 1s by (row parity, column parity)."""
    # BEGIN SOLUTION
    sums = torch.zeros(2, 2, dtype=weight.dtype)
    for r in (0, 1):
        for c in (0, 1):
            # output o = 2 i + t - padding: tap t reaches the outputs with o = t - padding (mod 2)
            sums[r, c] = weight[(r + padding) % 2 :: 2, (c + padding) % 2 :: 2].sum()
    return sums
    # END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_parity_sums", "locked": true, "points": 2, "schema_version": 3, "solution": false}
from course_utils.exercise_checks import check_parity_sums

check_parity_sums(parity_sums)

# %% [markdown]
# ### See it work: the grid on a flat image
#
# For kernels 3 and 4 with padding 1, the cell prints your sums for all-ones weights (the overlap
# counts of the lesson's figure), then your sums for random weights next to a $4 \times 4$ patch
# of a real layer's output on a flat image of 1s, with those same weights. Compare the patch with
# your four numbers.

# %%
# See it work (extra code): your parity sums and a real layer's output on a flat image.
torch.manual_seed(0)
for k in (3, 4):
    layer = nn.ConvTranspose2d(1, 1, k, stride=2, padding=1, bias=False)
    w = layer.weight.detach()[0, 0]  # (k, k) random weights
    with torch.no_grad():
        patch = layer(torch.ones(1, 1, 8, 8))[0, 0, 4:8, 4:8]  # inner, from an even row and column
    print(f"kernel {k}, all weights 1: your sums {parity_sums(torch.ones(k, k), 1).tolist()}")
    print(f"kernel {k}, random weights: your sums\n{parity_sums(w, 1).numpy().round(3)}")
    print(f"a 4x4 patch of the layer's output on 1s:\n{patch.numpy().round(3)}")

# %% [markdown]
# ## Done
#
# With the two size formulas you can design a convolutional encoder on paper before writing it;
# the receptive field says how much of the image each code cell can see; a model with BatchNorm
# is scored in eval mode, under `no_grad`, and handed back in its own mode; and the four parity
# sums say whether a stride-2 transposed convolution paints a grid on a flat image. Back to
# [lesson 03](../notebooks/03_convolutional_autoencoders.ipynb), or on to [exercise 04](04_denoising_autoencoders.ipynb).
