"""``python -m course_admin.quiz ...``: see ``course_admin.quiz.cli``."""

import sys

from course_admin.quiz.cli import main

sys.exit(main())
