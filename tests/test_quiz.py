"""The quiz engine: validation, grading, sealing, export, language, discovery, text form.

The widget is tested in test_quiz_widget.py, the shuffled order in test_quiz_order.py, the real
banks in test_quiz_banks.py and test_quiz_blind.py, the package's layout in test_quiz_layout.py.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from course_admin.quiz.cli import main
from course_admin.quiz.seal import seal, unseal
from course_utils.quiz import (
    QuizAnswerError,
    QuizBankError,
    check_answers,
    files,
    format_result,
    grade,
    load_bank,
    option_order,
    quiz_dir,
    render_text,
    resolve_lang,
    show_quiz,
)
from course_utils.quiz.bank import LETTERS, decode, encode, encode_key, right_options
from course_utils.quiz.files import read_yaml, write_yaml
from course_utils.quiz.validate import parse_bank

DATA = Path(__file__).parent / "data" / "quiz"
TINY = DATA / "tiny_draft.yaml"
REPO_QUIZZES = Path(__file__).resolve().parents[1] / "quizzes"


@pytest.fixture
def tiny():
    return load_bank(TINY)


@pytest.fixture(autouse=True)
def no_learner(monkeypatch):
    monkeypatch.delenv("COURSE_LEARNER", raising=False)  # one order per lesson, as in CI


# ---- validation: every problem, at once, with file and question ----------------------------

EXPECTED_MANY = [
    ("bank", "unknown key 'colour' (allowed: lesson, title, version, sealed, questions)"),
    ("bank", "title has no Vietnamese translation ('vi')"),
    ("bank", "version must be an integer, got 'one'"),
    ("question 'dup'", "option 0: 'en' must be non-empty text, got True"),
    ("question 'dup'", "duplicate id 'dup'"),
    ("question 'dup'", "text has no Vietnamese translation ('vi')"),
    ("question 'out-of-range'", "answer index [5] out of range: the options are numbered 0 to 2"),
    ("question 'no-answer'", "no correct option"),
    ("question 'empty-answer'", "no correct option"),
    ("question 'one-option'", "needs a list of at least 2 options"),
    ("question 'single-several'", "single-type question with 2 correct answers"),
    ("question 'bad-type'", "type must be 'single' or 'multiple', got 'choice'"),
    ("question 'unknown-key'", "unknown key 'hint'; allowed: answer, check, explanation"),
    ("question 'option-no-english'", "option 1 has no English translation ('en')"),
    ("question 'no-explanation'", "explanation is missing"),
    ("question 'bad-feedback'", "feedback for option 7: no such option (0 to 1)"),
    ("question 'bad-feedback'", "partial_credit must be true or false"),
    ("question #13", "missing 'id'"),
]


def test_broken_bank_reports_every_problem_at_once():
    path = DATA / "many_problems.yaml"
    with pytest.raises(QuizBankError) as info:
        load_bank(path)
    problems = info.value.problems
    assert len(problems) == len(EXPECTED_MANY), "\n".join(problems)
    for where, what in EXPECTED_MANY:
        line = f"{path}: {where}: {what}"
        assert any(p.startswith(line) for p in problems), f"not reported: {line}\n" + "\n".join(
            problems
        )
    assert isinstance(info.value, ValueError)
    assert str(info.value).startswith(f"quiz bank {path} has 18 problem(s):")


def test_yaml_syntax_error_names_the_line():
    with pytest.raises(QuizBankError) as info:
        load_bank(DATA / "syntax_error.yaml")
    (problem,) = info.value.problems
    assert "syntax_error.yaml: YAML syntax error at line 9" in problem


def test_duplicate_yaml_key_is_reported_with_its_line(tmp_path):
    path = DATA / "duplicate_key.yaml"
    with pytest.raises(QuizBankError) as info:
        load_bank(path)
    assert info.value.problems == [f"{path}: line 11: key 'vi' appears twice"]
    worse = tmp_path / "worse.yaml"  # the same file with one more problem: both are reported
    worse.write_text(path.read_text(encoding="utf-8").replace("version: 1", "version: x"))
    with pytest.raises(QuizBankError) as info:
        load_bank(worse)
    assert info.value.problems == [
        f"{worse}: line 11: key 'vi' appears twice",
        f"{worse}: bank: version must be an integer, got 'x'",
    ]


def test_tampered_sealed_bank_is_rejected():
    path = DATA / "tampered_sealed.yaml"
    with pytest.raises(QuizBankError) as info:
        load_bank(path)
    problems = "\n".join(info.value.problems)
    assert len(info.value.problems) == 3, problems
    renamed = "question 'capital-renamed': key belongs to question 'capital': an id changed"
    assert renamed in problems
    assert "question 'evens': unknown key 'answer' (a sealed bank stores 'key'" in problems
    assert "question 'primes': explanation must be encoded in a sealed bank" in problems


def test_sealed_key_of_the_empty_set_is_an_empty_key():
    sealed = seal(read_yaml(TINY))
    sealed["questions"][0]["key"] = encode_key("capital", [])
    with pytest.raises(QuizBankError, match="question 'capital': empty key"):
        parse_bank(sealed, "x.yaml")


@pytest.mark.parametrize(
    "key, message",
    [
        ("0d5208a05cf533247041d8f9945a5f87", "key must be encoded in a sealed bank"),
        ("zb64:not-base64!", "key cannot be decoded"),
        (encode({"capital": [1]}), "key decodes to {'capital': [1]}, not [id, answer]"),
        (encode_key("capital", [3]), "key index [3] out of range: the options are numbered 0 to 2"),
        (None, "missing 'key'"),
    ],
)
def test_broken_sealed_key_is_reported(key, message):
    sealed = seal(read_yaml(TINY))
    if key is None:
        del sealed["questions"][0]["key"]
    else:
        sealed["questions"][0]["key"] = key
    with pytest.raises(QuizBankError, match=re.escape(f"question 'capital': {message}")):
        parse_bank(sealed, "x.yaml")


def test_an_old_hashed_bank_gets_a_hint():
    sealed = seal(read_yaml(TINY)) | {"salt": "0123456789abcdef"}
    with pytest.raises(QuizBankError, match="unknown key 'salt'.*delete the salt line"):
        parse_bank(sealed, "old.yaml")


def test_sealed_single_question_with_several_answers_is_rejected():
    sealed = seal(read_yaml(TINY))
    sealed["questions"][1]["type"] = "single"  # 'evens' has two correct options
    with pytest.raises(QuizBankError, match="question 'evens': single-type question with 2"):
        parse_bank(sealed, "x.yaml")


def test_non_mapping_bank():
    with pytest.raises(QuizBankError, match="a bank is a YAML mapping"):
        parse_bank(["not", "a", "bank"], "list.yaml")


# ---- grading ---------------------------------------------------------------------------------


def test_grade_single(tiny):
    right = grade(tiny, {"capital": 1}).questions[0]
    wrong = grade(tiny, {"capital": 0}).questions[0]
    assert (right.correct, right.score, right.chosen) == (True, 1.0, (1,))
    assert (wrong.correct, wrong.score, wrong.chosen) == (False, 0.0, (0,))
    assert grade(tiny, {"capital": [1]}).questions[0].correct  # a one-item list is fine too


def test_grade_multiple_is_all_or_nothing(tiny):
    def score(choice):
        return grade(tiny, {"evens": choice}).questions[1].score

    assert score([0, 2]) == 1.0
    assert score([2, 0]) == 1.0  # order does not matter
    assert score([0]) == 0.0  # one right tick missing
    assert score([0, 1, 2]) == 0.0  # one wrong tick added


@pytest.mark.parametrize(
    "chosen, expected",
    [
        ([0, 1, 3], 1.0),  # exactly right
        ([0, 1], 2 / 3),  # 2 of 3 right ticks, no wrong tick
        ([0, 1, 3, 2], 1 - 1 / 2),  # all right ticks, 1 of 2 wrong options
        ([0, 2], 1 / 3 - 1 / 2),  # floored at 0 below
        ([0, 1, 2, 3, 4], 0.0),  # ticking every box scores 0
        ([2, 4], 0.0),
    ],
)
def test_partial_credit_rule(tiny, chosen, expected):
    result = grade(tiny, {"primes": chosen}).questions[2]
    assert result.score == pytest.approx(max(0.0, expected))
    assert result.correct == (expected == 1.0)


def test_unanswered_scores_zero_and_is_reported(tiny):
    result = grade(tiny, {"capital": 1, "evens": None})
    assert [r.answered for r in result.questions] == [True, False, False]
    assert [r.score for r in result.questions] == [1.0, 0.0, 0.0]
    assert result.questions[1].explanation == ""  # no explanation for skipped questions
    assert (result.total, result.max_score) == (1.0, 3)


def test_explanation_and_feedback_in_the_chosen_language(tiny):
    en = grade(tiny, {"capital": 0}, lang="en").questions[0]
    vi = grade(tiny, {"capital": 0}, lang="vi").questions[0]
    assert en.explanation == "A is the first letter."
    assert vi.explanation == "A là chữ cái đầu tiên."
    assert (en.feedback, vi.feedback) == (("B comes second.",), ("B đứng thứ hai.",))
    assert grade(tiny, {"capital": 2}).questions[0].feedback == ()  # option without a note


@pytest.mark.parametrize(
    "answers, message",
    [
        ({"nope": 1}, r"no question \['nope'\] in tiny; ids: capital, evens, primes"),
        ({"capital": 3}, r"question 'capital': no option \[3\]; allowed: option indices 0 to 2"),
        ({"capital": -1}, r"question 'capital': no option \[-1\]"),
        ({"evens": []}, r"question 'evens': empty answer; leave the question out"),
        ({"capital": "b"}, r"question 'capital': answer 'b' is not an index"),
        ({"capital": 1.0}, r"question 'capital': answer 1.0 is not an index"),
        ({"capital": True}, r"question 'capital': answer True is not an index"),
        ({"capital": [0, 1]}, r"question 'capital' takes ONE option, got 2"),
        ({"evens": [0, 0]}, r"question 'evens': answer \[0, 0\] repeats an option"),
    ],
)
def test_wrong_input_raises_a_clear_error(tiny, answers, message):
    with pytest.raises(QuizAnswerError, match=message) as info:
        grade(tiny, answers)
    assert isinstance(info.value, ValueError)


def test_answers_must_be_a_dict(tiny):
    with pytest.raises(QuizAnswerError, match="answers must be a dict"):
        grade(tiny, [1, 0, 2])


# ---- sealing ----------------------------------------------------------------------------------


def test_seal_unseal_round_trip(tmp_path):
    draft = read_yaml(TINY)
    sealed_path = tmp_path / "tiny.yaml"
    assert main(["seal", str(TINY), "-o", str(sealed_path)]) == 0
    back_path = tmp_path / "back.yaml"
    assert main(["unseal", str(sealed_path), "-o", str(back_path)]) == 0
    back = read_yaml(back_path)
    assert back == draft  # same answers, explanations, feedback, everything
    assert main(["seal", str(back_path), "-o", str(tmp_path / "again.yaml")]) == 0
    assert (tmp_path / "again.yaml").read_text() == sealed_path.read_text()  # deterministic


def test_sealed_file_hides_answers_and_explanations(tmp_path):
    sealed = seal(read_yaml(TINY))
    assert sealed["sealed"] is True
    assert all("answer" not in q and q["key"].startswith("zb64:") for q in sealed["questions"])
    path = tmp_path / "tiny.yaml"
    write_yaml(sealed, path)
    text = path.read_text(encoding="utf-8")
    for secret in ("answer", "A is the first letter", "B comes second", "two divisors", "[1]"):
        assert secret not in text
    # Encoded, not encrypted: decode reads everything back, as the docs say.
    assert decode(sealed["questions"][0]["key"]) == ["capital", [1]]
    assert decode(sealed["questions"][0]["explanation"])["en"] == "A is the first letter."
    assert load_bank(path) == parse_bank(sealed, str(path))


def test_equal_answers_give_different_looking_keys():
    keys = [encode_key(qid, [1]) for qid in ("capital", "evens", "primes")]
    assert len(set(keys)) == 3
    assert all(decode(k)[1] == [1] for k in keys)


def test_sealing_is_deterministic():
    assert seal(read_yaml(TINY)) == seal(read_yaml(TINY))


def test_seal_refuses_a_sealed_bank_and_cli_reports_errors(tmp_path, capsys):
    with pytest.raises(QuizBankError, match="already sealed"):
        seal(seal(read_yaml(TINY)))
    out = tmp_path / "out.yaml"
    assert main(["seal", str(DATA / "many_problems.yaml"), "-o", str(out)]) == 1
    assert not out.exists()  # nothing half-written
    assert "has 18 problem(s)" in capsys.readouterr().err
    assert main(["check", str(TINY), str(DATA / "syntax_error.yaml")]) == 1
    captured = capsys.readouterr()
    assert "tiny_draft.yaml: OK (3 questions)" in captured.out
    assert "YAML syntax error at line 9" in captured.err


def test_unseal_recovers_the_answers(tiny):
    draft = unseal(tiny)
    assert [q["answer"] for q in draft["questions"]] == [[1], [0, 2], [0, 1, 3]]
    assert [right_options(q) for q in tiny.questions] == [(1,), (0, 2), (0, 1, 3)]


def test_cli_show_and_module_entry_point(capsys):
    assert main(["show", "00_setup_and_tour", "--lang", "vi", "--learner", "An"]) == 0
    bank = load_bank("00_setup_and_tour")
    assert capsys.readouterr().out.strip() == render_text(bank, "vi", "An").strip()
    run = subprocess.run(
        [sys.executable, "-m", "course_admin.quiz", "check", str(TINY)],
        capture_output=True, text=True, cwd=REPO_QUIZZES.parent, check=False,
    )  # fmt: skip
    assert run.returncode == 0 and "tiny_draft.yaml: OK (3 questions)" in run.stdout, run.stderr


# ---- export ---------------------------------------------------------------------------------


def test_export_json_format(tiny, tmp_path):
    result = grade(tiny, {"capital": 1, "primes": [0, 1]}, lang="vi")
    data = json.loads(result.to_json(student="  Lan  "))
    assert list(data) == [
        "format", "lesson", "bank_version", "lang", "timestamp", "student", "questions", "total",
        "max",
    ]  # fmt: skip
    assert data["format"] == "course-quiz-result/1"
    assert (data["lesson"], data["bank_version"], data["lang"]) == ("tiny", 3, "vi")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", data["timestamp"])
    assert data["student"] == "Lan"
    assert data["questions"] == [
        {"id": "capital", "chosen": [1], "correct": True, "score": 1.0},
        {"id": "evens", "chosen": None, "correct": False, "score": 0.0},
        {"id": "primes", "chosen": [0, 1], "correct": False, "score": 0.6667},
    ]
    assert (data["total"], data["max"]) == (1.6667, 3)
    assert json.loads(result.to_json())["student"] is None
    path = result.save(tmp_path / "result.json", student="Lan")
    assert json.loads(path.read_text(encoding="utf-8"))["student"] == "Lan"


# ---- language, discovery, text form -----------------------------------------------------------


def test_resolve_lang(monkeypatch):
    monkeypatch.delenv("COURSE_LANG", raising=False)
    assert resolve_lang(None) == "en"
    monkeypatch.setenv("COURSE_LANG", "vi_VN.UTF-8")
    assert resolve_lang(None) == "vi"
    assert resolve_lang("en") == "en"  # an explicit argument wins over the variable
    monkeypatch.setenv("COURSE_LANG", "fr")
    with pytest.warns(UserWarning, match="COURSE_LANG='fr' is not 'en' or 'vi'"):
        assert resolve_lang(None) == "en"
    with pytest.raises(ValueError, match="lang must be 'en', 'vi' or None"):
        resolve_lang("de")


def test_quiz_dir_order(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_QUIZ_DIR", str(tmp_path))
    assert quiz_dir() == tmp_path
    monkeypatch.delenv("COURSE_QUIZ_DIR")
    assert quiz_dir() == REPO_QUIZZES
    # Without the repository folder, the copy inside the installed package is used. Simulate the
    # installed package course_utils.quizzes by loading quizzes/__init__.py under that name.
    spec = importlib.util.spec_from_file_location(
        "course_utils.quizzes", REPO_QUIZZES / "__init__.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setitem(sys.modules, "course_utils.quizzes", module)
    installed = tmp_path / "site-packages" / "course_utils" / "quiz" / "files.py"
    monkeypatch.setattr(files, "__file__", str(installed))
    assert quiz_dir() == REPO_QUIZZES


def test_missing_bank_lists_the_lessons_with_banks():
    with pytest.raises(FileNotFoundError) as info:
        load_bank("01_linear_autoencoder_and_pc")
    message = str(info.value)
    assert "No quiz bank for lesson '01_linear_autoencoder_and_pc'" in message
    assert "Did you mean '01_linear_autoencoder_and_pca'?" in message
    assert "00_setup_and_tour, 01_linear_autoencoder_and_pca, 02_stacked_autoencoders" in message


def test_bank_lesson_must_match_its_file_name(monkeypatch, tmp_path):
    shutil.copy(REPO_QUIZZES / "00_setup_and_tour.yaml", tmp_path / "00_renamed.yaml")
    monkeypatch.setenv("COURSE_QUIZ_DIR", str(tmp_path))
    with pytest.raises(QuizBankError, match="lesson '00_setup_and_tour' != file name"):
        load_bank("00_renamed")


def test_render_text(tiny):
    text = render_text(tiny, "en")
    assert text.startswith("Quiz: Tiny quiz (tiny, v3)")
    assert "1. Which letter comes first in the alphabet?" in text
    order = option_order(tiny)
    for q in tiny.questions:  # each option under the letter of the position it is shown at
        for position, i in enumerate(order[q.id]):
            assert f"\n   ({LETTERS[position]}) {q.options[i]['en']}\n" in text
    assert 'check_answers("tiny", {"<id>": "b"})' in text
    assert 'check_answers("tiny", {"<id>": "b"}, learner=\'An\')' in render_text(tiny, "en", "An")
    assert "[evens] (choose all that apply; all-or-nothing" in text
    assert "[primes] (choose all that apply; partial credit" in text
    assert "Những số nào là số chẵn?" in render_text(tiny, "vi")


def test_text_never_breaks_inside_latex(tiny):
    long = tiny.questions[2].text["en"].replace("($p > 1$)", "x " * 45 + "($p > 1$)")
    question = tiny.questions[2].__class__(**{**tiny.questions[2].__dict__, "text": {"en": long}})
    bank = tiny.__class__(**{**tiny.__dict__, "questions": (question,)})
    assert "$p > 1$" in render_text(bank, "en")


def test_show_quiz_prints_the_text_form_without_a_kernel(capsys, monkeypatch):
    monkeypatch.setenv("COURSE_LANG", "vi")
    assert show_quiz("00_setup_and_tour") is None
    out = capsys.readouterr().out
    bank = load_bank("00_setup_and_tour")
    assert out.strip() == render_text(bank, "vi").strip()
    assert bank.title["vi"] in out
    show_quiz("00_setup_and_tour", lang="en", learner="An")
    assert capsys.readouterr().out.strip() == render_text(bank, "en", "An").strip()
    monkeypatch.setenv("COURSE_LEARNER", "An")  # the same order, from the environment
    show_quiz("00_setup_and_tour", lang="en")
    out = capsys.readouterr().out
    lines = render_text(bank, "en", "An").strip().split("\n")
    assert out.strip().split("\n")[2:] == lines[2:]  # (no learner= in the check_answers hint)


def printed_letters(text: str, option: str) -> str:
    """The letter under which the printed quiz shows an option."""
    return re.search(rf"\n   \(([a-h])\) {re.escape(option[:60])}", text).group(1)


@pytest.mark.parametrize("learner", [None, "An", "Nguyễn Thị Lan"])
def test_check_answers_takes_the_printed_letters(capsys, learner):
    """The letters a learner reads in the printed quiz grade the options they label."""
    bank = load_bank("00_setup_and_tour")
    text = render_text(bank, "en", learner)
    singles = [q for q in bank.questions if q.type == "single"]
    q_single = singles[0]
    q_multi = next(q for q in bank.questions if q.type == "multiple")
    (good,) = right_options(q_single)
    bad = next(i for i in range(len(q_single.options)) if i != good)
    right = printed_letters(text, q_single.options[good]["en"])
    wrong = printed_letters(text, q_single.options[bad]["en"])
    multi_right = right_options(q_multi)
    ticks = "".join(printed_letters(text, q_multi.options[i]["en"]) for i in multi_right)
    answers = {q_single.id: right, q_multi.id: ticks.upper()}
    result = check_answers("00_setup_and_tour", answers, learner=learner)
    by_id = {r.id: r for r in result.questions}
    assert by_id[q_single.id].score == 1.0 and by_id[q_multi.id].score == 1.0
    assert by_id[q_single.id].chosen == (good,)  # bank indices, whatever the printed order
    assert tuple(sorted(by_id[q_multi.id].chosen)) == tuple(sorted(multi_right))
    unanswered = next(r for r in result.questions if r.id not in answers)
    assert unanswered.chosen is None and unanswered.score == 0.0
    out = capsys.readouterr().out
    assert out.strip() == format_result(result, option_order(bank, learner))
    n = [q.id for q in bank.questions].index(q_single.id) + 1
    assert f"{n}. [{q_single.id}] Correct (1/1). You chose {right}." in out
    assert f"Score: 2 / {len(bank.questions)}" in out
    assert check_answers("00_setup_and_tour", {q_single.id: wrong}, learner=learner).total == 0
    position = "abcdefgh".index(right)  # a 0-based position in the printed order works too
    single_only = {q_single.id: position}
    assert check_answers("00_setup_and_tour", single_only, learner=learner).total == 1


@pytest.mark.parametrize(
    "answers, message",
    [
        ({"no-gpu": "z"}, "question 'no-gpu': 'z': use letters from abc"),
        ({"no-gpu": ""}, "use letters from abc"),
        ({"no-gpu": "ab"}, "question 'no-gpu' takes ONE option, got 2"),
        ({"reproducible": "aa"}, "repeats an option"),
        ({"no-gpu": 4}, r"question 'no-gpu': no option \[4\]"),
        ({"nope": "a"}, r"no question \['nope'\]"),
        (["a"], "answers must be a dict"),
    ],
)
def test_check_answers_explains_wrong_input(answers, message):
    with pytest.raises(QuizAnswerError, match=message):
        check_answers("00_setup_and_tour", answers)


def test_yaml_fixtures_are_what_their_comments_say():
    # guard against an edited fixture silently testing something else
    data = yaml.safe_load((DATA / "tampered_sealed.yaml").read_text(encoding="utf-8"))
    assert data["sealed"] is True and data["questions"][1]["answer"] == [0, 2]


def test_readme_examples_are_real():
    """The draft and the export shown in quizzes/README.md are what the code accepts and writes."""
    readme = (REPO_QUIZZES / "README.md").read_text(encoding="utf-8")
    draft = yaml.safe_load(re.search(r"```yaml\n(.*?)```", readme, re.S).group(1))
    bank = parse_bank(draft, "README.md")
    assert decode(bank.questions[0].key) == ["pixels", [1]]  # as the sealed format says
    shown = json.loads(re.search(r"```json\n(.*?)```", readme, re.S).group(1))
    result = grade(bank, {"pixels": 1}, lang="vi")
    assert result.to_dict(student=shown["student"], timestamp=shown["timestamp"]) == shown
    assert grade(bank, {"even": [0, 1]}).total == 0.0  # partial credit: 1/2 - 1/1, floored
