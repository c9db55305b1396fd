"""Blind guessing (course_admin.quiz.blind): the cue detectors and the strategies on hand-made
banks, mutant banks that must fail, then the rule for the real banks: no strategy that reads only
the options (length, numbers, wording, similarity, position), picked or avoided, may score more
than 12 points from chance in a bank, or 5 points from chance over all banks pooled.
"""

from __future__ import annotations

import pytest

from course_admin.quiz.blind import (
    ABSOLUTE,
    BANK_MARGIN,
    BECAUSE,
    COLON_OPENER,
    HEDGED,
    NONE_START,
    POOLED_MARGIN,
    STRATEGIES,
    TWO_CLAUSE,
    BlindReport,
    Tally,
    avoid_choices,
    blind_report,
    expected_score,
    format_blind,
    has,
    key_count_choices,
    numeric_values,
    pooled,
    preferences,
    shared_opening,
    strategy_choices,
    top_choices,
    typicality,
    usual_key_counts,
    verdicts,
    words,
)
from course_utils.quiz import load_bank, quiz_dir
from course_utils.quiz.bank import LANGS
from course_utils.quiz.validate import parse_bank

BANKS = sorted(p.stem for p in quiz_dir().glob("*.yaml"))


def same(text: str) -> dict[str, str]:
    return {"en": text, "vi": text}


def question(qid, kind, text, options, answer, **extra) -> dict:
    options = [o if isinstance(o, dict) else same(o) for o in options]
    return {"id": qid, "type": kind, "text": same(text), "options": options, "answer": answer,
            "explanation": same("Because."), **extra}  # fmt: skip


def bank(name: str, rows: list[tuple[list, list[int]]]) -> object:
    """A bank of single-answer questions "Pick one." from (options, answer) rows."""
    qs = [question(f"q{i}", "single", "Pick one.", opts, ans) for i, (opts, ans) in enumerate(rows)]
    return parse_bank({"lesson": name, "title": same(name), "version": 1, "questions": qs},
                      f"{name}.yaml")  # fmt: skip


def rotate(items: list, r: int) -> list:
    return items[r:] + items[:r]


# Four options of four lengths that share no word: no length, wording or similarity cue when the
# key visits every length and every position equally often.
PLAIN = ["alpha", "bravo two", "delta three xx", "gamma four words here"]


def plain_bank(name: str, key_of: callable, n: int = 16) -> object:
    """Options PLAIN rotated by i // 4; the key is the option ``key_of(i)`` of PLAIN."""
    rows = []
    for i in range(n):
        opts = rotate(PLAIN, (i // 4) % 4)
        rows.append((opts, [opts.index(PLAIN[key_of(i)])]))
    return bank(name, rows)


# ---- detectors -----------------------------------------------------------------------------


def test_top_and_avoid_choices_break_ties_evenly():
    assert top_choices([5, 9, 9, 1], 1) == [(1,), (2,)]
    assert top_choices([5, 9, 9, 1], 2) == [(1, 2)]
    assert top_choices([3, 1, 3, 3], 2) == [(0, 2), (0, 3), (2, 3)]
    assert top_choices([1, 2], 2) == [(0, 1)]  # two options, two ticks: both
    assert avoid_choices([5, 9, 9, 1], 1) == [(0,), (3,)]  # never one of the tied top
    assert avoid_choices([5, 9, 1], 2) == [(0, 2)]
    assert avoid_choices([9, 9, 1], 2) == [(0, 2), (1, 2)]  # one left: it, plus a top one
    assert avoid_choices([4, 4, 4], 1) == [(0,), (1,), (2,)]  # no cue: chance
    # "the" is a function word (STOP), "KL" and "of" are shorter than 3 letters
    assert words("The KL term, $\\sigma^2$ of a VAE") == {"term", "sigma", "vae"}


@pytest.mark.parametrize(
    ("table", "lang", "text", "found"),
    [
        (ABSOLUTE, "en", "It always converges.", True),
        (ABSOLUTE, "en", "Only the encoder learns.", True),
        (ABSOLUTE, "en", "It usually converges.", False),
        (ABSOLUTE, "vi", "Nó luôn hội tụ.", True),
        (ABSOLUTE, "vi", "Không bao giờ dùng ReLU.", True),
        (ABSOLUTE, "vi", "Chỉ bộ mã hóa được học.", True),
        (ABSOLUTE, "vi", "Chỉ số PSNR tăng.", False),  # "chỉ số" is "index", not "only"
        (ABSOLUTE, "vi", "Hình vẽ chỉ ra rằng mã nhỏ.", False),
        (BECAUSE, "en", "It is smaller because it drops noise.", True),
        (BECAUSE, "en", "The code is small, so it keeps what matters.", True),
        (BECAUSE, "en", "Its so-called code is small.", False),
        (BECAUSE, "vi", "Vì mã nhỏ hơn đầu vào.", True),
        (BECAUSE, "vi", "Mã nhỏ, nên mạng giữ điều quan trọng.", True),
        (BECAUSE, "vi", "Thêm nhiễu để mạng học đặc trưng bền vững.", True),
        (BECAUSE, "vi", "Dùng MSE thay vì BCE.", False),  # "thay vì" is "instead of"
        (BECAUSE, "vi", "Bạn nên dùng MSE.", False),  # "nên" alone is "should"
        (BECAUSE, "vi", "Lớp này dùng để giảm số chiều.", False),  # describes, no justification
        (BECAUSE, "vi", "Hãy để ý dấu của KL.", False),  # "để ý" is "notice"
        (NONE_START, "en", "None of the weights change.", True),
        (NONE_START, "en", "Nothing: the loss is the same.", True),
        (NONE_START, "en", "The loss is not the same.", False),
        (NONE_START, "vi", "Không có trọng số nào thay đổi.", True),
        (NONE_START, "vi", "Mất mát không đổi.", False),
        (HEDGED, "en", "It may converge.", True),
        (HEDGED, "en", "It takes at least 10 epochs.", True),
        (HEDGED, "en", "The code need not be small.", True),
        (HEDGED, "en", "It is usually sharper.", True),
        (HEDGED, "en", "It cannot converge.", False),  # an absolute, not a hedge
        (HEDGED, "en", "It can't converge.", False),
        (HEDGED, "en", "The decoder maps codes to images.", False),
        (HEDGED, "vi", "Nó có thể hội tụ.", True),
        (HEDGED, "vi", "Cần khoảng 10 epoch.", True),
        (HEDGED, "vi", "Mã không nhất thiết phải nhỏ.", True),
        (HEDGED, "vi", "Ảnh thường nét hơn.", True),
        (HEDGED, "vi", "Nó không thể hội tụ.", False),
        (HEDGED, "vi", "Một autoencoder thông thường.", False),  # "thông thường": ordinary
        (HEDGED, "vi", "Mã rơi vào khoảng trống.", False),  # "khoảng trống": a gap
        (HEDGED, "vi", "Ảnh bất thường bị đánh dấu.", False),  # "bất thường": anomalous
        (HEDGED, "vi", "Bộ giải mã bình phương tối thiểu.", False),  # least squares
        (HEDGED, "vi", "Khoảng cách giữa hai mã.", False),  # "khoảng cách": a distance
        (TWO_CLAUSE, "en", "Noise moves images off; undoing it needs a map back.", True),
        (TWO_CLAUSE, "en", "Fewer false alarms, but more misses.", True),
        (TWO_CLAUSE, "en", "The code is small, so it keeps what matters.", True),
        (TWO_CLAUSE, "en", "Its mean turns positive, and its spread shrinks.", True),
        (TWO_CLAUSE, "en", "Fewer false alarms and more misses.", False),  # one clause
        (TWO_CLAUSE, "en", "Red, green and blue.", False),  # a list without a serial comma
        (TWO_CLAUSE, "en", "The adjoint, which autograd uses.", False),
        (TWO_CLAUSE, "vi", "Mã nhỏ, nên mạng giữ điều quan trọng.", True),
        (TWO_CLAUSE, "vi", "Ít báo động nhầm hơn, nhưng bỏ sót nhiều hơn.", True),
        (TWO_CLAUSE, "vi", "Trung bình dương, và độ phân tán co lại.", True),
        (TWO_CLAUSE, "vi", "Nhiễu đẩy ảnh ra; khử nhiễu cần biết đường về.", True),
        (TWO_CLAUSE, "vi", "Mã nhỏ và thưa.", False),
    ],
)
def test_cue_detectors(table, lang, text, found):
    assert has(table[lang], text) is found


@pytest.mark.parametrize(
    ("lang", "text", "found"),
    [
        ("en", "Nothing: the loss is the same.", True),
        ("en", "Yes, always: half the parameters.", True),
        ("en", "Not the same: it penalises more.", True),
        ("en", "`x.grad`: it stays None.", True),  # code counts as one word
        ("en", "It lies below the L1 curve: the KL penalty wins.", False),  # a sentence
        ("en", "Then $a: b \\to c$ holds.", False),  # a colon inside maths is no opener
        ("en", "A ratio 3:1 of the two.", False),
        ("vi", "Không cần gì thêm: seed là đủ.", True),  # four syllables
        ("vi", "Phép nghịch đảo của nó: thu lại đầu vào.", True),  # five
        ("vi", "Nó nằm dưới đường cong L1 của hình: KL thắng.", False),  # nine
    ],
)
def test_colon_opener_detector(lang, text, found):
    from course_admin.quiz.blind import MATH

    assert (COLON_OPENER[lang].search(MATH.sub("x", text)) is not None) is found


def test_shared_opening_marks_options_whose_first_three_words_another_shares():
    texts = ["The code is small.", "The code is big.", "THE CODE grows.", "A map.", "The code"]
    assert shared_opening(texts) == [1.0, 1.0, 0.0, 0.0, 0.0]  # "the code grows" differs
    report = blind_report(rotating_bank("shared", "the code is small",
                                        ["the code is big", "red map here", "blue map now"]),
                          "en")  # fmt: skip
    assert report.whole["shared-opening"].gap == pytest.approx(0.5 - 0.25)
    assert report.whole["avoid shared-opening"].gap == pytest.approx(0.0 - 0.25)
    fair = blind_report(rotating_bank("shared", "red map here",
                                      ["the code is big", "the code is small", "blue map now"]),
                        "en")  # fmt: skip
    assert fair.whole["shared-opening"].gap == pytest.approx(-0.25)


def test_numeric_values_only_for_options_that_differ_in_one_number():
    assert numeric_values(["0", "0.3", "1", "0.5"]) == [0.0, 0.3, 1.0, 0.5]
    assert numeric_values(["about 100 dB", "about 1000 dB", "about 10 dB"]) == [100, 1000, 10]
    assert numeric_values(["100 dB", "about 1000 dB"]) is None  # different words
    assert numeric_values(["(64, 7, 7)", "(64, 14, 14)"]) is None  # shapes: several numbers
    assert numeric_values(["MSE", "BCE"]) is None


def test_typical_option_is_the_one_every_other_differs_from_by_one_element():
    shapes = ["(64, 16, 7, 7)", "(64, 32, 7, 7)", "(64, 16, 14, 7)", "(64, 16, 7, 14)"]
    typical = typicality(shapes)
    assert max(range(4), key=typical.__getitem__) == 0
    assert len(set(typical)) > 1


# ---- strategies on hand-made banks ---------------------------------------------------------

# capital: the longest option is the key in English, not in Vietnamese; grey: the key 0.3 is
# the median of 0, 0.1, 0.3, 0.7, 1; change: a "None" option, wrong and the longest.
HAND = parse_bank({
    "lesson": "hand", "title": same("Hand-made"), "version": 1,
    "questions": [
        question("capital", "single", "Which city is the capital of France?",
                 ["Paris, the capital of France",
                  {"en": "Lyon", "vi": "Lyon, một thành phố lớn ở miền đông nam nước Pháp"},
                  "Nice"], [0]),
        question("grey", "single", "Which p minimises the loss at x = 0.3?",
                 ["0", "1", "0.1", "0.7", "0.3"], [4]),
        question("change", "single", "What changes?",
                 ["The weights", "The code", "None of them, whatever you do to it", "The bias"],
                 [1]),
        question("evens", "multiple", "Which numbers are even?", ["2", "3", "4", "5"], [0, 2]),
        question("primes", "multiple", "Which numbers are prime?", ["2", "3", "4", "5", "6"],
                 [0, 1, 3], partial_credit=True),
    ],
}, "hand.yaml")  # fmt: skip


def test_strategy_choices_on_the_hand_made_bank():
    capital, grey, change, evens, primes = HAND.questions
    en = strategy_choices(HAND, capital, "en")
    assert en["longest"] == [(0,)] and en["first"] == [(0,)] and en["overlap"] == [(0,)]
    assert en["avoid longest"] == [(1,), (2,)]
    assert strategy_choices(HAND, capital, "vi")["longest"] == [(1,)]
    assert en["shortest"] == [(1,), (2,)]  # "Lyon" and "Nice": a tie
    assert en["chance"] == [(0,), (1,), (2,)]
    g = strategy_choices(HAND, grey, "en")
    assert g["middle-value"] == [(4,)] and g["avoid middle-value"] == [(0,), (1,), (2,), (3,)]
    c = strategy_choices(HAND, change, "en")
    assert c["none"] == [(2,)] and c["avoid none"] == [(0,), (1,), (3,)]
    assert c["combination"] != [(2,)]  # the longest option is dropped first
    assert strategy_choices(HAND, capital, "en")["middle-value"] == en["chance"]  # not numeric
    e = strategy_choices(HAND, evens, "en")
    assert e["first"] == [(0, 1)] and e["shortest"] == e["chance"]  # one-letter options tie
    assert e["middle-value"] == [(1, 2)]  # 3 and 4 sit nearest the median 3.5
    assert e["avoid middle-value"] == [(0, 3)]
    assert len(strategy_choices(HAND, primes, "en")["chance"]) == 10  # every pair of 5


def test_expected_scores_use_the_grading_rule():
    capital, grey, change, evens, primes = HAND.questions
    assert expected_score(capital, [(0,), (1,)]) == 0.5
    assert expected_score(evens, [(0, 2)]) == 1.0
    assert expected_score(evens, [(0, 1)]) == 0.0  # all-or-nothing
    assert expected_score(primes, [(0, 1)]) == pytest.approx(2 / 3)  # partial credit
    assert expected_score(primes, [(0, 2)]) == 0.0  # 1/3 - 1/2, floored


def test_blind_report_on_the_hand_made_bank():
    en, vi = blind_report(HAND, "en"), blind_report(HAND, "vi")
    # chance: capital 1/3, grey 1/5, change 1/4, evens 1/6 (one pair of six), primes: the mean
    # over the 10 pairs of max(0, hits/3 - misses/2) = (3 pairs of two primes x 2/3) / 10
    primes_chance = 3 * (2 / 3) / 10
    assert en.chance == pytest.approx((1 / 3 + 1 / 5 + 1 / 4 + 1 / 6 + primes_chance) / 5)
    assert en.n_questions == 5 and en.lang == "en"
    # middle-value cues grey (the key 0.3 is the median: 1), evens (ticks 3 and 4: 0) and
    # primes (ticks 4 and one of 3, 5: partial credit, preferences_score_primes)
    cue = en.cue["middle-value"]
    assert cue.n == 3
    assert cue.score == pytest.approx(1 + 0 + preferences_score_primes())
    assert en.whole["longest"].score == pytest.approx(
        1 + expected_score(HAND.questions[1], strategy_choices(HAND, HAND.questions[1], "en")
                           ["longest"]) + 0 + 1 / 6 + primes_chance)  # fmt: skip
    assert en.cue["none"].n == 1 and en.cue["none"].score == 0.0
    assert en.cue["avoid none"].score == pytest.approx(1 / 3)
    assert vi.whole["longest"].score < en.whole["longest"].score  # vi: "Lyon ..." is longest


def preferences_score_primes() -> float:
    primes = HAND.questions[4]
    choices = strategy_choices(HAND, primes, "en")["middle-value"]
    assert preferences(HAND, primes, "en")["middle-value"] == [-2, -1, 0, -1, -2]
    assert choices == [(1, 2), (2, 3)]  # 4, then 3 or 5
    return (expected_score(primes, [(1, 2)]) + expected_score(primes, [(2, 3)])) / 2


def test_a_fair_bank_sits_at_chance_in_both_directions():
    fair = plain_bank("fair", lambda i: i % 4)
    report = blind_report(fair, "en")
    assert report.chance == pytest.approx(0.25)
    for key, tally in report.whole.items():
        assert tally.rate == pytest.approx(0.25), key
    assert not report.beats_chance and verdicts([report]) == [], format_blind([report])


@pytest.mark.parametrize(
    ("name", "key_of", "caught"),
    [
        ("longest-key", lambda i: 3, "longest"),  # the mutant of the issue
        ("never-longest", lambda i: i % 3, "longest"),  # "never the longest" is a cue too
        ("terse-key", lambda i: 0, "shortest"),
        ("middle-key", lambda i: 1 + i % 2, "middle-length"),
    ],
)
def test_length_mutants_fail(name, key_of, caught):
    mutant = plain_bank(name, key_of)
    report = blind_report(mutant, "en")
    bad = dict(report.failures(BANK_MARGIN))
    assert caught in bad, format_blind([report])
    assert any(caught in v for v in verdicts([report]))
    # never keyed: avoiding it gains 1/3 - 1/4 = +8 points (caught pooled), picking it -25
    assert "FAIL" in format_blind([report])


def wording_bank(name: str, cue_text: str, cue_keyed: bool, lang: str = "en") -> object:
    """16 questions; one option in each carries ``cue_text``; the key rotates over the
    positions and is the cued option only when ``cue_keyed``."""
    rows = []
    for i in range(16):
        opts = [f"plain option {w}" for w in ("red", "green", "blue", "pink")]
        opts[(i + 1) % 4] = cue_text
        key = (i + 1) % 4 if cue_keyed else i % 4
        rows.append(([{"en": o, "vi": o} for o in opts], [key]))
    return bank(name, rows)


@pytest.mark.parametrize(
    ("cue_text", "lang", "caught"),
    [
        ("None of them moves", "en", "none"),
        ("Không có gì thay đổi", "vi", "none"),
        ("It works because it is small", "en", "because"),
        ("Mã nhỏ, nên nó giữ điều quan trọng", "vi", "because"),
        ("It always works the same", "en", "absolute"),
        ("Nó luôn cho cùng kết quả", "vi", "absolute"),
        ("It may work the same", "en", "hedged"),
        ("Nó có thể cho cùng kết quả", "vi", "hedged"),
        ("It may work the same", "en", "qualifier"),
        ("Nó gần như cho cùng kết quả", "vi", "qualifier"),
        ("plain option (orange)", "en", "parenthesis"),
        ("tùy chọn đa tạp (manifold)", "vi", "gloss"),
        ("plain option 7", "en", "digits"),
        ("tùy chọn số 7", "vi", "digits"),
        ("It works, but it is slow", "en", "two-clause"),
        ("Nó chạy được, nhưng chậm", "vi", "two-clause"),
        ("Plainly: it stays", "en", "colon-opener"),
        ("Rõ ràng là vậy: nó đứng yên", "vi", "colon-opener"),
        ("It works; it is slow", "en", "separator"),
        ("It works - slowly", "en", "separator"),
        ("Nó chạy được; nhưng chậm", "vi", "separator"),
        ("Nó chạy được — chậm", "vi", "separator"),
    ],
)
@pytest.mark.parametrize("cue_keyed", [False, True])
def test_wording_mutants_fail_in_both_directions(cue_text, lang, caught, cue_keyed):
    mutant = wording_bank("wording", cue_text, cue_keyed)
    report = blind_report(mutant, lang)
    bad = dict(report.failures(BANK_MARGIN))
    assert caught in bad, format_blind([report])
    assert (bad[caught] > 0) is cue_keyed  # always keyed: picking wins; never: avoiding wins
    avoid = report.whole[f"avoid {caught}"].gap
    assert avoid == pytest.approx(-0.25 if cue_keyed else 1 / 3 - 1 / 4)
    assert (f"avoid {caught}" in dict(report.failures(POOLED_MARGIN))) is True


def rotating_bank(name: str, key: object, others: list, text: str = "Pick one.") -> object:
    """16 questions "text" with the options ``key`` and ``others`` (str or {en, vi}); the key
    visits every position equally often."""
    qs = []
    for i in range(16):
        opts = rotate([key, *others], i % 4)
        qs.append(question(f"q{i}", "single", text, opts, [opts.index(key)]))
    return parse_bank({"lesson": name, "title": same(name), "version": 1, "questions": qs},
                      f"{name}.yaml")  # fmt: skip


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(
    ("caught", "key", "others", "text"),
    [
        # the key is the most typical of four, and the longest: "combination" drops it first,
        # "kept-typical" keeps it
        (
            "kept-typical",
            "red code small x",
            ["red code big", "blue code small", "green map"],
            "Pick one.",
        ),
        # most words, but not the most letters
        (
            "most-words",
            "a b c d e f",
            ["extraordinarily", "notwithstanding it", "incomprehensibilities"],
            "Pick one.",
        ),
        # the key repeats the question's words
        (
            "echo-ratio",
            "sky colour noon",
            ["turquoise overhead", "bright lamp up", "rain drop"],
            "Which colour is the sky at noon?",
        ),
        # the key's Vietnamese elaborates its English (in both languages: a bilingual learner)
        (
            "expansion",
            {"en": "blue", "vi": "màu xanh da trời lúc giữa trưa"},
            [{"en": "red", "vi": "đỏ"}, {"en": "green", "vi": "lục"}, {"en": "grey", "vi": "xám"}],
            "Pick one.",
        ),
    ],
)
def test_more_cue_mutants_fail(caught, key, others, text, lang):
    """A bank where the cue always points at the key fails on that strategy (picked: +75 points),
    and is caught by the avoid direction as a loss (never ticking the key)."""
    report = blind_report(rotating_bank(caught, key, others, text), lang)
    bad = dict(report.failures(BANK_MARGIN))
    assert bad.get(caught) == pytest.approx(0.75), format_blind([report])
    assert bad.get(f"avoid {caught}") == pytest.approx(-0.25)


def test_new_strategies_read_the_options_as_documented():
    q = question("q", "single", "What is the sky?",
                 [{"en": "The sky (overhead) is blue", "vi": "Bầu trời (phía trên) màu xanh lam"},
                  {"en": "It may be grey", "vi": "Nó có thể xám"},
                  {"en": "$f(x)$ at 3 pm", "vi": "$f(x)$ lúc 3 giờ chiều"},
                  {"en": "Always black", "vi": "Luôn đen"}], [0])  # fmt: skip
    b = parse_bank({"lesson": "x", "title": same("x"), "version": 1, "questions": [q]}, "x.yaml")
    en = preferences(b, b.questions[0], "en")
    assert en["hedged"] == [0, 1, 0, 0]
    assert en["parenthesis"] == [1, 0, 1, 0]
    assert en["gloss"] == [1, 0, 0, 0]  # "(x)" inside maths is no gloss
    assert en["digits"] == [0, 0, 1, 0]
    assert en["most-words"] == [5, 4, 5, 2]  # maths counts: f, x, at, 3, pm
    # the qualifier rule: no absolute (+8), hedged (+4), parenthesis outside maths (+2), digit
    assert en["qualifier"] == [8 + 2, 8 + 4, 8 + 1, 0]
    # "sky" of sky, overhead, blue ("the" and "what" are function words, left out)
    assert en["echo-ratio"][0] == pytest.approx(1 / 3)
    assert preferences(b, b.questions[0], "vi")["expansion"] == en["expansion"]


def numeric_bank(name: str, key_rank: callable) -> object:
    rows = []
    for i in range(16):
        values = [1, 2, 4, 8]
        opts = rotate([str(v * (i + 1)) for v in values], (i // 4) % 4)
        key_value = str(values[key_rank(i)] * (i + 1))
        rows.append((opts, [opts.index(key_value)]))
    return bank(name, rows)


def test_middle_value_mutant_fails_and_the_fair_numeric_bank_does_not():
    fair = blind_report(numeric_bank("spread", lambda i: i % 4), "en")
    assert fair.cue["middle-value"].n == 16
    assert fair.cue["middle-value"].gap == pytest.approx(0.0)
    assert not fair.failures(POOLED_MARGIN, on="cue")
    mutant = blind_report(numeric_bank("middle", lambda i: 1 + i % 2), "en")
    assert mutant.cue["middle-value"].gap == pytest.approx(0.25)
    assert dict(mutant.failures(BANK_MARGIN))["middle-value"] == pytest.approx(0.25)


def multi_bank(name: str, keys: list[list[int]], n: int = 5) -> object:
    """Multiple-answer questions over PLAIN-like options, all-or-nothing, with the given keys."""
    opts = ["alpha", "bravo two", "delta three xx", "gamma four words", "echo five six seven"][:n]
    qs = [question(f"m{i}", "multiple", "Pick some.", rotate(opts, i % n), key)
          for i, key in enumerate(keys)]  # fmt: skip
    return parse_bank({"lesson": name, "title": same(name), "version": 1, "questions": qs},
                      f"{name}.yaml")  # fmt: skip


def test_key_count_reads_the_usual_number_of_right_options():
    two = multi_bank("two", [[0, 1], [1, 2], [2, 3], [0, 4]])
    assert usual_key_counts(two) == {2}
    pick, avoid = key_count_choices(two, two.questions[0])
    assert [len(g[0]) for g in pick] == [2] and [len(g[0]) for g in avoid] == [1, 3, 4]
    mixed = multi_bank("mixed", [[0], [1, 2], [0, 1, 2], [0, 1, 2, 3]])
    assert usual_key_counts(mixed) == {1, 2, 3, 4}
    pick, avoid = key_count_choices(mixed, mixed.questions[0])
    assert avoid == pick and [len(g[0]) for g in pick] == [1, 2, 3, 4]  # no other count left
    assert key_count_choices(HAND, HAND.questions[0]) == ([[(0,), (1,), (2,)]],) * 2  # single
    assert preferences(HAND, HAND.questions[0], "en")["key-count"] == [0.0] * 3  # not cued


def test_key_count_mutant_fails_and_varied_counts_do_not():
    """Every multiple-answer key of size two: chance (a random pair) already plays the count,
    and ticking any other number of boxes always scores 0, a cue in the avoid direction."""
    two = blind_report(multi_bank("two", [[i % 4, (i + 1) % 4] for i in range(16)], n=4), "en")
    assert two.whole["key-count"].gap == pytest.approx(0.0)
    assert two.whole["avoid key-count"].rate == 0.0  # chance: one pair of six, 1/6
    assert dict(two.failures(BANK_MARGIN))["avoid key-count"] == pytest.approx(-1 / 6)
    assert "pooled [en] avoid key-count: -16.7% vs chance on 16 cued questions" in verdicts([two])
    sizes = [1, 2, 3, 4] * 4
    varied = blind_report(multi_bank("varied", [list(range(k)) for k in sizes]), "en")
    assert abs(varied.whole["avoid key-count"].gap) < BANK_MARGIN
    assert abs(varied.whole["key-count"].gap) < BANK_MARGIN


def test_pooling_sums_the_questions_and_catches_what_banks_hide():
    """A cue spread thinly (+8 points in each of three banks, under the 12-point bank bound)
    still fails the pooled 5-point rule."""
    fair = blind_report(plain_bank("fair", lambda i: i % 4), "en")
    assert fair.whole["longest"] == Tally(16, 4.0, 4.0)
    # key on the longest in 6 of 16 questions instead of 4: +12.5 points
    leaning = [blind_report(plain_bank(f"lean{j}", lambda i: 3 if i % 8 < 3 else i % 3), "en")
               for j in range(3)]  # fmt: skip
    pool = pooled(leaning + [fair], "en")
    assert pool.n_questions == 64 and pool.whole["longest"].n == 64
    assert pool.cue["longest"].gap == pytest.approx(
        sum(r.whole["longest"].score for r in leaning + [fair]) / 64 - 0.25
    )
    assert any(v.startswith("pooled [en] longest") for v in verdicts(leaning + [fair]))


def test_every_strategy_counts_in_the_verdict():
    """failures() looks at every strategy and direction, so the bank tests below cover each."""
    assert {"longest", "shortest", "middle-length", "middle-value", "absolute", "because",
            "none", "combination", "typical"} <= set(STRATEGIES)  # fmt: skip
    for name in STRATEGIES:
        for key in (name, f"avoid {name}"):
            whole = {k: Tally(4, 1.0, 1.0) for k in HAND_KEYS} | {key: Tally(4, 1.6, 1.0)}
            report = BlindReport("x", "en", 4, 0.25, whole, whole)
            assert report.beats_chance and report.failures(BANK_MARGIN) == [
                (key, pytest.approx(0.15))
            ]
            assert name[:12] in format_blind([report]).splitlines()[0]


HAND_KEYS = [k for s in STRATEGIES for k in (s, f"avoid {s}")]


# ---- the real banks ------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("lesson", BANKS)
def test_blind_guessing_stays_near_chance_in_each_bank(lesson, lang):
    """Each strategy, picked or avoided, within BANK_MARGIN of chance over the bank."""
    report = blind_report(load_bank(lesson), lang)
    assert not report.failures(BANK_MARGIN), "\n" + format_blind([report])


@pytest.mark.parametrize("lang", LANGS)
def test_blind_guessing_stays_near_chance_over_all_banks(lang):
    """Each strategy, picked or avoided, within POOLED_MARGIN of chance over the questions it
    cues in all banks together."""
    reports = [blind_report(load_bank(lesson), lang) for lesson in BANKS]
    pool = pooled(reports, lang)
    assert not pool.failures(POOLED_MARGIN, on="cue"), (
        "\n" + format_blind(reports) + "\n" + (format_blind([pool], on="cue"))
    )


def test_separator_ignores_multiple_answer_questions_and_maths():
    """separator cues single-answer questions only, and never a dash or ";" inside $...$ or code."""
    opts = [{"en": t, "vi": t} for t in ("a; b", "c - d", "e", "f")]
    multi = parse_bank(
        {"lesson": "multi", "title": same("multi"), "version": 1,
         "questions": [question("q0", "multiple", "Pick all.", opts, [0, 2])]},
        "multi.yaml",
    )  # fmt: skip
    q = multi.questions[0]
    assert preferences(multi, q, "en")["separator"] == [0.0] * 4
    single = bank("single", [([{"en": t, "vi": t} for t in ("$a - b$", "`x;y`", "c", "d")], [0])])
    q = single.questions[0]
    assert preferences(single, q, "en")["separator"] == [0.0] * 4
