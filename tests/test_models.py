"""course_utils.models: linear, dense and tied autoencoders (lessons 01-02)."""

import pytest
import torch

from course_utils.models import (
    DenseAutoencoder,
    LinearAutoencoder,
    TiedAutoencoder,
    count_parameters,
    dead_units,
)


def test_linear_autoencoder_shapes_and_parameters():
    model = LinearAutoencoder(784, 10)
    x = torch.rand(3, 1, 28, 28)
    assert model.encode(x).shape == (3, 10)
    assert model(x).shape == x.shape and model(x.flatten(1)).shape == (3, 784)
    assert sum(p.numel() for p in model.parameters()) == 784 * 10 + 10 + 10 * 784 + 784


def test_linear_autoencoder_wrong_input_is_explained():
    model = LinearAutoencoder(784, 10)
    with pytest.raises(ValueError, match=r"or \(B, 1, 28, 28\), but received .*\(1, 32, 32\)"):
        model(torch.rand(1, 32, 32))
    with pytest.raises(ValueError, match=r"x.unsqueeze\(0\)"):
        model(torch.rand(784))


def test_dense_autoencoder_is_symmetric_and_checks_codes():
    model = DenseAutoencoder(784, hidden=(128,), n_latent=32)
    x = torch.rand(3, 1, 28, 28)
    assert model.encode(x).shape == (3, 32) and model(x).shape == x.shape
    assert 0 <= model(x).min() and model(x).max() <= 1  # sigmoid output
    sizes = [m.out_features for m in model.modules() if isinstance(m, torch.nn.Linear)]
    assert sizes == [128, 32, 128, 784]
    n_params = (784 * 128 + 128) + (128 * 32 + 32) + (32 * 128 + 128) + (128 * 784 + 784)
    assert sum(p.numel() for p in model.parameters()) == n_params
    logits_model = DenseAutoencoder(784, n_latent=8, sigmoid_output=False)
    assert logits_model.decode(torch.randn(2, 8)).shape == (2, 784)
    with pytest.raises(ValueError, match=r"codes of shape \(B, 32\), but received .*\(3, 10\)"):
        model.decode(torch.zeros(3, 10))


X = torch.rand(5, 1, 28, 28, generator=torch.Generator().manual_seed(0))


def test_dense_and_tied_shapes_and_parameter_counts():
    dense, tied = DenseAutoencoder(784, (128,), 32), TiedAutoencoder(784, (128,), 32)
    for model in (dense, tied):
        assert model.encode(X).shape == (5, 32)
        assert model(X).shape == X.shape and model(X.flatten(1)).shape == (5, 784)
        out = model(X)
        assert out.min() >= 0 and out.max() <= 1  # sigmoid output
    encoder = 784 * 128 + 128 + 128 * 32 + 32
    assert count_parameters(dense) == 2 * encoder + 784 - 32 == 209_968
    assert count_parameters(tied) == encoder + 128 + 784 == 105_520


def test_tied_decoder_is_the_transposed_encoder():
    torch.manual_seed(0)
    tied = TiedAutoencoder(784, (128,), 32)
    w1, w2 = tied.encoder[0].weight, tied.encoder[2].weight
    c2, c1 = tied.decoder_biases
    with torch.no_grad():
        c1.normal_()
        c2.normal_()
    z = torch.randn(3, 32)
    by_hand = torch.sigmoid(torch.relu(z @ w2 + c2) @ w1 + c1)  # W2^T z, then W1^T h
    torch.testing.assert_close(tied.decode(z), by_hand)


def test_tied_weight_is_one_tensor_with_gradients_from_both_uses():
    torch.manual_seed(0)
    tied = TiedAutoencoder(784, (128,), 32)
    weights = [p for p in tied.parameters() if p.dim() == 2]
    assert [tuple(w.shape) for w in weights] == [(128, 784), (32, 128)]  # no decoder matrices
    w1 = tied.encoder[0].weight
    # gradient through the encoder only
    tied.zero_grad()
    tied.encode(X).pow(2).sum().backward()
    g_enc = w1.grad.clone()
    # gradient through the decoder only (the code is detached from the encoder)
    tied.zero_grad()
    tied.decode(tied.encode(X).detach()).sum().backward()
    g_dec = w1.grad.clone()
    assert g_enc.abs().sum() > 0 and g_dec.abs().sum() > 0
    # both uses at once: autograd adds the two contributions
    tied.zero_grad()
    (tied.encode(X).pow(2).sum() + tied.decode(tied.encode(X).detach()).sum()).backward()
    torch.testing.assert_close(w1.grad, g_enc + g_dec)


def test_tied_gradient_on_one_loss_is_the_sum_of_the_two_paths():
    """One reconstruction loss; the shared W1 must get (encoder-path grad) + (decoder-path grad).

    The paths are separated by a by-hand forward that gives each use its own leaf copy of W1.
    Mutant seen to fail: ``decode`` reading ``layer.weight.detach()`` (the decoder path lost).
    """
    torch.manual_seed(0)
    tied = TiedAutoencoder(784, (16,), 4)
    (w1, b1), (w2, b2) = (
        (layer.weight, layer.bias) for layer in (tied.encoder[0], tied.encoder[2])
    )
    c2, c1 = tied.decoder_biases
    x = X.flatten(1)
    ((tied(X) - X) ** 2).sum(dim=(1, 2, 3)).mean().backward()
    w1_enc, w1_dec = (w1.detach().clone().requires_grad_() for _ in range(2))
    with torch.no_grad():
        expected_loss = ((tied(X) - X) ** 2).sum(dim=(1, 2, 3)).mean()
    z = torch.relu(x @ w1_enc.T + b1.detach()) @ w2.detach().T + b2.detach()  # (B, 4)
    x_hat = torch.sigmoid(torch.relu(z @ w2.detach() + c2.detach()) @ w1_dec + c1.detach())
    loss = ((x_hat - x) ** 2).sum(dim=1).mean()
    torch.testing.assert_close(loss, expected_loss)  # the by-hand forward is the same function
    loss.backward()
    assert w1_enc.grad.abs().sum() > 0 and w1_dec.grad.abs().sum() > 0
    torch.testing.assert_close(w1.grad, w1_enc.grad + w1_dec.grad)


def test_tied_training_step_changes_the_decoder_through_the_shared_weight():
    torch.manual_seed(0)
    tied = TiedAutoencoder(784, (64,), 8)
    opt = torch.optim.SGD(tied.parameters(), lr=0.1)
    z = torch.randn(4, 8)
    before = tied.decode(z).detach()
    ((tied(X) - X) ** 2).sum().backward()
    opt.step()
    assert not torch.allclose(tied.decode(z), before)


@pytest.mark.parametrize("cls", [DenseAutoencoder, TiedAutoencoder])
def test_wrong_shapes_say_what_was_expected_and_received(cls):
    model = cls(784, (128,), 32)
    with pytest.raises(ValueError, match=r"or \(B, 1, 28, 28\), but received .*\(5, 1, 14, 14\)"):
        model(torch.rand(5, 1, 14, 14))
    with pytest.raises(ValueError, match=r"codes of shape \(B, 32\), but received .*\(5, 16\)"):
        model.decode(torch.rand(5, 16))


def test_input_mean_default_keeps_the_model_unchanged():
    """Backward compatible: no input_mean -> the same weights, outputs and state_dict keys."""
    torch.manual_seed(0)
    old = DenseAutoencoder(784, (128,), 32)
    torch.manual_seed(0)
    new = DenseAutoencoder(784, (128,), 32, input_mean=None)
    assert list(new.state_dict()) == list(old.state_dict())  # no buffer saved
    torch.testing.assert_close(new(X), old(X))
    torch.manual_seed(0)
    tied = TiedAutoencoder(784, (128,), 32)
    assert "input_mean" not in tied.state_dict() and tied.input_mean is None


@pytest.mark.parametrize("cls", [DenseAutoencoder, TiedAutoencoder])
def test_input_mean_centres_the_encoder_input_and_starts_from_the_mean_image(cls):
    mean = torch.rand(1, 28, 28, generator=torch.Generator().manual_seed(1))
    mean[0, 0, :3] = 0.0  # pixels that are 0 in every image: logit clamped, not -inf
    torch.manual_seed(0)
    model = cls(784, (16,), 4, input_mean=mean)
    torch.manual_seed(0)
    raw = cls(784, (16,), 4)  # the same weights, no centring
    # encode: the encoder of the raw model applied to x - mean, computed independently
    torch.testing.assert_close(model.encode(X), raw.encode(X - mean))
    assert model.state_dict()["input_mean"].shape == (784,)
    # decode: with the last weight zeroed the output is the (clamped) mean image
    last = model.decoder[-1].weight if cls is DenseAutoencoder else model.encoder[0].weight
    with torch.no_grad():
        last.zero_()
    expected = mean.flatten().clamp(1e-3, 1 - 1e-3).expand(5, 784)
    torch.testing.assert_close(model.decode(torch.randn(5, 4)), expected)
    # the buffer follows the model (dtype) and is saved and loaded with the weights
    copy = cls(784, (16,), 4, input_mean=torch.zeros(784))
    copy.load_state_dict(model.state_dict())
    torch.testing.assert_close(copy.input_mean, mean.flatten())
    assert model.double().input_mean.dtype == torch.float64


@pytest.mark.parametrize(
    "bad", [torch.rand(28, 27), torch.ones(784, dtype=torch.long), [0.5] * 784]
)
def test_input_mean_of_the_wrong_kind_is_explained(bad):
    with pytest.raises(
        ValueError, match=r"input_mean.*(expects|tensor).*x_train.mean\(dim=0\)|torch"
    ):
        DenseAutoencoder(784, (16,), 4, input_mean=bad)


def test_dead_units_match_a_by_hand_computation():
    torch.manual_seed(0)
    model = DenseAutoencoder(784, (16,), 4)
    with torch.no_grad():
        model.encoder[0].bias[[3, 7]] = -1e3  # these two hidden units can never fire
    masks = dead_units(model, X, batch_size=2)  # batches of 2, 2 and 1 image
    assert [tuple(m.shape) for m in masks] == [(16,), (16,)]  # encoder hidden, decoder hidden
    with torch.no_grad():
        h = torch.relu(X.flatten(1) @ model.encoder[0].weight.T + model.encoder[0].bias)  # (5, 16)
        z = model.encoder[2](h)
        h_dec = torch.relu(model.decoder[0](z))  # (5, 16)
    torch.testing.assert_close(masks[0], (h == 0).all(dim=0))
    torch.testing.assert_close(masks[1], (h_dec == 0).all(dim=0))
    assert masks[0][[3, 7]].all()
    assert [m.tolist() for m in dead_units(model, X)] == [m.tolist() for m in masks]  # one batch


def test_dead_units_of_the_tied_model_and_of_a_hand_written_sequential():
    torch.manual_seed(0)
    tied = TiedAutoencoder(784, (16,), 4)
    with torch.no_grad():
        tied.decoder_biases[0][5] = -1e3  # decoder hidden unit 5 (bias c_2)
    masks = dead_units(tied, X)
    assert [tuple(m.shape) for m in masks] == [(16,), (16,)] and masks[1][5]
    seq = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 8), torch.nn.ReLU())
    with torch.no_grad():
        seq[1].bias.fill_(-1e3)
    assert dead_units(seq, X)[0].all()


def test_dead_units_without_relus_or_images_is_explained():
    with pytest.raises(ValueError, match=r"expects a model with nn.ReLU modules"):
        dead_units(LinearAutoencoder(784, 4), X)
    with pytest.raises(ValueError, match=r"at least one image"):
        dead_units(DenseAutoencoder(784, (16,), 4), X[:0])
