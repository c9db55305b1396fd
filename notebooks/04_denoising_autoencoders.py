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
# # 04 · Denoising autoencoders
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ae-course/autoencoders-pca-to-vae/blob/main/notebooks/04_denoising_autoencoders.ipynb)
#
# **English** · [Tiếng Việt](vi/04_denoising_autoencoders.ipynb)
#
# So far our autoencoders were kept from copying their input by a narrow bottleneck. A
# **denoising autoencoder** (DAE) uses a different trick: we damage the input on purpose and ask
# the network to return the **undamaged** image. Copying is no longer the optimum, because the
# input is not the answer (though, as section 5 shows, a copy path can be a useful part of
# the answer). To undo the damage, the network has to know what images of clothes (or digits)
# look like. That knowledge is exactly what we want an autoencoder to learn.
#
# **Learning objectives.** After this lesson you can
# 1. write three corruption processes (Gaussian noise, masking, salt-and-pepper) as plain,
#    seeded functions and state the range of their outputs and of their noise levels;
# 2. train an autoencoder on corrupted inputs against clean targets, with fresh noise in every
#    training step and fixed, seeded noise for validation, using the course's one training loop;
# 3. measure denoising quality with PSNR **on corrupted test inputs**, and explain why
#    evaluating on clean inputs is a bug;
# 4. compare a learned denoiser with three non-learned ones (a Gaussian blur, a median filter,
#    a PCA projection), each tuned on validation images, across noise kinds and levels;
# 5. test where a denoiser's error floor comes from (code size, budget, copying through the
#    layers), and measure what a skip path with a per-pixel trust map changes at an equal
#    number of weights;
# 6. explain, with a 2-D picture, why denoising forces a model to learn where the data lives
#    (the data manifold), why the outputs of even the optimal denoiser (an average) land on the
#    inner side of a curved manifold, not on it, and what
#    its step $r^*(x) - x$ is (Tweedie's formula: $\sigma^2$ times the score of the NOISED
#    density, in this form for additive Gaussian noise only).

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
DATASET = "fashion_mnist"  # try "mnist": every cell below works with either

# %% [markdown]
# **Which data, and why.** We ask for Fashion-MNIST: clothes have textures and edges that make
# the comparison with a blur meaningful (a blur smears exactly those). Switch `DATASET` to
# `"mnist"` to try digits. The cell below prints which images were actually loaded: without the
# real data the course falls back to a small embedded set of 8 x 8 digit scans, enlarged to
# 20 x 20 and padded to 28 x 28, and then every number in this lesson is about those digits,
# not about clothes.

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
# simply need inputs outside $[0, 1]$. (Only the target has to be a valid image: with a binary
# cross-entropy loss, as in lesson 01, it is the clean target that must lie in $[0, 1]$, not the
# noisy input.)

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

# %% [markdown]
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
from course_utils.denoising import dae_flow_figure

dae_flow_figure(hidden=512, title="a denoising autoencoder: damage the input, score against the clean image")

# %% [markdown]
# There are two ways to feed `fit` (the one training loop of the course):
#
# 1. corrupt the training set once, and train on those fixed noisy images;
# 2. pass only the clean images and corrupt them **on the fly** inside the objective, with a
#    generator whose state moves on, so that every step sees **new noise**, even on an image it
#    has seen before.
#
# We train with option 2. With option 1 the network sees each image with one fixed pattern of
# noise, again and again, and could learn those particular noisy images instead of denoising in
# general (this lesson does not measure how much it would); with option 2 the noise is fresh
# every time, which acts like an endless supply of training pairs at no cost
# in memory. For **validation and testing** we want the opposite: fixed, seeded noise, so that
# numbers are reproducible and different models face exactly the same inputs.
#
# `course_utils.denoising.DenoisingObjective` does both. While the model trains, each batch of
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
# noisy = corrupt(clean, kind, level, generator)      # new noise on every training call
# loss = sse_per_image(model(noisy), clean).mean()    # the target is the CLEAN image
# if relative:                                        # see below: divide by the damage,
#     loss = loss / sse_per_image(noisy, clean).mean().clamp_min(MIN_DAMAGE)  # floored
# return loss
# ```
#
# **Weighting the noise levels: the relative loss.** With the plain squared error, a batch of
# heavy noise can weigh more than a batch of mild noise, because there is more damage to undo:
# for a model that does nothing the loss IS the damage (the cell below prints how unequal it is
# between the mildest and heaviest levels); for a trained model the gap is whatever its own
# errors are (the last line of the training cell in section 2 prints them). With
# `relative=True` the loss of a batch is divided by the squared error of the noisy input itself,
# the damage: it becomes the **share of the damage that remains** (1: no better than the noisy
# input, 0: perfect; above 1: worse than doing nothing), and every noise level counts on the
# same scale. We train with it. (For Gaussian noise without clipping the damage is about
# $D\sigma^2$, so the ratio weights a denoiser's squared error by $1/\sigma^2$: the weighting
# $\lambda(\sigma) = \sigma^2$ that Song and Ermon (2019) give each noise level in denoising
# score matching, written for a denoiser's squared error instead of a score's. Our noise is
# clipped, and clipping removes more of the heavy noise than of the mild: the
# damage grows more slowly than $\sigma^2$ (compare the printed factor with
# $(0.7/0.1)^2 = 49$), so here the heavy levels are divided by less and weigh more than under
# that weighting.
# This lesson trains with the relative loss only; it does not measure what the plain loss would
# give, so take it as a choice of how to weigh the levels, not as a shown gain: no score in
# this lesson says whether it helps or hurts at any level.) A ratio is not a squared error, so `fit` records it under the
# name the objective gives it, `damage_ratio`, not `loss`.
#
# **Why the damage needs a floor.** The damage $d$ of a batch depends on the noise and the clean
# images only, not on the weights, so the gradient of the ratio is the gradient of the squared
# error divided by $d$: $\nabla (L / d) = (\nabla L) / d$. A batch with almost no damage
# (Gaussian noise of $\sigma = 0.01$, or a clean one) would get its gradient multiplied by a huge
# $1/d$ and could pull the whole training its way. So the damage is floored at `MIN_DAMAGE`:
# the loss is $L / \max(d, \text{MIN\_DAMAGE})$. We do not pick the floor by feel; we compute
# it from the data: half the smallest damage of a batch at the mildest training level of any
# kind. The cell checks 20 batches per kind at the mildest level: none of those 60 should be
# floored, and the factor 2 leaves a margin for the batches it does not check. A batch below the
# floor weighs at most as much as a batch of damage `MIN_DAMAGE`.
#
# Three checks in the cell below. First, how unequal the plain loss of a do-nothing model would
# be: the damage of a batch at the mildest and at the heaviest training level of each kind, and
# from those the floor. Second, what the floor changes for a nearly clean batch. Third, the
# fresh-versus-fixed rule in action, at one fixed kind and level (Gaussian, $\sigma = 0.3$) so
# that only the noise itself can change: a "model" that copies its input and remembers what it
# was given tells us whether two calls on the same batch saw the same noisy images.

# %%
from course_utils.denoising import DenoisingObjective
from course_utils.losses import sse_per_image

TRAIN_LEVELS = {"gaussian": (0.1, 0.7), "masking": (0.1, 0.9), "salt_and_pepper": (0.05, 0.6)}
batch = (data.train.x[:128],)  # one batch of clean training images


def damage(clean: torch.Tensor, kind: str, level: float, seed: int = 0) -> float:
    """The damage of a batch: the squared error of its noisy copy, summed per image, averaged."""
    noisy = corrupt(clean, kind, level, torch.Generator().manual_seed(seed))
    return sse_per_image(noisy, clean).mean().item()


mildest_damage = {}
for kind, (low, high) in TRAIN_LEVELS.items():
    mild, heavy = damage(batch[0], kind, low), damage(batch[0], kind, high)
    mildest_damage[kind] = mild
    print(f"{kind:>15}: damage {mild:5.1f} at level {low}, {heavy:6.1f} at level {high} "
          f"-> a heavy batch's damage is {heavy / mild:4.1f} x a mild one's")
smallest = min(mildest_damage.values())
MIN_DAMAGE = 0.5 * smallest  # the floor, computed from the data
lowest = min(damage(data.train.x[i * 128 : (i + 1) * 128], kind, low, seed=i)
             for kind, (low, _) in TRAIN_LEVELS.items() for i in range(20))  # fmt: skip
print(f"MIN_DAMAGE = half the smallest mildest damage = {MIN_DAMAGE:.2f}; the least damaged of 60 "
      f"batches at the mildest levels: {lowest:.2f} -> any of them floored: {lowest < MIN_DAMAGE}")
tiny = damage(batch[0], "gaussian", 0.01)
print(f"a nearly clean batch (Gaussian 0.01) has damage {tiny:.3f}; its gradient is divided by it, so it "
      f"weighs {smallest / tiny:.0f} x a mildest training batch without the floor, "
      f"{smallest / max(tiny, MIN_DAMAGE):.0f} x with it")


def make_objective(relative: bool = True, levels: dict = TRAIN_LEVELS) -> DenoisingObjective:
    """Training noise: new at every step (one seeded generator); validation: fixed Gaussian 0.3."""
    return DenoisingObjective(levels, seed=1, valid_noise=("gaussian", 0.3), relative=relative,
                              min_damage=MIN_DAMAGE)  # fmt: skip



class Copier(nn.Module):
    """A "model" that returns its input unchanged and keeps a copy of every input it is given."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def forward(self, x):
        self.seen.append(x.clone())
        return x


copier = Copier()
probe = DenoisingObjective({"gaussian": (0.3, 0.3)}, seed=1, valid_noise=("gaussian", 0.3))
for mode in ("train", "eval"):
    copier.train(mode == "train")
    copier_loss = [probe(copier, batch)[0].item() for _ in range(2)]  # plain loss of a copier = damage
    same = torch.equal(copier.seen[-1], copier.seen[-2])
    print(f"{mode} mode, the same batch twice at sigma 0.3: damage {copier_loss[0]:.2f}, then {copier_loss[1]:.2f}"
          f" -> identical noisy images: {same}")
copier.train()
print(f"relative loss of the copier: {make_objective()(copier, batch)[0].item():.3f} (all the damage remains)")

# %% [markdown]
# The model starts as a dense autoencoder with a sigmoid output so that pixels land in
# $[0, 1]$. A denoising autoencoder does not need a tight bottleneck: the corruption, not the
# code size, stops it from copying, so its code may even be larger than its input (an
# overcomplete code) and it still has to learn what images look like. We give it a generous
# 256-number code. Why dense layers again, after the convolutional autoencoders of lesson 03?
# So that the one new thing is the corruption, and so that the code is a plain vector of 256
# numbers, which section 4 compares with a PCA projection onto 256 directions. (Swapping in the
# convolutional layers of lesson 03 is a good experiment once the lesson is done.) Written out,
# the plain dense DAE is these few layers:

# %%
def make_plain_dae() -> nn.Sequential:
    """The plain dense DAE with fresh weights: (B, 1, 28, 28) -> code (B, 256) -> (B, 1, 28, 28)."""
    torch.manual_seed(0)  # the seed of the initial weights: every call starts from the same ones
    return nn.Sequential(
        nn.Flatten(),                       # (B, 1, 28, 28) -> (B, 784)
        nn.Linear(784, 512), nn.ReLU(),     # encoder
        nn.Linear(512, 256),                # the code h: (B, 256), no activation
        nn.Linear(256, 512), nn.ReLU(),     # decoder
        nn.Linear(512, 784), nn.Sigmoid(),  # (B, 784), pixels in [0, 1]
        nn.Unflatten(1, (1, 28, 28)),       # (B, 784) -> (B, 1, 28, 28), shaped like the target
    ).to(course.device)


sketch = make_plain_dae()
print(f"{sum(p.numel() for p in sketch.parameters()):,} weights")

# %% [markdown]
# **The training budget is set in optimizer steps**, not epochs: about 2,000 steps of 128 images
# in full mode (rounded to whole epochs; the cell prints the exact number), however many
# training images were loaded, so a small dataset gets more epochs instead of less training.
# The learning rate starts at `LR` and decays to 0 along a half cosine (`CosineDecay` from
# `course_utils.schedules`), which lets the last steps settle. Every network of sections 2 to 5
# gets this budget and schedule, and every denoiser the same objective and the same stream of
# training noise, except for the one thing a comparison changes on purpose (said where it
# happens), so that their scores can be compared.
#
# `fit` measures the validation set once per epoch, and a few epochs give a curve of a few
# points. So a small callback (`fit` calls it after every step) measures the validation damage
# ratio every `VALID_EVERY` steps, on fixed, seeded noise.

# %%
import math

from course_utils.denoising import denoise, validation_curves_figure
from course_utils.schedules import CosineDecay
from course_utils.train import Callback, evaluate, fit, loss_name

STEPS, LR = course.pick(full=2000, fast=50), 2e-3  # optimizer steps of 128 images
EPOCHS = max(1, round(STEPS / math.ceil(len(data.train.x) / 128)))
VALID_EVERY = course.pick(full=100, fast=10)  # steps between two validation points


class ValidationCurve(Callback):
    """Every `every` optimizer steps (and after the last): the validation loss, as (step, value).
    A last step close to the previous point replaces it, so two points never overlap."""

    def __init__(self, valid: torch.Tensor, objective, every: int):
        self.valid, self.objective, self.every, self.points = valid, objective, every, []

    def on_batch_end(self, state):
        if state.step % self.every == 0 or state.step == state.total_steps:
            scores = evaluate(state.model, self.valid, self.objective)  # in eval mode: fixed noise
            if self.points and state.step - self.points[-1][0] < self.every / 2:
                self.points.pop()  # e.g. 2,100 and 2,110: keep only the last
            self.points.append((state.step, scores[loss_name(self.objective)]))


def train_denoiser(model: nn.Module, levels: dict = TRAIN_LEVELS) -> ValidationCurve:
    """The one recipe of this lesson: a fresh objective (the same noise stream), the same budget.
    Returns the validation curve (Gaussian 0.3 on 1,000 validation images)."""
    objective = make_objective(levels=levels)
    curve = ValidationCurve(data.valid.x[:1000], objective, every=VALID_EVERY)
    fit(model, data.train.x, objective=objective, epochs=EPOCHS, batch_size=128, lr=LR,
        callbacks=[CosineDecay(), curve], verbose=False)  # fmt: skip
    return curve


plain = sketch  # the plain DAE, exactly as written out above
plain_curve = train_denoiser(plain)
(first_step, first), (last_step, last) = plain_curve.points[0], plain_curve.points[-1]
print(f"{course.mode} mode, {len(data.train.x):,} training images, {EPOCHS} epochs "
      f"({EPOCHS * math.ceil(len(data.train.x) / 128):,} steps), {len(plain_curve.points)} validation points")
print(f"valid damage ratio (Gaussian 0.3): {first:.3f} after {first_step} steps -> {last:.3f} after {last_step}")
half = min(plain_curve.points, key=lambda point: abs(point[0] - last_step / 2))  # nearest the middle
print(f"  after {half[0]} steps (about half the budget): {half[1]:.3f}; the steps after it lowered it by "
      f"{half[1] - last:.3f}")
low, high = TRAIN_LEVELS["gaussian"]
own = {level: sse_per_image(denoise(plain, corrupt(batch[0], "gaussian", level, torch.Generator().manual_seed(0))),
                            batch[0]).mean().item() for level in (low, high)}  # fmt: skip
print(f"the trained plain DAE's own squared error on the batch of the first cell: {own[low]:.1f} at Gaussian "
      f"{low}, {own[high]:.1f} at {high} ({own[high] / own[low]:.2f} x; the damage: "
      f"{damage(batch[0], 'gaussian', high) / damage(batch[0], 'gaussian', low):.1f} x)")
validation_curves_figure({"plain DAE": plain_curve.points}, title="plain DAE: share of the damage left")

# %% [markdown]
# The curve is in damage-ratio units: the share of the damage that remains after the model,
# always on the same validation images with the same Gaussian noise ($\sigma = 0.3$). The
# printed lines say how far it fell, and how much of that fall came in the second half of the
# budget (after the point nearest the middle): a curve still falling at the end belongs to a network that was still learning when
# the budget ran out (the learning rate decays to 0, so the last steps move it little either
# way). In fast mode the model has barely started: read every number below as rough.
#
# The line before the figure answers the weighting question for the trained model: the
# copier's loss (the damage) differs between the mildest and heaviest Gaussian level by the
# factor printed in brackets, the trained plain DAE's own squared error by the factor before it.
# Only for a model that barely changes its input is the plain loss dominated by heavy noise as
# much as the damage suggests.
#
# ## 3. What the denoiser does
#
# Below, for each kind of noise: the corrupted **input** the model receives, its output, and the
# clean target it never saw. The title gives the mean PSNR (defined in section 4; higher is
# better) before and after denoising.

# %%
from IPython.display import display

from course_utils.corruption import psnr
from course_utils.denoising import denoising_figure

SHOWN = (("gaussian", 0.3), ("masking", 0.5), ("salt_and_pepper", 0.2))
for kind, level in SHOWN:
    display(denoising_figure(plain, clean_examples, kind, level))
print(f"the same 8 images given CLEAN, with nothing to repair: PSNR of the plain DAE's output "
      f"{psnr(denoise(plain, clean_examples), clean_examples).mean():.1f} dB (compare the 'denoised' titles)")

# %% [markdown]
# Compare the two PSNRs in each title: if denoising helped, the second is higher. Then compare
# each output with its target: how much of that particular garment survives (a logo, a stripe,
# the exact outline), and how much is replaced by a smoother, more generic shape, the same
# whatever the damage? The line under the figures gives the control: the same model handed the
# CLEAN images, with nothing to repair. If its output there scores no better than the
# "denoised" titles, what the model loses is not (only) what the noise destroyed.
# Do the outputs look smoother than the targets? Instead of judging by eye, we measure it. The
# **roughness** of an image (its total variation) adds up the absolute differences between
# neighbouring pixels: speckle raises it, smoothing lowers it. Roughness has a blind spot: an
# output can be rough because it kept the fine texture of the clean image or because it let
# noise through, and the number is the same kind of number either way. So the cell measures a
# second thing, which only a test with known clean images allows: the **leftover noise share**
# (`leftover_noise_share`), how much of this particular noise draw is still in the output. With
# the damage $d = \tilde x - x$ of the draw the model saw, the damage $d'$ of a second,
# independent draw of the same noise, and the output's error $e = \hat x - x$ (sums over all
# pixels and images),
#
# $$ a = \frac{\langle e,\ d - d' \rangle}{\langle d,\ d - d' \rangle}: $$
#
# 1 for the noisy input itself ($e = d$), 0 when nothing in the error follows this draw. Why the
# second draw: the damage depends on the image (masking darkens only bright pixels, clipping
# lifts only dark ones), so an output that is merely darker or smoother than the target would
# correlate with $d$; it correlates just as much with $d'$, and the difference cancels it.
# Texture comes from the clean image, not from the draw, so keeping it cancels too; letting
# noise through does not. The first line of the report is the control again, on more images:
# the model's output for the CLEAN images themselves, with its roughness and its PSNR. On test
# images (the cell prints how many), noised with seeded generators:

# %%
from course_utils.denoising import denoise, leftover_noise_share
from course_utils.denoising import total_variation_per_image as roughness

test_x = data.test.x[:2000]  # the test images of every comparison below
MARGIN = 0.5  # dB: smaller differences are not counted; a chosen threshold (see "About the margin", section 4)


def roughness_report(models: dict) -> None:
    """Per model: roughness and PSNR of its output for CLEAN inputs, then per noise kind: the
    roughness of the clean targets, the noisy inputs and each output, the output's PSNR, and the
    share of the noise left in it (leftover_noise_share). Last, a verdict per model."""
    clean = test_x[:1000]
    r_clean = roughness(clean).mean().item()
    print(f"mean over {len(clean):,} test images: roughness, (PSNR against the clean target), "
          f"'noise left': the leftover noise share")
    on_clean = {name: denoise(model, clean) for name, model in models.items()}
    line = f"{'CLEAN input':>20}: clean {r_clean:5.1f}, noisy   -  "
    for name, out in on_clean.items():
        line += f" | {name} {roughness(out).mean():5.1f} ({psnr(out, clean).mean():.2f} dB), nothing to repair"
    print(line)
    scores = {name: [] for name in models}
    for kind, level in SHOWN:
        noisy = corrupt(clean, kind, level, torch.Generator().manual_seed(0))
        noisy_again = corrupt(clean, kind, level, torch.Generator().manual_seed(1))  # another draw
        line = f"{kind:>16} {level}: clean {r_clean:5.1f}, noisy {roughness(noisy).mean():5.1f}"
        for name, model in models.items():
            out = denoise(model, noisy)
            r_out, left = roughness(out).mean().item(), leftover_noise_share(out, noisy, clean, noisy_again)
            scores[name].append(psnr(out, clean).mean().item())
            line += (f" | {name} {r_out:5.1f} ({scores[name][-1]:.2f} dB), smoother than clean: "
                     f"{r_out < r_clean}, noise left {left:.0%}")
        print(line)
    for name, out in on_clean.items():  # the verdict: is the smoothness there without any damage?
        r_floor, p_floor, best = roughness(out).mean().item(), psnr(out, clean).mean().item(), max(scores[name])
        smooth, no_better = r_floor < r_clean, p_floor <= best + MARGIN
        print(f"-> {name} on CLEAN inputs: smoother than the targets: {smooth}; PSNR {p_floor:.2f} dB, no better "
              f"than on the noisy inputs above (best {best:.2f}, margin {MARGIN} dB): {no_better} -> " + (
                  "the smoothness is the model's own floor, not the noise's" if smooth and no_better
                  else "it smooths even undamaged images (its own floor), and the noise costs more on top"
                  if smooth else "its output is smoother only when the input was damaged"))


roughness_report({"plain DAE": plain})

# %% [markdown]
# Read the verdicts, starting from the last line. A tempting explanation of smooth outputs is
# that the noise destroyed the texture, so the model can only return a plausible average. The
# CLEAN-input line tests it: an undamaged image has lost nothing, so if the noise were the
# cause, it would come back with its texture and a clearly higher PSNR. When the verdict says
# the output is smoother than the targets even on clean inputs, and scores no better there than
# on the noisy ones, the smoothness is the model's own **error floor**: it is there when
# nothing was damaged, so the noise did not cause it. Section 4 looks for where such a floor
# comes from. When clean inputs come back clearly better, the noise costs something on top of
# the floor; when the output on clean inputs is not smoother than the targets, the smoothness
# comes with the damage. Each "noise left" share says how much of the noise the model let
# through as well. Where an output is rougher than the clean target while its share is
# near 0, the roughness is the model's own (an undertrained network's speckle, say), not the
# noise's. A share near 0 is not a merit by itself: an output that ignores its input entirely
# (the mean training image, say) leaves no noise at any noise kind, and section 4 compares the model
# with such a constant output. Section 5 measures both for a model that can pass pixels around
# its code.
#
# ## 4. Measuring it: PSNR against non-learned denoisers
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
# A learned denoiser is only impressive if it beats something simple. We compare it with three
# classic non-learned denoisers, each with one knob:
#
# - a **Gaussian blur**: replace every pixel by a weighted average of its neighbours, with
#   weights $\propto e^{-d^2 / 2 s^2}$ at distance $d$. Noise that differs from pixel to pixel
#   averages out; so, unfortunately, do edges. The knob is the width $s$. `gaussian_blur` in
#   `course_utils.corruption` is written with `conv2d` (rows, then columns: a 2-D Gaussian is
#   separable).
# - a **median filter**: replace every pixel by the median of the $w \times w$ window around
#   it. A lone white or black dot is an outlier in its window, so the median ignores it where a
#   blur would smear it: the classic remedy for salt-and-pepper (impulse) noise. The knob is $w$.
# - a **PCA projection** (lesson 01): fit PCA on the clean training images and project each noisy
#   image onto the first $k$ principal components, $\hat x = \mu + U_k U_k^\top (\tilde x - \mu)$.
#   It keeps the part of the image that lies where clean images vary most and drops the rest,
#   noise included. It is a *linear* autoencoder with a $k$-number code, trained on clean images.
#   The knob is $k$.
#
# To be fair to them, every knob is tuned for every noise kind and level on **validation**
# images and then reported on the test images, just as the DAE was tuned (trained) on training
# images. The data are shared fairly; the information is not: each baseline is re-tuned for
# each row, so it is in effect told the noise kind and level, while the DAE is one blind model
# for all rows that must infer them from the image. Here is the blur tuned for Gaussian noise
# 0.3 (on the number of validation images the cell prints), next to the plain DAE:

# %%
from course_utils.corruption import best_blur_sigma, gaussian_blur
from course_utils.plots import rows_figure

tune_x = data.valid.x[:500]  # the images every baseline's knob is tuned on
g = torch.Generator().manual_seed(3)
noisy_valid = gaussian_noise(tune_x, 0.3, g)
s, score = best_blur_sigma(noisy_valid, tune_x)
print(f"Gaussian sigma = 0.3: best blur width s = {s} pixels, {score:.2f} dB on {len(tune_x)} validation images "
      f"(no blur: {psnr(noisy_valid, tune_x).mean():.2f} dB)")
noisy_ex = gaussian_noise(clean_examples, 0.3, g)
rows_figure({"noisy input": noisy_ex, f"blur s = {s}": gaussian_blur(noisy_ex, s),
             "plain DAE": denoise(plain, noisy_ex), "clean target": clean_examples},
            title="Gaussian noise 0.3: the tuned blur next to the plain DAE")

# %% [markdown]
# Now the full comparison: three noise kinds, six levels each, starting from mild noise, on
# corrupted test images (their number is printed above the table; seeded, so every run and
# every model sees the same noise). Each
# row gives the PSNR of the noisy input itself (the score of doing nothing), of each tuned
# baseline (its tuned knob in parentheses: $s$, $w$, $k$), of the plain DAE, and names the best
# method: when other columns are within the margin of the best (0.5 dB, section 3; see "About
# the margin" below), they are named too, joined by "~", since a difference that small is not
# counted. No row is hidden.

# %%
from course_utils.denoising import classic_baselines, psnr_table, psnr_table_text
from course_utils.pca import PCA

pca = PCA(256).fit(data.train.x.flatten(1))  # on CLEAN training images: (N, 784)
BASELINES = classic_baselines(pca, ks=(16, 32, 64, 128, 256))  # blur, median, PCA
EVAL_LEVELS = {"gaussian": (0.1, 0.2, 0.3, 0.4, 0.5, 0.6), "masking": (0.1, 0.25, 0.4, 0.55, 0.7, 0.85),
               "salt_and_pepper": (0.05, 0.1, 0.2, 0.3, 0.4, 0.5)}
rows = psnr_table({"plain DAE": plain}, test_x, tune_x, EVAL_LEVELS, seed=10, baselines=BASELINES)
print(f"{data.name}, {course.mode} mode; mean PSNR (dB) on {len(test_x):,} corrupted test images\n")
print(psnr_table_text(rows, margin=MARGIN))

# %% [markdown]
# What the table says, counted:

# %%
from course_utils.denoising import best_method, pca_denoise

plain_clean = psnr(denoise(plain, test_x), test_x).mean().item()
best = {(r["kind"], r["level"]): best_method(r, margin=MARGIN).split(" ~ ") for r in rows}  # the best, ties
print(f"the plain DAE is the best method by more than {MARGIN} dB at "
      f"{sum(b == ['plain DAE'] for b in best.values())} of {len(rows)} levels, "
      f"tied for best (within {MARGIN} dB) at {sum('plain DAE' in b and len(b) > 1 for b in best.values())}")
print(f"where another method is best by more than {MARGIN} dB:",
      [(*key, " ~ ".join(b)) for key, b in best.items() if "plain DAE" not in b] or "nowhere")
worse_than_input = [(r["kind"], r["level"]) for r in rows if r["plain DAE"] < r["noisy"] - MARGIN]
print(f"where the plain DAE is WORSE than doing nothing by more than {MARGIN} dB:", worse_than_input or "nowhere")
print(f"the plain DAE's PSNR over the {len(rows)} rows: {min(r['plain DAE'] for r in rows):.2f} to "
      f"{max(r['plain DAE'] for r in rows):.2f} dB (the noisy inputs: {min(r['noisy'] for r in rows):.2f} "
      f"to {max(r['noisy'] for r in rows):.2f} dB)")
print(f"the plain DAE on CLEAN test images: {plain_clean:.2f} dB -> no better than its best noisy row: "
      f"{plain_clean <= max(r['plain DAE'] for r in rows)}")
pca_clean = {k: psnr(pca_denoise(pca, test_x, k), test_x).mean().item() for k in range(1, pca.n_components + 1)}
k_match = min((k for k, score in pca_clean.items() if score >= plain_clean), default=None)
if k_match is None:
    print(f"  ...which is more than PCA keeps of a clean image with any k up to {pca.n_components}")
else:
    below = f"k = {k_match - 1}: {pca_clean[k_match - 1]:.2f} dB, " if k_match > 1 else ""
    print(f"  ...PCA keeps at least as much of a clean image with k = {k_match} directions ({pca_clean[k_match]:.2f} dB; "
          f"{below}k = {pca.n_components}: {pca_clean[pca.n_components]:.2f} dB)")
mean_image = data.train.x.mean(dim=0, keepdim=True)  # (1, 1, 28, 28): one output for every input
CONSTANT = psnr(mean_image.expand_as(test_x), test_x).mean().item()  # the same at every noise level
above_constant = [r for r in rows if r["plain DAE"] > CONSTANT + MARGIN]
print(f"a constant output (the mean training image, whatever the input): {CONSTANT:.2f} dB at every level; "
      f"the plain DAE beats it by more than {MARGIN} dB at {len(above_constant)} of {len(rows)} levels")

# %% [markdown]
# Read the lines from the top. The first two say at which levels the plain DAE beats every
# baseline by more than the margin (and where it ties for best) and where another method wins;
# the third, where it is worse than doing nothing by more than the margin. The
# fourth compares spans: how far the noisy inputs' PSNR ranges over the 18 rows, and how far the
# plain DAE's does (compare the two printed spans). A narrow span is not a merit in itself: the
# constant output, the mean training image, has a span of zero, and an output that depends
# little on its input comes close to it; the last line says at how many levels the plain DAE
# stays clearly above that constant. The line on CLEAN test images says whether even a perfect
# input comes back no better than the best noisy row; when it does, the model has an **error
# floor**, and the PCA line translates it: a projection onto the printed number $k$ of principal
# directions (the smallest $k$ that does) keeps at least as much of a clean image. A small $k$
# next to 256 says how little of each particular image the DAE's output keeps. (Section 3's
# CLEAN-input line measured the same floor on 1,000 of these images.) Where the noisy
# input already scores above that floor (the "noisy" column at the mildest levels), the plain
# DAE has little to remove and much to lose: it can come out worse than doing nothing (the
# third line says where it did).
#
# ### Where does the floor come from?
#
# A first guess: every output has passed through a code of 256 numbers, and 256 numbers cannot
# carry more. The guess can be tested, on the same clean test images:
#
# 1. **PCA with $k = 256$** is a 256-number code too, a linear one, fitted to clean training
#    images. It is computed, not trained: among linear 256-number codes (the mean added back) it
#    has the smallest total squared error on the training images it was fitted on (the
#    Eckart-Young theorem of lesson 01); on new images, such as our test images, it is close to
#    that optimum but not guaranteed to reach it. Our score is also a mean of per-image PSNRs
#    after clamping to $[0, 1]$, not quite the same criterion, so take PCA-256 as a strong
#    reference, not as a proven optimum of this score.
# 2. The **clean AE**: the sketch's network, with the same initial weights, trained with the
#    same recipe and budget, but as a plain autoencoder of clean images (input = target = the
#    clean image; its loss is the plain squared error, since there is no damage to divide by).
#
# (This cell trains one more network with the lesson's budget.)

# %%
clean_ae = make_plain_dae()  # the same network and the same initial weights as the plain DAE
fit(clean_ae, data.train.x, epochs=EPOCHS, batch_size=128, lr=LR, callbacks=[CosineDecay()], verbose=False)

on_clean = {"PCA, k = 256": psnr(pca_denoise(pca, test_x, 256), test_x),
            "clean AE": psnr(denoise(clean_ae, test_x), test_x),
            "plain DAE": psnr(denoise(plain, test_x), test_x)}  # fmt: skip
clean_score = {name: values.mean().item() for name, values in on_clean.items()}
print(f"mean PSNR on {len(test_x):,} CLEAN test images:")
for name, score in clean_score.items():
    print(f"  {name:>14}  {score:6.2f} dB")
print(f"a linear 256-number code (PCA) keeps more of a clean image than the plain DAE (by more than {MARGIN} dB):",
      clean_score["PCA, k = 256"] > clean_score["plain DAE"] + MARGIN)
print(f"the same network, trained on clean images, keeps more than the plain DAE (by more than {MARGIN} dB):",
      clean_score["clean AE"] > clean_score["plain DAE"] + MARGIN)
print(f"after this budget, the clean AE is still below PCA-256 (by more than {MARGIN} dB):",
      clean_score["clean AE"] < clean_score["PCA, k = 256"] - MARGIN)
code_not_the_limit = max(clean_score["PCA, k = 256"], clean_score["clean AE"]) > clean_score["plain DAE"] + MARGIN
print("-> the code size:", "NOT what holds the plain DAE down (a 256-number code can carry more)"
      if code_not_the_limit else "not ruled out (no 256-number code here keeps clearly more)")
gap = clean_score["PCA, k = 256"] - clean_score["clean AE"]
print(f"-> the budget: the second half of training lowered the plain DAE's validation ratio by "
      f"{half[1] - last:.3f} (section 2); the clean AE ends {abs(gap):.2f} dB "
      f"{'below' if gap > 0 else 'above'} PCA-256")

# %% [markdown]
# Read the verdicts. The first two test the code size: PCA-256 and the clean AE have codes of
# 256 numbers, like the plain DAE, so if either keeps clearly more of a clean image, the size of
# the code is not the limit. The line "the code size" draws that conclusion for this run. The
# other suspects are in the training:
#
# - **What it was trained on.** The plain DAE never saw an undamaged input. For a damaged
#   input, the output with the smallest expected squared error is the average of all the clean
#   images that could have produced it, each weighted by how likely it is to have produced it
#   (the posterior mean; section 7 computes it exactly on a toy). When the damage is heavy, many
#   images fit, and their average is smooth. That explains smooth outputs for damaged inputs,
#   not for clean ones: section 3's CLEAN-input verdict says whether the plain DAE's smoothness
#   needs any damage at all. A blind model that only ever saw damage may treat a good input the
#   same way. This lesson does not test it; letting every training range start at 0 (edit
#   `TRAIN_LEVELS`) is an experiment to try, not a known fix: the other two suspects below may
#   hold the floor where it is.
# - **The budget.** A network learns even copying one gradient step at a time, and about 2,000
#   steps (in full mode) is a short training for a million weights. So the plain DAE's numbers
#   in this lesson are those of this short budget, and so are the skip DAE's: every verdict
#   about them is a verdict about these networks at this budget, not about denoising
#   autoencoders in general. The line "the budget" shows what this run can say about it: how
#   much the second half of the budget still lowered the plain DAE's validation damage ratio,
#   and where the clean AE, trained for nothing but copying, ends next to PCA's computed
#   reference. How much a longer training would gain, and whether it would change which method
#   wins a row, this lesson does not measure: the whole course must run in minutes on a laptop.
# - **Copying and repairing at once.** A DAE must rebuild every intact pixel through its layers
#   and repair the damaged ones; at mild noise, almost all of the right answer is the input
#   itself, and the plain DAE has to learn that copy the slow way. Section 5 tests this one.
#
# About the margin: each network here was trained once, from one seed. Another seed, or another
# machine (even the number of CPU threads changes the rounding, and so the training), would move
# its scores by an amount this lesson does not measure (try it), so differences of a few tenths
# of a dB between two models are not evidence either way. We count a difference only above the
# margin printed and call the rest "within". The 0.5 dB is a threshold we chose, not a measured
# seed-to-seed spread, so read the verdicts for what they are. "Within" means this run cannot
# tell the two apart, not that they are equal. A difference beyond the margin is a fact about
# this run; it is a fact about the methods only if retraining moves scores by less than the
# margin, which is not checked here. And a verdict that clears its threshold by only a tenth or
# two (section 6 prints how far one does) is the kind another seed could flip. (On the embedded fallback
# digits, 8 x 8 scans enlarged to 20 x 20 and padded to 28 x 28, every image lies in a subspace
# of at most 64 dimensions, so there PCA with $k = 256$ gives clean images back almost exactly.)
#
# ## 5. A skip path: learn the repair, not the copy
#
# The third suspect of section 4, copying and repairing at once, suggests a change of
# architecture. Hand the model the copy for free: carry
# the noisy input $\tilde x$ around the encoder, the code and the decoder to the output, so
# that the layers need not rebuild the intact pixels. There are two classic ways to use such a
# bypass. **Residual learning** adds a correction to the input, $\hat x = \tilde x + f(\tilde x)$,
# so the layers learn only what to change: the idea behind residual networks (He et al., 2016),
# and DnCNN (Zhang et al., 2017), a classic learned denoiser, predicts the noise and subtracts
# it from its input. Our version is the other kind, a **gated** skip: the decoder decides, pixel
# by pixel, how much of the input to keep. It outputs two maps of 784 numbers: a reconstruction
# $r$ and a **trust** $t \in (0, 1)$, and the output is the blend
#
# $$ \hat x = t \odot \tilde x + (1 - t) \odot r . $$
#
# This is the form of a highway connection (Srivastava, Greff and Schmidhuber, 2015): the layers
# still learn a complete image $r$, plus the gate $t$ that says where to use it instead of the
# input.
#
# It is still an encoder to a 256-number code and a decoder back: $r$ and $t$ are computed from
# the code alone. Where the noise is mild, the decoder could trust the noisy pixels ($t$ near
# 1); where it is heavy, it could rely on its reconstruction ($t$ near 0). Whether it learns to
# do so is a measurement (the trust cell below prints it). In the diagram, the red
# bypass arrow is the skip: the noisy pixels reach the blend without passing through the code. (Its
# hidden layers have 372 units, not 512: the next cell says why.) Compare it with the plain DAE's
# diagram of section 2: the same boxes up to the code, then a decoder with two outputs, and the
# red bypass arrow.

# %%
from course_utils.denoising import SkipDenoisingAutoencoder

dae_flow_figure(hidden=372, skip=True, title="a denoising autoencoder with a skip path and a trust map")

# %% [markdown]
# Written out, the model is one small class. **A fair comparison** needs one more decision:
# the decoder's last layer now outputs $2 \times 784$ numbers, so at the sketch's widths the
# skip model would have about 400,000 more weights than the plain DAE, and a win could come from
# the extra weights instead of the skip. So we narrow its hidden layers from 512 to 372 units:
# the two models then have the same number of weights (printed), the same 256-number code, the
# same recipe and the same budget. The package's `SkipDenoisingAutoencoder` is the same model
# with input checks and two methods to read $r$ and $t$; the cell checks that, given the same
# weights, it computes the same output.

# %%
class SkipDAE(nn.Module):
    """Noisy images (B, 1, 28, 28) -> t * noisy + (1 - t) * r, with r and t decoded from a code."""

    def __init__(self, hidden: int, n_latent: int = 256):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, n_latent))
        self.decoder = nn.Sequential(nn.Linear(n_latent, hidden), nn.ReLU(), nn.Linear(hidden, 2 * 784))

    def forward(self, noisy):
        flat = noisy.flatten(1)  # (B, 784)
        r_logits, t_logits = self.decoder(self.encoder(flat)).chunk(2, dim=1)  # (B, 784) each
        r, t = torch.sigmoid(r_logits), torch.sigmoid(t_logits)  # reconstruction and trust, in (0, 1)
        return (t * flat + (1 - t) * r).view_as(noisy)  # the skip: noisy pixels reach the output


torch.manual_seed(0)  # the seed of this model's initial weights
skip_sketch = SkipDAE(hidden=372).to(course.device)
dae = SkipDenoisingAutoencoder(784, hidden=(372,), n_latent=256).to(course.device)
dae.load_state_dict(skip_sketch.state_dict())  # the same weights in the package's class
some_noisy = corrupt(clean_examples, "gaussian", 0.3, torch.Generator().manual_seed(0)).to(course.device)
print("the package's SkipDenoisingAutoencoder computes the same output:",
      torch.allclose(dae(some_noisy), skip_sketch(some_noisy)))
n_plain, n_dae = (sum(p.numel() for p in m.parameters()) for m in (plain, dae))
print(f"weights: plain DAE {n_plain:,}, skip DAE {n_dae:,} ({(n_dae - n_plain) / n_plain:+.2%})")
skip_curve = train_denoiser(dae)
print(f"valid damage ratio (Gaussian 0.3) after training: plain DAE {plain_curve.points[-1][1]:.3f}, "
      f"skip DAE {skip_curve.points[-1][1]:.3f}")
validation_curves_figure({"plain DAE": plain_curve.points, "skip DAE": skip_curve.points},
                         title="validation damage ratio (equal weights and budget)")

# %% [markdown]
# **Where does the model trust its input?** The trust map $t$ says, pixel by pixel, how much of
# the noisy input goes straight to the output. Here it is for one image under mild, medium and
# heavy Gaussian noise (bright: $t$ near 1, the noisy pixel is kept; dark: the reconstruction
# $r$ is used; the colour bar gives the scale), with its mean over the 8 images printed for each
# level.

# %%
from course_utils.denoising import trust_figure
from course_utils.train import predict

TRUST_LEVELS = (0.1, 0.3, 0.6)
noisy_levels, trust_maps, mean_trust = [], [], []
for level in TRUST_LEVELS:
    noisy_level = corrupt(clean_examples, "gaussian", level, torch.Generator().manual_seed(0))
    trust = predict(dae, noisy_level, fn=lambda m, xb: m.trust(xb))  # (8, 1, 28, 28)
    print(f"Gaussian sigma = {level}: mean trust in the noisy pixels {trust.mean():.2f}, "
          f"highest {trust.max():.2f}")
    noisy_levels.append(noisy_level[:1])
    trust_maps.append(trust[:1])
    mean_trust.append(trust.mean().item())
print("the mean trust falls at every step from mild to heavy noise:",
      all(a > b for a, b in zip(mean_trust[:-1], mean_trust[1:], strict=True)))
trust_figure(torch.cat(noisy_levels), torch.cat(trust_maps), [f"sigma {level}" for level in TRUST_LEVELS],
             title="the decoder's trust in the noisy pixels")

# %% [markdown]
# Read the printed means: the mean trust is the share of an output pixel that comes, on
# average, straight from the input; the rest comes from the reconstruction $r$. The maps show
# where the trust concentrates. The verdict under the means says whether the model leans on its
# input less as the noise grows. It is never told the noise level, so a trust that follows it
# has been inferred from the noisy image, through the code. Now the same table with the skip DAE
# added (the same test noise: the same seeds):

# %%
from course_utils.denoising import compare_columns, method_columns, psnr_curves_figure

skip_rows = psnr_table({"skip DAE": dae}, test_x, tune_x, EVAL_LEVELS, seed=10, baselines={})
rows = [r | {"skip DAE": sr["skip DAE"]} for r, sr in zip(rows, skip_rows, strict=True)]
print(psnr_table_text(rows, margin=MARGIN))
mildest = [r for r in rows if r["level"] == EVAL_LEVELS[r["kind"]][0]]
for r in mildest:
    versus_noisy = ("better than" if r["skip DAE"] > r["noisy"] + MARGIN
                    else "worse than" if r["skip DAE"] < r["noisy"] - MARGIN else "within the margin of")
    print(f"mildest {r['kind']} ({r['level']}): noisy {r['noisy']:.2f}, plain {r['plain DAE']:.2f}, "
          f"skip {r['skip DAE']:.2f} dB -> skip minus plain {r['skip DAE'] - r['plain DAE']:+.2f} dB,"
          f" skip vs doing nothing: {versus_noisy} it")
skip_clean = psnr(denoise(dae, test_x), test_x).mean().item()
print(f"on CLEAN test images: plain DAE {plain_clean:.2f}, skip DAE {skip_clean:.2f}, clean AE "
      f"{clean_score['clean AE']:.2f} dB -> the skip raises the floor by more than {MARGIN} dB: "
      f"{skip_clean > plain_clean + MARGIN}")
print(f"\nskip DAE vs plain DAE (the same number of weights), margin {MARGIN} dB:")
for outcome, where in compare_columns(rows, "skip DAE", "plain DAE", margin=MARGIN).items():
    print(f"  {outcome} by more than {MARGIN} dB:" if outcome != "within" else f"  within {MARGIN} dB:",
          where or "nowhere")
others = [c for c in method_columns(rows) if c not in ("skip DAE", "plain DAE")]
clear_wins = [(r["kind"], r["level"]) for r in rows
              if all(r["skip DAE"] > r[c] + MARGIN for c in others)]  # fmt: skip
print(f"the skip DAE beats every non-learned method by more than {MARGIN} dB at {len(clear_wins)} of {len(rows)} levels")
print("where it does not:", [(r["kind"], r["level"]) for r in rows if (r["kind"], r["level"]) not in clear_wins]
      or "nowhere")

# %%
psnr_curves_figure(rows, title=f"{data.name}: learned vs non-learned denoisers ({course.mode} mode)",
                   constant=CONSTANT)  # the mean training image, whatever the input

# %% [markdown]
# Each panel reads from left to right, from mild to heavy noise. A flat curve is not a merit in
# itself: the constant output (the mean training image, the same whatever the input) scores the
# same at every level, a perfectly flat line (grey, dashed). (Where the median's tuned window is
# $w = 1$, the filter leaves the image unchanged, and its curve lies on the "noisy" one.) So the
# cell below judges each learned model per kind against two references: the BEST tuned baseline
# at each level (whichever of blur, median and PCA scores highest there), and the constant
# output.

# %%
print(f"constant output (mean training image): {CONSTANT:.2f} dB at every level; margin {MARGIN} dB")
for kind in EVAL_LEVELS:
    sub = [r for r in rows if r["kind"] == kind]
    best_base = [max(r[c] for c in others) for r in sub]  # the best tuned baseline at each level
    gain = {c: sum(r[c] - r["noisy"] for r in sub) / len(sub) for c in others}
    print(f"{kind:>15} (levels {sub[0]['level']} to {sub[-1]['level']}); best baseline on average: "
          f"{max(gain, key=gain.get)} (+{max(gain.values()):.1f} dB over noisy)")
    for model in ("plain DAE", "skip DAE"):
        beats = [r["level"] for r, b in zip(sub, best_base, strict=True) if r[model] > b + MARGIN]
        loses = [r["level"] for r, b in zip(sub, best_base, strict=True) if r[model] < b - MARGIN]
        above = sum(r[model] > CONSTANT + MARGIN for r in sub)
        print(f"{'':>17}{model}: beats the best baseline at {len(beats)} of {len(sub)} levels {beats}, "
              f"loses at {loses or 'none'}; above the constant output at {above} of {len(sub)}")
    print(f"{'':>17}skip minus plain: {sub[0]['skip DAE'] - sub[0]['plain DAE']:+.2f} dB at the mildest level, "
          f"{sub[-1]['skip DAE'] - sub[-1]['plain DAE']:+.2f} dB at the heaviest")
base_wins = [(r["kind"], r["level"]) for r in rows
             if max(r[c] for c in others) > max(r["plain DAE"], r["skip DAE"]) + MARGIN]  # fmt: skip
print(f"-> in this run, a tuned baseline beats both learned models by more than {MARGIN} dB at:",
      base_wins or "no level")

# %% [markdown]
# First the test that section 4 promised: the line on clean test images says whether the skip
# lifted the floor itself. The two models have the same number of weights and the same budget,
# so a lifted floor means that learning the copy through the layers was part of what held the
# plain DAE down.
#
# Now read the lines with the figure. Each baseline helps most where its assumption fits: the
# line "best baseline on average" names it per kind (a median filter is the classic choice
# against salt-and-pepper). A learned denoiser earns its keep where it beats the best tuned
# baseline by more than the margin: the lines list those levels, and the levels where it loses;
# the last line names the levels that a baseline holds against both learned models. Where that
# split falls is a finding about this budget (section 4). The constant-output count guards the
# other way: a model that barely beats the mean training image has learned little about its
# input, however flat its curve. A skip path should matter most where the input is worth
# keeping: the "skip minus plain" numbers compare the two learned models at the mildest and the
# heaviest level. Where almost every pixel is damaged, little is worth keeping: the
# skip-versus-plain lines of the previous cell list any level where the skip DAE is worse by
# more than the margin (a small difference within the margin is not evidence either way). Why it
# loses there, this lesson does not isolate: trusting a badly damaged input is one candidate;
# the relative loss is another, since it weighs the noise levels differently from the plain
# squared error (section 2), and a model with a skip may use that weight differently from one
# without. The principle that the numbers do show: a learned denoiser pays off once the noise
# costs more than its own error, and a skip path lowers that error where the input is worth
# keeping, without adding weights.
#
# The skip has a price, which the roughness measure of section 3 shows: where the trust is
# high, whatever noise the noisy pixel carries reaches the output too.

# %%
roughness_report({"plain DAE": plain, "skip DAE": dae})

# %% [markdown]
# Compare the two models line by line. Where the skip DAE's roughness is above the plain DAE's,
# the roughness alone cannot say why: fine texture kept through the skip and noise let through
# it both raise it. The "noise left" shares make the split: where the skip DAE's share is
# clearly above the plain DAE's, part of its extra roughness is noise it passed on, not texture.
# Look for it in the figures below, as speckle where the trust map is high, and compare with
# the plain DAE's outputs in section 3.

# %%
from course_utils.denoising import denoising_view

for kind, level in SHOWN:
    display(denoising_figure(dae, clean_examples, kind, level))

# %% [markdown]
# ### Slider: how much noise can it take?
#
# Pick a noise kind and move the level. The noise is seeded, so the same level always shows the
# same noise; each redraw runs the skip DAE on the eight images.

# %% tags=["nbval-ignore-output"]
denoising_view(dae, clean_examples, kind="gaussian", level=0.3)

# %% [markdown]
# ### What is in the code?
#
# Denoising autoencoders were popularised as feature learners for classifiers by Vincent et al.
# (2008); networks trained to clean up corrupted inputs are older (denoising autoassociators:
# Gallinari, LeCun et al., 1987; Seung, 1998). Their argument: a model that must repair damage has to capture how images are built.
# Does the class of an image show in the codes of our models? A **linear probe** answers with
# one number: fit a linear classifier on the codes of training images (here in closed form, a
# least-squares classifier: `linear_probe_hits`), then measure its accuracy on the codes of
# clean test images. The same probe on the raw pixels and on the 256 PCA coefficients gives the
# reference: PCA coefficients are a linear function of the pixels, so a linear probe can hardly
# read more from them than from the pixels themselves. Every probe is scored on the same test
# images, so two probes are compared image by image (`paired_difference`; explained below the
# cell).

# %%
from course_utils.denoising import linear_probe_hits, paired_difference

probe_x, probe_y = data.train.x[:10_000], data.train.y[:10_000]  # the probe's training images
test_y = data.test.y[: len(test_x)]
encoders = {  # images (N, 1, 28, 28) -> codes (N, K); plain[:4] is the sketch's encoder half
    "raw pixels (784)": lambda x: x.flatten(1),
    "PCA, k = 256": lambda x: pca.encode(x.flatten(1)),
    "clean AE": lambda x: predict(clean_ae[:4], x),
    "plain DAE": lambda x: predict(plain[:4], x),
    "skip DAE": lambda x: predict(dae, x, fn=lambda m, xb: m.encode(xb)),
}
hits = {name: linear_probe_hits(code(probe_x), probe_y, code(test_x), test_y)  # (M,): 1 = right
        for name, code in encoders.items()}  # fmt: skip
print(f"linear probe: fitted on {len(probe_x):,} training codes, accuracy on {len(test_x):,} clean test images")
for name, right in hits.items():
    print(f"  {name:>17}  {right.mean():.1%}")


def probe_verdict(a, b):
    """'better than' / 'worse than' / 'within noise of': a's accuracy vs b's on the same images."""
    diff, se = paired_difference(hits[a], hits[b])  # paired: image by image
    word = "better than" if diff > 2 * se else "worse than" if diff < -2 * se else "within noise of"
    b_name = "raw pixels" if b.startswith("raw") else f"{b}'s code"
    disagree = int((hits[a] != hits[b]).sum())
    return (f"{a}'s code is {word} the {b_name} ({100 * diff:+.1f} points; 2 SE = {200 * se:.1f} points; "
            f"the two probes disagree on {disagree:,} of {len(hits[a]):,} images)")


pairs = [("plain DAE", "clean AE"), ("plain DAE", "raw pixels (784)"),
         ("skip DAE", "clean AE"), ("skip DAE", "raw pixels (784)")]  # fmt: skip
for a, b in pairs:
    print("  the", probe_verdict(a, b))
pa, pb = hits["plain DAE"].mean().item(), hits["raw pixels (784)"].mean().item()
unpaired = ((pa * (1 - pa) + pb * (1 - pb)) / len(test_x)) ** 0.5  # as if on two independent test sets
print(f"(plain DAE vs raw pixels, treated as INDEPENDENT accuracies: 2 SE = {200 * unpaired:.1f} points, "
      f"paired: {200 * paired_difference(hits['plain DAE'], hits['raw pixels (784)'])[1]:.1f})")
print(f"In this run: the {probe_verdict('plain DAE', 'clean AE')}.")

# %% [markdown]
# Read the verdicts and the last line. Two probes scored on the same $n$ test images are
# **paired**: for image $i$, let $d_i = 1$ when only the first probe gets it right, $-1$ when only
# the second does, and 0 when both or neither do. The accuracy difference is the mean of the
# $d_i$, and its standard error is $\operatorname{std}(d) / \sqrt n$. Images that both probes get
# right, or both get wrong, add no noise: only the disagreements count (printed with each
# verdict). A difference within two standard errors could come from which test images were
# drawn. Treating the two accuracies as independent, each with its binomial standard error
# $\sqrt{p(1-p)/n}$ and the two added in quadrature, is right only for two separate test sets;
# here it ignores that the probes mostly get the same images right, and overstates the noise
# (the line in brackets compares the two for one pair). Neither covers what another training
# seed would change, which we did not measure: read differences just beyond two standard errors
# with care.
#
# Vincent et al.'s argument is that a model that must repair damage learns features worth
# having. Our DAEs are a weak test of it: they had the lesson's short budget (section 4), and
# section 4 showed that the plain DAE's clean-image reconstruction keeps about as much as a
# projection onto a few PCA directions (the $k$ printed there). Read these verdicts as findings
# about these networks at this budget, not as a verdict on denoising as a way to learn features.
# The probe measures only what a *linear* classifier can read; a code can hold the class in a
# form a straight cut cannot separate. The skip DAE's skip path can carry fine detail, so its
# code need not; its lines say how much of the class its code holds anyway.

# %% [markdown]
# ## 6. The bug: evaluating a denoiser on clean inputs
#
# Many tutorials train a DAE on noisy inputs and then show (or score) the model on **clean**
# test images. That measures how well it reconstructs clean images, not how well it denoises.
# Here is how misleading that is. A "model" that does nothing at all, `nn.Identity()`, is a
# perfect autoencoder of clean images.

# %%
g = torch.Generator().manual_seed(4)
noisy_test = gaussian_noise(test_x, 0.3, g)  # the input a denoiser is FOR
do_nothing = nn.Identity()
dae_clean = psnr(denoise(dae, test_x), test_x).mean().item()
dae_noisy = psnr(denoise(dae, noisy_test), test_x).mean().item()
print("WRONG (clean input -> clean target):")
print(f"  identity    {psnr(do_nothing(test_x), test_x).mean():.2f} dB")
print(f"  skip DAE    {dae_clean:.2f} dB")
print("RIGHT (noisy input, Gaussian sigma = 0.3 -> clean target):")
print(f"  identity    {psnr(do_nothing(noisy_test), test_x).mean():.2f} dB")
print(f"  skip DAE    {dae_noisy:.2f} dB")
print(f"\nthe DAE beats doing nothing on noisy inputs by more than {MARGIN} dB:",
      dae_noisy > psnr(noisy_test, test_x).mean().item() + MARGIN)

# %% [markdown]
# Evaluated on clean inputs the do-nothing model "wins" with an infinite PSNR (the mean of
# per-image infinities), and the DAE looks worse than doing nothing. Evaluated on noisy inputs,
# the task the DAE was built for, the last line says whether the order flips (read the verdict).
# The only honest test of a denoiser feeds it the corrupted images and compares its output with
# the clean ones.
#
# Look at the DAE's clean-input score once more, next to the mildest Gaussian row of the table.
# A clean image is not necessarily the easiest input for a denoiser:

# %%
gauss_mild = mildest[0]  # Gaussian, sigma = 0.1
noisy_mild = corrupt(test_x, "gaussian", 0.1, torch.Generator().manual_seed(0))
on_object = test_x > 0.1  # (N, 1, 28, 28): the garment's (or digit's) pixels; the rest: background
object_trust = {}
for name, inputs, score in (("clean", test_x, dae_clean), ("sigma = 0.1", noisy_mild, gauss_mild["skip DAE"])):
    trust = predict(dae, inputs, fn=lambda m, xb: m.trust(xb))  # (N, 1, 28, 28)
    object_trust[name] = trust[on_object].mean().item()
    print(f"skip DAE on {name + ' inputs:':<19} {score:.2f} dB | mean trust in its input: object pixels "
          f"{object_trust[name]:.2f}, background {trust[~on_object].mean():.2f}")
print(f"the sigma = 0.1 noisy input itself, no denoiser: {gauss_mild['noisy']:.2f} dB")
no_gain = dae_clean <= gauss_mild["skip DAE"] + MARGIN
below_noisy = dae_clean < gauss_mild["noisy"] - MARGIN
print(f"the DAE does no better on a clean image than on a sigma = 0.1 one (not by more than {MARGIN} dB):", no_gain)
print(f"its clean-input output is worse than the sigma = 0.1 noisy image by more than {MARGIN} dB:", below_noisy)
trusts_clean_less = object_trust["clean"] < object_trust["sigma = 0.1"]
print("on the object pixels it trusts a clean input less than a sigma = 0.1 one:", trusts_clean_less)
print("-> in this run, handed a perfect image, the skip DAE",
      "returns one that scores below a noisy copy of it" if below_noisy
      else "gains nothing over a mildly noisy copy of it" if no_gain
      else "does better than on a mildly noisy copy of it")
cushion = abs(dae_clean - (gauss_mild["noisy"] - MARGIN))  # how far the score is from changing the words
if not below_noisy:  # then the second test decides the wording too
    cushion = min(cushion, abs(dae_clean - (gauss_mild["skip DAE"] + MARGIN)))
print(f"   the score is {cushion:.2f} dB from the threshold that would change these words -> a close call "
      f"(less than the {MARGIN} dB margin itself, so another seed could flip it): {cushion < MARGIN}")

# %% [markdown]
# Read the verdicts; the "->" line puts them in words, and the line under it says how much to
# trust that wording. Each verdict compares two scores with the 0.5 dB margin, a threshold we
# chose, not a measured seed spread (section 4, "About the margin"). When the score sits closer
# to a threshold than the margin itself (a close call), the wording describes this run only:
# another seed could move the score across it and change the sentence. The DAE was trained only on damaged
# images: the mildest training levels are $\sigma = 0.1$ for Gaussian noise, $p = 0.1$ for
# masking and $p = 0.05$ for salt-and-pepper (`TRAIN_LEVELS`), never none. It is a blind
# denoiser: it infers how much to distrust each pixel from the image itself. A perfectly clean
# image is an input it never saw, and nothing in training binds its output on such inputs to
# be good.
#
# The trust is printed separately for the object and the background. On a black background
# pixel of a clean image the output is $(1 - t)\,r$, and where $r$ is near 0 as well, $t$ hardly
# changes it: the background's trust says little. On the object pixels the trust decides how
# much of the image is kept. A model that trusts a clean object less than a mildly noisy one
# (the verdict on object pixels says whether this one does) treats the unfamiliar clean image
# as damaged and replaces good pixels by its reconstruction. One experiment is to let every
# training range start at 0, so that clean and nearly clean inputs are part of training (edit
# `TRAIN_LEVELS`). It is untested here and not a sure fix: a floor can have other causes
# (section 4 lists them), and a batch whose damage is below `MIN_DAMAGE` is scored against the
# floor, not against its own damage (section 2).
#
# ## 7. Why denoising teaches the model where the data lives
#
# Real images are not spread all over $[0, 1]^{784}$: they sit near a thin, curved
# low-dimensional surface, the **data manifold** (almost every random point in pixel space is
# TV static, not a picture of anything). Corruption pushes an image **off** that surface, in a random
# direction. To undo it, the network must learn a map that sends a damaged point back to the
# region of the surface it most likely came from, and the only way to know which way is "back"
# is to have learned the shape of the surface. (Back to near it, not onto it: we will see that
# even the best denoiser puts its outputs on the inner side of a curved surface, whether the
# damaged point lies outside, inside or on it.)
#
# We can see this in two dimensions. The "data" are points on a circle (a 1-D manifold in 2-D).
# We train a small network, written inline here, to map noisy points back to their clean
# versions, with fresh Gaussian noise ($\sigma = 0.3$, not clipped) at each step.

# %%
from course_utils.models import mlp

g = torch.Generator().manual_seed(0)
angles = 2 * torch.pi * torch.rand(1000, generator=g)
circle = torch.stack([angles.cos(), angles.sin()], dim=1)  # (1000, 2): points on the circle
TOY_SIGMA = 0.3
toy_gen = torch.Generator().manual_seed(1)


def toy_denoising_objective(model, batch):
    clean = batch[0]  # (B, 2)
    noisy = clean + TOY_SIGMA * torch.randn(clean.shape, generator=toy_gen).to(clean.device)
    return ((model(noisy) - clean) ** 2).sum(dim=1).mean(), {}  # (loss, nothing else to log)


torch.manual_seed(0)
toy_dae = mlp([2, 64, 64, 2]).to(course.device)
toy_history = fit(toy_dae, circle.to(course.device), objective=toy_denoising_objective,
                  epochs=course.pick(full=150, fast=40), batch_size=100, lr=3e-3, verbose=False)
print(f"toy DAE: final training loss {toy_history.last('train_loss'):.4f}")

# %% [markdown]
# What would the **best possible** denoiser do? Under the squared error it returns the
# **posterior mean** $r^*(\tilde x) = \mathbb E[x \mid \tilde x]$: an average of the clean points,
# each weighted by how likely it is to have produced $\tilde x$. For our circle this average has
# a closed form. A clean point at angle $\theta$ produces $\tilde x$ with a likelihood
# $\propto \exp(|\tilde x| \cos(\theta - \theta_{\tilde x}) / \sigma^2)$: the circle points on
# the side of $\tilde x$ are much more likely than those across. Averaging the circle with these
# weights gives
#
# $$ r^*(\tilde x) = \frac{I_1(|\tilde x| / \sigma^2)}{I_0(|\tilde x| / \sigma^2)}\,
#    \frac{\tilde x}{|\tilde x|}, $$
#
# a point in the direction of $\tilde x$ at a distance between 0 and 1 from the centre ($I_0$,
# $I_1$ are modified Bessel functions; `circle_posterior_mean` computes it). Take
# $\tilde x = (0.1, 0)$: the nearest circle point is $0.9$ away, the farthest $1.1$, and at
# $\sigma = 0.3$ that makes the near side about $e^{(1.1^2 - 0.9^2) / (2 \cdot 0.09)} \approx 9$
# times more likely than the far side. The average leans towards the near side, so even close
# to the centre the optimal arrow points **outwards**, and it is long. Only at the centre
# itself, where every direction is equally likely, is it zero. The figure draws, from each point
# $x$ of a grid, an arrow to the network's output $r(x)$ (left) and to the optimal $r^*(x)$
# (right):

# %%
from course_utils.denoising import circle_posterior_mean, denoising_field_figure


def optimal_denoiser(x):
    return circle_posterior_mean(x, TOY_SIGMA)  # (N, 2) -> (N, 2)


noisy_circle = circle + TOY_SIGMA * torch.randn(circle.shape, generator=torch.Generator().manual_seed(5))
denoising_field_figure(toy_dae, circle, noisy_circle, lim=1.5, n_grid=11, optimal=optimal_denoiser)

# %% [markdown]
# The cell below compares the two sets of arrows region by region on a finer grid: their mean
# lengths, and the share of grid points where the network's arrow points the same way as the
# optimal one (within about 25 degrees). It also counts how often the training noise carried a
# circle point near the centre.

# %%
import torch.nn.functional as F

t = torch.linspace(-1.5, 1.5, 31)
grid = torch.cartesian_prod(t, t)  # (961, 2)
radius = grid.norm(dim=1)  # (961,)
net_step = predict(toy_dae, grid) - grid  # r(x) - x, (961, 2)
best_step = optimal_denoiser(grid) - grid  # r*(x) - x, (961, 2)
regions = {"centre, 0 < |x| <= 0.25": (radius > 0) & (radius <= 0.25),
           "inner ring, 0.5 < |x| < 0.9": (radius > 0.5) & (radius < 0.9),
           "outside, |x| > 1.1": radius > 1.1}
print(f"{'region':>28} {'points':>6} {'network':>8} {'optimal':>8} {'same direction':>15}")
for name, inside in regions.items():
    agree = F.cosine_similarity(net_step[inside], best_step[inside], dim=1) > 0.9
    print(f"{name:>28} {int(inside.sum()):>6} {net_step[inside].norm(dim=1).mean():>8.2f} "
          f"{best_step[inside].norm(dim=1).mean():>8.2f} {agree.float().mean():>15.0%}")
centre = regions["centre, 0 < |x| <= 0.25"]
outwards = ((net_step[centre] * grid[centre]).sum(dim=1) > 0).float().mean()
print(f"near the centre, network arrows pointing outwards: {outwards:.0%} (optimal: all of them)")
ratio = net_step[centre].norm(dim=1).mean() / best_step[centre].norm(dim=1).mean()
print(f"near the centre the network's arrows are {ratio:.2f} x as long as the optimal ones")
ring = regions["inner ring, 0.5 < |x| < 0.9"]
print("optimal arrows longer near the centre than in the inner ring:",
      bool(best_step[centre].norm(dim=1).mean() > best_step[ring].norm(dim=1).mean()))
draws = circle.repeat(100, 1) + TOY_SIGMA * torch.randn(100_000, 2, generator=torch.Generator().manual_seed(6))
print(f"noisy training points within 0.25 of the centre: {(draws.norm(dim=1) <= 0.25).float().mean():.2%}")
for norm in (0.1, 0.5, 1.0, 1.5):  # where the OPTIMAL denoiser sends a point at distance |x~| from 0
    landing = optimal_denoiser(torch.tensor([[norm, 0.0]])).norm().item()
    print(f"|x~| = {norm}: the optimal output lies at distance {landing:.2f} from the centre (the circle: 1)")
radii = torch.linspace(0.5, 1.2, 7001)
fixed = radii[(optimal_denoiser(torch.stack([radii, 0 * radii], dim=1)).norm(dim=1) - radii).abs().argmin()]
print(f"the optimal denoiser leaves a point where it is at distance {fixed:.3f}: inside the circle: {fixed < 1}")

# %% [markdown]
# Read the table. Outside the circle the optimal arrows point inwards and in the inner ring
# outwards: towards the circle from both sides, and the "same direction" column says how well
# the network learned that without ever being told "circle". Near the centre the optimal
# arrows point outwards and are long, longer on average than in the inner ring (the "optimal"
# column, and the verdict printed for it): a noisy point there most likely came from the
# nearest stretch of the circle. The other lines say what the network made of that region. Few
# noisy training points ever land there (the printed share), so it had little to learn from;
# when the printed factor is below 1, its arrows there are shorter than the optimal ones: it
# undershoots the optimum. A denoiser, and a score model, is learned well only where the noisy
# data actually goes.
#
# The last lines show where the optimal denoiser puts its outputs: inside the circle, never on
# it, and the point it leaves in place lies inside too. It returns an average of the circle's
# points, weighted by how likely each is to have produced $\tilde x$, and an average of several
# points of a curved line lies on its inner side. Section 4 met the same effect in pixel space:
# the best guess under uncertainty is an average of the clean images that fit, and an average of
# several images is usually smoother than they are on average (never rougher, by the convexity
# of a roughness such as total variation, though it can be rougher than the smoothest of them).
#
# **Tweedie's formula** turns the optimal denoiser into a gradient. For **additive Gaussian**
# noise, $\tilde x = x + \sigma \varepsilon$ with $\varepsilon \sim \mathcal N(0, I)$ (and, in
# this form, for that noise only),
#
# $$ r^*(\tilde x) - \tilde x = \sigma^2\, \nabla_{\tilde x} \log p_\sigma(\tilde x), $$
#
# where $p_\sigma$ is the density of the **noisy** points (the data convolved with the noise),
# not the density of the clean data, which on a circle is not even a smooth density in 2-D. Its
# gradient $\nabla \log p_\sigma$ is called the **score**. So the red arrows of the right panel
# are the score of the noised data, scaled by $\sigma^2$: they point to where noisy points are
# denser. That density grows from the centre outwards up to a ring just inside the circle
# (where the optimal denoiser leaves a point where it is), which is why even the arrows near the
# centre point outwards, and why points on the circle itself get short arrows pointing slightly
# inwards. Two conditions matter. The formula in this form holds for **additive Gaussian**
# noise only: for masking or salt-and-pepper the optimal denoiser is still the posterior mean,
# but it is not $\sigma^2$ times a score (Tweedie's idea extends to other noise families, with
# other formulas). And the noise must be exactly that Gaussian; the clipped noise of our images
# is not. Vincent (2011) showed that training a
# denoiser with Gaussian noise of a given $\sigma$ and the squared error is score matching of
# $p_\sigma$ ("denoising score matching"); Alain and Bengio (2014) studied the small-noise limit,
# where $p_\sigma$ approaches the data density. Score-based diffusion models (Song and Ermon,
# 2019; Ho et al., 2020) build on this: one network, told the noise level, is trained to denoise
# at many levels at once, and so gives the score of $p_\sigma$ at every level. A trained network
# only approximates $r^*$, and only where its training points went.
#
# > **Common mistakes**
# > - *Evaluating a denoiser on clean inputs* (section 6). It rewards copying: a do-nothing model
# >   scores infinity. Always feed corrupted test inputs and compare with clean targets.
# > - *Adding the noise with a layer that switches itself off in eval mode* (a `GaussianNoise`
# >   module that adds noise only `if self.training`). Validation then silently runs on clean
# >   inputs: the bug above, hidden inside the model.
# > - *Using the same noisy image as input and target.* Then the network learns to reproduce
# >   the noise. The input is $\tilde x$, the target is $x$. (A second, independent noisy copy as
# >   the target would still work on average, the idea of Noise2Noise, Lehtinen et al. 2018; this
# >   lesson does not try it.)
# > - *Fixing the training noise once, or testing with unseeded noise.* Fresh noise in every
# >   step gives the model new corruptions of the same images (this lesson does not measure
# >   whether that helps here); fixed, seeded noise makes validation and test numbers reproducible and
# >   comparable between models.
# > - *Thinking clipping is free, or required.* The noisy image is an input, so a network can
# >   take values outside $[0, 1]$; the target stays clean. Clipping keeps inputs displayable but
# >   biases the noise (mean about $+0.12$ on black pixels at $\sigma = 0.3$, section 1): say
# >   which you do, and that "$\sigma$" then means the std before clipping.
# > - *Using `nn.Dropout` as masking noise.* Dropout rescales kept pixels by $1/(1-p)$ and is
# >   switched off by `model.eval()`, so the test inputs would silently be clean.
# > - *Crediting an architecture with a gain its extra weights could explain.* Compare the two
# >   models at an equal number of weights, with the same recipe and budget (section 5), and
# >   with a margin for what another seed could change (here an assumed one; measure it if you
# >   can, by retraining from other seeds).
# > - *Comparing with a weak or untuned baseline.* Tune each baseline's knob on validation data,
# >   never on the test images, and pick baselines suited to the noise (a median filter for
# >   salt-and-pepper); otherwise the comparison says little.
# > - *Reading Tweedie's formula as the score of the clean data.* It is the score of the NOISED
# >   density $p_\sigma$, and in this form it holds for additive Gaussian noise only.
#
# ## Summary
#
# - A denoising autoencoder gets a corrupted input $\tilde x$ and is trained to output the clean
#   $x$; the corruption, not a bottleneck, stops it from copying.
# - Gaussian noise (clipped), masking and salt-and-pepper are one-line functions with a noise
#   level in a stated range and randomness from an explicit generator.
# - Corrupting on the fly inside the objective gives new noise at every training step; fixed
#   seeded noise is for validation and test. The relative loss (the damage ratio: the share of
#   the damage left) puts every noise level on the same scale, a weighting choice whose effect
#   on the scores this lesson does not measure; its damage needs a floor, computed from the
#   data, because its gradient is divided by the damage.
# - PSNR $= 10 \log_{10}(1 / \text{MSE per pixel})$ in dB; score denoisers on corrupted test
#   inputs against non-learned baselines (blur, median filter, PCA projection) tuned on
#   validation images, and judge a learned one by where it beats the BEST tuned baseline by a
#   margin, and by how far it stays above a constant output (the mean image); a flat PSNR curve
#   alone proves nothing, since the constant output has one.
# - A trained DAE can have an error floor: a clean input comes back only so close (section 3
#   tests it next to the first figures by handing the model clean images; section 4
#   translates it into the number of PCA directions that keep as much), and where the noisy
#   input scores above that floor, the DAE can do worse than doing nothing. A floor is a property
#   of a model AND its training: test where it comes from before naming a cause. Section 4 rules
#   the code size in or out (PCA-256, and the same network trained on clean images) and shows
#   how far the budget gets (the clean AE against PCA, the validation curve); section 5 tests
#   copying through the layers.
# - A skip path hands the model its input, so the layers need not rebuild the intact pixels.
#   Ours is a gated (highway-style) skip, not a residual one: the noisy input goes around the
#   code and is blended pixel by pixel with a full reconstruction, through a trust map the
#   decoder computes from the code. Compare it with the
#   plain DAE at an equal number of weights: its gain is expected where the input is worth
#   keeping, at the mild end (section 5 prints where it gained and where it lost); its price is noise let through where it
#   trusts the input (the leftover noise share of section 5 says how much).
# - Compare models with a margin: one training run from one seed does not settle differences of
#   a few tenths of a dB. Our 0.5 dB is a chosen threshold, not a measured seed spread: a verdict
#   close to it describes this run only.
# - Learning to denoise means learning which way leads back to the data: the optimal denoiser
#   is the posterior mean, whose outputs lie on the inner side of a curved manifold, and for additive Gaussian noise (in this form, for it only) its step
#   $r^*(x) - x$ is $\sigma^2 \nabla \log p_\sigma(x)$, the score of the NOISED density (Tweedie).

# %% [markdown]
# ## Exercise
#
# [Exercise 04](../exercises/04_denoising_autoencoders.ipynb) [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ae-course/autoencoders-pca-to-vae/blob/main/exercises/04_denoising_autoencoders.ipynb)
#
# In the exercise you implement the three corruption functions (Gaussian, masking,
# salt-and-pepper), PSNR and the denoising loss (corrupt, reconstruct, compare with the CLEAN
# image) yourself, and a check cell after each task tells you what is wrong.

# %% [markdown]
# ## Quiz
#
# Check your understanding, in English or Vietnamese; every answer comes with an explanation.

# %% tags=["nbval-ignore-output"]
from course_utils.quiz import show_quiz

show_quiz("04_denoising_autoencoders")

# %% [markdown]
# Next: [05 · Sparse autoencoders](05_sparse_autoencoders.ipynb).
