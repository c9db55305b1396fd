"""Auto-graded bilingual quizzes (lesson 00 onwards). Every lesson notebook ends with::

    from course_utils.quiz import show_quiz
    show_quiz("01_linear_autoencoder_and_pca")   # lang=None: $COURSE_LANG if set, else "en"

This is the learner's side. The authors' tools (seal and unseal a bank, check banks, score blind
guessing) are ``course_admin.quiz``: ``python -m course_admin.quiz seal|unseal|check|show|blind``.

================ =========================================================================
module           what it holds
================ =========================================================================
``bank``         the bank format: Question, Bank, the encoding that hides the answers
``validate``     ``parse_bank``: checks a bank and reports every problem at once
``grading``      ``grade``: a pure function of (bank, answers); the export format
``order``        the shuffled, per-learner order in which options are shown
``files``        finding, reading (strict YAML), loading and writing bank files
``text``         the printed quiz, ``check_answers``, the printed feedback
``widget``       the ipywidgets view (imported only when a kernel shows it)
``show``         ``show_quiz``: widget under Jupyter, text elsewhere
``__main__``     moved: ``python -m course_admin.quiz`` (prints the new command, exits 2)
================ =========================================================================

Each module imports only the ones above it in this table (tests/test_quiz_layout.py), and
``course_utils.settings`` for $COURSE_LANG, $COURSE_LEARNER and $COURSE_QUIZ_DIR.
Banks are YAML files in ``quizzes/`` (format and workflow: ``quizzes/README.md``). A committed
bank is SEALED: the answers and explanations are encoded (zlib + base64), so nobody reads an
answer by accident. It is not security: ``course_utils.quiz.bank.decode`` reveals everything.
"""

from course_utils.quiz.bank import Bank, Question, QuizBankError, resolve_lang
from course_utils.quiz.files import load_bank, quiz_dir
from course_utils.quiz.grading import QuestionResult, QuizAnswerError, QuizResult, grade
from course_utils.quiz.order import option_order
from course_utils.quiz.show import show_quiz
from course_utils.quiz.text import check_answers, format_result, render_text
from course_utils.quiz.validate import parse_bank

__all__ = [
    "Bank", "Question", "QuestionResult", "QuizAnswerError", "QuizBankError", "QuizResult",
    "check_answers", "format_result", "grade", "load_bank", "option_order", "parse_bank",
    "quiz_dir", "render_text", "resolve_lang", "show_quiz",
]  # fmt: skip
