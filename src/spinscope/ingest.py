"""From a source (text, bytes, file, HTML, URL) to an :class:`Article` with its language.

Every failure raises :class:`InputError` with one sentence saying what was wrong and what to
do, so shells can print it (CLI) or return it as a 4xx (API) without a traceback.
"""
from __future__ import annotations

import re
import sys
from functools import lru_cache
from pathlib import Path

from .document import Article

#: The largest article spinscope analyses, in characters and in bytes read from a source.
MAX_CHARS = 200_000
MAX_BYTES = 2_000_000
#: Languages the detector chooses among (ISO 639-1); an explicit ``lang`` may be any code
#: the detector knows, since the embeddings are multilingual.
DETECTED_LANGUAGES = ("en fr de it pl ru es el ka bg pt sl uk ar hi nl ro cs hr sr tr sv da fi hu sk lt lv et".split())
#: File suffixes read as web pages (other files are sniffed for HTML markup).
HTML_SUFFIXES = (".html", ".htm", ".xhtml")
_COMMON_ENCODINGS = ["utf_16", "utf_32", "cp1252", "cp1251", "cp1250", "koi8_r", "iso8859_15", "cp1253",
                     "iso8859_2", "iso8859_5", "iso8859_7", "gb18030", "big5", "shift_jis", "euc_kr"]
_HTML_HINT = re.compile(rb"<(!doctype html|html|head|body|p|div|article)[\s>]", re.IGNORECASE)


class InputError(ValueError):
    """An input spinscope cannot analyse; ``status`` is the matching HTTP status."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def decode_bytes(data: bytes, source: str = "input") -> str:
    """Decode ``data`` exactly (no newline translation, a BOM kept as one character).

    UTF-8 first; otherwise the encoding is detected with charset-normalizer. Binary data
    and undecodable text raise :class:`InputError`.
    """
    head = data[:8192]
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(f"{source} looks like a binary file, not text: give a .txt or .html article", 415)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    matches = list(from_bytes(data))
    if not matches:
        raise InputError(f"{source} is neither UTF-8 text nor text in an encoding that could be detected "
                         "(is it a binary file?): convert it to UTF-8 (e.g. with iconv) and try again", 415)
    # Several code pages often decode about equally cleanly; among those, prefer the ones
    # news sites actually used, then the most coherent.
    least_chaos = min(m.chaos for m in matches)
    close = [m for m in matches if m.chaos <= least_chaos + 0.1]
    best = min(close, key=lambda m: (_COMMON_ENCODINGS.index(m.encoding) if m.encoding in _COMMON_ENCODINGS
                                     else len(_COMMON_ENCODINGS), -m.coherence))
    text = str(best)
    if _control_ratio(text) > 0.05:
        raise InputError(f"{source} looks like a binary file, not text: give a .txt or .html article", 415)
    return text


def _control_ratio(text: str) -> float:
    sample = text[:8192]
    controls = sum(1 for c in sample if ord(c) < 32 and c not in "\r\n\t\f")
    return controls / max(1, len(sample))


def check_text(text: str, source: str = "input") -> str:
    if not text.replace("\ufeff", "").strip():
        raise InputError(f"{source} is empty: give an article with a title and at least one paragraph")
    if len(text) > MAX_CHARS:
        raise InputError(f"{source} has {len(text):,} characters; spinscope analyses articles of at most "
                         f"{MAX_CHARS:,}: split it into articles", 413)
    return text


def looks_like_html(data: bytes) -> bool:
    return bool(_HTML_HINT.search(data[:4096]))


def article_from_html(html: str, source: str = "input", **meta) -> Article:
    """Extract the title and main text of a web page (trafilatura) into an article."""
    import trafilatura

    extracted = trafilatura.bare_extraction(html, with_metadata=True, include_comments=False,
                                            include_tables=False, favor_precision=True)
    text = getattr(extracted, "text", None) if extracted is not None else None
    if not text or not text.strip():
        raise InputError(f"no article text found in the HTML of {source}: give the article's own page or its text", 422)
    title = getattr(extracted, "title", None) or ""
    paragraphs = text.split("\n")
    if not title or " ".join(paragraphs[0].split()) == " ".join(title.split()):
        title, paragraphs = paragraphs[0], paragraphs[1:]  # the page's <h1> repeats its title
    return Article.from_parts(title, paragraphs, **meta)


def article_from_bytes(data: bytes, source: str = "input", html: bool | None = None, **meta) -> Article:
    if len(data) > MAX_BYTES:
        raise InputError(f"{source} is {len(data):,} bytes; spinscope reads at most {MAX_BYTES:,} bytes per article", 413)
    text = decode_bytes(data, source)
    if html is None:
        html = looks_like_html(data)
    if html:
        return html_article(text, source, **meta)
    return Article(check_text(text, source), **meta)


def html_article(html: str, source: str, **meta) -> Article:
    """Like :func:`article_from_html`, with the size limit on the article, not the page around it."""
    if not html.strip():
        check_text(html, source)  # raises: empty
    article = article_from_html(html, source, **meta)
    check_text(article.text, source)
    return article


def read_path(path: Path) -> bytes:
    if not path.exists():
        raise InputError(f"no such file: {path}", 404)
    if path.is_dir():
        raise InputError(f"{path} is a folder: give one article file (or use `spinscope predict` for a data folder)")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise InputError(f"{path} is {size:,} bytes; spinscope reads at most {MAX_BYTES:,} bytes per article", 413)
    return path.read_bytes()


def load(source: str, lang: str | None = None) -> Article:
    """Load an article from a path, an http(s) URL or ``-`` (stdin); detect its language."""
    if source == "-":
        data = sys.stdin.buffer.read(MAX_BYTES + 1)
        article = article_from_bytes(data, "standard input", id="stdin")
    elif re.match(r"^https?://", source, re.IGNORECASE):
        article = load_url(source)
    else:
        path = Path(source)
        html = path.suffix.lower() in HTML_SUFFIXES or None
        article = article_from_bytes(read_path(path), str(path), html=html, id=path.stem)
    return with_language(article, lang)


def load_url(url: str) -> Article:
    from .fetch import FetchError, fetch

    try:
        page = fetch(url, max_bytes=MAX_BYTES)
    except FetchError as error:
        raise InputError(str(error), error.status) from None
    if "html" in page.content_type:
        return html_article(page.text, url, id=url)
    return Article(check_text(page.text, url), id=url)


def normalise_language(code: str) -> str:
    """Validate a language code (ISO 639-1 or a SemEval folder code like ``ge``)."""
    from .semeval import FOLDER_LANGUAGES

    iso = FOLDER_LANGUAGES.get(code.lower(), code.lower())
    if iso not in known_languages():
        raise InputError(f"unknown language code {code!r}: use an ISO 639-1 code such as en, fr, de, es")
    return iso


@lru_cache(maxsize=1)
def known_languages() -> frozenset[str]:
    from lingua import Language

    return frozenset(language.iso_code_639_1.name.lower() for language in Language.all())


@lru_cache(maxsize=1)
def _detector():
    from lingua import Language, LanguageDetectorBuilder

    languages = [x for x in Language.all() if x.iso_code_639_1.name.lower() in DETECTED_LANGUAGES]
    # Low-accuracy mode loads only trigram models: ~40 MB and well under a second, and
    # articles are long enough for it to be reliable.
    return LanguageDetectorBuilder.from_languages(*languages).with_low_accuracy_mode().build()


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the main language of ``text``, or ``None`` when unsure."""
    language = _detector().detect_language_of(text[:5000])
    return language.iso_code_639_1.name.lower() if language else None


def with_language(article: Article, lang: str | None) -> Article:
    language = normalise_language(lang) if lang else detect_language(article.text)
    return article.with_language(language)
