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
# 1. build a convolutional encoder and decoder from `nn.Conv2d` and `nn.ConvTranspose2d` and
#    predict every layer's output shape; choose between max-pooling and strided convolution;
# 2. say what a transposed convolution is (the adjoint of a convolution, not its inverse);
# 3. compare parameter count, test error and learning curves with the dense autoencoder at the
#    same code size, data and training budget, and say where the parameters sit;
# 4. explain where checkerboard artefacts come from and how upsample + convolution avoids them;
# 5. (optional) read an image as a sequence of rows with an LSTM autoencoder.

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

# %% [markdown]
# We use Fashion-MNIST when it is available; the next cell prints which data is really in use.

# %%
from course_utils.data import load_dataset

data = load_dataset("fashion_mnist", seed=course.seed)
x_train, x_valid, x_test = data.train.x, data.valid.x, data.test.x  # (N, 1, 28, 28) each

# %% [markdown]
# ## 1. A convolutional autoencoder, written out
#
# A convolution with kernel size $k$, stride $s$ and padding $p$ maps a side of $n$ pixels to
# $\lfloor (n + 2p - k)/s \rfloor + 1$. With $k = 3, s = 2, p = 1$: $28 \to 14 \to 7$. The
# encoder below uses two such **strided convolutions**, then a linear layer to a 32-number code.
# The decoder mirrors it with **transposed convolutions** (`ConvTranspose2d`), whose output side
# is $(n - 1)s - 2p + k + \text{output\_padding}$: $7 \to 14 \to 28$ with output padding 1.

# %%
from torch import nn

torch.manual_seed(0)
conv_encoder = nn.Sequential(
    nn.Conv2d(1, 16, kernel_size=3, stride=2, padding=1), nn.ReLU(),  # 28x28 -> 14x14
    nn.Conv2d(16, 32, kernel_size=3, stride=2, padding=1), nn.ReLU(),  # 14x14 -> 7x7
    nn.Flatten(),  # (B, 32, 7, 7) -> (B, 1568)
    nn.Linear(32 * 7 * 7, 32),  # the code: no activation
)
conv_decoder = nn.Sequential(
    nn.Linear(32, 32 * 7 * 7), nn.ReLU(),
    nn.Unflatten(1, (32, 7, 7)),  # (B, 1568) -> (B, 32, 7, 7)
    nn.ConvTranspose2d(32, 16, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),  # 7 -> 14
    nn.ConvTranspose2d(16, 1, 3, stride=2, padding=1, output_padding=1), nn.Sigmoid(),  # 14 -> 28
)
h = x_train[:2]
for layer in [*conv_encoder, *conv_decoder]:
    h = layer(h)
    print(f"{type(layer).__name__:<16} -> {tuple(h.shape)}")

# %% [markdown]
# `ConvAutoencoder` in `course_utils.conv` holds exactly these layers (plus input checks and
# `encode`/`decode`). Rather than trusting the formulas, `shape_table` runs a batch through the
# real model and records each layer's output shape and parameter count.

# %%
from course_utils.conv import ConvAutoencoder, format_shape_table, shape_table
from course_utils.models import count_parameters

torch.manual_seed(0)
conv = ConvAutoencoder(n_latent=32, decoder="transpose").to(course.device)
table = shape_table(conv, x_test[:2].to(course.device))
print(format_shape_table(table, input_shape=(2, 1, 28, 28)))
by_hand = count_parameters(conv_encoder) + count_parameters(conv_decoder)
print(f"same parameter count as the layers written above: {by_hand == count_parameters(conv)}")

# %% [markdown]
# Where do the parameters sit? Read the table, then let the cell add it up:

# %%
in_linear = sum(r.n_params for r in table if r.layer.startswith("Linear"))
total = sum(r.n_params for r in table)
print(f"linear layers (feature map <-> code): {in_linear:,} of {total:,} parameters "
      f"({in_linear / total:.0%}); convolutions: {total - in_linear:,}")
print(f"most parameters sit in the linear layers: {in_linear > total / 2}")

# %% [markdown]
# The convolutions themselves are tiny, because each filter is only $3 \times 3$ and is shared
# across every position. The bulk of the model is the two linear layers between the
# $32 \times 7 \times 7 = 1568$ feature values and the 32-number code. Here is the whole stack
# with its shapes:

# %%
# extra code – draw the conv stack with its shapes
from course_utils.plots import flow_diagram_figure

flow_diagram_figure(
    [("x", "(B, 1, 28, 28)"), ("conv s2", "1 -> 16 ch\n(B, 16, 14, 14)"),
     ("conv s2", "16 -> 32 ch\n(B, 32, 7, 7)"), ("linear", "1568 -> 32"), ("z", "(B, 32)"),
     ("linear", "32 -> 1568\n(B, 32, 7, 7)"), ("convT s2", "32 -> 16 ch\n(B, 16, 14, 14)"),
     ("convT s2", "16 -> 1 ch, sigmoid\n(B, 1, 28, 28)"), ("x̂", "(B, 1, 28, 28)")],
    title="the convolutional autoencoder: strided convolutions down, transposed convolutions up",
    width=1.55)

# %% [markdown]
# ### Max-pooling or strided convolution?
#
# There are two common ways to halve a feature map. **Max-pooling** (`nn.MaxPool2d(2)`) keeps the
# largest value of each $2 \times 2$ window: it has no weights, and it tolerates small shifts of a
# feature inside its window. A **strided convolution** computes the filter only at every second
# position: the downsampling is learned, and it costs a quarter of the multiply-adds of the same
# convolution at stride 1 followed by pooling. Both give the same shape:

# %%
pooled = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))  # 28 -> 28 -> 14
strided = nn.Sequential(nn.Conv2d(1, 16, 3, stride=2, padding=1), nn.ReLU())  # 28 -> 14
for name, block in (("conv + MaxPool2d", pooled), ("strided conv", strided)):
    out = block(x_train[:2])
    conv_positions = 28 * 28 if name.startswith("conv +") else 14 * 14
    print(f"{name:<17} output {tuple(out.shape)}, {count_parameters(block)} parameters, "
          f"{conv_positions * 16 * 9:,} multiply-adds per image")
window = torch.tensor([[1.0, 5, 2, 0], [3, 2, 1, 4], [0, 1, 7, 2], [6, 2, 3, 1]])  # (4, 4)
print("MaxPool2d(2) of\n", window, "\n=", nn.MaxPool2d(2)(window[None, None])[0, 0])

# %% [markdown]
# Classic conv autoencoders used convolution + pooling in the encoder; many recent ones use
# strided convolutions throughout, so that every down- and up-sampling step is learned. Pooling
# has no exact mirror for the decoder (unpooling needs the positions of the maxima), which is one
# reason the symmetric strided design is popular. This lesson uses strided convolutions.
#
# ### A transposed convolution is the adjoint, not the inverse
#
# The name "transposed" is literal. Write a convolution as a matrix $C$ acting on the flattened
# image. `ConvTranspose2d` with the **same weights** applies $C^\top$: it is the **adjoint** of the
# convolution, which is also what autograd uses to send a gradient from the convolution's output
# back to its input. It is not an inverse: applying the convolution and then its transpose does
# not give the image back. Only the output **size** follows the reversed formula. The cell checks
# all three statements.

# %%
torch.manual_seed(0)
down = nn.Conv2d(1, 1, 3, stride=2, padding=1, bias=False)  # 8x8 -> 4x4
up = nn.ConvTranspose2d(1, 1, 3, stride=2, padding=1, output_padding=1, bias=False)  # 4x4 -> 8x8
up.weight.data.copy_(down.weight.data)  # the same 3x3 weights
a = torch.randn(1, 1, 8, 8, requires_grad=True)
b = torch.randn(1, 1, 4, 4)
lhs, rhs = (down(a) * b).sum().item(), (a * up(b)).sum().item()  # <C a, b> and <a, C^T b>
grad = torch.autograd.grad(down(a), a, grad_outputs=b)[0]  # gradient of the conv w.r.t. its input
roundtrip = (up(down(a)) - a).norm() / a.norm()
print(f"<conv(a), b> = {lhs:.5f}, <a, convT(b)> = {rhs:.5f}: adjoint {abs(lhs - rhs) < 1e-4}")
print(f"convT(b) equals the gradient of conv w.r.t. its input: {torch.allclose(up(b), grad, atol=1e-6)}")
print(f"convT(conv(a)) vs a: relative error {roundtrip:.2f}, an inverse: {roundtrip < 1e-3}")

# %% [markdown]
# In the autoencoder the transposed convolutions have their **own** weights, learned to
# reconstruct; the adjoint view tells you what the layer computes (each input pixel paints a
# weighted copy of the kernel onto the output, $s$ pixels apart), not that it undoes anything.
#
# ## 2. Conv AE vs dense AE: same data, budget and validation
#
# A fair comparison gives every model the same training images, the same number of optimizer
# steps, the same batch size, loss and optimizer, and the same validation pass after every epoch.
# We compare the dense 784-128-32 autoencoder of lesson 02, the convolutional one above, and a
# variant whose decoder upsamples and then convolves (section 3 explains why). All have a
# 32-number code.
#
# Two standard additions suit a budget of only three epochs. Both conv models get
# `batch_norm=True`: a `BatchNorm2d` after each hidden convolution rescales every channel to mean
# 0 and variance 1 over the batch (then applies a learned scale and shift), which keeps the
# layers' inputs in a steady range and usually tolerates a larger learning rate. And every model,
# dense included, starts at a larger learning rate that `CosineDecay` lowers to 0 along a half
# cosine over the run, so that the last steps settle instead of jumping around the minimum. A
# BatchNorm layer behaves differently in training (statistics of the batch) and in eval mode
# (running averages collected during training), so after `fit` we switch every model to `eval()`
# before using it.

# %%
import math

from course_utils.models import DenseAutoencoder
from course_utils.schedules import CosineDecay
from course_utils.train import fit

batch_size, lr = 128, 6e-3  # lr: the starting learning rate, decayed to 0 by CosineDecay
steps = course.pick(full=1300, fast=32)
epochs = max(1, round(steps / math.ceil(len(x_train) / batch_size)))  # the same steps on any data size
torch.manual_seed(0)
models = {"dense AE": DenseAutoencoder(784, hidden=(128,), n_latent=32)}
for kind in ("transpose", "upsample"):
    torch.manual_seed(0)
    models[f"conv AE ({kind})"] = ConvAutoencoder(n_latent=32, decoder=kind, batch_norm=True)
histories = {}
for name, model in models.items():
    torch.manual_seed(0)
    histories[name] = fit(model.to(course.device), x_train.to(course.device),
                          x_valid.to(course.device), epochs=epochs, lr=lr, batch_size=batch_size,
                          callbacks=[CosineDecay()], verbose=False)
    model.eval()  # from now on BatchNorm uses its running averages, not the batch's statistics
print(f"each model: {epochs} epochs of {len(x_train):,} images = about {steps:,} steps, "
      f"learning rate {lr:g} decayed to 0, validation on {len(x_valid):,} images after every "
      f"epoch ({course.mode} mode)")

# %%
from course_utils.anomaly import mse_per_pixel_per_image

results = {}
for name, model in models.items():
    results[name] = mse_per_pixel_per_image(model, x_test).mean().item()
    seconds = sorted(histories[name]["seconds"])[len(histories[name]["seconds"]) // 2]
    print(f"{name:<20} {count_parameters(model):>9,} parameters   test MSE per pixel "
          f"{results[name]:.5f}   {seconds:.1f} s per epoch (median, training + validation)")
best = min(results, key=results.get)
print(f"lowest test error: {best}; conv (transpose) below dense: "
      f"{results['conv AE (transpose)'] < results['dense AE']}")

# %%
# extra code – overlay the validation curves of the three models
from course_utils.plots import NotebookFigure

fig = NotebookFigure(figsize=(6, 3.4), layout="constrained")
ax = fig.subplots()
for name, history in histories.items():
    ax.plot(history["epoch"], history["valid_loss"], "-o", markersize=3, label=f"{name} (valid)")
    ax.plot(history["epoch"], history["train_loss"], ":", color=ax.lines[-1].get_color())
ax.xaxis.get_major_locator().set_params(integer=True)  # whole epochs on the x axis
ax.set(xlabel="epoch", ylabel="squared error per image", title="learning curves (dotted: train)")
ax.grid(alpha=0.3)
ax.legend(fontsize=8)
fig

# %% [markdown]
# The printout says which model reached the lowest test error with this budget; with the full
# budget on Fashion-MNIST the convolutional models usually beat the dense one, but read the
# verdict. Note what the parameter counts say: the conv AE is **not** smaller because
# convolutions replaced dense weights wholesale; as section 1 showed, most of its parameters are
# in the linear layers to and from the code. What the convolutions add is structure: the same
# filters at every position, so edges and textures are learned once, wherever they appear. The
# seconds per epoch are measured on whatever machine runs this notebook (all three include the
# same validation pass); the convolutions, especially the upsampling decoder's on larger maps,
# cost more time per image than the dense layers.

# %%
from course_utils.plots import rows_figure

show = x_test[:10]
with torch.no_grad():
    fig = rows_figure({"original": show, **{name: m.cpu()(show) for name, m in models.items()}},
                      title="the same 32-number code size: dense vs convolutional")
fig

# %% [markdown]
# Compare sharp edges, textures and thin gaps in the rows above: that is where the models differ
# most.
#
# ## 3. Checkerboard artefacts
#
# A transposed convolution with stride 2 paints each input pixel's kernel onto the output, two
# pixels apart. With a $3 \times 3$ kernel the painted patches overlap unevenly: some output
# pixels receive contributions from one input pixel, some from two, some from four. Feed it a
# **constant** image with all weights equal to 1 and the unevenness appears as a checkerboard.
# Upsampling first (each pixel copied into a $2 \times 2$ block) and then applying an ordinary
# convolution gives every output pixel the same number of contributions. `parity_contrast`
# measures the grid: how much the means of the four pixel parities (even/odd row, even/odd
# column) differ, relative to the overall mean (0 = no grid).

# %%
from course_utils.conv import overlap_figure, overlap_maps, parity_contrast

for k in (3, 4):
    t_map, u_map = overlap_maps(kernel_size=k, stride=2)
    print(f"kernel {k}, stride 2: parity contrast transpose {parity_contrast(t_map, border=1):.2f}, "
          f"upsample + conv {parity_contrast(u_map, border=1):.2f}")
overlap_figure(kernel_size=3, stride=2)

# %% [markdown]
# The left panel is the transposed convolution's output for a flat input: a grid of 1s, 2s and 4s.
# The right panel, upsample + convolution, is flat except at the border (zero padding). With
# kernel 4 and stride 2 the overlap is even and the printed contrast of the flat-input test drops
# to 0. Odena, Dumoulin and Olah ("Deconvolution and checkerboard artifacts", Distill 2016) show
# that this helps but does not cure: even with even overlap, **learned** weights can still paint a
# grid (the kernel's taps that land on even and on odd pixels need not balance), and a network can
# also learn weights that hide an uneven overlap. Upsample + convolution removes the cause. Try
# kernels and strides with the sliders.

# %% tags=["nbval-ignore-output"]
from course_utils.conv import overlap_view

overlap_view()

# %% [markdown]
# The same effect in real decoders: two **untrained** `ConvAutoencoder` decoders, one of each
# kind, decode eight random codes. Each output is stretched to the full grey range so the texture
# is visible; the cell also prints the parity contrast of the average output.

# %%
torch.manual_seed(0)
untrained = {kind: ConvAutoencoder(n_latent=32, decoder=kind) for kind in ("transpose", "upsample")}
z = torch.randn(8, 32)  # eight random codes
with torch.no_grad():
    outs = {kind: m.decode(z) for kind, m in untrained.items()}  # (8, 1, 28, 28) each
for kind, out in outs.items():
    print(f"untrained {kind:<9} decoder: parity contrast {parity_contrast(out.mean(dim=(0, 1))):.3f}")
rows_figure(outs, n=8, vmin=None, vmax=None,  # no fixed grey scale: each image is stretched
            title="untrained decoders, random codes (contrast stretched per image)")

# %% [markdown]
# The figure below shows each trained conv decoder's **mean absolute error per pixel position**
# over test images, and the cell prints the parity contrast of each map: a regular grid there is
# the checkerboard's fingerprint.

# %%
from course_utils.conv import error_maps, error_maps_figure

trained = {"transpose": models["conv AE (transpose)"], "upsample + conv": models["conv AE (upsample)"]}
x_maps = x_test[:2000]
contrast = {name: parity_contrast(error_maps(m, x_maps)) for name, m in trained.items()}
for name, value in contrast.items():
    print(f"trained {name:<16} error map: parity contrast {value:.3f}")
print(f"transpose decoder shows more grid than upsample + conv: "
      f"{contrast['transpose'] > contrast['upsample + conv']}")
error_maps_figure(trained, x_maps)

# %% [markdown]
# Both error maps are brightest where the images have edges and detail. The printed contrasts say
# how much grid each trained decoder left, and the verdict says which has more in this run. Often
# training teaches the transposed decoder weights that largely hide the uneven overlap, so the
# gap between the two trained models is smaller than between the untrained ones. The artefact is
# a risk built into the layer, most visible with untrained or briefly trained weights and in
# generative models that decode unusual codes; upsample + convolution removes the cause, at a
# higher cost per image (its convolutions run on the larger feature maps: compare the seconds per
# epoch in section 2).
#
# ## 4. Optional: an LSTM autoencoder reads rows
#
# Images can also be read as sequences: 28 time steps, each a row of 28 pixels. An LSTM encoder
# reads the rows top to bottom and its last hidden state becomes the code; an LSTM decoder
# receives the code at every step and writes one row per step. It is `LSTMAutoencoder` in
# `course_utils.conv`. Recurrent models are slow on a CPU (the 28 steps run one after the other),
# so we give it a smaller budget of steps than the conv models had.

# %%
from course_utils.conv import LSTMAutoencoder

torch.manual_seed(0)
lstm = LSTMAutoencoder(n_latent=32, hidden=128).to(course.device)
print(format_shape_table(shape_table(lstm, x_test[:2].to(course.device)), input_shape=(2, 1, 28, 28)))
lstm_steps = course.pick(full=300, fast=8)
n_lstm = min(len(x_train), lstm_steps * batch_size)  # one epoch of lstm_steps batches
lstm_history = fit(lstm, x_train[:n_lstm].to(course.device), epochs=1, lr=3e-3,
                   batch_size=batch_size, verbose=False)
lstm = lstm.cpu()
lstm_mse = mse_per_pixel_per_image(lstm, x_test).mean().item()
print(f"LSTM AE ({count_parameters(lstm):,} parameters, {math.ceil(n_lstm / batch_size)} steps): "
      f"test MSE per pixel {lstm_mse:.5f}; conv AE (transpose) {results['conv AE (transpose)']:.5f}")
print(f"LSTM AE behind the conv AE: {lstm_mse > results['conv AE (transpose)']}")

# %%
with torch.no_grad():
    fig = rows_figure({"original": show, "conv AE": models["conv AE (transpose)"](show),
                       "LSTM AE": lstm(show)}, title="reading rows: the LSTM autoencoder")
fig

# %% [markdown]
# The verdict line compares the LSTM with the convolutional autoencoder. The comparison is not
# fair to the LSTM (fewer steps), and is not meant to be: the point is what it can do at all
# when it sees the image one row at a time and must squeeze everything into its state. Sequence
# autoencoders shine on data that really is sequential (audio, sensor series, text).
#
# > **Common mistakes**
# > - *Feeding flat images to a conv model.* Conv layers need (B, 1, 28, 28); the model's error
# >   message says what it got and how to reshape.
# > - *Guessing output sizes.* Print a shape table from the real model; an off-by-one in
# >   `output_padding` gives 27x27 or 29x29 reconstructions.
# > - *Reading "transposed" as "inverse".* A transposed convolution is the adjoint of a
# >   convolution; it restores the size, not the image.
# > - *Assuming a conv AE is small because convolutions share weights.* Count them: the linear
# >   layers next to the code usually dominate.
# > - *Comparing models with different budgets or validation settings.* Same data, steps, batch
# >   size, loss and validation, as in section 2.
# > - *Believing a kernel divisible by the stride cures checkerboards.* It evens the overlap;
# >   learned weights can still make a grid. Upsample + convolution removes the cause.
#
# ## Summary
#
# - Strided convolutions shrink 28 to 14 to 7; transposed convolutions or upsample + convolution
#   grow it back; a shape table read from the model confirms every step. Max-pooling is the
#   weight-free alternative to a strided convolution.
# - A transposed convolution is the adjoint (the input-gradient) of a convolution, not its inverse.
# - Most parameters of this conv AE sit in the linear layers around the code; we compared it with
#   the dense AE at the same code size, data, steps and validation, with learning curves.
# - Uneven kernel overlap in transposed convolutions is one source of checkerboard artefacts;
#   upsampling then convolving avoids it.
# - An LSTM can autoencode an image row by row, but it is slow on a CPU.

# %% [markdown]
# [Exercise 03](../exercises/03_convolutional_autoencoders.ipynb) [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ae-course/autoencoders-pca-to-vae/blob/main/exercises/03_convolutional_autoencoders.ipynb)
# In the exercise you implement the output-size formulas of convolutions and transposed
# convolutions and build a small convolutional encoder and decoder whose shapes you check.
#
# ## Quiz

# %%
from course_utils.quiz import show_quiz

show_quiz("03_convolutional_autoencoders")

# %% [markdown]
# Next: [04 · Denoising autoencoders](04_denoising_autoencoders.ipynb).
