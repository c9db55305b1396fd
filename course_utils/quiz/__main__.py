"""Moved: the quiz authoring commands are ``course_admin.quiz`` (``pip install -e ".[admin]"``).

``python -m course_utils.quiz ...`` prints the new command and exits with status 2.
"""

from course_utils.moved import point_to_new_home

point_to_new_home(__name__, "course_utils.quiz", "course_admin.quiz")
