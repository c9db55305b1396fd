"""``python -m course_admin.bench``: see ``course_admin.bench``."""

from course_admin.bench import main

main()
