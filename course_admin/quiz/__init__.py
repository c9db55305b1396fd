"""Quiz authoring (``python -m course_admin.quiz COMMAND``): the learner's side is
``course_utils.quiz``, which these modules import and never the other way round.

============ ================================================================================
module       what it holds
============ ================================================================================
``seal``     draft <-> sealed bank (``seal`` and ``unseal``)
``blind``    what blind guessing (longest/shortest option, position, wording) would score
``cli``      ``python -m course_admin.quiz seal|unseal|check|show|blind``
``__main__`` runs ``cli.main``
============ ================================================================================

The workflow for authors (unseal, edit the draft, seal, check, blind): ``quizzes/README.md``.
"""
