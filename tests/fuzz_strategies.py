"""Hypothesis strategies for tests/test_fuzz.py: hostile bytes, markup, corpus files and SemEval
folders, and the settings profiles that bound them.

The inputs lean towards what breaks readers: byte-order marks, CRLF and lone ``\\r``, control
characters, NULs, invalid UTF-8 and lone surrogates, text in legacy code pages, markup nested
thousands deep or repeated thousands of times, entity bombs, label lines with the right shape
and the wrong values. Every text is generated; none is copied from data.
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from spinscope.taxonomy import (
    FINE_ROLE_NAMES,
    FRAME_NAMES,
    GENRE_NAMES,
    NARRATIVE_NAMES,
    ROLE_NAMES,
    SUBNARRATIVE_NAMES,
    TECHNIQUE_NAMES,
)

# --- profiles -------------------------------------------------------------------------------

#: Inputs are large and slow to build on purpose (bombs, whole folders): not a health problem.
_BASE = settings(
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]
)
#: CI: few examples, derandomized so every run tries the same inputs, no example database
#: written into the checkout; the deadline is generous because CI shares its 2 cores.
settings.register_profile(
    "ci", parent=_BASE, max_examples=100, deadline=timedelta(seconds=10), derandomize=True, database=None
)
#: ``make fuzz``: thousands of random examples; failures are kept in .hypothesis/ and replayed.
settings.register_profile("fuzz", parent=_BASE, max_examples=3000, deadline=timedelta(seconds=30))

#: The profile of every fuzz test: HYPOTHESIS_PROFILE names it, ``ci`` by default. Applied as a
#: decorator, not loaded globally, so other tests that use hypothesis keep their own settings.
PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
#: Seconds after which one example counts as a hang (the deadline only judges examples that end).
HANG_SECONDS = 60


class Hang(AssertionError):
    """A reader that did not return within :data:`HANG_SECONDS`."""


@contextmanager
def time_limit(seconds: int = HANG_SECONDS) -> Iterator[None]:
    """Fail with :class:`Hang` when the block runs longer than ``seconds`` (main thread, POSIX)."""

    def hang(signum, frame):
        raise Hang(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# --- text and bytes -------------------------------------------------------------------------

#: Characters that break naive readers: line ends of every kind, BOMs, controls, NUL, a lone
#: surrogate (encoded with surrogatepass it is invalid UTF-8), markup characters, wide scripts.
SPECIAL = [
    "\r\n",
    "\r",
    "\n",
    "\n\n",
    "\ufeff",
    "\x00",
    "\x01",
    "\x0b",
    "\x0c",
    "\x1c",
    "\x1f",
    "\x7f",
    "\x85",
    "\u2028",
    "\u2029",
    "\t",
    " ",
    "\u00a0",
    "\u200b",
    "\ud800",
    "\udfff",
    "\U0001f600",
    "\u0301",
    "é",
    "ж",
    "中",
    "ا",
    "<",
    ">",
    "&",
    '"',
    "\t\t",
    ",",
    ";",
]
WORDS = ["council", "bridge", "opened", "Kyiv", "Washington", "le", "maire", "Straße", "город", "1", "2", "3", "-1"]

special_chars = st.sampled_from(SPECIAL)
texts = st.lists(
    st.one_of(st.text(max_size=12), special_chars, st.sampled_from(WORDS)),
    max_size=40,
).map("".join)
ENCODINGS = [
    "utf-8",
    "utf-8-sig",
    "utf-16",
    "utf-16-le",
    "utf-16-be",
    "utf-32",
    "cp1252",
    "cp1251",
    "latin-1",
    "koi8_r",
    "shift_jis",
    "gb18030",
]
BOMS = [b"", b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xff\xfe\x00\x00", b"\xef\xbb\xbf\xef\xbb\xbf"]


def encode(text: str, encoding: str) -> bytes:
    """``text`` in ``encoding``; lone surrogates pass into UTF encodings (invalid bytes), else ``?``."""
    errors = "surrogatepass" if encoding.startswith("utf") else "replace"
    return text.encode(encoding, errors=errors)


@st.composite
def mutated(draw, data: bytes) -> bytes:
    """``data`` with a few bytes inserted, overwritten or cut away: a broken encoding or a torn file."""
    out = bytearray(data)
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(out)))
        action = draw(st.sampled_from(["insert", "overwrite", "truncate"]))
        chunk = draw(st.binary(min_size=1, max_size=4))
        if action == "insert":
            out[at:at] = chunk
        elif action == "overwrite":
            out[at : at + len(chunk)] = chunk
        else:
            del out[at:]
    return bytes(out)


@st.composite
def encoded(draw, text_strategy: st.SearchStrategy[str] = texts) -> bytes:
    """A text in some encoding, maybe after a (possibly wrong) BOM, maybe with CRLF, maybe torn."""
    text = draw(text_strategy)
    if draw(st.booleans()):
        text = text.replace("\r\n", "\n").replace("\n", "\r\n")
    data = draw(st.sampled_from(BOMS)) + encode(text, draw(st.sampled_from(ENCODINGS)))
    return draw(mutated(data)) if draw(st.booleans()) else data


any_bytes = st.one_of(st.binary(max_size=600), encoded())

# --- markup -----------------------------------------------------------------------------------

TAGS = [
    "html",
    "head",
    "body",
    "title",
    "p",
    "div",
    "article",
    "main",
    "section",
    "h1",
    "h2",
    "span",
    "b",
    "a",
    "script",
    "style",
    "table",
    "tr",
    "td",
    "ul",
    "li",
    "pre",
    "nav",
    "footer",
    "noscript",
    "svg",
    "math",
    "template",
    "textarea",
    "iframe",
]
#: Fragments of broken or hostile markup, dropped anywhere into a page.
BROKEN = [
    "<",
    "</",
    "<p",
    '<p class="x>',
    "<!--",
    "-->",
    "<![CDATA[",
    "]]>",
    "<?xml version='1.0' encoding='utf-16'?>",
    "<!DOCTYPE html>",
    "&#0;",
    "&#xD800;",
    "&#x110000;",
    "&#99999999999999999999;",
    "&nbsp",
    "&lol9;",
    "<meta charset='utf-16'>",
    "<meta http-equiv='Content-Type' content='text/html; charset=koi8-r'>",
    "<br/>",
    "<img src=x onerror=alert(1)>",
    "</html>",
    "<body>",
    "<title>",
    "</p></p></p>",
    "<h1></h1>",
    "<p>\u0000</p>",
]
ENTITY_BOMB = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
    '<!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>'
)
#: Sentences long enough for the extractor to keep a paragraph.
SENTENCES = [
    "The old harbour bridge reopened to traffic on Monday morning after months of repairs.",
    "Engineers replaced rusted cables and resurfaced the deck, the council said on Tuesday.",
    "Le conseil municipal a voté hier soir la fermeture de la piscine, jugée trop coûteuse.",
    "Городской совет во вторник утвердил новый бюджет после долгих споров о финансировании.",
]

_attribute = st.tuples(st.sampled_from(["class", "id", "lang", "style", "x"]), texts).map(
    lambda kv: f' {kv[0]}="{kv[1]}"'
)
_leaf = st.one_of(texts, st.sampled_from(SENTENCES), st.sampled_from(BROKEN))


def _element(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(
        lambda tag, attrs, inner, closed: f"<{tag}{''.join(attrs)}>{''.join(inner)}" + (f"</{tag}>" if closed else ""),
        st.sampled_from(TAGS),
        st.lists(_attribute, max_size=2),
        st.lists(children, max_size=5),
        st.booleans(),
    )


markup = st.recursive(_leaf, _element, max_leaves=30)


@st.composite
def bomb(draw) -> str:
    """Markup nested thousands deep, repeated thousands of times, or an entity bomb."""
    tag = draw(st.sampled_from(TAGS))
    inner = draw(st.sampled_from(SENTENCES))
    kind = draw(st.sampled_from(["deep", "deep-unclosed", "wide", "entities"]))
    n = draw(st.integers(1, 5000))
    if kind == "deep":
        return f"<{tag}>" * n + inner + f"</{tag}>" * n
    if kind == "deep-unclosed":
        return f"<{tag}>" * n + inner
    if kind == "wide":
        return f"<p>{inner}</p>" * min(n, 2000)
    return ENTITY_BOMB + f"<html><body><p>{inner} &lol9;</p></body></html>"


@st.composite
def pages(draw) -> str:
    """A web page: maybe a full document around generated markup, maybe only fragments or a bomb."""
    body = draw(st.one_of(markup, bomb(), st.lists(markup, max_size=4).map("".join)))
    if draw(st.booleans()):
        title = draw(st.one_of(texts, st.sampled_from(SENTENCES)))
        body = f"<!DOCTYPE html><html><head><title>{title}</title></head><body><article>{body}</article></body></html>"
    return body


page_bytes = encoded(pages())

# --- what a site answers ------------------------------------------------------------------------

CHARSETS = [
    "utf-8",
    "latin-1",
    "koi8-r",
    "idna",
    "punycode",
    "undefined",
    "rot13",
    "base64",
    "utf-7",
    "x" * 300,
    "\x00",
    "",
]
_latin1 = texts.map(lambda text: text.encode("latin-1", "replace").decode("latin-1"))
_header_values: dict[str, st.SearchStrategy[str]] = {
    "location": st.one_of(
        st.sampled_from(
            ["https://example.org/next", "/same-site", "//other.example/x", "http://[", "http://xn--/", "ftp://x/"]
        ),
        _latin1,
    ),
    "content-type": st.tuples(
        st.sampled_from(["text/html", "TEXT/HTML ", "text/plain", "application/xhtml+xml", "image/png", ""]),
        st.sampled_from(CHARSETS),
    ).map(lambda t: f"{t[0]}; charset={t[1]}"),
    "content-length": st.one_of(
        st.integers(-1, 10**7).map(str), st.sampled_from(["", "\xb2", "9" * 5000, "1e9", " 12"])
    ),
    "content-encoding": st.sampled_from(["identity", "gzip", "deflate", "br", "x"]),
}
#: One answer of a site: a status, some headers (valid or not) and a body.
site_answers = st.tuples(
    st.sampled_from([200, 200, 200, 200, 204, 301, 302, 303, 307, 308, 404, 500, 999]),
    st.fixed_dictionaries(
        {"content-type": _header_values["content-type"]},
        optional={name: values for name, values in _header_values.items() if name != "content-type"},
    ).map(lambda headers: tuple(headers.items())),
    st.one_of(any_bytes, page_bytes),
)

# --- corpus files -----------------------------------------------------------------------------

FIELDS = ["id", "text", "title", "url", "source", "date", "language", "lang", "extra"]
_json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    texts,
    st.sampled_from(["2024-03-05", "2024-03-05T10:00:00Z", "2024-13", "0000", "en", "ge", "xx", "9" * 20]),
)
json_values = st.recursive(
    _json_scalars, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(texts, inner, max_size=3))
)
records = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=8)
#: JSON lines that break the JSON parser itself: too deep, integers too long to convert.
HOSTILE_JSON = [
    "[" * 50_000,
    '{"id": "1", "text": ' + "[" * 50_000 + "}",
    '{"id": ' + "7" * 5000 + ', "text": "a"}',
    '{"id": "1", "text": "a", "date": ' + "1" * 5000 + "}",
    "1" * 5000,
    '{"id": "1", "text": "\\ud800"}',
    '{"id": "1", "text": "\\u0000"}',
    "NaN",
    "",
]


@st.composite
def jsonl_bytes(draw) -> bytes:
    """A JSONL corpus: object lines, other JSON, hostile JSON and garbage, in some encoding."""
    line = st.one_of(
        records.map(lambda r: json.dumps(r, ensure_ascii=False)),
        json_values.map(json.dumps),
        st.sampled_from(HOSTILE_JSON),
        texts,
    )
    lines = draw(st.lists(line, max_size=6))
    return (
        draw(encoded(st.just("\n".join(lines))))
        if draw(st.booleans())
        else "\n".join(lines).encode("utf-8", "surrogatepass")
    )


@st.composite
def csv_bytes(draw) -> bytes:
    """A CSV corpus: a header (required columns maybe missing or repeated) and ragged rows."""
    header = draw(st.lists(st.sampled_from([*FIELDS, "ID", " Text ", ""]), max_size=6))
    rows = draw(st.lists(st.lists(texts, max_size=len(header) + 1), max_size=5))
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])), escapechar="\\")
    for row in [header, *rows]:
        writer.writerow(row)
    content = buffer.getvalue()
    if draw(st.booleans()):
        content += draw(st.sampled_from(['"unclosed,quote\n', "\x00,\x00\n", "a," * 3000 + "\n", "\r\r\r"]))
    return draw(encoded(st.just(content)))


#: Relative paths of a folder corpus: nested, hidden, upper-case and unread suffixes.
FOLDER_FILES = ["a.txt", "b.html", "sub/c.txt", "sub/deep/d.htm", ".hidden/e.txt", "F.TXT", "g.xhtml", "h.md"]
folders = st.dictionaries(st.sampled_from(FOLDER_FILES), st.one_of(any_bytes, page_bytes), min_size=1, max_size=5)

# --- SemEval label lines ----------------------------------------------------------------------

_numbers = st.one_of(
    st.integers(-3, 300).map(str),
    st.sampled_from(["", " 7", "07", "1_0", "١٢", "9" * 30, "9" * 5000, "-0", "1e3", "0x10"]),
)
_ids = st.sampled_from(["1", "2", "3", "9", "", " 1", "1\r", "../en", "x"])
_doc_ids = st.sampled_from(
    ["EN_000.txt", "EN_001.txt", "EN_002.txt", "EN_404.txt", "", "../train-labels-subtask-2.txt"]
)


def _names(known: tuple[str, ...], separator: str) -> st.SearchStrategy[str]:
    """A field listing label names: known ones, near misses and junk, joined by ``separator``."""
    name = st.one_of(st.sampled_from(known), st.sampled_from(known).map(str.lower), texts, st.just("none"))
    return st.lists(name, max_size=3).map(separator.join)


def _line(*fields: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A tab-separated line with maybe a field too few or too many."""
    return st.tuples(*fields, st.integers(-1, 1), texts).map(
        lambda t: "\t".join(t[: len(fields) + min(t[-2], 0)] + ((t[-1],) if t[-2] > 0 else ()))
    )


LINES_2023: dict[str, st.SearchStrategy[str]] = {
    "genre": _line(_ids, _names(GENRE_NAMES, ",")),
    "frames": _line(_ids, _names(FRAME_NAMES, ",")),
    "techniques": _line(_ids, _numbers, _names(TECHNIQUE_NAMES, ",")),
    "template": _line(_ids, _numbers, texts),
    "spans": _line(_ids, st.one_of(st.sampled_from(TECHNIQUE_NAMES), texts), _numbers, _numbers),
}
LINES_2025: dict[str, st.SearchStrategy[str]] = {
    "entities": _line(
        _doc_ids,
        st.one_of(st.sampled_from(["Kyiv", "Washington", "Green Dawn", "Weber", "Lindholm", ""]), texts),
        _numbers,
        _numbers,
        st.one_of(st.sampled_from(ROLE_NAMES), texts),
        _names(FINE_ROLE_NAMES, "\t"),
    ),
    "narratives": _line(_doc_ids, _names(NARRATIVE_NAMES, ";"), _names(SUBNARRATIVE_NAMES, ";")),
    "explanations": _line(_doc_ids, _names(NARRATIVE_NAMES, ";"), _names(SUBNARRATIVE_NAMES, ";"), texts),
}


def label_file(lines: st.SearchStrategy[str]) -> st.SearchStrategy[bytes]:
    """A label file of such lines, in UTF-8 with maybe a BOM and CRLF, or broken bytes."""
    content = st.lists(lines, max_size=6).map(lambda xs: "\n".join(xs) + "\n")
    return st.one_of(
        content.map(lambda text: text.encode("utf-8", "surrogatepass")),
        encoded(content),
        st.binary(max_size=200),
    )


def file_changes(
    names: list[str], content: Callable[[str], st.SearchStrategy[bytes]]
) -> st.SearchStrategy[dict[str, bytes | None]]:
    """New contents (``None``: deleted) for a few of the files ``names``, each drawn by ``content``."""
    return st.lists(st.sampled_from(names), max_size=4, unique=True).flatmap(
        lambda chosen: st.fixed_dictionaries({name: st.one_of(st.none(), content(name)) for name in chosen})
    )
