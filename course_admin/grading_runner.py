"""Run ONE notebook for the grader (``course_admin.grade``), in a process of its own.

``run_isolated(nb, ...)`` (used by the grader) writes the notebook into a new temporary JOB_DIR
and starts ``python -m course_admin.grading_runner JOB_DIR`` with a hard time limit. The runner
process imports neither torch nor the course: only nbclient, nbformat and jupyter_client.

JOB_DIR holds ``notebook.ipynb`` and ``job.json`` (time limits, memory limit, environment). The
notebook runs in a fresh Jupyter kernel (nbclient) whose working directory is JOB_DIR/work, with

- a per-cell time limit: a cell that runs too long is interrupted and recorded as timed out,
  and the next cells still run;
- a per-notebook time limit: a watchdog kills the kernel (and so everything it started);
- CPU-time and address-space limits set inside the kernel process before it starts
  (``resource.setrlimit``, on systems that have it).

It writes ``executed.ipynb`` (the notebook with its outputs) and ``result.json``: a
notebook-level ``error`` (or null) and, per executed cell index, the status of its reply.

The kernel itself is started through this module too (``python -m course_admin.grading_runner
--kernel ...``): that is where the limits are set, in the kernel's own process, before ipykernel
starts.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

KERNEL_NAME = "course-grader"
MODULE = [sys.executable, "-m", "course_admin.grading_runner"]  # course_admin imports no torch
PACKAGE_ROOT = str(Path(__file__).resolve().parents[1])  # the folder holding course_admin/
TIMEOUT_ENAME = "CellTimeoutError"
STARTUP_ATTEMPTS = 3  # kernels that die before the first cell runs are started again


def set_limits(cpu_seconds: int, memory_mb: int) -> None:
    """Limit the CPU time and address space of the current process (0 = no limit)."""
    try:
        import resource
    except ImportError:  # Windows: no rlimits; the wall-clock limits still apply
        return
    if cpu_seconds > 0:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))
    if memory_mb > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_mb << 20, memory_mb << 20))


def kernel_main(argv: list[str]) -> None:
    """``--kernel CPU_SECONDS MEMORY_MB -f CONNECTION_FILE``: set limits, then be an ipykernel."""
    cpu_seconds, memory_mb, rest = int(argv[0]), int(argv[1]), argv[2:]
    set_limits(cpu_seconds, memory_mb)
    from ipykernel.kernelapp import launch_new_instance

    launch_new_instance(argv=rest)


def _kernel_spec(job_dir: Path, cpu_seconds: int, memory_mb: int) -> Path:
    """A kernelspec folder whose kernel is this module in --kernel mode."""
    folder = job_dir / "kernels" / KERNEL_NAME
    folder.mkdir(parents=True, exist_ok=True)
    argv = [
        *MODULE,
        "--kernel",
        str(cpu_seconds),
        str(memory_mb),
        "-f",
        "{connection_file}",
    ]
    spec = {"argv": argv, "display_name": "course grader", "language": "python"}
    (folder / "kernel.json").write_text(json.dumps(spec))
    return folder.parent


def _client(nb, km, job: dict, replies: dict, started: list):
    """An nbclient client that records each cell's reply and each cell start.

    ``HeadlessClient``: a submission's own Output widgets (``interact``, ``with out:``) make
    nbclient echo to the kernel, which could otherwise hide a cell's reply until its timeout.
    """
    from course_admin.headless import HeadlessClient

    def record(cell, cell_index, execute_reply) -> None:
        content = execute_reply.get("content", {})
        replies[cell_index] = {k: content.get(k) for k in ("status", "ename", "evalue")}

    cell_limit = job["timeout_cell"]
    return HeadlessClient(
        nb,
        km=km,
        timeout=cell_limit,
        startup_timeout=job.get("timeout_startup", 120),
        allow_errors=True,
        interrupt_on_timeout=True,
        error_on_timeout={
            "ename": TIMEOUT_ENAME,
            "evalue": f"timed out after {cell_limit} s",
            "traceback": [],
        },
        resources={"metadata": {"path": job["work"]}},
        on_cell_start=lambda cell, cell_index: started.append(cell_index),
        on_cell_executed=record,
    )


def _killer(km, deadline: threading.Event):
    """A function that kills the kernel of ``km`` with all its children and sets ``deadline``."""

    def kill_kernel() -> None:
        deadline.set()
        pid = getattr(km.provisioner, "pid", None)
        if pid:  # the kernel leads its own session: kill it with all its children
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError, AttributeError):
                pass  # already gone, or no process groups on this system

    return kill_kernel


def run_job(job_dir: Path) -> dict:
    """Execute JOB_DIR/notebook.ipynb under the limits of JOB_DIR/job.json; return the result."""
    import nbformat
    from jupyter_client import AsyncKernelManager
    from jupyter_client.kernelspec import KernelSpecManager
    from nbclient.exceptions import DeadKernelError

    job = json.loads((job_dir / "job.json").read_text())
    nb = nbformat.read(job_dir / "notebook.ipynb", as_version=4)
    work = job_dir / "work"
    work.mkdir(exist_ok=True)
    job["work"] = str(work)
    os.environ.update(job["env"])
    notebook_limit = job["timeout_notebook"]
    specs = KernelSpecManager(
        kernel_dirs=[str(_kernel_spec(job_dir, job["cpu_seconds"], job["memory_mb"]))]
    )
    replies: dict[int, dict] = {}
    started: list[int] = []
    deadline = threading.Event()
    start, error = time.monotonic(), None
    for attempt in range(1, STARTUP_ATTEMPTS + 1):
        km = AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs)
        client = _client(nb, km, job, replies, started)
        left = notebook_limit - (time.monotonic() - start)
        watchdog = threading.Timer(max(left, 1), _killer(km, deadline))
        watchdog.start()
        try:
            client.execute()
            error = None
        except DeadKernelError:
            error = "the kernel died (a crash, or the memory or CPU limit)"
        except Exception as exc:  # noqa: BLE001 - any failure is reported in the CSV, not raised
            error = f"could not run the notebook: {type(exc).__name__}: {str(exc)[:200]}"
        finally:
            watchdog.cancel()
            atexit.unregister(client._cleanup_kernel)  # nbclient leaves it if startup failed
        if deadline.is_set():
            error = f"timed out after {notebook_limit} s"
        # A kernel that dies before the first cell is not the student's doing (a busy machine,
        # a port taken by another kernel at the same instant): start a new one.
        if error is None or started or deadline.is_set():
            break
        print(f"grading runner: attempt {attempt} failed before any cell ran: {error}", flush=True)
    nbformat.write(nb, job_dir / "executed.ipynb")
    result = {"error": error, "cells": replies, "seconds": round(time.monotonic() - start, 1)}
    (job_dir / "result.json").write_text(json.dumps(result))
    return result


def run_isolated(
    nb,
    *,
    timeout_cell: int,
    timeout_notebook: int,
    memory_mb: int,
    fast: bool = True,
    offline: bool = True,
):
    """Run ``nb`` in a new process and kernel, in a temporary folder that is removed afterwards.

    Returns (result, executed notebook or None). The process gets ``timeout_notebook`` plus a
    margin for starting up; past that it is killed with everything it started.
    """
    import nbformat

    job_dir = Path(tempfile.mkdtemp(prefix="course-grade-"))
    try:
        nbformat.write(nb, job_dir / "notebook.ipynb")
        env = {
            "COURSE_FAST": "1" if fast else "0",
            "COURSE_OFFLINE": "1" if offline else "0",
            "COURSE_CHECKS_STRICT": "0",  # checks report; they must not raise
            "NBGRADER_EXECUTION": "",
            "COURSE_LANG": "en",
            "MPLBACKEND": "Agg",
            "OMP_NUM_THREADS": "1",  # parallel notebooks, one core each
            "MKL_NUM_THREADS": "1",
            "CUDA_VISIBLE_DEVICES": "",  # exercises run on the CPU; no GPU setup under rlimits
            "IPYTHONDIR": str(job_dir / "ipython"),
            "MPLCONFIGDIR": str(job_dir / "matplotlib"),
        }
        job = {
            "timeout_cell": timeout_cell,
            "timeout_notebook": timeout_notebook,
            "cpu_seconds": timeout_notebook + 30,
            "memory_mb": memory_mb,
            "env": env,
        }
        (job_dir / "job.json").write_text(json.dumps(job))
        # The runner (and the kernel it starts) find course_admin wherever the grader found it.
        path = os.pathsep.join(p for p in (PACKAGE_ROOT, os.environ.get("PYTHONPATH")) if p)
        process = subprocess.Popen(
            [*MODULE, str(job_dir)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "PYTHONPATH": path},
        )
        try:
            output, _ = process.communicate(timeout=timeout_notebook + 90)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            return {"error": f"timed out after {timeout_notebook} s", "cells": {}}, None
        if not (job_dir / "result.json").exists():
            return {"error": "the grading process failed", "cells": {}}, None
        result = json.loads((job_dir / "result.json").read_text())
        result["log"] = output.decode(errors="replace")[-3000:]
        return result, nbformat.read(job_dir / "executed.ipynb", as_version=4)
    finally:
        shutil.rmtree(job_dir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--kernel":
        kernel_main(argv[1:])
        return 0
    if len(argv) != 1:
        print("usage: python -m course_admin.grading_runner JOB_DIR", file=sys.stderr)
        return 2
    run_job(Path(argv[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
