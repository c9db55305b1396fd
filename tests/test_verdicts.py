"""course_utils.verdicts: each yardstick against an independent computation."""

import math

import numpy as np
import pytest
import torch

from course_utils.anomaly import auroc
from course_utils.train import fit
from course_utils.verdicts import (
    Comparison,
    auroc_margin,
    auroc_se,
    clearly_above,
    clearly_ahead,
    compare_rates,
    late_fall,
    margin_word,
    noise_band_figure,
    oriented,
    paired_se,
    seed_mean_margin,
    seed_noise_margin,
    t_quantile,
)


def test_t_quantile_matches_printed_tables():
    for df, table in ((1, 12.706), (2, 4.303), (4, 2.776), (10, 2.228), (30, 2.042)):
        assert t_quantile(0.975, df) == pytest.approx(table, abs=2e-3)
    assert t_quantile(0.95, 5) == pytest.approx(2.015, abs=2e-3)
    with pytest.raises(ValueError, match="0.5 < p < 1"):
        t_quantile(0.3, 2)


def test_seed_noise_margin_matches_the_t_table():
    # n = 3: t(0.975, 2) = 4.3027 (printed tables); s of (1, 2, 3) is 1.
    assert seed_noise_margin([1.0, 2.0, 3.0]) == pytest.approx(4.3027 * math.sqrt(4 / 3), rel=1e-4)
    assert seed_noise_margin([5.0, 5.0, 5.0]) == 0.0
    with pytest.raises(ValueError, match="at least 2 seeds"):
        seed_noise_margin([1.0])


def test_seed_noise_margin_covers_95_percent_of_new_runs():
    rng = np.random.default_rng(0)
    runs = rng.normal(size=(20_000, 4))
    inside = [abs(r[3] - r[:3].mean()) <= seed_noise_margin(r[:3]) for r in runs[:4000]]
    assert np.mean(inside) == pytest.approx(0.95, abs=0.015)


def test_seed_mean_margin_is_the_confidence_interval_of_the_mean():
    # n = 3, s = 1: t(0.975, 2) / sqrt(3); narrower than the margin for one new run
    assert seed_mean_margin([1.0, 2.0, 3.0]) == pytest.approx(4.3027 / math.sqrt(3), rel=1e-4)
    assert seed_mean_margin([1.0, 2.0, 3.0]) < seed_noise_margin([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="at least 2 seeds"):
        seed_mean_margin([1.0])
    rng = np.random.default_rng(1)
    runs = rng.normal(size=(4000, 3))  # true mean 0
    covered = [abs(r.mean()) <= seed_mean_margin(r) for r in runs]
    assert np.mean(covered) == pytest.approx(0.95, abs=0.015)


def test_paired_se_equals_the_direct_formula():
    a = torch.tensor([1, 1, 0, 1, 0, 1, 1, 0.0])
    b = torch.tensor([1, 0, 0, 1, 1, 0, 1, 0.0])
    d = (a - b).numpy()
    direct = np.std(d, ddof=1) / math.sqrt(len(d))
    assert paired_se(a, b) == pytest.approx(direct)
    assert paired_se(a, a) == 0.0  # identical answers: no uncertainty in the difference
    # not the unpaired formula, which ignores that the same queries are easy for both
    unpaired = math.sqrt(a.var().item() / 8 + b.var().item() / 8)
    assert paired_se(a, b) != pytest.approx(unpaired)


def test_compare_rates_words_follow_two_standard_errors():
    right = torch.ones(100)
    half = torch.tensor([1.0, 0.0] * 50)
    assert compare_rates(right, half).word == "above"
    assert compare_rates(half, right).word == "below"
    assert clearly_above(right, half) and not clearly_above(half, right)
    one_off = right.clone()
    one_off[0] = 0  # a difference of 0.01 with SE 0.01: within two SE
    assert compare_rates(right, one_off).word == "indistinguishable from"
    difference, se = compare_rates(right, half)
    assert difference == pytest.approx(0.5) and se == pytest.approx(paired_se(right, half))


def test_paired_se_rejects_different_queries():
    with pytest.raises(ValueError, match="same queries"):
        paired_se(torch.ones(5), torch.ones(6))
    with pytest.raises(ValueError, match="1-D"):
        paired_se(torch.ones(2, 3), torch.ones(2, 3))


def test_auroc_margin_known_cases():
    normal, anomalous = torch.arange(50.0), torch.arange(50.0) + 100  # perfectly separated
    same = auroc_margin((normal, anomalous), (normal, anomalous))
    assert same == (0.0, 0.0) and same.word == "indistinguishable from"
    g = torch.Generator().manual_seed(0)
    noise_n, noise_a = torch.randn(50, generator=g), torch.randn(50, generator=g)
    margin = auroc_margin((normal, anomalous), (noise_n, noise_a))
    assert margin.difference == pytest.approx(1 - auroc(noise_n, noise_a))
    # a perfect detector against a coin flip: the bootstrap SE is about that of one AUROC of
    # 50 x 50 pairs near 0.5, sqrt((1/12)(1/50 + 1/50)) ~ 0.058 (Mann-Whitney variance)
    assert 0.03 < margin.se < 0.09
    assert clearly_ahead((normal, anomalous), (noise_n, noise_a))
    assert not clearly_ahead((noise_n, noise_a), (normal, anomalous))


def test_oriented_flips_only_a_backwards_score():
    normal, anomalous = torch.arange(10.0), torch.arange(10.0) + 5
    pair, flipped = oriented((normal, anomalous))
    assert not flipped and pair[0] is normal
    (back_n, back_a), flipped = oriented((-normal, -anomalous))
    assert flipped and auroc(back_n, back_a) == pytest.approx(auroc(normal, anomalous))


def test_oriented_decides_on_the_pair_it_is_given_not_on_the_test_pair():
    normal, anomalous = torch.arange(10.0), torch.arange(10.0) + 5  # AUROC above 0.5
    backwards = (-normal, -anomalous)  # the same score read the wrong way: AUROC below 0.5
    pair, flipped = oriented((normal, anomalous), decide_on=backwards)  # validation says flip
    assert flipped and torch.equal(pair[0], -normal) and torch.equal(pair[1], -anomalous)
    pair, flipped = oriented(backwards, decide_on=(normal, anomalous))  # validation says keep
    assert not flipped and pair[0] is backwards[0]
    assert auroc(*pair) < 0.5  # kept as is even though it is backwards on the test pair


def test_comparison_unpacks_like_a_pair():
    difference, se = Comparison(0.3, 0.1)
    assert (difference, se) == (0.3, 0.1) and Comparison(0.3, 0.1).clear


def test_auroc_se_matches_the_mann_whitney_variance_at_chance():
    g = torch.Generator().manual_seed(1)
    normal, anomalous = torch.randn(100, generator=g), torch.randn(100, generator=g)
    # with no separation, Var(AUROC) = (N0 + N1 + 1) / (12 N0 N1) (Mann-Whitney)
    expected = math.sqrt(201 / (12 * 100 * 100))
    assert auroc_se(normal, anomalous, n_boot=1000) == pytest.approx(expected, rel=0.2)
    separated = auroc_se(torch.zeros(30), torch.ones(30))  # every pair right in every redraw
    assert separated == 0.0
    with pytest.raises(ValueError):
        auroc_se(torch.zeros(0), torch.ones(3))


def test_auroc_se_rejects_an_empty_group():
    with pytest.raises(ValueError):
        auroc_se(torch.zeros(0), torch.ones(3))


def test_margin_word_needs_a_difference_beyond_the_margin():
    assert margin_word(1.0, 2.0, 0.5) == "clearly below"
    assert margin_word(2.0, 1.0, 0.5) == "clearly above"
    assert margin_word(1.2, 1.0, 0.5) == "within the noise margin of"
    assert margin_word(0.8, 1.0, 0.5) == "within the noise margin of"
    assert margin_word(1.5, 1.0, 0.5) == "within the noise margin of"  # at the margin: a tie
    assert margin_word(1.0, 2.0, 0.5, lower="lower") == "lower"
    assert margin_word(1.0, 1.0, 0.0) == "within the noise margin of"
    assert margin_word(np.float32(1.0), torch.tensor(3.0), 1) == "clearly below"  # any one number


def test_margin_word_rejects_a_negative_margin_and_non_numbers():
    with pytest.raises(ValueError, match="margin >= 0"):
        margin_word(1.0, 2.0, -0.1)
    with pytest.raises(ValueError, match="expects b as a number"):
        margin_word(1.0, torch.tensor([2.0, 3.0]), 0.1)
    with pytest.raises(ValueError, match="expects a as a number"):
        margin_word(float("nan"), 2.0, 0.1)


def test_late_fall_compares_the_last_epoch_with_the_one_at_80_percent():
    curve = [30.0, 20.0, 15.0, 14.0, 13.0, 12.8]  # 6 epochs: index round(0.8 * 5) = 4 -> 13.0
    result = late_fall({"valid_loss": curve}, steps_per_epoch=100)
    assert (result.start, result.end) == (13.0, 12.8)
    assert (result.late_steps, result.total_steps) == (100, 600)
    assert result.still_falling is True  # 1 - 12.8 / 13 = 1.5% > 1%
    assert "still falling" in str(result) and "-1.5%" in str(result)
    flat = late_fall({"valid_loss": [30.0, 20.0, 13.0, 12.95]}, steps_per_epoch=10)
    assert flat.start == 13.0 and flat.still_falling is False and "flat" in str(flat)
    two = late_fall({"valid_loss": [2.0, 1.0]}, steps_per_epoch=5)  # the epoch before the last
    assert (two.start, two.late_steps) == (2.0, 5)
    one = late_fall({"valid_loss": [2.0]}, steps_per_epoch=5)
    assert one.still_falling is None and "cannot be measured" in str(one)


def test_late_fall_starts_at_80_percent_not_at_the_epoch_before_the_last():
    curve = [float(20 - e) for e in range(12)]  # 12 epochs: index round(0.8 * 11) = 9 -> 11.0
    result = late_fall({"valid_loss": curve}, steps_per_epoch=np.int64(5))  # numpy ints accepted
    assert (result.start, result.late_steps, result.total_steps) == (11.0, 10, 60)


def test_late_fall_reads_what_fit_returns():
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(16, 16), torch.nn.Unflatten(1, (1, 4, 4))
    )
    x = torch.rand(64, 1, 4, 4)
    history = fit(model, x, x[:16], epochs=3, lr=1e-2, batch_size=32, verbose=False)
    result = late_fall(history, steps_per_epoch=2)
    assert result.end == pytest.approx(history["valid_loss"][-1]) and result.total_steps == 6


def test_late_fall_prints_small_losses_with_their_digits_and_rejects_bad_ones():
    per_pixel = late_fall({"valid_loss": [0.02, 0.013, 0.0128]}, steps_per_epoch=10)
    assert "0.013 -> 0.0128" in str(per_pixel) and per_pixel.still_falling is True
    with pytest.raises(ValueError, match="diverged"):
        late_fall({"valid_loss": [1.0, float("nan")]}, steps_per_epoch=10)
    with pytest.raises(ValueError, match="positive, finite"):
        late_fall({"valid_loss": [0.0, 0.0]}, steps_per_epoch=10)
    with pytest.raises(ValueError, match="steps_per_epoch"):
        late_fall({"valid_loss": [2.0, 1.0]}, steps_per_epoch=0)


def test_late_fall_explains_a_history_without_validation():
    with pytest.raises(ValueError, match="validation losses"):
        late_fall({"train_loss": [1.0, 0.5]}, steps_per_epoch=1)
    with pytest.raises(ValueError, match="Pass x_valid"):
        late_fall({"valid_loss": []}, steps_per_epoch=1)


def test_noise_band_figure_shades_mean_plus_minus_the_seed_noise_margin():
    errors = [0.0104, 0.0105, 0.0103]
    panels = {"k = 32": {"PCA": 0.015, "AE, 3 seeds": errors}, "k = 2": {"PCA": 0.03}}
    fig = noise_band_figure(panels)
    ax = fig.axes[0]
    (band,) = ax.patches  # one shaded band: the only row with several errors
    x0, x1 = band.get_x(), band.get_x() + band.get_width()
    mean, margin = sum(errors) / 3, seed_noise_margin(errors)
    assert (x0, x1) == pytest.approx((mean - margin, mean + margin))
    assert [t.get_text() for t in ax.get_yticklabels()] == ["PCA", "AE, 3 seeds"]
    assert not fig.axes[1].patches  # no band without seeds
    dots = {tuple(line.get_ydata()): list(line.get_xdata()) for line in ax.lines
            if line.get_marker() == "o"}  # fmt: skip
    assert dots[(0.0,)] == [0.015] and dots[(1.0, 1.0, 1.0)] == errors  # one row per label
    with pytest.raises(ValueError, match="at least one row per panel"):
        noise_band_figure({"k = 2": {}})
