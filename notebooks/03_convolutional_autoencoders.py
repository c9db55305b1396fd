# ---
# jupyter:
#   jupytext:
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
# # 03 · Convolutional autoencoders
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ae-course/autoencoders-pca-to-vae/blob/main/notebooks/03_convolutional_autoencoders.ipynb)
#
# **English** · [Tiếng Việt](vi/03_convolutional_autoencoders.ipynb)
#
# A dense layer gives every pixel its own weights, so a pattern learned at one position must be
# learned again, with other weights, one pixel to the right. Convolutions slide the same small
# filter over every position,
# so they reuse weights and respect the 2-D layout: move the input, and (away from the borders,
# by a multiple of the stride) their output moves with it. In this lesson the
# encoder shrinks the image with **strided convolutions** and the decoder grows it back with
# **transposed convolutions** or **upsampling followed by a convolution**. Section 4 tests the
# opening claim on shifted images.
#
# **Learning objectives.** After this lesson you can
# 1. build a convolutional encoder and decoder from `nn.Conv2d` and `nn.ConvTranspose2d` and
#    predict every layer's output shape; choose between max-pooling and strided convolution;
# 2. say what a transposed convolution is (the adjoint of a convolution, not its inverse);
# 3. compare parameters, multiply-adds, test error and learning curves with the dense
#    autoencoder at the same code size, data and training budget;
# 4. test what convolutions buy on shifted images, compute the receptive field of a code cell,
#    and see what a fully convolutional autoencoder and a global-average-pooled code do;
# 5. (optional, Appendix A) say what `BatchNorm2d` computes and why `model.eval()` matters;
# 6. explain where checkerboard artefacts come from, which of their causes upsample +
#    convolution removes, and which period-2 pattern it can still make;
# 7. (optional) read an image as a sequence of rows with an LSTM autoencoder.

# %%
# Setup (extra code): on Colab, install the course package; locally it is already installed.
# Colab already has every dependency, so --no-deps leaves its own torch and Jupyter untouched.
import sys

if "google.colab" in sys.modules:
    print("Colab: installing the course package from GitHub")
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
# The decoder mirrors it with **transposed convolutions** (`ConvTranspose2d`).

# %% [markdown]
# What does a convolution (`Conv2d`) compute? A $k \times k$ window slides over the padded image,
# $s$ pixels at a time; at each position the layer multiplies the window's pixels by a
# $k \times k$ grid of weights, the **filter**, sums and adds a bias. One filter gives one output
# map, a **channel**. Each filter spans all $C_\text{in}$ input channels, so $C_\text{out}$
# filters have weights of shape $(C_\text{out}, C_\text{in}, k, k)$ and
# $C_\text{out} \cdot C_\text{in} \cdot k \cdot k + C_\text{out}$ parameters. The cell computes
# one layer by hand: `unfold` cuts out every window as a column.

# %%
from torch import nn

torch.manual_seed(0)
conv_by_hand = nn.Conv2d(2, 3, kernel_size=3, stride=2, padding=1)  # C_in = 2, C_out = 3, k = 3
x_small = torch.randn(1, 2, 6, 6)  # (B, C_in, H, W)
windows = nn.functional.unfold(x_small, kernel_size=3, stride=2, padding=1)  # (1, C_in*k*k = 18, 3*3 positions)
filters = conv_by_hand.weight.reshape(3, -1)  # (C_out, C_in*k*k) = (3, 18): one row per filter
with torch.no_grad():
    by_hand = (filters @ windows[0] + conv_by_hand.bias[:, None]).reshape(1, 3, 3, 3)  # (B, C_out, 3, 3)
    by_layer = conv_by_hand(x_small)
print(f"weights (C_out, C_in, k, k) = {tuple(conv_by_hand.weight.shape)}, bias {tuple(conv_by_hand.bias.shape)}; "
      f"input {tuple(x_small.shape)} -> output {tuple(by_layer.shape)}")
print(f"windows x filters + bias = nn.Conv2d output: {torch.allclose(by_hand, by_layer, atol=1e-6)}")

# %% [markdown]
# What does a transposed convolution compute? Each input pixel **paints** a copy of the kernel,
# scaled by its value, onto the output, $s$ pixels apart; where copies overlap, they add. The
# figure shows this for a $2 \times 2$ input, stride 2 and a $3 \times 3$ kernel of ones.

# %%
# extra code – a transposed convolution paints one weighted copy of its kernel per input pixel
from torch import nn

from course_utils.plots import NotebookFigure

x_tiny = torch.tensor([[1.0, 2.0], [3.0, 4.0]])  # (2, 2) input
painted = []  # one (5, 5) canvas per input pixel: output side (2 - 1) * 2 + 3 = 5, no padding
for r in range(2):
    for c in range(2):
        canvas = torch.zeros(5, 5)
        canvas[2 * r : 2 * r + 3, 2 * c : 2 * c + 3] = x_tiny[r, c] * torch.ones(3, 3)  # 2 px apart
        painted.append(canvas)
painter = nn.ConvTranspose2d(1, 1, 3, stride=2, bias=False)
with torch.no_grad():
    painter.weight.fill_(1.0)  # all nine weights 1
    painted_out = painter(x_tiny[None, None])[0, 0]  # (5, 5)
print(f"sum of the four painted copies = ConvTranspose2d(kernel 3, stride 2) output: "
      f"{torch.equal(sum(painted), painted_out)}")
fig = NotebookFigure(figsize=(11, 2.7), layout="constrained")
top = painted_out.max().item()
panels = [(x_tiny, "input (2x2)")] + [
    (p, f"copy for the input {x_tiny.flatten()[i]:.0f}") for i, p in enumerate(painted)] + [
    (painted_out, "output: their sum")]
for ax, (values, title) in zip(fig.subplots(1, 6), panels, strict=True):
    ax.imshow(values.numpy(), cmap="Blues", vmin=0, vmax=top)
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            ax.text(j, i, f"{values[i, j]:.0f}", ha="center", va="center", fontsize=9,
                    color="white" if values[i, j] > 0.6 * top else "black")
    ax.set(title=title, xticks=[], yticks=[])
fig.suptitle("a transposed convolution, stride 2, all weights 1: one copy of the kernel per input "
             "pixel, 2 pixels apart, added where they overlap")
fig

# %% [markdown]
# Painting gives the output side: $(n - 1)s + k$ pixels, minus $p$ cropped from each side, plus
# `output_padding`, so $(n - 1)s - 2p + k + \text{output\_padding}$: $7 \to 14 \to 28$ with
# output padding 1.
#
# The same layer can be computed a second way (Dumoulin and Visin, "A guide to convolution
# arithmetic", 2016): spread the input out by inserting $s - 1$ zeros between neighbouring pixels,
# pad the border with $k - 1 - p$ zeros (plus `output_padding` at the bottom and right), and run
# an ordinary stride-1 convolution with the kernel turned by 180°. This view explains
# `output_padding`: a stride-2 convolution maps both 13 and 14 pixels to 7, so its transpose
# cannot know which size to return, and `output_padding` picks. The cell checks both on the
# decoder's layer type.

# %%
torch.manual_seed(0)
k, p, op = 3, 1, 1  # kernel, padding, output_padding of the conv AE's transposed layers
up_layer = nn.ConvTranspose2d(1, 1, k, stride=2, padding=p, output_padding=op, bias=False)  # 4 -> 8
x4 = torch.randn(1, 1, 4, 4)
spread_out = torch.zeros(1, 1, 7, 7)  # one zero between neighbours: 2 * 4 - 1 = 7
spread_out[..., ::2, ::2] = x4
padded = nn.functional.pad(spread_out, (k - 1 - p, k - 1 - p + op) * 2)  # (1, 1, 10, 10)
with torch.no_grad():
    zero_inserted = nn.functional.conv2d(padded, up_layer.weight.flip(-2, -1))  # (1, 1, 8, 8)
    print(f"insert zeros, pad, convolve with the turned kernel = ConvTranspose2d: "
          f"{torch.allclose(zero_inserted, up_layer(x4), atol=1e-6)}")
    for n in (13, 14):
        print(f"Conv2d(kernel 3, stride 2, padding 1): {n}x{n} -> "
              f"{tuple(nn.Conv2d(1, 1, 3, stride=2, padding=1)(torch.zeros(1, 1, n, n)).shape[-2:])}")
    for op in (0, 1):
        back = nn.ConvTranspose2d(1, 1, 3, stride=2, padding=1, output_padding=op)(torch.zeros(1, 1, 7, 7))
        print(f"ConvTranspose2d(kernel 3, stride 2, padding 1, output_padding={op}): 7x7 -> "
              f"{tuple(back.shape[-2:])}")

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
# `encode`/`decode`). `shape_table` runs a batch through the real model and records each layer's
# output shape and parameter count. The last line copies the hand-written weights into the
# package model and compares outputs: `load_state_dict` checks only names and shapes, so only the
# outputs can catch a wrong activation or a missing `output_padding`.

# %%
from course_utils.conv import ConvAutoencoder, format_shape_table, shape_table
from course_utils.models import count_parameters

torch.manual_seed(0)
conv = ConvAutoencoder(n_latent=32, decoder="transpose").to(course.device)
table = shape_table(conv, x_test[:2].to(course.device))
print(format_shape_table(table, input_shape=(2, 1, 28, 28)))
conv.encoder.load_state_dict(conv_encoder.state_dict())  # the hand-written weights
conv.decoder.load_state_dict(conv_decoder.state_dict())
with torch.no_grad():
    same = torch.equal(conv.cpu()(x_test[:8]), conv_decoder(conv_encoder(x_test[:8])))
print(f"ConvAutoencoder computes exactly the layers written above: {same}")

# %% [markdown]
# Where do the parameters sit? The cell adds them up:

# %%
in_linear = sum(r.n_params for r in table if r.layer.startswith("Linear"))
total = sum(r.n_params for r in table)
print(f"linear layers (feature map <-> code): {in_linear:,} of {total:,} parameters "
      f"({in_linear / total:.0%}); convolutions: {total - in_linear:,}")
print(f"most parameters sit in the linear layers: {in_linear > total / 2}")
c2 = conv.encoder[2]  # the encoder's second convolution, 16 -> 32 channels
c_out, c_in, kh, kw = c2.weight.shape
print(f"second convolution: C_out * C_in * k * k + C_out = {c_out} * {c_in} * {kh} * {kw} + {c_out} = "
      f"{c_out * c_in * kh * kw + c_out:,}; counted: {count_parameters(c2):,}")
encoder_rows = [r for r in table if r.name.startswith("encoder")]
held = [torch.Size(r.output_shape[1:]).numel() for r in encoder_rows if "ReLU" in r.layer]  # (C*H*W)
code_size = torch.Size(encoder_rows[-1].output_shape[1:]).numel()
print(f"numbers per image: image {28 * 28} -> feature maps " + " -> ".join(f"{n:,}" for n in held)
      + f" -> code {code_size}; feature maps larger than the image: {all(n > 28 * 28 for n in held)}")

# %% [markdown]
# The convolutions are tiny, because each filter is only $3 \times 3$ and is shared across every
# position; the bulk of the model is the two linear layers between the
# $32 \times 7 \times 7 = 1568$ feature values and the 32-number code. The hidden feature maps
# hold more numbers than the 784 pixels (last line), so the convolutions trade positions for
# channels without compressing anything; the squeeze to 32 numbers happens in the linear layer
# alone.

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
# Max-pooling has no exact mirror in the decoder: max-unpooling needs the encoder's position of
# each maximum (`return_indices=True`), which a decoder fed a code alone does not have. Strided
# convolutions on both sides avoid this, as here.
#
# ### A transposed convolution is the adjoint, not the inverse
#
# Write a convolution as a matrix $C$ acting on the flattened image. `ConvTranspose2d` with the
# **same weights** applies $C^\top$: the **adjoint** of the convolution, which is also what
# autograd uses to send a gradient back to the convolution's input. It cannot be an inverse: the
# stride-2 convolution below maps an $8 \times 8$ image (64 numbers) to $4 \times 4$ (16
# numbers), so many images give the same output. Only the output **size** follows the reversed
# formula.

# %%
torch.manual_seed(0)
down = nn.Conv2d(1, 1, 3, stride=2, padding=1, bias=False)  # 8x8 -> 4x4
up = nn.ConvTranspose2d(1, 1, 3, stride=2, padding=1, output_padding=1, bias=False)  # 4x4 -> 8x8
up.weight.data.copy_(down.weight.data)  # the same 3x3 weights
a = torch.randn(1, 1, 8, 8, requires_grad=True)
b = torch.randn(1, 1, 4, 4)
lhs, rhs = (down(a) * b).sum().item(), (a * up(b)).sum().item()  # <C a, b> and <a, C^T b>
grad = torch.autograd.grad(down(a), a, grad_outputs=b)[0]  # gradient of the conv w.r.t. its input
with torch.no_grad():
    back = up(down(a))  # (1, 1, 8, 8): convolution, then its transpose
    scale = (back * a).sum() / (back * back).sum()  # the best scalar c for c * back ~ a
    roundtrip = ((back - a).norm() / a.norm()).item()
    scaled = ((scale * back - a).norm() / a.norm()).item()
print(f"<conv(a), b> = {lhs:.5f}, <a, convT(b)> = {rhs:.5f}: adjoint {abs(lhs - rhs) < 1e-4}")
print(f"convT(b) equals the gradient of conv w.r.t. its input: {torch.allclose(up(b), grad, atol=1e-6)}")
print(f"conv maps {a.numel()} numbers to {down(a).numel()}: many images, one output")
print(f"convT(conv(a)) vs a: relative error {roundtrip:.2f}, an inverse: {roundtrip < 1e-3}; "
      f"with the best scale factor {scale:.2f}: relative error {scaled:.2f}, "
      f"an inverse up to scale: {scaled < 1e-3}")

# %% [markdown]
# In the autoencoder the transposed convolutions have their **own** weights, learned to
# reconstruct; the adjoint view says what the layer computes, not that it undoes anything. The
# older name "deconvolution" is a misnomer: the layer is the adjoint, not an inverse.
#
# ## 2. Two more ingredients: an upsampling decoder and BatchNorm
#
# Here are the pieces of two more designs, written out in one model.
#
# - **Upsample + convolution.** The decoder copies each value into a $2 \times 2$ block
#   (`nn.Upsample(scale_factor=2, mode="nearest")`), then applies an ordinary $3 \times 3$
#   convolution with padding 1, which keeps the size. Same shapes, same number of weights;
#   section 5 shows which causes of checkerboard artefacts it removes.
# - **BatchNorm.** A `BatchNorm2d` after each hidden convolution, before its ReLU, rescales every
#   channel to mean 0 and variance 1, then applies a learned scale $\gamma$ and shift $\beta$ per
#   channel. Appendix A shows what it normalises over, why `model.eval()` matters, and whether it
#   helps this autoencoder.

# %%
torch.manual_seed(0)
bn_encoder = nn.Sequential(
    nn.Conv2d(1, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.ReLU(),  # 28x28 -> 14x14
    nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.BatchNorm2d(32), nn.ReLU(),  # 14x14 -> 7x7
    nn.Flatten(), nn.Linear(32 * 7 * 7, 32),  # (B, 32, 7, 7) -> (B, 1568) -> (B, 32)
)
upsample_decoder = nn.Sequential(
    nn.Linear(32, 32 * 7 * 7), nn.ReLU(), nn.Unflatten(1, (32, 7, 7)),  # (B, 32) -> (B, 32, 7, 7)
    nn.Upsample(scale_factor=2, mode="nearest"),  # 7x7 -> 14x14: each value copied 2x2
    nn.Conv2d(32, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),  # 14x14 stays 14x14
    nn.Upsample(scale_factor=2, mode="nearest"),  # 14x14 -> 28x28
    nn.Conv2d(16, 1, 3, padding=1), nn.Sigmoid(),  # 28x28, one channel, pixels in (0, 1)
)
h = x_train[:2]
for layer in [*bn_encoder, *upsample_decoder]:
    h = layer(h)
    print(f"{type(layer).__name__:<12} -> {tuple(h.shape)}")

# %% [markdown]
# `ConvAutoencoder(decoder="upsample", batch_norm=True)` is exactly this model (the cell checks
# it). `load_state_dict` copies **parameters**, which the optimizer trains (the weights, $\gamma$
# and $\beta$), and **buffers**, which a layer stores but the optimizer never touches: BatchNorm's
# running averages, which forward passes in training mode update. `count_parameters` counts
# parameters only.

# %%
package_model = ConvAutoencoder(n_latent=32, decoder="upsample", batch_norm=True)
package_model.encoder.load_state_dict(bn_encoder.state_dict())
package_model.decoder.load_state_dict(upsample_decoder.state_dict())
for module in (package_model, bn_encoder, upsample_decoder):
    module.eval()  # why eval() matters: the next two cells
with torch.no_grad():
    same = torch.equal(package_model(x_test[:8]), upsample_decoder(bn_encoder(x_test[:8])))
print(f"ConvAutoencoder(decoder='upsample', batch_norm=True) = the layers above: {same}")
n_norm = sum(count_parameters(m) for m in package_model.modules() if isinstance(m, nn.BatchNorm2d))
print(f"parameters: {count_parameters(package_model):,} = {count_parameters(conv):,} (the model of "
      f"section 1) + {n_norm} (a scale and a shift for each of the 16 + 32 + 16 BatchNorm channels)")
n_running = sum(b.numel() for name, b in package_model.named_buffers() if "running" in name)
print(f"buffers, not parameters: {n_running} running averages (a mean and a variance per channel), "
      f"in the state_dict: {all(k in package_model.state_dict() for k, _ in package_model.named_buffers())}")

# %% [markdown]
# ## 3. Conv AE vs dense AE: same data, budget and validation
#
# Every model gets the same training images, batch size, loss, optimizer and validation pass
# after every epoch: lesson 02's dense 784-128-32 autoencoder, **the conv AE** of section 1
# (`decoder="transpose"`) and its upsampling twin (`decoder="upsample"`), all with a 32-number
# code and **centred** inputs (the encoder sees $x - \bar x$, $\bar x$ the average training image;
# the conv models add a learned per-pixel offset before the sigmoid). Every run uses
# `CosineDecay(warmup_steps=W)`: the rate rises linearly from $\eta_0/W$ to the starting rate
# $\eta_0$ over the first $W$ steps (the next cell prints $W$), then falls to 0 along a half
# cosine. Small first steps help keep fresh ReLU channels alive (Appendix E).
#
# **Each model gets its own learning rate**, chosen on the validation images from 1.2e-2, 2.4e-2
# and 4.8e-2 (a winner at an edge is printed as "unbracketed"): 12-48 times Adam's default of
# 1e-3, since each run is short, warmed up and decayed; a line says whether the dense AE's 4.8e-2
# run failed, and how (blew up, or collapsed to one output for every image). The upsampling twin does over
# twice the multiply-adds of a transposed step, so it borrows its sibling's rate and trains **half the steps**, next
# to a copy of the conv AE trained for the same half. Lesson 02 trained the dense AE about three
# times as long, so compare numbers within this lesson only.

# %%
import math

from course_utils.anomaly import mse_per_pixel_per_image
from course_utils.conv_filters import dead_channels
from course_utils.models import DenseAutoencoder
from course_utils.schedules import CosineDecay
from course_utils.train import Callback, History, evaluate, fit

batch_size = 128
x_train = x_train[: course.pick(full=len(x_train), fast=1000)]  # fast mode: 1,000 images, to stay quick
x_valid = x_valid[: course.pick(full=len(x_valid), fast=250)]  # and 250 validation images
steps = course.pick(full=850, fast=16)  # 2 epochs of 54,000 images: one run of the transposed conv AE
epochs = max(1, round(steps / math.ceil(len(x_train) / batch_size)))  # the same steps on any data size
n_steps = epochs * math.ceil(len(x_train) / batch_size)  # the optimizer steps that really run
seed = 0  # the initial weights (torch.manual_seed) AND the batch order (fit's seed=)
mean_image = x_train.mean(dim=0)  # (1, 28, 28): the average training image, as in lesson 02


class LogEvery(Callback):
    """Every ``every`` optimizer steps, the loss on a fixed set of validation images (a curve)."""

    def __init__(self, x: torch.Tensor, every: int) -> None:
        self.x, self.every, self.points = x, every, []  # points: (step, loss) pairs

    def on_batch_end(self, state) -> None:
        if state.step % self.every == 0:
            # evaluate switches to eval mode and restores the previous (training) mode itself
            self.points.append((state.step, evaluate(state.model, self.x)["loss"]))


log_every = course.pick(full=100, fast=8)  # steps between two points of the learning curve
warmup = course.pick(full=100, fast=2)  # steps of linear warm-up, the same for every run
x_curve = x_valid[:500].to(course.device)  # the curve's fixed validation images
rates = (1.2e-2, 2.4e-2, 4.8e-2)  # every search's starting rates (a factor of 2 apart)


def train(build, lr: float, run_seed: int | None = None, n_epochs: int | None = None,
          warmup_steps: int = warmup) -> tuple[nn.Module, History, list]:
    """Build a model from the seed (run_seed if given), fit it at starting rate lr for n_epochs
    (``epochs`` if None) with a progress bar, switch it to eval()."""
    run_seed = seed if run_seed is None else run_seed
    torch.manual_seed(run_seed)
    model = build().to(course.device)
    logger = LogEvery(x_curve, log_every)
    schedule = CosineDecay(warmup_steps=warmup_steps)  # linear warm-up, then the half cosine
    history = fit(model, x_train.to(course.device), x_valid.to(course.device), epochs=n_epochs or epochs, lr=lr,
                  batch_size=batch_size, callbacks=[schedule, logger], seed=run_seed, verbose=True)
    return model.eval(), history, logger.points  # from now on BatchNorm uses its running averages


def search_rates(name: str, build, rates: tuple[float, ...]):
    """Train one model per starting rate in ``rates``; keep the lowest final VALIDATION loss.
    Returns the model, history, curve and rate of the winner; every run stays in ``searched[name]``."""
    runs = searched[name] = {lr: train(build, lr) for lr in rates}  # lr -> (model, history, curve)
    valid = {lr: run[1]["valid_loss"][-1] for lr, run in runs.items()}
    best = min(valid, key=valid.get)
    inside = min(rates) < best < max(rates)
    print(f"{name}: validation loss at the end: " + ", ".join(f"{lr:g}: {valid[lr]:.3f}" for lr in rates)
          + f" -> {best:g}, " + ("inside the bracket (worse rates on both sides)" if inside else
                                 f"unbracketed (at the {'low' if best == min(rates) else 'high'} edge of the "
                                 "rates tried; a rate beyond it might do better)"))
    return *runs[best], best


builds = {  # all centred on the mean training image, none with BatchNorm
    "dense AE": lambda: DenseAutoencoder(784, hidden=(128,), n_latent=32, input_mean=mean_image),
    "conv AE (transpose)": lambda: ConvAutoencoder(n_latent=32, decoder="transpose",
                                                   input_mean=mean_image),
    "conv AE (upsample)": lambda: ConvAutoencoder(n_latent=32, decoder="upsample",
                                                  input_mean=mean_image)}
models, histories, curves, chosen_lr, searched = {}, {}, {}, {}, {}
print(f"each run: {epochs} epochs of {len(x_train):,} images = {n_steps:,} steps (target {steps:,}), "
      f"the first W = {warmup} of them warming up, validation on {len(x_valid):,} images after every "
      f"epoch ({course.mode} mode)")

# %%
name = "dense AE"  # three runs, each a fraction of a conv run's time
models[name], histories[name], curves[name], chosen_lr[name] = search_rates(name, builds[name], rates)
top_loss = {lr: run[1]["valid_loss"][-1] for lr, run in searched[name].items()}  # lr -> final validation loss
top_model, top_hist = searched[name][max(rates)][:2]
flat_valid = x_valid.flatten(1)  # (N, 784)
mean_image_loss = (flat_valid - mean_image.reshape(1, -1)).square().sum(dim=1).mean().item()  # always the mean image
with torch.no_grad():
    spread = top_model(x_curve).flatten(1).std(dim=0).mean().item()  # how much its output changes between images
data_spread = x_curve.flatten(1).std(dim=0).mean().item()  # how much the images themselves change
failed = top_loss[max(rates)] > 2 * min(top_loss.values())
collapsed = failed and spread < 0.1 * data_spread
blew_up = failed and not collapsed and top_hist["train_loss"][-1] > top_hist["train_loss"][0]
print(f"In this run: the dense AE at {max(rates):g} ended at {top_loss[max(rates)] / min(top_loss.values()):.1f} x "
      f"the best validation loss ({top_loss[max(rates)]:.2f}; the mean training image for every input scores "
      f"{mean_image_loss:.2f}); its output varies by {spread:.4f} between images, the images by {data_spread:.3f}: "
      + ("it collapsed to one output for every image (its ReLU units died, the failure Appendix E studies), "
         "not a blow-up." if collapsed else "it blew up (far above the best, training loss rising)." if blew_up
         else "it failed without collapsing or blowing up." if failed else "it did not fail."))

# %%
name = "conv AE (transpose)"  # three runs: the lesson's largest cost
models[name], histories[name], curves[name], lr_conv = search_rates(name, builds[name], rates)
chosen_lr[name] = lr_conv
conv_runs = searched[name]  # lr -> (model, history, curve)
valid_err = {lr: mse_per_pixel_per_image(run[0], x_valid) for lr, run in conv_runs.items()}  # (N_valid,)
valid_dead = {lr: sum(int(m.sum()) for m in list(dead_channels(run[0], x_valid).values())[:2])
              for lr, run in conv_runs.items()}  # dead encoder channels (16 + 32) on the validation images
z_best = {}  # lr -> z of (its validation error - the winner's), image by image
for lr in conv_runs:
    gap = valid_err[lr] - valid_err[lr_conv]  # (N_valid,)
    z_best[lr] = 0.0 if lr == lr_conv else gap.mean().item() / (gap.std().item() / len(gap) ** 0.5)
    print(f"    at {lr:<6g} validation MSE per pixel {valid_err[lr].mean():.5f} (z = {z_best[lr]:+5.1f} vs the "
          f"winner), dead encoder channels {valid_dead[lr]} of 48 (Appendix E)")
ties = [lr for lr in conv_runs if lr != lr_conv and z_best[lr] <= 2 and valid_dead[lr] < valid_dead[lr_conv]]
print("remark: " + (f"{', '.join(f'{lr:g}' for lr in ties)} came within the validation noise (z <= 2) with "
                    "fewer dead channels; the lesson still keeps the lowest validation error." if ties else
                    "no other rate came within the validation noise (z <= 2) with fewer dead channels."))

# %%
name = "conv AE (upsample)"  # one run: half the steps, at the transposed sibling's rate (not searched)
chosen_lr[name] = lr_conv
up_epochs = max(1, epochs // 2)  # a step: over twice the multiply-adds (the table below)
models[name], histories[name], curves[name] = train(builds[name], lr_conv, n_epochs=up_epochs)
up_steps = up_epochs * math.ceil(len(x_train) / batch_size)
# like-for-like: the transposed conv AE again, same seed and rate, for the upsampling twin's steps
# (its own cosine schedule over those steps); used only by the decoder comparison in the table below
t_half, t_half_history, _ = train(builds["conv AE (transpose)"], lr_conv, n_epochs=up_epochs)
print(f"{name}: {up_steps:,} steps ({up_epochs} of {epochs} epochs) at the borrowed rate {lr_conv:g}; "
      f"the other two models: {n_steps:,} steps at their own searched rates; a copy of the conv AE: "
      f"{up_steps:,} steps at {lr_conv:g}, for the table below")

# %%
import statistics

from course_utils.models import dead_units
from course_utils.pca import PCA

results, per_image = {}, {}
for name, model in models.items():
    per_image[name] = mse_per_pixel_per_image(model, x_test)  # (N,) one error per test image
    results[name] = per_image[name].mean().item()
    seconds = statistics.median(histories[name]["seconds"])  # mean of the middle two if even
    print(f"{name:<20} {count_parameters(model):>9,} parameters   test MSE per pixel "
          f"{results[name]:.5f}   {seconds:.1f} s per epoch (median, training + validation)")
pca = PCA(32).fit(x_train.flatten(1))  # lesson 01's linear reference, the same 32-number code
pca_mse = (pca.reconstruct(x_test.flatten(1)) - x_test.flatten(1)).pow(2).mean().item()
print(f"{'PCA, 32 components':<20} (no training steps)  test MSE per pixel {pca_mse:.5f}")
print(f"below PCA with 32 components: {[name for name in results if results[name] < pca_mse]}")
dense_dead = [int(mask.sum()) for mask in dead_units(models["dense AE"], x_test.to(course.device))]
print(f"dense AE (centred, lesson 02's model): dead ReLU units on all {len(x_test):,} test images: "
      f"{dense_dead[0]} of 128 in the encoder's hidden layer, {dense_dead[1]} of 128 in the decoder's")


def paired_z(err_a: torch.Tensor, err_b: torch.Tensor) -> float:
    """z of the mean of err_a - err_b, two (N,) errors on the SAME test images, image by image."""
    gap = err_a - err_b  # (N,)
    return gap.mean().item() / (gap.std().item() / len(gap) ** 0.5)  # mean / its standard error


conv_model = models["conv AE (transpose)"]
n_linear = sum(count_parameters(m) for m in conv_model.modules() if isinstance(m, nn.Linear))
n_conv, n_dense = count_parameters(conv_model), count_parameters(models["dense AE"])
n_offset = sum(count_parameters(m) for m in conv_model.modules() if type(m).__name__ == "LogitOffset")
print(f"the conv AE has {n_conv:,} parameters, {n_conv / n_dense:.0%} of the dense AE's {n_dense:,} "
      f"(smaller: {n_conv < n_dense}); {n_linear / n_conv:.0%} of its own sit in its two linear "
      f"layers (a majority: {n_linear > n_conv / 2}); {n_offset} of them are the learned per-pixel "
      f"output offset that centring adds (section 1's model has none)")
dense_linears = [m for m in models["dense AE"].modules() if isinstance(m, nn.Linear)]
first_dense, last_dense = dense_linears[0], dense_linears[-1]
last_conv = [m for m in conv_model.decoder if isinstance(m, nn.ConvTranspose2d)][-1]
print(f"first layers: the dense AE's {first_dense.in_features}-to-{first_dense.out_features} layer "
      f"has {first_dense.weight.numel():,} weights, the conv AE's first convolution "
      f"{conv_model.encoder[0].weight.numel():,}")
print(f"last layers: the dense AE's {last_dense.in_features}-to-{last_dense.out_features} layer has "
      f"{count_parameters(last_dense):,} parameters, the conv AE's last transposed convolution "
      f"{count_parameters(last_conv):,}")
cut = 1 - results["conv AE (transpose)"] / results["dense AE"]
z_cd = paired_z(per_image["conv AE (transpose)"], per_image["dense AE"])  # < 0: the conv AE lower
print(f"In this run (seed 0): the conv AE's test error was {results['conv AE (transpose)']:.5f} vs the "
      f"dense AE's {results['dense AE']:.5f} ({abs(cut):.0%} {'lower' if cut > 0 else 'higher'}, z = "
      f"{z_cd:+.1f}): {'lower' if z_cd < -2 else 'higher' if z_cd > 2 else 'not different'} beyond the "
      f"test-image noise (|z| > 2), with {n_conv / n_dense:.0%} of the dense AE's parameters.")

# %%
# extra code – the learning curves of the three models
from course_utils.plots import NotebookFigure

fig = NotebookFigure(figsize=(10.5, 3.6), layout="constrained")
ax = fig.subplots()
for name, history in histories.items():
    steps_done, losses = zip(*curves[name], strict=True)  # every log_every steps
    own = f", {up_steps:,} steps, own schedule" if name == "conv AE (upsample)" else ""  # half the steps
    ax.plot(steps_done, losses, "-", label=f"{name} (valid, {len(x_curve):,} images{own})")
    epoch_mids = [(e - 0.5) * n_steps / epochs for e in history["epoch"]]  # an epoch average: mid-epoch
    ax.plot(epoch_mids, history["train_loss"], "s", markersize=5, color=ax.lines[-1].get_color(),
            label=f"{name} (train, epoch average)")
ax.set(xlabel="optimizer step", ylabel="squared error per image\n(= 784 x MSE per pixel)",
       title=f"learning curves (a point every {log_every} steps; squares mid-epoch)")
ax.set_ylim(top=2 * max(h["valid_loss"][0] for h in histories.values()))  # skip the first jump
ax.grid(alpha=0.3)
ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.02, 1))  # beside the axes
print(f"last point of each validation line: step {curves['dense AE'][-1][0]} of {n_steps}")
fig

# %% [markdown]
# The lines are the loss on fixed validation images, measured in eval mode every `log_every`
# steps by `LogEvery`, a callback `fit` calls after each step. The squares are `fit`'s training
# loss, averaged over each epoch's batches while the weights still improved, one reason a square
# can sit above validation (Appendix A).
#
# Where can an edge of the conv AE come from? Its first and last layers reuse one small filter at
# every position, so every image trains each filter at every position (the printed first- and
# last-layer counts). Most of its parameters sit in the two linear layers around the code. Fewer
# parameters do not mean less work: each convolution weight is used at every position. The cell
# counts the multiply-adds of one image.

# %%
def multiply_adds_per_image(model: nn.Module) -> int:
    """Multiply-adds of one forward pass of one 28x28 image through model's conv and linear layers."""
    total = 0

    def count(layer: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        nonlocal total
        if isinstance(layer, nn.Conv2d):  # every output value: in_channels x k x k weights
            total += output[0].numel() * layer.weight[0].numel()
        elif isinstance(layer, nn.ConvTranspose2d):  # every input value paints out_channels x k x k
            total += inputs[0][0].numel() * layer.weight[0].numel()
        elif isinstance(layer, nn.Linear):
            total += layer.weight.numel()

    hooks = [m.register_forward_hook(count) for m in model.modules()]
    with torch.no_grad():
        model(x_test[:1].to(next(model.parameters()).device))  # one image
    for hook in hooks:
        hook.remove()
    return total


work = {name: multiply_adds_per_image(m) for name, m in models.items()}
for name, n in work.items():
    print(f"{name:<20} {n:>9,} multiply-adds per image ({n / work['dense AE']:.1f} x the dense AE's)")
print(f"most work per image: {max(work, key=work.get)}; every conv model more than the dense AE: "
      f"{all(n > work['dense AE'] for name, n in work.items() if name != 'dense AE')}")

# %% [markdown]
# The upsampling decoder runs its convolutions on the larger, already upsampled maps. The table
# puts the models side by side: parameters, multiply-adds per image, test error, the paired $z$
# of each model's error against the conv AE's on the same test images ($z > 2$: higher beyond the
# test-image noise, $z < -2$: lower), dead second-layer channels (0 on every test image) and
# seconds of training plus validation. The "half" row is the conv AE trained for the upsampling
# twin's steps, its like-for-like partner.

# %%
t_name, u_name = "conv AE (transpose)", "conv AE (upsample)"
half_err = mse_per_pixel_per_image(t_half, x_test)  # (N,) the transposed copy after up_steps steps
main_rows = {  # name -> (model, steps, history, (N,) test errors)
    "dense AE": (models["dense AE"], n_steps, histories["dense AE"], per_image["dense AE"]),
    t_name: (conv_model, n_steps, histories[t_name], per_image[t_name]),
    "conv AE (transpose), half": (t_half, up_steps, t_half_history, half_err),
    u_name: (models[u_name], up_steps, histories[u_name], per_image[u_name])}
dead_masks = {}  # name -> [(C,) bool per conv ReLU], reused by Appendix E
print(f"{'model':<26} {'params':>7} {'mult-adds':>10} {'steps':>6} {'test MSE':>9} {'z vs conv':>10} "
      f"{'dead':>6} {'seconds':>8}")
for name, (model, n, history, err) in main_rows.items():
    z = "-" if name == t_name else f"{paired_z(err, per_image[t_name]):+.1f}"
    masks = dead_masks[name] = list(dead_channels(model, x_test).values())  # conv ReLUs only; [] if dense
    dead = f"{int(masks[1].sum())}/{len(masks[1])}" if len(masks) > 1 else "-"
    print(f"{name:<26} {count_parameters(model):>7,} {multiply_adds_per_image(model):>10,} {n:>6,} "
          f"{err.mean():>9.5f} {z:>10} {dead:>6} {sum(history['seconds']):>8.1f}")
z_up = paired_z(per_image[u_name], half_err)  # same steps, same rate: > 0 means upsample higher
up_word = "higher" if z_up > 2 else "lower" if z_up < -2 else "within the noise of"
print(f"In this run, at equal steps ({up_steps:,} each, rate {lr_conv:g}): the upsampling decoder's error was "
      f"{up_word}{'' if up_word.startswith('within') else ' than'} the transposed one's (z = {z_up:+.1f}).")

# %% [markdown]
# These verdicts hold for one seed at equal steps; Appendix A adds a second seed and BatchNorm,
# Appendix D gives the dense AE about the conv AE's time.

# %%
from course_utils.plots import rows_figure

show = x_test[:10]
with torch.no_grad():
    fig = rows_figure({"original": show, **{name: m.cpu()(show) for name, m in models.items()}},
                      title="the same 32-number code size: dense vs convolutional")
fig

# %% [markdown]
# With a 32-number code, fine printed textures (logos, plaid) are hard for any of these models
# to keep; judge the ranking by the test errors, not by eye.
#
# ## 4. What do convolutions buy? Shifted images
#
# A convolution is **shift equivariant**: shift its input and its output map shifts along
# (exactly for stride 1; for stride $s$ by multiples of $s$; away from the zero-padded border).
# Our conv AE is not equivariant as a whole: its encoder ends in a linear layer with a separate
# weight for every position of the $32 \times 7 \times 7$ map, and its decoder starts with one. A
# **fully convolutional** autoencoder replaces these two layers by $1 \times 1$ convolutions (and
# drops the per-pixel centring), so its code is a small map: one channel of $7 \times 7$, 49
# numbers. It is trained with the same recipe, at the conv AE's rate, for **half the steps** (to
# keep the lesson quick).

# %%
torch.manual_seed(0)
fully_conv = nn.Sequential(
    nn.Conv2d(1, 16, 3, stride=2, padding=1), nn.ReLU(),  # 28x28 -> 14x14
    nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),  # 14x14 -> 7x7
    nn.Conv2d(32, 1, kernel_size=1),  # the code: (B, 1, 7, 7), 49 numbers
    nn.Conv2d(1, 32, kernel_size=1), nn.ReLU(),  # (B, 32, 7, 7), like the linear layer + ReLU
    nn.ConvTranspose2d(32, 16, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),  # 7 -> 14
    nn.ConvTranspose2d(16, 1, 3, stride=2, padding=1, output_padding=1),  # 14x14 -> 28x28
    nn.Sigmoid(),
)
histories["fully conv AE"] = fit(fully_conv.to(course.device), x_train.to(course.device),
                                 x_valid.to(course.device), epochs=max(1, epochs // 2),  # half
                                 lr=chosen_lr["conv AE (transpose)"],
                                 batch_size=batch_size, callbacks=[CosineDecay(warmup_steps=warmup)], verbose=True)
fully_conv.eval()
models["fully conv AE"] = fully_conv
results["fully conv AE"] = mse_per_pixel_per_image(fully_conv, x_test).mean().item()
n_fully = count_parameters(fully_conv)
fc_mse, conv_mse = results["fully conv AE"], results["conv AE (transpose)"]
print(f"fully conv AE: {n_fully:,} parameters, code of 49 numbers ({49 / 32:.2f} x the 32 of the "
      f"other models), test MSE per pixel {fc_mse:.5f}")
print(f"vs conv AE (transpose): {n_fully / n_conv:.0%} of its {n_conv:,} parameters, "
      f"{fc_mse / conv_mse:.2f} x its test MSE {conv_mse:.5f}")
print(f"In this run: the fully conv AE's error was {fc_mse / conv_mse:.2f} times the conv AE's, "
      f"with {n_fully / n_conv:.0%} of its parameters, one code channel and "
      f"{max(1, epochs // 2)} of its {epochs} epochs.")

# %% [markdown]
# The ratio above, whichever side of 1 it falls, has no single cause: the fully conv AE differs
# in six ways, and this lesson does not separate them. Its code is **local** (each code cell sees
# a small window, so no number describes the garment's overall shape) and has 49 numbers, not 32;
# everything passes through **one channel**; it has fewer parameters, trained half as long, and
# has no per-pixel centring.
#
# The **receptive field** of a code cell is the set of input pixels that can change it. Layer by
# layer: a window starts as 1 pixel; a $k \times k$ convolution widens it by $k - 1$ steps of the
# current **jump** (1 at the input, multiplied by each stride): $1 + 2 \cdot 1 + 2 \cdot 2 = 7$
# pixels, with a jump of 4 (`receptive_field` in `course_utils.conv_probes`). The cell checks
# this against the gradient of one code cell (`measured_receptive_field`), then moves the images
# 4 pixels (one code cell) and compares the code maps away from the borders.

# %%
import copy

from course_utils.conv_filters import shift_images
from course_utils.conv_probes import measured_receptive_field, receptive_field

encoder_part = fully_conv[:5]  # (B, 1, 28, 28) -> (B, 1, 7, 7): the layers up to the code
computed = receptive_field(encoder_part, cell=3)  # the same for rows and columns
rows, cols = measured_receptive_field(encoder_part, x_test[:16], cell=(3, 3))
print(f"code cell (3, 3): computed window {computed[0]}-{computed[1]} ({computed[1] - computed[0] + 1} "
      f"pixels); measured rows {rows[0]}-{rows[1]}, columns {cols[0]}-{cols[1]}: "
      f"formula = measurement {computed == rows == cols}")
print(f"neighbouring cells are 4 pixels apart and see {computed[1] - computed[0] + 1} pixels: "
      f"their windows overlap by {computed[1] - computed[0] + 1 - 4}")
# a COPY of the layers up to the code: a slice shares its layers with fully_conv, so moving the
# slice itself (.cpu()) would leave half of fully_conv on another device
to_code = copy.deepcopy(encoder_part).cpu().eval()
with torch.no_grad():
    code, code_moved = to_code(x_test[:200]), to_code(shift_images(x_test[:200], 4))  # (200, 1, 7, 7)
moved_diff = (code_moved[..., 2:6] - code[..., 1:5]).abs().max().item()  # one cell along, inner
same_diff = (code_moved - code).abs().max().item()
print(f"image moved 4 px: code map moved one cell (inner columns), max difference {moved_diff:.1e}: "
      f"equivariant {moved_diff < 1e-4}")
print(f"image moved 4 px vs unmoved: code map changes by up to {same_diff:.2f} "
      f"(largest code value {code.abs().max():.2f}): invariant {same_diff < 1e-4}")

# %% [markdown]
# Now the test. The cell moves up to 2,000 test images 1, 2, 3, 4 and 8 pixels to the right, with
# black fill (`shift_images`: pixels leave the frame) and circularly (`torch.roll`: they wrap
# round), and measures each model's error. 4 pixels is one code cell of the fully conv AE, where
# its code map moves exactly (the "equivariant" line above), so if falling between code cells hurt it, 4 px
# would hurt less than 1-3 px.

# %%
x_shift, shifts = x_test[: course.pick(full=2000, fast=500)], (0, 1, 2, 3, 4, 8)
fills = {"black fill": shift_images, "circular": lambda x, s: torch.roll(x, s, dims=-1)}
print(f"{len(x_shift):,} test images, shifted by {shifts} pixels")
shift_per_image, shift_errors = {}, {}  # (fill, name) -> one (N,) error / one mean error per shift
for fill, move in fills.items():
    for name, m in models.items():
        errs = shift_per_image[fill, name] = [mse_per_pixel_per_image(m, move(x_shift, s)) for s in shifts]
        shift_errors[fill, name] = [e.mean().item() for e in errs]
        print(f"{fill:<10} {name:<19} " + "  ".join(f"{e:.5f}" for e in shift_errors[fill, name]))
growth = {name: shift_errors["black fill", name][3] / shift_errors["black fill", name][0] for name in models}
print("In this run, at 3 px (black fill) the error grew " + ", ".join(f"{g:.2f} x for the {n}" for n, g in growth.items())
      + f"; least hurt: {min(growth, key=growth.get)}.")
for fill in fills:
    e = shift_errors[fill, "fully conv AE"]  # 0, 1, 2, 3, 4, 8 px
    print(f"In this run ({fill}): the fully conv AE's error at 4 px, a whole code cell, was {e[4]:.5f}, "
          + (f"below every 1-3 px error ({min(e[1:4]):.5f}-{max(e[1:4]):.5f}), as falling between code cells "
             "would predict" if e[4] < min(e[1:4]) else
             f"not below the 1-3 px errors ({min(e[1:4]):.5f}-{max(e[1:4]):.5f}): falling between code cells "
             "does not explain all of its rise") + f"; at 8 px {e[5]:.5f}.")

# %%
# extra code – the error of each model against the shift, black fill (solid) and circular (dashed)
fig = NotebookFigure(figsize=(6.5, 3.6), layout="constrained")
ax = fig.subplots()
for name in models:
    line, = ax.plot(shifts, shift_errors["black fill", name], "-o", markersize=4, label=name)
    ax.plot(shifts, shift_errors["circular", name], "--", color=line.get_color())
ax.set(xlabel="shift to the right (pixels)", ylabel="test MSE per pixel", xticks=shifts,
       title="shifted test images: black fill (solid), circular (dashed)")
ax.grid(alpha=0.3)
ax.legend(fontsize=8)
fig

# %% [markdown]
# The dense AE has a weight for every position, the conv AEs in the linear layers around their
# code, fitted to garments at their usual place: a shifted garment meets weights that never saw
# its parts there (Appendix F separates these layers from the centring). The fully convolutional
# model has no weight tied to a position; the two lines about it say whether a whole-cell shift
# of 4 px, where its code moves exactly, hurt less than 1-3 px. Where it did not, part of the rise
# is not sub-cell; the likely source, not measured here, is the border: garment pixels pushed out
# of the frame (black fill) or wrapped round (circular), next to the zero padding. When positions vary, the usual remedy
# is to train on randomly shifted images; this lesson does not measure it. (VQ-VAE and latent
# diffusion's autoencoders keep such a spatial grid of codes.)
#
# ### A third design: a global-average-pooled code
#
# A third choice, common in classifiers: end the encoder with `nn.AdaptiveAvgPool2d((1, 1))`,
# which averages each channel's map over **all** positions, so the code is one number per channel
# (32 here). The property comes from the layers, so an untrained encoder shows it: the cell moves
# 500 test images by 1, 2 and 4 pixels, circularly (`torch.roll`) and with black fill, and prints
# how much each code changes, next to an untrained linear-bottleneck code. The unit is the
# distance between two different images' codes (0 = unchanged, 1 = as far as another garment).
# Its convolutions use circular padding, so a circular shift by the total stride (4 pixels) moves
# every map by whole cells, and the average cannot change.

# %%
torch.manual_seed(0)
gap_encoder = nn.Sequential(  # convolutions, then one average per channel: (B, 1, 28, 28) -> (B, 32)
    nn.Conv2d(1, 16, 3, stride=2, padding=1, padding_mode="circular"), nn.ReLU(),  # 28 -> 14
    nn.Conv2d(16, 32, 3, stride=2, padding=1, padding_mode="circular"), nn.ReLU(),  # 14 -> 7
    nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten())  # (B, 32, 7, 7) -> (B, 32, 1, 1) -> (B, 32)
torch.manual_seed(0)
bottleneck = ConvAutoencoder(n_latent=32).eval()  # untrained too: the linear-bottleneck design
x_few = x_test[:500]


def code_change(encode, moved: torch.Tensor) -> float:
    """Mean ||z(moved) - z(x)|| over the images, divided by the mean distance between two images' codes."""
    with torch.no_grad():
        z, z_moved = encode(x_few), encode(moved)  # (N, 32) each
    between = (z - z.roll(1, dims=0)).norm(dim=1).mean()  # each image's code vs the next image's
    return ((z_moved - z).norm(dim=1).mean() / between).item()


changes = {}  # name -> relative code changes: circular 1, 2, 4 px, then black fill 1, 2, 4 px
for name, encode in {"global-average code": gap_encoder, "linear-bottleneck code": bottleneck.encode}.items():
    circular = [code_change(encode, torch.roll(x_few, s, dims=-1)) for s in (1, 2, 4)]
    filled = [code_change(encode, shift_images(x_few, s)) for s in (1, 2, 4)]
    changes[name] = circular + filled
    print(f"{name:<23} code change (1 = another image), moved 1, 2, 4 px: circular "
          + ", ".join(f"{c:.3f}" for c in circular) + "; black fill " + ", ".join(f"{c:.3f}" for c in filled))
print("the global-average code changes less than the linear-bottleneck code at every shift: "
      f"{all(g < b for g, b in zip(*changes.values(), strict=True))}; at 1 px (black fill) the "
      f"bottleneck code moved {changes['linear-bottleneck code'][3] / changes['global-average code'][3]:.1f} "
      f"times as far")
with torch.no_grad():
    rolled = torch.roll(x_few, 4, dims=-1)  # (500, 1, 28, 28): every garment 4 px to the right
    same = torch.allclose(gap_encoder(rolled), gap_encoder(x_few), atol=1e-5)
print(f"global-average code of the images rolled 4 px = code of the originals: {same}; the images "
      f"themselves differ by {(rolled - x_few).abs().mean():.3f} per pixel on average")

# %% [markdown]
# A global-average code can be **invariant**: the rolled images differ, yet their codes can be
# equal (last line), and then no decoder can tell them apart. It keeps **what** is in the image
# and throws away **where**. Shifts of 1 or 2 pixels can change it, because a stride-2 layer
# samples every second position. (Appendix F trains a global-average-pooled autoencoder.)

# %% [markdown]
# ### What the first layer learned
#
# Top row: the centred test image $x - \bar x$ that the first convolution receives (red above the
# mean image, blue below), then the $3 \times 3$ filters of the 8 most active live channels of the
# conv AE's first convolution (largest mean map value over the test images, `channel_activity`).
# Bottom row: what each filter makes of that image after its
# ReLU, one filter applied at every second position, hence $14 \times 14$. Each row has one colour
# scale.

# %%
from course_utils.conv_filters import channel_activity, dead_channels, first_layer_figure

first_conv_model = models["conv AE (transpose)"]
first_block = copy.deepcopy(first_conv_model.encoder[:2]).cpu()  # conv + ReLU: (1, 1, 28, 28) -> (1, 16, 14, 14)
centred = x_test[:1] - first_conv_model.input_mean.cpu()  # (1, 1, 28, 28): what the first layer sees
with torch.no_grad():
    maps, maps_moved = first_block(centred)[0], first_block(shift_images(centred, 4))[0]  # (16, 14, 14)
print(f"first layer, its input moved 4 pixels right: every map moves 2 cells right (stride 2), "
      f"unchanged otherwise: {torch.allclose(maps_moved[..., 2:], maps[..., :-2], atol=1e-5)}")
first_dead = next(iter(dead_channels(first_conv_model, x_test).values()))  # (16,): True = 0 on every test image
activity = channel_activity(first_conv_model, x_test)  # (16,): mean map value, 0 for a dead channel
shown = [int(j) for j in activity.argsort(descending=True) if activity[j] > 0][:8]  # live, most active
print(f"first layer: {int(first_dead.sum())} of {len(first_dead)} channels dead on all "
      f"{len(x_test):,} test images; shown: the {len(shown)} most active live channels {shown}")
first_layer_figure(first_conv_model, x_test[0], channels=shown)

# %% [markdown]
# Each map is bright wherever the patch under the filter matches its weights, wherever that patch
# lies; since the centred image's background is blue wherever the mean image is bright, some maps
# light up on the background. The printed check makes "learned once, found everywhere" exact:
# move the layer's input and its maps move with it, unchanged.
#
# ## 5. Checkerboard artefacts
#
# A stride-2 transposed convolution paints each input pixel's kernel onto the output, two pixels
# apart (the figure of section 1). With a $3 \times 3$ kernel the patches overlap unevenly: some output pixels receive one
# contribution, some two, some four. Feed a **constant** image of 1s through all-ones weights and
# each output value counts its contributions: a checkerboard. Upsampling first and then
# convolving gives every output pixel the same nine contributions. `parity_contrast` measures a
# grid: how much the means of the four pixel parities (even/odd row, even/odd column) differ,
# relative to the overall mean (0 = no grid), skipping a border of `kernel_size // 2 + 1` pixels
# that zero padding reaches.

# %% [markdown]
# The next cell measures the grid on a larger input:

# %%
from course_utils.conv import overlap_figure, overlap_maps
from course_utils.conv_probes import parity_contrast

for k in (3, 4):
    t_map, u_map = overlap_maps(kernel_size=k, stride=2)
    border = k // 2 + 1  # away from the zero padding
    print(f"kernel {k}, stride 2: parity contrast transpose "
          f"{parity_contrast(t_map, border=border):.2f}, upsample + conv "
          f"{parity_contrast(u_map, border=border):.2f}")
overlap_figure(kernel_size=3, stride=2)

# %% [markdown]
# The left panel is a grid of 1s, 2s and 4s, $11 \times 11$ because this layer has no
# `output_padding`: $(6 - 1) \cdot 2 - 2 \cdot 1 + 3 = 11$. The right panel is 9 everywhere except
# at the border. With kernel 4 and stride 2 the overlap is even (every inner pixel gets four
# contributions), and the printed flat-input contrast is 0.
#
# ### Even overlap is not enough: four kernels in one
#
# Each output pixel of a stride-2 transposed convolution is reached only by the kernel taps of the
# right parity. With kernel 3 and padding 1, an (even, even) pixel gets the centre tap $w_{11}$
# alone, an (even, odd) pixel $w_{10}, w_{12}$, an (odd, even) pixel $w_{01}, w_{21}$, and an
# (odd, odd) pixel the four corners: **four small convolutions**, interleaved. On a flat input
# each parity class gets the sum of its own sub-kernel's taps: 1, 2, 2, 4 for all-ones weights.
# With kernel 4 each class gets a $2 \times 2$ sub-kernel, so all-ones weights give 4 everywhere,
# but **learned** weights give four different sums. The cell checks this with random weights:

# %%
torch.manual_seed(0)
for k in (3, 4):
    layer = nn.ConvTranspose2d(1, 1, k, stride=2, padding=(k - 1) // 2, bias=False)
    w = layer.weight.detach()[0, 0]  # (k, k) random weights
    with torch.no_grad():
        out = layer(torch.ones(1, 1, 8, 8))[0, 0]  # a flat input of 1s
    inner = out[4:-4, 4:-4]  # away from the border; starts at row 4, so parities are kept
    p = (k - 1) // 2  # padding: output row o gets the taps t with t = o + p (mod 2)
    measured = torch.tensor([inner[r::2, c::2].mean() for r in (0, 1) for c in (0, 1)])  # (4,)
    predicted = torch.stack([w[(r + p) % 2::2, (c + p) % 2::2].sum() for r in (0, 1) for c in (0, 1)])
    print(f"kernel {k}: flat-input output by parity {measured.numpy().round(3)}, sub-kernel sums "
          f"{predicted.numpy().round(3)}: equal {torch.allclose(measured, predicted, atol=1e-5)}; "
          f"all four alike {bool(measured.max() - measured.min() < 1e-3)}")

# %% [markdown]
# The four measured values equal the four sub-kernel sums, and they differ: a random kernel 4,
# with its perfectly even overlap, still paints a grid on a flat input. Odena, Dumoulin and Olah
# ("Deconvolution and checkerboard artifacts", Distill 2016) make the same point. Try kernels and strides with the sliders (all weights 1, as in the figure above).

# %% tags=["nbval-ignore-output"]
from course_utils.conv import overlap_view

overlap_view()

# %% [markdown]
# ### Upsample + convolution is a transposed convolution with tied taps
#
# Copying each pixel into a $2 \times 2$ block is itself a stride-2 transposed convolution with a
# $2 \times 2$ kernel of ones. Followed by a $3 \times 3$ convolution, the pair is ONE stride-2
# transposed convolution with a $4 \times 4$ kernel, the nine weights turned by 180° and summed
# over $2 \times 2$ blocks of the zero-padded kernel: the four inner taps add four weights, the
# edge taps two, the corners one (`upsample_conv_kernel` in `course_utils.conv`). The tying
# makes the four sub-kernels sum to the same number, the sum of the nine weights, **whatever the
# weights are**, and the overlap is even: a flat input comes out flat, trained or not. The cell
# checks this and prints the four sums.

# %%
from course_utils.conv import upsample_conv_kernel

torch.manual_seed(0)
conv3 = nn.Conv2d(1, 1, 3, padding=1, bias=False)  # random 3x3 weights, keeps the size
pair = nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), conv3)  # 7x7 -> 14x14
kernel = upsample_conv_kernel(conv3.weight[0, 0])  # (4, 4): sums of 2x2 blocks of the weights
tied_taps = nn.ConvTranspose2d(1, 1, 4, stride=2, padding=1, bias=False)  # 7x7 -> 14x14
with torch.no_grad():
    tied_taps.weight.copy_(kernel[None, None])
    x_small = torch.randn(1, 1, 7, 7)
    same = torch.allclose(tied_taps(x_small), pair(x_small), atol=1e-6)
sub_sums = torch.stack([kernel[r::2, c::2].sum() for r in (0, 1) for c in (0, 1)])  # (4,)
print("the 4x4 kernel:\n", kernel.detach().numpy().round(3))
print(f"ConvTranspose2d(kernel 4, stride 2) with this kernel = Upsample + Conv2d(3x3): {same}")
turned = conv3.weight[0, 0].flip(0, 1)  # (3, 3) turned by 180 degrees
print(f"its 4 corner taps are the turned 3x3 kernel's corners, single weights: "
      f"{torch.equal(kernel[::3, ::3], turned[::2, ::2])}")
print(f"sub-kernel sums by parity {sub_sums.detach().numpy().round(3)}, sum of the nine weights "
      f"{conv3.weight.sum():.3f}: all four equal {bool(sub_sums.max() - sub_sums.min() < 1e-5)}")

# %% [markdown]
# What does this mean for a decoder? Here is what one untrained decoder of each kind paints for
# eight random codes, each output stretched to the full grey range so that the texture is visible.

# %%
torch.manual_seed(0)
untrained = {kind: ConvAutoencoder(n_latent=32, decoder=kind) for kind in ("transpose", "upsample")}
z = torch.randn(8, 32)  # eight random codes
with torch.no_grad():
    outs = {kind: m.decode(z) for kind, m in untrained.items()}  # (8, 1, 28, 28) each
rows_figure(outs, n=8, vmin=None, vmax=None,  # no fixed grey scale: each image is stretched
            title="untrained decoders, random codes (contrast stretched per image)")

# %% [markdown]
# The transposed decoder's textures carry the grid of its sub-kernels; the upsampling decoder's
# are smooth blocks. Training can weaken or keep such a grid, so measure it on your own decoder:
# Appendix C does this for the trained decoders, in logits and in pixels, against a floor.

# %% [markdown]
# ## Summary
#
# - Strided convolutions shrink 28 to 14 to 7; transposed convolutions or upsample + convolution
#   grow it back. A transposed convolution is the adjoint (the input-gradient) of a convolution,
#   not its inverse.
# - The conv AE has fewer parameters than the dense AE, most of them in the linear layers around
#   the code, but more multiply-adds per image; section 3's table and the cell below say who was
#   ahead in this run.
# - A linear bottleneck ties a conv AE to positions; a fully convolutional one is
#   shift-equivariant for shifts by multiples of its total stride, not shift-invariant; a
#   global-average code can be invariant and loses where things are. A code cell's receptive
#   field follows from the sizes, strides and paddings.
# - A stride-2 transposed convolution is four small convolutions interleaved: uneven overlap or
#   unequal sub-kernel sums paint a checkerboard even on a flat input. Upsample + convolution has
#   equal sums, yet can climb a ramp in two unequal steps (Appendix G). Appendix C measures the
#   trained decoders' grids.
# - Appendices (optional): BatchNorm and the training curve (A), an LSTM autoencoder (B), seeds,
#   codes and grids (C), the dense AE at the conv AE's time (D), dead channels (E), centring and
#   a trained global-average code (F), ramps (G), common mistakes (H).

# %%
print(f"In this run: at equal steps ({n_steps:,} each, seed 0) the conv AE's error was "
      f"{'lower than' if z_cd < -2 else 'higher than' if z_cd > 2 else 'within the noise of'} the dense AE's "
      f"(z = {z_cd:+.1f}); at {up_steps:,} steps each the upsampling decoder's was {up_word}"
      f"{'' if up_word.startswith('within') else ' than'} the transposed one's (z = {z_up:+.1f}).")
g_fc = shift_errors["black fill", "fully conv AE"]
g_t = shift_errors["black fill", t_name]
print(f"In this run: a 4-pixel shift (black fill) {'raised' if g_fc[4] > g_fc[0] else 'lowered'} the fully conv "
      f"AE's error from {g_fc[0]:.5f} to {g_fc[4]:.5f} and {'raised' if g_t[4] > g_t[0] else 'lowered'} the "
      f"conv AE's from {g_t[0]:.5f} to {g_t[4]:.5f}.")

# %% [markdown]
# ## Appendix A: BatchNorm, and the training curve against validation
#
# Optional: what `BatchNorm2d` computes, whether it helps this autoencoder (with a second seed),
# why section 3's training squares can sit above the validation line, and what a BatchNorm model
# computes when `model.eval()` is forgotten.

# %% [markdown]
# ### What BatchNorm2d normalises over
#
# A `BatchNorm2d` layer computes **one mean and one variance per channel**, over everything that
# channel holds in the batch: all $N$ images and all $H \times W$ positions. For channel $c$,
# $$ \mu_c = \operatorname{mean}_{n, h, w}\, a_{n c h w}, \qquad
#    \sigma_c^2 = \operatorname{mean}_{n, h, w}\, (a_{n c h w} - \mu_c)^2, \qquad
#    \text{out}_{n c h w} = \gamma_c\, \frac{a_{n c h w} - \mu_c}{\sqrt{\sigma_c^2 + \epsilon}}
#    + \beta_c . $$
# So it is not "over the batch" alone: a filter's response is normalised across positions too.
# The cell checks the formula against
# PyTorch, and shows that normalising over the images alone (a separate mean per pixel
# position) is a different computation.

# %%
bn = nn.BatchNorm2d(16)  # a fresh layer: gamma = 1, beta = 0, in training mode
with torch.no_grad():
    a = bn_encoder[0](x_train[:64])  # (64, 16, 14, 14): the first convolution's output
    mu = a.mean(dim=(0, 2, 3), keepdim=True)  # (1, 16, 1, 1): one mean per channel
    var = a.var(dim=(0, 2, 3), unbiased=False, keepdim=True)  # (1, 16, 1, 1)
    by_hand = (a - mu) / torch.sqrt(var + bn.eps)
    per_position = (a - a.mean(dim=0)) / torch.sqrt(a.var(dim=0, unbiased=False) + bn.eps)
    out = bn(a)
print(f"BatchNorm2d = normalise each channel over (N, H, W): {torch.allclose(out, by_hand, atol=1e-5)}")
print(f"BatchNorm2d = normalise over the images alone (N): "
      f"{torch.allclose(out, per_position, atol=1e-5)}")
tiny_bn, tiny = nn.BatchNorm2d(16), a[:2, :, 6:8, 6:8]  # 2 images x 4 central positions: n = 8
with torch.no_grad():
    tiny_bn(tiny)  # one training-mode step from running_var = 1
for label, unbiased in (("1/(n-1), unbiased", True), ("1/n, biased", False)):
    target = tiny.var(dim=(0, 2, 3), unbiased=unbiased)  # (16,)
    match = torch.allclose(tiny_bn.running_var, 0.9 * 1 + 0.1 * target, rtol=1e-5, atol=0)
    print(f"running_var after one step = 0.9 x 1 + 0.1 x batch variance with {label}: {match}")

# %% [markdown]
# ### Training mode vs `eval()`
#
# In **training mode** BatchNorm uses the current batch's statistics, so one image's output
# depends on its companions, and every forward pass (even under `torch.no_grad()`) moves the
# stored `running_mean` and `running_var` 10% of the way toward the batch's values
# (`momentum=0.1`; `running_var` moves toward the unbiased variance, with $1/(n-1)$). After `model.eval()` BatchNorm uses the stored averages: a fixed scale and
# shift per channel, so each image's output depends on that image alone. `fit` calls
# `model.train()` before every epoch; `predict` and `evaluate` switch to eval mode and restore the
# previous mode after. When you call `model(x)` yourself, call `model.eval()` first. The cell
# feeds image 0 to a BatchNorm layer twice, with two different sets of companions:

# %%
bn = nn.BatchNorm2d(16)
with torch.no_grad():
    a_1 = bn_encoder[0](x_train[:8])  # image 0 with images 1-7
    a_2 = bn_encoder[0](torch.cat([x_train[:1], x_train[100:107]]))  # image 0 with 7 others
    bn.train()
    stored = bn.running_mean.clone()
    change_train = (bn(a_1)[0] - bn(a_2)[0]).abs().max().item()
    moved = (bn.running_mean - stored).abs().max().item()
    bn.eval()
    change_eval = (bn(a_1)[0] - bn(a_2)[0]).abs().max().item()
print(f"training mode: image 0's output changes with its companions by up to {change_train:.3f}")
print(f"training mode: the two forward passes moved running_mean by up to {moved:.4f}")
print(f"eval mode: image 0's output changes by {change_eval:.3f} (stored averages)")

# %% [markdown]
# ### Does BatchNorm help? One step at a time
#
# The chain below goes from the dense AE to the conv AE and then adds BatchNorm, changing **one
# thing per step**, with the same data, steps, schedule and seed. On image classifiers BatchNorm
# allowed much larger learning rates (Ioffe and Szegedy, 2015; their explanation, "internal
# covariate shift", is contested: Santurkar et al., 2018, found that it mainly makes the loss
# surface smoother), so the BatchNorm model gets its own search over the same three rates,
# chosen on the validation images; the step to it changes the layers and, if the search picks
# another one, the rate.

# %%
bn_name = "conv AE + BatchNorm"  # the conv AE with BatchNorm: its own three-rate search
bn_build = lambda: ConvAutoencoder(n_latent=32, decoder="transpose", batch_norm=True,  # noqa: E731
                                   input_mean=mean_image)
bn_model, histories[bn_name], _, lr_bn = search_rates(bn_name, bn_build, rates)
chosen_lr[bn_name] = lr_bn
bn_err = {lr: mse_per_pixel_per_image(run[0], x_test) for lr, run in searched[bn_name].items()}  # (N,) each
bn_test = {lr: err.mean().item() for lr, err in bn_err.items()}
print(f"{bn_name}: test MSE per pixel " + ", ".join(f"{lr:g}: {e:.5f}" for lr, e in bn_test.items())
      + f"; conv AE at {lr_conv:g}: {results['conv AE (transpose)']:.5f}")
print(f"In this run: BatchNorm's best validation rate {lr_bn:g} was "
      + ("larger than" if lr_bn > lr_conv else "smaller than" if lr_bn < lr_conv else "the same as")
      + f" the conv AE's {lr_conv:g}; at every rate tried, its test error was "
      + ("above" if min(bn_test.values()) > results["conv AE (transpose)"] else "not always above")
      + " the conv AE's.")
chain = {"dense AE": models["dense AE"], "conv AE": models["conv AE (transpose)"], bn_name: bn_model}
chain_err = {"dense AE": per_image["dense AE"], "conv AE": per_image["conv AE (transpose)"],
             bn_name: bn_err[lr_bn]}  # (N,) test errors of each, computed above
print("test MSE per pixel: " + ", ".join(f"{n} {err.mean():.5f}" for n, err in chain_err.items()))
names = list(chain)
steps_taken = {"1. the layers: dense AE -> conv AE": (names[0], names[1]),
               "2. adding BatchNorm: conv AE -> conv AE + BatchNorm": (names[1], names[2])}
bn_change = chain_err[bn_name].mean().item() - chain_err["conv AE"].mean().item()
z_bn = paired_z(chain_err[bn_name], chain_err["conv AE"])  # > 0: BatchNorm higher
print(f"In this run (seed 0): at its own rate {lr_bn:g}, BatchNorm "
      f"{'raised' if bn_change > 0 else 'lowered'} the test error by {abs(bn_change):.5f} (z = {z_bn:+.1f}).")

# %% [markdown]
# One seed is not enough to trust a sign. The next cell trains the dense AE and the conv AE again
# from seed 1 (other initial weights and batch order), each at its rate above. The BatchNorm model
# gets no second seed: the lesson spends that time on its rate search (`rep_seeds` and `bn_seeds`
# add seeds). Appendix C prints every seed's errors.

# %%
rep_seeds = (1,)  # the extra seeds: same recipe and rates, no search; e.g. (1, 2, 3) for more
bn_seeds = ()  # the extra seeds for the BatchNorm model too, e.g. rep_seeds
chain_build = {"dense AE": builds["dense AE"], "conv AE": builds["conv AE (transpose)"], bn_name: bn_build}
chain_rate = {"dense AE": chosen_lr["dense AE"], "conv AE": lr_conv, bn_name: lr_bn}
seed_err = {seed: {n: err.mean().item() for n, err in chain_err.items()}}  # seed -> model -> MSE
for extra_seed in rep_seeds:
    seed_err[extra_seed] = {n: mse_per_pixel_per_image(train(build, chain_rate[n], run_seed=extra_seed)[0],
                                                       x_test).mean().item()
                            for n, build in chain_build.items() if n != bn_name or extra_seed in bn_seeds}
n_s = len(seed_err)
bn_at = [s for s in seed_err if bn_name in seed_err[s]]
conv_wins = sum(seed_err[s]["conv AE"] < seed_err[s]["dense AE"] for s in seed_err)
bn_raised = sum(seed_err[s][bn_name] > seed_err[s]["conv AE"] for s in bn_at)
print(f"In this run: the conv AE's test error was lower than the dense AE's at {conv_wins} of {n_s} seeds "
      f"(" + ", ".join(f"seed {s}: {seed_err[s]['conv AE']:.5f} vs {seed_err[s]['dense AE']:.5f}"
                       for s in seed_err) + ").")

# %% [markdown]
# Super-resolution networks, which also output exact pixel values, dropped BatchNorm (EDSR,
# Lim et al., 2017; ESRGAN, Wang et al., 2018); this lesson does not test why. BatchNorm's sign
# above holds for this model, three rates and one seed, not for autoencoders in general; where its
# search printed "unbracketed", a rate beyond the edge might change it. The rest
# of the lesson studies the conv AE without BatchNorm.

# %% [markdown]
# ### The training curve against validation
#
# **Why can the training curve (the squares) sit above the validation curve?** Three reasons, none of
# them a bug. (1) A training square is the *average over the epoch's batches*, each measured
# with the weights of that moment, which were still improving; a point of the validation line is
# measured with the weights of its own step (fixed images every 100 steps), so its last point
# comes at the last multiple of 100 steps, before the end (the figure's cell prints which step,
# of how many). (2) In a model with BatchNorm, training normalises with
# the statistics of each batch; validation runs in eval mode with the stored averages, a
# slightly different function. (3) The two sets hold different images. The cell below
# separates the first two effects from the rest: it measures the training error again, in eval
# mode, with the final weights, on the first 10,000 training images (all of them when there are
# fewer; the cell prints how many), for the three models and the BatchNorm model of the chain.

# %%
x_remeasure = x_train[:10_000]
print(f"re-measured on {len(x_remeasure):,} training images")
above, overfit = {}, {}
for name, model in {**{n: models[n] for n in builds}, bn_name: bn_model}.items():
    curve, valid = histories[name]["train_loss"][-1], histories[name]["valid_loss"][-1]
    again = evaluate(model, x_remeasure.to(course.device))["loss"]  # eval mode, final weights
    above[name], overfit[name] = curve > again, again < 0.95 * valid
    print(f"{name:<20} last epoch: training curve {curve:6.2f} -> measured again {again:6.2f}; "
          f"validation {valid:6.2f} (again / validation = {again / valid:.2f})")
print(f"the training curve's last point lies above the re-measured error for every model: "
      f"{all(above.values())}")
print(f"a model fits its training images clearly better (by over 5%) than validation images: "
      f"{any(overfit.values())}")

# %% [markdown]
# The gap between a training curve's last point and the re-measured training error is what the
# epoch average and, for the BatchNorm model only, training-mode BatchNorm added, plus, when there are more than 10,000 training images, the change of image
# set: the curve averages over all of them, the re-measurement uses the first 10,000. The ratio to
# validation is the overfitting test: a re-measured training
# error clearly *below* validation would mean the model fits its own training images better than
# new ones; then the training curve can end *below* validation, as it does on a small training
# set. The two verdict lines say what this run shows; a ratio near 1 leaves only the third
# reason, that the two sets hold different images.
#
# ### What forgetting `eval()` does to a trained model
#
# The cell runs a copy of the trained BatchNorm model (the chain above) on the first 500 test images (the cell
# prints how many there are) in training mode,
# in batches of 8 and of 1 image, and compares with eval mode. (A copy, because training-mode
# forward passes would overwrite the running averages of the real model.)

# %%
careless = copy.deepcopy(bn_model).cpu().train()  # forgot model.eval()
x_few = x_test[:500]
print(f"{len(x_few):,} test images")
with torch.no_grad():
    for batch in (8, 1):
        error = torch.cat([((careless(xb) - xb) ** 2).mean(dim=(1, 2, 3))  # (b,) per image
                           for xb in x_few.split(batch)])
        print(f"training mode, batches of {batch}: test MSE per pixel {error.mean():.5f}")
eval_error = mse_per_pixel_per_image(bn_model, x_few).mean().item()
print(f"eval mode (any batch size):    test MSE per pixel {eval_error:.5f}")

# %% [markdown]
# In training mode each answer depends on the batch it came in: the same image gets a
# different reconstruction in a batch of 8 than alone, and a batch of one image normalises each
# channel with that image's own statistics. Eval mode gives one answer per image. The printed
# errors say how much that costs this model; whatever their size, a model with BatchNorm is
# evaluated in eval mode.

# %% [markdown]
# ## Appendix B: an LSTM autoencoder reads rows
#
# Optional: a sequence model on images, its shapes and its cost per training step.
#
# Images can also be read as sequences: 28 time steps, each a row of 28 pixels. An LSTM encoder
# reads the rows top to bottom; a linear layer maps its last hidden state (128 numbers) to the
# 32-number code. The decoder starts a second LSTM from a hidden state computed from the code,
# feeds it the same code at every one of the 28 steps, and turns each step's output into one row
# of 28 pixels. It is `LSTMAutoencoder` in `course_utils.conv`; the cell builds one, prints its
# layers, and writes its encoder out in three lines to check it against `encode`.

# %%
from course_utils.conv import LSTMAutoencoder

torch.manual_seed(0)
lstm = LSTMAutoencoder(n_latent=32, hidden=128)
print(format_shape_table(shape_table(lstm, x_test[:2]), input_shape=(2, 1, 28, 28)))
with torch.no_grad():
    rows = x_test[:4].squeeze(1)  # (4, 1, 28, 28) -> (4, 28 steps, 28 pixels)
    _, (h_last, _) = lstm.encoder_rnn(rows)  # h_last: (1 layer, 4, 128), after the 28th row
    z = lstm.to_code(h_last[-1])  # (4, 128) -> (4, 32): the code
    print(f"these three lines = lstm.encode: {torch.allclose(z, lstm.encode(x_test[:4]))}")

# %% [markdown]
# Two things can make an LSTM slow. Its 28 steps run one after the other, each waiting for the
# previous one, where a convolution processes all positions at once; and every step computes
# four gates from the row and the 128-number state, which is a lot of arithmetic. The cell times
# one training step (forward and backward pass on a batch of 128 images) of each model on this
# machine, and counts each model's multiply-adds per image (for the LSTM by hand: 4 gates x 128
# units x (inputs + 128) per step, for each of the two LSTMs), so that the two can be compared.

# %%
import time


def seconds_per_step(model: nn.Module, x: torch.Tensor, repeats: int = 5) -> float:
    """Median time of one forward + backward pass of the squared error on the batch x."""

    def wait_for_gpu() -> None:  # a GPU runs asynchronously: wait until the work is done
        if x.is_cuda:
            torch.cuda.synchronize()

    times = []
    for _ in range(repeats):
        wait_for_gpu()
        start = time.perf_counter()
        ((model(x) - x) ** 2).sum().backward()
        wait_for_gpu()  # otherwise the clock would only see the kernels being launched
        times.append(time.perf_counter() - start)
    model.zero_grad()
    return sorted(times)[len(times) // 2]


x_batch = x_train[:batch_size].to(course.device)
lstm = lstm.to(course.device).train()
step_lstm = seconds_per_step(lstm, x_batch)
conv_copy = copy.deepcopy(models["conv AE (transpose)"]).to(course.device).train()  # see section 2
step_conv = seconds_per_step(conv_copy, x_batch)
print(f"one training step: LSTM AE {1000 * step_lstm:.0f} ms, conv AE (transpose) "
      f"{1000 * step_conv:.0f} ms: the LSTM is {step_lstm / step_conv:.1f} times as slow")
n_rows = 28  # steps of each LSTM: one per row
work_lstm = (n_rows * sum(r.weight_ih_l0.numel() + r.weight_hh_l0.numel()  # (4 x 128) x (in + 128)
                          for r in (lstm.encoder_rnn, lstm.decoder_rnn))
             + lstm.to_code.weight.numel() + lstm.from_code.weight.numel()  # once per image
             + n_rows * lstm.to_row.weight.numel())  # one row of 28 pixels per step
work_ratio, time_ratio = work_lstm / work["conv AE (transpose)"], step_lstm / step_conv
print(f"multiply-adds per image: LSTM AE {work_lstm:,}, conv AE (transpose) "
      f"{work['conv AE (transpose)']:,}: {work_ratio:.1f} times as many")
print(f"time ratio {time_ratio:.1f} below the multiply-add ratio {work_ratio:.1f} (the LSTM does more "
      f"multiply-adds per second than the conv AE here): {time_ratio < work_ratio}")

# %% [markdown]
# If the last line says True, the LSTM got through more arithmetic per second than the conv AE
# in this one timing: that fits the amount of work per image, rather than the waiting between
# steps, as what makes it slow here, but the conv AE's small convolutions (16 and 32 channels)
# may also just run inefficiently on this machine, so it is a hint, not a finding. If it says
# False, the LSTM also uses the machine less well, and its 28 small steps, one after the other,
# are one likely reason (a GPU, which needs large computations to keep busy, often shows this).
# One timing cannot separate these causes.
#
# This section shows the shapes and the cost only: to keep the lesson quick, it does not train
# the LSTM. To train it yourself, run `fit(lstm, x_train, x_valid, epochs=epochs, lr=3e-3)` and
# compare its test error with the conv AE's; the timing above tells you roughly how long that
# takes on your machine. Sequence
# autoencoders are at home on data that really is sequential (audio, sensor series, text).

# %% [markdown]
# ## Appendix C: seeds, using the codes, and a noise floor for grids
#
# Optional: how much section 3's verdicts move with the training seed, what the 32-number codes
# are good for, and how strongly untrained decoders paint a grid. The $z$ values of section 3
# and Appendix A measure the test-image noise only. If a step made no difference and only luck set each sign, the
# two seeds would agree one time in two, so their agreement is weak evidence on its own. The cell
# prints each seed's test errors and the fall along each step of the chain.

# %%
print(f"test MSE per pixel at seeds {', '.join(map(str, seed_err))} (rates as in section 3):")
for n in names:
    print(f"    {n:<20} " + ", ".join(f"{seed_err[s][n]:.5f}" if n in seed_err[s] else "-" for s in seed_err))
for step, (before, after) in steps_taken.items():
    diffs = [seed_err[s][before] - seed_err[s][after] for s in seed_err if after in seed_err[s]]
    print(f"    {step.split(':')[0]}: fall " + ", ".join(f"{d:+.5f}" for d in diffs))

# %% [markdown]
# ### Details behind a main-path line
#
# Each step of Appendix A's chain at seed 0, as $z$: the mean change divided by its standard
# error, image by image on the test images ($|z| \le 2$ is "within the test-image noise").

# %%
for step, (before, after) in steps_taken.items():
    drop = chain_err[before] - chain_err[after]  # (N,): fall of each test image's error
    se = drop.std().item() / len(drop) ** 0.5
    z = drop.mean().item() / se
    verdict = ("within the test-image noise: no measurable change" if abs(z) <= 2
               else "lowers the test error" if z > 0 else "RAISES the test error")
    print(f"    {step}: {drop.mean():+.5f} (standard error {se:.5f}, z = {z:+.1f}): {verdict}")


# %% [markdown]
# ### Using the codes: nearest neighbours and interpolation
#
# A code is useful beyond reconstruction if similar garments get nearby codes. For 500 test
# queries the cell finds the 5 test images (among the others) whose codes are nearest, for the
# dense AE and the conv AE of section 3, and counts how many share the query's class, with raw
# pixels as the reference (the labels only score the codes, as in lesson 02). The figure shows 3
# queries, each titled "same" or "other" class.

# %%
from course_utils.plots import images_figure

y_test = data.test.y
n_q = min(500, len(x_test) // 2)  # queries: the first n_q test images; references: the rest
code_models = {"dense AE": models["dense AE"], "conv AE": models["conv AE (transpose)"]}
spaces = {"pixels": x_test.flatten(1)}  # (N, 784)
with torch.no_grad():
    for name, m in code_models.items():
        spaces[name] = torch.cat([m.cpu().encode(xb) for xb in x_test.split(1000)])  # (N, 32)
nearest, share = {}, {}
for name, z_all in spaces.items():
    nearest[name] = torch.cdist(z_all[:n_q], z_all[n_q:]).topk(5, largest=False).indices + n_q  # (n_q, 5)
    share[name] = (y_test[nearest[name]] == y_test[:n_q, None]).float().mean(dim=1)  # (n_q,) per query
print(f"In this run: of the 5 nearest of {len(x_test) - n_q:,} test images, the share with the query's "
      f"class was {share['conv AE'].mean():.1%} in the conv AE's code space, {share['dense AE'].mean():.1%} "
      f"in the dense AE's and {share['pixels'].mean():.1%} in pixel space ({n_q} queries).")
for other in ("dense AE", "pixels"):
    d = share["conv AE"] - share[other]  # (n_q,): paired, query by query
    se = d.std().item() / n_q**0.5
    print(f"    conv AE - {other}: {d.mean():+.1%} (paired SE {se:.1%}): "
          + ("within the query noise" if abs(d.mean()) <= 2 * se else "beyond the query noise"))
tiles, tile_titles = [], []
for q in range(3):
    tiles.append(x_test[q])
    tile_titles.append("query")
    for name in code_models:
        tiles += [x_test[i] for i in nearest[name][q]]
        tile_titles += [(f"{name[:-3]}: " if j == 0 else "") + ("same" if y_test[i] == y_test[q] else "other")
                        for j, i in enumerate(nearest[name][q])]
images_figure(torch.stack(tiles), ncols=11, titles=tile_titles, size=1.05, titles_size=9,
              title="query | 5 nearest in the dense AE's code space | 5 nearest in the conv AE's")

# %% [markdown]
# The next cell walks a straight line between the codes of two garments of different classes,
# decodes 8 points along it with each model, and shows the pixel-by-pixel blend of the two images
# for comparison. Nothing trains these models to decode the codes between two garments well, so
# the midpoints show what each decoder makes of codes it was never given.

# %%
a_idx = 0
b_idx = int((y_test != y_test[a_idx]).nonzero()[0, 0])  # the first test image of another class
t = torch.linspace(0, 1, 8)[:, None]  # (8, 1): 0 = the first garment, 1 = the second
pair_x = x_test[[a_idx, b_idx]]  # (2, 1, 28, 28)
strips = {"pixel blend": (1 - t[:, :, None, None]) * pair_x[0] + t[:, :, None, None] * pair_x[1]}
with torch.no_grad():
    for name, m in code_models.items():
        z_ab = m.encode(pair_x)  # (2, 32)
        strips[name] = m.decode((1 - t) * z_ab[0] + t * z_ab[1]).reshape(8, 1, 28, 28)
print(f"classes: {data.classes[int(y_test[a_idx])]} -> {data.classes[int(y_test[b_idx])]}")
rows_figure(strips, n=8, title="a straight line between two codes, decoded (8 steps)")

# %% [markdown]
# ### Untrained decoders against a noise floor
#
# A measured parity contrast is never exactly 0 (a sloped map or a finite sample already gives
# some), so each verdict compares a conv decoder with untrained dense decoders, which have no
# mechanism for a grid. For each of 10 seeds, a fresh decoder of each kind decodes 64 random
# codes; the largest dense contrast is the **noise floor**, and the count says in how many seeds
# the grid of a kind's mean output rises above it. The next subsection measures the trained decoders.

# %%
from course_utils.conv_probes import noise_floor_verdict

builders = {"transpose": lambda: ConvAutoencoder(n_latent=32, decoder="transpose"),
            "upsample": lambda: ConvAutoencoder(n_latent=32, decoder="upsample"),
            "dense": lambda: DenseAutoencoder(784, hidden=(128,), n_latent=32)}  # no input_mean:
# untrained, its output bias is drawn at random like the conv decoders' (centring: the mean image)
n_seeds, n_codes = 10, 64
untrained_contrast = {name: [] for name in builders}  # name -> one contrast per seed
for decoder_seed in range(n_seeds):
    z = torch.randn(n_codes, 32, generator=torch.Generator().manual_seed(100 + decoder_seed))
    for name, build in builders.items():
        torch.manual_seed(decoder_seed)
        with torch.no_grad():
            mean_output = build().decode(z).reshape(n_codes, 28, 28).mean(dim=0)  # (28, 28)
        untrained_contrast[name].append(parity_contrast(mean_output))
floor = untrained_contrast["dense"]
print(f"noise floor: untrained dense decoders, {n_seeds} seeds x {n_codes} random codes, "
      f"contrast up to {max(floor):.3f}")
for name in ("transpose", "upsample"):
    values = untrained_contrast[name]
    print(f"untrained {name:<9} decoders: contrast {min(values):.3f} to {max(values):.3f}: "
          f"{noise_floor_verdict(values, floor)}")

# %% [markdown]
# ### Trained decoders: a grid in logits, in pixels?
#
# Do the **trained** decoders keep a grid? `coherent_grid` averages each decoder's output over
# the codes of 2,000 test images and reads the period-2 amplitudes of that mean map: a grid
# painted at the same place in every output survives the average, detail that varies between
# images mostly cancels. The **floor** is the same measurement on the dense AE (no strided
# layer): a reference, not pure noise, since a dense decoder can learn a fixed per-pixel pattern
# too. We measure logits (before the sigmoid) and pixels, because a logit grid in a saturated
# background ($-8$ vs $-7$) is invisible in the image. "Above" needs $z > 3$, as in `coherent_grid`.

# %%
from course_utils.conv_probes import (
    GRID_Z_LIMIT,
    coherent_grid,
    decoder_logits,
    grid_above_floor,
    period2_amplitudes,
)

x_codes = x_test[:2000]  # 2,000 test images -> their codes -> logit maps
trained_grid, logit_mean = {}, {}  # (name, space) -> CoherentGrid; name -> (28, 28) mean logit map
for name in ("dense AE", "conv AE (transpose)", "conv AE (upsample)"):  # section 3's three models
    model = models[name]
    with torch.no_grad():
        x_in = x_codes.to(next(model.parameters()).device)
        logits = decoder_logits(model, model.encode(x_in)).reshape(-1, 28, 28).cpu()  # (2000, 28, 28)
    logit_mean[name] = logits.mean(dim=0)  # (28, 28)
    for space, maps in (("logits", logits), ("pixels", torch.sigmoid(logits))):
        trained_grid[name, space] = coherent_grid(maps)
for (name, space), g in trained_grid.items():  # with bootstrap SEs
    print(f"trained {name:<19} {space}: period-2 size of the mean map {g.size:.4f} (SE {g.size_se:.4f})")
verdicts, grid_z = {}, {}  # (name, space) -> above the floor?, z
for name in ("conv AE (transpose)", "conv AE (upsample)"):
    for space in ("logits", "pixels"):
        grid_z[name, space], verdicts[name, space] = grid_above_floor(
            trained_grid[name, space], trained_grid["dense AE", space])
    print(f"{name:<20} grid vs the dense floor: logits z = {grid_z[name, 'logits']:+.1f}, pixels "
          f"z = {grid_z[name, 'pixels']:+.1f} (above needs z > {GRID_Z_LIMIT:g})")
verdict = {name: ("above the floor in " + " and ".join(sp for sp in ("logits", "pixels") if verdicts[name, sp])
                  if any(verdicts[name, sp] for sp in ("logits", "pixels")) else "within the floor")
           + f" (z: logits {grid_z[name, 'logits']:+.1f}, pixels {grid_z[name, 'pixels']:+.1f})" for name in ("conv AE (transpose)", "conv AE (upsample)")}
grey = 255 * trained_grid[t_name, "pixels"].size  # the mean pixel map's period-2 size, in 8-bit grey levels
print(f"In this run: the trained transposed decoder's grid is {verdict[t_name]}; in pixels the period-2 size "
      f"of its image-averaged map is {grey:.2f} grey levels of 255: " + (
          "below one level, so no 8-bit image can show the grid common to all images."
          if grey < 1 else "large enough for an 8-bit image to hold."))

# %% [markdown]
# Where does the transposed decoder's logit grid come from? Its logits are the decoder's layers
# plus the learned per-pixel offset, and the period-2 amplitudes are linear, so the mean logit
# map's amplitudes are the layers' plus the offset's. The cell prints the three (rows,
# columns, checkerboard) with their size, and the layers' $z$ against the image noise (the
# offset is the same for every image, so the layers share the total's bootstrap errors).

# %%
parts, part_amps = {}, {}  # name -> {part: (28, 28) map}, {part: (3,) amplitudes}
for name in (t_name, u_name):
    offset = next(m for m in models[name].modules() if type(m).__name__ == "LogitOffset").offset
    offset = offset.detach().cpu().reshape(28, 28)  # (28, 28), in logit units
    parts[name] = {"layers": logit_mean[name] - offset, "offset": offset, "total": logit_mean[name]}
    part_amps[name] = {part: period2_amplitudes(m[None])[0] for part, m in parts[name].items()}  # (3,)
    print(f"{name}, mean logit map, period-2 amplitudes (rows, columns, checkerboard):")
    for part, a in part_amps[name].items():
        print(f"    {part:<7} ({a[0]:+.4f}, {a[1]:+.4f}, {a[2]:+.4f}), size {a.norm():.4f}")
a_layers, a_offset = part_amps[t_name]["layers"], part_amps[t_name]["offset"]
z_layers = (a_layers.abs() / trained_grid[t_name, "logits"].ses).max().item()
against = (a_layers * a_offset).sum().item() < 0  # the offset's pattern points the other way
print("In this run: the transposed decoder's layers "
      + (f"paint a grid (largest amplitude z = {z_layers:.1f})" if z_layers > GRID_Z_LIMIT
         else f"paint no grid beyond the image noise (z = {z_layers:.1f})")
      + f"; the learned offset's pattern points {'against' if against else 'with'} it: size "
      f"{a_layers.norm():.4f} for the layers, {part_amps[t_name]['total'].norm():.4f} for the total.")

# %%
# extra code – top: the high-passed mean logit map of the transposed model (inner 16 x 16);
# bottom: its period-2 part alone, drawn from the three measured amplitudes, on a finer scale
from course_utils.conv_probes import high_pass

fig = NotebookFigure(figsize=(9, 6), layout="constrained")
axes = fig.subplots(2, 3)
maps = {part: high_pass(m[None])[0, 6:-6, 6:-6] for part, m in parts[t_name].items()}  # (16, 16): inner
top = max(m.abs().quantile(0.98).item() for m in maps.values())  # robust: a few extreme pixels saturate
sign = 1 - 2 * (torch.arange(16) % 2)  # (16,): +1, -1, +1, ...
grids = {part: a[0] * sign[:, None] + a[1] * sign[None, :] + a[2] * torch.outer(sign, sign)  # (16, 16)
         for part, a in part_amps[t_name].items()}  # rows, columns, checkerboard patterns, in logits
fine = max(g.abs().max().item() for g in grids.values())
for ax, (part, m) in zip(axes[0], maps.items(), strict=True):
    im = ax.imshow(m.numpy(), cmap="RdBu_r", vmin=-top, vmax=top)
    ax.set(title=f"{part}\n(period-2 size {part_amps[t_name][part].norm():.4f})", xticks=[], yticks=[])
fig.colorbar(im, ax=axes[0], shrink=0.8, label="high-passed logit")
for ax, (part, g) in zip(axes[1], grids.items(), strict=True):
    im = ax.imshow(g.float().numpy(), cmap="RdBu_r", vmin=-fine, vmax=fine)
    ax.set(title=f"{part}: period-2 part only", xticks=[], yticks=[])
fig.colorbar(im, ax=axes[1], shrink=0.8, label="logit")
fig.suptitle("conv AE (transpose), mean logit map, inner 16 x 16: high-passed (top), its grid (bottom)")
fig

# %% [markdown]
# The top row shows the inner $16 \times 16$ pixels of the three high-passed maps on one colour
# scale (the border, which the measurement's window down-weights, is cropped), where garment
# detail can hide a small grid. The bottom row draws the period-2 part alone, from the three measured amplitudes,
# on its own finer scale. The grid is a risk
# built into the transposed layer; nothing guarantees that training removes it (an offset that
# points against it only partly cancels it), and the printed grey levels say whether, at this
# budget, the grid common to all images (measured on their average) reaches the pixels at all.

# %% [markdown]
# ## Appendix D: the dense AE at the conv AE's time
#
# Optional: equal steps is not equal compute, since a conv step takes more time. The next cell
# trains the dense AE once more for about the conv AE's measured wall-clock time
# (`time.perf_counter` in `fit`, so a busy machine counts too), forecast before the run: the ratio of the two models'
# median seconds per epoch (training plus validation) sets the dense AE's epochs, at most 4 times
# the conv AE's (a cap that can bind), and the run happens only if it costs no more than one
# BatchNorm run. The printed percentage is the share of the conv AE's seconds the run really
# took. The seconds come from the machine that ran the lesson, so the verdict can change from run
# to run, and more so on a GPU.

# %%
sec_dense, sec_conv = (statistics.median(histories[n]["seconds"]) for n in ("dense AE", "conv AE (transpose)"))
sec_bn = statistics.median(histories[bn_name]["seconds"])
ratio = sec_conv / sec_dense  # measured time per step (epoch), conv AE / dense AE
eq_epochs = max(1, int(epochs * min(ratio, 4.0)))  # the dense AE's epochs: the conv AE's time, capped at 4x
if eq_epochs * sec_dense <= epochs * sec_bn:  # costs no more than one BatchNorm run
    dense_eq, dense_eq_history, _ = train(builds["dense AE"], chosen_lr["dense AE"], n_epochs=eq_epochs)
    eq_err = mse_per_pixel_per_image(dense_eq, x_test)  # (N,)
    eq_z = paired_z(eq_err, chain_err["conv AE"])  # > 0: the longer dense run's error higher
    eq_verdict = ("higher" if eq_z > 2 else "not different beyond the noise" if eq_z >= -2 else "lower")
    eq_steps = eq_epochs * math.ceil(len(x_train) / batch_size)  # the dense AE's steps in the longer run
    # its share of the conv AE's time, from the seconds both runs actually took (training + validation)
    time_pct = round(100 * sum(dense_eq_history["seconds"]) / sum(histories["conv AE (transpose)"]["seconds"]))
    print(f"In this run: the dense AE trained {eq_steps:,} steps ({eq_epochs} epochs) in {time_pct}% of the "
          f"conv AE's measured seconds (a conv step taking {ratio:.1f} x a dense step): error {eq_err.mean():.5f} vs "
          f"the conv AE's {chain_err['conv AE'].mean():.5f} (z = {eq_z:+.1f}): the dense AE's error was {eq_verdict}"
          + (" (the 4 x cap applied)." if ratio > 4.0 else "."))
else:
    eq_verdict = None
    print(f"In this run: the conv AE took {ratio:.1f} x the dense AE's time per step; a longer dense run "
          f"would cost more than one BatchNorm run, so it was skipped: the comparison above is at equal "
          f"steps, not equal compute.")

# %% [markdown]
# Sharing each filter across positions saves parameters, not compute: on 28x28 images a dense
# step is cheap, so the same time buys the dense AE more steps.

# %% [markdown]
# ## Appendix E: dead channels, and two ways to keep them alive
#
# Optional: which of the conv AE's channels never fire, and what the warm-up and BatchNorm do
# about them.

# %% [markdown]
# ### Dead channels
#
# Lesson 02's dead units come back one level up. A conv layer's unit is a **channel**, one filter
# applied at every position; it is dead when its ReLU outputs 0 at every position of every image.
# If it is dead on the training images too, it passes nothing on and its own weights get no
# gradient; only a change in the layers before it can revive it. A channel dies when its filter's response plus its bias falls below
# 0 everywhere; large steps early in training are the usual suspect. Two routes keep channels
# alive:
#
# - **a warm-up**, the lesson's recipe: the first steps are small, so an early step is less likely
#   to throw a fresh filter below 0 everywhere;
# - **BatchNorm**, which re-centres each channel on its batch's mean before the ReLU, so only its
#   learned scale and shift ($\gamma$, $\beta$), with the stored statistics in eval mode, can
#   push a whole channel below 0.
#
# The cell trains the conv AE once more **without** the warm-up (`warmup_steps=0`, same seed,
# rate and steps), then counts the dead channels on the test images (`dead_channels` in
# `course_utils.conv_filters`) of the three models and compares their test errors image by image.

# %%
from course_utils.conv_filters import dead_channels

no_warmup = train(builds["conv AE (transpose)"], lr_conv, warmup_steps=0)[0]  # the plain half cosine
layer_labels = ("first-layer", "second-layer", "decoder 14x14")  # the conv ReLUs, in calling order
dead_masks["conv AE (warm-up)"] = dead_masks["conv AE (transpose)"]  # counted for section 3's table
dead_masks[bn_name] = list(dead_channels(bn_model, x_test).values())  # (16,), (32,), (16,)
dead_masks["conv AE, no warm-up"] = list(dead_channels(no_warmup, x_test).values())  # (16,), (32,), (16,)
route_err = {"conv AE (warm-up)": per_image["conv AE (transpose)"],  # (N,) test errors of each
             "conv AE, no warm-up": mse_per_pixel_per_image(no_warmup, x_test), bn_name: chain_err[bn_name]}
dead_count = {}  # model -> [(dead, C) per layer]
for name in route_err:
    dead_count[name] = [(int(m.sum()), len(m)) for m in dead_masks[name]]
    print(f"{name:<20} dead channels on all {len(x_test):,} test images: "
          + ", ".join(f"{label} {d} of {c}" for label, (d, c) in zip(layer_labels, dead_count[name], strict=True))
          + f"; test MSE per pixel {route_err[name].mean():.5f}")
with_w, without_w = route_err["conv AE (warm-up)"], route_err["conv AE, no warm-up"]
z_w = paired_z(without_w, with_w)  # > 0: the warm-up lowered the error
print(f"In this run: the warm-up took the dead channels from {sum(d for d, _ in dead_count['conv AE, no warm-up'])} "
      f"to {sum(d for d, _ in dead_count['conv AE (warm-up)'])} (all three layers) and the test error from "
      f"{without_w.mean():.5f} to {with_w.mean():.5f} (z = {z_w:+.1f}): "
      + ("lower" if z_w > 2 else "higher" if z_w < -2 else "no change beyond the test-image noise") + ".")
z_b = paired_z(route_err[bn_name], with_w)  # > 0: BatchNorm higher than the warmed-up conv AE
print(f"In this run: BatchNorm left {sum(d for d, _ in dead_count[bn_name])} channels dead, with a test error "
      f"{'higher than' if z_b > 2 else 'lower than' if z_b < -2 else 'within the noise of'} the warmed-up "
      f"conv AE's (z = {z_b:+.1f}).")

# %% [markdown]
# A dead channel is capacity the model paid for and does not use. The two lines say, for this
# run, how many channels each route kept alive and what that did to the test error; a route can
# keep channels alive and still cost error, so judge it by both numbers. The run without the
# warm-up uses the rate that section 3's search picked WITH it; a lower rate may suit it better,
# so its error measures the warm-up at this rate, not the best the plain schedule can do. The
# conv AE that sections 3-5 study is the warmed-up one.

# %% [markdown]
# ## Appendix F: centring, and a global-average code, trained
#
# Optional: which part of the conv AE makes it sensitive to shifts, and what discarding *where*
# costs an autoencoder. The first cell trains the **uncentred conv AE**: the conv AE without
# `input_mean`, same recipe and rate. It keeps the linear layers and drops the per-pixel
# centring, so the two parts can be told apart on section 4's shifted images.

# %%
uncentred = "conv AE, uncentred"  # the conv AE without input_mean: same recipe and rate
models[uncentred], histories[uncentred], _ = train(lambda: ConvAutoencoder(n_latent=32), lr_conv)
unc_err = [mse_per_pixel_per_image(models[uncentred], shift_images(x_shift, s)) for s in shifts]  # (N,) each
print(f"{uncentred}: MSE per pixel at {shifts} px (black fill) " + "  ".join(f"{e.mean():.5f}" for e in unc_err))
conv_shift = shift_per_image["black fill", t_name]  # the centred conv AE's (N,) errors per shift
rise = {t_name: conv_shift[3] - conv_shift[0], uncentred: unc_err[3] - unc_err[0]}  # (N,) each, at 3 px
extra = rise[t_name] - rise[uncentred]  # (N,): what centring adds, image by image
z_c = extra.mean().item() / (extra.std().item() / len(extra) ** 0.5)
print(f"In this run: at 3 px the error rose by {rise[t_name].mean():+.5f} with centring "
      f"and {rise[uncentred].mean():+.5f} without (difference z = {z_c:+.1f}): "
      + ("centring added to the shift sensitivity." if z_c > 2 else "centring did not add measurably to it."
         if z_c >= -2 else "the uncentred conv AE was hurt MORE; centring did not add to it."))

# %% [markdown]
# The uncentred conv AE keeps the linear layers, so its rise owes nothing to centring. The
# next cell trains the global-average encoder of section 4 with ordinary zero padding, the conv
# AE's decoder, and the uncentred conv AE's recipe and rate, so the two differ only in how the
# encoder ends.

# %%
def gap_autoencoder() -> nn.Module:
    """Two strided convolutions, one average per channel as the 32-number code, the conv AE's decoder."""
    encoder = nn.Sequential(
        nn.Conv2d(1, 16, 3, stride=2, padding=1), nn.ReLU(),  # 28x28 -> 14x14, zero padding
        nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),  # 14x14 -> 7x7
        nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten())  # (B, 32, 7, 7) -> (B, 32): the code
    return nn.Sequential(encoder, ConvAutoencoder(n_latent=32).decoder)  # (B, 32) -> (B, 1, 28, 28)


gap_model = train(gap_autoencoder, lr_conv)[0]
gap_mse = mse_per_pixel_per_image(gap_model, x_test).mean().item()
plain_mse = mse_per_pixel_per_image(models[uncentred], x_test).mean().item()
print(f"test MSE per pixel: global-average code {gap_mse:.5f}, linear bottleneck (the uncentred "
      f"conv AE) {plain_mse:.5f}; same decoder, recipe and rate")
print(f"In this run: the global-average code's test error was {gap_mse / plain_mse:.1f} times the "
      f"linear bottleneck's.")

# %% [markdown]
# A classifier needs only *what*; an autoencoder must put every pixel back in its place, and 32
# averages over all positions keep only traces of where things were: the zero-padded border, the
# position modulo the total stride of 4 (the 1- and 2-pixel shifts above changed the code), and
# the arrangement of parts inside each channel's 7-pixel window.

# %% [markdown]
# ### All the trained models in one table
#
# Every model of sections 3-4 and the appendices in one place: optimizer steps, starting rate,
# test error, the paired $z$ of its error against the conv AE's on the same test images, dead
# second-layer channels (conv models) and seconds of training plus validation. All are seed 0
# with the same warm-up and schedule.

# %%
table_rows = {  # name -> (model, steps, rate, history, (N,) test errors or None: compute them)
    "dense AE": (models["dense AE"], n_steps, chosen_lr["dense AE"], histories["dense AE"], per_image["dense AE"]),
    t_name: (conv_model, n_steps, lr_conv, histories[t_name], per_image[t_name]),
    bn_name: (bn_model, n_steps, lr_bn, histories[bn_name], chain_err[bn_name]),
    u_name: (models[u_name], up_steps, lr_conv, histories[u_name], per_image[u_name]),
    "conv AE (transpose), half": (t_half, up_steps, lr_conv, t_half_history, half_err),
    "fully conv AE": (fully_conv, up_steps, lr_conv, histories["fully conv AE"], None),
    uncentred: (models[uncentred], n_steps, lr_conv, histories[uncentred], None)}
if eq_verdict:  # the dense AE given up to the conv AE's time (Appendix D)
    table_rows["dense AE, longer"] = (dense_eq, eq_steps, chosen_lr["dense AE"], dense_eq_history, eq_err)
conv_err = per_image[t_name]  # (N,)
all_dead = {}  # name -> [(C,) bool per conv ReLU]
print(f"{'model':<26} {'steps':>6} {'rate':>7} {'test MSE':>9} {'z vs conv AE':>13} {'dead':>6} {'seconds':>8}")
for name, (model, n, lr, history, err) in table_rows.items():
    err = mse_per_pixel_per_image(model, x_test) if err is None else err  # (N,)
    z = "-" if name == t_name else f"{paired_z(err, conv_err):+.1f}"
    masks = all_dead[name] = list(dead_channels(model, x_test).values())  # conv ReLUs only; [] if dense
    dead = f"{int(masks[1].sum())}/{len(masks[1])}" if len(masks) > 1 else "-"
    print(f"{name:<26} {n:>6,} {lr:>7g} {err.mean():>9.5f} {z:>13} {dead:>6} {sum(history['seconds']):>8.1f}")

# %% [markdown]
# ## Appendix G: upsample + convolution on a ramp
#
# Optional: the one period-2 pattern that upsample + convolution can still make.

# %% [markdown]
# Equal sums settle flat inputs only. The sub-kernels are still different pieces of the kernel,
# so a **ramp** (column $j$ holds the value $j$) can climb in two unequal steps. Write
# $c_0, c_1, c_2$ for the sums of the three columns of the $3 \times 3$ weights: away from the
# border the output climbs by $c_0 + c_2$ from column $2m$ to $2m+1$ and by $c_1$ from $2m+1$ to
# $2m+2$, unequal unless $c_1 = c_0 + c_2$, which nothing in training enforces.

# %%
ramp = torch.arange(8.0).expand(8, 8)[None, None]  # (1, 1, 8, 8): column j holds the value j
with torch.no_grad():
    ramp_out = pair(ramp)[0, 0]  # (16, 16)
steps_along_row = ramp_out[8, 2:-2].diff()  # columns 2..13, away from the zero padding
c0, c1, c2 = conv3.weight[0, 0].detach().sum(dim=0)  # the sums of the three weight columns
predicted_steps = torch.stack([c0 + c2, c1]).repeat(6)[: len(steps_along_row)]  # even->odd, odd->even
print(f"steps along a row of the output: {steps_along_row.numpy().round(3)}")
print(f"predicted: c0 + c2 = {c0 + c2:.3f}, then c1 = {c1:.3f}, alternating: "
      f"{torch.allclose(steps_along_row, predicted_steps, atol=1e-5)}; "
      f"two unequal steps (a pattern of period 2): {bool((c0 + c2 - c1).abs() > 1e-3)}")
noise = torch.rand(300, 1, 14, 14, generator=torch.Generator().manual_seed(0))  # random images
with torch.no_grad():
    noise_out = pair(noise)[:, 0, 2:-2, 2:-2]  # (300, 24, 24), away from the padding
noise_means = torch.stack([noise_out[:, r::2, c::2].mean() for r in (0, 1) for c in (0, 1)])  # (4,)
spread = ((noise_means.max() - noise_means.min()) / noise_out.abs().mean()).item()
print(f"on 300 random 14x14 inputs: parity means {noise_means.numpy().round(3)}, spread {spread:.3f} "
      f"of the mean |output| (below 1%: {spread < 0.01})")

# %% [markdown]
# This period-2 sawtooth is upsampling's **blockiness**. Upsample + convolution removes the causes
# that paint a grid on a flat input (uneven overlap, unequal sums), not every period-2 pattern:
# on random inputs, which have no slope on average, its four parity means nearly agree (last
# line); on sloped inputs they can differ.

# %% [markdown]
# ## Appendix H: common mistakes
#
# Optional: a checklist of the mistakes this lesson's topics invite.

# %% [markdown]
# > **Common mistakes**
# > - *Feeding flat images to a conv model.* Conv layers need (B, 1, 28, 28); the model's error
# >   message says what it got and how to reshape.
# > - *Guessing output sizes.* Print a shape table from the real model. In the formula of
# >   section 1, forgetting `output_padding` (which must be smaller than the stride) leaves each
# >   transposed layer's output one pixel short, and each step of `padding` removes two pixels.
# > - *Reading "transposed" as "inverse".* A transposed convolution is the adjoint of a
# >   convolution; it restores the size, not the image (the name `deconv` is a misnomer).
# > - *Assuming a conv AE is small because convolutions share weights.* Count them: the linear
# >   layers next to the code usually dominate.
# > - *Forgetting `model.eval()` with BatchNorm.* In training mode every output depends on the
# >   rest of its batch, and each forward pass (even under `torch.no_grad()`) moves the running
# >   averages 10% of the way toward the batch's statistics. `predict` and `evaluate` switch to eval mode for you; `model(x)` does not.
# > - *Expecting a conv AE to be shift-equivariant.* Its linear bottleneck ties the code to
# >   positions. A fully convolutional model is shift-**equivariant** (its code map moves with
# >   the image, for shifts by multiples of its total stride and away from the borders), not
# >   shift-invariant: its code changes when the garment moves.
# > - *Believing a kernel divisible by the stride cures checkerboards.* It evens the overlap;
# >   learned weights can still make a grid. Upsample + convolution removes the unequal sums (a
# >   flat input comes out flat away from the border), though not the alternating steps on a
# >   sloped input.

# %% [markdown]
# [Exercise 03](../exercises/03_convolutional_autoencoders.ipynb) [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ae-course/autoencoders-pca-to-vae/blob/main/exercises/03_convolutional_autoencoders.ipynb)
# In the exercise you implement the output-size formulas of convolutions and transposed
# convolutions and build a small convolutional encoder and decoder whose shapes you check; then
# you compute a receptive field (checked against a gradient), score a BatchNorm model in eval mode
# without changing its stored statistics, and add up which kernel taps reach each output parity
# class, the sums behind a checkerboard.
#
# ## Quiz

# %%
from course_utils.quiz import show_quiz

show_quiz("03_convolutional_autoencoders")

# %% [markdown]
# Next: [04 · Denoising autoencoders](04_denoising_autoencoders.ipynb).
