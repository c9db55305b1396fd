"""What must survive translation unchanged: everything in a markdown cell that is not prose.

``skeleton(text)`` extracts, from one markdown cell:

- code: fenced blocks exactly, inline code (`` `x_train[:8]` ``) up to line breaks;
- maths: display ``$$...$$`` and inline ``$...$`` LaTeX, up to line breaks and spacing;
- links: every link and image target ``](...)``, and bare ``http(s)://`` URLs, exactly;
- HTML tags (``<br>``, ``<details>``...), by name;
- the structure: the sequence of heading levels, the number of list items, and the number of
  columns of every table row.

A translation is faithful when its skeleton equals the English one: code, maths, links and tags
as multisets (a Vietnamese sentence may put them in another order), the structure exactly.
``differences(english, vietnamese)`` lists what differs, in words a translator can act on.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

FENCE = re.compile(r"^(```|~~~)[^\n]*\n.*?^\1[ \t]*$", re.S | re.M)
INLINE_CODE = re.compile(r"(`+)(.+?)\1", re.S)
DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.S)
INLINE_MATH = re.compile(r"(?<![\\$])\$(?!\$)((?:\\.|[^$\\])+?)\$")
LINK_TARGET = re.compile(r"\]\(([^()\s]*(?:\([^()\s]*\)[^()\s]*)*)(?:\s+\"[^\"]*\")?\)")
BARE_URL = re.compile(r"(?<![(<\"])\bhttps?://[^\s)>\]]+")
HTML_TAG = re.compile(r"</?([a-zA-Z][a-zA-Z0-9]*)\b[^>]*>")
HEADING = re.compile(r"^(#{1,6})\s", re.M)
LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+\S", re.M)
TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$", re.M)


@dataclass(frozen=True)
class Skeleton:
    code: Counter
    maths: Counter
    links: Counter
    tags: Counter
    headings: tuple[int, ...]
    list_items: int
    table_columns: tuple[int, ...]


def _take(pattern: re.Pattern, text: str) -> tuple[list[str], str]:
    """The matches (white space made one space: a translator may re-wrap lines), and the rest."""
    found = [" ".join(m.group(0).split()) for m in pattern.finditer(text)]
    return found, pattern.sub(" ", text)


def _columns(row: str) -> int:
    return len(re.split(r"(?<!\\)\|", row.strip().strip("|")))


def skeleton(text: str) -> Skeleton:
    """The non-prose parts of one markdown cell (see the module docstring)."""
    fences = FENCE.findall(text) and [m.group(0) for m in FENCE.finditer(text)]
    rest = FENCE.sub(" ", text)
    inline, rest = _take(INLINE_CODE, rest)
    display, rest = _take(DISPLAY_MATH, rest)
    inline_math, rest = _take(INLINE_MATH, rest)
    structure = FENCE.sub(" ", text)  # headings and lists are read outside code blocks
    return Skeleton(
        code=Counter(fences + inline),
        maths=Counter(display + inline_math),
        links=Counter(
            LINK_TARGET.findall(rest) + [u.rstrip(".,:;!?") for u in BARE_URL.findall(rest)]
        ),
        tags=Counter(tag.lower() for tag in HTML_TAG.findall(rest)),
        headings=tuple(len(h) for h in HEADING.findall(structure)),
        list_items=len(LIST_ITEM.findall(structure)),
        table_columns=tuple(_columns(r) for r in TABLE_ROW.findall(structure)),
    )


def _multiset_diff(kind: str, english: Counter, vietnamese: Counter) -> list[str]:
    out = []
    missing, extra = english - vietnamese, vietnamese - english
    if missing:
        out.append(f"{kind} missing or changed: " + "; ".join(repr(x) for x in missing.elements()))
    if extra:
        out.append(f"{kind} not in the English: " + "; ".join(repr(x) for x in extra.elements()))
    return out


def differences(english: str, vietnamese: str) -> list[str]:
    """Why ``vietnamese`` does not keep ``english``'s non-prose parts; [] when it does."""
    en, vi = skeleton(english), skeleton(vietnamese)
    out = []
    for kind in ("code", "maths", "links", "tags"):
        out += _multiset_diff(kind, getattr(en, kind), getattr(vi, kind))
    if en.headings != vi.headings:
        out.append(f"heading levels {list(en.headings)} in English, {list(vi.headings)} here")
    if en.list_items != vi.list_items:
        out.append(f"{en.list_items} list items in English, {vi.list_items} here")
    if en.table_columns != vi.table_columns:
        out.append(f"table columns per row {list(en.table_columns)} in English, "
                   f"{list(vi.table_columns)} here")  # fmt: skip
    return out
