"""Opening a lesson in JupyterLab leaves it unchanged: the course's notebook metadata (issue 22).

What JupyterLab 4 writes when it merely opens a notebook and autosaves it (seen with the real
JupyterLab 4.6, ipykernel 6.31, jupytext 1.19: tests/test_e2e_autosave.py): the kernelspec of the
kernel it started, ``{"display_name": "Python 3 (ipykernel)", "language": "python", "name":
"python3"}`` (the same on every machine with ipykernel's ``python3`` kernel), and the kernel's
``language_info``, whose ``version`` is the machine's Python (3.11.7 here, another elsewhere).
jupytext writes the kernelspec into the paired .py file's header as well.

The design, in both directions:

- Committed notebooks carry ``CANONICAL_KERNELSPEC`` (exactly what JupyterLab writes) and no
  ``language_info``. ``python -m course_admin.notebook_metadata`` puts every notebook of
  notebooks/, exercises/ and solutions/ (and the kernelspec lines of a jupytext twin's header)
  in that form; ``--check`` exits 1 and lists the ones that are not.
- Jupyter Server runs ``pre_save_hook`` before every save. This module is a server extension,
  enabled by a config file in ``etc/jupyter/jupyter_server_config.d/`` (files there can only
  enable extensions, not set other options). Loaded, it registers the hook with the server's
  contents manager, and again with the manager the server holds once its event loop runs:
  jupytext loads after this extension and REPLACES the contents manager (seen with the real
  JupyterLab: the hook registered at load time alone was lost). ``register_pre_save_hook`` adds
  to any hook of the user's own configuration instead of replacing it. The hook removes what
  differs between machines, ``language_info`` and the per-cell ``execution`` timings, from the
  course's notebooks only (``is_course_notebook``: the first markdown cell carries the course's
  Colab badge). The student's kernel choice and outputs are kept.

Shipping the config file: a regular install (``pip install .``, a wheel) puts it in place
through ``data-files``; an editable install (``pip install -e .``) does NOT (setuptools' editable
wheels carry no data files), so the README's install command runs ``python -m
course_admin.notebook_metadata --install`` once, which writes the same file into the
environment. Nothing here imports torch or nbformat at import time.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("notebooks", "exercises", "solutions")
CANONICAL_KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python",
                        "name": "python3"}  # fmt: skip
MACHINE_METADATA = ("language_info",)  # notebook level: differs between machines
CELL_MACHINE_METADATA = ("execution",)  # cell level: timings (nbclient, Lab's recordTiming)
CONFIG_NAME = "autoencoders_course.json"
CONFIG = {"ServerApp": {"jpserver_extensions": {"course_admin.notebook_metadata": True}}}


# ------------------------------------------------------------------------ which notebooks
def repository_url() -> str | None:
    """The course's repository, from the installed package's metadata (pyproject's one URL)."""
    from importlib import metadata

    try:
        urls = metadata.metadata("autoencoders-course").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        return None
    return next((u.split(",", 1)[1].strip() for u in urls if u.startswith("Repository,")), None)


def is_course_notebook(nb: dict, url: str | None = None) -> bool:
    """True when the notebook's first markdown cell has the course's Colab badge (every lesson,
    exercise and solution has one; a student's copy of one keeps it)."""
    url = url or repository_url()
    if not url:
        return False
    badge = "colab.research.google.com/github/" + url.removeprefix("https://github.com/")
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            source = cell.get("source", "")
            return badge in ("".join(source) if isinstance(source, list) else source)
    return False


# ------------------------------------------------------------------- the hook (both ways)
def strip_machine_metadata(nb: dict) -> bool:
    """Remove what differs between machines (``language_info``, cell timings). True if any."""
    changed = False
    for key in MACHINE_METADATA:
        changed |= nb.get("metadata", {}).pop(key, None) is not None
    for cell in nb.get("cells", []):
        for key in CELL_MACHINE_METADATA:
            changed |= cell.get("metadata", {}).pop(key, None) is not None
    return changed


def pre_save_hook(model: dict, path: str = "", contents_manager=None, **kwargs) -> None:
    """Jupyter Server's pre-save hook: a course notebook is saved without machine metadata."""
    if model.get("type") == "notebook" and isinstance(model.get("content"), dict):
        if is_course_notebook(model["content"]):
            strip_machine_metadata(model["content"])


def _jupyter_server_extension_points() -> list[dict]:
    return [{"module": "course_admin.notebook_metadata"}]


def _load_jupyter_server_extension(serverapp) -> None:
    """Give the server's contents manager ``pre_save_hook``, now and once every extension has
    loaded (when the event loop runs), in case one replaced the manager (jupytext does)."""
    first = serverapp.contents_manager
    first.register_pre_save_hook(pre_save_hook)

    def register_with_the_final_manager() -> None:
        if serverapp.contents_manager is not first:
            serverapp.contents_manager.register_pre_save_hook(pre_save_hook)

    serverapp.io_loop.add_callback(register_with_the_final_manager)
    serverapp.log.info("autoencoders-course: course notebooks are saved without language_info")


# ------------------------------------------------------------- the committed form (command)
def normalise(nb: dict) -> bool:
    """Put a notebook in the committed form: the canonical kernelspec, no machine metadata."""
    changed = strip_machine_metadata(nb)
    if nb.setdefault("metadata", {}).get("kernelspec") != CANONICAL_KERNELSPEC:
        nb["metadata"]["kernelspec"] = dict(CANONICAL_KERNELSPEC)
        changed = True
    return changed


def _twin_header(text: str) -> str:
    """A jupytext twin's text with the kernelspec lines of its header in the committed form."""
    head, sep, rest = text.partition("\n# ---\n")  # the header ends at its second '# ---' line
    if not head.startswith("# ---\n") or "#   kernelspec:" not in head:
        return text
    for key, value in CANONICAL_KERNELSPEC.items():
        head = re.sub(rf"^(#     {key}: ).*$", rf"\g<1>{value}", head, flags=re.M)
    return head + sep + rest


def normalise_file(path: Path, write: bool = True) -> list[Path]:
    """Normalise ``path`` (and its .py twin, if paired); return the files that were not."""
    import nbformat

    text = path.read_text(encoding="utf-8")
    nb = json.loads(text)
    normalise(nb)
    new = nbformat.writes(nbformat.from_dict(nb), version=nbformat.NO_CONVERT)
    new += "" if new.endswith("\n") else "\n"  # as nbformat.write, which Jupyter Server uses
    stale = [path] if new != text else []
    twin = path.with_suffix(".py")
    pairs = "py:percent" in nb["metadata"].get("jupytext", {}).get("formats", "")
    if pairs and twin.exists():
        twin_text = twin.read_text(encoding="utf-8")
        if _twin_header(twin_text) != twin_text:
            stale.append(twin)
            if write:
                twin.write_text(_twin_header(twin_text), encoding="utf-8")
    if stale and write and stale[0] == path:
        path.write_text(new, encoding="utf-8")
    return stale


def install(prefix: Path = Path(sys.prefix)) -> Path:
    """Write the config file that enables this extension into ``prefix``/etc/jupyter."""
    target = prefix / "etc" / "jupyter" / "jupyter_server_config.d" / CONFIG_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(CONFIG, indent=2) + "\n", encoding="utf-8")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course_admin.notebook_metadata", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "paths", nargs="*", type=Path, help="notebooks (default: all three folders)"
    )
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    parser.add_argument("--install", action="store_true",
                        help="enable the pre-save hook in this environment's Jupyter")  # fmt: skip
    args = parser.parse_args(argv)
    if args.install:
        print(f"Jupyter Server will save course notebooks without language_info: {install()}")
        return 0
    paths = args.paths or sorted(p for f in FOLDERS for p in (ROOT / f).glob("*.ipynb"))
    stale = [p for path in paths for p in normalise_file(path, write=not args.check)]
    verb = "not in the committed form" if args.check else "normalised"
    for p in stale:
        print(f"{verb}: {p}")
    print(f"{len(stale)} file(s) {verb} of {len(paths)} notebook(s) (and their .py twins)")
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
