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
# # 02 · Stacked (deep) autoencoders
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ae-course/autoencoders-pca-to-vae/blob/main/notebooks/02_stacked_autoencoders.ipynb)
#
# Lesson 01 ended with a preview: one hidden ReLU layer on each side of the code, measured
# against PCA at the same code size. Here we build such **stacked** autoencoders
# properly, halve their size by **tying** the decoder to the encoder, look at the codes they
# learn, and put the reconstruction error to work as an **anomaly detector**.
#
# **Learning objectives.** After this lesson you can
# 1. build a symmetric dense autoencoder (784-128-32-128-784) and compare it with PCA at the same
#    code size;
# 2. tie the decoder's weights to the encoder's (transposed, own biases), count the parameters
#    saved, and explain why the shared weight receives gradients from both uses,
#    and say what is (and is not) true about "the transpose is the best decoder";
# 3. picture a 32-dimensional latent space in 2-D and read what it shows and hides;
# 4. use reconstruction error as an anomaly score: histograms, ROC curve, AUROC, a threshold set
#    on validation data, precision and recall, and why precision depends on how rare anomalies
#    are while AUROC does not; compare with non-learned baselines.

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
# ## 1. A stacked autoencoder, written out
#
# "Stacked" means several layers on each side: $784 \to 128 \to 32$ in the encoder and the mirror
# image $32 \to 128 \to 784$ in the decoder. We use the second dataset of the course,
# Fashion-MNIST, when it is available; the next cell prints which data is really in use.

# %%
from course_utils.data import load_dataset

data = load_dataset("fashion_mnist", seed=course.seed)
x_train, x_valid, x_test = data.train.x, data.valid.x, data.test.x  # (N, 1, 28, 28) each

# %% [markdown]
# Here is the whole architecture in a few lines of PyTorch. ReLU sits between layers, a sigmoid
# on the output puts pixels in $[0, 1]$, and the **code layer has no activation**: a ReLU there
# would set every negative code value to 0, so a unit that goes negative for most images would
# carry almost no information (and a unit that is negative for every image gets no gradient at
# all, a "dead" unit). A linear code can use its whole range. Some tutorials do put a ReLU on the
# code; it works, but it wastes part of a 32-number budget.

# %%
from torch import nn

torch.manual_seed(0)
encoder = nn.Sequential(
    nn.Flatten(),  # (B, 1, 28, 28) -> (B, 784)
    nn.Linear(784, 128), nn.ReLU(),
    nn.Linear(128, 32),  # the code: no activation
)
decoder = nn.Sequential(
    nn.Linear(32, 128), nn.ReLU(),
    nn.Linear(128, 784), nn.Sigmoid(),  # pixels in [0, 1]
    nn.Unflatten(1, (1, 28, 28)),  # (B, 784) -> (B, 1, 28, 28)
)
by_hand = nn.Sequential(encoder, decoder)
print("x", tuple(x_train[:3].shape), "-> z", tuple(encoder(x_train[:3]).shape),
      "-> x_hat", tuple(by_hand(x_train[:3]).shape))

# %% [markdown]
# The same model lives in the package as `DenseAutoencoder` (with input checks and `encode` /
# `decode` methods). Its parameter count must match the one written above:

# %%
from course_utils.models import DenseAutoencoder, count_parameters

torch.manual_seed(0)  # the seed of this model's initial weights
dense = DenseAutoencoder(784, hidden=(128,), n_latent=32).to(course.device)
print(f"written above: {count_parameters(by_hand):,} parameters; DenseAutoencoder: "
      f"{count_parameters(dense):,}; equal: {count_parameters(by_hand) == count_parameters(dense)}")

# %%
# extra code – draw the architecture as a diagram
from course_utils.plots import flow_diagram_figure

flow_diagram_figure(
    [("x", "(B, 1, 28, 28)\nflatten: (B, 784)"), ("encoder", "784 -> 128, ReLU\n128 -> 32, linear"),
     ("z", "(B, 32)\nthe code"), ("decoder", "32 -> 128, ReLU\n128 -> 784, sigmoid"),
     ("x̂", "(B, 1, 28, 28)")],
    title="the stacked autoencoder 784-128-32-128-784")

# %% [markdown]
# **Training budget.** We fix the number of optimizer **steps** (mini-batches), not epochs, so
# that the same cell trains about as much on 54,000 images as on a small data set (one epoch of a
# small set is only a few steps). The loss is the squared error **per image** (summed over 784
# pixels, the course's training convention).

# %%
import math

from course_utils.train import fit

batch_size = 128


def epochs_for(steps: int, n_images: int) -> int:
    """Epochs that give about ``steps`` optimizer steps on ``n_images`` images."""
    return max(1, round(steps / math.ceil(n_images / batch_size)))


steps = course.pick(full=4000, fast=64)
epochs = epochs_for(steps, len(x_train))
dense_history = fit(dense, x_train.to(course.device), x_valid.to(course.device),
                    epochs=epochs, lr=2e-3, batch_size=batch_size, verbose=False)
print(f"{epochs} epochs of {len(x_train):,} images = about {steps:,} steps; "
      f"per-image squared error: train {dense_history.last('train_loss'):.2f}, "
      f"valid {dense_history.last('valid_loss'):.2f}")

# %% [markdown]
# To compare with PCA we report the mean squared error **per pixel** on the test images, and fit
# PCA with 32 components on the same training images.

# %%
from course_utils.losses import mse_per_pixel
from course_utils.pca import PCA
from course_utils.train import predict

dense = dense.cpu()
dense_mse = mse_per_pixel(predict(dense, x_test), x_test).item()
pca32 = PCA(32).fit(x_train.flatten(1))  # (N, 784)
pca_mse = mse_per_pixel(pca32.reconstruct(x_test.flatten(1)), x_test.flatten(1)).item()
print(f"{data.name}, 32 numbers per image, {steps:,} steps ({course.mode} mode); test MSE per pixel:")
print(f"  PCA-32          {pca_mse:.5f}")
print(f"  stacked AE-32   {dense_mse:.5f}  ({dense_mse / pca_mse:.0%} of PCA's error)")
print(f"stacked AE below PCA: {dense_mse < pca_mse}")

# %%
from course_utils.plots import rows_figure

show = x_test[:10]
rows_figure({"original": show,
             "PCA-32": pca32.reconstruct(show.flatten(1)).clamp(0, 1),
             "stacked AE-32": predict(dense, show)},
            title="ten test images and their reconstructions from 32 numbers")

# %% [markdown]
# The last line above says whether the stacked autoencoder beat PCA in this run. With the full
# budget it usually does, by a clear margin: the nonlinear decoder can bend towards the curved set
# of images instead of a flat 32-dimensional subspace. With the tiny fast-mode budget it may not,
# so read the verdict rather than this sentence. In the figure, both reconstructions are blurry:
# 32 numbers cannot hold every detail.
#
# How negative do the codes go? If most code units were negative for most images, a ReLU on the
# code would throw that information away. The cell counts it:

# %%
def encode(model, xb):
    return model.encode(xb)  # (B, 1, 28, 28) -> (B, 32)


codes = predict(dense, x_test, fn=encode)  # (N, 32)
negative = (codes < 0).float().mean().item()
always_negative = int(((codes < 0).all(dim=0)).sum())
print(f"share of code values below 0: {negative:.0%}; units negative on every test image: "
      f"{always_negative} of 32")
print(f"a ReLU on the code would zero {negative:.0%} of all code values")

# %% [markdown]
# ## 2. Tied weights
#
# The decoder mirrors the encoder, so why not reuse the encoder's matrices? A **tied** autoencoder
# decodes with the transposes:
#
# $$ h = \mathrm{relu}(W_1 x + b_1),\; z = W_2 h + b_2, \qquad
#    h' = \mathrm{relu}(W_2^\top z + c_2),\; \hat x = \sigma(W_1^\top h' + c_1). $$
#
# Only the biases $c_1, c_2$ are new. Where does the idea come from? From the **linear** case, and
# it is worth getting the fact right. Take a linear encoder $z = W(x - \bar x)$ with $W$ of shape
# $32 \times 784$ and orthonormal rows ($W W^\top = I$). For that fixed $W$, the decoder $D$ that
# minimises the squared error is **not** $W^\top$ in general; least squares gives
#
# $$ D^\star = \Sigma W^\top (W \Sigma W^\top)^{-1}, $$
#
# where $\Sigma$ is the covariance of the training images. $D^\star = W^\top$ only when the rows
# of $W$ span a subspace that $\Sigma$ maps into itself (an invariant subspace), for example the
# span of 32 eigenvectors, as in PCA. The true fact behind tying is this: **if the decoder is
# forced to be $W^\top$, the best linear autoencoder is PCA** (the error is the variance outside
# the span of $W$, smallest for the top 32 eigenvectors). The cell below checks all three on the
# data: a random orthonormal encoder decoded with $W^\top$ and with $D^\star$, and PCA.

# %%
X = x_train.flatten(1).double()  # (N, 784)
mean = X.mean(dim=0)
Sigma = (X - mean).T @ (X - mean) / len(X)  # (784, 784) covariance
T = x_test.flatten(1).double() - mean  # (N_test, 784) centred test images


def test_sse(W, D):
    """Squared error per image on the test set of encoder W (32, 784) and decoder D (784, 32)."""
    return ((T @ W.T @ D.T - T) ** 2).sum(dim=1).mean().item()


def least_squares_decoder(W):
    return Sigma @ W.T @ torch.linalg.inv(W @ Sigma @ W.T)  # (784, 32)


g = torch.Generator().manual_seed(0)
W_random = torch.linalg.qr(torch.randn(784, 32, generator=g, dtype=torch.float64))[0].T  # (32, 784)
W_pca = pca32.components.double()  # (32, 784), orthonormal rows
rows = {"random orthonormal W": W_random, "PCA components W": W_pca}
print(f"{'encoder':<22}{'decoder W^T':>13}{'least squares':>15}   (squared error per test image)")
errs = {}
for name, W in rows.items():
    errs[name] = test_sse(W, W.T), test_sse(W, least_squares_decoder(W))
    print(f"{name:<22}{errs[name][0]:>13.2f}{errs[name][1]:>15.2f}")
gap_pca = (least_squares_decoder(W_pca) - W_pca.T).abs().max().item()
print(f"random W: transpose worse than least squares: {errs['random orthonormal W'][0] > errs['random orthonormal W'][1]}")
print(f"PCA components W: least-squares decoder equals W^T (largest entry difference {gap_pca:.1e}): {gap_pca < 1e-6}")
print(f"PCA with W^T beats the random encoder with its best decoder: "
      f"{errs['PCA components W'][0] < errs['random orthonormal W'][1]}")

# %% [markdown]
# Read the three verdicts: for a random orthonormal encoder, its transpose is a poor decoder and
# least squares does much better; for PCA's encoder the two decoders coincide; and PCA with its
# transpose beats the random encoder even with the random encoder's best decoder. So "tied" is
# optimal only together with the right encoder, which training has to find. For a nonlinear
# autoencoder tying is simply a constraint, a form of weight sharing. Here is the tied decoder
# written out in three lines, before we switch to the library version (`TiedAutoencoder` in
# `course_utils.models`).

# %%
W1, W2 = torch.randn(128, 784), torch.randn(32, 128)  # encoder weights (out, in)
c2, c1 = torch.zeros(128), torch.zeros(784)  # the decoder's own biases
z = torch.randn(5, 32)  # five codes
x_hat = torch.sigmoid(nn.functional.relu(z @ W2 + c2) @ W1 + c1)  # z W2 = (W2^T z^T)^T
print("codes", tuple(z.shape), "-> reconstructions", tuple(x_hat.shape))

# %%
from course_utils.models import TiedAutoencoder

torch.manual_seed(0)
tied = TiedAutoencoder(784, hidden=(128,), n_latent=32).to(course.device)
print(f"{'':<16}{'parameters':>11}")
print(f"{'dense AE':<16}{count_parameters(dense):>11,}")
print(f"{'tied AE':<16}{count_parameters(tied):>11,}")
print(f"{'PCA-32':<16}{pca32.components.numel() + pca32.mean.numel():>11,}  (components + mean)")
for name, p in tied.named_parameters():
    print(f"  tied: {name:<18} {tuple(p.shape)}")
print(f"tied / dense parameters: {count_parameters(tied) / count_parameters(dense):.2f}")

# %% [markdown]
# The last line gives the tied model's share of the dense model's parameters: two weight matrices
# instead of four, plus the biases. The list shows what "shared" means in PyTorch: there is ONE
# tensor `encoder.0.weight`, used by the encoder as $W_1$ and by the decoder as $W_1^\top$.
# Autograd adds the gradients of both uses. Let us check that each use contributes:

# %%
x = x_test[:64].to(course.device)
grads = {}
for use in ("encoder only", "decoder only"):
    tied.zero_grad()
    z = tied.encode(x)
    z = z if use == "encoder only" else z.detach()  # detach: no gradient through the encoder
    loss = ((tied.decode(z) - x.flatten(1)) ** 2).sum() if use == "decoder only" else z.pow(2).sum()
    loss.backward()
    grads[use] = tied.encoder[0].weight.grad.norm().item()
print({k: f"{v:.3g}" for k, v in grads.items()}, "(norm of the gradient on W_1)")
print(f"both uses send a gradient to W_1: {all(v > 0 for v in grads.values())}")

# %%
tied_history = fit(tied, x_train.to(course.device), x_valid.to(course.device),
                   epochs=epochs, lr=2e-3, batch_size=batch_size, verbose=False)
tied = tied.cpu()
tied_mse = mse_per_pixel(predict(tied, x_test), x_test).item()
print(f"test MSE per pixel after {steps:,} steps: PCA-32 {pca_mse:.5f} | dense AE {dense_mse:.5f} "
      f"({count_parameters(dense):,} parameters) | tied AE {tied_mse:.5f} "
      f"({count_parameters(tied):,} parameters)")
print(f"tied AE's error relative to the dense AE's: {tied_mse / dense_mse:.2f}x")

# %% [markdown]
# Tying acts as a regulariser: fewer parameters and a decoder forced to be the encoder's mirror.
# The last line says how much reconstruction quality it cost (or saved) on this data and budget.
# Tied weights were popular when autoencoders were trained layer by layer to initialise deep
# networks; today they are mostly a way to halve the memory.
#
# ## 3. The latent space
#
# Each test image now has a 32-dimensional code. To look at 32 dimensions we project the codes
# onto their own first two principal components (PCA of the codes, a linear and fast choice;
# t-SNE would separate clusters more but distorts distances). Colours are the classes, which the
# autoencoder never saw; a few points show their image.

# %%
from course_utils.plots import codes_figure

codes_2d = PCA(2).fit(codes).encode(codes)  # (N, 32) -> (N, 2)
codes_figure(codes_2d[:3000], data.test.y[:3000], data.classes, images=x_test[:3000],
             n_thumbnails=25, title=f"32-d codes of {data.name} test images, projected to 2-D by PCA")

# %% [markdown]
# Which classes does the autoencoder keep apart, without labels? A picture invites stories, so we
# measure: for each test image, is its nearest neighbour in the 32-D code space of the same
# class? The cell prints that rate per class, best first.

# %%
sub, labels = codes[:2000], data.test.y[:2000]
dist = torch.cdist(sub, sub)  # (n, n) distances between codes
dist.fill_diagonal_(float("inf"))  # an image is not its own neighbour
same = (labels[dist.argmin(dim=1)] == labels).float()  # (n,)
rates = {data.classes[c]: same[labels == c].mean().item() for c in labels.unique().tolist()}
for name, rate in sorted(rates.items(), key=lambda kv: -kv[1]):
    print(f"  {name:<12} {rate:.0%}")
print(f"all classes: {same.mean():.0%} of nearest neighbours share the class (chance about "
      f"{1 / len(rates):.0%})")

# %% [markdown]
# Classes near the top of the list form tight groups in code space; classes near the bottom
# share their neighbourhoods with look-alike classes. On Fashion-MNIST footwear and trousers
# usually rank high and the upper-body garments (shirts, pullovers, coats) low, because they share
# a silhouette. Check it against your printout, which is what this run measured. And
# remember that the scatter is a 2-D shadow of a 32-D space: points that overlap there may be
# apart in the other 30 dimensions (the neighbour rates above use all 32).
#
# ## 4. Anomaly detection by reconstruction error
#
# An autoencoder reconstructs well what looks like its training data. Feed it something
# different and the error tends to grow. So the error is an **anomaly score**.
#
# Which data is "normal"? We train a new stacked autoencoder on **handwritten digits** and use
# images of another kind as anomalies: Fashion-MNIST test images when that dataset is really on
# this machine, otherwise crops of photos that ship with scikit-learn (no network needed). The
# next cell prints which sets are in use.

# %%
from course_utils.anomaly import out_of_distribution_images

digits = load_dataset("mnist", seed=course.seed)  # in-distribution: digits
ood_x, ood_name = out_of_distribution_images(data, n=len(digits.test.x), seed=course.seed)
normal_x = digits.test.x
print(f"normal:    {len(normal_x):,} {digits.name} test images "
      f"(plus {len(digits.valid.x):,} validation images to set the threshold)")
print(f"anomalies: {len(ood_x):,} {ood_name}")

# %%
torch.manual_seed(0)
digit_ae = DenseAutoencoder(784, hidden=(128,), n_latent=32).to(course.device)
digit_epochs = epochs_for(steps, len(digits.train.x))
fit(digit_ae, digits.train.x.to(course.device), digits.valid.x.to(course.device),
    epochs=digit_epochs, lr=2e-3, batch_size=batch_size, verbose=False)
digit_ae = digit_ae.cpu()
print(f"digit autoencoder: {digit_epochs} epochs of {len(digits.train.x):,} images = about {steps:,} steps")

# %% [markdown]
# `mse_per_pixel_per_image` (in `course_utils.anomaly`) returns one number per image: its mean
# squared error per pixel. The histograms are drawn over $\log_{10}$ of the error, so that both
# the small errors of the digits and the large errors of the anomalies get room, and each
# histogram has area 1.

# %%
from course_utils.anomaly import error_histograms_figure, mse_per_pixel_per_image

err_valid = mse_per_pixel_per_image(digit_ae, digits.valid.x)  # (N_valid,) normal, for the threshold
err_normal = mse_per_pixel_per_image(digit_ae, normal_x)  # (N,)
err_ood = mse_per_pixel_per_image(digit_ae, ood_x)  # (N,)
print(f"median error: normal {err_normal.median():.4f}, anomalies {err_ood.median():.4f} "
      f"(ratio {err_ood.median() / err_normal.median():.1f})")
error_histograms_figure(err_normal, err_ood, names=(f"{digits.name} (normal)", "anomalies"))

# %% [markdown]
# The printout gives the ratio of the two medians; the figure shows how much the two histograms
# overlap. Any threshold placed in an overlap flags some normal images and misses some anomalies.
# The ROC curve puts one number on the separation.
#
# ### ROC curve and AUROC, computed by hand
#
# A threshold $t$ flags every image with error $\ge t$. For each $t$ count
# - the **true positive rate** (recall): anomalies flagged / all anomalies;
# - the **false positive rate**: normal images flagged / all normal images.
#
# Sliding $t$ from $+\infty$ down to $-\infty$ traces the **ROC curve** from $(0, 0)$ to $(1, 1)$.
# Its area, **AUROC**, is the probability that a random anomaly scores higher than a random normal
# image (ties count one half): 1 is perfect, 0.5 is a coin toss. Sorting the scores once gives
# every point of the curve; a hand-sized example first:

# %%
from course_utils.anomaly import auroc, roc_curve

normal_toy, anomal_toy = torch.tensor([0.1, 0.2, 0.3]), torch.tensor([0.25, 0.4])
fpr, tpr, thresholds = roc_curve(normal_toy, anomal_toy)
print("thresholds", thresholds, "\nFPR       ", fpr, "\nTPR       ", tpr)
pairs = (anomal_toy[:, None] > normal_toy[None, :]).float().mean().item()  # (2, 3) comparisons
print(f"AUROC {auroc(normal_toy, anomal_toy):.4f} = share of (anomaly, normal) pairs in order {pairs:.4f}")

# %% [markdown]
# ### Is the autoencoder worth it? Two non-learned baselines
#
# Before crediting the autoencoder, compare it with scores that learn nothing or little:
# - **mean intensity**: the average pixel value, i.e. how much ink or light the image has;
# - **PCA-32 error**: the reconstruction error of PCA with 32 components fitted on the normal
#   training digits (a linear autoencoder, solved in closed form).

# %%
from course_utils.anomaly import roc_figure

digit_pca = PCA(32).fit(digits.train.x.flatten(1))  # (N, 784)


def pca_errors(pca, x):
    """Per-pixel MSE of PCA's reconstruction: (N, 1, 28, 28) -> (N,)."""
    return ((pca.reconstruct(x.flatten(1)) - x.flatten(1)) ** 2).mean(dim=1)


scores = {"stacked AE error": (err_normal, err_ood),
          "PCA-32 error": (pca_errors(digit_pca, normal_x), pca_errors(digit_pca, ood_x)),
          "mean intensity": (normal_x.mean(dim=(1, 2, 3)), ood_x.mean(dim=(1, 2, 3)))}
aucs = {name: auroc(*pair) for name, pair in scores.items()}
for name, value in aucs.items():
    print(f"  {name:<18} AUROC {value:.4f}")
print(f"stacked AE beats both baselines: {aucs['stacked AE error'] > max(aucs['PCA-32 error'], aucs['mean intensity'])}")
ax = roc_figure(*scores["stacked AE error"], label="stacked AE").axes[0]
roc_figure(*scores["PCA-32 error"], label="PCA-32", ax=ax, color="tab:green", chance=False)
roc_figure(*scores["mean intensity"], label="mean intensity", ax=ax, color="tab:orange", chance=False)
ax.figure

# %% [markdown]
# The verdict line says whether the autoencoder beat both baselines in this run. Note how far the
# crude mean-intensity score gets on its own (an AUROC below 0.5 would mean the anomalies are
# *darker* than the digits: flip the score and it detects them): much of what a reconstruction
# error measures is simply how much of the image is bright. PCA-32 is a strong baseline; on the
# full data a small autoencoder may beat it only narrowly, or not at all. Always report such
# baselines next to a learned detector.
#
# ### A threshold, set on validation data
#
# A deployed detector needs one threshold. A common rule needs no anomalies at all: accept a
# false-alarm rate, say 5%, and put the threshold at the 95th percentile of the errors of
# **normal validation images**. Then measure on the **test** images, which played no part in
# choosing it. (Taking the percentile of the test errors themselves would make "5% false alarms"
# true by construction, and the test would measure nothing.) At threshold $t$:
# precision = anomalies among the flagged images, recall = share of anomalies flagged.

# %%
from course_utils.anomaly import flag_counts, threshold_figure

t95 = torch.quantile(err_valid, 0.95).item()  # chosen on VALIDATION digits only
counts = flag_counts(err_normal, err_ood, t95)  # measured on the test sets
print(f"threshold {t95:.4f} (95th percentile of {len(err_valid):,} validation errors)")
print(f"on the test sets: false-alarm rate {counts.false_alarm_rate:.3f} (target 0.05), "
      f"recall {counts.recall:.3f}, precision {counts.precision:.3f}")
print(f"false-alarm rate within 0.02 of the target: {abs(counts.false_alarm_rate - 0.05) <= 0.02}")
names = (digits.name, "anomaly")
threshold_figure(err_normal, err_ood, normal_x, ood_x, t95, names=names)

# %% [markdown]
# The false-alarm rate on the test set lands near the 5% target when the validation and test
# digits come from the same distribution and the validation set is large enough; the verdict says
# whether it did here. The image rows show the anomalies caught, the false alarms (the digits the
# autoencoder finds hardest) and the anomalies missed: look at what the missed ones have in
# common with digits.
#
# ### Precision depends on how rare anomalies are
#
# The test above has as many anomalies as normal images: 50% **prevalence**. In practice anomalies
# are rare. Recall and the false-alarm rate do not change with prevalence (each is a share within
# one group), so neither do the ROC curve and AUROC. Precision does: with 1% anomalies, even 5%
# false alarms on the other 99% outnumber the anomalies caught. The cell keeps every normal test
# image, draws anomalies at random to reach each prevalence, and measures; the last column is
# the value Bayes' rule predicts (`precision_at_prevalence`).

# %%
from course_utils.anomaly import precision_at_prevalence

g = torch.Generator().manual_seed(0)
print(f"{'prevalence':>10} {'anomalies':>10} {'precision':>10} {'recall':>8} {'AUROC':>7} {'Bayes':>7}")
precisions = []
for prevalence in (0.5, 0.1, 0.01):
    n_anom = max(1, round(prevalence / (1 - prevalence) * len(err_normal)))
    pick = torch.randperm(len(err_ood), generator=g)[:n_anom]
    c = flag_counts(err_normal, err_ood[pick], t95)
    expected = precision_at_prevalence(counts.recall, counts.false_alarm_rate, prevalence)
    precisions.append(c.precision)
    print(f"{prevalence:>10.0%} {n_anom:>10,} {c.precision:>10.3f} {c.recall:>8.3f} "
          f"{auroc(err_normal, err_ood[pick]):>7.3f} {expected:>7.3f}")
print(f"precision falls as anomalies get rarer: {precisions[0] > precisions[1] > precisions[2]}")

# %% [markdown]
# Compare the columns: the AUROC stays about the same (it wobbles only because few anomalies are
# drawn at low prevalence), while precision drops as the anomalies get rarer, as the verdict line
# says. So a precision quoted without its prevalence means little; AUROC, recall and the
# false-alarm rate transfer between settings, precision must be recomputed.
#
# Move the slider to trade false alarms for missed anomalies: lower thresholds raise recall and
# lower precision.

# %% tags=["nbval-ignore-output"]
from course_utils.anomaly import threshold_view

threshold_view(err_normal, err_ood, normal_x, ood_x, names=names, threshold=t95)

# %% [markdown]
# ### The reverse direction: train on clothes, detect digits
#
# Does it matter which set is "normal"? Two effects pull in opposite directions. A digit is a thin
# stroke on black: most of its pixels are dark and easy to get right, which keeps a clothing
# model's error on digits small. But a thin stroke also looks nothing like a garment, which makes
# it large. Rather than argue, measure both directions with both detectors. This needs two real
# datasets: on the embedded fallback both names give the same digits, so the comparison would pit
# a set against itself; the cell then says so and skips it.

# %%
if data.is_fallback or digits.is_fallback:
    print(f"skipped: {data.name if data.is_fallback else digits.name} is the embedded fallback, "
          "so there is no real second dataset to swap in.")
else:
    n = min(len(x_test), len(normal_x))
    fashion_normal, digit_anomalies = x_test[:n], normal_x[:n]
    reverse = {"stacked AE error": (mse_per_pixel_per_image(dense, fashion_normal),
                                    mse_per_pixel_per_image(dense, digit_anomalies)),
               "PCA-32 error": (pca_errors(pca32, fashion_normal), pca_errors(pca32, digit_anomalies))}
    print(f"{'detector':<18}{digits.name + '-trained':>20}{data.name + '-trained':>24}   better direction")
    for name, pair in reverse.items():
        forward_auc, reverse_auc = aucs[name], auroc(*pair)
        better = f"{data.name}-trained" if reverse_auc > forward_auc else f"{digits.name}-trained"
        print(f"{name:<18}{forward_auc:>20.4f}{reverse_auc:>24.4f}   {better}")
    error_histograms_figure(*reverse["stacked AE error"],
                            names=(f"{data.name} (normal)", f"{digits.name} (anomalies)"))

# %% [markdown]
# The last column answers the question for each detector in this run (when the cell ran). The
# answer need not be the same for the autoencoder and for PCA, and it can change with the budget,
# which is the point: a claim like "this direction separates better" has to be measured, not
# reasoned out from how much ink the images have. The lesson for practice: before trusting an
# anomaly score, ask what else it measures (brightness, amount of detail) and compare it with a
# baseline that measures only that.
#
# > **Common mistakes**
# > - *Comparing reconstruction errors in different units.* Per image (summed) and per pixel
# >   (mean) differ by a factor 784; PCA, the dense and the tied AE above are all compared per
# >   pixel on the same test images.
# > - *Putting a ReLU on the code.* Negative code values are then lost; keep the code linear.
# > - *Believing the transpose is always the best decoder.* Only for PCA's encoder; for another
# >   orthonormal encoder the least-squares decoder $\Sigma W^\top (W \Sigma W^\top)^{-1}$ is better.
# > - *Tying weights by copying them.* `decoder.weight = encoder.weight.T.clone()` creates a
# >   second tensor that drifts apart after the first step. Tied means ONE tensor used twice.
# > - *Reading distances in a 2-D picture of the latent space as distances in the code.* PCA and
# >   t-SNE plots are shadows; t-SNE in particular does not keep distances between clusters.
# > - *Setting the threshold on the test set you report on.* Choose it on validation data.
# > - *Quoting precision without prevalence.* The same detector has high precision when half the
# >   images are anomalies and low precision when 1% are.
# > - *Skipping the baselines.* A reconstruction error also measures brightness; report the
# >   mean-intensity and PCA scores next to it.

# %% [markdown]
# ## Summary
#
# - A stacked autoencoder (784-128-32-128-784, ReLU between layers, a linear code, a sigmoid
#   output) takes a few lines of `nn.Sequential`; we measured it against PCA with the same 32
#   numbers per image.
# - Tied weights reuse the encoder's matrices, transposed, with their own decoder biases: about
#   half the parameters; the shared tensor gets gradients from both uses. In the linear case the
#   transpose is the best decoder only for PCA's encoder; forced to be tied, the best linear
#   autoencoder is PCA.
# - Nearest-neighbour rates in code space measure which classes the codes keep apart, without
#   labels; a 2-D projection only hints at it.
# - Reconstruction error is an anomaly score; ROC and AUROC rate it over all thresholds and do not
#   depend on prevalence; precision and recall at one threshold, chosen on validation data, and
#   precision does depend on prevalence. Compare with non-learned baselines.

# %% [markdown]
# [Exercise 02](../exercises/02_stacked_autoencoders.ipynb) [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ae-course/autoencoders-pca-to-vae/blob/main/exercises/02_stacked_autoencoders.ipynb)
# In the exercise you implement a tied decoder yourself (one weight tensor used twice) and the
# reconstruction-error anomaly score with its AUROC.
#
# ## Quiz

# %%
from course_utils.quiz import show_quiz

show_quiz("02_stacked_autoencoders")

# %% [markdown]
# Next: [03 · Convolutional autoencoders](03_convolutional_autoencoders.ipynb).
