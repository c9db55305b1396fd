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
# # Exercise 02 · Stacked autoencoders
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ae-course/autoencoders-pca-to-vae/blob/main/solutions/02_stacked_autoencoders.ipynb)
#
# This exercise goes with [lesson 02](../notebooks/02_stacked_autoencoders.ipynb). You write the
# decoder of a tied-weights autoencoder, then the lesson's centred 784-128-32-128-784
# autoencoder and a count of its dead units, with and without centring. Then you use its
# reconstruction error to flag digits that are not like the training digits: the area under the
# ROC curve by hand, and a threshold set on validation data.
#
# **How the exercises work.**
# - Each task cell says `# YOUR CODE HERE` and `raise NotImplementedError()`. Replace those two
#   lines with your code; keep the `def` line, the function's name and its arguments.
# - Run the check cell right below the task. It prints one line: ✅ right, ❌ wrong (and what is
#   wrong), or ⏳ not attempted yet. It tests your code on random inputs you have not seen, so a
#   hard-coded answer fails, and it notices when you call the course's own version instead of
#   writing it.
# - "Predict, then run" questions: write your prediction BEFORE you run the cell that shows the
#   answer.
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
import torch.nn.functional as F  # noqa: F401 - you will need it in your answers
from torch import Tensor, nn

from course_utils import setup_course
from course_utils.data import load_dataset

course = setup_course(seed=0)
data = load_dataset("mnist")


# %% [markdown]
# ## Task 1 · A tied-weights decoder (2 points)
#
# An encoder layer `nn.Linear(n_in, n_out)` stores its weight $W$ with shape `(n_out, n_in)` and
# computes $h = W x + b$. A **tied** decoder goes back from `n_out` to `n_in` with the same
# matrix, transposed, and its own bias $c$:
# $$ \hat x = W^\top h + c . $$
# There is still only ONE weight tensor: when you train, its gradient collects both uses.
#
# Write `tied_decode(h, weight, bias)` for a batch `h` of shape `(B, n_out)`, returning
# `(B, n_in)`. Use `F.linear(input, weight, bias)`, which computes `input @ weight.T + bias`:
# which matrix must you give it? Return the linear output (no activation). Do not copy the
# weight (`.detach()`, `.data`, `torch.tensor(...)`): the gradient must reach it.

# %% nbgrader={"grade": false, "grade_id": "tied_decoder", "locked": false, "schema_version": 3, "solution": true}
# Task tied_decoder
def tied_decode(h: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    """h: (B, n_out), weight: (n_out, n_in) of the encoder, bias: (n_in,) -> (B, n_in)."""
    # BEGIN SOLUTION
    return F.linear(h, weight.T, bias)  # (B, n_out) @ (n_out, n_in) + (n_in,)
    # END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_tied_decoder", "locked": true, "points": 2, "schema_version": 3, "solution": false}
from course_utils.exercise_checks import check_tied_decode

check_tied_decode(tied_decode)


# %% [markdown]
# With your decoder, the lesson's tied model (`TiedByHand`, 784 -> 128 -> 32 -> 128 -> 784) is a
# few lines: the decoder calls `tied_decode` twice, with the encoder's two weights in reverse
# order. The cell builds it, loads its numbers into the course's `TiedAutoencoder` and compares
# the two output for output.

# %%
class TiedStack(nn.Module):
    """784 -> 128 -> 32 -> 128 -> 784; the decoder reuses W1 and W2 through your tied_decode."""

    def __init__(self) -> None:
        super().__init__()
        self.enc1, self.enc2 = nn.Linear(784, 128), nn.Linear(128, 32)  # W1 (128, 784), W2 (32, 128)
        self.c2 = nn.Parameter(torch.zeros(128))  # the decoder's own biases:
        self.c1 = nn.Parameter(torch.zeros(784))  # its only new parameters

    def forward(self, x: Tensor) -> Tensor:  # (B, 1, 28, 28) -> (B, 1, 28, 28)
        z = self.enc2(torch.relu(self.enc1(x.flatten(1))))  # (B, 32), linear code
        h = torch.relu(tied_decode(z, self.enc2.weight, self.c2))  # (B, 128)
        return torch.sigmoid(tied_decode(h, self.enc1.weight, self.c1)).view_as(x)


# %%
# Compare (extra code): the same numbers in the course's TiedAutoencoder, the same outputs?
from course_utils.models import DenseAutoencoder, TiedAutoencoder, count_parameters, dead_units

torch.manual_seed(0)
mine, package = TiedStack(), TiedAutoencoder(784, hidden=(128,), n_latent=32)
with torch.no_grad():
    for a, b in ((mine.enc1.weight, package.encoder[0].weight), (mine.enc1.bias, package.encoder[0].bias),
                 (mine.enc2.weight, package.encoder[2].weight), (mine.enc2.bias, package.encoder[2].bias),
                 (mine.c2, package.decoder_biases[0]), (mine.c1, package.decoder_biases[1])):
        b.copy_(a)
    outputs = mine(data.test.x[:8]), package(data.test.x[:8])  # (8, 1, 28, 28) each
print(f"parameters: {count_parameters(mine):,} (the package's: {count_parameters(package):,})")
print(f"your tied decoder inside the full model gives the package's outputs: {torch.allclose(*outputs)}")

# %% [markdown]
# ## Task 2 · Predict, then run (1 point)
#
# The model above has 105,520 parameters. Now a deeper one:
# `TiedAutoencoder(784, hidden=(256, 64), n_latent=16)` has the shape
# 784 -> 256 -> 64 -> 16 -> 64 -> 256 -> 784, with ReLU between layers and a linear code. Its
# encoder owns three weight matrices and three biases; its decoder reuses the three matrices,
# transposed, and has its own three biases. How many trainable numbers does it have? Write your
# prediction into `predicted_n_params`, run the check, then run the cell that counts.

# %% nbgrader={"grade": false, "grade_id": "predict_tied_params", "locked": false, "schema_version": 3, "solution": true}
# Task predict_tied_params
predicted_n_params = None  # your prediction: a whole number
# BEGIN SOLUTION
encoder = 784 * 256 + 256 + 256 * 64 + 64 + 64 * 16 + 16  # three weight matrices, three biases
predicted_n_params = encoder + 64 + 256 + 784  # plus the decoder's own biases
# END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "check_predict_tied_params", "locked": true, "points": 1, "schema_version": 3, "solution": false}
from course_utils.exercise_checks import check_prediction_tied_params

check_prediction_tied_params(predicted_n_params)

# %%
# The answer: count them (a tensor used twice counts once).
print("tied:  ", count_parameters(TiedAutoencoder(784, hidden=(256, 64), n_latent=16)))
print("untied:", count_parameters(DenseAutoencoder(784, hidden=(256, 64), n_latent=16)))

# %% [markdown]
# ## Task 3 · A centred stacked autoencoder (3 points)
#
# Write the lesson's centred model, 784 -> 128 -> 32 -> 128 -> 784, as a class
# `CentredStackedAE(input_mean)`, where `input_mean` is the average training image (any shape
# with 784 numbers, e.g. `(1, 28, 28)`):
# - `self.encoder = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 32))` and
#   `self.decoder = nn.Sequential(nn.Linear(32, 128), nn.ReLU(), nn.Linear(128, 784))`: ReLU
#   between layers, no activation on the code;
# - the mean image, flattened to `(784,)`, stored with `self.register_buffer("input_mean", ...)`:
#   a buffer moves with `.to(device)` and is saved with the weights, but it is not trained;
# - `encode(x)` for `x` of shape `(B, 1, 28, 28)` or `(B, 784)` feeds the encoder the
#   **centred** images $x - \bar x$ and returns the `(B, 32)` codes;
# - `decode(z)` returns $\sigma(\text{decoder}(z))$, shape `(B, 784)`;
# - the decoder's last bias starts at $\mathrm{logit}(\bar x)$, so that before training a last
#   layer that adds nothing to its bias outputs the mean image. Some pixels are 0 in every image
#   and $\mathrm{logit}(0) = -\infty$: use `torch.logit(mean, eps=1e-3)`, which clamps to
#   $[10^{-3}, 1 - 10^{-3}]$ first. Change a parameter's numbers inside `with torch.no_grad():`.
#
# `forward` is written for you. Do not use the course's `DenseAutoencoder`: write the layers.

# %% nbgrader={"grade": false, "grade_id": "centred_ae", "locked": false, "schema_version": 3, "solution": true}
# Task centred_ae
class CentredStackedAE(nn.Module):
    """784 -> 128 -> 32 -> 128 -> 784; the encoder sees x - mean, the output starts at the mean."""

    def __init__(self, input_mean: Tensor) -> None:
        super().__init__()
        # BEGIN SOLUTION
        self.encoder = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 32))
        self.decoder = nn.Sequential(nn.Linear(32, 128), nn.ReLU(), nn.Linear(128, 784))
        self.register_buffer("input_mean", input_mean.flatten().clone())  # (784,), not trained
        with torch.no_grad():
            self.decoder[2].bias.copy_(torch.logit(self.input_mean, eps=1e-3))  # sigmoid -> mean
        # END SOLUTION

    def encode(self, x: Tensor) -> Tensor:
        """(B, 1, 28, 28) or (B, 784) -> (B, 32): the encoder sees x - mean."""
        # BEGIN SOLUTION
        return self.encoder(x.flatten(1) - self.input_mean)  # (B, 784) - (784,)
        # END SOLUTION

    def decode(self, z: Tensor) -> Tensor:
        """(B, 32) -> (B, 784), pixels in [0, 1]."""
        # BEGIN SOLUTION
        return torch.sigmoid(self.decoder(z))
        # END SOLUTION

    def forward(self, x: Tensor) -> Tensor:
        return self.decode(self.encode(x)).view_as(x)  # shaped like the input


# %% nbgrader={"grade": true, "grade_id": "check_centred_ae", "locked": true, "points": 3, "schema_version": 3, "solution": false}
from course_utils.exercise_checks import check_centred_ae

check_centred_ae(CentredStackedAE)

# %% [markdown]
# The cell below trains two copies of your model with `fit`, from the same initial weights: one
# centred, and one whose `input_mean` buffer is set to zeros, so that its encoder sees raw pixels
# (its output bias still starts at the mean image, so **input centring** is the only difference:
# the lesson's "centring" also moves the bias start). Both get
# the same batches and the lesson's learning rate: 0.005 at the start, decayed along a half
# cosine to 0.

# %%
# Train both (extra code): the course's training loop, squared error per image.
from course_utils.schedules import CosineDecay
from course_utils.train import fit

mean_image = data.train.x.mean(dim=0)  # (1, 28, 28): the average training image
epochs = 2  # 844 steps of 128 images on the full 54,000 training images (fewer on a smaller split)
torch.manual_seed(0)
centred = CentredStackedAE(mean_image)
torch.manual_seed(0)  # the same initial weights
raw = CentredStackedAE(mean_image)
raw.input_mean.zero_()  # encode now subtracts 0: raw pixels in
for model in (centred, raw):
    fit(model, data.train.x, epochs=epochs, lr=5e-3, callbacks=[CosineDecay()], verbose=False)
with torch.no_grad():
    test_error = {name: ((m(data.test.x) - data.test.x) ** 2).mean().item()
                  for name, m in (("centred", centred), ("raw", raw))}
print(f"{epochs} epochs of {len(data.train.x):,} images; test MSE per pixel: "
      f"centred {test_error['centred']:.4f}, raw pixels {test_error['raw']:.4f}")

# %% [markdown]
# ## Task 4 · Count the dead units (2 points)
#
# A first-layer unit $j$ outputs $\mathrm{relu}(w_j \cdot (x - \bar x) + b_j)$. It is **dead**
# on a batch of images when that output is 0 for **every** image of the batch. Write
# `count_dead_units(model, x)` for a model laid out like your `CentredStackedAE` (its first layer
# is `model.encoder[0]`, its buffer `model.input_mean`) and a batch `x` of shape `(N, 1, 28, 28)`
# or `(N, 784)`. Return the number of dead units of the encoder's first layer, as an `int`. Work
# out what that layer receives, apply the ReLU, then ask "zero on every image?" for each unit:
# which dimension of the `(N, 128)` tensor runs over the images? Do not call the course's
# `dead_units`.

# %% nbgrader={"grade": false, "grade_id": "dead_units_count", "locked": false, "schema_version": 3, "solution": true}
# Task dead_units_count
def count_dead_units(model: nn.Module, x: Tensor) -> int:
    """model: a CentredStackedAE (or the same layout), x: (N, 1, 28, 28) or (N, 784) -> int."""
    # BEGIN SOLUTION
    with torch.no_grad():
        h = torch.relu(model.encoder[0](x.flatten(1) - model.input_mean))  # (N, 128)
    return int((h == 0).all(dim=0).sum())  # zero on every image (dim 0 runs over images)
    # END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_dead_units_count", "locked": true, "points": 2, "schema_version": 3, "solution": false}
from course_utils.exercise_checks import check_count_dead_units

check_count_dead_units(count_dead_units)

# %%
# Count them (extra code): your count, the course's dead_units, with and without centring.
counts = {name: count_dead_units(m, data.test.x) for name, m in (("centred", centred), ("raw", raw))}
package = {name: int(dead_units(m, data.test.x)[0].sum()) for name, m in (("centred", centred), ("raw", raw))}
print(f"dead first-layer units on {len(data.test.x):,} test images: raw pixels {counts['raw']} of 128, "
      f"centred {counts['centred']} of 128")
print(f"your counts agree with the course's dead_units: {counts == package}")
print(f"In this run: {counts['raw']} dead units with raw pixels in, {counts['centred']} with centred ones; "
      f"input centring changed the test error by {test_error['centred'] / test_error['raw'] - 1:+.0%}.")

# %% [markdown]
# Why can the raw-pixel model lose units? Every pixel is at least 0, so when a unit's weights on
# the lit pixels all move down a little together, hundreds of small changes add up and
# $w_j \cdot x + b_j$ falls below 0 on every image at once; from then on no gradient reaches it.
# No single weight needs to turn negative (lab A of lesson 02 draws the change). With centred inputs,
# $w_j \cdot (x - \bar x)$ averages exactly 0 over the training images for any weights, so the
# weights alone cannot push a unit below 0 everywhere. A dead unit triggers no warning and the
# loss still falls: counting is the check.

# %% [markdown]
# ## Task 5 · AUROC by hand (2 points)
#
# An anomaly detector gives every image a score, here its reconstruction error. Take the scores
# of normal images $s^0_1, \dots, s^0_{N_0}$ and of anomalous ones $s^1_1, \dots, s^1_{N_1}$.
# The area under the ROC curve is the probability that a random anomalous image scores **higher**
# than a random normal one, counting ties as one half:
# $$ \mathrm{AUROC} = \frac{1}{N_0 N_1} \sum_{i=1}^{N_1} \sum_{j=1}^{N_0}
#    \Big( [s^1_i > s^0_j] + \tfrac12 [s^1_i = s^0_j] \Big). $$
# 1 is perfect separation, 0.5 a coin toss. Write it with tensor operations (broadcasting a
# `(N1, 1)` tensor against a `(1, N0)` one builds every pair at once). The two groups need not
# have the same size. Return a Python float; do not call `course_utils.anomaly` or scikit-learn.

# %% nbgrader={"grade": false, "grade_id": "auroc", "locked": false, "schema_version": 3, "solution": true}
# Task auroc
def auroc(normal: Tensor, anomalous: Tensor) -> float:
    """normal: (N0,) scores, anomalous: (N1,) scores -> P(anomalous > normal), ties count 1/2."""
    # BEGIN SOLUTION
    diff = anomalous[:, None] - normal[None, :]  # (N1, N0): every pair
    wins = (diff > 0).float() + 0.5 * (diff == 0).float()
    return wins.mean().item()
    # END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_auroc", "locked": true, "points": 2, "schema_version": 3, "solution": false}
from course_utils.exercise_checks import check_auroc

check_auroc(auroc)

# %% [markdown]
# ### See it work: upside-down digits as anomalies
#
# Digits turned upside down are still strokes of ink, but not the digits the model was trained
# on. The cell scores test digits and the same digits rotated by 180 degrees with your centred
# model, using the squared reconstruction error per pixel, and prints your AUROC. Ask yourself
# which digits look almost the same upside down (0, 1, 8) and which turn into another digit (a 6
# upside down looks like a 9, and a 9 like a 6): both kinds still look like digits the model
# knows, and they pull the AUROC down. Memory: your AUROC compares every pair, up to
# 10,000 x 10,000 with the full test set, so its temporaries take about 1.5-2 GB at the peak;
# on an 8 GB laptop, score fewer images (e.g. `data.test.x[:2000]`).

# %%
# See it work (extra code): reconstruction error as an anomaly score.
def score(model: nn.Module, x: Tensor) -> Tensor:
    """(N, 1, 28, 28) -> (N,): squared error per pixel, one number per image."""
    with torch.no_grad():
        return ((model(x) - x) ** 2).flatten(1).mean(dim=1)


flipped = torch.flip(data.test.x, dims=[2, 3])  # rotate by 180 degrees
normal_scores, anomalous_scores = score(centred, data.test.x), score(centred, flipped)
print(f"mean error: normal {normal_scores.mean():.4f}, upside down {anomalous_scores.mean():.4f}")
print(f"AUROC: {auroc(normal_scores, anomalous_scores):.3f}")

# %% [markdown]
# ## Task 6 · A threshold set on validation data (2 points)
#
# A deployed detector needs one threshold $t$: it flags an image when its error is $\ge t$. A
# common rule needs no anomalies at all: accept a false-alarm rate, say 5%, and put $t$ at the
# 95th percentile of the errors of **normal validation images**. Then measure on the **test**
# images, which played no part in choosing it: the false-alarm rate is the share of normal test
# images flagged.
#
# Write `threshold_at_false_alarm(valid_errors, test_errors, rate=0.05)`. Both arguments are the
# errors of normal images, shapes `(N_valid,)` and `(N_test,)`. Return the pair
# `(threshold, false_alarm_rate)` as two Python floats: the $(1 - \text{rate})$ quantile of the
# validation errors (`torch.quantile`), and the share of test errors $\ge$ it.

# %% nbgrader={"grade": false, "grade_id": "false_alarm_threshold", "locked": false, "schema_version": 3, "solution": true}
# Task false_alarm_threshold
def threshold_at_false_alarm(valid_errors: Tensor, test_errors: Tensor,
                             rate: float = 0.05) -> tuple[float, float]:
    """valid_errors (N_valid,), test_errors (N_test,) of normal images -> (threshold, test rate)."""
    # BEGIN SOLUTION
    threshold = torch.quantile(valid_errors, 1 - rate).item()  # chosen on VALIDATION errors
    return threshold, (test_errors >= threshold).float().mean().item()  # measured on TEST errors
    # END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "check_false_alarm_threshold", "locked": true, "points": 2, "schema_version": 3, "solution": false}
from course_utils.exercise_checks import check_threshold_at_false_alarm

check_threshold_at_false_alarm(threshold_at_false_alarm)

# %%
# See it work (extra code): the threshold from validation digits, measured on test digits.
valid_scores = score(centred, data.valid.x)  # (N_valid,) normal digits, never trained on
threshold, false_alarms = threshold_at_false_alarm(valid_scores, normal_scores)
caught = (anomalous_scores >= threshold).float().mean().item()  # recall on upside-down digits
print(f"threshold {threshold:.4f} (95th percentile of {len(valid_scores):,} validation errors)")
print(f"In this run: the threshold flagged {false_alarms:.1%} of the {len(normal_scores):,} normal "
      f"test digits (target 5%) and {caught:.0%} of the upside-down ones.")

# %% [markdown]
# The false-alarm rate on the test digits lands near the target when the validation and test
# digits come from the same distribution and the validation set is large enough: the threshold
# was never fitted to the test digits, so this is a real measurement. Recall is another matter:
# an upside-down 0, 1 or 8, or a 6 that became a 9, may score like a normal digit, and then a
# threshold set for 5% false alarms may not catch it.

# %% [markdown]
# ## Done
#
# Tying about halves a symmetric autoencoder's parameters (one weight matrix per pair of layers);
# centring the inputs stops the weights alone from pushing a first-layer unit below 0 on every
# image (compare your two counts);
# the AUROC summarises how well a score separates two groups over every threshold at once, and a
# threshold for deployment is chosen on validation data. Back to
# [lesson 02](../notebooks/02_stacked_autoencoders.ipynb), or on to
# [exercise 03](03_convolutional_autoencoders.ipynb).
