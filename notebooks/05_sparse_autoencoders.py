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
# # 05 · Sparse autoencoders
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ae-course/autoencoders-pca-to-vae/blob/main/notebooks/05_sparse_autoencoders.ipynb)
#
# Lessons 01 to 03 stopped the autoencoder from copying with a narrow bottleneck; lesson 04 did
# it by damaging the input. This lesson goes the other way: we give the code **more** numbers
# than the image has pixels, and instead ask that only a **few of them be active** for any one
# image. Each code unit is then free to specialise in one pattern (a stroke, a part, or one
# typical shape), and an image is described by which few patterns it contains. At the
# end, a short look at a relative, the contractive autoencoder, and a table of the five classic
# autoencoder families.
#
# **Learning objectives.** After this lesson you can
# 1. explain why an overcomplete code (more units than inputs) needs a constraint, and what a
#    sparsity constraint buys;
# 2. write the L1 activity penalty and the Bernoulli KL sparsity penalty
#    $\sum_j \mathrm{KL}(p \,\|\, \hat q_j)$, and say how their costs differ around the target $p$;
# 3. train sparse autoencoders with each penalty and check the mean activation against the target;
# 4. find out what single units respond to, from their top-activating images and their decoder
#    weights;
# 5. write the contractive penalty (the Frobenius norm of the encoder's Jacobian), derive its
#    closed form for a sigmoid layer and check it against autograd;
# 6. tell apart the five classic autoencoder families.

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
DATASET = "fashion_mnist"  # try "mnist": every cell below works with either

# %% [markdown]
# **Which data, and why.** We ask for Fashion-MNIST again: clothes are made of parts that
# individual units can specialise in. With `"mnist"` the units learn pen strokes instead. The
# cell prints what was actually loaded: without the real data the course falls back to a small
# embedded set of digits, and every figure below is then about those digits.

# %%
from course_utils.data import load_dataset

data = load_dataset(DATASET, seed=course.seed)
N_TRAIN = course.pick(full=20_000, fast=2_000)  # at most this many training images
x_train, x_test = data.train.x[:N_TRAIN], data.test.x  # (N, 1, 28, 28), values in [0, 1]
print(f"{data.name} (embedded fallback: {data.is_fallback}): training on {len(x_train):,} images, "
      f"testing on {len(x_test):,}")

# %% [markdown]
# We train on at most 20,000 training images (in full mode) to keep the lesson's three training
# runs within a few minutes on a laptop CPU.
#
# ## 1. An overcomplete code needs a constraint
#
# Our model has a single hidden layer of $K$ sigmoid units,
#
# $$ h = \sigma(W x + b) \in (0, 1)^K, \qquad \hat x = \sigma(W_d h + b_d), $$
#
# and we choose $K = 1024$, **larger** than the $D = 784$ pixels, and 30 to 500 times the codes
# of 2 to 32 numbers used in lessons 01 to 03. Why so wide?
#
# - *It removes the bottleneck on purpose.* With $K \ge D$ nothing in the architecture stops
#   the network from passing the image through almost unchanged. Whatever structure the code
#   ends up with must come from the penalty, which is the point of this lesson.
# - *A wide code is a large dictionary of parts.* With many units, each one can stand for one
#   small pattern, and an image is built from a handful of them: a sparse code. (Olshausen and
#   Field 1996 showed that sparse coding of natural image patches yields localised, oriented
#   filters that resemble the receptive fields of simple cells in the visual cortex; a
#   resemblance, not an explanation of the cortex.)
# - *Sparse codes are easy to read.* A unit that fires for few images can be understood by
#   looking at those images; a unit that fires a little for everything cannot.
#
# The constraint: on average over images, each unit should be **active rarely**. We write $p$
# for the target firing rate, here $p = 0.05$: each unit on for about 5% of the images.
#
# Written out, the model is two linear layers with a sigmoid after each:

# %%
from torch import nn

N_CODE, TARGET = 1024, 0.05
encoder = nn.Sequential(nn.Flatten(), nn.Linear(784, N_CODE), nn.Sigmoid())  # (B, 1, 28, 28) -> (B, 1024)
decoder = nn.Sequential(nn.Linear(N_CODE, 784), nn.Sigmoid())  # (B, 1024) -> (B, 784)
h = encoder(data.test.x[:5])
print("code shape", tuple(h.shape), "| every code value in (0, 1):", bool(((h > 0) & (h < 1)).all()))

# %% [markdown]
# The course's `SparseAutoencoder` is the same network with `encode` and `decode` methods; the
# penalty acts on the code $h$, which the flow diagram shows for a batch of $B$ images.

# %%
from course_utils.plots import flow_diagram_figure
from course_utils.sparse import SparseAutoencoder

torch.manual_seed(0)
print(SparseAutoencoder(784, N_CODE))
flow_diagram_figure(
    [("x", "(B, 784)"), ("encoder", "Linear 784 -> 1024\n+ sigmoid"), ("h", "(B, 1024), in (0, 1)"),
     ("decoder", "Linear 1024 -> 784\n+ sigmoid"), ("x^", "(B, 784)"),
     ("loss", "SSE(x^, x) per image\n+ weight x penalty(h)")],
    arrows=["", "", "penalty reads h", "", "vs x"],
    title="an overcomplete sparse autoencoder: the penalty, not the width, shapes the code")

# %% [markdown]
# ## 2. Two sparsity penalties
#
# **L1 activity penalty.** Add the sum of the code's absolute values to the loss:
# $\Omega_{L1}(h) = \sum_j |h_j|$. With respect to $h_j$ its gradient is a constant push
# ($\lambda$) towards zero. It has no target: you choose a weight $\lambda$, and the resulting
# sparsity follows from it. **With sigmoid codes the push fades out.** The weights only see the
# gradient with respect to the pre-activation $a_j$ (with $h_j = \sigma(a_j)$), which is
# $\lambda\, \sigma'(a_j) = \lambda\, h_j (1 - h_j)$: it vanishes as $h_j \to 0$. A sigmoid is
# never exactly 0, so, unlike L1 on a linear or ReLU output, this penalty makes units *small*,
# never exactly off. Measured:

# %%
a = torch.tensor([0.0, -2.0, -5.0, -10.0], requires_grad=True)  # pre-activations
torch.sigmoid(a).sum().backward()  # d(sum_j |h_j|) / da_j, with h_j > 0
for a_j, h_j, grad in zip(a.tolist(), torch.sigmoid(a).tolist(), a.grad.tolist(), strict=True):
    print(f"a = {a_j:>5}: h = {h_j:.5f}, L1 push on a = {grad:.5f}")
#
# **Bernoulli KL penalty.** Treat unit $j$ as a coin that comes up "on" with probability
# $\hat q_j$, its **mean activation over the batch**, and compare it with a coin of the target
# rate $p$:
#
# $$ \hat q_j = \frac1B \sum_{b=1}^{B} h_j(x_b), \qquad
#    \Omega_{KL} = \sum_{j=1}^{K} \mathrm{KL}(p \,\|\, \hat q_j)
#    = \sum_{j} \Big[ p \log\frac{p}{\hat q_j} + (1-p) \log\frac{1-p}{1-\hat q_j} \Big]. $$
#
# It is zero exactly when every unit fires at rate $p$ and positive otherwise. Note that it
# constrains each unit's **average over images**, not each activation: one image may switch a
# unit fully on as long as most images do not. So it is one number per BATCH, made from the
# batch's mean activations, not a sum of per-image values: the course package's name for it says
# so, `kl_sparsity_penalty_per_batch`. In code (that function and `bernoulli_kl` are the same two
# lines, plus a clamp that keeps the logarithms finite):

# %%
from course_utils.sparse import bernoulli_kl, kl_sparsity_penalty_per_batch

h = torch.tensor([[0.9, 0.0, 0.1], [0.0, 0.1, 0.1]])  # (B=2 images, K=3 units)
q_hat = h.mean(dim=0)  # (K,): each unit's mean activation, here 0.45, 0.05, 0.10
by_hand = (TARGET * (TARGET / q_hat).log() + (1 - TARGET) * ((1 - TARGET) / (1 - q_hat)).log()).sum()
print(f"by hand {by_hand:.4f} | kl_sparsity_penalty_per_batch {kl_sparsity_penalty_per_batch(h, TARGET):.4f}")
print("per unit:", bernoulli_kl(TARGET, q_hat).numpy().round(4), "(unit 1 is exactly on target)")

# %% [markdown]
# How do these costs compare as a unit's mean activation $q$ moves away from the target? The
# figure plots $\mathrm{KL}(p \,\|\, q)$ next to the plain distances $|q - p|$ and $(q - p)^2$.
# **Careful, two meanings of "L1":** $|q - p|$ here is the L1 *distance* between a unit's mean
# activation and the target, drawn only for comparison; it is not the L1 *activity penalty*
# $\sum_j |h_j|$ that we train with below, which has no target at all.

# %%
from course_utils.sparse import sparsity_costs_figure

sparsity_costs_figure(TARGET)

# %%
for q in (0.01, 0.09, 0.5):
    print(f"q = {q:<4}: KL {bernoulli_kl(TARGET, torch.tensor(q)).item():.4f}   "
          f"|q - p| {abs(q - TARGET):.4f}   (q - p)^2 {(q - TARGET) ** 2:.4f}")

# %% [markdown]
# Three things to read off. (1) All three are zero at $q = p$, but the KL is **asymmetric**:
# $q = 0.01$ and $q = 0.09$ are equally far from $p = 0.05$, yet the KL charges more for the
# unit that has gone nearly silent. (2) The KL grows without bound as $q \to 0$ or $q \to 1$: a
# unit that never fires, or always fires, is pushed back hard, so the KL penalty keeps units
# alive where the L1 activity penalty would keep pushing them towards 0. (3) Close to the target the KL is
# quadratic, $\mathrm{KL} \approx (q-p)^2 / (2p(1-p))$, about ten times the L2 distance for
# $p = 0.05$: a firm but smooth pull. The L1 *activity* penalty of the first paragraph is a
# different thing again: it pulls every activation towards 0, not towards $p$.
#
# ## 3. Training three overcomplete autoencoders
#
# Same architecture, same data, same seed; only the penalty differs:
#
# 1. no penalty at all;
# 2. the L1 activity penalty with weight $\lambda$;
# 3. the KL penalty with target $p = 0.05$ and weight $\beta$.
#
# `SparseObjective` in `course_utils.sparse` is the objective for `fit`: the reconstruction
# loss (squared error per image, the course's convention) plus the weighted penalty, and it logs
# both parts and the mean activation every epoch. Both penalties are per image too: the L1 sum
# is averaged over the batch, and the KL term is computed once per batch from batch means. The
# budget is set in optimizer steps (about 940 steps of 128 images per model in full mode), so a
# smaller training set gets more epochs, not less training.

# %%
import math

from course_utils.sparse import SparseObjective, codes_of
from course_utils.train import fit

RUNS = {"no penalty": (None, 0.0), "L1": ("l1", 0.05), "KL": ("kl", 3.0)}
STEPS = course.pick(full=940, fast=32)  # optimizer steps per model
EPOCHS = max(1, round(STEPS / math.ceil(len(x_train) / 128)))
models, histories = {}, {}
for name, (penalty, weight) in RUNS.items():
    torch.manual_seed(0)  # the same initial weights for all three
    model = SparseAutoencoder(784, N_CODE).to(course.device)
    histories[name] = fit(model, x_train, objective=SparseObjective(penalty, weight, target=TARGET),
                          epochs=EPOCHS, batch_size=128, lr=3e-3, verbose=False)
    models[name] = model
    print(f"{name:>10}: {sum(histories[name]['seconds']):.0f} s, last epoch mean activation "
          f"{histories[name].last('train_mean_activation'):.4f}")

# %% [markdown]
# Now the test set. For each model: the reconstruction error (mean squared error per pixel),
# the mean activation over all test images and units, and the fraction of activations above
# 0.1 (how many units are "on" for a typical image).

# %%
from course_utils.losses import mse_per_pixel
from course_utils.sparse import firing_fraction
from course_utils.train import predict

codes = {name: codes_of(model, x_test) for name, model in models.items()}  # each (N, 1024)
print(f"{data.name}, {course.mode} mode, {EPOCHS} epochs on {len(x_train):,} images; test set")
print(f"{'model':>10} {'MSE/pixel':>10} {'mean act.':>10} {'act. > 0.1':>11}")
for name, model in models.items():
    with torch.no_grad():
        mse = mse_per_pixel(model(x_test.to(course.device)).cpu(), x_test).item()
    print(f"{name:>10} {mse:>10.4f} {codes[name].mean():>10.4f} {firing_fraction(codes[name]):>11.1%}")
mean_kl = codes["KL"].mean().item()
print(f"\nKL run: target p = {TARGET}, mean activation {mean_kl:.4f}, "
      f"relative gap {abs(mean_kl - TARGET) / TARGET:.1%} (within 10%: {abs(mean_kl - TARGET) <= 0.1 * TARGET})")
l1_codes = codes["L1"]
print(f"L1 run: smallest activation {l1_codes.min():.2e}; exactly zero: {(l1_codes == 0).float().mean():.1%}; "
      f"below 0.01: {(l1_codes < 0.01).float().mean():.1%}")

# %% [markdown]
# ## 4. How sparse are the codes?
#
# Left: a histogram of all activations (every test image, every unit; note the log scale).
# Right: each unit's mean activation over the test images, one count per unit, with the
# target $p$ dashed.

# %%
from course_utils.sparse import activations_figure

activations_figure(codes, target=TARGET)

# %%
print(f"{'model':>10} {'units with mean < 0.001':>24} {'units within [p/2, 2p]':>23} {'units with mean > 0.5':>22}")
for name, c in codes.items():
    m = c.mean(dim=0)  # (1024,) each unit's mean activation
    print(f"{name:>10} {(m < 1e-3).float().mean():>24.1%} {((m > TARGET / 2) & (m < 2 * TARGET)).float().mean():>23.1%} "
          f"{(m > 0.5).float().mean():>22.1%}")
errors = {name: mse_per_pixel(predict(model, x_test).view_as(x_test), x_test).item() for name, model in models.items()}
print("highest test MSE:", max(errors, key=errors.get), "| lowest:", min(errors, key=errors.get))

# %% [markdown]
# What to look for, and the numbers above to check it against. Without a penalty nothing
# pushes activations down, so expect a dense code: a typical unit a little on for almost every
# image. The L1 penalty piles activations up near zero (never exactly at zero, as the last line
# of the table in section 3 shows); it has no notion of a target, so its mean is wherever the
# weight $\lambda$ puts it, and the first column says how many of its units are nearly dead. The
# KL penalty pulls each unit's mean towards $p$: the second column says what share of units
# landed within a factor 2 of it. Sparsity usually costs reconstruction error (fewer active
# units carry less detail); the last line says which model paid the most in this run.
#
# ## 5. What do single units respond to?
#
# For a sparse code, a unit means something we can look at. Two views of unit $j$:
#
# - its **top-activating images**: the test images with the largest $h_j$;
# - its **decoder weights**, column $j$ of $W_d$: the pattern the unit *adds* to the
#   reconstruction when it fires (red positive, blue negative, white zero).
#
# First the decoder features of 40 units of each model, the most active ones on the test set.

# %%
from IPython.display import display

from course_utils.plots import images_figure
from course_utils.sparse import decoder_images

for name in ("no penalty", "KL"):
    busiest = codes[name].mean(dim=0).argsort(descending=True)[:40]  # (40,) unit indices
    fig = images_figure(decoder_images(models[name], busiest.tolist()), ncols=10, vmin=0, vmax=1,
                      title=f"{name}: decoder features of the 40 most active units")
    for ax in fig.axes:
        for im in ax.images:
            im.set_cmap("RdBu_r")
    display(fig)

# %% [markdown]
# Red is what the unit paints in, blue what it removes. Compare the two grids yourself: is each
# feature pixel noise, or a smooth template (a part, or a whole typical shape)? One number
# helps: the correlation between each feature and itself shifted by one pixel (near 1 for a
# smooth template, near 0 for pixel noise), averaged over the units.

# %%
smoothness = {}
for name in ("no penalty", "KL"):
    w = models[name].decoder.weight.detach().cpu().T.reshape(-1, 28, 28)  # (1024, 784) -> (1024, 28, 28)
    a, b = w[:, :, :-1].flatten(1), w[:, :, 1:].flatten(1)  # each pixel and its right neighbour
    a, b = a - a.mean(1, keepdim=True), b - b.mean(1, keepdim=True)
    smoothness[name] = ((a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1))).mean().item()
    print(f"{name:>10}: mean neighbour correlation of the decoder features {smoothness[name]:.2f}")
print("KL features smoother than the unpenalised ones:", smoothness["KL"] > smoothness["no penalty"])

# %% [markdown]
# The last line says whether the sparse model's features came out smoother, closer to
# templates than to noise. What the templates show depends on the data that was loaded (the
# first cell says which; on Fashion-MNIST they are often whole garment shapes rather than small
# parts) and, in fast mode, on very short training.
#
# Now single units in detail: the feature, the eight test images that excite the unit most
# (with their activations), and the histogram of the unit's activations over all test images.

# %%
from course_utils.sparse import unit_figure, unit_view

kl_units = codes["KL"].mean(dim=0).argsort(descending=True)[:3].tolist()
for unit in kl_units:
    display(unit_figure(models["KL"], codes["KL"], x_test, unit))

# %% [markdown]
# ### Unit picker
#
# Choose any of the 1,024 units of the KL model. Look at its histogram (does it hug zero?) and
# ask whether its top images share one visible trait. Then try the L1 model,
# `unit_view(models["L1"], codes["L1"], x_test)`: for its nearly dead units (counted in
# section 4) the "top" images have activations close to zero, a reminder to read the numbers,
# not just the pictures.

# %% tags=["nbval-ignore-output"]
unit_view(models["KL"], codes["KL"], x_test, unit=kl_units[0])

# %% [markdown]
# ## 6. A relative: the contractive autoencoder
#
# A **contractive autoencoder** (Rifai et al. 2011) asks for a code that changes little when the
# input changes a little. It penalises the squared Frobenius norm of the encoder's Jacobian,
#
# $$ \Omega_{C}(x) = \Big\| \frac{\partial h}{\partial x} \Big\|_F^2
#    = \sum_{j}\sum_{i} \Big(\frac{\partial h_j}{\partial x_i}\Big)^2 . $$
#
# For a sigmoid layer $h = \sigma(Wx + b)$ it has a closed form. Since $\sigma' = \sigma(1 -
# \sigma)$, $\partial h_j / \partial x_i = h_j (1 - h_j) W_{ji}$, and so
#
# $$ \Omega_C(x) = \sum_j \big(h_j (1 - h_j)\big)^2 \sum_i W_{ji}^2 , $$
#
# one matrix-vector product instead of a $K \times D$ Jacobian per image. Let us check it
# against `torch.autograd` on a small encoder (6 inputs, 4 units, double precision).

# %%
from course_utils.sparse import contractive_penalty_per_image, jacobian_frobenius_autograd

torch.manual_seed(0)
small = SparseAutoencoder(n_inputs=6, n_code=4).double()
x_small = torch.rand(3, 6, dtype=torch.float64)  # 3 inputs
closed = contractive_penalty_per_image(small.encode(x_small), small.encoder.weight)
reference = jacobian_frobenius_autograd(small.encode, x_small)  # full Jacobians, squared, summed
print("closed form:", closed.detach().numpy().round(6))
print("autograd:   ", reference.detach().numpy().round(6))
print(f"largest difference: {(closed - reference).abs().max().item():.2e}")

# %% [markdown]
# The two agree to rounding error. The factor $h_j(1 - h_j)$ reveals a link with sparsity: it
# is largest (1/4) at $h_j = 0.5$ and vanishes when a unit is firmly off or on. A sparse code
# whose units sit near 0 for most images is therefore already contractive there. We can measure
# that on the three models trained above, with the closed form:

# %%
jac = {name: contractive_penalty_per_image(codes[name], model.encoder.weight.detach().cpu()).mean().item()
       for name, model in models.items()}  # mean ||J||_F^2 over the test images
for name, value in jac.items():
    print(f"{name:>10}: mean ||J||_F^2 over the test images {value:.2f}")
print("both sparse models less sensitive than the unpenalised one:",
      jac["L1"] < jac["no penalty"] and jac["KL"] < jac["no penalty"])

# %% [markdown]
# The last line says whether the sparse models came out less sensitive to small input changes
# than the unpenalised one, although nothing in their loss asked for it. When they do, the
# reason is the factor $h_j(1-h_j)$: most of their units sit near 0, where the sigmoid is flat.
#
# A contractive autoencoder is trained exactly like the sparse ones: `SparseObjective("contractive",
# weight)` adds the mean of this penalty to the reconstruction loss (try it: add
# `"contractive": ("contractive", 0.1)` to `RUNS` in section 3 and run the cells again). The
# reconstruction term wants the code to follow every change of the input; the penalty wants it
# to follow none. The compromise is a code that is sensitive only along the directions in which
# the training images actually vary, the data manifold of lesson 04.
#
# ## 7. The five classic autoencoder families
#
# | family | what stops it from copying the input | the extra term in the loss | what it gives you | lesson |
# |---|---|---|---|---|
# | undercomplete | a code smaller than the input ($k < D$) | none | compression; PCA when linear | 01-03 |
# | sparse | few units active per image (code may be overcomplete) | $\lambda \sum_j \lvert h_j\rvert$ or $\beta \sum_j \mathrm{KL}(p \,\Vert\, \hat q_j)$ | readable, part-like features | 05 |
# | contractive | a code insensitive to small input changes | $\lambda \lVert \partial h / \partial x \rVert_F^2$ | robust features, local manifold directions | 05 |
# | denoising | the input is corrupted, the target is clean | none (the corruption is the regulariser) | denoisers; the score $\nabla \log p(x)$ | 04 |
# | variational | a noisy code pulled towards a prior $\mathcal N(0, I)$ | $\mathrm{KL}(q(z \mid x) \,\Vert\, p(z))$ | a generative model: sample new images | 06-07 |
#
# The sparse, contractive and denoising autoencoders are three ways of saying the same thing:
# *a good code is one that ignores what does not matter*. The variational autoencoder adds a
# probabilistic reading that makes the code space something you can sample from, and is the
# subject of the next two lessons. (Note the two different KLs: here it compares firing rates of
# single units; in a VAE it compares whole distributions over codes.)
#
# > **Common mistakes**
# > - *Applying the KL penalty to single activations.* $\hat q_j$ is a unit's mean over the
# >   batch; applying $\mathrm{KL}(p \,\|\, h_j)$ to every activation forces every image to light
# >   every unit at level $p$, a dense code.
# > - *Feeding ReLU codes to the Bernoulli KL.* The KL needs rates in $(0, 1)$; a ReLU output of 3
# >   is not a probability. Use sigmoid codes (as here), or use the L1 penalty with ReLU codes.
# > - *Reading sparsity off the mean alone.* A mean of $p$ is also reached when every unit fires
# >   weakly for every image, or when a few units fire always and the rest never. Look at the
# >   histograms and at dead units too.
# > - *Forgetting the loss convention when copying a penalty weight.* Our reconstruction loss is
# >   a sum over 784 pixels, 784 times a per-pixel mean; a penalty weight copied from code that
# >   uses the per-pixel mean is therefore 784 times too WEAK here (multiply it by 784).
# > - *Calling both L1s the same thing.* $|q - p|$ in the cost figure is a distance between a
# >   unit's rate and a target; the L1 activity penalty $\sum_j |h_j|$ has no target. And on
# >   sigmoid codes the activity penalty never makes a unit exactly 0.
# > - *An overcomplete code with no constraint.* Section 4 shows the result: a dense code whose
# >   units mean nothing on their own.
#
# ## Summary
#
# - An overcomplete code ($K = 1024 > D = 784$) has no bottleneck; a sparsity penalty makes its
#   units specialise, each firing for few images.
# - The L1 activity penalty pushes every activation towards 0 (on sigmoid codes the push fades
#   as $h \to 0$, and no code is exactly 0); the Bernoulli KL penalty
#   $\sum_j \mathrm{KL}(p \,\|\, \hat q_j)$ pushes each unit's mean activation towards a target
#   $p$, is zero exactly there, and grows without bound at 0 and 1.
# - Check sparsity on test data: the mean activation against the target, histograms, and the
#   units themselves (top-activating images, decoder features).
# - The contractive penalty is $\lVert \partial h / \partial x \rVert_F^2$; for a sigmoid layer it
#   is $\sum_j (h_j(1-h_j))^2 \lVert W_j \rVert^2$, which autograd confirms.
# - Undercomplete, sparse, contractive, denoising and variational autoencoders differ in what
#   stops them from copying the input.

# %% [markdown]
# ## Exercise
#
# [Exercise 05](../exercises/05_sparse_autoencoders.ipynb) [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ae-course/autoencoders-pca-to-vae/blob/main/exercises/05_sparse_autoencoders.ipynb)
#
# In the exercise you implement the Bernoulli KL sparsity penalty and the L1 activity penalty
# yourself, and a check cell after each task tells you what is wrong.

# %% [markdown]
# ## Quiz
#
# Check your understanding, in English or Vietnamese; every answer comes with an explanation.

# %% tags=["nbval-ignore-output"]
from course_utils.quiz import show_quiz

show_quiz("05_sparse_autoencoders")

# %% [markdown]
# Next: [06 · Variational autoencoders](06_variational_autoencoders.ipynb).
