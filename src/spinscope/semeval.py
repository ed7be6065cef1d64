"""Readers and writers of the official SemEval-2023 Task 3 file formats.

Layout of a data folder: ``DATA_DIR/LANG/SPLIT-articles-subtask-N/article{ID}.txt`` and
``DATA_DIR/LANG/SPLIT-labels-subtask-N.txt`` (see the data README). Every reader reports a
malformed line with its file and line number instead of dropping it.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
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


# --- SemEval-2025 Task 10: narratives (subtask 2) and entity roles (subtask 1) ---------------

def documents_dir(split: Split) -> Path:
    """``DATA_DIR/LANG/SPLIT-documents``: one article per file, the file name is its id."""
    folder = split.root / f"{split.split}-documents"
    if not folder.is_dir():
        raise DataError(f"no {folder}: expected the SemEval-2025 layout DATA_DIR/LANG/{split.split}-documents/ID.txt")
    return folder


def read_document(path: Path | str, language: str | None = None) -> Article:
    """A SemEval-2025 document; its id is the file name with ``.txt``, as in the label files."""
    from .ingest import decode_bytes

    return Article(decode_bytes(Path(path).read_bytes(), source=str(path)), id=Path(path).name, language=language)


def _semicolon_list(value: str, known: Sequence[str], what: str, where: str) -> list[str]:
    names = [x.strip() for x in value.split(";") if x.strip()]
    for name in names:
        if name not in known:
            raise DataError(f"{where}: unknown {what} {name!r}")
    return names


def read_narrative_labels(path: Path) -> dict[str, tuple[list[str], list[str]]]:
    """``{id: (narratives, sub-narratives)}``; unknown names and orphan sub-narratives are errors."""
    from .taxonomy import NARRATIVE_NAMES, SUBNARRATIVE_NAMES, narrative_parent

    labels = {}
    for number, fields in _rows(path, 3):
        where = f"{path}:{number}"
        coarse = _semicolon_list(fields[1], NARRATIVE_NAMES, "narrative", where)
        fine = _semicolon_list(fields[2], SUBNARRATIVE_NAMES, "sub-narrative", where)
        orphans = [x for x in fine if narrative_parent(x) not in coarse]
        if orphans:
            raise DataError(f"{where}: sub-narrative {orphans[0]!r} without its narrative")
        labels[fields[0]] = (coarse, fine)
    return labels


@dataclass(frozen=True)
class Mention:
    """An entity mention of a subtask-1 file: ``end`` is inclusive, as in the file."""

    article: str
    text: str
    start: int
    end: int
    role: str | None = None
    fine_roles: tuple[str, ...] = ()
    where: str = ""


def read_mentions(path: Path, roles: bool = True) -> list[Mention]:
    """Mentions of a subtask-1 file; with ``roles=False`` only the first four columns are read."""
    from .taxonomy import FINE_ROLES, ROLE_NAMES

    main_of = {label.name: label.group for label in FINE_ROLES}
    mentions = []
    for number, fields in _rows(path, 6 if roles else 4):
        where = f"{path}:{number}"
        start, end = _int(fields[2], where), _int(fields[3], where)
        if not 0 <= start <= end:
            raise DataError(f"{where}: mention [{start}, {end}] is empty or reversed")
        role, fine = None, ()
        if roles:
            role, fine = fields[4].strip(), tuple(x.strip() for x in fields[5:] if x.strip())
            if role not in ROLE_NAMES:
                raise DataError(f"{where}: unknown main role {role!r}")
            for name in fine:
                if main_of.get(name) != role:
                    raise DataError(f"{where}: {name!r} is not a fine role of {role}" if name in main_of
                                    else f"{where}: unknown fine role {name!r}")
        mentions.append(Mention(fields[0], fields[1], start, end, role, fine, where))
    return mentions


def locate_mention(text: str, mention: Mention) -> tuple[int, int] | None:
    """Where ``mention`` really is in ``text``, as ``[start, end)``, or ``None`` when absent.

    The offsets of the official files hold for most mentions; many were counted on a copy
    with ``\\r\\n`` line endings (one more character per line break before the mention), and
    a few are off by some characters. The exact place comes first, then the CRLF reading,
    then the occurrence of the mention's text nearest to its offset.
    """
    start, stop = mention.start, mention.end + 1
    if text[start:stop] == mention.text:
        return start, stop
    for shift in (text[:start].count("\n"), text[: start - text[:start].count("\n")].count("\n")):
        if text[start - shift : stop - shift] == mention.text:
            return start - shift, stop - shift
    found = [m.start() for m in re.finditer(re.escape(mention.text), text)]
    if not found:
        return None
    best = min(found, key=lambda i: abs(i - start))
    return best, best + len(mention.text)


def locate_mentions(text: str, mentions: Sequence[Mention], warn: Callable[[str], None]
                    ) -> list[tuple[int, int] | None]:
    """:func:`locate_mention` for the mentions of one article, reporting with file and line each
    mention found only by its text or not at all, and once the mentions read as CRLF-counted."""
    out, crlf = [], []
    for m in mentions:
        found = locate_mention(text, m)
        if found is None:
            warn(f"{m.where}: mention {m.text!r} is not in {m.article}")
        elif found[0] != m.start:
            if m.start - found[0] == text[:found[0]].count("\n"):
                crlf.append(m)
            else:
                warn(f"{m.where}: offsets {m.start}-{m.end} do not hold {m.text!r}; "
                     f"read at its nearest occurrence, {found[0]}")
        out.append(found)
    if crlf:
        warn(f"{crlf[0].where}: {len(crlf)} mention(s) of {crlf[0].article} count a \\r before each line break "
             "(offsets of a CRLF copy); read accordingly")
    return out


def write_narratives(path: Path, predictions: Iterable[tuple[str, Sequence[str], Sequence[str]]]) -> None:
    _write(path, (f"{aid}\t{';'.join(coarse)}\t{';'.join(fine)}" for aid, coarse, fine in predictions))


def write_mentions(path: Path, mentions: Iterable[Mention]) -> None:
    _write(path, ("\t".join([m.article, m.text, str(m.start), str(m.end), m.role or "", *m.fine_roles])
                  for m in mentions))
