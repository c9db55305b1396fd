"""How much class information a code holds, and how wide a code to choose (lesson 02).

The autoencoder is trained without labels; the labels come in only here, to score its codes.

- ``nearest_neighbour_hits``: for each query, does its nearest reference code (Euclidean, in all
  the code's dimensions) have the query's class? No training at all.
- ``linear_probe``: a linear layer + softmax fitted on codes WITH their labels, its number of
  full-batch steps chosen on labelled validation codes (never on the test codes it is scored on).
- ``hits_of_probe``: which test rows a probe gets right.
- ``few_label_nn``: the nearest-neighbour test with only a few labelled references, codes against
  pixels, over several random draws of which references get labels.
- ``doubling_cuts`` and ``elbow_k``: the share of the validation error one doubling of the code
  size removes, and the rule "take the smallest k after which a doubling cuts less than 15%".

One idea: measure a code against labels it never saw, and pick its size from a sweep.
"""

from __future__ import annotations

import copy
import math
from itertools import pairwise
from typing import NamedTuple

import torch
from torch import Tensor, nn

from course_utils.inputs import InputError


def _check_rows(x: Tensor, labels: Tensor, name: str) -> None:
    """Raise a clear error unless x is (n, d) and labels is (n,) integer class numbers."""
    if x.dim() != 2 or labels.dim() != 1 or len(x) != len(labels):
        raise InputError(
            f"{name} expects codes of shape (n, d) and labels of shape (n,), but received "
            f"{tuple(x.shape)} and {tuple(labels.shape)}. Flatten images first (x.flatten(1)) "
            "and pass one label per row (the same slice, e.g. x[:n] with y[:n])."
        )
    if not torch.isfinite(x).all():
        raise InputError(
            f"{name} expects finite codes, but {int((~torch.isfinite(x)).sum())} values are nan "
            "or inf (a nan row would be every query's nearest neighbour). Check the model that "
            "made them: a diverged training run gives nan codes."
        )
    if labels.is_floating_point() or labels.is_complex():
        raise InputError(
            f"{name} expects integer class labels, but received {labels.dtype}. Pass the "
            "dataset's labels as they are (e.g. data.train.y), or convert with labels.long()."
        )


def nearest_neighbour_hits(ref_codes, ref_labels, query_codes, query_labels) -> Tensor:
    """(n_ref, d), (n_ref,), (n_query, d), (n_query,) -> (n_query,) hits: 1.0 where the query's
    nearest reference code has the query's class, else 0.0."""
    _check_rows(ref_codes, ref_labels, "nearest_neighbour_hits (references)")
    _check_rows(query_codes, query_labels, "nearest_neighbour_hits (queries)")
    nearest = torch.cdist(query_codes, ref_codes).argmin(dim=1)  # (n_query,) index into ref
    return (ref_labels[nearest] == query_labels).float()


def linear_probe(
    train_x, train_y, valid_x, valid_y, checkpoints, n_classes: int, lr=0.05, patience: int = 2,
    curve: dict | None = None,
):  # fmt: skip
    """Fit a linear layer + softmax on (n, d) rows with labels (n,), by full-batch Adam steps.

    At each step count in ``checkpoints`` (increasing, e.g. (50, 100, 200, ...)) the probe is
    scored on the labelled validation rows; the best one is kept (the earlier one on a tie), and
    training stops once ``patience`` checkpoints in a row do not beat it. Returns (probe, its
    number of steps). A dict passed as ``curve`` receives {step: validation accuracy} for every
    checkpoint tried. Seeded: the same inputs give the same probe.
    """
    _check_rows(train_x, train_y, "linear_probe (training rows)")
    _check_rows(valid_x, valid_y, "linear_probe (validation rows)")
    if len(train_y) == 0:
        raise InputError(
            "linear_probe received no training rows, so there is nothing to fit. Pass the "
            "labelled training codes, e.g. predict(model, x_train[:n_ref], fn=encode)."
        )
    if len(valid_y) == 0:
        raise InputError(
            "linear_probe received no validation rows, so it cannot choose its number of steps. "
            "Pass some labelled validation codes, e.g. predict(model, x_valid[:2000], fn=encode)."
        )
    checkpoints = list(checkpoints)
    if (
        not checkpoints
        or checkpoints != sorted(set(checkpoints))
        or checkpoints[0] < 1
        or patience < 1
    ):
        raise InputError(
            f"linear_probe expects increasing positive step counts and patience >= 1, but "
            f"received {checkpoints} and patience={patience}. Pass e.g. (50, 100, 200, 400)."
        )
    with torch.random.fork_rng(devices=[]):  # seeded here, the caller's random state untouched
        torch.manual_seed(0)
        probe = nn.Linear(train_x.shape[1], n_classes)  # (B, d) -> class scores (B, n_classes)
    probe = probe.to(device=train_x.device, dtype=train_x.dtype)  # where the codes are
    optimizer = torch.optim.Adam(probe.parameters(), lr=lr)
    best_accuracy, best_step, best_probe = -1.0, checkpoints[0], None
    for step in range(1, checkpoints[-1] + 1):  # full-batch steps
        optimizer.zero_grad()
        nn.functional.cross_entropy(probe(train_x), train_y).backward()  # uses the labels
        optimizer.step()
        if step in checkpoints:
            with torch.no_grad():
                accuracy = (probe(valid_x).argmax(dim=1) == valid_y).float().mean().item()
            if curve is not None:
                curve[step] = accuracy
            if accuracy > best_accuracy:
                best_accuracy, best_step, best_probe = accuracy, step, copy.deepcopy(probe)
            elif checkpoints.index(step) - checkpoints.index(best_step) >= patience:
                break  # `patience` checkpoints in a row not above the best: no more steps
    return best_probe, best_step


def hits_of_probe(probe: nn.Module, x: Tensor, labels: Tensor) -> Tensor:
    """(n, d) rows and their (n,) labels -> (n,) hits: 1.0 where the probe's top class is right."""
    _check_rows(x, labels, "hits_of_probe")
    with torch.no_grad():
        return (probe(x).argmax(dim=1) == labels).float()


class FewLabelResult(NamedTuple):
    """Mean nearest-neighbour accuracies over the draws, and standard errors (draws + images)."""

    codes: float
    pixels: float
    codes_se: float
    pixels_se: float
    difference: float  # codes - pixels
    se: float  # the standard error of the difference


def _draws_se(per_draw: Tensor, per_image: Tensor) -> float:
    """Standard error of a mean over (draws, n) hits: the spread over the draws plus the
    sampling of the n test images, sqrt(var(per_draw) / draws + var(per_image) / n). Slightly
    conservative: a draw-by-image interaction is counted in both terms."""
    return (per_draw.var() / len(per_draw) + per_image.var() / len(per_image)).sqrt().item()


def few_label_nn(
    ref_codes,
    ref_pixels,
    ref_labels,
    query_codes,
    query_pixels,
    query_labels,
    n_labels: int,
    n_draws: int = 10,
    generator=None,
) -> FewLabelResult:
    """The nearest-neighbour test with only ``n_labels`` labelled references, codes vs pixels.

    ref_codes (n_ref, k) and ref_pixels (n_ref, 784) describe the same reference images, with
    labels (n_ref,); query_* likewise for the test images. Each of ``n_draws`` rounds picks
    ``n_labels`` references at random (``generator``) and scores both inputs on all queries.
    """
    _check_rows(ref_codes, ref_labels, "few_label_nn (reference codes)")
    _check_rows(ref_pixels, ref_labels, "few_label_nn (reference pixels)")
    _check_rows(query_codes, query_labels, "few_label_nn (query codes)")
    _check_rows(query_pixels, query_labels, "few_label_nn (query pixels)")
    if len(query_labels) < 2:
        raise InputError(
            f"few_label_nn needs at least 2 test images for a standard error, but received "
            f"{len(query_labels)}. Pass all the test codes, e.g. codes[:n_query]."
        )
    if not 1 <= n_labels <= len(ref_labels) or n_draws < 2:
        raise InputError(
            f"few_label_nn expects 1 <= n_labels <= {len(ref_labels)} (the references) and "
            f"n_draws >= 2, but received n_labels={n_labels}, n_draws={n_draws}. Pass e.g. "
            "n_labels=100, n_draws=10."
        )
    code_hits, pixel_hits = [], []  # one (n_query,) row of hits per draw
    for _ in range(n_draws):
        chosen = torch.randperm(len(ref_labels), generator=generator)[:n_labels]
        code_hits.append(nearest_neighbour_hits(ref_codes[chosen], ref_labels[chosen],
                                                query_codes, query_labels))  # fmt: skip
        pixel_hits.append(nearest_neighbour_hits(ref_pixels[chosen], ref_labels[chosen],
                                                 query_pixels, query_labels))  # fmt: skip
    codes, pixels = torch.stack(code_hits), torch.stack(pixel_hits)  # (draws, n_query) each
    gap = codes - pixels
    return FewLabelResult(
        codes.mean().item(), pixels.mean().item(),
        _draws_se(codes.mean(dim=1), codes.mean(dim=0)),
        _draws_se(pixels.mean(dim=1), pixels.mean(dim=0)),
        gap.mean().item(), _draws_se(gap.mean(dim=1), gap.mean(dim=0)),
    )  # fmt: skip


def doubling_cuts(valid_errors: dict[int, float]) -> dict[int, float]:
    """{k: validation error} -> {k: share of the error one doubling of k removes}, measured from
    each k to the next k tried (a geometric mean when that step is several doublings, 2 -> 8)."""
    ks = sorted(valid_errors)
    if len(ks) < 2 or ks[0] < 1 or not all(0 < valid_errors[k] < math.inf for k in ks):
        raise InputError(
            f"doubling_cuts expects at least two code sizes >= 1 with finite errors > 0, but "
            f"received {valid_errors}. Retrain any run that diverged (nan or inf), then pass e.g. "
            "{2: 0.031, 8: 0.019, 32: 0.011}."
        )
    return {a: 1 - (valid_errors[b] / valid_errors[a]) ** (1 / math.log2(b / a))
            for a, b in pairwise(ks)}  # fmt: skip


def doubling_cut_ranges(
    valid_errors: dict[int, float], relative_margin: float
) -> dict[int, tuple[float, float]]:
    """{k: validation error}, a relative noise margin m -> {k: (lowest, highest) cut per doubling}.

    Each error may be off by m of itself (e.g. a seed noise margin / the mean error): the cut from
    a to b is lowest with e_a (1 - m) and e_b (1 + m), highest the other way round. A range that
    contains the rule's line (15%) is a close call: another seed could move the choice of k.
    """
    if not 0 <= relative_margin < 1:
        raise InputError(
            f"doubling_cut_ranges expects the margin as a fraction of the error in [0, 1), but "
            f"received {relative_margin}. Pass e.g. noise_margin / seed_mean."
        )
    doubling_cuts(valid_errors)  # the same checks of the errors
    ks, m = sorted(valid_errors), relative_margin
    lowest = {a: 1 - (valid_errors[b] * (1 + m) / (valid_errors[a] * (1 - m)))
              ** (1 / math.log2(b / a)) for a, b in pairwise(ks)}  # fmt: skip
    highest = {a: 1 - (valid_errors[b] * (1 - m) / (valid_errors[a] * (1 + m)))
               ** (1 / math.log2(b / a)) for a, b in pairwise(ks)}  # fmt: skip
    return {a: (lowest[a], highest[a]) for a in lowest}


def elbow_k(valid_errors: dict[int, float], min_cut: float = 0.15) -> int | None:
    """The smallest k after which doubling k cuts the validation error by less than ``min_cut``;
    None when every step tried still cuts more (then try wider codes)."""
    if not 0 < min_cut < 1:
        raise InputError(
            f"elbow_k expects min_cut as a fraction between 0 and 1, but received {min_cut}. "
            "Pass e.g. min_cut=0.15 for 15%."
        )
    return min((k for k, cut in doubling_cuts(valid_errors).items() if cut < min_cut), default=None)
