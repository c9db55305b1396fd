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
# # 05 · Sparse autoencoders
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ae-course/autoencoders-pca-to-vae/blob/main/notebooks/05_sparse_autoencoders.ipynb)
#
# **English** · [Tiếng Việt](vi/05_sparse_autoencoders.ipynb)
#
# Lessons 01 to 03 stopped the autoencoder from copying with a narrow bottleneck; lesson 04 did
# it by damaging the input. This lesson goes the other way: we give the code **more** numbers
# than the image has pixels, and instead ask that most of them stay **quiet** for any one
# image. Each code unit is then free to specialise in one pattern, and an image is described
# by which of the patterns it contains. What patterns the units learn, and how few of them an
# image really uses, the lesson measures instead of promising.
# We also ask whether sparse units are easier to name than dense ones, with a measure, and
# compare every model with the linear baseline of lesson 01, PCA. We compare
# three ways of asking for sparsity (two penalties, and a hard top-k rule that modern sparse
# autoencoders use), measure what each costs, and end with a relative, the contractive
# autoencoder, and a table of the five classic autoencoder families.
#
# **Learning objectives.** After this lesson you can
# 1. explain why an overcomplete code (more units than inputs) needs a constraint, and what a
#    sparsity constraint buys;
# 2. write the L1 activity penalty (no target: it pulls every activation towards 0) and the
#    Bernoulli KL sparsity penalty $\sum_j \mathrm{KL}(p \,\|\, \hat q_j)$, say how the KL's cost
#    grows as a unit's mean activation moves away from the target $p$, and why the KL penalty is
#    a statistic of a whole batch;
# 3. train sparse autoencoders with each penalty and with a top-k code, and read the price of
#    sparsity: reconstruction error (also against PCA), and units that are never on (dead
#    units); tell a unit's mean activation from the share of activations that are "on";
# 4. find out what single units respond to, from their top-activating images and their decoder
#    weights;
# 5. write the contractive penalty (the Frobenius norm of the encoder's Jacobian), derive its
#    closed form for a sigmoid layer, check it against autograd, and measure in which
#    directions a trained encoder is sensitive;
# 6. tell apart the five classic autoencoder families.

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
DATASET = "fashion_mnist"  # try "mnist": every cell below works with either

# %% [markdown]
# **Which data, and why.** We ask for Fashion-MNIST again: ten kinds of garment with typical
# shapes, and regions that several kinds share (sleeves, soles, collars), so that a unit could
# specialise in a whole shape or in a region; section 7 looks at which it does. With
# `"mnist"` the units could specialise in pen strokes or whole digits.
# The cell prints what was actually loaded: without the real data the course falls back to a
# small embedded set of digits, and every figure below is then about those digits.

# %%
from course_utils.data import load_dataset

data = load_dataset(DATASET, seed=course.seed)
N_TRAIN = course.pick(full=16_000, fast=2_000)  # at most this many training images
x_train, x_test = data.train.x[:N_TRAIN], data.test.x  # (N, 1, 28, 28), values in [0, 1]
print(f"{data.name} (embedded fallback: {data.is_fallback}): training on {len(x_train):,} images, "
      f"testing on {len(x_test):,}")

# %% [markdown]
# We train on at most 16,000 training images (in full mode): this lesson trains ten models,
# and, as everywhere in the course, its budget is counted in optimizer steps (section 3), not
# in passes over a fixed number of distinct images.
#
# ## 1. An overcomplete code needs a constraint
#
# Our model has a single hidden layer of $K$ sigmoid units,
#
# $$ h = \sigma(W x + b) \in (0, 1)^K, \qquad \hat x = \sigma(W_d h + b_d), $$
#
# and we choose $K = 1024$, **larger** than the $D = 784$ pixels, and 16 to 512 times the codes
# of 2 to 64 numbers used in lessons 01 to 03. Why so wide?
#
# - *It removes the bottleneck on purpose.* With $K \ge D$ nothing in the architecture stops
#   the network from passing the image through almost unchanged: it *can* copy. Whether
#   training makes it copy is another question, which section 4 tests by showing the trained
#   models images of pure noise. Whatever structure the code ends up with comes from the data
#   and the constraint, not from the width, which is the point of this lesson.
# - *A wide code is a large dictionary of patterns.* With many units, each one can stand for one
#   pattern, and an image is built from few of them (how few, section 4 measures): a sparse
#   code. (Olshausen and
#   Field 1996 showed that sparse coding of natural image patches yields localised, oriented
#   filters that resemble the receptive fields of simple cells in the visual cortex; a
#   resemblance, not an explanation of the cortex.)
# - *Sparse codes may be easier to read.* A unit that is on for few images might be understood
#   by looking at those images; a unit that is a little on for everything cannot. This is a
#   hope, not a theorem: section 7 measures it, and the answer depends on the penalty.
#
# The constraint: each unit should be **quiet for most images**. The KL penalty of section 2
# states it through one number per unit, its **mean activation** over the images, and a target
# for that mean, here $p = 0.05$. A mean is not a count. A sigmoid unit is never exactly off, so
# a mean of 0.05 can come from a unit fully on ($h \approx 1$) for 5% of the images and off for
# the rest, from a unit at $h = 0.05$ for every image, or from anything between. So $p$ is a
# target **mean activation**, not "on for 5% of the images". Which of these the trained models
# do, section 4 measures: next to each model's mean activation it prints its **on-share**, the
# share of activations above 0.1.
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
# penalty acts on the code $h$, which the flow diagram shows for a batch of $B$ images. Its
# printout lists only the two linear layers: the sigmoids are applied inside `encode` and
# `decode` as functions (`torch.sigmoid`), not stored as layers, so `print` does not show them.

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
# never exactly 0, so this penalty makes units *small*, never exactly off. (On a ReLU code, L1
# does give exact zeros: the ReLU outputs 0 for every negative input. On a linear code it gives
# none either when trained with plain gradient or Adam steps, which overshoot 0 back and forth;
# exact zeros there need a proximal step that sets small values to 0, as in ISTA.) Measured:

# %%
a = torch.tensor([0.0, -2.0, -5.0, -10.0], requires_grad=True)  # pre-activations
torch.sigmoid(a).sum().backward()  # d(sum_j |h_j|) / da_j, with h_j > 0
for a_j, h_j, grad in zip(a.tolist(), torch.sigmoid(a).tolist(), a.grad.tolist(), strict=True):
    print(f"a = {a_j:>5}: h = {h_j:.5f}, L1 push on a = {grad:.5f}")

# %% [markdown]
# **Bernoulli KL penalty.** Its formula is borrowed from coins. Take $\hat q_j$, unit $j$'s
# **mean activation over the batch**, read it *as if* it were the probability that a coin comes
# up "on", and compare that coin with one whose probability is the target $p$. It is only a
# reading: an activation is a graded value in $(0, 1)$, not an on/off event, and $\hat q_j$ is
# a mean, not the share of images for which the unit is on. The penalty:
#
# $$ \hat q_j = \frac1B \sum_{b=1}^{B} h_j(x_b), \qquad
#    \Omega_{KL} = \sum_{j=1}^{K} \mathrm{KL}(p \,\|\, \hat q_j)
#    = \sum_{j} \Big[ p \log\frac{p}{\hat q_j} + (1-p) \log\frac{1-p}{1-\hat q_j} \Big]. $$
#
# It is zero exactly when every unit's batch mean equals $p$, and positive otherwise. It
# constrains each unit's **average over the images of a batch**, not each activation: one image
# may switch a unit fully on as long as most images do not. So it is **one number per batch**,
# made from the batch's mean activations; no single image owns a share of it. The package's
# name says so: `kl_sparsity_penalty_per_batch` (that function and `bernoulli_kl` are the same
# two lines, plus a clamp that keeps the logarithms finite):

# %%
from course_utils.sparse import bernoulli_kl, kl_sparsity_penalty_per_batch

h = torch.tensor([[0.9, 0.0, 0.1], [0.0, 0.1, 0.1]])  # (B=2 images, K=3 units)
q_hat = h.mean(dim=0)  # (K,): each unit's mean activation, here 0.45, 0.05, 0.10
by_hand = (TARGET * (TARGET / q_hat).log() + (1 - TARGET) * ((1 - TARGET) / (1 - q_hat)).log()).sum()
print(f"by hand {by_hand:.4f} | kl_sparsity_penalty_per_batch {kl_sparsity_penalty_per_batch(h, TARGET):.4f}")
print("per unit:", bernoulli_kl(TARGET, q_hat).numpy().round(4), "(unit 1 is exactly on target)")

# %% [markdown]
# **A batch statistic is a noisy estimate.** What we would like to penalise is each unit's
# mean activation over *all* images; a batch gives only an estimate $\hat q_j$ of it, and
# plugging an estimate into the KL costs something extra. Take units whose mean over all images
# is exactly the target, in the most extreme way: each is an on/off coin, $h = 1$ with
# probability $p = 0.05$ and 0 otherwise (so the ideal penalty is 0), and look at the penalty
# batches of different sizes report. For such coins the expected penalty can also be computed
# exactly: a batch of $B$ images holds $n$ "on" images with the binomial probability
# $\binom{B}{n} p^n (1-p)^{B-n}$, and then $\hat q_j = n / B$, so the expectation is
# $K \sum_{n=0}^{B} \binom{B}{n} p^n (1-p)^{B-n}\, \mathrm{KL}(p \,\|\, n/B)$ (with the code's
# clamp at $n = 0$).

# %%
g = torch.Generator().manual_seed(0)
on_target = (torch.rand(8192, N_CODE, generator=g) < TARGET).float()  # (8192, 1024): on/off coins, mean p
coin_bias = {}  # batch size -> exact expected penalty of on/off coins at p
for batch in (16, 128, 1024):
    per_batch = [kl_sparsity_penalty_per_batch(part, TARGET).item() for part in on_target.split(batch)]
    n_on = torch.arange(batch + 1, dtype=torch.float64)  # (B + 1,) how many of the B images are "on"
    chance = torch.distributions.Binomial(batch, torch.tensor(TARGET, dtype=torch.float64)).log_prob(n_on).exp()
    coin_bias[batch] = N_CODE * (chance * bernoulli_kl(TARGET, n_on / batch)).sum().item()
    print(f"batches of {batch:>4}: mean penalty {sum(per_batch) / len(per_batch):7.2f} | exact expectation "
          f"{coin_bias[batch]:7.2f} | quadratic rule K / (2B) = {N_CODE / (2 * batch):6.2f}   (ideal: 0)")
weak = torch.full((8192, N_CODE), TARGET)  # every unit at exactly p for every image: no wobble
print("the same mean reached by sitting at h = p for every image: mean penalty",
      ", ".join(f"{abs(kl_sparsity_penalty_per_batch(weak[:batch], TARGET).item()):.2f}" for batch in (16, 128, 1024)))

# %% [markdown]
# Every batch mean wobbles around $p$, and since the KL is zero only *at* $p$, every wobble is
# charged: the plug-in estimate is **biased upwards**, the more so the smaller the batch. The
# measured means agree with the exact expectation (the binomial sum) up to sampling noise. The
# quick rule $K/(2B)$ keeps only the quadratic part of the KL near $p$,
# $(q-p)^2 / (2p(1-p))$, with each unit's batch mean of variance $p(1-p)/B$; compare it with
# the exact column. It undershoots, the more so the smaller the batch, for two reasons: the KL
# rises more steeply below $p$ than above it (the asymmetry of the figure below), and a unit
# silent in a whole batch is charged at the clamp as if it were dead (this happens to
# $0.95^{16} \approx 44\%$ of the units in a batch of 16, and to $0.95^{128} \approx 0.14\%$ in a
# batch of 128). Only for large batches does the rule become accurate. Our runs use batches
# of 128. Keep two consequences in mind. A weight $\beta$ tuned at one batch size means
# something else at another. And the penalty also charges this batch-to-batch wobble, not only
# a wrong mean activation. The wobble depends on *how* a unit reaches its mean: the coins above
# (fully on for 5% of the images) wobble most, while units at the same mean $p$ that sit at
# $h = p$ for every image do not wobble at all, and the last line shows they pay nothing at any
# batch size. So this extra part of the penalty rewards the weak, everywhere-on activity that
# sparsity is meant to avoid. (What it does to a trained model we measure in section 4, from
# the spread of the
# model's own codes.)
#
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
# unit that has gone nearly silent. (2) Close to the target the KL is quadratic,
# $\mathrm{KL} \approx (q-p)^2 / (2p(1-p))$, about ten times the squared distance for
# $p = 0.05$: a firm but smooth pull. The L1 *activity* penalty of the first paragraph is a
# different thing again: it pulls every activation towards 0, not towards $p$. (3) Towards
# $q \to 0$ or $q \to 1$ the KL grows without bound (the code's clamp at $q = 10^{-6}$ caps it).
# But a cost is not a push. The derivative in $q$,
# $\partial\, \mathrm{KL}(p \,\|\, q) / \partial q = -p/q + (1-p)/(1-q)$, also grows without bound
# as $q \to 0$; the weights, however, see the gradient with respect to the pre-activations
# $a_{bj}$ of the batch's images, and $\hat q_j$ depends on them through the sigmoid slopes
# $h(1-h)$, which vanish as the unit falls silent. When every image of the batch gives the unit
# the same activation $q$, the two cancel exactly: summed over the batch, the push on the
# pre-activations is $\big(p/q - (1-p)/(1-q)\big)\, q(1-q) = p - q$, never more than $p$ (times
# the weight $\beta$). And below the clamp the code evaluates the KL at the constant $10^{-6}$,
# so the push there is exactly 0. Measured with autograd, for one unit and a batch of 128:

# %%
for a0 in (-1.0, -3.0, -6.0, -10.0, -16.0):
    a = torch.full((128, 1), a0, requires_grad=True)  # one unit, the same pre-activation for 128 images
    kl_sparsity_penalty_per_batch(torch.sigmoid(a), TARGET).backward()
    q = torch.sigmoid(torch.tensor(a0)).item()
    print(f"a = {a0:>5}: q = {q:.1e}, dKL/dq = {-TARGET / q + (1 - TARGET) / (1 - q):>10.1f}, "
          f"push on a, summed over the batch {-a.grad.sum().item() + 0.0:.4f} (p - q = {TARGET - q:.4f})")

# %% [markdown]
# So the KL pushes a silent unit back up with a bounded force that tends to $\beta p$, where
# the L1 penalty's push fades to 0 (first cell of this section); once a unit's batch mean is
# below the clamp, nothing pushes it. Whether the KL penalty keeps the units of a trained model
# alive, section 4 counts.
#
# ## 3. Training overcomplete autoencoders with each penalty
#
# Same architecture, same data, same initial weights, same budget; only the penalty differs:
#
# 1. no penalty at all;
# 2. the L1 activity penalty, at three weights $\lambda = 0.02, 0.05, 0.1$;
# 3. the KL penalty with target mean activation $p = 0.05$, at three weights $\beta = 0.3, 1, 3$.
#
# **A fair comparison needs a common level of sparsity.** The L1 penalty has no target: its
# weight alone sets how sparse the code becomes. The KL penalty has a target, but how close a
# unit gets to it depends on its weight too. A penalty that looks cheap may simply be weak,
# and one that looks expensive may be set stronger than it needs to be. So we sweep both
# weights, and for the comparisons below we keep **the matched pair**: the L1 run and the KL
# run whose mean activations on the training batches of the last epoch are closest to each
# other. A cell after training prints how close they came, against a tolerance of 10%: only
# when they are within it do the two models have the same mean activation. (The two sweeps
# also give the figure of section 6.)
#
# `SparseObjective` in `course_utils.sparse` is the objective for `fit`: the reconstruction
# loss (squared error summed over pixels per image, averaged over the batch: the course's
# convention) plus the weighted penalty, and it logs both parts and the mean activation. The
# L1 penalty is per image too (summed over units, averaged over the batch); the KL penalty is
# the one number per batch of section 2. The budget is set in optimizer steps (about 500 steps
# of 128 images per model in full mode), so a smaller training set gets more epochs, not less
# training. `StepLog` (from `course_utils.curves`) records the logged terms every
# `LOG_EVERY` steps, so that we get learning curves of about ten points however many epochs
# that is. Written out for one batch and checked against the package first:

# %%
from course_utils.sparse import SparseObjective

torch.manual_seed(0)
net = SparseAutoencoder(784, N_CODE)
xb = x_train[:128]  # one batch, (128, 1, 28, 28)
hb = net.encode(xb)  # (128, 1024)
recon = (net.decode(hb).view_as(xb) - xb).pow(2).flatten(1).sum(dim=1).mean()  # SSE per image, batch mean
l1_by_hand = recon + 0.05 * hb.abs().sum(dim=1).mean()  # L1: sum over units per image, batch mean
q_batch = hb.mean(dim=0)  # (1024,) each unit's mean over the batch
kl_by_hand = recon + 0.3 * (TARGET * (TARGET / q_batch).log()
                            + (1 - TARGET) * ((1 - TARGET) / (1 - q_batch)).log()).sum()  # one number per batch
for (penalty, weight), by_hand in ((("l1", 0.05), l1_by_hand), (("kl", 0.3), kl_by_hand)):
    package, _ = SparseObjective(penalty, weight, target=TARGET)(net, (xb,))
    print(f"{penalty} weight {weight}: loss by hand {by_hand.item():.4f} | SparseObjective {package.item():.4f}")

# %%
import math

from course_utils.curves import StepLog
from course_utils.sparse import codes_of
from course_utils.train import fit

RUNS = {"no penalty": (None, 0.0), "L1 0.02": ("l1", 0.02), "L1 0.05": ("l1", 0.05), "L1 0.1": ("l1", 0.1),
        "KL 0.3": ("kl", 0.3), "KL 1": ("kl", 1.0), "KL 3": ("kl", 3.0)}  # name: (penalty, weight)
STEPS = course.pick(full=500, fast=32)  # optimizer steps per model
EPOCHS = max(2, round(STEPS / math.ceil(len(x_train) / 128)))
LOG_EVERY = max(1, STEPS // 10)  # a point of the learning curves every this many steps
models, histories, logs = {}, {}, {}
for name, (penalty, weight) in RUNS.items():
    torch.manual_seed(0)  # the same initial weights for every model
    models[name] = SparseAutoencoder(784, N_CODE).to(course.device)
    logs[name] = StepLog(SparseObjective(penalty, weight, target=TARGET), every=LOG_EVERY)
    histories[name] = fit(models[name], x_train, objective=logs[name], epochs=EPOCHS, batch_size=128,
                          lr=3e-3, verbose=False)
    means = logs[name].column("mean_activation")
    print(f"{name:>10}: mean activation on the training batches, first {LOG_EVERY} steps {means[0]:.4f} -> "
          f"last {LOG_EVERY} steps {means[-1]:.4f}")

# %% [markdown]
# The learning curves of the seven runs: the reconstruction term (left) and the mean
# activation over the batch's images and units (right), both on log scales, each point
# averaged over `LOG_EVERY` training batches.

# %%
from course_utils.curves import curves_figure, late_slope

fig = curves_figure(logs, keys=("recon", "mean_activation"), logy=("recon", "mean_activation"),
                    title=f"{data.name}: training curves, {EPOCHS} epochs of {len(x_train):,} images ({course.mode} mode)")
fig.axes[0].set_ylabel("squared error per image (training)")
fig.axes[1].set_ylabel("mean activation (training batches)")
fig

# %%
falling = [name for name, log in logs.items()
           if late_slope(log.column("recon"), log.column("step")) < 0]  # fmt: skip
print(f"reconstruction term still falling over the last half of training: {falling or 'none'} "
      f"({len(falling)} of {len(logs)} runs)")
for name, log in logs.items():
    half = len(log.column("step")) // 2  # the last half of training
    steps = torch.tensor(log.column("step")[half:], dtype=torch.float64)  # (P,)
    late = torch.tensor(log.column("mean_activation")[half:], dtype=torch.float64)  # (P,) one point per LOG_EVERY steps
    design = torch.stack([steps - steps.mean(), torch.ones_like(steps)], dim=1)  # (P, 2): a straight line
    fit_line = torch.linalg.lstsq(design, late[:, None]).solution[:, 0]  # slope, intercept
    residual = late - design @ fit_line
    slope_se = (residual.pow(2).sum() / (len(late) - 2) / (steps - steps.mean()).pow(2).sum()).sqrt()
    change = fit_line[0] * (steps[-1] - steps[0])  # the line's change over the last half
    verdict = "still moving" if abs(fit_line[0]) > 2 * slope_se else "no trend beyond the noise"
    print(f"{name:>10}: mean activation over the last half {late[0]:.4f} -> {late[-1]:.4f}; fitted line changes "
          f"by {change / late.mean():+.1%} (2 standard errors: {2 * slope_se * (steps[-1] - steps[0]) / late.mean():.1%})"
          f": {verdict}")

# %% [markdown]
# The curves say how far each run got. The first line names the runs whose reconstruction
# term was still falling over the second half of training: those models are not trained to
# the end, and a longer budget would lower their error. The other lines ask the same of the
# mean activation (right panel): a straight line is fitted to the last half of each curve, and
# a run is "still moving" when the line's slope is more than two standard errors from zero.
# "No trend beyond the noise" is weaker than "settled": with only a few points per half, a
# slow drift can hide in the noise, so read the printed change next to its two standard
# errors. A run still moving has not yet reached the sparsity its penalty would give with a
# longer budget. All runs share the same budget, so the comparisons below are
# fair between them, but they compare models after a short run, not at convergence.
#
# Now the matched pair.

# %%
train_mean = {name: histories[name].last("train_mean_activation") for name in RUNS}  # last epoch's batches


def relative_gap(a: str, b: str) -> float:
    """How far apart two runs' mean activations are, as a share of their average."""
    return abs(train_mean[a] - train_mean[b]) / ((train_mean[a] + train_mean[b]) / 2)


pairs = [(a, b) for a in RUNS if a.startswith("L1") for b in RUNS if b.startswith("KL")]
L1, KL = min(pairs, key=lambda pair: relative_gap(*pair))
MATCHED = relative_gap(L1, KL) <= 0.10
print(f"closest pair: '{L1}' (mean activation {train_mean[L1]:.4f}) and '{KL}' ({train_mean[KL]:.4f}), "
      f"{relative_gap(L1, KL):.1%} apart; within the 10% tolerance: {MATCHED}")
print(f"From here on '{L1}' is 'the L1 model' and '{KL}' is 'the KL model'.")
MAIN = ("no penalty", L1, KL)

# %% [markdown]
# When the tolerance check prints True, the two models have the same mean activation (to
# within 10%), and every difference below is a difference of *how* the penalties made the
# code sparse. When it prints False (a short run in fast mode, for example), the two models
# are not equally sparse: read the comparisons below as comparisons of two points of the
# sweeps, and trust the sweep figure of section 6 more than any single pair.
#
# ## 4. How sparse are the codes, and what did it cost?
#
# Now the test set. For each model: the reconstruction error (mean squared error per pixel),
# the mean activation over all test images and units, the **on-share** (the share of
# activations above 0.1; on average, the share of units "on" for one image), and the share of
# **dead units**: units that are above 0.1 for no test image at all. The mean activation is
# what the KL penalty's target $p$ constrains; the on-share is what "a unit is on" means in the
# rest of the lesson. The cell also splits each mean into its two sources: the activations
# above 0.1 (their share times their average value) and the many small ones below 0.1.

# %%
from course_utils.losses import mse_per_pixel
from course_utils.sparse import dead_unit_share, firing_fraction
from course_utils.train import predict

codes = {name: codes_of(model, x_test) for name, model in models.items()}  # each (N, 1024)
errors = {name: mse_per_pixel(predict(model, x_test).view_as(x_test), x_test).item()
          for name, model in models.items()}
print(f"{data.name}, {course.mode} mode, {EPOCHS} epochs on {len(x_train):,} images; test set")
print(f"{'model':>10} {'MSE/pixel':>10} {'mean act.':>10} {'act. > 0.1':>11} {'dead units':>11}")
for name in RUNS:
    print(f"{name:>10} {errors[name]:>10.4f} {codes[name].mean():>10.4f} "
          f"{firing_fraction(codes[name]):>11.1%} {dead_unit_share(codes[name]):>11.1%}")
print(f"\ntarget mean activation p = {TARGET}; each KL run's mean over the test images, and where it comes from:")
for name in RUNS:
    if name.startswith("KL"):
        h_all = codes[name]  # (N, 1024)
        mean, on = h_all.mean().item(), firing_fraction(h_all)
        from_on = (h_all * (h_all > 0.1)).mean().item()  # the part of the mean made by activations above 0.1
        print(f"{name:>10}: mean {mean:.4f} ({abs(mean - TARGET) / TARGET:.1%} from p; within 10%: "
              f"{abs(mean - TARGET) <= 0.1 * TARGET}) = {on:.1%} on-share x {from_on / max(on, 1e-12):.3f} average 'on' value "
              f"+ {mean - from_on:.4f} from activations below 0.1; on-share {on / TARGET:.1f} x p")
print(f"{L1} run: mean activation {codes[L1].mean():.4f}; smallest activation {codes[L1].min():.2e}; "
      f"exactly zero: {(codes[L1] == 0).float().mean():.1%}; below 0.01: {(codes[L1] < 0.01).float().mean():.1%}")

# %% [markdown]
# Left: a histogram of all activations (every test image, every unit; note the log scale),
# with each model's mean activation and on-share in the legend. Right: each unit's mean
# activation over the test images, one count per unit, with the target mean activation $p$
# dashed. The three models are the unpenalised one and the matched pair.

# %%
from course_utils.sparse import activations_figure

activations_figure({name: codes[name] for name in MAIN}, target=TARGET)

# %%
print(f"{'model':>10} {'units with mean < 0.001':>24} {'units within [p/2, 2p]':>23} {'units with mean > 0.5':>22}")
for name in MAIN:
    unit_mean = codes[name].mean(dim=0)  # (1024,) each unit's mean activation
    print(f"{name:>10} {(unit_mean < 1e-3).float().mean():>24.1%} {((unit_mean > TARGET / 2) & (unit_mean < 2 * TARGET)).float().mean():>23.1%} "
          f"{(unit_mean > 0.5).float().mean():>22.1%}")
print("highest test MSE of the three:", max(MAIN, key=errors.get), "| lowest:", min(MAIN, key=errors.get))
print(f"\n{'model':>14} {'units above 0.1 per image':>26} {'images a live unit is above 0.1 for':>36}")
for name in MAIN:
    on = codes[name] > 0.1  # (N, 1024)
    per_image = on.sum(dim=1).float().median().item()  # population: how many units one image uses
    lifetime = on.float().mean(dim=0)  # (1024,) share of the images each unit is on for
    print(f"{name:>14} {per_image:>19.0f} of 1,024 {lifetime[lifetime > 0].median():>30.1%} (median)")
total = codes[KL].sum(dim=1)  # (N,) total activity of each image: the sum of its 1,024 activations
print(f"{KL}: total activity per image, mean {total.mean():.1f} (K p = {N_CODE * TARGET:.1f}), "
      f"from {total.quantile(0.1):.1f} to {total.quantile(0.9):.1f} (10th to 90th percentile)")

# %% [markdown]
# **Two kinds of sparsity.** The last table measures sparsity in two directions. *Population*
# sparsity: how many units one image uses (a row of the code matrix). *Lifetime* sparsity: for
# how many images one unit is on (a column). The three constraints of this lesson aim at
# different ones. The KL penalty constrains each unit's mean over images, a lifetime quantity.
# That fixes one population number too: the units' means add up to the mean over images of
# each image's total activity, so when every unit meets the target that average is $Kp$
# (51.2; the last line prints it next to the measured mean, which is $K$ times the units'
# average mean, so it sits above $Kp$ exactly as far as the units sit above $p$ on average).
# What the penalty leaves free is how that activity is spread across images: one image may use
# many units, another few (the printed percentiles). A top-$k$ code (section 5) fixes the population count, $k$ per image,
# and with it only the average lifetime share, $k/K$, not how often each unit wins. The L1
# penalty charges total activity, the sum over both, and is indifferent to how it is shared
# out. "Sparse" in the prose of this lesson means "lower than without a constraint" in the
# column the table prints; read the numbers for how low.
#
# What to look for in the histograms and tables. Without a penalty nothing pushes activations
# down: expect a dense code. How dense, the tables say: the share of units whose mean is above
# 0.5 (first table, right column), how many units the median image uses, and for what share of
# the images the median live unit is above 0.1 (last table). The L1 penalty piles
# activations up near zero (how near, and whether any reached exactly zero, is in the last line
# printed under the MSE table, two cells up); the KL penalty pulls each unit's mean towards $p$:
# the middle column says what share of units landed within a factor 2 of it. The KL lines under
# the MSE table say how
# close each $\beta$ brought the mean over the test images to $p$ (the penalty acted on
# training batches, and a weaker $\beta$ pulls less hard), and how that mean is made. Units
# that were fully on or fully off would have an on-share equal to their mean; the printed ratio
# "on-share ... x p" says how far from that the KL models are. A ratio well above 1 means the
# target mean is reached mostly by moderate activations (the average "on" value says how
# moderate), not by 5% of the activations near 1: the KL penalty constrains the mean and
# nothing else, and the left histogram shows the spread of values it leaves. The two penalties reach their mean
# activation in different ways, and the next cell measures both prices: what the KL model
# pays in reconstruction error, and how the L1 model spends its units.

# %%
from itertools import pairwise

kl_sweep = [name for name in RUNS if name.startswith("KL")]  # weakest beta first
live = codes[L1].amax(dim=0) > 0.1  # (1024,): the L1 model's units that are on for some image
kl_all_images = kl_sparsity_penalty_per_batch(codes[KL], TARGET).item()  # unit means over all test images
kl_batches = [kl_sparsity_penalty_per_batch(part, TARGET).item() for part in codes[KL].split(128)]
print(f"matched pair (within the 10% tolerance: {MATCHED}): the {KL} model's test MSE is "
      f"{errors[KL] / errors[L1]:.2f} x the {L1} model's and {errors[KL] / errors['no penalty']:.2f} x the "
      f"unpenalised model's; the {L1} model reconstructs better: {errors[L1] < errors[KL]}")
print("KL sweep, beta", " -> ".join(name.split()[1] for name in kl_sweep), "| test MSE",
      " -> ".join(f"{errors[name]:.4f}" for name in kl_sweep), "| x the L1 model's",
      " -> ".join(f"{errors[name] / errors[L1]:.2f}" for name in kl_sweep),
      "| error higher with every step:", all(errors[a] < errors[b] for a, b in pairwise(kl_sweep)))
unit_mean = codes[L1].mean(dim=0)  # (1024,) each unit's mean activation over the test images
busy = unit_mean >= 1e-3  # units that are not near-dead
print(f"dead units (above 0.1 for none of the {len(x_test):,} test images): {L1} model "
      f"{dead_unit_share(codes[L1]):.1%}, {KL} model {dead_unit_share(codes[KL]):.1%}; the {L1} model's "
      f"{int(live.sum())} live units have mean activation {codes[L1][:, live].mean():.4f} "
      f"({codes[L1][:, live].mean() / TARGET:.1f} x p)")
print(f"   near-dead (mean below 0.001): {L1} model {(~busy).float().mean():.1%} of its units; the other "
      f"{int(busy.sum())} have mean activation {unit_mean[busy].mean():.4f} ({unit_mean[busy].mean() / TARGET:.1f} x p); "
      f"more near-dead than dead units: {(~busy).float().mean().item() > dead_unit_share(codes[L1])}")
print(f"   the near-dead count depends on its threshold: {L1} model's units with mean below "
      + ", ".join(f"{t:g}: {(unit_mean < t).float().mean():.1%}" for t in (1e-4, 1e-3, 1e-2)))
gap = sum(kl_batches) / len(kl_batches) - kl_all_images
q_unit, var_unit = codes[KL].mean(dim=0), codes[KL].var(dim=0)  # (1024,) each unit's mean and variance
curvature = TARGET / q_unit**2 + (1 - TARGET) / (1 - q_unit) ** 2  # (1024,) d^2 KL(p || q) / dq^2 at q_j
predicted = (0.5 * curvature * var_unit / 128).sum().item()  # section 2's rule with the units' real spread
print(f"KL penalty of the {KL} model's test codes: from the unit means over all {len(x_test):,} images "
      f"{kl_all_images:.2f}; averaged over batches of 128: {sum(kl_batches) / len(kl_batches):.2f}; gap {gap:.2f}")
print(f"   spread of the trained units: Var(h_j) / (q_j (1 - q_j)) = {(var_unit / (q_unit * (1 - q_unit))).mean():.2f} "
      f"on average (1 for on/off coins); gap predicted from it: {predicted:.2f}, {predicted / gap:.0%} of the measured "
      f"gap\n   on/off coins at p pay {coin_bias[128]:.2f} in batches of 128 (section 2, exact); the trained model's "
      f"gap is smaller: {gap < coin_bias[128]}")

# %% [markdown]
# Read the lines against each other.
#
# - **What the KL penalty costs in reconstruction.** The first line compares the matched
#   pair: at (close to) the same mean activation, it says which model reconstructs better and
#   by what factor. The second line shows why a single $\beta$ would not settle the question:
#   the KL model's error depends on how hard $\beta$ pulls, and the line says whether it rose
#   at every step of the sweep. So "the price of the KL penalty" is a price at a given
#   $\beta$: a strong $\beta$ makes it look large, and a fair comparison reads it at the
#   matched pair. The tables of this section show how differently the two models spend the
#   same mean activation: the column "within $[p/2, 2p]$" gives the share of each model's units
#   near $p$, and the near-dead line below how many units the L1 model leaves nearly silent.
#   These runs do not isolate which difference causes the difference in error; they only show
#   that the same mean activation can be spent in different ways.
# - **What the L1 penalty costs: units.** The third line counts the dead units of both
#   models. The L1 penalty only counts total activity, not which units carry it, so it may let
#   part of the units die while the survivors' mean activation rises above $p$ (the line gives
#   it). Its 1,024 units are then effectively fewer. Whether concentrating the activity on
#   fewer, busier units is what lets the L1 model reconstruct better (when the first line says
#   it does), these runs do not test. The next line adds the near-dead units, whose mean
#   activation over the test images is below 0.001, and the mean of the rest, which is the
#   activity of the units that do the work; its verdict says whether the near-dead count adds
#   units to the dead count in this run. The threshold 0.001 is a convention: silent units do
#   not all sit at one value, and the line after it prints the count at three thresholds, ten
#   times apart, so you can see how much it depends on the choice. How many die depends on
#   the run: a short run (fast mode) may have killed none yet. And "dead" depends on how
#   many test images we look at (a unit on for one image in 5,000 is dead on a test set of
#   1,000), so dead shares are comparable only between runs on the same test set, not between
#   full mode, fast mode and the fallback.
# - **Part of the KL penalty the model trained against is batch noise.** The next line
#   compares the penalty computed from the unit means over the whole test set with its average
#   over batches of 128, the size used in training: the gap is the upward bias of section 2, on
#   the trained model's own codes. The next line puts the units' measured spread into the
#   section-2 rule (half the KL's curvature at $q_j$ times the variance of a batch mean, summed
#   over units); the closer its percentage is to 100%, the better this rule accounts for the
#   bias. Expect agreement in size, not to the percent: the rule keeps only the quadratic part
#   of the KL (section 2 showed what that misses for coins), and it treats the batches as
#   independent draws from the test set. The last line compares the gap with what on/off
#   coins at $p$ pay in batches of 128 (section 2's exact value) and says whether it is
#   smaller. It can be: a trained unit may vary less than a coin with the same mean, since its
#   activations are graded, not 0 or 1, and the variance of its batch mean is
#   $\mathrm{Var}(h_j)/B$, not $q_j(1-q_j)/B$ (the ratio of the two is printed on the spread
#   line, 1 for coins). Its mean need not be $p$ either, which changes the curvature the
#   wobble meets. These lines measure the penalty, not the reconstruction error: how much of
#   the KL model's higher error the noise causes is not separated here.
#
# **A linear baseline.** How good are these reconstruction errors in the first place? Lesson
# 01's PCA, fitted to the same training images, is the best *linear* code of $k$ numbers per
# image. For each model the cell finds the smallest $k$ for which PCA is at least as accurate
# on the test images, and prints it next to the number of units the model has on (above 0.1)
# for the median test image.

# %%
from course_utils.pca import PCA, errors_for_every_k

pca = PCA(784).fit(x_train.flatten(1))  # lesson 01's PCA, on the same training images
pca_mse = (errors_for_every_k(pca, x_test.flatten(1)) / 784).float()  # (784,) test MSE/pixel for k = 1..784
print(f"{'model':>10} {'MSE/pixel':>10} {'PCA as accurate from k =':>25} {'units on, median image':>23}")
for name in RUNS:
    k_match = int((pca_mse <= errors[name]).float().argmax()) + 1  # the smallest such k (PCA-784 is exact)
    used = (codes[name] > 0.1).sum(dim=1).float().median().item()
    print(f"{name:>10} {errors[name]:>10.4f} {k_match:>18} ({pca_mse[k_match - 1]:.4f}) {used:>16.0f} of 1,024")
beaten = [name for name in RUNS if pca_mse[N_CODE // 16 - 1] <= errors[name]]
print(f"PCA with {N_CODE // 16} components: test MSE/pixel {pca_mse[N_CODE // 16 - 1]:.4f}; as accurate as "
      f"{len(beaten)} of the {len(RUNS)} autoencoders: {beaten or 'none'}")

# %% [markdown]
# Read the table row by row: a small $k$ means that a linear code of $k$ numbers reconstructs
# the test images as well as that model's 1,024 sigmoid units; compare $k$ with the number of
# units the model has on for one image. The last line fixes $k = 64$ and names the
# autoencoders PCA is at least as accurate as. Where $k$ is well below the units on, these
# overcomplete networks (one layer, a short budget: section 3 said whether their curves had
# flattened) are worse *compressors* than PCA, and a penalised row with a smaller $k$ than the
# unpenalised one has lost ground to PCA through its sparsity. Compression is not what a
# sparse code is for. It offers a different kind of code: non-negative, mostly near zero for
# any one image, with units that can be looked at one by one (section 7), where PCA's $k$
# numbers are all non-zero for every image and its directions are not garment shapes (lesson
# 01). Whether that makes the units easier to name, section 7 measures.
#
# **Does an unconstrained wide code copy its input?** Section 1 said it *can*. A network that
# had learned to pass any image through would rebuild images of pure noise about as well as
# garments. The cell shows every model 1,000 images of uniform noise in $[0, 1]$, which none
# saw in training, and compares the error with two references: the model's own test error, and
# the error of answering 0.5 for every pixel, $1/12 \approx 0.083$ for uniform noise. A model
# that ignores its input and answers a constant $c$ gets $1/12 + (c - 0.5)^2$: it can do this
# well without looking at the input, and no better.

# %%
noise_images = torch.rand(1000, 1, 28, 28, generator=torch.Generator().manual_seed(0))  # uniform in [0, 1]
noise_err = {name: mse_per_pixel(predict(model, noise_images).view_as(noise_images), noise_images).item()
             for name, model in models.items()}  # fmt: skip
print(f"uniform noise, {len(noise_images):,} images: answering 0.5 for every pixel gives MSE/pixel {1 / 12:.4f}")
for name in RUNS:
    print(f"{name:>10}: MSE/pixel on noise {noise_err[name]:.4f} = {noise_err[name] / errors[name]:4.1f} x its test "
          f"error; better than answering 0.5: {noise_err[name] < 1 / 12}")
copiers = [name for name in RUNS if noise_err[name] <= 2 * errors[name]]
print(f"models that rebuild noise within 2 x their test error (a copier would): {copiers or 'none'}")

# %% [markdown]
# The last line answers the question for this run. A model it does not name has not learned a
# near-identity: it rebuilds its test images more than twice as accurately as noise, and the
# column "better than answering 0.5" says whether it rebuilds noise better than a
# model that ignores its input (any constant answer does at best as well as 0.5). When the
# unpenalised model is not named either, then at this short budget (section 3 printed which
# curves were still falling) it is not the constraint that keeps these networks from copying: training on
# one kind of image already does, and the constraint's work is to make the code sparse. A
# longer run could tell a different story. The line below collects the
# section's results.

# %%
units_used = {name: int((codes[name] > 0.1).sum(dim=1).float().median()) for name in MAIN}  # median image
dense_life = (codes["no penalty"] > 0.1).float().mean(dim=0)  # (1024,) share of images each unit is on for
print(f"In this run, at this budget ({STEPS} steps per model): without a penalty the median image uses "
      f"{units_used['no penalty']} of 1,024 units and the median unit is above 0.1 for {dense_life.median():.0%} of the "
      f"test images; the {L1} and {KL} models use {units_used[L1]} and {units_used[KL]}. The {KL} model's test MSE is "
      f"{errors[KL] / errors[L1]:.2f} x the {L1} model's; PCA-{N_CODE // 16} is at least as accurate as "
      f"{len(beaten)} of the {len(RUNS)} autoencoders; models that copy noise: {len(copiers)} of {len(RUNS)}.")

# %% [markdown]
# ## 5. Exact zeros: a top-k sparse autoencoder
#
# Both penalties *ask* for sparsity and leave the amount to a weight. A top-k autoencoder
# *builds it in*: compute the pre-activations, keep the $k$ largest of each image and set every
# other unit to exactly zero. Makhzani and Frey (2013) did this with linear units, and encoded
# test images with more winners than in training ($\alpha k$ with $\alpha > 1$); we use the
# ReLU form with which Gao et al. (2024) train very wide sparse autoencoders (negative values
# are zeroed too) and keep the same $k$ at test time, so training and test codes are equally
# sparse. The knob is no longer a penalty weight but $k$ itself, the number of units
# active per image: here $k = 51$, 5% of 1,024. The same 5% as the penalties' $p$, but not the
# same quantity: $k/K$ is the share of units that are non-zero for each image, exactly, while
# $p$ is a target mean activation (section 4 printed how many activations exceed 0.1 at that
# mean). (Why such codes matter now: sparse autoencoders are a main tool for reading what large language models
# compute. A layer of such a model appears to store more features than it has neurons, mixed
# together, "in superposition" (Elhage et al. 2022); a much wider sparse code trained on the
# layer's activations can separate them into units that each can be read on their own
# (Bricken et al. 2023, Cunningham et al. 2023, Templeton et al. 2024, Gao et al. 2024).)
# Written out for a batch:

# %%
K_ACTIVE = round(TARGET * N_CODE)  # 51 of the 1024 units per image
linear = nn.Linear(784, N_CODE)
a = linear(x_test[:4].flatten(1)).relu()  # (4, 1024) non-negative pre-activations
top = a.topk(K_ACTIVE, dim=1)  # values and indices, each (4, 51)
h = torch.zeros_like(a).scatter(1, top.indices, top.values)  # (4, 1024): 51 entries kept per row
print("non-zero units per image:", (h != 0).sum(dim=1).tolist(), "| exactly zero:", f"{(h == 0).float().mean():.1%}")

# %% [markdown]
# The gradient reaches only the kept units (the zeros are constants), so each image trains just
# its $k$ winners. `TopKSparseAutoencoder` is that encoder with the same sigmoid decoder as
# before (`top_k_relu` is the three lines above in the other order, top-$k$ then ReLU: the same
# code, since ReLU never changes which values are largest; the first line checks it); it trains with no penalty, the same budget:

# %%
from course_utils.sparse import TopKSparseAutoencoder, top_k_relu

print("package version equals the lines above:", torch.equal(top_k_relu(linear(x_test[:4].flatten(1)), K_ACTIVE), h))
torch.manual_seed(0)
models["top-k"] = TopKSparseAutoencoder(784, N_CODE, k=K_ACTIVE).to(course.device)
histories["top-k"] = fit(models["top-k"], x_train, objective=SparseObjective(None), epochs=EPOCHS,
                         batch_size=128, lr=3e-3, verbose=False)
codes["top-k"] = codes_of(models["top-k"], x_test)  # (N, 1024), ReLU values, not in (0, 1)
errors["top-k"] = mse_per_pixel(predict(models["top-k"], x_test).view_as(x_test), x_test).item()
print(f"top-k: test MSE/pixel {errors['top-k']:.4f} (the {L1} model: {errors[L1]:.4f}); exactly zero "
      f"{(codes['top-k'] == 0).float().mean():.1%}; act. > 0.1 {firing_fraction(codes['top-k']):.1%}; "
      f"dead units {dead_unit_share(codes['top-k']):.1%}")
print(f"PCA with as many numbers per image, {K_ACTIVE} components: test MSE/pixel {pca_mse[K_ACTIVE - 1]:.4f}; "
      f"more accurate than this top-k model: {pca_mse[K_ACTIVE - 1].item() < errors['top-k']}")

# %% [markdown]
# Here at last are exact zeros: for each image, at least $K - k = 973$ of the 1,024 units (95%)
# are exactly 0, by construction (which 973 changes from image to image), and the printed
# share of activations above 0.1 cannot exceed $k/K = 5\%$. (A ReLU code does not stay in $(0, 1)$: its values have no fixed scale,
# so the 0.1 threshold means less here, and the KL penalty does not apply to it at all.)
# Compare its test error with the L1 model's on the printed line, and with PCA's at the same
# count of numbers per image on the next (the top-k code must also say *which* 51 units are
# on, so it stores more than 51 numbers).
#
# Then look at the dead units. A unit that wins a top-k slot for no image passes no gradient
# to its weights, so once dead it stays dead unless the winners' values happen to drop below
# its own. Dead units are the best known problem of top-k sparse autoencoders. Makhzani and
# Frey's remedy is a **schedule for $k$**: start with many more winners per image, so that
# most units win slots and learn something, then lower $k$ linearly to its final value over
# the first half of training. `AnnealK` is that schedule, a callback for `fit` that sets the
# model's `k` before each step. (Gao et al. use two other remedies, an auxiliary loss that
# trains the dead units on what the live ones miss, and an encoder started as the decoder's
# transpose; we do not train them here.) The same model, seed and budget, with $k$ falling
# from `K_START` to 51. The schedule written out, for step $t$ of $T$:
# $k_t = \mathrm{round}\big(k_{start} + (k - k_{start}) \min(1, t / (T/2))\big)$, checked
# against `AnnealK`:

# %%
from course_utils.sparse import AnnealK

K_START = 8 * K_ACTIVE  # 408 units kept per image at the first step
total = EPOCHS * math.ceil(len(x_train) / 128)  # optimizer steps of this training run
for t in (0, total // 4, total // 2, total - 1):
    by_hand = round(K_START + (K_ACTIVE - K_START) * min(1.0, t / (total / 2)))
    print(f"step {t:>4} of {total}: k by hand {by_hand:>3} | AnnealK {AnnealK(K_START, K_ACTIVE).k_at(t, total):>3}")
torch.manual_seed(0)
models["top-k annealed"] = TopKSparseAutoencoder(784, N_CODE, k=K_ACTIVE).to(course.device)
histories["top-k annealed"] = fit(models["top-k annealed"], x_train, objective=SparseObjective(None), epochs=EPOCHS,
                                  batch_size=128, lr=3e-3, callbacks=[AnnealK(K_START, K_ACTIVE)], verbose=False)
codes["top-k annealed"] = codes_of(models["top-k annealed"], x_test)
errors["top-k annealed"] = mse_per_pixel(predict(models["top-k annealed"], x_test).view_as(x_test), x_test).item()
for name in ("top-k", "top-k annealed"):
    print(f"{name:>14}: k = {models[name].k} at test time; test MSE/pixel {errors[name]:.4f}; "
          f"dead units {dead_unit_share(codes[name]):.1%}; units that won a slot for no test image "
          f"{((codes[name] > 0).sum(dim=0) == 0).float().mean():.1%}")
print("the schedule left fewer dead units:", dead_unit_share(codes["top-k annealed"]) < dead_unit_share(codes["top-k"]),
      "| and a lower test error:", errors["top-k annealed"] < errors["top-k"])

# %% [markdown]
# The verdict line says whether the schedule did what it is for in this run: fewer dead units,
# and whether the units it kept alive also lowered the test error. Both models end with the
# same $k = 51$, so they are equally sparse per image; the difference is only in how many of
# the 1,024 units share the work.
#
# ## 6. What sparsity costs: the sweeps
#
# One figure for every model trained so far: the reconstruction error against the share of
# active units (left) and the share of dead units (right). The L1 runs and the KL runs, each
# with the unpenalised model as their zero-weight end, form two sweeps (grey lines: solid for
# L1, dashed for KL); the top-k models are single points.

# %%
from course_utils.sparse import tradeoff_figure


def sweep_of(name: str) -> str | tuple[str, ...] | None:
    """Which grey line a model belongs to: the unpenalised model ends both sweeps."""
    if name == "no penalty":
        return ("L1", "KL")
    return name.split()[0] if name.startswith(("L1", "KL")) else None


rows = [{"name": name, "on": firing_fraction(codes[name]), "mse": errors[name], "dead": dead_unit_share(codes[name]),
         "sweep": sweep_of(name)} for name in codes]
tradeoff_figure(rows)

# %%
for family in ("L1", "KL"):
    sweep = ["no penalty"] + [name for name in RUNS if name.startswith(family)]
    on = [firing_fraction(codes[name]) for name in sweep]
    print(f"{family} sweep, weight 0 -> {sweep[-1].split()[1]}: share above 0.1", " -> ".join(f"{v:.1%}" for v in on),
          "| test MSE", " -> ".join(f"{errors[name]:.4f}" for name in sweep),
          "| dead", " -> ".join(f"{dead_unit_share(codes[name]):.1%}" for name in sweep))
    print(f"   sparser with every step: {all(a > b for a, b in pairwise(on))} | error higher with every step: "
          f"{all(errors[a] < errors[b] for a, b in pairwise(sweep))}")
l1_sweep = ["no penalty"] + [name for name in RUNS if name.startswith("L1")]
dominated, beats_l1 = {}, {}  # model -> the L1-sweep points that beat it / that it beats, on both counts
for name in kl_sweep + ["top-k", "top-k annealed"]:
    sparsity = firing_fraction(codes[name])
    dominated[name] = [s for s in l1_sweep if firing_fraction(codes[s]) <= sparsity and errors[s] <= errors[name]]
    beats_l1[name] = [s for s in l1_sweep if firing_fraction(codes[s]) >= sparsity and errors[s] >= errors[name]]
    print(f"{name:>14}: points of the L1 sweep at least as sparse AND at least as accurate: "
          f"{dominated[name] or 'none'}; points it beats on both: {beats_l1[name] or 'none'}")
print(f"\nIn this run, at this budget ({STEPS} steps per model): the KL sweep (beta {kl_sweep[0].split()[1]} -> "
      f"{kl_sweep[-1].split()[1]}) multiplies the test error by {errors[kl_sweep[-1]] / errors[kl_sweep[0]]:.2f} while "
      f"the share above 0.1 moves {firing_fraction(codes[kl_sweep[0]]):.1%} -> {firing_fraction(codes[kl_sweep[-1]]):.1%}; "
      f"KL models dominated by a point of the L1 sweep: {sum(bool(dominated[n]) for n in kl_sweep)} of {len(kl_sweep)}; "
      f"top-k models that beat a point of the L1 sweep on both counts: "
      f"{[n for n in ('top-k', 'top-k annealed') if beats_l1[n]] or 'none'}.")

# %% [markdown]
# The printed lines read the figure. Along each sweep, a larger weight should buy a sparser
# code and pay for it with a higher reconstruction error; the "with every step" verdicts say
# whether it did at every step here, and the dead-unit columns what happened to the units. A
# point that some point of the L1 sweep beats on both counts, sparser *and* more accurate, is
# **dominated**: that L1 weight (or no penalty at all, the sweep's zero end) would simply be
# the better choice. In the left panel, sparser means further left and more accurate means
# lower: a dominated point has an L1 point to its left and below it (or level), and a point
# that beats an L1 point has that point to its right and above it. The last lines place the
# KL and top-k models that way, point against point; the grey line between two L1 points is
# only a guide to the eye, not a model that was trained. Note
# that the x axis is the share of activations above 0.1, not the mean activation on which
# the pair of section 3 was matched: two codes with the same mean can differ in how many
# activations exceed 0.1. Each model was trained at one setting and one budget, and the
# comparison is of these runs, not of the methods in general. Section 3 found whether the runs
# were still moving when the budget ran out; a longer budget could move every point, and the
# verdicts hold "at this budget", as the "In this run" line says.
#
# What do these errors look like? The first ten test images and their reconstructions by the
# unpenalised model, the matched pair and the two top-k models, each row labelled with the
# model's test MSE per pixel:

# %%
from course_utils.plots import rows_figure

shown_models = ["no penalty", L1, KL, "top-k", "top-k annealed"]
rebuilt = {f"{name}\n(MSE {errors[name]:.4f})": predict(models[name], x_test[:10]).view(-1, 1, 28, 28)
           for name in shown_models}  # fmt: skip
rows_figure({"test image": x_test[:10], **rebuilt}, title=f"{data.name}: test images and their reconstructions")

# %% [markdown]
# An MSE per pixel of $m$ is a typical error of $\sqrt{m}$ per pixel on the scale from 0 to 1
# (about 0.1 for $m = 0.01$), against an image's contrast of up to 1. Look at each row: does it
# keep the outline and brightness of every image, and which fine details (texture, thin
# strokes, small bright or dark spots) does it lose? The order you see should be the order of
# the printed MSEs.
#
# ## 7. What do single units respond to?
#
# For a sparse code, a unit means something we can look at. Two views of unit $j$:
#
# - its **top-activating images**: the test images with the largest $h_j$;
# - its **decoder weights**, column $j$ of $W_d$. When the unit is at $h_j$, it adds
#   $h_j$ times this column to the decoder's pre-activation $W_d h + b_d$, the input of the
#   output sigmoid, not to the image itself. Red pixels (positive weights) are pushed
#   brighter, blue ones (negative) darker, white ones not at all; through the sigmoid, how
#   much brighter depends on what the other units already put there.
#
# First the decoder features of 40 units of the unpenalised model and of the KL model,
# **drawn at random** (the same 40 unit numbers for both), so that the grids show typical
# units, not the busiest ones.

# %%
from IPython.display import display

from course_utils.sparse import features_figure

shown = torch.randperm(N_CODE, generator=torch.Generator().manual_seed(0))[:40].tolist()
for name in ("no penalty", KL):
    display(features_figure(models[name], shown, title=f"{name}: decoder features of 40 units drawn at random"))

# %% [markdown]
# Red is where the unit raises the output layer's input, blue where it lowers it. Each feature
# is scaled to its own largest weight, so a unit with tiny weights looks as strong as one with
# large weights: judge shapes here, not strengths. Sort the features of each grid yourself.
# A feature may be the silhouette of a whole garment (a boot, a pair of trousers): a
# **template** that one unit adds in one piece. A feature confined to a small region (a sole,
# a collar) would be a **part**; a feature of scattered dots is speckle. Do not expect parts: a
# sparsity constraint on a one-layer code of whole 28x28 images promises none (Olshausen and
# Field's localised filters were learned from small patches of natural images), and what these
# grids hold depends on the data loaded, the target $p$ and the training length. Read it off
# the grids, not off this text.
#
# A feature is a direction of the output layer's *input*, not a picture of what the unit does
# to the image. Through the output sigmoid, raising $h_j$ moves every pixel in the direction of
# the feature's sign (the sigmoid is increasing), but by the feature times the pixel's slope
# $\hat x(1 - \hat x)$, which is small where the reconstruction is already near 0 (the black
# background) or near 1. The cell measures how well the pictures predict the real change:
# for the KL model's 40 units above, it raises each unit by 0.5 in the codes of 200 test
# images and compares the mean change of the reconstruction with the feature (cosine
# similarity: 1 when the change is the feature, rescaled).

# %%
h_few = codes[KL][:200].to(course.device)  # (200, 1024) codes of the first 200 test images
cosines = []
with torch.no_grad():
    base_out = models[KL].decode(h_few)  # (200, 784)
    for unit in shown:
        raised = h_few.clone()
        raised[:, unit] += 0.5  # this unit half a step more on, for every image
        change = (models[KL].decode(raised) - base_out).mean(dim=0).cpu()  # (784,) mean change per pixel
        feature = models[KL].decoder.weight[:, unit].cpu()  # (784,) column j of W_d
        cosines.append(torch.nn.functional.cosine_similarity(change, feature, dim=0).item())
cosines = torch.tensor(cosines)
print(f"{KL} model, 40 units: cosine(real change of the reconstruction, feature) median {cosines.median():.2f}, "
      f"lowest {cosines.min():.2f}, highest {cosines.max():.2f}")

# %% [markdown]
# A median cosine near 1 means the feature pictures show well what the units do to the image;
# the further below 1, the more the output sigmoid reshapes them (it mutes a feature wherever
# the reconstruction is near 0 or 1), and the less the grids can be read as changes of the image.
#
# Now single units in detail: the feature, the eight test images that excite the unit most
# (with their activations), and the histogram of the unit's activations over all test images.
# Which units? Sorting by mean activation and taking the top would show the most atypical
# units; we take the three whose mean activation is **closest to the median** over the 1,024
# units of the KL model: typical units. Then the same for two typical units of the
# unpenalised model, for comparison.

# %%
from course_utils.sparse import unit_figure, unit_view, units_near_median

kl_units = units_near_median(codes[KL], 3)
kl_means = codes[KL].mean(dim=0)  # (1024,)
print(f"median mean activation over the KL model's units {kl_means.median():.4f}; units shown: "
      + ", ".join(f"{u} ({kl_means[u]:.4f})" for u in kl_units))
for unit in kl_units:
    display(unit_figure(models[KL], codes[KL], x_test, unit))
dense_units = units_near_median(codes["no penalty"], 2)
print("typical units of the unpenalised model:", dense_units)
for unit in dense_units:
    display(unit_figure(models["no penalty"], codes["no penalty"], x_test, unit))

# %% [markdown]
# For each unit, ask whether its eight top images share one visible trait. Then its
# histogram: a sparse unit should be near zero for most images and strongly on for a few. The
# next cell measures both for the units shown: the share of test images for which the unit
# is below 0.1 (silent), and how many images make it exceed 0.5 (strongly on); "some" means at
# least one test image in a thousand, "rarely" fewer than that but at least one.

# %%
for name, units in ((KL, kl_units), ("no penalty", dense_units)):
    for unit in units:
        h_unit = codes[name][:, unit]  # (N,) this unit's activation on every test image
        silent, strong = (h_unit < 0.1).float().mean().item(), int((h_unit > 0.5).sum())
        some = max(1, len(x_test) // 1000)  # "some": at least one test image in a thousand
        shape = ("silent for most images" if silent > 0.5 else "on for most images") + (
            ", strongly on for some" if strong >= some else ", rarely strongly on" if strong else ", never strongly on")
        print(f"{name:>10} unit {unit:>4}: below 0.1 for {silent:.1%} of the test images, above 0.5 for "
              f"{strong} of them, largest {h_unit.max():.2f}: {shape}")

# %% [markdown]
# "Silent for most images, strongly on for some" is the shape a sparse code asks for. A unit
# that is silent for most images but rarely or never strongly on has reached its mean
# activation mostly with moderate responses instead of a few strong ones; a unit on for most
# images is active almost everywhere, the shape the unpenalised model's units are expected to have. The
# histograms show the same: where the bars end on the right is the unit's largest activation.
#
# **Can a unit be named from its top images?** Three units are anecdotes. A measure over all
# units: for each live unit (above 0.1 for some test image), the share of its eight top images
# that belong to their commonest class (`top_image_purity`; 1 when all eight share a class).
# The classes are the dataset's labels, which no model saw. The noise floor is measured, not
# assumed: the same computation with the labels shuffled gives the purity of eight images
# that have nothing in common, and the spread over units gives a standard error for each mean.

# %%
from course_utils.sparse import top_image_purity

labels = data.test.y  # (N,) the class of each test image, never seen in training
shuffled = labels[torch.randperm(len(labels), generator=torch.Generator().manual_seed(0))]
purity, chance_purity = {}, {}
for name in ("no penalty", L1, KL, "top-k annealed"):
    alive = codes[name].amax(dim=0) > 0.1  # (1024,) live units
    real = top_image_purity(codes[name][:, alive], labels)  # (n_live,)
    chance = chance_purity[name] = top_image_purity(codes[name][:, alive], shuffled).mean().item()
    purity[name] = (real.mean().item(), (real.std() / len(real) ** 0.5).item())
    print(f"{name:>14}: mean top-8 purity {purity[name][0]:.2f} +- {purity[name][1]:.2f} (standard error) over "
          f"{int(alive.sum())} live units; shuffled labels {chance:.2f}; units with all 8 in one class "
          f"{(real == 1).float().mean():.0%}")
readable = {}  # each sparse model against the unpenalised one, by this measure
for name in (L1, KL, "top-k annealed"):
    difference = purity[name][0] - purity["no penalty"][0]
    noise = 2 * (purity[name][1] ** 2 + purity["no penalty"][1] ** 2) ** 0.5  # 2 standard errors of the difference
    readable[name] = "more" if difference > noise else "less" if difference < -noise else "no more and no less"
    print(f"{name} minus no penalty: {difference:+.2f} (2 standard errors: {noise:.2f}): the {name} model's units "
          f"are {readable[name]} readable by this measure")
print(f"\nIn this run, at this budget ({STEPS} steps per model): mean top-8 purity "
      + ", ".join(f"{name} {purity[name][0]:.2f} (shuffled {chance_purity[name]:.2f})" for name in purity)
      + "; against the unpenalised model's units, "
      + "; ".join(f"{name}: {readable[name]}" for name in readable) + ".")

# %% [markdown]
# The shuffled-label line is what eight unrelated images score; a model's units are readable
# by this measure as far as their mean stands above it. The last lines compare each sparse
# model with the unpenalised one against two standard errors of the difference and state the
# result. Read them against the hope of section 1, that sparse units are easier to name: the
# verdicts say, model by model, whether this run bears it out. Sparsity by itself does not
# guarantee it; a penalty that makes most units nearly silent can leave the live ones
# responding to a mix of classes. Purity only asks whether the top images share a *class*: a unit that responds to a
# part shared by several classes (a sleeve of shirts and coats, a stroke of 4s and 9s) scores
# low and may still be perfectly readable, so read the measure together with the unit figures.
#
# > **Three confusions to avoid when reading units**
# > - *$h_j$ is not a coin toss.* The code is a deterministic function of the image: the same
# >   image gives the same $h_j$ every time. It is not a probability either: the 1,024 values of
# >   one image do not sum to 1. Only a unit's *mean* over images enters the KL penalty, read as
# >   if it were a coin's probability $q_j$; even that is a mean activation, not the share of
# >   images the unit is on for (section 4 printed both).
# > - *A unit whose top images are all boots is not a boot detector.* Its top eight images are
# >   the extreme tail; the same unit is also on for many other images (the lifetime share of
# >   section 4), and each boot is drawn by many units together (the population count). A
# >   class is spread over units, and a unit over classes.
# > - *A readable unit is not a causal one.* Top images say what excites a unit, not what the
# >   decoder does with it; the feature (its decoder column) is the other half of the story.
#
# ### Unit picker
#
# Choose any of the 1,024 units of the KL model. Then try the L1 model,
# `unit_view(models[L1], codes[L1], x_test)`: for its dead units (counted in section 4) even the
# "top" images have activations of at most 0.1, a reminder to read the numbers, not just the
# pictures.

# %% tags=["nbval-ignore-output"]
unit_view(models[KL], codes[KL], x_test, unit=kl_units[0])

# %% [markdown]
# ## 8. A relative: the contractive autoencoder
#
# A **contractive autoencoder** (Rifai et al. 2011) asks for a code that changes little when the
# input changes a little. It penalises the squared Frobenius norm of the encoder's Jacobian,
#
# $$ \Omega_{C}(x) = \Big\| \frac{\partial h}{\partial x} \Big\|_F^2
#    = \sum_{j}\sum_{i} \Big(\frac{\partial h_j}{\partial x_i}\Big)^2 . $$
#
# For a sigmoid layer $h = \sigma(Wx + b)$ it has a closed form. Since $\sigma' = \sigma(1 -
# \sigma)$, $\partial h_j / \partial x_i = h_j (1 - h_j) W_{ji}$: the Jacobian is $J =
# \mathrm{diag}(h(1-h))\, W$, each weight row scaled by its unit's slope, and so
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
# The two agree to rounding error. The formula has two factors: the **slopes**
# $h_j(1 - h_j)$, largest (1/4) at $h_j = 0.5$ and vanishing when a unit is firmly off or on,
# and the **weight norms** $\lVert W_j \rVert^2$. A sparse code whose units sit near 0 for most
# images has small slopes there, so it might be insensitive to small input changes without
# asking for it, or its weights might have grown to compensate. `jacobian_factors` measures
# both: the mean of $\lVert J\rVert_F^2$ over the test images equals $K \times$ the mean squared
# slope $\times$ the mean squared weight-row length $\times$ a coupling term (above 1 when the
# units with long weight rows are the steep ones).

# %%
from course_utils.contractive import jacobian_factors

factors = {name: jacobian_factors(codes[name], models[name].encoder.weight.detach().cpu()) for name in MAIN}
print(f"{'model':>10} {'mean ||J||^2':>13} {'slope^2':>9} {'||W_j||^2':>10} {'coupling':>9}")
for name, f in factors.items():
    print(f"{name:>10} {f['jacobian']:>13.2f} {f['slope']:>9.4f} {f['weight']:>10.3f} {f['coupling']:>9.2f}")
base = factors["no penalty"]
for name in (L1, KL):
    f = factors[name]
    drop = {part: base[part] / f[part] for part in ("jacobian", "slope", "weight", "coupling")}
    print(f"{name}: ||J||^2 {drop['jacobian']:.1f} x smaller than the unpenalised model's = slopes {drop['slope']:.2f} x "
          f"weights {drop['weight']:.2f} x coupling {drop['coupling']:.2f}; the slopes give the largest factor: "
          f"{drop['slope'] == max(drop['slope'], drop['weight'], drop['coupling'])}")

# %% [markdown]
# Read the last two lines factor by factor: a factor above 1 is part of the drop, a factor
# below 1 works against it. The lines say, for each sparse model, whether it is less
# sensitive than the unpenalised one mostly because its sigmoids sit where they are flat (the
# slopes), or because its weights shrank. Neither loss asks for insensitivity by name. The L1
# penalty pushes activations towards 0, exactly where the slope $h(1-h)$ is small. The KL
# penalty only holds each unit's mean activation $q$ near $p = 0.05$, but a small mean forces
# small slopes on average, whichever way the unit reaches it: over the images, the mean slope
# is $\mathrm{E}[h(1-h)] = \mathrm{E}[h] - \mathrm{E}[h^2] \le q(1-q)$ (since
# $\mathrm{E}[h^2] \ge \mathrm{E}[h]^2$), about 0.05 at $q = p$, a fifth of the sigmoid's
# largest slope 1/4. Neither loss says anything about the weight norms.
#
# **Training a contractive autoencoder.** Now the penalty itself goes into the loss: the
# reconstruction error per image plus $\lambda\,\Omega_C$, averaged over the batch, with
# $\lambda = 0.1$, a weight chosen for a test error of the same order as the penalised sparse
# models' (the cell after training prints the ratios to the unpenalised error). How much it
# shrinks $\lVert J \rVert_F^2$ is a result, not a promise: the same cell prints the factor
# reached with this lesson's budget.
# Written out for one batch, and checked against `SparseObjective("contractive", weight)`:

# %%
CONTRACTIVE_WEIGHT = 0.1
torch.manual_seed(0)
models["contractive"] = SparseAutoencoder(784, N_CODE).to(course.device)
xb = x_train[:128].to(course.device)  # one batch
hb = models["contractive"].encode(xb)  # (128, 1024)
sse = (models["contractive"].decode(hb).view_as(xb) - xb).pow(2).flatten(1).sum(dim=1)  # (128,) per image
by_hand = (sse + CONTRACTIVE_WEIGHT * contractive_penalty_per_image(hb, models["contractive"].encoder.weight)).mean()
package, _ = SparseObjective("contractive", CONTRACTIVE_WEIGHT)(models["contractive"], (xb,))
print(f"loss by hand {by_hand.item():.4f} | SparseObjective('contractive', {CONTRACTIVE_WEIGHT}) {package.item():.4f}")

# %%
histories["contractive"] = fit(models["contractive"], x_train, objective=SparseObjective("contractive", CONTRACTIVE_WEIGHT),
                               epochs=EPOCHS, batch_size=128, lr=3e-3, verbose=False)
codes["contractive"] = codes_of(models["contractive"], x_test)
errors["contractive"] = mse_per_pixel(predict(models["contractive"], x_test).view_as(x_test), x_test).item()
pair = {name: (codes[name], models[name].encoder.weight.detach().cpu()) for name in ("no penalty", "contractive")}
jac = {name: contractive_penalty_per_image(c, w).mean().item() for name, (c, w) in pair.items()}
for name in pair:
    print(f"{name:>12}: test MSE/pixel {errors[name]:.4f}, mean ||J||_F^2 {jac[name]:.2f}")
print(f"the contractive penalty made ||J||_F^2 {jac['no penalty'] / jac['contractive']:.1f} x smaller, "
      f"for {errors['contractive'] / errors['no penalty']:.2f} x the unpenalised test error "
      f"(the {L1} model: {errors[L1] / errors['no penalty']:.2f} x, the {KL} model: "
      f"{errors[KL] / errors['no penalty']:.2f} x)")
print(f"without asking for it, the sparse models' ||J||_F^2: {L1} {factors[L1]['jacobian']:.2f}, "
      f"{KL} {factors[KL]['jacobian']:.2f} (contractive {jac['contractive']:.2f}); within a factor 2 of the "
      f"contractive model's: {[name for name in (L1, KL) if factors[name]['jacobian'] <= 2 * jac['contractive']] or 'none'}")

# %% [markdown]
# The penalty's own claim is easy to check: the last line says how many times smaller the
# contractive model made $\lVert J \rVert_F^2$, and what that cost in test error, next to
# the two sparse models' costs. The next line puts the sparse models' $\lVert J \rVert_F^2$
# (from the factor table) beside it and names the sparse models that came within a factor 2
# of the contractive one. Any model it names shows that sparsity alone, through the flat
# slopes, can make a code about as insensitive as the penalty that asks for it; then a small
# $\lVert J \rVert_F^2$ by itself does not tell the two families apart. The
# interesting claim is another one. The reconstruction term wants the code to follow every
# change of the input that matters for rebuilding the image; the penalty wants it to follow
# none. The expected compromise (Rifai et al.) is a code that stays sensitive **along the
# directions in which the training images vary** and becomes insensitive to the others. Two
# measurements test it.
#
# First, how many directions is the code sensitive to? The singular values of $J$ are the
# code's sensitivity to a unit step of $x$ along each of $J$'s input directions, largest
# first; their squares add up to $\lVert J \rVert_F^2$. We compute them for a few test images
# (one singular value decomposition of a $1024 \times 784$ matrix per image). Left: the
# singular values in decreasing order, averaged over the images, for both models. Right: the
# share of $\lVert J \rVert_F^2$ held by the $n$ most sensitive directions; where a curve
# crosses the dotted line, that many directions hold 90% of it. The cell after the figure
# prints that count.

# %%
from course_utils.contractive import (
    directions_holding,
    jacobian_singular_values,
    jacobian_spectrum_figure,
)

N_JACOBIANS = course.pick(full=16, fast=4)  # images whose Jacobian we decompose
spectra = {name: jacobian_singular_values(c[:N_JACOBIANS], w) for name, (c, w) in pair.items()}  # each (n, 784)
jacobian_spectrum_figure(spectra)

# %%
held = {name: directions_holding(sv, 0.9).float().mean().item() for name, sv in spectra.items()}
for name, sv in spectra.items():
    print(f"{name:>12}: largest singular value {sv[:, 0].mean():.2f}; directions holding 90% of ||J||^2: "
          f"{held[name]:.0f} of 784 (mean over {N_JACOBIANS} test images)")
print("the contractive code is sensitive in fewer directions:", held["contractive"] < held["no penalty"])

# %% [markdown]
# Second, *which* directions? The directions in which the training images vary most are
# their principal directions (lesson 01). We take the $m$ leading principal directions that
# hold 90% of the training images' variance, $U$ of shape $(784, m)$, and measure what share of
# $\lVert J \rVert_F^2$ they receive: $\lVert J U \rVert_F^2 / \lVert J \rVert_F^2$. An encoder
# that did not care about directions would give them a share of about $m / 784$.

# %%
from course_utils.contractive import sensitivity_in_subspace

m = int((pca.eigenvalues.cumsum(0) / pca.eigenvalues.sum() < 0.9).sum()) + 1  # directions for 90% of the variance
basis = pca.components[:m].T  # (784, m), orthonormal columns
share = {name: (sensitivity_in_subspace(c, w, basis) / contractive_penalty_per_image(c, w)).mean().item()
         for name, (c, w) in pair.items()}
print(f"m = {m} principal directions hold 90% of the training images' variance "
      f"(a direction-blind encoder would give them about {m / 784:.1%} of ||J||^2)")
for name in pair:
    print(f"{name:>12}: share of ||J||_F^2 along those {m} directions {share[name]:.1%}")
print("the contractive code keeps more of its sensitivity for the directions of the data:",
      share["contractive"] > share["no penalty"])

# %% [markdown]
# The two verdicts answer the question for this run. When both are True, the contractive
# penalty did what the theory says: the code responds to few directions, and mostly to those
# in which real images differ; the penalty removed the sensitivity the data did not need.
#
# Why is an unpenalised encoder sensitive to the other directions at all? Together they hold
# the last 10% of the training images' variance, spread thinly over many directions, and some
# of them may hold none at all (a pixel that is 0 in every image, or the directions that an
# upsampled small image never uses). Nothing in the unpenalised loss pulls a weight component
# along them back: it changes the code of the training images little or not at all, so the
# reconstruction neither needs it nor removes it. We measure the weights' squared length inside
# the $m$ data directions and in the remaining $784 - m$, at initialisation (the same seed) and
# after training, how much variance one direction of each kind holds on average, and how many
# directions and pixels hold none:

# %%
torch.manual_seed(0)
weights = {"at initialisation": SparseAutoencoder(784, N_CODE).encoder.weight.detach()}  # the common start
weights.update({name: w for name, (_, w) in pair.items()})
rest = pca.components[m:].T  # (784, 784 - m): the directions holding the last 10% of the variance
share_per_direction = pca.eigenvalues / pca.eigenvalues.sum()  # (784,) share of the variance in each direction
print(f"variance held by one direction, on average: {share_per_direction[:m].mean():.3%} among the {m} data "
      f"directions, {share_per_direction[m:].mean():.4%} among the other {784 - m}")
empty = int((share_per_direction[m:] < 1e-7).sum())  # no variance, up to float32 rounding
constant = int((x_train.flatten(1).std(dim=0) == 0).sum())  # pixels with the same value in every image
print(f"of those {784 - m}: {empty} hold no variance at all (share below 1e-7); pixels with the same value in "
      f"every training image: {constant}")
in_data = {name: (w @ basis).pow(2).sum().item() for name, w in weights.items()}
off_data = {name: (w @ rest).pow(2).sum().item() for name, w in weights.items()}
for name in weights:
    print(f"{name:>18}: ||W U||^2 in the {m} data directions {in_data[name]:8.1f}, "
          f"in the other {784 - m} {off_data[name]:8.1f}")
start = "at initialisation"
print(f"training without a penalty multiplied them by {in_data['no penalty'] / in_data[start]:.1f} (data directions) "
      f"and {off_data['no penalty'] / off_data[start]:.1f} (the others)")
print("without a penalty the off-data weights grew during training:", off_data["no penalty"] > off_data[start],
      "| the contractive penalty kept them below the unpenalised model's:", off_data["contractive"] < off_data["no penalty"])

# %% [markdown]
# The first lines say how thinly the remaining variance is spread, and how many directions
# hold none. The count depends on the data: photographs of clothes vary a little in almost
# every direction, handwritten digits leave the border pixels black in every image, and the
# embedded fallback, 8x8 digits enlarged to 28x28, leaves most directions exactly empty. Along
# a direction that holds a little variance the images do differ, and each gradient step (for a
# weight row, a weighted sum of the batch's images) moves the weights along it as along any
# other direction, with smaller pushes: no special mechanism is needed for the off-data weights
# to grow, and the growth factors say how much they grew in this run. Directions that hold no
# variance at all are another case (plain gradient descent moves the weights along them only
# with the images' common component; Adam's per-weight rescaling can move them a little more; a
# pixel that is 0 in every image gets a step of exactly 0); where the printed count of such
# directions is small next to $784 - m$, they hardly change the totals. What is
# missing without a penalty is a force in the other direction: whatever the off-data weights
# become, the code inherits sensitivity to changes that real images make only weakly (the
# first line's variance per direction). The contractive penalty charges them for exactly that
# sensitivity. When both verdicts are True, this is the mechanism behind the two
# measurements above: the contractive model's code stays sensitive where the images vary, and
# much less elsewhere.
#
# ## 9. The five classic autoencoder families
#
# | family | what stops it from copying the input | the extra term in the loss | what it gives you | lesson |
# |---|---|---|---|---|
# | undercomplete | a code smaller than the input ($k < D$) | none | compression; when linear, the subspace of the first $k$ principal components (not the components themselves: lesson 01) | 01-03 |
# | sparse | few units active per image (code may be overcomplete) | $\lambda \sum_j \lvert h_j\rvert$ or $\beta \sum_j \mathrm{KL}(p \,\Vert\, \hat q_j)$ (per batch), or a hard top-$k$ | a code with few units on per image, each unit a decoder feature you can look at (easier to name? measure it) | 05 |
# | contractive | a code insensitive to small input changes | $\lambda \lVert \partial h / \partial x \rVert_F^2$ | a code sensitive mainly along the directions the data varies in | 05 |
# | denoising | the input is corrupted, the target is clean | none (the corruption is the regulariser) | denoisers; with Gaussian noise of level $\sigma$, $(r(\tilde x) - \tilde x)/\sigma^2$ estimates the score $\nabla \log p_\sigma(\tilde x)$ of the *noised* density (Tweedie) | 04 |
# | variational | a noisy code pulled towards a prior $\mathcal N(0, I)$ | $\mathrm{KL}(q(z \mid x) \,\Vert\, p(z))$ | a generative model: sample new images | 06-07 |
#
# The sparse, contractive and denoising autoencoders are three ways of saying the same thing:
# *a good code is one that ignores what does not matter*. The variational autoencoder adds a
# probabilistic reading that makes the code space something you can sample from, and is the
# subject of the next two lessons. (Note the two different KLs: here it compares a single unit's mean
# activation with a target; in a VAE it compares whole distributions over codes.)
#
# > **Common mistakes**
# > - *Applying the KL penalty to single activations.* $\hat q_j$ is a unit's mean over the
# >   batch; applying $\mathrm{KL}(p \,\|\, h_j)$ to every activation forces every image to light
# >   every unit at level $p$, a dense code.
# > - *Reading the KL penalty as a per-image loss.* It is one number per batch, biased upwards
# >   for small batches (section 2): changing the batch size changes what a weight $\beta$ means.
# > - *Feeding ReLU codes to the Bernoulli KL.* The KL needs values in $(0, 1)$; a ReLU output of 3
# >   is not a probability. Use sigmoid codes (as here), the L1 penalty, or a top-$k$ code.
# > - *Reading sparsity off the mean alone.* A mean of $p$ is also reached when every unit sits
# >   at $h = p$ for every image, or when a few units are always on and the rest never. Print
# >   the on-share next to the mean, as section 4 does. Look at the
# >   histograms and count dead units.
# > - *Comparing penalties at different sparsity.* A penalty that looks cheaper may simply be
# >   weaker: compare at the same mean activation (section 3) or along a sweep (section 6).
# > - *Forgetting the loss convention when copying a penalty weight.* Our reconstruction loss is
# >   a sum over 784 pixels, 784 times a per-pixel mean; a penalty weight copied from code that
# >   uses the per-pixel mean is therefore 784 times too WEAK here (multiply it by 784).
# > - *Calling both L1s the same thing.* $|q - p|$ in the cost figure is a distance between a
# >   unit's mean activation and a target; the L1 activity penalty $\sum_j |h_j|$ has no target. And on
# >   sigmoid codes the activity penalty never makes a unit exactly 0.
# > - *Expecting an overcomplete code with no constraint to learn nothing.* It learns features
# >   (the unpenalised grid of section 7 shows them), but a dense code: a typical unit is on for
# >   a large share of the images and each image uses many units (section 4 prints both), so a
# >   unit's top images say little about what it contributes to any one image.
#
# ## Summary
#
# - An overcomplete code ($K = 1024 > D = 784$) has no bottleneck; a sparsity constraint limits
#   each unit's mean activation (the KL), the total activity (L1) or how many units each image
#   uses (top-$k$). How far it got in this run, section 4 printed: compare the counts with and
#   without a penalty, not with the word "few". The KL's target $p$ is a mean activation, not
#   the share of units on: print both.
# - Without a constraint the overcomplete code is dense: compare, with and without a penalty,
#   how many units one image uses and for how many images a unit is on (section 4 prints
#   both). A wide code *can* copy its input; whether a trained one does, images of noise
#   tell (section 4).
# - The L1 activity penalty pushes every activation towards 0 (on sigmoid codes the push fades
#   as $h \to 0$, and no code is exactly 0); the Bernoulli KL penalty
#   $\sum_j \mathrm{KL}(p \,\|\, \hat q_j)$ pushes each unit's mean activation over a batch
#   towards a target $p$, is one number per batch, and is biased upwards for small batches.
#   Its push on a silent unit's pre-activations is bounded (at most $\beta p$), and zero once
#   the unit's batch mean is below the clamp.
# - A top-$k$ code has exact zeros by construction; its knob is $k$, the number of units
#   active per image, instead of a penalty weight. Like the L1 penalty it can leave many units
#   dead; lowering $k$ gradually during training (Makhzani and Frey) is one remedy.
# - Sparsity has a price: measure it (reconstruction error, dead units) against the sparsity
#   reached, at a matched level or along a sweep, and compare the error with a linear
#   baseline (PCA with $k$ components).
# - Check sparsity on test data: the mean activation against the target, histograms, dead
#   units, and the units themselves (top-activating images, decoder features). Whether sparse
#   units are easier to name is a question for a measure with a noise floor (top-image purity
#   against shuffled labels), not a promise of sparsity.
# - The contractive penalty is $\lVert \partial h / \partial x \rVert_F^2$; for a sigmoid layer it
#   is $\sum_j (h_j(1-h_j))^2 \lVert W_j \rVert^2$, which autograd confirms. Its singular values
#   show in how many, and which, directions a code is sensitive.
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
