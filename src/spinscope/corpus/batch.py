"""Corpus mode: read many articles, analyse them on an engine, store them once each.

    result = run_batch("corpus.jsonl", "corpus.sqlite", workers=2)

The parent process reads the input (:mod:`~.readers`) and is the only one of a batch to write
to the database (:mod:`~.store`); workers (:mod:`~.engines`) only analyse. A rerun skips the
articles already stored for the current model version; an article whose analysis fails is
stored with the reason. Two batches on one database store each article once (the second to
finish an article finds it stored and counts it as skipped), and a database that fails (a full
disk, a read-only file) stops the batch with a :class:`~spinscope.errors.StoreError`, keeping
every article stored before.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__
from ..errors import InputError
from ..io.decoding import check_text
from ..pipeline import Analyzer
from ..progress import Counter, Progress
from .engines import ENGINES, Result, Task, load_analyzer, run_dask, run_local
from .readers import Problem, read_input
from .store import ArticleRecord, Store, model_version

log = logging.getLogger(__name__)


@dataclass
class BatchResult:
    """What a batch did; ``problems`` are the input problems met (each also logged)."""

    db: Path
    model_version: str
    inputs: int = 0  #: articles read from INPUT (after dropping bad records and duplicate ids)
    analysed: int = 0  #: stored with status ok in this run
    failed: int = 0  #: stored with status failed (and their reason) in this run
    skipped: int = 0  #: already stored for this model version, or the same text twice
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def per_minute(self) -> float:
        """Articles analysed (ok or failed) per minute of wall time in this run."""
        return 60.0 * (self.analysed + self.failed) / self.seconds if self.seconds else 0.0


def analyse_records(
    records: list[ArticleRecord],
    db: Path | str,
    *,
    workers: int = 1,
    engine: str = "local",
    scheduler: str | None = None,
    model_dir: Path | str | None = None,
    cache: bool = True,
    retry_failed: bool = False,
    progress: Progress | None = None,
    problems: list[Problem] | None = None,
) -> BatchResult:
    """Analyse and store the ``records`` not yet stored for the current model version.

    ``progress`` follows the articles stored; ``retry_failed`` analyses again the articles
    stored as failed. ``problems`` met while reading the input are kept in the result.
    """
    _check_engine(engine, workers)
    started = time.perf_counter()
    model_dir = str(model_dir) if model_dir else None
    with Store(db) as store:  # a database that cannot be used stops the batch before the models load
        # The models' versions; this process analyses too only with one local worker.
        analyzer = load_analyzer(model_dir, cache) if engine == "local" and workers == 1 else None
        info = (analyzer if analyzer is not None else Analyzer(model_dir, preload=False)).model_info
        version = model_version(info)
        result = BatchResult(Path(db), version, inputs=len(records), problems=list(problems or []))
        store.register_model_version(version, info, __version__)
        stored = store.stored_hashes(version, include_failed=not retry_failed)
        todo = _not_stored(records, stored, result)
        counter = Counter(progress, "analysing", len(todo))

        def on_result(outcome: Result) -> None:
            key, analysis, error = outcome
            if store.save(todo[key], version, analysis, error):
                if analysis is None:
                    result.failed += 1
                else:
                    result.analysed += 1
            else:
                result.skipped += 1  # stored meanwhile by another run
            counter.advance()

        tasks: list[Task] = []
        for key, record in todo.items():
            try:
                check_text(record.text, "the article")
            except InputError as error:
                on_result((key, None, str(error)))
            else:
                tasks.append((key, record.text, record.id, record.language))
        if engine == "dask":
            run_dask(tasks, on_result, workers, scheduler, model_dir, cache)
        else:
            run_local(tasks, on_result, workers, model_dir, cache, analyzer)
    result.seconds = time.perf_counter() - started
    return result


def _not_stored(records: list[ArticleRecord], stored: set[str], result: BatchResult) -> dict[str, ArticleRecord]:
    """The records to analyse, by content hash: not stored yet and not repeating an earlier
    record's text (each repeat is a problem of ``result``); the others count as skipped."""
    todo: dict[str, ArticleRecord] = {}
    first_id: dict[str, str] = {}
    for record in records:
        key = record.hash
        if key in first_id:
            problem = Problem(record.location, f"same text as article {first_id[key]!r}: stored once")
            log.warning("%s", problem)
            result.problems.append(problem)
            result.skipped += 1
            continue
        first_id[key] = record.id
        if key in stored:
            result.skipped += 1
        else:
            todo[key] = record
    return todo


def run_batch(
    input: Path | str,
    db: Path | str,
    *,
    workers: int = 1,
    engine: str = "local",
    scheduler: str | None = None,
    model_dir: Path | str | None = None,
    split: str | None = None,
    lang: str | None = None,
    cache: bool = True,
    retry_failed: bool = False,
    progress: Progress | None = None,
) -> BatchResult:
    """Read INPUT (see :func:`~.readers.read_input`), then analyse and store every article not
    yet stored (see :func:`analyse_records`).

    Input problems are logged as they are found and returned in ``BatchResult.problems``;
    an :class:`~spinscope.errors.InputError` is raised only when INPUT as a whole is unusable.
    """
    _check_engine(engine, workers)
    if scheduler and engine != "dask":
        raise InputError("a scheduler address is only used by the dask engine")
    records, problems = read_input(input, split, lang)
    return analyse_records(
        records,
        db,
        workers=workers,
        engine=engine,
        scheduler=scheduler,
        model_dir=model_dir,
        cache=cache,
        retry_failed=retry_failed,
        progress=progress,
        problems=problems,
    )


def _check_engine(engine: str, workers: int) -> None:
    if engine not in ENGINES:
        raise InputError(f"unknown engine {engine!r}: use one of {', '.join(ENGINES)}")
    if workers < 1:
        raise InputError(f"the number of workers must be at least 1, not {workers}")
