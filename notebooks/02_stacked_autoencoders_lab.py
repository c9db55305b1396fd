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
# # 02 lab · Stacked autoencoders: where the lesson's results come from, and how far they hold
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ae-course/autoencoders-pca-to-vae/blob/main/notebooks/02_stacked_autoencoders_lab.ipynb)
#
# **English** · [Tiếng Việt](vi/02_stacked_autoencoders_lab.ipynb)
#
# This notebook is optional: the companion of [lesson 02](02_stacked_autoencoders.ipynb). Each
# section takes one question of the lesson further and prints its own verdicts after "In this
# run:". It needs nothing from the lesson: its setup cells rebuild the models it uses. Numbers
# (sections 1 to 5) name the lesson's sections, letters this lab's. After the setup, each section
# runs on its own.
#
# **Contents.**
# - A. How did the dead units' weights move? What kills the units in the first steps: the
#   optimizer, its learning rate, or one of centring's two changes?
# - B. How sure are the verdicts? The noise margin tested on simulated runs, and the standard
#   errors behind sections 3 to 5.
# - C. Is the gain over PCA the hidden ReLUs or the output sigmoid? A twin without ReLUs.
# - D. What does a ReLU on the code cost, in dead units and in error?
# - E. Greedy layer-by-layer training against end-to-end training, at the same steps.
# - F. With only 100 or 1,000 labels, do the codes help? Nearest neighbours and fine-tuning.
# - G. What does the decoder make of codes around real ones? A grid, and a latent traversal.
# - H. Could another seed move the choice of $k$? Which code sizes tie on class information, and
#   what do twice the steps change?
# - I. A deeper stack against this one, at two budgets.
# - J. Is the anomaly score brightness in disguise? Correlations and brightness-matched sets;
#   one test image per outcome; precision measured at rarer anomalies.
# - K. The reverse direction: train on clothes, detect digits.
# - L. The hardest case: a digit class the model never saw.
# - M. Where the epoch summary of a hand-written loop belongs.
# - N. How much of the trained filters' fine grain is their random start?
# - O. Common mistakes, each with the section that measures it.
# - P. When is the transpose the least-squares decoder of a linear encoder?
# - Q. The copy mistake, and the gradient of a shared weight.
# - R. Details: the output-bias start alone, per-class rates, the sweep on 1,000 images, the
#   false-alarm rate at 95% recall.
# - S. Retrieval: the 5 nearest images in code and in pixel space.
# - T. A t-SNE map of the codes, scored, at two perplexities.
#
# **Short on time?** A, B, D, I and J are the most instructive: about 30 minutes together, reading
# the printed results (the setup's training adds a few minutes of waiting).


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
# ## Setup: the lesson's models, rebuilt
#
# The next cells load the data and retrain the models that the sections below use, with the same
# course_utils functions, seeds and settings as the lesson, so where the data and the machine are
# the same their numbers match the lesson's (another number of CPU threads, or a GPU, changes the
# last digits of the sums, and a close choice can then differ). They print a few check lines only;
# the lesson explains each step.

# %%
import copy
import math
import statistics
from itertools import pairwise

from torch import nn

from course_utils.anomaly import (
    auroc,
    error_histograms_figure,
    mse_per_pixel_per_image,
    out_of_distribution_images,
)
from course_utils.class_info import (
    elbow_k,
    few_label_nn,
    hits_of_probe,
    linear_probe,
    nearest_neighbour_hits,
)
from course_utils.data import load_dataset
from course_utils.losses import mse_per_pixel
from course_utils.models import DenseAutoencoder, TiedAutoencoder, count_parameters, dead_units
from course_utils.pca import PCA
from course_utils.plots import NotebookFigure, images_figure, rows_figure
from course_utils.schedules import CosineDecay
from course_utils.train import Callback, evaluate, fit, predict
from course_utils.verdicts import (
    auroc_margin,
    clearly_above,
    clearly_ahead,
    compare_rates,
    late_fall,  # has the validation error stopped falling at the end of a run?
    oriented,
    paired_se,
    seed_mean_margin,
    seed_noise_margin,
    t_quantile,  # quantiles of Student's t distribution
)

data = load_dataset("fashion_mnist", seed=course.seed)
x_train, x_valid, x_test = data.train.x, data.valid.x, data.test.x  # (N, 1, 28, 28) each
mean_image = x_train.mean(dim=0)  # (1, 28, 28): the average training image
batch_size = 128


def epochs_for(steps: int, n_images: int) -> int:
    """Epochs that give about ``steps`` optimizer steps on ``n_images`` images."""
    return max(1, round(steps / math.ceil(n_images / batch_size)))


steps = course.pick(full=2500, fast=64)  # the lesson's budget per model
epochs = epochs_for(steps, len(x_train))
steps_taken = epochs * math.ceil(len(x_train) / batch_size)
n_ref, n_query, n_valid = min(10_000, len(x_train)), min(2_000, len(x_test)), min(2_000, len(x_valid))
ref_y, query_y, valid_y = data.train.y[:n_ref], data.test.y[:n_query], data.valid.y[:n_valid]
probe_checkpoints = course.pick(full=(50, 100, 200, 400, 800, 1600), fast=(25, 50, 100, 200))
print(f"{data.name}: {len(x_train):,} training images, {epochs} epochs = {steps_taken:,} steps per "
      f"model ({course.mode} mode)")

# %%
# the lesson's helpers, as it defines them (sections 1 to 4)


class EarlyCopy(Callback):
    """Keep a CPU copy of the model after ``at`` optimizer steps."""

    def __init__(self, at: int) -> None:
        self.at, self.model = at, None

    def on_batch_end(self, state) -> None:
        if state.step == self.at:
            self.model = copy.deepcopy(state.model).cpu()


def dead_count(model, x=x_test) -> tuple[int, int]:
    """Dead ReLU units on all images x: (encoder's hidden layer, decoder's hidden layer)."""
    encoder_mask, decoder_mask = dead_units(model, x)  # (128,) each, True = dead
    return int(encoder_mask.sum()), int(decoder_mask.sum())


def train_dense(seed: int, n_latent: int = 32, activation: type[nn.Module] = nn.ReLU,
                hidden: tuple[int, ...] = (128,)):
    """Train a centred DenseAutoencoder (default 784-128-32-128-784) with the lesson's recipe on
    course.device; return it on the CPU."""
    torch.manual_seed(seed)  # the initial weights
    model = DenseAutoencoder(784, hidden=hidden, n_latent=n_latent, activation=activation,
                             input_mean=mean_image).to(course.device)
    fit(model, x_train.to(course.device), epochs=epochs, lr=5e-3, callbacks=[CosineDecay()],
        batch_size=batch_size, seed=seed, verbose=False)  # seed: the batch order
    return model.cpu()


def test_mse(model):
    return mse_per_pixel(predict(model, x_test), x_test).item()


def encode(model, xb):
    return model.encode(xb)  # (B, 1, 28, 28) -> (B, 32)


def probe_on(train_features, valid_features, test_features, patience: int = 2):
    """The lesson's linear probe (course_utils.class_info), labels ref_y and valid_y, steps chosen
    on the validation rows: (probe, its step count, its (n_query,) hits on the test rows)."""
    probe, steps = linear_probe(train_features, ref_y, valid_features, valid_y, probe_checkpoints,
                                n_classes=len(data.classes), patience=patience)
    return probe, steps, hits_of_probe(probe, test_features, query_y)


def pca_errors(pca, x):
    """MSE per pixel of PCA's reconstruction, one number per image: (N, 1, 28, 28) -> (N,)."""
    return ((pca.reconstruct(x.flatten(1)) - x.flatten(1)) ** 2).mean(dim=1)


class TiedByHand(nn.Module):
    """784 -> 128 -> 32 -> 128 -> 784; the decoder reuses W1 and W2, transposed (section 2)."""

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

# %%
# sections 1 and 2: raw pixels (with early copies), centred, PCA-32, three seeds, tied, 1,000 images
torch.manual_seed(0)
raw_dense = DenseAutoencoder(784, hidden=(128,), n_latent=32).to(course.device)
early = EarlyCopy(at=min(100, steps_taken))
first_steps = [EarlyCopy(at=s) for s in (1, 2, 3, 5, 10) if s < early.at]  # for section A
fit(raw_dense, x_train.to(course.device), x_valid.to(course.device), epochs=epochs, lr=5e-3,
    batch_size=batch_size, callbacks=[CosineDecay(), early, *first_steps], verbose=False)
raw_dense = raw_dense.cpu()
raw_dead, early_dead, raw_mse = dead_count(raw_dense), dead_count(early.model), test_mse(raw_dense)
torch.manual_seed(0)  # the same initial weights, centred
dense = DenseAutoencoder(784, hidden=(128,), n_latent=32, input_mean=mean_image).to(course.device)
dense_history = fit(dense, x_train.to(course.device), x_valid.to(course.device), epochs=epochs,
                    lr=5e-3, callbacks=[CosineDecay()], batch_size=batch_size, verbose=False)
dense = dense.cpu()
centred_dead, dense_mse = dead_count(dense), test_mse(dense)
pca32 = PCA(32).fit(x_train.flatten(1))  # (N, 784)
pca_mse = mse_per_pixel(pca32.reconstruct(x_test.flatten(1)), x_test.flatten(1)).item()
seed_mses = [dense_mse] + [test_mse(train_dense(seed)) for seed in (1, 2)]  # seeds 0, 1, 2
seed_mean, seed_sd, n_seeds = statistics.mean(seed_mses), statistics.stdev(seed_mses), len(seed_mses)
noise_margin = seed_noise_margin(seed_mses)  # 95% prediction interval for one more run
torch.manual_seed(0)
tied_hand = TiedByHand()  # untrained: section Q's starting point
torch.manual_seed(0)
tied = TiedAutoencoder(784, hidden=(128,), n_latent=32, input_mean=mean_image).to(course.device)
fit(tied, x_train.to(course.device), epochs=epochs, lr=5e-3, callbacks=[CosineDecay()],
    batch_size=batch_size, verbose=False)
tied = tied.cpu()
torch.manual_seed(0)  # the untrained first layers, for section N
untrained = DenseAutoencoder(784, hidden=(128,), n_latent=32).encoder[0].weight  # (128, 784)
torch.manual_seed(0)
tied_untrained = TiedAutoencoder(784, hidden=(128,), n_latent=32).encoder[0].weight  # (128, 784)
n_small = min(1_000, len(x_train))
x_small = x_train[:n_small]  # (n_small, 1, 28, 28)
small_epochs = epochs_for(course.pick(full=1000, fast=32), n_small)
torch.manual_seed(0)
model = DenseAutoencoder(784, hidden=(128,), n_latent=32, input_mean=x_small.mean(dim=0))
fit(model.to(course.device), x_small.to(course.device), epochs=small_epochs, lr=5e-3,
    callbacks=[CosineDecay()], batch_size=batch_size, verbose=False)
model = model.cpu()
train_err = mse_per_pixel(predict(model, x_small), x_small).item()  # MSE per pixel, as section 2
valid_err = mse_per_pixel(predict(model, x_valid), x_valid).item()
small = {"dense AE": (train_err, valid_err, valid_err / train_err - 1)}  # as section 2's table
print(f"test MSE per pixel: raw pixels {raw_mse:.5f}, centred {dense_mse:.5f} (seeds 0, 1, 2: "
      + ", ".join(f"{m:.5f}" for m in seed_mses) + f"), PCA-32 {pca_mse:.5f}, tied "
      f"{test_mse(tied):.5f}; dead encoder units: raw {raw_dead[0]}, centred {centred_dead[0]}")

# %%
# sections 3 and 4: codes, nearest neighbours, probes, retrieval, the sweep of k, k = 32 continued
codes = predict(dense, x_test, fn=encode)  # (N, 32): the codes of the test images
train_codes = predict(dense, x_train[:n_ref], fn=encode)  # (n_ref, 32)
hits = nearest_neighbour_hits(train_codes, ref_y, codes[:n_query], query_y)  # (n_query,)
pixel_hits = nearest_neighbour_hits(x_train[:n_ref].flatten(1), ref_y,
                                    x_test[:n_query].flatten(1), query_y)  # (n_query,)
pixels_nn = pixel_hits.mean().item()
nn_difference, nn_se = compare_rates(hits, pixel_hits)
valid_codes = predict(dense, x_valid[:n_valid], fn=encode)  # (n_valid, 32)
_, code_probe_steps, probe_hits = probe_on(train_codes, valid_codes, codes[:n_query],
                                           patience=len(probe_checkpoints))  # as the lesson
_, pixel_probe_steps, pixel_probe_hits = probe_on(
    x_train[:n_ref].flatten(1), x_valid[:n_valid].flatten(1), x_test[:n_query].flatten(1))
probe_difference, probe_se = compare_rates(probe_hits, pixel_probe_hits)
per_query = {}  # space -> (n_query,) share of the 5 nearest training images with the query's class
for space, ref, query in (("code", train_codes, codes[:n_query]),
                          ("pixel", x_train[:n_ref].flatten(1), x_test[:n_query].flatten(1))):
    nearest5 = torch.cdist(query, ref).topk(5, largest=False).indices  # (n_query, 5)
    per_query[space] = (ref_y[nearest5] == query_y[:, None]).float().mean(dim=1)
retrieval_gap = (per_query["code"].mean() - per_query["pixel"].mean()).item()
retrieval_se = paired_se(per_query["code"], per_query["pixel"])
pca64 = PCA(64).fit(x_train.flatten(1))  # PCA with k components = its first k of these
sweep_sizes = (2, 8, 32, 64)
ae_models = {k: dense if k == 32 else train_dense(0, n_latent=k) for k in sweep_sizes}
sweep, nn_hits = {}, {}  # nn_hits[(kind, k)]: (n_query,) 1 where the nearest code has the class
for k in sweep_sizes:
    ae, pca_k = ae_models[k], pca64.truncated(k)
    ae_codes = [predict(ae, x, fn=encode) for x in (x_train[:n_ref], x_test[:n_query])]
    pca_codes = [pca_k.encode(x.flatten(1)) for x in (x_train[:n_ref], x_test[:n_query])]
    nn_hits["AE", k] = nearest_neighbour_hits(ae_codes[0], ref_y, ae_codes[1], query_y)
    nn_hits["PCA", k] = nearest_neighbour_hits(pca_codes[0], ref_y, pca_codes[1], query_y)
    sweep[k] = {"PCA valid": pca_errors(pca_k, x_valid).mean().item(),
                "AE valid": mse_per_pixel(predict(ae, x_valid), x_valid).item(),
                "AE NN": nn_hits["AE", k].mean().item(), "PCA NN": nn_hits["PCA", k].mean().item()}
best_nn = max(sweep_sizes, key=lambda k: sweep[k]["AE NN"])
longer = copy.deepcopy(dense).to(course.device)  # the k = 32 model, continued for sections H and I
longer_history = fit(longer, x_train.to(course.device), x_valid.to(course.device), epochs=epochs,
                     lr=5e-3, callbacks=[CosineDecay()], batch_size=batch_size, seed=1,
                     verbose=False)  # as many steps again (fresh Adam and cosine, new batch order)
longer = longer.cpu()
print(f"nearest neighbour: codes {hits.mean():.1%}, pixels {pixels_nn:.1%}; linear probe: codes "
      f"{probe_hits.mean():.1%}, pixels {pixel_probe_hits.mean():.1%}; the sweep's validation "
      "errors: " + ", ".join(f"k = {k} {sweep[k]['AE valid']:.5f}" for k in sweep_sizes))

# %%
# section 5: the digit autoencoder and the three anomaly scores
digits = load_dataset("mnist", seed=course.seed)  # in-distribution: digits
ood_x, ood_name = out_of_distribution_images(data, n=len(digits.test.x), seed=course.seed,
                                             normal=digits.test.x)  # warns if any is a digit
normal_x = digits.test.x
torch.manual_seed(0)
digit_ae = DenseAutoencoder(784, hidden=(128,), n_latent=32,
                            input_mean=digits.train.x.mean(dim=0)).to(course.device)  # centred
digit_epochs = epochs_for(steps, len(digits.train.x))
fit(digit_ae, digits.train.x.to(course.device), digits.valid.x.to(course.device),
    epochs=digit_epochs, lr=5e-3, callbacks=[CosineDecay()], batch_size=batch_size, verbose=False)
digit_ae = digit_ae.cpu()
digit_steps = digit_epochs * math.ceil(len(digits.train.x) / batch_size)
err_normal = mse_per_pixel_per_image(digit_ae, normal_x)  # (N,)
err_ood = mse_per_pixel_per_image(digit_ae, ood_x)  # (N,)
digit_pca = PCA(32).fit(digits.train.x.flatten(1))  # (N, 784)
bright_normal, bright_ood = normal_x.mean(dim=(1, 2, 3)), ood_x.mean(dim=(1, 2, 3))  # (N,) each
scores = {"stacked AE error": (err_normal, err_ood),
          "PCA-32 error": (pca_errors(digit_pca, normal_x), pca_errors(digit_pca, ood_x)),
          "mean intensity": (bright_normal, bright_ood)}
scores["mean intensity"], intensity_flipped = oriented(scores["mean intensity"])
aucs = {name: auroc(*pair) for name, pair in scores.items()}
kind_margins = {b: auroc_margin(scores["stacked AE error"], scores[b], seed=course.seed)
                for b in ("PCA-32 error", "mean intensity")}  # b -> (difference, its SE)
print(f"normal: {len(normal_x):,} {digits.name} test images; anomalies: {len(ood_x):,} {ood_name}; "
      f"the digit AE trained {digit_steps:,} steps")
print("AUROC: " + ", ".join(f"{name} {value:.4f}" for name, value in aucs.items())
      + (" (mean intensity flipped)" if intensity_flipped else ""))

# %% [markdown]
# ## A. What kills the units in the first steps
#
# *Optional; it measures why raw pixels kill units: runs that change the optimizer, the input or the
# output bias's start.*
#
# Adam divides each weight's gradient by that gradient's own running size. So its first step
# moves every weight with a nonzero gradient g by about lr·sign(g), large g or small, as long as
# |g| is much larger than Adam's $\epsilon$ (1e-8); a g near $\epsilon$ moves less. A weight
# whose pixel is dark in the whole batch gets no gradient and does not move. With raw
# pixels, many lit pixels then move by lr in the same direction at once, and a unit's input
# shifts on every image together. SGD's step is proportional to the gradient itself, so small
# gradients move weights little. The first cell dates the deaths in section 1's raw-pixel model
# and counts the units that came back; the second draws how the dead units' weights moved.

# %%
first_dead = {c.at: dead_count(c.model)[0] for c in first_steps}  # step -> dead encoder units
all_dead = first_dead | {early.at: early_dead[0], steps_taken: raw_dead[0]}  # one entry per step
print("dead encoder units (raw pixels) after step: "
      + ", ".join(f"{at:,}: {n}" for at, n in all_dead.items()))
last_copy = max(first_steps, key=lambda c: c.at)  # the latest early copy (step 10 in full mode)
last_early = last_copy.at
final_mask = dead_units(raw_dense, x_test)[0]  # (128,) True = dead at the end
early_and_final = int((dead_units(last_copy.model, x_test)[0] & final_mask).sum())  # the same units
early_death_share = early_and_final / max(raw_dead[0], 1)
print(f"In this run: {early_and_final} of the {raw_dead[0]} final dead encoder units (the same "
      f"units, set overlap) were already dead after {last_early} steps, so "
      + ("most deaths happen in the first steps." if early_death_share > 0.5 else
         "most deaths happen after the first steps."))
if early.at < steps_taken:  # dead after early.at steps and alive at the end
    revived = int((dead_units(early.model, x_test)[0] & ~final_mask).sum())
    print(f"Returns: {revived} of the {early_dead[0]} encoder units dead after {early.at} steps are "
          f"alive after {steps_taken:,}.")

# %% [markdown]
# How did the dead units' weights move? The figure draws, for six live and six dead encoder units
# of section 1's raw-pixel model, its row of $W_1$ minus the row it started from, each on its own
# scale (mid-grey = no change, dark = down, light = up); above each, $w_j \cdot \bar x + b_j$ at
# the end ($\bar x$: the mean training image). The printed lines measure three things the figure
# suggests.

# %%
from IPython.display import display  # noqa: E402 (an import where it is first needed)

dead_mask = final_mask  # (128,) True = dead encoder unit at the end (the cell above)
change = (raw_dense.encoder[0].weight - untrained).detach()  # (128, 784) each weight's move
flat_mean = mean_image.flatten()  # (784,)
with torch.no_grad():
    on_mean = raw_dense.encoder[0](flat_mean[None])[0]  # (128,) w_j . mean image + b_j at the end
shown = torch.cat([(~dead_mask).nonzero()[:6, 0], dead_mask.nonzero()[:6, 0]])  # unit numbers
own_scale = change[shown] / change[shown].abs().amax(dim=1, keepdim=True)  # each row in [-1, 1]
display(images_figure(own_scale.view(-1, 1, 28, 28), ncols=6, vmin=-1, vmax=1, size=1.3,
                      titles=[f"{'dead' if dead_mask[j] else 'live'}  {on_mean[j]:+.1f}"
                              for j in shown],
                      title="raw-pixel model: each unit's row of W1 minus its start, on its own "
                            "scale\n(mid-grey = no change, dark = down, light = up); above: "
                            "w_j . (mean image) + b_j"))
if dead_mask.any():
    lit = flat_mean > 0.2  # (784,) pixels the mean image lights up
    print(f"1. the dead units' weights on lit pixels (mean image > 0.2) moved by "
          f"{change[dead_mask][:, lit].mean():+.4f} on average, "
          f"{change[dead_mask][:, lit].mean().abs() / untrained.std():.1f} times the weights' "
          f"initial spread ({untrained.std():.4f})")
    moved_on_mean = change[dead_mask] * flat_mean  # (n_dead, 784) each move's effect on w . mean
    up, down = moved_on_mean.clamp(min=0).sum(dim=1).mean(), moved_on_mean.clamp(max=0).sum(dim=1).mean()
    print(f"2. their moves' effect on w_j . (mean image), mean over the dead units: the weights that "
          f"moved up add {up:+.2f}, those that moved down {down:+.2f}; in this run the "
          f"{'downward' if -down > up else 'upward'} moves weigh more")
    lit_share = (x_train.flatten(1) > 0).float().mean(dim=0)  # (784,) images that light each pixel
    moves = change[dead_mask].abs()  # (n_dead, 784)
    still = moves < 0.2 * moves.amax(dim=1, keepdim=True)  # moved under 1/5 of the row's most
    shares = lit_share.expand_as(moves)[still].mean(), lit_share.expand_as(moves)[~still].mean()
    print(f"3. their weights that barely moved (under a fifth of their row's largest move) sit on "
          f"pixels lit (> 0) in {shares[0]:.0%} of the training images on average, the others in "
          f"{shares[1]:.0%}")
else:
    print("no dead encoder unit in this run: nothing to measure")

# %% [markdown]
# Read the lines against the mechanism. Line 1 gives the average move of a dead unit's weights on
# the lit middle of the frame, against the weights' initial spread: one such move on each of
# hundreds of lit pixels adds up. Some dead rows also show light patches: weights that moved **up**. Line 2 weighs the two kinds of move by
# the mean image: a move on a pixel that most images leave dark changes $w_j \cdot x$ little, so
# what decides is the side that weighs more there. A weight whose pixel is dark
# in a whole batch gets no gradient from it, so weights on rarely lit pixels move seldom before
# their unit dies: line 3 checks whether the weights that barely moved sit on less often lit
# pixels.

# %% [markdown]
# The next cell runs the same first 100 steps (fast mode: 40) seven times, from the same initial
# weights and the same batches in all seven runs (not section 1's), so the Adam row need not repeat
# section 1's dates: raw pixels with Adam at section 1's starting learning rate (kept constant
# here: with the full budget, section 1's cosine lowers it by under 0.5% in 100 steps), Adam at a
# tenth of it and SGD with momentum at two rates; then, with section 1's Adam, each of centring's
# two changes alone (the output bias starting at $\mathrm{logit}(\bar x)$; the input centred, the
# output bias at its default start) and both (section 1's centred model). It counts the dead
# encoder units on the test images and prints each run's test error: fewer deaths could just mean
# less progress.
#
# **The control, named before the run:** SGD with momentum at lr 5e-3. The verdict judges that
# row only; the other rows are reported, not picked from (choosing the best of several noisy runs
# would flatter the result). A control that made clearly less progress than Adam (a test error
# more than 25% above Adam's) cannot separate the deaths from the progress.

# %%
first_n = course.pick(full=100, fast=40)  # steps per run


def first_steps_run(optimizer: str, lr: float, centre_input: bool = False,
                    bias_start: bool = False, n_steps: int = first_n,
                    checkpoints: tuple[int, ...] = (3, 10, first_n)):
    """Train the dense AE-32 (seed 0) for n_steps by hand on fixed random batches.

    centre_input: encode x - mean image; bias_start: output bias starts at logit(mean image).
    Returns ({step: dead encoder units on the test images}, test squared error per image)."""
    torch.manual_seed(0)  # the initial weights of section 1
    plain = DenseAutoencoder(784, hidden=(128,), n_latent=32)  # default output bias
    torch.manual_seed(0)  # the same weights again; input_mean only changes the output bias
    model = DenseAutoencoder(784, hidden=(128,), n_latent=32, input_mean=mean_image)
    with torch.no_grad():
        if not centre_input:
            model.input_mean.zero_()  # encode subtracts 0: raw pixels in
        if not bias_start:
            model.decoder[-1].bias.copy_(plain.decoder[-1].bias)  # the default start
    opt = (torch.optim.Adam(model.parameters(), lr=lr) if optimizer == "Adam"
           else torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9))
    g = torch.Generator().manual_seed(0)  # the same batches in every run
    dead_at = {}
    for step in range(1, n_steps + 1):
        xb = x_train[torch.randint(len(x_train), (batch_size,), generator=g)]  # (128, 1, 28, 28)
        loss = ((model(xb) - xb) ** 2).sum(dim=(1, 2, 3)).mean()  # squared error per image
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step in checkpoints:
            dead_at[step] = dead_count(model)[0]
    return dead_at, evaluate(model, x_test)["loss"]


control = "SGD + momentum, lr 5e-3"  # the control the verdict judges, chosen before the run
optimizer_runs = {"Adam, lr 5e-3": ("Adam", 5e-3), "Adam, lr 5e-4": ("Adam", 5e-4),
                  control: ("SGD", 5e-3), "SGD + momentum, lr 1e-2": ("SGD", 1e-2),
                  "bias start only, Adam": ("Adam", 5e-3, False, True),
                  "input centring only, Adam": ("Adam", 5e-3, True, False),
                  "both (centred), Adam": ("Adam", 5e-3, True, True)}
first_runs = {name: first_steps_run(*args) for name, args in optimizer_runs.items()}
print(f"{f'run ({first_n} steps)':<27}{f'dead after 3 / 10 / {first_n} steps':>31}{'test error':>12}")
for name, (dead_at, err) in first_runs.items():
    print(f"{name:<27}{' / '.join(str(n) for n in dead_at.values()):>31}{err:>12.1f}")
dead10 = {name: dead_at[10] for name, (dead_at, _) in first_runs.items()}
dead_last = {name: dead_at[first_n] for name, (dead_at, _) in first_runs.items()}
print(f"In this run: after 10 steps {dead10['Adam, lr 5e-3']} units are dead with Adam at lr 5e-3, "
      f"{dead10['Adam, lr 5e-4']} at lr 5e-4, {dead10[control]} with the control ({control}) and "
      f"{dead10['both (centred), Adam']} in the centred model.")
adam_err, control_err = first_runs["Adam, lr 5e-3"][1], first_runs[control][1]
adam_last, control_last = dead_last["Adam, lr 5e-3"], dead_last[control]
extra_error = control_err / adam_err - 1  # the control's error relative to Adam's
relative = f"{abs(extra_error):.0%} {'higher' if extra_error > 0 else 'lower'} than Adam's"
if extra_error > 0.25:  # clearly less progress
    control_words = (f"its error is {relative}, over the pre-named 25% cut-off, so its "
                     "deaths cannot be told apart from its progress")
elif 2 * control_last <= adam_last:
    centred_last, centred_err = dead_last["both (centred), Adam"], first_runs["both (centred), Adam"][1]
    control_words = (f"it has at most half the deaths and an error {relative}, within the "
                     "pre-named 25% cut-off" + ("" if extra_error <= 0 else
                     f"; the centred Adam row has {centred_last} dead at error {centred_err:.1f}, "
                     + ("below" if centred_err < adam_err else "not below") + " Adam's"))
else:
    control_words = (f"its error is {relative}, within the pre-named 25% cut-off, with more than "
                     "half as many deaths: no separation here")
print(f"In this run, the control {control} after {first_n} steps: {control_last} dead at test error "
      f"{control_err:.1f}, against Adam's {adam_last} at {adam_err:.1f}; {control_words}.")
raw_last = dead_last["Adam, lr 5e-3"]
print(f"In this run, after {first_n} steps with Adam at lr 5e-3: raw pixels {raw_last} dead; "
      + "; ".join(f"{name.removesuffix(', Adam')}: {dead_last[name]} dead "
                  f"({dead_last[name] - raw_last:+d})"
                  for name in ("bias start only, Adam", "input centring only, Adam",
                               "both (centred), Adam")) + " (one seed each: no margin).")

# %% [markdown]
# Compare the rows with the mechanism. Adam's step size is set by lr, not by the gradient, so
# a tenth of the learning rate gives steps ten times smaller. SGD gives small steps to weights
# with small gradients; its second rate shows how the deaths depend on its step size (reported,
# not judged: Adam at lr 5e-4 also moved less far, so compare each row's test error). Centring the input removes the shared shift (measured here with Adam
# only). The output-bias start acts on the other side: an untrained decoder outputs about 0.5
# everywhere on mostly black images, so its first errors are much alike from image to image, and
# starting at the mean image makes them smaller. Whether that is what spares units is a hypothesis
# the rows test only by their outcome: the last three rows separate the two changes. The test error (squared error per image) shows how far each run got in those steps.

# %% [markdown]
# ## B. How sure are the verdicts? Seeds, test images, bootstrap
#
# *Optional; it adds the simulation behind the noise margin of section 1, and the standard errors
# behind the verdicts of sections 3 to 5.*
#
# *Takeaway: the rule "outside the range of the seeds" calls a no-effect run real half of the
# time; the prediction interval does so 5% of the time.*
#
# Section 1's noise margin is the 95% **prediction interval** of one more run:
# $t_{0.975,\,n-1} \cdot s \cdot \sqrt{1 + 1/n}$, where $s$ is the standard deviation of the
# $n = 3$ seed errors.
#
# "Outside the range of the three" (below the smallest or above the largest) sounds safe but is
# not: with no real difference at all, the new run is one of four runs of the same kind, and it
# is the smallest or the largest of the four with probability $2/4$. The prediction interval's
# $t$ quantile (4.30 for $n = 3$) pays for knowing $s$ from only three runs. Its guarantee: if
# the seed noise is roughly normal and the other model's noise is no larger, a model that is
# really no different lands outside it only 5% of the time. The cell checks both rules on
# simulated runs that differ only by noise.

# %%
g = torch.Generator().manual_seed(0)
runs = torch.randn(100_000, n_seeds + 1, generator=g)  # n seed runs + 1 new run, no real effect
seeds, new_run = runs[:, :n_seeds], runs[:, n_seeds]
range_rule = (new_run < seeds.min(dim=1).values) | (new_run > seeds.max(dim=1).values)  # outside
margin = t_quantile(0.975, n_seeds - 1) * seeds.std(dim=1) * (1 + 1 / n_seeds) ** 0.5
interval_rule = (new_run - seeds.mean(dim=1)).abs() > margin
print(f"share of no-effect runs called 'real': range-of-{n_seeds}-seeds rule "
      f"{range_rule.float().mean():.3f}, prediction-interval rule {interval_rule.float().mean():.3f}")

# %% [markdown]
# The price of the prediction interval, with only three seeds, is a margin of about five of
# their standard deviations ($4.30 \cdot \sqrt{4/3} \approx 4.97$; more seeds would narrow it).
# It covers the training seed only: differences measured on a sample of test images get their
# own standard errors, below.
#
# **Against a fixed number.** PCA's error has no seed, so section 1 asks a different question: is
# the *mean* of the $n$ runs away from it? A mean of $n$ runs varies by $s/\sqrt{n}$, so its 95%
# **confidence interval** has half-width $t_{0.975,\,n-1} \cdot s/\sqrt{n}$ (`seed_mean_margin`).
# One more run varies by $s$ around the true mean, and the mean of $n$ is off by $s/\sqrt{n}$
# too: the variances add to $s^2(1 + 1/n)$, hence the prediction interval's $\sqrt{1 + 1/n}$.
# Section 1 uses the wider noise margin for this comparison too: a stricter test.

# %% [markdown]
# ### Verdicts measured on test images
#
# Sections 3 to 5 measure on a sample of test images; another sample would give other rates. Both
# methods are scored on the **same** images, so each image gives one difference (+1, 0 or -1 for
# a hit rate). The **paired standard error** of the mean difference is the standard deviation of
# those differences over $\sqrt{n}$ (`paired_se`); pairing cancels the images that are easy, or
# hard, for both methods. An AUROC averages over (anomaly, normal) pairs, not over images, so
# section 5 uses a **bootstrap**: redraw the normal and the anomalous test images with
# replacement, recompute both AUROCs on the same draw, 200 times; the standard deviation of the
# 200 differences is the standard error. The first cell writes the loop out for the AE against
# PCA-32 and checks it against `auroc_margin` (same draws, same seed). A difference counts as
# real beyond two standard errors (roughly a 95% interval). The second cell prints every
# difference behind a verdict of sections 3 to 5.

# %%
import numpy as np

(ae_normal, ae_ood), (pca_normal, pca_ood) = scores["stacked AE error"], scores["PCA-32 error"]
rng = np.random.default_rng(course.seed)  # the draws auroc_margin makes
differences = []  # AUROC(AE) - AUROC(PCA-32) on each redrawn test set
for _ in range(200):
    i = torch.as_tensor(rng.integers(0, len(ae_normal), len(ae_normal)))  # normal images, redrawn
    j = torch.as_tensor(rng.integers(0, len(ae_ood), len(ae_ood)))  # anomalies, redrawn
    differences.append(auroc(ae_normal[i], ae_ood[j]) - auroc(pca_normal[i], pca_ood[j]))
print(f"AUROC(stacked AE) - AUROC(PCA-32) {kind_margins['PCA-32 error'].difference:+.4f}; its "
      f"standard error over 200 redraws: written out {statistics.stdev(differences):.5f}, "
      f"auroc_margin {kind_margins['PCA-32 error'].se:.5f}")

# %%
verdict_checks = {  # comparison -> (difference, its standard error); rates as fractions
    "nearest neighbour: codes - pixels": (nn_difference, nn_se),
    "linear probe: codes - pixels": (probe_difference, probe_se),
    "retrieval, 5 nearest: code - pixel": (retrieval_gap, retrieval_se),
    **{f"AUROC: stacked AE - {baseline}": kind_margins[baseline] for baseline in kind_margins},
}
print(f"{'comparison (section 3 to 5)':<42}{'difference':>11}{'2 SE':>8}   beyond 2 SE")
for name, (check_difference, check_se) in verdict_checks.items():
    print(f"{name:<42}{check_difference:>+11.4f}{2 * check_se:>8.4f}   "
          f"{abs(check_difference) > 2 * check_se}")
n_beyond = sum(abs(check_difference) > 2 * check_se
               for check_difference, check_se in verdict_checks.values())
print(f"In this run: {n_beyond} of the {len(verdict_checks)} differences behind the verdicts of "
      f"sections 3 to 5 are beyond two standard errors"
      + ("." if n_beyond == len(verdict_checks) else "; the others are within them."))

# %% [markdown]
# ## C. Is it the nonlinearity? A twin without ReLUs
#
# *Optional; it takes the lesson's split of the stacked AE's gain over PCA (hidden ReLUs against
# the output sigmoid) further, beside PCA clipped to $[0, 1]$.*
#
# *Takeaway: "nonlinear beats linear" has parts; the printed split says how much of the AE's
# gain over PCA removing the ReLUs costs and how much the twin with only the output sigmoid
# keeps (one ablation order: removing the sigmoid first could split it differently).*
#
# The next cell trains a **twin without ReLUs** (`nn.Identity` between the layers, the same seed
# and steps): each of its `nn.Linear` layers is then an affine map (a matrix product plus a bias),
# and a chain of affine maps is one affine map, so from input to output it is an affine map of
# rank at most 32 followed by the sigmoid, its only nonlinearity. If the stacked AE beats
# PCA *because* of its hidden ReLUs, the twin should lose that advantage. The cell also measures
# PCA with its reconstructions clamped to $[0, 1]$, the range the sigmoid enforces.

# %%
# the twin: no hidden ReLU (nn.Identity between the layers), same seed and steps
twin_mse = test_mse(train_dense(0, activation=nn.Identity))
print(f"twin without hidden ReLUs: test MSE {twin_mse:.5f} (PCA-32 {pca_mse:.5f}, stacked AE "
      f"{seed_mean:.5f}, mean of 3 seeds)")
if pca_mse > seed_mean:
    sigmoid_share = (pca_mse - twin_mse) / (pca_mse - seed_mean)
    print(f"In this run: the twin gets {sigmoid_share:.0%} of the stacked AE's gain over PCA; "
          f"removing the ReLUs costs {1 - sigmoid_share:.0%} of the gain (one ablation order).")
else:
    print("In this run: the stacked AE is not below PCA, so there is no gain to split.")

# %%
print(f"twin without ReLUs: test MSE {twin_mse:.5f} ({twin_mse / pca_mse:.0%} of PCA's error, "
      f"{twin_mse / seed_mean:.0%} of the stacked AE's)")
pca_clamped = pca32.reconstruct(x_test.flatten(1)).clamp(0, 1)  # (N, 784)
pca_clamped_mse = mse_per_pixel(pca_clamped, x_test.flatten(1)).item()
print(f"PCA-32 clamped to [0, 1]: test MSE {pca_clamped_mse:.5f}")
print(f"(a) removing the ReLUs costs more than the noise margin: "
      f"{twin_mse - seed_mean > noise_margin}")
print(f"(b) the twin beats PCA by more than the noise margin: {pca_mse - twin_mse > noise_margin}")
advantage = pca_mse - seed_mean  # the stacked AE's advantage over PCA
if advantage > noise_margin:
    print(f"split of the stacked AE's advantage over PCA ({advantage:.5f}): the twin (sigmoid, no "
          f"ReLUs) gets {(pca_mse - twin_mse) / advantage:.0%} of it (clamping PCA alone gets "
          f"{(pca_mse - pca_clamped_mse) / advantage:.0%}); removing the ReLUs costs the remaining "
          f"{(twin_mse - seed_mean) / advantage:.0%} (one ablation order)")
else:
    print("the stacked AE has no advantage over PCA beyond the noise margin: nothing to split")

# %% [markdown]
# Verdicts (a) and (b) test the explanation "the nonlinearity beats PCA", and the split line
# divides the advantage between its parts:
# - where (a) is True, the **hidden ReLUs** carry part of it: they let the decoder bend its
#   output towards the curved set of images, instead of keeping the logits in a flat
#   32-dimensional subspace (which the sigmoid then only bends pixel by pixel);
# - where (b) is True, the ReLUs are not the whole story: the twin's only nonlinearity, the
#   **output sigmoid**, beats PCA on its own. Part of that can be simply the range: PCA's
#   reconstructions may spill below 0 and above 1, and the share of "clamping PCA alone" says
#   how much cutting them back gains; the rest of the twin's share is what the squashing output
#   adds beyond clipping.
#
# So "nonlinear beats linear" is true here only with the split printed above, and only at this
# training budget: which nonlinearity earns how much is a measurement, and it can change with
# the data and with the number of steps.

# %% [markdown]
# ## D. A ReLU on the code, measured
#
# *Optional; it adds the measurement behind section 1's reason for a linear code.*
#
# Now the variant some tutorials use: the same model with a ReLU appended to the encoder, so
# every negative code value becomes 0. Same seed, same steps, same learning rate; the only
# difference is that one layer.

# %%
torch.manual_seed(0)
relu_code = DenseAutoencoder(784, hidden=(128,), n_latent=32, input_mean=mean_image)
relu_code.encoder.append(nn.ReLU())  # the only change: codes below 0 become 0
print(relu_code.encoder)
relu_code = relu_code.to(course.device)
fit(relu_code, x_train.to(course.device), epochs=epochs, lr=5e-3, callbacks=[CosineDecay()],
    batch_size=batch_size, verbose=False)
relu_code = relu_code.cpu()

# %% [markdown]
# Three numbers per model: the test error; the share of code values that are 0 (for the linear
# code: the share below 0, the values a ReLU would have removed); and the number of **dead**
# units, code units that are 0 for every test image (for the linear code: negative for every
# test image, which still carries information, since the value varies).

# %%
relu_codes = predict(relu_code, x_test, fn=encode)  # (N, 32), all >= 0
relu_mse = mse_per_pixel(predict(relu_code, x_test), x_test).item()
print(f"{'code':<12}{'test MSE':>10}{'values <= 0':>13}{'units <= 0 on every image':>27}")
for name, z, mse in (("linear", codes, dense_mse), ("ReLU", relu_codes, relu_mse)):
    at_or_below = z <= 0  # (N, 32): for the ReLU code, exactly the zeros
    print(f"{name:<12}{mse:>10.5f}{at_or_below.float().mean().item():>13.0%}"
          f"{int(at_or_below.all(dim=0).sum()):>21} of 32")
dead_mask = (relu_codes == 0).all(dim=0)  # (32,) True = 0 for every test image
dead = int(dead_mask.sum())
live_zero_share = (relu_codes[:, ~dead_mask] == 0).float().mean().item()
print(f"the {32 - dead} live ReLU units are 0 for {live_zero_share:.1%} of their values "
      f"(the linear code's units are below 0 for {(codes < 0).float().mean().item():.0%})")
print(f"ReLU code: {dead} dead unit{'s' * (dead != 1)}, so {32 - dead} numbers per image can "
      f"reach the decoder; "
      f"test error {relu_mse / seed_mean - 1:+.0%} relative to the linear code (mean of 3 seeds)")
print(f"ReLU code worse than the linear code by more than the noise margin (the linear-code "
      f"model's, borrowed): "
      f"{relu_mse - seed_mean > noise_margin} (difference {(relu_mse - seed_mean) / noise_margin:.1f} "
      f"times the margin)")
print(f"In this run: a ReLU on the code leaves {dead} of 32 code units dead and changes the test "
      f"error by {relu_mse / seed_mean - 1:+.0%}, {(relu_mse - seed_mean) / noise_margin:.1f} "
      f"noise margins.")

# %% [markdown]
# Every dead unit is a code number that is the same (0) for
# every image, so it tells the decoder nothing, and no gradient reaches its own weights; only a
# change in the shared hidden layer could lift it above 0 again. While it stays dead the model
# has fewer than 32 numbers to work with. How much are the live units clipped? The line under
# the table prints the share of their values that are 0, against the share of the linear code's
# values that are negative. Where the first share is much the smaller, training has
# shifted the codes above 0 rather than lose them to the clipping, so the clipping itself
# throws away little. Such a shift costs nothing: the encoder's last bias can add the same vector
# $s$ to every code, and the decoder's first layer undoes it exactly, since
# $W(z + s) + c - Ws = Wz + c$. So requiring codes $\ge 0$ does not by itself leave less room to
# arrange a bounded set of images. What a ReLU code does cost is the dead units and the training:
# a code value at or below 0 passes no gradient back to the encoder. The "In this run" line puts
# that cost in numbers; its noise margin is borrowed from the linear-code model of section 1
# (the ReLU-code model's own seed noise was not measured). A linear code costs nothing
# extra, which is why this course keeps it.

# %% [markdown]
# ## E. Stacked one layer at a time, greedy training measured
#
# *Optional; it adds the greedy recipe (how "stacked" autoencoders were first built: one layer at
# a time, each trained on the codes of the previous one) in code, against end-to-end training at
# the same total number of steps.*
#
# The model is the centred 784-128-32-128-784 of section 1 (untied), and the budget is its number
# of steps, split into three stages of about a third each:
# 1. a **shallow** autoencoder 784-128-784 (one hidden ReLU layer, centred input, sigmoid
#    output) learns to reconstruct the images;
# 2. a second shallow autoencoder 128-32-128 learns to reconstruct the first one's hidden values
#    $h$, computed once and then fixed (its output has a ReLU, since $h \ge 0$);
# 3. the two, **stacked** into 784-128-32-128-784, are **fine-tuned** together, as one model.
#
# Both shallow models are built with `nn.Sequential` from the layers of one `DenseAutoencoder`
# (seeded like `dense`), so stacking copies nothing: stage 1 trains its outer layers, stage 2 its
# two middle layers, and stage 3 all four. Learning rate, batch size and centring are those of
# `dense`. The cell compares the test errors image by image (a paired standard error, for the
# choice of test images) and with the seed noise margin of section 1.

# %%
class Centre(nn.Module):
    """x -> x - the mean image, as DenseAutoencoder.encode does: (B, 784) -> (B, 784)."""

    def __init__(self, mean):
        super().__init__()
        self.register_buffer("mean", mean.flatten().clone())  # (784,)

    def forward(self, x):
        return x - self.mean


torch.manual_seed(0)  # the initial weights of dense
greedy = DenseAutoencoder(784, hidden=(128,), n_latent=32, input_mean=mean_image)
layer_1 = nn.Sequential(nn.Flatten(), Centre(mean_image),  # (B, 1, 28, 28) -> (B, 784), centred
                        greedy.encoder[0], nn.ReLU(),  # 784 -> 128: h
                        greedy.decoder[2], nn.Sigmoid(),  # 128 -> 784: pixels in [0, 1]
                        nn.Unflatten(1, (1, 28, 28))).to(course.device)
layer_2 = nn.Sequential(greedy.encoder[2],  # 128 -> 32: the code
                        greedy.decoder[0], nn.ReLU()).to(course.device)  # 32 -> 128: h again
stage_epochs = [max(1, epochs // 3)] * 2  # stages 1 and 2; stage 3 gets the rest of the budget
stage_epochs.append(max(1, epochs - sum(stage_epochs)))
fit(layer_1, x_train.to(course.device), epochs=stage_epochs[0], lr=5e-3,
    callbacks=[CosineDecay()], batch_size=batch_size, verbose=False)
with torch.no_grad():
    h_train = layer_1[:4](x_train.to(course.device))  # (N, 128): stage 1's hidden values, fixed
fit(layer_2, h_train, epochs=stage_epochs[1], lr=5e-3, callbacks=[CosineDecay()],
    batch_size=batch_size, verbose=False)
greedy = greedy.cpu()
stacked_errors = mse_per_pixel_per_image(greedy, x_test)  # (N,): stacked, not fine-tuned yet
fit(greedy.to(course.device), x_train.to(course.device), epochs=stage_epochs[2], lr=5e-3,
    callbacks=[CosineDecay()], batch_size=batch_size, verbose=False)
greedy = greedy.cpu()
greedy_errors, end_to_end_errors = (mse_per_pixel_per_image(m, x_test) for m in (greedy, dense))
greedy_steps = sum(stage_epochs) * math.ceil(len(x_train) / batch_size)
print(f"steps: stages 1, 2, 3 {[e * math.ceil(len(x_train) / batch_size) for e in stage_epochs]}, "
      f"total {greedy_steps:,}; end to end {steps_taken:,}; the same: {greedy_steps == steps_taken}")
print(f"test MSE per pixel: greedy, stacked before fine-tuning {stacked_errors.mean():.5f}, after "
      f"{greedy_errors.mean():.5f}; end to end (dense, seed 0) {end_to_end_errors.mean():.5f}; "
      f"PCA-32 {pca_mse:.5f}")
gap = (greedy_errors - end_to_end_errors).mean().item()  # > 0: greedy is worse
gap_se = ((greedy_errors - end_to_end_errors).std() / len(x_test) ** 0.5).item()
greedy_margin = t_quantile(0.975, n_seeds - 1) * seed_sd * 2**0.5  # one run vs one run
real = abs(gap) > 2 * gap_se and abs(gap) > greedy_margin
print(f"greedy minus end to end: {gap:+.5f} (two paired standard errors {2 * gap_se:.5f}, noise "
      f"margin for one run vs one run {greedy_margin:.5f}, from the dense model's seeds) -> greedy is "
      + ("worse" if real and gap > 0 else "better" if real else "indistinguishable from end-to-end")
      + (" than end-to-end training at the same steps" if real else " at the same steps"))

# %% [markdown]
# The first line checks that the two models got the same number of optimizer steps. The second
# shows what the stages gave: the stack of two shallow autoencoders, before any fine-tuning, is
# already a complete 784-128-32-128-784 model with its own error, and the change from that number
# to the next is what fine-tuning did. The verdict counts a difference only when it beats both yardsticks: two paired standard
# errors (other test images) and the noise margin (another seed). Both models are single
# seed-0 runs, so the margin is the one for one run against one run, $t_{0.975,\,2} \cdot s
# \cdot \sqrt{2}$ with $s$ from section 1's three seeds (borrowed from the end-to-end model: the
# greedy stack's own seed noise was not measured), the yardstick the depth study of
# section I uses too (wider than section 1's margin for one run against a mean of three). Greedy
# pretraining was invented for deep networks that could not be trained from random weights:
# small initial weights give tiny gradients in the early layers, large ones lead to poor local
# minima (Hinton & Salakhutdinov 2006, before today's initialisations, such as Glorot's and He's,
# eased this); this stack is shallow, and
# section 1 trained it from random weights with Adam, so here it is a comparison of two ways to spend the
# same steps, not a rescue. Whichever way your verdict goes, it holds at this budget and depth
# only.

# %% [markdown]
# ## F. With few labels, do the codes help?
#
# *Optional; it adds the nearest-neighbour test of section 3 with only 100 and 1,000 labels, and
# Géron's test: the pretrained encoder fine-tuned with those labels.*
#
# The classic case for training an autoencoder first is a task with **few labels**: the
# autoencoder learns from every training image without labels, and a classifier then learns from
# the few labelled ones. With the `n_ref` labels above (10,000 in the full run), a classifier
# can learn much from the pixels themselves; with 100, it has about 10 examples per class. The cell repeats the
# nearest-neighbour test with only 100 and with 1,000 labelled training images, on the codes and
# on the pixels. Nearest neighbour has nothing to tune, so it needs no labelled validation
# images (with 100 labels, a validation set of 2,000 would be a luxury). Which 100 images get
# labels is luck, so the cell draws the labelled set 10 times and averages; each "2 SE" combines
# the spread over the draws with the sampling of the test images.

# %%
g = torch.Generator().manual_seed(0)  # the lesson's section 3 draws its 100-label sets the same way
print(f"{'labels':>7}{'codes':>16}{'pixels':>16}{'difference':>12}{'2 SE':>7}   verdict")
for n_labels in (100, 1_000):
    few = few_label_nn(train_codes, x_train[:n_ref].flatten(1), ref_y, codes[:n_query],
                       x_test[:n_query].flatten(1), query_y, n_labels, n_draws=10, generator=g)
    margin = 2 * few.se
    verdict = ("codes above pixels" if few.difference > margin else
               "codes below pixels" if few.difference < -margin else "indistinguishable")
    print(f"{n_labels:>7,}{few.codes:>10.1%} ±{2 * few.codes_se:>4.1%}"
          f"{few.pixels:>10.1%} ±{2 * few.pixels_se:>4.1%}"
          f"{few.difference:>+12.1%}{margin:>7.1%}   {verdict}")
print(f"(with all {n_ref:,} labels, above: codes {hits.mean():.1%}, pixels {pixels_nn:.1%})")

# %% [markdown]
# Read each row's verdict, and compare it with the last line, the same test with all `n_ref`
# labels. Where the codes come out above the pixels with 100 labels but not with all of them, the
# autoencoder helps where the classic argument says it should: when labels are scarce. Where the
# verdict is "indistinguishable" or "below" at 100 labels too, this autoencoder, trained to
# reconstruct at this budget, did not give a nearest-neighbour classifier a head start, and the
# argument would need a different model or classifier to hold here. Compare the rows
# too: the question is not whether fewer labels cost accuracy, but which input loses less.
#
# Géron (ch. 17) uses the pretrained encoder another way: he puts a classifier head on it and
# **fine-tunes** the whole network with the few labels. The cell below does the same with a
# linear head (32 numbers in, 10 class scores out) on section 1's centred encoder, against the
# same network trained from its random start (the pretrained model's own initial weights), and
# against the same head on the frozen codes (only the head learns). Each gets the same 100 Adam
# steps on batches of 100 labelled images (learning rate 0.002, constant; 0.05 for the
# head alone, the linear probe's of section 3; no labelled validation set, as above), on 3 draws
# of the labelled images, and is measured on the same test images.

# %%
class CodeClassifier(nn.Module):
    """A linear head on an autoencoder's encoder: (B, 1, 28, 28) -> class scores (B, 10)."""

    def __init__(self, autoencoder):
        super().__init__()
        self.autoencoder = autoencoder
        self.head = nn.Linear(32, len(data.classes))

    def forward(self, x):
        return self.head(self.autoencoder.encode(x))


tune_steps = course.pick(full=100, fast=10)


def few_label_accuracy(start, x, y, frozen=False, steps=tune_steps):
    """Train a CodeClassifier on a copy of ``start`` with the (n, 1, 28, 28) images x and their
    (n,) labels y, in ``steps`` Adam steps on batches of up to 100 of them (only the head if
    ``frozen``); return its accuracy on the n_query test images."""
    torch.manual_seed(0)  # the same head initialisation and batches for every model
    model = CodeClassifier(copy.deepcopy(start))
    model.autoencoder.requires_grad_(not frozen)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad],
                                 lr=0.05 if frozen else 2e-3)  # a head alone: the probe's rate
    for _ in range(steps):
        batch = torch.randperm(len(x))[:100]
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x[batch]), y[batch]).backward()
        optimizer.step()
    with torch.no_grad():
        return (model(x_test[:n_query]).argmax(dim=1) == query_y).float().mean().item()


torch.manual_seed(0)  # the pretrained model's initial weights, untrained
scratch_start = DenseAutoencoder(784, hidden=(128,), n_latent=32, input_mean=mean_image)
starts = {"fine-tuned": (dense, False), "from scratch": (scratch_start, False),
          "frozen codes": (dense, True)}
g_tune = torch.Generator().manual_seed(0)
tuned = {}  # n_labels -> {model: (3,) accuracies, one per draw}
for n_labels in (100, 1_000):
    runs = {name: [] for name in starts}
    for _ in range(3):
        chosen = torch.randperm(n_ref, generator=g_tune)[:n_labels]
        for name, (start, frozen) in starts.items():
            runs[name].append(few_label_accuracy(start, x_train[chosen], ref_y[chosen], frozen))
    tuned[n_labels] = {name: torch.tensor(acc) for name, acc in runs.items()}
print(f"{'labels':>7}" + "".join(f"{name:>15}" for name in starts)
      + "   (test accuracy, mean of 3 draws)")
for n_labels, accs in tuned.items():
    print(f"{n_labels:>7,}" + "".join(f"{a.mean():>15.1%}" for a in accs.values()))
summary = []
for n_labels, accs in tuned.items():
    gain = accs["fine-tuned"] - accs["from scratch"]  # (3,) paired by draw
    margin = seed_mean_margin(gain.tolist())  # t(0.975, 2) s / sqrt(3): the mean gain's 95% half-width
    word = ("above" if gain.mean() > margin else "below" if gain.mean() < -margin
            else "not clearly different from")
    summary.append(f"with {n_labels:,} labels fine-tuning is {word} training from scratch "
                   f"({gain.mean():+.1%}, 95% margin {margin:.1%})")
print("In this run: " + "; ".join(summary) + ".")

# %% [markdown]
# Why could pretraining help? The network from scratch must learn its 128 + 32 hidden features
# from the labelled images alone; the pretrained one starts from features learned on all the
# training images without labels and only adjusts them. The margin is the $t$-based 95% half-width
# of the mean gain over the 3 label draws ($4.30\,s/\sqrt{3}$, section B's quantile), so only a
# gain large against its spread counts; it leaves out two other sources of noise (the head's
# random start and which 2,000 test images were used), so even "above" is a statement about
# these draws. Every number holds for this recipe (a fixed number of steps, one learning rate)
# only. Where fine-tuning is not clearly different from training from scratch, these features
# gave gradient training no head start that 3 draws can show at this budget.

# %% [markdown]
# ## G. Decoding from the latent space
#
# *Optional; it adds what the decoder makes of codes around those of real images.*
#
# The decoder maps ANY 32 numbers to an image, not only the codes of real images; section 3
# decoded the straight line between two codes. Here we decode an 8x8 grid over the plane of the
# scatter plot, mapped back to 32 numbers. A grid point is marked "far" when, in all 32
# dimensions, it is farther from every one of the first 2,000 test codes than 99% of those codes
# are from their nearest neighbour.

# %%
code_pca = PCA(2).fit(codes)  # the plane of the scatter plot: (N, 32) -> (N, 2) and back
plane = code_pca.encode(codes)  # (N, 2), as in the scatter plot
axes_1d = [torch.linspace(plane[:, i].min(), plane[:, i].max(), 8) for i in (0, 1)]
grid_2d = torch.cartesian_prod(axes_1d[1].flip(0), axes_1d[0])[:, [1, 0]]  # (64, 2), rows top-down
grid_codes = code_pca.decode(grid_2d)  # (64, 32): points of the plane, back in code space


def far_from(points, reference):
    """True where a point is farther from every reference row than 99% of the reference rows are
    from their nearest neighbour: (P, d), (R, d) -> (P,)."""
    typical = torch.cdist(reference, reference).fill_diagonal_(float("inf")).min(dim=1).values
    return torch.cdist(points, reference).min(dim=1).values > torch.quantile(typical, 0.99)


far = far_from(grid_codes, codes[:2000])  # (64,): far in all 32 dimensions
with torch.no_grad():
    grid_images = dense.decode(grid_codes).view(-1, 1, 28, 28)  # (64, 1, 28, 28)
print(f"grid: points farther from every one of {len(codes[:2000]):,} test codes than 99% of "
      f"those codes lie from their nearest neighbour (in 32 dimensions): {int(far.sum())} of 64")
images_figure(grid_images, ncols=8, size=0.75, titles=["far" if f else "" for f in far.tolist()],
              title="decoding a grid over the plane of the codes")

# %% [markdown]
# The decoder returns *something* everywhere, and, being smooth, it often extends what it learned:
# far tiles may still look like garments, or blends of two. But training asks nothing of the
# decoder there, so nothing guarantees it, and the midpoint of two codes need not be the code of any real
# image. An ordinary autoencoder gives no rule for choosing codes that decode to plausible new
# images; the **variational** autoencoder of lesson 06 adds one.

# %% [markdown]
# The same "far" rule in the plane of the picture counts differently, because its threshold (a
# percentile of nearest-neighbour distances) is set in each space separately; only the count in 32
# dimensions matters to the decoder.

# %%
far_2d = far_from(grid_2d, plane[:2000])  # (64,): the same rule, in the plane of the picture
print(f"far grid points: {int(far_2d.sum())} of 64 in the plane, {int(far.sum())} of 64 in 32 "
      f"dimensions; marked the same way by both: {int((far_2d == far).sum())} of 64")

# %% [markdown]
# **A latent traversal.** Does one code unit stand for one property of a garment, such as sleeve
# length? Take the code of test image 0, vary one unit from its 5th to its 95th percentile over
# the test codes, keep the other 31 fixed, and decode. The cell does it for the two units with the
# largest spread. For each row it prints the share of pixels that change by more than 0.1 from
# the first image to the last, and the classes of the training codes nearest to the 8 codes.

# %%
low, high = torch.quantile(codes, 0.05, dim=0), torch.quantile(codes, 0.95, dim=0)  # (32,) each
traversal_rows = {}  # unit -> (8, 1, 28, 28) decoded images
for unit in codes.std(dim=0).topk(2).indices.tolist():  # the two units with the largest spread
    walk = codes[0].repeat(8, 1)  # (8, 32): test image 0's code, 8 times
    walk[:, unit] = torch.linspace(low[unit].item(), high[unit].item(), 8)  # only this unit moves
    with torch.no_grad():
        walk_images = dense.decode(walk).view(-1, 1, 28, 28)  # (8, 1, 28, 28)
    changed = ((walk_images[-1] - walk_images[0]).abs() > 0.1).float().mean().item()
    nearest_classes = ref_y[torch.cdist(walk, train_codes).argmin(dim=1)]  # (8,)
    walk_classes = sorted({data.classes[int(c)] for c in nearest_classes})
    print(f"unit {unit}: {changed:.0%} of the pixels change by more than 0.1; nearest training codes "
          f"along the row are of {len(walk_classes)} class{'es' * (len(walk_classes) != 1)} "
          f"({', '.join(walk_classes)})")
    traversal_rows[f"unit {unit}"] = walk_images
rows_figure(traversal_rows, title="test image 0's code, one unit varied (5th to 95th percentile)")

# %% [markdown]
# A unit that meant one local property, say sleeve length, would change one part of the image and
# keep the garment's class. Where a row changes many pixels at once, the unit is not one local
# property; look whether shape, brightness and texture move together, and whether the nearest
# training codes span several classes. Nothing in training asks for single-factor units: multiply
# the codes by any invertible $32 \times 32$ matrix $A$ (fold $A$ into the encoder's last layer)
# and the decoder's first weight by $A^{-1}$, and the model computes the same outputs. Orthogonal
# matrices also keep the distances between codes, which section 3's nearest-neighbour rates rely
# on; other matrices change them, so those rates depend on coordinates that training fixes
# arbitrarily. The units are one of many equally good coordinate systems for the same code space.

# %% [markdown]
# ## H. Class information per code size, and a longer budget
#
# *Optional; it adds standard-error verdicts to the sweep of section 4, and a run with twice
# the steps.*
#
# *Takeaway: verdicts (a) to (c) below rank the code sizes by class information only where the
# differences beat their standard errors; the longer run measures how much of the error ratios
# is a matter of budget.* Verdict (a) uses the test images, section 4's check the validation
# images: where a gap sits near two standard errors, the two can disagree; (a) also prints how
# far, in standard errors, the nearest-neighbour rate of the rule's code size falls below the
# best one on the test images.

# %%
tied_with_best = [k for k in sweep_sizes
                  if not clearly_above(nn_hits["AE", best_nn], nn_hits["AE", k])]
print(f"(a) highest nearest-neighbour rate of AE codes: k = {best_nn}, "
      f"{sweep[best_nn]['AE NN']:.1%}; code sizes within two standard errors of it: "
      f"{tied_with_best} -> "
      + (f"a plateau: this test does not rank k = {tied_with_best}" if len(tied_with_best) > 1
         else f"highest at the widest size tried (the sweep may not have peaked): every other "
         f"size is clearly below k = {best_nn}" if best_nn == max(sweep_sizes)
         else f"a peak: every other size is clearly below k = {best_nn}"))
rule_k = elbow_k({k: sweep[k]["AE valid"] for k in sweep_sizes}) or max(sweep_sizes)  # section 4
rule_gap, rule_se = compare_rates(nn_hits["AE", best_nn], nn_hits["AE", rule_k])  # same images
if best_nn == rule_k:
    rule_words = "the best on these test images too"
else:
    rule_words = (f"{rule_gap:.1%} below k = {best_nn} on these test images, "
                  f"{rule_gap / max(rule_se, 1e-12):.1f} standard errors: "
                  + ("a tie here too" if rule_gap <= 2 * rule_se else "over two, so these images "
                     "do not call it a tie, whatever the validation check said"))
print(f"    section 4's rule (validation errors) picks k = {rule_k}: {rule_words}")
print(f"(b) AE codes above raw pixels ({pixels_nn:.1%}) by more than two standard errors: at "
      f"k = 32 (section 1's size, fixed in advance) {clearly_above(nn_hits['AE', 32], pixel_hits)}; "
      f"at k = {best_nn} (picked as the best of four, so optimistic) "
      f"{clearly_above(nn_hits['AE', best_nn], pixel_hits)}")
print(f"(c) at k = 2, AE codes above PCA's by more than two standard errors: "
      f"{clearly_above(nn_hits['AE', 2], nn_hits['PCA', 2])} "
      f"({sweep[2]['AE NN']:.1%} vs {sweep[2]['PCA NN']:.1%})")
beats = {True: "beat", False: "do not clearly beat"}
shape = (f"form a plateau at k = {tied_with_best}" if len(tied_with_best) > 1
         else f"are highest at the widest size tried, k = {best_nn} (the sweep may not have peaked)"
         if best_nn == max(sweep_sizes) else f"form a peak at k = {best_nn}")
print(f"In this run: the AE codes' rates {shape}; at k = 32 they "
      f"{beats[clearly_above(nn_hits['AE', 32], pixel_hits)]} raw pixels, at k = 2 they "
      f"{beats[clearly_above(nn_hits['AE', 2], nn_hits['PCA', 2])]} PCA's codes.")

# %% [markdown]
# **Could another seed move the rule's choice?** Section 4's rule compares each doubling's cut
# with a 15% line, but every validation error carries seed noise. Move the two errors of each
# cut apart by section 1's one-run-against-one-run margin $t \cdot s \sqrt 2$ (half up, half down;
# k = 32's, as a share of the error, borrowed at every $k$) to get the range of each cut; a range
# that straddles the line is a close call: another seed could move the choice by one size.

# %%
from course_utils.class_info import doubling_cut_ranges  # each error moved by m of itself

one_against_one = t_quantile(0.975, n_seeds - 1) * seed_sd * 2**0.5  # section 1's pair margin
cut_ranges = doubling_cut_ranges({k: sweep[k]["AE valid"] for k in sweep_sizes},
                                 one_against_one / 2 / seed_mean)  # half of it, as a share
for (a, b), (low, high) in zip(pairwise(sweep_sizes), cut_ranges.values(), strict=True):
    print(f"cut per doubling from k = {a} to {b}: {low:.1%} to {high:.1%}"
          + ("   <- straddles the 15% line" if low < 0.15 < high else ""))
close_calls = [a for a, (low, high) in cut_ranges.items() if low < 0.15 < high]
print("In this run: " + (f"the cut from k = {', '.join(map(str, close_calls))} is a close call: "
                         "another seed could move the rule's choice by one size." if close_calls
                         else "no cut is within seed noise of the 15% line: the rule's choice "
                         "does not hinge on the seed."))

# %% [markdown]
# The codes' nearest neighbours share the class far above chance (about 10%), but so do raw
# pixels (section 3): the yardstick is the pixels' rate, the grey line of section 4's figure. Trust the
# $k = 32$ comparison with the pixels (a size chosen before looking) over the best-of-four one of
# verdict (b): picking the highest of four noisy rates favours one that happened to come out
# high (a "winner's curse"). At $k = 2$ the curved code has the most to gain over 2 principal
# components.
#
# Are the error ratios a matter of training budget? Every model got the same number of steps,
# and section 1 measured what halving them costs. The setup continued section 1's centred $k = 32$
# model (a copy of it, `longer`) for as many steps again, with
# a fresh Adam, a fresh cosine schedule from 5e-3 and another batch order (so it is a continued
# run, not one trained for twice the steps on a single schedule; its error first rises while the
# rate is high again), recording its validation curve; the cell measures its validation error
# against PCA's once more. (The depth test of section I uses the continued model a second
# time.)

# %%
k_check = 32  # section 1's model (seed 0); `longer`: it continued, in the setup
before, after = sweep[k_check]["AE valid"], mse_per_pixel(predict(longer, x_valid), x_valid).item()
pca_check = sweep[k_check]["PCA valid"]
print(f"k = {k_check}, valid MSE per pixel: AE after {steps_taken:,} steps {before:.5f}, after "
      f"{2 * steps_taken:,} steps {after:.5f}; PCA {pca_check:.5f}")
print(f"AE / PCA at k = {k_check}: {before / max(pca_check, 1e-12):.3g} after {steps_taken:,} "
      f"steps, {after / max(pca_check, 1e-12):.3g} after {2 * steps_taken:,}")
print(f"In this run: twice the steps "
      f"{'lowered' if before - after > noise_margin else 'did not clearly lower'} the k = "
      f"{k_check} AE's error, and AE / PCA went from {before / max(pca_check, 1e-12):.2f} to "
      f"{after / max(pca_check, 1e-12):.2f}.")
print(f"twice the steps lower the AE's error by more than the noise margin ({noise_margin:.5f}, "
      f"a rough yardstick here): {before - after > noise_margin}; AE below PCA at k = {k_check} with twice the steps: "
      f"{after < pca_check}")
if pca_check < 1e-6:
    print(f"PCA reconstructs these images (almost) exactly with {k_check} components, so no budget "
          "can bring the AE below it here")

# %% [markdown]
# Where the $k = 32$ ratio moves with more steps (the noise margin is only a rough yardstick for
# one run continued), the other ratios (and so the $k$ with section 4's smallest AE / PCA ratio) could move too with a longer budget.
# (On the embedded fallback, whose images are 8x8 scans enlarged to 28x28, PCA can come close to
# exact; the cell says so if its error is practically 0.)

# %% [markdown]
# ## I. And how deep?
#
# *Optional; it measures one more hidden layer on each side at $k = 32$, at two budgets, and
# draws section 4's $k = 32$ errors with their noise band.*
#
# *Takeaway: deeper is not automatically better; compare depths at equal budgets, and at more
# than one, since the slower model may be the deeper one.*
#
# Width is one choice; depth is the other. A "stacked" autoencoder can have more than one hidden
# layer on each side, and a common expectation is that deeper is better: more nonlinear layers
# can bend the decoder's surface more. Against that, a deeper stack has more layers for the
# gradient to pass through and, at a fixed number of steps, may be further from finished. So we
# measure at an **equal budget**: the same code size (32), the same steps, learning rate, seed and
# centring, and nearly the same number of weights, with one more hidden layer of 64 units on each
# side (784-128-64-32-64-128-784). And since one budget can favour the model that trains faster,
# we measure at two: after the usual steps, and after continuing **both** models for as many
# steps again (the shallow one is the continued $k = 32$ model above, the deeper one is
# continued the same way: a fresh Adam and cosine schedule, the batch order of seed 1). Both
# runs have seed 0, so each comparison is one run against one run: the yardstick is the noise margin of such a
# difference, $t_{0.975,\,2} \cdot s \cdot \sqrt{2}$ with $s$ from section 1's three seeds (it
# assumes the deeper stack's seed noise is no larger than the shallow stack's). Whether the gap
# changes between the budgets is a difference of two such differences; we give it a margin
# $\sqrt 2$ times larger, a conservative choice: it treats the two gaps as independent, whereas
# they come from the same two runs, continued, and so tend to move together (and $s$ was
# measured at the first budget only). The deeper model records its own validation curve.

# %%
torch.manual_seed(0)  # the initial weights, as for every seed-0 model
deep = DenseAutoencoder(784, hidden=(128, 64), n_latent=32, input_mean=mean_image)
deep = deep.to(course.device)  # 784-128-64-32-64-128-784
deep_history = fit(deep, x_train.to(course.device), x_valid.to(course.device), epochs=epochs,
                   lr=5e-3, callbacks=[CosineDecay()], batch_size=batch_size,
                   verbose=False)  # batch order of seed 0
deep_long = copy.deepcopy(deep)
deep_long_history = fit(deep_long, x_train.to(course.device), x_valid.to(course.device),
                        epochs=epochs, lr=5e-3, callbacks=[CosineDecay()], batch_size=batch_size,
                        seed=1, verbose=False)  # continued as the shallow one: fresh Adam, seed 1
deep, deep_long = deep.cpu(), deep_long.cpu()
pair_margin = t_quantile(0.975, n_seeds - 1) * seed_sd * 2**0.5  # one run vs one run
test_errors = {"784-128-32-128-784": (dense_mse, test_mse(longer)),  # (1x, 2x the steps)
               "784-128-64-32-64-128-784": (test_mse(deep), test_mse(deep_long))}
print(f"{'stack (seed 0)':<28}{'weights':>9}{f'test MSE, {steps_taken:,} steps':>24}"
      f"{f'{2 * steps_taken:,} steps':>13}")
for (name, (err_1x, err_2x)), model in zip(test_errors.items(), (dense, deep), strict=True):
    print(f"{name:<28}{count_parameters(model):>9,}{err_1x:>24.5f}{err_2x:>13.5f}")
shallow_errs, deep_errs = test_errors.values()
depth_diffs = [d - s for d, s in zip(deep_errs, shallow_errs, strict=True)]  # (1x, 2x)


def depth_verdict(diff):
    return ("the deeper stack is better" if -diff > pair_margin else
            "the deeper stack is worse" if diff > pair_margin else
            "no difference beyond the noise margin")


for budget, diff, shallow_err in zip((steps_taken, 2 * steps_taken), depth_diffs, shallow_errs, strict=True):
    print(f"after {budget:,} steps: deeper minus shallower {diff:+.5f} ({diff / shallow_err:+.0%} "
          f"of the shallower's error), noise margin {pair_margin:.5f}: {depth_verdict(diff)}")
trend_margin = pair_margin * 2**0.5  # conservative: treats the two gaps as independent
gap_trend = ("narrows" if abs(depth_diffs[1]) < abs(depth_diffs[0]) - trend_margin else
             "widens" if abs(depth_diffs[1]) > abs(depth_diffs[0]) + trend_margin else
             "stays the same within the noise margin")
print(f"with twice the steps the gap {gap_trend} (noise margin of a change of the gap: "
      f"{trend_margin:.5f})")
steps_per_epoch = math.ceil(len(x_train) / batch_size)
print("the deeper stack's own validation curve at the first budget (its cosine rate ends at 0, so a "
      "flat end is the schedule's, not convergence):", late_fall(deep_history, steps_per_epoch))
for name, histories in (("shallower", (dense_history, longer_history)),
                        ("deeper", (deep_history, deep_long_history))):
    both = {"valid_loss": histories[0]["valid_loss"] + histories[1]["valid_loss"]}
    print(f"the {name} stack's curve at the end of both budgets:", late_fall(both, steps_per_epoch))
deep_dead = [int(mask.sum()) for mask in dead_units(deep, x_test)]  # 4 ReLU layers
layer_inputs = ("centred pixels", "ReLU outputs", "the linear code", "ReLU outputs")
print(f"{'ReLU layer (width)':<22}{'its input':<18}{f'dead units ({steps_taken:,} steps)':>24}")
for name, width, source, n_dead in zip(("encoder 1", "encoder 2", "decoder 1", "decoder 2"),
                                       (128, 64, 64, 128), layer_inputs, deep_dead, strict=True):
    print(f"{name + f' ({width})':<22}{source:<18}{n_dead:>24}")
after_relu = sum(n for n, src in zip(deep_dead, layer_inputs, strict=True) if src == "ReLU outputs")
after_code = sum(n for n, src in zip(deep_dead, layer_inputs, strict=True) if src == "the linear code")
print(f"dead units after the first layer: {after_relu + after_code} ({after_relu} in the layers "
      f"fed by ReLU outputs, {after_code} in the layer fed by the linear code)")

# %%
# extra code – both stacks' validation curves over the two budgets
steps_per_epoch = math.ceil(len(x_train) / batch_size)
fig = NotebookFigure(figsize=(6.5, 3.4), layout="constrained")
ax = fig.subplots()
for name, histories, colour in (("784-128-32-128-784", (dense_history, longer_history), "tab:blue"),
                                ("784-128-64-32-64-128-784", (deep_history, deep_long_history),
                                 "tab:red")):
    curve = histories[0]["valid_loss"] + histories[1]["valid_loss"]  # one value per epoch
    ax.plot([steps_per_epoch * (i + 1) for i in range(len(curve))], curve, "-o", ms=3,
            color=colour, label=name)
ax.axvline(steps_per_epoch * epochs, color="0.5", ls=":",
           label="continued (fresh Adam and cosine)")
ax.set(xlabel="optimizer steps", ylabel="valid squared error per image",
       title="depth at two budgets: validation curves (seed 0)")
ax.grid(alpha=0.3)
ax.legend(fontsize=8)
fig

# %%
depth_summary = (f"In this run: after {steps_taken:,} steps {depth_verdict(depth_diffs[0])} "
                 f"({depth_diffs[0] / shallow_errs[0]:+.0%}), after {2 * steps_taken:,} steps "
                 f"{depth_verdict(depth_diffs[1])} ({depth_diffs[1] / shallow_errs[1]:+.0%}); "
                 f"the gap {gap_trend} with more steps.")
print(depth_summary)

# %% [markdown]
# Read the two verdicts together, and the figure. A gap that **narrows** with more steps is
# partly a matter of budget: the deeper stack is slower to train (compare the slopes of the two
# curves at the end), so a comparison at one fixed number of steps is not its final word;
# whether it would catch up or overtake with even more steps, this run does not say. A gap
# that stays or widens is not an artefact of the budget, at least up to twice the steps. Deeper is not automatically better, and "deeper is worse" would be just as
# wrong a summary of one budget: like the width of the code, the depth is a choice to measure,
# at the budget you can afford. Hinton and Salakhutdinov (2006) made much deeper
# stacks work well, against PCA, by pretraining each layer on its own as a **restricted Boltzmann
# machine** (RBM: a small generative model with one hidden layer, trained by contrastive
# divergence, not as an autoencoder), then unrolling the stack into an encoder and a decoder and
# fine-tuning it as one autoencoder, and by training far longer; pretraining each layer as a
# small autoencoder instead came soon after (Bengio et al., 2007). This lesson trains end to end
# from a random start for a few thousand steps, so a deeper stack that loses here says
# something about this budget and this recipe, not about depth in general.
#
# The dead-unit table adds a caveat to section 1. Centring acts on the **first** layer's input
# only. A layer fed by ReLU outputs receives numbers that are all at least 0 again, the situation
# that killed units with raw pixels, so the same mechanism can act there. A layer fed by the
# linear code is not safe either, and not for the reason one might guess. Its inputs lie on both
# sides of 0, but that is not what the centring argument of section 1 needs: it needs inputs
# whose **mean is 0**, so that $w_j \cdot (z - \bar z)$ averages 0 for any weights. The code is
# not centred: its mean $\bar z$ is whatever the encoder's weights and last bias make it, and
# $w_j \cdot \bar z$ then acts as an extra bias that the weights themselves set, so the weights
# can kill such a unit too. The same holds for the shallow stack's decoder layer: the table of section 1
# printed its dead units too. The last line of the table counts the
# dead units after the first layer and splits them by the kind of input. A more general remedy
# is batch normalisation (lesson 03). It sits before each ReLU and centres every unit's own
# pre-activation over the batch. As with centring, the weights alone can then no longer keep a
# unit below 0 on a whole batch; only its learned shift can. This lesson does not measure it.
# Whether the deeper stack's dead units are what costs it accuracy, this run does not test.

# %% [markdown]
# ### The errors at $k = 32$, with the seed noise band
#
# Section 4's depth table at $k = 32$, drawn: each model's test error as a dot, beside the band
# that section 1's noise margin puts around the mean of the shallow stack's three seeds (the
# lesson's section 4 measures $k = 2$ as well).

# %%
from course_utils.verdicts import noise_band_figure  # noqa: E402

# extra code – the errors as dots, with the shallow stack's noise band
noise_band_figure(
    {"k = 32": {"PCA-32": pca_mse, "centred, seeds 0-2": seed_mses,
                "centred deeper, seed 0": test_errors["784-128-64-32-64-128-784"][0],
                "raw pixels, seed 0": raw_mse}},
    title=f"test MSE per pixel, {steps_taken:,} steps\n(band: mean of 3 seeds\n± noise margin)")

# %% [markdown]
# A dot outside the shaded band differs from the centred 784-128-32 stack by more than the seed
# noise. Depth is a choice to measure at the code size you will use, as well as at the budget you
# can afford (the cells above).

# %% [markdown]
# ## J. What the brightness baseline tells us, and two tests of the autoencoder
#
# *Optional; it adds two tests of whether the score of section 5 is a brightness effect, then
# shows one test image per outcome and measures precision at rarer anomalies.*
#
# *Takeaway: a score can look good because the anomalies are brighter; compare it with the
# brightness score, and test it again on sets of equal brightness.*
#
# The mean-intensity score never looks at the autoencoder, so its AUROC says something about the
# **data**, not about any detector: it is the share of (anomaly, normal) pairs in which the
# anomaly carries more ink or light. The cell prints the two groups' averages, which are the
# reason for that AUROC. (Had the anomalies been *darker* than the digits, the raw score would
# have scored below 0.5; the baseline cell flips a score in that case, so that the autoencoder
# always meets the stronger reading of each baseline, and prints whether it did.)

# %%
ink_ratio = (bright_ood.mean() / bright_normal.mean()).item()
print(f"mean intensity: {digits.name} test images {bright_normal.mean():.3f}, anomalies "
      f"{bright_ood.mean():.3f} (the anomalies carry {ink_ratio:.1f} times as much)")
brighter = (bright_ood > bright_normal.median()).float().mean().item()
print(f"anomalies brighter than the median digit: {brighter:.0%}")

# %% [markdown]
# The further that ratio is from 1, the more the two groups differ in brightness, and the more
# any score that merely grows with brightness inherits a good AUROC for free (or a bad one, if
# the anomalies are the darker group). A reconstruction error might be such a score:
# an image with more ink has more pixels to get wrong. So brightness is a possible **confound**
# of the autoencoder's error, and we test it in two ways.
#
# **Test 1, within each group.** Inside one group brightness says nothing about being normal or
# anomalous. If, among the digits alone, the error still ranks the images much as their
# brightness does, then part of what the error measures is brightness. `rank_correlation`
# (Spearman's: the correlation of the two rankings, +1 for the same order, 0 for unrelated
# orders) is the right measure, since AUROC too only uses the order of the scores.

# %%
from course_utils.anomaly import rank_correlation

within = {}
for group, brightness, err in (("normal digits", bright_normal, err_normal),
                               ("anomalies", bright_ood, err_ood)):
    within[group] = rank_correlation(err, brightness)  # (N,) vs (N,) -> float
    ranks = [v.argsort().argsort().double() for v in (err, brightness)]  # 0 = smallest
    r_by_hand = torch.corrcoef(torch.stack(ranks))[0, 1].item()  # Pearson's r of the ranks
    strength = "strong" if abs(within[group]) > 0.5 else "weak"
    print(f"{group:<14} rank correlation of AE error and mean intensity: {within[group]:+.2f} "
          f"({strength}; by hand, Pearson's r of the two rankings: {r_by_hand:+.2f})")
print("the error follows brightness (rank correlation above 0.5) within each group: "
      + ", ".join(f"{group} {value > 0.5}" for group, value in within.items()))

# %% [markdown]
# A strong correlation in a group means that within it the error ranks images largely by their
# ink, not by how unusual they are; a weak one, that brightness explains little of the ranking
# there. A correlation says how much the error *follows* brightness; it does not say whether
# the error would still separate the groups **without** the brightness difference. The second
# test asks exactly that.
#
# **Test 2, a harder case: brightness-matched sets.** Keep only digits and anomalies of similar
# brightness, so that both sets have the same distribution of mean intensity
# (`matched_subsets`: in each of 20 brightness bins it keeps as many images of each group as the
# smaller group has there). On these sets the mean-intensity score is close to a coin toss by
# construction, and a detector that still separates them measures something other than ink.

# %%
from course_utils.anomaly import matched_subsets

keep_normal, keep_ood = matched_subsets(bright_normal, bright_ood, n_bins=20, seed=course.seed)
print(f"brightness-matched sets: {len(keep_normal):,} digits and {len(keep_ood):,} anomalies, "
      f"mean intensity {bright_normal[keep_normal].mean():.3f} and "
      f"{bright_ood[keep_ood].mean():.3f}")
matched = {name: auroc(normal[keep_normal], anomalous[keep_ood])
           for name, (normal, anomalous) in scores.items()}
print(f"{'score':<18}{'AUROC, all images':>19}{'brightness-matched':>20}")
for name, value in matched.items():
    print(f"{name:<18}{aucs[name]:>19.4f}{value:>20.4f}")
print(f"matching worked: mean intensity within 0.05 of a coin toss (0.5): "
      f"{abs(matched['mean intensity'] - 0.5) <= 0.05}")
print(f"the stacked AE still separates the matched sets (AUROC above 0.9): "
      f"{matched['stacked AE error'] > 0.9}")
matched_pairs = {name: (normal[keep_normal], anomalous[keep_ood])
                 for name, (normal, anomalous) in scores.items()}
print(f"the stacked AE ahead of PCA-32 on the matched sets by more than two standard errors: "
      f"{clearly_ahead(matched_pairs['stacked AE error'], matched_pairs['PCA-32 error'])}")
print(f"In this run: on brightness-matched sets the stacked AE's AUROC is "
      f"{matched['stacked AE error']:.3f} (mean intensity {matched['mean intensity']:.3f}).")

# %% [markdown]
# Once brightness no longer differs, the brightness score should be near 0.5 (the first verdict
# checks the matching). An autoencoder AUROC still high on these sets means that its high AUROC
# above is not a brightness effect in disguise, whatever the correlations of test 1 say about how the
# error ranks images inside a group. The table also shows how much each AUROC drops on the
# matched sets (matching keeps the harder images: a bright digit, a dark garment), and the last
# verdict whether the autoencoder keeps its lead over PCA there. The general lesson: a learned
# detector must be compared with the cheap score that measures only the suspected confound,
# and then tested on data where that confound is removed.

# %% [markdown]
# Which images pass and which are flagged? The next cell puts the threshold where section 5 puts
# it (the 95th percentile of the validation digits' errors), prints the brightness of the missed
# and of the caught anomalies, and shows one test image per outcome: the one with its outcome's
# median error. If the missed anomalies are dimmer than the caught ones, low-ink images hide
# among the digits: the brightness confound again, at one threshold.

# %%
t95 = torch.quantile(mse_per_pixel_per_image(digit_ae, digits.valid.x), 0.95).item()  # validation
missed = err_ood < t95  # (N_ood,) anomalies below the threshold
print(f"threshold {t95:.4f}; mean intensity: missed anomalies {bright_ood[missed].mean():.3f}, caught "
      f"{bright_ood[~missed].mean():.3f}, normal test digits {bright_normal.mean():.3f}"
      if 0 < int(missed.sum()) < len(missed) else "no missed anomalies, or none caught")
outcomes = {  # outcome -> (its test set, that set's errors, True where the outcome happened)
    "digit, passed": (normal_x, err_normal, err_normal < t95),
    "false alarm": (normal_x, err_normal, err_normal >= t95),
    "anomaly, caught": (ood_x, err_ood, err_ood >= t95),
    "anomaly, missed": (ood_x, err_ood, missed),
}
picked, column_titles, outcome_counts = [], [], []
for outcome, (images, errors, happened) in outcomes.items():
    members = happened.nonzero()[:, 0]  # indices of this outcome's test images
    outcome_counts.append(f"{outcome} {len(members):,}" + ("" if len(members) else " (none to show)"))
    if len(members):
        i = int(members[(errors[members] - errors[members].median()).abs().argmin()])  # median error
        picked.append(images[i])
        column_titles.append(f"{outcome}\nerror {errors[i]:.4f}")
print("test images per outcome: " + "; ".join(outcome_counts))
x_picked = torch.stack(picked)  # (n_outcomes, 1, 28, 28)
x_rebuilt = predict(digit_ae, x_picked)
fig = rows_figure({"input": x_picked, "reconstruction": x_rebuilt,
                   "|error|": (x_picked - x_rebuilt).abs()}, size=1.5,
                  title=f"one test image per outcome at the threshold {t95:.4f} (|error|: bright = large)")
for ax, column_title in zip(fig.axes[:len(column_titles)], column_titles, strict=True):  # top row
    ax.set_title(column_title, fontsize=8)
fig

# %% [markdown]
# Section 5 computes precision at rarer anomalies with Bayes' rule. The next cell measures it: it
# keeps all normal test digits, draws anomalies at random to reach each prevalence, and counts at
# the same threshold; it also prints the AUROC at each prevalence with two bootstrap standard
# errors, to check that only sampling moves it.

# %%
from course_utils.anomaly import flag_counts, precision_at_prevalence  # noqa: E402
from course_utils.verdicts import auroc_se  # noqa: E402

counts = flag_counts(err_normal, err_ood, t95)  # all test images: 50% anomalies
g = torch.Generator().manual_seed(0)
print(f"{'prevalence':>10} {'anomalies':>10} {'precision':>10} {'recall':>8} {'AUROC':>7} "
      f"{'2 SE':>6} {'Bayes':>7}")
precisions, prevalence_aucs = [], []  # AUROC and its standard error at each prevalence
for prevalence in (0.5, 0.1, 0.01):
    n_anom = max(1, round(prevalence / (1 - prevalence) * len(err_normal)))
    pick = torch.randperm(len(err_ood), generator=g)[:n_anom]
    c = flag_counts(err_normal, err_ood[pick], t95)
    expected = precision_at_prevalence(counts.recall, counts.false_alarm_rate, prevalence)
    precisions.append(c.precision)
    prevalence_aucs.append((auroc(err_normal, err_ood[pick]),
                            auroc_se(err_normal, err_ood[pick], seed=course.seed)))
    print(f"{prevalence:>10.0%} {n_anom:>10,} {c.precision:>10.3f} {c.recall:>8.3f} "
          f"{prevalence_aucs[-1][0]:>7.3f} {2 * prevalence_aucs[-1][1]:>6.3f} {expected:>7.3f}")
auc_shift = abs(prevalence_aucs[2][0] - prevalence_aucs[0][0])
print(f"In this run: from 50% to 1% anomalies the measured precision goes from {precisions[0]:.2f} "
      f"to {precisions[2]:.2f}, while the AUROC moves by {auc_shift:.3f}, "
      f"{'within' if auc_shift <= 2 * prevalence_aucs[2][1] else 'beyond'} two standard errors "
      f"({2 * prevalence_aucs[2][1]:.3f}) of the 1% value.")

# %% [markdown]
# ## K. The reverse direction, train on clothes and detect digits
#
# *Optional; it adds the same detectors with the roles of the two datasets swapped.*
#
# *Takeaway: which set is "normal" changes the AUROC, and not necessarily the same way for every
# detector; measure it rather than reason it out.*
#
# Does it matter which set is "normal"? Two effects pull in opposite directions. A digit is a thin
# stroke on black: most of its pixels are dark and easy to get right, which keeps a clothing
# model's error on digits small. But a thin stroke also looks nothing like a garment, which makes
# it large. Rather than argue, measure both directions with both detectors. This needs two real
# datasets: on the embedded fallback both names give the same digits, so the comparison would pit
# a set against itself; the cell then says so and skips it.

# %%
reverse_figure = None  # stays None (nothing drawn) when the comparison is skipped
if data.is_fallback or digits.is_fallback:
    print(f"skipped: {data.name if data.is_fallback else digits.name} is the embedded fallback, "
          "so there is no real second dataset to swap in.")
else:
    n = min(len(ood_x), len(normal_x))  # ood_x holds the first test images of data
    digits_n, others_n = normal_x[:n], ood_x[:n]  # the same images in both directions
    detectors = {"stacked AE error": (lambda x: mse_per_pixel_per_image(digit_ae, x),
                                      lambda x: mse_per_pixel_per_image(dense, x)),
                 "PCA-32 error": (lambda x: pca_errors(digit_pca, x), lambda x: pca_errors(pca32, x))}
    print(f"{n:,} {digits.name} and {n:,} {data.name} test images, scored in both directions")
    print(f"{'detector':<18}{digits.name + '-trained':>18}{data.name + '-trained':>22}"
          f"{'difference':>12}{'2 SE':>8}   better direction")
    reverse = {}
    for name, (forward_score, reverse_score) in detectors.items():
        forward_pair = (forward_score(digits_n), forward_score(others_n))  # digits normal
        reverse[name] = (reverse_score(others_n), reverse_score(digits_n))  # digits anomalous
        # the reverse AUROC, written on the forward roles: P(score(digit) > score(garment))
        reverse_as_forward = (-reverse[name][1], -reverse[name][0])
        difference, se = auroc_margin(reverse_as_forward, forward_pair)
        better = (f"{data.name}-trained" if difference > 2 * se else
                  f"{digits.name}-trained" if difference < -2 * se else "cannot tell")
        print(f"{name:<18}{auroc(*forward_pair):>18.4f}{auroc(*reverse[name]):>22.4f}"
              f"{difference:>+12.4f}{2 * se:>8.4f}   {better}")
    print(f"training data of the two models: {digits.name}-trained {digit_epochs} epochs of "
          f"{len(digits.train.x):,} images ({digit_steps:,} steps), {data.name}-trained {epochs} "
          f"epochs of {len(x_train):,} images ({steps_taken:,} steps)")
    reverse_figure = error_histograms_figure(
        *reverse["stacked AE error"], names=(f"{data.name} (normal)", f"{digits.name} (anomalies)"))
    reverse_figure.axes[0].set_title(f"the reverse direction: errors of the {data.name} autoencoder")
reverse_figure

# %% [markdown]
# The last column answers the question for each detector in this run (when the cell ran): a
# direction is named only when the two AUROCs differ by more than two bootstrap standard errors
# (the same images are scored in both directions, so the bootstrap is paired), and "cannot
# tell" otherwise. The two models got about the same number of steps but not the same data: the
# last line prints each one's training images, epochs and steps. The verdict compares two
# trained models, and mixes the direction with those training sets; it does not isolate the
# effect of the direction alone. The digit sizes this section uses (the data line of its first
# cell) can be smaller than yours where this notebook was run with a part of MNIST only, and a
# verdict within a few standard errors of its margin, here or in the next part, could change at
# another size. The
# histogram shows the reverse direction for the autoencoder: the errors of the clothing
# autoencoder of section 1 on clothing test images (normal) and on digits (anomalies); compare
# its overlap with the forward histogram of the lesson's section 5 (digits normal, clothes
# anomalous). The answer need not be the same for the
# autoencoder and for PCA, and it could change with the budget, which is the point: a claim
# like "this direction separates better" has to be measured, not reasoned out from how much ink
# the images have. The lesson for practice: before trusting an
# anomaly score, ask what else it measures (brightness, amount of detail) and compare it with a
# baseline that measures only that.

# %% [markdown]
# ## L. The hardest case, a digit the model has never seen
#
# *Optional; it adds anomalies of the same kind as the normal data.*
#
# *Takeaway: a detector that flags another kind of image need not flag a new class of the same
# kind; the verdicts say how much harder that case is here.*
#
# Clothes and digits are different kinds of image. A harder test, and closer to many real
# uses, keeps the anomalies near the normal data: train the digit autoencoder **without one
# digit class** and ask whether it flags that digit. The lesson's section 5 already measures one
# held-out class; this section prints each margin with its error bar beside the easy case. Everything else stays as before: the same
# recipe and number of steps, PCA-32 and mean intensity as baselines, all measured on test images.

# %%
held_out = 7  # the digit class left out of training
known = digits.train.y != held_out  # (N_train,) True for the nine other digits
torch.manual_seed(0)
novel_ae = DenseAutoencoder(784, hidden=(128,), n_latent=32,
                            input_mean=digits.train.x[known].mean(dim=0)).to(course.device)
fit(novel_ae, digits.train.x[known].to(course.device), epochs=epochs_for(steps, int(known.sum())),
    lr=5e-3, callbacks=[CosineDecay()], batch_size=batch_size, verbose=False)
novel_ae = novel_ae.cpu()
novel_pca = PCA(32).fit(digits.train.x[known].flatten(1))
is_novel = digits.test.y == held_out  # (N_test,)
known_x, novel_x = digits.test.x[~is_novel], digits.test.x[is_novel]
novel_scores = {
    "stacked AE error": (mse_per_pixel_per_image(novel_ae, known_x),
                         mse_per_pixel_per_image(novel_ae, novel_x)),
    "PCA-32 error": (pca_errors(novel_pca, known_x), pca_errors(novel_pca, novel_x)),
    "mean intensity": (known_x.mean(dim=(1, 2, 3)), novel_x.mean(dim=(1, 2, 3))),
}
is_novel_valid = digits.valid.y == held_out  # validation digits: they choose each direction
known_valid, novel_valid = digits.valid.x[~is_novel_valid], digits.valid.x[is_novel_valid]
valid_baselines = {
    "PCA-32 error": (pca_errors(novel_pca, known_valid), pca_errors(novel_pca, novel_valid)),
    "mean intensity": (known_valid.mean(dim=(1, 2, 3)), novel_valid.mean(dim=(1, 2, 3))),
} if len(novel_valid) else {}
flipped_baselines = []
for name in ("PCA-32 error", "mean intensity"):  # below 0.5 on validation: read the other way
    novel_scores[name], flipped = oriented(novel_scores[name], decide_on=valid_baselines.get(name))
    if flipped:
        flipped_baselines.append(name)
novel_aucs = {name: auroc(*pair) for name, pair in novel_scores.items()}
print(f"normal: {len(known_x):,} test images of the nine other digits; anomalies: "
      f"{len(novel_x):,} test images of the digit {digits.classes[held_out]}")
print(f"baselines flipped because their AUROC on the validation digits was below 0.5: {flipped_baselines or 'none'}")
print(f"{'score':<18}{'AUROC, unseen digit':>21}{'AUROC, other kind of image':>28}")
for name, value in novel_aucs.items():
    print(f"{name:<18}{value:>21.4f}{aucs[name]:>28.4f}")
print(f"the unseen digit is harder for the AE to detect than the other kind of image: "
      f"{novel_aucs['stacked AE error'] < aucs['stacked AE error']}")
novel_ae_pair = novel_scores["stacked AE error"]
novel_margins = {b: auroc_margin(novel_ae_pair, novel_scores[b]) for b in ("PCA-32 error", "mean intensity")}
print(f"{'AUROC difference':<26}{'unseen digit (2 SE)':>22}{'other kind of image (2 SE)':>29}")
for b, (difference, se) in novel_margins.items():
    kind_difference, kind_se = kind_margins[b]
    print(f"{'AE minus ' + b:<26}{difference:>+12.4f} ({2 * se:.4f}){kind_difference:>+19.4f} "
          f"({2 * kind_se:.4f})")
wider = all(novel_margins[b][1] > kind_margins[b][1] for b in novel_margins)
print(f"two standard errors wider on the unseen digit than on the other kind, for both "
      f"baselines: {wider}")
novel_ahead = all(difference > 2 * se for difference, se in novel_margins.values())
print(f"on the unseen digit the AE is ahead of both baselines by more than two standard errors: "
      f"{novel_ahead}")
print(f"In this run ({int(known.sum()):,} training digits, {len(novel_x):,} test images of the "
      f"unseen digit): its AUROC is {novel_aucs['stacked AE error']:.3f} against "
      f"{aucs['stacked AE error']:.3f} on the other kind of image, and the AE is "
      f"{'ahead of' if novel_ahead else 'not clearly ahead of'} both baselines; this verdict "
      f"holds for this data size only.")

# %% [markdown]
# An unseen digit shares strokes, their thickness and the black background with the digits the
# model was trained on, so the autoencoder may reconstruct it fairly well and detect it less
# easily than the other kind of image. Its margins over the baselines rest on one class of
# anomalies, fewer images, so their two-standard-error ranges are wider, and a verdict that is
# not clear at this data size can become clear with a larger test set. Which
# class is held out matters: a digit drawn with strokes the others share could even be
# reconstructed better than the normal digits, which would show as an AUROC below 0.5. Change
# `held_out` and run the cell again to see another class. Detecting "something of the same
# kind, but new" is where reconstruction error is weakest, and it is the case to test before
# relying on such a detector.

# %% [markdown]
# ## M. Where the epoch summary belongs
#
# *Optional; it adds a toy loop with the most common bug of a hand-written training loop.*

# %% [markdown]
# One row per epoch is not automatic when you write the loop yourself. A bug common in popular
# tutorials puts the epoch summary one indentation level too far left, *after* the epoch loop
# instead of inside it. Nothing crashes: the summary simply runs once, after the last epoch, so
# you see one line and your "curve" has one point. The toy loop below shows both placements on
# made-up batch losses (three epochs of two batches):

# %%
batch_losses = [[0.90, 0.70], [0.60, 0.50], [0.45, 0.40]]  # made-up losses: 3 epochs x 2 batches
inside, outside = [], []
for epoch, losses in enumerate(batch_losses, start=1):
    total = 0.0
    for loss in losses:  # the batch loop: zero_grad, forward, loss, backward, step
        total += loss
    inside.append(f"epoch {epoch}: {total / len(losses):.3f}")  # INSIDE the epoch loop
outside.append(f"epoch {epoch}: {total / len(losses):.3f}")  # the bug: runs once, after the loop
print("summary inside the epoch loop: ", inside)
print("summary after the epoch loop:  ", outside)

# %% [markdown]
# The correct placement gives one average per epoch; the wrong one keeps only the last epoch.
# `fit` (open `course_utils/train.py`) appends the summary inside `for epoch in ...`. On any loop
# you write, check that its history has one row per epoch.

# %% [markdown]
# ## N. The filters' fine grain, measured
#
# *Optional.* How coarse are the rows of $W_1$ (section 2's filters)? The first cell measures the
# share of each row's energy in slow waves, at most 3 cycles across the frame, before and after
# training. Then: how much of each trained row is its random start, the slope on its initial row
# (100%: all still there; 0%: erased), and the same for the grain alone.

# %%
def coarse_share(weight):
    """(128, 784) filters -> mean share of each filter's energy (mean removed) in slow waves,
    at most 3 cycles across the 28-pixel frame (wavelengths of 9 pixels or more)."""
    rows = weight.detach().cpu().reshape(-1, 28, 28)
    power = torch.fft.fft2(rows - rows.mean(dim=(1, 2), keepdim=True)).abs() ** 2  # (128, 28, 28)
    f = torch.fft.fftfreq(28, d=1 / 28).round().long()  # whole cycles per frame: 0, 1, ..., -1
    slow = (f[:, None] ** 2 + f[None, :] ** 2) <= 9  # (28, 28); integers, so 3 cycles stay in
    assert int(slow.sum()) == 29, "the disc of radius 3 holds 29 whole-number frequency pairs"
    return (power[:, slow].sum(dim=1) / power.sum(dim=(1, 2))).mean().item()


coarse = {name: coarse_share(w) for name, w in (("untrained", untrained),
          ("dense AE", dense.encoder[0].weight), ("tied AE", tied.encoder[0].weight))}
print("share of a filter's energy in slow waves (<= 3 cycles across the image): "
      + ", ".join(f"{name} {share:.0%}" for name, share in coarse.items()))


# %%
def start_kept(trained, initial):
    """For each row: the slope of the trained row on its initial row (1 = the start is all still
    there, 0 = erased) and Pearson's r of the two: (128, 784) x2 -> ((128,), (128,))"""
    a, b = (w.detach() - w.detach().mean(dim=1, keepdim=True) for w in (trained, initial))
    return (a * b).sum(dim=1) / (b * b).sum(dim=1), (a * b).sum(dim=1) / (a.norm(dim=1) * b.norm(dim=1))


kept = {}  # model -> (median slope, median r) over the 128 rows
for name, model, start in (("dense", dense, untrained), ("tied", tied, tied_untrained)):
    slope, r = start_kept(model.encoder[0].weight, start)
    kept[name] = slope.median().item(), r.median().item()
print("each trained row of W1 against the same row before training (medians over 128 rows): "
      + "; ".join(f"{name} slope {b:.2f}, r {r:.2f}" for name, (b, r) in kept.items()))
print(f"In this run: a typical trained row keeps {kept['dense'][0]:.0%} (dense) and "
      f"{kept['tied'][0]:.0%} (tied) of its random start, which makes up {kept['dense'][1] ** 2:.0%} "
      f"and {kept['tied'][1] ** 2:.0%} of the row's variation.")


def grain(weight):
    """The fine grain of each row: the row minus a 3x3 blur of it, (128, 784) -> (128, 784)."""
    img = weight.detach().reshape(-1, 1, 28, 28)
    blur = torch.nn.functional.avg_pool2d(img, 3, stride=1, padding=1, count_include_pad=False)
    return (img - blur).reshape(len(weight), -1)


grain_from_start = {}  # model -> median share of the grain's energy that the start's grain explains
for name, model, start in (("dense", dense, untrained), ("tied", tied, tied_untrained)):
    g, g0 = grain(model.encoder[0].weight), grain(start)
    explained = (g * g0).sum(dim=1) ** 2 / ((g * g).sum(dim=1) * (g0 * g0).sum(dim=1))  # (128,)
    grain_from_start[name] = explained.median().item()
print(f"In this run: the initial rows' grain explains {grain_from_start['dense']:.0%} (dense) and "
      f"{grain_from_start['tied']:.0%} (tied) of the trained rows' grain energy (median over rows).")

# %% [markdown]
# The slope and the share of the row's variation (the printed "makes up ... of the row's
# variation") answer two different questions. The slope says how much of the start's amplitude is
# still in the row. The share says how large that start is next to what training added to it. A
# start that is all still there but small next to the change leaves a row made mostly by training.

# %% [markdown]
# ## O. Common mistakes
#
# *Optional; the mistakes this lesson guards against, each with the section that measures it.*

# %% [markdown]
# > **Common mistakes**
# > - *Printing the epoch summary after the epoch loop.* One indentation level too far left and
# >   the summary runs once, after training: one line, one history row, no learning curve.
# >   Check that the history has as many rows as epochs.
# > - *Comparing reconstruction errors in different units.* Per image (summed) and per pixel
# >   (mean) differ by a factor 784; PCA, the dense and the tied AE above are all compared per
# >   pixel on the same test images.
# > - *Feeding raw pixels to a ReLU network without counting its dead units.* The loss falls
# >   either way; only a count (`dead_units`) shows the units that never fire. Centre the inputs
# >   and start the output bias at the mean image: the table of section R shows what the
# >   output-bias start alone gets and what adding the input centring to it adds (one order of
# >   adding them at the full budget; section A also trains the input centring alone, for the
# >   first steps only).
# > - *Putting a ReLU on the code.* Negative code values become 0 and units that are negative
# >   for every image die (section D counts them in this run); keep the code linear.
# > - *Believing the transpose is always the best decoder.* For an orthonormal linear encoder it
# >   is the least-squares decoder exactly when the rows of $W$ span a subspace that $\Sigma$
# >   maps into itself, i.e. one spanned by eigenvectors (PCA's top ones among them); for a random
# >   orthonormal encoder $\Sigma W^\top (W \Sigma W^\top)^{-1}$ is better (section P measures it).
# > - *Tying weights by copying them.* `nn.Parameter(encoder.weight.T.clone())` creates a second
# >   tensor that drifts apart after the first step (section Q shows it). Tied means ONE
# >   `nn.Parameter`, read by the encoder and by the decoder; its gradient is the sum of both uses.
# > - *Taking "tying regularises" or "a narrow code prevents overfitting" on trust.* Measure the
# >   gap between training and validation error first; where there is no overfitting, neither
# >   has anything to cure.
# > - *Reading distances in a 2-D picture of the latent space as distances in the code.* PCA and
# >   t-SNE plots are shadows of the 32 numbers; measure distances on the codes themselves.
# > - *Setting the threshold on the test set you report on.* Choose it on validation data.
# > - *Quoting precision without prevalence.* The same detector has high precision when half the
# >   images are anomalies and low precision when 1% are.
# > - *Testing only easy anomalies.* A different kind of image is the easy case; test a class of
# >   the same kind that the model never saw (section L holds out one digit).
# > - *Skipping the baselines.* A reconstruction error can follow brightness, and two sets
# >   that differ in brightness then look easy; report the mean-intensity and PCA scores next to
# >   it, and test the detector on brightness-matched sets.

# %% [markdown]
# ## P. Is the transpose the best decoder?
#
# *Optional; it adds the derivation behind section 2's 2-D picture and a measurement of when the
# transpose is the least-squares decoder of a linear encoder.*
#
# Take a linear encoder $z = W(x - \bar x)$ with $W$ of shape
# $32 \times 784$ and orthonormal rows ($W W^\top = I$). For that fixed $W$, is the decoder $D$
# that minimises the squared error $W^\top$? In general it is **not**, as section 2's 2-D
# picture shows.

# %% [markdown]
# In 784 dimensions, with 32 code numbers, the least-squares decoder is the linear regression of
# the centred image $x - \bar x$ on its code $z = W(x - \bar x)$, with coefficients
# $\mathrm{Cov}(x, z)\,\mathrm{Cov}(z)^{-1}$, $\mathrm{Cov}(x, z) = \Sigma W^\top$ and
# $\mathrm{Cov}(z) = W \Sigma W^\top$:
#
# $$ D^\star = \Sigma W^\top (W \Sigma W^\top)^{-1}, $$
#
# where $\Sigma$ is the covariance of the training images. $D^\star = W^\top$ exactly when the
# rows of $W$ span a subspace that $\Sigma$ maps into itself (an invariant subspace): since
# $\Sigma$ is symmetric, a subspace spanned by eigenvectors of $\Sigma$, any 32 of them, PCA's top
# 32 among them. The true fact behind tying: **if the decoder is forced to be $W^\top$, the best
# linear autoencoder is PCA** (the error is the variance outside the span of $W$). The cell below
# checks all three on the data: a random orthonormal encoder decoded with $W^\top$ and with
# $D^\star$, and PCA.

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
# autoencoder tying is simply a constraint, a form of weight sharing.

# %% [markdown]
# ## Q. The copy mistake, and the gradient of a shared weight
#
# *Optional; it adds the check that a tied weight's gradient is the sum of its two uses.*
#
# The mistake to avoid is **copying** the weight, e.g. `nn.Parameter(encoder.weight.T.clone())`.
# A copy is a second tensor: it starts with the same numbers, but the optimizer updates the two
# separately, and after the first step they differ. The class below makes that mistake on
# purpose: it starts from `tied_hand`'s numbers but gives the decoder its own copies.

# %%
class CopiedDecoder(TiedByHand):
    """The MISTAKE: the decoder gets copies of W1 and W2 (equal at the start, separate tensors)."""

    def __init__(self, tied: TiedByHand):
        super().__init__()
        self.load_state_dict(tied.state_dict())  # the same starting numbers as ``tied``
        self.V2 = nn.Parameter(self.enc2.weight.detach().clone())  # a second tensor
        self.V1 = nn.Parameter(self.enc1.weight.detach().clone())

    def decoder_weights(self):
        return self.V2, self.V1


copied = CopiedDecoder(tied_hand)
print(f"{count_parameters(copied):,} parameters in the copied version "
      f"({len(list(copied.parameters()))} tensors instead of {len(list(tied_hand.parameters()))})")

# %% [markdown]
# At the start both models compute exactly the same function, so they have the same loss on the
# same batch. Their gradients show what sharing means. In the copied model the encoder's `W1`
# receives the gradient of its use in the encoder only, and the copy `V1` the gradient of its use
# in the decoder only. In the tied model, autograd adds the gradients of both uses of the one
# tensor, so its gradient should be the sum of those two. One loss, one batch:

# %%
from course_utils.losses import sse_per_image

xb = x_test[:64]
loss_tied = sse_per_image(tied_hand(xb), xb).mean()  # squared error per image, batch mean
loss_copied = sse_per_image(copied(xb), xb).mean()
loss_tied.backward()
loss_copied.backward()
g_both = tied_hand.enc1.weight.grad  # (128, 784): the shared W1 collects both uses
g_enc, g_dec = copied.enc1.weight.grad, copied.V1.grad  # one use each
print(f"same loss: {loss_tied.item():.4f} and {loss_copied.item():.4f}")
print(f"gradient norms on W1: encoder use {g_enc.norm():.3g}, decoder use {g_dec.norm():.3g}, "
      f"tied {g_both.norm():.3g}")
gap = ((g_both - (g_enc + g_dec)).abs().max() / g_both.abs().max()).item()
print(f"tied gradient = encoder use + decoder use (largest difference {gap:.1e} of the largest "
      f"entry): {gap < 1e-5}")

# %% [markdown]
# The verdict compares the tied gradient with the sum of the two separate gradients entry by
# entry; a difference at the level of float32 rounding means they are the same matrix. Now one
# optimizer step on each model:

# %%
for model in (tied_hand, copied):
    torch.optim.Adam(model.parameters(), lr=1e-3).step()
drift = (copied.enc1.weight - copied.V1).abs().max().item()
print(f"after one step, encoder W1 vs its decoder copy: largest difference {drift:.1e}; "
      f"still equal: {drift == 0}")
print(f"tied model: the decoder reads the encoder's tensor itself: "
      f"{tied_hand.decoder_weights()[1] is tied_hand.enc1.weight}")

# %% [markdown]
# After a single step the copy has drifted away; the real tied model cannot drift, because there
# is nothing to drift: one tensor, read twice. A `.clone()` made **inside** `forward`, at every
# call, is different again: it is an operation in the graph, not a new parameter, so its gradient
# flows back into the one tensor. The cell checks it on a fresh tied model.

# %%
class CloneInForward(TiedByHand):
    """Tied, with the decoder reading a clone of W1 and W2 made at every forward call."""

    def decoder_weights(self):
        return self.enc2.weight.clone(), self.enc1.weight.clone()  # graph operations, no new tensor


torch.manual_seed(0)
fresh_tied = TiedByHand()
clone_tied = CloneInForward()
clone_tied.load_state_dict(fresh_tied.state_dict())  # the same numbers
for model in (fresh_tied, clone_tied):
    sse_per_image(model(xb), xb).mean().backward()
same_grad = torch.allclose(clone_tied.enc1.weight.grad, fresh_tied.enc1.weight.grad)
print(f"clone inside forward: {len(list(clone_tied.parameters()))} tensors; its W1 gradient equals "
      f"the tied model's (the sum of both uses): {same_grad}")

# %% [markdown]
# ## R. Details behind sections 1, 3, 4 and 5
#
# *Optional; it holds four checks moved off the main path.*
#
# **The output-bias start alone (section 1).** Centring made two changes at once, which cannot
# say which one helped. This model keeps only the second: its output bias starts at
# $\mathrm{logit}(\bar x)$, but the encoder sees raw pixels. Seed, steps and learning rate stay
# the same. It splits centring's gain into what the bias start alone does and what adding the
# input centring to it adds, for dead units and for error (section A runs the input change alone).

# %%
torch.manual_seed(0)  # the third model: the output-bias start only, raw pixels in
bias_only = DenseAutoencoder(784, hidden=(128,), n_latent=32, input_mean=mean_image)
bias_only.input_mean.zero_()  # encode now subtracts 0: raw pixels, as in the first model
fit(bias_only.to(course.device), x_train.to(course.device), epochs=epochs, lr=5e-3,
    callbacks=[CosineDecay()], batch_size=batch_size, verbose=False)
bias_only = bias_only.cpu()
bias_only_dead = dead_count(bias_only)
bias_only_mse = mse_per_pixel(predict(bias_only, x_test), x_test).item()
print(f"{'model':<22}{'dead (encoder)':>16}{'dead (decoder)':>16}{'test MSE per pixel':>20}")
for name, dead, mse in (("raw pixels", raw_dead, raw_mse),
                        ("output-bias start only", bias_only_dead, bias_only_mse),
                        ("centred (both changes)", centred_dead, dense_mse)):
    print(f"{name:<22}{dead[0]:>12} of 128{dead[1]:>12} of 128{mse:>20.5f}")
bias_share = (raw_mse - bias_only_mse) / (raw_mse - dense_mse) if raw_mse != dense_mse else 0.0
print(f"In this run: the output-bias start alone got {bias_share:.0%} of centring's change in "
      f"test error; it left {bias_only_dead[0]} of the raw model's {raw_dead[0]} dead encoder units "
      f"dead ({bias_only_dead[0] - raw_dead[0]:+d}; one seed each, no margin), and adding "
      f"the input centring left {centred_dead[0]}.")

# %% [markdown]
# **Nearest neighbours per class (section 3).** The rate of section 3's test, class by class, best
# first, with two standard errors: each class has only about a tenth of the test images.

# %%
class_rates, class_counts = {}, {}
for c in query_y.unique().tolist():
    in_class = query_y == c  # (n_query,) True for this class
    class_rates[data.classes[c]] = hits[in_class].mean().item()
    class_counts[data.classes[c]] = int(in_class.sum())
for name, rate in sorted(class_rates.items(), key=lambda kv: -kv[1]):
    rate_2se = 2 * (rate * (1 - rate) / class_counts[name]) ** 0.5  # two standard errors of the rate
    print(f"  {name:<12} {rate:>4.0%} ± {rate_2se:.0%}  ({class_counts[name]} test images)")

# %% [markdown]
# **The bottleneck sweep on 1,000 images (section 4).** Section 4's sweep again, on section 2's
# 1,000 training images with the same small-data recipe. The $k = 32$ row is that run's dense AE.
# The `weights` column shows that every $k$ has about the same number of weights. A small gap is
# no merit in itself: new images meet the validation error, so it decides.

# %%
small_sweep = {32: small["dense AE"]}  # k -> (train error, valid error, gap), as in section 2
for k in (2, 8, 64):
    torch.manual_seed(0)
    model = DenseAutoencoder(784, hidden=(128,), n_latent=k, input_mean=x_small.mean(dim=0))
    fit(model.to(course.device), x_small.to(course.device), epochs=small_epochs, lr=5e-3,
        callbacks=[CosineDecay()], batch_size=batch_size, verbose=False)
    model = model.cpu()
    train_err = mse_per_pixel(predict(model, x_small), x_small).item()
    valid_err = mse_per_pixel(predict(model, x_valid), x_valid).item()
    small_sweep[k] = train_err, valid_err, valid_err / train_err - 1
print(f"{'k':>3}{'weights':>10}{'train':>10}{'valid':>10}{'gap':>9}   ({n_small:,} training images; "
      "MSE per pixel)")
for k in sorted(small_sweep):
    weights = count_parameters(DenseAutoencoder(784, hidden=(128,), n_latent=k))
    print(f"{k:>3}{weights:>10,}" + "".join(f"{v:>10.5f}" for v in small_sweep[k][:2])
          + f"{small_sweep[k][2]:>+9.1%}")
small_gaps = [small_sweep[k][2] for k in sorted(small_sweep)]
overfit_at = 0.05  # the lesson's cut (section 2): a gap over 5% is overfitting
if max(small_gaps) <= overfit_at:
    gap_words = f"every gap is within the {overfit_at:.0%} cut: no overfitting to compare"
else:
    gap_words = ("the gap grew" if all(a < b for a, b in pairwise(small_gaps)) else
                 "the gap did not grow") + " at every step up in k"
print(f"In this run, on {n_small:,} images {gap_words} (gap {small_gaps[0]:+.1%} at k = 2, "
      f"{small_gaps[-1]:+.1%} at k = 64; one seed per size, no margin).")
small_rule_k = elbow_k({k: small_sweep[k][1] for k in small_sweep})  # section 4's rule
small_k = max(small_sweep) if small_rule_k is None else small_rule_k
least_gap_k = min(small_sweep, key=lambda k: small_sweep[k][2])
print("In this run, section 4's rule on these validation errors "
      + ("picks" if small_rule_k is not None else "finds no elbow; the widest tried is")
      + f" k = {small_k} (gap "
      f"{small_sweep[small_k][2]:+.1%}); "
      + ("that is also the smallest gap." if least_gap_k == small_k else
         f"the smallest gap, at k = {least_gap_k}, comes with "
         f"{small_sweep[least_gap_k][1] / small_sweep[small_k][1]:.2f} times the validation error of "
         f"k = {small_k}."))

# %% [markdown]
# **FPR at 95% TPR (section 5).** Papers report it next to AUROC: the false-alarm rate paid to
# catch 95% of the anomalies. Like AUROC, it does not depend on prevalence.

# %%
from course_utils.anomaly import fpr_at_tpr

fpr95 = {name: fpr_at_tpr(*pair) for name, pair in scores.items()}  # all anomalies, all normals
print("FPR at 95% TPR (false alarms when 95% of the anomalies are caught): "
      + ", ".join(f"{name} {value:.1%}" for name, value in fpr95.items()))

# %% [markdown]
# ## S. Retrieval: the 5 nearest in code and in pixel space
#
# *Optional; it turns section 3's nearest-neighbour test into a search engine.*
#
# Give a query image, get the training images with the closest codes. The first cell counts how
# many of the 5 nearest share the query's class, in code and in pixel space, and sets the
# codes-minus-pixels difference beside section 3's two measures (1-NN and the linear probe). The
# second shows 4 queries, where possible ones on which the two spaces disagree.

# %%
n_retrieval = n_query  # queries; the references are the n_ref training images of the setup
neighbours = {  # (n_retrieval, 5) indices into x_train[:n_ref], nearest first
    "code": torch.cdist(codes[:n_retrieval], train_codes).topk(5, largest=False).indices,
    "pixel": torch.cdist(x_test[:n_retrieval].flatten(1), x_train[:n_ref].flatten(1))
    .topk(5, largest=False).indices,
}
per_query = {space: (ref_y[idx] == query_y[:n_retrieval, None]).float().mean(dim=1)  # (n,) each
             for space, idx in neighbours.items()}
same_class = {space: rates.mean().item() for space, rates in per_query.items()}
retrieval_gap, retrieval_se = compare_rates(per_query["code"], per_query["pixel"])
print(f"of the 5 nearest of {n_ref:,} training images, {same_class['code']:.1%} share the query's "
      f"class in code space and {same_class['pixel']:.1%} in pixel space ({n_retrieval:,} test "
      f"queries; difference {retrieval_gap:+.1%}, standard error {retrieval_se:.1%})")
class_checks = {"1-NN": (nn_difference, nn_se), "probe": (probe_difference, probe_se),
                "5-NN": (retrieval_gap, retrieval_se)}  # codes minus pixels, its standard error
measure_verdicts = {name: "tie" if abs(d) <= 2 * se else f"codes {'higher' if d > 0 else 'lower'}"
                    for name, (d, se) in class_checks.items()}  # the 2-SE yardstick
print("In this run, codes minus pixels, by two standard errors: "
      + "; ".join(f"{n} {class_checks[n][0]:+.1%}, {v}" for n, v in measure_verdicts.items())
      + f" ({n_ref:,} labelled references; section F tries 100).")

# %% [markdown]
# A verdict on class information holds for the measure that made it; its standard errors cover
# which test images were drawn, not the AE's training seed (section B).

# %%
# extra code – 4 queries and their 5 nearest in each space, titled "same"/"other" class
disagree = per_query["code"] != per_query["pixel"]  # (n,) the two spaces find different shares
queries = []  # one query from each of 4 easily confused classes, where the two spaces disagree
for c in (0, 2, 4, 6):  # Fashion-MNIST: T-shirt/top, pullover, coat, shirt
    in_class = (query_y[:n_retrieval] == c).nonzero()[:, 0]
    if len(in_class):
        picked = in_class[disagree[in_class]]
        queries.append(int(picked[0] if len(picked) else in_class[0]))


def neighbour_titles(query_label, neighbour_labels, space):
    """Tile titles for one query's 5 neighbours: "code: same", "other", "same", ..."""
    return [(f"{space}: " if j == 0 else "") + ("same" if label == query_label else "other")
            for j, label in enumerate(neighbour_labels.tolist())]


tiles, tile_titles = [], []
for q in queries:
    tiles += [x_test[q]] + [x_train[i] for space in ("code", "pixel") for i in neighbours[space][q]]
    tile_titles += [f"query:\n{data.classes[int(query_y[q])]}"] + [
        title for space in ("code", "pixel")
        for title in neighbour_titles(int(query_y[q]), ref_y[neighbours[space][q]], space)]
print(f"{int(disagree[queries].sum())} of the {len(queries)} queries shown are ones where the two "
      "spaces disagree, picked for that: the figure shows differences, not the typical query.")
images_figure(torch.stack(tiles), ncols=11, titles=tile_titles, size=1.05, titles_size=9,
              title="query | 5 nearest in code space (k = 32) | 5 nearest in pixel space")

# %% [markdown]
# ## T. A t-SNE map of the codes
#
# *Optional; it draws the latent space the way most papers and tutorials do, and scores the
# picture.*
#
# Section 3 projected the codes onto their first two principal components, which keep the directions
# of largest variance, not the neighbours. **t-SNE** (van der Maaten & Hinton 2008) draws a 2-D map
# that tries to keep each point's nearest neighbours near it. The cell maps the codes of the first
# test images twice with scikit-learn's `TSNE`, changing one setting only, the **perplexity**
# (roughly how many neighbours each point keeps close): 30, then 5; both start from a PCA of the
# mapped codes (`init="pca"`) with seed 0. It scores each view with a variant of section 3's test:
# does an image's nearest **other** test image in that view have the same class? (A map holds only
# the points it was given, so there are no training codes to search.) It also measures how far the
# distances between the class centres agree between the two maps and with the codes themselves.

# %%
import numpy as np
from sklearn.manifold import TSNE


def nearest_other_hits(points: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """(n, d) points, (n,) labels -> (n,) 1.0 where the nearest OTHER point has the same label."""
    distances = torch.cdist(points, points).fill_diagonal_(float("inf"))  # (n, n)
    return (labels[distances.argmin(dim=1)] == labels).float()


def class_centre_distances(points: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """(n, d) points, (n,) labels -> the distances between every two class centres, (C(C-1)/2,)."""
    centres = torch.stack([points[labels == c].mean(dim=0) for c in labels.unique()])  # (C, d)
    pairs = torch.triu_indices(len(centres), len(centres), offset=1)  # (2, C(C-1)/2)
    return torch.cdist(centres, centres)[pairs[0], pairs[1]]


n_map = min(course.pick(full=1000, fast=200), len(x_test))  # t-SNE time grows with the points
map_y = data.test.y[:n_map]
projection = PCA(2).fit(codes).encode(codes[:n_map])  # (n_map, 2): section 3's view
tsne_maps = {}  # perplexity -> (n_map, 2) map of the codes
for perplexity in (30, 5):
    tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=0)
    tsne_maps[perplexity] = torch.as_tensor(tsne.fit_transform(codes[:n_map].numpy()))
view_hits = {"32-number codes": nearest_other_hits(codes[:n_map], map_y),
             "PCA projection": nearest_other_hits(projection, map_y)}
view_hits |= {f"t-SNE, perplexity {p}": nearest_other_hits(m, map_y) for p, m in tsne_maps.items()}
print(f"nearest other image of the same class, among {n_map:,} test images: "
      + ", ".join(f"{view} {h.mean():.1%}" for view, h in view_hits.items()))
vs_projection = compare_rates(view_hits["t-SNE, perplexity 30"], view_hits["PCA projection"])
vs_codes = compare_rates(view_hits["t-SNE, perplexity 30"], view_hits["32-number codes"])
centres = {name: class_centre_distances(points, map_y) for name, points in
           (("codes", codes[:n_map]), ("perplexity 30", tsne_maps[30]),
            ("perplexity 5", tsne_maps[5]))}
r = {pair: np.corrcoef(centres[pair[0]], centres[pair[1]])[0, 1] for pair in
     (("perplexity 30", "perplexity 5"), ("codes", "perplexity 30"), ("codes", "perplexity 5"))}
print("distances between the class centres, correlation: "
      + ", ".join(f"{a} and {b} {value:.2f}" for (a, b), value in r.items()))
print(f"In this run: the perplexity-30 map's rate is {vs_projection.word} the projection's and "
      f"{vs_codes.word} the codes' own (two standard errors).")

fig = NotebookFigure(figsize=(11, 4.8), layout="constrained")
for ax, (perplexity, points) in zip(fig.subplots(1, 2), tsne_maps.items(), strict=True):
    for c, name in enumerate(data.classes):
        ax.scatter(*points[map_y == c].T, s=4, alpha=0.6, color=f"C{c}", label=name)
    ax.set(title=f"perplexity {perplexity}, seed 0", xlabel="t-SNE 1 (no unit)",
           ylabel="t-SNE 2 (no unit)")
fig.legend(*ax.get_legend_handles_labels(), loc="outside right center", markerscale=3, fontsize=8)
fig.suptitle(f"two t-SNE maps of the same 32-d codes ({n_map:,} {data.name} test images)")
fig

# %% [markdown]
# Read a t-SNE map for its neighbourhoods: the rates above measure how well it keeps them. The sizes
# of the clusters and the distances between them are not what t-SNE sets out to keep; a map started
# from a PCA of the codes (`init="pca"`) inherits part of that layout, and the correlations say how
# much of the class centres' layout survives a change of perplexity here (try `random_state=1` to
# see what the seed changes). scikit-learn's `TSNE` also has no encoder: a new image needs a new map
# (parametric variants learn one). So measure on the codes; the map only shows them.

# %% [markdown]
# Back to [lesson 02](02_stacked_autoencoders.ipynb) ·
# Next: [03 · Convolutional autoencoders](03_convolutional_autoencoders.ipynb).
