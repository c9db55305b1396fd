"""course_utils.code_probes: class and style probes of latent codes (lesson 07).

Expected values come from constructions whose answer is known (a line drawn with a known shear,
a bar of known width, codes built from the factors), never from the functions under test.
Mutants these tests catch (each seen failing): slant without its minus sign or divided by
var(x), width as the variance instead of its square root, correlations not centred per class,
the gap taken to the worst dimension, k-NN voting with the farthest neighbours, purity counted
per label instead of per category, the class entropy in nats; the posterior noise left out of
(or added to the covariance of) the sampled-code correlation; one dimension allowed to win two
factors; inactive dimensions counted as rivals; the held-out purity scored on its own votes.
"""

import math

import pytest
import torch
from torch import nn

from course_utils.code_probes import (
    category_purity,
    correlation_figure,
    digit_style,
    disentanglement_table,
    factor_correlations,
    knn_class_accuracy,
    sample_probe,
)


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_slant_of_a_sheared_line_and_width_of_a_bar():
    images = torch.zeros(3, 1, 28, 28)
    for row in range(4, 24):  # a one-pixel line whose column moves 1 right every 2 rows UP
        images[0, 0, row, 10 + (24 - row) // 2] = 1.0
        images[1, 0, row, 14] = 1.0  # upright
    images[2, 0, 10:14, 5:12] = 0.5  # a bar 7 pixels wide, grey
    style = digit_style(images)
    rows = torch.arange(4, 24, dtype=torch.float64)
    cols = 10 + (24 - rows) // 2
    expected = -torch.cov(torch.stack([cols, rows]), correction=0)[0, 1] / rows.var(correction=0)
    assert style["slant"][0].item() == pytest.approx(expected.item(), rel=1e-5)
    assert 0.45 < style["slant"][0].item() < 0.55  # about half a column per row, leaning right
    assert style["slant"][1].item() == pytest.approx(0.0, abs=1e-6)
    assert style["width"][2].item() == pytest.approx(math.sqrt((7**2 - 1) / 12), rel=1e-5)
    assert style["ink"][2].item() == pytest.approx(0.5 * 28 / 784, rel=1e-5)
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\)"):
        digit_style(torch.zeros(3, 28, 28))


def test_factor_correlations_and_the_within_class_centring():
    g = _gen()
    n = 2000
    labels = torch.arange(n) % 4
    slant, ink = torch.randn(n, generator=g), torch.randn(n, generator=g)
    codes = torch.stack([
        slant + 0.1 * torch.randn(n, generator=g),  # z1 follows slant
        -ink,  # z2 is minus the ink
        3.0 * labels.float() + 0.01 * torch.randn(n, generator=g),  # z3 only says the class
    ], dim=1)  # fmt: skip
    factors = {"slant": slant, "ink": ink + 0.5 * labels.float()}  # the ink differs by class
    plain = factor_correlations(codes, factors)
    within = factor_correlations(codes, factors, labels=labels)
    assert within.shape == (2, 3)
    assert within[0, 0] > 0.99 and within[1, 1] < -0.99
    assert abs(within[1, 2]) < 0.1  # the class dimension is not an ink dimension...
    assert plain[1, 2] > 0.3  # ...though across classes it correlates with ink
    table = disentanglement_table(within, ["slant", "ink"])
    assert [row["dim"] for row in table] == [0, 1]
    assert table[0]["best"] == pytest.approx(abs(within[0, 0].item()))
    second = sorted(within[0].abs().tolist())[-2]
    assert table[0]["gap"] == pytest.approx(abs(within[0, 0].item()) - second)
    assert table[0]["rival"] == pytest.approx(second)
    figure = correlation_figure({"a": within, "b": plain}, ["slant", "ink"], label="|r|, sampled z")
    assert len(figure.axes) == 3  # two panels and the colour bar
    assert figure.axes[-1].get_ylabel() == "|r|, sampled z"


def test_noise_aware_correlation_matches_sampled_codes():
    g = _gen(3)
    n = 4000
    slant = torch.randn(n, generator=g)
    mu = torch.stack([slant, 0.3 * slant + torch.randn(n, generator=g)], dim=1)  # (n, 2)
    sigma2 = torch.tensor([[0.2, 3.0]]).expand(n, 2)  # dimension 2 is drowned in noise
    z = mu.repeat(20, 1) + sigma2.repeat(20, 1).sqrt() * torch.randn(20 * n, 2, generator=g)
    sampled = torch.corrcoef(torch.stack([slant.repeat(20), z[:, 0], z[:, 1]]))[0, 1:]  # numpy-free
    aware = factor_correlations(mu, {"slant": slant}, noise_var=sigma2)[0]
    assert aware.tolist() == pytest.approx(sampled.tolist(), abs=0.02)
    assert factor_correlations(mu, {"slant": slant})[0, 1] > aware[1] + 0.1  # means flatter it
    with pytest.raises(ValueError, match="noise_var"):
        factor_correlations(mu, {"slant": slant}, noise_var=sigma2[:, :1])


def test_one_dimension_cannot_win_two_factors_and_inactive_dims_do_not_count():
    corr = torch.tensor([
        [0.9, 0.3, 0.1, 0.95],  # width: dim 0, but dim 3 (inactive) is higher
        [0.8, 0.2, 0.5, 0.0],  # ink: also dim 0 at best; its own dim can only be 2
    ])  # fmt: skip
    active = torch.tensor([True, True, True, False])
    rows = disentanglement_table(corr, ["width", "ink"], active=active)
    assert [row["dim"] for row in rows] == [0, 2]  # total 0.9 + 0.5 beats 0.8 + 0.3
    assert rows[0]["rival"] == pytest.approx(0.3) and rows[0]["gap"] == pytest.approx(0.6)
    assert rows[1]["rival"] == pytest.approx(0.8) and rows[1]["gap"] == pytest.approx(-0.3)
    alone = disentanglement_table(corr, ["width", "ink"], active=torch.tensor([1, 0, 0, 0]).bool())
    assert [row["dim"] for row in alone] == [0, -1] and alone[1]["gap"] == pytest.approx(-0.8)
    with pytest.raises(ValueError, match="one name per row"):
        disentanglement_table(corr, ["width"])


def test_knn_probe():
    g = _gen(1)
    centres = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    train_y, test_y = torch.arange(300) % 3, torch.arange(90) % 3
    train = centres[train_y] + torch.randn(300, 2, generator=g)
    test = centres[test_y] + torch.randn(90, 2, generator=g)
    assert knn_class_accuracy(train, train_y, test, test_y, k=5) == 1.0
    shuffled = train_y[torch.randperm(300, generator=g)]  # labels unrelated to the codes
    assert knn_class_accuracy(train, shuffled, test, test_y, k=15) < 0.6
    far = torch.tensor([[0.0], [1.0], [2.0], [100.0]])  # the nearest 3 of 0.5 are 0, 1, 2
    assert knn_class_accuracy(far, torch.tensor([0, 0, 1, 1]), torch.tensor([[0.5]]),
                              torch.tensor([0]), k=3) == 1.0  # fmt: skip
    with pytest.raises(ValueError, match="at least k"):
        knn_class_accuracy(train[:3], train_y[:3], test, test_y, k=5)


def test_category_purity():
    labels = torch.tensor([0, 0, 1, 1, 2, 2, 2, 2])
    indices = torch.stack([
        labels * 3 % 5,  # a relabelling of the classes: purity 1
        torch.zeros(8, dtype=torch.long),  # one category for all: commonest label, 4/8
        torch.tensor([0, 1, 0, 1, 0, 1, 0, 1]),  # category 0: labels 0,1,2,2; 1: 0,1,2,2
    ], dim=1)  # fmt: skip
    assert category_purity(indices, labels).tolist() == pytest.approx([1.0, 0.5, 0.5])
    many = torch.tensor([[0], [1], [2], [3]])  # one category per image: each wins its own vote
    assert category_purity(many, torch.tensor([0, 0, 0, 1])).tolist() == [1.0]
    # held out: votes from the first set; category 3 never chosen there votes for the commonest (2)
    test = torch.tensor([[0], [0], [1], [3]])
    votes = category_purity(indices[:, 2:], labels, test, torch.tensor([0, 2, 2, 2]))
    assert votes.tolist() == pytest.approx([0.75])  # 0 -> 2, 0 -> 2, 1 -> 2, 3 -> 2 (commonest)
    seen = category_purity(many, torch.tensor([0, 0, 0, 1]), many, torch.tensor([1, 1, 1, 0]))
    assert seen.tolist() == [0.0]  # memorised votes fail on new labels
    with pytest.raises(ValueError, match="together"):
        category_purity(many, torch.tensor([0, 0, 0, 1]), many)


def test_sample_probe():
    classifier = nn.Linear(1, 3, bias=True)
    with torch.no_grad():
        classifier.weight.zero_()
        classifier.bias.copy_(torch.tensor([0.0, 0.0, 0.0]))
        classifier.weight[:, 0] = torch.tensor([10.0, 0.0, -10.0])
    images = torch.tensor([[1.0], [1.0], [-1.0], [0.0]])  # classes 0, 0, 2 (confident), then a tie
    probe = sample_probe(classifier, images)
    assert probe["confident"] == pytest.approx(0.75)
    p = torch.tensor([3 / 4, 1 / 4])  # argmax of the tie is class 0: classes 0, 0, 2, 0
    assert probe["class_bits"] == pytest.approx(float(-(p * p.log2()).sum()), rel=1e-6)


def test_sample_probe_of_one_class_is_zero_bits():
    classifier = nn.Linear(1, 3)
    with torch.no_grad():
        classifier.weight.zero_()
        classifier.bias.copy_(torch.tensor([5.0, 0.0, 0.0]))  # always class 0
    probe = sample_probe(classifier, torch.zeros(4, 1))
    assert probe["class_bits"] == 0.0 and str(probe["class_bits"]) == "0.0"
