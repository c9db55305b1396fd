"""Lesson 03: convolutional and LSTM autoencoders, the shape table, checkerboard helpers."""

import numpy as np
import pytest
import torch
from torch import nn

from course_utils.conv import (
    ConvAutoencoder,
    LSTMAutoencoder,
    format_shape_table,
    overlap_figure,
    overlap_maps,
    overlap_view,
    shape_table,
)
from course_utils.conv_filters import (
    channel_activity,
    dead_channels,
    first_layer_figure,
    first_layer_maps,
    shift_images,
)
from course_utils.conv_probes import (
    GRID_Z_LIMIT,
    CoherentGrid,
    coherent_grid,
    decoder_logits,
    difference_verdict,
    error_maps,
    error_maps_figure,
    grid_above_floor,
    high_pass,
    measured_receptive_field,
    parity_contrast,
    period2_amplitudes,
    period2_power,
    receptive_field,
)
from course_utils.inputs import InputError
from course_utils.models import DenseAutoencoder, count_parameters

X = torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("decoder", ["transpose", "upsample"])
def test_conv_autoencoder_shapes_and_parameters(decoder):
    torch.manual_seed(0)
    model = ConvAutoencoder(n_latent=32, channels=(16, 32), decoder=decoder)
    assert model.encode(X).shape == (4, 32)
    out = model(X)
    assert out.shape == X.shape and 0 <= out.min() and out.max() <= 1
    convs = 1 * 16 * 9 + 16 + 16 * 32 * 9 + 32  # encoder convolutions
    linears = 1568 * 32 + 32 + 32 * 1568 + 1568
    up = 32 * 16 * 9 + 16 + 16 * 1 * 9 + 1  # same count for transpose and upsample + conv
    assert count_parameters(model) == convs + linears + up == 111_521


@pytest.mark.parametrize("decoder", ["transpose", "upsample"])
def test_conv_autoencoder_batch_norm_adds_three_norms_and_nothing_else(decoder):
    torch.manual_seed(0)
    model = ConvAutoencoder(n_latent=32, channels=(16, 32), decoder=decoder, batch_norm=True)
    norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert [m.num_features for m in norms] == [16, 32, 16]
    assert count_parameters(model) == 111_521 + 2 * (16 + 32 + 16)  # a scale and a shift each
    model.eval()  # running statistics: one image's output does not depend on the rest of the batch
    out = model(X)
    assert out.shape == X.shape and 0 <= out.min() and out.max() <= 1
    torch.testing.assert_close(model(X[:1]), out[:1])
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in ConvAutoencoder().modules())


def test_shape_table_reads_the_real_model():
    rows = shape_table(ConvAutoencoder(decoder="transpose"), X)
    shapes = {r.name: r.output_shape for r in rows}
    assert shapes["encoder.0"] == (4, 16, 14, 14) and shapes["encoder.2"] == (4, 32, 7, 7)
    assert shapes["encoder.5"] == (4, 32) and shapes["decoder.3"] == (4, 16, 14, 14)
    assert rows[-1].output_shape == (4, 1, 28, 28)
    assert sum(r.n_params for r in rows) == 111_521
    text = format_shape_table(rows, input_shape=(4, 1, 28, 28))
    assert "(4, 32, 7, 7)" in text and "111,521" in text.splitlines()[-1]


def test_lstm_autoencoder_reads_rows():
    torch.manual_seed(0)
    model = LSTMAutoencoder(n_latent=8, hidden=16)
    assert model.encode(X).shape == (4, 8) and model(X).shape == X.shape
    rows = shape_table(model, X)
    assert rows[0].output_shape == (4, 28, 16)  # 28 steps, one hidden vector each
    assert sum(r.n_params for r in rows) == count_parameters(model)


@pytest.mark.parametrize("model", [ConvAutoencoder(), LSTMAutoencoder()], ids=["conv", "lstm"])
def test_wrong_image_shape_says_expected_and_received(model):
    with pytest.raises(ValueError, match=r"\(B, 1, 28, 28\), but received .*\(4, 784\).*view"):
        model(X.flatten(1))
    with pytest.raises(ValueError, match=r"received .*\(1, 28, 28\).*unsqueeze"):
        model(X[0])
    with pytest.raises(ValueError, match=r"codes of shape \(B, 32\), but received .*\(4, 5\)"):
        model.decode(torch.rand(4, 5))
    with pytest.raises(ValueError, match="transpose"):
        ConvAutoencoder(decoder="deconv")


def test_checkerboard_appears_only_for_uneven_overlap():
    t_map, u_map = overlap_maps(kernel_size=3, stride=2)
    inner_t, inner_u = t_map[2:-2, 2:-2], u_map[2:-2, 2:-2]
    assert set(inner_t.unique().tolist()) == {1.0, 2.0, 4.0}  # the checkerboard
    assert inner_u.unique().tolist() == [9.0]  # 3 x 3 weights of 1 on ones, not rescaled
    even, even_u = overlap_maps(kernel_size=4, stride=2)
    assert even[2:-2, 2:-2].unique().tolist() == [4.0]  # kernel divisible by stride: even
    assert even_u[3:-3, 3:-3].unique().tolist() == [16.0]


@pytest.mark.parametrize("kernel_size", [3, 4, 5, 6])
def test_upsample_conv_has_no_grid_away_from_the_padding(kernel_size):
    # the lesson measures the flat-input contrast with border = kernel_size // 2 + 1
    _, u_map = overlap_maps(kernel_size=kernel_size, stride=2)
    assert parity_contrast(u_map, border=kernel_size // 2 + 1) == 0


def test_overlap_figure_and_view():
    fig = overlap_figure(3, 2)
    assert "ConvTranspose2d" in fig.axes[0].get_title()
    written = {t.get_text() for t in fig.axes[1].texts}
    assert "9" in written and "2.25" not in written  # the raw sums, as the title says
    view = overlap_view()
    view.controls["kernel_size"].value = 4
    assert "kernel 4, stride 2" in view.figure._suptitle.get_text()


def test_error_maps():
    model = ConvAutoencoder()
    maps = error_maps(model, X, batch_size=3)
    with torch.no_grad():
        expected = (model(X) - X).abs().mean(dim=(0, 1))
    torch.testing.assert_close(maps, expected)
    fig = error_maps_figure({"a": model, "b": model}, X)
    assert len(fig.axes) == 3  # two maps and a colour bar


def test_parity_contrast_sees_a_checkerboard_and_not_a_flat_map():
    flat = torch.ones(12, 12)
    assert parity_contrast(flat) == 0
    grid = torch.ones(12, 12)
    grid[::2, ::2] = 3.0  # one parity class brighter
    assert parity_contrast(grid) > 1
    t_map, u_map = overlap_maps(3, 2)  # uneven overlap vs upsample + conv
    assert parity_contrast(t_map, border=1) > 0.5 > parity_contrast(u_map, border=1)
    with pytest.raises(ValueError, match=r"\(H, W\)"):
        parity_contrast(torch.ones(1, 12, 12))


def _maps_of_known_answer() -> dict[str, torch.Tensor]:
    """28 x 28 maps: pure period-2 grids of amplitude 0.01 on a flat 1, and grid-free slopes."""
    i, j = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    return {
        "grid (pi, pi)": 1 + 0.01 * (-1) ** (i + j),
        "grid (pi, 0)": 1 + 0.01 * (-1) ** i,
        "grid (0, pi)": 1 + 0.01 * (-1) ** j,
        "ramp": i / 27 + 0.3 * j / 27,
        "off-centre blob": torch.exp(-((i - 9) ** 2 + (j - 17) ** 2) / (2 * 6.0**2)),
    }


def test_high_pass_zeroes_constants_and_ramps_and_scales_period2_patterns_by_4_4_8():
    rows, cols = torch.arange(6, dtype=torch.float64), torch.arange(7, dtype=torch.float64)
    i, j = torch.meshgrid(rows, cols, indexing="ij")  # (6, 7): H != W, float64 so 0 is exact
    sign_i, sign_j = 1 - 2 * (i % 2), 1 - 2 * (j % 2)  # +1, -1, +1, ... down the rows / columns
    flat, ramp = torch.full((6, 7), 0.7), 0.2 * i - 0.1 * j
    maps = torch.stack([flat, ramp, sign_i, sign_j, sign_i * sign_j])  # (5, 6, 7)
    out = high_pass(maps)  # (5, 4, 5): the edge pixels dropped
    assert out.shape == (5, 4, 5) and out.dtype == torch.float64
    torch.testing.assert_close(out[:2], torch.zeros(2, 4, 5, dtype=torch.float64))  # constant, ramp
    inner = maps[2:, 1:-1, 1:-1]  # each pattern where high_pass keeps it
    gains = (4, 4, 8)  # rows alternate, columns alternate, checkerboard
    for gain, got, pattern in zip(gains, out[2:], inner, strict=True):
        torch.testing.assert_close(got, gain * pattern)
    with pytest.raises(InputError, match=r"\(N, H, W\) with H, W >= 3"):
        high_pass(torch.ones(1, 2, 5))  # too few rows to have a neighbour above and below
    with pytest.raises(InputError, match=r"map\[None\]"):
        high_pass(torch.ones(5, 5))  # one map without its batch dimension


def test_period2_power_sees_grids_whatever_their_phase_and_not_slopes():
    maps = _maps_of_known_answer()
    for name, m in maps.items():
        rolled = [m, m.roll(1, dims=1), m.roll(1, dims=0), m.roll((1, 1), dims=(0, 1))]
        power = period2_power(torch.stack(rolled))  # (4,): the map and three one-pixel shifts
        if name.startswith("grid"):  # a pure grid of amplitude 0.01: power 0.01^2, every shift
            torch.testing.assert_close(power, torch.full((4,), 1e-4), rtol=1e-4, atol=0)
        else:  # no period-2 structure at all: about 0 (parity_contrast is not: 0.07, 0.06)
            assert power.max() < 1e-10 and parity_contrast(m) > 0.02
    # additive: a grid on top of the blob keeps the grid's power (the blob adds ~nothing)
    both = period2_power((maps["off-centre blob"] + maps["grid (pi, pi)"] - 1)[None])
    torch.testing.assert_close(both, torch.tensor([1e-4]), rtol=1e-3, atol=0)
    # noise: per-map power is positive, small, and grows with the noise
    g = torch.Generator().manual_seed(0)
    noise = torch.randn(200, 28, 28, generator=g)
    assert 0 < period2_power(0.01 * noise).mean() < period2_power(0.1 * noise).mean()
    with pytest.raises(InputError, match=r"\(N, H, W\)"):
        period2_power(torch.ones(2, 1, 28, 28))


def _realish_images(n: int = 400, seed: int = 0) -> torch.Tensor:
    """(n, 28, 28) garment-like maps: a smooth blob of random place, size and brightness per
    image, plus fine pixel detail of random phase (Gaussian noise, strongest on the blob)."""
    g = torch.Generator().manual_seed(seed)
    i, j = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    ci, cj = 10 + 8 * torch.rand(2, n, 1, 1, generator=g)
    width = 4 + 4 * torch.rand(n, 1, 1, generator=g)
    blob = torch.exp(-((i - ci) ** 2 + (j - cj) ** 2) / (2 * width**2))  # (n, 28, 28)
    return blob * (0.5 + 0.5 * torch.rand(n, 1, 1, generator=g)) + 0.3 * blob * torch.randn(
        n, 28, 28, generator=g
    )


def test_grid_above_floor_uses_the_same_limit_as_coherent_grid():
    def grid(size: float, se: float) -> CoherentGrid:
        return CoherentGrid(torch.zeros(3), torch.ones(3), size, se, 0.0, False)

    floor = grid(1.0, 0.3)
    z, above = grid_above_floor(grid(2.0, 0.4), floor)  # z = 1 / 0.5 = 2: marginal
    assert abs(z - 2.0) < 1e-9 and not above  # z = 2 is NOT above: the limit is 3, not 2
    z, above = grid_above_floor(grid(2.6, 0.4), floor)  # z = 3.2
    assert above and z > GRID_Z_LIMIT == 3.0
    assert grid_above_floor(grid(0.5, 0.4), floor)[0] < 0  # below the floor: negative z
    assert grid_above_floor(grid(2.0, 0.4), floor, z_limit=1.5)[1]  # the limit is a parameter


def test_coherent_grid_sees_a_fixed_phase_grid_and_not_detail_phase_or_slopes():
    x = _realish_images()  # (400, 28, 28)
    i, j = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    grid = 0.004 * (-1) ** (i + j)  # faint: far below the detail (0.3 x the blob)
    plain = coherent_grid(x)
    fixed = coherent_grid(x + grid)
    assert not plain.grid and plain.z < 3  # detail of random phase averages away
    assert fixed.grid and fixed.z > 5  # the same grid at the same place survives the average
    assert abs(fixed.amplitudes[2] - 0.004) < 3 * fixed.ses[2]  # (pi, pi) recovered
    assert fixed.amplitudes[:2].abs().max() < 4 * fixed.ses[:2].max()  # the other two ~0
    # the per-image power cannot tell the two apart: the grid adds under 10% to it
    assert period2_power(x + grid).mean() < 1.1 * period2_power(x).mean()
    # the same grid with a random sign (phase) per image: incoherent, no verdict
    sign = torch.where(torch.rand(len(x), 1, 1, generator=torch.Generator().manual_seed(1)) < 0.5,
                       -1.0, 1.0)  # fmt: skip
    assert not coherent_grid(x + sign * grid).grid
    # a smooth slope, the same in every image (so it survives the average): still no grid
    assert not coherent_grid(x + 0.02 * i + 0.01 * j).grid
    # a one-column roll flips the sign of the (0, pi) and (pi, pi) amplitudes of a real grid
    rolled = coherent_grid((x + grid).roll(1, dims=2))
    assert rolled.grid and rolled.amplitudes[2] * fixed.amplitudes[2] < 0
    # linear: the amplitudes of the mean map are the mean of the per-map amplitudes
    torch.testing.assert_close(
        period2_amplitudes(x.mean(dim=0, keepdim=True))[0], period2_amplitudes(x).mean(dim=0)
    )
    with pytest.raises(InputError, match="at least 2 maps"):
        coherent_grid(x[:1])
    with pytest.raises(InputError, match=r"\(N, H, W\)"):
        coherent_grid(x[:, None])


def test_centred_conv_autoencoder_subtracts_the_mean_and_starts_at_it():
    torch.manual_seed(0)
    mean = torch.rand(1, 28, 28) * 0.8 + 0.1
    model = ConvAutoencoder(decoder="upsample", input_mean=mean)
    plain = ConvAutoencoder(decoder="upsample")
    assert count_parameters(model) == count_parameters(plain) + 784  # the (1, 28, 28) offset
    assert model.input_mean.shape == (1, 1, 28, 28)
    torch.testing.assert_close(model.encode(X), model.encoder(X - mean[None]))
    # the offset starts at logit(mean): with the last convolution's weights and bias at 0,
    # the decoder returns the mean image for any code
    last = [m for m in model.decoder if isinstance(m, nn.Conv2d)][-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.zero_()
        torch.testing.assert_close(model.decode(torch.randn(3, 32))[:, 0], mean.expand(3, 28, 28))
    assert "input_mean" in model.state_dict()  # saved with the weights
    assert "input_mean" not in plain.state_dict()
    # the first-layer maps see the centred image, as encode does
    model.eval()
    with torch.no_grad():
        expected = torch.relu(model.encoder[0](X[:1] - mean[None]))[0]
    torch.testing.assert_close(first_layer_maps(model, X[0]), expected)
    with pytest.raises(InputError, match="784"):
        ConvAutoencoder(input_mean=torch.rand(1, 14, 14))
    with pytest.raises(InputError, match="float"):
        ConvAutoencoder(input_mean=torch.ones(784, dtype=torch.long))


def _parity_means(maps: torch.Tensor, border: int = 2) -> torch.Tensor:
    """Mean of each parity class of the inner region, written out: (N, H, W) -> (4,)."""
    h, w = maps.shape[-2:]
    rows = torch.arange(h)[:, None].expand(h, w)
    cols = torch.arange(w)[None, :].expand(h, w)
    inner = (rows >= border) & (rows < h - border) & (cols >= border) & (cols < w - border)
    return torch.stack(
        [maps[:, inner & (rows % 2 == r) & (cols % 2 == c)].mean() for r in (0, 1) for c in (0, 1)]
    )


def test_linear_upsample_conv_has_equal_parity_means_a_transposed_conv_does_not():
    # Parity contrast compares the four class MEANS. For a linear Upsample + Conv layer each class
    # mean is close to (the shared sub-kernel sum) x (the mean input) + bias, away from the border,
    # on inputs without large-scale slope such as these random ones (a ramp breaks it: see the
    # ramp test below). A stride-2 transposed conv has four different sub-kernel sums, so it does
    # show a contrast.
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(300, 1, 14, 14, generator=gen)  # non-flat inputs
    up_spread, t_spread = [], []
    for seed in range(10):
        torch.manual_seed(seed)
        up = nn.Sequential(
            nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(1, 1, 3, padding=1)
        )
        t = nn.ConvTranspose2d(1, 1, 3, stride=2, padding=1, output_padding=1)
        with torch.no_grad():
            for layer, spread in ((up, up_spread), (t, t_spread)):
                out = layer(x)[:, 0]  # (300, 28, 28)
                means = _parity_means(out)
                spread.append(((means.max() - means.min()) / out.abs().mean()).item())
                if layer is up:  # the predicted value: sum of the nine weights x mean input + bias
                    w, b = layer[1].weight.sum(), layer[1].bias[0]
                    inner_in = x[:, 0, 1:-1, 1:-1].mean()  # the input pixels the inner region reads
                    torch.testing.assert_close(
                        means, (w * inner_in + b).expand(4), atol=0.02, rtol=0
                    )
    assert max(up_spread) < 0.01
    assert min(t_spread) > 10 * max(up_spread)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_upsample_conv_turns_a_ramp_into_alternating_steps_of_the_column_sums(seed):
    # Upsample(2) + Conv2d(3, padding 1) on a ramp (column j holds j): away from the border, the
    # output steps by c0 + c2 from an even column to the next and by c1 from an odd one, where
    # c0, c1, c2 are the sums of the weight columns: a period-2 sawtooth unless c1 = c0 + c2.
    torch.manual_seed(seed)
    conv = nn.Conv2d(1, 1, 3, padding=1)
    pair = nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), conv)
    ramp = torch.arange(14.0).expand(14, 14)[None, None]  # (1, 1, 14, 14)
    with torch.no_grad():
        out = pair(ramp)[0, 0]  # (28, 28)
        c0, c1, c2 = conv.weight[0, 0].sum(dim=0)
    for row in (4, 13, 20):  # any inner row: the ramp does not change down the columns
        steps = out[row, 2:-2].diff()  # columns 2..25
        torch.testing.assert_close(steps[0::2], (c0 + c2).expand(len(steps[0::2])))
        torch.testing.assert_close(steps[1::2], c1.expand(len(steps[1::2])))
    assert (c0 + c2 - c1).abs() > 1e-3  # random weights: the two steps differ (a sawtooth)
    # the same pair on a flat input is flat away from the border (equal sub-kernel sums)
    with torch.no_grad():
        flat = pair(torch.ones(1, 1, 14, 14))[0, 0, 2:-2, 2:-2]
    torch.testing.assert_close(flat, flat.mean().expand_as(flat))


def test_decoder_logits_are_the_decoder_before_its_sigmoid():
    z = torch.randn(5, 32)
    for model in (ConvAutoencoder(decoder="upsample"), DenseAutoencoder(784, (128,), 32)):
        with torch.no_grad():
            torch.testing.assert_close(torch.sigmoid(decoder_logits(model, z)), model.decode(z))
    with pytest.raises(InputError, match="decoder_logits expects"):
        decoder_logits(LSTMAutoencoder(), z)


def test_shift_images_moves_columns_and_fills_with_black():
    x = torch.arange(28.0).expand(2, 1, 28, 28) / 28  # pixel value = its column / 28
    right = shift_images(x, 3)
    assert right.shape == x.shape
    torch.testing.assert_close(right[..., 3:], x[..., :25])
    assert (right[..., :3] == 0).all()  # no wrap-around (torch.roll would put 25..27 here)
    left = shift_images(x, -2)
    torch.testing.assert_close(left[..., :26], x[..., 2:])
    assert (left[..., 26:] == 0).all()
    torch.testing.assert_close(shift_images(x, 0), x)
    with pytest.raises(ValueError, match="shift_images expects a whole number"):
        shift_images(x, 28)


def test_first_layer_maps_are_conv_batchnorm_relu_in_eval_mode():
    torch.manual_seed(0)
    model = ConvAutoencoder(batch_norm=True)
    model.train()
    model(X)  # one training-mode pass moves BatchNorm's running averages away from (0, 1)
    conv, norm = model.encoder[0], model.encoder[1]
    with torch.no_grad():
        h = conv(X[2:3])  # (1, 16, 14, 14)
        scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
        expected = torch.relu(
            (h - norm.running_mean[:, None, None]) * scale[:, None, None] + norm.bias[:, None, None]
        )[0]
    maps = first_layer_maps(model, X[2])
    torch.testing.assert_close(maps, expected)
    assert model.training  # its mode is restored
    fig = first_layer_figure(model, X[2], n=4)
    assert len(fig.axes) == 2 * 5 + 2 and fig.axes[1].get_title() == "filter 0"  # + 2 colour bars
    images = [im for ax in fig.axes[:10] for im in ax.get_images()]  # image, 4 filters, 4 maps
    filter_limits = {im.get_clim() for im in images[1:5]}
    map_limits = {im.get_clim() for im in images[5:9]}
    assert len(filter_limits) == 1 and len(map_limits) == 1  # one colour scale per row
    assert fig.axes[0].get_title() == "image"  # not centred: the raw image


def test_first_layer_figure_shows_the_centred_image_and_marks_dead_maps():
    torch.manual_seed(0)
    mean = X.mean(dim=0)
    model = ConvAutoencoder(input_mean=mean)
    dead = torch.zeros(16, dtype=torch.bool)
    dead[2] = True
    fig = first_layer_figure(model, X[1], n=4, dead=dead)
    assert fig.axes[0].get_title() == "centred image"
    shown = fig.axes[0].get_images()[0].get_array()
    np.testing.assert_allclose(shown, (X[1] - mean)[0].numpy(), atol=1e-6)
    titles = [fig.axes[j].get_title() for j in range(5, 10)]  # bottom row: blank, maps 0-3
    assert titles[1:] == ["map 0", "map 1", "map 2 (dead)", "map 3"]


def test_channel_activity_is_the_mean_first_layer_map_and_zero_only_for_dead_channels():
    torch.manual_seed(0)
    mean = X.mean(dim=0)
    model = ConvAutoencoder(input_mean=mean)
    with torch.no_grad():
        model.encoder[0].weight[4] = 0.0
        model.encoder[0].bias[4] = -1.0  # channel 4: 0 at every position of every image
    activity = channel_activity(model, X, batch_size=3)  # batches of 3 and 1 images
    expected = torch.stack([first_layer_maps(model, x) for x in X]).mean(dim=(0, 2, 3))  # (16,)
    torch.testing.assert_close(activity, expected)
    dead_first = next(iter(dead_channels(model, X).values()))  # (16,) the first layer
    assert torch.equal(activity == 0, dead_first) and bool(dead_first[4])
    fig = first_layer_figure(model, X[0], channels=[7, 2])  # titled with the channel index
    assert [fig.axes[j].get_title() for j in (1, 2, 4, 5)] == [
        "filter 7",
        "filter 2",
        "map 7",
        "map 2",
    ]
    with pytest.raises(InputError, match="at least one image"):
        channel_activity(model, X[:0])


def test_dead_channels_counts_a_channel_dead_only_if_zero_everywhere():
    torch.manual_seed(0)
    model = ConvAutoencoder(batch_norm=True)
    first = model.encoder[0]
    with torch.no_grad():
        first.weight[5] = 0.0
        first.bias[5] = 0.0  # map 5 is 0 everywhere: dead
        first.weight[3] = 0.0
        first.weight[3, 0, 1, 1] = 1.0  # map 3 copies the centre pixel: fires on a bright one
        first.bias[3] = -0.99  # ... above 0.99 only
    x = torch.zeros(3, 1, 28, 28)
    x[1, 0, 10, 10] = 1.0  # ONE pixel of ONE image (an even position: stride 2 visits it)
    model.train()
    model(torch.rand(8, 1, 28, 28))  # moves the running averages
    running = model.encoder[1].running_mean.clone()
    dead = dead_channels(model, x, batch_size=2)  # batches of 2: the bright image in the 1st
    assert list(dead) == ["encoder.2", "encoder.5", "decoder.5"]  # 4-D ReLUs only, in order
    assert [m.shape for m in dead.values()] == [(16,), (32,), (16,)]
    expected = (model.encoder[:3].eval()(x) > 0).any(dim=3).any(dim=2).any(dim=0)  # eval-mode BN
    model.train()
    torch.testing.assert_close(dead["encoder.2"], ~expected)
    assert bool(dead["encoder.2"][5]) and not bool(dead["encoder.2"][3])
    assert model.training  # its mode is restored
    torch.testing.assert_close(model.encoder[1].running_mean, running)  # averages untouched
    with pytest.raises(InputError, match="dead_channels"):
        dead_channels(model, torch.rand(2, 784))


@pytest.mark.parametrize("kernel_size", [3, 5])
def test_upsample_conv_kernel_equals_upsample_then_conv(kernel_size):
    from course_utils.conv import upsample_conv_kernel

    torch.manual_seed(0)
    conv = nn.Conv2d(1, 1, kernel_size, padding=kernel_size // 2, bias=False)
    x = torch.randn(2, 1, 6, 6)
    with torch.no_grad():  # the reference: the two real layers
        expected = conv(nn.functional.interpolate(x, scale_factor=2, mode="nearest"))
        kernel = upsample_conv_kernel(conv.weight[0, 0])
        assert kernel.shape == (kernel_size + 1, kernel_size + 1)
        transpose = nn.ConvTranspose2d(
            1, 1, kernel_size + 1, stride=2, padding=kernel_size - 1 - kernel_size // 2, bias=False
        )
        transpose.weight.copy_(kernel[None, None])
        torch.testing.assert_close(transpose(x), expected)  # borders included
    sums = torch.stack([kernel[r::2, c::2].sum() for r in (0, 1) for c in (0, 1)])
    torch.testing.assert_close(sums, conv.weight.sum().expand(4))  # equal sub-kernel sums


def test_upsample_conv_kernel_by_hand_and_bad_input():
    from course_utils.conv import upsample_conv_kernel

    w = torch.tensor([[1.0, 2, 3], [4, 5, 6], [7, 8, 9]])
    kernel = upsample_conv_kernel(w)
    # tap (0, 0) is w[2, 2] alone; tap (1, 1) sums the bottom-right 2x2 block of w
    assert kernel[0, 0] == 9 and kernel[1, 1] == 5 + 6 + 8 + 9 and kernel[3, 3] == 1
    with pytest.raises(InputError, match="k odd"):
        upsample_conv_kernel(torch.ones(4, 4))


def test_noise_floor_verdict():
    from course_utils.conv_probes import noise_floor_verdict

    assert noise_floor_verdict([0.5, 0.4], [0.1, 0.2]) == "above the noise floor"
    assert noise_floor_verdict([0.15, 0.12], [0.1, 0.2]) == "within the noise floor"
    assert noise_floor_verdict([0.5, 0.15, 0.3], [0.1, 0.2]) == "above the noise floor in 2 of 3"
    assert noise_floor_verdict([0.3], [0.1, 0.3]) == "within the noise floor"  # ties: not above
    with pytest.raises(ValueError, match="at least one"):
        noise_floor_verdict([], [0.1])


def _fully_conv() -> nn.Sequential:
    """The lesson's fully convolutional encoder, up to its (B, 1, 7, 7) code map."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
        nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
        nn.Conv2d(32, 1, kernel_size=1),
    )  # fmt: skip


@pytest.mark.parametrize("cell", [0, 3, 6])
def test_receptive_field_formula_matches_the_gradient(cell):
    torch.manual_seed(0)
    layers = _fully_conv()
    computed = receptive_field(layers, cell)
    rows, cols = measured_receptive_field(layers, torch.rand(16, 1, 28, 28), (cell, cell))
    assert computed == rows == cols
    assert receptive_field(layers, 3) == (9, 15)  # 7 pixels wide, centred on pixel 12
    # by hand for one 5x5 convolution, stride 1, no padding: cell 2 sees pixels 2..6
    assert receptive_field([nn.Conv2d(1, 1, 5)], 2) == (2, 6)
    with pytest.raises(InputError, match="received a Flatten"):
        receptive_field([nn.Conv2d(1, 1, 3), nn.Flatten(), nn.Linear(4, 2)], 0)


def test_probes_never_split_a_model_across_devices_or_dtypes():
    """A probe of part of a model works on its own copy, so the model keeps one device and dtype.

    (A slice ``model[:7]`` shares its layers with ``model``: an earlier version of the lesson
    moved such a slice with .cpu(), leaving a GPU model half on the CPU. Here float64 stands in
    for "another device": every probe must leave every parameter where and what it was.)
    """
    torch.manual_seed(0)
    model = nn.Sequential(*_fully_conv(), nn.Conv2d(1, 1, 1)).double().train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rows, cols = measured_receptive_field(model[:7], X, (3, 3))  # float32 images, float64 model
    assert rows == cols == (9, 15)
    conv_ae = ConvAutoencoder(batch_norm=True).double().train()
    maps = first_layer_maps(conv_ae, X[0])
    assert maps.dtype == torch.float64 and maps.shape == (16, 14, 14)
    for m in (model, conv_ae):
        assert {(p.device, p.dtype) for p in m.parameters()} == {
            (torch.device("cpu"), torch.float64)
        }
        assert all(p.grad is None for p in m.parameters())  # no gradient left on the model
        assert m.training  # its mode is untouched
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, before[k])  # running averages included


def bootstrap_parity_contrasts(per_image_maps, n_boot=200, seed=0):
    """Paired replicates for the test: parity contrast of the mean of resampled maps (n_boot,)."""
    n = len(per_image_maps)
    draws = torch.randint(n, (n_boot, n), generator=torch.Generator().manual_seed(seed))
    return torch.tensor([parity_contrast(per_image_maps[d].mean(dim=0)) for d in draws])


def test_difference_verdict_on_paired_bootstrap_replicates():
    g = torch.Generator().manual_seed(0)
    noise = torch.rand(64, 12, 12, generator=g)  # (N, H, W): no grid, only noise
    grid = noise.clone()
    grid[:, ::2, ::2] += 1.0  # the same noise plus a checkerboard
    flat, checked = bootstrap_parity_contrasts(noise, 100), bootstrap_parity_contrasts(grid, 100)
    assert flat.shape == (100,) and flat.std() > 0  # resampling moves the measurement
    assert checked.min() > flat.max()
    # the same resamples for both (paired): the grid's contrast always higher
    verdict = difference_verdict("grid", checked, "noise", flat, "contrast")
    assert verdict.endswith("grid higher") and "noise scale" in verdict
    assert difference_verdict("noise", flat, "grid", checked, "contrast").endswith("noise lower")
    same = difference_verdict("a", flat, "b", bootstrap_parity_contrasts(noise, 100, seed=1), "c")
    assert same.endswith("no difference beyond the noise")
    with pytest.raises(InputError, match="paired"):
        difference_verdict("a", flat, "b", flat[:10], "c")


def test_conv_exercise_checks_enforce_the_relus_the_tasks_ask_for(monkeypatch):
    """Tasks 3-4: an encoder without its last ReLU or a decoder without the middle one fails."""
    from course_utils import exercise_checks as ec

    monkeypatch.delenv("COURSE_LANG", raising=False)

    def encoder(c1, c2, last=nn.ReLU, middle=nn.ReLU):
        return nn.Sequential(
            nn.Conv2d(1, c1, 3, 2, 1), middle(), nn.Conv2d(c1, c2, 3, 2, 1), last()
        )

    def decoder(c2, c1, middle=nn.ReLU):
        return nn.Sequential(nn.ConvTranspose2d(c2, c1, 3, 2, 1, 1), middle(),
                             nn.ConvTranspose2d(c1, 1, 3, 2, 1, 1), nn.Sigmoid())  # fmt: skip

    assert ec.check_conv_encoder(encoder).passed and ec.check_conv_decoder(decoder).passed
    for result, note in (
        (ec.check_conv_encoder(lambda c1, c2: encoder(c1, c2, last=nn.Identity)),
         "no ReLU at the end"),
        (ec.check_conv_encoder(lambda c1, c2: encoder(c1, c2, middle=nn.Tanh)),
         "ReLU missing between layers"),
        (ec.check_conv_decoder(lambda c2, c1: decoder(c2, c1, middle=nn.Identity)),
         "ReLU missing between layers"),
    ):  # fmt: skip
        assert result.status == "wrong" and result.note == note, result.message
