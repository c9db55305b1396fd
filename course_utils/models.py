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

from course_utils.inputs import (
    InputError,
    check_codes,
    check_images,
    check_sizes,
    check_tensor,
    check_widths,
    describe,
    model_dtype,
)


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


def centring_buffer(input_mean: object, n_inputs: int, who: str) -> Tensor | None:
    """``input_mean`` as a flat (n_inputs,) float tensor (None stays None), or a clear error.

    Accepts the mean image in any shape with n_inputs numbers: (784,), (1, 28, 28), (1, 784), ...
    The usual call: ``input_mean=x_train.mean(dim=0)``.
    """
    if input_mean is None:
        return None
    check_tensor(input_mean, f"{who}(input_mean=...)", dtype=None)
    if input_mean.numel() != n_inputs or not input_mean.is_floating_point():
        raise InputError(
            f"{who}(input_mean=...) expects a float tensor with n_inputs = {n_inputs} numbers "
            f"(the mean training image), but received {describe(input_mean)}. "
            "Pass input_mean=x_train.mean(dim=0)."
        )
    return input_mean.detach().flatten().float().clone()  # (n_inputs,), a copy


def output_bias_for_mean(input_mean: Tensor) -> Tensor:
    """logit(mean), clamped: the output bias at which sigmoid(bias) is the mean image.

    (n_inputs,) -> (n_inputs,). Pixels that are 0 (or 1) in every image are clamped to 1e-3
    (or 1 - 1e-3), since the logit of 0 is minus infinity.
    """
    return torch.logit(input_mean.clamp(1e-3, 1 - 1e-3))


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

    ``input_mean`` (optional, the mean training image, any shape with n_inputs numbers) centres
    the inputs: ``encode`` feeds the encoder ``x - input_mean`` (stored as the buffer
    ``input_mean``, shape (n_inputs,), saved with the weights), and the decoder's output bias
    starts at logit(input_mean): a last layer adding nothing to its bias returns the mean image,
    so the untrained decoder starts near it (not near 0.5) and learns departures from it.
    Without it (the default) the model sees raw pixels, as before.
    """

    def __init__(
        self,
        n_inputs: int = 784,
        hidden: tuple[int, ...] = (128,),
        n_latent: int = 32,
        activation: type[nn.Module] = nn.ReLU,
        sigmoid_output: bool = True,
        input_mean: Tensor | None = None,
    ) -> None:
        check_sizes("DenseAutoencoder", n_inputs=n_inputs, n_latent=n_latent)
        hidden = check_widths(hidden, "hidden", "DenseAutoencoder")
        input_mean = centring_buffer(input_mean, n_inputs, "DenseAutoencoder")
        super().__init__()
        self.n_inputs, self.n_latent, self.sigmoid_output = n_inputs, n_latent, sigmoid_output
        self.encoder = mlp([n_inputs, *hidden, n_latent], activation)
        self.decoder = mlp([n_latent, *reversed(hidden), n_inputs], activation)
        self.register_buffer("input_mean", input_mean)  # None: not centred, nothing stored
        if input_mean is not None:
            with torch.no_grad():
                self.decoder[-1].bias.copy_(output_bias_for_mean(input_mean))

    def encode(self, x: Tensor) -> Tensor:
        x = flatten_input(x, self.n_inputs, "DenseAutoencoder", model_dtype(self))  # (B, n_inputs)
        if self.input_mean is not None:
            x = x - self.input_mean  # centred: (B, n_inputs) - (n_inputs,)
        return self.encoder(x)

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
    codes (B, n_latent), reconstructions shaped like the input. ``input_mean`` centres the inputs
    exactly as in ``DenseAutoencoder`` (x - input_mean goes in, c_1 starts at logit(input_mean)).
    """

    def __init__(
        self,
        n_inputs: int = 784,
        hidden: tuple[int, ...] = (128,),
        n_latent: int = 32,
        activation: type[nn.Module] = nn.ReLU,
        sigmoid_output: bool = True,
        input_mean: Tensor | None = None,
    ) -> None:
        check_sizes("TiedAutoencoder", n_inputs=n_inputs, n_latent=n_latent)
        hidden = check_widths(hidden, "hidden", "TiedAutoencoder")
        input_mean = centring_buffer(input_mean, n_inputs, "TiedAutoencoder")
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
        self.register_buffer("input_mean", input_mean)  # None: not centred, nothing stored
        if input_mean is not None:
            with torch.no_grad():
                self.decoder_biases[-1].copy_(output_bias_for_mean(input_mean))  # c_1

    def encode(self, x: Tensor) -> Tensor:
        x = flatten_input(x, self.n_inputs, "TiedAutoencoder", model_dtype(self))  # (B, n_inputs)
        if self.input_mean is not None:
            x = x - self.input_mean  # centred: (B, n_inputs) - (n_inputs,)
        return self.encoder(x)

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


def dead_units(model: nn.Module, x: Tensor, batch_size: int = 1000) -> list[Tensor]:
    """Which ReLU units of ``model`` output 0 for EVERY image of ``x`` (dead on these images).

    model: any module whose ReLUs are ``nn.ReLU`` modules (``DenseAutoencoder``,
        ``TiedAutoencoder``, an ``nn.Sequential`` written by hand).
    x: (N, 1, 28, 28) or (N, n_inputs) images, on the model's device.
    Returns one bool tensor (width,) per ReLU call of ``model(x)``, in calling order; True marks a
    unit that is 0 on all N images. For the 784-128-32-128-784 models: [encoder's hidden layer
    (128,), decoder's hidden layer (128,)]. Total count: ``sum(int(m.sum()) for m in masks)``.
    A unit dead on a test set may still fire for some other image; N large makes that rare.
    """
    relus = [m for m in model.modules() if isinstance(m, nn.ReLU)]
    if not relus:
        raise InputError(
            f"dead_units expects a model with nn.ReLU modules, but received {describe(model)} "
            "without any. Dead units are ReLU units; other activations are never exactly 0."
        )
    check_tensor(x, "dead_units", dtype=None)
    outputs: list[Tensor] = []  # the ReLU outputs of one batch, in calling order
    hooks = [r.register_forward_hook(lambda _m, _i, out: outputs.append(out)) for r in relus]
    ever_active: list[Tensor] | None = None  # (width,) per ReLU call: fired for some image
    try:
        with torch.no_grad():
            for start in range(0, len(x), batch_size):
                outputs.clear()
                model(x[start : start + batch_size])
                active = [(out.flatten(1) > 0).any(dim=0) for out in outputs]  # (width,) each
                ever_active = (
                    active
                    if ever_active is None
                    else [a | b for a, b in zip(ever_active, active, strict=True)]
                )
    finally:
        for hook in hooks:
            hook.remove()
    if ever_active is None:
        raise InputError(f"dead_units expects at least one image, but received {describe(x)}.")
    return [~a for a in ever_active]
