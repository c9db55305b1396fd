"""Moved: the quiz authoring commands are ``course_admin.quiz`` (``pip install -e ".[admin]"``).

``python -m course_utils.quiz ...`` prints the new command and exits with status 2.
"""

import shlex
import sys

NEW = "python -m course_admin.quiz"

if __name__ == "__main__":
    command = shlex.join([*NEW.split(), *sys.argv[1:]])
    print(f"python -m course_utils.quiz has moved; run: {command}", file=sys.stderr)
    sys.exit(2)
raise ImportError(f"python -m course_utils.quiz has moved: {NEW}")
