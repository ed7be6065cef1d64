"""From a source (text, bytes, file, HTML, URL, standard input) to an :class:`Article` with its language.

Every failure raises :class:`~spinscope.errors.InputError` with one sentence saying what was
wrong and what to do, so shells can print it (CLI) or return it as a 4xx (API) without a traceback.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from ..document import Article, title_of
from ..errors import InputError, NoArticleError, NotFoundError
from .decoding import HTML_SUFFIXES, MAX_BYTES, check_size, check_text, decode_bytes, looks_like_html
from .fetch import fetch
from .language import with_language


def article_from_html(html: str, source: str = "input", **meta) -> Article:
    """Extract the title and main text of a web page (trafilatura) into an article."""
    import trafilatura  # a quarter of a second to import: only when a page is read

    try:
        extracted = trafilatura.bare_extraction(
            html, with_metadata=True, include_comments=False, include_tables=False, favor_precision=True
        )
    except AssertionError:
        # Its date finder (htmldate) asserts when the page's root element is one it strips, as
        # when markup opens with <svg> or <math> around everything: there is no article there.
        extracted = None
    text = getattr(extracted, "text", None) if extracted is not None else None
    if not text or not text.strip():
        raise NoArticleError(f"no article text found in the HTML of {source}: give the article's own page or its text")
    title = getattr(extracted, "title", None) or ""
    paragraphs = text.split("\n")
    if not title or title_of(paragraphs[0]) == title_of(title):
        title, paragraphs = paragraphs[0], paragraphs[1:]  # the page's <h1> repeats its title
    return Article.from_parts(title, paragraphs, **meta)


def html_article(html: str, source: str, **meta) -> Article:
    """Like :func:`article_from_html`, with the size limit on the article, not the page around it."""
    if not html.strip():
        check_text(html, source)  # raises: empty
    article = article_from_html(html, source, **meta)
    check_text(article.text, source)
    return article


def article_from_bytes(data: bytes, source: str = "input", html: bool | None = None, **meta) -> Article:
    """An article from raw bytes: decoded exactly, read as HTML when ``html`` (sniffed when ``None``)."""
    check_size(len(data), source)
    text = decode_bytes(data, source)
    if html is None:
        html = looks_like_html(data)
    if html:
        return html_article(text, source, **meta)
    return Article(check_text(text, source), **meta)


def read_path(path: Path) -> bytes:
    """The bytes of the article file ``path``, refused when missing, a folder, unreadable or too large."""
    try:
        if not path.exists():
            raise NotFoundError(f"no such file: {path}")
        if path.is_dir():
            raise InputError(f"{path} is a folder: give one article file (a folder of articles is a corpus)")
        check_size(path.stat().st_size, str(path))
        # A device or a pipe reports no size: read one byte past the limit, never the whole stream.
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as error:
        raise InputError(f"{path} cannot be read ({error.strerror or error}): give a readable article file") from None
    check_size(len(data), str(path))
    return data


def read_file(path: Path, **meta) -> Article:
    """An article file: HTML when its suffix says so (or its content looks like it), else text."""
    html = path.suffix.lower() in HTML_SUFFIXES or None
    return article_from_bytes(read_path(path), str(path), html=html, **meta)


def load_url(url: str) -> Article:
    """The article at the public http(s) ``url`` (see :func:`~spinscope.io.fetch.fetch`)."""
    page = fetch(url, max_bytes=MAX_BYTES)
    if "html" in page.content_type:
        return html_article(page.text, url, id=url)
    return Article(check_text(page.text, url), id=url)


def load(source: str, lang: str | None = None) -> Article:
    """Load an article from a path, an http(s) URL or ``-`` (stdin); detect its language
    unless ``lang`` gives it."""
    if source == "-":
        data = sys.stdin.buffer.read(MAX_BYTES + 1)
        article = article_from_bytes(data, "standard input", id="stdin")
    elif re.match(r"^https?://", source, re.IGNORECASE):
        article = load_url(source)
    else:
        path = Path(source)
        article = read_file(path, id=path.stem)
    return with_language(article, lang)
