"""Moved: the benchmarks (maintainers) are ``course_admin.bench`` (``pip install -e ".[admin]"``).

``python -m course_utils.bench ...`` prints the new command and exits with status 2.
"""

import shlex
import sys

NEW = "python -m course_admin.bench"

if __name__ == "__main__":
    command = shlex.join([*NEW.split(), *sys.argv[1:]])
    print(f"course_utils.bench has moved; run: {command}", file=sys.stderr)
    sys.exit(2)
raise ImportError(f"course_utils.bench has moved: {NEW}")
