"""Bytes to exact text, and the size limits of one article.

Text is decoded exactly: no newline translation, and a byte-order mark stays as one character,
so character offsets match those of the SemEval span files.
"""

from __future__ import annotations

import re

from charset_normalizer import from_bytes

from ..errors import InputError, NotTextError, TooLargeError

#: The largest article spinscope analyses, in characters and in bytes read from a source.
MAX_CHARS = 200_000
MAX_BYTES = 2_000_000
#: File suffixes read as web pages (other files are sniffed for HTML markup).
HTML_SUFFIXES = (".html", ".htm", ".xhtml")
_COMMON_ENCODINGS = [
    "utf_16",
    "utf_32",
    "cp1252",
    "cp1251",
    "cp1250",
    "koi8_r",
    "iso8859_15",
    "cp1253",
    "iso8859_2",
    "iso8859_5",
    "iso8859_7",
    "gb18030",
    "big5",
    "shift_jis",
    "euc_kr",
]
_HTML_HINT = re.compile(rb"<(!doctype html|html|head|body|p|div|article)[\s>]", re.IGNORECASE)


def check_size(n_bytes: int, source: str = "input") -> None:
    """Raise :class:`TooLargeError` when ``n_bytes`` is over :data:`MAX_BYTES`."""
    if n_bytes > MAX_BYTES:
        raise TooLargeError(f"{source} is {n_bytes:,} bytes; spinscope reads at most {MAX_BYTES:,} bytes per article")


def check_text(text: str, source: str = "input") -> str:
    """``text`` itself, or :class:`InputError` when it is empty (:class:`TooLargeError` when over
    :data:`MAX_CHARS` characters)."""
    if not text.replace("\ufeff", "").strip():
        raise InputError(f"{source} is empty: give an article with a title and at least one paragraph")
    if len(text) > MAX_CHARS:
        raise TooLargeError(
            f"{source} has {len(text):,} characters; spinscope analyses articles of at most "
            f"{MAX_CHARS:,}: split it into articles"
        )
    return text


def decode_bytes(data: bytes, source: str = "input") -> str:
    """Decode ``data`` exactly (no newline translation, a BOM kept as one character).

    UTF-8 first; otherwise the encoding is detected with charset-normalizer. Binary data
    and undecodable text raise :class:`NotTextError`.
    """
    head = data[:8192]
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise NotTextError(f"{source} looks like a binary file, not text: give a .txt or .html article")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    matches = list(from_bytes(data))
    if not matches:
        raise NotTextError(
            f"{source} is neither UTF-8 text nor text in an encoding that could be detected "
            "(is it a binary file?): convert it to UTF-8 (e.g. with iconv) and try again"
        )
    # Several code pages often decode about equally cleanly; among those, prefer the ones
    # news sites actually used, then the most coherent.
    least_chaos = min(m.chaos for m in matches)
    close = [m for m in matches if m.chaos <= least_chaos + 0.1]
    best = min(
        close,
        key=lambda m: (
            _COMMON_ENCODINGS.index(m.encoding) if m.encoding in _COMMON_ENCODINGS else len(_COMMON_ENCODINGS),
            -m.coherence,
        ),
    )
    text = str(best)
    if _control_ratio(text) > 0.05:
        raise NotTextError(f"{source} looks like a binary file, not text: give a .txt or .html article")
    return text


def _control_ratio(text: str) -> float:
    sample = text[:8192]
    controls = sum(1 for c in sample if ord(c) < 32 and c not in "\r\n\t\f")
    return controls / max(1, len(sample))


def looks_like_html(data: bytes) -> bool:
    return bool(_HTML_HINT.search(data[:4096]))
