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
# # 00 · Setup and a tour of the course
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ae-course/autoencoders-pca-to-vae/blob/main/notebooks/00_setup_and_tour.ipynb)
#
# **English** · [Tiếng Việt](vi/00_setup_and_tour.ipynb)
#
# Welcome to **Autoencoders, from PCA to VAEs**. This notebook checks that everything works on your
# machine and shows how the course is built, so that the later lessons can focus on ideas.
#
# **In this notebook you will**
# 1. run the setup cell, and warm up with tensors and autograd;
# 2. see what a seed makes repeatable;
# 3. load Fashion-MNIST and MNIST;
# 4. see how images are stored and batched, and on which device they go;
# 5. build a first small autoencoder, and write its loss yourself;
# 6. write its training loop, train it, and compare it with PCA;
# 7. try an interactive view, and learn how quizzes and exercises work.
#
# **Minimum path:** sections 1 to 6, then the quiz; sections 7 and 8 and the appendices are
# optional. Estimated reading time (prose, 200 words a minute): introduction and sections 1-6
# about 13 min, 7-8 and the summary about 3, appendices about 13.
#
# **Two editions.** Every lesson and exercise has a Vietnamese twin (`notebooks/vi/`,
# `exercises/vi/`). Only the prose is translated. Code and printed lines stay in English.
#
# **Before you start.** You should read Python and NumPy. New to PyTorch? Work through its
# tutorials "Learn the Basics" and "A Gentle Introduction to `torch.autograd`" (pytorch.org) first.
# The maths: projections and SVD for lesson 01; Gaussians, log-likelihood and KL divergence for
# lesson 06.
#
# **The road ahead.** Each lesson answers one question:
#
# | lesson | question |
# |---|---|
# | 01 · linear autoencoder and PCA | What does the simplest autoencoder learn, and how close does it come to PCA's subspace? |
# | 02 · stacked autoencoders | Do depth and nonlinearity beat PCA at the same code size, and what does a code know about the classes? |
# | 03 · convolutional autoencoders | How do convolutions use the fact that an image is a grid of pixels? |
# | 04 · denoising autoencoders | What does a model learn when it must remove noise instead of copying, and are its features better? |
# | 05 · sparse autoencoders | Can a code larger than the input learn more than a copy, and what does forcing it to be sparse cost? |
# | 06 · variational autoencoders | How do we turn an autoencoder into a model that generates new images? |
# | 07 · beyond the vanilla VAE | How much control over what a VAE generates do β, a label (conditional VAE) and discrete codes give? |
#
# Every lesson runs on a laptop CPU. The README's
# [runtime table](../README.md#runtimes-and-benchmarks) gives the times.

# %% [markdown]
# ## 1. The setup cell
#
# Every lesson starts with the two cells below. The first matters only on Google Colab, where it
# installs the course package (`course_utils`). Locally, the README's quick-start installed it.

# %%
# Setup (extra code): on Colab, install the course package; locally it is already installed.
# --no-deps installs the course package alone, so Colab's own torch and Jupyter stay as they are.
# If a later import fails with ModuleNotFoundError, %pip install the package it names.
import sys

if "google.colab" in sys.modules:
    print("Colab: installing the course package from GitHub")
    # %pip install -q --no-deps "autoencoders-course @ git+https://github.com/ae-course/autoencoders-pca-to-vae"

# %%
import torch

from course_utils import setup_course

course = setup_course(seed=0)

# %% [markdown]
# `setup_course` printed one line with four facts. **Where** you run: Colab or a local Jupyter.
# The **device**: `cuda` (an NVIDIA GPU), `mps` (an Apple GPU) or `cpu`. It is picked once here
# and passed as `course.device` to every model. (On Colab, *Runtime > Change runtime type* switches
# a GPU on.) The **mode**: `full` is what you run. `fast` (`COURSE_FAST=1`) is for the automated
# tests. It shrinks each split and each training budget, so its numbers are rough. The **seed** of
# the global generators of Python, NumPy and PyTorch.

# %%
print("device:", course.device, "| fast mode:", course.fast, "| in Colab:", course.colab)
print("PyTorch", torch.__version__)

from course_utils.data import FAST_SIZES

print("fast mode keeps at most these many images per split:", FAST_SIZES)
print("for example, epochs = course.pick(full=10, fast=1) gives", course.pick(full=10, fast=1), "here")

# %% [markdown]
# ### A PyTorch warm-up
#
# If tensors and autograd are familiar, skip to the next heading. A **tensor** is an array of
# numbers with a shape, like a NumPy array, that can live on a GPU. **Autograd** records how a
# number was computed from tensors marked `requires_grad=True`. `loss.backward()` then computes the
# derivative of `loss` with respect to each **leaf** tensor (one you created with
# `requires_grad=True`, such as a model's weights). It **adds** that derivative to the tensor's
# `.grad`, empty until the first call. A tensor computed from leaves gets no `.grad` of its own
# (section 5 shows how to keep it). The cell below checks autograd by hand: for
# $L(w) = \|X w\|^2$ the gradient is $2 X^\top X w$.

# %%
X = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])  # (2, 3): 2 rows (examples), 3 columns
print("shape", tuple(X.shape), "| column means", X.mean(dim=0), "| X @ X.T has shape", tuple((X @ X.T).shape))
w = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)  # (3,): a weight vector autograd follows
L = (X @ w).pow(2).sum()  # a single number computed from w: ||X w||^2
L.backward()  # adds dL/dw to w.grad, which was empty (None) until now
by_hand = 2 * X.T @ X @ w.detach()  # (3,): the same derivative, by hand
print(f"L = {L.item():.2f}; autograd's dL/dw {w.grad.tolist()}, by hand {by_hand.tolist()}; "
      f"equal: {torch.allclose(w.grad, by_hand)}")

# %% [markdown]
# "Adds" matters. The cell below empties `w.grad`, calls `backward()` twice without emptying it in
# between, and prints whether it then holds twice the gradient.

# %%
w.grad = None  # start empty, so this cell gives the same answer when it is run again
(X @ w).pow(2).sum().backward()  # a first backward(): w.grad = dL/dw
first_grad = w.grad.clone()  # (3,): dL/dw from the first backward()
L = (X @ w).pow(2).sum()  # the same loss, computed again
L.backward()  # adds dL/dw to w.grad once more
print(f"after a second backward(): w.grad {w.grad.tolist()}; "
      f"twice the first gradient: {torch.equal(w.grad, 2 * first_grad)}")
w.grad = None  # empty it, as optimizer.zero_grad() does for every weight of a model
print("after w.grad = None:", w.grad)

# %% [markdown]
# Adding lets a gradient be built up over $k$ equal pieces of a batch, if each piece's mean loss
# is scaled by $1/k$. The cell below checks it with the two rows of `X` as two halves.

# %%
for i in (0, 1):  # two halves of the batch, one row each
    ((X[i : i + 1] @ w).pow(2).mean() / 2).backward()  # each half's mean loss x 1/2, added into w.grad
accumulated = w.grad.clone()  # (3,): the sum of the two halves' gradients
w.grad = None  # empty it before the whole batch
(X @ w).pow(2).mean().backward()  # one backward() on the mean loss over both rows
print(f"two backward() calls on the halves (x 1/2) accumulated {accumulated.tolist()}; one on the whole "
      f"batch gave {w.grad.tolist()}; equal: {torch.allclose(accumulated, w.grad)}")
w.grad = None

# %% [markdown]
# What is the gradient for? It points where the loss grows fastest. So a training step moves each
# weight a little the other way: $w \leftarrow w - \eta\,\nabla_w L$. The **learning rate**
# $\eta$ sets the size of the step. The cell below takes one step by hand, with $\eta = 0.01$.
# It runs under `torch.no_grad()`, so autograd does not record the update.

# %%
lr = 0.01  # the learning rate, eta
L = (X @ w).pow(2).sum()  # the loss before the step
L.backward()  # w.grad: dL/dw at the current w (it was emptied above)
with torch.no_grad():  # the update is not part of any loss: autograd need not record it
    w -= lr * w.grad  # one step of gradient descent, in place: w <- w - lr * dL/dw
w.grad = None  # empty it before the next step
L_after = (X @ w).pow(2).sum()  # the same loss, with the new w
print(f"one hand step with lr = {lr}: L = {L.item():.2f} before, {L_after.item():.2f} after; "
      f"the loss fell: {L_after.item() < L.item()}")

# %% [markdown]
# `optimizer.step()` takes a step for every weight of a model. Plain SGD takes exactly this one.
# Adam, the lessons' optimizer, rescales each weight's step by the size of that weight's recent
# gradients. A step wants the gradient of the current batch alone, so a training loop calls
# `optimizer.zero_grad()` before each `loss.backward()`.

# %% [markdown]
# ## 2. Reproducibility: seeds and generators
#
# A seed makes random numbers repeatable. `setup_course(seed=0)` seeds the **global** generators
# once. A notebook run top to bottom in a fresh kernel then repeats its random draws, on the same
# CPU with the same thread count. What a seed does not fix: timings, the numbers another device
# draws, and the last digits of sums on a GPU or with another thread count (Appendix B).
#
# Every draw moves a global generator on. So running one cell twice gives other numbers the
# second time. That is why the lessons re-seed (`torch.manual_seed(0)`) in each cell that builds a
# model. A function with a `generator=` argument, such as `iterate_batches`, draws from the
# `torch.Generator` you pass. Data splits use their own generator, so they are the same on every
# run.

# %%
torch.manual_seed(42)
first = torch.randn(3)
second = torch.randn(3)  # the global generator has moved on
print("global generator, two draws in a row:   identical:", torch.equal(first, second))

g = torch.Generator().manual_seed(42)
first = torch.randn(3, generator=g)
g = torch.Generator().manual_seed(42)  # a fresh generator with the same seed
second = torch.randn(3, generator=g)
print("fresh generator with the same seed twice: identical:", torch.equal(first, second))

from course_utils.data import iterate_batches

numbers = torch.arange(100)  # (100,): shuffle these, in one batch of 100


def shuffled(generator=None) -> list[int]:
    """One shuffled pass of iterate_batches over 0..99: the order it drew."""
    return next(iterate_batches(numbers, batch_size=100, shuffle=True, generator=generator))[0].tolist()


print("iterate_batches(shuffle=True), two calls: same order without a generator:", shuffled() == shuffled(),
      "| with a fresh generator seeded 0 each time:",
      shuffled(torch.Generator().manual_seed(0)) == shuffled(torch.Generator().manual_seed(0)))

# %% [markdown]
# ## 3. The data, offline first
#
# The course uses two datasets of 28x28 grey-scale images in ten classes. **Fashion-MNIST**
# (clothes, shoes and bags) is the main data of lessons 01 to 05. **MNIST** (handwritten digits)
# is that of lessons 06 and 07. A `DATASET` switch at the top of lessons 04 to 07 swaps them.
#
# Classrooms have bad wifi. So `load_dataset` tries the sources in the diagram's order and prints
# one line saying what it found. The last source is always at hand:
# scikit-learn's 1,797 small digits (`load_digits`, Appendix E), enlarged and padded to 28x28.
# Each of their 8x8 values (0 to 16) counts the ink pixels in a 4x4 block of a 32x32 bitmap.
# With them a lesson never stops for lack of network or files, and `data.is_fallback` is `True`.

# %%
from course_utils.plots import search_order_figure

fig = search_order_figure(
    [("files on disk", "COURSE_MNIST_DIR, ...\ncourse cache, Debian"),
     ("download", "torchvision\nshort timeout"),
     ("embedded digits", "scikit-learn, 1,797\n8x8 digits, enlarged")],
    result=("ImageData", "train / valid / test\ntensors in memory"),
    misses=["no files found\n(a named folder without them\nstops with an error)",
            "download failed or not allowed:\nno network, COURSE_OFFLINE=1,\n"
            "no torchvision, cache not writable"],
    title="Where load_dataset looks for the images, in order",
    hits=["found", "downloaded", "used"],  # the embedded digits are always at hand: used, not found
)
fig

# %%
from course_utils.data import load_dataset

mnist = load_dataset("mnist", seed=course.seed)
fashion = load_dataset("fashion_mnist", seed=course.seed)

# %%
for data in (mnist, fashion):
    print(f"{data.name}: embedded fallback in use: {data.is_fallback}")
if mnist.is_fallback and fashion.is_fallback:
    print("Neither MNIST nor Fashion-MNIST was found: both names gave the SAME embedded digits. "
          "The pictures of 'Fashion-MNIST' below are digits, not clothes.")

# %% [markdown]
# Each dataset comes as three fixed splits. **test** is touched only to report final numbers. It
# is the official test split when both files are on disk, else 20% of the images. **valid**, carved
# out of the training images, watches for over-fitting. **train**, the rest, fits models.

# %%
for data in (mnist, fashion):
    n_train, n_valid, n_test = len(data.train.y), len(data.valid.y), len(data.test.y)
    official = "official test split" in data.source  # load_dataset's note: both files were on disk
    subset_note = " (before fast mode kept a subset of each split)" if course.fast else ""
    print(f"{data.name}: test = " + ("the official test split" if official else "20% of the images on disk") + subset_note)
    print(f"{data.name}: train {n_train:,}, valid {n_valid:,}, test {n_test:,}; test = "
          f"{n_test / (n_train + n_valid + n_test):.0%} of all, valid = {n_valid / (n_train + n_valid):.0%} of the rest")
    print(f"    training images {tuple(data.train.x.shape)}, dtype {data.train.x.dtype}, values in "
          f"[{data.train.x.min():.1f}, {data.train.x.max():.1f}], labels {tuple(data.train.y.shape)}")

# %% [markdown]
# ## 4. Images and batches
#
# Images are tensors of shape **(N, 1, 28, 28)**: N images, 1 grey channel, 28 rows, 28 columns.
# Pixel values lie between 0 (black) and 1 (white). Labels have shape (N,). A batch keeps the
# images on the first axis: a batch of 3 images has shape (3, 1, 28, 28). The autoencoders of
# lessons 01 to 06 never see the labels while they train. The labels colour pictures of codes and
# measure what a code has learned. Lesson 07's conditional VAE is the exception: it trains on
# (image, label) pairs.

# %%
from course_utils.plots import images_figure

n = 10
images_figure(mnist.train.x[:n], titles=[mnist.classes[i] for i in mnist.train.y[:n]],
            title=f"{mnist.name}: the first {n} training images")

# %%
images_figure(fashion.train.x[:n], titles=[fashion.classes[i] for i in fashion.train.y[:n]],
            title=f"{fashion.name}: the first {n} training images")

# %% [markdown]
# ### Know your data: pixel values and classes
#
# The cell below counts the pixels exactly 0, exactly 1 and in between, and the training images per
# class. The 1.5 x line is a chosen threshold that flags a skewed split, not a statistical test.

# %%
for data in (mnist, fashion):
    x = data.train.x  # (N, 1, 28, 28), values in [0, 1]
    zero = torch.count_nonzero(x == 0).item() / x.numel()  # share of pixels exactly 0
    one = torch.count_nonzero(x == 1).item() / x.numel()
    grey = 1 - zero - one  # the rest: strictly between 0 and 1, since every value is in [0, 1]
    counts = torch.bincount(data.train.y, minlength=len(data.classes))  # (10,) images per class
    print(f"{data.name}: pixels exactly 0: {zero:.1%}, exactly 1: {one:.1%}, strictly between: {grey:.1%}")
    print(f"    training images per class: from {counts.min():,} (class {data.classes[counts.argmin()]}) "
          f"to {counts.max():,} (class {data.classes[counts.argmax()]}); largest / smallest = "
          f"{counts.max() / counts.min():.2f}")
    print(f"    only black and white pixels (binary): {grey == 0}; "
          f"largest class at most 1.5 x the smallest: {counts.max() <= 1.5 * counts.min()}")

# %% [markdown]
# ### Batching from memory
#
# The whole training set fits in memory (the cell below prints its size). So the course's
# `iterate_batches` cuts each mini-batch out of that one tensor by indexing. PyTorch's `DataLoader`,
# the tool for data that does not fit in memory, stacks images one at a time (Appendix A).

# %%
n_bytes = fashion.train.x.element_size() * fashion.train.x.nelement()
print(f"{fashion.name} training split: {len(fashion.train.x):,} images x 784 pixels x "
      f"{fashion.train.x.element_size()} bytes = {n_bytes / 1e6:.1f} MB in memory")

# %% [markdown]
# ### Batches on the device
#
# A model's weights and its batches must live on the same device, or PyTorch raises a
# `RuntimeError`. The idiom: `model.to(device)` once, and `xb = xb.to(device)` for each batch. To
# plot results, use `.detach().cpu()`. The cell below follows the idiom, then makes the mistake on
# purpose. On a CPU-only machine the wrong device is PyTorch's `meta` device, whose tensors have
# shapes but no data.

# %%
model = torch.nn.Linear(784, 10).to(course.device)  # a stand-in model: its weights on the device
(xb,) = next(iterate_batches(mnist.train.x, batch_size=128))  # (128, 1, 28, 28), on the CPU
xb = xb.flatten(1).to(course.device)  # (128, 1, 28, 28) -> (128, 784), on the model's device
out = model(xb)  # (128, 10)
print(f"weights on {model.weight.device}, batch on {xb.device}, output {tuple(out.shape)} on "
      f"{out.device}; after .cpu(): {out.cpu().device}")
other = "cpu" if course.device.type != "cpu" else "meta"  # a second device; meta tensors hold no data
try:
    model(xb.to(other))  # the mistake: the batch on another device than the weights
    print(f"no error: this PyTorch ran the model on a batch from {other}")
except RuntimeError as err:
    print(f"model(batch on {other}) raised RuntimeError:", str(err).splitlines()[0][:160])

# %% [markdown]
# ## 5. Your first autoencoder
#
# ### A first taste: 784 pixels from a few numbers
#
# What is all this for? The cell below describes each of ten validation images by only $k$
# numbers, with principal component analysis (PCA, built in lesson 01). It draws the images back
# from those numbers, for $k$ = 2, 10 and 50, and prints how much of the pixels' variance each $k$
# keeps. An **autoencoder** is a network trained to do the same. It computes a code from its input
# and rebuilds the input from that code.

# %%
from course_utils.pca import PCA
from course_utils.plots import rows_figure

taste = PCA(n_components=50).fit(fashion.train.x.flatten(1))  # (N, 784) -> 50 directions
strip = {"original": fashion.valid.x[:10]}
for k in (2, 10, 50):
    small = taste.truncated(k)
    strip[f"{k} numbers"] = small.reconstruct(fashion.valid.x[:10].flatten(1)).clamp(0, 1)  # (10, 784)
    print(f"k = {k:>2} numbers per image keep {small.explained_variance_ratio.sum():.0%} of the variance")
rows_figure(strip, title=f"{fashion.name}: each image rebuilt from k numbers (lesson 01 explains how)")

# %% [markdown]
# Every autoencoder in this course has the same three parts as that strip, drawn below.

# %%
# Extra code: the drawing, matplotlib boxes and trapezoids.
from matplotlib.patches import Polygon, Rectangle

from course_utils.plots import NotebookFigure

fig = NotebookFigure(figsize=(8, 2.4), layout="constrained")
ax = fig.subplots()
ax.set(xlim=(-0.8, 10.8), ylim=(-1.75, 1.15), aspect="equal")
ax.axis("off")
for x0, half, label, colour in ((0, 1.0, "image x\n784 pixels", "#dbeafe"),
                                (4.7, 0.3, "code z: k numbers\n(the bottleneck)", "#fde68a"),
                                (9.4, 1.0, "rebuilt image x̂\n784 pixels", "#dbeafe")):  # fmt: skip
    ax.add_patch(Rectangle((x0, -half), 0.6, 2 * half, facecolor=colour, edgecolor="#555"))
    ax.text(x0 + 0.3, -1.1, label, ha="center", va="top", fontsize=9)
for x0, x1, left, right, label in ((0.9, 4.4, 1.0, 0.3, "encoder"), (5.6, 9.1, 0.3, 1.0, "decoder")):
    ax.add_patch(Polygon([(x0, -left), (x1, -right), (x1, right), (x0, left)], facecolor="#e5e7eb",
                         edgecolor="#555"))  # fmt: skip
    ax.text((x0 + x1) / 2, 0, label, ha="center", va="center", fontsize=10)
fig

# %% [markdown]
# Here the encoder and decoder are PCA's projections. In lesson 01 they become two linear layers
# trained by gradient descent. The code is shorter than the image, a **bottleneck**, so the encoder
# must compress instead of copying. Later lessons add other constraints: noise (lesson 04),
# sparsity (lesson 05) and a KL term (lesson 06).

# %% [markdown]
# ### TinyAE: the diagram in PyTorch
#
# `TinyAE` is an `nn.Module` (lesson 01 studies it as `course_utils.models.LinearAutoencoder`).
# Its `encoder` is one linear layer from 784 pixels to a code of 10 numbers. Its `decoder` is one
# linear layer back. The cell below passes a batch of 128 training images through it and prints
# the shapes of the tensors and of the weights. Then it calls `backward()` on the batch's loss, to
# see which tensors get a `.grad`. `z.retain_grad()` asks autograd to keep the gradient of the
# computed tensor `z` too.

# %%
import warnings


class TinyAE(torch.nn.Module):
    """784 pixels -> 10 numbers -> 784 pixels: an encoder and a decoder, one linear layer each."""

    def __init__(self, n_pixels: int = 784, code_size: int = 10):
        super().__init__()
        self.encoder = torch.nn.Linear(n_pixels, code_size)  # x (B, 784) -> z (B, 10)
        self.decoder = torch.nn.Linear(code_size, n_pixels)  # z (B, 10) -> x_hat (B, 784)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, 1, 28, 28) or (B, 784) -> x_hat: (B, 784), the rebuilt images."""
        z = self.encoder(x.flatten(1))  # (B, 10): the code of each image
        return self.decoder(z)


torch.manual_seed(0)  # the same starting weights on every run
tiny = TinyAE()
(xb,) = next(iterate_batches(fashion.train.x, batch_size=128))  # (128, 1, 28, 28)
x_flat = xb.flatten(1)  # (128, 784)
z = tiny.encoder(x_flat)  # (128, 10)
x_hat = tiny.decoder(z)  # (128, 784)
print(f"x {tuple(x_flat.shape)} -> z {tuple(z.shape)} -> x_hat {tuple(x_hat.shape)}")
print(f"z[0], the code of the first image: {z[0].detach().numpy().round(2)}; "
      f"sum {z[0].sum():.2f}, min {z[0].min():.2f}")
print("the weights (model.parameters()):", {name: tuple(p.shape) for name, p in tiny.named_parameters()})
print(f"z.requires_grad: {z.requires_grad}; z is one of model.parameters(): "
      f"{any(p is z for p in tiny.parameters())}")
z.retain_grad()  # z is computed, not a leaf: without this, backward() keeps no z.grad
((x_hat - x_flat) ** 2).sum(dim=1).mean().backward()  # the loss of this batch, and its gradient
print(f"after backward(): encoder.weight.grad {tuple(tiny.encoder.weight.grad.shape)} filled; "
      f"z is a leaf: {z.is_leaf}; z.grad kept by retain_grad(): {tuple(z.grad.shape)}")
with warnings.catch_warnings(record=True) as caught:  # x_hat is computed too, but had no retain_grad()
    warnings.simplefilter("always")
    x_hat_grad = x_hat.grad
first_line = str(caught[0].message).splitlines()[0].split(" (Triggered")[0] if caught else "(no warning)"
print(f"x_hat.grad without retain_grad(): {x_hat_grad}; the warning's first line: {first_line}")

# %% [markdown]
# The code `z` holds one row of 10 numbers per image, of any sign. They are coordinates, not
# probabilities of the 10 classes. Nor is `z` a weight. It is computed afresh on every forward
# pass, and the optimizer never changes it. `backward()` fills the `.grad` of leaves only. It
# filled `z.grad` because the cell asked with `retain_grad()`. Without it, a computed tensor's
# `.grad` is `None`, and reading it gives a warning: the cell's last line shows both for `x_hat`.
# (Lesson 06's encoder outputs a mean $\mu$ and a log-variance $\log\sigma^2$ per image: the
# parameters of that image's distribution, not the model's parameters.)

# %% [markdown]
# ### Your turn
#
# Two short tasks. First, predict before you run. The cell below empties the gradients, then calls
# `backward()` on the batch's loss `n_calls = 2` times, with no `zero_grad()` in between. What
# multiple of the first gradient will `encoder.weight.grad` hold? Run it. Then try `n_calls = 3`.

# %%
def batch_loss() -> torch.Tensor:
    """The loss of TinyAE on the batch x_flat (128, 784), on the model's device: one number."""
    x = x_flat.to(next(tiny.parameters()).device)  # safe to rerun after training moved the model
    return ((tiny(x) - x) ** 2).sum(dim=1).mean()


n_calls = 2  # how many backward() calls without zero_grad() in between
tiny.zero_grad()  # start from empty gradients
batch_loss().backward()
first_grad = tiny.encoder.weight.grad.clone()  # (10, 784)
for _ in range(n_calls - 1):
    batch_loss().backward()  # again, without zero_grad(): backward() adds
ratio = (tiny.encoder.weight.grad.norm() / first_grad.norm()).item()
same = torch.allclose(tiny.encoder.weight.grad, n_calls * first_grad)
print(f"after {n_calls} backward() calls: encoder.weight.grad = {ratio:.3f} x the first gradient "
      f"(equal to {n_calls} x it: {same})")
tiny.zero_grad(set_to_none=False)  # training steps set .grad to None; zeros here, to print a number
print(f"after zero_grad(set_to_none=False): largest |encoder.weight.grad| = "
      f"{tiny.encoder.weight.grad.abs().max().item()}")

# %% [markdown]
# Second, write the loss yourself. The course's loss sums the squared error over each image's 784
# pixels, then averages over the images. The cell's first try is right for (B, 784) tensors. But a
# convolutional autoencoder (lesson 03) outputs (B, 1, 28, 28) images. Run the cell. It prints the
# first try's loss on one batch in both shapes, and the check says what is wrong. Fix the function
# and rerun until the check passes. Then compare with `mean_sse_per_image` in
# `course_utils/losses.py`.

# %%
from course_utils.exercise_checks.lesson00 import check_reconstruction_loss


def reconstruction_loss(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """x_hat, x: (B, 784) or (B, 1, 28, 28) -> one number: each image's summed squared error, averaged."""
    return ((x_hat - x) ** 2).sum(dim=1).mean()  # a first try: fix it


images = x_flat.reshape(-1, 1, 28, 28)  # (128, 1, 28, 28): the batch above, as images
images_hat = 0.8 * images + 0.1  # (128, 1, 28, 28): a stand-in for the rebuilt images
flat_loss = reconstruction_loss(images_hat.flatten(1), images.flatten(1)).item()
image_loss = reconstruction_loss(images_hat, images).item()
print(f"In this run: the same batch gives {flat_loss:.2f} as (B, 784) and {image_loss:.4f} as (B, 1, 28, 28)"
      + (": the same loss" if abs(flat_loss - image_loss) <= 1e-4 * flat_loss
         else f", {flat_loss / image_loss:.0f} times less"))
check_reconstruction_loss(reconstruction_loss)

# %% [markdown]
# The first try raises no error on images. On (B, 1, 28, 28), `dim=1` is the grey channel. So
# `.sum(dim=1)` adds up one channel, and `.mean()` averages over all 784 pixels. That is the
# per-pixel mean (`F.mse_loss`'s default), 784 times smaller. Does the convention matter? Adam
# trains nearly the same model with either. With SGD, the per-pixel mean acts like a learning rate
# 784 times smaller (Appendix F trains each case). Broadcasting hides a similar silent bug
# (Appendix G).

# %% [markdown]
# ## 6. Training it
#
# ### Does training work here?
#
# Training is a loop of five moves per batch. Empty the gradients (`zero_grad`), run the model
# (forward), compute the loss, compute its gradient (`backward`), and let the optimizer change the
# weights (`step`). Your last task: `train_pass` below makes one pass over a list of batches, and
# its first try forgets one move. Run the cell. The check trains its own small model with your
# function and names what went wrong. Fix it and rerun.

# %%
from course_utils.exercise_checks.lesson00 import check_training_pass


def train_pass(model: torch.nn.Module, optimizer: torch.optim.Optimizer, batches) -> None:
    """One step per batch xb (B, 1, 28, 28) of batches, with the per-image loss; returns nothing."""
    for xb in batches:  # xb is on the model's device already
        x_hat = model(xb)  # forward: (B, 784)
        loss = ((x_hat - xb.flatten(1)) ** 2).sum(dim=1).mean()  # one number
        loss.backward()  # its gradient, added into every weight's .grad
        optimizer.step()  # a first try: one of the five moves is missing; fix it


check_training_pass(train_pass)

# %% [markdown]
# How will we know that training worked? The yardstick is PCA with the same 10 numbers per image.
# Training passes when TinyAE's validation loss ends within 10% of PCA's. Is 10% strict? Compare
# it with PCA that keeps only 8 numbers. **Predict first:** is PCA-8's loss about 2%, 10% or 30%
# larger than PCA-10's? Then run the cell.

# %%
band = 0.10  # the pass band: within 10% of PCA's validation loss
x_valid = fashion.valid.x.flatten(1)  # (n_valid, 784): the validation split, never trained on


def loss_on(rebuild, images: torch.Tensor, device="cpu") -> float:
    """The loss on images (N, 784), computed on device: squared error summed over the 784 pixels, mean over images."""
    images = images.to(device)
    with torch.no_grad():
        return ((rebuild(images) - images) ** 2).sum(dim=1).mean().item()


error_pca = loss_on(taste.truncated(10).reconstruct, x_valid)  # PCA-10, fitted on all the training images
error_pca8 = loss_on(taste.truncated(8).reconstruct, x_valid)
edge = (1 + band) * error_pca  # the largest loss that passes
print(f"validation loss ({len(x_valid):,} images): PCA {error_pca:.1f} with 10 numbers, {error_pca8:.1f} with 8 "
      f"({error_pca8 / error_pca - 1:+.0%}); the pass band ends at {edge:.1f}")
if abs(error_pca8 - edge) <= 0.01 * error_pca:  # within 1% of PCA-10's loss: at the edge, to the printed precision
    print(f"In this run: the band's edge ({edge:.1f}) equals PCA with 8 numbers ({error_pca8:.1f}), to within 1% of "
          "PCA-10's loss: a model no better than PCA-8 passes, so the band asks whether training worked, not "
          "whether TinyAE matches PCA-10.")
else:
    print(f"In this run: PCA with 8 numbers lies {'inside' if error_pca8 < edge else 'outside'} the band, "
          f"{abs(error_pca8 - edge) / error_pca:.1%} of PCA-10's loss from its edge.")

# %% [markdown]
# The cell below trains a fresh `TinyAE` from seed 0 with the five moves. Compare them with your
# `train_pass`. It makes 20 passes over at most 50 batches of 128 training images. These are not
# **epochs**: an epoch, the word lesson 01 uses, is one pass over the whole training set. The
# optimizer is Adam at learning rate $\eta$ = `3e-3`. After each pass the cell records the loss on
# those images and on the validation split.

# %%
import copy

device = course.device  # the device the lessons will use: train there
torch.manual_seed(0)  # a fresh model, so a rerun of this cell starts from scratch too
tiny = TinyAE().to(device)  # built on the CPU (the same starting weights as above), then moved
optimizer = torch.optim.Adam(tiny.parameters(), lr=3e-3)
start = copy.deepcopy(tiny.state_dict())  # the starting weights, saved for Appendix H
x_train = fashion.train.x[: 50 * 128]  # (n, 1, 28, 28), on the CPU: at most 50 batches of 128
train_curve = [loss_on(tiny, x_train.flatten(1), device)]  # after each pass; entry 0: before training
valid_curve = [loss_on(tiny, x_valid, device)]
g = torch.Generator().manual_seed(0)  # the shuffling order, reproducible
n_steps = 0
for _ in range(20):  # 20 passes over this slice (not epochs: not the whole training set)
    for (xb,) in iterate_batches(x_train, batch_size=128, shuffle=True, generator=g):  # xb: (B, 1, 28, 28)
        xb = xb.to(device)  # the batch joins the weights on the device
        optimizer.zero_grad()  # 1. empty every weight's .grad (backward adds to it)
        x_hat = tiny(xb)  # 2. forward: (B, 784), the rebuilt images
        loss = ((x_hat - xb.flatten(1)) ** 2).sum(dim=1).mean()  # 3. the loss, one number
        loss.backward()  # 4. its gradient, into every weight's .grad
        optimizer.step()  # 5. Adam changes the weights
        n_steps += 1
    train_curve.append(loss_on(tiny, x_train.flatten(1), device))
    valid_curve.append(loss_on(tiny, x_valid, device))
print(f"{n_steps:,} steps; validation loss {valid_curve[0]:.1f} before training, {valid_curve[-1]:.1f} after")

# %% [markdown]
# Did it work? The cell below applies the check and draws the two curves.

# %%
from course_utils.plots import loss_curves_figure

before, after = valid_curve[0] / error_pca, valid_curve[-1] / error_pca  # in units of PCA's loss
print(f"the model's loss / PCA's: {before:.2f} before training, {after:.2f} after {n_steps:,} steps; "
      f"within {band:.0%} of PCA's: {before <= 1 + band} before, {after <= 1 + band} after")
if after <= 1 + band:
    print(f"In this run: training works here (on {device}); in {n_steps:,} steps the validation loss fell "
          f"to within {band:.0%} of PCA's.")
elif valid_curve[-1] < valid_curve[0]:
    print(f"In this run: the validation loss fell, but after {n_steps:,} steps it is still outside the "
          f"{band:.0%} band: this model needs more steps.")
else:
    print("In this run: the validation loss did not fall: training does not work here (check the setup line).")
loss_curves_figure(train_curve, valid_curve, reference=error_pca, band=band, n_train=len(x_train),
                   n_valid=len(x_valid), reference_label="PCA, 10 numbers, validation images",
                   title=f"{fashion.name}: TinyAE's loss after each pass")

# %% [markdown]
# The right panel is the check's view: the validation loss in units of PCA's, with the pass band
# (1 to 1.1).
#
# **What happened?** The cell below refits PCA on TinyAE's training images alone (at most 6,400).
# It prints the gap between the validation and the training loss. It also checks that training
# changed the codes `z` of section 5's batch.

# %%
own_pca = PCA(n_components=10).fit(x_train.flatten(1))  # fitted on TinyAE's training images only
error_own = loss_on(own_pca.reconstruct, x_valid)
if len(x_train) < len(fashion.train.x):
    print(f"In this run: PCA-10 fitted on all {len(fashion.train.x):,} training images: {error_pca:.2f}; on "
          f"TinyAE's {len(x_train):,} alone: {error_own:.2f} ({error_own / error_pca - 1:+.1%}); the model's loss "
          f"/ PCA's is {valid_curve[-1] / error_pca:.3f} with the first, {valid_curve[-1] / error_own:.3f} with the second")
else:
    print(f"In this run: TinyAE trains on all {len(x_train):,} training images, the ones PCA was fitted on.")
gap = valid_curve[-1] / train_curve[-1] - 1  # the validation loss above the training loss, relative
print(f"In this run: after the last pass the validation loss ({valid_curve[-1]:.1f}) is {gap:+.1%} from the "
      f"training loss ({train_curve[-1]:.1f}): " + ("no over-fitting gap (within 5%)." if gap <= 0.05
                                                  else "a gap opened (over 5%)."))
with torch.no_grad():
    z_trained = tiny.encoder(x_flat.to(device)).cpu()  # section 5's batch, through the trained encoder
print("the codes z of section 5's batch, recomputed with the trained weights, changed:",
      not torch.allclose(z, z_trained))

# %% [markdown]
# A gap opening (training loss falling, validation loss not) is over-fitting. Where the gap is
# small, the two curves coincide on the log panel. A 10-number linear model has little room to
# memorise (lesson 02 studies bigger ones). PCA's dotted line is a **reference, not a floor**.
# PCA, the mean image plus 10 directions, is the best such code on average over ITS training
# images, not over these validation images. The cell below draws validation images rebuilt by
# both. Appendix H explains the size of Adam's steps, and measures whether more training makes
# TinyAE's images smoother.

# %%
from IPython.display import display


def rebuilt(model: torch.nn.Module, images: torch.Tensor) -> torch.Tensor:
    """images (N, 784) -> the model's rebuilt images (N, 784) in [0, 1], on the CPU."""
    with torch.no_grad():
        return model(images.to(device)).clamp(0, 1).cpu()


fig = rows_figure({"original": fashion.valid.x[:10], "PCA, 10 numbers": strip["10 numbers"],
                   f"TinyAE, {n_steps:,} steps": rebuilt(tiny, fashion.valid.x[:10])},
                  title=f"{fashion.name}: 10 numbers per image, from PCA and from the trained TinyAE")
display(fig)

# %% [markdown]
# **When a loss will not fall**, first train on one batch. If even one batch's loss stays up, the
# cause is in the code or in the optimizer's settings, not in the data. The cell below trains a
# fresh TinyAE on one batch of 64 images for 200 Adam steps. Two yardsticks measure how far it
# gets. The first is the batch's mean image, which a model can output even if its code carries
# nothing. The second is the batch's own PCA (the mean image plus 10 directions). It is the floor
# and the target: no TinyAE goes below it, so the loss cannot reach 0. The check asks how far
# training went from the first to the second. If it stops short of the floor, that alone is no bug:
# 200 Adam steps at this rate are few, and only the exact SVD reaches the floor.

# %%
torch.manual_seed(0)  # a fresh model, the same starting weights as above
probe = TinyAE().to(device)
probe_optimizer = torch.optim.Adam(probe.parameters(), lr=3e-3)
one_batch = fashion.train.x[:64].flatten(1).to(device)  # (64, 784): ONE batch, seen at every step
probe_losses = []  # the loss on that batch before each step
for step in range(201):
    loss_one = ((probe(one_batch) - one_batch) ** 2).sum(dim=1).mean()  # the loss on that batch
    probe_losses.append(loss_one.item())
    if step in (0, 50, 200):
        print(f"step {step:3d}: loss on the one batch {loss_one.item():.1f}")
    if step < 200:  # the five moves, on the same batch every time
        probe_optimizer.zero_grad()
        loss_one.backward()
        probe_optimizer.step()
centred = one_batch - one_batch.mean(dim=0)  # (64, 784)
mean_image_loss = (centred**2).sum(dim=1).mean().item()  # the loss of outputting the mean image
singular = torch.linalg.svdvals(centred)  # (64,)
floor = (singular[10:] ** 2).sum().item() / len(one_batch)  # the best code: mean + 10 directions (PCA)
progress = (mean_image_loss - probe_losses[-1]) / (mean_image_loss - floor)
print(f"mean image only: {mean_image_loss:.1f}; best mean + 10 directions: {floor:.1f}; TinyAE: {probe_losses[-1]:.1f}")
print(f"In this run: training went {progress:.0%} of the way from the mean image to the floor: "
      + ("the code carries information, the model and loop can learn." if progress > 0.5 else
         "not past halfway: look for a bug (is the code used? is the loss right?) or a learning rate "
         "that is too small or too large."))

# %% [markdown]
# Too large a learning rate fails differently: the loss grows, then reads `inf` or `nan`. The
# cell below reruns the probe with plain SGD at $\eta = 0.1$.

# %%
import math

torch.manual_seed(0)  # the same starting weights as the probe
wild = TinyAE().to(device)
wild_optimizer = torch.optim.SGD(wild.parameters(), lr=0.1)  # plain SGD, a large rate for this loss
wild_losses = []  # the loss on the one batch before each step
for _ in range(6):
    loss_one = ((wild(one_batch) - one_batch) ** 2).sum(dim=1).mean()
    wild_losses.append(loss_one.item())
    wild_optimizer.zero_grad()
    loss_one.backward()
    wild_optimizer.step()
print("SGD at lr=0.1, the loss before steps 0 to 5:", [f"{v:.3g}" for v in wild_losses])
blew_up = not math.isfinite(wild_losses[-1]) or wild_losses[-1] > 10 * wild_losses[0]
print("In this run: " + ("the loss blew up (over 10 x its start, or inf/nan): this rate is too large."
                         if blew_up else "the loss did not blow up at this rate."))

# %% [markdown]
# ## 7. Interactive views
#
# Many lessons have sliders: move one and a figure is redrawn. Each view wraps an ordinary function
# that returns a figure. The lesson also shows that function's output, for readers without
# widgets. Here is the function: the first ten images of one class.

# %%
def class_examples(dataset_name: str, label: int):
    data = mnist if dataset_name == "MNIST" else fashion
    images = data.train.x[data.train.y == label][:10]
    return images_figure(images, title=f"{data.name}: class {data.classes[label]!r}")


class_examples("Fashion-MNIST", 7)

# %% [markdown]
# And here is the same function behind two controls. Change the dataset or the class and the
# figure follows. (No slider? Your Jupyter draws no widgets. JupyterLab 4 and Notebook 7 need
# ipywidgets 8 or 7.8; Colab and Notebook 6 work with 7.7 or later.)

# %% tags=["nbval-ignore-output"]
import ipywidgets as widgets

from course_utils.widgets import FigureView

FigureView(
    class_examples,
    {
        "dataset_name": widgets.Dropdown(options=["MNIST", "Fashion-MNIST"], value="Fashion-MNIST",
                                         description="data"),
        "label": widgets.IntSlider(value=7, min=0, max=9, description="class",
                                   continuous_update=False),
    },
)

# %% [markdown]
# ## 8. Quizzes and exercises
#
# - **Quizzes.** Every lesson ends with a short multiple-choice quiz, graded when you press
#   *Submit*, with an explanation for every question. It speaks English or Vietnamese
#   (`COURSE_LANG=vi` or the quiz's toggle). Multiple-answer questions say how they are scored.
#   **All-or-nothing**: 1 only for exactly the right ticks. **Partial credit**: right ticks /
#   number of right options - wrong ticks / number of wrong options, never below 0. The cells below
#   count the questions and score three examples.

# %%
from course_utils.quiz import load_bank, quiz_dir

banks = [load_bank(path.stem) for path in sorted(quiz_dir().glob("*.yaml"))]
questions = [q for bank in banks for q in bank.questions]
multiple = [q for q in questions if q.type == "multiple"]
partial = sum(q.partial_credit for q in multiple)
print(f"{len(banks)} quizzes, {len(questions)} questions; {len(multiple)} multiple-answer questions: "
      f"{partial} with partial credit, {len(multiple) - partial} all-or-nothing")

# %%
from course_utils.quiz.grading import score

right = {0, 1, 2}  # a question with 6 options, of which options 0, 1 and 2 are right
for ticked in ({0, 1, 3}, {0, 1, 2}, {0, 1, 2, 3, 4, 5}):
    print(f"3 right options out of 6, ticked {sorted(ticked)}: score "
          f"{score(ticked, right, n_options=6, partial_credit=True):.2f}")

# %% [markdown]
# - **Quizzes, continued.** Two right ticks and one wrong give 2/3 - 1/3; ticking every box
#   scores 0. Where widgets do not run, the quiz prints as text and you answer with
#   `check_answers`. The course's terms are in a bilingual [glossary](../quizzes/GLOSSARY.md).
# - **Exercises.** Lessons 01 to 07 each have an exercise notebook in `exercises/`. Replace each
#   task's stub with your code, then run the **check cell** after it. Worked solutions are in
#   `solutions/`: try first, then compare.
#   The exercises of lessons
#   [01](../exercises/01_linear_autoencoder_and_pca.ipynb),
#   [02](../exercises/02_stacked_autoencoders.ipynb),
#   [03](../exercises/03_convolutional_autoencoders.ipynb),
#   [04](../exercises/04_denoising_autoencoders.ipynb),
#   [05](../exercises/05_sparse_autoencoders.ipynb),
#   [06](../exercises/06_variational_autoencoders.ipynb),
#   [07](../exercises/07_beyond_the_vanilla_vae.ipynb) each open on Colab from the badge at their top.
# - **The package.** Models, losses and plots live in `course_utils/`. Each function documents
#   the shapes of its tensors. Start with `data.py`, `models.py` and `train.py`.
#
# > **Common mistakes**
# > - *Running a cell twice and expecting the same random numbers.* Restart and run from the top.
# > - *Quoting fast-mode numbers.* Fast mode is a smoke test.
# > - *Not reading the data line.* "EMBEDDED FALLBACK" means scikit-learn's small digits, not MNIST.
# > - *Feeding NumPy's float64 to a float32 model; calling `.numpy()` on a tensor that requires
# >   grad.* The two cells below catch both and show the fix.

# %%
import numpy as np

cpu_model = torch.nn.Linear(784, 10)  # float32 weights, on the CPU
from_numpy = torch.from_numpy(np.zeros((2, 784)))  # (2, 784) float64, NumPy's default
try:
    cpu_model(from_numpy)
    print("float64 input: no error")
except RuntimeError as err:
    print("float64 input raised RuntimeError:", str(err).splitlines()[0][:100])
print("the fix, .float():", tuple(cpu_model(from_numpy.float()).shape), cpu_model(from_numpy.float()).dtype)

# %%
out = cpu_model(torch.zeros(2, 784))  # (2, 10), follows the weights: requires_grad is True
try:
    out.numpy()  # what plt.plot(out) or np.asarray(out) does
    print(".numpy() on a tensor that requires grad: no error")
except RuntimeError as err:
    print(".numpy() raised RuntimeError:", str(err).splitlines()[0][:100])
print("the fix, .detach().cpu().numpy():", out.detach().cpu().numpy().shape)

# %% [markdown]
# ## Summary
#
# - One setup call seeds the global generators, picks the device and reports the mode.
# - `backward()` adds into `.grad`. A training step empties it first with `zero_grad()`, then
#   moves each weight against its gradient.
# - Data: files on disk, then a download, then the embedded digits. A printed line says which.
# - Images are tensors (N, 1, 28, 28) in [0, 1]. Model and batches go to one device.
# - An autoencoder has an `encoder` (x to z) and a `decoder` (z to x̂). The optimizer changes its
#   weights, never the code z. Five moves per batch: zero_grad, forward, loss, backward, step.
#   One pass over the whole training set is an epoch.
#
# The appendices are optional. [Jump to your setup checklist](00_setup_and_tour.ipynb#setup),
# then the quiz.

# %% [markdown]
# ## Appendix A: three ways to cut batches, timed
#
# **Optional:** it shows how `iterate_batches` cuts a batch, and measures how long that takes by
# indexing, with a `DataLoader`, and by torchvision's per-image route, next to a training step
# of `TinyAE`. Nothing in the lessons depends on it.
#
# First the course's route: the source of `iterate_batches`, and the same kind of batches (shape,
# coverage) from the mainstream idiom, `DataLoader(..., shuffle=True, generator=g)`, with the same seed.

# %%
import inspect

from torch.utils.data import DataLoader, TensorDataset

print(inspect.getsource(iterate_batches))
x_small = fashion.train.x[: 10 * 128]  # (1280, 1, 28, 28): ten batches' worth
g = torch.Generator().manual_seed(0)  # the shuffling order, reproducible
loader = DataLoader(TensorDataset(x_small), batch_size=128, shuffle=True, generator=g)  # the mainstream idiom
ours = list(iterate_batches(x_small, batch_size=128, shuffle=True, generator=torch.Generator().manual_seed(0)))
print(f"DataLoader: {len(loader)} batches, the first of shape {tuple(next(iter(loader))[0].shape)}")
print(f"iterate_batches: {len(ours)} batches, the first of shape {tuple(ours[0][0].shape)}")
g.manual_seed(0)  # back to the seed both routes started from
theirs = list(loader)  # one pass, ten batches
sums = [torch.cat([b[0] for b in batches]).flatten(1).sum(1).sort().values for batches in (theirs, ours)]  # (1280,)
print(f"In this run: both cover the same 1,280 images: {torch.equal(*sums)}; "
      f"the first batches are equal: {torch.equal(theirs[0][0], ours[0][0])}")

# %% [markdown]
# Both loops read `for (xb,) in ...:` and give batches of the same shape. Equal seeds need not
# give equal orders: a `DataLoader` iterator first draws a base seed from `g`, then its sampler
# draws the permutation, so the two routes consume `g` differently. In `iterate_batches`,
# the last two lines do the work: `idx` is the next `batch_size` entries of the (shuffled) order
# of the indices, and `t[idx]`, a tensor indexed with a tensor of indices, is
# **advanced indexing**: a gather that copies those rows into a new batch tensor. A **slice**
# such as `x[0:128]` is a view of the same memory that copies nothing. The cell below asks both
# whether they share memory with the training tensor.

# %%
x = mnist.train.x  # (N, 1, 28, 28)
gathered = x[torch.tensor([5, 0, 3])]  # (3, 1, 28, 28): advanced indexing
sliced = x[0:3]  # (3, 1, 28, 28): a slice
for name, batch in (("x[torch.tensor([5, 0, 3])]", gathered), ("x[0:3]", sliced)):
    shared = batch.untyped_storage().data_ptr() == x.untyped_storage().data_ptr()
    print(f"{name:>26}: shape {tuple(batch.shape)}, shares memory with x (a view): {shared}")

# %% [markdown]
# Most PyTorch code you will read uses a `DataLoader`, often over torchvision's `MNIST`
# dataset: it keeps the images as one uint8 tensor and, for every image asked for, builds a PIL
# picture, which its `ToTensor` transform turns into a float tensor; the `DataLoader` fetches the
# images one index at a time and stacks them into a batch. That makes it flexible (datasets on
# disk, worker processes, any per-image transform), but every image costs a few Python calls.
# The next cell cuts the same Fashion-MNIST images (at most 50 batches of 128) in three ways:
#
# - **torchvision-style**: a `Dataset` that does what torchvision's `MNIST` does per image
#   (`Image.fromarray`, then `ToTensor`), in a `DataLoader`;
# - a `DataLoader` over a `TensorDataset` (the images already in one float tensor);
# - `iterate_batches`' indexing.
#
# It uses ONE shuffled order, drawn once, and checks that the first batch of each route is the
# same tensor. (Each `DataLoader` is handed that order as its `sampler`; in everyday code you
# would write `shuffle=True, generator=g`.)
#
# **Threads.** PyTorch splits some operations, such as a large copy or a matrix product, among
# several threads (`torch.get_num_threads()`, printed next to the number of cores). When other
# programs keep the cores busy, an operation split among threads waits for the slowest one, so
# timings on a busy machine, a shared Colab CPU for one, are noisy. Each route therefore runs on
# one thread, five times. The cell prints the median pass with the fastest and slowest (min-max),
# and ranks two routes only when every pass of one beat every pass of the other.

# %%
import os
import time

import numpy as np
from PIL import Image
from torch.utils.data import DataLoader, Dataset, TensorDataset
from torchvision import transforms

print(f"torch.get_num_threads() = {torch.get_num_threads()} here; os.cpu_count() = {os.cpu_count()}; "
      "the timings below use 1 thread")
x_timed = fashion.train.x[: 50 * 128]  # (n, 1, 28, 28), at most 50 batches
as_bytes = (x_timed[:, 0] * 255).round().to(torch.uint8).numpy()  # (n, 28, 28), like image files
x_timed = torch.from_numpy(as_bytes).float()[:, None] / 255  # the same 8-bit values for every route
order = torch.randperm(len(x_timed), generator=torch.Generator().manual_seed(0))  # one shuffle


class PILImages(Dataset):
    """torchvision's per-image route: uint8 image -> PIL picture -> ToTensor, one index at a time."""

    def __init__(self, images: np.ndarray):  # (n, 28, 28) uint8
        self.images, self.to_tensor = images, transforms.ToTensor()

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.to_tensor(Image.fromarray(self.images[i]))  # (1, 28, 28), values in [0, 1]


def indexed_batches():
    """The course's route: index the tensor in memory with the next 128 entries of the order."""
    for (idx,) in iterate_batches(order, batch_size=128):  # batches of the permutation itself
        yield x_timed[idx]  # advanced indexing: a gather that copies 128 rows


def pass_seconds(make_batches, repeats: int = 5) -> list[float]:
    """The time of each of ``repeats`` full passes over the batches ``make_batches()`` yields,
    on ONE thread (PyTorch's own count is restored afterwards)."""
    threads, seconds = torch.get_num_threads(), []
    torch.set_num_threads(1)
    try:
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in make_batches():
                pass
            seconds.append(time.perf_counter() - start)
    finally:
        torch.set_num_threads(threads)
    return seconds


def ratio_range(top: list[float], bottom: list[float]) -> tuple[float, float]:
    """The smallest and largest ratio top / bottom that any pass of each allows: min/max, max/min."""
    return min(top) / max(bottom), max(top) / min(bottom)


pil_loader = DataLoader(PILImages(as_bytes), batch_size=128, sampler=order.tolist())  # (B, 1, 28, 28)
loader = DataLoader(TensorDataset(x_timed), batch_size=128, sampler=order.tolist())  # [(B, 1, 28, 28)]
first = {"torchvision-style": next(iter(pil_loader)), "TensorDataset": next(iter(loader))[0],
         "indexing": next(indexed_batches())}  # fmt: skip
print("first batch of each route:", {name: tuple(xb.shape) for name, xb in first.items()})
print("the three first batches are the same tensor:", all(torch.equal(xb, first["indexing"]) for xb in first.values()))
ours = "iterate_batches (indexing)"
passes = {"torchvision-style (PIL, ToTensor)": pass_seconds(lambda: pil_loader),
          "DataLoader(TensorDataset)": pass_seconds(lambda: loader),
          ours: pass_seconds(indexed_batches)}  # fmt: skip
times = {name: float(np.median(seconds)) for name, seconds in passes.items()}  # each route's median pass
print(f"{len(loader)} shuffled batches of 128 from {len(x_timed):,} images, 5 passes each: "
      "median (min-max), and the ratio to indexing's median (its range over the passes)")
for name, seconds in passes.items():
    low, high = ratio_range(seconds, passes[ours])
    print(f"  {name:>33}: {times[name] * 1000:7.1f} ms ({min(seconds) * 1000:.1f}-{max(seconds) * 1000:.1f}), "
          + ("the reference" if name == ours else f"{times[name] / times[ours]:.1f} x indexing ({low:.1f}-{high:.1f})"))
runner_up_name = min((name for name in times if name != ours), key=times.get)
low, high = ratio_range(passes[runner_up_name], passes[ours])  # the next route's time / indexing's
if low > 1:  # even its fastest pass was slower than indexing's slowest
    print(f"In this run: indexing was the fastest route in every pass; the next ({runner_up_name}) took "
          f"{low:.1f} to {high:.1f} x as long.")
elif high < 1:
    print(f"In this run: {runner_up_name} beat indexing in every pass ({1 / high:.1f} to {1 / low:.1f} x faster).")
else:
    print(f"In this run: the ranges overlap (ratio {low:.2f} to {high:.2f}): too noisy to rank indexing "
          f"and {runner_up_name}; rerun the cell.")

# %% [markdown]
# Does the gap matter? Only next to the time a training step takes. The next cell times, on one
# CPU thread, the training steps of a fresh `TinyAE` on the same batches, cut before its clock
# starts, and puts each route's time per batch beside it. Its loop is the one that "Does
# training work here?" writes out and explains.

# %%
torch.manual_seed(0)
timed_model = TinyAE()
adam = torch.optim.Adam(timed_model.parameters(), lr=3e-3)
batches = list(indexed_batches())  # the batches (B, 1, 28, 28), cut BEFORE any clock starts


def training_steps():
    """A training step on each prepared batch in turn; yields after each step."""
    for xb in batches:
        adam.zero_grad()
        loss = ((timed_model(xb) - xb.flatten(1)) ** 2).sum(dim=1).mean()
        loss.backward()
        adam.step()
        yield loss


step_passes = pass_seconds(training_steps)  # seconds per pass over the batches, 5 passes
step_ms = [seconds / len(batches) * 1000 for seconds in step_passes]  # ms per step, one per pass


def ratio_text(ratio: float) -> str:
    return f"{ratio:.2g}" if ratio < 100 else f"{ratio:.0f}"  # two significant figures: 0.012, 1.2, 15


print(f"one training step of TinyAE: {np.median(step_ms):.2f} ms per batch of 128 "
      f"(median of 5 passes; min-max {min(step_ms):.2f}-{max(step_ms):.2f} ms)")
for name, seconds in passes.items():
    low, high = ratio_range(seconds, step_passes)  # this route's time per batch / a step's
    print(f"  {name:>33}: {times[name] / len(batches) * 1000:6.2f} ms per batch, "
          f"{ratio_text(times[name] / np.median(step_passes))} x a training step "
          f"({ratio_text(low)}-{ratio_text(high)})")
slowest = max(times, key=times.get)
low, high = ratio_range(passes[slowest], step_passes)
if low > 1:
    print(f"In this run: the slowest route ({slowest}) took longer to prepare a batch than TinyAE "
          f"took to train on it, in every pass ({ratio_text(low)} to {ratio_text(high)} x).")
elif high < 1:
    print(f"In this run: every route prepared a batch faster than TinyAE trained on it, in every pass "
          f"(the slowest, {slowest}, took {ratio_text(low)} to {ratio_text(high)} x a step).")
else:
    print(f"In this run: too noisy to compare the slowest route ({slowest}) with a training step "
          f"(ratio {ratio_text(low)} to {ratio_text(high)}); rerun the cell.")

# %% [markdown]
# Why the ratios matter: without worker processes, a route adds its time per batch to every
# training step, so a ratio of 0.2 makes the whole run about 20% slower. A bigger model's longer
# step leaves a smaller share to the batches. On a GPU the step runs on another device while
# preparing batches stays CPU work, so the ratios differ there; this notebook does not measure
# them.

# %% [markdown]
# ## Appendix B: bit-for-bit repeats on a GPU and on a CPU
#
# **Takeaway, if you skip it:** a seed fixes the random numbers, not the order in which a device
# adds numbers up, and floating-point sums depend on that order in their last digits. So a seed
# alone need not repeat GPU results to the last bit. On a CPU, the same thread count splits a sum
# the same way every time, so a rerun repeats it; a different thread count (the thread-count cell below),
# or another machine, can change its last digits. The lessons do not need bit-for-bit repeats. On ONE device, with the same library versions and thread count, it takes:
#
# - `torch.use_deterministic_algorithms(True)`: deterministic versions of the operations (and an
#   error for an operation that has none);
# - `torch.backends.cudnn.benchmark = False` (PyTorch's default): no timing of cuDNN's algorithms
#   for each new input shape, a choice that can differ between runs;
# - on CUDA, `CUBLAS_WORKSPACE_CONFIG=:4096:8` in the environment **before CUDA starts**.
#
# [docs/reproducibility.md](../docs/reproducibility.md) explains each setting, why a CPU and a GPU
# draw different numbers from one seed, and which PyTorch versions need the variable. The cell
# below trains a tiny network twice from the same seed with PyTorch's defaults, then twice in
# deterministic mode, on CUDA if this machine has it and otherwise on the CPU (an Apple GPU is
# not tested), and compares each pair bit for bit. It runs in a **fresh Python process**, whose
# environment is set before it imports torch: this notebook started CUDA long ago, if at all.

# %%
import os
import subprocess

without_and_with = '''
import torch

best = "cuda" if torch.cuda.is_available() else "cpu"  # an Apple GPU (mps) is not tested here


def tiny_training_run(seed, device):
    """Twenty Adam steps of a small network on random data, all from one seed: its first weights."""
    x = torch.randn(256, 20, generator=torch.Generator().manual_seed(seed)).to(device)
    torch.manual_seed(seed)  # the initial weights
    net = torch.nn.Sequential(torch.nn.Linear(20, 64), torch.nn.ReLU(), torch.nn.Linear(64, 20))
    net = net.to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(20):  # a training loop; lesson 01 explains each line
        optimizer.zero_grad()
        loss = ((net(x) - x) ** 2).sum(dim=1).mean()
        loss.backward()
        optimizer.step()
    return net[0].weight.detach().cpu()


def repeats(device):
    """Whether two runs from seed 0 end with bit-for-bit the same first weights."""
    return torch.equal(tiny_training_run(0, device), tiny_training_run(0, device))


print("torch.backends.cudnn.benchmark in a fresh process (the default):", torch.backends.cudnn.benchmark)
without = repeats(best)  # PyTorch's defaults: deterministic mode off
torch.use_deterministic_algorithms(True)  # on CUDA, CUBLAS_WORKSPACE_CONFIG came with the environment
torch.backends.cudnn.benchmark = False  # already the default: undoes code that switched it on
with_them = repeats(best)
print(f"device {best}: two runs from seed 0 are bit-for-bit identical without deterministic mode: "
      f"{without}; with it: {with_them}")
if with_them and not without:
    print("In this run: only the pair in deterministic mode matched: the mode made the difference.")
elif with_them:
    print("In this run: both pairs matched: this small network did not need the mode here.")
else:
    print("In this run: even the pair in deterministic mode differed.")
'''
env = dict(os.environ)
if torch.cuda.is_available():
    env["CUBLAS_WORKSPACE_CONFIG"] = ":4096:8"  # in place before the new process starts CUDA
run = subprocess.run([sys.executable, "-c", without_and_with], env=env, capture_output=True, text=True,
                     timeout=300)  # fmt: skip
print("a fresh process, without deterministic mode and then with it:")
print(run.stdout.strip() or run.stderr.strip())

# %% [markdown]
# Where both pairs matched, the settings ran but were not needed here: two runs agreed without them,
# on this device, this time. The cells do not show why; one possible cause is that this small network
# uses none of the operations whose results are known to vary between runs (scatter-adds, some
# cuDNN convolutions).
#
# Now the thread count. The cell below adds up the same 10 million float32 numbers with one CPU
# thread and with two. Each thread adds up its own part, so the thread count changes the order of
# the additions, and float32 rounds differently in each order; the float64 line shows how far
# each sum is from a more precise one.

# %%
x = torch.randn(10_000_000, generator=torch.Generator().manual_seed(0))  # (10^7,) float32, 40 MB
threads_before = torch.get_num_threads()
sums = {}
try:
    for n_threads in (1, 2):
        torch.set_num_threads(n_threads)
        sums[n_threads] = x.sum().item()  # the same numbers, added up by n_threads threads
finally:
    torch.set_num_threads(threads_before)  # back to this notebook's usual thread count
print(f"float32 sum with 1 thread: {sums[1]:.5f}; with 2 threads: {sums[2]:.5f}; "
      f"float64 reference: {x.double().sum().item():.5f}")
if sums[1] != sums[2]:
    print(f"In this run: the thread count changed the sum, by {abs(sums[1] - sums[2]):.5f}.")
else:
    print("In this run: 1 and 2 threads gave the same sum (other sums can still differ).")
del x

# %% [markdown]
# The CPU and a GPU use different random-number algorithms (a Mersenne Twister on the CPU, Philox
# on an NVIDIA GPU): one seed draws other numbers on each ([docs/reproducibility.md](../docs/reproducibility.md)). To
# repeat a run, rerun it from the top on the same machine. Bit-for-bit repeats on a GPU take more
# settings (the cells above run them). The cell below draws from seed 0 on the CPU and, if this
# machine has a GPU, on the GPU.

# %%
torch.manual_seed(0)  # seeds the CPU's generator and every GPU's
on_cpu = torch.randn(3)  # (3,), drawn by the CPU's generator
print(f"seed 0, torch.randn(3) on the CPU: {[round(v, 4) for v in on_cpu.tolist()]}")
if course.device.type != "cpu":
    torch.manual_seed(0)
    on_gpu = torch.randn(3, device=course.device)  # (3,), drawn by the GPU's algorithm (Philox)
    print(f"seed 0, torch.randn(3) on {course.device}: {[round(v, 4) for v in on_gpu.tolist()]}")
    print("the CPU's and the GPU's draws are identical:", torch.equal(on_cpu, on_gpu.cpu()))
else:
    print("No GPU in this run: only the CPU's draw was made, so this run compares nothing. "
          "The comparison needs a GPU (on Colab with a GPU, this cell makes the same call there).")

# %% [markdown]
# ## Appendix C: the batch axis, and a layer that mixes the images of a batch
#
# **Optional:** what the first axis of a batch means, and a layer that mixes the images of a
# batch.

# %% [markdown]
# The first axis of a batch counts the images: a batch of 3 is three images side by side, not
# one image of another shape. A model built from layers like this one maps each image (each
# row) on its own, but not every layer does: **batch normalisation** (lesson 03) in training
# mode uses statistics of the whole batch, which mixes its images. The cell below feeds the
# stand-in model a batch of 3, then the second of those images alone as a batch of 1, and
# prints whether that image's row of output is the same both ways (up to rounding, since the
# two batch sizes may use different kernels). It then puts a `BatchNorm1d` layer after the
# model and compares that image's row in the batch of 3 and in a batch of 2.

# %%
(xb,) = next(iterate_batches(mnist.train.x, batch_size=128))  # section 4's batch again: (128, 1, 28, 28)
xb = xb.flatten(1).to(course.device)  # (128, 784), on the stand-in model's device
three = xb[:3]  # (3, 784): a batch of 3 images, on the model's device
out3 = model(three)  # (3, 10): one row of output per image
alone = model(three[1:2])  # (1, 10): image 1 on its own, as a batch of 1
print(f"batch {tuple(three.shape)} -> output {tuple(out3.shape)}; image 1 alone {tuple(three[1:2].shape)} -> "
      f"{tuple(alone.shape)}; its row is the same both ways: {torch.allclose(out3[1], alone[0], atol=1e-6)}")
with_bn = torch.nn.Sequential(model, torch.nn.BatchNorm1d(10)).to(course.device)  # in training mode
same_bn = torch.allclose(with_bn(three)[1], with_bn(three[:2])[1], atol=1e-6)
print(f"with BatchNorm1d after it, in training mode: image 1's row is the same in a batch of 3 and of 2: {same_bn}")

# %% [markdown]
# The same axes explain the loss of the training loop in "Does training work here?",
# `((x_hat - xb.flatten(1)) ** 2).sum(dim=1).mean()`, on batches of shape (B, 784)
# once flattened: `.sum(dim=1)` adds the squared errors over the 784 pixels of each image (one
# error per image, shape (B,)), and `.mean()` averages those over the B images of the batch.
# The training loops of appendices A and B compute their loss the same way.

# %% [markdown]
# **`.to()` on a tensor and on a module.** Section 4 reassigns the batch, `xb = xb.to(device)`, but
# not the model. A tensor's `.to()` returns a converted tensor and leaves the original as it was;
# a module's `.to()` converts the module itself. The cell below shows both with a dtype, which
# `.to()` converts the way it moves devices.

# %%
t = torch.zeros(2)  # float32
t.to(torch.float64)  # returns a converted copy and leaves t as it was
print(f"tensor: after t.to(torch.float64) without reassigning, t is still {t.dtype}: write t = t.to(...)")
layer = torch.nn.Linear(2, 2)  # float32 weights
returned = layer.to(torch.float64)  # a module converts its own weights, in place
print(f"module: after layer.to(torch.float64), its weights are {layer.weight.dtype}; "
      f"it returned the same module: {returned is layer}")

# %% [markdown]
# ## Appendix D: saving a model, and evaluation mode
#
# **Optional:** how to keep a trained model, and what `eval()` and `no_grad` change; lesson 01
# uses both, through the course's `predict`.
#
# A trained model lives in memory, and a Colab runtime that disconnects (after a while idle, or
# at its time limit) takes it along. `model.state_dict()` is a dictionary from the name of each
# parameter and buffer (such as BatchNorm's running statistics) to its tensor; `torch.save` writes it to a file (on Colab, to your mounted Google Drive if it
# must survive the runtime), and `load_state_dict` copies it into a freshly built model of the
# same architecture. The cell below builds a stand-in model shaped like section 4's (re-seeded here, so
# its weights repeat even when this cell is rerun alone) and section 4's batch again (so this appendix runs on its
# own), saves the model into a temporary folder, builds a
# new model (other random weights), loads the file into it, and prints whether the new model
# gives the old one's outputs, before and after loading. `map_location` puts the loaded tensors
# on this run's device, so a file saved on a GPU loads on a CPU too.
#
# To **resume training**, save the optimizer's `state_dict()` too: Adam keeps two running averages
# per weight and a step count, and a fresh Adam starts them from zero. The second cell saves
# both after 5 Adam steps, resumes 5 more steps from the file, and compares the result with
# 10 uninterrupted steps.

# %%
import tempfile
from pathlib import Path

from course_utils.data import iterate_batches

torch.manual_seed(0)  # re-seeded: the same weights however often this cell runs
model = torch.nn.Linear(784, 10).to(course.device)  # a stand-in model of section 4's shape, other weights
(xb,) = next(iterate_batches(mnist.train.x, batch_size=128))  # section 4's batch: (128, 1, 28, 28)
xb = xb.flatten(1).to(course.device)  # (128, 784), on the model's device
print("state_dict:", {name: tuple(t.shape) for name, t in model.state_dict().items()})
with tempfile.TemporaryDirectory() as folder:
    path = Path(folder) / "model.pt"
    torch.save(model.state_dict(), path)
    print(f"saved {path.name}: {path.stat().st_size / 1e3:.1f} kB")
    torch.manual_seed(1)  # another seed than the stand-in model's: other random weights
    fresh = torch.nn.Linear(784, 10).to(course.device)  # the same architecture, new random weights
    print("before loading, the new model gives the same outputs:", torch.equal(fresh(xb), model(xb)))
    fresh.load_state_dict(torch.load(path, map_location=course.device))
    print("after loading, the new model gives the same outputs:  ", torch.equal(fresh(xb), model(xb)))

# %%
def adam_steps(net, optimizer, n: int) -> None:
    """n training steps of net on the batch xb (128, 784): a made-up loss, the squared outputs."""
    for _ in range(n):
        optimizer.zero_grad()
        net(xb).pow(2).sum(dim=1).mean().backward()
        optimizer.step()


def new_run() -> tuple[torch.nn.Module, torch.optim.Optimizer]:
    torch.manual_seed(0)  # the same starting weights every time
    net = torch.nn.Linear(784, 10).to(course.device)
    return net, torch.optim.Adam(net.parameters(), lr=1e-3)


straight, opt = new_run()
adam_steps(straight, opt, 10)  # 10 steps in one go
first, opt = new_run()
adam_steps(first, opt, 5)
with tempfile.TemporaryDirectory() as folder:
    path = Path(folder) / "checkpoint.pt"
    torch.save({"model": first.state_dict(), "optimizer": opt.state_dict(), "step": 5}, path)
    checkpoint = torch.load(path, map_location=course.device)
resumed, opt = new_run()  # after a restart: a new model and optimizer ...
resumed.load_state_dict(checkpoint["model"])  # ... get the saved weights
opt.load_state_dict(checkpoint["optimizer"])  # ... and Adam's running averages
adam_steps(resumed, opt, 5)
print(f"resumed from step {checkpoint['step']} with the optimizer's state: the weights after 10 steps "
      f"equal the uninterrupted run's: {torch.equal(resumed.weight, straight.weight)}")
restarted, _ = new_run()
restarted.load_state_dict(checkpoint["model"])
cold = torch.optim.Adam(restarted.parameters(), lr=1e-3)  # a fresh Adam: its averages start at 0
adam_steps(restarted, cold, 5)
print(f"resumed with the weights only (a fresh Adam): equal: {torch.equal(restarted.weight, straight.weight)}")

# %% [markdown]
# To evaluate a model (error on the test split, pictures of reconstructions), the lessons use
# evaluation mode (`model.eval()`) and compute under `with torch.no_grad():`, mostly through the
# course's `predict`, which does both (lesson 01 never calls `eval()` itself; lesson 03 does, where
# BatchNorm makes it matter). `no_grad` stops autograd from
# recording, saving memory and time; `model.train()` switches back before training. `eval()`
# sets the flag `model.training` to False in the model and all its layers. For a `Linear` layer
# that is all it changes: its output does not depend on the flag. Some layers do behave
# differently: **dropout** (`nn.Dropout(p)`) sets each of its inputs to 0 with probability $p$ in
# training and scales the others by $1/(1-p)$, and passes its input unchanged in evaluation mode;
# **batch normalisation** uses statistics of the current batch in training and stored averages in
# evaluation mode (lesson 03 shows it). The first cell below prints what `eval()` and `no_grad`
# changed for the stand-in `Linear` model; the second runs a dropout layer on eight 1s in both
# modes.

# %%
before = model(xb)  # (128, 10), in training mode
model.eval()
with torch.no_grad():
    evaluated = model(xb)  # (128, 10), no graph recorded
print(f"after model.eval(): model.training = {model.training}; output under no_grad records a graph "
      f"(requires_grad): {evaluated.requires_grad}; the same call outside it: {model(xb).requires_grad}")
print("the Linear model's output is the same in both modes:", torch.equal(before, evaluated))
model.train()  # back to training mode
print("after model.train(): model.training =", model.training)

# %%
torch.manual_seed(0)
dropout = torch.nn.Dropout(p=0.5)
ones = torch.ones(8)  # (8,)
print("training mode:  ", dropout(ones).tolist())  # about half set to 0, the rest scaled by 1/(1-p) = 2
dropout.eval()
print("evaluation mode:", dropout(ones).tolist())  # unchanged

# %% [markdown]
# ## Appendix E: the embedded fallback
#
# **Optional:** what a lesson trains on when it finds no data.

# %% [markdown]
# Whichever data this run found, the fallback is always at hand: it ships inside scikit-learn as
# `load_digits`, the UCI "optdigits" set. Each digit was written on a 32x32 black-and-white
# bitmap. Each of its 8x8 values counts the ink pixels in one 4x4 block of that bitmap, so it lies
# between 0 and 16. The cell below builds the fallback, checks what section 3 says of it (how many
# digits, their size), and prints where the ink sits in the 28x28 frame.

# %%
from sklearn.datasets import load_digits

from course_utils.data_sources import embedded_digits
from course_utils.plots import rows_figure

scans = load_digits().images  # (1797, 8, 8): ink pixels counted in 4x4 blocks of a 32x32 bitmap, 0..16
fallback = embedded_digits().x  # (1797, 1, 28, 28), values in [0, 1]
ink_rows = fallback.amax(dim=(0, 1, 3)).nonzero().flatten()  # rows with ink in any image
ink_cols = fallback.amax(dim=(0, 1, 2)).nonzero().flatten()
print(f"scikit-learn's digits: {scans.shape[0]:,} images of {scans.shape[1]}x{scans.shape[2]} values "
      f"from {scans.min():.0f} to {scans.max():.0f}")
print(f"the embedded fallback: {tuple(fallback.shape)}; ink only in rows {ink_rows.min()}-{ink_rows.max()} "
      f"and columns {ink_cols.min()}-{ink_cols.max()}: a {len(ink_rows)}x{len(ink_cols)} box in the middle")
rows_figure({"8x8 counts / 16": scans[:10] / 16, "fallback, 28x28": fallback[:10]},
            title="the first ten embedded digits: scikit-learn's 8x8 counts and the enlarged fallback image")

# %% [markdown]
# The figure shows what a lesson would train on if it found no data. The top row is each digit's
# 8x8 counts, divided by 16. The bottom row is the same digit enlarged by smooth interpolation and
# framed in black like MNIST. The enlarged digits have soft edges and no fine strokes. So errors
# and figures on the fallback look different from those on MNIST, and lessons print which data
# they used.

# %% [markdown]
# ## Appendix F: per-pixel or per-image loss, trained
#
# **Optional:** it trains the rule section 5 states about the two loss conventions; lessons 01 and
# 05 rely on it.
#
# The cell below trains the same seeded `TinyAE` for 100 steps with each convention, under Adam and
# under SGD (each optimizer keeps one learning rate for both conventions), then adds an L1 penalty (as in lesson 05): $\lambda$ times the
# code's L1 norm (the sum of its 10 absolute values), averaged over the images.

# %%
x_few = fashion.train.x[: 10 * 128]  # (1280, 1, 28, 28): ten batches of training images


def train_variant(per_pixel: bool, optimizer_name: str, lam: float = 0.0, n_steps: int = 100):
    """A seeded TinyAE after n_steps; returns (model, size of its first step, validation loss per image, mean |z|)."""
    torch.manual_seed(0)
    model = TinyAE()
    start = torch.nn.utils.parameters_to_vector(model.parameters()).detach()  # (16,474,) starting weights
    opt = (torch.optim.Adam(model.parameters(), lr=3e-3) if optimizer_name == "Adam"
           else torch.optim.SGD(model.parameters(), lr=1e-4))
    g, first_step = torch.Generator().manual_seed(0), None  # the same batches for every variant
    for step in range(n_steps):
        (xb,) = next(iterate_batches(x_few, batch_size=128, shuffle=True, generator=g))
        z = model.encoder(xb.flatten(1))  # (B, 10)
        per_image = ((model.decoder(z) - xb.flatten(1)) ** 2).sum(dim=1)  # (B,)
        loss = per_image.mean() / (784 if per_pixel else 1) + lam * z.abs().sum(dim=1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step == 0:
            first_step = (torch.nn.utils.parameters_to_vector(model.parameters()) - start).norm().item()
    x = fashion.valid.x.flatten(1)  # (n_valid, 784)
    with torch.no_grad():
        z = model.encoder(x)
        valid = ((model.decoder(z) - x) ** 2).sum(dim=1).mean().item()
    return model, first_step, valid, z.abs().mean().item()


runs = {(pp, name): train_variant(pp, name) for pp in (False, True) for name in ("Adam", "SGD")}
w_image, w_pixel = (torch.nn.utils.parameters_to_vector(runs[pp, "Adam"][0].parameters()) for pp in (False, True))
print(f"In this run, Adam: largest weight difference {(w_image - w_pixel).abs().max() / w_image.abs().max():.1%} "
      f"of the largest weight; validation loss {runs[False, 'Adam'][2]:.2f} (per image) vs "
      f"{runs[True, 'Adam'][2]:.2f} (per pixel)")
print(f"In this run, SGD: the first step is {runs[False, 'SGD'][1] / runs[True, 'SGD'][1]:.0f} times larger with the "
      f"per-image loss; validation loss after 100 steps {runs[False, 'SGD'][2]:.1f} vs {runs[True, 'SGD'][2]:.1f} "
      f"(before training {train_variant(False, 'SGD', n_steps=0)[2]:.1f}; Adam reached {runs[False, 'Adam'][2]:.1f})")
lam = 0.5
for label, pp, weight in (("per image, lam", False, lam), ("per pixel, lam/784", True, lam / 784),
                          ("per pixel, lam", True, lam)):
    _, _, valid, code = train_variant(pp, "Adam", weight)
    share = weight * 10 * code / (valid / (784 if pp else 1) + weight * 10 * code)  # the penalty's share of the loss
    print(f"Adam + L1 penalty, {label:<18}: adds {weight:.4g} x {10 * code:.2f} (mean L1 norm of z), "
          f"validation loss {valid:.1f}, "
          f"penalty = {share:.0%} of the loss")

# %% [markdown]
# Adam divides each step by a running size of the gradient. So a loss 784 times smaller trains
# nearly the same model. (With a per-pixel mean, compare only numbers per pixel; lesson 01 prints
# some.)
#
# SGD's step is the gradient times the learning rate. So the per-pixel loss acts like a learning
# rate divided by 784: from the same weights, its first step is 784 times smaller. Read both SGD
# losses against two others on the line: the loss before training, and Adam's. At this small rate,
# 100 steps are too few to judge SGD itself. The line measures only how the convention scales the
# step.
#
# A penalty added to a per-pixel loss weighs 784 times more against the reconstruction. So it
# needs $\lambda/784$ for the same balance. That is why code built on `F.mse_loss` often
# multiplies the loss, or divides a penalty, by a "magic" constant.

# %% [markdown]
# ## Appendix G: broadcasting, and a weighted loss to fix
#
# **Optional:** a silent shape bug, as a task with a check. It reuses the batch of section 5's
# loss task.
#
# PyTorch **broadcasts**: in `a * b`, a dimension of size 1 is repeated to match the other
# tensor, and a missing leading dimension counts as size 1. So (128, 784) - (784,) subtracts one
# image from every row, as intended, but (B,) * (B, 1) gives a (B, B) table of every entry times
# every entry, with no error. The task: the function below weights each image's loss by a
# per-image weight, given as a (B, 1) column. Run it, read the check, fix it and rerun.

# %%
from course_utils.exercise_checks.lesson00 import check_weighted_loss


def weighted_loss(x_hat: torch.Tensor, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """x_hat, x: (B, 784); weights: (B, 1) -> one number: the mean over images of weight x summed squared error."""
    per_image = ((x_hat - x) ** 2).sum(dim=1)  # (B,)
    return (per_image * weights).mean()  # a first try: fix it


weights = torch.linspace(0.5, 1.5, 128).reshape(128, 1)  # (128, 1): one weight per image, as a column
print("(128,) * (128, 1) broadcasts to", tuple(torch.broadcast_shapes((128,), (128, 1))))
weighted = weighted_loss(images_hat.flatten(1), images.flatten(1), weights).item()
print(f"In this run: weighted_loss gives {weighted:.3f} on section 5's batch; the unweighted loss is {flat_loss:.3f}"
      + (" (equal: a sign the weights were averaged away)" if abs(weighted - flat_loss) <= 1e-4 * flat_loss else ""))
check_weighted_loss(weighted_loss)

# %% [markdown]
# ## Appendix H: Adam's steps, and what more training changes
#
# **Optional:** two measurements on the `TinyAE` that section 6 trained.
#
# **Adam's steps.** Adam keeps two running averages for each weight: $m$, of its gradients $g$,
# and $v$, of their squares $g^2$. Both start at 0. So after $t$ steps Adam divides them by
# $1-\beta_1^t$ and $1-\beta_2^t$ (the bias correction), which gives $\hat m$ and $\hat v$. Its step
# is $\eta\,\hat m / (\sqrt{\hat v} + \epsilon)$, with a tiny $\epsilon = 10^{-8}$.
#
# On the first step, $\hat m = g$ and $\hat v = g^2$. So each weight moves against $\mathrm{sign}(g)$
# by $\eta\,|g|/(|g|+\epsilon)$: that is $\eta$ to within a relative $\epsilon/|g|$, tiny unless $|g|$ is
# as small as $\epsilon$. Later, two things make $\hat m$ smaller than $\sqrt{\hat v}$, and so the step
# smaller than $\eta$. First, $\hat m$ averages gradients that can change sign from batch to batch,
# so they partly cancel. $\hat v$ averages their squares, which keep the gradients' size. Second,
# $\hat v$ averages over about the last 1,000 steps ($\beta_2 = 0.999$), $\hat m$ over about 10 ($\beta_1 = 0.9$). So
# $\hat v$ can still remember larger gradients from early training.
#
# The cell below reruns training's first step from the saved starting weights. Then it takes one
# more step from copies of the trained model and optimizer. It also collects the gradients of 10
# batches at the trained weights, and it measures both effects.

# %%
import itertools

as_vector = torch.nn.utils.parameters_to_vector  # all weights and biases in one vector (16,474,)
eta = optimizer.param_groups[0]["lr"]  # η, Adam's learning rate


def step_change(state: dict, optimizer_state: dict | None, xb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """ONE Adam step on xb (B, 1, 28, 28) from saved states; tiny is untouched.
    Returns each weight's |change| and its gradient in that step, both (16,474,)."""
    model = copy.deepcopy(tiny)
    model.load_state_dict(state)
    model_optimizer = torch.optim.Adam(model.parameters(), lr=eta)
    if optimizer_state is not None:
        model_optimizer.load_state_dict(copy.deepcopy(optimizer_state))  # Adam's running averages too
    weights_before = as_vector(model.parameters()).detach().clone()
    model_optimizer.zero_grad()
    ((model(xb) - xb.flatten(1)) ** 2).sum(dim=1).mean().backward()
    grad = as_vector([p.grad for p in model.parameters()]).clone()
    model_optimizer.step()
    return (as_vector(model.parameters()).detach() - weights_before).abs(), grad


(xb,) = next(iterate_batches(x_train, batch_size=128, shuffle=True, generator=torch.Generator().manual_seed(0)))
first_step, first_grad = step_change(start, None, xb.to(device))  # training's first step, rerun from the start
has_grad = first_grad != 0  # black pixels in all 128 images give their encoder weights no gradient
exact = ((first_step[has_grad] / eta - 1).abs() < 0.01).float().mean().item()  # moved η, to within 1%
print(f"first step: {has_grad.float().mean():.1%} of the weights got a non-zero gradient; {exact:.1%} of those "
      f"moved by η to within 1% (median {first_step[has_grad].median().item() / eta:.3f} η); the others "
      f"moved {first_step[~has_grad].max().item() / eta if (~has_grad).any() else 0:.2f} η at most")
next_step, _ = step_change(tiny.state_dict(), optimizer.state_dict(), xb.to(device))  # one step after training
next_median, largest = next_step.median().item() / eta, next_step.max().item() / eta  # in units of η
beta1, beta2 = optimizer.param_groups[0]["betas"]
t = int(optimizer.state[tiny.encoder.weight]["step"])  # steps taken so far
m_hat = as_vector([optimizer.state[p]["exp_avg"] for p in tiny.parameters()]) / (1 - beta1**t)  # (16,474,)
v_hat = as_vector([optimizer.state[p]["exp_avg_sq"] for p in tiny.parameters()]) / (1 - beta2**t)
grads = []  # the gradient of each of 10 batches at the trained weights, no step taken
other_order = torch.Generator().manual_seed(1)  # another shuffle than training's
for (batch,) in itertools.islice(iterate_batches(x_train, batch_size=128, shuffle=True, generator=other_order), 10):
    tiny.zero_grad()
    batch = batch.to(device)
    ((tiny(batch) - batch.flatten(1)) ** 2).sum(dim=1).mean().backward()
    grads.append(as_vector([p.grad for p in tiny.parameters()]).clone())
tiny.zero_grad()
grads = torch.stack(grads)  # (n_batches, 16,474)
size_now = grads.pow(2).mean(dim=0).sqrt()  # (16,474,): each weight's gradient size now (root mean square)
used = (size_now > 0) & (v_hat > 0)  # weights that get gradients at all
both_signs = ((grads > 0).any(dim=0) & (grads < 0).any(dim=0))[used].float().mean().item()
cancel = (m_hat.abs() / size_now)[used].median().item()  # small when the signs cancel in m̂
memory = (size_now / v_hat.sqrt())[used].median().item()  # small when v̂ remembers larger gradients
print(f"after {t:,} steps: one more step moved the median weight {next_median:.3f} η, the largest {largest:.2f} η")
print(f"over {len(grads)} batches at the trained weights, {both_signs:.0%} of the weights got gradients of both signs; "
      f"median |m̂| / gradient size now: {cancel:.2f}; median gradient size now / √v̂: {memory:.2f}")
verdict = ("the first step moved the weights with a gradient by η to within 1%, as η|g|/(|g|+ε) says. " if exact > 0.99
           else f"only {exact:.0%} of the weights with a gradient moved by η in the first step. ")
if next_median < 0.5:
    verdict += (f"After training the median step is {1 / next_median:.0f} times smaller with the same η: η sets the "
                "scale of Adam's steps, not their size. "
                + ("Both effects shrink it by similar factors (within 1.5 x)."
                   if max(cancel, memory) < 1.5 * min(cancel, memory)
                   else "The larger shrink comes from "
                   + ("gradients of both signs cancelling in m̂." if cancel < memory
                      else "v̂ remembering the larger gradients of early training.")))
else:
    verdict += "After training the median step did not shrink below 0.5 η."
if largest > 1.001:
    verdict += f" One weight moved {largest:.2f} η: η is not a cap either."
print("In this run: " + verdict)

# %% [markdown]
# **More training.** Are TinyAE's rebuilt images in section 6 more speckled than PCA's? The cell
# below measures speckle as **roughness**: the mean |difference| between horizontal neighbour
# pixels, over 500 rebuilt validation images. Then it trains a copy of TinyAE for more passes and
# measures again.

# %%
def roughness(images: torch.Tensor) -> float:
    """images (N, 784) -> the mean |difference| between horizontal neighbours: 0 for flat images."""
    return images.reshape(-1, 28, 28).diff(dim=2).abs().mean().item()


longer = copy.deepcopy(tiny)  # a copy: tiny stays as trained
longer_optimizer = torch.optim.Adam(longer.parameters(), lr=eta)
longer_optimizer.load_state_dict(copy.deepcopy(optimizer.state_dict()))  # carry on where training stopped
g_more = torch.Generator().manual_seed(2)  # the shuffling order of the extra passes
more_steps = 0
for _ in range(10 if course.fast else 30):  # more passes, the five moves as in section 6
    for (xb,) in iterate_batches(x_train, batch_size=128, shuffle=True, generator=g_more):
        xb = xb.to(device)
        longer_optimizer.zero_grad()
        ((longer(xb) - xb.flatten(1)) ** 2).sum(dim=1).mean().backward()
        longer_optimizer.step()
        more_steps += 1
check = x_valid[:500]  # (500, 784)
r_pca = roughness(taste.truncated(10).reconstruct(check).clamp(0, 1))
r_tiny, r_longer = roughness(rebuilt(tiny, check)), roughness(rebuilt(longer, check))
ratio_before = valid_curve[-1] / error_pca  # the model's validation loss / PCA's, as trained in section 6
print(f"roughness: PCA {r_pca:.4f}; TinyAE {r_tiny:.4f} after {n_steps:,} steps, {r_longer:.4f} after "
      f"{more_steps:,} more (its loss / PCA's: {ratio_before:.3f}, then {loss_on(longer, x_valid, device) / error_pca:.3f})")
closer = abs(r_longer - r_pca) < abs(r_tiny - r_pca)
print(f"In this run: TinyAE's rebuilt images are {'rougher' if r_tiny > r_pca else 'no rougher'} than PCA's; "
      + ("more training brought its roughness closer to PCA's: the speckle is unfinished training."
         if closer and r_tiny > r_pca else "more training did not bring its roughness closer to PCA's."))

# %% [markdown]
# The last line says whether TinyAE's speckle is unfinished training: weights still on their way
# from a random start. Lesson 01 trains to the end.

# %% [markdown]
# ## Your first exercise
#
# Lesson 00 has no exercise of its own. The first one comes with the next lesson:
# [Exercise 01](../exercises/01_linear_autoencoder_and_pca.ipynb) [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ae-course/autoencoders-pca-to-vae/blob/main/exercises/01_linear_autoencoder_and_pca.ipynb),
# where you implement PCA by SVD, encoding and decoding with it, the principal angles between two
# subspaces and one training step of a linear autoencoder, read PCA's ordered basis back from a
# trained linear autoencoder, and predict, before running the code, how much the error grows when
# the kept PCA plane is turned, with a check cell after each task.

# %% [markdown]
# <a id="setup"></a>
#
# ## Your setup, in one cell
#
# Before the quiz, everything this notebook found about your setup, one line each: ✓ for the
# usual course setup, ✗ for a departure from it (a ✗ is not an error: the course runs either way,
# and the line says what it changes). A dataset gets a ✗ when the embedded fallback stands in,
# and also when only part of it is on disk (the data line of section 3 then says "only ...
# images on disk").

# %%
import importlib.util
import re


def status_line(ok: bool, text: str) -> None:
    print(("✓ " if ok else "✗ ") + text)


status_line(True, f"device: {course.device}" + (" (a GPU may make full mode faster)" if course.device.type == "cpu" else ""))
for asked, data in (("Fashion-MNIST", fashion), ("MNIST", mnist)):
    partial = re.search(r"only ([\d,]+) images on disk", data.source)  # the data line's note on a partial set
    if data.is_fallback:
        status_line(False, f"{asked}: the embedded fallback (real data not found)")
    elif partial:  # both sets have 70,000 images: 60,000 for training and 10,000 for testing
        status_line(False, f"{asked}: real data ({data.name}), but only {partial[1]} of its 70,000 images "
                    "on disk: lessons that use it train and test on fewer images, so their numbers differ "
                    "from a full run's")
    else:
        status_line(True, f"{asked}: real data ({data.name}), training and test files")
status_line(importlib.util.find_spec("ipywidgets") is not None,
            "ipywidgets installed (only section 7's slider shows whether your Jupyter draws widgets)")
status_line(not course.fast, f"{course.mode} mode" + (" (a smoke test: numbers are not results)" if course.fast else ""))

# %% [markdown]
# <a id="quiz"></a>
#
# ## Quiz
#
# Your first quiz: it checks the ideas of this notebook. Pick your answers, press *Submit*, and read
# the explanations, also for the questions you got right.

# %% tags=["nbval-ignore-output"]
from course_utils.quiz import show_quiz

show_quiz("00_setup_and_tour")

# %% [markdown]
# Next: [01 · Linear autoencoder and PCA](01_linear_autoencoder_and_pca.ipynb).
