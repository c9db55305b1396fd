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
# # 07 · Beyond the vanilla VAE
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ae-course/autoencoders-pca-to-vae/blob/main/notebooks/07_beyond_the_vanilla_vae.ipynb)
#
# Lesson 06 built the VAE: an encoder that outputs a Gaussian, the reparameterization trick, and a
# loss made of a reconstruction term and a KL term. This lesson changes one piece at a time.
# Weigh the KL term differently ($\beta$-VAE); tell the model the class (conditional VAE); make
# the latent variables discrete (Gumbel-softmax). We end with where these ideas went next:
# VQ-VAE and the autoencoder inside Stable Diffusion.
#
# **Learning objectives.** After this lesson you can
# 1. explain the $\beta$-VAE objective and measure the reconstruction-vs-KL trade-off over
#    several values of $\beta$;
# 2. build a conditional VAE (label into encoder and decoder) and separate "which digit" from
#    "which style";
# 3. sample discrete latents with the Gumbel-softmax relaxation, use its straight-through
#    ("hard") form, and anneal its temperature during training;
# 4. describe how VQ-VAE and latent diffusion use an autoencoder to compress images, with the
#    latent shapes involved.

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
DATASET = "mnist"  # try "fashion_mnist": every cell below works with either

# %%
import math

from course_utils.data import load_dataset

data = load_dataset(DATASET, seed=course.seed, valid_fraction=0.0)
x_train, y_train = data.train.x, data.train.y  # (N, 1, 28, 28) in [0, 1], (N,)
x_test, y_test = data.test.x, data.test.y
STEPS = course.pick(full=630, fast=48)  # optimizer steps of 128 images per model
EPOCHS = max(1, round(STEPS / math.ceil(len(x_train) / 128)))  # a small dataset gets more epochs
print(f"{data.name} (embedded fallback: {data.is_fallback}): {len(x_train):,} training images, "
      f"{len(x_test):,} test images; {EPOCHS} epochs per model ({course.mode} mode)")

# %% [markdown]
# ## 1. The $\beta$-VAE: one knob on the KL term
#
# Higgins et al. (2017) put a weight $\beta$ on the KL term:
#
# $$ \mathcal L_\beta(x) = \underbrace{-\mathbb E_{q(z\mid x)}[\log p(x\mid z)]}_{\text{reconstruction}}
#    + \beta\, \mathrm{KL}\big(q(z\mid x)\,\|\,\mathcal N(0, I)\big). $$
#
# $\beta = 1$ is the ordinary VAE (the negative ELBO). With $\beta > 1$ codes are pushed harder
# towards the prior: fewer nats of information about $x$ pass through $z$, reconstructions get
# worse, and the latent dimensions tend to line up with separate factors of variation
# ("disentanglement"). With $\beta < 1$ the opposite: sharper reconstructions, a latent space
# that is less like the prior, so samples from $\mathcal N(0, I)$ are worse. The KL term is the
# **rate** (nats of information spent on each image), the reconstruction term the **distortion**.
#
# In the course, $\beta$ is the `beta` argument of `VAEObjective` (lesson 06). `beta_sweep` trains
# one fresh VAE per $\beta$ (same initial weights, same batches) and measures each on the test
# images with $\beta = 1$, so that all rows are in the same unit: nats per image.

# %%
from course_utils.beta_vae import beta_sweep
from course_utils.vae import VAE

BETAS = [0.5, 1.0, 2.0, 4.0, 8.0]
sweep = beta_sweep(lambda: VAE(784, hidden=(400,), n_latent=10).to(course.device), x_train, x_test,
                   betas=BETAS, epochs=EPOCHS, batch_size=128, lr=1e-3, seed=0)
print(f"{data.name}, latent size 10, {EPOCHS} epochs ({course.mode} mode); test numbers in nats per image")
print(f"{'beta':>6} {'recon':>8} {'KL':>7} {'-ELBO':>8}")
for row in sweep.rows:
    print(f"{row['beta']:>6g} {row['recon']:>8.1f} {row['kl']:>7.2f} {row['loss']:>8.1f}")
print("KL falls and reconstruction rises at every step up in beta:", sweep.is_monotone())
best = min(sweep.rows, key=lambda row: row["loss"])  # the lowest -ELBO (beta = 1 units)
print(f"lowest test -ELBO at beta = {best['beta']:g} ({best['loss']:.1f} nats per image)")

# %% [markdown]
# The first printed check says whether this run shows the trade-off cleanly: every step up in
# $\beta$ buying a smaller KL (less information in $z$) with a larger reconstruction loss. With
# a short training run or an unlucky seed two neighbouring $\beta$ can swap places; that is
# noise in one run, not a law failing, so we print the check instead of stopping the notebook.
# The second line says where the negative ELBO, the objective of $\beta = 1$, came out lowest;
# we expect it at or near $\beta = 1$, since that is the only model trained on it.

# %%
from course_utils.beta_vae import tradeoff_figure

tradeoff_figure(sweep, highlight=1.0)

# %% [markdown]
# What the numbers look like: test images, their reconstructions, and samples from the prior,
# for the smallest and the largest $\beta$. Small $\beta$ keeps details in the reconstructions;
# large $\beta$ loses them (some digits change identity), but its latent space is closer to the
# prior.

# %%
from IPython.display import display

from course_utils.beta_vae import beta_figure

display(beta_figure(sweep, BETAS[0], x_test))
beta_figure(sweep, BETAS[-1], x_test)

# %% [markdown]
# **Before claiming disentanglement, look.** The hope of a $\beta$-VAE is that each latent
# dimension controls one factor of variation. MNIST has no labelled factors (no ground truth for
# slant, width or thickness), so no disentanglement score can be computed here; what we can do
# is traverse the latent dimensions and judge by eye. For $\beta = 1$ and $\beta = 4$: take one
# test image's code, then move one dimension at a time from $-3$ to $+3$, for the three
# dimensions that carry the most KL (the most information) in that model. We also count the
# "active" dimensions, those with a mean KL above 0.01 nats.

# %%
from course_utils.vae_views import traversal_figure

for beta in (1.0, 4.0):
    model = sweep.model(beta).cpu()
    with torch.no_grad():
        mu, logvar = model.encode(x_test)  # (N, 10) each
    kl_dim = 0.5 * (mu**2 + logvar.exp() - 1 - logvar).mean(dim=0)  # (10,) nats per dimension
    top3 = kl_dim.argsort(descending=True)[:3].tolist()
    print(f"beta = {beta:g}: active dimensions (KL > 0.01 nats) {(kl_dim > 0.01).sum().item()} of 10; "
          f"KL of the top three {kl_dim[top3].numpy().round(2)}")
    fig = traversal_figure(model, mu[0], top3)
    fig.suptitle(f"beta = {beta:g}: traversals of its three most informative dimensions")
    display(fig)
if course.fast:
    print("fast mode: these models had only a few dozen steps; blurry traversals say nothing about beta")

# %% [markdown]
# Read each row: does moving one dimension change one visible property (slant, width,
# thickness) while the digit stays, or does it change several at once, or the digit's identity?
# A larger $\beta$ usually leaves fewer active dimensions, each carrying more of the image; the
# printed counts say whether it did here. Whether the rows of $\beta = 4$ look cleaner than those
# of $\beta = 1$ is a judgement by eye on one image, not a measurement: without ground-truth
# factors, "disentangled" stays a hypothesis on MNIST. (Higgins et al. measured it on synthetic
# data whose factors are known.)
#
# **Slider.** The models are already trained; the slider only picks one of them (nothing is
# retrained when it moves).

# %% tags=["nbval-ignore-output"]
from course_utils.beta_vae import beta_view

beta_view(sweep, x_test)

# %% [markdown]
# ## 2. The conditional VAE: say which digit, let $z$ hold the style
#
# A conditional VAE (Sohn et al. 2015) gives the label $y$ to both networks: the encoder models
# $q(z \mid x, y)$ and the decoder $p(x \mid z, y)$. In practice the one-hot label is
# concatenated to the encoder's input (784 + 10 numbers) and to the code (2 + 10 numbers). The
# decoder no longer needs $z$ to say *which* digit it is, so the KL term pushes that information
# out of $z$, and $z$ keeps what the label does not tell: slant, stroke width, size. Its bound is
# the ELBO with every distribution conditioned on $y$:
#
# $$ \log p(x \mid y) \;\ge\; \mathbb E_{q(z \mid x, y)}\big[\log p(x \mid z, y)\big]
#    - \mathrm{KL}\big(q(z \mid x, y)\,\|\,p(z)\big). $$
#
# Note the prior: here it is the **unconditional** $p(z) = \mathcal N(0, I)$, the same for every
# class, which is the common simple choice. Sohn et al. (2015) use a conditional prior
# $p(z \mid y)$ learned by a third network; with it the bound has $\mathrm{KL}(q(z \mid x, y) \,\|\,
# p(z \mid y))$. The conditioning itself is two concatenations, written out here with plain
# layers on five test images:

# %%
import torch.nn.functional as F

x5, y5 = x_test[:5], y_test[:5]
y_onehot = F.one_hot(y5, 10).float()  # (5,) -> (5, 10)
enc_in = torch.cat([x5.flatten(1), y_onehot], dim=1)  # (5, 784) + (5, 10) -> (5, 794)
enc = nn.Sequential(nn.Linear(794, 400), nn.ReLU(), nn.Linear(400, 2 * 2))  # -> mu, log sigma^2
mu5, logvar5 = enc(enc_in).chunk(2, dim=1)  # (5, 2) each
z5 = mu5 + (0.5 * logvar5).exp() * torch.randn_like(mu5)  # reparameterized z: (5, 2)
dec = nn.Sequential(nn.Linear(2 + 10, 400), nn.ReLU(), nn.Linear(400, 784))  # logits of the pixels
print("encoder input", tuple(enc_in.shape), "| z", tuple(z5.shape),
      "| decoder output", tuple(dec(torch.cat([z5, y_onehot], dim=1)).shape))

# %% [markdown]
# The course's `ConditionalVAE` is this network with `encode(x, y)` and `decode(z, y)`. The flow,
# for a batch of $B$ images (the training batches are `(x, y)` tuples; the loss is the same
# `VAEObjective`):

# %%
from course_utils.plots import flow_diagram_figure

flow_diagram_figure(
    [("x, y", "(B, 784), (B, 10)"), ("encoder", "794 -> 400 -> 2 x 2"), ("mu, lv", "(B, 2) each"),
     ("z", "mu + sigma * eps\n(B, 2)"), ("decoder", "(2 + 10) -> 400\n-> 784"), ("x^", "(B, 784) logits"),
     ("loss", "BCE(x^, x) + KL(q || N(0, I))")],
    arrows=["concat", "", "reparam.", "concat y", "", "vs x"],
    title="conditional VAE: the label goes into the encoder AND the decoder")

# %%
from course_utils.cvae import ConditionalVAE
from course_utils.elbo import negative_elbo
from course_utils.train import fit
from course_utils.vae import VAEObjective

torch.manual_seed(0)
cvae = ConditionalVAE(784, n_classes=10, hidden=(400,), n_latent=2).to(course.device)
fit(cvae, (x_train, y_train), objective=VAEObjective(), epochs=EPOCHS, batch_size=128, lr=1e-3,
    verbose=False)
cvae = cvae.cpu()
res_cvae = negative_elbo(cvae, x_test, y_test, generator=torch.Generator().manual_seed(0))
print(f"CVAE (latent 2 + label): test -ELBO {res_cvae['loss']:.1f} nats/image "
      f"(recon {res_cvae['recon']:.1f} + KL {res_cvae['kl']:.1f})")

# %% [markdown]
# **One style, every digit.** Each row below uses one style code $z$ (placed at a few points of
# the prior), and each column asks for a different class. Along a row the digit changes and the
# handwriting stays.

# %%
from course_utils.cvae import cvae_style_figure

styles = torch.tensor([[-1.5, 0.0], [0.0, -1.5], [0.0, 0.0], [0.0, 1.5], [1.5, 0.0]])  # (5, 2)
cvae_style_figure(cvae, styles, data.classes)

# %% [markdown]
# **Style transfer.** Encode a real test image with its own label, keep its $\mu$, and decode it
# with every other label.

# %%
from course_utils.plots import images_figure, rows_figure
from course_utils.vae_views import decode_images, encode_means

picks = [int((y_test == c).nonzero()[0]) for c in (1, 7, 3)]  # the first test 1, 7 and 3
display(images_figure(x_test[picks], titles=[f"test image {i}" for i in picks], size=1.4))
rows = {}
for i in picks:
    z_style = encode_means(cvae, x_test[i : i + 1], y_test[i : i + 1])  # (1, 2)
    rows[f"style of {i}"] = decode_images(cvae, z_style.repeat(10, 1), torch.arange(10))
rows_figure(rows, title="each row: one test image's style code, decoded as every class")

# %% [markdown]
# **Does the label control the class? Measure it.** We train a small classifier (a single linear
# layer, multinomial logistic regression) on the real training images, then ask the CVAE for 100
# samples of every class, $z \sim \mathcal N(0, I)$, and let the classifier say which digit it
# sees. The classifier is far from perfect, so we also report its accuracy on real test images
# as the yardstick.

# %%
def classification_objective(model, batch):
    images, labels = batch  # (B, 1, 28, 28), (B,)
    return F.cross_entropy(model(images), labels), {}  # (loss, nothing else to log)


torch.manual_seed(0)
classifier = nn.Sequential(nn.Flatten(), nn.Linear(784, 10)).to(course.device)  # (B, 1, 28, 28) -> (B, 10)
fit(classifier, (x_train, y_train), objective=classification_objective,
    epochs=EPOCHS, batch_size=128, lr=1e-3, verbose=False)
classifier = classifier.cpu()
with torch.no_grad():
    real_acc = (classifier(x_test).argmax(1) == y_test).float().mean().item()
    wanted = torch.arange(10).repeat_interleave(100)  # (1000,)
    z = torch.randn(1000, 2, generator=torch.Generator().manual_seed(0))
    fake_acc = (classifier(decode_images(cvae, z, wanted)).argmax(1) == wanted).float().mean().item()
print(f"classifier accuracy on real test images: {real_acc:.1%}")
print(f"CVAE samples classified as the class that was asked for: {fake_acc:.1%}")
print("samples recognised at least 90% as often as real images:", fake_acc >= 0.9 * real_acc)

# %% [markdown]
# If the second number is close to the first, or above it (the last line checks "within 10%"),
# the label really decides the digit: the classifier recognises the CVAE's samples about as well
# as real test images. (Samples can score higher than real images: they are smooth, typical
# digits, without the odd strokes of real handwriting.) In fast mode both models are barely
# trained and the numbers are rough.
#
# **Sliders.** Choose a class, then move the two style sliders.

# %% tags=["nbval-ignore-output"]
from course_utils.cvae import cvae_view

cvae_view(cvae, data.classes)

# %% [markdown]
# ## 3. Discrete latents with the Gumbel-softmax
#
# Some things are naturally discrete: a digit's class, a word, a yes/no attribute. A discrete
# latent variable takes one of $K$ values, written as a one-hot vector. Sampling it is easy, with
# the **Gumbel-max trick**: add independent Gumbel noise $g_k = -\log(-\log u_k)$,
# $u_k \sim U(0, 1)$, to the log-probabilities and take the argmax; the result is distributed
# exactly as $\operatorname{softmax}(\text{logits})$. But an argmax has no useful gradient.
#
# The **Gumbel-softmax** (Jang et al. 2017; "Concrete", Maddison et al. 2017) replaces the argmax
# by a softmax with a temperature $\tau$:
#
# $$ y_k = \frac{\exp\big((\text{logit}_k + g_k)/\tau\big)}{\sum_{j}\exp\big((\text{logit}_j + g_j)/\tau\big)}. $$
#
# It is the reparameterization trick again: the noise $g$ depends on no weight, and $y$ is a
# differentiable function of the logits. As $\tau \to 0$ the sample approaches a one-hot vector;
# a large $\tau$ makes it nearly uniform. The **hard** (straight-through) variant outputs the
# exact one-hot argmax in the forward pass and uses the soft sample's gradient in the backward
# pass. The course's version is `gumbel_softmax_sample` (`course_utils/gumbel.py`, the
# same maths as `torch.nn.functional.gumbel_softmax`, plus a `generator`).

# %%
from course_utils.gumbel import gumbel_softmax_sample
from course_utils.plots import NotebookFigure

probs = torch.tensor([0.1, 0.2, 0.4, 0.3])  # a categorical distribution over K = 4 values
fig = NotebookFigure(figsize=(11, 2.6), layout="constrained")
axes = fig.subplots(1, 4, sharey=True)
for ax, tau in zip(axes, (5.0, 1.0, 0.5, 0.1), strict=True):
    samples = gumbel_softmax_sample(probs.log().expand(5, 4), tau, generator=torch.Generator().manual_seed(0))
    for k, s in enumerate(samples):  # five samples, side by side
        ax.bar(torch.arange(4) + 0.16 * (k - 2), s.numpy(), width=0.15)
    ax.set(title=f"temperature {tau}", xlabel="category", xticks=range(4))
axes[0].set_ylabel("sample value")
fig.suptitle("five Gumbel-softmax samples of the same distribution")
fig

# %%
logits = probs.log().expand(100_000, 4)
hard = gumbel_softmax_sample(logits, 1.0, hard=True, generator=torch.Generator().manual_seed(1))
print("hard samples are one-hot:", bool(((hard == 0) | (hard == 1)).all() and (hard.sum(1) == 1).all()))
print("category frequencies:", hard.mean(0).numpy().round(3), "vs probabilities", probs.numpy())
logits_leaf = probs.log().clone().requires_grad_()
(gumbel_softmax_sample(logits_leaf, 0.5, hard=True) * torch.arange(4.0)).sum().backward()
print("gradient through the hard sample (straight-through):", logits_leaf.grad.numpy().round(3))

# %% [markdown]
# **A VAE with discrete latents.** `GumbelVAE` has $N = 20$ categorical variables with $K = 10$
# categories each. The encoder outputs logits (B, 20, 10); each variable is sampled with the
# Gumbel-softmax; the decoder reads the (B, 20, 10) samples. The prior is uniform over the $K$
# values, and the KL term is the categorical one:
# $\mathrm{KL}(q \,\|\, \mathcal U) = \sum_{n}\sum_k q_{nk}\log(q_{nk} K)$, at most
# $N \log K$ nats.
#
# **Temperature annealing.** Start warm ($\tau = 1$: smooth, low-variance gradients, but far from
# discrete) and cool down, $\tau = \max(\tau_{\min}, \tau_0\, e^{-r\,\text{step}})$, Jang et al.'s
# schedule. It is a callback, `TemperatureAnnealing`, that sets `model.temperature` before every
# step. We choose the rate so that $\tau$ reaches its floor of 0.5 about halfway through training.
#
# **Which objective is this, exactly?** Training plugs the *relaxed* (soft) samples into the
# decoder but uses the KL between the *categorical* $q$ and the uniform prior. That mix is a
# **surrogate** objective: it is not the ELBO of the discrete model (whose samples are one-hot),
# and not the ELBO of the relaxed Concrete model (which would need the KL between Concrete
# densities, Maddison et al. 2017). It is what Jang et al. (2017) train, and it works, but its
# value is not a bound on anything. To score the discrete model honestly we evaluate with
# **hard** one-hot samples (the straight-through samples of the cell above), which gives a
# Monte Carlo estimate of the true discrete ELBO.

# %%
import math

from course_utils.gumbel import (
    GumbelObjective,
    GumbelVAE,
    TemperatureAnnealing,
    gumbel_negative_elbo,
)

steps = EPOCHS * math.ceil(len(x_train) / 128)
annealing = TemperatureAnnealing(start=1.0, minimum=0.5, rate=math.log(2) / (steps / 2))
torch.manual_seed(0)
gvae = GumbelVAE(784, hidden=(400,), n_vars=20, n_categories=10).to(course.device)
hist_g = fit(gvae, x_train, objective=GumbelObjective(), epochs=EPOCHS, batch_size=128, lr=1e-3,
             callbacks=[annealing], verbose=False)
gvae = gvae.cpu()
res_g = gumbel_negative_elbo(gvae, x_test, generator=torch.Generator().manual_seed(0))
print(f"temperature: {annealing.log[0][1]:.2f} at step 0 -> {gvae.temperature:.2f} at step {annealing.log[-1][0]}")
print(f"Gumbel VAE (20 x 10 categories, hard samples at test): -ELBO {res_g['loss']:.1f} nats/image "
      f"(recon {res_g['recon']:.1f} + KL {res_g['kl']:.1f}; the KL can be at most {20 * math.log(10):.1f})")
print(f"Gaussian VAE with 10 latent dims (beta = 1, section 1): -ELBO {sweep.rows[sweep.betas.index(1.0)]['loss']:.1f}")

# %%
from course_utils.plots import history_figure

kl_epochs, loss_epochs = hist_g["train_kl"], hist_g["train_loss"]
print(f"training KL per epoch: first {kl_epochs[0]:.1f}, max {max(kl_epochs):.1f}, last {kl_epochs[-1]:.1f} nats")
print("training loss still falling in the last epoch:", len(loss_epochs) > 1 and loss_epochs[-1] < loss_epochs[-2])
fig = NotebookFigure(figsize=(4, 3), layout="constrained")
ax = fig.subplots()
ax.plot(*zip(*annealing.log, strict=True))
ax.set(xlabel="training step", ylabel="temperature", title="the annealing schedule")
display(fig)
history_figure(hist_g, keys=("loss", "recon", "kl"), title="Gumbel VAE training (relaxed samples)")

# %% [markdown]
# The KL panel shows how much the encoder uses its discrete variables: the printed first, largest
# and last values say whether the KL climbed during training (the decoder learning to read the
# codes), and the second line whether the loss was still falling at the end (if so, the model
# would gain from longer training). The test number uses **hard** one-hot samples, so it scores
# the truly discrete model, while training used the relaxed surrogate at the temperature of each
# step. Samples from the prior: pick a category uniformly at random for each of the 20 variables
# and decode.

# %%
g = torch.Generator().manual_seed(0)
index = torch.randint(0, 10, (10, 20), generator=g)  # (10 images, 20 variables)
z_prior = F.one_hot(index, 10).float()  # (10, 20, 10) one-hot codes
with torch.no_grad():
    recon = torch.sigmoid(gvae(x_test[:10], generator=g)[0])
    from_prior = torch.sigmoid(gvae.decode(z_prior)).view(-1, 1, 28, 28)
rows_figure({"input": x_test[:10], "reconstruction": recon, "prior sample": from_prior},
          title="Gumbel VAE: reconstructions and samples from the uniform prior")

# %% [markdown]
#
# %%
print("Gumbel VAE's test -ELBO above the Gaussian VAE's (beta = 1):",
      res_g["loss"] > sweep.rows[sweep.betas.index(1.0)]["loss"])

# %% [markdown]
# Compare the two negative ELBOs: the line above says whether the discrete model pays more nats
# per image than the 10-D Gaussian VAE in this run. Samples from the uniform prior tend to be
# blurry, hybrid digits, look at the last row: a uniform choice for each of 20 variables rarely
# produces a combination the encoder ever used for a real image. This is exactly the gap the
# next models fill with a **learned** prior.
#
# ## 4. Where this leads: VQ-VAE and latent diffusion
#
# **VQ-VAE** (van den Oord et al. 2017) also has discrete latents, without Gumbel noise. The
# encoder outputs a grid of vectors, for example (B, 64, 7, 7); each of the 49 vectors is
# replaced by its nearest neighbour in a learned **codebook** of, say, 512 vectors, and the
# decoder reads the quantised grid. The gradient skips the non-differentiable nearest-neighbour
# step (straight-through), and two extra loss terms pull codebook vectors and encoder outputs
# towards each other. There is no KL term to the prior during training; instead a second model
# (a PixelCNN, later a transformer) learns the prior over the grid of codebook indices, and
# sampling means sampling indices from it, then decoding. The quantisation step in a few lines:

# %%
g = torch.Generator().manual_seed(0)
z_e = torch.randn(2, 64, 7, 7, generator=g)  # encoder output: (B, D, H, W)
codebook = torch.randn(512, 64, generator=g)  # (K, D): K learned code vectors
flat = z_e.permute(0, 2, 3, 1).reshape(-1, 64)  # (B, D, H, W) -> (B*H*W, D)
indices = torch.cdist(flat, codebook).argmin(dim=1)  # nearest code vector: (B*H*W,)
z_q = codebook[indices].view(2, 7, 7, 64).permute(0, 3, 1, 2)  # back to (B, D, H, W)
print("indices per image:", tuple(indices.view(2, 7, 7).shape[1:]), "| quantised grid:", tuple(z_q.shape))
print(f"each image is now {7 * 7} integers in 0..511: {7 * 7 * math.log2(512):.0f} bits")

# %% [markdown]
# **The VQ-VAE loss and its one straight-through line.** With $\operatorname{sg}[\cdot]$ the
# stop-gradient (`.detach()`), $z_e$ the encoder output and $e$ the chosen code vector, the loss of
# one image is
#
# $$ \mathcal L = \underbrace{-\log p(x \mid z_q)}_{\text{reconstruction}}
#    + \underbrace{\lVert \operatorname{sg}[z_e] - e \rVert^2}_{\text{codebook: moves } e}
#    + \beta\, \underbrace{\lVert z_e - \operatorname{sg}[e] \rVert^2}_{\text{commitment: moves the encoder}}, $$
#
# with $\beta = 0.25$ in the paper. The nearest-neighbour step has no gradient, so the forward
# pass uses $z_q$ and the backward pass copies the decoder's gradient straight to $z_e$:
# `z_q = z_e + (z_q - z_e).detach()`. On a toy codebook, with a stand-in "decoder loss"
# $\sum z_q^2$, we can check where the gradients go:

# %%
g = torch.Generator().manual_seed(0)
z_e = torch.randn(6, 2, generator=g).requires_grad_()  # 6 encoder outputs, D = 2 (a leaf for the demo)
codebook = torch.randn(4, 2, generator=g).requires_grad_()  # K = 4 code vectors
chosen = torch.cdist(z_e, codebook).argmin(dim=1)  # (6,) index of the nearest code vector
nearest = codebook[chosen]  # (6, 2): no gradient to z_e
z_q = z_e + (nearest - z_e).detach()  # forward: the code vectors; backward: identity to z_e
codebook_loss = ((z_e.detach() - nearest) ** 2).sum()  # sg[z_e]: moves only the codebook
commitment = 0.25 * ((z_e - nearest.detach()) ** 2).sum()  # sg[e]: moves only the encoder
((z_q**2).sum() + codebook_loss + commitment).backward()  # stand-in reconstruction: sum z_q^2
print("forward value of z_q equals the chosen code vectors (to rounding):", torch.allclose(z_q, nearest))
print("z_e.grad == 2 z_q + 0.5 (z_e - e), straight through:",
      torch.allclose(z_e.grad, 2 * nearest.detach() + 0.5 * (z_e.detach() - nearest.detach())))
print("chosen code vectors:", sorted(set(chosen.tolist())), "| code vectors with a gradient:",
      codebook.grad.abs().sum(dim=1).gt(0).nonzero().flatten().tolist())

# %% [markdown]
# **Latent diffusion** (Rombach et al. 2022, the model behind Stable Diffusion) uses an
# autoencoder as a compressor. Its first stage is a VAE-like autoencoder (a KL-regularised one
# with a very small KL weight, trained with perceptual and adversarial losses on top of the
# reconstruction) that maps a 512 x 512 RGB image, a tensor of shape 512 x 512 x 3, to a latent
# of shape 64 x 64 x 4: the spatial size shrinks by a factor of 8 in each direction and there
# are 4 channels. The diffusion model is trained and run entirely in that latent space, which is
# why it is affordable, and the decoder turns its final latent back into pixels. (In Stable
# Diffusion v1 the latents are also multiplied by a fixed 0.18215 so that they have roughly unit
# variance.) The arithmetic:

# %%
pixels = 512 * 512 * 3
latent = 64 * 64 * 4
print(f"image: {pixels:,} numbers | latent: {latent:,} numbers | {pixels / latent:.0f} times fewer")
print(f"downsampling factor per side: {512 // 64}; MNIST VAE of lesson 06: 784 -> 20, {784 / 20:.0f} times fewer")

# %% [markdown]
# Everything in this course is visible in that design: an encoder and a decoder (lessons
# 01-03), a reconstruction loss read as a likelihood, a KL term that keeps the latent space
# well-behaved (lesson 06) with a small weight, as in a $\beta$-VAE with $\beta \ll 1$
# (section 1), and a separate model that learns the distribution of the latents, the same idea
# as VQ-VAE's learned prior.
#
# > **Common mistakes**
# > - *Comparing $\beta$-VAEs by their training loss.* The training loss depends on $\beta$;
# >   compare reconstruction and KL separately, or the negative ELBO at $\beta = 1$ (section 1).
# > - *Reading "higher $\beta$ is better disentanglement" as "higher $\beta$ is better".* It
# >   costs reconstruction quality, measured in the table above.
# > - *A CVAE whose decoder does not get the label.* Then $z$ must still encode the class and
# >   the label only helps the encoder; both networks need it.
# > - *Feeding soft Gumbel-softmax samples at test time and calling the model discrete.* Use hard
# >   one-hot samples to evaluate (section 3).
# > - *Annealing the temperature too fast or too low.* A very low $\tau$ gives high-variance
# >   gradients; floor it (0.5 here).
# > - *Reporting the Gumbel training loss as an ELBO.* Relaxed samples with a categorical KL are a
# >   surrogate; score the discrete model with hard samples.
# > - *Claiming disentanglement from a $\beta$ alone.* Without ground-truth factors (MNIST has
# >   none) look at traversals and say it is a judgement by eye.
#
# ## Summary
#
# - $\beta$ weighs rate (KL) against distortion (reconstruction): more $\beta$ usually means
#   less KL and more reconstruction loss (section 1 prints whether this run was monotone);
#   disentanglement is judged from traversals, not assumed.
# - A conditional VAE gets the label in encoder and decoder and bounds
#   $\log p(x \mid y)$; here with the unconditional prior $\mathcal N(0, I)$ (Sohn et al. learn
#   $p(z \mid y)$). $z$ then holds the style, and the label decides the class of its samples.
# - Gumbel-softmax makes discrete sampling differentiable; the hard version is exactly one-hot
#   with straight-through gradients; the temperature is annealed during training; training with
#   relaxed samples and a categorical KL is a surrogate objective.
# - VQ-VAE quantises latents to a codebook with a straight-through gradient,
#   `z_q = z_e + (z_q - z_e).detach()`, a codebook and a commitment loss, and learns the prior
#   afterwards; latent diffusion
#   compresses 512 x 512 x 3 images to 64 x 64 x 4 latents with a VAE-like autoencoder and runs
#   diffusion there.

# %% [markdown]
# ## Exercise
#
# [Exercise 07](../exercises/07_beyond_the_vanilla_vae.ipynb) [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ae-course/autoencoders-pca-to-vae/blob/main/exercises/07_beyond_the_vanilla_vae.ipynb)
#
# In the exercise you implement the CVAE's conditioning (the label concatenated to the encoder's
# input and to the code) and a Gumbel-softmax sample with its straight-through form, and a
# check cell after each task tells you what is wrong.

# %% [markdown]
# ## Quiz
#
# The last quiz of the course: $\beta$-VAE, conditional VAEs, Gumbel-softmax and latent diffusion.

# %% tags=["nbval-ignore-output"]
from course_utils.quiz import show_quiz

show_quiz("07_beyond_the_vanilla_vae")

# %% [markdown]
# This is the last lesson of the course. Back to the [course overview and syllabus](../README.md),
# where the exercises for every lesson are listed.
