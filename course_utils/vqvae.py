"""A tiny VQ-VAE (van den Oord et al. 2017) and a prior learned over its codes (lesson 07).

The encoder turns an image into ``n_slots`` vectors of size D; each is replaced by its nearest
vector in a learned codebook of K vectors, so an image becomes ``n_slots`` integers in 0..K-1.
The decoder reads the quantised vectors. The nearest-neighbour step has no gradient: the
decoder's gradient is copied straight through to the encoder, ``z_q = z_e + (e - z_e).detach()``.
Loss per image (nats, like the other VAEs): BCE summed over pixels + ||sg[z_e] - e||^2 (moves the
codebook) + commitment * ||z_e - sg[e]||^2 (moves the encoder), summed over slots.

There is no prior during training. ``slot_prior`` learns one afterwards from the codes of the
training images (here the simplest one: an independent categorical per slot, by counting);
real VQ-VAEs fit an autoregressive model (PixelCNN, a transformer) over the codes instead.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from course_utils.inputs import InputError, check_tensor, describe, model_dtype
from course_utils.losses import bce_per_image
from course_utils.models import flatten_input, mlp
from course_utils.train import predict


class VQVAE(nn.Module):
    """An MLP VQ-VAE: x (B, 784) or (B, 1, 28, 28) -> n_slots codebook indices -> logits.

    encode: x -> z_e (B, S, D)        quantize: z_e -> indices (B, S), e (B, S, D)
    decode: z_q (B, S, D) -> logits (B, 1, 28, 28)
    forward: x -> (logits shaped like x, z_e, e, indices), with the straight-through z_q.
    """

    def __init__(
        self,
        n_inputs: int = 784,
        hidden: tuple[int, ...] = (400,),
        n_slots: int = 16,
        code_dim: int = 8,
        n_codes: int = 32,
    ) -> None:
        super().__init__()
        self.n_inputs, self.n_slots = n_inputs, n_slots
        self.code_dim, self.n_codes = code_dim, n_codes
        self.output_shape = (1, 28, 28) if n_inputs == 28 * 28 else (n_inputs,)
        self.encoder = mlp([n_inputs, *hidden, n_slots * code_dim])
        self.codebook = nn.Parameter(torch.randn(n_codes, code_dim))  # (K, D)
        self.decoder = mlp([n_slots * code_dim, *reversed(hidden), n_inputs])

    def encode(self, x: Tensor) -> Tensor:
        flat = flatten_input(x, self.n_inputs, "VQVAE", model_dtype(self))  # (B, 784)
        return self.encoder(flat).view(-1, self.n_slots, self.code_dim)  # (B, S*D) -> (B, S, D)

    def quantize(self, z_e: Tensor) -> tuple[Tensor, Tensor]:
        """Nearest codebook vector of every slot: z_e (B, S, D) -> indices (B, S), e (B, S, D)."""
        flat = z_e.reshape(-1, self.code_dim)  # (B*S, D)
        indices = torch.cdist(flat, self.codebook).argmin(dim=1)  # (B*S,)
        return indices.view(z_e.shape[:2]), self.codebook[indices].view_as(z_e)

    def decode(self, z_q: Tensor) -> Tensor:
        check_tensor(z_q, "VQVAE.decode", model_dtype(self))
        if z_q.dim() != 3 or tuple(z_q.shape[1:]) != (self.n_slots, self.code_dim):
            raise InputError(
                f"VQVAE.decode expects quantised codes of shape (B, {self.n_slots}, "
                f"{self.code_dim}), but received {describe(z_q)}. Use decode_indices for "
                "integer codes."
            )
        logits = self.decoder(z_q.flatten(1))  # (B, S*D) -> (B, 784)
        return logits.view(-1, *self.output_shape)  # (B, 784) -> (B, 1, 28, 28)

    def decode_indices(self, indices: Tensor) -> Tensor:
        """Integer codes (B, S) in 0..K-1 -> logits (B, 1, 28, 28)."""
        if indices.dim() != 2 or indices.shape[1] != self.n_slots or indices.is_floating_point():
            raise InputError(
                f"VQVAE.decode_indices expects integer codes of shape (B, {self.n_slots}), but "
                f"received {describe(indices)}."
            )
        return self.decode(self.codebook[indices])  # (B, S) -> (B, S, D) -> logits

    def forward(self, x: Tensor):
        z_e = self.encode(x)
        indices, e = self.quantize(z_e)
        z_q = z_e + (e - z_e).detach()  # forward: e; backward: the identity to z_e
        return self.decode(z_q).view_as(x), z_e, e, indices


class VQObjective:
    """Objective for ``fit``: BCE + codebook loss + commitment * commitment loss, per image.

    ``binarize=True`` draws fresh binary images from every batch (as ``VAEObjective``), so the
    BCE is a true negative log-likelihood of the pixels. Logs: recon, codebook (the squared
    distance ||z_e - e||^2) and encoder_sq (||z_e||^2, the scale that distance is measured on).
    """

    def __init__(self, commitment: float = 0.25, binarize: bool = False) -> None:
        self.commitment, self.binarize = commitment, binarize

    def __call__(self, model: VQVAE, batch: tuple[Tensor, ...]):
        x = torch.bernoulli(batch[0]) if self.binarize else batch[0]
        logits, z_e, e, _ = model(x)
        recon = bce_per_image(logits, x)  # (B,)
        codebook = (z_e.detach() - e).pow(2).sum(dim=(1, 2))  # (B,): moves only the codebook
        commit = (z_e - e.detach()).pow(2).sum(dim=(1, 2))  # (B,): moves only the encoder
        loss = (recon + codebook + self.commitment * commit).mean()
        scale = z_e.detach().pow(2).sum(dim=(1, 2))  # (B,): ||z_e||^2, the encoder outputs' size
        logs = {"recon": recon.mean().detach(), "codebook": codebook.mean().detach(),
                "encoder_sq": scale.mean()}  # fmt: skip
        return loss, logs


def vq_optimizer(model: VQVAE, lr: float = 1e-3, codebook_lr: float = 3e-2) -> torch.optim.Adam:
    """Adam with its own, larger learning rate for the codebook (pass it to ``fit(optimizer=)``).

    Adam moves each parameter by about ``lr`` per step. The code vectors must keep up with the
    encoder's outputs, which move fast early in training; a larger step lets them. This is a
    design choice, not measured against alternatives in the lesson (EMA codebook updates and
    restarting dead codes are other common remedies).
    """
    rest = [p for name, p in model.named_parameters() if name != "codebook"]
    groups = [{"params": rest, "lr": lr}, {"params": [model.codebook], "lr": codebook_lr}]
    return torch.optim.Adam(groups)


def init_codebook(model: VQVAE, x: Tensor, generator: torch.Generator | None = None) -> None:
    """Set the codebook to K encoder outputs of random images x (N, ...): no dead codes at start."""
    with torch.no_grad():
        z_e = model.encode(x.to(model.codebook.device)).reshape(-1, model.code_dim)  # (N*S, D)
        if len(z_e) < model.n_codes:
            raise InputError(
                f"init_codebook expects at least {model.n_codes} encoder vectors, but received "
                f"{len(z_e)}. Pass more images."
            )
        pick = torch.randperm(len(z_e), generator=generator)[: model.n_codes]
        model.codebook.copy_(z_e[pick.to(z_e.device)])


def code_indices(model: VQVAE, x: Tensor, batch_size: int = 1000) -> Tensor:
    """The codebook index of every slot of every image: x (N, ...) -> (N, S), on the CPU."""
    return predict(model, x, fn=lambda m, xb: m.quantize(m.encode(xb))[0], batch_size=batch_size)


def codebook_usage(indices: Tensor, n_codes: int) -> tuple[int, float]:
    """(codes used at least once, perplexity) of indices (N, S) in 0..K-1.

    Perplexity = exp(entropy of the code frequencies): K when all codes are used equally often,
    1 when one code is used for everything.
    """
    counts = torch.bincount(indices.flatten(), minlength=n_codes).double()  # (K,)
    p = counts / counts.sum()
    entropy = -(p[p > 0] * p[p > 0].log()).sum()
    return int((counts > 0).sum()), float(entropy.exp())


def slot_prior(indices: Tensor, n_codes: int, smoothing: float = 1.0) -> Tensor:
    """A learned prior over the codes: one categorical per slot, from counts (+ ``smoothing``).

    indices (N, S) of the TRAINING images -> log-probabilities (S, K).
    """
    counts = torch.zeros(indices.shape[1], n_codes, dtype=torch.float64)
    counts.scatter_add_(1, indices.T, torch.ones(indices.T.shape, dtype=torch.float64))  # (S, K)
    counts += smoothing
    return (counts / counts.sum(dim=1, keepdim=True)).log()


def prior_bits(indices: Tensor, log_probs: Tensor) -> float:
    """Mean code length in bits per image of indices (N, S) under a prior's log-probs (S, K)."""
    picked = log_probs.gather(1, indices.T)  # (S, N): log p_s(index of image n in slot s)
    return float(-picked.sum(dim=0).mean() / math.log(2))


def sample_codes(log_probs: Tensor, n: int, generator: torch.Generator | None = None) -> Tensor:
    """n code sequences from a per-slot prior (S, K): (n, S) integers."""
    probs = log_probs.exp().float()  # (S, K)
    return torch.multinomial(probs, n, replacement=True, generator=generator).T  # (S, n) -> (n, S)
