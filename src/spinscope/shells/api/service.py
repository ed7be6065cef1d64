"""What the analysis routes run: the Analyzer behind a lock, and the articles they hand it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from ...document import Article
from ...errors import InputError
from ...io import HTML_SUFFIXES, article_from_bytes, load_url, normalise_language, with_language

#: Makes the article of a request; called in a worker thread, as it may fetch a URL.
ArticleSource = Callable[[], Article]


class AnalysisService:
    """The Analyzer of this process, and a lock so one analysis runs at a time.

    The lock keeps a process from running two embeddings at once (they would only compete
    for the same cores) and spares the Analyzer from having to be thread-safe.
    """

    def __init__(self, analyzer):
        self.analyzer = analyzer
        self.lock = threading.Lock()

    def analyze(self, source: ArticleSource, lang: str | None) -> dict:
        """The Analysis JSON of the article ``source`` makes (``Analysis.to_dict()``)."""
        language = normalise_language(lang) if lang else None  # fail before any fetch
        article = with_language(source(), language)
        with self.lock:
            analysis = self.analyzer.analyze(article)
        return analysis.to_dict()


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
