"""Anomaly detection by reconstruction error (lesson 02).

An autoencoder trained on one kind of image reconstructs that kind well and other kinds badly,
so its reconstruction error is an anomaly SCORE: the higher, the more unusual the image.

- ``mse_per_pixel_per_image``: one score per image, the mean squared error over its pixels.
- ``roc_curve`` and ``auroc``: how well the scores separate normal from anomalous images, for
  every possible threshold at once. Written out here with numpy so you can read the computation;
  ``sklearn.metrics.roc_auc_score`` gives the same numbers (the tests check it).
- ``fpr_at_tpr``: the false-alarm rate at the threshold that catches 95% of the anomalies.
- ``auroc_difference_se``: how precisely two detectors' AUROCs on the same images are compared
  (a bootstrap over the images).
- ``flag_counts``: precision and recall at one threshold; ``precision_at_prevalence``: what the
  same threshold's precision becomes when anomalies are more or less common.
- ``rank_correlation``: does a score order the images as a confound (e.g. brightness) does?
- ``matched_subsets``: a normal and an anomalous subset with the same distribution of that
  confound, on which the confound alone can no longer separate them (the hard test).
- ``threshold_figure`` and ``threshold_view``: the static view and the slider over it.
- ``out_of_distribution_images``: the anomalies; when no second real dataset is on disk, crops
  of scikit-learn's sample photographs (``data_sources.photo_patches``), never the same digits;
  given the normal images, it warns if any anomaly is one of them (``shared_image_count``).

Convention: label 1 = anomaly (out of distribution), 0 = normal; an image is FLAGGED as an
anomaly when its score is at least the threshold (score >= t).

One idea: score images as anomalies and check what the score really measures. The module is
longer than most because ROC and AUROC are written out by hand and its figures live here too.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor, nn

from course_utils.data import ImageData
from course_utils.data_sources import photo_patches
from course_utils.deprecation import deprecated_alias
from course_utils.losses import sse_per_image
from course_utils.plots import NotebookFigure, as_images
from course_utils.train import predict
from course_utils.widgets import FigureView


def mse_per_pixel_per_image(model: nn.Module, x: Tensor, batch_size: int = 512) -> Tensor:
    """Mean squared error over the pixels of each image's reconstruction: x (N, ...) -> (N,).

    Entry i is ``((model(x_i) - x_i) ** 2).mean()``: the squared error of image i averaged over
    its pixels (``losses.sse_per_image`` divided by the number of pixels), one score per image.

    Runs through ``train.predict`` (eval mode, the model's device, batches); result on the CPU.
    """

    def errors(model: nn.Module, xb: Tensor) -> Tensor:
        return sse_per_image(model(xb), xb) / xb[0].numel()  # (B,)

    return predict(model, x, fn=errors, batch_size=batch_size)


def _scores_and_labels(normal, anomalous) -> tuple[np.ndarray, np.ndarray]:
    normal = np.asarray(torch.as_tensor(normal).detach().cpu(), dtype=np.float64).ravel()
    anomalous = np.asarray(torch.as_tensor(anomalous).detach().cpu(), dtype=np.float64).ravel()
    if len(normal) == 0 or len(anomalous) == 0:
        raise ValueError(
            f"Need at least one normal and one anomalous score, got {len(normal)} normal and "
            f"{len(anomalous)} anomalous."
        )
    scores = np.concatenate([normal, anomalous])
    labels = np.concatenate([np.zeros(len(normal)), np.ones(len(anomalous))])
    return scores, labels


def roc_curve(normal, anomalous) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ROC curve from the scores of normal images (N0,) and anomalous images (N1,).

    For every distinct score t, from the highest down, flag the images with score >= t and record
        false positive rate = flagged normal / N0,   true positive rate = flagged anomalous / N1.
    Tied scores are flagged together, so a tie between a normal and an anomalous image makes a
    diagonal step. Returns (fpr, tpr, thresholds), each of length (number of distinct scores + 1);
    the curve starts at (0, 0) with threshold +inf (nothing flagged) and ends at (1, 1).
    """
    scores, labels = _scores_and_labels(normal, anomalous)
    order = np.argsort(-scores, kind="stable")  # highest score first
    scores, labels = scores[order], labels[order]
    last_of_each_value = np.r_[np.nonzero(np.diff(scores))[0], len(scores) - 1]
    tp = np.cumsum(labels)[last_of_each_value]  # anomalies flagged at each threshold
    fp = (last_of_each_value + 1) - tp  # normal images flagged at each threshold
    fpr = np.r_[0.0, fp / (len(labels) - labels.sum())]
    tpr = np.r_[0.0, tp / labels.sum()]
    return fpr, tpr, np.r_[np.inf, scores[last_of_each_value]]


def auroc(normal, anomalous) -> float:
    """Area under the ROC curve (trapezoids), in [0, 1].

    It equals the probability that a random anomalous image scores higher than a random normal
    one, counting ties as one half: 1 = perfect separation, 0.5 = a coin toss.
    """
    fpr, tpr, _ = roc_curve(normal, anomalous)
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def fpr_at_tpr(normal, anomalous, tpr: float = 0.95) -> float:
    """False positive rate at the first threshold that flags at least ``tpr`` of the anomalies.

    normal (N0,), anomalous (N1,): scores. "FPR at 95% TPR", a number anomaly-detection papers
    report next to AUROC: the share of normal images flagged when the threshold is just low
    enough to catch 95% of the anomalies. Lower is better; like AUROC, it does not depend on
    how common anomalies are.
    """
    fpr, tprs, _ = roc_curve(normal, anomalous)
    return float(fpr[np.argmax(tprs >= tpr - 1e-12)])  # tprs rises along the curve: first = lowest


def auroc_difference_se(
    scores_a: tuple, scores_b: tuple, n_boot: int = 200, seed: int = 0
) -> float:
    """Bootstrap standard error of AUROC(a) - AUROC(b), two detectors scored on the SAME images.

    ``scores_a`` = (normal (N0,), anomalous (N1,)) for detector a, ``scores_b`` the same images
    scored by detector b. Each of ``n_boot`` rounds draws N0 normal and N1 anomalous images
    with replacement (the same draw for both detectors, so what they share cancels) and
    recomputes the difference; the result is the standard deviation of those differences. A
    difference larger than about two of these is unlikely to come from the choice of images.
    """
    who = "auroc_difference_se"
    for pair in (scores_a, scores_b):
        _scores_and_labels(*pair)  # raises unless each set has at least one score
    normal_a, anomalous_a, normal_b, anomalous_b = (
        np.asarray(torch.as_tensor(v).detach().cpu(), dtype=np.float64).ravel()
        for v in (*scores_a, *scores_b)
    )
    if len(normal_a) != len(normal_b) or len(anomalous_a) != len(anomalous_b):
        raise ValueError(
            f"{who} expects both detectors scored on the same images, but received "
            f"({len(normal_a)}, {len(anomalous_a)}) and ({len(normal_b)}, {len(anomalous_b)}) "
            "(normal, anomalous) scores. Score the same normal and anomalous images with both."
        )
    rng = np.random.default_rng(seed)
    differences = np.empty(n_boot)
    for i in range(n_boot):
        pick_n = rng.integers(0, len(normal_a), len(normal_a))
        pick_a = rng.integers(0, len(anomalous_a), len(anomalous_a))
        differences[i] = auroc(normal_a[pick_n], anomalous_a[pick_a]) - auroc(
            normal_b[pick_n], anomalous_b[pick_a]
        )
    return float(differences.std(ddof=1))


@dataclass(frozen=True)
class FlagCounts:
    """What a threshold does: counts, precision and recall (anomaly = positive class)."""

    threshold: float
    true_positives: int  # anomalies flagged
    false_positives: int  # normal images flagged (false alarms)
    false_negatives: int  # anomalies missed
    true_negatives: int  # normal images passed

    @property
    def precision(self) -> float:
        """Share of flagged images that are anomalies; NaN when nothing is flagged."""
        flagged = self.true_positives + self.false_positives
        return self.true_positives / flagged if flagged else float("nan")

    @property
    def recall(self) -> float:
        """Share of anomalies that are flagged (= true positive rate)."""
        return self.true_positives / (self.true_positives + self.false_negatives)

    @property
    def false_alarm_rate(self) -> float:
        """Share of normal images that are flagged (= false positive rate)."""
        return self.false_positives / (self.false_positives + self.true_negatives)


def flag_counts(normal, anomalous, threshold: float) -> FlagCounts:
    """Flag every image whose score is >= ``threshold`` and count the four outcomes."""
    normal = torch.as_tensor(normal).detach().cpu()
    anomalous = torch.as_tensor(anomalous).detach().cpu()
    tp, fp = int((anomalous >= threshold).sum()), int((normal >= threshold).sum())
    return FlagCounts(float(threshold), tp, fp, len(anomalous) - tp, len(normal) - fp)


def precision_at_prevalence(recall: float, false_alarm_rate: float, prevalence: float) -> float:
    """Expected precision of a detector when a share ``prevalence`` of all images are anomalies.

    Bayes' rule: flagged anomalies are recall * prevalence, false alarms are
    false_alarm_rate * (1 - prevalence), so
        precision = recall * prevalence
                    / (recall * prevalence + false_alarm_rate * (1 - prevalence)).
    Recall and the false-alarm rate (hence the ROC curve and AUROC) do not depend on prevalence;
    precision does: the rarer the anomalies, the more the false alarms weigh.
    """
    if not 0 < prevalence < 1:
        raise ValueError(
            f"precision_at_prevalence expects a prevalence strictly between 0 and 1, but "
            f"received {prevalence}. Pass the share of anomalies, e.g. 0.01 for 1%."
        )
    flagged = recall * prevalence + false_alarm_rate * (1 - prevalence)
    return recall * prevalence / flagged if flagged else float("nan")


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 0 .. N-1 of values (N,) in increasing order; tied values share their mean rank."""
    ranks = np.empty(len(values))
    ranks[np.argsort(values, kind="stable")] = np.arange(len(values))
    _, group, size = np.unique(values, return_inverse=True, return_counts=True)
    return (np.bincount(group, weights=ranks) / size)[group]  # mean rank of each tie group


def rank_correlation(a, b) -> float:
    """Spearman's rank correlation of two scores of the same images, a (N,) and b (N,): in [-1, 1].

    The Pearson correlation of their RANKS (tied values share the mean of their ranks): +1 when
    b orders the images exactly as a does, -1 for the reverse order, near 0 for unrelated
    orders. Like AUROC it depends only on the order of the scores, not on their scale, so it
    asks the question an anomaly score raises: does my score rank images the way some other
    property (their brightness, say) ranks them?
    """
    a = np.asarray(torch.as_tensor(a).detach().cpu(), dtype=np.float64).ravel()
    b = np.asarray(torch.as_tensor(b).detach().cpu(), dtype=np.float64).ravel()
    if len(a) != len(b) or len(a) < 2:
        raise ValueError(
            f"rank_correlation expects two scores of the same images, (N,) and (N,) with N >= 2, "
            f"but received {len(a)} and {len(b)} values. Pass one value per image to both."
        )
    ra, rb = _average_ranks(a) - (len(a) - 1) / 2, _average_ranks(b) - (len(b) - 1) / 2  # centred
    spread = np.sqrt((ra**2).sum() * (rb**2).sum())
    if spread == 0:
        raise ValueError(
            "rank_correlation expects scores that vary, but received one in which every image "
            "has the same value, so there is no order to compare. Check that it is the score "
            "you meant."
        )
    return float((ra * rb).sum() / spread)


def matched_subsets(
    normal_values, anomalous_values, n_bins: int = 20, seed: int = 0
) -> tuple[Tensor, Tensor]:
    """Indices of a normal and an anomalous subset with the same distribution of one covariate.

    ``normal_values`` (N0,) and ``anomalous_values`` (N1,) hold one number per image that should
    NOT be what a detector relies on, e.g. its mean intensity. The range where both groups have
    images is cut into ``n_bins`` bins with equal shares of the pooled values there; each bin
    keeps as many images of each group as the smaller group has in it (the larger group's drawn
    at random, ``seed``). Images outside the common range are dropped.

    Returns (idx_normal (M,), idx_anomalous (M,)), sorted, into the two inputs. On these subsets
    the covariate alone separates the groups little (its AUROC is near 0.5), so a score that
    still separates them measures something else.
    """
    who = "matched_subsets"
    a = np.asarray(torch.as_tensor(normal_values).detach().cpu(), dtype=np.float64).ravel()
    b = np.asarray(torch.as_tensor(anomalous_values).detach().cpu(), dtype=np.float64).ravel()
    if isinstance(n_bins, bool) or not isinstance(n_bins, int) or n_bins < 1:
        raise ValueError(f"{who} expects n_bins, a whole number >= 1, but received {n_bins!r}.")
    if len(a) == 0 or len(b) == 0:
        raise ValueError(
            f"{who} expects one value per image of each group, but received {len(a)} normal and "
            f"{len(b)} anomalous values. Pass both groups."
        )
    low, high = max(a.min(), b.min()), min(a.max(), b.max())
    if low >= high:
        raise ValueError(
            f"{who} expects two groups whose values overlap, but the normal ones span "
            f"[{a.min():.4g}, {a.max():.4g}] and the anomalous ones "
            f"[{b.min():.4g}, {b.max():.4g}]: "
            "no image of one group has a counterpart in the other, so nothing can be matched."
        )
    pooled = np.concatenate([a, b])
    pooled = pooled[(pooled >= low) & (pooled <= high)]
    edges = np.unique(np.quantile(pooled, np.linspace(0, 1, n_bins + 1)))
    rng = np.random.default_rng(seed)
    kept: list[list[np.ndarray]] = [[], []]
    bins = [np.digitize(v, edges[1:-1]) for v in (a, b)]  # bin 0 .. len(edges) - 2
    inside = [(v >= low) & (v <= high) for v in (a, b)]
    for j in range(len(edges) - 1):
        members = [np.nonzero(inside[g] & (bins[g] == j))[0] for g in (0, 1)]
        m = min(len(members[0]), len(members[1]))
        for g in (0, 1):
            kept[g].append(rng.choice(members[g], size=m, replace=False))
    idx_a, idx_b = (torch.as_tensor(np.sort(np.concatenate(k))) for k in kept)
    return idx_a, idx_b


# --------------------------------------------------------------------------------- figures
def error_histograms_figure(
    normal, anomalous, names: tuple[str, str] = ("normal", "anomalous"), threshold=None, ax=None
) -> Figure:
    """Histograms of log10(score) for the two sets, on shared equal-width bins, as densities.

    The histogram is taken of log10(error) itself (not of the error on geometric bins, where
    ``density=True`` would divide by ever wider bins and flatten the upper tail): each bar's
    area is the share of that set's images in the bin, so both sets are comparable at a glance.
    """
    normal = torch.as_tensor(normal).detach().cpu().numpy().astype(np.float64).ravel()
    anomalous = torch.as_tensor(anomalous).detach().cpu().numpy().astype(np.float64).ravel()
    fig = None
    if ax is None:
        fig = NotebookFigure(figsize=(6.5, 3.4), layout="constrained")
        ax = fig.subplots()
    floor = 1e-8  # a perfect reconstruction (error 0) would have log10 = -inf
    log_n, log_a = np.log10(np.maximum(normal, floor)), np.log10(np.maximum(anomalous, floor))
    both = np.concatenate([log_n, log_a])
    bins = np.linspace(both.min(), max(both.max(), both.min() + 1e-6), 60)
    for scores, name, colour in ((log_n, names[0], "tab:blue"), (log_a, names[1], "tab:red")):
        ax.hist(scores, bins=bins, density=True, alpha=0.55, color=colour, label=name)
    if threshold is not None:
        ax.axvline(np.log10(max(threshold, floor)), color="black", ls="--", lw=1.2,
                   label=f"threshold {threshold:.4f}")  # fmt: skip
    ax.set(xlabel="log10(reconstruction error, MSE per pixel)", ylabel="density (per log10 unit)")
    ax.legend(fontsize=8)
    return fig if fig is not None else ax.figure


def roc_figure(
    normal,
    anomalous,
    label: str = "autoencoder",
    point=None,
    ax=None,
    color: str = "tab:purple",
    chance: bool = True,
    log_fpr: bool = False,
) -> Figure:
    """The ROC curve with its AUROC in the legend; ``point`` = (fpr, tpr) marks one threshold.

    To overlay several detectors, pass the same ``ax``, a ``color`` each and ``chance=False``
    after the first (the coin-toss diagonal is then drawn once). ``log_fpr=True`` puts the
    false-positive rate on a log axis, which enlarges small false-alarm rates; a rate of 0 has
    no place there, so it is drawn at one false alarm (1 / number of normal images).
    """
    fig = None
    if ax is None:
        fig = NotebookFigure(figsize=(4.2, 4.0), layout="constrained")
        ax = fig.subplots()
    fpr, tpr, _ = roc_curve(normal, anomalous)
    smallest = 1 / len(normal)  # one false alarm
    if log_fpr:
        fpr = np.clip(fpr, smallest, None)
    ax.plot(fpr, tpr, color=color, label=f"{label} (AUROC {auroc(normal, anomalous):.4f})")
    if chance:
        diagonal = np.geomspace(smallest, 1, 50) if log_fpr else np.array([0.0, 1.0])
        ax.plot(diagonal, diagonal, color="grey", ls=":", label="coin toss (AUROC 0.5)")
    if point is not None:
        ax.plot(*point, "ko", label="current threshold")
    if log_fpr:
        ax.set(
            xscale="log",
            xlim=(smallest, 1),
            ylim=(0, 1.01),
            xlabel="false positive rate (log scale)",
            ylabel="true positive rate (recall)",
        )
    else:
        ax.set(xlabel="false positive rate (normal flagged)", ylabel="true positive rate (recall)")
        ax.set_aspect("equal")
    ax.legend(fontsize=8, loc="lower right")
    return fig if fig is not None else ax.figure


def _image_strip(ax, images, indices, title: str, n: int) -> None:
    """Up to n images side by side in one axes (one wide image); blank when there are none."""
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=9, loc="left")
    imgs = as_images(images[indices[:n]]) if len(indices) else np.zeros((0, 28, 28))
    strip = np.ones((28, n * 30 - 2)) * 0.5  # grey background between images
    for j, img in enumerate(imgs):
        strip[:, j * 30 : j * 30 + 28] = img
    ax.imshow(strip, cmap="gray", vmin=0, vmax=1)
    if not len(indices):
        ax.text(0.5, 0.5, "none", transform=ax.transAxes, ha="center", va="center")


def _indices_by_error(errors: Tensor, mask: Tensor, descending: bool) -> Tensor:
    """Indices of the images selected by ``mask`` (N,), sorted by their error."""
    return torch.nonzero(mask).ravel()[torch.argsort(errors[mask], descending=descending)]


def threshold_figure(
    normal_errors,
    anomalous_errors,
    normal_images,
    anomalous_images,
    threshold: float,
    names: tuple[str, str] = ("normal", "anomalous"),
    n_examples: int = 8,
    label: str = "autoencoder",
) -> Figure:
    """Everything one threshold does: histograms, ROC point, precision/recall, example images.

    ``label`` names the detector in the ROC panel's legend (e.g. "stacked AE").

    Rows of examples: anomalies caught (flagged, highest error first), false alarms (normal
    images flagged, highest error first) and anomalies missed (lowest error first).
    """
    normal_errors = torch.as_tensor(normal_errors).detach().cpu()
    anomalous_errors = torch.as_tensor(anomalous_errors).detach().cpu()
    c = flag_counts(normal_errors, anomalous_errors, threshold)
    fig = NotebookFigure(figsize=(11, 7.2), layout="constrained")
    grid = fig.add_gridspec(4, 2, height_ratios=[3.2, 1, 1, 1], width_ratios=[1.7, 1])
    error_histograms_figure(
        normal_errors, anomalous_errors, names, threshold, ax=fig.add_subplot(grid[0, 0])
    )
    roc_figure(
        normal_errors,
        anomalous_errors,
        label=label,
        point=(c.false_alarm_rate, c.recall),
        ax=fig.add_subplot(grid[0, 1]),
    )
    caught = _indices_by_error(anomalous_errors, anomalous_errors >= threshold, True)
    alarms = _indices_by_error(normal_errors, normal_errors >= threshold, True)
    missed = _indices_by_error(anomalous_errors, anomalous_errors < threshold, False)
    rows = (
        (anomalous_images, caught, f"{names[1]} flagged (caught): {c.true_positives}"),
        (normal_images, alarms, f"{names[0]} flagged (false alarms): {c.false_positives}"),
        (anomalous_images, missed, f"{names[1]} not flagged (missed): {c.false_negatives}"),
    )
    for r, (images, idx, title) in enumerate(rows, start=1):
        _image_strip(fig.add_subplot(grid[r, :]), images, idx, title, n_examples)
    prevalence = len(anomalous_errors) / (len(anomalous_errors) + len(normal_errors))
    precision = (
        "n/a (nothing flagged)"
        if np.isnan(c.precision)
        else f"{c.precision:.3f} (at {prevalence:.0%} anomalies)"
    )
    fig.suptitle(
        f"threshold {threshold:.4f}:  precision {precision},  recall {c.recall:.3f},  "
        f"false alarm rate {c.false_alarm_rate:.3f}"
    )
    return fig


def threshold_view(
    normal_errors,
    anomalous_errors,
    normal_images,
    anomalous_images,
    names: tuple[str, str] = ("normal", "anomalous"),
    threshold: float | None = None,
    label: str = "autoencoder",
) -> FigureView:
    """A slider for the threshold over ``threshold_figure`` (lesson 02).

    The slider runs from the smallest to the 99.5th percentile of all errors; by default it
    starts at the 95th percentile of the normal errors (5% false alarms).
    """
    normal_errors = torch.as_tensor(normal_errors).detach().cpu()
    anomalous_errors = torch.as_tensor(anomalous_errors).detach().cpu()
    both = torch.cat([normal_errors, anomalous_errors])
    low, high = both.min().item(), torch.quantile(both, 0.995).item()
    if threshold is None:
        threshold = torch.quantile(normal_errors, 0.95).item()
    slider = widgets.FloatSlider(
        value=min(max(threshold, low), high),
        min=low,
        max=high,
        step=(high - low) / 400,
        readout_format=".4f",
        description="threshold",
        continuous_update=False,
        layout=widgets.Layout(width="600px"),
    )
    return FigureView(
        lambda threshold: threshold_figure(
            normal_errors,
            anomalous_errors,
            normal_images,
            anomalous_images,
            threshold,
            names,
            label=label,
        ),
        {"threshold": slider},
    )


# ------------------------------------------------------- an out-of-distribution set, offline
def out_of_distribution_images(
    other: ImageData, n: int, seed: int = 0, normal: Tensor | None = None
) -> tuple[Tensor, str]:
    """Images (n, 1, 28, 28) that the in-distribution model never saw, and what they are.

    Uses the test images of ``other`` (a second real dataset) when it was loaded from real
    files; when ``other`` is the embedded fallback (no second dataset on this machine), uses
    ``photo_patches`` instead, so the anomalies are never the same digits as the normal data.
    With ``normal`` (M, 1, 28, 28), the normal test images, it also checks that no anomaly is
    one of them, pixel for pixel: two data folders holding the same files would make every
    AUROC 0.5. If some are, it warns and says so in the returned description.
    """
    if other.is_fallback:
        images, what = (
            photo_patches(n, seed),
            (
                f"crops of scikit-learn's sample photos ({other.name} is not real data here, so "
                "photo crops stand in as the out-of-distribution set; no network needed)"
            ),
        )
    else:
        images, what = other.test.x[:n], f"{other.name} test images (real data)"
    shared = 0 if normal is None else shared_image_count(images, normal)
    if shared:
        problem = (
            f"{shared:,} of the {len(images):,} anomalies are identical to normal images: the "
            f"two datasets come from the same files. Check the data folders (e.g. "
            "COURSE_MNIST_DIR and COURSE_FASHION_MNIST_DIR), then run the lesson again."
        )
        warnings.warn(problem, stacklevel=2)
        what = f"{what}; WARNING: {problem}"
    return images, what


def shared_image_count(images: Tensor, others: Tensor) -> int:
    """How many of ``images`` (N, ...) also occur, pixel for pixel, among ``others`` (M, ...)."""
    seen = {row.tobytes() for row in others.detach().cpu().flatten(1).numpy()}
    return sum(row.tobytes() in seen for row in images.detach().cpu().flatten(1).numpy())


# Old names, kept for one release (issue 17): calling one warns and names the new one.
reconstruction_errors = deprecated_alias("reconstruction_errors", mse_per_pixel_per_image)
