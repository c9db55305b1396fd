"""The recipes behind ``python -m course_utils.bench``: the reference side and ours, per benchmark.

REFERENCE: what a user would otherwise write. Images come from a torchvision dataset
(``FashionMNIST`` / ``MNIST`` reading IDX files, ``ToTensor`` per item) through a ``DataLoader``
(batch 128, shuffled, no workers: the pytorch/examples default on a CPU), Adam at 1e-3, and a
hand-written loop with one ``loss.item()`` per batch. The IDX files are written from the very
tensors our side trains on, so both sides see the same images.

OURS: the course's own path: in-memory tensors batched by ``iterate_batches`` inside ``fit``,
the lesson models and losses, ``predict`` for the test protocol; batch size, learning rate
(with a cosine decay where it pays) and threads are our free choices, written in ``Recipe``.

Every function takes a ``BenchConfig`` and returns a dict with keys ours, reference, ratio,
goal, goal_met (and recipe details).
"""

from __future__ import annotations

import math
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from course_utils.bench import BenchConfig, Stopwatch, ratio
from course_utils.conv import ConvAutoencoder
from course_utils.corruption import best_blur_sigma, corrupt, gaussian_blur, psnr
from course_utils.denoising import DenoisingObjective, denoise
from course_utils.losses import bce_per_image, gaussian_kl, mse_per_pixel
from course_utils.models import DenseAutoencoder, LinearAutoencoder
from course_utils.pca import PCA
from course_utils.train import Callback, TrainState, fit, predict
from course_utils.vae import VAE, VAEObjective

GAUSSIAN_LEVELS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6)


@dataclass
class Recipe:
    """Our side's free choices for one benchmark."""

    steps: int  # optimizer steps (the lesson's budget), turned into epochs for the data at hand
    batch_size: int = 128
    lr: float = 2e-3
    cosine: bool = True  # decay the learning rate to 0 along a half cosine
    optimizer: str = "Adam, fused update (fused_adam)"

    def epochs(self, n_images: int, quick: bool) -> int:
        return 1 if quick else max(1, round(self.steps / math.ceil(n_images / self.batch_size)))


class CosineDecay(Callback):
    """Set the learning rate to ``lr * (1 + cos(pi * step / total)) / 2`` before every step."""

    def __init__(self, lr: float) -> None:
        self.lr = lr

    def on_batch_start(self, state: TrainState) -> None:
        progress = min(1.0, state.step / max(1, state.total_steps))
        for group in state.optimizer.param_groups:
            group["lr"] = self.lr * 0.5 * (1.0 + math.cos(math.pi * progress))


def fused_adam(model: nn.Module, lr: float) -> torch.optim.Optimizer:
    """Adam with its update fused into one kernel (torch >= 2.4 on CPU): the default Adam loops
    over the parameters in Python, about 40% of a small MLP's step on a CPU."""
    try:
        return torch.optim.Adam(model.parameters(), lr=lr, fused=True)
    except (RuntimeError, TypeError):  # an older torch: the plain Adam
        return torch.optim.Adam(model.parameters(), lr=lr)


def fit_recipe(model: nn.Module, x: Tensor, recipe: Recipe, quick: bool, **kwargs):
    """``fit`` with the recipe's batch size, learning rate, epochs and (optional) cosine decay."""
    callbacks = [*kwargs.pop("callbacks", ()), *([CosineDecay(recipe.lr)] if recipe.cosine else [])]
    return fit(model, x, epochs=recipe.epochs(len(x), quick), batch_size=recipe.batch_size,
               lr=recipe.lr, optimizer=fused_adam(model, recipe.lr), callbacks=callbacks,
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
    fit(make_ours(), x[:384], loss_fn=objective, epochs=1, verbose=False)


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
        return bce_per_image(logits, xb) + gaussian_kl(mu, logvar)  # (B,)

    return predict(model, x, fn=per_image, batch_size=2000).mean().item()


VAE_RECIPE = Recipe(steps=0, batch_size=128, lr=2e-3, cosine=False)  # lesson 06's settings
VAE_MAX_EPOCHS = 20


def bench_vae_mlp(cfg: BenchConfig) -> dict:
    x, y, x_test = cfg.data.train.x, cfg.data.train.y, cfg.data.test.x
    epochs = 1 if cfg.quick else 10
    with tempfile.TemporaryDirectory() as root:
        dataset = torchvision_dataset(cfg, x, y, Path(root))
        torch.manual_seed(0)
        _warm_up(
            ClassicVAE, classic_vae_loss, dataset, lambda: VAE(784, (400,), 20), x, VAEObjective()
        )
        torch.manual_seed(0)
        reference = ClassicVAE()
        seconds = classic_train(reference, _loader(dataset), classic_vae_loss, epochs)
    target = vae_test_loss(reference, x_test)
    ref_total = sum(seconds)

    class StopAtTarget(Callback):
        def __init__(self) -> None:
            self.losses: list[float] = []

        def on_epoch_end(self, state: TrainState) -> None:
            self.losses.append(vae_test_loss(state.model, x_test))
            state.stop = self.losses[-1] <= target

    stopper = StopAtTarget()
    torch.manual_seed(0)
    ours = VAE(784, hidden=(400,), n_latent=20)
    with Stopwatch() as sw:  # the clock includes our test-loss checks after every epoch
        fit(ours, x, loss_fn=VAEObjective(), epochs=1 if cfg.quick else VAE_MAX_EPOCHS,
            batch_size=VAE_RECIPE.batch_size, optimizer=fused_adam(ours, VAE_RECIPE.lr),
            callbacks=[stopper], verbose=False)  # fmt: skip
    reached = stopper.losses[-1] <= target
    return {
        "reference": {"seconds_per_epoch": round(ref_total / epochs, 2), "epochs": epochs,
                      "test_loss": round(target, 2), "seconds": round(ref_total, 1)},
        "ours": {"seconds_to_reference_loss": round(sw.seconds, 1), "epochs": len(stopper.losses),
                 "test_loss": round(stopper.losses[-1], 2), "reached": reached,
                 "recipe": asdict(VAE_RECIPE)},
        "ratio": ratio(sw.seconds, ref_total) if reached else None,
        "goal": "ours time-to-quality <= 0.35 x reference",
        "goal_met": bool(reached and sw.seconds <= 0.35 * ref_total),
    }  # fmt: skip


# ------------------------------------------------------------------------- ae-dense, ae-conv
def _mse_objective(model: nn.Module, x: Tensor) -> Tensor:
    return F.mse_loss(model(x), x, reduction="mean")  # the classic: mean over every pixel


def _bench_ae(cfg: BenchConfig, make_model, recipe: Recipe, goal: float) -> dict:
    x, y, x_test = cfg.data.train.x, cfg.data.train.y, cfg.data.test.x
    epochs = recipe.epochs(len(x), cfg.quick)  # both sides: the lesson's budget in epochs
    with tempfile.TemporaryDirectory() as root:
        dataset = torchvision_dataset(cfg, x, y, Path(root))
        torch.manual_seed(0)
        _warm_up(make_model, _mse_objective, dataset, make_model, x)
        torch.manual_seed(0)
        reference = make_model()
        ref_seconds = sum(classic_train(reference, _loader(dataset), _mse_objective, epochs))
    torch.manual_seed(0)
    ours = make_model()
    with Stopwatch() as sw:
        fit_recipe(ours, x, recipe, cfg.quick)
    mse_ref = mse_per_pixel(predict(reference, x_test), x_test).item()
    mse_ours = mse_per_pixel(predict(ours, x_test), x_test).item()
    return {
        "reference": {"test_mse_per_pixel": round(mse_ref, 5), "seconds": round(ref_seconds, 1),
                      "epochs": epochs, "batch_size": 128, "lr": 1e-3},
        "ours": {"test_mse_per_pixel": round(mse_ours, 5), "seconds": round(sw.seconds, 1),
                 "epochs": epochs, "recipe": asdict(recipe)},
        "ratio": {"mse": ratio(mse_ours, mse_ref), "time": ratio(sw.seconds, ref_seconds)},
        "goal": f"ours test MSE per pixel <= {goal} within the lesson's budget",
        "goal_met": mse_ours <= goal,
    }  # fmt: skip


DENSE_RECIPE = Recipe(steps=4000, batch_size=128, lr=2e-3, cosine=True)  # lesson 02's budget
CONV_RECIPE = Recipe(steps=1300, batch_size=128, lr=2e-3, cosine=True)  # lesson 03's budget


def bench_ae_dense(cfg: BenchConfig) -> dict:
    return _bench_ae(cfg, lambda: DenseAutoencoder(784, hidden=(128,), n_latent=32),
                     DENSE_RECIPE, goal=0.0125)  # fmt: skip


def bench_ae_conv(cfg: BenchConfig) -> dict:
    return _bench_ae(cfg, lambda: ConvAutoencoder(n_latent=32, decoder="upsample"),
                     CONV_RECIPE, goal=0.0100)  # fmt: skip


# ---------------------------------------------------------------------------------------- dae
DAE_LEVELS = {"gaussian": (0.1, 0.7), "masking": (0.1, 0.9), "salt_and_pepper": (0.05, 0.6)}
DAE_RECIPE = Recipe(steps=3400, batch_size=128, lr=1e-3, cosine=False)  # lesson 04's


def bench_dae(cfg: BenchConfig) -> dict:
    """Mean PSNR (dB) of lesson 04's denoiser vs the best Gaussian blur (width tuned on valid)."""
    d = cfg.data
    torch.manual_seed(0)
    dae = DenseAutoencoder(784, hidden=(512,), n_latent=256)
    objective = DenoisingObjective(DAE_LEVELS, seed=1, valid_noise=("gaussian", 0.3))
    with Stopwatch() as sw:
        fit_recipe(dae, d.train.x, DAE_RECIPE, cfg.quick, loss_fn=objective)
    test, valid = d.test.x[:2000], d.valid.x[:1000]
    rows = []
    for j, level in enumerate(GAUSSIAN_LEVELS):  # the seeds of lesson 04's psnr_table
        g = torch.Generator().manual_seed(10 + j)
        noisy_valid, noisy_test = (
            corrupt(valid, "gaussian", level, g),
            corrupt(test, "gaussian", level, g),
        )
        sigma, _ = best_blur_sigma(noisy_valid, valid)
        blur = psnr(gaussian_blur(noisy_test, sigma), test).mean().item()
        ours = psnr(denoise(dae, noisy_test), test).mean().item()
        rows.append({"sigma": level, "blur_db": round(blur, 2), "ours_db": round(ours, 2)})
    margins = [r["ours_db"] - r["blur_db"] for r in rows]
    return {
        "reference": {"name": "Gaussian blur, width tuned on noisy validation images",
                      "psnr_db": [r["blur_db"] for r in rows]},
        "ours": {"psnr_db": [r["ours_db"] for r in rows], "train_seconds": round(sw.seconds, 1),
                 "recipe": asdict(DAE_RECIPE), "levels": DAE_LEVELS},
        "sigmas": list(GAUSSIAN_LEVELS),
        "ratio": {"min_margin_db": round(min(margins), 2)},
        "goal": "ours ahead of the tuned blur at every sigma 0.1..0.6",
        "goal_met": min(margins) > 0,
    }  # fmt: skip


# --------------------------------------------------------------------------------- linear-pca
LINEAR_RECIPE = Recipe(steps=6000, batch_size=128, lr=3e-3, cosine=True)  # lesson 01's budget


def bench_linear_pca(cfg: BenchConfig) -> dict:
    x, x_test = cfg.data.train.x, cfg.data.test.x
    flat = x.flatten(1)  # (N, 1, 28, 28) -> (N, 784)
    PCA(2).fit(flat[:1000])  # warm-up
    with Stopwatch() as fit_time:
        pca = PCA(32).fit(flat)
    with Stopwatch() as svd_time:  # the reference: a full SVD of the centred data
        torch.linalg.svd(flat - flat.mean(0), full_matrices=False)
    ks = (2, 10, 32) if not cfg.quick else (2,)
    per_k = {}
    for k in ks:
        torch.manual_seed(0)
        model = LinearAutoencoder(784, k)
        fit_recipe(model, x, LINEAR_RECIPE, cfg.quick)
        ae = mse_per_pixel(predict(model, x_test), x_test).item()
        ref = mse_per_pixel(pca.truncated(k).reconstruct(x_test.flatten(1)),
                            x_test.flatten(1)).item()  # fmt: skip
        per_k[str(k)] = {"ae": round(ae, 6), "pca": round(ref, 6), "ratio": ratio(ae, ref)}
    worst = max(v["ratio"] for v in per_k.values())
    return {
        "reference": {"pca_test_mse_per_pixel": {k: v["pca"] for k, v in per_k.items()},
                      "full_svd_seconds": round(svd_time.seconds, 2)},
        "ours": {"linear_ae_test_mse_per_pixel": {k: v["ae"] for k, v in per_k.items()},
                 "pca_fit_seconds": round(fit_time.seconds, 2), "pca_fit_images": len(flat),
                 "recipe": asdict(LINEAR_RECIPE)},
        "ratio": {"mse": {k: v["ratio"] for k, v in per_k.items()},
                  "pca_fit_time": ratio(fit_time.seconds, svd_time.seconds)},
        "goal": "linear-AE test MSE / PCA's <= 1.005 at every k",
        "goal_met": worst <= 1.005,
    }  # fmt: skip
