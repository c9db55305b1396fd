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
# # 04 · Denoising autoencoders
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ae-course/autoencoders-pca-to-vae/blob/main/notebooks/04_denoising_autoencoders.ipynb)
#
# So far our autoencoders were kept from copying their input by a narrow bottleneck. A
# **denoising autoencoder** (DAE) uses a different trick: we damage the input on purpose and ask
# the network to return the **undamaged** image. Copying is now useless, because the input is
# not the answer. To undo the damage, the network has to know what images of clothes (or digits)
# look like. That knowledge is exactly what we want an autoencoder to learn.
#
# **Learning objectives.** After this lesson you can
# 1. write three corruption processes (Gaussian noise, masking, salt-and-pepper) as plain,
#    seeded functions and state the range of their outputs and of their noise levels;
# 2. train an autoencoder on corrupted inputs against clean targets, with fresh noise in every
#    epoch, using the course's one training loop;
# 3. measure denoising quality with PSNR **on corrupted test inputs**, and explain why
#    evaluating on clean inputs is a bug;
# 4. compare a learned denoiser with a non-learned baseline (a Gaussian blur) across noise
#    levels;
# 5. explain, with a 2-D picture, why denoising forces a model to learn where the data lives
#    (the data manifold), and what the denoiser's step $r(x) - x$ estimates (Tweedie's formula,
#    for the NOISED density).

# %%
# Setup (extra code): on Colab, install the course package; locally it is already installed.
# Colab already has every dependency, so --no-deps leaves its own torch and Jupyter untouched.
import sys

if "google.colab" in sys.modules:
    # %pip install -q --no-deps "autoencoders-course @ git+https://github.com/ae-course/autoencoders-pca-to-vae"

# %%
import torch
from torch import nn

from course_utils import setup_course

course = setup_course(seed=0)
DATASET = "fashion_mnist"  # try "mnist": every cell below works with either

# %% [markdown]
# **Which data, and why.** We ask for Fashion-MNIST: clothes have textures and edges that make
# the comparison with a blur meaningful (a blur smears exactly those). Switch `DATASET` to
# `"mnist"` to try digits. The cell below prints which images were actually loaded: without the
# real data the course falls back to a small embedded set of 8 x 8 digits scaled to 28 x 28, and
# then every number in this lesson is about those digits, not about clothes.

# %%
from course_utils.data import load_dataset

data = load_dataset(DATASET, seed=course.seed)
clean_examples = data.test.x[:8]  # (8, 1, 28, 28), values in [0, 1]
print(f"loaded {data.name}: {len(data.train.x):,} training, {len(data.valid.x):,} validation, "
      f"{len(data.test.x):,} test images | embedded fallback: {data.is_fallback}")

# %% [markdown]
# ## 1. Three ways to damage an image
#
# Every corruption maps clean images $x \in [0, 1]^{D}$ to damaged images $\tilde x$ of the same
# shape, also in $[0, 1]$. The **noise level** is one number per process:
#
# | process | what happens to each pixel | level | valid range |
# |---|---|---|---|
# | Gaussian | $\tilde x_i = \operatorname{clip}(x_i + \sigma \varepsilon_i,\ 0,\ 1)$ with $\varepsilon_i \sim \mathcal N(0, 1)$ | $\sigma$ | $\sigma \ge 0$ |
# | masking (pixel dropout) | set to 0 with probability $p$, else kept | $p$ | $0 \le p \le 1$ |
# | salt-and-pepper | with probability $p$ replaced by 0 or 1 (a fair coin), else kept | $p$ | $0 \le p \le 1$ |
#
# Here is Gaussian noise written in two visible lines. Randomness comes from an explicit
# `torch.Generator`, so this cell draws the same noise however often you run it.

# %%
g = torch.Generator().manual_seed(0)
noisy = (clean_examples + 0.3 * torch.randn(clean_examples.shape, generator=g)).clamp(0, 1)
print("shape", tuple(noisy.shape), "| range", noisy.min().item(), "to", noisy.max().item())

# %% [markdown]
# **To clip or not to clip: a choice with a cost.** We clip the noisy images back to $[0, 1]$.
# Nothing forces us to: the noisy image is only the network's *input*, and a network accepts
# any real numbers; the *target* is the clean image, which is in $[0, 1]$ anyway. We clip so that
# noisy inputs look like images (they can be displayed and saved as such). The price: clipping
# changes the noise. On a black pixel ($x = 0$) every negative draw is cut to 0, so the noise
# that remains is never negative, its mean is above 0 and its spread is below $\sigma$. Measured
# on a million black pixels:

# %%
black = torch.zeros(1_000_000)
for sigma in (0.1, 0.3, 0.5):
    kept = (black + sigma * torch.randn(black.shape, generator=torch.Generator().manual_seed(0))).clamp(0, 1)
    print(f"sigma = {sigma}: noise after clipping has mean {kept.mean():+.3f} and std {kept.std():.3f} "
          f"(before clipping: mean 0, std {sigma})")

# %% [markdown]
# The mean should come out near $\sigma / \sqrt{2\pi} \approx 0.4\,\sigma$ (the mean of a
# half-normal divided by two): about $+0.12$ at $\sigma = 0.3$, read the printed values. So in
# this lesson's tables "$\sigma$" is the standard deviation of the noise **before** clipping,
# not of the noise the model sees; on images with a lot of black background (both MNIST and
# Fashion-MNIST) the effective noise is weaker and brightens the background on average. A
# denoiser trained on unclipped noise would face zero-mean noise of exactly $\sigma$; it would
# simply need inputs outside $[0, 1]$.

# %% [markdown]
# The course package keeps the three processes in `course_utils.corruption` (open it: each is
# a few lines). Note that masking does **not** rescale the kept pixels, unlike `nn.Dropout`: we
# want an image with holes, not one whose average brightness is preserved.
#
# Before trusting them, check that they do what they say: on 100 constant grey images, the
# masked fraction should be close to $p$, salt-and-pepper should turn about $p/2$ of the pixels
# white and $p/2$ black, and the Gaussian noise (measured where clipping never happens) should have
# standard deviation $\sigma$.

# %%
from course_utils.corruption import corrupt, gaussian_noise, masking_noise, salt_and_pepper

grey = torch.full((100, 1, 28, 28), 0.5)  # 78,400 pixels, far from 0 and 1
g = torch.Generator().manual_seed(0)
print(f"masking p=0.3:         dropped fraction {(masking_noise(grey, 0.3, g) == 0).float().mean():.4f}")
sp = salt_and_pepper(grey, 0.2, g)
print(f"salt-and-pepper p=0.2: white {(sp == 1).float().mean():.4f}, black {(sp == 0).float().mean():.4f}")
print(f"Gaussian sigma=0.1:    measured std {(gaussian_noise(grey, 0.1, g) - 0.5).std():.4f}")

# %% [markdown]
# A noise level outside its valid range is a mistake, and the functions say so instead of
# quietly producing nonsense:

# %%
try:
    masking_noise(clean_examples, 1.5)
except ValueError as err:
    print("ValueError:", err)

# %% [markdown]
# What the three processes look like at increasing levels. Each row uses its own seeded
# generator; the first column is the clean image.

# %%
from course_utils.plots import images_figure

image = data.test.x[:1]  # (1, 1, 28, 28)
LEVELS_SHOWN = {"gaussian": (0.1, 0.2, 0.3, 0.5), "masking": (0.1, 0.25, 0.5, 0.7),
                "salt_and_pepper": (0.05, 0.1, 0.2, 0.4)}
tiles, titles = [], []
for kind, levels in LEVELS_SHOWN.items():
    g = torch.Generator().manual_seed(0)
    tiles += [image] + [corrupt(image, kind, level, g) for level in levels]
    titles += [f"{kind.replace('_and_', ' & ')}: clean"] + [f"level {level}" for level in levels]
images_figure(torch.cat(tiles), ncols=5, titles=titles, size=1.4,
            title="three corruption processes, from mild to severe")

# %% [markdown]
# Gaussian noise speckles every pixel a little; masking punches black holes (invisible on the
# black background, visible on the bright object); salt-and-pepper sprinkles pure white and pure black
# dots everywhere. A good denoiser has to handle each kind differently: averaging neighbours
# helps against Gaussian noise, but a single white dot on a black background is better simply
# deleted.
#
# ## 2. Training on corrupted inputs with clean targets
#
# The training objective of a DAE is the usual reconstruction loss, with one change:
#
# $$ \mathcal L = \mathbb E_{x}\ \mathbb E_{\tilde x \sim q(\tilde x \mid x)}\
#    \big\| g_\phi(f_\theta(\tilde x)) - x \big\|^2 , $$
#
# the **input** is the corrupted $\tilde x$ and the **target** is the clean $x$. With the
# course's convention the squared error is summed over the pixels of an image and averaged over
# the batch. The whole data flow, with the shapes for a batch of $B$ images:

# %%
from course_utils.plots import flow_diagram_figure

flow_diagram_figure(
    [("x", "clean (B, 1, 28, 28)"), ("corrupt", "noise, masking or\nsalt & pepper"),
     ("x~", "noisy (B, 1, 28, 28)"), ("encoder", "784 -> 512 -> 256"), ("h", "(B, 256)"),
     ("decoder", "256 -> 512 -> 2 x 784\nr and trust t"), ("blend", "t * x~ + (1 - t) * r\n(x~ via the skip)"),
     ("x^", "(B, 784)"), ("loss", "||x^ - x||^2 / ||x~ - x||^2\nvs the CLEAN x")],
    arrows=["fresh noise", "", "", "", "", "", "", "target x"],
    title="denoising autoencoder: damage the input, score against the clean image")
#
# There are two ways to feed `fit` (the one training loop of the course):
#
# 1. corrupt the training set once, and train on those fixed noisy images;
# 2. pass only the clean images and corrupt them **on the fly** inside the objective, with
#    a generator whose state moves on, so that every epoch sees **new noise** on the same images.
#
# We train with option 2. With option 1 the network sees each image with one fixed pattern of
# noise, again and again, and can start to memorise those particular noisy images; with option 2
# the noise is fresh every time, which acts like an endless supply of training pairs at no cost
# in memory. For **validation and testing** we want the opposite: fixed, seeded noise, so that
# numbers are reproducible and different models face exactly the same inputs.
#
# `course_utils.denoising.DenoisingObjective` does both: while the model trains, each batch of
# clean images is corrupted on the fly; in eval mode (validation) the noise of a batch is fixed,
# here Gaussian with $\sigma = 0.3$. For each training batch it picks one of the three
# processes at random and a noise level uniformly from a range, so that **one** model learns to
# handle all three kinds and every level in between (a "blind" denoiser: it is never told the
# kind or level). Here is its core, written out:
#
# ```python
# kind = kinds[torch.randint(len(kinds), (1,), generator=generator).item()]
# low, high = levels[kind]
# level = low + (high - low) * torch.rand(1, generator=generator).item()
# noisy = corrupt(clean, kind, level, generator)   # new noise on every call
# loss = sse_per_image(model(noisy), clean).mean()         # the target is the CLEAN image
# if relative:                                              # see below
#     loss = loss / sse_per_image(noisy, clean).mean()      # (floored at 1)
# return loss
# ```
#
# **Weighting the noise levels.** With the plain squared error, a batch of mild noise
# contributes a small loss (there is little damage to undo) and a batch of heavy noise a large
# one, so training mostly listens to the heavy noise and mild noise gets little attention. With
# `relative=True` the loss of a batch is divided by the squared error of the noisy input itself:
# it becomes the **share of the damage that remains** (1: no better than the noisy input, 0:
# perfect), and every noise level counts on the same scale. We train with it; the curves below are in these
# units, and `fit` records them under the name the objective gives a ratio, `damage_ratio`, not
# `loss`.

# %%
from course_utils.denoising import DenoisingObjective

TRAIN_LEVELS = {"gaussian": (0.1, 0.7), "masking": (0.1, 0.9), "salt_and_pepper": (0.05, 0.6)}
# training noise: new at every step (seeded once); validation noise: fixed Gaussian, sigma = 0.3
objective = DenoisingObjective(TRAIN_LEVELS, seed=1, valid_noise=("gaussian", 0.3), relative=True)

# %% [markdown]
# The model starts as a dense autoencoder with a sigmoid output so that pixels land in
# $[0, 1]$. A denoising autoencoder does not need a tight bottleneck (the corruption already
# prevents copying), so we give it a generous 256-number code: a narrow code would blur fine
# details away even on clean images. Written out, the plain dense DAE is these few layers:

# %%
sketch = nn.Sequential(
    nn.Flatten(),                     # (B, 1, 28, 28) -> (B, 784)
    nn.Linear(784, 512), nn.ReLU(),   # encoder
    nn.Linear(512, 256),              # the code h: (B, 256), no activation
    nn.Linear(256, 512), nn.ReLU(),   # decoder
    nn.Linear(512, 784), nn.Sigmoid(),  # (B, 784), pixels in [0, 1]
)
print(f"{sum(p.numel() for p in sketch.parameters()):,} weights")

# %% [markdown]
# **Why we add a skip path.** Even 256 numbers cannot carry every fine detail of an image
# through the bottleneck, so the plain DAE has an error floor of its own: when the noise is
# mild, its reconstruction can be worse than the noisy input it was given, and worse than a
# simple blur (we measure this floor in section 5). The cure is to let the fine detail go
# **around** the bottleneck. `SkipDenoisingAutoencoder` in `course_utils.denoising` keeps the
# encoder and decoder above, but its decoder outputs two maps of 784 numbers: a reconstruction
# $r$ and a per-pixel **trust** $t \in (0, 1)$. A skip path carries the noisy input $\tilde x$
# to the output, which is the blend
#
# $$ \hat x = t \odot \tilde x + (1 - t) \odot r . $$
#
# It is still an encoder to a code and a decoder back: $r$ and $t$ are computed from the code
# alone. Where the noise is mild, the decoder can trust the noisy pixels and keep their detail;
# where it is heavy, it can rely on its reconstruction. The core of its `forward`:
#
# ```python
# r, t = self.decode(self.encode(noisy))          # (B, 784) each, both through a sigmoid
# return t * noisy.flatten(1) + (1 - t) * r       # the skip: noisy pixels reach the output
# ```
#
# Its decoder's last layer is twice as wide as the sketch's (784 outputs for $r$, 784 for $t$).
#
# **The training budget is set in optimizer steps**, not epochs: about 3,400 steps of 128 images
# in full mode, however many training images were loaded, so a small dataset gets more epochs
# instead of less training. The learning rate starts at `LR` and decays to 0 along a half
# cosine (`CosineDecay` from `course_utils.schedules`), which lets the last steps settle.

# %%
import math

from course_utils.denoising import SkipDenoisingAutoencoder
from course_utils.plots import history_figure
from course_utils.schedules import CosineDecay
from course_utils.train import fit

torch.manual_seed(0)  # the seed of this model's initial weights
dae = SkipDenoisingAutoencoder(784, hidden=(512,), n_latent=256).to(course.device)
n_sketch, n_dae = (sum(p.numel() for p in m.parameters()) for m in (sketch, dae))
print(f"{n_dae:,} weights: the sketch's {n_sketch:,} plus the trust map's {n_dae - n_sketch:,} "
      f"(= 512 x 784 + 784: {n_dae - n_sketch == 512 * 784 + 784})")
STEPS, LR = course.pick(full=3400, fast=50), 2e-3  # optimizer steps of 128 images
epochs = max(1, round(STEPS / math.ceil(len(data.train.x) / 128)))
history = fit(dae, data.train.x, data.valid.x, objective=objective, epochs=epochs,
              batch_size=128, lr=LR, callbacks=[CosineDecay()], verbose=False)
print(f"{course.mode} mode, {len(data.train.x):,} training images, {epochs} epochs "
      f"({epochs * math.ceil(len(data.train.x) / 128):,} steps); valid damage ratio (Gaussian 0.3) {history.last('valid_damage_ratio'):.3f}: that share of the damage remains")
history_figure(history, title="denoising autoencoder: share of the damage that remains")

# %% [markdown]
# The training curve mixes all three kinds and all levels, so it is bumpier than usual; the
# validation curve always uses the same Gaussian-noise images ($\sigma = 0.3$). Since the loss
# is a share of each batch's damage, mild and harsh batches are on the same scale; whether the
# validation curve sits above or below the training curve says how hard Gaussian noise 0.3 is
# for the model compared with the training mix (read it off the figure). In fast mode (50
# steps) the model has barely started: read every number below as rough, and the verdicts
# printed below as what this short run shows.
#
# ## 3. What the denoiser does
#
# Below, for each kind of noise: the corrupted **input** the model receives, its output, and the
# clean target it never saw. The title gives the mean PSNR (defined in section 4; higher is
# better) before and after denoising.

# %%
from IPython.display import display

from course_utils.denoising import denoising_figure, denoising_view

for kind, level in (("gaussian", 0.3), ("masking", 0.5), ("salt_and_pepper", 0.2)):
    display(denoising_figure(dae, clean_examples, kind, level))

# %% [markdown]
# Compare the two PSNRs in each title: the denoised one should be higher (it is computed, read
# it). The outputs are usually smoother than the targets: fine texture that the noise destroyed
# cannot be recovered, so the model guesses a plausible average. Look at the masked holes: the
# model fills them with what it has learned such images look like.
#
# **Where does the model trust its input?** The decoder's trust map $t$ says, pixel by pixel,
# how much of the noisy input goes straight to the output. Here it is for one image under mild
# and heavy Gaussian noise (white: $t$ near 1, the noisy pixel is kept; black: the
# reconstruction $r$ is used), with its mean over the 8 images printed for each level.

# %%
from course_utils.plots import images_figure
from course_utils.train import predict

trust_tiles, trust_titles = [], []
for level in (0.1, 0.3, 0.6):
    noisy_level = corrupt(clean_examples, "gaussian", level, torch.Generator().manual_seed(0))
    trust = predict(dae, noisy_level, fn=lambda m, xb: m.decode(m.encode(xb))[1])  # (8, 784)
    print(f"Gaussian sigma = {level}: mean trust in the noisy pixels {trust.mean():.2f}")
    trust_tiles += [noisy_level[:1], trust[:1].view(1, 1, 28, 28)]
    trust_titles += [f"noisy, sigma {level}", f"trust t, sigma {level}"]
images_figure(torch.cat(trust_tiles), ncols=6, titles=trust_titles, size=1.4,
              title="the decoder's trust in the noisy pixels")

# %% [markdown]
# Read the printed means: if the model has learned to use its skip path sensibly, it trusts
# the noisy pixels more when the noise is mild. It is never told the noise level; it has to
# infer it from the noisy image, through the code.
#
# ### Slider: how much noise can it take?
#
# Pick a noise kind and move the level. The noise is seeded, so the same level always shows the
# same noise; each redraw runs the model on the eight images.

# %% tags=["nbval-ignore-output"]
denoising_view(dae, clean_examples, kind="gaussian", level=0.3)

# %% [markdown]
# ## 4. Measuring it: PSNR against a blur
#
# The **peak signal-to-noise ratio** of an estimate $\hat x$ of an image $x$ with pixel values in
# $[0, 1]$ is
#
# $$ \mathrm{PSNR}(\hat x, x) = 10 \log_{10} \frac{1^2}{\frac1D \sum_i (\hat x_i - x_i)^2}
#    \quad \text{decibels (dB)}. $$
#
# It is the mean squared error per pixel on a log scale: +10 dB means ten times less squared
# error, and identical images give $+\infty$ (our `psnr` returns `inf` then, with no cap). We
# compute it per image and average over the test images. A hand check: an image off by 0.1 at
# every pixel has MSE 0.01 and so a PSNR of 20 dB.

# %%
from course_utils.corruption import psnr

x = torch.zeros(1, 1, 28, 28)
print("off by 0.1 everywhere:", psnr(x + 0.1, x).item(), "dB | identical:", psnr(x, x).item())

# %% [markdown]
# A learned denoiser is only impressive if it beats something simple. The classic non-learned
# denoiser is a **Gaussian blur**: replace every pixel by a weighted average of its
# neighbours, with weights $\propto e^{-d^2 / 2 s^2}$ at distance $d$. Noise that differs from
# pixel to pixel averages out; so, unfortunately, do edges. `gaussian_blur` in
# `course_utils.corruption` is written with `torch.nn.functional.conv2d` (one pass over the rows,
# one over the columns, since a 2-D Gaussian is separable).
#
# The blur has one knob, its width $s$. To be fair to it, we tune $s$ for every noise kind and
# level on **validation** images and then report it on the test images, just as the DAE was
# tuned (trained) on training images.

# %%
from course_utils.corruption import best_blur_sigma, gaussian_blur
from course_utils.denoising import denoise
from course_utils.plots import rows_figure

g = torch.Generator().manual_seed(3)
noisy_valid = gaussian_noise(data.valid.x[:1000], 0.3, g)
s, score = best_blur_sigma(noisy_valid, data.valid.x[:1000])
print(f"Gaussian sigma = 0.3: best blur width s = {s} pixels, {score:.2f} dB on validation images "
      f"(no blur: {psnr(noisy_valid, data.valid.x[:1000]).mean():.2f} dB)")
noisy_ex = gaussian_noise(clean_examples, 0.3, g)
rows_figure({"noisy input": noisy_ex, f"blur s = {s}": gaussian_blur(noisy_ex, s),
           "denoising AE": denoise(dae, noisy_ex), "clean target": clean_examples},
          title="Gaussian noise 0.3: the tuned blur next to the denoising AE")

# %% [markdown]
# Now the full comparison: three noise kinds, six levels each, starting from mild noise
# (Gaussian $\sigma = 0.1$), on up to 2,000 corrupted test images (seeded, so every run sees the
# same noise). For every row we also report the PSNR of the noisy input itself, the score of
# doing nothing, and a verdict: does the DAE beat the tuned blur at this level? No row is hidden.

# %%
from course_utils.denoising import psnr_curves_figure, psnr_table

EVAL_LEVELS = {"gaussian": (0.1, 0.2, 0.3, 0.4, 0.5, 0.6), "masking": (0.1, 0.25, 0.4, 0.55, 0.7, 0.85),
               "salt_and_pepper": (0.05, 0.1, 0.2, 0.3, 0.4, 0.5)}
rows = psnr_table(dae, data.test.x[:2000], data.valid.x[:1000], EVAL_LEVELS, seed=10)
print(f"{data.name}, {course.mode} mode; mean PSNR (dB) on {len(data.test.x[:2000]):,} corrupted test images")
print(f"{'noise':>16} {'level':>6} {'noisy':>7} {'blur':>7} {'(s)':>5} {'DAE':>7} {'DAE - blur':>11}  DAE wins?")
for r in rows:
    print(f"{r['kind']:>16} {r['level']:>6.2f} {r['noisy']:>7.2f} {r['blur']:>7.2f} "
          f"{r['blur_sigma']:>5.2f} {r['model']:>7.2f} {r['model'] - r['blur']:>+11.2f}  {r['model'] > r['blur']}")
wins = sum(r["model"] > r["blur"] for r in rows)
print(f"\nDAE beats the tuned blur at {wins} of {len(rows)} levels; loses at:",
      [(r["kind"], r["level"]) for r in rows if r["model"] <= r["blur"]] or "none")

# %%
psnr_curves_figure(rows, title=f"{data.name}: denoising AE vs the best blur ({course.mode} mode)")

# %% [markdown]
# Read each panel from left to right. The dotted line (doing nothing) falls fast as the noise
# grows. The blur helps more at high noise, but it pays for it by smearing edges. The DAE does
# not average pixels blindly: it maps the damaged image to a plausible clean one, so its curve
# is usually much flatter. The printed verdicts say where it won in this run. The hardest
# levels for it are the mildest ones (the first rows of each kind): there the noisy input is
# already close to the clean image, and anything the model gets wrong costs more than the
# damage it removes. That is what the skip path is for; section 5 measures what the code path
# alone would do. In fast mode, after 50 steps, expect it to lose at many levels.
#
# ## 5. The bug: evaluating a denoiser on clean inputs
#
# Many tutorials train a DAE on noisy inputs and then show (or score) the model on **clean**
# test images. That measures how well it reconstructs clean images, not how well it denoises.
# Here is how misleading that is. A "model" that does nothing at all, `nn.Identity()`, is a
# perfect autoencoder of clean images.

# %%
test_x = data.test.x[:2000]
g = torch.Generator().manual_seed(4)
noisy_test = gaussian_noise(test_x, 0.3, g)  # the input a denoiser is FOR
do_nothing = nn.Identity()
print("WRONG (clean input -> clean target):")
print(f"  identity    {psnr(do_nothing(test_x), test_x).mean():.2f} dB")
print(f"  DAE         {psnr(denoise(dae, test_x), test_x).mean():.2f} dB")
print("RIGHT (noisy input, Gaussian sigma = 0.3 -> clean target):")
print(f"  identity    {psnr(do_nothing(noisy_test), test_x).mean():.2f} dB")
print(f"  DAE         {psnr(denoise(dae, noisy_test), test_x).mean():.2f} dB")

print("\nDAE beats doing nothing on noisy inputs:",
      psnr(denoise(dae, noisy_test), test_x).mean().item() > psnr(noisy_test, test_x).mean().item())

# %% [markdown]
# Evaluated on clean inputs the do-nothing model "wins" with an infinite PSNR (the mean of
# per-image infinities), and the DAE looks worse than doing nothing. Evaluated on noisy inputs,
# the task the DAE was built for, the last line says whether the order flips (after full
# training it does; read the verdict). The only honest test of a denoiser feeds it the
# corrupted images and compares its output with the clean ones.
#
# Compare the DAE's two lines with each other, too. It was trained only on damaged images
# (noise levels from 0.1 upward), so a perfectly clean image is unusual input for it, and it may
# "remove" noise that is not there:

# %%
from course_utils.losses import mse_per_pixel

dae_clean = psnr(denoise(dae, test_x), test_x).mean().item()
dae_noisy = psnr(denoise(dae, noisy_test), test_x).mean().item()
print(f"DAE: clean input {dae_clean:.2f} dB, noisy input (sigma = 0.3) {dae_noisy:.2f} dB "
      f"(test MSE per pixel {mse_per_pixel(denoise(dae, noisy_test), test_x):.4f})")
print("the DAE does better on noisy inputs than on clean ones:", dae_noisy > dae_clean)

# %% [markdown]
# The printed verdict says which way it went in this run. A DAE trained only on damaged images
# may "remove" noise that is not there, so a clean image is not necessarily its easiest input.
#
# **Where a learned denoiser stops paying off, and what the skip path changes.** Every model
# has an error floor, set by its size and training. We measure it instead of guessing, for the
# whole model and for its **code path alone** (the reconstruction $r$, what comes through the
# 256-number bottleneck, without the skip): the best PSNR reached anywhere in the table of
# section 4, the PSNR on clean inputs, and, at the mildest level of each kind, both outputs
# next to the noisy input and the tuned blur.

# %%
best_dae = max(rows, key=lambda r: r["model"])  # the row where the DAE did best
code_clean = psnr(predict(dae, test_x, fn=lambda m, xb: m.reconstruct(xb)), test_x).mean().item()
print(f"DAE's best mean PSNR in the table: {best_dae['model']:.2f} dB ({best_dae['kind']}, level "
      f"{best_dae['level']}); on clean inputs: whole DAE {dae_clean:.2f} dB, code path alone {code_clean:.2f} dB")
mild_rows = [r for r in rows if r["level"] == EVAL_LEVELS[r["kind"]][0]]  # the mildest level of each kind
for k, r in enumerate(mild_rows):  # the table's test noise again: psnr_table's seeds and order
    g = torch.Generator().manual_seed(10 + 1000 * k)
    corrupt(data.valid.x[:1000], r["kind"], r["level"], g)  # (the blur's validation noise)
    noisy_mild = corrupt(test_x, r["kind"], r["level"], g)
    code_mild = psnr(predict(dae, noisy_mild, fn=lambda m, xb: m.reconstruct(xb)), test_x).mean().item()
    print(f"mildest {r['kind']:>16} ({r['level']}): noisy {r['noisy']:.2f}, blur {r['blur']:.2f}, "
          f"code path alone {code_mild:.2f}, whole DAE {r['model']:.2f} dB"
          f" -> the code path alone beats the blur: {code_mild > r['blur']}, the whole DAE: {r['model'] > r['blur']}")

# %% [markdown]
# Compare the last two numbers of each line. The code path alone is a plain dense DAE's output,
# capped by what 256 numbers can carry: when the noise is mild, the noisy input (or a light
# blur) can score above it, and then a denoiser without a skip can only make the image worse.
# The skip lets the model keep the noisy pixels it trusts, so its floor is no longer set by the
# bottleneck; the verdicts above say whether that was enough to beat the blur in this run. (The
# code path here was trained together with the skip, so it is not exactly a plain DAE trained
# on its own: it may leave to the skip the pixels it can.) The principle stays: a learned
# denoiser pays off once the noise costs more than its own reconstruction error, and a skip
# path lowers that error for the details a bottleneck loses.
#
# ## 6. Why denoising teaches the model where the data lives
#
# Real images are not spread all over $[0, 1]^{784}$: they sit near a thin, curved
# low-dimensional surface, the **data manifold** (almost every random point in pixel space is
# TV static, not a picture of anything). Corruption pushes an image **off** that surface, in a random
# direction. To undo it, the network must learn a map that takes any point near the surface back
# **onto** it, and the only way to know which way is "back" is to have learned the shape of the
# surface.
#
# We can see this in two dimensions. The "data" are points on a circle (a 1-D manifold in 2-D).
# We train a small network, written inline here, to map noisy points back to their clean
# versions, with fresh noise each step.

# %%
from course_utils.models import mlp

g = torch.Generator().manual_seed(0)
angles = 2 * torch.pi * torch.rand(1000, generator=g)
circle = torch.stack([angles.cos(), angles.sin()], dim=1)  # (1000, 2): points on the circle

toy_gen = torch.Generator().manual_seed(1)


def toy_denoising_objective(model, batch):
    clean = batch[0]  # (B, 2)
    noisy = clean + 0.3 * torch.randn(clean.shape, generator=toy_gen).to(clean.device)
    return ((model(noisy) - clean) ** 2).sum(dim=1).mean(), {}  # (loss, nothing else to log)


torch.manual_seed(0)
toy_dae = mlp([2, 64, 64, 2]).to(course.device)
toy_history = fit(toy_dae, circle.to(course.device), objective=toy_denoising_objective,
                  epochs=course.pick(full=150, fast=40), batch_size=100, lr=3e-3, verbose=False)
print(f"toy DAE: final training loss {toy_history.last('train_loss'):.4f}")

# %%
from course_utils.denoising import denoising_field_figure
from course_utils.train import predict

noisy_circle = circle + 0.3 * torch.randn(circle.shape, generator=torch.Generator().manual_seed(5))
denoising_field_figure(toy_dae, circle, noisy_circle, lim=1.5, n_grid=13)

# %% [markdown]
# Each arrow starts at a point $x$ of a grid and ends at the network's output $r(x)$. What does
# the best possible denoiser do? Under the squared error it returns the **posterior mean**
# $r^*(\tilde x) = \mathbb E[x \mid \tilde x]$, an average of clean points weighted by how likely
# each is to have produced $\tilde x$. **Tweedie's formula** turns that into a gradient: for
# Gaussian noise of variance $\sigma^2$,
#
# $$ r^*(\tilde x) - \tilde x = \sigma^2\, \nabla_{\tilde x} \log p_\sigma(\tilde x), $$
#
# where $p_\sigma$ is the density of the **noisy** points (the data convolved with the noise),
# not the density of the clean data, which on a circle is not even a smooth density in 2-D.
# Alain and Bengio (2014) showed the small-noise version of this link for denoising
# autoencoders; it is the quantity ("score") that diffusion models learn, one noise level at a
# time. Two consequences we can check on the arrows:
#
# - outside the circle and in the ring inside it, $p_\sigma$ grows towards the circle, so the
#   arrows point towards it (inwards from outside, outwards from inside);
# - an average of points on a circle lies *inside* the circle, so $r^*$ never lands exactly on it;
#   near the centre every point of the circle is about equally likely, the average is close to
#   the centre itself, and the arrows there are short and do **not** point outwards (exactly at
#   the centre, by symmetry, the optimal arrow is zero).
#
# The cell measures both on the trained toy network.

# %%
t = torch.linspace(-1.5, 1.5, 31)
grid = torch.cartesian_prod(t, t)  # (961, 2)
step = predict(toy_dae, grid) - grid  # r(x) - x, (961, 2)
radius = grid.norm(dim=1)  # (961,)
radial = (step * grid).sum(dim=1) / radius.clamp_min(1e-8)  # > 0: the arrow points outwards
ring_in, outside, centre = (radius > 0.5) & (radius < 0.9), radius > 1.1, radius < 0.2
print(f"inside ring (0.5 < |x| < 0.9): arrows pointing outwards {(radial[ring_in] > 0).float().mean():.0%}")
print(f"outside (|x| > 1.1):           arrows pointing inwards  {(radial[outside] < 0).float().mean():.0%}")
print(f"near the centre (|x| < 0.2):   mean arrow length {step[centre].norm(dim=1).mean():.2f} "
      f"(vs {step[ring_in].norm(dim=1).mean():.2f} in the inside ring)")
out_radius = predict(toy_dae, grid).norm(dim=1)  # |r(x)|, (961,)
print(f"outputs r(x) inside the unit circle: {(out_radius < 1).float().mean():.0%} of the grid "
      f"(largest |r(x)| {out_radius.max():.2f})")

# %% [markdown]
# Read the four lines. The network has learned the shape of the data without ever being told
# "circle": if the first two percentages are high, the arrows point towards the circle from both
# sides. The third line compares arrow lengths near the centre with those in the inner ring: the
# posterior mean predicts short arrows at the centre, but the centre is more than $3\sigma$ from
# the circle, so almost no noisy training point ever landed there (look at the orange points).
# The network never saw that region and simply extrapolates: if its centre arrows are as long as
# the others and point outwards, that is the network's guess, not the optimal denoiser. A
# denoiser, and a score model, is only learned where the noisy data actually goes. The last line says what share of the
# outputs stay inside the circle, as an average of circle points must; a trained network only
# approximates $r^*$, so some outputs may overshoot (the largest $|r(x)|$ says by how much).
#
# > **Common mistakes**
# > - *Evaluating a denoiser on clean inputs* (section 5). It rewards copying: a do-nothing model
# >   scores infinity. Always feed corrupted test inputs and compare with clean targets.
# > - *Using the noisy image as the target.* Then the network learns to reproduce noise. The
# >   input is $\tilde x$, the target is $x$.
# > - *Fixing the training noise once, or testing with unseeded noise.* Fresh noise in every
# >   epoch helps training; fixed, seeded noise makes test numbers reproducible and comparable.
# > - *Thinking clipping is free, or required.* The noisy image is an input, so a network can
# >   take values outside $[0, 1]$; the target stays clean. Clipping keeps inputs displayable but
# >   biases the noise (mean about $+0.12$ on black pixels at $\sigma = 0.3$, section 1): say
# >   which you do, and that "$\sigma$" then means the std before clipping.
# > - *Using `nn.Dropout` as masking noise.* Dropout rescales kept pixels by $1/(1-p)$ and is
# >   switched off by `model.eval()`, so the test inputs would silently be clean.
# > - *Comparing with a weak or untuned baseline.* Tune the blur's width on validation data,
# >   never on the test images; otherwise the comparison says little.
#
# ## Summary
#
# - A denoising autoencoder gets a corrupted input $\tilde x$ and is trained to output the clean
#   $x$; the corruption, not a bottleneck, stops it from copying.
# - Gaussian noise (clipped), masking and salt-and-pepper are one-line functions with a noise
#   level in a stated range and randomness from an explicit generator.
# - Corrupting on the fly inside the loss gives new noise each epoch; fixed seeded noise is for
#   validation and test.
# - PSNR $= 10 \log_{10}(1 / \text{MSE per pixel})$ in dB; score denoisers on corrupted test
#   inputs against a tuned non-learned baseline such as a Gaussian blur.
# - A bottleneck caps the detail a DAE can give back. A skip path that carries the noisy input
#   around it, blended pixel by pixel with a trust map the decoder computes from the code, lifts
#   that cap; a relative loss (the share of the damage left) keeps mild noise from being ignored.
# - Learning to denoise means learning which way leads back to the data: the optimal step
#   $r(x) - x$ is $\sigma^2 \nabla \log p_\sigma(x)$, the score of the NOISED density
#   (Tweedie), and its output is an average of clean points, not a point on the data.

# %% [markdown]
# ## Exercise
#
# [Exercise 04](../exercises/04_denoising_autoencoders.ipynb) [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ae-course/autoencoders-pca-to-vae/blob/main/exercises/04_denoising_autoencoders.ipynb)
#
# In the exercise you implement the three corruption functions (Gaussian, masking,
# salt-and-pepper) and PSNR yourself, and a check cell after each task tells you what is wrong.

# %% [markdown]
# ## Quiz
#
# Check your understanding, in English or Vietnamese; every answer comes with an explanation.

# %% tags=["nbval-ignore-output"]
from course_utils.quiz import show_quiz

show_quiz("04_denoising_autoencoders")

# %% [markdown]
# Next: [05 · Sparse autoencoders](05_sparse_autoencoders.ipynb).
