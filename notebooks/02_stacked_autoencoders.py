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
# Lesson 01 ended with a preview: one hidden ReLU layer on each side of the code, and the
# autoencoder beat PCA at the same code size. Here we build such **stacked** autoencoders
# properly, halve their size by **tying** the decoder to the encoder, look at the codes they
# learn, and put the reconstruction error to work as an **anomaly detector**.
#
# **Learning objectives.** After this lesson you can
# 1. build a symmetric dense autoencoder (784-128-32-128-784) and compare it with PCA at the same
#    code size;
# 2. tie the decoder's weights to the encoder's (transposed, own biases), count the parameters
#    saved, and explain why the shared weight receives gradients from both uses;
# 3. picture a 32-dimensional latent space in 2-D and read what it shows and hides;
# 4. use reconstruction error as an anomaly score: histograms, ROC curve, AUROC, and precision
#    and recall at a chosen threshold.

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
# ## 1. A stacked autoencoder on Fashion-MNIST
#
# "Stacked" means several layers on each side: $784 \to 128 \to 32$ in the encoder and the mirror
# image $32 \to 128 \to 784$ in the decoder, with ReLU between layers, no activation on the code,
# and a sigmoid on the output so that pixels land in $[0, 1]$. It is `DenseAutoencoder` in
# `course_utils.models`. We train on Fashion-MNIST, the harder of the two datasets.

# %%
from course_utils.data import load_dataset

data = load_dataset("fashion_mnist", seed=course.seed)
x_train, x_valid, x_test = data.train.x, data.valid.x, data.test.x  # (N, 1, 28, 28) each

# %%
from course_utils.models import DenseAutoencoder, count_parameters
from course_utils.train import fit

epochs = course.pick(full=10, fast=2)
torch.manual_seed(0)  # the seed of this model's initial weights
dense = DenseAutoencoder(784, hidden=(128,), n_latent=32).to(course.device)
dense_history = fit(dense, x_train.to(course.device), x_valid.to(course.device),
                    epochs=epochs, lr=2e-3, batch_size=128)

# %% [markdown]
# The loss printed is the squared error **per image** (summed over 784 pixels, the course's
# training convention). To compare with PCA we report the mean squared error **per pixel** on the
# test images, and fit PCA with 32 components on the same training images.

# %%
from course_utils.losses import mse_per_pixel
from course_utils.pca import PCA

dense = dense.cpu()
with torch.no_grad():
    dense_mse = mse_per_pixel(dense(x_test), x_test).item()
pca32 = PCA(32).fit(x_train.flatten(1))  # (N, 784)
pca_mse = mse_per_pixel(pca32.reconstruct(x_test.flatten(1)), x_test.flatten(1)).item()
print(f"{data.name}, 32 numbers per image, {epochs} epochs ({course.mode} mode); test MSE per pixel:")
print(f"  PCA-32          {pca_mse:.5f}")
print(f"  stacked AE-32   {dense_mse:.5f}  ({dense_mse / pca_mse:.0%} of PCA's error)")

# %%
from course_utils.plots import rows_figure

with torch.no_grad():
    show = x_test[:10]
    rows_figure({"original": show,
               "PCA-32": pca32.reconstruct(show.flatten(1)).clamp(0, 1),
               "stacked AE-32": dense(show)},
              title="ten test images and their reconstructions from 32 numbers")

# %% [markdown]
# In full mode the stacked autoencoder's error is clearly below PCA's (the line above says by how
# much); in fast mode it trains for two epochs on 2,000 images and the numbers are rough. In the
# figure, both reconstructions are blurry, since 32 numbers cannot hold every stitch, but the
# autoencoder keeps outlines and bright/dark regions sharper: the nonlinear decoder can bend
# towards the curved set of clothing images instead of a flat 32-dimensional subspace.
#
# ## 2. Tied weights
#
# The decoder mirrors the encoder, so why not reuse the encoder's matrices? A **tied** autoencoder
# decodes with the transposes:
#
# $$ h = \mathrm{relu}(W_1 x + b_1),\; z = W_2 h + b_2, \qquad
#    h' = \mathrm{relu}(W_2^\top z + c_2),\; \hat x = \sigma(W_1^\top h' + c_1). $$
#
# Only the biases $c_1, c_2$ are new. The idea comes from the linear case, where the best decoder
# for an orthonormal encoder is its transpose (PCA is a tied linear autoencoder). Here is the
# decoder written out in three lines, before we switch to the library version
# (`TiedAutoencoder` in `course_utils.models`).

# %%
from torch import nn

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

# %% [markdown]
# The tied model has just over half the parameters: two weight matrices instead of four. The
# list shows what "shared" means in PyTorch: there is ONE tensor `encoder.0.weight`, used by the
# encoder as $W_1$ and by the decoder as $W_1^\top$. Autograd adds the gradients of both uses.
# Let us check that each use contributes:

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

# %%
tied_history = fit(tied, x_train.to(course.device), x_valid.to(course.device),
                   epochs=epochs, lr=2e-3, batch_size=128)
tied = tied.cpu()
with torch.no_grad():
    tied_mse = mse_per_pixel(tied(x_test), x_test).item()
print(f"test MSE per pixel: PCA-32 {pca_mse:.5f} | dense AE {dense_mse:.5f} "
      f"({count_parameters(dense):,} parameters) | tied AE {tied_mse:.5f} "
      f"({count_parameters(tied):,} parameters)")

# %% [markdown]
# Tying acts as a regulariser: fewer parameters and a decoder forced to be the encoder's mirror.
# The numbers above tell how much reconstruction quality it costs on this data and budget
# (in fast mode they are rough). Tied weights were popular when autoencoders were trained layer
# by layer to initialise deep networks; today they are mostly a way to halve the memory.
#
# ## 3. The latent space
#
# Each test image now has a 32-dimensional code. To look at 32 dimensions we project the codes
# onto their own first two principal components (PCA of the codes, a linear and fast choice;
# t-SNE would separate clusters more but distorts distances). Colours are the classes, which the
# autoencoder never saw; a few points show their image.

# %%
from course_utils.plots import codes_figure

with torch.no_grad():
    codes = dense.encode(x_test)  # (N, 32)
codes_2d = PCA(2).fit(codes).encode(codes)  # (N, 32) -> (N, 2)
codes_figure(codes_2d[:3000], data.test.y[:3000], data.classes, images=x_test[:3000],
           n_thumbnails=25, title="32-d codes of test images, projected to 2-D by PCA")

# %% [markdown]
# Without labels, the autoencoder has sorted the images: footwear (sandals, sneakers, ankle boots)
# forms its own region, trousers another, and the upper-body garments (T-shirts, pullovers, coats,
# shirts) overlap in a large cloud, because they share a silhouette. The thumbnails show that
# neighbouring codes hold similar-looking images. Keep in mind that this is a 2-D shadow of a
# 32-D space: points that overlap here may be apart in the other 30 dimensions.
#
# ## 4. Anomaly detection by reconstruction error
#
# An autoencoder reconstructs well what looks like its training data. Feed it something
# different and the error grows. So the error is an **anomaly score**.
#
# Which data is "normal"? We train a new stacked autoencoder on **handwritten digits** and use
# **Fashion-MNIST** images as the anomalies. The next cell says which data this machine has. If a
# second real dataset is missing, the notebook uses the embedded scikit-learn digits and/or crops
# of photos that ship with scikit-learn (no network), and says so.

# %%
from course_utils.anomaly import out_of_distribution_images

digits = load_dataset("mnist", seed=course.seed)  # in-distribution: digits
ood_x, ood_name = out_of_distribution_images(data, n=len(digits.test.x), seed=course.seed)
normal_x = digits.test.x
print(f"normal:    {len(normal_x):,} {digits.name} test images")
print(f"anomalies: {len(ood_x):,} {ood_name}")

# %%
torch.manual_seed(0)
digit_ae = DenseAutoencoder(784, hidden=(128,), n_latent=32).to(course.device)
fit(digit_ae, digits.train.x.to(course.device), digits.valid.x.to(course.device),
    epochs=course.pick(full=20, fast=5), lr=2e-3, batch_size=128, verbose=False)
digit_ae = digit_ae.cpu()

# %% [markdown]
# `reconstruction_errors` (in `course_utils.anomaly`) returns one number per image: its mean
# squared error per pixel.

# %%
from course_utils.anomaly import error_histograms_figure, reconstruction_errors

err_normal = reconstruction_errors(digit_ae, normal_x)  # (N,)
err_ood = reconstruction_errors(digit_ae, ood_x)  # (N,)
print(f"median error: normal {err_normal.median():.4f}, anomalies {err_ood.median():.4f}")
error_histograms_figure(err_normal, err_ood, names=(f"{digits.name} (normal)", "anomalies"))

# %% [markdown]
# The two histograms (note the log scale) barely overlap: the anomalies' errors are several times
# larger. Any threshold between the two humps flags most anomalies and few digits.
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

# %%
from course_utils.anomaly import roc_figure

auc_digits = auroc(err_normal, err_ood)
print(f"AUROC, {digits.name}-trained AE, anomalies = {ood_name.split(' (')[0]}: {auc_digits:.4f}")
roc_figure(err_normal, err_ood, label="digit AE")

# %% [markdown]
# ### Why this direction? Measure the reverse
#
# We could also train on clothes and treat digits as anomalies. Our Fashion-MNIST autoencoder
# from section 1 is ready, so let us measure that direction too, with the same tools.

# %%
err_fashion = reconstruction_errors(dense, x_test[: len(normal_x)])  # normal now: clothes
err_digits = reconstruction_errors(dense, normal_x)  # anomalies now: digits
auc_reverse = auroc(err_fashion, err_digits)
for name, e_norm, e_anom, auc in ((f"{digits.name}-trained", err_normal, err_ood, auc_digits),
                                  (f"{data.name}-trained", err_fashion, err_digits, auc_reverse)):
    ratio = e_anom.median() / e_norm.median()
    print(f"{name:<24} AUROC {auc:.4f}   median error anomalies / normal = {ratio:.1f}")
print(f"share of dark pixels (< 0.1): {data.name} {(x_test < 0.1).float().mean():.2f}, "
      f"{digits.name} {(normal_x < 0.1).float().mean():.2f}")
error_histograms_figure(err_fashion, err_digits, names=(f"{data.name} (normal)", f"{digits.name} (anomalies)"))

# %% [markdown]
# Compare the two lines. A raw reconstruction error also measures **how much ink** an image has.
# A digit is a thin stroke on a black background: most of its pixels are dark (the last line
# counts them) and easy to get right, so even a clothing autoencoder keeps its error on digits
# fairly small and the histograms come closer. In the other direction both effects add up: a
# garment has far more ink than a digit and looks nothing like one, so the digit autoencoder fails
# on it loudly (a larger ratio of median errors). In full mode this is why the lesson trains on
# digits and uses clothes as anomalies; check the numbers above in your own run (in fast mode the
# models are barely trained and either direction may come out ahead). The lesson for practice:
# before trusting an anomaly score, ask what else it measures (brightness, amount of detail).
#
# ### A threshold: precision and recall
#
# A deployed detector needs one threshold. At threshold $t$:
# precision = anomalies among the flagged images, recall = share of anomalies flagged. The figure
# below is `threshold_figure`, at the threshold that flags 5% of normal digits (the 95th
# percentile of their errors). Its rows show the flagged anomalies, the false alarms and the
# missed anomalies.

# %%
from course_utils.anomaly import flag_counts, threshold_figure

t95 = torch.quantile(err_normal, 0.95).item()
counts = flag_counts(err_normal, err_ood, t95)
print(f"threshold {t95:.4f}: precision {counts.precision:.3f}, recall {counts.recall:.3f}, "
      f"false alarms {counts.false_positives} of {len(err_normal)}")
names = (digits.name, "anomaly")
threshold_figure(err_normal, err_ood, normal_x, ood_x, t95, names=names)

# %% [markdown]
# The false alarms are the digits the autoencoder finds hardest (thick, oddly shaped or large
# strokes); the missed anomalies, if any, are garments with little ink, such as sandals and sneakers. Move the
# slider to trade false alarms for missed anomalies: lower thresholds raise recall and lower
# precision.

# %% tags=["nbval-ignore-output"]
from course_utils.anomaly import threshold_view

threshold_view(err_normal, err_ood, normal_x, ood_x, names=names)

# %% [markdown]
# > **Common mistakes**
# > - *Comparing reconstruction errors in different units.* Per image (summed) and per pixel
# >   (mean) differ by a factor 784; PCA, the dense and the tied AE above are all compared per
# >   pixel on the same test images.
# > - *Tying weights by copying them.* `decoder.weight = encoder.weight.T.clone()` creates a
# >   second tensor that drifts apart after the first step. Tied means ONE tensor used twice.
# > - *Reading distances in a 2-D picture of the latent space as distances in the code.* PCA and
# >   t-SNE plots are shadows; t-SNE in particular does not keep distances between clusters.
# > - *Choosing the anomaly threshold on the test anomalies.* In practice you rarely have
# >   anomalies to tune on; a common rule is a percentile of the errors on normal data, as above.
# > - *Forgetting that the score has a bias.* Reconstruction error grows with the amount of ink,
# >   so "train on clothes, detect digits" separates less well than the reverse.
#
# ## Summary
#
# - A stacked autoencoder (784-128-32-128-784) reconstructs clearly better than PCA with the same
#   32 numbers per image.
# - Tied weights reuse the encoder's matrices, transposed, with their own decoder biases: about
#   half the parameters; the shared tensor gets gradients from both uses.
# - A 2-D projection of the codes shows that similar images get similar codes, without labels.
# - Reconstruction error is an anomaly score; the ROC curve and AUROC rate it over all thresholds,
#   precision and recall at one threshold.
#
# ## Quiz

# %%
from course_utils.quiz import show_quiz

show_quiz("02_stacked_autoencoders")

# %% [markdown]
# Next: [03 · Convolutional autoencoders](03_convolutional_autoencoders.ipynb).
