"""Where things are in a SemEval data folder: the one place that knows the official layouts.

SemEval-2023 Task 3 (genre, frames, techniques, spans)::

    DATA_DIR/LANG/SPLIT-articles-subtask-N/article{ID}.txt
    DATA_DIR/LANG/SPLIT-labels-subtask-N.txt, SPLIT-labels-subtask-3.template
    DATA_DIR/LANG/SPLIT-labels-subtask-3-spans/article{ID}-labels-subtask-3.txt

SemEval-2025 Task 10 (narratives, entity roles)::

    DATA_DIR/LANG/SPLIT-documents/{ID}.txt
    DATA_DIR/LANG/SPLIT-labels-subtask-1.txt (entities), SPLIT-labels-subtask-2.txt (narratives)

Language folders are ISO 639-1 codes, except ``ge`` (German), ``po`` (Polish) and ``gr`` (Greek).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import DataError
from ..io.language import iso_code

_ARTICLE_FILE = re.compile(r"article(.+)\.txt$")


def iso_language(folder: str) -> str:
    """The ISO 639-1 code of a language folder (``ge`` -> ``de``); other names pass unchanged."""
    return iso_code(folder)


def article_id(path: Path | str) -> str:
    """The id of a SemEval-2023 article file (``article123.txt`` -> ``123``)."""
    match = _ARTICLE_FILE.search(Path(path).name)
    return match.group(1) if match else Path(path).stem


@dataclass(frozen=True)
class Split:
    """One ``DATA_DIR/LANG/SPLIT`` of a SemEval data folder."""

    data_dir: Path
    lang: str
    split: str

    @property
    def root(self) -> Path:
        return Path(self.data_dir) / self.lang

    @property
    def language(self) -> str:
        return iso_language(self.lang)

    def articles_dir(self, subtask: int) -> Path:
        """The articles folder of ``subtask``, falling back to another subtask's folder."""
        for n in (subtask, *sorted({1, 2, 3} - {subtask})):
            folder = self.root / f"{self.split}-articles-subtask-{n}"
            if folder.is_dir():
                return folder
        raise DataError(
            f"no {self.split}-articles-subtask-{{1,2,3}} folder in {self.root}: "
            f"expected the SemEval layout DATA_DIR/LANG/{self.split}-articles-subtask-N/article<ID>.txt"
        )

    def article_path(self, subtask: int, aid: str) -> Path:
        return self.articles_dir(subtask) / f"article{aid}.txt"

    def article_paths(self, subtask: int) -> list[Path]:
        folder = self.articles_dir(subtask)
        return sorted(p for p in folder.iterdir() if _ARTICLE_FILE.search(p.name) and p.is_file())

    def labels_file(self, subtask: int) -> Path:
        return self.root / f"{self.split}-labels-subtask-{subtask}.txt"

    def template_file(self) -> Path:
        return self.root / f"{self.split}-labels-subtask-3.template"

    def spans_dir(self) -> Path:
        return self.root / f"{self.split}-labels-subtask-3-spans"

    def document_path(self, aid: str) -> Path:
        """The SemEval-2025 document with id ``aid`` (its file name): an id that is not a plain
        file name (a path, ``..``) is a :class:`DataError`, so a label file cannot point outside
        the documents folder."""
        if not aid or Path(aid).name != aid or aid in (".", ".."):
            raise DataError(
                f"document id {aid!r} is not a file name: the ids of {self.root} must name files "
                f"of its {self.split}-documents folder"
            )
        return self.documents_dir() / aid

    def documents_dir(self) -> Path:
        """``DATA_DIR/LANG/SPLIT-documents`` (SemEval-2025): one article per file, named by its id."""
        folder = self.root / f"{self.split}-documents"
        if not folder.is_dir():
            raise DataError(
                f"no {folder}: expected the SemEval-2025 layout DATA_DIR/LANG/{self.split}-documents/ID.txt"
            )
        return folder

    @property
    def is_2025(self) -> bool:
        """Whether this split is in the SemEval-2025 layout (``SPLIT-documents``)."""
        return (self.root / f"{self.split}-documents").is_dir()


def split_of(data_dir: Path, lang: str, split: str) -> Split:
    """The split ``DATA_DIR/LANG/SPLIT``, checked to exist as a language folder."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise DataError(f"no such data folder: {data_dir}")
    if not (data_dir / lang).is_dir():
        found = sorted(p.name for p in data_dir.iterdir() if p.is_dir())
        raise DataError(
            f"no language folder {lang!r} in {data_dir} (found: {', '.join(found) or 'none'}); "
            "expected the SemEval layout DATA_DIR/LANG/SPLIT-articles-subtask-N/"
        )
    return Split(data_dir, lang, split)


def is_2025_data(data_dir: Path) -> bool:
    """Whether ``data_dir`` is a SemEval-2025 Task 10 folder (it has ``LANG/train-documents``)."""
    return any(Path(data_dir).glob("*/train-documents"))


def is_2023_data(data_dir: Path) -> bool:
    """Whether ``data_dir`` holds SemEval-2023 language folders (``LANG/SPLIT-articles-subtask-N``)."""
    return any(p.is_dir() for p in Path(data_dir).glob("*/*-articles-subtask-*"))


def training_languages(data_dir: Path, languages: Sequence[str] | None = None) -> list[str]:
    """The language folders of ``data_dir`` with training labels (all of them by default): those
    with ``train-labels-subtask-1.txt`` (SemEval-2023), or with ``train-documents`` and
    ``train-labels-subtask-2.txt`` (SemEval-2025)."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise DataError(f"no such data folder: {data_dir}")
    if is_2025_data(data_dir):
        found = sorted(
            p.parent.name
            for p in data_dir.glob("*/train-labels-subtask-2.txt")
            if (p.parent / "train-documents").is_dir()
        )
        layout = "DATA_DIR/LANG/train-documents with train-labels-subtask-2.txt (SemEval-2025 Task 10)"
    else:
        found = sorted(p.parent.name for p in data_dir.glob("*/train-labels-subtask-1.txt"))
        layout = "DATA_DIR/LANG/train-labels-subtask-1.txt (SemEval-2023 Task 3)"
    if languages:
        unknown = set(languages) - set(found)
        if unknown and not is_2025_data(data_dir):
            raise DataError(f"no training labels for {', '.join(sorted(unknown))} in {data_dir}")
        found = [x for x in found if x in languages]
    if not found:
        raise DataError(f"no {layout} under {data_dir}")
    return found


def split_folders(lang_dir: Path, split: str | None = None) -> dict[str, list[Path]]:
    """The articles folders of a SemEval-2023 language folder by split (``train``, ``dev``...)."""
    by_split: dict[str, list[Path]] = {}
    for folder in sorted(lang_dir.glob("*-articles-subtask-*")):
        name = folder.name.split("-articles-subtask-")[0]
        if folder.is_dir() and (split is None or name == split):
            by_split.setdefault(name, []).append(folder)
    return by_split
