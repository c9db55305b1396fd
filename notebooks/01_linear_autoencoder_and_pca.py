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
# # 01 · The linear autoencoder and PCA
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ae-course/autoencoders-pca-to-vae/blob/main/notebooks/01_linear_autoencoder_and_pca.ipynb)
#
# **English** · [Tiếng Việt](vi/01_linear_autoencoder_and_pca.ipynb)
#
# An autoencoder learns to copy its input to its output through a narrow middle layer. That
# forces it to find a short description of each input. Here we build the simplest one, with no
# nonlinearity, and find that it rediscovers principal component analysis (PCA, 1901).
# The narrow layer is the point: with as many code numbers as pixels, $W_e = W_d = I$ and zero
# biases reconstruct every image exactly, learning nothing.
#
# **Learning objectives.** After this lesson you can
# 1. name the parts of an autoencoder (encoder, code or latent space, decoder) and say what
#    "undercomplete" means;
# 2. write the course's two reconstruction losses, squared error and binary cross-entropy (BCE),
#    state the loss convention, and say when to use each;
# 3. compute PCA with the singular value decomposition (SVD) of the **centred** data, and explain
#    why keeping the most variance is losing the least squared error;
# 4. write a training loop by hand and find each line in the course's `fit`;
# 5. show that a trained linear autoencoder reaches PCA's **error** and nears its **subspace**,
#    but not its **basis**, and recover PCA's ordered basis from it;
# 6. explain why (Eckart-Young, Baldi & Hornik 1989), and why nearly equal eigenvalues allow
#    large principal angles at little cost;
# 7. explain why nonlinear activations let an autoencoder do better than PCA.

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
# close to $x$. An **undercomplete** autoencoder has $k < D$: the code is a bottleneck, so the
# network has to compress instead of copying. The diagram shows the shapes for a batch of $B$ images.

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
# **Squared error**, for real-valued pixels:
# $$ \ell_{\text{SE}}(x, \hat x) = \sum_{i=1}^{D} (x_i - \hat x_i)^2 . $$
#
# **Binary cross-entropy (BCE)**, for pixels in $[0, 1]$ read as probabilities of "ink". The
# decoder outputs a logit $s_i$ per pixel and $p_i = \sigma(s_i)$ is the probability it predicts:
# $$ \ell_{\text{BCE}}(x, p) = -\sum_{i=1}^{D} \big[ x_i \log p_i + (1 - x_i)\log(1 - p_i) \big]. $$
# For binary targets BCE is the negative log-likelihood of a Bernoulli distribution per pixel; for
# grey targets it is a cross-entropy whose minimum is not 0 (shown below). Squared error is, up to
# constants, the negative log-likelihood of a Gaussian centred on $\hat x$ with one **fixed**
# variance $\sigma^2$ for every pixel: $\ell_{\text{SE}} / (2\sigma^2) + \tfrac{D}{2} \log(2\pi\sigma^2)$
# (lesson 06 returns to it).
#
# > **The course's loss convention.** Every loss is **per image**: summed over the pixels of an
# > image, then **averaged over the images of the batch**. For plain autoencoders we also report
# > the **mean squared error per pixel**, the same number divided by $D = 784$. PCA's discarded
# > variance (section 3) is a squared error per image.
#
# The cell checks the library's losses on two three-pixel "images".

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
# For one pixel with target $x_i$, the BCE is smallest at $p_i = x_i$, where it equals the pixel's
# **entropy** $H(x_i) = -[x_i \log x_i + (1-x_i)\log(1-x_i)]$: $\log 2 \approx 0.693$ nats for a
# grey $x_i = 0.5$, and 0 for black or white (summed over an image: `losses.bce_floor_per_image`).
# The cell feeds the *perfect* prediction $p = x$ to the BCE.

# %%
from course_utils.losses import bce_floor_per_image, bce_per_image

targets = torch.tensor([[0.0, 1.0, 1.0], [0.0, 0.5, 0.9]])  # a binary "image" and a grey one
perfect_logits = torch.logit(targets, eps=1e-6)  # the decoder predicts p = x exactly
print("BCE of a perfect reconstruction:", bce_per_image(perfect_logits, targets).numpy().round(4))
print("BCE floor (summed pixel entropy):", (bce_floor_per_image(targets) + 0.0).numpy().round(4))
print("squared error of the same reconstruction:", ((torch.sigmoid(perfect_logits) - targets) ** 2).sum(1).numpy().round(6))

# %% [markdown]
# The grey image pays its pixels' entropy even when reconstructed perfectly. On grey images a BCE
# value mixes the model's error with how grey the targets are.
#
# **When to use which.** Squared error suits any real-valued target; BCE suits targets in
# $[0, 1]$. After a sigmoid they train differently: BCE's gradient on the logit is $p - x$, the
# squared error's is $2 (p - x)\, p (1 - p)$, which vanishes where the sigmoid is flat.

# %%
import torch.nn.functional as F

s_logit = torch.tensor([-6.0, -2.0, 0.0, 2.0], requires_grad=True)  # (4,) the decoder's logits
ink = torch.ones(4)  # (4,) every target pixel is 1
(grad_bce,) = torch.autograd.grad(F.binary_cross_entropy_with_logits(s_logit, ink, reduction="sum"), s_logit)
(grad_se,) = torch.autograd.grad(((torch.sigmoid(s_logit) - ink) ** 2).sum(), s_logit)
p = torch.sigmoid(s_logit).detach()
print(f"{'logit s':>8} {'p':>7} {'BCE grad':>9} {'SE grad':>9}")
for row in zip(s_logit.tolist(), p.tolist(), grad_bce.tolist(), grad_se.tolist(), strict=True):
    print("{:>8.1f} {:>7.4f} {:>9.4f} {:>9.4f}".format(*row))
print("autograd gives p - x for BCE:", torch.allclose(grad_bce, p - ink),
      "| and 2(p - x)p(1 - p) for the squared error:", torch.allclose(grad_se, 2 * (p - ink) * p * (1 - p)))
print(f"at s = -6 the BCE gradient is {grad_bce[0] / grad_se[0]:.0f} times the squared error's")

# %% [markdown]
# BCE's gradient is largest where the logit is most wrong, so decoders that end in a sigmoid are
# trained with BCE on logits. A linear autoencoder and PCA are about squared error on the pixels
# themselves, so this lesson trains with it.

# %% [markdown]
# ## 3. PCA on a 3-D toy cloud
#
# Before images, 500 points in 3-D near a tilted plane: standard deviations 2 and 1 along two
# directions, only 0.15 off the plane. A good 2-D code for each point is its position **within**
# that plane.

# %%
from course_utils.toy_manifolds import plane_fit_figure, toy_cloud

cloud = toy_cloud(n=500, noise=0.15, seed=0)  # (500, 3)
print("cloud:", tuple(cloud.shape), "| its mean:", cloud.mean(dim=0).numpy().round(2))
plane_fit_figure(cloud, title="500 points near a tilted plane")

# %% [markdown]
# Left: the cloud and its best-fitting plane (green); right: the plane edge-on, on equal axes.
# Almost all of the spread lies within the plane.
#
# Centre the points and stack them as the rows of $X_c$ ($N \times D$). The variance along a unit
# vector $u$ is $u^\top \Sigma u$, with $\Sigma = X_c^\top X_c / N$ the covariance matrix. It is
# largest at the top **eigenvector** $v_1$ of $\Sigma$, where it equals the largest eigenvalue
# $\lambda_1$; the next best direction orthogonal to it is $v_2$, and so on. The SVD gives these
# eigenvectors directly: if $X_c = U S V^\top$ then $\Sigma = V \operatorname{diag}(s_j^2 / N)\,
# V^\top$, so the columns of $V$ are the eigenvectors and $\lambda_j = s_j^2 / N$.

# %% [markdown]
# **PCA in three lines.** Centre, take the SVD $X - \bar x = U S V^\top$, and read the principal
# directions off the rows of $V^\top$ and their variances off $S$. Encoding projects onto the first
# $k$; decoding maps back and adds the mean (next cell).

# %%
mean = cloud.mean(dim=0)  # (3,)
_, s, vt = torch.linalg.svd(cloud - mean, full_matrices=False)  # vt: (3, 3), rows = directions
eigenvalues = s**2 / len(cloud)  # variance along each principal direction
print("variance along each principal direction:", eigenvalues.numpy().round(4))

# %% [markdown]
# **Why centre first?** The SVD finds the directions that best describe the points *as seen from
# the origin*. This cloud's mean is not small compared with its spread (printed). **Predict:** will the uncentred first direction point nearer the spread or
# nearer the mean, and will the error rise a little or a lot?

# %%
_, _, vt_raw = torch.linalg.svd(cloud, full_matrices=False)  # the SAME SVD, without centring


def angle_deg(u: torch.Tensor, v: torch.Tensor) -> float:
    """The angle between two lines through the origin (directions u, v of shape (3,)), 0-90 deg."""
    return torch.rad2deg(torch.arccos(((u @ v).abs() / (u.norm() * v.norm())).clamp(max=1.0))).item()


raw_recon = cloud @ vt_raw[:2].T @ vt_raw[:2]  # (500, 3): projected onto a plane through 0
centred_recon = (cloud - mean) @ vt[:2].T @ vt[:2] + mean  # (500, 3): PCA's reconstruction
raw_err = ((cloud - raw_recon) ** 2).sum(dim=1).mean().item()
centred_err = ((cloud - centred_recon) ** 2).sum(dim=1).mean().item()
print(f"the mean's distance from the origin: {mean.norm():.2f}; standard deviation along the first "
      f"principal direction: {eigenvalues[0].sqrt():.2f}")
print(f"first direction without centring: {angle_deg(vt_raw[0], mean):.1f} deg from the mean point, "
      f"{angle_deg(vt_raw[0], vt[0]):.1f} deg from the true first principal direction")
print(f"squared error per point with 2 directions: without centring {raw_err:.4f}, "
      f"with centring {centred_err:.4f} (the third eigenvalue: {eigenvalues[2]:.4f})")
print(f"In this run: without centring, two directions leave {raw_err / centred_err:.1f} times the error of "
      f"PCA's centred plane.")

# %% [markdown]
# Without centring, the first direction is pulled towards the cloud's mean point and the error
# rises; only the centred error equals the discarded eigenvalue.
#
# **Keeping variance = losing the least.** For a centred point $x$ and its orthogonal projection
# $Px$ onto a plane through the mean, the residual is perpendicular to the plane, so by Pythagoras
# $$ \|x\|^2 = \|Px\|^2 + \|x - Px\|^2 . $$
# Averaged over the points: **total variance = kept variance + mean squared reconstruction
# error**. The total is fixed, so the plane that keeps the most variance has the smallest error.

# %%
centred = cloud - mean  # (500, 3)
total = centred.pow(2).sum(dim=1).mean().item()  # total variance: the sum of the eigenvalues
g = torch.Generator().manual_seed(1)
planes = {"PCA plane": vt[:2].T}  # (3, 2): orthonormal columns
for i in range(3):
    planes[f"random plane {i + 1}"] = torch.linalg.qr(torch.randn(3, 2, generator=g)).Q  # (3, 2)
print(f"total variance {total:.4f}")
kept_by_plane = {}
for name, basis in planes.items():
    projected = centred @ basis @ basis.T  # (500, 3): P x for every point
    kept = projected.pow(2).sum(dim=1).mean().item()
    lost = (centred - projected).pow(2).sum(dim=1).mean().item()
    kept_by_plane[name] = kept
    print(f"{name:>15}: kept {kept:.4f} + error {lost:.4f} = {kept + lost:.4f}")
print("PCA's plane keeps the most variance, so it has the smallest error:",
      max(kept_by_plane, key=kept_by_plane.get) == "PCA plane")

# %% [markdown]
# **The same identity as a picture, in 2-D.** Take the cloud's shadow on the $x_1$-$x_2$ plane
# (its first two coordinates), centred: a flat cloud. The cell turns a line through its centre over 180° and draws the variance kept along
# the line and the squared error lost across it.

# %%
import math

from IPython.display import display

from course_utils.plots import NotebookFigure

flat = centred[:, :2] - centred[:, :2].mean(dim=0)  # (500, 2): the x, y coordinates, centred
line_deg = torch.arange(0.0, 180.0, 1.0)  # (180,) the line's angle from the x axis
unit = torch.stack([torch.cos(torch.deg2rad(line_deg)), torch.sin(torch.deg2rad(line_deg))], dim=1)  # (180, 2)
kept_line = (flat @ unit.T).pow(2).mean(dim=0)  # (180,) mean squared length of P x along each line
lost_line = flat.pow(2).sum(dim=1).mean() - kept_line  # (180,) mean squared distance to the line
v1_flat = torch.linalg.svd(flat, full_matrices=False).Vh[0]  # (2,) the first principal direction
v1_deg = torch.rad2deg(torch.atan2(v1_flat[1], v1_flat[0])).item() % 180  # its angle, 0-180°
best_deg = line_deg[kept_line.argmax()].item()
fig = NotebookFigure(figsize=(9, 3.4), layout="constrained")
ax_pts, ax_curve = fig.subplots(1, 2)
ax_pts.scatter(flat[:, 0], flat[:, 1], s=4, alpha=0.4)
for deg, colour in ((best_deg, "tab:red"), (best_deg + 60, "grey")):  # the best line and a worse one
    d = torch.tensor([math.cos(math.radians(deg)), math.sin(math.radians(deg))]) * 6
    ax_pts.plot([-d[0], d[0]], [-d[1], d[1]], color=colour, label=f"line at {deg % 180:.0f}°")
ax_pts.set(aspect="equal", xlabel="x (centred)", ylabel="y (centred)", title="the flat cloud and two lines")
ax_pts.legend(fontsize=8)
ax_curve.plot(line_deg, kept_line, label="kept variance (along the line)")
ax_curve.plot(line_deg, lost_line, label="squared error (across the line)")
ax_curve.plot(line_deg, kept_line + lost_line, "k--", lw=1, label="their sum")
ax_curve.axvline(v1_deg, color="tab:red", ls=":", label="first principal direction")
ax_curve.set(xlabel="angle of the line (degrees)", ylabel="per point", title="turning the line",
             ylim=(0, 1.1 * (kept_line + lost_line).max().item()))
fig.legend(*ax_curve.get_legend_handles_labels(), loc="outside lower center", ncol=4, fontsize=8)
display(fig)
print(f"In this run: the sum varies by {(kept_line + lost_line).max() - (kept_line + lost_line).min():.1e} "
      f"over the angles; the most variance and least error are at {best_deg:.0f}°, the first principal "
      f"direction at {v1_deg:.1f}°.")

# %% [markdown]
# **Each direction comes with a sign you cannot rely on.** If $v$ is a principal direction, so
# is $-v$, and another library or machine may return the other one. Flipping a direction flips
# that code coordinate and changes no reconstruction, so compare directions by angles, never entry
# by entry.

# %%
flip = torch.tensor([[-1.0], [1.0]])  # reverse the first direction, keep the second
codes = (cloud - mean) @ vt[:2].T  # (500, 2)
codes_flipped = (cloud - mean) @ (flip * vt[:2]).T
print("first code coordinate changes sign:", torch.allclose(codes_flipped[:, 0], -codes[:, 0]))
print("reconstructions unchanged:", torch.allclose(codes_flipped @ (flip * vt[:2]), codes @ vt[:2], atol=1e-5))

# %% [markdown]
# The course package does the same in `course_utils.pca.PCA`, through the eigenvectors of the
# $D \times D$ covariance. On the points PCA was fitted on, its
# mean squared error per point is the **sum of the discarded eigenvalues**.

# %%
from course_utils.pca import PCA, principal_angles_deg

pca2 = PCA(n_components=2).fit(cloud)
pca_error = mean_sse_per_image(pca2.reconstruct(cloud), cloud).item()
print(f"explained variance ratio: {pca2.explained_variance_ratio.numpy().round(4)}")
print(f"PCA reconstruction error {pca_error:.5f} = discarded eigenvalue {pca2.eigenvalues[2]:.5f}")
along_plane = ((cloud - pca2.reconstruct(cloud)) @ pca2.components.T).abs().max()  # error segments . v1, v2
print(f"largest part of an error segment along the plane: {along_plane:.1e}")
fig = plane_fit_figure(cloud, pca2.reconstruct(cloud), title="PCA with k = 2: every point lands on the plane")
fig.axes[1].collections[1].set(zorder=6, sizes=[9], alpha=0.9)  # edge-on panel: reconstructions on top
fig

# %% [markdown]
# Each red reconstruction lies on the plane, and each black error segment (in the edge-on
# panel) is perpendicular to it: PCA's projection is orthogonal.
#
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
# **Training, written out.** Each step (1) clears the old gradients, (2) runs the model forward,
# (3) computes the loss, (4) backpropagates, filling each weight's `.grad`, and (5) lets the
# optimizer update the weights. Here with Adam, on the whole cloud at once, for 1,500 steps (500
# in fast mode).

# %%
model = nn.Sequential(encoder, decoder)  # x (B, 3) -> z (B, 2) -> x_hat (B, 3)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
losses = []
for _ in range(course.pick(full=1500, fast=500)):  # optimizer steps
    optimizer.zero_grad()  # 1. clear the old gradients
    x_hat = model(cloud)  # 2. forward: encode, then decode
    loss = ((x_hat - cloud) ** 2).sum(dim=1).mean()  # 3. squared error per point, mean over points
    loss.backward()  # 4. backpropagate: d loss / d weight, into every weight's .grad
    optimizer.step()  # 5. update every weight
    losses.append(loss.item())
print(f"squared error per point: step 1 {losses[0]:.3f}, step {len(losses)} {losses[-1]:.5f}; "
      f"PCA's {pca_error:.5f} (ratio {losses[-1] / pca_error:.4f})")

# %% [markdown]
# The course package keeps these two layers as `LinearAutoencoder` in `course_utils.models`, and
# the loop as `fit`, the one training loop of the course (`course_utils/train.py`):
#
# | the loop above | in `fit` |
# |---|---|
# | `optimizer.zero_grad()` | `_train_step`: `state.optimizer.zero_grad()` |
# | `x_hat = model(cloud)` and the loss | `_train_step` calls `ReconstructionObjective`: `model(x)`, then `sse_per_image(x_hat, x).mean()`, the same loss |
# | `loss.backward()` | `_train_step`: `loss.backward()` |
# | `optimizer.step()` | `_train_step`: `state.optimizer.step()` (Adam from `make_adam` unless you pass one) |
# | `for step in range(...)` | two loops: epochs, and shuffled mini-batches from `iterate_batches` |
#
# Here: the same cloud, mini-batches of 64, 200 epochs.

# %%
import math

from course_utils.models import LinearAutoencoder
from course_utils.plots import history_figure
from course_utils.train import fit

torch.manual_seed(0)  # the seed of this model's initial weights
toy_ae = LinearAutoencoder(n_inputs=3, n_latent=2)
print(toy_ae)
toy_history = fit(toy_ae, cloud, epochs=200, batch_size=64, lr=1e-2, verbose=False)
print(f"200 epochs x {math.ceil(len(cloud) / 64)} batches of at most 64 points = "
      f"{200 * math.ceil(len(cloud) / 64):,} optimizer steps")
fig = history_figure(toy_history, title="linear autoencoder on the toy cloud", logy=True)
fig.axes[0].axhline(pca_error, color="black", ls="--", lw=1, label=f"PCA's error ({pca_error:.4f})")
fig.axes[0].set_ylabel("squared error per point")
fig.axes[0].legend()
fig

# %% [markdown]
# The training loss flattens near PCA's error (dashed). Does it find the same plane? **Principal angles** answer that. Take orthonormal bases $Q_1$ and
# $Q_2$ ($D \times k$) of the two subspaces (QR turns any basis into one). The singular values of
# $Q_1^\top Q_2$ are the cosines of the $k$ principal angles: the first is the smallest angle
# between a line of one subspace and a line of the other, the next the smallest among
# directions perpendicular to those, and so on. All $0°$: the subspaces coincide. They ignore
# basis and signs. The autoencoder's plane is spanned by the columns of $W_d$.

# %%
W_d = toy_ae.decoder.weight.detach()  # (3, 2): its columns span the decoder's plane
q1 = torch.linalg.qr(W_d.double()).Q  # (3, 2), orthonormal columns (float64: arccos near 1)
q2 = torch.linalg.qr(pca2.components.T.double()).Q  # (3, 2)
by_hand = torch.rad2deg(torch.arccos(torch.linalg.svdvals(q1.T @ q2).clamp(max=1.0)))
angles = principal_angles_deg(W_d, pca2.components.T)
print(f"principal angles by hand {by_hand.numpy().round(3)}, principal_angles_deg {angles.numpy().round(3)}")
with torch.no_grad():
    ae_error = mean_sse_per_image(toy_ae(cloud), cloud).item()
print(f"reconstruction error: autoencoder {ae_error:.5f}, PCA {pca_error:.5f} "
      f"(ratio {ae_error / pca_error:.4f})")
toy_largest_angle = angles.max().item()
print(f"In this run: the autoencoder's error is {ae_error / pca_error:.4f} times PCA's, and its plane "
      f"{'is' if toy_largest_angle < 1 else 'is NOT'} PCA's to within a degree (largest angle "
      f"{angles.max().item():.3f}°).")

# %% [markdown]
# The gap at the cut is large on this cloud, so the best plane is sharply defined. But the
# autoencoder's **basis** is not PCA's: any invertible $2 \times 2$ matrix $A$ can be slipped
# between encoder and decoder ($W_e \to A W_e$, $b_e \to A b_e$, $W_d \to W_d A^{-1}$) without
# changing a reconstruction, so the loss cannot prefer one basis.

# %%
A = torch.randn(2, 2, generator=torch.Generator().manual_seed(5))  # (2, 2), invertible
with torch.no_grad():
    z_mixed = cloud @ (A @ toy_ae.encoder.weight).T + A @ toy_ae.encoder.bias  # A W_e x + A b_e
    recon_mixed = z_mixed @ (toy_ae.decoder.weight @ torch.linalg.inv(A)).T + toy_ae.decoder.bias
    print("same reconstructions with A slipped in:", torch.allclose(recon_mixed, toy_ae(cloud), atol=1e-4))
print("W_d^T W_d (would be the identity for an orthonormal basis):\n", (W_d.T @ W_d).numpy().round(3))
column_angles = [principal_angles_deg(W_d[:, [j]], pca2.components[[j]].T).item() for j in range(2)]
print("angle between column j of W_d and principal direction j:", [f"{a:.1f}" for a in column_angles])

# %% [markdown]
# **PCA is itself a linear autoencoder**, with weights computed instead of learned: $W_e = V_k^\top$,
# $b_e = -V_k^\top \bar x$, $W_d = V_k$, $b_d = \bar x$ (tied, $W_d = W_e^\top$, and orthonormal).
# The figure shows the plane face-on: same plane, three bases.

# %%
V_pca = pca2.components.T  # (3, 2): v1, v2 as columns
as_ae = ((cloud - pca2.mean) @ V_pca) @ V_pca.T + pca2.mean  # decoder(encoder(x)) with PCA's weights
print("PCA as a linear AE (W_e = V_k^T, b_e = -V_k^T mean, W_d = V_k, b_d = mean) reconstructs like PCA:",
      torch.allclose(as_ae, pca2.reconstruct(cloud), atol=1e-5))
in_plane = (cloud - pca2.mean) @ V_pca  # (500, 2): the cloud in PCA's plane coordinates
bases = {"PCA: v1, v2": V_pca, "decoder's columns": W_d, "after slipping in A": W_d @ torch.linalg.inv(A)}
arrows = {title: V_pca.T @ basis for title, basis in bases.items()}  # (2, 2) each: columns in plane coordinates
lim = 1.05 * in_plane.abs().max().item()
scale = 0.6 * lim / max(a.norm(dim=0).max().item() for a in arrows.values())  # one factor for every arrow
fig = NotebookFigure(figsize=(10, 4.0), layout="constrained")
for ax, (title, arrow) in zip(fig.subplots(1, 3), arrows.items(), strict=True):
    ax.scatter(*in_plane.T, s=3, color="0.8")
    for j, color in enumerate(("tab:red", "tab:blue")):
        tip = (scale * arrow[:, j]).tolist()
        ax.annotate("", xy=tip, xytext=(0, 0), arrowprops={"arrowstyle": "->", "color": color, "lw": 2})
        ax.text(*tip, f" {j + 1}", color=color, fontsize=11)
    ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal", title=title, xlabel="along v1", ylabel="along v2")
fig.suptitle(f"the fitted plane face-on: one plane, three bases (arrows = columns, all scaled by {scale:.1f})")
fig

# %% [markdown]
# **Getting PCA's ordered basis back.** At the minimum the network's map is PCA's orthogonal
# projection $V_kV_k^\top$. Its reconstructions then have covariance $V_k\Lambda_kV_k^\top$, whose
# eigenvectors are PCA's, in order. So a PCA of the decoder's outputs recovers the ordered basis,
# up to the network's small leak. Lying in the subspace is not enough: the second
# cell squeezes the cloud into the same plane by $V_2\,\mathrm{diag}(0.2, 1)\,V_2^\top$, and a PCA
# of those outputs puts $v_2$ first (printed).

# %%
with torch.no_grad():
    recon = toy_ae(cloud)  # (500, 3): every point decoded into the autoencoder's plane
recovered = PCA(n_components=2).fit(recon)
for j in range(2):
    angle = principal_angles_deg(recovered.components[[j]].T, pca2.components[[j]].T).item()
    print(f"direction {j + 1}: {angle:.2f} deg from PCA's; variance {recovered.eigenvalues[j]:.4f} "
          f"vs PCA's {pca2.eigenvalues[j]:.4f}")

# %%
V2 = pca2.components.T  # (3, 2): PCA's plane; the map below squeezes v1 and keeps v2
squeezed = PCA(n_components=2).fit((cloud - pca2.mean) @ V2 @ torch.diag(torch.tensor([0.2, 1.0])) @ V2.T)
print(f"In this run: outputs in PCA's plane, first direction "
      f"{principal_angles_deg(squeezed.components[[0]].T, V2[:, [0]]).item():.1f}° from v1 and "
      f"{principal_angles_deg(squeezed.components[[0]].T, V2[:, [1]]).item():.1f}° from v2; variances "
      f"{squeezed.eigenvalues[0]:.3f}, {squeezed.eigenvalues[1]:.3f}")

# %% [markdown]
# ### Why the linear autoencoder lands on PCA's subspace
#
# **1. PCA is the floor (Eckart-Young, 1936).** Stack the data as the rows of $X$ ($N \times D$),
# with mean $\bar x$ and centred version $X_c$. A linear autoencoder reconstructs
# $\hat X = X M^\top + \mathbf 1 c^\top$ with $M = W_d W_e$ of rank at most $k$ and an offset
# $c = W_d b_e + b_d$. The error splits into
# $$ \|X - \hat X\|_F^2 = \|X_c - X_c M^\top\|_F^2 + N \,\|\bar x - M \bar x - c\|^2 , $$
# with no cross term, because the columns of $X_c$ sum to zero: **the offset can only add error**.
# By the Eckart-Young theorem the best rank-$k$ approximation of $X_c$ is its projection onto the
# first $k$ principal directions, with error $N$ times the sum of the discarded eigenvalues. No
# linear autoencoder beats PCA on the data PCA was fitted on.
#
# **2. No bad local minima (Baldi and Hornik, 1989).** The loss is not convex in $(W_e, W_d)$.
# Yet (without biases, on centred data) every local minimum is global and every other critical
# point is a **saddle** (cited, not computed). With a full-rank covariance and a
# **gap at the cut**, $\lambda_k > \lambda_{k+1}$, the minimum is unique as a subspace: $W_d W_e = V_k V_k^\top$, with $W_e = C V_k^\top$ and $W_d = V_k C^{-1}$
# for **any** invertible $C$. The subspace is determined, the basis is not. The theorem describes
# the loss's shape, not training speed.

# %% [markdown]
# ## 5. PCA on images
#
# The same idea on real images, each a point in $\mathbb{R}^{784}$. We fit PCA on the training
# images and keep up to 200 components. **Predict:** what share of the pixel variance do the first
# 10 of 784 directions keep?

# %%
from course_utils.data import load_dataset

data = load_dataset("fashion_mnist", seed=course.seed)
x_train = data.train.x.flatten(1)  # (N, 1, 28, 28) -> (N, 784)
x_test = data.test.x.flatten(1)
print(f"{data.name}: {len(x_train):,} training images; pixel values from {x_train.min():.1f} to "
      f"{x_train.max():.1f} (the files store 0 to 255)")
pca = PCA(n_components=200).fit(x_train)
cumulative = pca.eigenvalues.cumsum(0) / pca.eigenvalues.sum()
for k in (2, 10, 32, 100):
    print(f"k = {k:>3}: {cumulative[k - 1]:.1%} of the pixel variance")

# %% [markdown]
# Every pixel is in $[0, 1]$ (the loader divided the stored bytes by 255). `data.name` says which
# images this run uses ("embedded fallback" means scikit-learn's small digit scans). **The BCE
# floor on these images**, per image:

# %%
floor = bce_floor_per_image(data.test.x)  # (N,) summed pixel entropy of each test image
grey = ((data.test.x > 0.01) & (data.test.x < 0.99)).float().mean().item()
print(f"{data.name}: {grey:.1%} of test pixels are grey (strictly between 0.01 and 0.99)")
print(f"BCE floor: {floor.mean():.1f} nats per image on average (min {floor.min():.1f}, max {floor.max():.1f})")

# %% [markdown]
# The principal directions are 784-pixel vectors, so we can look at them as images (red positive,
# blue negative, one colour scale; another library may swap red and blue).

# %%
from course_utils.plots import directions_figure


def with_colour_bars(fig, n_rows: int, n_cols: int = 10):
    """One colour bar per row of a directions_figure (red positive, blue negative, white 0)."""
    tiles = list(fig.axes)  # (n_rows * n_cols,) image axes, row by row
    for r in range(n_rows):
        row = tiles[r * n_cols:(r + 1) * n_cols]
        fig.colorbar(row[0].images[0], ax=row, shrink=0.85, aspect=10, label="weight")
    return fig


with_colour_bars(directions_figure({"PCA": pca.components[:10]}, column_titles=[f"PC {j + 1}" for j in range(10)],
                                   title=f"{data.name}: the first ten principal directions (one colour scale)"), 1)

# %% [markdown]
# Two more pictures: the **mean image** $\bar x$, which PCA subtracts first, and the share of the
# total variance that the first $k$ directions keep.

# %%
from IPython.display import display

from course_utils.plots import NotebookFigure

share_kept = pca.eigenvalues.cumsum(0) / pca.eigenvalues.sum()  # (784,): share kept by the first k
fig = NotebookFigure(figsize=(8, 2.8), layout="constrained")
ax_mean, ax_curve = fig.subplots(1, 2, width_ratios=[1, 2.6])
ax_mean.imshow(pca.mean.reshape(28, 28), cmap="gray")  # ink white on black, like every image
ax_mean.set(title="mean image", xticks=[], yticks=[])
ax_curve.plot(range(1, 201), share_kept[:200] * 100, "-")
ax_curve.set(xlabel="number of directions k", ylabel="% of total variance kept", ylim=(0, 100),
             title=f"{data.name}: cumulative explained variance")
ax_curve.grid(alpha=0.3)
display(fig)
print("share of the variance kept by the first k directions:",
      {k: f"{share_kept[k - 1]:.1%}" for k in (2, 10, 32, 100, 200)})

# %% [markdown]
# **PCA in practice.** A common way to choose $k$ is to keep 95% of the variance. In everyday work
# one calls `sklearn.decomposition.PCA`: it divides by $N - 1$ instead of $N$, picks its own signs,
# and picks $k$ itself with `n_components=0.95` (the cell checks all three).

# %%
k95 = int((share_kept < 0.95).sum()) + 1  # the smallest k whose cumulative share reaches 95%
print(f"95% of the variance is kept by k = {k95} directions ({share_kept[k95 - 1]:.1%}): {k95} numbers "
      f"per image instead of 784, {784 / k95:.1f} times fewer, plus a {k95} x 784 basis and the mean")

from sklearn.decomposition import PCA as SklearnPCA

sk = SklearnPCA(n_components=0.95, svd_solver="covariance_eigh").fit(x_train.double().numpy())  # picks k itself
n_train = len(x_train)
sk_var = torch.from_numpy(sk.explained_variance_[:10])  # (10,) sklearn's variances, divided by N - 1
sk_angles = principal_angles_deg(torch.from_numpy(sk.components_[:k95]).T, pca.components[:k95].T.double())
print(f"sklearn: k = {sk.n_components_} for 95%; explained_variance_ / lambda_j = "
      f"{(sk_var / pca.eigenvalues[:10].double()).mean():.6f} (N / (N - 1) = {n_train / (n_train - 1):.6f}); "
      f"largest angle between its {k95}-dimensional subspace and ours {sk_angles.max():.2e}°")
signs = (torch.from_numpy(sk.components_[:10]) * pca.components[:10].double()).sum(dim=1).sign()  # (10,)
print(f"sign of <sklearn's v_j, ours> for j = 1..10: {signs.int().tolist()} (-1: the same direction, flipped)")

# %% [markdown]
# **The closed form on real data.** On the training images, the squared error per image equals
# the sum of the discarded eigenvalues.

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
# Reconstructions of eight test images from 2, 10 and 32 components, then a slider for $k$.

# %%
from IPython.display import display

from course_utils.pca import pca_view
from course_utils.plots import rows_figure

examples = data.test.x[:8]  # (8, 1, 28, 28)
rows = {"original": examples}
for k in (2, 10, 32):
    small = pca.truncated(k)
    recon = small.reconstruct(examples.flatten(1)).view_as(examples).clamp(0, 1)  # (8, 1, 28, 28)
    rows[f"k = {k}: {small.explained_variance_ratio.sum():.1%} of the variance"] = recon
display(rows_figure(rows, n=8, title=f"{data.name}: PCA reconstructions of eight test images"))

# %% tags=["nbval-ignore-output"]
view = pca_view(pca, examples, k=10)
display(view)
view.show_static()  # the same figure as a plain image, for readers without a live kernel

# %% [markdown]
# ## 6. The linear autoencoder on images: does it find PCA's subspace?
#
# For $k = 2, 10$ and $32$ we train a `LinearAutoencoder(784, k)` with the squared error and
# compare, **on the test images**, its error with PCA's and its decoder's subspace with PCA's
# first $k$ directions (fast mode: a smoke test whose numbers are not results). The learning rate
# decays from 3e-3 to 0 along half a cosine (`CosineDecay`). **Predict:** which $k$ will show the
# largest principal angle? (Hint: the table's last column, $\lambda_k / \lambda_{k+1}$.)

# %%
from course_utils.schedules import CosineDecay

steps = course.pick(full=6000, fast=60)  # target number of optimizer steps per model
batch_size, lr = 128, 3e-3
batches_per_epoch = math.ceil(len(x_train) / batch_size)
epochs = max(1, math.ceil(steps / batches_per_epoch))
steps_run = epochs * batches_per_epoch  # what fit really runs: whole epochs
print(f"{len(x_train):,} training images, {batches_per_epoch} batches of {batch_size} per epoch: "
      f"{epochs} epochs = {steps_run:,} optimizer steps (target {steps:,})")
x_train_on_device = x_train.to(course.device)  # (N, 784), moved once
results = {}
for k in (2, 10, 32):
    torch.manual_seed(0)
    model = LinearAutoencoder(n_inputs=784, n_latent=k).to(course.device)
    fit(model, x_train_on_device, epochs=epochs, lr=lr, batch_size=batch_size, callbacks=[CosineDecay()],
        verbose=False)
    model = model.cpu()
    W_dk = model.decoder.weight.detach()  # (784, k): its columns span the decoder's subspace
    with torch.no_grad():
        ae_mse = mse_per_pixel(model(x_test), x_test).item()
    pca_mse = mse_per_pixel(pca.truncated(k).reconstruct(x_test), x_test).item()
    results[k] = {"model": model, "ae": ae_mse, "pca": pca_mse, "angles": principal_angles_deg(W_dk, pca.components[:k].T)}

# %%
print(f"{data.name}, {epochs} epochs ({course.mode} mode); test MSE per pixel")
print(f"{'k':>3} {'PCA':>10} {'linear AE':>10} {'AE / PCA':>9} {'median angle':>13} {'largest':>8} "
      f"{'lambda_k / lambda_k+1':>22}")
for k, r in results.items():
    r["gap_ratio"] = (pca.eigenvalues[k - 1] / pca.eigenvalues[k]).item()  # the eigenvalue ratio at the cut
    print(f"{k:>3} {r['pca']:>10.5f} {r['ae']:>10.5f} {r['ae'] / r['pca']:>9.4f} "
          f"{r['angles'].median():>12.1f}° {r['angles'].max():>7.1f}° {r['gap_ratio']:>22.3f}")
widest = max(results, key=lambda k: results[k]["angles"].max())
closest_gap = min(results, key=lambda k: results[k]["gap_ratio"])
close_ks = [k for k, r in results.items() if r["ae"] <= 1.005 * r["pca"]]  # within 0.5% of PCA's error
where = "every k" if len(close_ks) == len(results) else "k = " + ", ".join(map(str, close_ks)) if close_ks else "no k"
same = "the k with" if widest == closest_gap else f"not at k = {closest_gap}, which has"
print(f"\nIn this run ({data.name}): the AE comes within 0.5% of PCA's test error at {where}, and its largest "
      f"angle ({results[widest]['angles'].max():.1f}°) is at k = {widest}, {same} the closest eigenvalues at the cut.")
k_focus = closest_gap  # the "focus cut": the trained k with the smallest lambda_k / lambda_(k+1)
r_focus = results[k_focus]
angles_focus, ratio_cut = r_focus["angles"], r_focus["gap_ratio"]  # (k_focus,) smallest first; the ratio at the cut

# %% [markdown]
# **Why nearly equal eigenvalues allow large angles.** Turn the $k$-th kept direction by an angle
# $\theta$ towards the $(k{+}1)$-th. The variance kept along it drops from $\lambda_k$ to
# $\lambda_k \cos^2\theta + \lambda_{k+1} \sin^2\theta$, so the error rises by
# $$ (\lambda_k - \lambda_{k+1}) \sin^2 \theta . $$
# Across a small gap this cost and its slope, $(\lambda_k - \lambda_{k+1}) \sin 2\theta$, are
# small (at a tie the best subspace is not unique): a close error is not yet the same subspace.

# %% [markdown]
# **What the code is.** Ten numbers, but not class probabilities: nothing makes them positive or
# sum to one (three codes below). The code is an *activation*, recomputed from each image; the
# optimizer updates only the listed parameters. The figure shows the $k = 2$ codes of PCA and of
# the autoencoder by class. If the subspaces agree, the panels differ by an invertible linear map
# and a shift, up to a small residual.

# %%
from course_utils.train import predict

model10 = results[10]["model"]
codes10 = predict(model10, x_train, fn=lambda m, xb: m.encode(xb))  # (N, 10): the training images' codes
with torch.no_grad():
    three_codes = model10.encode(x_test[:3])  # (3, 10): one code per image
print("codes of three test images:\n", three_codes.numpy().round(2))
print("sum of each code:", three_codes.sum(dim=1).numpy().round(2),
      "| negative entries:", int((three_codes < 0).sum()), "of", three_codes.numel())
print("the parameters (what the optimizer updates):",
      {name: tuple(p.shape) for name, p in model10.named_parameters()})
from course_utils.plots import codes_side_by_side_figure

codes_pca = pca.truncated(2).encode(x_test)  # (N, 2): PCA's 2-D codes of the test images
with torch.no_grad():
    codes_ae = results[2]["model"].encode(x_test)  # (N, 2): the k = 2 autoencoder's codes
codes_side_by_side_figure({"PCA codes (k = 2)": codes_pca, "linear autoencoder codes (k = 2)": codes_ae},
                          data.test.y, data.classes, title=f"{data.name}: the 2-D codes of the test images")

# %% [markdown]
# ## 7. Why nonlinearity matters
#
# Composing linear maps gives a linear map, so depth alone cannot beat PCA on its own data. Nonlinear activations let the reconstructions lie on a bent surface, and the decoder must
# have them: a linear decoder maps every code into a flat subspace.
#
# **A curve in the plane.** Points near a half circle live in 2-D, but one number (where along the
# arc a point sits) describes each. PCA with $k = 1$ can only project onto a line; a small
# autoencoder with a `Tanh` hidden layer on each side and a 1-D code can follow the arc.

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
noise_floor = 0.05**2  # noise variance across the curve: a reference, not a bound
true_arc_err = ((arc.norm(dim=1) - 1) ** 2).mean().item()  # squared distance to the unit circle
print(f"squared error per point with a 1-D code: PCA {arc_pca_err:.4f}, nonlinear AE {arc_ae_err:.4f}")
print(f"a curve exactly on the true arc (the unit circle) would leave {true_arc_err:.4f} per point; "
      f"0.05^2 = {noise_floor:.4f}")
print(f"PCA's error = its discarded (second) eigenvalue: {arc_pca_err:.4f} vs {pca_arc.eigenvalues[1]:.4f}")
print(f"In this run: with one number per point, the nonlinear AE's error is {arc_ae_err / arc_pca_err:.0%} of "
      f"PCA's and {arc_ae_err / noise_floor:.2f} times the noise variance across the curve "
      f"({'above' if arc_ae_err > noise_floor else 'below'} it).")
curve_fit_figure(arc, {"PCA, k = 1": pca_arc.reconstruct(arc), "nonlinear AE, k = 1": predict(curve_ae, arc)},
                 title="one number per point: a straight line vs a learned curve")

# %% [markdown]
# PCA's line cuts across the arc; its error is its second eigenvalue. A curve on the true arc would
# still miss the noise across it, about $0.05^2 = 0.0025$ per point: a reference, not a bound (a
# curve can bend towards the noise).
#
# **The same on images.** A preview of lesson 02: one hidden layer of 256 ReLU units on each side,
# and the same $k = 10$, loss, steps and learning rate as the linear models.

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
print(f"In this run: with the same 10 numbers per image and the same steps, the nonlinear AE "
      f"{'beat' if deep_mse < results[10]['pca'] else 'did NOT beat'} PCA on the test images "
      f"({deep_mse / results[10]['pca']:.0%} of its error).")

# %%
from course_utils.plots import rows_figure

with torch.no_grad():
    show = data.test.x[:10]
    linear_recon = results[10]["model"](show).clamp(0, 1)
    deep_recon = deep(show).clamp(0, 1)
rows_figure({"original": show, "linear AE (k = 10)": linear_recon, "nonlinear AE (k = 10)": deep_recon},
          title="the same 10-number code, linear vs nonlinear")

# %% [markdown]
# With ReLU layers the decoder is piecewise affine in $z$, so its outputs lie on a folded,
# piecewise-flat surface instead of one flat subspace. This is one run from one seed.
#
# > **Common mistakes**
# > - *Comparing a training error with a test error, or a per-image number with a per-pixel one*
# >   (a factor of 784).
# > - *Applying a sigmoid before `binary_cross_entropy_with_logits`*, which applies it itself.
#
# ## Summary
#
# - An autoencoder reproduces its input through a code of size $k < D$; losses are per image.
# - PCA by SVD of the **centred** data gives the best rank-$k$ linear reconstruction: total
#   variance = kept variance + squared error.
# - A training loop is five moves: zero_grad, forward, loss, backward, step; `fit` wraps them.
# - A linear autoencoder trained long enough reaches PCA's error in an arbitrary basis; a PCA of
#   its outputs gives the ordered basis back.
# - When $\lambda_k / \lambda_{k+1}$ is near 1, a turn costs little, $(\lambda_k - \lambda_{k+1}) \sin^2\theta$,
#   so a run can stop short of PCA's subspace at a small error cost (section 6).
# - BCE on grey targets has a floor. Nonlinear activations let an autoencoder bend.

# %% [markdown]
# ## Going further: the lab
#
# The optional [lab notebook](01_linear_autoencoder_and_pca_lab.ipynb) rebuilds this lesson's
# models and measures, one section each:
# 1. how the toy autoencoder settles on PCA's projection;
# 2. what the decaying learning rate buys;
# 3. in which order the directions come in;
# 4. section 4's theorem in detail;
# 5. where a run's extra error sits;
# 6. PCA on new images, uncentred, and its cost;
# 7. what the code is;
# 8. three derivations behind sections 3, 4 and 6;
# 9. other seeds, and PCA's own sampling spread;
# 10. sections 4 and 6 as True/False checks.

# %% [markdown]
# ## Exercise
#
# [Exercise 01](../exercises/01_linear_autoencoder_and_pca.ipynb) [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ae-course/autoencoders-pca-to-vae/blob/main/exercises/01_linear_autoencoder_and_pca.ipynb)
#
# The exercise has six tasks, each followed by a check cell that tells you what is right or
# wrong: (1) PCA by SVD (centre the data, return the mean and the principal directions), (2)
# encoding and decoding with it, (3) the principal angles between two subspaces, (4) one
# training step of a linear autoencoder (the five moves of section 4's loop), (5) getting PCA's
# ordered directions and their variances back from a trained linear autoencoder (sections 4
# and 6), and (6) predicting what turning a principal direction by 30° costs, then measuring it.

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
