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
#     display_name: Python 3 (ipykernel)
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
# 5. say what `BatchNorm2d` computes and why `model.eval()` matters;
# 6. explain where checkerboard artefacts come from and which of their causes upsample +
#    convolution removes.

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
# What does a convolution (`Conv2d`) compute? A $k \times k$ window slides over the padded image,
# $s$ pixels at a time; at each position the layer multiplies the window's pixels by a
# $k \times k$ grid of weights, the **filter**, sums and adds a bias. One filter gives one output
# map, a **channel**. Each filter spans all $C_\text{in}$ input channels, so $C_\text{out}$
# filters have weights of shape $(C_\text{out}, C_\text{in}, k, k)$ and
# $C_\text{out} \cdot C_\text{in} \cdot k \cdot k + C_\text{out}$ parameters. The figure shows one
# window; the next cell computes a whole layer by hand: `unfold` cuts out every window as a column.
#
# Counting window positions gives the output size: a convolution with kernel size $k$, stride
# $s$ and padding $p$ maps a side of $n$ pixels to $\lfloor (n + 2p - k)/s \rfloor + 1$. With
# $k = 3, s = 2, p = 1$: $28 \to 14 \to 7$. The encoder below uses two such **strided
# convolutions**, then a linear layer to a 32-number code. The decoder mirrors it with
# **transposed convolutions** (`ConvTranspose2d`). `Conv2d` does not flip its filter (strictly,
# a cross-correlation; a textbook convolution turns the kernel by 180° first): that is why a
# turned kernel appears in section 5, where upsample + convolution becomes one transposed convolution.

# %%
# extra code – a convolution slides a window: one output value = the sum of the window's products
import matplotlib.patches
import numpy as np
import torch.nn.functional as F

from course_utils.plots import NotebookFigure

image5 = torch.tensor([[0.0, 1, 2, 1, 0], [1, 3, 1, 0, 2], [2, 0, 1, 3, 1], [0, 2, 1, 1, 0],
                       [1, 0, 2, 0, 1]])  # (5, 5) input
kernel3 = torch.tensor([[1.0, 0, -1], [2, 1, 0], [0, 1, 1]])  # (3, 3) weights, no bias
slid = F.conv2d(image5[None, None], kernel3[None, None], stride=2)[0, 0]  # (2, 2): 5 -> (5 - 3)/2 + 1
r0, c0 = 0, 2  # the window of output (0, 1): rows 0-2, columns 2-4 (stride 2)
products = image5[r0 : r0 + 3, c0 : c0 + 3] * kernel3  # (3, 3)
print(f"sum of the window's 9 products = {products.sum():.0f} = Conv2d output[0, 1] = {slid[0, 1]:.0f}: "
      f"{torch.equal(products.sum(), slid[0, 1])}")
fig = NotebookFigure(figsize=(11, 2.7), layout="constrained")
panels = [(image5, "input (5x5), one window"), (kernel3, "kernel (3x3)"),
          (products, "window x kernel, tap by tap"), (slid, "output (2x2)")]
for ax, (values, title) in zip(fig.subplots(1, 4, width_ratios=[5, 3, 3, 2]), panels, strict=True):
    top = max(6.0, values.max().item())
    ax.imshow(values.numpy(), cmap="Blues", vmin=-2, vmax=top)
    for (i, j), v in np.ndenumerate(values.numpy()):
        ax.text(j, i, f"{v + 0.0:.0f}", ha="center", va="center", fontsize=9,  # + 0.0: no "-0"
                color="white" if v > 0.6 * top else "black")
    ax.set(title=title, xticks=[], yticks=[])
    box = (c0 - 0.5, r0 - 0.5, 3) if values is image5 else (0.5, -0.5, 1) if values is slid else None
    if box:
        ax.add_patch(matplotlib.patches.Rectangle(box[:2], box[2], box[2], fill=False, color="tab:orange",
                                                  lw=3))
fig.suptitle(f"a convolution, stride 2: output (0, 1) = the sum of the 9 products = {products.sum():.0f}; "
             "the window then moves 2 pixels")
fig

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
# output padding 1. Why `output_padding`? A stride-2 convolution maps both 13 and 14 pixels to 7,
# so its transpose cannot know which size to return, and `output_padding` picks. Last line:
# PyTorch refuses `padding="same"` (common elsewhere) at stride 2:

# %%
with torch.no_grad():
    for n in (13, 14):
        print(f"Conv2d(kernel 3, stride 2, padding 1): {n}x{n} -> "
              f"{tuple(nn.Conv2d(1, 1, 3, stride=2, padding=1)(torch.zeros(1, 1, n, n)).shape[-2:])}")
    for op in (0, 1):
        back = nn.ConvTranspose2d(1, 1, 3, stride=2, padding=1, output_padding=op)(torch.zeros(1, 1, 7, 7))
        print(f"ConvTranspose2d(kernel 3, stride 2, padding 1, output_padding={op}): 7x7 -> "
              f"{tuple(back.shape[-2:])}")
try:
    nn.Conv2d(1, 1, 3, stride=2, padding="same")
    print('Conv2d(kernel 3, stride 2, padding="same"): accepted')
except ValueError as error:  # PyTorch allows "same" only at stride 1
    print(f'Conv2d(kernel 3, stride 2, padding="same"): refused, {error}')

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
# `ConvAutoencoder` in `course_utils.conv` holds these layers (plus input checks and
# `encode`/`decode`); `shape_table` records each layer's output shape and parameter count. The
# last line loads the hand-written weights and compares outputs: `load_state_dict` checks only
# names and shapes, so only outputs catch a wrong activation or a missing `output_padding`.

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
# The convolutions are tiny: each $3 \times 3$ filter is shared across every position. The bulk
# is the two linear layers between the $32 \times 7 \times 7 = 1568$ feature values and the
# 32-number code. The feature maps hold more numbers than the 784 pixels (last line): the
# convolutions trade positions for channels, and only the linear layer compresses.

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
# largest value of each $2 \times 2$ window: it has no weights, and a feature that moves but stays
# inside its window leaves that maximum unchanged. A **strided convolution** computes the filter only at every second
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
# The matrix in 1-D: 3 taps, 6 inputs, stride 2, padding 1. Each row of $C$ is the kernel slid
# 2 places on; each column of $C^\top$ is one painted copy of it (the first cropped by padding).

# %%
import numpy as np
import torch.nn.functional as F

w = torch.tensor([1.0, 2.0, 3.0]).view(1, 1, 3)  # 3 taps, easy to read in the picture
unit_in, unit_code = torch.eye(6).unsqueeze(1), torch.eye(3).unsqueeze(1)  # (6, 1, 6), (3, 1, 3): one 1 each
C = F.conv1d(unit_in, w, stride=2, padding=1).squeeze(1).T  # (3, 6): column j = the outputs for input j
C_T = F.conv_transpose1d(unit_code, w, stride=2, padding=1, output_padding=1).squeeze(1).T  # (6, 3)
print(f"conv_transpose1d with the same taps is the matrix C transposed: {torch.equal(C_T, C.T)}")
fig = NotebookFigure(figsize=(7, 3), layout="constrained")
for ax, (m, title) in zip(fig.subplots(1, 2, width_ratios=[2, 1]), [(C, "C: convolution (3 x 6)"),
                                                                   (C_T, r"$C^\top$: transposed (6 x 3)")], strict=True):
    ax.imshow(m, cmap="Blues", vmin=0, vmax=4)
    for (r, c), v in np.ndenumerate(m.numpy()):
        ax.text(c, r, f"{v:g}", ha="center", va="center", fontsize=10)
    ax.set(title=title, xlabel="input index", ylabel="output index", xticks=range(m.shape[1]),
           yticks=range(m.shape[0]))
fig

# %% [markdown]
# In the autoencoder the transposed convolutions have their **own** weights, learned to
# reconstruct; the adjoint view says what the layer computes, not that it undoes anything. The
# older name "deconvolution" is therefore a misnomer.
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
#   channel, with each channel's mean and variance taken over all $N$ images and $H \times W$
#   positions of the batch. In training mode these are the batch's statistics, so an image's
#   output depends on its companions, and every forward pass (even under `torch.no_grad()`) moves
#   stored running averages; `model.eval()` switches to the stored averages, so each output
#   depends on its own image alone.

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
    module.eval()  # why eval() matters: lab section A
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
# $\eta_0$ over the first $W$ steps, then falls to 0 along a half cosine, so the last steps
# settle near a minimum.
#
# **Each model gets its own learning rate**, searched on the validation images over 1.2e-2,
# 2.4e-2 and 4.8e-2 (the budget is only 2 epochs). A higher rate must win **clearly**:
# `search_rates` (from `course_utils.rate_search`, with `train`) keeps the lowest rate within
# the validation noise of the best (paired $z \le 2$, written out below). If the lowest error
# sits at an edge of the rates tried, it prints **unbracketed**: a better rate may lie beyond that
# edge. The upsampling twin, over twice the multiply-adds per step,
# **borrows the conv AE's kept rate** and trains **half the steps**, next to a copy of the conv
# AE trained for the same half. Compare numbers within this lesson only.

# %%
import math
from functools import partial

from course_utils.anomaly import mse_per_pixel_per_image
from course_utils.conv_filters import dead_channels
from course_utils.models import DenseAutoencoder
from course_utils.rate_search import Recipe, search_rates, z_word

batch_size = 128
x_train = x_train[: course.pick(full=len(x_train), fast=1000)]  # fast mode: 1,000 images, to stay quick
x_valid = x_valid[: course.pick(full=len(x_valid), fast=250)]  # and 250 validation images
steps = course.pick(full=850, fast=16)  # 2 epochs of 54,000 images: one run of the transposed conv AE
epochs = max(1, round(steps / math.ceil(len(x_train) / batch_size)))  # the same steps on any data size
n_steps = epochs * math.ceil(len(x_train) / batch_size)  # the optimizer steps that really run
seed = 0  # the initial weights (torch.manual_seed) AND the batch order (fit's seed=)
mean_image = x_train.mean(dim=0)  # (1, 28, 28): the average training image, as in lesson 02
log_every = course.pick(full=100, fast=8)  # steps between two points of the learning curve
warmup = course.pick(full=100, fast=2)  # steps of linear warm-up, the same for every run
x_curve = x_valid[:500].to(course.device)  # the curve's fixed validation images
rates = (1.2e-2, 2.4e-2, 4.8e-2)  # every search's starting rates (a factor of 2 apart)
# every run: these images, epochs, batch size, warm-up, seed; a validation curve every log_every steps
recipe = Recipe(x_train.to(course.device), x_valid.to(course.device), epochs=epochs, batch_size=batch_size,
                warmup_steps=warmup, seed=seed, x_curve=x_curve, log_every=log_every)
train = recipe.train  # train(build, lr) -> (model in eval mode, history, curve)

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
def paired_z(err_a: torch.Tensor, err_b: torch.Tensor) -> float:
    """Two (N,) errors on the SAME images: the mean gap over its standard error, std / sqrt(N)."""
    gap = (err_a - err_b).double()  # (N,) > 0 where model a does worse
    return (gap.mean() / (gap.std() / len(gap) ** 0.5)).item()


from course_utils import rate_search

torch.manual_seed(0)
err_a, err_b = (mse_per_pixel_per_image(build(), x_valid) for build in list(builds.values())[:2])  # untrained
print(f"paired_z = rate_search.paired_z on two untrained models' validation errors: "
      f"{math.isclose(paired_z(err_a, err_b), rate_search.paired_z(err_a, err_b))}; z_word(z): "
      f"+3.1 -> {z_word(3.1)}, -3.1 -> {z_word(-3.1)}, +1.9 -> '{z_word(1.9)}' (|z| <= {rate_search.Z_NOISE:g})")

# %%
for name in ("dense AE", "conv AE (transpose)"):  # three runs each; the conv runs: the lesson's largest cost
    searched[name], chosen_lr[name] = search_rates(name, partial(train, builds[name]), rates, x_valid)
    models[name], histories[name], curves[name] = searched[name][chosen_lr[name]]
lr_conv = chosen_lr["conv AE (transpose)"]
mean_err = (x_valid - mean_image).pow(2).mean().item()  # always output the mean image: the error
collapsed = [f"{name} at {lr:g}" for name in searched for lr, run in searched[name].items()
             if mse_per_pixel_per_image(run[0], x_valid).mean().item() > 0.9 * mean_err]
print(f"In this run: always predicting the mean image gives MSE per pixel {mean_err:.5f}; " + (
    f"collapsed (validation error over 90% of that): {', '.join(collapsed)}; lab J diagnoses such a collapse." if collapsed
    else "no run came within 90% of it: none collapsed."))

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
      f"the other two models: {n_steps:,} steps at the rates their own searches kept; a copy of the conv AE: "
      f"{up_steps:,} steps at {lr_conv:g}, for the table below")

# %%
import statistics

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
z_cd = paired_z(per_image["conv AE (transpose)"], per_image["dense AE"])  # < 0: the conv AE lower

# %%
# extra code – the learning curves of the three models
from course_utils.plots import NotebookFigure

fig = NotebookFigure(figsize=(10.5, 4.6), layout="constrained")
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
ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3)  # below: full-width axes
print(f"last point of each validation line: step {curves['dense AE'][-1][0]} of {n_steps}")
fig

# %% [markdown]
# The lines are the loss on fixed validation images, measured in eval mode every `log_every`
# steps by `LogEvery`, a callback `fit` calls after each step. The squares are `fit`'s training
# loss, averaged over each epoch's batches while the weights still improved, one reason a square
# can sit above validation. Another: the two sets hold different images. The upsampling twin
# runs its own, half-length schedule: where its line stops, its rate is near 0. (A model with
# BatchNorm adds one more: batch statistics in training, stored averages in eval mode.)
#
# Fewer parameters do not mean less work: each convolution weight is used at every position.
# The cell counts the multiply-adds of one image (for a transposed layer: every product it
# paints, including those that `padding` crops).

# %%
import torch.nn.functional as F


def multiply_adds_per_image(model: nn.Module) -> int:
    """Multiply-adds of one forward pass of one 28x28 image through model's conv and linear layers."""
    total = 0

    def count(layer: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        nonlocal total
        if isinstance(layer, nn.Conv2d):  # every output value: in_channels x k x k weights
            total += output[0].numel() * layer.weight[0].numel()
        elif isinstance(layer, nn.ConvTranspose2d):  # every input value paints out_channels x k x k,
            total += inputs[0][0].numel() * layer.weight[0].numel()  # cropped products included
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
# adds the paired $z$ of each model's error against the conv AE's on the same test images
# ($z > 2$: higher beyond the test-image noise, $z < -2$: lower) and a "dead" column. A channel
# (one feature map, lesson 02's unit) is **dead** when its ReLU outputs 0 at every position of
# every test image (`dead_channels`): it passes nothing on ("$k$/32": $k$ of the 32
# second-layer encoder channels). The "half" row is the conv AE trained for the upsampling
# twin's steps, its like-for-like partner.

# %%
t_name, u_name = "conv AE (transpose)", "conv AE (upsample)"
half_err = mse_per_pixel_per_image(t_half, x_test)  # (N,) the transposed copy after up_steps steps
main_rows = {  # name -> (model, steps, history, (N,) test errors)
    "dense AE": (models["dense AE"], n_steps, histories["dense AE"], per_image["dense AE"]),
    t_name: (conv_model, n_steps, histories[t_name], per_image[t_name]),
    "conv AE (transpose), half": (t_half, up_steps, t_half_history, half_err),
    u_name: (models[u_name], up_steps, histories[u_name], per_image[u_name])}
print(f"{'model':<26} {'params':>7} {'mult-adds':>10} {'steps':>6} {'test MSE':>9} {'z vs conv':>10} "
      f"{'dead':>6} {'seconds':>8}")
for name, (model, n, history, err) in main_rows.items():
    z = "-" if name == t_name else f"{paired_z(err, per_image[t_name]):+.1f}"
    masks = list(dead_channels(model, x_test).values())  # conv ReLUs only; [] if dense
    dead = f"{int(masks[1].sum())}/{len(masks[1])}" if len(masks) > 1 else "-"
    print(f"{name:<26} {count_parameters(model):>7,} {multiply_adds_per_image(model):>10,} {n:>6,} "
          f"{err.mean():>9.5f} {z:>10} {dead:>6} {sum(history['seconds']):>8.1f}")
z_up = paired_z(per_image[u_name], half_err)  # same steps, same rate: > 0 means upsample higher
print(f"In this run (seed 0): at {n_steps:,} steps each the conv AE's test error was "
      f"{z_word(z_cd, 'lower than', 'higher than')} the dense AE's (z = {z_cd:+.1f}); at {up_steps:,} steps "
      f"each the upsampling decoder's was {z_word(z_up, 'lower than', 'higher than')} the transposed one's "
      f"(z = {z_up:+.1f}).")
conv_dead = [int(m.sum()) for m in list(dead_channels(conv_model, x_test).values())[:2]]  # encoder layers 1, 2
print(f"In this run: the conv AE has {conv_dead[0]} of 16 first-layer and {conv_dead[1]} of 32 second-layer "
      f"encoder channels dead on the test images ({sum(conv_dead) / 48:.0%} of 48).")

# %% [markdown]
# These verdicts hold for one seed at equal steps. The upsampling twin borrows the transposed
# decoder's rate, so that comparison may favour the transposed one. The lab adds a second seed, BatchNorm and a
# dense AE given the conv AE's time.

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
# numbers. It is trained with the same recipe and the conv AE's kept rate (not searched), for
# **half the steps**.

# %%
from course_utils.schedules import CosineDecay
from course_utils.train import fit

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
# The ratio has no single cause: the fully conv AE differs in six ways, not separated here:
# a **local** code (no number describes the whole garment) of 49 numbers, not 32, all
# in **one channel**; fewer parameters; half the training; no per-pixel centring.
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

# %%
# extra code – the receptive fields of code cell (3, 3) and its right neighbour (3, 4) on a garment
from matplotlib.patches import Rectangle

fig = NotebookFigure(figsize=(4.2, 4.2), layout="constrained")
ax = fig.subplots()
ax.imshow(x_test[0, 0].numpy(), cmap="gray", vmin=0, vmax=1)
side = computed[1] - computed[0] + 1  # 7 pixels
for shift, colour, label in ((0, "tab:red", "code cell (3, 3)"), (4, "tab:blue", "code cell (3, 4), 4 px over")):
    ax.add_patch(Rectangle((computed[0] + shift - 0.5, computed[0] - 0.5), side, side, fill=False,
                           edgecolor=colour, linewidth=2.5, label=label))
ax.set(xticks=range(0, 28, 4), yticks=range(0, 28, 4),
       title=f"{side}x{side} receptive fields, 4 px apart\n(overlap {side - 4} columns)")
ax.legend(fontsize=8, loc="lower center", bbox_to_anchor=(0.5, -0.22), ncol=2)
fig

# %% [markdown]
# The next cell moves up to 2,000 test images 1, 2, 3, 4 and 8 pixels to the right, with
# black fill (`shift_images`: pixels leave the frame) and circularly (`torch.roll`: they wrap
# round), and measures each model's error. Predict first: which model will a 3-pixel shift hurt
# least?

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
at3 = sorted(models, key=lambda name: shift_errors["black fill", name][3])  # lowest error at 3 px first
z3 = paired_z(shift_per_image["black fill", at3[0]][3], shift_per_image["black fill", at3[1]][3])
print(f"In this run: at 3 px (black fill) the least hurt model was the {min(growth, key=growth.get)} "
      f"({min(growth.values()):.2f} x its unshifted error); the lowest error there, the {at3[0]}'s "
      f"({shift_errors['black fill', at3[0]][3]:.5f}), was {z_word(z3, 'lower than', 'higher than')} the "
      f"{at3[1]}'s ({shift_errors['black fill', at3[1]][3]:.5f}, z = {z3:+.1f}).")

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

# %%
# extra code – three garments moved 0, 4 and 8 pixels right, and their reconstructions
moved = torch.cat([shift_images(x_test[:3], s) for s in (0, 4, 8)])  # (9, 1, 28, 28): 0 px, then 4, then 8
with torch.no_grad():
    recon = {name: models[name].cpu()(moved) for name in ("dense AE", "conv AE (transpose)")}
rows_figure({"moved input": moved, **recon}, n=9,
            title="three garments moved 0 px (columns 1-3), 4 px (4-6) and 8 px (7-9), black fill")

# %% [markdown]
# The dense AE has a weight for every position, the conv AEs in the linear layers around their
# code, fitted to garments at their usual place: a shifted garment meets weights that never saw
# its parts there (the lab separates these layers from the centring). The fully conv AE has no
# weight tied to a position. Does it matter where a garment falls on its stride-4 grid? It
# accepts any width, so the next cell pads each image with 8 black columns per side, moves the
# garment 0-4 px inside (no pixel leaves the frame) and scores its 28 columns. Predict first:
# will 2 px (half a code cell) change the error more than 4 px (a whole one)?

# %%
fc_cpu = copy.deepcopy(fully_conv).cpu().eval()  # a copy on the CPU, like x_shift
wide = F.pad(x_shift, (8, 8))  # (N, 1, 28, 44): 8 black columns on each side
inner_err = []  # per shift 0-4 px: (N,) error on the garment's 28 columns
with torch.no_grad():
    for px in range(5):
        moved = torch.roll(wide, px, dims=-1)  # only black columns wrap round
        cols = slice(8 + px, 36 + px)  # where the garment is now
        inner_err.append(((fc_cpu(moved) - moved)[..., cols] ** 2).mean(dim=(1, 2, 3)))  # (N,)
z_inner = [paired_z(e, inner_err[0]) for e in inner_err[1:4]]  # 1-3 px against 0 px; > 0: higher
exact = torch.allclose(inner_err[4], inner_err[0], rtol=0, atol=1e-7)  # 4 px: one whole code cell along
print("garment in the wider frame, MSE per pixel at 0-4 px: " + "  ".join(f"{e.mean():.5f}" for e in inner_err)
      + "; z of 1, 2, 3 px against 0 px: " + ", ".join(f"{z:+.1f}" for z in z_inner)
      + f"; 4 px = 0 px exactly: {exact}")
grid_effect = max(abs(e.mean() / inner_err[0].mean() - 1) for e in inner_err[1:4]).item()  # largest, 1-3 px
frame = shift_errors["black fill", "fully conv AE"]  # the 28-pixel frame (the table above), 0-8 px
border_effect = frame[4] / frame[0] - 1  # 4 px there: the same grid phase as 0 px, so the border's part
print("In this run: with no pixel lost, against 0 px the garment's error at "
      + ", ".join(f"{px} px was {z_word(z, tie='within the noise')}" for px, z in zip((1, 2, 3), z_inner, strict=True))
      + f"; the largest change at 1-3 px is {grid_effect:.1%} of the 0 px error, against {border_effect:+.1%} "
      + "at 4 px in the 28-pixel frame (where columns leave it): " + ("the border, not the grid, accounts for most of the change there."
                                             if abs(border_effect) > 2 * grid_effect else
                                             "the grid's effect is not small beside the border's."))

# %% [markdown]
# In a 28-pixel frame, the errors mix this grid effect with the border (compared in the last
# line above). Training on randomly
# shifted images, the usual remedy, is measured in lab F.
#
# ### A third design: a global-average-pooled code
#
# Common in classifiers: end the encoder with `nn.AdaptiveAvgPool2d((1, 1))`, which averages
# each channel's map over **all** positions, so the code is one number per channel (32 here).
# The property comes from the layers, so an untrained encoder shows it: the cell moves
# 500 test images by 1, 2 and 4 pixels, circularly (`torch.roll`) and with black fill, and prints
# how much each code changes, next to an untrained linear-bottleneck code. The unit is the
# distance between two different images' codes (0 = unchanged, 1 = as far as another garment).
# Its convolutions use circular padding, so a circular shift by the total stride (4 pixels) moves
# every map by whole cells, and the average cannot change. The bottleneck pads with zeros, as
# does a copy of this encoder (same weights): the fair partner for black fill. Predict first:
# will a 1-px circular shift leave the code unchanged too?

# %%
torch.manual_seed(0)
gap_encoder = nn.Sequential(  # convolutions, then one average per channel: (B, 1, 28, 28) -> (B, 32)
    nn.Conv2d(1, 16, 3, stride=2, padding=1, padding_mode="circular"), nn.ReLU(),  # 28 -> 14
    nn.Conv2d(16, 32, 3, stride=2, padding=1, padding_mode="circular"), nn.ReLU(),  # 14 -> 7
    nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten())  # (B, 32, 7, 7) -> (B, 32, 1, 1) -> (B, 32)
gap_zero = copy.deepcopy(gap_encoder)  # the same weights, zero padding like the bottleneck's
for layer in gap_zero[:3:2]:  # the two convolutions
    layer.padding_mode = "zeros"
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
encoders = {"global-average code": gap_encoder, "linear-bottleneck code": bottleneck.encode,
            "global-average, zeros": gap_zero}
for name, encode in encoders.items():
    circular = [code_change(encode, torch.roll(x_few, s, dims=-1)) for s in (1, 2, 4)]
    filled = [code_change(encode, shift_images(x_few, s)) for s in (1, 2, 4)]
    changes[name] = circular + filled
    print(f"{name:<23} code change (1 = another image), moved 1, 2, 4 px: circular "
          + ", ".join(f"{c:.3f}" for c in circular) + "; black fill " + ", ".join(f"{c:.3f}" for c in filled))
gap_c, neck, gap_z = changes.values()
print(f"the global-average code changes less than the linear-bottleneck code at every shift: "
      f"{all(g < b for g, b in zip(gap_c, neck, strict=True))}; with zero padding too, at every black-fill "
      f"shift: {all(g < b for g, b in zip(gap_z[3:], neck[3:], strict=True))}; at 1 px (black fill) the "
      f"bottleneck code moved {neck[3] / gap_z[3]:.1f} times as far as the zero-padded one")
with torch.no_grad():
    rolled = torch.roll(x_few, 4, dims=-1)  # (500, 1, 28, 28): every garment 4 px to the right
    same = torch.allclose(gap_encoder(rolled), gap_encoder(x_few), atol=1e-5)
print(f"global-average code of the images rolled 4 px = code of the originals: {same}; the images "
      f"themselves differ by {(rolled - x_few).abs().mean():.3f} per pixel on average")

# %% [markdown]
# A global-average code can be **invariant**: the rolled images differ, yet their codes can be
# equal (last line), and then no decoder can tell them apart. It discards shifts by the total
# stride; a 1- or 2-pixel shift still moves it part of the way to another garment's code
# (above).
# (The lab trains a global-average-pooled autoencoder.) The opposite trap: U-Net-style skip
# connections, common in segmentation decoders, hand encoder maps straight to the decoder, so a
# conv "autoencoder" with them can bypass its code.

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
# apart (section 1). With a $3 \times 3$ kernel the patches overlap unevenly: some output pixels receive one
# contribution, some two, some four. Feed a **constant** image of 1s through all-ones weights and
# each output value counts its contributions: a checkerboard. Upsampling first and then
# convolving gives every output pixel away from the border the same nine contributions.
# `parity_contrast` measures a grid: how much the means of the four pixel parities (even/odd row, even/odd column) differ,
# relative to the overall mean (0 = no grid), skipping a border of `kernel_size // 2 + 1` pixels
# that zero padding reaches.

# %% [markdown]
# Predict first: will kernel 4, stride 2 still paint a grid on a flat input? The next cell
# measures it on a larger input:

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
# ("Deconvolution and checkerboard artifacts", Distill 2016) make the same point. The figure
# draws the four sub-kernels of kernel 3.

# %%
# extra code – the four parity sub-kernels of a kernel-3, stride-2, padding-1 transposed layer
fig = NotebookFigure(figsize=(10, 2.6), layout="constrained")
parities = [(r, c) for r in (0, 1) for c in (0, 1)]  # (row, column) parity of an output pixel: 0 even, 1 odd
for ax, (r, c) in zip(fig.subplots(1, 4), parities, strict=True):
    used = torch.zeros(3, 3)  # 1 where the tap reaches this parity: tap t with t = o + 1 (mod 2)
    used[(r + 1) % 2 :: 2, (c + 1) % 2 :: 2] = 1
    ax.imshow(used.numpy(), cmap="Oranges", vmin=0, vmax=1.4)
    for i in range(3):
        for j in range(3):
            ax.text(j, i, f"$w_{{{i}{j}}}$", ha="center", va="center", fontsize=12,
                    color="black" if used[i, j] else "0.7")
    names = ("even", "odd")
    ax.set(title=f"({names[r]} row, {names[c]} column):\n{int(used.sum())} tap(s)", xticks=[], yticks=[])
fig.suptitle("kernel 3, stride 2, padding 1: the taps (orange) that reach each output parity, four sub-kernels")
fig

# %% [markdown]
# Four small convolutions, outputs interleaved: that is **sub-pixel convolution**
# (`nn.PixelShuffle`; Shi et al., 2016). Try kernels and strides with the sliders (all weights 1).

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
# Here is what one untrained decoder of each kind paints for eight random codes, each output
# stretched to the full grey range to show the texture.

# %%
torch.manual_seed(0)
untrained = {kind: ConvAutoencoder(n_latent=32, decoder=kind) for kind in ("transpose", "upsample")}
z = torch.randn(8, 32)  # eight random codes
with torch.no_grad():
    outs = {kind: m.decode(z) for kind, m in untrained.items()}  # (8, 1, 28, 28) each
grid = {kind: parity_contrast(o.mean(dim=(0, 1))) for kind, o in outs.items()}  # mean over the 8 codes: (28, 28)
print(f"In this run: parity contrast of the mean output, transpose {grid['transpose']:.3f}, upsample "
      f"{grid['upsample']:.3f}: " + ("the transposed decoder paints the stronger grid." if
                                     grid["transpose"] > 3 * grid["upsample"] else "no clearly stronger grid."))
rows_figure(outs, n=8, vmin=None, vmax=None,  # no fixed grey scale: each image is stretched
            title="untrained decoders, random codes (contrast stretched per image)")

# %% [markdown]
# The printed contrast says which decoder's textures carry a grid (the transposed one's
# sub-kernels paint one). Training can weaken or keep such a grid, so measure it on your own decoder
# (the lab does, for the trained ones).

# %% [markdown]
# ## Summary
#
# - Strided convolutions shrink 28 to 14 to 7; transposed convolutions or upsample + convolution
#   grow it back. A transposed convolution is the adjoint of a convolution (the map that carries
#   an output gradient back to the input), not its inverse.
# - The conv AE has fewer parameters than the dense AE, most of them in the linear layers around
#   the code, but more multiply-adds per image; section 3's table and the cell below say who was
#   ahead in this run.
# - A linear bottleneck ties a conv AE to positions; a fully convolutional one is
#   shift-equivariant for shifts by multiples of its total stride, away from the borders (the
#   wider-frame test of section 4), not shift-invariant; a
#   global-average code can be invariant and loses where things are. A code cell's receptive
#   field follows from the sizes, strides and paddings.
# - A stride-2 transposed convolution is four small convolutions interleaved: when their sums
#   differ, even a flat input comes out as a checkerboard, and uneven overlap makes unequal sums
#   the rule for almost any weights. Upsample + convolution has equal sums, so a flat input comes
#   out flat.

# %%
print(f"In this run: at equal steps ({n_steps:,} each, seed 0) the conv AE's error was "
      f"{z_word(z_cd, 'lower than', 'higher than')} the dense AE's (z = {z_cd:+.1f}); at {up_steps:,} steps "
      f"each, both at the rate kept for the transposed model, the upsampling decoder's was "
      f"{z_word(z_up, 'lower than', 'higher than')} the transposed one's (z = {z_up:+.1f}).")
g_fc = shift_errors["black fill", "fully conv AE"]
g_t = shift_errors["black fill", t_name]
print(f"In this run: a 4-pixel shift (black fill) {'raised' if g_fc[4] > g_fc[0] else 'lowered'} the fully conv "
      f"AE's error from {g_fc[0]:.5f} to {g_fc[4]:.5f} and {'raised' if g_t[4] > g_t[0] else 'lowered'} the "
      f"conv AE's from {g_t[0]:.5f} to {g_t[4]:.5f}: with black fill, the 4 rightmost columns leave the 28-px frame "
      f"and the border padding changes, so equivariance is not tested there; in the wider frame (section 4), "
      f"where no pixel is lost, the fully conv AE's 4 px = 0 px exactly: {exact}.")

# %% [markdown]
# ## Going further: the lab
#
# The optional [lab notebook](03_convolutional_autoencoders_lab.ipynb) retrains these models and
# asks what this lesson leaves open:
# - A. What does BatchNorm compute, and does it help here?
# - B. An LSTM autoencoder, the syllabus's optional sequence model: the 28 rows are 28 time
#   steps, a linear layer maps the encoder's last hidden state to the 32-number code, and the
#   decoder LSTM receives the code at every step. Each step needs the previous step's hidden
#   state, so the 28 steps run one after another, while a convolution computes all positions at
#   once; the 4 gates set each step's cost. The lab times a step of each, untrained.
# - C-H. Another seed and the trained decoders' grids (C), the dense AE at the conv AE's time (D),
#   dead channels (E), centring, linear layers and shifted training (F), ramps (G), mistakes (H).
# - I, J. Zero insertion and padding-cropped products (I); the rate searches' other runs (J).

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
