"""No ipywidgets-8-only API anywhere a student's kernel runs it: Colab ships ipywidgets 7.x.

The list comes from the ipywidgets 8.0 changelog and user migration guide: new widgets (Stack,
TagsInput, ColorsInput, FloatsInput, IntsInput, DatetimePicker, NaiveDatetimePicker, TimePicker),
the ``tooltip`` trait on every widget (7 has ``description_tooltip`` on a few), tuple ``titles``
of Tab/Accordion (7: ``set_title``), ``tabbable``, ``focus()``/``blur()``, per-side borders of a
Layout, the style traits of Label/HTML/Text (font_size, text_color, ...), the FileUpload value as a
list of dicts, ``description_allow_html``. A use guarded by ``has_trait(...)`` on the same line or
the line above is allowed (course_utils/quiz/widget.py does so). The ipywidgets-7 pass of
``.ci/run`` runs the widget code itself under 7.7; this test finds what that pass would not reach.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

EIGHT_ONLY = {
    "Stack": r"\bStack\s*\(|\bW\.Stack\b|\bwidgets\.Stack\b|import[^\n]*\bStack\b",
    "TagsInput": r"\bTagsInput\b",
    "ColorsInput": r"\bColorsInput\b",
    "FloatsInput": r"\bFloatsInput\b",
    "IntsInput": r"\bIntsInput\b",
    "DatetimePicker": r"\b(Naive)?DatetimePicker\b|\bDatetime\s*\(",
    "TimePicker": r"\bTimePicker\b",
    "tooltip= (7: description_tooltip on some widgets)": r"(?<![_\w])tooltip\s*=|\.tooltip\b",
    "Tab/Accordion titles (7: set_title)": r"\b(Tab|Accordion)\s*\([^\n]*\btitles\s*=|"
    r"\b(tab|accordion|Tab|Accordion)\w*\.titles\b",
    "tabbable": r"\btabbable\b",
    "focus()/blur() of a widget": r"\.(focus|blur)\(\)",
    "per-side borders": r"\bborder_(top|right|bottom|left)\s*=",
    "Label/HTML style traits": r"\b(font_size|text_color|font_weight|font_style|font_family|"
    r"text_decoration|font_variant)\s*=",
    "description_allow_html": r"\bdescription_allow_html\b",
    "HTMLStyle/LabelStyle/TextStyle": r"\b(HTMLStyle|HTMLMathStyle|LabelStyle|TextStyle|"
    r"CheckboxStyle|TextareaStyle)\b",
}
GUARD = re.compile(r"has_trait\(")


def _sources() -> list[tuple[str, list[str]]]:
    """(name, lines) of the package's modules and of the code cells of every notebook."""
    out = []
    for path in sorted((ROOT / "course_utils").rglob("*.py")):
        out.append((str(path.relative_to(ROOT)), path.read_text().splitlines()))
    for folder in ("notebooks", "solutions", "exercises"):
        for path in sorted((ROOT / folder).glob("*.ipynb")):
            cells = json.loads(path.read_text())["cells"]
            for n, cell in enumerate(cells):
                if cell["cell_type"] == "code":
                    lines = "".join(cell["source"]).splitlines()
                    out.append((f"{path.relative_to(ROOT)} cell {n}", lines))
    return out


def eight_only_uses(name: str, lines: list[str]) -> list[str]:
    """Each unguarded use of an 8-only API: "<where>:<line>: <api>: <code>"."""
    found = []
    for i, line in enumerate(lines):
        code = line.split("#", 1)[0]
        if GUARD.search(line) or (i and GUARD.search(lines[i - 1])):
            continue
        for api, pattern in EIGHT_ONLY.items():
            if re.search(pattern, code):
                found.append(f"{name}:{i + 1}: {api}: {line.strip()}")
    return found


def test_the_scan_covers_the_package_and_every_notebook():
    names = [name for name, _ in _sources()]
    assert any(n.startswith("course_utils/quiz/widget.py") for n in names)
    for folder in ("notebooks", "solutions", "exercises"):
        assert any(n.startswith(f"{folder}/") for n in names), folder


@pytest.mark.parametrize(
    "line",
    ["W.Stack([a, b])", "from ipywidgets import TagsInput", "W.Button(tooltip='x')",
     "w.tooltip = 'x'", "Tab(children, titles=('a', 'b'))", "box.description_allow_html = True",
     "W.Layout(border_top='1px solid')", "W.HTML(style=dict(font_size='9px'))",
     "W.TimePicker()", "NaiveDatetimePicker()", "w.focus()"],
)  # fmt: skip
def test_the_patterns_catch_known_8_only_uses(line):
    assert eight_only_uses("example", [line]), line


@pytest.mark.parametrize(
    "line",
    ["W.VBox([a, b])", "description_tooltip='x'", "tab.set_title(0, 'a')", "HStack = 3",
     "plt.title('Stacked autoencoders')", "torch.stack([a, b])", "datetime.now()",
     "images_figure(x, titles=['a'])",
     "if box.has_trait('description_allow_html'):"],
)  # fmt: skip
def test_the_patterns_leave_7_compatible_code_alone(line):
    assert not eight_only_uses("example", [line]), line


def test_no_ipywidgets_8_only_api_in_package_or_notebooks():
    found = [hit for name, lines in _sources() for hit in eight_only_uses(name, lines)]
    assert not found, "ipywidgets-8-only APIs (Colab ships 7.x):\n" + "\n".join(found)
