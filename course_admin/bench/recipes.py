"""The two sides that ``python -m course_admin.bench`` compares, and the bench's small helpers.

REFERENCE: what a user would otherwise write. Images come from a torchvision dataset
(``FashionMNIST`` / ``MNIST`` reading IDX files, ``ToTensor`` per item) through a ``DataLoader``
(batch 128, shuffled, no workers: the pytorch/examples default on a CPU), Adam at 1e-3, and a
hand-written loop with one ``loss.item()`` per batch. The IDX files are written from the very
tensors our side trains on, so both sides see the same images.

OURS: the course's own path: in-memory tensors batched by ``iterate_batches`` inside ``fit``,
the lesson models and losses, ``predict`` for the test protocol; batch size, learning rate
(with a cosine decay where it pays) and threads are our free choices, written in ``Recipe``.

The benchmarks themselves (``bench_vae_mlp``, ...) live in ``course_admin.bench``; each takes a
``BenchConfig`` and returns a dict with keys ours, reference, ratio, goal, goal_met.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from course_utils.data import ImageData
from course_utils.losses import bce_per_image, gaussian_kl_per_image
from course_utils.schedules import CosineDecay
from course_utils.train import fit, make_adam, predict


@dataclass
class BenchConfig:
    """What every benchmark gets: the data, the mode, and our side's thread count."""

    data: ImageData
    quick: bool
    threads: int  # torch threads for our side
    reference_threads: int  # torch threads for the reference side

    def describe(self) -> dict:
        x = self.data
        return {
            "data": x.name,
            "images": {"train": len(x.train.x), "valid": len(x.valid.x), "test": len(x.test.x)},
            "threads_ours": self.threads,
            "threads_reference": self.reference_threads,
            "quick": self.quick,
        }


@contextlib.contextmanager
def torch_threads(n: int):
    """Run the block with ``n`` torch threads, then restore the previous count."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class Stopwatch:
    """``with Stopwatch() as sw: ...`` then ``sw.seconds``: wall time of the block."""

    def __enter__(self) -> Stopwatch:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.start


def ratio(ours: float, reference: float) -> float:
    """ours / reference, rounded; inf when the reference is 0."""
    return round(ours / reference, 4) if reference else float("inf")


@dataclass
class Recipe:
    """Our side's free choices for one benchmark."""

    steps: int  # optimizer steps (the lesson's budget), turned into epochs for the data at hand
    batch_size: int = 128
    lr: float = 2e-3
    cosine: bool = True  # decay the learning rate to 0 along a half cosine
    optimizer: str = "Adam, fused update where torch has one (course_utils.train.make_adam)"

    def epochs(self, n_images: int, quick: bool) -> int:
        return 1 if quick else max(1, round(self.steps / math.ceil(n_images / self.batch_size)))


def fit_recipe(model: nn.Module, x: Tensor, recipe: Recipe, quick: bool, **kwargs):
    """``fit`` with the recipe's batch size, learning rate, epochs and (optional) cosine decay."""
    callbacks = [*kwargs.pop("callbacks", ()), *([CosineDecay()] if recipe.cosine else [])]
    return fit(model, x, epochs=recipe.epochs(len(x), quick), batch_size=recipe.batch_size,
               lr=recipe.lr, optimizer=make_adam(model, recipe.lr), callbacks=callbacks,
               verbose=False, **kwargs)  # fmt: skip


# ------------------------------------------------------------------------- the reference side
def _write_idx(path: Path, array: np.ndarray) -> None:
    """An IDX file (big-endian header, then uint8 values), the MNIST files' format."""
    magic = 0x0800 + array.ndim  # 0x08 = unsigned byte
    header = np.array([magic, *array.shape], dtype=">i4").tobytes()
    path.write_bytes(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())


def torchvision_dataset(cfg: BenchConfig, x: Tensor, y: Tensor, root: Path, train: bool = True):
    """A torchvision (Fashion)MNIST dataset, ``ToTensor`` per item, over images x (N, 1, 28, 28).

    torchvision 0.29 reads ``<root>/<Class>/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte``
    (uncompressed, all four files must exist), so the images are written there as uint8.
    """
    from torchvision import datasets, transforms

    cls = datasets.FashionMNIST if cfg.data.name == "Fashion-MNIST" else datasets.MNIST
    raw = root / cls.__name__ / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    pixels = (x.squeeze(1) * 255).round().to(torch.uint8).numpy()  # (N, 1, 28, 28) -> (N, 28, 28)
    for stem in ("train", "t10k"):
        _write_idx(raw / f"{stem}-images-idx3-ubyte", pixels)
        _write_idx(raw / f"{stem}-labels-idx1-ubyte", y.to(torch.uint8).numpy())
    return cls(str(root), train=train, download=False, transform=transforms.ToTensor())


def classic_train(model: nn.Module, loader, loss_fn, epochs: int, lr: float = 1e-3) -> list[float]:
    """The hand-written loop of the classic recipes; returns the seconds of every epoch."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    seconds = []
    for _ in range(epochs):
        model.train()
        train_loss, start = 0.0, time.perf_counter()
        for data, _labels in loader:
            optimizer.zero_grad()
            loss = loss_fn(model, data)
            loss.backward()
            train_loss += loss.item()
            optimizer.step()
        seconds.append(time.perf_counter() - start)
    return seconds


def _loader(dataset, batch_size: int = 128, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True, generator=g)


def _warm_up(make_reference, loss_fn, dataset, make_ours, x: Tensor, objective=None) -> None:
    """A few steps of both paths on throwaway models, so that neither pays first-call costs."""
    small = torch.utils.data.Subset(dataset, range(min(384, len(dataset))))
    classic_train(make_reference(), _loader(small), loss_fn, epochs=1)
    fit(make_ours(), x[:384], objective=objective, epochs=1, verbose=False)


# ---------------------------------------------------------------------------------- vae-mlp
class ClassicVAE(nn.Module):
    """pytorch/examples' VAE: 784-400-(20, 20), 20-400-784, sigmoid output; BCE summed + KL."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.fc21, self.fc22 = nn.Linear(784, 400), nn.Linear(400, 20), nn.Linear(400, 20)
        self.fc3, self.fc4 = nn.Linear(20, 400), nn.Linear(400, 784)

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        h1 = F.relu(self.fc1(x.view(-1, 784)))  # (B, 1, 28, 28) -> (B, 784) -> (B, 400)
        return self.fc21(h1), self.fc22(h1)

    def decode(self, z: Tensor) -> Tensor:  # logits (B, 784); forward applies the sigmoid
        return self.fc4(F.relu(self.fc3(z)))

    def forward(self, x: Tensor):
        mu, logvar = self.encode(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return torch.sigmoid(self.decode(z)), mu, logvar


def classic_vae_loss(model: nn.Module, x: Tensor) -> Tensor:
    recon, mu, logvar = model(x)
    bce = F.binary_cross_entropy(recon, x.view(-1, 784), reduction="sum")
    return bce - 0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())  # KL, Kingma & Welling


def vae_test_loss(model: nn.Module, x: Tensor, seed: int = 0) -> float:
    """The test protocol of both sides: BCE summed + KL per image, one seeded z per image."""
    g = torch.Generator().manual_seed(seed)

    def per_image(m: nn.Module, xb: Tensor) -> Tensor:
        mu, logvar = m.encode(xb)  # (B, 20), (B, 20)
        z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=g)
        logits = m.decode(z).reshape(xb.shape)  # (B, 784) -> (B, 1, 28, 28)
        return bce_per_image(logits, xb) + gaussian_kl_per_image(mu, logvar)  # (B,)

    return predict(model, x, fn=per_image, batch_size=2000).mean().item()
