"""course_admin: the instructors' and maintainers' tools of "Autoencoders, from PCA to VAEs".

Students never need it: a notebook or an exercise imports only ``course_utils``, which never
imports this package. Install it with ``pip install -e ".[admin]"`` (the ``test`` extra includes
it); it adds nbformat, nbclient, ipykernel, psutil and babel. Every tool is a command::

    python -m course_admin.make_exercises [--check]     exercises/ from solutions/
    python -m course_admin.grade SUBMISSIONS --out grades.csv
    python -m course_admin.quiz seal|unseal|check|show|blind ...
    python -m course_admin.bench [NAME ...] [--quick]
    python -m course_admin.runtimes [--modes full fast] [--repeat N]
    python -m course_admin.notebook_metadata [--check] [--install]
    python -m course_admin.translations update|build [--check]|check|worksheet|import

====================== ==================================================== =============
module                 what it holds                                        for
====================== ==================================================== =============
``make_exercises``     generates exercises/ from solutions/; ``--check``    instructors
``grade``              grades a folder of submissions into a CSV            instructors
``grading_runner``     runs one submission in a limited kernel (for grade)  instructors
``task_dependencies``  which task calls which, from solutions/ (for grade)  instructors
``headless``           nbclient client whose widget echo hides no reply     runtimes, grade
``notebook_metadata``  committed notebook metadata; Jupyter pre-save hook   maintainers
``quiz``               quiz authoring: seal, unseal, check, show, blind     quiz authors
``bench``              the benchmarks against the classic recipes           maintainers
``runtimes``           every lesson run headless and timed: README table    maintainers
``translations``       the Vietnamese edition: gettext catalogs and build   translators
====================== ==================================================== =============

Only ``bench`` and ``grade`` load torch (through the course's own code); the process that runs
each graded notebook (``grading_runner``) and the other tools do not.
"""
