"""Corpus input: every article of a folder, a JSONL or CSV file, or a SemEval data folder.

INPUT is one of:

- a folder of ``.txt`` / ``.html`` files (searched recursively; the id is the path without
  its suffix, and a file in a sub-folder gets that top-level sub-folder's name as its source);
- a JSONL file (one JSON object per line) or a CSV file (with a header row), each record with
  ``id`` and ``text`` and optionally ``title``, ``url``, ``source``, ``date`` and ``language``;
- a SemEval data folder ``DATA_DIR/LANG/SPLIT-articles-subtask-N/article<ID>.txt`` (or one of
  its language folders); the language comes from the folder name.

Bad input (a malformed line, an unreadable file, a duplicate id) is a :class:`Problem` with
its file and line, logged as a warning, and the rest is read.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from ..document import title_of
from ..errors import InputError, NotFoundError
from ..io.decoding import HTML_SUFFIXES, MAX_BYTES, check_size, decode_bytes
from ..io.ingest import html_article
from ..io.language import detect_language, normalise_language
from ..semeval.layout import article_id, is_2023_data, iso_language, split_folders
from .store import ArticleRecord

log = logging.getLogger(__name__)

TEXT_SUFFIXES = (".txt",)
JSONL_SUFFIXES = (".jsonl", ".ndjson")
CSV_SUFFIXES = (".csv",)
OPTIONAL_FIELDS = ("title", "url", "source", "date")


@dataclass(frozen=True)
class Problem:
    """An input spinscope could not use: where (``file:line`` or a file) and why."""

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


def read_input(
    path: Path | str,
    split: str | None = None,
    lang: str | None = None,
) -> tuple[list[ArticleRecord], list[Problem]]:
    """Every article of INPUT ``path`` as a record with its language, and the problems met
    (each logged as a warning).

    ``split`` restricts a SemEval folder to one split (``train``, ``test``...). ``lang`` is the
    language of records that do not say theirs (detected when ``None``).
    """
    path = Path(path)
    default_language = normalise_language(lang) if lang else None
    records: list[ArticleRecord] = []
    problems: list[Problem] = []
    first_seen: dict[str, str] = {}
    for item in _read(path, split):
        if isinstance(item, ArticleRecord) and item.id in first_seen:
            item = Problem(item.location, f"duplicate id {item.id!r} (first at {first_seen[item.id]}): skipped")
        if isinstance(item, Problem):
            log.warning("%s", item)
            problems.append(item)
        else:
            first_seen[item.id] = item.location
            records.append(item)
    if any(r.language is None for r in records):
        records = [
            r if r.language else replace(r, language=default_language or detect_language(r.text)) for r in records
        ]
    return records, problems


def _read(path: Path, split: str | None) -> Iterator[ArticleRecord | Problem]:
    try:
        exists, is_dir = path.exists(), path.is_dir()
    except OSError as error:  # a name too long for the system, a folder that may not be searched
        raise InputError(f"{path} cannot be read ({error.strerror or error})") from None
    if not exists:
        raise NotFoundError(f"no such file or folder: {path}")
    if is_dir:
        if is_2023_data(path):
            return read_semeval(path, split)
        if is_2023_data(path.parent) and split_folders(path):
            return read_semeval(path.parent, split, languages=[path.name])
        if split:
            raise InputError(f"a split only applies to a SemEval data folder, and {path} is not one")
        return read_folder(path)
    suffix = path.suffix.lower()
    if suffix in JSONL_SUFFIXES:
        return read_jsonl(path)
    if suffix in CSV_SUFFIXES:
        return read_csv(path)
    if suffix in TEXT_SUFFIXES + HTML_SUFFIXES:
        return iter([_read_file(path, path.parent)])
    raise InputError(
        f"{path}: unknown input type {suffix or '(no suffix)'}: give a folder of .txt/.html files, "
        "a .jsonl or .csv file with id and text, or a SemEval data folder"
    )


def _make_record(text: str, id: str, location: str, **meta) -> ArticleRecord | Problem:
    """A record from raw fields, or the :class:`Problem` that prevents one."""
    title = meta.get("title")
    if title and title_of(title) != title_of(text):
        text = title_of(title) + "\n\n" + text  # the article's first line is its title
    if not text.replace("\ufeff", "").strip():
        return Problem(location, f"article {id!r} has no text")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return Problem(location, f"article {id!r} has invalid characters (unpaired surrogates)")
    if not title:
        meta["title"] = title_of(text[:2000])[:300] or None
    return ArticleRecord(id=id, text=text, location=location, **meta)


def _read_file(path: Path, root: Path) -> ArticleRecord | Problem:
    relative = path.relative_to(root)
    aid = relative.with_suffix("").as_posix()
    source = relative.parts[0] if len(relative.parts) > 1 else None
    try:
        check_size(path.stat().st_size, str(path))
        data = path.read_bytes()
        if path.suffix.lower() in HTML_SUFFIXES:
            article = html_article(decode_bytes(data, str(path)), str(path))
            text = article.text
        else:
            text = decode_bytes(data, str(path))
    except OSError as error:
        return Problem(str(path), f"cannot be read ({error.strerror or error})")
    except InputError as error:
        return Problem(str(path), str(error))
    return _make_record(text, aid, str(path), source=source)


def read_folder(folder: Path) -> Iterator[ArticleRecord | Problem]:
    """The ``.txt`` and ``.html`` files under ``folder`` (hidden ones skipped), in path order."""
    suffixes = TEXT_SUFFIXES + HTML_SUFFIXES
    paths = sorted(
        p
        for p in folder.rglob("*")
        if p.suffix.lower() in suffixes
        and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )
    if not paths:
        raise InputError(f"no .txt or .html files in {folder}")
    for path in paths:
        yield _read_file(path, folder)


def _from_fields(fields: dict, where: str) -> ArticleRecord | Problem:
    aid, text = fields.get("id"), fields.get("text")
    if aid is None or str(aid).strip() == "":
        return Problem(where, 'no "id"')
    if not isinstance(text, str):
        return Problem(
            where, f'article {aid!r}: no "text"' if text is None else f'article {aid!r}: "text" is not a string'
        )
    meta = {k: str(fields[k]).strip() or None for k in OPTIONAL_FIELDS if fields.get(k) not in (None, "")}
    date = meta.get("date")
    if date is not None:  # a blank date is no date, as any blank optional field
        meta["date"] = iso_date(date)
        if meta["date"] is None:
            return Problem(where, f"article {aid!r}: date {fields['date']!r} is not an ISO date (YYYY-MM-DD)")
    language = fields.get("language") or fields.get("lang")
    if language:
        try:
            meta["language"] = normalise_language(str(language))
        except InputError as error:
            return Problem(where, f"article {aid!r}: {error}")
    return _make_record(text, str(aid).strip(), where, **meta)


def iso_date(value: str) -> str | None:
    """``YYYY-MM-DD`` of an ISO 8601 date or timestamp (``2024-03-05``, ``2024-03-05T10:00:00Z``), else ``None``."""
    value = value.strip()
    try:
        return datetime.fromisoformat(value).date().isoformat()
    except ValueError:
        pass
    for pattern in ("%Y-%m", "%Y"):
        try:
            return datetime.strptime(value, pattern).date().isoformat()
        except ValueError:
            pass
    return None


def read_jsonl(path: Path) -> Iterator[ArticleRecord | Problem]:
    """One article per line ``{"id": ..., "text": ..., ...}``; a bad line is a Problem."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 - its own error gets a message; the with below closes it
    except OSError as error:
        raise InputError(f"{path} cannot be read ({error.strerror or error})") from None
    with handle:
        for number, raw in enumerate(handle, start=1):
            where = f"{path}:{number}"
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError:
                yield Problem(where, "not UTF-8: convert the file to UTF-8")
                continue
            if not line.strip():
                continue
            record = _json_line(line, where)
            if isinstance(record, Problem):
                yield record
                continue
            if not isinstance(record, dict):
                yield Problem(where, 'expected a JSON object like {"id": "a1", "text": "..."}')
                continue
            yield _from_fields(record, where)


def _json_line(line: str, where: str) -> object:
    """The JSON value of one line, or the :class:`Problem` that prevents reading it."""
    try:
        return json.loads(line)
    except json.JSONDecodeError as error:
        return Problem(where, f"not valid JSON ({error.msg} at column {error.colno})")
    except RecursionError:
        return Problem(where, "not readable JSON (arrays or objects nested too deeply)")
    except ValueError as error:  # Python refuses integers of more than 4,300 digits
        return Problem(where, f"not readable JSON ({error})")


def read_csv(path: Path) -> Iterator[ArticleRecord | Problem]:
    """Articles from a CSV file with a header row naming at least ``id`` and ``text``."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError(f"{path} cannot be read ({error.strerror or error})") from None
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        content = decode_bytes(data, str(path)).lstrip("\ufeff")
    csv.field_size_limit(max(csv.field_size_limit(), 4 * MAX_BYTES))
    reader = csv.reader(io.StringIO(content, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except (StopIteration, csv.Error):
        raise InputError(
            f"{path}:1: no header row; a CSV corpus starts with a header naming the columns id and text"
        ) from None
    for required in ("id", "text"):
        if required not in header:
            raise InputError(
                f"{path}:1: no {required!r} column (columns: {', '.join(header) or 'none'}); "
                "a CSV corpus needs the columns id and text (optional: title, url, source, date, language)"
            )
    return _csv_rows(path, reader, header)


def _csv_rows(path: Path, reader, header: list[str]) -> Iterator[ArticleRecord | Problem]:
    previous_end = reader.line_num
    while True:
        start = previous_end + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            previous_end = reader.line_num
            yield Problem(f"{path}:{start}", f"malformed CSV ({error})")
            continue
        previous_end = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            yield Problem(f"{path}:{start}", f"expected {len(header)} fields, got {len(row)} (is a quote missing?)")
            continue
        yield _from_fields(dict(zip(header, row)), f"{path}:{start}")


def read_semeval(
    data_dir: Path,
    split: str | None = None,
    languages: Iterable[str] | None = None,
) -> Iterator[ArticleRecord | Problem]:
    """The articles of a SemEval data folder, each once per language and split.

    The subtask folders of one split share most articles: an id is read from the first folder
    that has it. The source is ``DATA_DIR_NAME/LANG``.
    """
    wanted = set(languages) if languages else None
    found = False
    for lang_dir in sorted(p for p in data_dir.iterdir() if p.is_dir()):
        if wanted is not None and lang_dir.name not in wanted:
            continue
        language = iso_language(lang_dir.name)
        for _, folders in sorted(split_folders(lang_dir, split).items()):
            seen: set[str] = set()
            for folder in folders:
                for path in sorted(folder.glob("article*.txt")):
                    aid = article_id(path)
                    if aid in seen:
                        continue
                    seen.add(aid)
                    found = True
                    try:
                        check_size(path.stat().st_size, str(path))
                        text = decode_bytes(path.read_bytes(), str(path))
                    except OSError as error:
                        yield Problem(str(path), f"cannot be read ({error.strerror or error})")
                        continue
                    except InputError as error:
                        yield Problem(str(path), str(error))
                        continue
                    yield _make_record(
                        text, aid, str(path), language=language, source=f"{data_dir.name}/{lang_dir.name}"
                    )
    if not found:
        raise InputError(f"no {split or 'SPLIT'}-articles-subtask-N/article*.txt files in {data_dir}")
