"""Old names kept for one release after a rename, each with a warning that names the new one.

When a function is renamed (issue 17 made every name say its reduction: ``gaussian_kl`` became
``gaussian_kl_per_image``), the old name stays importable for one release:

    gaussian_kl = deprecated_alias("gaussian_kl", gaussian_kl_per_image)

Calling the alias emits ``DeprecationWarning("gaussian_kl is deprecated; use
gaussian_kl_per_image ...")`` pointing at the caller's line, then returns exactly what the new
function returns. ``warn_deprecated`` is the warning alone, for a renamed keyword or call form
(``fit(loss_fn=...)``, ``CosineDecay(lr)``).

To see every such warning as an error (what CI does to keep the course's own code clean):
``python -W error::DeprecationWarning ...``.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable)


def warn_deprecated(old: str, new: str, stacklevel: int = 3) -> None:
    """Warn ``"<old> is deprecated; use <new>"`` (a DeprecationWarning) at the caller's caller.

    ``stacklevel=3`` points at the line that called the function calling ``warn_deprecated``:
    the student's cell, not course code.
    """
    warnings.warn(
        f"{old} is deprecated; use {new} (the old spelling goes away in the next release).",
        DeprecationWarning,
        stacklevel=stacklevel,
    )


def deprecated_alias(old_name: str, new: F) -> F:
    """A function named ``old_name`` that warns, then calls ``new`` with the same arguments.

    The alias keeps ``new``'s signature (``inspect.signature``) and ``__wrapped__ = new``, so
    tools that unwrap functions (the exercise checks' ``forbid``) reach the new function.
    """
    new_name = f"{new.__name__} (in {new.__module__})"

    @functools.wraps(new)
    def alias(*args, **kwargs):
        warn_deprecated(old_name, new_name)
        return new(*args, **kwargs)

    alias.__name__ = alias.__qualname__ = old_name
    alias.__doc__ = (
        f"Deprecated: the old name of ``{new.__name__}``; calling it warns, then calls "
        f"``{new.__name__}`` with the same arguments.\n\n{new.__doc__ or ''}"
    )
    return alias  # type: ignore[return-value]
