"""Moved: the exercise generator is ``course_admin.make_exercises`` (``pip install -e ".[admin]"``).

``python -m course_utils.make_exercises ...`` prints the new command and exits with status 2.
"""

import shlex
import sys

NEW = "python -m course_admin.make_exercises"

if __name__ == "__main__":
    command = shlex.join([*NEW.split(), *sys.argv[1:]])
    print(f"course_utils.make_exercises has moved; run: {command}", file=sys.stderr)
    sys.exit(2)
raise ImportError(f"course_utils.make_exercises has moved: {NEW}")
