"""What the analysis routes run: the Analyzer on a thread of its own behind a bounded queue, the
cache of its answers, and the articles the routes hand it.

An article is read (and its language detected) in a worker thread, then looked up in the
:class:`~spinscope.pipeline.cache.AnalysisCache`: a hit is answered without the encoder. A
miss joins the analysis of the same key already under way, if any, or queues a new one for
the one analysis thread. When ``queue`` analyses already wait, the request is refused at once
(:class:`Busy`); a request whose analysis has not finished ``time_limit`` seconds after it was
queued is refused too, while the analysis goes on and fills the cache for the next ask.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from starlette.concurrency import run_in_threadpool

from ...corpus.store import model_version
from ...document import Article
from ...errors import ConfigError, InputError
from ...io import HTML_SUFFIXES, article_from_bytes, load_url, normalise_language, with_language
from ...pipeline.cache import AnalysisCache, CacheStats, analysis_key

#: Makes the article of a request; called in a worker thread, as it may fetch a URL.
ArticleSource = Callable[[], Article]


@dataclass(frozen=True)
class ServiceLimits:
    """How much the analysis service keeps and takes on.

    ``cache_entries`` and ``cache_bytes`` bound the cache of answers (0: no cache); ``queue``
    is how many analyses may wait while one runs; ``time_limit`` is how many seconds a request
    waits for its analysis, from the moment it is queued.
    """

    cache_entries: int = 2048
    cache_bytes: int = 64 * 2**20
    queue: int = 16
    time_limit: float = 60.0

    def __post_init__(self):
        if self.queue < 0 or not self.time_limit > 0:
            raise ConfigError(
                f"the analysis queue needs a length of 0 or more and a time limit above 0 seconds "
                f"(got {self.queue} and {self.time_limit})"
            )


class Busy(Exception):
    """The server cannot answer this analysis now: ask again after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


@dataclass(frozen=True)
class ServiceStats:
    """What the service has done since it started; read by the metrics."""

    queued: int  #: analyses running or waiting
    queue_limit: int
    analyses: int  #: analyses run to the end, failed ones included
    analysis_seconds: float
    refused_full: int  #: requests refused because the queue was full
    refused_time: int  #: requests refused because their analysis passed the time limit
    cache: CacheStats


class AnalysisService:
    """The Analyzer of this process, its cache, and the queue in front of it.

    One thread runs the analyses, one at a time: two embeddings at once would only compete for
    the same cores, and the Analyzer need not be thread-safe. Call :meth:`close` when done.
    """

    def __init__(self, analyzer, limits: ServiceLimits | None = None):
        self.analyzer = analyzer
        self.limits = limits or ServiceLimits()
        self.cache = AnalysisCache(self.limits.cache_entries, self.limits.cache_bytes)
        info = getattr(analyzer, "model_info", {})
        self.model_version = model_version(info if isinstance(info, dict) else {})
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spinscope-analysis")
        self._running: dict[str, asyncio.Future[dict]] = {}  # by cache key; touched on the event loop only
        self._seconds = 0.5  # a running mean of one analysis' duration, for Retry-After
        self._analyses = 0
        self._analysis_seconds = 0.0
        self._refused_full = 0
        self._refused_time = 0

    async def analyze(self, source: ArticleSource, lang: str | None, remote: bool = False) -> dict:
        """The Analysis JSON (``Analysis.to_dict()``) of the article ``source`` makes.

        ``remote``: the source fetches a page, so a full queue refuses the request before the
        fetch rather than after it.
        """
        language = normalise_language(lang) if lang else None  # fail before any fetch
        if remote:
            self._check_room()
        article, key, cached = await run_in_threadpool(self._look_up, source, language)
        if cached is not None:
            return _with_id(cached, article.id)
        job = self._running.get(key)
        if job is None:
            self._check_room()
            job = self._submit(key, article)
        try:
            result = await asyncio.wait_for(asyncio.shield(job), self.limits.time_limit)
        except TimeoutError:
            self._refused_time += 1
            wait = self.retry_after()
            raise Busy(
                f"The analysis took longer than this server's limit of {self.limits.time_limit:g} seconds. "
                f"It goes on and its result will be kept: ask again in {wait} seconds.",
                wait,
            ) from None
        return _with_id(result, article.id)

    def retry_after(self) -> int:
        """Whole seconds until the analyses now queued should be done (at least 1)."""
        estimate = max(1, len(self._running)) * self._seconds
        return max(1, min(math.ceil(estimate), math.ceil(self.limits.time_limit)))

    def stats(self) -> ServiceStats:
        return ServiceStats(
            len(self._running),
            self.limits.queue,
            self._analyses,
            self._analysis_seconds,
            self._refused_full,
            self._refused_time,
            self.cache.stats(),
        )

    def close(self) -> None:
        """Drop the analyses still waiting; the one running finishes on its thread."""
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _look_up(self, source: ArticleSource, language: str | None) -> tuple[Article, str, dict | None]:
        """The article, its key and its cached analysis if any: its language is detected only
        when it must be analysed (the detection takes longer than the rest of a hit), as no
        language asked means the detected one, which the text alone decides."""
        article = source()
        key = analysis_key(article.text, self.model_version, language=language)
        cached = self.cache.get(key)
        return (article if cached is not None else with_language(article, language)), key, cached

    def _check_room(self) -> None:
        # One analysis runs and `queue` wait: a request beyond them is refused now, not after a wait.
        if len(self._running) > self.limits.queue:
            self._refused_full += 1
            wait = self.retry_after()
            raise Busy(
                f"The server is busy: {len(self._running) - 1} analyses are waiting. Ask again in {wait} seconds.",
                wait,
            )

    def _submit(self, key: str, article: Article) -> asyncio.Future[dict]:
        job = asyncio.wrap_future(self._executor.submit(self._run, key, article))
        self._running[key] = job
        job.add_done_callback(lambda done: self._finished(key, done))
        return job

    def _finished(self, key: str, job: asyncio.Future[dict]) -> None:
        self._running.pop(key, None)
        if not job.cancelled():
            job.exception()  # retrieved: a failure whose requests all timed out is not logged as lost

    def _run(self, key: str, article: Article) -> dict:
        """One analysis, on the analysis thread; its answer goes into the cache."""
        start = time.perf_counter()
        try:
            analysis = self.analyzer.analyze(article).to_dict()
        finally:
            elapsed = time.perf_counter() - start
            self._analyses += 1
            self._analysis_seconds += elapsed
            self._seconds = 0.8 * self._seconds + 0.2 * elapsed
        self.cache.put(key, analysis)
        return analysis


def _with_id(analysis: dict, article_id: str) -> dict:
    """``analysis`` as the answer for an article named ``article_id``: the cache keys the text,
    so a hit may come from the same text sent under another name."""
    if "id" in analysis and analysis["id"] != article_id:
        return analysis | {"id": article_id}
    return analysis


def text_source(value: str, source: str, html: bool | None) -> ArticleSource:
    """The article in the text (or HTML) ``value`` of a JSON field named in ``source``."""

    def make() -> Article:
        try:
            data = value.encode("utf-8")
        except UnicodeEncodeError:
            raise InputError(
                f"{source} contains invalid Unicode (a lone surrogate escape such as \\ud800): send well-formed text"
            ) from None
        return article_from_bytes(data, source, html=html)

    return make


def url_source(url: str) -> ArticleSource:
    """The article of the web page at ``url``."""
    return lambda: load_url(url)


def upload_source(data: bytes, filename: str | None) -> ArticleSource:
    """The article in an uploaded file: HTML when its name says so (else sniffed), its id the name's stem."""
    name = Path(filename or "upload").name[:100]
    html = Path(name).suffix.lower() in HTML_SUFFIXES or None
    stem = Path(name).stem
    return lambda: article_from_bytes(data, f"the uploaded file {name!r}", html=html, id=stem)


def warm_up(analyzer) -> None:
    """Load the language detector (and the embedding model, unless cached) before the first request."""
    article = with_language(Article("Warm-up\n\nThis paragraph only loads the models.\n"), None)
    analyzer.analyze(article)
