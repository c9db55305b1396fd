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
# # 03 · Convolutional autoencoders
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ae-course/autoencoders-pca-to-vae/blob/main/notebooks/03_convolutional_autoencoders.ipynb)
#
# A dense layer treats an image as a list of 784 unrelated numbers: move a shirt one pixel to the
# right and, for the first layer, it is a different input. Convolutions slide the same small
# filter over every position, so they reuse weights and respect the 2-D layout. In this lesson the
# encoder shrinks the image with **strided convolutions** and the decoder grows it back with
# **transposed convolutions** or **upsampling followed by a convolution**.
#
# **Learning objectives.** After this lesson you can
# 1. build a convolutional encoder and decoder and predict every layer's output shape;
# 2. compare parameter count and test error with the dense autoencoder at the same code size;
# 3. explain where checkerboard artefacts come from and how upsample + convolution avoids them;
# 4. (optional) read an image as a sequence of rows with an LSTM autoencoder.

# %%
# Setup (extra code): on Colab, install the course package; locally it is already installed.
# Colab already has every dependency, so --no-deps leaves its own torch and Jupyter untouched.
import sys

if "google.colab" in sys.modules:
    # %pip install -q --no-deps "autoencoders-course @ git+https://github.com/ae-course/autoencoders-pca-to-vae"

# %%
import torch

from course_utils import setup_course

course = setup_course(seed=0)

# %%
from course_utils.data import load_dataset

data = load_dataset("fashion_mnist", seed=course.seed)
x_train, x_valid, x_test = data.train.x, data.valid.x, data.test.x  # (N, 1, 28, 28) each

# %% [markdown]
# ## 1. Shapes through strided convolutions
#
# A convolution with kernel size $k$, stride $s$ and padding $p$ maps a side of $n$ pixels to
# $\lfloor (n + 2p - k)/s \rfloor + 1$. With $k = 3, s = 2, p = 1$: $28 \to 14 \to 7$. A
# transposed convolution runs the map backwards: $(n - 1)s - 2p + k + \text{output\_padding}$, so
# $7 \to 14 \to 28$ with output padding 1. `ConvAutoencoder` in `course_utils.conv` uses exactly
# these layers, with a linear layer to and from a 32-number code. Rather than trusting the
# formulas, `shape_table` runs a batch through the real model and records each layer's output.

# %%
from course_utils.conv import ConvAutoencoder, format_shape_table, shape_table

torch.manual_seed(0)
conv = ConvAutoencoder(n_latent=32, decoder="transpose").to(course.device)
print(format_shape_table(shape_table(conv, x_test[:2].to(course.device)), input_shape=(2, 1, 28, 28)))

# %% [markdown]
# Most parameters sit in the two linear layers between the $32 \times 7 \times 7$ feature maps and
# the code; the convolutions are small because each filter is only $3 \times 3$ and shared across
# every position.
#
# ## 2. Conv AE vs dense AE, same code size
#
# We train the dense 784-128-32 autoencoder of lesson 02 and the convolutional one, each with a
# 32-number code, the same loss, optimiser and number of epochs.

# %%
from course_utils.models import DenseAutoencoder, count_parameters
from course_utils.train import fit

epochs = course.pick(full=3, fast=2)
torch.manual_seed(0)
dense = DenseAutoencoder(784, hidden=(128,), n_latent=32).to(course.device)
dense_history = fit(dense, x_train.to(course.device), epochs=epochs, lr=2e-3, batch_size=128)

# %%
conv_history = fit(conv, x_train.to(course.device), x_valid.to(course.device),
                   epochs=epochs, lr=2e-3, batch_size=128)

# %%
from course_utils.anomaly import reconstruction_errors

results = {}
for name, model in (("dense AE", dense), ("conv AE (transpose)", conv)):
    results[name] = reconstruction_errors(model, x_test.to(course.device)).mean().item()
    print(f"{name:<22} {count_parameters(model):>9,} parameters   test MSE per pixel {results[name]:.5f}")
print(f"({data.name}, code size 32, {epochs} epochs each, {course.mode} mode)")

# %%
from course_utils.plots import rows_figure

show = x_test[:10].to(course.device)
with torch.no_grad():
    fig = rows_figure({"original": show, "dense AE": dense(show), "conv AE": conv(show)},
                    title="the same 32-number code size, dense vs convolutional")
fig

# %% [markdown]
# With about half the parameters, the convolutional autoencoder reconstructs better (in full mode;
# fast-mode numbers are rough): its filters detect edges and textures anywhere in the image, so
# its capacity goes into patterns rather than into one weight per pixel position. Look at the
# collars, stripes and the gap between trouser legs.
#
# ## 3. Checkerboard artefacts
#
# A transposed convolution with stride 2 paints each input pixel's kernel onto the output, two
# pixels apart. With a $3 \times 3$ kernel the painted patches overlap unevenly: some output
# pixels receive contributions from one input pixel, some from two, some from four. Feed it a
# **constant** image with all weights equal to 1 and the unevenness appears as a checkerboard.
# Upsampling first (each pixel copied into a $2 \times 2$ block) and then applying an ordinary
# convolution gives every output pixel the same number of contributions.

# %%
from course_utils.conv import overlap_figure

overlap_figure(kernel_size=3, stride=2)

# %% [markdown]
# The left panel is the transposed convolution's output for a flat input: a grid of 1s, 2s and 4s.
# The right panel, upsample + convolution, is flat except at the border (zero padding). A trained
# network can learn weights that cancel the pattern, but it must spend effort doing so, and
# early in training or for unusual codes the grid shows through. A kernel size divisible by the
# stride (4 with stride 2) overlaps evenly; try it with the sliders.

# %% tags=["nbval-ignore-output"]
from course_utils.conv import overlap_view

overlap_view()

# %% [markdown]
# The same effect in real decoders: two **untrained** `ConvAutoencoder` decoders, one of each
# kind, decode eight random codes. Each output is stretched to the full grey range so the texture
# is visible. The transposed decoder's outputs carry a regular grid; the upsampling decoder's
# outputs are blotchy but have no grid.

# %%
torch.manual_seed(0)
untrained = {kind: ConvAutoencoder(n_latent=32, decoder=kind) for kind in ("transpose", "upsample")}
z = torch.randn(8, 32)  # eight random codes
with torch.no_grad():
    outs = {kind: m.decode(z) for kind, m in untrained.items()}  # (8, 1, 28, 28) each
rows_figure(outs, n=8, vmin=None, vmax=None,  # no fixed grey scale: each image is stretched
            title="untrained decoders, random codes (contrast stretched per image)")

# %% [markdown]
# Now train the same autoencoder with an upsample + convolution decoder and compare. The figure
# shows each decoder's **mean absolute error per pixel position** over the test set: a regular
# grid pattern there is the checkerboard's fingerprint.

# %%
torch.manual_seed(0)
conv_up = ConvAutoencoder(n_latent=32, decoder="upsample").to(course.device)
up_history = fit(conv_up, x_train.to(course.device), epochs=epochs, lr=2e-3, batch_size=128)
results["conv AE (upsample)"] = reconstruction_errors(conv_up, x_test.to(course.device)).mean().item()
for name, value in results.items():
    print(f"{name:<22} test MSE per pixel {value:.5f}")

# %%
from course_utils.conv import error_maps_figure

error_maps_figure({"transpose": conv, "upsample + conv": conv_up}, x_test[:2000].to(course.device))

# %% [markdown]
# Both error maps are brightest where clothes have edges and detail, and the two test errors
# printed above are close. Training has taught the transposed decoder weights that largely hide
# the uneven overlap, so after a full run its map shows little or no grid (in fast mode, after two
# short epochs, a faint grid can remain). The artefact is a risk built into the layer, strongest
# early in training, with untrained weights (the figure above) and in generative models that decode
# unusual codes; upsample + convolution removes the cause, at a higher cost per image (its
# convolutions run on the larger feature maps: compare the seconds per epoch in the logs).
#
# ## 4. Optional: an LSTM autoencoder reads rows
#
# Images can also be read as sequences: 28 time steps, each a row of 28 pixels. An LSTM encoder
# reads the rows top to bottom and its last hidden state becomes the code; an LSTM decoder
# receives the code at every step and writes one row per step. It is `LSTMAutoencoder` in
# `course_utils.conv`. Recurrent models are slow on a CPU (the 28 steps run one after the other),
# so we train on a subset.

# %%
from course_utils.conv import LSTMAutoencoder

torch.manual_seed(0)
lstm = LSTMAutoencoder(n_latent=32, hidden=128).to(course.device)
print(format_shape_table(shape_table(lstm, x_test[:2].to(course.device)), input_shape=(2, 1, 28, 28)))
n_lstm = course.pick(full=30000, fast=1000)
lstm_history = fit(lstm, x_train[:n_lstm].to(course.device), epochs=course.pick(full=3, fast=1), lr=3e-3, batch_size=128)
lstm_mse = reconstruction_errors(lstm, x_test.to(course.device)).mean().item()
print(f"LSTM AE ({count_parameters(lstm):,} parameters, {n_lstm:,} training images): "
      f"test MSE per pixel {lstm_mse:.5f}")

# %%
with torch.no_grad():
    fig = rows_figure({"original": show, "conv AE": conv(show), "LSTM AE": lstm(show)},
                    title="reading rows: the LSTM autoencoder")
fig

# %% [markdown]
# With this small budget the LSTM autoencoder is clearly behind the convolutional one (compare the
# numbers above): it sees the image one row at a time and must squeeze everything into its state.
# Sequence autoencoders shine on data that really is sequential (audio, sensor series, text).
#
# > **Common mistakes**
# > - *Feeding flat images to a conv model.* Conv layers need (B, 1, 28, 28); the model's error
# >   message says what it got and how to reshape.
# > - *Guessing output sizes.* Print a shape table from the real model; an off-by-one in
# >   `output_padding` gives 27x27 or 29x29 reconstructions.
# > - *Comparing models with different code sizes or epochs.* Compare at the same code size, loss
# >   and training budget, as in section 2.
# > - *Blaming the data for a grid pattern.* Regular checkerboards come from transposed
# >   convolutions whose kernel size is not divisible by the stride.
#
# ## Summary
#
# - Strided convolutions shrink 28 to 14 to 7; transposed convolutions or upsample + convolution
#   grow it back; a shape table read from the model confirms every step.
# - At the same code size the convolutional AE reconstructs better than the dense one, with fewer
#   parameters.
# - Uneven kernel overlap in transposed convolutions causes checkerboard artefacts; upsampling then
#   convolving avoids them.
# - An LSTM can autoencode an image row by row, but it is slower and weaker on images.
#
# ## Quiz

# %%
from course_utils.quiz import show_quiz

show_quiz("03_convolutional_autoencoders")

# %% [markdown]
# Next: [04 · Denoising autoencoders](04_denoising_autoencoders.ipynb).
