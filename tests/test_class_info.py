"""course_utils.class_info: each measure against a direct computation."""

import math

import pytest
import torch

from course_utils.class_info import (
    doubling_cut_ranges,
    doubling_cuts,
    elbow_k,
    few_label_nn,
    hits_of_probe,
    linear_probe,
    nearest_neighbour_hits,
)
from course_utils.inputs import InputError


def test_nearest_neighbour_hits_match_a_loop_over_the_references():
    g = torch.Generator().manual_seed(0)
    ref, query = torch.randn(50, 3, generator=g), torch.randn(20, 3, generator=g)
    ref_y = torch.randint(0, 3, (50,), generator=g)
    query_y = torch.randint(0, 3, (20,), generator=g)
    expected = []
    for q, y in zip(query, query_y, strict=True):
        distances = [((q - r) ** 2).sum().item() for r in ref]
        expected.append(float(ref_y[distances.index(min(distances))] == y))
    assert nearest_neighbour_hits(ref, ref_y, query, query_y).tolist() == expected


def test_nearest_neighbour_hits_explain_a_wrong_shape():
    with pytest.raises(ValueError, match=r"\(n, d\).*x.flatten\(1\)"):
        nearest_neighbour_hits(torch.zeros(5, 1, 2, 2), torch.zeros(5), torch.zeros(3, 4),
                               torch.zeros(3))  # fmt: skip


def _blobs(n: int, seed: int):
    """Three well-separated 2-D blobs: (3n, 2) points and their (3n,) labels."""
    g = torch.Generator().manual_seed(seed)
    centres = torch.tensor([[4.0, 0.0], [-4.0, 0.0], [0.0, 4.0]])
    labels = torch.arange(3).repeat_interleave(n)
    return centres[labels] + 0.5 * torch.randn(3 * n, 2, generator=g), labels


def test_linear_probe_separates_blobs_and_is_seeded():
    (x, y), (xv, yv), (xt, yt) = _blobs(40, 0), _blobs(20, 1), _blobs(20, 2)
    probe, steps = linear_probe(x, y, xv, yv, checkpoints=(5, 10, 20, 40), n_classes=3)
    assert hits_of_probe(probe, xt, yt).mean().item() == 1.0
    again, again_steps = linear_probe(x, y, xv, yv, checkpoints=(5, 10, 20, 40), n_classes=3)
    assert again_steps == steps and torch.equal(again.weight, probe.weight)  # seeded


def test_linear_probe_returns_the_best_checkpoint_when_a_later_one_wins():
    (x, y), (xv, yv) = _blobs(40, 0), _blobs(20, 1)
    curve = {}
    probe, steps = linear_probe(x, y, xv, yv, (1, 2, 4, 8, 16), n_classes=3, lr=0.01,
                                patience=5, curve=curve)  # fmt: skip
    assert steps > 1 and curve[steps] > curve[1]  # a later checkpoint wins: selection is exercised
    assert steps == min(s for s, a in curve.items() if a == max(curve.values()))  # earliest best
    assert hits_of_probe(probe, xv, yv).mean().item() == curve[steps]  # the returned probe IS it


def test_linear_probe_returns_the_early_probe_not_the_last_trained_one():
    (x, y), (xt, yt) = _blobs(40, 0), _blobs(20, 2)
    y_wrong = (yt + 1) % 3  # validation labels that reward a probe that has NOT learned yet
    curve = {}
    probe, steps = linear_probe(x, y, xt, y_wrong, (1, 50, 100), n_classes=3, curve=curve)
    assert steps == 1 and hits_of_probe(probe, xt, y_wrong).mean().item() == curve[1]


def test_linear_probe_stops_after_patience_checkpoints_without_a_gain():
    (x, y), (xt, yt) = _blobs(40, 0), _blobs(20, 2)
    y_wrong = (yt + 1) % 3  # rewards the untrained probe: every later checkpoint scores lower
    checkpoints = (1, 50, 100, 150, 200)
    for patience, tried in ((2, [1, 50, 100]), (1, [1, 50]), (5, list(checkpoints))):
        curve = {}
        _, steps = linear_probe(x, y, xt, y_wrong, checkpoints, n_classes=3, patience=patience,
                                curve=curve)  # fmt: skip
        assert steps == 1 and list(curve) == tried, (patience, curve)


def test_linear_probe_trains_where_the_codes_are_in_their_dtype():
    (x, y), (xv, yv) = _blobs(10, 0), _blobs(5, 1)
    probe, _ = linear_probe(x.double(), y, xv.double(), yv, (5, 10), n_classes=3)
    assert probe.weight.dtype == torch.float64
    assert hits_of_probe(probe, xv.double(), yv).dtype == torch.float32


def test_linear_probe_rejects_unordered_checkpoints():
    x, y = _blobs(5, 0)
    with pytest.raises(ValueError, match="increasing positive step counts"):
        linear_probe(x, y, x, y, checkpoints=(100, 50), n_classes=3)


def test_doubling_cuts_is_the_per_doubling_geometric_mean():
    cuts = doubling_cuts({2: 1.0, 8: 0.25, 16: 0.2})
    assert cuts[2] == pytest.approx(0.5)  # 2 -> 8 is two doublings, each halving the error
    assert cuts[8] == pytest.approx(0.2)
    assert list(cuts) == [2, 8]
    assert math.isclose(1 - cuts[2], (0.25 / 1.0) ** 0.5)


def test_elbow_k_takes_the_first_size_after_which_a_doubling_cuts_little():
    assert elbow_k({2: 1.0, 4: 0.5, 8: 0.45, 16: 0.44}) == 4  # 4 -> 8 cuts 10% < 15%
    assert elbow_k({2: 1.0, 4: 0.5, 8: 0.25}) is None  # every doubling still cuts 50%
    assert elbow_k({2: 1.0, 4: 0.5, 8: 0.45}, min_cut=0.05) is None
    with pytest.raises(ValueError, match="at least two code sizes"):
        doubling_cuts({2: 1.0})
    with pytest.raises(ValueError, match="diverged"):  # a nan run is not skipped silently
        elbow_k({2: 1.0, 4: float("nan"), 8: 0.45, 16: 0.44})
    with pytest.raises(ValueError, match="finite errors > 0"):
        doubling_cuts({2: 1.0, 4: 0.0})


def test_linear_probe_leaves_the_callers_random_state_alone():
    x, y = _blobs(10, 0)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    linear_probe(x, y, x, y, checkpoints=(1, 2), n_classes=3)
    assert torch.equal(torch.rand(3), expected)


def test_few_label_nn_matches_a_direct_computation():
    (ref, ref_y), (query, query_y) = _blobs(30, 0), _blobs(10, 1)
    g = torch.Generator().manual_seed(0)
    pixels_ref = ref + torch.randn(ref.shape, generator=g) * 3  # a noisier view of the same images
    pixels_query = query + torch.randn(query.shape, generator=g) * 3
    result = few_label_nn(ref, pixels_ref, ref_y, query, pixels_query, query_y, n_labels=6,
                          n_draws=5, generator=torch.Generator().manual_seed(1))  # fmt: skip
    draws = torch.Generator().manual_seed(1)
    gaps = []  # (draws, n_query): code hit minus pixel hit, by a loop
    for _ in range(5):
        chosen = torch.randperm(len(ref_y), generator=draws)[:6]
        row = []
        for q, p, y in zip(query, pixels_query, query_y, strict=True):
            code_label = ref_y[chosen][((ref[chosen] - q) ** 2).sum(1).argmin()]
            pixel_label = ref_y[chosen][((pixels_ref[chosen] - p) ** 2).sum(1).argmin()]
            row.append(float(code_label == y) - float(pixel_label == y))
        gaps.append(row)
    gaps = torch.tensor(gaps)
    se = math.sqrt(gaps.mean(1).var() / 5 + gaps.mean(0).var() / len(query_y))
    assert result.difference == pytest.approx(gaps.mean().item())
    assert result.se == pytest.approx(se, rel=1e-5)
    assert result.codes - result.pixels == pytest.approx(result.difference)
    assert result.codes > result.pixels  # the clean view wins
    draws = torch.Generator().manual_seed(1)  # the codes' own standard error, from the same draws
    code_hits = torch.stack(
        [
            nearest_neighbour_hits(ref[c], ref_y[c], query, query_y)
            for c in (torch.randperm(len(ref_y), generator=draws)[:6] for _ in range(5))
        ]
    )
    code_se = math.sqrt(code_hits.mean(1).var() / 5 + code_hits.mean(0).var() / len(query_y))
    assert result.codes_se == pytest.approx(code_se, rel=1e-5)
    pixel_hits = code_hits - gaps  # code hit minus (code hit minus pixel hit)
    pixel_se = math.sqrt(pixel_hits.mean(1).var() / 5 + pixel_hits.mean(0).var() / len(query_y))
    assert result.pixels_se == pytest.approx(pixel_se, rel=1e-5)


def test_nan_codes_are_refused_not_scored():
    x, y = _blobs(5, 0)
    broken = x.clone()
    broken[3, 0] = float("nan")  # one diverged row would be every query's nearest neighbour
    with pytest.raises(ValueError, match="finite codes"):
        nearest_neighbour_hits(broken, y, x, y)
    with pytest.raises(ValueError, match="finite codes"):
        linear_probe(broken, y, x, y, checkpoints=(1, 2), n_classes=3)
    with pytest.raises(ValueError, match="no training rows"):
        linear_probe(x[:0], y[:0], x, y, checkpoints=(1, 2), n_classes=3)
    with pytest.raises(ValueError, match="no validation rows"):
        linear_probe(x, y, x[:0], y[:0], checkpoints=(1, 2), n_classes=3)
    with pytest.raises(ValueError, match="patience >= 1"):
        linear_probe(x, y, x, y, checkpoints=(1, 2), n_classes=3, patience=0)
    with pytest.raises(ValueError, match="increasing positive"):
        linear_probe(x, y, x, y, checkpoints=(0, 2), n_classes=3)
    with pytest.raises(ValueError, match="fraction between 0 and 1"):
        elbow_k({2: 1.0, 4: 0.5}, min_cut=15)


def test_few_label_nn_rejects_more_labels_than_references():
    x, y = _blobs(5, 0)
    with pytest.raises(ValueError, match="n_labels"):
        few_label_nn(x, x, y, x, x, y, n_labels=100)


def test_few_label_nn_refuses_arrays_that_do_not_line_up():
    x, y = _blobs(5, 0)  # 15 rows
    longer = torch.cat([x, x])  # 30 rows: e.g. x_train.flatten(1) without [:n_ref]
    with pytest.raises(ValueError, match=r"reference pixels.*\(30, 2\) and \(15,\)"):
        few_label_nn(x, longer, y, x, x, y, n_labels=5)
    with pytest.raises(ValueError, match="query codes"):
        few_label_nn(x, x, y, longer, x, y, n_labels=5)
    with pytest.raises(ValueError, match="at least 2 test images"):
        few_label_nn(x, x, y, x[:1], x[:1], y[:1], n_labels=5)
    with pytest.raises(ValueError, match="integer class labels"):
        few_label_nn(x, x, y.float(), x, x, y, n_labels=5)


def test_doubling_cut_ranges_bracket_the_cut_and_widen_with_the_margin():
    errors = {2: 0.02839, 8: 0.0164, 32: 0.01, 64: 0.0085}
    cuts = doubling_cuts(errors)
    exact = doubling_cut_ranges(errors, 0.0)
    assert all(exact[k] == pytest.approx((cut, cut)) for k, cut in cuts.items())
    ranges = doubling_cut_ranges(errors, 0.015)
    for k, (low, high) in ranges.items():
        assert low < cuts[k] < high
    # by hand, 32 -> 64 (one doubling): the errors moved 1.5% against each other
    assert ranges[32][0] == pytest.approx(1 - 0.0085 * 1.015 / (0.01 * 0.985))
    assert ranges[32][1] == pytest.approx(1 - 0.0085 * 0.985 / (0.01 * 1.015))
    wider = doubling_cut_ranges(errors, 0.05)
    assert wider[32][0] < ranges[32][0] and wider[32][1] > ranges[32][1]
    with pytest.raises(InputError, match="fraction of the error"):
        doubling_cut_ranges(errors, 1.5)
    with pytest.raises(InputError, match="finite errors"):
        doubling_cut_ranges({2: 1.0}, 0.01)
