"""Names keep their promise (issue 17): a property of every reduction in the package.

Repeat each image of a batch twice (image 0, image 0, image 1, image 1, ...). Then
- every ``mean_*`` value, every ``*_per_batch`` value and ``mse_per_pixel`` is UNCHANGED: a
  mean over images does not care how often each image appears;
- every ``*_per_image`` value is the same for both copies of an image, so the result is the
  original one repeated, never doubled (a sum over the batch would double);
- every deterministic objective gives the same loss and logs, and ``evaluate`` (a weighted mean
  over uneven batches) the same numbers.

The functions are FOUND by their names in the package's modules, so a new ``mean_*`` or
``*_per_image`` function is covered as soon as it exists; its arguments are built from their
NAMES (``BUILD``). A new argument name makes ``test_every_reduction_is_found_and_buildable``
fail with a message saying to add it.

Exceptions, and why:
- ``corruption.psnr`` is one value per image but not named ``*_per_image`` (not part of the
  renames); the objectives that draw random numbers per image (``VAEObjective`` as such, with
  ``binarize=True``, ``GumbelObjective``, ``DenoisingObjective`` with noise) see other draws in
  a doubled batch. Their deterministic parts are covered: the VAE through a model whose code is
  its posterior mean (``vae_loss``, ``VAEObjective`` with both likelihoods, ``negative_elbo``),
  the Gumbel KL through ``categorical_kl_per_image``, the denoiser at noise level 0.
"""

import importlib
import inspect
import pkgutil
import re

import pytest
import torch
from torch import Tensor, nn

import course_utils
from course_utils.denoising import DenoisingObjective
from course_utils.elbo import kl_per_dimension, negative_elbo
from course_utils.gumbel import GumbelVAE
from course_utils.losses import bce_per_image, mse_per_pixel
from course_utils.sparse import SparseAutoencoder, SparseObjective
from course_utils.train import ReconstructionObjective, evaluate
from course_utils.vae import VAE, VAEObjective, vae_loss

B = 5  # images in the original batch; the doubled batch has 2 B
PATTERN = re.compile(r"^(mean_\w+|\w+_per_image|\w+_per_batch)$")
SKIP = {"bench", "bench_recipes", "grade", "grading_runner", "runtimes", "make_exercises"}
SCALAR = re.compile(r"^mean_|_per_batch$")  # these return one number for the batch


def _generator() -> torch.Generator:
    return torch.Generator().manual_seed(0)


def _images(g):
    return torch.rand(B, 1, 28, 28, generator=g, dtype=torch.float64)


TINY_AE = nn.Sequential(nn.Flatten(), nn.Linear(784, 16), nn.Sigmoid(), nn.Linear(16, 784),
                        nn.Sigmoid(), nn.Unflatten(1, (1, 28, 28))).double()  # fmt: skip

# argument name -> (one row per image?, builder from a generator)
BUILD = {
    "x": (True, _images),
    "x_hat": (True, _images),
    "x_mean": (True, _images),
    "logits": (True, lambda g: torch.randn(B, 1, 28, 28, generator=g, dtype=torch.float64)),
    "mu": (True, lambda g: torch.randn(B, 6, generator=g, dtype=torch.float64)),
    "logvar": (True, lambda g: torch.randn(B, 6, generator=g, dtype=torch.float64)),
    "q_logits": (True, lambda g: torch.randn(B, 4, 3, generator=g, dtype=torch.float64)),
    "h": (True, lambda g: torch.rand(B, 12, generator=g, dtype=torch.float64)),
    "weight": (False, lambda g: torch.randn(12, 784, generator=g, dtype=torch.float64)),
    "model": (False, lambda g: TINY_AE),
    "sigma": (False, lambda g: 0.3),
    "p": (False, lambda g: 0.05),
    "likelihood": (False, lambda g: "gaussian"),
    "batch_size": (False, lambda g: 3),  # uneven batches over 5 and 10 images
}


class PeakedGumbelVAE(GumbelVAE):
    """Logits a million times sharper: the hard sample is the argmax, equal for an image's copy."""

    def encode(self, x: Tensor) -> Tensor:
        return 1e6 * super().encode(x)


def _peaked_gumbel_vae() -> GumbelVAE:
    torch.manual_seed(0)
    return PeakedGumbelVAE(784, (16,), n_vars=4, n_categories=3).double()


def _double(t: Tensor) -> Tensor:
    return t.repeat_interleave(2, dim=0)  # (B, ...) -> (2B, ...): each image twice in a row


def _reductions() -> dict[str, object]:
    found = {}
    for info in pkgutil.iter_modules(course_utils.__path__):
        if info.ispkg or info.name in SKIP:
            continue
        module = importlib.import_module(f"course_utils.{info.name}")
        for name, fn in vars(module).items():
            if (
                PATTERN.match(name)
                and inspect.isfunction(fn)
                and fn.__module__ == module.__name__  # defined here, not imported
                and not hasattr(fn, "__wrapped__")  # not a deprecated alias
            ):
                found[f"{info.name}.{name}"] = fn
    return found


REDUCTIONS = _reductions()


def _arguments(fn) -> tuple[dict, dict]:
    """The keyword arguments for the original and the doubled batch, built from their names."""
    g = _generator()
    original, doubled = {}, {}
    for name, param in inspect.signature(fn).parameters.items():
        if name not in BUILD:
            if param.default is inspect.Parameter.empty:
                raise LookupError(name)
            continue  # an optional setting such as eps: keep its default
        per_image, build = BUILD[name]
        gumbel = name == "model" and "Gumbel" in str(param.annotation)
        value = _peaked_gumbel_vae() if gumbel else build(g)
        original[name] = value
        doubled[name] = _double(value) if per_image else value
    return original, doubled


def test_every_reduction_is_found_and_buildable():
    expected = {"losses.sse_per_image", "losses.mean_sse_per_image", "losses.bce_per_image",
                "losses.gaussian_kl_per_image", "sparse.kl_sparsity_penalty_per_batch",
                "sparse.mean_l1_penalty_per_image", "anomaly.mse_per_pixel_per_image",
                "vae.reconstruction_nll_per_image", "gumbel.categorical_kl_per_image"}  # fmt: skip
    assert expected <= set(REDUCTIONS)  # the walk finds them (a broken walk finds nothing)
    for dotted, fn in REDUCTIONS.items():
        try:
            _arguments(fn)
        except LookupError as missing:
            pytest.fail(f"{dotted}: add a builder for its argument {missing} to BUILD")


@pytest.mark.parametrize("dotted", sorted(REDUCTIONS))
def test_repeating_each_image_keeps_means_and_per_image_values(dotted):
    fn = REDUCTIONS[dotted]
    original, doubled = _arguments(fn)
    once, twice = fn(**original), fn(**doubled)
    if SCALAR.search(dotted.split(".")[1]):
        assert once.dim() == 0, f"{dotted} should return one number for the batch"
        assert torch.allclose(twice, once, rtol=1e-12, atol=0), f"{dotted}: {once} -> {twice}"
    else:
        assert once.shape[0] == B, f"{dotted} should return one row per image, (B, ...)"
        assert torch.allclose(twice, _double(once), rtol=1e-12, atol=0), dotted


def test_mse_per_pixel_is_a_mean_too():
    g = _generator()
    x_hat, x = _images(g), _images(g)
    assert torch.allclose(mse_per_pixel(_double(x_hat), _double(x)), mse_per_pixel(x_hat, x))


# ------------------------------------------------------------------ deterministic objectives
class PosteriorMeanVAE(VAE):
    """A VAE whose code is its posterior mean: a deterministic path through the VAE's loss."""

    def reparameterize(self, mu, logvar, generator=None):
        return mu


def _vae() -> VAE:
    torch.manual_seed(0)
    return PosteriorMeanVAE(784, (16,), 3).double()


def _sparse() -> SparseAutoencoder:
    torch.manual_seed(0)
    return SparseAutoencoder(784, 12).double()


OBJECTIVES = {
    "ReconstructionObjective (SSE)": (lambda: TINY_AE, ReconstructionObjective()),
    "ReconstructionObjective (BCE)": (nn.Identity, ReconstructionObjective(bce_per_image)),
    "SparseObjective (none)": (_sparse, SparseObjective()),
    "SparseObjective (l1)": (_sparse, SparseObjective("l1", 0.1)),
    "SparseObjective (kl)": (_sparse, SparseObjective("kl", 3.0, target=0.05)),
    "SparseObjective (contractive)": (_sparse, SparseObjective("contractive", 0.5)),
    "VAEObjective (bernoulli, mean code)": (_vae, VAEObjective(beta=0.5)),
    "VAEObjective (gaussian, mean code)": (_vae, VAEObjective(likelihood="gaussian", sigma=0.2)),
    "DenoisingObjective (noise 0, relative)": (
        lambda: TINY_AE, DenoisingObjective({"gaussian": (0.0, 0.0)}, relative=True)
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(OBJECTIVES))
def test_repeating_each_image_keeps_deterministic_objectives(name):
    make_model, objective = OBJECTIVES[name]
    model, x = make_model().eval(), _images(_generator())
    loss, logs = objective(model, (x,))
    loss2, logs2 = objective(model, (_double(x),))
    assert torch.allclose(loss2, loss, rtol=1e-12, atol=0), f"{name}: {loss} -> {loss2}"
    assert logs.keys() == logs2.keys()
    for key in logs:
        assert torch.allclose(torch.as_tensor(logs2[key]), torch.as_tensor(logs[key]), rtol=1e-12)
    # evaluate over uneven batches (3 + 2 images, then 3 + 3 + 3 + 1) is a true per-image mean;
    # the KL sparsity penalty is PER BATCH: it depends on how images are grouped (that is what
    # its name says), so that objective is evaluated with each set in one batch
    size = 2 * B if "(kl)" in name else 3
    once = evaluate(model, x, objective, batch_size=size)
    twice = evaluate(model, _double(x), objective, batch_size=size)
    assert twice == pytest.approx(once, rel=1e-6)  # evaluate sums in float32


def test_repeating_each_image_keeps_the_vae_loss_and_dataset_means():
    g = _generator()
    logits, x = BUILD["logits"][1](g), _images(g)
    mu, logvar = BUILD["mu"][1](g), BUILD["logvar"][1](g)
    loss, parts = vae_loss(logits, x, mu, logvar, beta=2.0)
    loss2, parts2 = vae_loss(*map(_double, (logits, x, mu, logvar)), beta=2.0)
    assert torch.allclose(loss2, loss, rtol=1e-12) and parts2.keys() == parts.keys()
    assert all(torch.allclose(parts2[k], parts[k], rtol=1e-12) for k in parts)
    model = _vae()
    assert negative_elbo(model, _double(x), batch_size=3) == pytest.approx(
        negative_elbo(model, x, batch_size=3), rel=1e-12
    )
    assert torch.allclose(kl_per_dimension(model, _double(x), 3), kl_per_dimension(model, x, 3))
