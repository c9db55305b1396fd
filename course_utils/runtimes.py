"""Moved: the lesson runtimes are ``course_admin.runtimes`` (``pip install -e ".[admin]"``).

``python -m course_utils.runtimes ...`` prints the new command and exits with status 2.
"""

from course_utils.moved import point_to_new_home

point_to_new_home(__name__, "course_utils.runtimes", "course_admin.runtimes")
