"""The real question banks (quizzes/*.yaml), the glossary, and the notebooks' last cells.

Numeric questions carry a ``check`` that is recomputed here with course_utils and PyTorch, and
the option that grades as correct must state the recomputed number: a bank cannot state a
wrong number.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import nbformat
import pytest
import torch
import yaml
from torch import nn

from course_utils import losses
from course_utils.quiz import grade, load_bank, quiz_dir, render_text
from course_utils.quiz.bank import decode
from course_utils.quiz.validate import parse_bank

REPO = Path(__file__).resolve().parents[1]
LESSONS = [
    "00_setup_and_tour",
    "01_linear_autoencoder_and_pca",
    "02_stacked_autoencoders",
    "03_convolutional_autoencoders",
    "04_denoising_autoencoders",
    "05_sparse_autoencoders",
    "06_variational_autoencoders",
    "07_beyond_the_vanilla_vae",
]
# Misconceptions of SYLLABUS.md and the question whose wrong options ARE that misconception.
MISCONCEPTIONS = {
    "06_variational_autoencoders": {
        "z is one sample, not the distribution": "z-is-a-sample",
        "z entries are not class probabilities; latent size is not #classes": (
            "z-not-class-probabilities"
        ),
        "shapes (3, 10) for mu, logvar and z": "shapes",
        "mu and sigma are activations, not parameters": "mu-sigma-are-activations",
        "why log-variance": "why-logvar",
        "blurry outputs": "blurry",
        "posterior collapse and KL warm-up": "posterior-collapse",
        "KL with sigma^2, not sigma": "kl-formula",
        "mean vs sum mixed between loss terms": "mean-vs-sum",
        "unexplained *1000 weight": "unexplained-1000",
        "a plain AE is not generative": "plain-ae-not-generative",
    },
    "04_denoising_autoencoders": {"denoising evaluated on clean input": "test-on-noisy"},
    "02_stacked_autoencoders": {"epoch summary outside the epoch loop": "epoch-summary"},
    "01_linear_autoencoder_and_pca": {
        "linear AE finds the PCA subspace, not the basis": "pca-subspace-not-basis",
        "loss per image vs MSE per pixel": "mse-units",
    },
}


@pytest.fixture(params=LESSONS)
def lesson(request):
    return request.param


def test_every_lesson_has_a_bank_and_nothing_else():
    assert quiz_dir() == REPO / "quizzes"
    assert sorted(p.stem for p in quiz_dir().glob("*.yaml")) == LESSONS


def test_bank_loads_is_sealed_and_well_formed(lesson):
    bank = load_bank(lesson)  # validates everything; raises QuizBankError otherwise
    raw = yaml.safe_load((quiz_dir() / f"{lesson}.yaml").read_text(encoding="utf-8"))
    assert raw["sealed"] is True and raw["lesson"] == lesson
    assert len(bank.questions) >= (4 if lesson.startswith("00") else 8)
    kinds = {q.type for q in bank.questions}
    assert kinds == {"single", "multiple"}, f"{lesson} mixes only {kinds}"
    for q in bank.questions:
        assert q.text["en"] != q.text["vi"], f"{lesson}/{q.id}: text not translated"
        explanation = decode(q.explanation)
        assert explanation["en"] != explanation["vi"], f"{lesson}/{q.id}: explanation"
        assert len(explanation["en"].split()) >= 12, f"{lesson}/{q.id}: explanation too thin"
        assert 3 <= len(q.options) <= 5, f"{lesson}/{q.id}: {len(q.options)} options"


def correct_options(bank, q) -> list[int]:
    """Find the right option(s) the way a student would: by grading every choice."""
    choices = [[i] for i in range(len(q.options))]
    if q.type == "multiple":
        n = len(q.options)
        choices = [[i for i in range(n) if bits >> i & 1] for bits in range(1, 1 << n)]
    for chosen in choices:
        result = {r.id: r for r in grade(bank, {q.id: chosen}).questions}[q.id]
        if result.correct:
            return chosen
    return []


def test_answers_are_spread_over_the_options(lesson):
    """No pattern to guess from: the right option is not always in the same place."""
    bank = load_bank(lesson)
    singles = [correct_options(bank, q)[0] for q in bank.questions if q.type == "single"]
    top = max(singles.count(i) for i in set(singles))
    assert top <= len(singles) / 2, f"{lesson}: answer positions {singles}"
    assert len(set(singles)) >= 3, f"{lesson}: answer positions {singles}"


def test_bank_file_does_not_show_the_answers(lesson):
    text = (quiz_dir() / f"{lesson}.yaml").read_text(encoding="utf-8")
    assert not re.search(r"^\s*-?\s*(answer|correct|is_correct|solution)\s*:", text, re.M)
    bank = load_bank(lesson)
    for q in bank.questions:
        secrets = list(decode(q.explanation).values())
        for note in (decode(q.feedback) if q.feedback else {}).values():
            secrets += note.values()
        for secret in secrets:
            for chunk in (secret[:40], yaml.safe_dump(secret[:40], allow_unicode=True)[:30]):
                assert chunk not in text, f"{lesson}/{q.id}: {chunk!r} readable in the bank"


def test_text_form_contains_every_question_and_option(lesson):
    bank = load_bank(lesson)
    for lang in ("en", "vi"):
        text = " ".join(render_text(bank, lang).split())
        for q in bank.questions:
            assert " ".join(q.text[lang].split()) in text
            for option in q.options:
                assert " ".join(option[lang].split()) in text


def test_lesson_misconceptions_have_questions():
    for lesson, wanted in MISCONCEPTIONS.items():
        ids = {q.id for q in load_bank(lesson).questions}
        for misconception, qid in wanted.items():
            assert qid in ids, f"{lesson}: no question '{qid}' for: {misconception}"


# ---- numeric checks -----------------------------------------------------------------------


def build(spec: list) -> nn.Module:
    """["Conv2d", 1, 16, 3, {"stride": 2}] -> nn.Conv2d(1, 16, 3, stride=2)."""
    name, *args = spec
    kwargs = args.pop() if args and isinstance(args[-1], dict) else {}
    return getattr(nn, name)(*args, **kwargs)


def pca_error(eigenvalues: list[float], k: int) -> float:
    """Make data whose (1/N) covariance has these eigenvalues, run PCA by SVD, measure it."""
    g = torch.Generator().manual_seed(0)
    d, n = len(eigenvalues), 500
    z = torch.randn(n, d, generator=g, dtype=torch.float64)
    z -= z.mean(0)
    z = z @ torch.linalg.inv(torch.linalg.cholesky(z.T @ z / n)).T  # covariance exactly I
    q, _ = torch.linalg.qr(torch.randn(d, d, generator=g, dtype=torch.float64))
    x = z @ torch.diag(torch.tensor(eigenvalues, dtype=torch.float64).sqrt()) @ q.T
    _, _, vt = torch.linalg.svd(x - x.mean(0), full_matrices=False)
    top = vt[:k].T  # (d, k) principal directions
    residual = x - x @ top @ top.T
    error = residual.pow(2).sum(1).mean().item()
    assert error == pytest.approx(sum(sorted(eigenvalues)[: d - k]))  # the course's claim
    return error


def tied_param_count(sizes: list[int]) -> int:
    """A tied autoencoder: encoder Linears; the decoder reuses their weights transposed."""

    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = nn.ModuleList(
                nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True)
            )
            self.dec_bias = nn.ParameterList(nn.Parameter(torch.zeros(a)) for a in sizes[-2::-1])

        def forward(self, x):
            for layer in self.enc:
                x = torch.relu(layer(x))
            for layer, bias in zip(reversed(self.enc), self.dec_bias, strict=True):
                x = torch.relu(nn.functional.linear(x, layer.weight.T, bias))
            return x

    model = Tied()
    assert model(torch.zeros(2, sizes[0])).shape == (2, sizes[0])  # the tied decoder works
    return sum(p.numel() for p in model.parameters())


def quiz_score(n_options, right_options, ticked, partial_credit) -> float:
    """The score the engine gives when ``ticked`` is chosen and ``right_options`` are right."""
    draft = {
        "lesson": "synthetic", "title": {"en": "t", "vi": "t"}, "version": 1,
        "questions": [{
            "id": "q", "type": "multiple", "partial_credit": partial_credit,
            "text": {"en": "q", "vi": "q"}, "answer": right_options,
            "options": [{"en": str(i), "vi": str(i)} for i in range(n_options)],
            "explanation": {"en": "e", "vi": "e"},
        }],
    }  # fmt: skip
    return grade(parse_bank(draft), {"q": ticked}).total


def bce_minimiser(x: float) -> float:
    p = torch.linspace(0.001, 0.999, 999, dtype=torch.float64)
    target = torch.tensor([[x]], dtype=torch.float64)
    loss = [losses.mean_bce_per_image(torch.logit(pi).reshape(1, 1), target).item() for pi in p]
    best = min(range(len(p)), key=loss.__getitem__)
    assert loss[best] > 0  # the minimum of BCE at a grey target is not 0
    return p[best].item()


def mse_per_image(per_pixel: float, pixels: int) -> float:
    x = torch.zeros(2, pixels, dtype=torch.float64)
    x_hat = torch.full_like(x, math.sqrt(per_pixel))
    assert losses.mse_per_pixel(x_hat, x).item() == pytest.approx(per_pixel)
    return losses.mean_sse_per_image(x_hat, x).item()


def gaussian_kl_per_image(mu: list[float], logvar: list[float]) -> float:
    mu_t, lv_t = torch.tensor([mu]), torch.tensor([logvar])
    kl = losses.gaussian_kl_per_image(mu_t, lv_t).item()
    q = torch.distributions.Normal(mu_t, (0.5 * lv_t).exp())
    p = torch.distributions.Normal(torch.zeros_like(mu_t), torch.ones_like(mu_t))
    assert kl == pytest.approx(torch.distributions.kl_divergence(q, p).sum().item(), rel=1e-5)
    return kl


def vae_shapes(batch: int, n_inputs: int, latent: int) -> list[tuple]:
    x = torch.rand(batch, n_inputs)
    mu, logvar = nn.Linear(n_inputs, latent)(x), nn.Linear(n_inputs, latent)(x)
    z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
    return [tuple(mu.shape), tuple(logvar.shape), tuple(z.shape)]


def decoder_variance(weight: float) -> float:
    """sigma^2 such that the Gaussian NLL equals weight * SSE up to a constant."""
    var = 1 / (2 * weight)
    x, a, b = torch.rand(3, 10, dtype=torch.float64)
    nll = lambda mean: -torch.distributions.Normal(mean, math.sqrt(var)).log_prob(x).sum()  # noqa: E731
    sse = lambda mean: (x - mean).pow(2).sum()  # noqa: E731
    assert (nll(a) - nll(b)).item() == pytest.approx(weight * (sse(a) - sse(b)).item())
    return var


def bernoulli_kl(p: float, q: float) -> float:
    pt, qt = torch.tensor(p, dtype=torch.float64), torch.tensor(q, dtype=torch.float64)
    kl = (pt * (pt / qt).log() + (1 - pt) * ((1 - pt) / (1 - qt)).log()).item()
    bern = torch.distributions.Bernoulli
    assert kl == pytest.approx(torch.distributions.kl_divergence(bern(pt), bern(qt)).item())
    return kl


def jacobian_frobenius_sq(W: list, b: list, x: list) -> float:
    w_t, b_t = torch.tensor(W, dtype=torch.float64), torch.tensor(b, dtype=torch.float64)
    jac = torch.autograd.functional.jacobian(
        lambda v: torch.sigmoid(w_t @ v + b_t), torch.tensor(x, dtype=torch.float64)
    )
    return jac.pow(2).sum().item()


def psnr(mse: float, max_value: float) -> float:
    return (10 * torch.log10(torch.tensor(max_value**2 / mse, dtype=torch.float64))).item()


def tweedie_denoiser(noisy: float, sigma: float, score: float) -> float:
    """Tweedie's step x~ + sigma^2 * score, checked first where the posterior mean is known in
    closed form: clean x ~ N(m, s^2), x~ = x + sigma * eps gives E[x | x~] by Bayes, and the score
    of the noised density N(m, s^2 + sigma^2) by autograd."""
    m, s = 0.2, 0.4
    x_noisy = torch.linspace(-1, 1, 9, dtype=torch.float64, requires_grad=True)
    var = s**2 + sigma**2
    log_p = torch.distributions.Normal(m, math.sqrt(var)).log_prob(x_noisy).sum()
    (grad,) = torch.autograd.grad(log_p, x_noisy)
    bayes = (s**2 * x_noisy.detach() + sigma**2 * m) / var  # posterior mean of a Gaussian prior
    assert torch.allclose(x_noisy.detach() + sigma**2 * grad, bayes)
    return noisy + sigma**2 * score


def onehot_kl_to_uniform(slots: int, codes: int) -> float:
    """KL of a posterior that puts all its mass on one code, against a uniform prior over
    ``codes`` codes, summed over ``slots`` independent slots (torch's categorical KL)."""
    one_hot = torch.distributions.Categorical(probs=torch.eye(codes, dtype=torch.float64)[0])
    flat = torch.full((codes,), 1 / codes, dtype=torch.float64)
    uniform = torch.distributions.Categorical(probs=flat)
    return slots * torch.distributions.kl_divergence(one_hot, uniform).item()


def grad_after_backward_calls(calls: int) -> float:
    """How many times one call's gradient ``.grad`` holds after ``calls`` ``backward()`` calls on
    the same loss, with no ``zero_grad()`` in between (autograd adds to ``.grad``)."""
    x = torch.tensor([1.0, 2.0, 3.0])
    w = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
    for _ in range(calls):
        ((x * w).sum() ** 2).backward()
    one_call = 2 * (x * w).sum().detach() * x  # d/dw (x . w)^2, by hand
    return (w.grad.norm() / one_call.norm()).item()


CHECKS = {
    "quiz_score": quiz_score,
    "grad_after_backward_calls": grad_after_backward_calls,
    "bce_minimiser": bce_minimiser,
    "pca_error": pca_error,
    "param_count": lambda layers: sum(p.numel() for s in layers for p in build(s).parameters()),
    "tied_param_count": tied_param_count,
    "mse_per_image": mse_per_image,
    "sigmoid": lambda x: torch.sigmoid(torch.tensor(x)).item(),
    "output_shape": lambda input, layers: [
        tuple(nn.Sequential(*map(build, layers))(torch.zeros(input)).shape)
    ],
    "code_size": lambda input, layers: (
        nn.Sequential(*map(build, layers))(torch.zeros(input)).flatten(1).shape[1]
    ),
    "psnr": psnr,
    "psnr_gain": lambda mse_before, mse_after: psnr(mse_after, 1.0) - psnr(mse_before, 1.0),
    "tweedie_denoiser": tweedie_denoiser,
    "bernoulli_kl": bernoulli_kl,
    "jacobian_frobenius_sq": jacobian_frobenius_sq,
    "vae_shapes": vae_shapes,
    "sigma_from_logvar": lambda logvar: torch.exp(0.5 * torch.tensor(logvar)).item(),
    "gaussian_kl_per_image": gaussian_kl_per_image,
    "decoder_variance": decoder_variance,
    "beta_vae_loss": lambda recon, kl, beta: recon + beta * kl,
    "onehot_kl_to_uniform": onehot_kl_to_uniform,
    "softmax": lambda logits, tau, index: torch.softmax(torch.tensor(logits) / tau, 0)[
        index
    ].item(),
    "numel_ratio": lambda a, b: torch.zeros(a).numel() / torch.zeros(b).numel(),
    "wrong_pairs_removed": lambda before, after: 1 - (1 - after) / (1 - before),
    "perplexity": lambda counts: math.exp(
        torch.distributions.Categorical(probs=torch.tensor(counts, dtype=torch.float64))
        .entropy()
        .item()
    ),
    "tensor_mb": lambda shape, dtype: (
        torch.empty(0, dtype=getattr(torch, dtype)).element_size() * math.prod(shape) / 1e6
    ),
}
NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def states(text: str, value: float) -> bool:
    """True when ``text`` contains ``value`` written correctly rounded (and within 1%)."""
    for token in NUMBER.findall(text):
        decimals = len(token.split(".")[1]) if "." in token else 0
        gap = abs(float(token) - value)
        if gap <= 0.5 * 10**-decimals + 1e-9 and gap <= 0.01 * abs(value) + 1e-9:
            return True
    return False


NUMERIC_OPTION = re.compile(r"[-\d.,() ]+( dB)?")


def numeric_cases():
    for lesson in LESSONS:
        for q in load_bank(lesson).questions:
            if q.check is not None:
                yield pytest.param(lesson, q.id, id=f"{lesson[:2]}-{q.id}")


@pytest.mark.parametrize("lesson, qid", list(numeric_cases()))
def test_numeric_answer_is_recomputed(lesson, qid):
    bank = load_bank(lesson)
    q = next(q for q in bank.questions if q.id == qid)
    assert q.type == "single", "numeric questions are single-answer"
    assert q.check["fn"] in CHECKS, f"unknown check {q.check['fn']}; known: {sorted(CHECKS)}"
    value = CHECKS[q.check["fn"]](**q.check.get("args", {}))
    (right,) = correct_options(bank, q)
    for lang in ("en", "vi"):
        text = q.options[right][lang]
        if isinstance(value, list):  # shapes: the option must show each of them
            for shape in set(value):
                assert text.count(str(shape)) >= value.count(shape), (lang, text, value)
            continue
        assert states(text, value), f"{lesson}/{qid}: option {text!r} does not state {value:.6g}"
        for i, option in enumerate(q.options):
            if i != right:
                assert not states(option[lang], value), f"{qid}: option {i} states it too"


def test_every_numeric_question_has_a_check():
    for lesson in LESSONS:
        for q in load_bank(lesson).questions:
            if all(NUMERIC_OPTION.fullmatch(o["en"].strip()) for o in q.options):
                assert q.check is not None, f"{lesson}/{q.id}: numeric options need a check"
    assert len(list(numeric_cases())) >= 20


def test_number_matching_is_strict():
    assert states("about 0.094", 0.0939430)
    assert not states("0.09", 0.0939430)  # 0.09 is not 0.0939 correctly rounded
    assert not states("1", 0.7311)  # an integer is not "close enough" to 0.73
    assert states("(0.5, 0.73)", 0.7311)
    assert not states("-1.75", 1.75) and states("1568, more than 784", 1568)


# ---- glossary and notebooks ---------------------------------------------------------------


def test_glossary_rows_are_complete():
    text = (REPO / "quizzes" / "GLOSSARY.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    header, *terms = rows
    assert [c.strip() for c in header.strip("|").split("|")] == [
        "English", "Tiếng Việt", "Definition", "Định nghĩa", "Lesson"
    ]  # fmt: skip
    assert len(terms) >= 40
    seen_lessons = set()
    for row in terms:
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        assert len(cells) == 5 and all(cells), row
        assert re.fullmatch(r"0[0-7]", cells[4]), row
        seen_lessons.add(cells[4])
    assert seen_lessons == {f"0{i}" for i in range(8)}
    english = [row.split("|")[1].strip().lower() for row in terms]
    assert len(english) == len(set(english)), "a term appears twice"


def test_every_notebook_has_a_bank_and_ends_with_its_quiz():
    """Every lesson's LAST CODE cell calls show_quiz("<its stem>").

    Markdown may follow it (the link to the exercise and the next lesson), as the syllabus asks.
    """
    problems = []
    notebooks = sorted((REPO / "notebooks").glob("*.ipynb"))
    for path in [p for p in notebooks if not p.stem.endswith("_lab")]:  # labs: next test
        if not (quiz_dir() / f"{path.stem}.yaml").is_file():
            problems.append(f"{path.name}: no bank quizzes/{path.stem}.yaml")
            continue
        cells = nbformat.read(path, as_version=4).cells
        code = [c for c in cells if c.cell_type == "code" and c.source.strip()]
        last = code[-1] if code else None
        call = re.compile(rf"""^show_quiz\(\s*["']{re.escape(path.stem)}["']\s*\)\s*$""", re.M)
        if last is None or not call.search(last.source):
            problems.append(f'{path.name}: the last code cell must call show_quiz("{path.stem}")')
        elif "from course_utils.quiz import show_quiz" not in last.source:
            problems.append(f"{path.name}: the quiz cell must import show_quiz")
    assert not problems, "\n".join(problems)


LABS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*_lab.ipynb"))


@pytest.mark.parametrize("lab", LABS, ids=lambda p: p.stem)
def test_a_lab_notebook_belongs_to_its_lesson_links_both_ways_and_has_no_quiz(lab):
    """A lab (``NN_topic_lab``) holds a lesson's optional experiments: the lesson links to it,
    it links back to the lesson, and the quiz stays in the lesson (its last code cell)."""
    lesson = lab.with_name(lab.name.replace("_lab.ipynb", ".ipynb"))
    assert lesson.is_file(), f"{lab.name}: no lesson {lesson.name} beside it"
    lesson_text = "".join(c.source for c in nbformat.read(lesson, as_version=4).cells
                          if c.cell_type == "markdown")  # fmt: skip
    lab_cells = nbformat.read(lab, as_version=4).cells
    lab_text = "".join(c.source for c in lab_cells if c.cell_type == "markdown")
    assert f"({lab.name})" in lesson_text, f"{lesson.name} never links to ({lab.name})"
    assert f"({lesson.name})" in lab_text, f"{lab.name} never links back to ({lesson.name})"
    assert not any("show_quiz(" in c.source for c in lab_cells if c.cell_type == "code")
