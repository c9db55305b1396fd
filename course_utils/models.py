"""Dense autoencoders of lessons 01-02, and the ``mlp`` builder the later dense models reuse.

Each model has ``encode(x) -> z``, ``decode(z) -> x_hat`` and ``forward(x)``. Images go in as
(B, 1, 28, 28) or already flat (B, 784); reconstructions come out with the shape of the input,
so ``loss(model(x), x)`` always compares like with like. Every input is checked
(``course_utils.inputs``) so a wrong shape or dtype gets a message, not a torch stack trace.

Later lessons keep their models beside the ideas they teach: ``conv`` (03), ``sparse`` (05),
``vae`` (06), ``cvae`` and ``gumbel`` (07); the module table in ``course_utils/__init__.py``
lists them all.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from course_utils.inputs import check_codes, check_images, check_sizes, check_widths, model_dtype


def flatten_input(x: Tensor, n_inputs: int, who: str, dtype: torch.dtype = torch.float32) -> Tensor:
    """(B, ...) -> (B, n_inputs), with a clear error when ``x`` cannot be a batch of inputs."""
    check_images(x, who, flat_ok=True, n_inputs=n_inputs, dtype=dtype)
    return x.flatten(1)  # (B, 1, 28, 28) -> (B, 784)


class LinearAutoencoder(nn.Module):
    """A linear encoder and a linear decoder, nothing in between (lesson 01).

    encode: (B, n_inputs) -> (B, n_latent)        z = W_e x + b_e
    decode: (B, n_latent) -> (B, n_inputs)        x_hat = W_d z + b_d
    Trained with squared error it learns the same subspace as PCA with n_latent components,
    but the columns of W_d need not be orthonormal or ordered by variance.
    """

    def __init__(self, n_inputs: int = 784, n_latent: int = 2) -> None:
        check_sizes("LinearAutoencoder", n_inputs=n_inputs, n_latent=n_latent)
        super().__init__()
        self.n_inputs, self.n_latent = n_inputs, n_latent
        self.encoder = nn.Linear(n_inputs, n_latent)
        self.decoder = nn.Linear(n_latent, n_inputs)

    def encode(self, x: Tensor) -> Tensor:
        x = flatten_input(x, self.n_inputs, "LinearAutoencoder", model_dtype(self))
        return self.encoder(x)

    def decode(self, z: Tensor) -> Tensor:
        check_codes(z, self.n_latent, "LinearAutoencoder.decode", model_dtype(self))
        return self.decoder(z)

    def forward(self, x: Tensor) -> Tensor:
        return self.decode(self.encode(x)).view_as(x)  # same shape as the input


def mlp(sizes: list[int], activation: type[nn.Module] = nn.ReLU) -> nn.Sequential:
    """Linear layers of the given sizes with ``activation`` BETWEEN them (none after the last).

    ``mlp([784, 128, 32])`` is Linear(784, 128) -> ReLU -> Linear(128, 32).
    """
    check_widths(sizes, "sizes", "mlp")
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(activation())
    return nn.Sequential(*layers)


class DenseAutoencoder(nn.Module):
    """A symmetric stacked (deep) autoencoder of dense layers (lesson 02).

    ``DenseAutoencoder(784, hidden=(128,), n_latent=32)`` is 784 -> 128 -> 32 -> 128 -> 784:
        encode: (B, 784) or (B, 1, 28, 28) -> (B, n_latent)     (no activation on the code)
        decode: (B, n_latent) -> (B, 784)    through a sigmoid, so pixels land in [0, 1]
    With ``sigmoid_output=False`` the decoder returns logits instead (for ``mean_bce_per_image``).
    """

    def __init__(
        self,
        n_inputs: int = 784,
        hidden: tuple[int, ...] = (128,),
        n_latent: int = 32,
        activation: type[nn.Module] = nn.ReLU,
        sigmoid_output: bool = True,
    ) -> None:
        check_sizes("DenseAutoencoder", n_inputs=n_inputs, n_latent=n_latent)
        hidden = check_widths(hidden, "hidden", "DenseAutoencoder")
        super().__init__()
        self.n_inputs, self.n_latent, self.sigmoid_output = n_inputs, n_latent, sigmoid_output
        self.encoder = mlp([n_inputs, *hidden, n_latent], activation)
        self.decoder = mlp([n_latent, *reversed(hidden), n_inputs], activation)

    def encode(self, x: Tensor) -> Tensor:
        return self.encoder(flatten_input(x, self.n_inputs, "DenseAutoencoder", model_dtype(self)))

    def decode(self, z: Tensor) -> Tensor:
        check_codes(z, self.n_latent, "DenseAutoencoder.decode", model_dtype(self))
        out = self.decoder(z)  # (B, n_inputs)
        return torch.sigmoid(out) if self.sigmoid_output else out

    def forward(self, x: Tensor) -> Tensor:
        return self.decode(self.encode(x)).view_as(x)  # same shape as the input


class TiedAutoencoder(nn.Module):
    """A stacked autoencoder whose decoder reuses the encoder's weights, transposed (lesson 02).

    ``TiedAutoencoder(784, hidden=(128,), n_latent=32)`` has the shape of ``DenseAutoencoder``,
    784 -> 128 -> 32 -> 128 -> 784, but only the encoder owns weight matrices:
        encode: h = act(W_1 x + b_1), z = W_2 h + b_2          W_1: (128, 784), W_2: (32, 128)
        decode: h' = act(W_2^T z + c_2), x_hat = sigmoid(W_1^T h' + c_1)
    Each W is ONE tensor used twice, so its gradient sums both uses. The decoder has its own
    biases c (sizes 128 and 784). Shapes as in ``DenseAutoencoder``: (B, 784) or (B, 1, 28, 28) in,
    codes (B, n_latent), reconstructions shaped like the input.
    """

    def __init__(
        self,
        n_inputs: int = 784,
        hidden: tuple[int, ...] = (128,),
        n_latent: int = 32,
        activation: type[nn.Module] = nn.ReLU,
        sigmoid_output: bool = True,
    ) -> None:
        check_sizes("TiedAutoencoder", n_inputs=n_inputs, n_latent=n_latent)
        hidden = check_widths(hidden, "hidden", "TiedAutoencoder")
        super().__init__()
        self.n_inputs, self.n_latent, self.sigmoid_output = n_inputs, n_latent, sigmoid_output
        sizes = [n_inputs, *hidden, n_latent]
        self.encoder = mlp(sizes, activation)  # owns every weight matrix
        self.linears = [m for m in self.encoder if isinstance(m, nn.Linear)]  # W_1, W_2, ...
        # decoder biases, in decoding order: c_2 (size 128), then c_1 (size 784)
        self.decoder_biases = nn.ParameterList(
            [nn.Parameter(torch.zeros(n)) for n in reversed(sizes[:-1])]
        )
        self.act = activation()

    def encode(self, x: Tensor) -> Tensor:
        return self.encoder(flatten_input(x, self.n_inputs, "TiedAutoencoder", model_dtype(self)))

    def decode(self, z: Tensor) -> Tensor:
        check_codes(z, self.n_latent, "TiedAutoencoder.decode", model_dtype(self))
        h = z
        last = len(self.linears) - 1
        pairs = zip(reversed(self.linears), self.decoder_biases, strict=True)
        for i, (layer, bias) in enumerate(pairs):
            # the encoder's W is (n_out, n_in); (B, n_out) @ W -> (B, n_in), i.e. W^T h per image
            h = h @ layer.weight + bias
            if i < last:
                h = self.act(h)
        return torch.sigmoid(h) if self.sigmoid_output else h

    def forward(self, x: Tensor) -> Tensor:
        return self.decode(self.encode(x)).view_as(x)  # same shape as the input


def count_parameters(model: nn.Module) -> int:
    """Number of trainable numbers in ``model``; a tensor used twice (tied) counts once."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
