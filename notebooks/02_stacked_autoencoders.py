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
# # 02 · Stacked (deep) autoencoders
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ae-course/autoencoders-pca-to-vae/blob/main/notebooks/02_stacked_autoencoders.ipynb)
#
# **English** · [Tiếng Việt](vi/02_stacked_autoencoders.ipynb)
#
# Lesson 01 previewed one hidden ReLU layer on each side of the code; here we build such
# **stacked** autoencoders properly.
#
# **Learning objectives.** After this lesson you can
# 1. build a dense autoencoder (784-128-32-128-784), reduce its dead units by centring, and compare
#    it with PCA against the noise of a change of seed;
# 2. explain why the code layer has no ReLU;
# 3. tie the decoder to the encoder: each encoder weight matrix, one `nn.Parameter`, used twice;
# 4. tell a code from class probabilities, and measure its class information;
# 5. choose the size of the code from a sweep, and measure what one more layer changes;
# 6. use reconstruction error as an anomaly score, with AUROC, a validation threshold and
#    baselines.
#
# **Map.** Minutes by a formula: 200 words a minute for the text and the printed results, plus
# 30 s per code cell. Studying the code and the figures takes longer, and training adds about
# 3 minutes of waiting on a laptop CPU.
# 1. A stacked autoencoder, built by hand and centred; how the lesson decides (seeds, budget);
#    against PCA, flat against curved (about 16 min).
# 2. Tied weights: half the parameters, at what cost in error (about 8 min).
# 3. The latent space: codes against pixels, a linear probe, and decoding between two codes
#    (about 7 min).
# 4. The bottleneck sweep: code sizes 2 to 64, a rule to choose one, sliders over a 2-number
#    code, and one more layer at two code sizes (about 10 min).
# 5. Anomaly detection: AUROC against two baselines and on brightness-matched images, and a
#    held-out digit (about 12 min).
#
# **Core path:** with this introduction, the recipe and the Summary, about 59 minutes; the quiz's
# 20 questions at 30 s each add about 10: about 69 minutes in all.

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

# %% [markdown]
# ## 1. A stacked autoencoder, written out
#
# "Stacked" means several layers on each side: $784 \to 128 \to 32$ in the encoder and the mirror
# image $32 \to 128 \to 784$ in the decoder. Such models were once pretrained **greedily**, one
# layer at a time (Hinton & Salakhutdinov 2006 with RBMs; Bengio et al. 2007 with autoencoders, as
# lab E does); today they are trained **end to end**, as here. Why stack? Lesson 01's small
# nonlinear autoencoder (tanh hidden layers) followed a curved arc that PCA's straight line cut
# across; each hidden layer with a nonlinearity (ReLU here) can bend the map once more. Whether the hidden layers pay is a measurement: this
# section separates their share of the gain over PCA from the output sigmoid's, and section 4
# goes one layer deeper. The next cell prints which data is in use.

# %%
from course_utils.data import load_dataset

data = load_dataset("fashion_mnist", seed=course.seed)
x_train, x_valid, x_test = data.train.x, data.valid.x, data.test.x  # (N, 1, 28, 28) each

# %% [markdown]
# The whole architecture, for one image $x$ (784 pixels), then in PyTorch:
#
# $$ h = \mathrm{relu}(W_1 x + b_1),\quad z = W_2 h + b_2, \qquad
#    h' = \mathrm{relu}(V_2 z + c_2),\quad \hat x = \sigma(V_1 h' + c_1), $$
#
# with $W_1$ ($128 \times 784$), $W_2$ ($32 \times 128$) and the decoder's own $V_2$, $V_1$. The
# loss of one image is $\lVert x - \hat x \rVert^2 = \sum_{i=1}^{784} (x_i - \hat x_i)^2$,
# averaged over a batch (the course's convention, `course_utils.losses`). The sigmoid $\sigma$ puts
# pixels in $[0, 1]$. The **code has no activation**: a ReLU there would zero every negative code
# value, and a code unit negative for every image would send the decoder nothing, a **dead** unit,
# which passes no gradient to its own weights.

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
# The same model lives in the package as `DenseAutoencoder`. The cell builds both from the same
# seed and compares their outputs (a parameter count alone would miss a ReLU on the code):

# %%
from course_utils.models import DenseAutoencoder, count_parameters

torch.manual_seed(0)  # the seed of this model's initial weights, as for by_hand
dense = DenseAutoencoder(784, hidden=(128,), n_latent=32)
with torch.no_grad():
    outputs = by_hand(x_train[:8]), dense(x_train[:8])  # (8, 1, 28, 28) each
same = count_parameters(by_hand) == count_parameters(dense) and torch.allclose(*outputs)
print(f"written above and DenseAutoencoder: {count_parameters(dense):,} parameters each; same "
      f"outputs on 8 images (largest difference {(outputs[0] - outputs[1]).abs().max():.1e}): {same}")
torch.manual_seed(0)  # the check can fail: the same model with a ReLU appended to the code
with_relu = DenseAutoencoder(784, hidden=(128,), n_latent=32)
with_relu.encoder.append(nn.ReLU())
with torch.no_grad():
    same_count = count_parameters(with_relu) == count_parameters(by_hand)
    same_outputs = torch.allclose(by_hand(x_train[:8]), with_relu(x_train[:8]))
print(f"with a ReLU on the code: {'same' if same_count else 'different'} count, "
      f"{'same' if same_outputs else 'different'} outputs")
dense = dense.to(course.device)

# %%
# extra code – draw the architecture as an hourglass, widths read from the model's Linear layers
from course_utils.plots import hourglass_figure

hourglass_figure(dense, title="the stacked autoencoder: widths of its layers (784 = 28 x 28 pixels)")

# %% [markdown]
# **Training budget.** We fix the number of optimizer **steps** (mini-batches), not epochs. The loss
# is the squared error **per image** (summed over 784 pixels): we train on the error by which we
# compare with PCA (lesson 01 sets it beside binary cross-entropy). Adam's learning rate starts at
# 5e-3 and falls to 0 along a half cosine over the budget (`CosineDecay`, as in lesson 01): a high
# start moves fast, and the small last steps settle the weights. `fit` records one row of history
# per epoch.

# %%
import math

from course_utils.schedules import CosineDecay
from course_utils.train import fit

batch_size = 128


def epochs_for(steps: int, n_images: int) -> int:
    """Epochs that give about ``steps`` optimizer steps on ``n_images`` images."""
    return max(1, round(steps / math.ceil(n_images / batch_size)))


steps = course.pick(full=2500, fast=64)  # the target; whole epochs give the steps actually taken
epochs = epochs_for(steps, len(x_train))
steps_per_epoch = math.ceil(len(x_train) / batch_size)
steps_taken = epochs * steps_per_epoch  # the number printed from here on
dense_history = fit(dense, x_train.to(course.device), x_valid.to(course.device), epochs=epochs,
                    lr=5e-3, callbacks=[CosineDecay()], batch_size=batch_size, verbose=False)
print(f"{epochs} epochs of {len(x_train):,} images = {steps_taken:,} steps (target {steps:,}); "
      f"per-image squared error: train {dense_history.last('train_loss'):.2f}, "
      f"valid {dense_history.last('valid_loss'):.2f}")

# %% [markdown]
# ### The learning curve
#
# The error after each epoch, on the training and on the validation images, is the **learning
# curve**. Each point is an epoch's summary, so it must be recorded **inside** the epoch loop, as
# `fit` does; a line indented one level less runs once, after the loop, and shows only the last
# epoch (lab M runs both):
#
# ```python
# for epoch in range(epochs):
#     total = 0.0
#     for xb in batches:
#         ...                          # zero_grad, loss, backward, step
#         total += loss.item()
#     history.append(total / n_batches)  # inside: one value per epoch
# print(total / n_batches)             # outside: runs once, after the last epoch
# ```

# %%
from course_utils.plots import history_figure

fig = history_figure(dense_history, title="dense AE-32 (raw pixels in), learning curve", logy=True)
fig.axes[0].set_ylabel("squared error per image (log scale)")
fig

# %% [markdown]
# Why does the training curve sit above the validation curve? Each training point averages over
# the epoch's batches, seen with weights still improving (most of all in epoch 1), while the
# validation point uses the epoch's final weights. The cell scores training images at the final
# weights too, which leaves only the difference between the two sets of images.
# (`mse_per_pixel_per_image`, from `course_utils.anomaly`, gives each image's error per pixel;
# times 784 it is the per-image squared error that training minimises.) A validation curve that
# rises while the training curve falls would signal overfitting.

# %%
from course_utils.anomaly import mse_per_pixel_per_image
from course_utils.verdicts import Comparison  # a difference and its standard error

n_check = min(10_000, len(x_train))  # a sample of the training images
train_end = 784 * mse_per_pixel_per_image(dense, x_train[:n_check])  # (n_check,) per image
valid_end = 784 * mse_per_pixel_per_image(dense, x_valid)  # (N_valid,)
end_gap = Comparison((train_end.mean() - valid_end.mean()).item(),
                     math.sqrt(train_end.var() / len(train_end) + valid_end.var() / len(valid_end)))
print(f"epoch 1: training (its batches' average) {dense_history['train_loss'][0]:.2f}, validation "
      f"{dense_history['valid_loss'][0]:.2f}; at the final weights: training images "
      f"{train_end.mean():.2f}, validation {valid_end.mean():.2f} (difference "
      f"{end_gap.difference:+.2f}, standard error {end_gap.se:.2f})")
print(f"In this run: at the same weights the training images' error is {end_gap.word} the "
      "validation images' (two standard errors)" + {
          "indistinguishable from": ": what is left of the gap is which images fell in each set.",
          "above": ": these training images are harder to rebuild than the validation images.",
          "below": ": the model fits its training images better than new ones."}[end_gap.word])

# %% [markdown]
# ### Are all the hidden units in use? Centring the inputs
#
# A hidden unit $j$ computes $\mathrm{relu}(w_j \cdot x + b_j)$. If $w_j \cdot x + b_j < 0$ for
# **every** image, it outputs 0 and passes no gradient to its weights: a **dead unit**. In the
# first layer, whose inputs never change, it rarely comes back (lab A counts returns; only Adam's
# leftover momentum still moves its weights, briefly). `dead_units(model, x)` returns, for each ReLU
# layer, the units that output 0 on all images `x`.
#
# **Predict:** with raw pixels in, how many of the encoder's 128 hidden units will be dead after
# training: none, a few, or a large share?

# %%
from course_utils.losses import mse_per_pixel
from course_utils.models import dead_units
from course_utils.train import predict  # eval mode, in batches, on the model's device

dense = dense.cpu()


def dead_count(model, x=x_test) -> tuple[int, int]:
    """Dead ReLU units on all images x: (encoder's hidden layer, decoder's hidden layer)."""
    encoder_mask, decoder_mask = dead_units(model, x)  # (128,) each, True = dead
    return int(encoder_mask.sum()), int(decoder_mask.sum())


def pixel_mse(model, x=x_test) -> float:
    """MSE per pixel of the model's reconstructions of x (N, 1, 28, 28): every table's unit."""
    return mse_per_pixel(predict(model, x), x).item()


raw_dead = dead_count(dense)
raw_dead_train = dead_count(dense, x_train)  # a forward pass only: cheap
with torch.no_grad():
    h = dense.encoder[:2](x_test.flatten(1))  # (N, 128): Linear then ReLU, the hidden layer
print(f"dead hidden units (encoder, decoder; of 128 each): on all {len(x_test):,} test images "
      f"{raw_dead} (encoder by hand, units of h that are 0 for every image: "
      f"{int((h == 0).all(dim=0).sum())}); on all {len(x_train):,} training images {raw_dead_train}")
torch.manual_seed(0)  # the same initial weights again, untrained
untrained_raw = DenseAutoencoder(784, hidden=(128,), n_latent=32)  # kept for section 2's figure
print(f"dead encoder units at initialisation (same seed, untrained): {dead_count(untrained_raw)[0]}")

# %% [markdown]
# Why can so many units die? Every pixel value is at least 0, and most images light the middle of
# the frame. If a unit's weights on the lit pixels all move down **together**, hundreds of small
# moves add up, and $w_j \cdot x + b_j$ falls below 0 on every image at once. The non-negative,
# uncentred input makes this possible; the optimizer sets the pace: Adam's first steps move every
# weight with a gradient by about the learning rate, whatever the gradient's size (lab A dates the
# deaths and compares optimizers). Decoder units read the code, which keeps changing, so a dead
# one can in principle come back (the counts include the decoder's). Other remedies, not tested
# here: a leaky ReLU, a learning-rate warm-up (lesson 03).

# %% [markdown]
# One remedy acts on the data, **centring**: feed the encoder $x - \bar x$, where $\bar x$ is the
# average training image. The average of $w_j \cdot (x - \bar x)$ over the training images is then
# 0 for ANY weights, so the weights alone can no longer push a unit below 0 on every image (only
# the bias still can). The
# cell makes two changes to the untrained `by_hand` model and checks them against
# `DenseAutoencoder(..., input_mean=x_train.mean(dim=0))`:
# 1. the encoder gets $x - \bar x$ instead of $x$;
# 2. the decoder's last bias starts at $\mathrm{logit}(\bar x)$ (each pixel's mean clamped to
#    $[10^{-3}, 1 - 10^{-3}]$, since $\mathrm{logit}(0) = -\infty$), so that the untrained decoder
#    outputs about the mean image.
#
# Centring guards the first layer only: deeper layers read hidden values (section 4 counts a
# deeper stack's dead units). Expect few or no dead encoder units after centring.

# %%
raw_dense, raw_history = dense, dense_history  # the model of raw pixels, kept for comparison
mean_image = x_train.mean(dim=0)  # (1, 28, 28): the average training image
with torch.no_grad():  # change 2 on by_hand: decoder[2] is its last Linear(128, 784)
    decoder[2].bias.copy_(torch.logit(mean_image.flatten().clamp(1e-3, 1 - 1e-3)))  # (784,)


def centred_by_hand(x):  # change 1: (B, 1, 28, 28) -> (B, 1, 28, 28)
    return decoder(encoder(x - mean_image))  # x - mean image: (B, 1, 28, 28) - (1, 28, 28)


torch.manual_seed(0)  # the same initial weights as by_hand
dense = DenseAutoencoder(784, hidden=(128,), n_latent=32, input_mean=mean_image)
with torch.no_grad():
    outputs = centred_by_hand(x_test[:8]), dense(x_test[:8])  # (8, 1, 28, 28) each, untrained
start_gap = (outputs[1] - mean_image).abs()  # (8, 1, 28, 28)
print(f"written out and DenseAutoencoder(input_mean=...): same outputs on 8 test images "
      f"{torch.allclose(*outputs)}; untrained output minus mean image: mean |difference| "
      f"{start_gap.mean():.3f}, largest {start_gap.max():.3f} (pixels span 0 to 1)")
dense = dense.to(course.device)
dense_history = fit(dense, x_train.to(course.device), x_valid.to(course.device),
                    epochs=epochs, lr=5e-3, callbacks=[CosineDecay()], batch_size=batch_size,
                    verbose=False)
dense = dense.cpu()
centred_dead = dead_count(dense)
raw_mse, dense_mse = pixel_mse(raw_dense), pixel_mse(dense)
print(f"{'model':<22}{'dead (encoder)':>16}{'dead (decoder)':>16}{'test MSE per pixel':>20}")
for name, dead, mse in (("raw pixels", raw_dead, raw_mse), ("centred", centred_dead, dense_mse)):
    print(f"{name:<22}{dead[0]:>12} of 128{dead[1]:>12} of 128{mse:>20.5f}")
print(f"In this run: centring changed the test error by {dense_mse / raw_mse - 1:+.1%}.")

# %% [markdown]
# A dead unit triggers no warning and the loss still falls: only a count shows it. (Lab R
# measures how much of the change the output-bias start alone makes.) From here on every
# autoencoder of this lesson is centred.

# %% [markdown]
# ### How this lesson decides
#
# Each comparison ends with an **"In this run"** verdict. A difference counts when it exceeds:
# 1. for the errors of trained models, the **noise margin** of a change of seed: how far one more
#    run may land from the mean of three, 95% of the time (`margin_word` then says **clearly**);
# 2. for rates on the same test images (sections 3 and 4), two **paired standard errors**;
# 3. for AUROCs (section 5), two **bootstrap** standard errors.
#
# Yardsticks 2 and 3 judge one trained model (seed 0) on one sample of test images: they do not
# cover another training seed. Lab B derives all three. The cell trains seeds 1 and 2 beside seed 0 for the
# margin, and seed 0 for half the steps: the budget is a question of its own.

# %%
import statistics

from course_utils.verdicts import margin_word, t_quantile  # t quantiles: the lab, section B


def train_dense(seed: int, n_latent: int = 32, hidden: tuple[int, ...] = (128,),
                n_epochs: int | None = None, activation: type[nn.Module] = nn.ReLU):
    """Train a centred DenseAutoencoder 784-hidden-n_latent-reversed hidden-784 (default
    784-128-32-128-784, ReLU hidden layers) with this section's recipe (``n_epochs``, default
    ``epochs``) on course.device; return it on the CPU."""
    torch.manual_seed(seed)  # the initial weights
    model = DenseAutoencoder(784, hidden=hidden, n_latent=n_latent, input_mean=mean_image,
                             activation=activation)
    model = model.to(course.device)
    fit(model, x_train.to(course.device), epochs=n_epochs or epochs, lr=5e-3,
        callbacks=[CosineDecay()], batch_size=batch_size, seed=seed, verbose=False)  # seed: batches
    return model.cpu()


seed_mses = [dense_mse] + [pixel_mse(train_dense(seed)) for seed in (1, 2)]  # seeds 0, 1, 2
seed_mean, seed_sd = statistics.mean(seed_mses), statistics.stdev(seed_mses)
n_seeds = len(seed_mses)
noise_margin = t_quantile(0.975, n_seeds - 1) * seed_sd * math.sqrt(1 + 1 / n_seeds)  # ~4.97 sd
print("dense AE-32, seeds 0, 1, 2: test MSE per pixel " + ", ".join(f"{m:.5f}" for m in seed_mses)
      + f"; mean {seed_mean:.5f}; noise margin +-{noise_margin:.5f} ({noise_margin / seed_mean:.1%} "
      "of the mean)")
half_epochs = epochs // 2  # half the budget, seed 0, its own cosine over the shorter run
half_mse = pixel_mse(train_dense(0, n_epochs=half_epochs)) if half_epochs else None
pair_margin = t_quantile(0.975, n_seeds - 1) * seed_sd * math.sqrt(2)  # one run against one run
if half_mse is None:
    print(f"half the budget: not run ({epochs} epoch{'s' * (epochs > 1)} cannot be halved)")
else:
    print(f"seed 0 at half the budget ({half_epochs} epochs): {half_mse:.5f}; doubling the steps "
          f"changed the error by {dense_mse / half_mse - 1:+.1%}; one run against one run, margin "
          f"t*s*sqrt(2) = {pair_margin:.5f}")
    print("In this run: doubling the steps "
          + ("still lowered the error beyond the margin: the models are not converged, and every "
             "comparison is a statement about this budget." if half_mse - dense_mse > pair_margin
             else "did not lower the error beyond the margin."))

# %% [markdown]
# ### Against PCA
#
# PCA-32, fitted on the same training images, is the baseline. It has no seed, so the AE's mean of
# three seeds is judged against it with the noise margin (a cautious test: the margin allows for
# one more run). But the AE differs from PCA in two ways: its hidden ReLU layers, and the sigmoid
# that keeps its outputs in $[0, 1]$. A **twin without hidden ReLUs** (`nn.Identity` in their
# place: an affine map of rank at most 32, then the sigmoid) separates the two. Expect the
# autoencoder below PCA; how the gain splits is an open question.

# %%
from course_utils.pca import PCA

pca32 = PCA(32).fit(x_train.flatten(1))  # (N, 784)
pca_mse = mse_per_pixel(pca32.reconstruct(x_test.flatten(1)), x_test.flatten(1)).item()
print(f"{data.name}, 32 numbers per image, {steps_taken:,} steps ({course.mode} mode); test MSE per "
      f"pixel: PCA-32 {pca_mse:.5f}, stacked AE-32 mean of 3 seeds {seed_mean:.5f} "
      f"({seed_mean / pca_mse:.0%} of PCA's), raw-pixel AE {raw_mse:.5f}")
print(f"In this run: the AE's mean is {margin_word(seed_mean, pca_mse, noise_margin)} PCA-32's; "
      f"the raw-pixel AE is {margin_word(raw_mse, seed_mean, noise_margin)} the centred mean (the "
      f"centred model's margin, borrowed)"
      + ("." if half_mse is None else f"; at half the budget the AE is "
         f"{margin_word(half_mse, pca_mse, noise_margin)} PCA-32's."))
twin = train_dense(0, activation=nn.Identity)  # no hidden ReLU: only the sigmoid is nonlinear
twin_mse = pixel_mse(twin)
print(f"twin without hidden ReLUs (seed 0): {twin_mse:.5f}, "
      f"{margin_word(twin_mse, seed_mean, noise_margin)} the AE's mean")
if pca_mse - seed_mean > noise_margin:  # a gain to split
    sigmoid_share = (pca_mse - twin_mse) / (pca_mse - seed_mean)  # of the AE's gain over PCA
    print(f"In this run: of the AE's gain over PCA ({pca_mse - seed_mean:.5f}), the twin (the "
          f"sigmoid, no hidden ReLU) gets {sigmoid_share:.0%}; the hidden ReLUs add the rest, "
          f"{1 - sigmoid_share:.0%} (one ablation order, lab C).")
else:
    print("In this run: the AE is not clearly below PCA-32, so there is no gain to split.")

# %% [markdown]
# Lab H continues the model for as many steps again. The last line credits the hidden layers only
# with their measured share of the gain over PCA.

# %%
from course_utils.plots import rows_figure

show = x_test[:10]
rows_figure({"original": show,
             "PCA-32": pca32.reconstruct(show.flatten(1)).clamp(0, 1),
             "stacked AE-32": predict(dense, show)},
            title="ten test images and their reconstructions from 32 numbers "
                  "(PCA row clipped to [0, 1]; the error above is unclipped)")

# %% [markdown]
# Both reconstructions are blurry: 32 numbers cannot hold every detail, and a decoder trained on
# squared error returns an average of the images it cannot tell apart.
#
# ### Flat against curved
#
# PCA-32 puts every reconstruction on one flat, 32-dimensional plane through the mean image. The
# autoencoder's decoder bends (its ReLU and its sigmoid), so its 32 numbers can trace a curved
# surface, as lesson 01's small nonlinear autoencoder followed the arc that PCA's line cut across.
# Two measurements on the test images: the share of the variance of a model's reconstructions
# outside the best 32-dimensional plane **for those reconstructions** (0 for any flat model; a
# sigmoid bends a plane too, so the twin without hidden ReLUs is measured beside them), and
# the error of the best plane for the test images, PCA fitted on the test images themselves: no
# reconstruction on a 32-dimensional plane can have a lower error on them.

# %%
def share_off_plane(x_hat: torch.Tensor, k: int = 32) -> float:
    """Share of the variance of x_hat (N, 784) outside its best k-dimensional plane."""
    variances = torch.linalg.svdvals(x_hat - x_hat.mean(dim=0)) ** 2  # (min(N, 784),) times N
    return (variances[k:].sum() / variances.sum()).item()


flat_x_hat = pca32.reconstruct(x_test.flatten(1))  # (N, 784)
curved_x_hat = predict(dense, x_test).flatten(1)  # (N, 784)
best_plane = PCA(32).fit(x_test.flatten(1))  # fitted on the test images: no plane does better
best_plane_mse = mse_per_pixel(best_plane.reconstruct(x_test.flatten(1)), x_test.flatten(1)).item()
twin_x_hat = predict(twin, x_test).flatten(1)  # (N, 784)
print(f"variance of the reconstructions outside the best 32-dimensional plane for them: PCA-32 "
      f"{share_off_plane(flat_x_hat):.1%}, twin without hidden ReLUs "
      f"{share_off_plane(twin_x_hat):.1%}, stacked AE-32 {share_off_plane(curved_x_hat):.1%}")
print(f"test MSE per pixel: best plane for the test images {best_plane_mse:.5f}, twin {twin_mse:.5f},"
      f" stacked AE-32 (seed 0) {dense_mse:.5f}")
print("In this run: the trained AE's error is "
      + ("below the best plane's: no flat 32-number reconstruction of these images can match "
         "it." if dense_mse < best_plane_mse
         else "not below the best plane's: at this budget, leaving the plane has not paid off."))

# %% [markdown]
# Lab C also measures PCA with its reconstructions clipped to $[0, 1]$, the range the sigmoid
# enforces.

# %% [markdown]
# ## 2. Tied weights
#
# The decoder mirrors the encoder, so why not decode with the encoder's matrices? First a picture
# in 2-D: a cloud of points, a one-number code $z = w^\top x$ along a unit vector $w$ that is not
# the cloud's long axis, and two decoders: the "tied" one decodes with $w$ itself, the
# least-squares one is the best linear decoder.

# %%
# extra code – a 2-D cloud, a one-number code z = w.x, and two decoders for it
from course_utils.plots import NotebookFigure

g = torch.Generator().manual_seed(1)
cloud = torch.randn(400, 2, generator=g, dtype=torch.float64) @ torch.tensor(
    [[1.2, 0.3], [0.0, 0.8]], dtype=torch.float64)  # (400, 2), stretched along one axis
cloud = cloud - cloud.mean(dim=0)  # centred
S = cloud.T @ cloud / len(cloud)  # (2, 2) covariance
w = torch.tensor([math.cos(1.2), math.sin(1.2)], dtype=torch.float64)  # (2,) unit vector
z = cloud @ w  # (400,) the code
d_tied, d_star = w, S @ w / (w @ S @ w)  # (2,) each: decoder x_hat = d * z
top = torch.linalg.eigh(S).eigenvectors[:, -1]  # (2,) PCA's direction
two_d_errors = {"tied (w)": ((z[:, None] * d_tied - cloud) ** 2).sum(dim=1).mean().item(),
                "least squares": ((z[:, None] * d_star - cloud) ** 2).sum(dim=1).mean().item(),
                "PCA, tied": (((cloud @ top)[:, None] * top - cloud) ** 2).sum(dim=1).mean().item()}
print("mean squared error per point: " + ", ".join(f"{k} {v:.3f}" for k, v in two_d_errors.items()))
angle = {name: math.degrees(math.atan2(v[1], v[0])) % 180 for name, v in
         (("w", w), ("Sigma w", S @ w), ("long axis", top))}  # direction of each line, in degrees


def turn(a: float, b: float) -> float:
    """Signed turn in degrees, in [-90, 90), from the line at angle a to the line at angle b."""
    return (b - a + 90) % 180 - 90


to_sw, to_long = turn(angle["w"], angle["Sigma w"]), turn(angle["w"], angle["long axis"])
between = to_long != 0 and 0 < to_sw / to_long < 1  # on the short arc from w to the long axis
ls_better = two_d_errors["least squares"] < two_d_errors["tied (w)"]
print(f"In this run: Sigma w points at {angle['Sigma w']:.0f} deg, "
      f"{'between' if between else 'not between'} w ({angle['w']:.0f} deg) and the long axis "
      f"({angle['long axis']:.0f} deg); least squares {'beats' if ls_better else 'does not beat'} "
      f"the tied decoder.")

fig = NotebookFigure(figsize=(8.6, 4.0), layout="constrained")
ax = fig.subplots()
ax.scatter(*cloud.T, s=5, color="0.7", label="data")
span = torch.linspace(-5, 5, 2, dtype=torch.float64)
for d, style, label in ((top, {"color": "0.4", "ls": "--"}, "the cloud's long axis (PCA)"),
                        (d_tied, {"color": "tab:blue"}, "tied decoder: x_hat = z w"),
                        (d_star, {"color": "tab:red"}, "least squares: x_hat = z d*")):
    direction = d / d.norm()
    ax.plot(*(span[:, None] * direction).T, label=label, **style)
far = z.abs().argsort(descending=True)  # points with a large code first (they sit away from 0)
across = torch.stack([-w[1], w[0]])  # (2,) unit vector perpendicular to w: z is constant along it
for i in far[torch.arange(10, 110, 20)].tolist():  # five points with large |z|: their segments
    ends = torch.stack([z[i] * d_tied, z[i] * d_star])  # (2, 2) the blue and the red dot
    offsets = torch.stack([ends[0] @ across, ends[1] @ across, cloud[i] @ across])  # (3,)
    segment = z[i] * w + torch.stack([offsets.min(), offsets.max()])[:, None] * across  # (2, 2)
    ax.plot(*segment.T, "k:", lw=1)  # through the black point and both dots
    ax.plot(*cloud[i], "ko", ms=4)
    ax.plot(*ends[0], "o", color="tab:blue", ms=5)
    ax.plot(*ends[1], "o", color="tab:red", ms=5)
ax.set(xlim=(-5, 5), ylim=(-3, 3), aspect="equal", xlabel="x1", ylabel="x2",
       title="one code number, two decoders")
ax.plot([], [], "ko", ms=4, label="a point, its segment")  # legend entries only
ax.plot([], [], "o", color="tab:blue", ms=5, label="its tied decoding")
ax.plot([], [], "o", color="tab:red", ms=5, label="its least-squares decoding")
ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.02, 1))  # outside, off the data
fig

# %% [markdown]
# Every point on a dotted segment (perpendicular to $w$) has the same code $z$, so a decoder sends
# all of them to one reconstruction: the blue dot (tied) or the red dot (least squares). The tied
# decoder drops each point perpendicularly onto the line of $w$; the least-squares decoder lands on
# the line through $\Sigma w$ ($\Sigma$: the cloud's covariance), pulled **towards** the long axis.
# So the transpose is the best decoder only for special encoders, such as PCA's.
#
# A **tied** autoencoder decodes with the transposes:
#
# $$ h = \mathrm{relu}(W_1 x + b_1),\; z = W_2 h + b_2, \qquad
#    h' = \mathrm{relu}(W_2^\top z + c_2),\; \hat x = \sigma(W_1^\top h' + c_1). $$
#
# Only the biases $c_1, c_2$ are new. For a linear encoder with orthonormal rows, the transpose is
# the least-squares decoder exactly when those rows span an invariant subspace of the covariance
# (the lab derives it). For a nonlinear autoencoder, tying is simply a constraint, a form of weight
# sharing.

# %% [markdown]
# ### One parameter, two uses
#
# The decoder gets no weight of its own: it multiplies by the encoder's `nn.Parameter`, the same
# Python object, from the other side. A `(B, 32)` batch of codes times `W2` of shape `(32, 128)`
# computes $W_2^\top z$ for every image:

# %%
class TiedByHand(nn.Module):
    """784 -> 128 -> 32 -> 128 -> 784; the decoder reuses W1 and W2, transposed."""

    def __init__(self):
        super().__init__()
        self.enc1, self.enc2 = nn.Linear(784, 128), nn.Linear(128, 32)  # W1 (128, 784), W2 (32, 128)
        self.c2 = nn.Parameter(torch.zeros(128))  # the decoder's own biases:
        self.c1 = nn.Parameter(torch.zeros(784))  # its only new parameters

    def decoder_weights(self):
        return self.enc2.weight, self.enc1.weight  # the SAME Parameter objects, not copies

    def forward(self, x):  # (B, 1, 28, 28) -> (B, 1, 28, 28)
        z = self.enc2(torch.relu(self.enc1(x.flatten(1))))  # (B, 32), linear code
        V2, V1 = self.decoder_weights()
        h = torch.relu(z @ V2 + self.c2)  # (B, 32) @ (32, 128): W2^T z per image
        return torch.sigmoid(h @ V1 + self.c1).view_as(x)  # (B, 128) @ (128, 784): W1^T h


torch.manual_seed(0)
tied_hand = TiedByHand()
print(", ".join(f"{name} {tuple(p.shape)}" for name, p in tied_hand.named_parameters())
      + f": {count_parameters(tied_hand):,} parameters (the dense AE: {count_parameters(dense):,})")

# %% [markdown]
# Six parameter tensors: the encoder's two layers and the two decoder biases. Autograd adds up the
# gradients of a shared weight's two uses. A copy made once, `nn.Parameter(W.T.clone())` in
# `__init__`, would be a second tensor, updated on its own: the two drift apart after the first
# step. A `.clone()` inside `forward` stays tied: gradients flow through it (lab Q checks both).

# %% [markdown]
# `TiedAutoencoder` in `course_utils.models` is the same construction for any number of hidden
# layers, centred like the dense one. The cell loads the weights of `tied_hand` into an uncentred
# one and compares the outputs:

# %%
from course_utils.models import TiedAutoencoder

torch.manual_seed(0)
tied = TiedAutoencoder(784, hidden=(128,), n_latent=32, input_mean=mean_image)
tied = tied.to(course.device)
print(f"parameters: dense AE {count_parameters(dense):,} | tied AE {count_parameters(tied):,} "
      f"(written above: {count_parameters(tied_hand):,}) | PCA-32 "
      f"{pca32.components.numel() + pca32.mean.numel():,} (components + mean); tied / dense "
      f"{count_parameters(tied) / count_parameters(dense):.2f}")
package_tied = TiedAutoencoder(784, hidden=(128,), n_latent=32)  # uncentred, as tied_hand
with torch.no_grad():  # the same numbers, parameter by parameter
    for mine, package in ((tied_hand.enc1.weight, package_tied.encoder[0].weight),
                          (tied_hand.enc1.bias, package_tied.encoder[0].bias),
                          (tied_hand.enc2.weight, package_tied.encoder[2].weight),
                          (tied_hand.enc2.bias, package_tied.encoder[2].bias),
                          (tied_hand.c2, package_tied.decoder_biases[0]),
                          (tied_hand.c1, package_tied.decoder_biases[1])):
        package.copy_(mine)
    outputs = tied_hand(x_test[:8]), package_tied(x_test[:8])  # (8, 1, 28, 28) each
print(f"TiedByHand and TiedAutoencoder with the same weights: largest output difference on 8 "
      f"images {(outputs[0] - outputs[1]).abs().max():.1e}")

# %% [markdown]
# **Predict:** with half the dense AE's parameters, will the tied AE's test error be clearly worse,
# within the noise margin, or better?

# %%
tied_history = fit(tied, x_train.to(course.device), x_valid.to(course.device),
                   epochs=epochs, lr=5e-3, callbacks=[CosineDecay()], batch_size=batch_size,
                   verbose=False)
tied = tied.cpu()
tied_mse = pixel_mse(tied)
print(f"test MSE per pixel after {steps_taken:,} steps: PCA-32 {pca_mse:.5f} | dense AE {dense_mse:.5f} "
      f"| tied AE {tied_mse:.5f}, {tied_mse / seed_mean:.2f} times the dense mean; tied minus dense "
      f"mean {tied_mse - seed_mean:+.5f}, noise margin {noise_margin:.5f} (the dense model's, borrowed)")
print(f"In this run: the tied AE's error is {margin_word(tied_mse, seed_mean, noise_margin)} the "
      "dense mean.")

# %% [markdown]
# ### Does tying regularise here?
#
# Tying is often called a regulariser. A regulariser closes a gap between a model's training
# images and new ones, where the model **overfits**; a constraint can also change what training
# reaches in its steps. Expect small
# gaps on tens of thousands of images, too many to memorise, and larger ones on 1,000.

# %%
n_ref = min(10_000, len(x_train))  # a sample of the training images (the first n_ref)
overfit_at = 0.05  # call it overfitting when the valid error is over 5% above the train error
gaps = {}


print(f"{'model':<10}{'train':>10}{'valid':>10}{'valid / train - 1':>19}   (MSE per pixel)")
for name, model in (("dense AE", dense), ("tied AE", tied)):
    train_err, valid_err = pixel_mse(model, x_train[:n_ref]), pixel_mse(model, x_valid)
    gaps[name] = valid_err / train_err - 1
    print(f"{name:<10}{train_err:>10.5f}{valid_err:>10.5f}{gaps[name]:>19.1%}")
overfit = [name for name, gap in gaps.items() if gap > overfit_at]
if overfit:
    print(f"In this run: {' and '.join(overfit)} overfit (gap over {overfit_at:.0%}).")
else:
    print(f"In this run: no gap is over {overfit_at:.0%}, so neither model overfits.")

# %%
# extra code – the learning curves of both models on one figure, on a log scale
from course_utils.plots import NotebookFigure, plain_log_yaxis

fig = NotebookFigure(figsize=(6.5, 3.4), layout="constrained")
ax = fig.subplots()
for (name, history), colour in zip((("dense AE", dense_history), ("tied AE", tied_history)),
                                   ("tab:blue", "tab:orange"), strict=True):
    ax.plot(history["epoch"], history["train_loss"], "-", color=colour, label=f"{name}, train")
    ax.plot(history["epoch"], history["valid_loss"], "--", color=colour, label=f"{name}, valid")
ax.set(xlabel="epoch", ylabel="squared error per image (log scale)", yscale="log",
       title="learning curves: dense vs tied (train = epoch average)")
plain_log_yaxis(ax)
ax.grid(alpha=0.3)
ax.legend(fontsize=8)
fig

# %%
# a small-data run: the same two models and schedule on 1,000 training images, where a dense AE
# can overfit: 1,000 steps in full mode (125 passes over them) instead of the budget above
n_small = min(1_000, len(x_train))
x_small = x_train[:n_small]  # (n_small, 1, 28, 28)
small_epochs = epochs_for(course.pick(full=1000, fast=32), n_small)
small = {}  # model -> (train error, valid error, relative gap), MSE per pixel
print(f"{'model':<10}{'train':>10}{'valid':>10}{'valid / train - 1':>19}   ({n_small:,} training "
      "images; MSE per pixel)")
for name, model_class in (("dense AE", DenseAutoencoder), ("tied AE", TiedAutoencoder)):
    torch.manual_seed(0)
    model = model_class(784, hidden=(128,), n_latent=32, input_mean=x_small.mean(dim=0))
    fit(model.to(course.device), x_small.to(course.device), epochs=small_epochs, lr=5e-3,
        callbacks=[CosineDecay()], batch_size=batch_size, verbose=False)
    train_err, valid_err = pixel_mse(model.cpu(), x_small), pixel_mse(model, x_valid)
    small[name] = train_err, valid_err, valid_err / train_err - 1
    print(f"{name:<10}{train_err:>10.5f}{valid_err:>10.5f}{small[name][2]:>19.1%}")
(_, dense_small_valid, dense_small_gap), (_, tied_small_valid, tied_small_gap) = small.values()
small_gap_names = {"dense AE": dense_small_gap, "tied AE": tied_small_gap}
small_overfit = [name for name, gap in small_gap_names.items() if gap > overfit_at]
small_steps = small_epochs * math.ceil(n_small / batch_size)
print(f"on {n_small:,} images ({small_epochs} epochs = {small_steps:,} steps), over the "
      f"{overfit_at:.0%} cut: "
      f"{', '.join(small_overfit) or 'none'}; tying changes the validation error by "
      f"{tied_small_valid / dense_small_valid - 1:+.1%} (one seed: no noise margin here)")
if abs(tied_small_gap) < abs(dense_small_gap):
    print("In this run: on 1,000 images, tying narrows the overfitting gap.")
else:
    print("In this run: on 1,000 images, tying does not narrow the overfitting gap.")

# %% [markdown]
# Where neither gap is large, tying has nothing to cure, and its error ratio is simply what the
# constraint costs. On 1,000 images the gaps show what tying does where the dense AE can overfit.
#
# What did the first layer learn? Each row of $W_1$ holds 784 weights, one per pixel; drawn as a
# 28x28 image, it shows the pattern of pixels that hidden unit responds to (grey = weight 0,
# light = positive, dark = negative).

# %%
# extra code – 12 rows of W1 (out of 128) for each model, as 28x28 images, each on its own scale
from IPython.display import display

from course_utils.plots import images_figure


def rows_as_images(weight, n=12):
    """(128, 784) weight -> (n, 1, 28, 28), each row scaled to [0, 1] with 0.5 = weight 0."""
    rows = weight[:n].detach().reshape(n, 1, 28, 28)
    return 0.5 + 0.5 * rows / rows.abs().amax(dim=(1, 2, 3), keepdim=True)


untrained = untrained_raw.encoder[0].weight  # (128, 784): seed 0's start, kept in section 1
display(images_figure(torch.cat([rows_as_images(untrained), rows_as_images(dense.encoder[0].weight),
                                 rows_as_images(tied.encoder[0].weight)]),
                      ncols=12, titles=["untrained"] + [""] * 11 + ["dense AE"] + [""] * 11
                      + ["tied AE"] + [""] * 11, titles_size=11, size=1.2,
                      title="first-layer filters: rows of W1 (top: untrained, middle: dense AE, "
                            "bottom: tied AE)"))

# %% [markdown]
# Some trained rows may show garment outlines (a silhouette, a collar, a hem edge); nothing here
# measures how many. The untrained top row is uniform noise, so any such shape was learned. Lab N
# measures how coarse the filters are and how much of their fine grain is the random start.

# %% [markdown]
# ## 3. The latent space
#
# Each test image now has a 32-number code. To look at the codes we project them onto their first
# two principal components. Colours are the classes, which the autoencoder never saw. A 2-D
# projection is a shadow: points that overlap in it may be far apart in the other 30 dimensions.

# %%
from course_utils.plots import codes_figure


def encode(model, xb):
    return model.encode(xb)  # (B, 1, 28, 28) -> (B, 32)


codes = predict(dense, x_test, fn=encode)  # (N, 32): the codes of the test images
codes_2d = PCA(2).fit(codes).encode(codes)  # (N, 32) -> (N, 2)
codes_figure(codes_2d[:3000], data.test.y[:3000], data.classes, images=x_test[:3000],
             n_thumbnails=12,  # a few, so that they do not cover each other
             title=f"32-d codes of {data.name} test images, projected to 2-D by PCA",
             axis_labels=("first principal component of the codes",
                          "second principal component of the codes"),
             thumbnail_cmap="gray")

# %% [markdown]
# How well does the autoencoder keep the classes apart, without labels? A **nearest-neighbour
# test** measures it: for each test image, find the training image whose code is nearest (in all
# 32 dimensions) and check whether it has the same class. The labels only score the codes; the
# same test on the raw pixels is the yardstick (paired standard errors, yardstick 2).
#
# **Predict:** will the 32-number codes beat the 784 raw pixels at this test, tie, or lose?

# %%
from course_utils.class_info import nearest_neighbour_hits  # 1 = nearest code's class right
from course_utils.verdicts import compare_rates  # (n,) and (n,) hits -> (difference, its SE)

n_query = min(2_000, len(x_test))
ref_y, query_y = data.train.y[:n_ref], data.test.y[:n_query]
train_codes = predict(dense, x_train[:n_ref], fn=encode)  # (n_ref, 32)
hits = nearest_neighbour_hits(train_codes, ref_y, codes[:n_query], query_y)  # (n_query,)
print(f"all classes: {hits.mean():.1%} of {n_query:,} test images have a nearest training code "
      f"({n_ref:,} references) of the same class (chance about {1 / len(data.classes):.0%})")
class_rates = sorted((hits[query_y == c].mean().item(), name) for c, name in enumerate(data.classes)
                     if (query_y == c).any())  # (rate, class name), lowest first
print("per class, lowest: " + ", ".join(f"{name} {rate:.0%}" for rate, name in class_rates[:2])
      + "; highest: " + ", ".join(f"{name} {rate:.0%}" for rate, name in class_rates[-2:]))
pixel_hits = nearest_neighbour_hits(x_train[:n_ref].flatten(1), ref_y,
                                    x_test[:n_query].flatten(1), query_y)  # (n_query,)
pixels_nn = pixel_hits.mean().item()
nn_difference, nn_se = compare_rates(hits, pixel_hits)
print(f"the same test on raw pixels (784 numbers, no training): {pixels_nn:.1%}; codes minus "
      f"pixels {nn_difference:+.1%}, standard error {nn_se:.1%}")
if abs(nn_difference) <= 2 * nn_se:
    print("In this run: codes and pixels tie at this test (within two standard errors).")
else:
    print(f"In this run: the codes are {'above' if nn_difference > 0 else 'below'} the raw pixels "
          "by more than two standard errors.")

# %% [markdown]
# Even raw pixels put most neighbours in the same class: similar garments look alike pixel by
# pixel. The rate measures how **pure** neighbourhoods are, not how **compact** a class's cluster
# is. Lab T draws the codes with t-SNE, the map most often shown of a latent space, and scores it
# with a variant of this test.

# %% [markdown]
# ### A code is not a vector of class probabilities
#
# Does the code hold one probability per class? It does not. To see the difference, fit a **linear
# probe**: one `nn.Linear(32, 10)` whose softmax gives class probabilities, trained with the
# cross-entropy loss on the training codes *and their labels*, all codes in every step. The cell
# writes it out for 200 steps and checks it against the package's `linear_probe`, which does the
# same at several step counts and keeps the one that scores best on labelled **validation** images.

# %%
from course_utils.class_info import hits_of_probe, linear_probe

n_valid = min(2_000, len(x_valid))  # labelled validation images: they choose the probe's steps
valid_y = data.valid.y[:n_valid]
valid_codes = predict(dense, x_valid[:n_valid], fn=encode)  # (n_valid, 32)
with torch.random.fork_rng(devices=[]):  # the probe's own seed; the lesson's random state untouched
    torch.manual_seed(0)
    probe_by_hand = nn.Linear(32, len(data.classes))  # (B, 32) codes -> (B, 10) class scores
optimizer = torch.optim.Adam(probe_by_hand.parameters(), lr=0.05)
for _ in range(200):  # full batch: all training codes at once
    optimizer.zero_grad()
    nn.functional.cross_entropy(probe_by_hand(train_codes), ref_y).backward()  # uses the labels
    optimizer.step()
package_probe, _ = linear_probe(train_codes, ref_y, valid_codes, valid_y, (200,),
                                n_classes=len(data.classes))  # one step count: 200
with torch.no_grad():
    valid_accuracy = (probe_by_hand(valid_codes).argmax(dim=1) == valid_y).float().mean()
print(f"the probe written out, 200 steps: {valid_accuracy:.1%} of {n_valid:,} validation images "
      f"right; linear_probe at 200 steps, the same weights: "
      f"{torch.allclose(probe_by_hand.weight, package_probe.weight)}")

# %% [markdown]
# The next cell lets `linear_probe` choose among several step counts on the validation images, then
# prints the code of the first test image next to the probe's class probabilities. The same probe on
# the 784 raw pixels is the yardstick. Both validation curves are printed: a choice at the first or
# the last step count tried would mean the grid did not bracket the best probe.

# %%
probe_checkpoints = course.pick(full=(50, 100, 200, 400, 800, 1600),  # the step counts
                                 fast=(25, 50, 100, 200))  # validation chooses from
probe_curves = {"codes": {}, "pixels": {}}  # step -> validation accuracy, per input
probe, code_probe_steps = linear_probe(train_codes, ref_y, valid_codes, valid_y,  # with labels
                                       probe_checkpoints, n_classes=len(data.classes),
                                       patience=len(probe_checkpoints),  # cheap: every count
                                       curve=probe_curves["codes"])
probe_hits = hits_of_probe(probe, codes[:n_query], query_y)  # (n_query,) 1 = right class
probe_accuracy = probe_hits.mean().item()
with torch.no_grad():
    z0 = codes[0]  # (32,): the code of test image 0
    p0 = torch.softmax(probe(codes[:1]), dim=1)[0]  # (10,): the probe's class probabilities
print(f"test image 0 (class {data.classes[int(data.test.y[0])]}):")
print(f"  its code z:           {len(z0)} numbers from {z0.min():+.2f} to {z0.max():+.2f}, "
      f"{int((z0 < 0).sum())} of them negative, sum {z0.sum():+.2f}")
print(f"  the probe's softmax:  {len(p0)} numbers from {p0.min():.3f} to {p0.max():.3f}, "
      f"sum {p0.sum():.3f}; largest: {data.classes[int(p0.argmax())]} ({p0.max():.0%})")
pixel_probe, pixel_probe_steps = linear_probe(x_train[:n_ref].flatten(1), ref_y,
                                              x_valid[:n_valid].flatten(1), valid_y,
                                              probe_checkpoints, n_classes=len(data.classes),
                                              curve=probe_curves["pixels"])  # stops 2 after its best
for (name, curve), chosen in zip(probe_curves.items(), (code_probe_steps, pixel_probe_steps),
                                 strict=True):  # chosen: the step count linear_probe kept
    edge = {probe_checkpoints[0]: " (the first tried)",
            probe_checkpoints[-1]: " (the last: more steps might gain)"}
    print(f"probe on the {name}, validation accuracy per step count: "
          + ", ".join(f"{step} {accuracy:.1%}" for step, accuracy in curve.items())
          + f"; kept {chosen}{edge.get(chosen, '')}")
pixel_probe_hits = hits_of_probe(pixel_probe, x_test[:n_query].flatten(1), query_y)
probe_difference, probe_se = compare_rates(probe_hits, pixel_probe_hits)  # same test images
print(f"linear probe on {n_query:,} test images: {probe_accuracy:.1%} right from the 32-number "
      f"codes (nearest neighbour: {hits.mean():.1%}), {pixel_probe_hits.mean():.1%} from the 784 "
      f"pixels; difference {probe_difference:+.1%}, standard error {probe_se:.1%}")
at_last = [name for name, chosen in (("codes", code_probe_steps), ("pixels", pixel_probe_steps))
           if chosen == probe_checkpoints[-1]]  # these probes might still gain with more steps
caveat = f" (the {' and '.join(at_last)} probe stopped at the last step count tried)" * bool(at_last)
if abs(probe_difference) <= 2 * probe_se:
    print(f"In this run: the probe reads the classes about as well from the codes as from the "
          f"pixels{caveat}.")
else:
    print(f"In this run: the probe reads the classes {'better' if probe_difference > 0 else 'worse'} "
          f"from the codes than from the pixels, by more than two standard errors{caveat}.")

# %% [markdown]
# The code's 32 numbers can be negative, and their sum means nothing: they are the coordinates of a
# point, found without labels. Nor is the code a parameter: the encoder computes it afresh from
# each image, and backpropagation updates only the weights and biases. (Lesson 06's means and
# variances are, like this code, computed by the encoder from each image: outputs, not weights;
# there they describe a distribution from which the code is drawn.) Class probabilities are non-negative, sum to 1, and come
# from a **classifier** trained with labels: here the probe, whose accuracy measures the class
# information that this linear layer, trained this way, reads from the code. The code's size has
# nothing to do with the number of classes: 32 numbers here, 10 classes, and the probe maps one
# to the other. (The pixel probe stops once two step counts in a row fail to beat its best,
# so its curve ends early.) With thousands of
# labels, codes that read worse than pixels would be no surprise: the pixel probe has 25 times the
# inputs, and the autoencoder was trained to reconstruct, not to separate classes. Lab F asks
# whether codes pay off with 100 or 1,000 labels.

# %% [markdown]
# ### Between two codes
#
# The decoder turns ANY 32 numbers into an image, not only the codes of real images. The cell
# decodes 8 evenly spaced points on the straight line from the code of test image 0 to the code of
# the first test image of another class.
#
# **Predict:** will the middle images look like garments, like a blend of the two, or like noise?

# %%
other = int((data.test.y != data.test.y[0]).nonzero()[0, 0])  # first test image of another class
t = torch.linspace(0, 1, 8)[:, None]  # (8, 1): positions along the line, 0 = image 0, 1 = other
line_codes = (1 - t) * codes[0] + t * codes[other]  # (8, 32)
with torch.no_grad():
    line_images = dense.decode(line_codes).view(-1, 1, 28, 28)  # (8, 1, 28, 28)
images_figure(line_images, ncols=8, size=0.9,
              title=f"decoding the line from test image 0 ({data.classes[int(data.test.y[0])]}) "
                    f"to test image {other} ({data.classes[int(data.test.y[other])]})")

# %% [markdown]
# Every point decodes to *something*. But training asks the decoder only to rebuild real images from
# their own codes, nothing about the points in between, so nothing guarantees that the middle
# images look like real ones: judge them yourself, since no number here scores them. An ordinary
# autoencoder gives no rule for choosing codes that decode to plausible new images; the
# **variational** autoencoder of lesson 06 adds one. Lab G decodes a whole grid of codes.

# %% [markdown]
# ## 4. How wide should the bottleneck be?
#
# A code narrower than the input ($k < 784$) is **undercomplete**: the model cannot copy its input
# and must compress it into $k$ numbers. That limits the code's dimension, not what the model can
# memorise (section 2's 1,000-image run). A network with no layer narrower than its input could
# learn to copy, and needs another constraint (lessons 04 and 05). Many blog posts say a smaller
# bottleneck also means **less overfitting**. The cell trains the dense AE with code sizes
# $k = 2, 8, 32, 64$ and measures, for the AE and for PCA, the error on training and validation
# images, the AE's overfitting gap (validation error over training error, minus 1) and the
# nearest-neighbour rate of both codes.

# %%
pca64 = PCA(64).fit(x_train.flatten(1))  # PCA with k components = its first k of these
sweep_sizes = (2, 8, 32, 64)
ae_models = {32: dense}  # trained in section 1 with the same recipe (seed 0)
for k in sweep_sizes:
    if k not in ae_models:
        ae_models[k] = train_dense(0, n_latent=k)

# %%
def pca_errors(pca, x):
    """MSE per pixel of PCA's reconstruction, one number per image: (N, 1, 28, 28) -> (N,)."""
    return ((pca.reconstruct(x.flatten(1)) - x.flatten(1)) ** 2).mean(dim=1)


sweep, nn_hits = {}, {}  # nn_hits[(kind, k)]: (n_query,) 1 where the nearest code has the class
for k in sweep_sizes:
    ae, pca_k = ae_models[k], pca64.truncated(k)
    ae_codes = [predict(ae, x, fn=encode) for x in (x_train[:n_ref], x_test[:n_query])]
    pca_codes = [pca_k.encode(x.flatten(1)) for x in (x_train[:n_ref], x_test[:n_query])]
    nn_hits["AE", k] = nearest_neighbour_hits(ae_codes[0], ref_y, ae_codes[1], query_y)
    nn_hits["PCA", k] = nearest_neighbour_hits(pca_codes[0], ref_y, pca_codes[1], query_y)
    sweep[k] = {
        "weights": count_parameters(ae),
        "PCA train": pca_errors(pca_k, x_train[:n_ref]).mean().item(),
        "PCA valid": pca_errors(pca_k, x_valid).mean().item(),
        "AE train": pixel_mse(ae, x_train[:n_ref]),
        "AE valid": pixel_mse(ae, x_valid),
        "AE NN": nn_hits["AE", k].mean().item(),
        "PCA NN": nn_hits["PCA", k].mean().item(),
    }
    sweep[k]["AE gap"] = sweep[k]["AE valid"] / sweep[k]["AE train"] - 1
    sweep[k]["AE / PCA"] = sweep[k]["AE valid"] / max(sweep[k]["PCA valid"], 1e-12)  # PCA may be ~0
columns = ("weights", "PCA train", "PCA valid", "AE train", "AE valid", "AE / PCA", "AE gap",
           "AE NN", "PCA NN")
percent = ("AE gap", "AE NN", "PCA NN")
print(f"{'k':>3}" + "".join(f"{c:>10}" for c in columns))
for k, row in sweep.items():
    print(f"{k:>3}{row['weights']:>10,}" + "".join(
        f"{row[c]:>10.1%}" if c in percent else f"{row[c]:>10.3g}" if c == "AE / PCA"
        else f"{row[c]:>10.5f}" for c in columns[1:]))
print(f"raw pixels (784 numbers): nearest-neighbour rate {pixels_nn:.1%}; errors are MSE per pixel")

# %%
from itertools import pairwise  # (a, b), (b, c), ...: neighbours in a list

gaps_k = [sweep[k]["AE gap"] for k in sweep_sizes]
ae_valid = [sweep[k]["AE valid"] for k in sweep_sizes]
best_ratio = min(sweep_sizes, key=lambda k: sweep[k]["AE / PCA"])
below_everywhere = all(sweep[k]["AE valid"] < sweep[k]["PCA valid"] for k in sweep_sizes)
falls = all(a > b for a, b in pairwise(ae_valid))
sweep_overfit = [k for k in sweep_sizes if sweep[k]["AE gap"] > overfit_at]
print(f"AE below PCA at every k: {below_everywhere}; smallest AE / PCA ratio "
      f"{sweep[best_ratio]['AE / PCA']:.2f} at k = {best_ratio}; validation error falls at every "
      f"step up in k: {falls}; code sizes with a gap over {overfit_at:.0%}: {sweep_overfit or 'none'}")
if below_everywhere and not sweep_overfit:
    print("In this run: the AE beats PCA at every code size, and no code size overfits.")
else:
    print("In this run: the AE does not beat PCA at every code size, or some code size overfits "
          "(the line above says which).")

# %%
# extra code – the sweep as two panels: error and nearest-neighbour rate against k
fig = NotebookFigure(figsize=(10, 3.6), layout="constrained")
ax_err, ax_nn = fig.subplots(1, 2)
for key, style, extra in (("PCA valid", "g-s", {}), ("AE train", "b-o", {"mfc": "none", "ms": 9}),
                         ("AE valid", "b--x", {"ms": 7})):  # hollow circles stay visible
    ax_err.plot(sweep_sizes, [sweep[k][key] for k in sweep_sizes], style, label=key, **extra)
ax_err.set(xscale="log", xlabel="code size k", ylabel="MSE per pixel",
           title="reconstruction error")
ax_nn.plot(sweep_sizes, [sweep[k]["AE NN"] for k in sweep_sizes], "b-o", label="AE codes")
ax_nn.plot(sweep_sizes, [sweep[k]["PCA NN"] for k in sweep_sizes], "g-s", label="PCA codes")
ax_nn.axhline(pixels_nn, color="grey", ls=":", label="raw pixels")
nn_rates = [sweep[k][key] for k in sweep_sizes for key in ("AE NN", "PCA NN")] + [pixels_nn]
ax_nn.set(xscale="log", xlabel="code size k", ylabel="share of test images (zoomed)",
          ylim=(min(nn_rates) - 0.12, max(nn_rates) + 0.03),  # room below for the legend
          title=f"nearest training code has the same class\n({n_query:,} test images)")
for ax in (ax_err, ax_nn):
    ax.minorticks_off()  # on a log axis, label only the four code sizes
    ax.set_xticks(sweep_sizes, [str(k) for k in sweep_sizes])
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right" if ax is ax_nn else "best")
fig

# %% [markdown]
# Left: the errors (hollow circles: training sample, crosses: validation). Right: the
# nearest-neighbour rates of test images on a zoomed axis.
#
# Where no code size overfits, the table cannot test the rule of thumb. The next cell trains
# $k = 2$ and $64$ on section 2's 1,000 images, beside that section's $k = 32$, with its
# small-data budget (one seed each; lab R adds $k = 8$).

# %%
small_k = {32: (dense_small_valid, dense_small_gap)}  # section 2's dense AE-32 (seed 0)
for k in (2, 64):
    torch.manual_seed(0)
    model = DenseAutoencoder(784, hidden=(128,), n_latent=k, input_mean=x_small.mean(dim=0))
    fit(model.to(course.device), x_small.to(course.device), epochs=small_epochs, lr=5e-3,
        callbacks=[CosineDecay()], batch_size=batch_size, verbose=False)
    valid_err = pixel_mse(model.cpu(), x_valid)
    small_k[k] = valid_err, valid_err / pixel_mse(model, x_small) - 1  # (valid MSE, relative gap)
small_k = dict(sorted(small_k.items()))  # k = 2, 32, 64
print(f"on {n_small:,} training images (MSE per pixel): " + "; ".join(
    f"k = {k} valid {valid:.5f}, gap {gap:+.1%}" for k, (valid, gap) in small_k.items()))
gap_grows = all(a[1] < b[1] for a, b in pairwise(small_k.values()))
valid_falls = all(b[0] < a[0] for a, b in pairwise(small_k.values()))
if max(gap for _, gap in small_k.values()) <= overfit_at:
    print(f"In this run: every gap is within the {overfit_at:.0%} cut: no overfitting to compare.")
else:
    print(f"In this run: the gap {'grows' if gap_grows else 'does not grow'} at every step up in k, "
          f"and the validation error {'falls' if valid_falls else 'does not fall'} at every step"
          + (": a large gap alone is no reason to shrink k" if gap_grows and valid_falls else "")
          + " (one seed per size: no noise margin here).")

# %%
# extra code – the same 8 test images, reconstructed by the sweep's models (rows: k = 2 ... 64)
show8 = x_test[:8]  # (8, 1, 28, 28)
sweep_rows = {"original": show8}
for k in sweep_sizes:
    sweep_rows[f"k = {k}\nMSE {pixel_mse(ae_models[k]):.4f}"] = predict(ae_models[k], show8)
rows_figure(sweep_rows, title="the same test images from k numbers (MSE: all test images)")

# %% [markdown]
# With plenty of data, a narrower code mainly costs reconstruction quality, and the images above
# stay blurry even at $k = 64$: a squared-error decoder returns the average of the images it
# cannot tell apart. At any data size the criterion is the validation error, not the gap: a code
# size that overfits more can still have the lower validation error.
#
# **Choosing $k$: a diminishing-returns rule.** Take the smallest $k$ after which doubling $k$ cuts
# the validation error by less than 15% (a choice, not an elbow the curve must have; the package
# calls it `elbow_k`). From $k = 2$ to 8 is two doublings: the cut per doubling is then the share
# each would remove if both removed the same, one minus the square root of the error ratio. Then,
# if the codes serve retrieval, check on validation images that its nearest-neighbour rate ties
# the best. Expect the cut to shrink as $k$ grows: diminishing
# returns.

# %%
from course_utils.class_info import (  # cut: 1 - (e_b / e_a) ** (1 / log2(b / a))
    doubling_cut_ranges,
    doubling_cuts,
    elbow_k,
)

cuts = doubling_cuts({k: sweep[k]["AE valid"] for k in sweep_sizes})
cut_words = ("validation error removed per doubling of k: "
             + ", ".join(f"from k = {k} {cut:.1%}" for k, cut in cuts.items())
             + f" (shrinking at every step: {all(a > b for a, b in pairwise(cuts.values()))})")
rule_k = elbow_k({k: sweep[k]["AE valid"] for k in sweep_sizes})
chosen_k = max(sweep_sizes) if rule_k is None else rule_k
valid_hits = {k: nearest_neighbour_hits(predict(ae_models[k], x_train[:n_ref], fn=encode), ref_y,
                                        predict(ae_models[k], x_valid[:n_valid], fn=encode), valid_y)
              for k in sweep_sizes}  # (n_valid,) each: the check uses validation images, not test
rule_words = (f"the rule picks k = {chosen_k} (the next doubling cuts only {cuts[chosen_k]:.1%})"
              if rule_k is not None else "every doubling tried cuts 15% or more, so the rule "
              f"asks for wider codes; the widest tried is k = {chosen_k}")
best_k = max(sweep_sizes, key=lambda k: valid_hits[k].mean().item())
behind, behind_se = compare_rates(valid_hits[best_k], valid_hits[chosen_k])  # same images


def in_standard_errors(difference: float, se: float) -> str:
    return f"{difference:+.1%} = {difference / se:+.1f} standard errors" if se > 0 else "no difference"


print(f"{cut_words}; {rule_words}")
if rule_k is not None:  # each error moved by half of t*s*sqrt(2), as a share of the error
    half_pair = pair_margin / 2 / seed_mean  # section 1's one-run-against-one-run margin, halved
    low, high = doubling_cut_ranges({k: sweep[k]["AE valid"] for k in sweep_sizes},
                                    half_pair)[rule_k]
    print(f"that cut with the two errors moved apart by section 1's one-run-against-one-run "
          f"margin (k = 32's, {2 * half_pair:.1%} of the error, borrowed at every k): "
          f"{low:.1%} to {high:.1%}"
          + (": within seed noise of the 15% line, so another seed could pick the next size"
             if low < 0.15 < high else ": clear of the 15% line"))
print(f"nearest-neighbour rate, {n_valid:,} validation images: k = {chosen_k} "
      f"{valid_hits[chosen_k].mean():.1%}, best k = {best_k} {valid_hits[best_k].mean():.1%}; best "
      f"minus k = {chosen_k}: {in_standard_errors(behind, behind_se)}")
if behind <= 2 * behind_se:
    print(f"In this run: on the validation images k = {chosen_k} ties the best rate (within two "
          "standard errors), so the retrieval check does not contradict the rule.")
else:
    print(f"In this run: k = {chosen_k} is clearly below the best rate; for retrieval, take a "
          "wider code.")

# %% [markdown]
# The validation images decide; the test images play no part in the choice. Lab H prints every
# cut's range and ranks the code sizes on the test images.
#
# A 2-number code can be drawn whole, not as a shadow (unlike section 3's projection):

# %%
# extra code – the k = 2 AE's codes beside PCA-2's codes for the same test images
pca2 = pca64.truncated(2)  # PCA with 2 components
ae_codes_k2 = predict(ae_models[2], x_test[:n_query], fn=encode)  # (n_query, 2)
codes_k2 = {f"AE, k = 2 (nearest-neighbour rate {sweep[2]['AE NN']:.1%})": ae_codes_k2,
            f"PCA-2 (nearest-neighbour rate {sweep[2]['PCA NN']:.1%})":
            pca2.encode(x_test[:n_query].flatten(1))}  # (n_query, 2)
fig = NotebookFigure(figsize=(11, 4.6), layout="constrained")
for ax, (panel_title, points) in zip(fig.subplots(1, 2), codes_k2.items(), strict=True):
    for c, name in enumerate(data.classes):
        pts = points[query_y == c]
        ax.scatter(pts[:, 0], pts[:, 1], s=4, alpha=0.6, color=f"C{c}", label=name)
    ax.set(title=panel_title, xlabel="code number 1", ylabel="code number 2")
fig.legend(*ax.get_legend_handles_labels(), loc="outside right center", markerscale=3, fontsize=8)
fig.suptitle(f"2-number codes of {n_query:,} {data.name} test images, coloured by class")
fig

# %% [markdown]
# **Try it.** The two sliders move a point $z$ over the plane of the $k = 2$ model's codes, and the
# right panel shows what the decoder makes of it. Move $z$ into a class's cluster, then between
# two clusters, then past the edge of the data (the title compares the distance to the nearest
# code with a typical spacing): what does the decoder draw? Far out along a ray from the data, a
# ReLU decoder is affine, so the pixels' logits grow in size and the sigmoid pushes them towards
# black or white; the printed line measures it at the corners of the sliders' range. (A saved copy
# shows no slider.)

# %% tags=["nbval-ignore-output"]
from course_utils.code_plane import code_plane_view, decode_point, plane_limits

low, high = plane_limits(ae_codes_k2)  # the sliders' range: [x low, y low], [x high, y high]
corners = [decode_point(ae_models[2], (x, y)) for x in (low[0], high[0]) for y in (low[1], high[1])]
real = [decode_point(ae_models[2], z) for z in ae_codes_k2[:200].tolist()]  # (28, 28) each


def saturated(images) -> float:
    """Share of pixels below 0.02 or above 0.98 in a list of (28, 28) images."""
    pixels = torch.stack(images)
    return ((pixels < 0.02) | (pixels > 0.98)).float().mean().item()


print(f"pixels below 0.02 or above 0.98: decoded codes of 200 test images {saturated(real):.0%}, "
      f"the four corners of the sliders' range {saturated(corners):.0%}")
code_plane_view(ae_models[2], ae_codes_k2, query_y, data.classes)

# %% [markdown]
# ### One more layer, at two code sizes
#
# A deeper stack puts one more hidden layer of 64 units on each side, 784-128-64-$k$-64-128-784,
# trained with the same recipe and steps. An extra layer lets the encoder and the decoder bend
# more, which should matter most when the code is tiny: with $k = 2$, every image is rebuilt from a
# point in a plane. Against that, it is one more layer to train in the same steps. The cell trains
# it (seed 0) at $k = 2$ and $k = 32$, and the shallow stack at $k = 2$ with two more seeds, for
# that size's own noise margin.
#
# **Predict:** does the extra layer lower the error at $k = 2$? At $k = 32$?

# %%
from course_utils.verdicts import seed_noise_margin  # t * sd * sqrt(1 + 1/n), section 1's formula

deep = train_dense(0, hidden=(128, 64))  # 784-128-64-32-64-128-784
shallow_k2_mses = [pixel_mse(ae_models[2])] + [pixel_mse(train_dense(seed, n_latent=2))
                                               for seed in (1, 2)]  # 784-128-2, seeds 0, 1, 2
depth_rows = {  # k -> (shallow mean of 3 seeds, deeper seed 0, noise margin at that k)
    2: (statistics.mean(shallow_k2_mses), pixel_mse(train_dense(0, n_latent=2, hidden=(128, 64))),
        seed_noise_margin(shallow_k2_mses)),
    32: (seed_mean, pixel_mse(deep), noise_margin),
}
print(f"test MSE per pixel after {steps_taken:,} steps (shallower 784-128-k: mean of seeds 0-2; "
      "deeper 784-128-64-k: seed 0)")
print(f"{'k':>4}{'shallower':>11}{'deeper':>9}{'change':>9}{'margin':>9}   in this run, the deeper is")
for k, (shallow, deeper, margin) in depth_rows.items():
    print(f"{k:>4}{shallow:>11.5f}{deeper:>9.5f}{deeper / shallow - 1:>+9.1%}{margin:>9.5f}   "
          f"{margin_word(deeper, shallow, margin)} the shallower")
deep_dead = dead_units(deep, x_test)  # one (width,) mask per ReLU layer, True = dead
print("dead units of the deeper stack, k = 32, per hidden layer (784-128-64-32-64-128-784): "
      + ", ".join(f"{int(mask.sum())} of {mask.numel()}" for mask in deep_dead))

# %% [markdown]
# Depth is a measurement, not a rule: measure it at the code size you will use. At a fixed budget
# the comparison is also about how fast each stack learns: one more layer is one more to train in
# the same steps (lab I continues both at $k = 32$ to twice the steps). The last line counts the
# deeper stack's dead units: centring guards only its first layer.

# %% [markdown]
# ## 5. Anomaly detection by reconstruction error
#
# An autoencoder reconstructs well what looks like its training data; on something different its
# error tends to grow, so the error is an **anomaly score**. We train a new stacked autoencoder on
# **handwritten digits**. The anomalies are Fashion-MNIST test images when available, otherwise
# crops of photos from scikit-learn; the next cell prints which sets are in use.

# %%
from course_utils.anomaly import out_of_distribution_images

digits = load_dataset("mnist", seed=course.seed)  # in-distribution: digits
ood_x, ood_name = out_of_distribution_images(data, n=len(digits.test.x), seed=course.seed,
                                             normal=digits.test.x)  # warns if any is a digit
normal_x = digits.test.x
print(f"normal: {len(normal_x):,} {digits.name} test images (plus {len(digits.valid.x):,} "
      f"validation images to set the threshold); anomalies: {len(ood_x):,} {ood_name}")
full_split = (len(digits.train.x), len(digits.valid.x), len(normal_x)) == (54_000, 6_000, 10_000)
print("this is " + ("" if full_split else "not ") + "the full MNIST split (54,000 training, "
      "6,000 validation, 10,000 test digits)")

# %%
torch.manual_seed(0)
digit_ae = DenseAutoencoder(784, hidden=(128,), n_latent=32,
                            input_mean=digits.train.x.mean(dim=0)).to(course.device)  # centred
digit_epochs = epochs_for(steps, len(digits.train.x))
fit(digit_ae, digits.train.x.to(course.device), digits.valid.x.to(course.device),
    epochs=digit_epochs, lr=5e-3, callbacks=[CosineDecay()], batch_size=batch_size, verbose=False)
digit_ae = digit_ae.cpu()
digit_steps = digit_epochs * math.ceil(len(digits.train.x) / batch_size)
print(f"digit autoencoder: {digit_epochs} epochs of {len(digits.train.x):,} images = "
      f"{digit_steps:,} steps (target {steps:,})")
if not full_split:
    print(f"data note: {len(digits.train.x):,} training digits, so the same steps are "
          f"{digit_epochs} passes instead of {epochs_for(steps, 54_000)} over 54,000, and the threshold "
          f"comes from {len(digits.valid.x):,} validation errors: this section's numbers hold at this "
          f"data size; the full split is a different experiment.")

# %% [markdown]
# Each image's score is its error per pixel (`mse_per_pixel_per_image`, as in section 1). The
# histograms use $\log_{10}$ of the error; each has area 1.

# %%
from course_utils.anomaly import error_histograms_figure

err_valid = mse_per_pixel_per_image(digit_ae, digits.valid.x)  # (N_valid,) normal, for the threshold
err_normal = mse_per_pixel_per_image(digit_ae, normal_x)  # (N,)
err_ood = mse_per_pixel_per_image(digit_ae, ood_x)  # (N,)
print(f"median error: normal {err_normal.median():.4f}, anomalies {err_ood.median():.4f} "
      f"(ratio {err_ood.median() / err_normal.median():.1f})")
error_histograms_figure(err_normal, err_ood, names=(f"{digits.name} (normal)", "anomalies"))

# %% [markdown]
# ### ROC curve and AUROC, the AUROC checked by hand
#
# A threshold $t$ flags every image with error $\ge t$. Sliding $t$ down from $+\infty$ traces the
# **ROC curve**, from $(0, 0)$ to $(1, 1)$: the **true positive rate** (anomalies flagged / all
# anomalies) against the **false positive rate** (normal images flagged / all normal images). Its
# area, **AUROC**, is the probability that a random anomaly scores higher than a random normal
# image (ties count one half): 1 is perfect, 0.5 is a coin toss. Check a hand-sized example:

# %%
from course_utils.anomaly import auroc, roc_curve

normal_toy, anomal_toy = torch.tensor([0.1, 0.2, 0.3]), torch.tensor([0.25, 0.4])
fpr, tpr, thresholds = roc_curve(normal_toy, anomal_toy)
for name, values in (("thresholds", thresholds), ("FPR", fpr), ("TPR", tpr)):
    print(f"{name:<11}" + "  ".join(f"{v:>5.2f}" for v in values))
pairs = (anomal_toy[:, None] > normal_toy[None, :]).float().mean().item()  # (2, 3) comparisons
print(f"AUROC {auroc(normal_toy, anomal_toy):.4f} = share of (anomaly, normal) pairs in order {pairs:.4f}")

# %% [markdown]
# ### Is the autoencoder worth it? Two baselines without gradient training
#
# Two cheap scores to beat: **mean intensity**, the average pixel value, and the **PCA-32 error**,
# from PCA fitted on the training digits. $1 - \mathrm{AUROC}$ is the share of pairs in the wrong
# order (ties count half), so going from 0.96 to 0.99 removes three quarters of the mistakes.
# "Ahead" means by more than two bootstrap standard errors (yardstick 3 of section 1). A baseline
# whose AUROC is below 0.5 is read the other way (`oriented`), its direction chosen on the test
# images themselves, which can only flatter it. Expect the autoencoder well ahead of mean
# intensity; PCA-32, which also scores by reconstruction error, is the harder baseline.

# %%
from course_utils.anomaly import roc_figure
from course_utils.verdicts import auroc_margin, oriented  # AUROC difference and its SE; direction

digit_pca = PCA(32).fit(digits.train.x.flatten(1))  # (N, 784)
bright_normal, bright_ood = normal_x.mean(dim=(1, 2, 3)), ood_x.mean(dim=(1, 2, 3))  # (N,) each
scores = {"stacked AE error": (err_normal, err_ood),
          "PCA-32 error": (pca_errors(digit_pca, normal_x), pca_errors(digit_pca, ood_x)),
          "mean intensity": (bright_normal, bright_ood)}
scores["mean intensity"], intensity_flipped = oriented(scores["mean intensity"])
aucs = {name: auroc(*pair) for name, pair in scores.items()}
print("mean intensity " + ("flipped (darker = more anomalous)" if intensity_flipped else
                           "used as is (brighter = more anomalous)") + ", chosen on these test "
      "images (no anomalous validation images here): a choice that can only flatter the baseline")
print(f"average pixel value: {digits.name} test digits {bright_normal.mean():.3f}, anomalies "
      f"{bright_ood.mean():.3f}")
for name, value in aucs.items():
    print(f"  {name:<18} AUROC {value:.4f}   pairs in the wrong order {1 - value:.2%}")
kind_margins = {b: auroc_margin(scores["stacked AE error"], scores[b], seed=course.seed)
                for b in ("PCA-32 error", "mean intensity")}  # b -> (difference, its SE)
print("stacked AE minus " + ", ".join(f"{b}: {m.difference:+.4f} (bootstrap standard error "
                                      f"{m.se:.4f})" for b, m in kind_margins.items()))
ahead_of_both = all(margin.clear for margin in kind_margins.values())
wrong_ae, wrong_pca = 1 - aucs["stacked AE error"], 1 - aucs["PCA-32 error"]  # pairs out of order
if min(wrong_ae, wrong_pca) == 0 or wrong_ae == wrong_pca:  # no ratio to take
    wrong_words = f"pairs in the wrong order: stacked AE {wrong_ae:.2%}, PCA-32 {wrong_pca:.2%}."
elif wrong_ae < wrong_pca:
    wrong_words = f"PCA-32 puts {wrong_pca / wrong_ae:.1f} times as many pairs in the wrong order."
else:
    wrong_words = (f"the stacked AE puts {wrong_ae / wrong_pca:.1f} times as many pairs in the "
                   "wrong order as PCA-32.")
print("In this run: the stacked AE is " + ("ahead of both" if ahead_of_both else "not ahead of both")
      + " (two bootstrap standard errors); " + wrong_words)
fig = NotebookFigure(figsize=(10, 4.4), layout="constrained")
for ax, log_fpr in zip(fig.subplots(1, 2), (False, True), strict=True):  # right: log axis
    for i, (name, label, colour) in enumerate((
            ("stacked AE error", "stacked AE", "tab:purple"), ("PCA-32 error", "PCA-32", "tab:green"),
            ("mean intensity", "mean intensity" + " (flipped)" * intensity_flipped, "tab:orange"))):
        roc_figure(*scores[name], label=label, ax=ax, color=colour, chance=i == 0, log_fpr=log_fpr)
    ax.set_title("log false-positive axis: small rates enlarged" if log_fpr else "ROC curves")
fig

# %% [markdown]
# Good detectors crowd into the top-left corner. The right panel puts the false-positive rate on a
# log axis, which enlarges the small false-alarm rates at which a detector is used (a rate of 0 is
# drawn at one false alarm). The difference to PCA-32, the flat subspace that reconstructs the
# training digits best, measures what this autoencoder gains: its encoder, decoder and training
# together, not its curved decoder alone.
#
# Is the autoencoder's score brightness in disguise? `matched_subsets` keeps, from each group,
# images with the same distribution of mean intensity: on them brightness alone is close to a coin
# toss, so a score that still separates the groups measures something else (lab J adds rank
# correlations).

# %%
from course_utils.anomaly import matched_subsets  # indices of two brightness-matched subsets

keep_normal, keep_ood = matched_subsets(bright_normal, bright_ood, seed=course.seed)  # (M,), (M,)
matched = {name: (normal[keep_normal], anomalous[keep_ood]) for name, (normal, anomalous)
           in scores.items()}  # name -> the scores of the matched images
print(f"brightness-matched subsets, {len(keep_normal):,} digits and {len(keep_ood):,} anomalies; "
      "AUROC " + ", ".join(f"{name} {auroc(*pair):.4f}" for name, pair in matched.items()))
matched_margin = auroc_margin(matched["stacked AE error"], matched["mean intensity"],
                              seed=course.seed)
print("In this run: on images of matched brightness the stacked AE is "
      + ("ahead of mean intensity (two bootstrap standard errors): brightness alone does not "
         "explain its ranking." if matched_margin.clear else "not clearly ahead of mean "
         "intensity (two bootstrap standard errors): this test cannot rule out brightness."))

# %% [markdown]
# ### A threshold, set on validation data
#
# A common rule needs no anomalies: accept a false-alarm rate, say 5%, and put the threshold at
# the 95th percentile of the errors of **normal validation images**. Then measure on the **test**
# images, which played no part in choosing it. Expect a false-alarm rate near 5%, not exactly 5%.
# Precision is the share of anomalies among the flagged images; recall is the share of anomalies
# flagged.

# %%
from course_utils.anomaly import flag_counts, precision_at_prevalence, threshold_figure

t95 = torch.quantile(err_valid, 0.95).item()  # chosen on VALIDATION digits only
counts = flag_counts(err_normal, err_ood, t95)  # measured on the test sets
print(f"threshold {t95:.4f} (95th percentile of {len(err_valid):,} validation errors)")
print(f"In this run: a threshold set on validation digits flags {counts.false_alarm_rate:.1%} of the "
      f"normal test digits (target 5%) and catches {counts.recall:.1%} of the anomalies.")
bayes = {p: precision_at_prevalence(counts.recall, counts.false_alarm_rate, p) for p in (0.5, 0.1, 0.01)}
print("precision, by Bayes' rule from this recall and false-alarm rate: "
      + ", ".join(f"{p:.0%} anomalies {value:.3f}" for p, value in bayes.items())
      + f" (measured here, 50% anomalies: {counts.precision:.3f})")
names = (digits.name, "anomaly")
threshold_figure(err_normal, err_ood, normal_x, ood_x, t95, names=names, label="stacked AE")

# %% [markdown]
# ### Precision depends on how rare anomalies are
#
# The test above has 50% anomalies (**prevalence**); in practice they are rare. Recall, the
# false-alarm rate and AUROC are computed within or across the two true classes, so prevalence
# changes none of them. Precision does: with 1% anomalies, even 5% false alarms on the other 99%
# can outnumber the anomalies caught. Bayes' rule gives the precision at prevalence $\pi$ from
# recall $r$ and false-alarm rate $f$: $r\pi / (r\pi + f(1 - \pi))$ (`precision_at_prevalence`,
# printed above; lab J checks it by drawing). Quote precision with its prevalence. The slider
# trades false alarms for missed anomalies (a saved copy shows no slider).

# %% tags=["nbval-ignore-output"]
from course_utils.anomaly import threshold_view

threshold_view(err_normal, err_ood, normal_x, ood_x, names=names, threshold=t95, label="stacked AE")

# %% [markdown]
# ### The hard case: a digit the model has never seen
#
# Clothes are another **kind** of image. Closer to real use: train the same recipe **without the
# 7s**, then score the test 7s against the other digits. This time the validation digits include
# 7s, so each baseline's direction is chosen on them, before the test images are scored (for the
# clothes there was no anomalous validation image to choose on).

# %%
held_out = 7  # the digit class left out of training
known = digits.train.y != held_out  # (N_train,) True for the nine other digits
torch.manual_seed(0)
novel_ae = DenseAutoencoder(784, hidden=(128,), n_latent=32,
                            input_mean=digits.train.x[known].mean(dim=0)).to(course.device)
fit(novel_ae, digits.train.x[known].to(course.device),  # no validation set: it holds 7s
    epochs=epochs_for(steps, int(known.sum())), lr=5e-3, callbacks=[CosineDecay()],
    batch_size=batch_size, verbose=False)
novel_ae = novel_ae.cpu()
novel_pca = PCA(32).fit(digits.train.x[known].flatten(1))  # PCA on the same nine classes


def three_scores(x):
    """(N, 1, 28, 28) digits -> {score: (N,)}: errors of the AE and PCA without 7s, intensity."""
    return {"stacked AE error": mse_per_pixel_per_image(novel_ae, x),
            "PCA-32 error": pca_errors(novel_pca, x), "mean intensity": x.mean(dim=(1, 2, 3))}


is_novel, is_novel_valid = digits.test.y == held_out, digits.valid.y == held_out  # 7 or not
known_x, novel_x = normal_x[~is_novel], normal_x[is_novel]  # test digits
known_valid = three_scores(digits.valid.x[~is_novel_valid])  # validation digits: they choose
# each baseline's direction (none if the validation split holds no 7)
novel_valid = three_scores(digits.valid.x[is_novel_valid]) if is_novel_valid.any() else None
test_known, test_novel = three_scores(known_x), three_scores(novel_x)
novel_scores = {name: (test_known[name], test_novel[name]) for name in test_known}  # (N0,), (N1,)
novel_flips = {}  # baseline -> True if its validation AUROC was below 0.5: read the other way
for name in ("PCA-32 error", "mean intensity"):
    decide_on = (known_valid[name], novel_valid[name]) if novel_valid else None
    novel_scores[name], novel_flips[name] = oriented(novel_scores[name], decide_on=decide_on)
novel_aucs = {name: auroc(*pair) for name, pair in novel_scores.items()}
print(f"normal: {len(known_x):,} test digits of nine classes; anomalies: {len(novel_x):,} test "
      f"images of the digit {digits.classes[held_out]}; read the other way (chosen on validation "
      f"digits): {', '.join(n for n, f in novel_flips.items() if f) or 'neither baseline'}")
for name, value in novel_aucs.items():
    print(f"  {name:<18} AUROC {value:.4f}   (clothes against all ten digits: {aucs[name]:.4f})")
novel_margins = {b: auroc_margin(novel_scores["stacked AE error"], novel_scores[b], seed=course.seed)
                 for b in ("PCA-32 error", "mean intensity")}  # b -> (difference, its SE)
novel_ahead = all(margin.clear for margin in novel_margins.values())
print("In this run: on the unseen digit the AE is "
      + ("ahead of both baselines" if novel_ahead else "not clearly ahead of both baselines")
      + " (two bootstrap standard errors).")

# %% [markdown]
# Would a threshold catch them? The next cell sets one on the known validation digits, as for the
# clothes, and counts the 7s that slip under it.

# %%
known_err, novel_err = novel_scores["stacked AE error"]  # (N_known,), (N_novel,) test errors
novel_cut = known_valid["stacked AE error"].quantile(0.95)  # flags 5% of known validation digits
passed = (novel_err < novel_cut).float().mean()
print(f"In this run: a threshold that flags 5% of {len(known_valid['stacked AE error']):,} known "
      f"validation digits lets {passed:.0%} of the unseen {digits.classes[held_out]}s through (it flags "
      f"{(known_err > novel_cut).float().mean():.1%} of the known test digits).")
error_histograms_figure(known_err, novel_err,
                        names=("nine known digits", f"unseen {digits.classes[held_out]}s"))

# %%
# extra code – the first four unseen 7s that pass the threshold and the first four it flags (fewer
# if there are fewer), over what the AE trained without any 7 makes of them
flagged = novel_err >= novel_cut  # (N_novel,) True where the threshold flags the 7
pick = torch.cat([(~flagged).nonzero()[:4, 0], flagged.nonzero()[:4, 0]])  # (up to 8,) indices
marks = [f"{novel_err[i]:.4f}\n{'flagged' if flagged[i] else 'passed'}" for i in pick.tolist()]
ink = novel_x.mean(dim=(1, 2, 3))  # (N_novel,) mean pixel value of each unseen 7
print("mean pixel value: " + ", ".join(f"{int(group.sum())} 7s {name} {ink[group].mean():.3f}"
                                      for name, group in (("that pass", ~flagged),
                                                          ("flagged", flagged)) if group.any()))
if flagged.sum() > 1 and (~flagged).sum() > 1:  # a difference of two means, with its SE
    ink_gap = Comparison((ink[flagged].mean() - ink[~flagged].mean()).item(),
                         math.sqrt(ink[flagged].var() / flagged.sum() + ink[~flagged].var()
                                   / (~flagged).sum()))
    ink_words = {"above": "more ink than", "below": "less ink than",
                 "indistinguishable from": "about as much ink as"}[ink_gap.word]
    print(f"In this run: the flagged 7s carry {ink_words} those that pass (difference "
          f"{ink_gap.difference:+.3f}, two standard errors {2 * ink_gap.se:.3f}).")
images_figure(torch.cat([novel_x[pick], predict(novel_ae, novel_x[pick])]), ncols=len(pick),
              size=1.2, titles=marks + ["rebuilt"] * len(pick), titles_size=9,
              title=f"top: test {digits.classes[held_out]}s (error per pixel; threshold "
                    f"{novel_cut:.4f}); bottom: rebuilt by the AE that never saw one")

# %% [markdown]
# Why hard? An AE that never saw a 7 still rebuilds many 7s from what it learned on the other
# digits: those score like known digits and pass. The figure sets the first 7s that pass beside
# the first that are flagged, each with its error; the printed lines test whether the flagged 7s
# carry more ink. These numbers come from this run's
# training digits (the lines above print how many): with another number the verdicts are
# recomputed and can differ.

# %% [markdown]
# ## The recipe, and four numbers from this run
#
# 1. Centre the input; start the output bias at the mean image's logit.
# 2. Hidden ReLUs, a **linear** code, a sigmoid output.
# 3. Adam, learning rate 5e-3 decayed along a half cosine, batches of 128, a fixed number of steps.
# 4. Count the dead units: they trigger no warning.
# 5. Compare with PCA at equal $k$, against the 3-seed noise margin.

# %%
print(f"1. dead encoder units: {raw_dead[0]} of 128 with raw pixels, {centred_dead[0]} after "
      f"centring (test error {dense_mse / raw_mse - 1:+.1%})")
print(f"2. AE/PCA error ratio at k = 32: {seed_mean / pca_mse:.0%} (mean of 3 seeds; noise margin "
      f"{noise_margin / seed_mean:.1%} of the error); PCA stores "
      f"{pca32.components.numel() + pca32.mean.numel():,} numbers, the AE {count_parameters(dense):,}")
flipped = {True: " (flipped)", False: ""}  # a baseline read the other way (section 5)
print(f"3. anomaly AUROC: stacked AE {aucs['stacked AE error']:.3f}, PCA-32 "
      f"{aucs['PCA-32 error']:.3f}, mean intensity{flipped[intensity_flipped]} "
      f"{aucs['mean intensity']:.3f} | 4. unseen digit AUROC: stacked AE "
      f"{novel_aucs['stacked AE error']:.3f}, PCA-32{flipped[novel_flips['PCA-32 error']]} "
      f"{novel_aucs['PCA-32 error']:.3f}, mean intensity{flipped[novel_flips['mean intensity']]} "
      f"{novel_aucs['mean intensity']:.3f}")
auc_gap, auc_se = kind_margins["PCA-32 error"]  # AUROC: stacked AE minus PCA-32, its SE
novel_vs_pca = {"above": "ahead of", "below": "behind",  # number 4, the same two-SE margin
                "indistinguishable from": "level with"}[novel_margins["PCA-32 error"].word]
beats_both = pca_mse - seed_mean > noise_margin and auc_gap > 2 * auc_se  # each by its margin
print(f"In this run: the AE {'beats' if beats_both else 'does not beat'} PCA-32 on both numbers 2 "
      f"and 3, and on number 4 it is {novel_vs_pca} PCA-32 (each by its margin).")

# %% [markdown]
# ## Summary
#
# - A stacked autoencoder with a linear code is a few lines of `nn.Sequential`. Its decoder
#   bends, so its reconstructions can leave the flat plane to which PCA's are bound. Section 1
#   splits its gain over PCA between the output sigmoid alone (the twin without hidden ReLUs) and
#   the hidden layers: the split is a measurement, not a given.
# - Raw pixels (all at least 0) can kill hidden ReLU units silently; **centring** guards the
#   first layer (number 1 above).
# - Tied weights use each encoder matrix (one `nn.Parameter`) twice: about half the parameters.
#   The transpose is the best linear decoder only for special encoders, such as PCA's; tying can
#   only close an overfitting gap that exists.
# - A code is coordinates, not class probabilities; nearest neighbours and a linear probe measure
#   its class information against the raw pixels.
# - Choose $k$ by diminishing returns on the validation error, not by the overfitting gap; whether one
#   more layer helps is a measurement at the $k$ you use.
# - Reconstruction error is an anomaly score. Set the threshold on validation data, quote
#   precision with its prevalence, and test held-out classes of the same kind (number 4) before
#   trusting a detector.
# - Every verdict holds for this run: one budget, three seeds where stated, one sample of test
#   images. **Prefer a stacked AE over PCA** when numbers 2 and 3 show a gain; otherwise PCA, with
#   no gradient training and fewer stored numbers, is the cheaper choice.

# %% [markdown]
# ## Going further: the lab
#
# The optional [lab notebook](02_stacked_autoencoders_lab.ipynb) asks, one section each:
# - A. How did the dead units' weights move? Do smaller first steps (one control named in
#   advance) kill fewer units?
# - B. How sure are the verdicts? The bootstrap written out. C. A twin without ReLUs, beside PCA
#   clipped to $[0, 1]$.
# - D. What does a ReLU on the code cost? E. Greedy layer-by-layer training.
# - F. Do codes help with 100 or 1,000 labels? G. Decoding a grid of codes.
# - H. Class information per code size; can a seed move the choice of $k$? Twice the steps.
# - I. The deeper stack at twice the steps, and section 4's $k = 32$ errors with their noise band.
# - J. Is the anomaly score brightness? One image per outcome; precision measured at rarer
#   anomalies. K. Clothes-trained, digits detected. L. The unseen digit's margins.
# - M. Where a loop's epoch summary belongs. N. The filters' random grain. O. Common mistakes.
# - P. When is the transpose least squares? Q. The copy mistake. R. Four details.
# - S. Retrieval: the 5 nearest images in code and in pixel space.
# - T. A t-SNE map of the codes, scored, at two perplexities.

# %% [markdown]
# ## Exercise
#
# [Exercise 02](../exercises/02_stacked_autoencoders.ipynb) [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ae-course/autoencoders-pca-to-vae/blob/main/exercises/02_stacked_autoencoders.ipynb)
# In the exercise you build this lesson's centred 784-128-32-128-784 autoencoder yourself
# (input centring, a logit-mean output bias), train it with and without input centring and count its
# dead units; you write a tied decoder (one weight tensor used twice), the AUROC by hand, and a
# threshold set on validation errors, then read off its false-alarm rate on test images.
#
# ## Quiz

# %%
from course_utils.quiz import show_quiz

show_quiz("02_stacked_autoencoders")

# %% [markdown]
# Next: [03 · Convolutional autoencoders](03_convolutional_autoencoders.ipynb).
