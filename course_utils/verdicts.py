"""Is a difference real? The yardsticks behind lesson 02's printed verdicts.

Each function turns numbers measured in a run into one yardstick; the lesson prints the verdict.

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
- ``oriented``: a baseline score read in the direction that detects (negated if AUROC < 0.5).
- ``error_margin_word`` and ``consensus``: turn a compared error, or several measures of one
  difference, into the words of an "In this run" line; ``class_information_words`` writes that
  consensus out for codes against pixels.
- ``share_word``, ``overfitting_words``, ``compare_to_best`` and ``times_as_many``: small
  sentence parts, so that a lesson cell prints one verdict instead of building it.

A difference counts as real when it is more than two standard errors (``Comparison.word``).
Section B of the lab of lesson 02 (02_stacked_autoencoders_lab) derives the margin and checks it
on simulated runs.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor

from course_utils.anomaly import auroc, auroc_difference_se


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


def t_quantile(p: float, df: int) -> float:
    """The p-quantile (0.5 < p < 1) of Student's t distribution with df degrees of freedom.

    Solves P(0 < T < t) = p - 0.5 by bisection, the probability integrated from the density
    Gamma((df+1)/2) / (sqrt(df pi) Gamma(df/2)) * (1 + x^2/df)^(-(df+1)/2) (trapezoids).
    t_quantile(0.975, 2) = 4.303, the factor behind the noise margin of 3 seeds.
    """
    if not 0.5 < p < 1 or df < 1:
        raise ValueError(
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
        raise ValueError(
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
        raise ValueError(
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
        raise ValueError(
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


def oriented(pair) -> tuple[tuple, bool]:
    """A baseline read the way that detects: (normal (N0,), anomalous (N1,)) -> (pair, flipped).

    The scores are negated when their AUROC is below 0.5. Choosing the direction on the images
    we report on can only help the baseline: it makes the autoencoder's opponent stronger.
    """
    flipped = auroc(*pair) < 0.5
    return ((-pair[0], -pair[1]) if flipped else pair), flipped


def error_margin_word(error_a: float, error_b: float, margin: float) -> str:
    """How error a compares with error b against a noise margin (lower error = better):
    'within the noise margin', 'worse by more than the noise margin' or 'better by more ...'."""
    if not margin >= 0:
        raise ValueError(
            f"error_margin_word: margin must be >= 0, got {margin}; pass the margin "
            "itself (e.g. seed_noise_margin(errors)), not a signed difference"
        )
    if abs(error_a - error_b) <= margin:
        return "within the noise margin"
    return ("worse" if error_a > error_b else "better") + " by more than the noise margin"


def consensus(differences: dict[str, float], tie: float = 0.03) -> str:
    """Several measures of one difference a - b (name -> fraction, 0.03 = 3 points), summed up:
    'higher' (every one above tie), 'lower' (every one below -tie), 'tie' (all within tie,
    same sign), 'tie, mixed signs' (all within tie, signs differ) or 'split' (the rest)."""
    if not differences:
        raise ValueError("consensus: expected at least one measure (name -> difference), got none")
    values = list(differences.values())
    if min(values) > tie:
        return "higher"
    if max(values) < -tie:
        return "lower"
    if max(abs(v) for v in values) <= tie:
        return "tie, mixed signs" if min(values) < 0 < max(values) else "tie"
    return "split"


def class_information_words(
    differences: dict[str, float],
    tie: float = 0.03,
    codes: str = "the codes",
    pixels: str = "the pixels",
) -> str:
    """``consensus`` of several class measures, codes minus pixels (name -> fraction), in words.

    Example: {"1-NN": 0.007, "probe": -0.019} -> "all within 1.9%, so the codes keep about as much
    class information as the pixels, and which one wins depends on the measure".
    """
    verdict = consensus(differences, tie)  # raises a clear error on an empty dict
    largest = max(abs(d) for d in differences.values())
    words = {
        "higher": f"{codes} hold more class information by every measure",
        "lower": f"{codes} hold less class information by every measure",
        "tie": f"all within {largest:.1%}, so {codes} keep about as much class information as "
        f"{pixels}",
        "split": f"at least one measure puts {codes} more than {tie * 100:g} percentage points "
        f"from {pixels}",
    }
    if verdict == "tie, mixed signs":
        return words["tie"] + ", and which one wins depends on the measure"
    return words[verdict]


def share_word(share: float, most: float = 0.65, half: float = 0.35) -> str:
    """A share (0.54 = 54%) in words: 'most' above ``most``, 'about half' from ``half`` up to
    ``most``, else 'only a small part'."""
    if not half <= most:
        raise ValueError(f"share_word expects half <= most, got half={half}, most={most}")
    return "most" if share > most else "about half" if share >= half else "only a small part"


def overfitting_words(gaps: dict[str, float], limit: float = 0.05) -> str:
    """Relative overfitting gaps (name -> valid / train - 1) in words, at the gap ``limit``:
    'no gap over 5%, so none overfits' or 'gap over 5%, so overfitting: dense AE +12.0%'."""
    if not gaps:
        raise ValueError("overfitting_words: expected at least one gap (name -> gap), got none")
    over = [f"{name} {gap:+.1%}" for name, gap in gaps.items() if gap > limit]
    if not over:
        return f"no gap over {limit:.0%}, so none overfits"
    return f"gap over {limit:.0%}, so overfitting: " + ", ".join(over)


def compare_to_best(hits: dict, chosen, label: str = "k") -> str:
    """Does the chosen setting's hit rate tie the best one, by two paired standard errors?

    hits: setting -> (n,) hits on the SAME queries; chosen: one of its keys. Returns e.g.
    '82.5% ties the best (83.0% at k = 64)' or '57.3% is clearly below the best (83.0% at
    k = 64); the smallest k that ties is 32' (settings ordered by their keys).
    """
    if chosen not in hits:
        raise ValueError(
            f"compare_to_best: chosen={chosen!r} is not one of {list(hits)}; pass a key of hits"
        )
    rates = {key: _hits(h, f"hits[{key!r}]").mean().item() for key, h in hits.items()}
    best = max(rates, key=rates.get)
    ties = [key for key in sorted(hits) if not clearly_above(hits[best], hits[key])]
    words = f"{rates[chosen]:.1%} " + (
        "ties the best" if chosen in ties else "is clearly below the best"
    )
    words += f" ({rates[best]:.1%} at {label} = {best})"
    if chosen not in ties:
        words += f"; the smallest {label} that ties is {ties[0]}"
    return words


def times_as_many(name_a: str, count_a: float, name_b: str, count_b: float, what: str) -> str:
    """How many times b's share of ``what`` (0.0385 = 3.85%) is a's, in words; safe at 0.

    Example: ("the AE", 0.0031, "PCA-32", 0.0385, "pairs in the wrong order") -> 'PCA-32 has
    12.4 times as many pairs in the wrong order as the AE'."""
    if count_a < 0 or count_b < 0:
        raise ValueError(f"times_as_many expects counts >= 0, got {count_a} and {count_b}")
    if count_a == 0 and count_b == 0:
        return f"neither {name_a} nor {name_b} has any {what}"
    if count_a == 0:
        return f"{name_a} has no {what}; {name_b} has {count_b:.2%}"
    return f"{name_b} has {count_b / count_a:.1f} times as many {what} as {name_a}"
