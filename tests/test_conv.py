"""Lesson 03: convolutional and LSTM autoencoders, the shape table, checkerboard helpers."""

import pytest
import torch

from course_utils.conv import (
    ConvAutoencoder,
    LSTMAutoencoder,
    error_maps,
    error_maps_figure,
    format_shape_table,
    overlap_figure,
    overlap_maps,
    overlap_view,
    shape_table,
)
from course_utils.models import count_parameters

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
    assert inner_u.unique().numel() == 1  # flat away from the border
    even, _ = overlap_maps(kernel_size=4, stride=2)
    assert even[2:-2, 2:-2].unique().numel() == 1  # kernel divisible by stride: even overlap


def test_overlap_figure_and_view():
    fig = overlap_figure(3, 2)
    assert "ConvTranspose2d" in fig.axes[0].get_title()
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
    from course_utils.conv import overlap_maps, parity_contrast

    flat = torch.ones(12, 12)
    assert parity_contrast(flat) == 0
    grid = torch.ones(12, 12)
    grid[::2, ::2] = 3.0  # one parity class brighter
    assert parity_contrast(grid) > 1
    t_map, u_map = overlap_maps(3, 2)  # uneven overlap vs upsample + conv
    assert parity_contrast(t_map, border=1) > 0.5 > parity_contrast(u_map, border=1)
    with pytest.raises(ValueError, match=r"\(H, W\)"):
        parity_contrast(torch.ones(1, 12, 12))
