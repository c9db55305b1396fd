"""course_utils.models: linear, dense and tied autoencoders (lessons 01-02)."""

import pytest
import torch

from course_utils.models import (
    DenseAutoencoder,
    LinearAutoencoder,
    TiedAutoencoder,
    count_parameters,
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
