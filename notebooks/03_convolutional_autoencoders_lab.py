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
# # 03 lab · Convolutional autoencoders: BatchNorm, an LSTM, seeds, compute and grids
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/ae-course/autoencoders-pca-to-vae/blob/main/notebooks/03_convolutional_autoencoders_lab.ipynb)
#
# **English** · [Tiếng Việt](vi/03_convolutional_autoencoders_lab.ipynb)
#
# This lab is optional: the companion of [lesson 03](03_convolutional_autoencoders.ipynb). Each
# section takes a question the lesson leaves open and measures it. It needs nothing from the
# lesson: its setup section loads the data and retrains the models its sections use, with the
# same `course_utils` functions, seeds and settings as the lesson, so its numbers match the
# lesson's when the data and the machine match (another number of CPU threads, or a GPU, changes
# the last digits of the sums, and a close rate choice can then differ). After the setup, each
# section runs on its own.
#
# **Sections.**
# - A. BatchNorm: what it normalises over, `eval()`, whether it helps; the training curve against validation
# - B. An LSTM autoencoder reads rows (the syllabus's optional section)
# - C. Seeds, using the codes, and a noise floor for grids
# - D. The dense AE at the conv AE's time
# - E. Dead channels, and two ways to keep them alive
# - F. Centring, a global-average code, and training on shifted images
# - G. Upsample + convolution on a ramp
# - H. Common mistakes
# - I. The transposed convolution, two more views: zero insertion, and the products padding crops
# - J. The rate searches up close: the dense AE at the highest rate, dead channels per rate

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
# We use Fashion-MNIST when it is available; the next cell prints which data is really in use.

# %%
from course_utils.data import load_dataset

data = load_dataset("fashion_mnist", seed=course.seed)
x_train, x_valid, x_test = data.train.x, data.valid.x, data.test.x  # (N, 1, 28, 28) each

# %% [markdown]
# ## Setup: the lesson's models, rebuilt
#
# The first cell repeats the lesson's section 3 recipe: the same data sizes, batch size, steps,
# warm-up, cosine schedule, seed, and the three starting rates every search tries. It defines no
# model yet.

# %%
import copy
import math
import statistics

from torch import nn

from course_utils.anomaly import mse_per_pixel_per_image
from course_utils.conv import ConvAutoencoder
from course_utils.models import DenseAutoencoder
from course_utils.rate_search import Recipe, paired_z, search_rates, z_word

batch_size = 128
x_train = x_train[: course.pick(full=len(x_train), fast=1000)]  # fast mode: 1,000 images, to stay quick
x_valid = x_valid[: course.pick(full=len(x_valid), fast=250)]  # and 250 validation images
steps = course.pick(full=850, fast=16)  # 2 epochs of 54,000 images: one run of the transposed conv AE
epochs = max(1, round(steps / math.ceil(len(x_train) / batch_size)))  # the same steps on any data size
n_steps = epochs * math.ceil(len(x_train) / batch_size)  # the optimizer steps that really run
seed = 0  # the initial weights (torch.manual_seed) AND the batch order (fit's seed=)
mean_image = x_train.mean(dim=0)  # (1, 28, 28): the average training image


log_every = course.pick(full=100, fast=8)  # steps between two points of the learning curve
warmup = course.pick(full=100, fast=2)  # steps of linear warm-up, the same for every run
x_curve = x_valid[:500].to(course.device)  # the curve's fixed validation images
rates = (1.2e-2, 2.4e-2, 4.8e-2)  # every search's starting rates (a factor of 2 apart)
recipe = Recipe(x_train.to(course.device), x_valid.to(course.device), epochs=epochs, batch_size=batch_size,
                warmup_steps=warmup, seed=seed, x_curve=x_curve, log_every=log_every)
train = recipe.train  # train(build, lr, run_seed=, n_epochs=, warmup_steps=, objective=) -> (model, history, curve)


def search(name: str, build) -> tuple:
    """The lesson's rate search for one model: every run stays in ``searched[name]``; returns the
    kept run's (model, history, curve) and its rate."""
    searched[name], kept = search_rates(name, lambda lr: train(build, lr), rates, x_valid)
    return *searched[name][kept], kept


builds = {  # all centred on the mean training image, none with BatchNorm
    "dense AE": lambda: DenseAutoencoder(784, hidden=(128,), n_latent=32, input_mean=mean_image),
    "conv AE (transpose)": lambda: ConvAutoencoder(n_latent=32, decoder="transpose",
                                                   input_mean=mean_image),
    "conv AE (upsample)": lambda: ConvAutoencoder(n_latent=32, decoder="upsample",
                                                  input_mean=mean_image)}
models, histories, curves, chosen_lr, searched = {}, {}, {}, {}, {}
t_name, u_name = "conv AE (transpose)", "conv AE (upsample)"
print(f"each run: {epochs} epochs of {len(x_train):,} images = {n_steps:,} steps (target {steps:,}), "
      f"the first W = {warmup} of them warming up ({course.mode} mode)")

# %% [markdown]
# The next cell trains the lesson's section 3 models: the dense AE and the conv AE, each with its
# own three-rate search; the upsampling twin and a copy of the conv AE for half the steps at the
# rate kept for the conv AE. It then measures every model's test errors, image by image.

# %%
for name in ("dense AE", t_name):
    models[name], histories[name], curves[name], chosen_lr[name] = search(name, builds[name])
lr_conv = chosen_lr[t_name]
up_epochs = max(1, epochs // 2)  # the upsampling twin's epochs, as in the lesson
up_steps = up_epochs * math.ceil(len(x_train) / batch_size)
models[u_name], histories[u_name], curves[u_name] = train(builds[u_name], lr_conv, n_epochs=up_epochs)
chosen_lr[u_name] = lr_conv
t_half, t_half_history, _ = train(builds[t_name], lr_conv, n_epochs=up_epochs)  # like-for-like partner
per_image = {name: mse_per_pixel_per_image(m, x_test) for name, m in models.items()}  # name -> (N,)
results = {name: err.mean().item() for name, err in per_image.items()}
half_err = mse_per_pixel_per_image(t_half, x_test)  # (N,)
conv_model = models[t_name]
print("test MSE per pixel: " + ", ".join(f"{n} {e:.5f}" for n, e in results.items())
      + f"; conv AE (transpose), half {half_err.mean():.5f}")

# %% [markdown]
# The last setup cell trains what sections A, C, D and E share: the conv AE with BatchNorm, with
# its own three-rate search (the lesson's section 2 model with a transposed decoder), and the
# dense AE and the conv AE again from seed 1 (other initial weights and batch order), at their
# rates above.

# %%
bn_name = "conv AE + BatchNorm"  # the conv AE with BatchNorm: its own three-rate search
bn_build = lambda: ConvAutoencoder(n_latent=32, decoder="transpose", batch_norm=True,  # noqa: E731
                                   input_mean=mean_image)
bn_model, histories[bn_name], _, lr_bn = search(bn_name, bn_build)
chosen_lr[bn_name] = lr_bn
bn_err = {lr: mse_per_pixel_per_image(run[0], x_test) for lr, run in searched[bn_name].items()}  # (N,) each
chain = {"dense AE": models["dense AE"], "conv AE": conv_model, bn_name: bn_model}
chain_err = {"dense AE": per_image["dense AE"], "conv AE": per_image[t_name],
             bn_name: bn_err[lr_bn]}  # (N,) test errors of each
names = list(chain)
steps_taken = {"1. the layers: dense AE -> conv AE": (names[0], names[1]),
               "2. adding BatchNorm: conv AE -> conv AE + BatchNorm": (names[1], names[2])}
rep_seeds = (1,)  # the extra seeds: same recipe and rates, no search; e.g. (1, 2, 3) for more
bn_seeds = ()  # the extra seeds for the BatchNorm model too, e.g. rep_seeds
chain_build = {"dense AE": builds["dense AE"], "conv AE": builds[t_name], bn_name: bn_build}
chain_rate = {"dense AE": chosen_lr["dense AE"], "conv AE": lr_conv, bn_name: lr_bn}
seed_err = {seed: {n: err.mean().item() for n, err in chain_err.items()}}  # seed -> model -> MSE
for extra_seed in rep_seeds:
    seed_err[extra_seed] = {n: mse_per_pixel_per_image(train(build, chain_rate[n], run_seed=extra_seed)[0],
                                                       x_test).mean().item()
                            for n, build in chain_build.items() if n != bn_name or extra_seed in bn_seeds}
print(f"trained: {bn_name} at {len(rates)} rates; seeds {', '.join(map(str, seed_err))} of the chain")

# %% [markdown]
# ## Lab section A: BatchNorm, and the training curve against validation
#
# Optional: what `BatchNorm2d` computes, whether it helps this autoencoder (with a second seed),
# why the lesson's training squares (section 3) can sit above the validation line, and what a BatchNorm model
# computes when `model.eval()` is forgotten.

# %% [markdown]
# ### What BatchNorm2d normalises over
#
# A `BatchNorm2d` layer computes **one mean and one variance per channel**, over everything that
# channel holds in the batch: all $N$ images and all $H \times W$ positions. For channel $c$,
# $$ \mu_c = \operatorname{mean}_{n, h, w}\, a_{n c h w}, \qquad
#    \sigma_c^2 = \operatorname{mean}_{n, h, w}\, (a_{n c h w} - \mu_c)^2, \qquad
#    \text{out}_{n c h w} = \gamma_c\, \frac{a_{n c h w} - \mu_c}{\sqrt{\sigma_c^2 + \epsilon}}
#    + \beta_c . $$
# So it is not "over the batch" alone: a filter's response is normalised across positions too.
# The cell checks the formula against
# PyTorch, and shows that normalising over the images alone (a separate mean per pixel
# position) is a different computation.

# %%
torch.manual_seed(0)
first_conv = nn.Conv2d(1, 16, 3, stride=2, padding=1)  # the first layer of the lesson's section 2 model
bn = nn.BatchNorm2d(16)  # a fresh layer: gamma = 1, beta = 0, in training mode
with torch.no_grad():
    a = first_conv(x_train[:64])  # (64, 16, 14, 14): the first convolution's output
    mu = a.mean(dim=(0, 2, 3), keepdim=True)  # (1, 16, 1, 1): one mean per channel
    var = a.var(dim=(0, 2, 3), unbiased=False, keepdim=True)  # (1, 16, 1, 1)
    by_hand = (a - mu) / torch.sqrt(var + bn.eps)
    per_position = (a - a.mean(dim=0)) / torch.sqrt(a.var(dim=0, unbiased=False) + bn.eps)
    out = bn(a)
print(f"BatchNorm2d = normalise each channel over (N, H, W): {torch.allclose(out, by_hand, atol=1e-5)}")
print(f"BatchNorm2d = normalise over the images alone (N): "
      f"{torch.allclose(out, per_position, atol=1e-5)}")
tiny_bn, tiny = nn.BatchNorm2d(16), a[:2, :, 6:8, 6:8]  # 2 images x 4 central positions: n = 8
with torch.no_grad():
    tiny_bn(tiny)  # one training-mode step from running_var = 1
for label, unbiased in (("1/(n-1), unbiased", True), ("1/n, biased", False)):
    target = tiny.var(dim=(0, 2, 3), unbiased=unbiased)  # (16,)
    match = torch.allclose(tiny_bn.running_var, 0.9 * 1 + 0.1 * target, rtol=1e-5, atol=0)
    print(f"running_var after one step = 0.9 x 1 + 0.1 x batch variance with {label}: {match}")

# %% [markdown]
# ### Training mode vs `eval()`
#
# In **training mode** BatchNorm uses the current batch's statistics, so one image's output
# depends on its companions, and every forward pass (even under `torch.no_grad()`) moves the
# stored `running_mean` and `running_var` 10% of the way toward the batch's values
# (`momentum=0.1`; `running_var` moves toward the unbiased variance, with $1/(n-1)$). After `model.eval()` BatchNorm uses the stored averages: a fixed scale and
# shift per channel, so each image's output depends on that image alone. `fit` calls
# `model.train()` before every epoch; `predict` and `evaluate` switch to eval mode and restore the
# previous mode after. When you call `model(x)` yourself, call `model.eval()` first. The cell
# feeds image 0 to a BatchNorm layer twice, with two different sets of companions:

# %%
bn = nn.BatchNorm2d(16)
with torch.no_grad():
    a_1 = first_conv(x_train[:8])  # image 0 with images 1-7
    a_2 = first_conv(torch.cat([x_train[:1], x_train[100:107]]))  # image 0 with 7 others
    bn.train()
    stored = bn.running_mean.clone()
    change_train = (bn(a_1)[0] - bn(a_2)[0]).abs().max().item()
    moved = (bn.running_mean - stored).abs().max().item()
    bn.eval()
    change_eval = (bn(a_1)[0] - bn(a_2)[0]).abs().max().item()
print(f"training mode: image 0's output changes with its companions by up to {change_train:.3f}")
print(f"training mode: the two forward passes moved running_mean by up to {moved:.4f}")
print(f"eval mode: image 0's output changes by {change_eval:.3f} (stored averages)")

# %% [markdown]
# ### Does BatchNorm help? One step at a time
#
# The chain below goes from the dense AE to the conv AE and then adds BatchNorm, changing **one
# thing per step**, with the same data, steps, schedule and seed. On image classifiers BatchNorm
# allowed much larger learning rates (Ioffe and Szegedy, 2015; their explanation, "internal
# covariate shift", is contested: Santurkar et al., 2018, found that it mainly makes the loss
# surface smoother), so the BatchNorm model got its own search over the same three rates in
# the setup, chosen on the validation images; the step to it changes the layers and, if the search picks
# another one, the rate.

# %%
bn_test = {lr: err.mean().item() for lr, err in bn_err.items()}
print(f"{bn_name}: test MSE per pixel " + ", ".join(f"{lr:g}: {e:.5f}" for lr, e in bn_test.items())
      + f"; conv AE at {lr_conv:g}: {results['conv AE (transpose)']:.5f}")
bn_change = chain_err[bn_name].mean().item() - chain_err["conv AE"].mean().item()
z_bn = paired_z(chain_err[bn_name], chain_err["conv AE"])  # > 0: BatchNorm higher
print(f"In this run (seed 0): BatchNorm's validation search kept {lr_bn:g}, "
      + ("larger than" if lr_bn > lr_conv else "smaller than" if lr_bn < lr_conv else "the same as")
      + f" the conv AE's {lr_conv:g}; at that rate it {'raised' if bn_change > 0 else 'lowered'} the test "
      f"error by {abs(bn_change):.5f} (z = {z_bn:+.1f}), and at every rate tried its test error was "
      + ("above" if min(bn_test.values()) > results["conv AE (transpose)"] else "not always above")
      + " the conv AE's.")

# %% [markdown]
# One seed is not enough to trust a sign. The setup trained the dense AE and the conv AE again
# from seed 1 (other initial weights and batch order), each at its rate above. The BatchNorm model
# gets no second seed: the lab spends that time on its rate search (`rep_seeds` and `bn_seeds`
# add seeds). Section C prints every seed's errors.

# %%
n_s = len(seed_err)
conv_wins = sum(seed_err[s]["conv AE"] < seed_err[s]["dense AE"] for s in seed_err)
print(f"In this run: the conv AE's test error was lower than the dense AE's at {conv_wins} of {n_s} seeds "
      f"(" + ", ".join(f"seed {s}: {seed_err[s]['conv AE']:.5f} vs {seed_err[s]['dense AE']:.5f}"
                       for s in seed_err) + ").")

# %% [markdown]
# Super-resolution networks, which also output exact pixel values, dropped BatchNorm (EDSR,
# Lim et al., 2017; ESRGAN, Wang et al., 2018); this lab does not test why. BatchNorm's sign
# above holds for this model, three rates and one seed, not for autoencoders in general; where its
# search printed "unbracketed", a rate beyond the edge might change it. The rest
# of the lesson and of this lab study the conv AE without BatchNorm.

# %% [markdown]
# ### The training curve against validation
#
# **Why can the training curve (the squares) sit above the validation curve?** Three reasons, none of
# them a bug. (1) A training square is the *average over the epoch's batches*, each measured
# with the weights of that moment, which were still improving; a point of the validation line is
# measured with the weights of its own step (fixed images every `log_every` steps), so its last
# point comes at the last multiple of `log_every` steps, before the end. (2) In a model with BatchNorm, training normalises with
# the statistics of each batch; validation runs in eval mode with the stored averages, a
# slightly different function. (3) The two sets hold different images. The cell below
# separates the first two effects from the rest: it measures the training error again, in eval
# mode, with the final weights, on the first 10,000 training images (all of them when there are
# fewer; the cell prints how many), for the three models and the BatchNorm model of the chain.

# %%
from course_utils.train import evaluate

x_remeasure = x_train[:10_000]
print(f"re-measured on {len(x_remeasure):,} training images")
above, overfit = {}, {}
for name, model in {**{n: models[n] for n in builds}, bn_name: bn_model}.items():
    curve, valid = histories[name]["train_loss"][-1], histories[name]["valid_loss"][-1]
    again = evaluate(model, x_remeasure.to(course.device))["loss"]  # eval mode, final weights
    above[name], overfit[name] = curve > again, again < 0.95 * valid
    print(f"{name:<20} last epoch: training curve {curve:6.2f} -> measured again {again:6.2f}; "
          f"validation {valid:6.2f} (again / validation = {again / valid:.2f})")
print(f"the training curve's last point lies above the re-measured error for every model: "
      f"{all(above.values())}")
print(f"a model fits its training images clearly better (by over 5%) than validation images: "
      f"{any(overfit.values())}")

# %% [markdown]
# The gap between a training curve's last point and the re-measured training error is what the
# epoch average and, for the BatchNorm model only, training-mode BatchNorm added, plus, when there are more than 10,000 training images, the change of image
# set: the curve averages over all of them, the re-measurement uses the first 10,000. The ratio to
# validation is the overfitting test: a re-measured training
# error clearly *below* validation would mean the model fits its own training images better than
# new ones; then the training curve can end *below* validation. The two verdict lines say what this run shows; a ratio near 1 leaves only the third
# reason, that the two sets hold different images.
#
# ### What forgetting `eval()` does to a trained model
#
# The cell runs a copy of the trained BatchNorm model (the chain above) on the first 500 test images (the cell
# prints how many there are) in training mode,
# in batches of 8 and of 1 image, and compares with eval mode. (A copy, because training-mode
# forward passes would overwrite the running averages of the real model.)

# %%
careless = copy.deepcopy(bn_model).cpu().train()  # forgot model.eval()
x_few = x_test[:500]
print(f"{len(x_few):,} test images")
with torch.no_grad():
    for batch in (8, 1):
        error = torch.cat([((careless(xb) - xb) ** 2).mean(dim=(1, 2, 3))  # (b,) per image
                           for xb in x_few.split(batch)])
        print(f"training mode, batches of {batch}: test MSE per pixel {error.mean():.5f}")
eval_error = mse_per_pixel_per_image(bn_model, x_few).mean().item()
print(f"eval mode (any batch size):    test MSE per pixel {eval_error:.5f}")

# %% [markdown]
# In training mode each answer depends on the batch it came in: the same image gets a
# different reconstruction in a batch of 8 than alone, and a batch of one image normalises each
# channel with that image's own statistics. Eval mode gives one answer per image. The printed
# errors say how much that costs this model; whatever their size, a model with BatchNorm is
# evaluated in eval mode.

# %% [markdown]
# ## Lab section B: an LSTM autoencoder reads rows
#
# Optional: a sequence model on images, its shapes and its cost per training step.
#
# Images can also be read as sequences: 28 time steps, each a row of 28 pixels. An LSTM encoder
# reads the rows top to bottom; a linear layer maps its last hidden state (128 numbers) to the
# 32-number code. The decoder starts a second LSTM from a hidden state computed from the code,
# feeds it the same code at every one of the 28 steps, and turns each step's output into one row
# of 28 pixels. It is `LSTMAutoencoder` in `course_utils.conv`; the cell builds one, prints its
# layers, and writes its encoder out in three lines to check it against `encode`.

# %%
from course_utils.conv import LSTMAutoencoder, format_shape_table, shape_table

torch.manual_seed(0)
lstm = LSTMAutoencoder(n_latent=32, hidden=128)
print(format_shape_table(shape_table(lstm, x_test[:2]), input_shape=(2, 1, 28, 28)))
with torch.no_grad():
    rows = x_test[:4].squeeze(1)  # (4, 1, 28, 28) -> (4, 28 steps, 28 pixels)
    _, (h_last, _) = lstm.encoder_rnn(rows)  # h_last: (1 layer, 4, 128), after the 28th row
    z = lstm.to_code(h_last[-1])  # (4, 128) -> (4, 32): the code
    print(f"these three lines = lstm.encode: {torch.allclose(z, lstm.encode(x_test[:4]))}")

# %% [markdown]
# Two things can make an LSTM slow. Its 28 steps run one after the other, each waiting for the
# previous one's hidden state (only this makes them sequential), where a convolution processes
# all positions at once; and every step computes four gates from the row and the 128-number
# state, which sets the arithmetic per step. The cell times
# one training step (forward and backward pass on a batch of 128 images) of each model on this
# machine, and counts each model's multiply-adds per image (for the LSTM by hand: 4 gates x 128
# units x (inputs + 128) per step, for each of the two LSTMs), so that the two can be compared.

# %%
import time


def multiply_adds_per_image(model: nn.Module) -> int:
    """Multiply-adds of one forward pass of one 28x28 image through model's conv and linear layers
    (the lesson's section 3 count: a transposed layer's products that land on the border rows and
    columns `padding` crops are included)."""
    total = 0

    def count(layer: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        nonlocal total
        if isinstance(layer, nn.Conv2d):  # every output value: in_channels x k x k weights
            total += output[0].numel() * layer.weight[0].numel()
        elif isinstance(layer, nn.ConvTranspose2d):  # every input value paints out_channels x k x k
            total += inputs[0][0].numel() * layer.weight[0].numel()
        elif isinstance(layer, nn.Linear):
            total += layer.weight.numel()

    hooks = [m.register_forward_hook(count) for m in model.modules()]
    with torch.no_grad():
        model(x_test[:1].to(next(model.parameters()).device))  # one image
    for hook in hooks:
        hook.remove()
    return total


def seconds_per_step(model: nn.Module, x: torch.Tensor, repeats: int = 5) -> float:
    """Median time of one forward + backward pass of the squared error on the batch x."""

    def wait_for_gpu() -> None:  # a GPU runs asynchronously: wait until the work is done
        if x.is_cuda:
            torch.cuda.synchronize()

    times = []
    for _ in range(repeats):
        wait_for_gpu()
        start = time.perf_counter()
        ((model(x) - x) ** 2).sum().backward()
        wait_for_gpu()  # otherwise the clock would only see the kernels being launched
        times.append(time.perf_counter() - start)
    model.zero_grad()
    return sorted(times)[len(times) // 2]


x_batch = x_train[:batch_size].to(course.device)
lstm = lstm.to(course.device).train()
step_lstm = seconds_per_step(lstm, x_batch)
conv_copy = copy.deepcopy(conv_model).to(course.device).train()  # a copy: training mode, as in fit
step_conv = seconds_per_step(conv_copy, x_batch)
print(f"one training step: LSTM AE {1000 * step_lstm:.0f} ms, conv AE (transpose) "
      f"{1000 * step_conv:.0f} ms: the LSTM is {step_lstm / step_conv:.1f} times as slow")
n_rows = 28  # steps of each LSTM: one per row
work_lstm = (n_rows * sum(r.weight_ih_l0.numel() + r.weight_hh_l0.numel()  # (4 x 128) x (in + 128)
                          for r in (lstm.encoder_rnn, lstm.decoder_rnn))
             + lstm.to_code.weight.numel() + lstm.from_code.weight.numel()  # once per image
             + n_rows * lstm.to_row.weight.numel())  # one row of 28 pixels per step
work_conv = multiply_adds_per_image(conv_model)
work_ratio, time_ratio = work_lstm / work_conv, step_lstm / step_conv
print(f"multiply-adds per image: LSTM AE {work_lstm:,}, conv AE (transpose) "
      f"{work_conv:,}: {work_ratio:.1f} times as many")
print(f"time ratio {time_ratio:.1f} below the multiply-add ratio {work_ratio:.1f} (the LSTM does more "
      f"multiply-adds per second than the conv AE here): {time_ratio < work_ratio}")

# %% [markdown]
# If the last line says True, the LSTM got through more arithmetic per second than the conv AE
# in this one timing: that fits the amount of work per image, rather than the waiting between
# steps, as what makes it slow here, but the conv AE's small convolutions (16 and 32 channels)
# may also just run inefficiently on this machine, so it is a hint, not a finding. If it says
# False, the LSTM also uses the machine less well, and its 28 small steps, one after the other,
# are one likely reason (a GPU, which needs large computations to keep busy, often shows this).
# One timing cannot separate these causes.
#
# This section shows the shapes and the cost only: to keep the lab quick, it does not train
# the LSTM. To train it yourself, run `fit(lstm, x_train, x_valid, epochs=epochs, lr=3e-3)` and
# compare its test error with the conv AE's; the timing above tells you roughly how long that
# takes on your machine. Sequence
# autoencoders are at home on data that really is sequential (audio, sensor series, text).

# %% [markdown]
# ## Lab section C: seeds, using the codes, and a noise floor for grids
#
# Optional: how much the lesson's section 3 verdicts move with the training seed, what the 32-number codes
# are good for, and how strongly untrained decoders paint a grid. The $z$ values of the lesson's section 3
# and of section A measure the test-image noise only. If a step made no difference and only luck set each sign, the
# two seeds would agree one time in two, so their agreement is weak evidence on its own. The cell
# prints each seed's test errors and the fall along each step of the chain.

# %%
print(f"test MSE per pixel at seeds {', '.join(map(str, seed_err))} (rates as in the setup):")
for n in names:
    print(f"    {n:<20} " + ", ".join(f"{seed_err[s][n]:.5f}" if n in seed_err[s] else "-" for s in seed_err))
for step, (before, after) in steps_taken.items():
    diffs = [seed_err[s][before] - seed_err[s][after] for s in seed_err if after in seed_err[s]]
    print(f"    {step.split(':')[0]}: fall " + ", ".join(f"{d:+.5f}" for d in diffs))

# %% [markdown]
# ### The steps of section A's chain, as z
#
# Each step of section A's chain at seed 0, as $z$: the mean change divided by its standard
# error, image by image on the test images ($|z| \le 2$ is "within the test-image noise").

# %%
for step, (before, after) in steps_taken.items():
    drop = chain_err[before] - chain_err[after]  # (N,): fall of each test image's error
    se = drop.std().item() / len(drop) ** 0.5
    z = drop.mean().item() / se
    verdict = z_word(z, "RAISES the test error", "lowers the test error",
                     "within the test-image noise: no measurable change")  # z > 0: the error fell
    print(f"    {step}: {drop.mean():+.5f} (standard error {se:.5f}, z = {z:+.1f}): {verdict}")


# %% [markdown]
# ### Using the codes: nearest neighbours and interpolation
#
# A code is useful beyond reconstruction if similar garments get nearby codes. For 500 test
# queries the cell finds the 5 test images (among the others) whose codes are nearest, for the
# dense AE and the conv AE of the setup, and counts how many share the query's class, with raw
# pixels as the reference (the labels only score the codes, as in lesson 02). The figure shows 3
# queries, each titled "same" or "other" class.

# %%
from course_utils.plots import NotebookFigure, images_figure, rows_figure

y_test = data.test.y
n_q = min(500, len(x_test) // 2)  # queries: the first n_q test images; references: the rest
code_models = {"dense AE": models["dense AE"], "conv AE": models["conv AE (transpose)"]}
spaces = {"pixels": x_test.flatten(1)}  # (N, 784)
with torch.no_grad():
    for name, m in code_models.items():
        spaces[name] = torch.cat([m.cpu().encode(xb) for xb in x_test.split(1000)])  # (N, 32)
nearest, share = {}, {}
for name, z_all in spaces.items():
    nearest[name] = torch.cdist(z_all[:n_q], z_all[n_q:]).topk(5, largest=False).indices + n_q  # (n_q, 5)
    share[name] = (y_test[nearest[name]] == y_test[:n_q, None]).float().mean(dim=1)  # (n_q,) per query
print(f"In this run: of the 5 nearest of {len(x_test) - n_q:,} test images, the share with the query's "
      f"class was {share['conv AE'].mean():.1%} in the conv AE's code space, {share['dense AE'].mean():.1%} "
      f"in the dense AE's and {share['pixels'].mean():.1%} in pixel space ({n_q} queries).")
for other in ("dense AE", "pixels"):
    d = share["conv AE"] - share[other]  # (n_q,): paired, query by query
    se = d.std().item() / n_q**0.5
    print(f"    conv AE - {other}: {d.mean():+.1%} (paired SE {se:.1%}): "
          + ("within the query noise" if abs(d.mean()) <= 2 * se else "beyond the query noise"))
tiles, tile_titles = [], []
for q in range(3):
    tiles.append(x_test[q])
    tile_titles.append("query")
    for name in code_models:
        tiles += [x_test[i] for i in nearest[name][q]]
        tile_titles += [(f"{name[:-3]}: " if j == 0 else "") + ("same" if y_test[i] == y_test[q] else "other")
                        for j, i in enumerate(nearest[name][q])]
images_figure(torch.stack(tiles), ncols=11, titles=tile_titles, size=1.05, titles_size=9,
              title="query | 5 nearest in the dense AE's code space | 5 nearest in the conv AE's")

# %% [markdown]
# The next cell walks a straight line between the codes of two garments of different classes,
# decodes 8 points along it with each model, and shows the pixel-by-pixel blend of the two images
# for comparison. Nothing trains these models to decode the codes between two garments well, so
# the midpoints show what each decoder makes of codes it was never given.

# %%
a_idx = 0
b_idx = int((y_test != y_test[a_idx]).nonzero()[0, 0])  # the first test image of another class
t = torch.linspace(0, 1, 8)[:, None]  # (8, 1): 0 = the first garment, 1 = the second
pair_x = x_test[[a_idx, b_idx]]  # (2, 1, 28, 28)
strips = {"pixel blend": (1 - t[:, :, None, None]) * pair_x[0] + t[:, :, None, None] * pair_x[1]}
with torch.no_grad():
    for name, m in code_models.items():
        z_ab = m.encode(pair_x)  # (2, 32)
        strips[name] = m.decode((1 - t) * z_ab[0] + t * z_ab[1]).reshape(8, 1, 28, 28)
print(f"classes: {data.classes[int(y_test[a_idx])]} -> {data.classes[int(y_test[b_idx])]}")
rows_figure(strips, n=8, title="a straight line between two codes, decoded (8 steps)")

# %% [markdown]
# ### Untrained decoders against a noise floor
#
# A measured parity contrast is never exactly 0 (a sloped map or a finite sample already gives
# some), so each verdict compares a conv decoder with untrained dense decoders, which have no
# mechanism for a grid. For each of 10 seeds, a fresh decoder of each kind decodes 64 random
# codes; the largest dense contrast is the **noise floor**, and the count says in how many seeds
# the grid of a kind's mean output rises above it. The next subsection measures the trained decoders.

# %%
from course_utils.conv_probes import noise_floor_verdict, parity_contrast

builders = {"transpose": lambda: ConvAutoencoder(n_latent=32, decoder="transpose"),
            "upsample": lambda: ConvAutoencoder(n_latent=32, decoder="upsample"),
            "dense": lambda: DenseAutoencoder(784, hidden=(128,), n_latent=32)}  # no input_mean:
# untrained, its output bias is drawn at random like the conv decoders' (centring: the mean image)
n_seeds, n_codes = 10, 64
untrained_contrast = {name: [] for name in builders}  # name -> one contrast per seed
for decoder_seed in range(n_seeds):
    z = torch.randn(n_codes, 32, generator=torch.Generator().manual_seed(100 + decoder_seed))
    for name, build in builders.items():
        torch.manual_seed(decoder_seed)
        with torch.no_grad():
            mean_output = build().decode(z).reshape(n_codes, 28, 28).mean(dim=0)  # (28, 28)
        untrained_contrast[name].append(parity_contrast(mean_output))
floor = untrained_contrast["dense"]
print(f"noise floor: untrained dense decoders, {n_seeds} seeds x {n_codes} random codes, "
      f"contrast up to {max(floor):.3f}")
for name in ("transpose", "upsample"):
    values = untrained_contrast[name]
    print(f"untrained {name:<9} decoders: contrast {min(values):.3f} to {max(values):.3f}: "
          f"{noise_floor_verdict(values, floor)}")

# %% [markdown]
# ### Trained decoders: a grid in logits, in pixels?
#
# Do the **trained** decoders keep a grid? `coherent_grid` averages each decoder's output over
# the codes of 2,000 test images and reads the period-2 amplitudes of that mean map: a grid
# painted at the same place in every output survives the average, detail that varies between
# images mostly cancels. The **floor** is the same measurement on the dense AE (no strided
# layer): a reference, not pure noise, since a dense decoder can learn a fixed per-pixel pattern
# too. We measure logits (before the sigmoid) and pixels, because a logit grid in a saturated
# background ($-8$ vs $-7$) is invisible in the image. "Above" needs $z > 3$, as in `coherent_grid`.

# %%
from course_utils.conv_probes import (
    GRID_Z_LIMIT,
    coherent_grid,
    decoder_logits,
    grid_above_floor,
    period2_amplitudes,
)

x_codes = x_test[:2000]  # 2,000 test images -> their codes -> logit maps
trained_grid, logit_mean = {}, {}  # (name, space) -> CoherentGrid; name -> (28, 28) mean logit map
for name in ("dense AE", "conv AE (transpose)", "conv AE (upsample)"):  # the lesson's section 3 models
    model = models[name]
    with torch.no_grad():
        x_in = x_codes.to(next(model.parameters()).device)
        logits = decoder_logits(model, model.encode(x_in)).reshape(-1, 28, 28).cpu()  # (2000, 28, 28)
    logit_mean[name] = logits.mean(dim=0)  # (28, 28)
    for space, maps in (("logits", logits), ("pixels", torch.sigmoid(logits))):
        trained_grid[name, space] = coherent_grid(maps)
for (name, space), g in trained_grid.items():  # with bootstrap SEs
    print(f"trained {name:<19} {space}: period-2 size of the mean map {g.size:.4f} (SE {g.size_se:.4f})")
verdicts, grid_z = {}, {}  # (name, space) -> above the floor?, z
for name in ("conv AE (transpose)", "conv AE (upsample)"):
    for space in ("logits", "pixels"):
        grid_z[name, space], verdicts[name, space] = grid_above_floor(
            trained_grid[name, space], trained_grid["dense AE", space])
    print(f"{name:<20} grid vs the dense floor: logits z = {grid_z[name, 'logits']:+.1f}, pixels "
          f"z = {grid_z[name, 'pixels']:+.1f} (above needs z > {GRID_Z_LIMIT:g})")
verdict = {name: ("above the floor in " + " and ".join(sp for sp in ("logits", "pixels") if verdicts[name, sp])
                  if any(verdicts[name, sp] for sp in ("logits", "pixels")) else "within the floor")
           + f" (z: logits {grid_z[name, 'logits']:+.1f}, pixels {grid_z[name, 'pixels']:+.1f})" for name in ("conv AE (transpose)", "conv AE (upsample)")}
grey = 255 * trained_grid[t_name, "pixels"].size  # the mean pixel map's period-2 size, in 8-bit grey levels
print(f"In this run: the trained transposed decoder's grid is {verdict[t_name]}; in pixels the period-2 size "
      f"of its image-averaged map is {grey:.2f} grey levels of 255: " + (
          "below one level: too faint to see, and only partly representable in 8 bits (rounding can "
          "leave a 1-level alternation where a pixel sits near a rounding boundary)."
          if grey < 1 else "large enough for an 8-bit image to hold."))

# %% [markdown]
# Where does the transposed decoder's logit grid come from? Its logits are the decoder's layers
# plus the learned per-pixel offset, and the period-2 amplitudes are linear, so the mean logit
# map's amplitudes are the layers' plus the offset's. The cell prints the three (rows,
# columns, checkerboard) with their size, and the layers' $z$ against the image noise (the
# offset is the same for every image, so the layers share the total's bootstrap errors).

# %%
parts, part_amps = {}, {}  # name -> {part: (28, 28) map}, {part: (3,) amplitudes}
for name in (t_name, u_name):
    offset = next(m for m in models[name].modules() if type(m).__name__ == "LogitOffset").offset
    offset = offset.detach().cpu().reshape(28, 28)  # (28, 28), in logit units
    parts[name] = {"layers": logit_mean[name] - offset, "offset": offset, "total": logit_mean[name]}
    part_amps[name] = {part: period2_amplitudes(m[None])[0] for part, m in parts[name].items()}  # (3,)
    print(f"{name}, mean logit map, period-2 amplitudes (rows, columns, checkerboard):")
    for part, a in part_amps[name].items():
        print(f"    {part:<7} ({a[0]:+.4f}, {a[1]:+.4f}, {a[2]:+.4f}), size {a.norm():.4f}")
a_layers, a_offset = part_amps[t_name]["layers"], part_amps[t_name]["offset"]
z_layers = (a_layers.abs() / trained_grid[t_name, "logits"].ses).max().item()
against = (a_layers * a_offset).sum().item() < 0  # the offset's pattern points the other way
print("In this run: the transposed decoder's layers "
      + (f"paint a grid (largest amplitude z = {z_layers:.1f})" if z_layers > GRID_Z_LIMIT
         else f"paint no grid beyond the image noise (z = {z_layers:.1f})")
      + f"; the learned offset's pattern points {'against' if against else 'with'} it: size "
      f"{a_layers.norm():.4f} for the layers, {part_amps[t_name]['total'].norm():.4f} for the total.")

# %%
# extra code – top: the high-passed mean logit map of the transposed model (inner 16 x 16);
# bottom: its period-2 part alone, drawn from the three measured amplitudes, on a finer scale
from course_utils.conv_probes import high_pass

fig = NotebookFigure(figsize=(9, 6), layout="constrained")
axes = fig.subplots(2, 3)
maps = {part: high_pass(m[None])[0, 6:-6, 6:-6] for part, m in parts[t_name].items()}  # (16, 16): inner
top = max(m.abs().quantile(0.98).item() for m in maps.values())  # robust: a few extreme pixels saturate
sign = 1 - 2 * (torch.arange(16) % 2)  # (16,): +1, -1, +1, ...
grids = {part: a[0] * sign[:, None] + a[1] * sign[None, :] + a[2] * torch.outer(sign, sign)  # (16, 16)
         for part, a in part_amps[t_name].items()}  # rows, columns, checkerboard patterns, in logits
fine = max(g.abs().max().item() for g in grids.values())
for ax, (part, m) in zip(axes[0], maps.items(), strict=True):
    im = ax.imshow(m.numpy(), cmap="RdBu_r", vmin=-top, vmax=top)
    ax.set(title=f"{part}\n(period-2 size {part_amps[t_name][part].norm():.4f})", xticks=[], yticks=[])
fig.colorbar(im, ax=axes[0], shrink=0.8, label="high-passed logit")
for ax, (part, g) in zip(axes[1], grids.items(), strict=True):
    im = ax.imshow(g.float().numpy(), cmap="RdBu_r", vmin=-fine, vmax=fine)
    ax.set(title=f"{part}: period-2 part only", xticks=[], yticks=[])
fig.colorbar(im, ax=axes[1], shrink=0.8, label="logit")
fig.suptitle("conv AE (transpose), mean logit map, inner 16 x 16: high-passed (top), its grid (bottom)")
fig

# %% [markdown]
# The top row shows the inner $16 \times 16$ pixels of the three high-passed maps on one colour
# scale (the border, which the measurement's window down-weights, is cropped), where garment
# detail can hide a small grid. The bottom row draws the period-2 part alone, from the three measured amplitudes,
# on its own finer scale. The grid is a risk
# built into the transposed layer; nothing guarantees that training removes it (an offset that
# points against it only partly cancels it), and the printed grey levels say whether, at this
# budget, the grid common to all images (measured on their average) reaches the pixels at all.

# %% [markdown]
# ## Lab section D: the dense AE at the conv AE's time
#
# Optional: equal steps is not equal compute, since a conv step takes more time. The next cell
# trains the dense AE once more for about the conv AE's measured wall-clock time
# (`time.perf_counter` in `fit`, so a busy machine counts too), forecast before the run: the ratio of the two models'
# median seconds per epoch (training plus validation) sets the dense AE's epochs, at most 4 times
# the conv AE's (a cap that can bind), and the run happens only if it costs no more than one
# BatchNorm run. The printed percentage is the share of the conv AE's seconds the run really
# took, next to the share the plan allowed: whole epochs, rounded down, so the plan itself can
# fall short. Outside 80-125% a caveat line says the comparison was not at equal time, and why. The seconds come from the machine that ran the lab, so the verdict can change from run
# to run, and more so on a GPU.

# %%
sec_dense, sec_conv = (statistics.median(histories[n]["seconds"]) for n in ("dense AE", "conv AE (transpose)"))
sec_bn = statistics.median(histories[bn_name]["seconds"])
ratio = sec_conv / sec_dense  # measured time per step (epoch), conv AE / dense AE
eq_epochs = max(1, int(epochs * min(ratio, 4.0)))  # the dense AE's epochs: the conv AE's time, capped at 4x
planned_pct = round(100 * eq_epochs * sec_dense / (epochs * sec_conv))  # the share those whole epochs plan
if eq_epochs * sec_dense <= epochs * sec_bn:  # costs no more than one BatchNorm run
    dense_eq, dense_eq_history, _ = train(builds["dense AE"], chosen_lr["dense AE"], n_epochs=eq_epochs)
    eq_err = mse_per_pixel_per_image(dense_eq, x_test)  # (N,)
    eq_z = paired_z(eq_err, chain_err["conv AE"])  # > 0: the longer dense run's error higher
    eq_verdict = z_word(eq_z, tie="not different beyond the noise")
    eq_steps = eq_epochs * math.ceil(len(x_train) / batch_size)  # the dense AE's steps in the longer run
    # its share of the conv AE's time, from the seconds both runs actually took (training + validation)
    time_pct = round(100 * sum(dense_eq_history["seconds"]) / sum(histories["conv AE (transpose)"]["seconds"]))
    rounding = "rounded down from" if eq_epochs <= epochs * min(ratio, 4.0) else "raised to 1 from"
    print(f"In this run: the dense AE trained {eq_steps:,} steps ({eq_epochs} epoch{'s' * (eq_epochs != 1)}, "
          f"{rounding} {epochs * min(ratio, 4.0):.2f}: {planned_pct}% planned) in {time_pct}% of the "
          f"conv AE's measured seconds (a conv step taking {ratio:.1f} x a dense step): error {eq_err.mean():.5f} vs "
          f"the conv AE's {chain_err['conv AE'].mean():.5f} (z = {eq_z:+.1f}): the dense AE's error was {eq_verdict}"
          + (" (the 4 x cap bound)" if ratio > 4.0 else "") + ".")
    if not 80 <= time_pct <= 125:  # the plan fell short (whole epochs, the cap), or the seconds per epoch changed
        short = ("whole epochs" + (" and the 4 x cap" if ratio > 4.0 else "")
                 + f" planned only {planned_pct}%") if planned_pct < 80 else f"the plan was {planned_pct}%"
        print(f"Caveat: {time_pct}% is outside 80-125%, so this was NOT a comparison at equal time: the dense AE "
              f"got {'less' if time_pct < 80 else 'more'} than the conv AE's seconds ({short}; the other "
              f"{abs(time_pct - planned_pct)} percentage points: its seconds per epoch differed from the medians "
              "that set the plan).")
else:
    eq_verdict = None
    print(f"In this run: the conv AE took {ratio:.1f} x the dense AE's time per step; a longer dense run "
          f"would cost more than one BatchNorm run, so it was skipped: the comparison above is at equal "
          f"steps, not equal compute.")

# %% [markdown]
# Sharing each filter across positions saves parameters, not compute: on 28x28 images a dense
# step is cheap, so the same time buys the dense AE more steps.

# %% [markdown]
# ## Lab section E: dead channels, and two ways to keep them alive
#
# Optional: which of the conv AE's channels never fire, and what the warm-up and BatchNorm do
# about them.

# %% [markdown]
# ### Dead channels
#
# Lesson 02's dead units come back one level up. A conv layer's unit is a **channel**, one filter
# applied at every position; it is dead when its ReLU outputs 0 at every position of every image.
# If it is dead on the training images too, it passes nothing on and its own weights get no
# gradient. Under plain SGD only a change in the layers before it could then revive it, and a
# first-layer channel has no layer before it (its input and the centring are fixed). Adam, which
# `fit` uses, keeps moving a weight for some steps after its gradient becomes 0, a drift no
# longer tied to the loss; this lab does not measure what it does to dead channels. The counts
# below are measured on the trained models, not deduced. A channel dies when its filter's
# response plus its bias falls below 0 everywhere; large steps early in training are the usual suspect. Two routes keep channels
# alive:
#
# - **a warm-up**, the lesson's recipe: the first steps are small, so an early step is less likely
#   to throw a fresh filter below 0 everywhere;
# - **BatchNorm**, which re-centres each channel on its batch's mean before the ReLU, so only its
#   learned scale and shift ($\gamma$, $\beta$), with the stored statistics in eval mode, can
#   push a whole channel below 0.
#
# The cell trains the conv AE once more **without** the warm-up (`warmup_steps=0`, same seed,
# rate and steps), then counts the dead channels on the test images (`dead_channels` in
# `course_utils.conv_filters`) of the three models and compares their test errors image by image.

# %%
from course_utils.conv_filters import dead_channels

no_warmup = train(builds["conv AE (transpose)"], lr_conv, warmup_steps=0)[0]  # the plain half cosine
layer_labels = ("first-layer", "second-layer", "decoder 14x14")  # the conv ReLUs, in calling order
dead_masks = {"conv AE (warm-up)": list(dead_channels(conv_model, x_test).values())}  # (16,), (32,), (16,)
dead_masks[bn_name] = list(dead_channels(bn_model, x_test).values())  # (16,), (32,), (16,)
dead_masks["conv AE, no warm-up"] = list(dead_channels(no_warmup, x_test).values())  # (16,), (32,), (16,)
route_err = {"conv AE (warm-up)": per_image["conv AE (transpose)"],  # (N,) test errors of each
             "conv AE, no warm-up": mse_per_pixel_per_image(no_warmup, x_test), bn_name: chain_err[bn_name]}
dead_count = {}  # model -> [(dead, C) per layer]
for name in route_err:
    dead_count[name] = [(int(m.sum()), len(m)) for m in dead_masks[name]]
    print(f"{name:<20} dead channels on all {len(x_test):,} test images: "
          + ", ".join(f"{label} {d} of {c}" for label, (d, c) in zip(layer_labels, dead_count[name], strict=True))
          + f"; test MSE per pixel {route_err[name].mean():.5f}")
with_w, without_w = route_err["conv AE (warm-up)"], route_err["conv AE, no warm-up"]
z_w = paired_z(with_w, without_w)  # > 0: the error with the warm-up higher
print(f"In this run: the warm-up took the dead channels from {sum(d for d, _ in dead_count['conv AE, no warm-up'])} "
      f"to {sum(d for d, _ in dead_count['conv AE (warm-up)'])} (all three layers) and the test error from "
      f"{without_w.mean():.5f} to {with_w.mean():.5f} (z = {z_w:+.1f}): "
      f"{z_word(z_w, tie='no change beyond the test-image noise')}.")
z_b = paired_z(route_err[bn_name], with_w)  # > 0: BatchNorm higher than the warmed-up conv AE
print(f"In this run: BatchNorm left {sum(d for d, _ in dead_count[bn_name])} channels dead, with a test error "
      f"{z_word(z_b, 'lower than', 'higher than')} the warmed-up conv AE's (z = {z_b:+.1f}).")

# %% [markdown]
# A dead channel is capacity the model paid for and does not use. The two lines say, for this
# run, how many channels each route kept alive and what that did to the test error; a route can
# keep channels alive and still cost error, so judge it by both numbers. The run without the
# warm-up uses the rate that the setup's search kept WITH it; a lower rate may suit it better,
# so its error measures the warm-up at this rate, not the best the plain schedule can do. The
# conv AE that the lesson studies is the warmed-up one.

# %% [markdown]
# ## Lab section F: centring, a global-average code, and training on shifted images
#
# Optional: which part of the conv AE makes it sensitive to shifts, and what discarding *where*
# costs an autoencoder. The first cell trains the **uncentred conv AE**: the conv AE without
# `input_mean`, same recipe and rate. It keeps the linear layers and drops the per-pixel
# centring, so the two parts can be told apart on the lesson's section 4 shifted images (up to
# 2,000 test images moved right with black fill).

# %%
from course_utils.conv_filters import dead_channels, shift_images

x_shift, shifts = x_test[: course.pick(full=2000, fast=500)], (0, 1, 2, 3, 4, 8)  # as in the lesson's section 4
uncentred = "conv AE, uncentred"  # the conv AE without input_mean: same recipe and rate
models[uncentred], histories[uncentred], _ = train(lambda: ConvAutoencoder(n_latent=32), lr_conv)
unc_err = [mse_per_pixel_per_image(models[uncentred], shift_images(x_shift, s)) for s in shifts]  # (N,) each
print(f"{uncentred}: MSE per pixel at {shifts} px (black fill) " + "  ".join(f"{e.mean():.5f}" for e in unc_err))
conv_shift = [mse_per_pixel_per_image(conv_model, shift_images(x_shift, s)) for s in shifts]  # centred, (N,) each
rise = {t_name: conv_shift[3] - conv_shift[0], uncentred: unc_err[3] - unc_err[0]}  # (N,) each, at 3 px
z_c = paired_z(rise[t_name], rise[uncentred])  # > 0: centred rise larger; test-image noise only (one seed each)
r_c, r_u = rise[t_name].mean().item(), rise[uncentred].mean().item()
print(f"In this run: at 3 px the error rose by {r_c:+.5f} with centring and {r_u:+.5f} without: "
      + ("the centred conv AE's error did not rise, so there is nothing to share out. " if r_c <= 0 else
         f"{r_u / r_c:.0%} of the rise is there without centring"
         + (", so most of it does not need centring. " if r_u / r_c >= 0.5 else ", under half. "))
      + f"The difference (z = {z_c:+.1f}, counting test-image noise only, not seed noise) "
      + z_word(z_c, "points to the uncentred model being hurt more", "points to centring adding to it",
               "shows no measurable effect of centring") + ", on this seed.")

# %% [markdown]
# The uncentred conv AE keeps the linear layers, so its rise owes nothing to centring. The
# next cell trains the global-average encoder of the lesson's section 4 with ordinary zero padding, the conv
# AE's decoder, and the uncentred conv AE's recipe and rate, so the two differ only in how the
# encoder ends.

# %%
def gap_autoencoder() -> nn.Module:
    """Two strided convolutions, one average per channel as the 32-number code, the conv AE's decoder."""
    encoder = nn.Sequential(
        nn.Conv2d(1, 16, 3, stride=2, padding=1), nn.ReLU(),  # 28x28 -> 14x14, zero padding
        nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),  # 14x14 -> 7x7
        nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten())  # (B, 32, 7, 7) -> (B, 32): the code
    return nn.Sequential(encoder, ConvAutoencoder(n_latent=32).decoder)  # (B, 32) -> (B, 1, 28, 28)


gap_model = train(gap_autoencoder, lr_conv)[0]
gap_mse = mse_per_pixel_per_image(gap_model, x_test).mean().item()
plain_mse = mse_per_pixel_per_image(models[uncentred], x_test).mean().item()
print(f"test MSE per pixel: global-average code {gap_mse:.5f}, linear bottleneck (the uncentred "
      f"conv AE) {plain_mse:.5f}; same decoder, recipe and rate")
print(f"In this run: the global-average code's test error was {gap_mse / plain_mse:.1f} times the "
      f"linear bottleneck's.")

# %% [markdown]
# A classifier needs only *what*; an autoencoder must put every pixel back in its place, and 32
# averages over all positions keep only traces of where things were: the zero-padded border, the
# position modulo the total stride of 4, and the arrangement of parts inside each channel's 7-pixel window.

# %% [markdown]
# ### The usual remedy: training on shifted images
#
# The lesson's section 4 leaves this remedy to here. The next cell trains the conv AE once more
# (same recipe, steps and rate) on **shifted** images: each training batch moves by a random
# $-4$ to $4$ px (black fill, a fresh shift per batch) and the model rebuilds the moved batch;
# validation images stay put. `fit` takes the shift through its objective, so the loop is
# unchanged. The cell rebuilds the lesson's fully conv AE (same layers, seed, rate, half the
# steps) and prints the section 4 shift table for the three models, with each model's $z$
# against the plain conv AE on the same shifted images.

# %%
from course_utils.train import ReconstructionObjective


class ShiftedObjective:
    """fit's objective: in training, move the batch (B, 1, 28, 28) by a random -max_px..max_px
    pixels (black fill) and rebuild the moved batch; in eval mode, the batch as it is."""

    def __init__(self, max_px: int = 4, seed: int = 0) -> None:
        self.max_px, self.generator = max_px, torch.Generator().manual_seed(seed)

    def __call__(self, model: nn.Module, batch: tuple) -> tuple[torch.Tensor, dict]:
        x = batch[0]
        if model.training:  # one fresh shift for the whole batch
            x = shift_images(x, int(torch.randint(-self.max_px, self.max_px + 1, (), generator=self.generator)))
        return ReconstructionObjective()(model, (x,))  # sum of squared errors per image, batch mean


s_name, fc_name = "conv AE, shift-trained", "fully conv AE"
models[s_name], histories[s_name], _ = train(builds[t_name], lr_conv, objective=ShiftedObjective())
fully_conv = lambda: nn.Sequential(  # the lesson's section 4 model, layer for layer  # noqa: E731
    nn.Conv2d(1, 16, 3, stride=2, padding=1), nn.ReLU(), nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),
    nn.Conv2d(32, 1, kernel_size=1), nn.Conv2d(1, 32, kernel_size=1), nn.ReLU(),  # the 49-number code map
    nn.ConvTranspose2d(32, 16, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
    nn.ConvTranspose2d(16, 1, 3, stride=2, padding=1, output_padding=1), nn.Sigmoid())
models[fc_name] = train(fully_conv, lr_conv, n_epochs=up_epochs)[0]
shift_err = {t_name: conv_shift}  # name -> (N,) errors per shift, black fill
for name in (s_name, fc_name):
    shift_err[name] = [mse_per_pixel_per_image(models[name], shift_images(x_shift, s)) for s in shifts]
print(f"{'black fill, shift (px)':<24}" + "".join(f"{s:>9}" for s in shifts))
for name, errs in shift_err.items():
    print(f"{name:<24}" + "".join(f"{e.mean():>9.5f}" for e in errs))
    if name != t_name:
        print(f"{'  z vs conv AE':<24}" + "".join(f"{paired_z(e, c):>+9.1f}" for e, c in zip(errs, conv_shift, strict=True)))
z_s = [paired_z(e, c) for e, c in zip(shift_err[s_name], conv_shift, strict=True)]  # > 0: shift-trained higher
best = {}  # name -> the shifts at which its error was the lowest of the three
for i, s in enumerate(shifts):
    best.setdefault(min(shift_err, key=lambda n: shift_err[n][i].mean().item()), []).append(str(s))
print("In this run: against the plain conv AE, the shift-trained one's error was "
      + ", ".join(f"{z_word(z, tie='within the noise')} at {s} px" for s, z in zip(shifts, z_s, strict=True))
      + f" (0 px: {shift_err[s_name][0].mean():.5f} vs {conv_shift[0].mean():.5f}); the lowest error: "
      + "; ".join(f"the {n} at {', '.join(px)} px" for n, px in best.items()) + ".")

# %% [markdown]
# Shifted training asks the same weights to serve every position the shifts cover; the printed
# lines say, for one seed, what that bought at each shift and what it cost at 0 px. The 8 px
# column lies beyond the shifts it trained on.

# %% [markdown]
# ### All the trained models in one table
#
# The main models trained here, in one place: optimizer steps, starting rate,
# test error, the paired $z$ of its error against the conv AE's on the same test images, dead
# second-layer channels (conv models) and seconds of training plus validation. All are seed 0
# with the same warm-up and schedule.

# %%
table_rows = {  # name -> (model, steps, rate, history, (N,) test errors or None: compute them)
    "dense AE": (models["dense AE"], n_steps, chosen_lr["dense AE"], histories["dense AE"], per_image["dense AE"]),
    t_name: (conv_model, n_steps, lr_conv, histories[t_name], per_image[t_name]),
    bn_name: (bn_model, n_steps, lr_bn, histories[bn_name], chain_err[bn_name]),
    u_name: (models[u_name], up_steps, lr_conv, histories[u_name], per_image[u_name]),
    "conv AE (transpose), half": (t_half, up_steps, lr_conv, t_half_history, half_err),
    uncentred: (models[uncentred], n_steps, lr_conv, histories[uncentred], None),
    s_name: (models[s_name], n_steps, lr_conv, histories[s_name], None)}
if globals().get("eq_verdict"):  # the dense AE given up to the conv AE's time (section D, if it ran)
    table_rows["dense AE, longer"] = (dense_eq, eq_steps, chosen_lr["dense AE"], dense_eq_history, eq_err)
conv_err = per_image[t_name]  # (N,)
all_dead = {}  # name -> [(C,) bool per conv ReLU]
print(f"{'model':<26} {'steps':>6} {'rate':>7} {'test MSE':>9} {'z vs conv AE':>13} {'dead':>6} {'seconds':>8}")
for name, (model, n, lr, history, err) in table_rows.items():
    err = mse_per_pixel_per_image(model, x_test) if err is None else err  # (N,)
    z = "-" if name == t_name else f"{paired_z(err, conv_err):+.1f}"
    masks = all_dead[name] = list(dead_channels(model, x_test).values())  # conv ReLUs only; [] if dense
    dead = f"{int(masks[1].sum())}/{len(masks[1])}" if len(masks) > 1 else "-"
    print(f"{name:<26} {n:>6,} {lr:>7g} {err.mean():>9.5f} {z:>13} {dead:>6} {sum(history['seconds']):>8.1f}")

# %% [markdown]
# ## Lab section G: upsample + convolution on a ramp
#
# Optional: the one period-2 pattern that upsample + convolution can still make.

# %% [markdown]
# The lesson's section 5 shows that upsample + convolution is a transposed convolution whose four
# sub-kernels have equal sums, so a flat input comes out flat. Equal sums settle flat inputs only. The sub-kernels are still different pieces of the kernel,
# so a **ramp** (column $j$ holds the value $j$) can climb in two unequal steps. Write
# $c_0, c_1, c_2$ for the sums of the three columns of the $3 \times 3$ weights: away from the
# border the output climbs by $c_0 + c_2$ from column $2m$ to $2m+1$ and by $c_1$ from $2m+1$ to
# $2m+2$, unequal unless $c_1 = c_0 + c_2$, which nothing in training enforces.

# %%
torch.manual_seed(0)
conv3 = nn.Conv2d(1, 1, 3, padding=1, bias=False)  # random 3x3 weights, as in the lesson's section 5
pair = nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), conv3)  # doubles the side: 8 -> 16, 14 -> 28
ramp = torch.arange(8.0).expand(8, 8)[None, None]  # (1, 1, 8, 8): column j holds the value j
with torch.no_grad():
    ramp_out = pair(ramp)[0, 0]  # (16, 16)
steps_along_row = ramp_out[8, 2:-2].diff()  # columns 2..13, away from the zero padding
c0, c1, c2 = conv3.weight[0, 0].detach().sum(dim=0)  # the sums of the three weight columns
predicted_steps = torch.stack([c0 + c2, c1]).repeat(6)[: len(steps_along_row)]  # even->odd, odd->even
print(f"steps along a row of the output: {steps_along_row.numpy().round(3)}")
print(f"predicted: c0 + c2 = {c0 + c2:.3f}, then c1 = {c1:.3f}, alternating: "
      f"{torch.allclose(steps_along_row, predicted_steps, atol=1e-5)}; "
      f"two unequal steps (a pattern of period 2): {bool((c0 + c2 - c1).abs() > 1e-3)}")
noise = torch.rand(300, 1, 14, 14, generator=torch.Generator().manual_seed(0))  # random images
with torch.no_grad():
    noise_out = pair(noise)[:, 0, 2:-2, 2:-2]  # (300, 24, 24), away from the padding
noise_means = torch.stack([noise_out[:, r::2, c::2].mean() for r in (0, 1) for c in (0, 1)])  # (4,)
spread = ((noise_means.max() - noise_means.min()) / noise_out.abs().mean()).item()
print(f"on 300 random 14x14 inputs: parity means {noise_means.numpy().round(3)}, spread {spread:.3f} "
      f"of the mean |output| (below 1%: {spread < 0.01})")

# %% [markdown]
# This period-2 sawtooth is upsampling's **blockiness**. Upsample + convolution removes the causes
# that paint a grid on a flat input (uneven overlap, unequal sums), not every period-2 pattern:
# on random inputs, which have no slope on average, its four parity means nearly agree (last
# line); on sloped inputs they can differ.

# %% [markdown]
# ## Lab section H: common mistakes
#
# Optional: a checklist of the mistakes the lesson's topics invite.

# %% [markdown]
# > **Common mistakes**
# > - *Feeding flat images to a conv model.* Conv layers need (B, 1, 28, 28); the model's error
# >   message says what it got and how to reshape.
# > - *Guessing output sizes.* Print a shape table from the real model. In the formula of
# >   the lesson's section 1, forgetting `output_padding` (which must be smaller than the stride) leaves each
# >   transposed layer's output one pixel short, and each step of `padding` removes two pixels.
# > - *Reading "transposed" as "inverse".* A transposed convolution is the adjoint of a
# >   convolution; it restores the size, not the image (the name `deconv` is a misnomer).
# > - *Assuming a conv AE is small because convolutions share weights.* Count them: the linear
# >   layers next to the code usually dominate.
# > - *Forgetting `model.eval()` with BatchNorm.* In training mode every output depends on the
# >   rest of its batch, and each forward pass (even under `torch.no_grad()`) moves the running
# >   averages 10% of the way toward the batch's statistics. `predict` and `evaluate` switch to eval mode for you; `model(x)` does not.
# > - *Expecting a conv AE to be shift-equivariant.* Its linear bottleneck ties the code to
# >   positions. A fully convolutional model is shift-**equivariant** (its code map moves with
# >   the image, for shifts by multiples of its total stride and away from the borders), not
# >   shift-invariant: its code changes when the garment moves.
# > - *Believing a kernel divisible by the stride cures checkerboards.* It evens the overlap;
# >   learned weights can still make a grid. Upsample + convolution removes the unequal sums (a
# >   flat input comes out flat away from the border), though not the alternating steps on a
# >   sloped input.

# %% [markdown]
# ## Lab section I: the transposed convolution, two more views
#
# The lesson computes a transposed convolution by **painting** one weighted copy of the kernel per
# input pixel. The same layer can be computed a second way (Dumoulin and Visin, "A guide to
# convolution arithmetic", 2016): spread the input out by inserting $s - 1$ zeros between
# neighbouring pixels, pad the border with $k - 1 - p$ zeros (plus `output_padding` at the bottom
# and right), and run an ordinary stride-1 convolution with the kernel turned by 180°. The turn
# comes from PyTorch's convention: `conv2d` slides the kernel unflipped (a cross-correlation),
# while painting copies it the other way round, as seen from the output. The cell checks this on
# the decoder's layer type.

# %%
from torch import nn

torch.manual_seed(0)
k, p, op = 3, 1, 1  # kernel, padding, output_padding of the conv AE's transposed layers
up_layer = nn.ConvTranspose2d(1, 1, k, stride=2, padding=p, output_padding=op, bias=False)  # 4 -> 8
x4 = torch.randn(1, 1, 4, 4)
spread_out = torch.zeros(1, 1, 7, 7)  # one zero between neighbours: 2 * 4 - 1 = 7
spread_out[..., ::2, ::2] = x4
padded = nn.functional.pad(spread_out, (k - 1 - p, k - 1 - p + op) * 2)  # (1, 1, 10, 10)
with torch.no_grad():
    zero_inserted = nn.functional.conv2d(padded, up_layer.weight.flip(-2, -1))  # (1, 1, 8, 8)
    print(f"insert zeros, pad, convolve with the turned kernel = ConvTranspose2d: "
          f"{torch.allclose(zero_inserted, up_layer(x4), atol=1e-6)}")
print(f"zeros in the spread-out, padded input: {int((padded == 0).sum())} of {padded.numel()} "
      f"({(padded == 0).float().mean():.0%}); most: {(padded == 0).float().mean().item() > 0.5}")

# %% [markdown]
# The zero-insertion view shows a cost: every product with a zero of the spread-out, padded
# input (the share is printed above) is wasted work. The painting view shows another: `padding`
# crops the painted border, so some products land outside the output. The lesson's multiply-add
# count includes every painted product; the cell splits the conv AE's two transposed layers into
# products that land inside the output and products that padding crops. The counts depend only
# on the shapes, so an untrained model will do.

# %%
import torch.nn.functional as F

painted = landed = 0  # the transposed layers' products: all painted / those inside the output
for layer in ConvAutoencoder(n_latent=32, decoder="transpose").decoder:
    if isinstance(layer, nn.ConvTranspose2d):
        side = 7 if layer.in_channels == 32 else 14  # its input: (B, 32, 7, 7), then (B, 16, 14, 14)
        painted += side * side * layer.weight[0].numel() * layer.in_channels  # every input value paints C_out*k*k
        taps = F.conv_transpose2d(torch.ones(1, 1, side, side), torch.ones(1, 1, *layer.kernel_size),
                                  stride=layer.stride, padding=layer.padding, output_padding=layer.output_padding)
        landed += int(taps.sum()) * layer.in_channels * layer.out_channels  # only those inside the output
print(f"conv AE (transpose), its two transposed layers: {painted:,} products painted, {landed:,} inside "
      f"the output, {painted - landed:,} ({(painted - landed) / painted:.0%}) on the border that padding crops")

# %% [markdown]
# ## Lab section J: the rate searches up close
#
# The setup searched three starting rates for the dense AE and the conv AE and kept every run.
# The lesson shows only the kept ones. Here are the others. First, the dense AE at the highest
# rate: did it fail, and how? A collapsed autoencoder gives nearly the same output for every image
# (its outputs vary far less between images than the images do), and its loss is close to that of
# the mean training image. Then the dead encoder channels of the conv AE at each rate: the search
# rule looks at the validation error only, not at how many channels stay alive.

# %%
from course_utils.conv_filters import dead_channels
from course_utils.models import dead_units

top_loss = {lr: run[1]["valid_loss"][-1] for lr, run in searched["dense AE"].items()}  # lr -> final validation loss
top_model, top_hist = searched["dense AE"][max(rates)][:2]
flat_valid = x_valid.flatten(1)  # (N, 784)
mean_image_loss = (flat_valid - mean_image.reshape(1, -1)).square().sum(dim=1).mean().item()  # always the mean image
with torch.no_grad():
    spread = top_model(x_curve).flatten(1).std(dim=0).mean().item()  # how much its output changes between images
data_spread = x_curve.flatten(1).std(dim=0).mean().item()  # how much the images themselves change
failed = top_loss[max(rates)] > 2 * min(top_loss.values())
collapsed = failed and spread < 0.1 * data_spread
blew_up = failed and not collapsed and top_hist["train_loss"][-1] > top_hist["train_loss"][0]
top_dead = [int(mask.sum()) for mask in dead_units(top_model, x_curve)]  # [encoder, decoder] hidden layers
print(f"In this run: the dense AE at {max(rates):g} ended at {top_loss[max(rates)] / min(top_loss.values()):.1f} x "
      f"the best validation loss ({top_loss[max(rates)]:.2f}; the mean training image for every input scores "
      f"{mean_image_loss:.2f}); its output varies by {spread:.4f} between images, the images by {data_spread:.3f}: "
      + ("it collapsed to one output for every image, not a blow-up: the rate was too high even with the "
         "warm-up." if collapsed else "it blew up (far above the best, training loss rising)." if blew_up
         else "it failed without collapsing or blowing up." if failed else "it did not fail.")
      + f" Dead ReLU units (0 on all {len(x_curve)} of these images): {top_dead[0]} of 128 in the encoder's "
      f"hidden layer, {top_dead[1]} of 128 in the decoder's.")
dense_dead = [int(mask.sum()) for mask in dead_units(models["dense AE"], x_test.to(course.device))]
print(f"the kept dense AE (rate {chosen_lr['dense AE']:g}): dead ReLU units on all {len(x_test):,} test images: "
      f"{dense_dead[0]} of 128 in the encoder's hidden layer, {dense_dead[1]} of 128 in the decoder's")
valid_dead = {lr: sum(int(m.sum()) for m in list(dead_channels(run[0], x_valid).values())[:2])
              for lr, run in searched[t_name].items()}  # dead encoder channels (16 + 32) on the validation images
print("conv AE, dead encoder channels (0 on every validation image), of 48: "
      + ", ".join(f"{lr:g}: {valid_dead[lr]}" for lr in rates))
fewest = min(valid_dead.values())
print(f"In this run: the kept rate {lr_conv:g} has {valid_dead[lr_conv]} dead encoder channels, "
      + ("the fewest of the rates tried." if valid_dead[lr_conv] == fewest else
         f"more than the {fewest} of another rate tried (the rule looks at the error only)."))

# %% [markdown]
# Back to [lesson 03](03_convolutional_autoencoders.ipynb) · Next: [04 · Denoising autoencoders](04_denoising_autoencoders.ipynb).
