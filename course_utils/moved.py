"""Pointers for commands that moved to ``course_admin`` (issue 17): one line, exit status 2.

``python -m course_utils.grade ...`` (and bench, make_exercises, runtimes, quiz) ran instructor
tools that now live in the separate package ``course_admin`` (``pip install -e ".[admin]"``).
Each old module calls ``point_to_new_home`` and nothing else: run as a command it prints the
new command with the same arguments and exits with status 2; imported, it raises ImportError.
"""

from __future__ import annotations

import shlex
import sys


def point_to_new_home(run_as: str, old: str, new: str) -> None:
    """Say where ``old`` moved. ``run_as`` is the caller's ``__name__`` ("__main__" under -m)."""
    command = shlex.join(["python", "-m", new, *sys.argv[1:]])
    if run_as == "__main__":
        print(f"python -m {old} has moved; run: {command}", file=sys.stderr)
        sys.exit(2)
    raise ImportError(f"{old} has moved: python -m {new}")
