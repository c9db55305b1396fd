"""The old names kept for one release (issue 17): each warns, names the new one, and returns
exactly what the new function returns. Aliases are found by walking the package, so a new alias
without an entry in ARGS makes ``test_every_alias_is_in_the_table`` fail."""

import importlib
import pkgutil
import warnings

import pytest
import torch
from torch import nn

import course_utils
from course_utils.deprecation import deprecated_alias

G = torch.Generator().manual_seed(0)
X = torch.rand(6, 1, 28, 28, generator=G)  # images in [0, 1]
MU, LOGVAR = torch.randn(6, 4, generator=G), torch.randn(6, 4, generator=G)
H = torch.rand(6, 10, generator=G)  # codes in (0, 1)
A, B = torch.randn(9, 3, generator=G), torch.randn(9, 2, generator=G)
MODEL = nn.Sequential(nn.Flatten(), nn.Linear(784, 784), nn.Unflatten(1, (1, 28, 28)))

# "module.old_name" -> (new name, arguments)
ARGS = {
    "losses.gaussian_kl": ("gaussian_kl_per_image", (MU, LOGVAR)),
    "vae.reconstruction_nll": ("reconstruction_nll_per_image", (torch.randn(6, 1, 28, 28), X)),
    "gumbel.categorical_kl": ("categorical_kl_per_image", (torch.randn(6, 5, 3, generator=G),)),
    "sparse.contractive_penalty": ("contractive_penalty_per_image", (H, torch.randn(10, 7))),
    "sparse.l1_penalty": ("mean_l1_penalty_per_image", (H,)),
    "sparse.kl_sparsity_penalty": ("kl_sparsity_penalty_per_batch", (H, 0.05)),
    "anomaly.reconstruction_errors": ("mse_per_pixel_per_image", (MODEL, X)),
    "pca.principal_angles": ("principal_angles_deg", (A, B)),
}
# Instructor tools hold no lesson aliases, and their old `python -m` spellings may exit on import.
SKIP = {"bench", "bench_recipes", "grade", "grading_runner", "runtimes", "make_exercises"}


def _aliases() -> set[str]:
    found = set()
    for info in pkgutil.iter_modules(course_utils.__path__):
        if info.ispkg or info.name in SKIP:
            continue
        module = importlib.import_module(f"course_utils.{info.name}")
        for name, obj in vars(module).items():
            new = getattr(obj, "__wrapped__", None)
            if new is not None and getattr(obj, "__name__", "") == name != new.__name__:
                found.add(f"{info.name}.{name}")
    return found


def test_every_alias_is_in_the_table():
    assert _aliases() == set(ARGS), "add each new deprecated alias to ARGS with its arguments"


@pytest.mark.parametrize("dotted", sorted(ARGS))
def test_alias_warns_names_the_new_function_and_returns_the_same(dotted):
    module_name, old = dotted.split(".")
    module = importlib.import_module(f"course_utils.{module_name}")
    new_name, args = ARGS[dotted]
    new = getattr(module, new_name)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        expected = new(*args)
        assert not caught, "the new name must not warn"
        got = getattr(module, old)(*args)
    assert len(caught) == 1 and caught[0].category is DeprecationWarning
    text = str(caught[0].message)
    assert text.startswith(f"{old} is deprecated; use {new_name} (in course_utils.{module_name})")
    assert caught[0].filename == __file__  # points at the caller's line, not at course code
    assert torch.equal(got, expected) and got.dtype == expected.dtype


def test_alias_follows_the_new_function_for_signature_and_unwrapping():
    import inspect

    from course_utils import losses

    assert inspect.signature(losses.gaussian_kl) == inspect.signature(losses.gaussian_kl_per_image)
    assert losses.gaussian_kl.__wrapped__ is losses.gaussian_kl_per_image  # forbid() unwraps it
    assert losses.gaussian_kl.__doc__.startswith("Deprecated: the old name of")


def test_deprecated_alias_passes_keywords_through():
    def scaled(x, factor=1.0):
        return x * factor

    alias = deprecated_alias("old_scaled", scaled)
    with pytest.warns(DeprecationWarning, match="old_scaled is deprecated; use scaled"):
        assert alias(2.0, factor=3.0) == 6.0
    assert alias.__name__ == "old_scaled"
