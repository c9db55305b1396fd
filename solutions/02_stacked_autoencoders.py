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
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Exercise 02 · Stacked autoencoders
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ae-course/autoencoders-pca-to-vae/blob/main/solutions/02_stacked_autoencoders.ipynb)
#
# This exercise goes with [lesson 02](../notebooks/02_stacked_autoencoders.ipynb). You write the
# decoder of a tied-weights autoencoder, compute the area under the ROC curve by hand, and use
# both to flag digits that are not like the training digits.
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
# With your decoder, a one-layer tied autoencoder is a few lines. The cell below builds one
# (784 -> 32 -> 784), trains it briefly on digits and keeps it for task 2.

# %%
class TinyTiedAutoencoder(nn.Module):
    """784 -> n_code -> 784; the decoder reuses the encoder's weight, transposed."""

    def __init__(self, n_inputs: int = 784, n_code: int = 32) -> None:
        super().__init__()
        self.encoder = nn.Linear(n_inputs, n_code)
        self.decoder_bias = nn.Parameter(torch.zeros(n_inputs))

    def forward(self, x: Tensor) -> Tensor:
        h = self.encoder(x.flatten(1))  # (B, 784) -> (B, n_code); no ReLU on the code (lesson 02)
        logits = tied_decode(h, self.encoder.weight, self.decoder_bias)  # (B, 784)
        return torch.sigmoid(logits).view_as(x)


# %%
# Train it (extra code): the course's training loop, squared error per image.
from course_utils.train import fit

torch.manual_seed(0)
tied = TinyTiedAutoencoder()
history = fit(tied, data.train.x, epochs=course.pick(5, 1), lr=3e-3, verbose=False)
print(f"parameters: {sum(p.numel() for p in tied.parameters()):,}")
print(f"training loss after {len(history.rows)} epoch(s): {history.rows[-1]['train_loss']:.2f}")


# %% [markdown]
# ## Task 2 · AUROC by hand (2 points)
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
# on. The cell scores test digits and the same digits rotated by 180 degrees, with the squared reconstruction
# error per pixel, and prints your AUROC. Ask yourself which digits look almost the same upside
# down (0, 1, 8) and which turn into another digit (a 6 upside down looks like a 9, and a 9
# like a 6): both kinds still look like digits the model knows, and they pull the AUROC down.

# %%
# See it work (extra code): reconstruction error as an anomaly score.
with torch.no_grad():
    x_test = data.test.x[:500]  # (500, 1, 28, 28)
    flipped = torch.flip(x_test, dims=[2, 3])  # rotate by 180 degrees
    score = lambda x: ((tied(x) - x) ** 2).flatten(1).mean(dim=1)  # noqa: E731 - one per image
    normal_scores, anomalous_scores = score(x_test), score(flipped)
print(f"mean error: normal {normal_scores.mean():.4f}, upside down {anomalous_scores.mean():.4f}")
print(f"AUROC: {auroc(normal_scores, anomalous_scores):.3f}")

# %% [markdown]
# ## Task 3 · Predict, then run (1 point)
#
# Lesson 02 counted the tied 784-128-32 model. Now a deeper one:
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
from course_utils.models import DenseAutoencoder, TiedAutoencoder, count_parameters

print("tied:  ", count_parameters(TiedAutoencoder(784, hidden=(256, 64), n_latent=16)))
print("untied:", count_parameters(DenseAutoencoder(784, hidden=(256, 64), n_latent=16)))

# %% [markdown]
# ## Done
#
# Tying halves the weight matrices of a symmetric autoencoder, and the AUROC summarises how well
# a score separates two groups over every threshold at once. Back to
# [lesson 02](../notebooks/02_stacked_autoencoders.ipynb), or on to
# [exercise 03](03_convolutional_autoencoders.ipynb).
