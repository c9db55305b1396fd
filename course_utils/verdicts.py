"""Is a difference real? The yardsticks behind lesson 02's printed verdicts.

Each function turns numbers measured in a run into one yardstick or one word of a verdict; the
notebook cell prints the numbers beside the word.

- ``margin_word``: "clearly below", "clearly above" or "within the noise margin of", for one
  number against another, given the margin a difference must exceed to count.
- ``late_fall``: is a validation curve still falling at the end of training?
- ``seed_noise_margin``: the 95% prediction interval of ONE more training run, from the test
  errors of a few seeds: t(0.975, n-1) * s * sqrt(1 + 1/n).
- ``seed_mean_margin``: the 95% confidence interval of the MEAN of those seeds, t(0.975, n-1) * s /
  sqrt(n), for comparing that mean with a fixed number (PCA's error has no seed noise).
- ``paired_se`` and ``compare_rates``: two hit rates measured on the SAME queries; the standard
  error of their difference is std(per-query difference) / sqrt(n).
- ``auroc_margin`` and ``clearly_ahead``: two detectors scored on the same images; the
  standard error of their AUROC difference comes from a bootstrap over the images
  (``anomaly.auroc_difference_se``).
- ``auroc_se``: the bootstrap standard error of ONE detector's AUROC (an error bar).
- ``noise_band_figure``: errors as dots, with the noise margin around a mean of seeds shaded.
- ``oriented``: a baseline score read in the direction that detects (negated if AUROC < 0.5,
  decided on validation images when given).

A difference counts as real when it is more than two standard errors (``Comparison.word``).
Section B of the lab of lesson 02 (02_stacked_autoencoders_lab) derives the margin and checks it
on simulated runs.
"""

from __future__ import annotations

import math
import numbers
from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor

from course_utils.anomaly import auroc, auroc_difference_se
from course_utils.inputs import InputError
from course_utils.plots import NotebookFigure


class Comparison(NamedTuple):
    """A difference a - b and its standard error; unpacks as ``difference, se = comparison``."""

    difference: float
    se: float

    @property
    def word(self) -> str:
        """'above', 'below' or 'indistinguishable from', at two standard errors."""
        if self.difference > 2 * self.se:
            return "above"
        if self.difference < -2 * self.se:
            return "below"
        return "indistinguishable from"

    @property
    def clear(self) -> bool:
        """True when a exceeds b by more than two standard errors."""
        return self.difference > 2 * self.se


def margin_word(
    a: float,
    b: float,
    margin: float,
    lower: str = "clearly below",
    higher: str = "clearly above",
    tie: str = "within the noise margin of",
) -> str:
    """How number a compares with number b when a difference counts only beyond ``margin``.

    Returns ``lower`` if a < b - margin, ``higher`` if a > b + margin, else ``tie``; e.g.
    margin_word(0.0104, 0.0152, 0.0002) = "clearly below".
    """
    given = {}
    for name, value in {"a": a, "b": b, "margin": margin}.items():
        try:
            given[name] = float(value)  # a float, an int, a numpy or a one-element torch number
        except (TypeError, ValueError, RuntimeError):
            given[name] = math.nan
        if math.isnan(given[name]):
            raise InputError(
                f"margin_word expects {name} as a number, but received {value!r}. Pass plain "
                "numbers, e.g. margin_word(test_mse_a, test_mse_b, noise_margin)."
            )
    a, b, margin = given["a"], given["b"], given["margin"]
    if margin < 0:
        raise InputError(
            f"margin_word expects a margin >= 0, but received {margin}. Pass the half-width of the "
            "interval, e.g. seed_noise_margin(errors)."
        )
    return lower if a < b - margin else higher if a > b + margin else tie


class LateFall(NamedTuple):
    """The validation error from the epoch at about 80% of training to the last epoch."""

    start: float
    end: float
    late_steps: int  # the optimizer steps between those two epochs; 0 = one epoch only
    total_steps: int

    @property
    def still_falling(self) -> bool | None:
        """True if the error fell by more than 1% over the late steps; None with one epoch."""
        return None if self.late_steps == 0 else (self.start - self.end) / abs(self.start) > 0.01

    def __str__(self) -> str:
        if self.late_steps == 0:
            return ("one history row: the slope at the end cannot be measured (fast mode or one "
                    "epoch)")  # fmt: skip
        verdict = ("still falling by more than 1% (under-trained at this budget)"
                   if self.still_falling else "flat at the end (within 1%)")  # fmt: skip
        change = (self.end - self.start) / abs(self.start)
        return (f"validation loss over the last {self.late_steps:,} of {self.total_steps:,} "
                f"steps: {self.start:.4g} -> {self.end:.4g} ({change:+.1%}): "
                f"{verdict}")  # fmt: skip


def late_fall(history, steps_per_epoch: int) -> LateFall:
    """Has the validation error stopped falling at the end of training?

    history: what ``fit`` returns (or a dict) with one "valid_loss" per epoch; steps_per_epoch:
    the optimizer steps in one epoch. Compares the last epoch with the one at about 80% of the
    steps; ``print`` the result for the sentence, ``.still_falling`` for the verdict.
    """
    try:
        curve = [float(v) for v in history["valid_loss"]]  # one value per epoch
    except (KeyError, TypeError) as error:
        raise InputError(
            f"late_fall expects a training history with validation losses, but received "
            f"{type(history).__name__} ({error}). Train with fit(model, x_train, x_valid, ...)."
        ) from None
    if not curve:
        raise InputError(
            "late_fall received a history with no validation losses. Pass x_valid to fit so that "
            "it scores the validation images after every epoch."
        )
    if not isinstance(steps_per_epoch, numbers.Integral) or steps_per_epoch < 1:
        raise InputError(
            f"late_fall expects steps_per_epoch as a whole number >= 1, but received "
            f"{steps_per_epoch!r}. Pass math.ceil(len(x_train) / batch_size)."
        )
    if not all(math.isfinite(v) and v > 0 for v in curve):
        raise InputError(
            f"late_fall expects positive, finite validation losses, but received {curve}. A nan "
            "or inf means the training diverged: lower the learning rate and train again."
        )
    steps_per_epoch = int(steps_per_epoch)
    total = len(curve) * steps_per_epoch
    if len(curve) < 2:
        return LateFall(curve[0], curve[0], 0, total)
    start = min(round(0.8 * (len(curve) - 1)), len(curve) - 2)  # the epoch at ~80% of the steps
    return LateFall(curve[start], curve[-1], (len(curve) - 1 - start) * steps_per_epoch, total)


def t_quantile(p: float, df: int) -> float:
    """The p-quantile (0.5 < p < 1) of Student's t distribution with df degrees of freedom.

    Solves P(0 < T < t) = p - 0.5 by bisection, the probability integrated from the density
    Gamma((df+1)/2) / (sqrt(df pi) Gamma(df/2)) * (1 + x^2/df)^(-(df+1)/2) (trapezoids).
    t_quantile(0.975, 2) = 4.303, the factor behind the noise margin of 3 seeds.
    """
    if not 0.5 < p < 1 or df < 1:
        raise InputError(
            f"t_quantile expects 0.5 < p < 1 and df >= 1, but received p={p}, df={df}. "
            "Pass e.g. p=0.975 and df=n-1 for n runs."
        )
    scale = math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2)) / math.sqrt(df * math.pi)

    def mass(t: float) -> float:  # P(0 < T < t)
        x = np.linspace(0.0, t, 20_001)
        y = scale * (1 + x**2 / df) ** (-(df + 1) / 2)  # the density at x
        return float((y.sum() - (y[0] + y[-1]) / 2) * (x[1] - x[0]))  # trapezoids

    low, high = 0.0, 1.0
    while mass(high) < p - 0.5:
        high *= 2
    for _ in range(50):
        mid = (low + high) / 2
        low, high = (mid, high) if mass(mid) < p - 0.5 else (low, mid)
    return (low + high) / 2


def _seed_spread(errors, caller: str) -> tuple[int, float]:
    """errors: (n,) seed errors, n >= 2 -> (n, s), s their sample standard deviation (n - 1)."""
    values = [float(e) for e in errors]
    if len(values) < 2:
        raise InputError(
            f"{caller} needs the errors of at least 2 seeds, but received {len(values)}. "
            "Train the model with one more seed and pass all the errors."
        )
    n = len(values)
    mean = sum(values) / n
    return n, math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))


def seed_noise_margin(errors) -> float:
    """95% prediction interval (half-width) for one more run, from n >= 2 seed errors.

    errors: (n,) test errors of the same model trained with n seeds. Returns
    t(0.975, n-1) * s * sqrt(1 + 1/n), s the sample standard deviation (n-1 in the denominator).
    """
    n, s = _seed_spread(errors, "seed_noise_margin")
    return t_quantile(0.975, n - 1) * s * math.sqrt(1 + 1 / n)


def seed_mean_margin(errors) -> float:
    """95% confidence interval (half-width) for the mean of n >= 2 seed errors.

    errors: (n,) test errors of the same model trained with n seeds. Returns
    t(0.975, n-1) * s / sqrt(n): the yardstick for comparing the n-seed mean with a fixed number
    (such as PCA's error); seed_noise_margin is the one for a single new run.
    """
    n, s = _seed_spread(errors, "seed_mean_margin")
    return t_quantile(0.975, n - 1) * s / math.sqrt(n)


def _hits(hits: Tensor, name: str) -> Tensor:
    hits = torch.as_tensor(hits, dtype=torch.float64).detach().cpu()
    if hits.dim() != 1 or len(hits) < 2:
        raise InputError(
            f"{name} must be a 1-D tensor of per-query hits (1 right, 0 wrong) with at least 2 "
            f"queries, but received shape {tuple(hits.shape)}. Pass one value per query."
        )
    return hits


def paired_se(hits_a, hits_b) -> float:
    """Standard error of mean(hits_a) - mean(hits_b), both measured on the same queries.

    hits_a, hits_b: (n,) each, 1 where a query is answered right, else 0. The per-query
    difference is +1, 0 or -1; the result is its standard deviation over sqrt(n). It covers the
    choice of test queries, not the training seed.
    """
    a, b = _hits(hits_a, "hits_a"), _hits(hits_b, "hits_b")
    if a.shape != b.shape:
        raise InputError(
            f"paired_se expects both methods scored on the same queries, but received "
            f"{len(a)} and {len(b)} hits. Score the same queries with both methods."
        )
    difference = a - b  # (n,) values -1, 0, 1
    return (difference.std() / len(difference) ** 0.5).item()


def compare_rates(hits_a, hits_b) -> Comparison:
    """mean(hits_a) - mean(hits_b) and its paired standard error: (n,), (n,) -> Comparison."""
    difference = (_hits(hits_a, "hits_a").mean() - _hits(hits_b, "hits_b").mean()).item()
    return Comparison(difference, paired_se(hits_a, hits_b))


def clearly_above(hits_a, hits_b) -> bool:
    """True when rate a exceeds rate b by more than two paired standard errors."""
    return compare_rates(hits_a, hits_b).clear


def auroc_margin(pair_a, pair_b, seed: int = 0) -> Comparison:
    """AUROC(a) - AUROC(b) and the bootstrap standard error of that difference.

    pair_a, pair_b: (normal scores (N0,), anomalous scores (N1,)) of the same images.
    """
    return Comparison(
        auroc(*pair_a) - auroc(*pair_b), auroc_difference_se(pair_a, pair_b, seed=seed)
    )


def auroc_se(normal, anomalous, n_boot: int = 200, seed: int = 0) -> float:
    """Bootstrap standard error of AUROC(normal (N0,), anomalous (N1,)) over the images.

    Each of ``n_boot`` rounds redraws N0 normal and N1 anomalous scores with replacement and
    recomputes the AUROC; the result is the standard deviation of those AUROCs.
    """
    normal = np.asarray(torch.as_tensor(normal).detach().cpu(), dtype=np.float64).ravel()
    anomalous = np.asarray(torch.as_tensor(anomalous).detach().cpu(), dtype=np.float64).ravel()
    auroc(normal, anomalous)  # raises a clear error unless both sets have scores
    rng = np.random.default_rng(seed)
    values = [
        auroc(normal[rng.integers(0, len(normal), len(normal))],
              anomalous[rng.integers(0, len(anomalous), len(anomalous))])
        for _ in range(n_boot)
    ]  # fmt: skip
    return float(np.std(values, ddof=1))


def clearly_ahead(pair_a, pair_b, seed: int = 0) -> bool:
    """True when detector a's AUROC beats b's by more than two bootstrap standard errors."""
    return auroc_margin(pair_a, pair_b, seed=seed).clear


def oriented(pair, decide_on=None) -> tuple[tuple, bool]:
    """A baseline read the way that detects: (normal (N0,), anomalous (N1,)) -> (pair, flipped).

    The scores are negated when the AUROC of ``decide_on`` (another (normal, anomalous) pair of
    the same score, e.g. on validation images) is below 0.5, so the test images play no part
    in the choice. Without ``decide_on`` the direction is chosen on ``pair`` itself, which can
    only help the baseline: it makes the autoencoder's opponent stronger.
    """
    flipped = auroc(*(pair if decide_on is None else decide_on)) < 0.5
    return ((-pair[0], -pair[1]) if flipped else pair), flipped


def noise_band_figure(panels: dict, title: str = "", xlabel: str = "test MSE per pixel"):
    """Test errors as dots, one panel per code size (or any grouping), each on its own scale.

    panels: {panel title: {row label: errors}}, errors a number or a list (one per seed). A row
    with 2 or more errors also gets its mean (a vertical line) and the band mean +-
    seed_noise_margin(errors), shaded across the panel: a dot outside the band differs by more
    than the seed noise. Colours go by row position: list the rows in the same order in every
    panel (missing rows last) so that a colour means the same model throughout.
    """
    if not panels or not all(isinstance(rows, dict) and rows for rows in panels.values()):
        raise InputError(
            f"noise_band_figure expects {{panel title: {{row label: errors}}}} with at least one "
            f"row per panel, but received {panels!r}. Pass e.g. {{'k = 32': {{'PCA': 0.015, "
            "'AE, 3 seeds': [0.0104, 0.0105, 0.0103]}}}}."
        )
    n_rows = max(len(rows) for rows in panels.values())
    fig = NotebookFigure(figsize=(4.6 * len(panels), 0.5 * n_rows + 1.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(panels)))
    for ax, (panel, rows) in zip(axes, panels.items(), strict=True):
        labels = list(rows)
        for y, label in enumerate(labels):
            colour = f"C{y}"  # by row: list the rows in the same order in every panel
            errors = np.atleast_1d(np.asarray(rows[label], dtype=float))
            ax.plot(errors, np.full(len(errors), y), "o", color=colour, markersize=7, alpha=0.8)
            if len(errors) >= 2:
                mean, margin = errors.mean(), seed_noise_margin(errors)
                ax.axvspan(mean - margin, mean + margin, color=colour, alpha=0.15)
                ax.axvline(mean, color=colour, linewidth=1)
        ax.set_yticks(range(len(labels)), labels)
        ax.set_ylim(len(labels) - 0.5, -0.5)  # the first row on top
        ax.set(title=panel, xlabel=xlabel)
        ax.grid(axis="x", alpha=0.3)
    if title:
        fig.suptitle(title)
    return fig
