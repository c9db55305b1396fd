# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: nbgrader,tags,-all
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
# # Exercise 01 · The linear autoencoder and PCA
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ae-course/autoencoders-pca-to-vae/blob/main/solutions/01_linear_autoencoder_and_pca.ipynb)
#
# This exercise goes with [lesson 01](../notebooks/01_linear_autoencoder_and_pca.ipynb). The
# lesson used `course_utils.pca`; here you write PCA yourself, measure how far apart two
# subspaces are, write the training step of a linear autoencoder, and read PCA's ordered basis
# back from a trained one.
#
# **How the exercises work.**
# - Each task cell says `# YOUR CODE HERE` and `raise NotImplementedError()`. Replace those two
#   lines with your code; keep the `def` line, the function's name and its arguments.
# - Run the check cell right below the task. It prints one line: ✅ right, ❌ wrong (and what is
#   wrong), or ⏳ not attempted yet. It tests your code on random inputs you have not seen, so a
#   hard-coded answer fails, and it notices when you call the course's own version instead of
#   writing it.
# - "Predict, then run" questions: write your prediction BEFORE you run the cell that shows the
#   answer. Guessing after looking teaches nothing.
# - Do not delete or edit the check cells: your instructor grades with the original ones.
# - Check messages in Vietnamese: open this notebook's Vietnamese edition (the link above), or
#   run `%env COURSE_LANG=vi` in a cell and run the check again; `%env COURSE_LANG=en` switches
#   back to English.

# %%
# Setup (extra code): on Colab, install the course package; locally it is already installed.
# Colab already has every dependency, so --no-deps leaves its own torch and Jupyter untouched.
import sys

if "google.colab" in sys.modules:
    print("Colab: installing the course package from GitHub")
    # %pip install -q --no-deps "autoencoders-course @ git+https://github.com/ae-course/autoencoders-pca-to-vae"

# %%
import torch
from torch import Tensor, nn

from course_utils import setup_course

course = setup_course(seed=0)


# %% [markdown]
# ## Task 1 · PCA by SVD (2 points)
#
# Stack $N$ samples as the rows of $X \in \mathbb{R}^{N \times D}$. PCA needs the data **centred**:
# subtract the mean sample $\bar x$ from every row. The singular value decomposition of the
# centred data,
# $$ X - \bar x = U \, \mathrm{diag}(s) \, V^\top, $$
# gives the principal directions as the rows of $V^\top$ (`Vh` in `torch.linalg.svd`), already
# sorted by variance, largest first.
#
# Write `fit_pca(x, k)` that returns `(mean, components)`: the mean `(D,)` and the first `k`
# principal directions as the ROWS of a `(k, D)` tensor. Use `torch.linalg.svd(...,
# full_matrices=False)`; do not call `course_utils.pca`.

# %% nbgrader={"grade": false, "grade_id": "pca_fit", "locked": false, "schema_version": 3, "solution": true}
# Task pca_fit
def fit_pca(x: Tensor, k: int) -> tuple[Tensor, Tensor]:
    """x: (N, D) -> mean (D,), components (k, D) with orthonormal rows, largest variance first."""
    # BEGIN SOLUTION
    mean = x.mean(dim=0)  # (N, D) -> (D,)
    _, _, vh = torch.linalg.svd(x - mean, full_matrices=False)  # vh: (min(N, D), D)
    return mean, vh[:k]
    # END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_pca_fit", "locked": true, "points": 2, "schema_version": 3, "solution": false}
from course_utils.exercise_checks import check_pca_fit

check_pca_fit(fit_pca)


# %% [markdown]
# ## Task 2 · Encode and decode with PCA (2 points)
#
# With the mean $\bar x$ and the components $C$ (shape `(k, D)`), PCA is an autoencoder whose
# weights were computed rather than learned:
# $$ z = (x - \bar x)\, C^\top \quad \text{(encode, } (N, D) \to (N, k)\text{)}, \qquad
#    \hat x = z\, C + \bar x \quad \text{(decode, } (N, k) \to (N, D)\text{)}. $$
# Write both. Mind the mean on both sides.

# %% nbgrader={"grade": false, "grade_id": "pca_codec", "locked": false, "schema_version": 3, "solution": true}
# Task pca_codec
def pca_encode(x: Tensor, mean: Tensor, components: Tensor) -> Tensor:
    """x: (N, D), mean: (D,), components: (k, D) -> codes (N, k)."""
    # BEGIN SOLUTION
    return (x - mean) @ components.T  # (N, D) @ (D, k) -> (N, k)
    # END SOLUTION


def pca_decode(z: Tensor, mean: Tensor, components: Tensor) -> Tensor:
    """z: (N, k), mean: (D,), components: (k, D) -> reconstructions (N, D)."""
    # BEGIN SOLUTION
    return z @ components + mean  # (N, k) @ (k, D) -> (N, D)
    # END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_pca_codec", "locked": true, "points": 2, "schema_version": 3, "solution": false}
from course_utils.exercise_checks import check_pca_codec

check_pca_codec(pca_encode, pca_decode)


# %% [markdown]
# ## Task 3 · Principal angles between two subspaces (2 points)
#
# A linear autoencoder finds the PCA *subspace*, but its weight vectors need not be orthonormal
# or equal to the principal directions. To compare two subspaces, spanned by the columns of
# $A \in \mathbb{R}^{D \times k_1}$ and $B \in \mathbb{R}^{D \times k_2}$:
#
# 1. convert both to float64 (`.double()`), as the lesson does: near a cosine of 1 the arccosine
#    turns float32's rounding into a visible angle; then orthonormalise each set of columns:
#    $Q_A$ from `torch.linalg.qr(A)`, $Q_B$ likewise;
# 2. the singular values of $Q_A^\top Q_B$ are the cosines of the principal angles
#    (`torch.linalg.svdvals`, largest first);
# 3. the angles are their arccosines. Clamp the cosines to $[-1, 1]$ first: rounding can push
#    them a hair above 1.
#
# Return the $\min(k_1, k_2)$ angles **in degrees** (the `_deg` in the name), smallest first.
# All zero means the two subspaces coincide (or one contains the other).

# %% nbgrader={"grade": false, "grade_id": "principal_angles", "locked": false, "schema_version": 3, "solution": true}
# Task principal_angles
def principal_angles_deg(a: Tensor, b: Tensor) -> Tensor:
    """a: (D, k1), b: (D, k2), columns need not be orthonormal -> (min(k1, k2),) degrees."""
    # BEGIN SOLUTION
    qa, _ = torch.linalg.qr(a.double())  # (D, k1), orthonormal columns spanning the same subspace
    qb, _ = torch.linalg.qr(b.double())  # (D, k2), in float64 like the lesson
    cosines = torch.linalg.svdvals(qa.T @ qb).clamp(-1.0, 1.0)  # largest first
    return torch.rad2deg(torch.arccos(cosines))  # smallest angle first
    # END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_principal_angles", "locked": true, "points": 2, "schema_version": 3, "solution": false}
from course_utils.exercise_checks import check_principal_angles

check_principal_angles(principal_angles_deg)


# %% [markdown]
# ## Task 4 · One training step of a linear autoencoder (2 points)
#
# Every training loop of the course repeats the same five moves for each batch: clear the old
# gradients, run the model forward, compute the loss, backpropagate, update. Write them for a linear autoencoder
# `model` (any `nn.Module` mapping `(B, D)` to `(B, D)`) and a given `optimizer`.
#
# The loss follows the course's convention: squared error **summed over the pixels** of each
# image, then **averaged over the images** of the batch:
# $\ell = \frac{1}{B} \sum_b \sum_i (\hat x_{bi} - x_{bi})^2$. (`F.mse_loss` with its default
# averages over the pixels too, which is 784 times smaller for MNIST.)
#
# Return the loss **before** the update as a Python float (`loss.item()`).

# %% nbgrader={"grade": false, "grade_id": "linear_ae_step", "locked": false, "schema_version": 3, "solution": true}
# Task linear_ae_step
def train_step(model: nn.Module, x: Tensor, optimizer: torch.optim.Optimizer) -> float:
    """One optimisation step on a batch x (B, D); returns the loss before the step."""
    # BEGIN SOLUTION
    optimizer.zero_grad()
    x_hat = model(x)  # (B, D)
    loss = ((x_hat - x) ** 2).sum(dim=1).mean()  # per image, then batch mean
    loss.backward()
    optimizer.step()
    return loss.item()
    # END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_linear_ae_step", "locked": true, "points": 2, "schema_version": 3, "solution": false}
from course_utils.exercise_checks import check_train_step

check_train_step(train_step)

# %% [markdown]
# ### See it work: PCA and a linear autoencoder on the 3-D toy cloud
#
# The cell below uses your four functions on the tilted cloud of lesson 01 (500 points in 3-D
# that lie close to a plane). It fits PCA with $k = 2$, trains a linear autoencoder with code
# size 2 using your `train_step`, and prints both reconstruction errors (squared error per point)
# and the principal angles between the autoencoder's decoder columns and PCA's plane. Read the
# numbers: how close is the autoencoder to PCA after this many steps?

# %%
# See it work (extra code): your functions on the toy cloud of lesson 01.
from course_utils.toy_manifolds import toy_cloud

cloud = toy_cloud(n=500, seed=0)  # (500, 3)
mean, components = fit_pca(cloud, k=2)
z = pca_encode(cloud, mean, components)  # (500, 2)
pca_error = ((pca_decode(z, mean, components) - cloud) ** 2).sum(dim=1).mean().item()

torch.manual_seed(0)
linear_ae = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 3))  # encoder, decoder
optimizer = torch.optim.Adam(linear_ae.parameters(), lr=0.02)
steps = course.pick(1500, 300)
for _ in range(steps):
    train_step(linear_ae, cloud, optimizer)  # returns the loss BEFORE its update
with torch.no_grad():
    ae_error = ((linear_ae(cloud) - cloud) ** 2).sum(dim=1).mean().item()  # after the last update
decoder_columns = linear_ae[1].weight.detach()  # (3, 2): the decoder's two directions
angles = principal_angles_deg(decoder_columns, components.T)
print(f"squared error per point: PCA {pca_error:.4f}, linear AE after {steps} steps {ae_error:.4f}")
print(f"principal angles between the two planes: {[round(a, 2) for a in angles.tolist()]} degrees")

# %% [markdown]
# ## Task 5 · PCA's ordered basis, back from a trained network (2 points)
#
# A trained linear autoencoder finds PCA's subspace, but its decoder's columns are an arbitrary,
# non-orthogonal basis of it (lesson 01, sections 4 and 6). The ordered basis can still be read
# from the network: its reconstructions $\hat x$ all lie in its subspace, and when the network
# is PCA's orthogonal projection, their own principal directions are PCA's, in PCA's order, with
# PCA's variances.
#
# Write `pca_from_autoencoder(model, x)`: given a trained `LinearAutoencoder(D, k)` `model` and
# the training data `x` `(N, D)`, return `(components, variances)`: the $k$ principal directions
# of the model's outputs as the ROWS of a `(k, D)` tensor, largest variance first, and the
# variance along each, $s_j^2 / N$, shape `(k,)`. Run the model without gradients
# (`torch.no_grad()`), centre its outputs, and use `torch.linalg.svd`; $k$ is the model's code
# size (`model.decoder.weight` has shape `(D, k)`). Do not call `course_utils.pca`. The check
# also uses a model whose subspace is NOT PCA's, so computing PCA of `x` itself does not pass.

# %% nbgrader={"grade": false, "grade_id": "pca_from_ae", "locked": false, "schema_version": 3, "solution": true}
# Task pca_from_ae
def pca_from_autoencoder(model: nn.Module, x: Tensor) -> tuple[Tensor, Tensor]:
    """model: a LinearAutoencoder(D, k), x: (N, D) -> components (k, D), variances (k,)."""
    # BEGIN SOLUTION
    k = model.decoder.weight.shape[1]  # (D, k) -> the code size
    with torch.no_grad():
        recon = model(x)  # (N, D): every output lies in the model's subspace
    _, s, vh = torch.linalg.svd(recon - recon.mean(dim=0), full_matrices=False)
    return vh[:k], s[:k] ** 2 / len(x)  # (k, D) largest first, (k,) variances
    # END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_pca_from_ae", "locked": true, "points": 2, "schema_version": 3, "solution": false}
from course_utils.exercise_checks import check_pca_from_autoencoder

check_pca_from_autoencoder(pca_from_autoencoder)

# %% [markdown]
# ### See it work: a trained network against your PCA
#
# The cell trains a `LinearAutoencoder(6, 3)` with the course's `fit` on 2,000 points in 6-D
# drawn with standard deviations 3, 2, 1.5, 0.5, 0.3 and 0.2 along six random directions, then compares
# what your `pca_from_autoencoder` reads from it with your `fit_pca` of Task 1 on the data.
# Read the printed angles and variances: how close is the network to PCA after this training?

# %%
# See it work (extra code): PCA of a trained network's outputs against PCA of the data.
from course_utils.models import LinearAutoencoder
from course_utils.schedules import CosineDecay
from course_utils.train import fit

g = torch.Generator().manual_seed(0)
rotation = torch.linalg.qr(torch.randn(6, 6, generator=g)).Q  # (6, 6), random directions
points = torch.randn(2000, 6, generator=g) * torch.tensor([3.0, 2.0, 1.5, 0.5, 0.3, 0.2]) @ rotation.T + 1.0
torch.manual_seed(0)
ae3 = LinearAutoencoder(n_inputs=6, n_latent=3)
fit(ae3, points, epochs=course.pick(60, 20), batch_size=64, lr=1e-2, callbacks=[CosineDecay()], verbose=False)
recovered, recovered_var = pca_from_autoencoder(ae3, points)
_, true_components = fit_pca(points, k=3)
true_var = ((points - points.mean(dim=0)) @ true_components.T).var(dim=0, correction=0)  # (3,)
for j in range(3):
    angle = principal_angles_deg(recovered[[j]].T, true_components[[j]].T).item()
    print(f"direction {j + 1}: {angle:.2f} deg from PCA's; variance {recovered_var[j]:.4f} vs PCA's {true_var[j]:.4f}")
print("decoder columns against PCA's directions (the arbitrary basis):",
      [round(principal_angles_deg(ae3.decoder.weight.detach()[:, [j]], true_components[[j]].T).item(), 1)
       for j in range(3)])

# %% [markdown]
# ## Task 6 · Predict, then run: what a turn costs (1 point)
#
# Data in 3-D have variances $\lambda_1 = 9$, $\lambda_2 = 4$ and $\lambda_3 = 1$ along their
# principal directions $v_1, v_2, v_3$. PCA with $k = 2$ keeps the plane of $v_1$ and $v_2$.
# Now turn the kept plane: replace $v_2$ by $v_2$ turned $\theta = 30°$ towards $v_3$ (keep
# $v_1$). By how much does the squared error per point rise? Work it out on paper (lesson 01,
# section 6: "why nearly equal eigenvalues allow large angles"; deep dive 5 of the
# [lab](../notebooks/01_linear_autoencoder_and_pca_lab.ipynb) checks the formula on images), write
# it into `predicted_extra_error`, run the check, and only then run the cell that measures it.

# %% nbgrader={"grade": false, "grade_id": "predict_turn_cost", "locked": false, "schema_version": 3, "solution": true}
# Task predict_turn_cost
predicted_extra_error = None  # your prediction: a number
# BEGIN SOLUTION
predicted_extra_error = (4 - 1) * 0.5**2  # (lambda_2 - lambda_3) sin^2(30 deg)
# END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "check_predict_turn_cost", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course_utils.exercise_checks import check_prediction_turn_cost

check_prediction_turn_cost(predicted_extra_error)

# %%
# The answer, measured: 100,000 points with these variances, PCA's plane against the turned one.
import math

g = torch.Generator().manual_seed(1)
cloud3 = torch.randn(100_000, 3, generator=g, dtype=torch.float64) * torch.tensor([3.0, 2.0, 1.0])
mean3, v = fit_pca(cloud3, k=3)  # (3,), (3, 3): this sample's principal directions
lam = ((cloud3 - mean3) @ v.T).var(dim=0, correction=0)  # (3,): this sample's eigenvalues
turned = math.cos(math.radians(30)) * v[1] + math.sin(math.radians(30)) * v[2]


def error_of_plane(basis: Tensor) -> float:
    """Squared error per point of the orthogonal projection onto span(rows of basis), (2, 3)."""
    z = pca_encode(cloud3, mean3, basis)
    return ((pca_decode(z, mean3, basis) - cloud3) ** 2).sum(dim=1).mean().item()


extra = error_of_plane(torch.stack([v[0], turned])) - error_of_plane(v[:2])
print(f"measured rise: {extra:.4f}; (lambda_2 - lambda_3) sin^2(30°) with this sample's eigenvalues: "
      f"{(lam[1] - lam[2]).item() * 0.25:.4f}")

# %% [markdown]
# ## Done
#
# PCA is a linear autoencoder whose weights come from one SVD instead of many gradient steps;
# the principal angles tell you whether a trained linear autoencoder reaches the same subspace.
# Back to [lesson 01](../notebooks/01_linear_autoencoder_and_pca.ipynb), or on to
# [exercise 02](02_stacked_autoencoders.ipynb).
