"""Tests for spinscope.io: bytes, files, stdin and HTML to an Article with its language."""

from __future__ import annotations

import io
import random
import sys
import time

import pytest

from conftest import EN_LINES, HTML_PAGE, HTML_PARAGRAPHS, HTML_TITLE, LANGUAGE_SAMPLES, SCRIPT_MARKERS, join
from spinscope import io as ingest
from spinscope.errors import InputError, NoArticleError, NotFoundError, NotTextError, TooLargeError
from spinscope.io import (
    MAX_BYTES,
    MAX_CHARS,
    article_from_bytes,
    decode_bytes,
    decoding,
    detect_language,
    load,
    normalise_language,
)
from spinscope.io.ingest import read_path

#: Invented French text that charset-normalizer recognises as cp1252 once encoded.
FRENCH_OK = (
    "Le conseil municipal a voté hier soir la fermeture de la piscine, jugée trop coûteuse. "
    "Les habitants, très attachés à cet équipement, ont immédiatement lancé une pétition.\n\n"
    "Selon le maire, « il n'y avait pas d'autre choix » : la rénovation aurait coûté près de "
    "deux millions d'euros. L'opposition parle d'une décision précipitée et réclame un référendum local.\n"
)
#: Invented French texts that it misreads (as cp1257 and iso8859_10) although cp1252 is a candidate.
FRENCH_MISREAD = [
    (
        "Le gouvernement a présenté mercredi un projet de réforme des retraites très contesté. "
        "Les syndicats dénoncent une mesure « injuste » et appellent à la grève générale dès la semaine "
        "prochaine. À Marseille, des élèves ont manifesté devant le lycée ; la préfecture évoque déjà des dégâts.\n"
    )
    * 3,
    "Élections : le député sortant déçu par le résultat\n\nLe député, réélu de justesse dimanche, a "
    "reconnu une « défaite morale ». Il a promis de se consacrer davantage à sa circonscription et "
    "d'écouter les électeurs déçus.\n",
]


# --- decode_bytes ------------------------------------------------------------------------


def test_decode_utf8_exactly(crlf_text):
    text = crlf_text.lstrip("\ufeff")
    assert decode_bytes(text.encode("utf-8")) == text  # "\r\n" kept, no translation


def test_decode_utf8_with_bom_keeps_it_as_one_character(crlf_text):
    data = crlf_text.encode("utf-8")
    assert data.startswith(b"\xef\xbb\xbf")
    decoded = decode_bytes(data)
    assert decoded == crlf_text and decoded[0] == "\ufeff" and decoded[1] == "L"


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1"])
def test_decode_legacy_french(encoding):
    data = FRENCH_OK.encode(encoding)
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert decode_bytes(data) == FRENCH_OK


@pytest.mark.parametrize("index", range(len(FRENCH_MISREAD)))
def test_decode_cp1252_french_misdetected(index):
    text = FRENCH_MISREAD[index]
    assert decode_bytes(text.encode("cp1252")) == text


def test_decode_utf16_with_bom():
    text = "Première ligne\r\nDeuxième ligne : « déjà vu », 42 €\n"
    data = text.encode("utf-16")  # BOM + little-endian
    assert data[:2] in (b"\xff\xfe", b"\xfe\xff")
    assert decode_bytes(data) == text  # the UTF-16 BOM is an encoding mark, not text


def test_decode_random_binary_is_refused():
    data = random.Random(20230).randbytes(4000)
    assert b"\x00" in data
    with pytest.raises(InputError, match="binary") as info:
        decode_bytes(data, source="blob.bin")
    assert "blob.bin" in str(info.value) and type(info.value) is NotTextError


def test_decode_random_bytes_without_nul_is_refused():
    # No NUL to sniff: the encoding detection gives up (or finds control characters) instead.
    data = bytes(x for x in random.Random(3).randbytes(4000) if x)
    with pytest.raises(InputError, match="binary|could not be detected") as info:
        decode_bytes(data)
    assert type(info.value) is NotTextError


@pytest.mark.parametrize(
    "data",
    [
        b"Hello\x00world, this is text",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        "Text in UTF-16 without a BOM".encode("utf-16-le"),
    ],
)
def test_decode_bytes_with_nul_is_binary(data):
    with pytest.raises(InputError, match="binary"):
        decode_bytes(data)


# --- article_from_bytes ------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"   ", b" \r\n\t\n \n", b"\n\n"])
def test_empty_or_blank_input_is_refused(data):
    with pytest.raises(InputError, match="is empty") as info:
        article_from_bytes(data, source="note.txt")
    assert "note.txt" in str(info.value) and type(info.value) is InputError


def test_bom_only_input_is_empty():
    with pytest.raises(InputError, match="is empty"):
        article_from_bytes(b"\xef\xbb\xbf\r\n\r\n")


def test_too_many_bytes_is_too_large():
    with pytest.raises(InputError, match="at most") as info:
        article_from_bytes(b"a" * (MAX_BYTES + 1))
    assert type(info.value) is TooLargeError


def test_too_many_characters_is_too_large():
    text = ("Word " * (MAX_CHARS // 5 + 10)).encode()
    assert len(text) <= MAX_BYTES
    with pytest.raises(InputError, match="characters") as info:
        article_from_bytes(text)
    assert type(info.value) is TooLargeError


def test_plain_text_article_keeps_exact_text(crlf_text):
    article = article_from_bytes(crlf_text.encode(), id="fr1", language="fr")
    assert article.text == crlf_text and article.id == "fr1" and article.language == "fr"
    assert len(article.paragraphs) == 4


def test_html_page_to_article(html_extractor):
    article = article_from_bytes(HTML_PAGE.encode("utf-8"), source="page.html", id="p1")
    assert article.id == "p1"
    assert article.title.text == HTML_TITLE
    body = [p.text for p in article.body]
    for paragraph in HTML_PARAGRAPHS:
        assert paragraph in body
    assert not any(word in article.text for word in ("Home", "World", "Sport", "Copyright"))
    assert "<" not in article.text
    for p in article.paragraphs:
        assert article.text[p.start : p.end] == p.text


def test_html_scripts_do_not_leak(html_extractor):
    article = article_from_bytes(HTML_PAGE.encode("utf-8"), html=True)
    for marker in SCRIPT_MARKERS + ("console.log", "document.write", "color:"):
        assert marker not in article.text


def test_html_body_does_not_repeat_the_title(html_extractor):
    article = article_from_bytes(HTML_PAGE.encode("utf-8"), html=True)
    assert [p.text for p in article.body] == HTML_PARAGRAPHS


def test_long_html_page_with_short_article(html_extractor):
    padding = "<script>" + "var x = 1;\n" * 25_000 + "</script>"
    page = HTML_PAGE.replace("</head>", padding + "</head>")
    assert MAX_CHARS < len(page) < MAX_BYTES
    article = article_from_bytes(page.encode("utf-8"))
    assert article.title.text == HTML_TITLE


def _bomb(depth: int) -> bytes:
    paragraph = "<p>A deeply buried paragraph that is long enough to look like a sentence of news.</p>"
    return (
        "<html><head><title>Bomb</title></head><body>"
        + "<div>" * depth
        + paragraph
        + "</div>" * depth
        + "</body></html>"
    ).encode()


def _survives(data: bytes) -> None:
    """``data`` gives an article or an InputError within 10 s, and never anything else."""
    started = time.monotonic()
    try:
        article = article_from_bytes(data)
    except InputError as error:
        assert type(error) in (TooLargeError, NoArticleError)
    else:
        assert article.text.strip() and "<div>" not in article.text
    assert time.monotonic() - started < 10


def test_nested_html_bomb_of_a_megabyte():
    data = _bomb(100_000)
    assert 1_000_000 < len(data) < MAX_BYTES
    _survives(data)


def test_nested_html_bomb_under_the_character_limit(html_extractor):
    data = _bomb(15_000)  # 15,000 nested <div>: small enough to reach the HTML parser
    assert len(data) < MAX_CHARS
    _survives(data)


def test_html_without_article_text_is_no_article(html_extractor):
    page = b"<html><head><title>Empty</title></head><body><div><script>var a = 1;</script></div></body></html>"
    with pytest.raises(InputError, match="no article text") as info:
        article_from_bytes(page)
    assert type(info.value) is NoArticleError


def test_looks_like_html():
    assert ingest.looks_like_html(HTML_PAGE.encode())
    assert ingest.looks_like_html(b"<P class='x'>Hello</P>")
    assert not ingest.looks_like_html(join(EN_LINES).encode())
    assert not ingest.looks_like_html(b"A sum: 3 < 4 and 5 > 2.")


# --- files and stdin ---------------------------------------------------------------------


def test_read_path_missing_file(tmp_path):
    with pytest.raises(InputError, match="no such file") as info:
        read_path(tmp_path / "absent.txt")
    assert type(info.value) is NotFoundError


def test_read_path_folder(tmp_path):
    with pytest.raises(InputError, match="is a folder") as info:
        read_path(tmp_path)
    assert type(info.value) is InputError


def test_read_path_too_large(tmp_path, monkeypatch):
    path = tmp_path / "big.txt"
    path.write_bytes(b"x" * 101)
    monkeypatch.setattr(decoding, "MAX_BYTES", 100)
    with pytest.raises(InputError, match="at most 100 bytes") as info:
        read_path(path)
    assert type(info.value) is TooLargeError


def test_load_text_file_detects_language(write_file):
    path = write_file("reports/storm-news.txt", join(EN_LINES, "\r\n"))
    article = load(str(path))
    assert article.id == "storm-news" and article.language == "en"
    assert article.text == join(EN_LINES, "\r\n")
    assert [p.line for p in article.paragraphs] == [1, 3, 5, 7]


def test_load_explicit_language_is_normalised(write_file):
    path = write_file("a.txt", join(EN_LINES))
    assert load(str(path), lang="ge").language == "de"
    assert load(str(path), lang="FR").language == "fr"


def test_load_unknown_language_is_refused(write_file):
    path = write_file("a.txt", join(EN_LINES))
    with pytest.raises(InputError, match="unknown language code 'xx-nonsense'"):
        load(str(path), lang="xx-nonsense")


def test_load_missing_path(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load(str(tmp_path / "nothing.txt"))


def test_load_html_file_by_suffix(write_file, html_extractor):
    path = write_file("page.html", HTML_PAGE)
    article = load(str(path), lang="en")
    assert article.id == "page" and article.title.text == HTML_TITLE


class _FakeStdin:
    def __init__(self, data: bytes):
        self.buffer = io.BytesIO(data)


def test_load_stdin(monkeypatch):
    text = join(EN_LINES)
    monkeypatch.setattr(sys, "stdin", _FakeStdin(text.encode()))
    article = load("-")
    assert article.id == "stdin" and article.text == text and article.language == "en"


def test_load_stdin_empty(monkeypatch):
    monkeypatch.setattr(sys, "stdin", _FakeStdin(b"\n\n"))
    with pytest.raises(InputError, match="standard input is empty"):
        load("-")


def test_load_stdin_too_large(monkeypatch):
    monkeypatch.setattr(sys, "stdin", _FakeStdin(b"y" * (MAX_BYTES + 10)))
    with pytest.raises(InputError) as info:
        load("-", lang="en")
    assert type(info.value) is TooLargeError


# --- languages ---------------------------------------------------------------------------


@pytest.mark.parametrize("iso", sorted(LANGUAGE_SAMPLES))
def test_detect_language(iso):
    assert detect_language(LANGUAGE_SAMPLES[iso]) == iso


def test_detect_language_unsure_is_none():
    assert detect_language("") is None
    assert detect_language("12345 !!! ???") is None


@pytest.mark.parametrize(
    "code,iso", [("ge", "de"), ("GE", "de"), ("gr", "el"), ("po", "pl"), ("en", "en"), ("De", "de"), ("ka", "ka")]
)
def test_normalise_language(code, iso):
    assert normalise_language(code) == iso


@pytest.mark.parametrize("code", ["xx", "xx-nonsense", "english", ""])
def test_normalise_language_unknown(code):
    with pytest.raises(InputError, match="unknown language code") as info:
        normalise_language(code)
    assert type(info.value) is InputError
