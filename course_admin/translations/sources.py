"""Which English notebooks have a Vietnamese edition, and where their catalogs and builds live.

    notebooks/04_denoising_autoencoders.ipynb        (English lesson, the source)
    translations/vi/notebooks/04_denoising_autoencoders.po   (its catalog)
    notebooks/vi/04_denoising_autoencoders.ipynb     (the built Vietnamese lesson)

and the same for exercises/. Solutions have no Vietnamese edition (instructors read them).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LANG = "vi"
FOLDERS = ("notebooks", "exercises")  # the English folders that have a Vietnamese edition
CATALOG_ROOT = ROOT / "translations" / LANG


@dataclass(frozen=True)
class Source:
    """One English notebook and the two files made from it."""

    english: Path  # notebooks/NN_topic.ipynb
    catalog: Path  # translations/vi/notebooks/NN_topic.po
    built: Path  # notebooks/vi/NN_topic.ipynb

    @property
    def name(self) -> str:
        """'notebooks/04_denoising_autoencoders', for messages."""
        return f"{self.english.parent.name}/{self.english.stem}"


def source_for(english: Path, root: Path = ROOT) -> Source:
    folder = english.parent.name
    return Source(
        english=english,
        catalog=root / "translations" / LANG / folder / f"{english.stem}.po",
        built=english.parent / LANG / english.name,
    )


def all_sources(root: Path = ROOT) -> list[Source]:
    """Every lesson and exercise notebook (NN_*.ipynb), in folder then lesson order."""
    return [
        source_for(path, root)
        for folder in FOLDERS
        for path in sorted((root / folder).glob("[0-9][0-9]_*.ipynb"))
    ]


def edition_of(repo_path: str) -> str | None:
    """The Vietnamese twin of a repository path, or None if it has none.

    >>> edition_of("exercises/04_denoising_autoencoders.ipynb")
    'exercises/vi/04_denoising_autoencoders.ipynb'
    """
    parts = repo_path.split("/")
    if (
        len(parts) == 2
        and parts[0] in FOLDERS
        and parts[1][:2].isdigit()
        and parts[1].endswith(".ipynb")
    ):
        return f"{parts[0]}/{LANG}/{parts[1]}"
    return None
