"""The exercise notebooks, shipped inside the installed package as ``course_utils.exercise_notebooks``
(package data), so that ``python -m course_admin.grade`` finds the pristine notebooks without a
source checkout. There is no code here; see README.md.
"""
