"""Sources to articles: exact decoding, web pages, safe URL fetching, language detection."""

from .decoding import HTML_SUFFIXES, MAX_BYTES, MAX_CHARS, check_size, check_text, decode_bytes, looks_like_html
from .ingest import article_from_bytes, article_from_html, html_article, load, load_url, read_file
from .language import detect_language, iso_code, normalise_language, with_language

__all__ = [
    "HTML_SUFFIXES",
    "MAX_BYTES",
    "MAX_CHARS",
    "article_from_bytes",
    "article_from_html",
    "check_size",
    "check_text",
    "decode_bytes",
    "detect_language",
    "html_article",
    "iso_code",
    "load",
    "load_url",
    "looks_like_html",
    "normalise_language",
    "read_file",
    "with_language",
]
