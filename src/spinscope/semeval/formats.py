"""Readers and writers of the official file formats of SemEval-2023 Task 3 and SemEval-2025
Task 10 (where the files are: :mod:`spinscope.semeval.layout`).

Every reader reports a malformed line with its file and line number instead of dropping it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..document import Article, Mention
from ..errors import DataError
from ..io.decoding import decode_bytes
from ..taxonomy import (
    FINE_ROLES,
    FRAME_NAMES,
    GENRE_NAMES,
    NARRATIVE_NAMES,
    ROLE_NAMES,
    SUBNARRATIVE_NAMES,
    TECHNIQUE_NAMES,
    narrative_parent,
)
from .layout import article_id

log = logging.getLogger(__name__)

#: A span of an official span file or prediction: ``(article id, technique, start, end)``, end exclusive.
SpanRow = tuple[str, str, int, int]


def read_article(path: Path | str, language: str | None = None) -> Article:
    """Read an article file exactly (no newline translation), so span offsets stay valid."""
    return Article(_read_text(Path(path)), id=article_id(path), language=language)


def _read_text(path: Path) -> str:
    """The exact text of an article or document file of a data folder."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DataError(f"{path} cannot be read ({error.strerror or error})") from None
    return decode_bytes(data, source=str(path))


def _rows(path: Path, min_fields: int) -> Iterator[tuple[int, list[str]]]:
    """Tab-separated rows of ``path`` with their 1-based line numbers; blank lines skipped."""
    if not path.is_file():
        raise DataError(f"missing label file {path}")
    try:
        handle = open(path, "rb")  # noqa: SIM115 - its own error gets a message; the with below closes it
    except OSError as error:
        raise DataError(f"{path} cannot be read ({error.strerror or error})") from None
    with handle:
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


def read_spans(path: Path, text_lengths: Mapping[str, int] | None = None) -> list[SpanRow]:
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
            raise DataError(
                f"{where}: span [{start}, {end}) is empty, reversed or past the end of article {aid}"
                + (f" ({limit} characters)" if limit is not None else "")
            )
        spans.append((aid, technique, start, end))
    return spans


def read_span_folder(folder: Path, text_lengths: Mapping[str, int] | None = None) -> list[SpanRow]:
    if not folder.is_dir():
        raise DataError(f"missing span folder {folder}")
    return [span for path in sorted(folder.glob("*.txt")) for span in read_spans(path, text_lengths)]


def write_genre(path: Path, predictions: Iterable[tuple[str, str]]) -> None:
    _write(path, (f"{aid}\t{label}" for aid, label in predictions))


def write_frames(path: Path, predictions: Iterable[tuple[str, Sequence[str]]]) -> None:
    _write(path, (f"{aid}\t{','.join(labels)}" for aid, labels in predictions))


def write_techniques(path: Path, predictions: Iterable[tuple[str, int, Sequence[str]]]) -> None:
    _write(path, (f"{aid}\t{line}\t{','.join(labels)}" for aid, line, labels in predictions))


def write_spans(path: Path, spans: Iterable[SpanRow]) -> None:
    _write(path, (f"{aid}\t{technique}\t{start}\t{end}" for aid, technique, start, end in spans))


def _write(path: Path, lines: Iterable[str]) -> None:
    """Write ``lines`` to ``path`` whole or not at all: a run that fails half-way leaves no
    partial prediction file under the real name."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    try:
        with open(partial, "w", encoding="utf-8", newline="\n") as handle:
            for line in lines:
                handle.write(line + "\n")
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


# --- SemEval-2025 Task 10: narratives (subtask 2) and entity roles (subtask 1) ---------------


def read_document(path: Path | str, language: str | None = None) -> Article:
    """A SemEval-2025 document; its id is the file name with ``.txt``, as in the label files."""
    return Article(_read_text(Path(path)), id=Path(path).name, language=language)


def _semicolon_list(value: str, known: Sequence[str], what: str, where: str) -> list[str]:
    names = [x.strip() for x in value.split(";") if x.strip()]
    for name in names:
        if name not in known:
            raise DataError(f"{where}: unknown {what} {name!r}")
    return names


def read_narrative_labels(path: Path) -> dict[str, tuple[list[str], list[str]]]:
    """``{id: (narratives, sub-narratives)}``; unknown names and orphan sub-narratives are errors."""
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
class EntityLabel:
    """A row of a subtask-1 file: a mention in article ``article``, with its roles when known.

    ``mention.end`` is exclusive, as everywhere in spinscope: the file's inclusive end is
    converted when read and written. ``where`` is the row's ``file:line``.
    """

    article: str
    mention: Mention
    role: str | None = None
    fine_roles: tuple[str, ...] = ()
    where: str = ""

    @property
    def key(self) -> tuple[str, int, int]:
        """What the official scorer matches a prediction with: article id, start, end."""
        return self.article, self.mention.start, self.mention.end


_MAIN_ROLE = {label.name: label.group for label in FINE_ROLES}


def read_entity_labels(path: Path, roles: bool = True) -> list[EntityLabel]:
    """The rows of a subtask-1 file; with ``roles=False`` only the first four columns are read."""
    rows = []
    for number, fields in _rows(path, 6 if roles else 4):
        where = f"{path}:{number}"
        start, last = _int(fields[2], where), _int(fields[3], where)
        if not 0 <= start <= last:
            raise DataError(f"{where}: mention [{start}, {last}] is empty or reversed")
        role: str | None = None
        fine: tuple[str, ...] = ()
        if roles:
            role, fine = fields[4].strip(), tuple(x.strip() for x in fields[5:] if x.strip())
            if role not in ROLE_NAMES:
                raise DataError(f"{where}: unknown main role {role!r}")
            for name in fine:
                if _MAIN_ROLE.get(name) != role:
                    raise DataError(
                        f"{where}: {name!r} is not a fine role of {role}"
                        if name in _MAIN_ROLE
                        else f"{where}: unknown fine role {name!r}"
                    )
        rows.append(EntityLabel(fields[0], Mention(start, last + 1, fields[1]), role, fine, where))
    return rows


def locate_mention(text: str, mention: Mention) -> tuple[int, int] | None:
    """Where ``mention`` really is in ``text``, as ``[start, end)``, or ``None`` when absent.

    The offsets of the official files hold for most mentions; many were counted on a copy
    with ``\\r\\n`` line endings (one more character per line break before the mention), and
    a few are off by some characters. The exact place comes first, then the CRLF reading,
    then the occurrence of the mention's text nearest to its offset.
    """
    start, stop = mention.start, mention.end
    if not mention.text:
        return None  # no words to find, and an empty match would be anywhere
    # Offsets that do not span the words (or a slice cut short by the end of the text) hold nothing.
    if start >= 0 and stop - start == len(mention.text):
        crlf = text[:start].count("\n")
        for shift in (0, crlf, text[: start - crlf].count("\n")):
            if text[start - shift : stop - shift] == mention.text:
                return start - shift, stop - shift
    found = [m.start() for m in re.finditer(re.escape(mention.text), text)]
    if not found:
        return None
    best = min(found, key=lambda i: abs(i - start))
    return best, best + len(mention.text)


def locate_mentions(text: str, labels: Sequence[EntityLabel]) -> list[tuple[int, int] | None]:
    """:func:`locate_mention` for the rows of one article. Logs a warning, with file and line,
    for each mention found only by its text or not at all, and once for the mentions that
    read as CRLF-counted."""
    out, crlf = [], []
    for row in labels:
        m = row.mention
        found = locate_mention(text, m)
        if found is None:
            log.warning("%s: mention %r is not in %s", row.where, m.text, row.article)
        elif found[0] != m.start:
            if m.start - found[0] == text[: found[0]].count("\n"):
                crlf.append(row)
            else:
                log.warning(
                    "%s: offsets %d-%d do not hold %r; read at its nearest occurrence, %d",
                    row.where,
                    m.start,
                    m.end - 1,
                    m.text,
                    found[0],
                )
        out.append(found)
    if crlf:
        log.warning(
            "%s: %d mention(s) of %s count a \\r before each line break (offsets of a CRLF copy); read accordingly",
            crlf[0].where,
            len(crlf),
            crlf[0].article,
        )
    return out


def write_narratives(path: Path, predictions: Iterable[tuple[str, Sequence[str], Sequence[str]]]) -> None:
    _write(path, (f"{aid}\t{';'.join(coarse)}\t{';'.join(fine)}" for aid, coarse, fine in predictions))


def write_entity_labels(path: Path, rows: Iterable[EntityLabel]) -> None:
    """A subtask-1 file: one row per mention, its end inclusive as the format wants."""
    _write(
        path,
        (
            "\t".join(
                [r.article, r.mention.text, str(r.mention.start), str(r.mention.end - 1), r.role or "", *r.fine_roles]
            )
            for r in rows
        ),
    )


# --- SemEval-2025 Task 10: explanations of the dominant narrative (subtask 3) ----------------

#: How a subtask-3 file says the dominant narrative has no sub-narrative.
NO_SUBNARRATIVE = "none"


@dataclass(frozen=True)
class ExplanationLabel:
    """A row of a subtask-3 file: the article's dominant narrative and sub-narrative (``None``
    when the file says ``none``) and, in labelled files, the explanation."""

    article: str
    narrative: str
    subnarrative: str | None
    explanation: str = ""


def read_explanation_labels(path: Path, explanations: bool = True) -> list[ExplanationLabel]:
    """The rows of a subtask-3 file, in file order; with ``explanations=False`` only the first
    three columns (what the task gives) are read. Unknown labels, a sub-narrative of another
    narrative and an article listed twice are errors."""
    rows, seen = [], set()
    for number, fields in _rows(path, 4 if explanations else 3):
        where = f"{path}:{number}"
        aid, narrative, sub = (x.strip() for x in fields[:3])
        if narrative not in NARRATIVE_NAMES:
            raise DataError(f"{where}: unknown narrative {narrative!r}")
        subnarrative = None if sub.lower() == NO_SUBNARRATIVE else sub
        if subnarrative is not None and subnarrative not in SUBNARRATIVE_NAMES:
            raise DataError(f"{where}: unknown sub-narrative {sub!r}")
        if subnarrative is not None and narrative_parent(subnarrative) != narrative:
            raise DataError(f"{where}: sub-narrative {sub!r} is not one of {narrative!r}")
        if aid in seen:
            raise DataError(f"{where}: article {aid} is listed twice")
        seen.add(aid)
        text = " ".join(fields[3].split()) if explanations else ""
        rows.append(ExplanationLabel(aid, narrative, subnarrative, text))
    return rows


def write_explanations(path: Path, rows: Iterable[tuple[str, str]]) -> None:
    """A subtask-3 prediction file: ``article<TAB>explanation`` per article (tabs and line
    breaks in an explanation become spaces)."""
    _write(path, (f"{aid}\t{' '.join(text.split())}" for aid, text in rows))


def read_explanations(path: Path) -> dict[str, str]:
    """A subtask-3 prediction file read back: ``{article: explanation}``."""
    return {fields[0]: (fields[1] if len(fields) > 1 else "") for _, fields in _rows(path, 1)}
