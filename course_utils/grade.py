"""Moved: the grader (instructors) is ``course_admin.grade`` (``pip install -e ".[admin]"``).

``python -m course_utils.grade ...`` prints the new command and exits with status 2.
"""

from course_utils.moved import point_to_new_home

point_to_new_home(__name__, "course_utils.grade", "course_admin.grade")
