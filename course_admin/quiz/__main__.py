"""``python -m course_utils.quiz ...``: see ``course_utils.quiz.cli``."""

import sys

from course_utils.quiz.cli import main

sys.exit(main())
