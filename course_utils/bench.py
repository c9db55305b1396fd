"""Moved: the benchmarks (maintainers) are ``course_admin.bench`` (``pip install -e ".[admin]"``).

``python -m course_utils.bench ...`` prints the new command and exits with status 2.
"""

from course_utils.moved import point_to_new_home

point_to_new_home(__name__, "course_utils.bench", "course_admin.bench")
