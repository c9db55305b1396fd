"""Opening a lesson in the real JupyterLab and letting autosave run changes nothing (issue 22).

A temporary git repository holds copies of lesson 00, its jupytext twin and the .gitignore, as
committed here.
JupyterLab (this venv's, autosave every 2 s) serves it; headless Chromium opens the lesson and
waits until its kernel is idle and autosave has written the file. With the course's pre-save hook
configured (``jupyter-config/.../autoencoders_course.json``, the file the package installs),
``git status`` stays clean. Without it, the same steps leave the lesson modified
(``language_info`` added): the control that shows the test can fail. Skipped, with the reason,
where Chromium or Playwright is missing (``COURSE_E2E_REQUIRED=1`` turns that into a failure).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest
from e2e_helpers import CHROMIUM, CHROMIUM_FLAGS, ROOT, start_server, stop_server
from test_e2e_browser import _missing_browser

pytestmark = pytest.mark.e2e

LESSON = "notebooks/00_setup_and_tour"
CONFIG = ROOT / "jupyter-config" / "jupyter_server_config.d" / "autoencoders_course.json"
AUTOSAVE_S = 2


def _git(repo, *args: str) -> str:
    run = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True)
    return run.stdout


def _repository(tmp):
    repo = tmp / "repo"
    (repo / "notebooks").mkdir(parents=True)
    for suffix in (".ipynb", ".py"):
        shutil.copy(ROOT / f"{LESSON}{suffix}", repo / f"{LESSON}{suffix}")
    shutil.copy(ROOT / ".gitignore", repo / ".gitignore")  # .ipynb_checkpoints/, as here
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "lesson 00")
    return repo


def _open_and_autosave(tmp, repo, hook: bool) -> float:
    """Open lesson 00 in Lab, wait for the kernel and for autosave; return when it saved."""
    from playwright.sync_api import sync_playwright

    path = repo / f"{LESSON}.ipynb"
    before = path.stat().st_mtime_ns
    server = start_server(tmp / "lab", {}, root=repo, autosave=AUTOSAVE_S,
                          server_config=CONFIG if hook else None)  # fmt: skip
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                str(tmp / "profile"), executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True
            )
            try:
                page = context.new_page()
                page.goto(server.url(f"lab/tree/{LESSON}.ipynb"))
                page.wait_for_function(
                    "() => document.querySelector('.jp-Notebook-ExecutionIndicator"
                    '[data-status="idle"]\')',
                    timeout=120_000,
                )  # the kernel started and answered kernel_info: Lab knows its language_info
                start = time.monotonic()
                page.wait_for_function(  # autosave ran: the file on disk was written again
                    "() => !window.jupyterapp.shell.currentWidget.context.model.dirty",
                    timeout=60_000,
                )
                while path.stat().st_mtime_ns == before and time.monotonic() - start < 30:
                    page.wait_for_timeout(250)  # polling the file, which Lab does not show
                page.wait_for_timeout(3 * AUTOSAVE_S * 1000)  # later autosaves too
                return path.stat().st_mtime_ns - before
            finally:
                context.close()
    finally:
        assert not stop_server(server), "processes left behind"


@pytest.fixture
def browser_or_skip():
    reason = _missing_browser()
    if reason:
        if os.environ.get("COURSE_E2E_REQUIRED") == "1":
            pytest.fail(f"the browser test must run here, but: {reason}")
        pytest.skip(reason)


def test_opening_lesson_00_and_autosaving_leaves_git_status_clean(tmp_path, browser_or_skip):
    repo = _repository(tmp_path)
    written = _open_and_autosave(tmp_path, repo, hook=True)
    assert written, "autosave never wrote the file: the test would prove nothing"
    assert _git(repo, "status", "--porcelain") == "", _git(repo, "diff")


def test_without_the_hook_autosave_adds_language_info(tmp_path, browser_or_skip):
    """The control: the same steps without the course's pre-save hook modify the lesson."""
    repo = _repository(tmp_path)
    assert _open_and_autosave(tmp_path, repo, hook=False)
    diff = _git(repo, "diff")
    assert '"language_info": {' in diff and '"version": "' in diff
    assert "kernelspec" not in diff  # the committed kernelspec is already what Lab writes
