"""End to end, as a student: real JupyterLab, real Chromium, real widgets (issue 14).

Lesson 06 in fast mode: run all cells, move a latent slider and see the decoded image change,
answer a quiz question wrongly then rightly and read the feedback and the score, in English and
in Vietnamese. Exercise 06: run a check cell on the stub and read "not attempted". The
Vietnamese edition (notebooks/vi/, exercises/vi/): a lesson's heading, its quiz and an exercise
check all in Vietnamese, with no language setting (the edition sets it).

Every wait is on a page state (the kernel indicator's data-status, cell prompts, a widget's DOM
node, a text), never a fixed sleep. Screenshots of each step go to tests/artefacts/e2e/
(git-ignored). Skipped, with the reason, only where Chromium or Playwright is missing; CI sets
COURSE_E2E_REQUIRED=1, which turns that skip into a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import warnings

import pytest
from e2e_helpers import CHROMIUM, CHROMIUM_FLAGS, LEARNER, ROOT, start_server, stop_server

pytestmark = pytest.mark.e2e

ARTEFACTS = ROOT / "tests" / "artefacts" / "e2e"
LESSON = "06_variational_autoencoders"
RUN_ALL_TIMEOUT_MS = 420_000  # fast mode: lesson 06 takes 1-4 min on 2 (busy) cores
FIRST_TRY_MS = 300_000  # a Run All that has not ended by then stalled (seen once in CI)
STEP_MS = 30_000  # one kernel round trip (a slider redraw, a Submit)


def _missing_browser() -> str | None:
    if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """(server, browser page). The finalizers stop the browser and the server, whatever fails."""
    reason = _missing_browser()
    if reason:
        if os.environ.get("COURSE_E2E_REQUIRED") == "1":
            pytest.fail(f"the browser test must run here, but: {reason}")
        print(f"SKIPPED browser test: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    shutil.rmtree(ARTEFACTS, ignore_errors=True)
    ARTEFACTS.mkdir(parents=True)
    tmp = tmp_path_factory.mktemp("lab")
    extra = {k: os.environ[k] for k in ("COURSE_MNIST_DIR", "COURSE_FASHION_MNIST_DIR",
                                        "COURSE_DATA_DIR") if k in os.environ}  # fmt: skip
    originals = {p: p.read_bytes() for p in [*ROOT.glob("*/*_*.ipynb"), *ROOT.glob("*/vi/*.ipynb")]}
    server = start_server(tmp, extra)
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                str(tmp / "chromium-profile"),  # a fresh user-data directory
                executable_path=CHROMIUM,
                args=CHROMIUM_FLAGS,
                headless=True,
                viewport={"width": 1400, "height": 1000},
            )
            try:
                page = context.new_page()
                page.set_default_timeout(STEP_MS)
                yield server, page
            finally:
                context.close()
    finally:
        left = stop_server(server)
        assert not left, f"processes left behind after shutdown: {left}"
        changed = [str(p) for p, raw in originals.items() if p.read_bytes() != raw]
        assert not changed, f"the browser test changed repository notebooks: {changed}"


# ------------------------------------------------------------------------------------ helpers
def _shot(target, name: str) -> None:
    """Screenshot a page or an element (scrolled into view) to tests/artefacts/e2e/<name>.png."""
    if hasattr(target, "scroll_into_view_if_needed"):
        target.scroll_into_view_if_needed()
    target.screenshot(path=str(ARTEFACTS / f"{name}.png"))


def _open(page, server, notebook: str):
    """Open a notebook in Lab (the first by its URL, later ones as a student does, without a
    reload) and wait until it is the current tab and its kernel reports idle."""
    if "/lab" not in page.url:
        page.goto(server.url(f"lab/tree/{notebook}"))
        page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell", timeout=90_000)
    else:
        _command(page, "docmanager:open", {"path": notebook})
    page.wait_for_function(
        "p => { const w = window.jupyterapp.shell.currentWidget;"
        "       return w && w.context && w.context.path === p; }",
        arg=notebook,
        timeout=90_000,
    )
    panel_id = page.evaluate("() => window.jupyterapp.shell.currentWidget.id")
    page.wait_for_function(  # a kernel is attached (its name shows) and reports idle
        """id => {
            const p = document.getElementById(id);
            const name = p && p.querySelector('.jp-Toolbar-kernelName');
            return name && /Python/.test(name.textContent)
                && p.querySelector(".jp-Notebook-ExecutionIndicator[data-status='idle']");
        }""",
        arg=panel_id,
        timeout=90_000,
    )
    panel = page.locator(f"[id='{panel_id}']")
    panel.locator(".jp-Cell").first.wait_for()
    return panel, panel_id


def _command(page, command: str, args: dict | None = None) -> None:
    """Start a Lab command (what a menu item does); the test then waits on the page's state."""
    page.evaluate(
        "([c, a]) => { window.jupyterapp.commands.execute(c, a); return null; }",
        [command, args or {}],
    )


def _cell(panel, text: str):
    """The code cell whose source contains ``text``."""
    cell = panel.locator(".jp-CodeCell").filter(has_text=text)
    assert cell.count() == 1, f"expected one code cell holding {text!r}, found {cell.count()}"
    return cell


def _errors(panel) -> str:
    stderr = ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
    return "\n".join(panel.locator(stderr).all_inner_texts())


def _run_state(page, panel_id: str, server) -> str:
    """What a stalled Run All looks like: the kernel's status, the cells still queued or running
    (index and first line), and the end of the server's log."""
    state = page.evaluate(
        """id => {
            const p = document.getElementById(id);
            const ind = p.querySelector('.jp-Notebook-ExecutionIndicator');
            const cells = [...p.querySelectorAll('.jp-CodeCell')].map((c, i) => [i,
                (c.querySelector('.jp-InputPrompt') || {}).textContent || '',
                ((c.querySelector('.jp-InputArea-editor') || {}).textContent || '').slice(0, 80)]);
            return {status: ind && ind.getAttribute('data-status'),
                    busy: cells.filter(([i, prompt]) => prompt.includes('*'))};
        }""",
        panel_id,
    )
    log = server.log.read_text(errors="replace").splitlines()[-15:]
    return f"kernel {state['status']}; cells queued or running: {state['busy'][:5]}; " + (
        "server log ends:\n" + "\n".join(log)
    )


def _run_all_as_a_student(page, panel, panel_id: str, server) -> None:
    """Run All and wait. If it stalls (no end after FIRST_TRY_MS), say what stalled (a warning in
    the test summary and a screenshot), then do what a student does: restart the kernel and run
    all again; a second stall fails the test with the same report."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    _command(page, "notebook:run-all-cells")
    try:
        _wait_run_all(page, panel, panel_id, FIRST_TRY_MS)
        return
    except PlaywrightTimeoutError:
        report = _run_state(page, panel_id, server)
    _shot(page, "02_lesson06_stalled")
    warnings.warn(f"Run All of {LESSON} did not end in {FIRST_TRY_MS // 1000} s ({report}); "
                  "restarting the kernel and running all again", stacklevel=1)  # fmt: skip
    _command(page, "notebook:restart-run-all")
    page.locator(".jp-Dialog .jp-mod-accept").click()  # Lab asks "Restart Kernel?": Restart
    try:
        _wait_run_all(page, panel, panel_id, RUN_ALL_TIMEOUT_MS)
    except PlaywrightTimeoutError:
        pytest.fail(f"Run All stalled twice: {_run_state(page, panel_id, server)}")


def _wait_run_all(page, panel, panel_id: str, timeout_ms: int = RUN_ALL_TIMEOUT_MS) -> None:
    """Run All was issued: wait until no prompt is queued/running and the kernel is idle."""
    page.wait_for_function(
        """id => {
            const p = document.getElementById(id);
            const prompts = [...p.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
                .map(e => e.textContent.trim());
            const idle = p.querySelector(".jp-Notebook-ExecutionIndicator[data-status='idle']");
            return idle && prompts.length && !prompts.some(t => t.includes('*'))
                   && /\\[\\d+\\]/.test(prompts[0]);
        }""",
        arg=panel_id,
        timeout=timeout_ms,
    )
    prompts = panel.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()
    not_run = [i for i, t in enumerate(prompts) if not re.search(r"\[\d+\]", t)]
    assert not not_run, f"cells {not_run} did not run; errors on the page:\n{_errors(panel)}"


# --------------------------------------------------------------------------------- the tests
@pytest.fixture(scope="module")
def lesson(lab):
    server, page = lab
    panel, panel_id = _open(page, server, f"notebooks/{LESSON}.ipynb")
    _shot(page, "01_lesson06_opened")
    _run_all_as_a_student(page, panel, panel_id, server)
    _shot(page, "02_lesson06_after_run_all")
    return page, panel


def test_latent_slider_redraws_the_decoded_image(lesson):
    page, panel = lesson
    cell = _cell(panel, "latent_view(vae2, chosen)")
    output = cell.locator(".jp-Cell-outputArea")
    handle = output.locator(".noUi-handle, .ui-slider-handle").first  # ipywidgets 8 / 7
    image = output.locator("img").first
    handle.wait_for()
    image.wait_for()
    before = image.get_attribute("src")
    readout = output.locator(".widget-readout").first.inner_text()
    _shot(cell, "03_slider_before")

    handle.scroll_into_view_if_needed()
    box = handle.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x, y - 45, steps=8)  # a vertical slider: up raises z1
    page.mouse.up()

    page.wait_for_function(
        "([el, old]) => { const img = el.querySelector('img'); return img && img.src !== old; }",
        arg=[output.element_handle(), before],
        timeout=STEP_MS,
    )
    after = output.locator("img").first.get_attribute("src")
    _shot(cell, "04_slider_after")
    assert after.startswith("data:image/png;base64,") and after != before
    assert output.locator(".widget-readout").first.inner_text() != readout


def test_quiz_feedback_and_score_in_english_then_vietnamese(lesson):
    from course_utils.quiz import grade, load_bank, option_order
    from course_utils.quiz.bank import LETTERS, right_options

    page, panel = lesson
    bank = load_bank(LESSON)
    order = option_order(bank, LEARNER)  # what the page shows: the server's $COURSE_LEARNER
    n_questions = grade(bank, {}, "en").max_score
    number, q = next((n, q) for n, q in enumerate(bank.questions) if q.type == "single")
    first_box = sum(len(p.options) for p in bank.questions[:number])
    right = order[q.id].index(right_options(q)[0])  # displayed position of the right option
    wrong = next(p for p in range(len(q.options)) if p != right)

    cell = _cell(panel, f'show_quiz("{LESSON}")')
    boxes = cell.locator(".course-quiz-option")
    boxes.first.wait_for()
    assert boxes.count() == sum(len(p.options) for p in bank.questions)

    block = boxes.nth(first_box).locator("xpath=../..")  # question text, options, feedback

    def shot(name: str, score: str) -> None:  # the question block, and the score line
        _shot(block, f"{name}_question")
        _shot(cell.get_by_text(score).first, f"{name}_score")

    def answer(position: int, submit: str) -> None:
        box = boxes.nth(first_box + position)
        box.get_by_text(f"({LETTERS[position]})").first.click()  # a click on the option's text
        assert box.locator("input[type='checkbox']").is_checked()
        cell.get_by_role("button", name=submit).click()

    answer(wrong, "Submit")
    feedback = f"Incorrect (0/1). You chose ({LETTERS[wrong]})."
    cell.get_by_text(feedback).first.wait_for()
    page.get_by_text(f"Score: 0 / {n_questions} (answered: 1)").first.wait_for()
    shot("05_quiz_wrong_en", f"Score: 0 / {n_questions} (answered: 1)")

    answer(right, "Submit")
    assert not boxes.nth(first_box + wrong).locator("input").is_checked()  # one tick only
    cell.get_by_text(f"Correct (1/1). You chose ({LETTERS[right]}).").first.wait_for()
    page.get_by_text(f"Score: 1 / {n_questions} (answered: 1)").first.wait_for()
    shot("06_quiz_right_en", f"Score: 1 / {n_questions} (answered: 1)")

    cell.get_by_role("button", name="Tiếng Việt").click()
    cell.get_by_text(f"Đúng (1/1). Bạn đã chọn ({LETTERS[right]}).").first.wait_for()
    page.get_by_text(f"Điểm: 1 / {n_questions} (đã trả lời: 1)").first.wait_for()
    shot("07_quiz_right_vi", f"Điểm: 1 / {n_questions} (đã trả lời: 1)")

    answer(wrong, "Nộp bài")
    cell.get_by_text(f"Sai (0/1). Bạn đã chọn ({LETTERS[wrong]}).").first.wait_for()
    page.get_by_text(f"Điểm: 0 / {n_questions} (đã trả lời: 1)").first.wait_for()
    shot("08_quiz_wrong_vi", f"Điểm: 0 / {n_questions} (đã trả lời: 1)")


def _run_cells(page, panel, texts) -> None:
    """Run the code cells holding each of ``texts``, one by one, as a student does."""
    for text in texts:
        cell = _cell(panel, text)
        cell.locator(".jp-InputPrompt").click()  # select the cell (command mode) ...
        page.keyboard.press("Control+Enter")  # ... and run it
        page.wait_for_function(
            "el => /\\[\\d+\\]/.test(el.querySelector('.jp-InputPrompt').textContent)",
            arg=cell.element_handle(),
            timeout=90_000,
        )


EXERCISE_CELLS = (
    "setup_course(seed=0)",
    "def reparameterize(",
    "check_reparameterize(reparameterize)",
)


def test_exercise_check_on_a_stub_says_not_attempted(lab):
    server, page = lab
    panel, _ = _open(page, server, f"exercises/{LESSON}.ipynb")
    _run_cells(page, panel, EXERCISE_CELLS)
    check = _cell(panel, "check_reparameterize(reparameterize)").locator(".jp-Cell-outputArea")
    check.get_by_text(re.compile("not attempted")).first.wait_for()
    _shot(_cell(panel, "check_reparameterize(reparameterize)"), "09_exercise_not_attempted")
    assert "NotImplementedError" in check.inner_text()  # the note says what to replace


def test_vietnamese_edition_heading_quiz_and_exercise_check(lab):
    """No COURSE_LANG anywhere: the folder of the Vietnamese notebooks sets the language."""
    import nbformat

    server, page = lab
    lesson = "notebooks/vi/00_setup_and_tour.ipynb"
    title = nbformat.read(ROOT / lesson, as_version=4).cells[0].source.splitlines()[0]
    assert title.startswith("# ") and "Setup" not in title, title
    panel, _ = _open(page, server, lesson)
    panel.locator("h1").filter(has_text=title.removeprefix("# ").strip()).first.wait_for()
    _run_cells(page, panel, ['show_quiz("00_setup_and_tour")'])
    quiz = _cell(panel, 'show_quiz("00_setup_and_tour")')
    quiz.get_by_role("button", name="Nộp bài").wait_for()
    assert quiz.get_by_role("button", name="Submit").count() == 0
    _shot(page, "10_vietnamese_lesson_quiz")

    panel, _ = _open(page, server, f"exercises/vi/{LESSON}.ipynb")
    _run_cells(page, panel, EXERCISE_CELLS)
    check = _cell(panel, "check_reparameterize(reparameterize)").locator(".jp-Cell-outputArea")
    check.get_by_text(re.compile("chưa làm")).first.wait_for()
    _shot(_cell(panel, "check_reparameterize(reparameterize)"), "11_vietnamese_exercise_check")
    assert "not attempted" not in check.inner_text()
