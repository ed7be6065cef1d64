"""Corpus mode: read many articles, analyse them on local processes or a dask cluster, store them.

    result = run_batch("corpus.jsonl", "corpus.sqlite", workers=2)

INPUT is one of:

- a folder of ``.txt`` / ``.html`` files (searched recursively; the id is the path without
  its suffix, and a file in a sub-folder gets that top-level sub-folder's name as its source);
- a JSONL file (one JSON object per line) or a CSV file (with a header row), each record with
  ``id`` and ``text`` and optionally ``title``, ``url``, ``source``, ``date`` and ``language``;
- a SemEval data folder ``DATA_DIR/LANG/SPLIT-articles-subtask-N/article<ID>.txt`` (or one of
  its language folders); the language comes from the folder name.

Bad input (a malformed line, an unreadable file, a duplicate id) is reported as a
:class:`Problem` with its file and line and the rest is analysed; an article whose analysis
fails is stored with the reason. The parent process reads the input and is the only one to
write to the database; workers (processes, or dask workers) only analyse, each loading the
models once. A rerun skips the articles already stored for the current model version.
"""
from __future__ import annotations

import csv
import io
import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from .document import Article
from .ingest import HTML_SUFFIXES, MAX_BYTES, MAX_CHARS, InputError, decode_bytes, html_article, normalise_language
from .semeval import article_id, iso_language
from .store import ArticleRecord, Store, model_version

ENGINES = ("local", "dask")
TEXT_SUFFIXES = (".txt",)
JSONL_SUFFIXES = (".jsonl", ".ndjson")
CSV_SUFFIXES = (".csv",)
OPTIONAL_FIELDS = ("title", "url", "source", "date")
#: Analyses in flight per worker: enough to keep workers busy, few enough to lose little on a kill.
IN_FLIGHT_PER_WORKER = 4

Progress = Callable[[int, int], None]
#: What a worker returns: ``(content hash, Analysis.to_dict() or None, error or None)``.
Result = tuple[str, dict | None, str | None]
Task = tuple[str, str, str, str | None]  # (content hash, text, id, language)


@dataclass(frozen=True)
class Problem:
    """An input spinscope could not use: where (``file:line`` or a file) and why."""

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class BatchError(RuntimeError):
    """The batch could not go on (a worker process died, the cluster went away); rerun to resume."""


@dataclass
class BatchResult:
    db: Path
    model_version: str
    inputs: int = 0          #: articles read from INPUT (after dropping bad records and duplicate ids)
    analysed: int = 0        #: stored with status ok in this run
    failed: int = 0          #: stored with status failed (and their reason) in this run
    skipped: int = 0         #: already stored for this model version, or the same text twice
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def per_minute(self) -> float:
        """Articles analysed (ok or failed) per minute of wall time in this run."""
        return 60.0 * (self.analysed + self.failed) / self.seconds if self.seconds else 0.0


# -- reading ------------------------------------------------------------------------------

def read_input(path: Path | str, split: str | None = None, lang: str | None = None,
               ) -> tuple[list[ArticleRecord], list[Problem]]:
    """Every article of INPUT ``path`` as a record with its language, and the problems met.

    ``split`` restricts a SemEval folder to one split (``train``, ``test``...). ``lang`` is the
    language of records that do not say theirs (detected when ``None``).
    """
    path = Path(path)
    default_language = normalise_language(lang) if lang else None
    records: list[ArticleRecord] = []
    problems: list[Problem] = []
    first_seen: dict[str, str] = {}
    for item in _read(path, split):
        if isinstance(item, Problem):
            problems.append(item)
        elif item.id in first_seen:
            problems.append(Problem(item.location, f"duplicate id {item.id!r} (first at {first_seen[item.id]}): skipped"))
        else:
            first_seen[item.id] = item.location
            records.append(item)
    if any(r.language is None for r in records):
        from .ingest import detect_language

        records = [r if r.language else replace(r, language=default_language or detect_language(r.text))
                   for r in records]
    return records, problems


def _read(path: Path, split: str | None) -> Iterator[ArticleRecord | Problem]:
    if not path.exists():
        raise InputError(f"no such file or folder: {path}", 404)
    if path.is_dir():
        if _is_semeval(path):
            return read_semeval(path, split)
        if _is_semeval(path.parent) and any(path.glob("*-articles-subtask-*")):
            return read_semeval(path.parent, split, languages=[path.name])
        if split:
            raise InputError(f"--split only applies to a SemEval data folder, and {path} is not one")
        return read_folder(path)
    suffix = path.suffix.lower()
    if suffix in JSONL_SUFFIXES:
        return read_jsonl(path)
    if suffix in CSV_SUFFIXES:
        return read_csv(path)
    if suffix in TEXT_SUFFIXES + HTML_SUFFIXES:
        return iter([_read_file(path, path.parent)])
    raise InputError(f"{path}: unknown input type {suffix or '(no suffix)'}: give a folder of .txt/.html files, "
                     "a .jsonl or .csv file with id and text, or a SemEval data folder")


def _is_semeval(folder: Path) -> bool:
    return any(p.is_dir() for p in folder.glob("*/*-articles-subtask-*"))


def _make_record(text: str, id: str, location: str, **meta) -> ArticleRecord | Problem:
    """A record from raw fields, or the :class:`Problem` that prevents one."""
    title = meta.get("title")
    if title and " ".join(title.split()) != " ".join(text.lstrip("\ufeff").split("\n", 1)[0].split()):
        text = " ".join(title.split()) + "\n\n" + text  # the article's first line is its title
    if not text.replace("\ufeff", "").strip():
        return Problem(location, f"article {id!r} has no text")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return Problem(location, f"article {id!r} has invalid characters (unpaired surrogates)")
    if not title:
        first = Article(text[:2000]).title
        meta["title"] = " ".join(first.text.split())[:300] if first else None
    return ArticleRecord(id=id, text=text, location=location, **meta)


def _read_file(path: Path, root: Path) -> ArticleRecord | Problem:
    relative = path.relative_to(root)
    aid = relative.with_suffix("").as_posix()
    source = relative.parts[0] if len(relative.parts) > 1 else None
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            return Problem(str(path), f"{size:,} bytes; spinscope reads at most {MAX_BYTES:,} bytes per article")
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
    paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() in suffixes and p.is_file()
                   and not any(part.startswith(".") for part in p.relative_to(folder).parts))
    if not paths:
        raise InputError(f"no .txt or .html files in {folder}")
    for path in paths:
        yield _read_file(path, folder)


def _from_fields(fields: dict, where: str) -> ArticleRecord | Problem:
    aid, text = fields.get("id"), fields.get("text")
    if aid is None or str(aid).strip() == "":
        return Problem(where, 'no "id"')
    if not isinstance(text, str):
        return Problem(where, f'article {aid!r}: no "text"' if text is None else f'article {aid!r}: "text" is not a string')
    meta = {k: str(fields[k]).strip() or None for k in OPTIONAL_FIELDS if fields.get(k) not in (None, "")}
    if "date" in meta:
        meta["date"] = iso_date(meta["date"])
        if meta["date"] is None:
            return Problem(where, f'article {aid!r}: date {fields["date"]!r} is not an ISO date (YYYY-MM-DD)')
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
        handle = open(path, "rb")
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
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                yield Problem(where, f"not valid JSON ({error.msg} at column {error.colno})")
                continue
            if not isinstance(record, dict):
                yield Problem(where, 'expected a JSON object like {"id": "a1", "text": "..."}')
                continue
            yield _from_fields(record, where)


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
        raise InputError(f"{path}:1: no header row; a CSV corpus starts with a header naming the columns id and text") from None
    for required in ("id", "text"):
        if required not in header:
            raise InputError(f"{path}:1: no {required!r} column (columns: {', '.join(header) or 'none'}); "
                             "a CSV corpus needs the columns id and text (optional: title, url, source, date, language)")
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


def read_semeval(data_dir: Path, split: str | None = None, languages: Iterable[str] | None = None,
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
        by_split: dict[str, list[Path]] = {}
        for folder in sorted(lang_dir.glob("*-articles-subtask-*")):
            name = folder.name.split("-articles-subtask-")[0]
            if folder.is_dir() and (split is None or name == split):
                by_split.setdefault(name, []).append(folder)
        language = iso_language(lang_dir.name)
        for name, folders in sorted(by_split.items()):
            seen: set[str] = set()
            for folder in folders:
                for path in sorted(folder.glob("article*.txt")):
                    aid = article_id(path)
                    if aid in seen:
                        continue
                    seen.add(aid)
                    found = True
                    try:
                        text = decode_bytes(path.read_bytes(), str(path))
                    except OSError as error:
                        yield Problem(str(path), f"cannot be read ({error.strerror or error})")
                        continue
                    except InputError as error:
                        yield Problem(str(path), str(error))
                        continue
                    yield _make_record(text, aid, str(path), language=language,
                                       source=f"{data_dir.name}/{lang_dir.name}")
    if not found:
        raise InputError(f"no {split or 'SPLIT'}-articles-subtask-N/article*.txt files in {data_dir}")


# -- analysing: workers ---------------------------------------------------------------------

_ANALYZERS: dict = {}


def worker_analyzer(model_dir: str | None = None, cache: bool = True):
    """The Analyzer of this process, loaded on first use and kept (one per model folder)."""
    key = (str(model_dir) if model_dir else None, cache)
    if key not in _ANALYZERS:
        from .pipeline import Analyzer

        _ANALYZERS[key] = Analyzer(model_dir, cache=cache)
    return _ANALYZERS[key]


def analyze_task(task: Task, model_dir: str | None = None, cache: bool = True) -> Result:
    """Analyse one article in a worker; any failure comes back as its reason, never raised."""
    key, text, aid, language = task
    try:
        analysis = worker_analyzer(model_dir, cache).analyze(Article(text, id=aid, language=language))
        return key, analysis.to_dict(), None
    except Exception as error:  # noqa: BLE001 - one bad article must not stop the batch
        return key, None, f"{type(error).__name__}: {error}"


def _init_worker(model_dir: str | None, cache: bool, threads: int) -> None:
    # Before the embedding engine loads: its OpenMP pool would otherwise take every core in
    # every worker, and N workers would fight over the same cores.
    os.environ["OMP_NUM_THREADS"] = str(threads)
    worker_analyzer(model_dir, cache)


def _warm_worker(model_dir: str | None, cache: bool) -> str:
    worker_analyzer(model_dir, cache)
    return "ready"


def threads_per_worker(workers: int) -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    return max(1, cores // max(1, workers))


def run_local(tasks: list[Task], on_result: Callable[[Result], None], workers: int = 1,
              model_dir: str | None = None, cache: bool = True) -> None:
    """Analyse ``tasks`` in this process (``workers=1``) or a pool of worker processes."""
    if workers <= 1:
        for task in tasks:
            on_result(analyze_task(task, model_dir, cache))
        return
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=_init_worker,
                               initargs=(model_dir, cache, threads_per_worker(workers)))
    todo = iter(tasks)
    pending: set = set()
    try:
        while True:
            for task in todo:
                pending.add(pool.submit(analyze_task, task, model_dir, cache))
                if len(pending) >= IN_FLIGHT_PER_WORKER * workers:
                    break
            if not pending:
                break
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                on_result(future.result())
    except BrokenProcessPool:
        raise BatchError("a worker process died (out of memory?); what was stored is kept: rerun to resume") from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def run_dask(tasks: list[Task], on_result: Callable[[Result], None], workers: int = 2,
             scheduler: str | None = None, model_dir: str | None = None, cache: bool = True) -> None:
    """Analyse ``tasks`` on a dask.distributed cluster: a LocalCluster of ``workers`` processes
    when ``scheduler`` is ``None``, else the cluster at that address (its workers need
    spinscope installed). Every worker loads the models once, before the first task."""
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise InputError("the dask engine needs dask.distributed: pip install 'dask[distributed]'") from None
    cluster = None
    if scheduler:
        try:
            client = Client(scheduler, timeout="30s")
        except (OSError, TimeoutError) as error:
            raise InputError(f"cannot reach the dask scheduler at {scheduler} ({error}): start one with "
                             "`dask scheduler` and workers with `dask worker ADDRESS`, or leave out --scheduler") from None
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                               silence_logs=logging.ERROR,
                               env={"OMP_NUM_THREADS": str(threads_per_worker(workers))})
        client = Client(cluster)
    try:
        try:
            client.wait_for_workers(1, timeout=120)
        except TimeoutError:
            raise BatchError(f"the dask cluster at {scheduler} has no workers") from None
        try:
            client.run(_warm_worker, model_dir, cache)  # load the models on every worker, once
        except Exception as error:  # noqa: BLE001 - whatever a remote worker raised
            raise BatchError(f"the dask workers cannot load spinscope's models ({type(error).__name__}: {error}); "
                             "install the same spinscope version on every worker") from None
        slots = sum(client.nthreads().values())
        todo = iter(tasks)
        running = as_completed()

        def submit_next() -> None:
            task = next(todo, None)
            if task is not None:
                running.add(client.submit(analyze_task, task, model_dir, cache, pure=False))

        for _ in range(max(2, IN_FLIGHT_PER_WORKER * slots)):
            submit_next()
        for future in running:
            try:
                result = future.result()
            except Exception as error:  # noqa: BLE001 - analyze_task never raises: this is the cluster
                raise BatchError(f"the dask cluster failed ({type(error).__name__}: {error}); what was stored is "
                                 "kept: rerun to resume") from None
            future.release()
            on_result(result)
            submit_next()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


# -- the batch ------------------------------------------------------------------------------

def analyse_records(records: list[ArticleRecord], db: Path | str, *, workers: int = 1, engine: str = "local",
                    scheduler: str | None = None, model_dir: Path | str | None = None, cache: bool = True,
                    retry_failed: bool = False, progress: Progress | None = None,
                    problems: list[Problem] | None = None) -> BatchResult:
    """Analyse and store the ``records`` not yet stored for the current model version.

    ``progress(done, total)`` is called once before the first article and after each one
    stored. ``retry_failed`` analyses again the articles stored as failed.
    """
    if engine not in ENGINES:
        raise InputError(f"unknown engine {engine!r}: use one of {', '.join(ENGINES)}")
    if workers < 1:
        raise InputError(f"--workers must be at least 1, not {workers}")
    from . import __version__

    started = time.perf_counter()
    model_dir = str(model_dir) if model_dir else None
    info = worker_analyzer(model_dir, cache).model_info
    version = model_version(info)
    result = BatchResult(Path(db), version, inputs=len(records), problems=list(problems or []))
    with Store(db) as store:
        store.register_model_version(version, info, __version__)
        stored = store.stored_hashes(version, include_failed=not retry_failed)
        todo: dict[str, ArticleRecord] = {}
        first_id: dict[str, str] = {}
        for record in records:
            key = record.hash
            if key in first_id:
                result.problems.append(Problem(record.location, f"same text as article {first_id[key]!r}: stored once"))
                result.skipped += 1
                continue
            first_id[key] = record.id
            if key in stored:
                result.skipped += 1
            else:
                todo[key] = record
        total = len(todo)
        done = 0
        if progress:
            progress(0, total)

        def on_result(outcome: Result) -> None:
            nonlocal done
            key, analysis, error = outcome
            if store.save(todo[key], version, analysis, error):
                if analysis is None:
                    result.failed += 1
                else:
                    result.analysed += 1
            else:
                result.skipped += 1  # stored meanwhile by another run
            done += 1
            if progress:
                progress(done, total)

        tasks: list[Task] = []
        for key, record in todo.items():
            if len(record.text) > MAX_CHARS:
                on_result((key, None, f"the article has {len(record.text):,} characters; spinscope analyses "
                                      f"at most {MAX_CHARS:,}: split it into articles"))
            else:
                tasks.append((key, record.text, record.id, record.language))
        if engine == "dask":
            run_dask(tasks, on_result, workers, scheduler, model_dir, cache)
        else:
            run_local(tasks, on_result, workers, model_dir, cache)
    result.seconds = time.perf_counter() - started
    return result


def run_batch(input: Path | str, db: Path | str, *, workers: int = 1, engine: str = "local",
              scheduler: str | None = None, model_dir: Path | str | None = None, split: str | None = None,
              lang: str | None = None, cache: bool = True, retry_failed: bool = False,
              progress: Progress | None = None, on_problem: Callable[[Problem], None] | None = None) -> BatchResult:
    """Read INPUT, then analyse and store every article not yet stored (see :func:`analyse_records`).

    Input problems are passed to ``on_problem`` as soon as the input is read (and returned
    in ``BatchResult.problems``); an InputError is raised only when INPUT as a whole is unusable.
    """
    if engine not in ENGINES:
        raise InputError(f"unknown engine {engine!r}: use one of {', '.join(ENGINES)}")
    records, problems = read_input(input, split, lang)
    if on_problem:
        for problem in problems:
            on_problem(problem)
    reported = len(problems)
    result = analyse_records(records, db, workers=workers, engine=engine, scheduler=scheduler, model_dir=model_dir,
                             cache=cache, retry_failed=retry_failed, progress=progress, problems=problems)
    if on_problem:
        for problem in result.problems[reported:]:
            on_problem(problem)
    return result
