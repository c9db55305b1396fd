"""Every ``COURSE_*`` environment variable, read in one place (lesson 00).

The course never reads ``os.environ`` anywhere else: a module that needs a setting calls one of
the functions below, so every variable is parsed the same way and documented once (the table in
the README lists them all, with their defaults and who sets them).

Two parsers serve every variable:

- ``flag(name)``, for on/off switches (``COURSE_FAST``, ``COURSE_OFFLINE``, ...). On: ``1``,
  ``true``, ``yes``, ``on``, ``y``; off: ``0``, ``false``, ``no``, ``off``, ``n`` or empty; any
  case, spaces ignored. Anything else (``COURSE_FAST=2``) gives one warning that names the
  variable, the value and the accepted spellings, and the default is used.
- ``language(lang)``, for ``COURSE_LANG``: the quizzes and the exercise checks both ask it.
  Unset, it follows the notebook's edition (``notebooks/vi/`` and ``exercises/vi/`` are
  Vietnamese, see ``edition_language``).

Nothing here imports torch: ``import course_utils.settings`` is instant.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

LANGS = ("en", "vi")
TRUE = ("1", "true", "yes", "on", "y")
FALSE = ("0", "false", "no", "off", "n", "")

FAST = "COURSE_FAST"  # small data, few epochs (tests and CI)
LANG = "COURSE_LANG"  # "en" or "vi" (also "vi_VN", "vi_VN.UTF-8"): quizzes and check messages
CHECKS_STRICT = "COURSE_CHECKS_STRICT"  # a failed exercise check raises (CI)
LEARNER = "COURSE_LEARNER"  # the learner's name: fixes the order of quiz options
QUIZ_DIR = "COURSE_QUIZ_DIR"  # a folder of quiz banks to use instead of the course's
OFFLINE = "COURSE_OFFLINE"  # never try to download a dataset
NO_SYSTEM_DATA = "COURSE_NO_SYSTEM_DATA"  # ignore Debian's dataset folders
DATA_DIR = "COURSE_DATA_DIR"  # the dataset cache (default ~/.cache/autoencoders-course)
MNIST_DIR = "COURSE_MNIST_DIR"  # a folder holding MNIST's IDX files
FASHION_MNIST_DIR = "COURSE_FASHION_MNIST_DIR"  # a folder holding Fashion-MNIST's IDX files
VARIABLES = (FAST, LANG, CHECKS_STRICT, LEARNER, QUIZ_DIR, OFFLINE, NO_SYSTEM_DATA, DATA_DIR,
             MNIST_DIR, FASHION_MNIST_DIR)  # fmt: skip


# ------------------------------------------------------------------------ the two parsers
def parse_flag(name: str, raw: str | None, default: bool = False) -> bool:
    """``raw`` (the variable's text, None when unset) as a bool; unknown spellings warn.

    >>> parse_flag("COURSE_FAST", " Yes ")
    True
    """
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    warnings.warn(  # stacklevel 1: Python shows it once per process for each value
        f"{name}={raw!r} is not an on/off value; using the default ({'on' if default else 'off'}). "
        f"Accepted: {', '.join(TRUE)} (on) or {', '.join(FALSE[:-1])} or empty (off), any case.",
        UserWarning,
        stacklevel=1,
    )
    return default


def flag(name: str, default: bool = False) -> bool:
    """The on/off variable ``name`` read from the environment (see ``parse_flag``)."""
    return parse_flag(name, os.environ.get(name), default)


def language(lang: str | None = None) -> str:
    """``lang`` if given ("en" or "vi"); else $COURSE_LANG (e.g. "vi", "vi_VN"); else the
    language of the notebook's edition (``edition_language``: "vi" in notebooks/vi/ and
    exercises/vi/); else "en".

    An explicit ``lang`` that is neither raises ValueError; a $COURSE_LANG that is neither warns
    (naming the variable and its value) and gives English.
    """
    if lang is not None:
        if lang not in LANGS:
            raise ValueError(f"lang must be 'en', 'vi' or None (= ${LANG}), got {lang!r}")
        return lang
    raw = os.environ.get(LANG, "")
    code = raw.strip().lower()[:2]
    if code in LANGS:
        return code
    if raw.strip():
        warnings.warn(
            f"{LANG}={raw!r} is not 'en' or 'vi'; using English", UserWarning, stacklevel=1
        )
        return "en"
    return edition_language() or "en"


EDITION_FOLDERS = ("notebooks", "exercises")  # each has a vi/ subfolder: the Vietnamese edition


def _edition_of_folder(folder: Path) -> str | None:
    """ "vi" for a folder .../notebooks/vi or .../exercises/vi, else None."""
    if folder.name in LANGS and folder.parent.name in EDITION_FOLDERS:
        return folder.name
    return None


def edition_language() -> str | None:
    """The language of the notebook this kernel runs, from where the notebook lives; or None.

    Jupyter (JupyterLab, Notebook, nbclient, nbval) starts a kernel in the notebook's folder, and
    Jupyter Server also puts the notebook's path in $JPY_SESSION_NAME: a notebook in
    ``notebooks/vi/`` or ``exercises/vi/`` is the Vietnamese edition. Colab gives neither, so
    there we read the notebook's own metadata (``"course": {"language": "vi"}``, which the build
    of the Vietnamese edition writes) through Colab's front end.
    """
    session = os.environ.get("JPY_SESSION_NAME", "").strip()
    for folder in ([Path(session).parent] if session else []) + [Path.cwd()]:
        found = _edition_of_folder(folder)
        if found:
            return found
    return _colab_notebook_language()


def _colab_notebook_language() -> str | None:
    """On Colab, the open notebook's ``course.language`` metadata (None elsewhere, or on error)."""
    import sys

    if "google.colab" not in sys.modules:
        return None
    global _COLAB_LANGUAGE
    if _COLAB_LANGUAGE is None:
        try:  # Colab's documented-by-use request for the open notebook's JSON
            import importlib

            message = importlib.import_module("google.colab._message")  # only on Colab
            reply = message.blocking_request("get_ipynb", request="", timeout_sec=5)
            meta = (reply or {}).get("ipynb", {}).get("metadata", {})
            _COLAB_LANGUAGE = meta.get("course", {}).get("language", "") or ""
        except Exception:  # noqa: BLE001 - any failure: fall back to English, never break a lesson
            _COLAB_LANGUAGE = ""
    return _COLAB_LANGUAGE if _COLAB_LANGUAGE in LANGS else None


_COLAB_LANGUAGE: str | None = None  # asked once per kernel


# --------------------------------------------------------------------------- each variable
def fast_mode() -> bool:
    """COURSE_FAST: small data and few epochs (the tests and CI set it). Default off."""
    return flag(FAST)


def checks_strict() -> bool:
    """A failed exercise check raises: COURSE_CHECKS_STRICT is on (CI, through
    solutions/conftest.py), or nbgrader's autograder runs the notebook (it sets
    NBGRADER_EXECUTION and awards a grade cell's points when the cell raises no error)."""
    return flag(CHECKS_STRICT) or bool(os.environ.get("NBGRADER_EXECUTION"))


def learner() -> str:
    """COURSE_LEARNER: the learner's name as written ("" when unset)."""
    return os.environ.get(LEARNER, "")


def quiz_dir() -> Path | None:
    """COURSE_QUIZ_DIR as a folder, or None when unset (the course's own banks are used)."""
    raw = os.environ.get(QUIZ_DIR, "").strip()
    return Path(raw).expanduser() if raw else None


def offline() -> bool:
    """COURSE_OFFLINE: never try to download a dataset. Default off."""
    return flag(OFFLINE)


def no_system_data() -> bool:
    """COURSE_NO_SYSTEM_DATA: ignore Debian's dataset folders (CI's no-data run). Default off."""
    return flag(NO_SYSTEM_DATA)


def data_dir() -> Path:
    """COURSE_DATA_DIR, else ~/.cache/autoencoders-course: where datasets are cached."""
    raw = os.environ.get(DATA_DIR, "").strip()
    return Path(raw).expanduser() if raw else Path.home() / ".cache" / "autoencoders-course"


def dataset_dir(variable: str) -> Path | None:
    """The folder named by COURSE_MNIST_DIR or COURSE_FASHION_MNIST_DIR (None when unset)."""
    if variable not in (MNIST_DIR, FASHION_MNIST_DIR):
        raise ValueError(f"dataset_dir expects {MNIST_DIR} or {FASHION_MNIST_DIR}: {variable!r}")
    raw = os.environ.get(variable, "").strip()
    return Path(raw).expanduser() if raw else None
