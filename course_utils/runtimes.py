"""Moved: the lesson runtimes are ``course_admin.runtimes`` (``pip install -e ".[admin]"``).

``python -m course_utils.runtimes ...`` prints the new command and exits with status 2.
"""

import shlex
import sys

NEW = "python -m course_admin.runtimes"

if __name__ == "__main__":
    command = shlex.join([*NEW.split(), *sys.argv[1:]])
    print(f"course_utils.runtimes has moved; run: {command}", file=sys.stderr)
    sys.exit(2)
raise ImportError(f"course_utils.runtimes has moved: {NEW}")
