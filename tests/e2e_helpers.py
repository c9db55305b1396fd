"""A JupyterLab server and a Chromium browser for the end-to-end test (tests/test_e2e_browser.py).

The server: the project's own venv (``sys.executable``), bound to 127.0.0.1 on a free port, a
random token, temporary configuration / runtime / settings / workspace directories, its own
process group, and as its root a temporary COPY of notebooks/ and exercises/ (the repository's
notebooks are never opened, so neither a save nor jupytext can change them; course_utils comes
from the repository through PYTHONPATH). ``stop_server`` ends it, its kernels and anything they
started, within a bounded time, whatever state the test left it in.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LEARNER = "e2e tester"  # fixes the shuffled order of the quiz options (course_utils.quiz.order)


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    token: str
    log: Path
    dirs: dict[str, Path] = field(default_factory=dict)

    def url(self, path: str) -> str:
        sep = "&" if "?" in path else "?"
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}{sep}token={self.token}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _settings(user_settings: Path, autosave: float | None = None) -> None:
    """Lab settings for a test: every cell in the DOM (no windowing), no autosave unless asked
    (every ``autosave`` seconds), no news or update checks."""
    docmanager = user_settings / "@jupyterlab" / "docmanager-extension"
    docmanager.mkdir(parents=True, exist_ok=True)
    saving = {"autosave": True, "autosaveInterval": autosave} if autosave else {"autosave": False}
    (docmanager / "plugin.jupyterlab-settings").write_text(json.dumps(saving))
    notebook = user_settings / "@jupyterlab" / "notebook-extension"
    notebook.mkdir(parents=True, exist_ok=True)
    (notebook / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    news = user_settings / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True, exist_ok=True)
    (news / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )


def start_server(
    tmp: Path,
    extra_env: dict[str, str],
    timeout: float = 90.0,
    *,
    root: Path | None = None,
    autosave: float | None = None,
    server_config: Path | None = None,
) -> Server:
    """Start JupyterLab from this venv; return once its API answers (or raise with its log).

    ``root``: serve this folder instead of fresh copies of notebooks/ and exercises/;
    ``autosave``: save every that many seconds; ``server_config``: a Jupyter Server config file
    to install in the server's own config directory (jupyter_server_config.d/).
    """
    dirs = {name: tmp / name for name in ("config", "runtime", "data", "settings", "workspaces",
                                          "ipython", "work")}  # fmt: skip
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    if root is not None:
        dirs["work"] = root
    for folder in ("notebooks", "exercises") if root is None else ():  # COPIES of the notebooks
        (dirs["work"] / folder).mkdir()  # only the .ipynb: no jupytext twin to re-read or write
        for nb in (ROOT / folder).glob("*.ipynb"):
            shutil.copy(nb, dirs["work"] / folder / nb.name)
        (dirs["work"] / folder / "vi").mkdir()  # the Vietnamese edition
        for nb in (ROOT / folder / "vi").glob("*.ipynb"):
            shutil.copy(nb, dirs["work"] / folder / "vi" / nb.name)
    if server_config is not None:
        (dirs["config"] / "jupyter_server_config.d").mkdir()
        shutil.copy(server_config, dirs["config"] / "jupyter_server_config.d")
    _settings(dirs["settings"], autosave)
    port, token = free_port(), secrets.token_hex(24)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("JUPYTER", "JPY_")) and k != "COURSE_LANG"}  # fmt: skip
    # No COURSE_LANG: each notebook's edition sets the language (English in notebooks/).
    env.update(
        JUPYTER_CONFIG_DIR=str(dirs["config"]),
        JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
        IPYTHONDIR=str(dirs["ipython"]),
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        COURSE_FAST="1",
        COURSE_LEARNER=LEARNER,
        MPLBACKEND="module://matplotlib_inline.backend_inline",
        **extra_env,
    )
    log = tmp / "jupyter.log"
    command = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={dirs['work']}",
        f"--LabApp.user_settings_dir={dirs['settings']}",
        f"--LabApp.workspaces_dir={dirs['workspaces']}",
        "--LabApp.news_url=", "--ServerApp.terminals_enabled=False",
        "--LabApp.expose_app_in_browser=True",  # the test runs Lab commands (Run All, ...)
    ]  # fmt: skip
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command, cwd=dirs["work"], env=env, stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
    server = Server(process, port, token, log, dirs)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(server.url("api/status"), timeout=2) as reply:
                if reply.status == 200:
                    return server
        except OSError:
            time.sleep(0.25)  # polling the HTTP API, not the page: the server is not up yet
    stop_server(server)
    raise TimeoutError(f"JupyterLab did not answer within {timeout} s:\n{log.read_text()}")


def stop_server(server: Server, timeout: float = 15.0) -> list[int]:
    """Shut the server, its kernels and their children down; return the PIDs still alive (none).

    The kernels run in their own sessions (jupyter_client starts them so), so a process-group
    kill alone would miss them: every descendant is collected first, then asked to stop
    (SIGTERM), then killed (SIGKILL) after ``timeout`` seconds.
    """
    try:
        root = psutil.Process(server.process.pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        procs = []
    try:  # the polite way first: the server shuts its kernels down itself
        request = urllib.request.Request(server.url("api/shutdown"), method="POST")
        urllib.request.urlopen(request, timeout=5).close()
    except OSError:
        pass
    _, alive = psutil.wait_procs(procs, timeout=timeout / 3)
    for p in alive:
        _signal(p, signal.SIGTERM)
    try:
        os.killpg(server.process.pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        pass
    _, alive = psutil.wait_procs(alive, timeout=timeout / 3)
    for p in alive:
        _signal(p, signal.SIGKILL)
    _, alive = psutil.wait_procs(alive, timeout=timeout / 3)
    try:
        server.process.wait(timeout=1)
    except subprocess.TimeoutExpired:
        pass
    return [p.pid for p in alive]


def _signal(process: psutil.Process, sig: int) -> None:
    try:
        process.send_signal(sig)
    except psutil.NoSuchProcess:
        pass
