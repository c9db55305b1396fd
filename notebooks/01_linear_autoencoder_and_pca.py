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
# 5. explain WHY it finds that subspace (Eckart-Young, and Baldi & Hornik 1989);
# 6. say when to use squared error and when BCE, and why BCE stays above zero on grey pixels;
# 7. explain why nonlinear activations let an autoencoder do better than PCA, on a curved toy and
#    on images.

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
# The diagram below shows the flow for a batch of $B$ images and the linear autoencoder of this
# lesson; the shapes under each box are those of the tensors and weight matrices.

# %%
from course_utils.plots import flow_diagram_figure

code_size = 10  # the code size drawn
flow_diagram_figure(
    [("x", "(B, 784)\nflattened images"), ("encoder", f"Linear(784, {code_size})\nW_e: ({code_size}, 784)"),
     ("z", f"(B, {code_size})\nthe code"), ("decoder", f"Linear({code_size}, 784)\nW_d: (784, {code_size})"),
     ("x̂", "(B, 784)\nreconstruction"), ("loss", "squared error\nsum over pixels, mean over B")],
    arrows=["", "", "", "", "compare with x"],
    title="A linear autoencoder: encoder -> code (bottleneck) -> decoder",
)

# %% [markdown]
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
# > number divided by $D = 784$: it does not grow with the image size, and most benchmark tables
# > use it. PCA's discarded variance (the sum of the dropped eigenvalues, section 3) is a squared
# > error **per image**; divide it by 784 to compare it with a per-pixel MSE.
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
# ### BCE has a floor on grey pixels
#
# Squared error is 0 for a perfect reconstruction. BCE is not, unless every target pixel is
# exactly 0 or 1. For one pixel with target $x_i$, the BCE $-[x_i \log p_i + (1-x_i)\log(1-p_i)]$
# is smallest at $p_i = x_i$, where it equals the pixel's **entropy**
# $H(x_i) = -[x_i \log x_i + (1-x_i)\log(1-x_i)]$: $\log 2 \approx 0.693$ nats for a grey
# $x_i = 0.5$, and 0 for black or white. Summed over an image this is
# `losses.bce_floor_per_image`. The cell below feeds the *perfect* prediction $p = x$ to the BCE.

# %%
from course_utils.losses import bce_floor_per_image, bce_per_image

targets = torch.tensor([[0.0, 1.0, 1.0], [0.0, 0.5, 0.9]])  # a binary "image" and a grey one
perfect_logits = torch.logit(targets, eps=1e-6)  # the decoder predicts p = x exactly
print("BCE of a perfect reconstruction:", bce_per_image(perfect_logits, targets).numpy().round(4))
print("BCE floor (summed pixel entropy):", (bce_floor_per_image(targets) + 0.0).numpy().round(4))
print("squared error of the same reconstruction:", ((torch.sigmoid(perfect_logits) - targets) ** 2).sum(1).numpy().round(6))

# %% [markdown]
# The first image is binary: its floor is (numerically) 0. The second has grey pixels, and even a
# perfect reconstruction pays their entropy. So on grey images a BCE value mixes two things: how
# far the model is from the targets, and how grey the targets are. Section 5 measures the floor
# on real images.
#
# **When to use which.** Squared error suits any real-valued target (it is the Gaussian negative
# log-likelihood up to constants) and is 0 at a perfect fit, so it is easy to read and to compare
# with PCA. BCE suits targets in $[0, 1]$ read as probabilities of "ink", is a true likelihood only
# for binary pixels, and pushes harder on mostly-black/mostly-white pixels (its gradient with
# respect to the logit is $p - x$, not damped by the sigmoid's flat ends). A linear autoencoder and
# PCA are about squared error, so this lesson trains with it; later lessons use BCE where a
# likelihood view helps, and report it above its floor.

# %% [markdown]
# ## 3. PCA on a 3-D toy cloud
#
# Before images, a cloud of 500 points in 3-D that almost lies on a tilted plane: it spreads
# widely along two directions and only a little (standard deviation 0.15) off the plane. A good
# 2-D code for each point is its position **within** that plane.

# %%
from course_utils.plots import cloud_figure
from course_utils.toy_manifolds import toy_cloud

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
# The course package does the same in `course_utils.pca.PCA` (open the file: it is short), with
# one shortcut when there are many more points than coordinates: since
# $X_c^\top X_c / N = V \operatorname{diag}(s_j^2 / N) V^\top$, the eigenvectors of the
# $D \times D$ covariance ARE the principal directions and its eigenvalues are the $\lambda_j$.
# For 54,000 images of 784 pixels, a 784 x 784 matrix is far cheaper to decompose than the data.
# The reconstruction error of PCA has a closed form: the mean squared error per point equals the
# **sum of the discarded eigenvalues**. Here we keep two directions and discard one.

# %%
from course_utils.pca import PCA, principal_angles_deg

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
# In PyTorch that is two `nn.Linear` layers and nothing between them:

# %%
torch.manual_seed(0)
encoder = nn.Linear(3, 2)  # W_e: (2, 3), b_e: (2,)   x (B, 3) -> z (B, 2)
decoder = nn.Linear(2, 3)  # W_d: (3, 2), b_d: (3,)   z (B, 2) -> x_hat (B, 3)
x_hat = decoder(encoder(cloud[:4]))
print("x:", tuple(cloud[:4].shape), "-> z:", tuple(encoder(cloud[:4]).shape), "-> x_hat:", tuple(x_hat.shape))

# %% [markdown]
# The course package keeps exactly these two layers, with `encode` and `decode` methods and shape
# checks, as `LinearAutoencoder` in `course_utils.models` (open it: it is a dozen lines). We train
# it with `fit`, the one training loop of the course (`course_utils.train`).

# %%
from course_utils.models import LinearAutoencoder
from course_utils.plots import history_figure
from course_utils.train import fit

torch.manual_seed(0)  # the seed of this model's initial weights
toy_ae = LinearAutoencoder(n_inputs=3, n_latent=2)
print(toy_ae)
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
angles = principal_angles_deg(W_d, pca2.components.T)
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
column_angles = [principal_angles_deg(W_d[:, [j]], pca2.components[[j]].T).item() for j in range(2)]
print("angle between column j of W_d and principal direction j:", [f"{a:.1f}" for a in column_angles])

# %% [markdown]
# ### Why the linear autoencoder lands on PCA's subspace
#
# Two classical results explain what we just measured.
#
# **1. PCA is the floor (Eckart-Young, 1936).** Stack the centred data as a matrix
# $X_c$ ($N \times D$). Whatever its weights, a linear autoencoder reconstructs
# $\hat X = X_c W_e^\top W_d^\top$ (plus a constant), a matrix of rank at most $k$. The
# Eckart-Young theorem says that the best rank-$k$ approximation of $X_c$ in squared (Frobenius)
# error is its truncated SVD, i.e. the projection onto the first $k$ principal directions, and
# that its error is the sum of the discarded squared singular values: $N$ times the sum of the
# discarded eigenvalues. So no linear autoencoder can beat PCA on the data PCA was fitted on.
#
# **2. Gradient descent gets there (Baldi and Hornik, 1989).** Reaching the floor is not obvious:
# the loss is not convex in $(W_e, W_d)$. Baldi and Hornik analysed exactly this network and loss
# and showed, when the covariance's eigenvalues are distinct, that every critical point projects
# onto a subspace spanned by some $k$ eigenvectors, that only the top-$k$ choice is a minimum,
# and that every other critical point is a **saddle**, not a trap. At the minimum
# $W_d W_e = V_k V_k^\top$, the orthogonal projection onto PCA's subspace, with
# $W_e = C V_k^\top$ and $W_d = V_k C^{-1}$ for **any** invertible $k \times k$ matrix $C$. That is
# why the subspace is determined and the basis is not.
#
# The cell below tests that prediction on the trained toy model. A projection onto a plane has
# eigenvalues $(1, 1, 0)$; the cell prints those of $W_d W_e$, its largest entry-wise difference
# from $V_2 V_2^\top$, and whether the eigenvalues are within 0.05 of $(1, 1, 0)$.

# %%
W_e = toy_ae.encoder.weight.detach()  # (2, 3)
P_pca = pca2.components.T @ pca2.components  # (3, 3) projection onto the PCA plane
gap = (W_d @ W_e - P_pca).abs().max().item()
eig = torch.linalg.eigvals(W_d @ W_e).real.sort(descending=True).values  # (3,)
print("W_d W_e:\n", (W_d @ W_e).numpy().round(3), "\nV_2 V_2^T:\n", P_pca.numpy().round(3))
print(f"eigenvalues of W_d W_e: {eig.numpy().round(3)}; largest |W_d W_e - V_2 V_2^T|: {gap:.3f}")
print("W_d W_e is (nearly) a projection onto a plane:", bool((eig - torch.tensor([1.0, 1.0, 0.0])).abs().max() < 0.05))

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
# `data.name` above says which images this run uses. If it reads "embedded fallback", neither
# MNIST nor Fashion-MNIST was found, and every number below is about scikit-learn's small digit
# scans instead, whatever `DATASET` says.
#
# **The BCE floor on these images.** Section 2 showed that BCE cannot reach 0 on grey pixels.
# How large is that floor here, per image?

# %%
floor = bce_floor_per_image(data.test.x)  # (N,) summed pixel entropy of each test image
grey = ((data.test.x > 0.01) & (data.test.x < 0.99)).float().mean().item()
print(f"{data.name}: {grey:.1%} of test pixels are grey (strictly between 0.01 and 0.99)")
print(f"BCE floor: {floor.mean():.1f} nats per image on average (min {floor.min():.1f}, max {floor.max():.1f})")
print("a perfect reconstruction would still have BCE > 0 on these images:", bool(floor.mean() > 0.1))

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
#
# The training budget is set in **optimizer steps** (mini-batches), not epochs, so that a small
# dataset (the fallback, or fast mode's subset) gets as many updates as the full one; the cell
# turns the steps into epochs for this dataset's size.
#
# **The learning rate decays to zero.** With a constant learning rate, Adam keeps taking steps of
# the same size until the end and the weights jitter around the best subspace instead of
# settling in it. `CosineDecay()` (in `course_utils.schedules`, a few lines) reads the starting
# learning rate from the optimizer and lowers it along half a cosine, from `lr` at the first step
# to 0 at the last; that lets us start three times higher (3e-3 instead of Adam's usual 1e-3)
# and still end precisely.

# %%
import math

from course_utils.schedules import CosineDecay

steps = course.pick(full=6000, fast=60)  # optimizer steps per model
batch_size, lr = 128, 3e-3
epochs = max(1, math.ceil(steps / math.ceil(len(x_train) / batch_size)))
print(f"{len(x_train):,} training images: {steps:,} steps of {batch_size} = {epochs} epochs")
results = {}
for k in (2, 10, 32):
    torch.manual_seed(0)
    model = LinearAutoencoder(n_inputs=784, n_latent=k).to(course.device)
    history = fit(model, x_train.to(course.device), epochs=epochs, lr=lr, batch_size=batch_size,
                  callbacks=[CosineDecay()], verbose=False)
    print(f"k = {k:>2}: final training loss {history.last('train_loss'):.3f} (squared error per image)")
    model = model.cpu()
    with torch.no_grad():
        ae_mse = mse_per_pixel(model(x_test), x_test).item()
    pca_mse = mse_per_pixel(pca.truncated(k).reconstruct(x_test), x_test).item()
    angles = principal_angles_deg(model.decoder.weight.detach(), pca.components[:k].T)
    results[k] = {"model": model, "ae": ae_mse, "pca": pca_mse, "angles": angles}

# %%
print(f"{data.name}, {epochs} epochs ({course.mode} mode); test MSE per pixel")
print(f"{'k':>3} {'PCA':>10} {'linear AE':>10} {'AE / PCA':>9} {'median angle':>13} {'largest':>8}")
for k, r in results.items():
    print(f"{k:>3} {r['pca']:>10.5f} {r['ae']:>10.5f} {r['ae'] / r['pca']:>9.4f} "
          f"{r['angles'].median():>12.1f}° {r['angles'].max():>7.1f}°")
within = all(r["ae"] <= 1.005 * r["pca"] for r in results.values())
print("\nlinear AE within 0.5% of PCA for every k:", within)

# %% [markdown]
# Read the table row by row. PCA's error is the floor: no linear map with a $k$-dimensional code
# can do better on the training data (Eckart-Young); on test data it is the floor in practice, not
# by theorem. The last line prints whether the trained autoencoders got within 0.5% of PCA for every
# $k$. When a row misses, look for two ordinary causes before doubting the theory. One is short
# training: fast mode's few dozen steps are not enough. The other is a small training set (the
# embedded fallback has about 1,300 images): PCA's directions are then estimated from few
# examples, directions of nearly equal variance are hard to tell apart, and the largest angle
# can be big while the error hardly moves (the next cells print how close consecutive
# eigenvalues are).
#
# **The whole curve.** PCA costs one decomposition, so we can draw its test error for every $k$ up to 200,
# and place the three autoencoders on it.

# %%
from course_utils.pca import errors_for_every_k
from course_utils.plots import NotebookFigure

pca_curve = errors_for_every_k(pca, x_test) / 784  # (200,) test MSE per pixel for k = 1..200
fig = NotebookFigure(figsize=(6.5, 3.6), layout="constrained")
ax = fig.subplots()
ax.semilogy(range(1, 201), pca_curve, "-", label="PCA, every k")
ax.semilogy(list(results), [r["ae"] for r in results.values()], "o", color="tab:red",
            markersize=8, label="linear autoencoder")  # fmt: skip
ax.set(xlabel="code size k", ylabel="test MSE per pixel", title=f"{data.name}: test error vs k")
ax.grid(alpha=0.3)
ax.legend()
display(fig)
drops = {k: 1 - pca_curve[k - 1].item() / pca_curve[0].item() for k in (10, 32, 100, 200)}
print("PCA test error, share removed compared with k = 1:", {k: f"{d:.0%}" for k, d in drops.items()})
print("each extra component lowers PCA's test error (or leaves it unchanged):", bool((pca_curve.diff() <= 1e-7).all()))
n_carrying = int((pca.eigenvalues > 1e-6 * pca.eigenvalues[0]).sum())
print(f"directions that carry variance in the training images: {n_carrying} of {len(pca.eigenvalues)}")

# %% [markdown]
# The curve falls steeply for the first few components and then flattens: each new direction
# carries less variance than the one before, as the printed shares show. The last line counts the
# directions with any variance at all: on real MNIST or Fashion-MNIST it is in the hundreds, but
# the embedded fallback's images are 8x8 scans enlarged to 28x28, so at most 64 directions carry
# variance and its curve drops to rounding level there. The red dots sit on or
# just above the curve when the autoencoders reached PCA (the table's verdict above).
#
# The **angles** deserve a second look. The median angle is small when training went well: most of
# the autoencoder's subspace is PCA's. The *largest* angle can still be big for $k = 32$ even when
# the errors agree. The plot and the numbers below show why.

# %%
fig = NotebookFigure(figsize=(10, 3.4), layout="constrained")
ax1, ax2 = fig.subplots(1, 2)
angles32 = results[32]["angles"]  # (32,), smallest first
ax1.plot(range(1, 33), angles32, "o-", markersize=3)
ax1.set(xlabel="principal angle index", ylabel="degrees", title="k = 32: principal angles, smallest first")
ax2.semilogy(range(1, 61), pca.eigenvalues[:60], "o-", markersize=3)
ax2.axvline(32.5, color="tab:red", ls="--", label="k = 32 cut")
ax2.set(xlabel="component", ylabel="eigenvalue (variance)", title="PCA spectrum")
ax2.legend()
display(fig)
ratio_cut = (pca.eigenvalues[31] / pca.eigenvalues[32]).item()
ratio_toy = (pca2.eigenvalues[1] / pca2.eigenvalues[2]).item()
print(f"eigenvalue 32 / eigenvalue 33 on the images: {ratio_cut:.3f}; "
      f"eigenvalue 2 / eigenvalue 3 on the toy cloud: {ratio_toy:.1f}")

# %% [markdown]
# The printed ratios compare the gap at the cut. On the images the 32nd and 33rd eigenvalues are
# nearly equal (a ratio close to 1), so swapping the 32nd direction for the 33rd changes the error
# by next to nothing. Gradient descent has little reason to pick one over the other within a
# limited budget, and it may settle on a mix: a large last angle, yet an error almost identical to
# PCA's. Baldi and Hornik's result needs distinct eigenvalues for exactly this reason. On the toy
# cloud the gap is large (the second ratio), and section 4's angles were all close to zero.
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
# can follow a curved surface instead of a flat subspace.
#
# **A curve in the plane.** The simplest picture: points near a half circle. They live in 2-D, but
# one number (where along the arc a point sits) describes each of them. PCA with $k = 1$ can only
# project onto a straight line. A small autoencoder with a `Tanh` hidden layer on each side and a
# 1-D code can learn to follow the arc.

# %%
from course_utils.toy_manifolds import curve_fit_figure, noisy_arc
from course_utils.train import predict

arc = noisy_arc(n=1000, noise=0.05, seed=0)  # (1000, 2): a 1-D curve in 2-D, plus noise
torch.manual_seed(0)
curve_ae = nn.Sequential(
    nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 1),  # encoder: 2 -> 32 -> 1
    nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 2),  # decoder: 1 -> 32 -> 2
)
arc_steps = course.pick(full=1600, fast=400)  # optimizer steps; 16 batches of 64 per epoch
fit(curve_ae, arc, epochs=arc_steps // 16, batch_size=64, lr=1e-2, verbose=False)
pca_arc = PCA(n_components=1).fit(arc)
arc_pca_err = mean_sse_per_image(pca_arc.reconstruct(arc), arc).item()
arc_ae_err = mean_sse_per_image(predict(curve_ae, arc), arc).item()
print(f"squared error per point with a 1-D code: PCA {arc_pca_err:.4f}, nonlinear AE {arc_ae_err:.4f}")
print(f"nonlinear AE below half of PCA's error: {arc_ae_err < 0.5 * arc_pca_err}")
curve_fit_figure(arc, {"PCA, k = 1": pca_arc.reconstruct(arc), "nonlinear AE, k = 1": predict(curve_ae, arc)},
                 title="one number per point: a straight line vs a learned curve")

# %% [markdown]
# The cell prints both errors and whether the autoencoder's is below half of PCA's. PCA's error
# here is the variance it throws away, all the spread across its line (its second eigenvalue,
# `pca_arc.eigenvalues[1]`). When the autoencoder has learned the arc, its red points trace the
# curve and its error approaches the noise level; read the verdict and the right panel to see
# whether this run got there.
#
# **The same on images.** Here is a small preview of lesson 02, written inline: one hidden layer
# of 256 ReLU units on each side, the same code size $k = 10$ as the linear models, the same loss,
# and the same optimizer steps with the same decaying learning rate.

# %%
torch.manual_seed(0)
deep = nn.Sequential(
    nn.Flatten(),                                   # (B, 1, 28, 28) -> (B, 784)
    nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10),   # encoder: 784 -> 10
    nn.Linear(10, 256), nn.ReLU(), nn.Linear(256, 784),   # decoder: 10 -> 784
    nn.Unflatten(1, (1, 28, 28)),                   # (B, 784) -> (B, 1, 28, 28)
).to(course.device)
deep_history = fit(deep, data.train.x.to(course.device), data.valid.x.to(course.device),
                   epochs=epochs, lr=lr, batch_size=batch_size, callbacks=[CosineDecay()],
                   verbose=False)
deep = deep.cpu()
deep_mse = mse_per_pixel(predict(deep, data.test.x), data.test.x).item()
print(f"{data.name}, {epochs} epochs; test MSE per pixel with k = 10: "
      f"PCA {results[10]['pca']:.5f}, nonlinear AE {deep_mse:.5f}")
print(f"the nonlinear AE's error is {deep_mse / results[10]['pca']:.0%} of PCA's; "
      f"below PCA's: {deep_mse < results[10]['pca']}")

# %%
from course_utils.plots import rows_figure

with torch.no_grad():
    show = data.test.x[:10]
    linear_recon = results[10]["model"](show).clamp(0, 1)
    deep_recon = deep(show).clamp(0, 1)
rows_figure({"original": show, "PCA / linear AE": linear_recon, "nonlinear AE": deep_recon},
          title="the same 10-number code, linear vs nonlinear")

# %% [markdown]
# The cell before the images printed whether the nonlinear network, with the same 10 numbers per
# image and the same number of steps, beat PCA on the test images, and by how much. With the
# full budget it usually does; a short run (fast mode) may not have trained long enough, and
# then the verdict says so. Lesson 02 builds deeper autoencoders properly.
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
# > - *Reading a BCE of, say, 60 nats as "60 nats of error".* On grey targets part of it is the
# >   floor (the summed pixel entropy, section 5), which no model can remove. Compare BCE values
# >   above the floor, or use squared error, which is 0 at a perfect fit.
# > - *Comparing a per-image number with a per-pixel one.* PCA's sum of discarded eigenvalues is a
# >   squared error per image; divide by 784 before comparing it with an MSE per pixel.
# > - *Calling a linear autoencoder "nonlinear PCA" because it has two layers.* Without an
# >   activation between them, the layers compose to one linear map of rank at most $k$.
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
# - Why: the best rank-$k$ approximation is the truncated SVD (Eckart-Young), and the linear
#   autoencoder's loss has no bad local minima, only saddles, when the eigenvalues are distinct
#   (Baldi and Hornik 1989); its minimum fixes the subspace, not the basis.
# - BCE on grey targets has a floor, the summed pixel entropy: it is above 0 even for a perfect
#   reconstruction.
# - Nonlinear activations let an autoencoder bend: on the curved toy a 1-D nonlinear code follows
#   the arc that PCA's line cuts across, and on images the nonlinear AE can beat PCA at the same
#   code size (each verdict above says whether this run did).

# %% [markdown]
# ## Exercise
#
# [Exercise 01](../exercises/01_linear_autoencoder_and_pca.ipynb) [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ae-course/autoencoders-pca-to-vae/blob/main/exercises/01_linear_autoencoder_and_pca.ipynb)
#
# In the exercise you implement PCA by SVD yourself (centring, the principal directions, the
# eigenvalues, encoding and decoding) and the reconstruction losses, and a check cell after each
# task tells you what is right or wrong.

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
