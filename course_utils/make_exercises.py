"""Moved: the exercise generator is ``course_admin.make_exercises`` (``pip install -e ".[admin]"``).

``python -m course_utils.make_exercises ...`` prints the new command and exits with status 2.
"""

from course_utils.moved import point_to_new_home

point_to_new_home(__name__, "course_utils.make_exercises", "course_admin.make_exercises")
