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
# # 01 · The linear autoencoder and PCA
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ae-course/autoencoders-pca-to-vae/blob/main/notebooks/01_linear_autoencoder_and_pca.ipynb)
#
# An autoencoder learns to copy its input to its output through a narrow middle layer. That sounds
# useless until you notice what the narrow layer forces: the network must find a short
# description of each input that keeps what matters. In this lesson we build the simplest
# autoencoder, one with no nonlinearity at all, and find that it rediscovers a method from 1901:
# principal component analysis (PCA).
#
# **Learning objectives.** After this lesson you can
# 1. name the parts of an autoencoder (encoder, code or latent space, decoder) and say what
#    "undercomplete" means;
# 2. write the two reconstruction losses of the course, squared error and binary cross-entropy,
#    and state the course's loss convention;
# 3. compute PCA with the singular value decomposition (SVD) and read its explained variance;
# 4. show that a linear autoencoder trained with squared error finds the PCA **subspace**, but not
#    necessarily the PCA **basis**, by measuring reconstruction errors and principal angles;
# 5. explain why nonlinear activations let an autoencoder do better than PCA.

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
# ## 1. Encoder, code, decoder
#
# An autoencoder is two functions trained together:
#
# $$ z = f_\theta(x) \quad \text{(encoder)}, \qquad \hat x = g_\phi(z) \quad \text{(decoder)}, $$
#
# where $x \in \mathbb{R}^D$ is an input (here an image with $D = 784$ pixels), $z \in
# \mathbb{R}^k$ is its **code**, and $\hat x$ is the **reconstruction**. The set of all possible
# codes is the **latent space**. Training adjusts the weights $\theta, \phi$ so that $\hat x$ is
# close to $x$ for the training images.
#
# If $k \ge D$ the network could learn the identity and copy the input, learning nothing. An
# **undercomplete** autoencoder has $k < D$: the code is a bottleneck, so the network has to
# compress. (Lesson 05 shows how *overcomplete* codes, $k > D$, can still be made useful.)
#
# ## 2. Reconstruction losses, and the course's convention
#
# How close is $\hat x$ to $x$? Two losses are used throughout the course.
#
# **Squared error**, for real-valued pixels:
# $$ \ell_{\text{SE}}(x, \hat x) = \sum_{i=1}^{D} (x_i - \hat x_i)^2 . $$
#
# **Binary cross-entropy (BCE)**, for pixels in $[0, 1]$ read as probabilities of "ink". The
# decoder outputs a logit $s_i$ per pixel and $p_i = \sigma(s_i)$ is the probability it predicts:
# $$ \ell_{\text{BCE}}(x, p) = -\sum_{i=1}^{D} \big[ x_i \log p_i + (1 - x_i)\log(1 - p_i) \big]. $$
# BCE is the negative log-likelihood of a Bernoulli distribution per pixel; squared error is
# (up to constants) the negative log-likelihood of a Gaussian. Lesson 06 makes this precise.
#
# > **The course's loss convention.** Every loss is **per image**: summed over the pixels of an
# > image (later also over latent dimensions), then **averaged over the images of the batch**.
# > For plain autoencoders we also report the **mean squared error per pixel**, which is the same
# > number divided by $D = 784$; it is the unit in which PCA and most benchmarks are written.
#
# Let us check the library's losses against the formulas on a tiny batch of two "images" of three
# pixels each.

# %%
from course_utils.losses import mean_bce_per_image, mean_sse_per_image, mse_per_pixel

x = torch.tensor([[0.0, 0.5, 1.0], [1.0, 1.0, 0.0]])  # (B=2, D=3)
x_hat = torch.tensor([[0.1, 0.4, 0.7], [0.8, 0.9, 0.3]])  # predictions strictly inside (0, 1)
by_hand = ((x - x_hat) ** 2).sum(dim=1).mean()  # sum over pixels, mean over images
print(f"squared error per image: by hand {by_hand:.4f}, mean_sse_per_image {mean_sse_per_image(x_hat, x):.4f}")
print(f"MSE per pixel: {mse_per_pixel(x_hat, x):.4f} = {by_hand:.4f} / 3")

logits = torch.logit(x_hat)  # the decoder's raw outputs; sigmoid(logits) = x_hat
bce_by_hand = -(x * x_hat.log() + (1 - x) * (1 - x_hat).log()).sum(dim=1).mean()
print(f"BCE per image: by hand {bce_by_hand:.4f}, mean_bce_per_image {mean_bce_per_image(logits, x):.4f}")

# %% [markdown]
# ## 3. PCA on a 3-D toy cloud
#
# Before images, a cloud of 500 points in 3-D that almost lies on a tilted plane: it spreads
# widely along two directions and only a little (standard deviation 0.15) off the plane. A good
# 2-D code for each point is its position **within** that plane.

# %%
from course_utils.data import toy_cloud
from course_utils.plots import cloud_figure

cloud = toy_cloud(n=500, noise=0.15, seed=0)  # (500, 3)
print("cloud:", tuple(cloud.shape))
cloud_figure(cloud, title="500 points near a tilted plane")

# %% [markdown]
# **PCA in four lines.** Centre the data, take its SVD $X - \bar x = U S V^\top$; the rows of
# $V^\top$ are the principal directions, ordered by the variance along them, which is
# $\lambda_j = s_j^2 / N$. Encoding is projecting onto the first $k$ directions; decoding maps the
# $k$ coordinates back and adds the mean.

# %%
mean = cloud.mean(dim=0)  # (3,)
_, s, vt = torch.linalg.svd(cloud - mean, full_matrices=False)  # vt: (3, 3), rows = directions
eigenvalues = s**2 / len(cloud)  # variance along each principal direction
print("variance along each principal direction:", eigenvalues)

# %% [markdown]
# The course package does exactly this in `course_utils.pca.PCA` (open the file: it is short).
# The reconstruction error of PCA has a closed form: the mean squared error per point equals the
# **sum of the discarded eigenvalues**. Here we keep two directions and discard one.

# %%
from course_utils.pca import PCA, principal_angles

pca2 = PCA(n_components=2).fit(cloud)
pca_error = mean_sse_per_image(pca2.reconstruct(cloud), cloud).item()
print(f"explained variance ratio: {pca2.explained_variance_ratio.numpy().round(4)}")
print(f"PCA reconstruction error {pca_error:.5f} = discarded eigenvalue {pca2.eigenvalues[2]:.5f}")
cloud_figure(cloud, pca2.reconstruct(cloud), title="PCA with k = 2: every point lands on the plane")

# %% [markdown]
# ## 4. A linear autoencoder on the same cloud
#
# Now the autoencoder: a linear encoder $z = W_e x + b_e$ with $W_e \in \mathbb{R}^{2 \times 3}$
# and a linear decoder $\hat x = W_d z + b_d$, trained with the squared error by gradient descent.
# It is `LinearAutoencoder` in `course_utils.models`, and we train it with `fit`, the one training
# loop of the course (`course_utils.train`).

# %%
from course_utils.models import LinearAutoencoder
from course_utils.plots import history_figure
from course_utils.train import fit

torch.manual_seed(0)  # the seed of this model's initial weights
toy_ae = LinearAutoencoder(n_inputs=3, n_latent=2)
toy_history = fit(toy_ae, cloud, epochs=200, batch_size=64, lr=1e-2, verbose=False)
history_figure(toy_history, title="linear autoencoder on the toy cloud", logy=True)

# %% [markdown]
# Two questions: does it reach PCA's error, the best any rank-2 linear map can do? And does it
# find the same plane? **Principal angles** answer the second: for two $k$-dimensional subspaces
# they are $k$ angles, all $0°$ when the subspaces coincide. The plane the autoencoder decodes
# to is spanned by the columns of $W_d$.

# %%
with torch.no_grad():
    ae_error = mean_sse_per_image(toy_ae(cloud), cloud).item()
W_d = toy_ae.decoder.weight.detach()  # (3, 2): its columns span the decoder's plane
angles = principal_angles(W_d, pca2.components.T)
print(f"reconstruction error: autoencoder {ae_error:.5f}, PCA {pca_error:.5f} "
      f"(ratio {ae_error / pca_error:.4f})")
print(f"principal angles between the two planes: {angles.numpy().round(2)} degrees")

# %% [markdown]
# The errors agree and the planes coincide. But the autoencoder's **basis** is not PCA's basis:
# the columns of $W_d$ are neither orthonormal nor aligned with the principal directions. Any
# invertible $2 \times 2$ matrix $A$ could be slipped between encoder and decoder
# ($W_d A^{-1}$ and $A W_e$) without changing a single reconstruction, so the loss cannot prefer
# one basis over another.

# %%
print("W_d^T W_d (would be the identity for an orthonormal basis):\n", (W_d.T @ W_d).numpy().round(3))
column_angles = [principal_angles(W_d[:, [j]], pca2.components[[j]].T).item() for j in range(2)]
print("angle between column j of W_d and principal direction j:", [f"{a:.1f}" for a in column_angles])

# %% [markdown]
# ## 5. PCA on images
#
# The same idea on real images, each a point in $\mathbb{R}^{784}$. We fit PCA on the training
# images and keep up to 200 components.

# %%
from course_utils.data import load_dataset

data = load_dataset(DATASET, seed=course.seed)
x_train = data.train.x.flatten(1)  # (N, 1, 28, 28) -> (N, 784)
x_test = data.test.x.flatten(1)
pca = PCA(n_components=200).fit(x_train)
cumulative = pca.eigenvalues.cumsum(0) / pca.eigenvalues.sum()
for k in (2, 10, 32, 100):
    print(f"k = {k:>3}: {cumulative[k - 1]:.1%} of the pixel variance")

# %% [markdown]
# The principal directions are themselves 784-pixel vectors, so we can look at them as images.
# The first ones are broad blobs (overall shape and brightness); later ones add finer detail.
# (Grey is zero; white and black are positive and negative weights.)

# %%
from course_utils.plots import images_figure

directions = pca.components[:10]
scaled = 0.5 + 0.5 * directions / directions.abs().amax(dim=1, keepdim=True)  # map to [0, 1]
images_figure(torch.cat([pca.mean[None], scaled]), ncols=11,
            titles=["mean"] + [f"PC {j + 1}" for j in range(10)],
            title=f"{data.name}: the mean image and the first ten principal directions")

# %% [markdown]
# **Check the closed form on real data.** On the images PCA was fitted on, the squared error per
# image equals the sum of the discarded eigenvalues (up to floating-point rounding).

# %%
for k in (10, 32):
    small = pca.truncated(k)
    measured = mean_sse_per_image(small.reconstruct(x_train), x_train).item()
    predicted = pca.eigenvalues[k:].sum().item()
    print(f"k = {k}: measured {measured:.3f}, sum of discarded eigenvalues {predicted:.3f} "
          "(squared error per image)")

# %% [markdown]
# ### Slider: how many components does an image need?
#
# The static figure shows reconstructions of eight test images from 2, 10 and 32 components.
# Below it, a slider lets you choose $k$ yourself (up to 200).

# %%
from IPython.display import display

from course_utils.pca import pca_reconstruction_figure, pca_view

examples = data.test.x[:8]  # (8, 1, 28, 28)
for k in (2, 10, 32):
    display(pca_reconstruction_figure(pca, examples, k))

# %% tags=["nbval-ignore-output"]
pca_view(pca, examples, k=10)

# %% [markdown]
# ## 6. The linear autoencoder on images: does it find PCA's subspace?
#
# Now the real experiment. For $k = 2, 10$ and $32$ we train a `LinearAutoencoder(784, k)` with
# the squared error and compare, **on the test images**, its error with PCA's, and its decoder's
# subspace with the first $k$ principal directions.

# %%
epochs = course.pick(full=20, fast=2)
results = {}
for k in (2, 10, 32):
    torch.manual_seed(0)
    model = LinearAutoencoder(n_inputs=784, n_latent=k).to(course.device)
    print(f"--- k = {k}")
    fit(model, x_train.to(course.device), epochs=epochs, lr=1e-3, batch_size=128, verbose=k == 32)
    model = model.cpu()
    with torch.no_grad():
        ae_mse = mse_per_pixel(model(x_test), x_test).item()
    pca_mse = mse_per_pixel(pca.truncated(k).reconstruct(x_test), x_test).item()
    angles = principal_angles(model.decoder.weight.detach(), pca.components[:k].T)
    results[k] = {"model": model, "ae": ae_mse, "pca": pca_mse, "angles": angles}

# %%
print(f"{data.name}, {epochs} epochs ({course.mode} mode); test MSE per pixel")
print(f"{'k':>3} {'PCA (SVD)':>10} {'linear AE':>10} {'AE / PCA':>9} {'median angle':>13} {'largest':>8}")
for k, r in results.items():
    print(f"{k:>3} {r['pca']:>10.5f} {r['ae']:>10.5f} {r['ae'] / r['pca']:>9.4f} "
          f"{r['angles'].median():>12.1f}° {r['angles'].max():>7.1f}°")
within = all(r["ae"] <= 1.02 * r["pca"] for r in results.values())
print("\nlinear AE within 2% of PCA for every k:", within)

# %% [markdown]
# Read the table row by row. PCA's error is the floor: no linear map with a $k$-dimensional code
# can do better (on the training data exactly; on test data in practice). In full mode the
# trained autoencoder lands within about a percent of it for every $k$; in fast mode it trains for
# only a couple of epochs on a small subset and stays further away, which the last line reports
# honestly.
#
# The **angles** deserve a second look. The median angle is small: most of the autoencoder's
# subspace is PCA's. The *largest* angle can be big for $k = 32$ even when the errors agree. The
# plot below shows why.

# %%
from course_utils.plots import NotebookFigure

fig = NotebookFigure(figsize=(10, 3.4), layout="constrained")
ax1, ax2 = fig.subplots(1, 2)
angles32 = results[32]["angles"]  # (32,), smallest first
ax1.plot(range(1, 33), angles32, "o-", markersize=3)
ax1.set(xlabel="principal angle index", ylabel="degrees", title="k = 32: principal angles, smallest first")
ax2.semilogy(range(1, 61), pca.eigenvalues[:60], "o-", markersize=3)
ax2.axvline(32.5, color="tab:red", ls="--", label="k = 32 cut")
ax2.set(xlabel="component", ylabel="eigenvalue (variance)", title="PCA spectrum")
ax2.legend()
fig

# %% [markdown]
# Around the cut at $k = 32$ the eigenvalues are almost equal, so swapping the 32nd direction
# for the 33rd changes the error by next to nothing. Gradient descent has no reason to pick one
# over the other in a few epochs, and it may settle on a mix: a large angle, yet an error almost
# identical to PCA's. Where there is a clear gap between kept and discarded eigenvalues (as in
# the toy cloud), every angle goes to zero.
#
# Another way to see "same subspace, different basis": the 2-D codes of PCA and of the linear
# autoencoder, coloured by class. They are the same picture up to a linear transformation
# (a rotation, stretch, maybe a mirror).

# %%
from course_utils.plots import codes_figure

codes_pca = pca.truncated(2).encode(x_test)
with torch.no_grad():
    codes_ae = results[2]["model"].encode(x_test)
display(codes_figure(codes_pca, data.test.y, data.classes, title="PCA codes (k = 2)"))
codes_figure(codes_ae, data.test.y, data.classes, title="linear autoencoder codes (k = 2)")

# %% [markdown]
# ## 7. Why nonlinearity matters
#
# A linear autoencoder can never beat PCA: composing linear maps gives a linear map, and PCA is
# the best rank-$k$ one. Put nonlinear activations between layers and the encoder can *bend*: it
# can follow a curved surface of images instead of a flat subspace. Here is a small preview of
# lesson 02, written inline: one hidden layer of 256 ReLU units on each side, the same code size
# $k = 10$ and the same loss and training loop.

# %%
torch.manual_seed(0)
deep = nn.Sequential(
    nn.Flatten(),                                   # (B, 1, 28, 28) -> (B, 784)
    nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10),   # encoder: 784 -> 10
    nn.Linear(10, 256), nn.ReLU(), nn.Linear(256, 784),   # decoder: 10 -> 784
    nn.Unflatten(1, (1, 28, 28)),                   # (B, 784) -> (B, 1, 28, 28)
).to(course.device)
deep_history = fit(deep, data.train.x.to(course.device), data.valid.x.to(course.device),
                   epochs=course.pick(full=8, fast=2), lr=1e-3, batch_size=128)
deep = deep.cpu()
with torch.no_grad():
    deep_mse = mse_per_pixel(deep(data.test.x), data.test.x).item()
print(f"test MSE per pixel with k = 10: PCA {results[10]['pca']:.5f}, nonlinear AE {deep_mse:.5f}")
print(f"the nonlinear AE's error is {deep_mse / results[10]['pca']:.0%} of PCA's")

# %%
from course_utils.plots import rows_figure

with torch.no_grad():
    show = data.test.x[:10]
    linear_recon = results[10]["model"](show).clamp(0, 1)
    deep_recon = deep(show).clamp(0, 1)
rows_figure({"original": show, "PCA / linear AE": linear_recon, "nonlinear AE": deep_recon},
          title="the same 10-number code, linear vs nonlinear")

# %% [markdown]
# With the same 10 numbers per image, the nonlinear network reconstructs noticeably better (in
# full mode; in fast mode it has barely trained). Lesson 02 builds deeper autoencoders properly.
#
# > **Common mistakes**
# > - *Forgetting to centre the data before the SVD.* Without subtracting the mean, the first
# >   "principal direction" mostly points at the mean image, and the errors no longer match the
# >   eigenvalues.
# > - *Expecting the autoencoder's weights to equal the principal directions.* They span the same
# >   subspace, but any invertible mix of them reconstructs equally well (section 4).
# > - *Comparing a training error with a test error.* PCA's closed form holds exactly on the data
# >   it was fitted on; compare models on the same held-out images.
# > - *Mixing loss conventions.* A sum over pixels is 784 times a mean over pixels. Say which one
# >   you report; this course trains with per-image sums and reports per-pixel means for plain
# >   autoencoders.
# > - *Applying a sigmoid before `binary_cross_entropy_with_logits`.* That function expects raw
# >   logits and applies the sigmoid itself; doing it twice silently gives wrong gradients.
#
# ## Summary
#
# - An autoencoder is an encoder and a decoder trained to reproduce the input through a code of
#   size $k$; undercomplete means $k < D$.
# - Losses are per image (summed over pixels, averaged over the batch); squared error suits
#   real-valued pixels, BCE suits pixels in $[0, 1]$ read as probabilities.
# - PCA by SVD gives the best rank-$k$ linear reconstruction; its error is the sum of the
#   discarded eigenvalues.
# - A linear autoencoder trained with squared error reaches PCA's error and its subspace, but not
#   its orthonormal, ordered basis. Principal angles measure how close two subspaces are.
# - Nonlinear activations let an autoencoder beat PCA at the same code size.

# %% [markdown]
# ## Quiz
#
# Check your understanding of encoders, losses, PCA and principal angles. Some questions ask for a
# small calculation: use the cells above as a calculator if you like.

# %% tags=["nbval-ignore-output"]
from course_utils.quiz import show_quiz

show_quiz("01_linear_autoencoder_and_pca")

# %% [markdown]
# Next: [02 · Stacked autoencoders](02_stacked_autoencoders.ipynb).
