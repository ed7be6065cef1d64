"""Readers and writers of the official SemEval-2023 Task 3 file formats.

Layout of a data folder: ``DATA_DIR/LANG/SPLIT-articles-subtask-N/article{ID}.txt`` and
``DATA_DIR/LANG/SPLIT-labels-subtask-N.txt`` (see the data README). Every reader reports a
malformed line with its file and line number instead of dropping it.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .document import Article
from .taxonomy import FRAME_NAMES, GENRE_NAMES, TECHNIQUE_NAMES

#: SemEval language folder codes -> ISO 639-1 codes. Any other folder name is used as is.
FOLDER_LANGUAGES = {"en": "en", "fr": "fr", "ge": "de", "it": "it", "po": "pl", "ru": "ru",
                    "es": "es", "gr": "el", "ka": "ka", "bg": "bg", "hi": "hi", "pt": "pt"}
SUBTASK = {"genre": 1, "frames": 2, "techniques": 3, "spans": 3}
_ARTICLE_FILE = re.compile(r"article(.+)\.txt$")


class DataError(ValueError):
    """A data file or folder that does not follow the official layout."""


def iso_language(folder: str) -> str:
    return FOLDER_LANGUAGES.get(folder, folder)


@dataclass(frozen=True)
class Split:
    """One ``DATA_DIR/LANG/SPLIT`` of a SemEval data folder."""

    data_dir: Path
    lang: str
    split: str

    @property
    def root(self) -> Path:
        return Path(self.data_dir) / self.lang

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

    def labels_file(self, subtask: int) -> Path:
        return self.root / f"{self.split}-labels-subtask-{subtask}.txt"

    def template_file(self) -> Path:
        return self.root / f"{self.split}-labels-subtask-3.template"

    def spans_dir(self) -> Path:
        return self.root / f"{self.split}-labels-subtask-3-spans"

    def article_paths(self, subtask: int) -> list[Path]:
        folder = self.articles_dir(subtask)
        return sorted(p for p in folder.iterdir() if _ARTICLE_FILE.search(p.name))


def article_id(path: Path | str) -> str:
    match = _ARTICLE_FILE.search(Path(path).name)
    return match.group(1) if match else Path(path).stem


def read_article(path: Path | str, language: str | None = None) -> Article:
    """Read an article file exactly (no newline translation), so span offsets stay valid."""
    from .ingest import decode_bytes

    text = decode_bytes(Path(path).read_bytes(), source=str(path))
    return Article(text, id=article_id(path), language=language)


def _rows(path: Path, min_fields: int) -> Iterator[tuple[int, list[str]]]:
    """Tab-separated rows of ``path`` with their 1-based line numbers; blank lines skipped."""
    if not path.is_file():
        raise DataError(f"missing label file {path}")
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8").rstrip("\r\n")
            except UnicodeDecodeError:
                raise DataError(f"{path}:{number}: not UTF-8; convert the file to UTF-8") from None
            if not line.strip():
                continue
            fields = line.split("\t")
            if len(fields) < min_fields:
                raise DataError(f"{path}:{number}: expected {min_fields} tab-separated fields, got {len(fields)}")
            yield number, fields


def _label_list(value: str, known: Sequence[str], where: str) -> list[str]:
    labels = [x.strip() for x in value.split(",") if x.strip()]
    for name in labels:
        if name not in known:
            raise DataError(f"{where}: unknown label {name!r}")
    return labels


def read_genre_labels(path: Path) -> dict[str, str]:
    labels = {}
    for number, (aid, value, *_) in _rows(path, 2):
        names = _label_list(value, GENRE_NAMES, f"{path}:{number}")
        if len(names) != 1:
            raise DataError(f"{path}:{number}: expected exactly one genre, got {value!r}")
        labels[aid] = names[0]
    return labels


def read_frame_labels(path: Path) -> dict[str, list[str]]:
    return {
        fields[0]: _label_list(fields[1] if len(fields) > 1 else "", FRAME_NAMES, f"{path}:{number}")
        for number, fields in _rows(path, 1)
    }


def read_technique_labels(path: Path) -> dict[tuple[str, int], list[str]]:
    labels = {}
    for number, fields in _rows(path, 2):
        where = f"{path}:{number}"
        labels[(fields[0], _int(fields[1], where))] = _label_list(
            fields[2] if len(fields) > 2 else "", TECHNIQUE_NAMES, where
        )
    return labels


def read_template(path: Path) -> list[tuple[str, int]]:
    """The ``(article id, line)`` pairs a techniques prediction file must cover, in order."""
    return [(fields[0], _int(fields[1], f"{path}:{n}")) for n, fields in _rows(path, 2)]


def _int(value: str, where: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise DataError(f"{where}: expected an integer, got {value!r}") from None


def read_spans(path: Path, text_lengths: Mapping[str, int] | None = None) -> list[tuple[str, str, int, int]]:
    """Spans ``(id, technique, start, end)`` of one span file, checked against the article lengths."""
    spans = []
    for number, fields in _rows(path, 4):
        where = f"{path}:{number}"
        aid, technique = fields[0], fields[1]
        start, end = _int(fields[2], where), _int(fields[3], where)
        if technique not in TECHNIQUE_NAMES:
            raise DataError(f"{where}: unknown technique {technique!r}")
        limit = (text_lengths or {}).get(aid)
        if not 0 <= start < end or (limit is not None and end > limit):
            raise DataError(f"{where}: span [{start}, {end}) is empty, reversed or past the end of article {aid}"
                            + (f" ({limit} characters)" if limit is not None else ""))
        spans.append((aid, technique, start, end))
    return spans


def read_span_folder(folder: Path, text_lengths: Mapping[str, int] | None = None) -> list[tuple[str, str, int, int]]:
    if not folder.is_dir():
        raise DataError(f"missing span folder {folder}")
    return [span for path in sorted(folder.glob("*.txt")) for span in read_spans(path, text_lengths)]


def write_genre(path: Path, predictions: Iterable[tuple[str, str]]) -> None:
    _write(path, (f"{aid}\t{label}" for aid, label in predictions))


def write_frames(path: Path, predictions: Iterable[tuple[str, Sequence[str]]]) -> None:
    _write(path, (f"{aid}\t{','.join(labels)}" for aid, labels in predictions))


def write_techniques(path: Path, predictions: Iterable[tuple[str, int, Sequence[str]]]) -> None:
    _write(path, (f"{aid}\t{line}\t{','.join(labels)}" for aid, line, labels in predictions))


def write_spans(path: Path, spans: Iterable[tuple[str, str, int, int]]) -> None:
    _write(path, (f"{aid}\t{technique}\t{start}\t{end}" for aid, technique, start, end in spans))


def _write(path: Path, lines: Iterable[str]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        for line in lines:
            handle.write(line + "\n")
