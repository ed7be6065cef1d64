"""Fuzzed inputs: for any bytes, every reader gives articles (or records) whose offsets all hold,
or raises a SpinscopeError with a message; never another exception, never a hang.

The ``ci`` hypothesis profile (default) keeps these to a bounded, reproducible run; ``make fuzz``
runs them with ``HYPOTHESIS_PROFILE=fuzz`` (thousands of examples each). Strategies and profiles:
``tests/fuzz_strategies.py``.
"""

from __future__ import annotations

import io
import ipaddress
import itertools
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import httpx
import pytest
from hypothesis import currently_in_test_context, event, example, given
from hypothesis import strategies as st

from conftest import write_semeval2023, write_semeval2025
from fuzz_strategies import (
    LINES_2023,
    LINES_2025,
    PROFILE,
    any_bytes,
    csv_bytes,
    file_changes,
    folders,
    jsonl_bytes,
    label_file,
    page_bytes,
    pages,
    site_answers,
    texts,
    time_limit,
)
from spinscope.corpus.readers import Problem, read_input
from spinscope.corpus.store import ArticleRecord
from spinscope.document import Article, Mention, title_of
from spinscope.errors import DataError, InputError, InvalidURLError, NotTextError, SpinscopeError
from spinscope.io import (
    MAX_CHARS,
    article_from_bytes,
    article_from_html,
    decode_bytes,
    detect_language,
    fetch,
    html_article,
    load,
    load_url,
    normalise_language,
)
from spinscope.io.language import DETECTED_LANGUAGES, known_languages
from spinscope.semeval import formats
from spinscope.semeval.layout import Split
from spinscope.semeval.reader import LabelledArticle, read_training
from spinscope.taxonomy import ROLE_NAMES, TECHNIQUE_NAMES

LANGUAGES = st.sampled_from([None, None, "en", "ge", "FR", "zz", ""])


def outcome(read: Callable, *args, **kwargs):
    """What ``read`` returns, or the SpinscopeError it raises (which must say something); any
    other exception, or no answer within the hang limit, fails the test."""
    with time_limit():
        try:
            result = read(*args, **kwargs)
        except SpinscopeError as error:
            assert str(error).strip(), f"{type(error).__name__} raised without a message"
            result = error
    if currently_in_test_context():  # how often each reader got through: --hypothesis-show-statistics
        event(f"{read.__name__}: {type(result).__name__}")
    return result


@contextmanager
def folder() -> Iterator[Path]:
    """A fresh temporary folder per example (pytest's tmp_path lives as long as the whole test)."""
    with tempfile.TemporaryDirectory(prefix="spinscope-fuzz-") as name:
        yield Path(name)


@contextmanager
def working_directory(path: Path) -> Iterator[None]:
    """Run the block in ``path``, so that relative names given to a reader resolve there."""
    previous = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def write(path: Path, content: bytes | None) -> None:
    """Write ``content`` to ``path`` exactly, or delete ``path`` when ``content`` is None."""
    if content is None:
        path.unlink(missing_ok=True)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def check_offsets(article: Article) -> None:
    """Every paragraph (the title first) slices the text exactly, is non-blank, holds no line
    break, sits on the line it says, and paragraphs follow one another without overlap."""
    text, previous_end = article.text, -1
    for paragraph in article.paragraphs:
        assert previous_end < paragraph.start < paragraph.end <= len(text)
        assert paragraph.text == text[paragraph.start : paragraph.end]
        assert paragraph.text.strip() and "\n" not in paragraph.text
        assert text[: paragraph.start].count("\n") + 1 == paragraph.line
        assert article.paragraph_at_line(paragraph.line) == paragraph
        previous_end = paragraph.end
    assert len(article.paragraphs) == sum(1 for line in text.split("\n") if line.strip())
    assert article.title == (article.paragraphs[0] if article.paragraphs else None)


def check_article(article: Article) -> None:
    """An article the ingest path gives: valid offsets, non-blank, within the size limit."""
    assert isinstance(article, Article)
    check_offsets(article)
    assert article.text.replace("\ufeff", "").strip() and article.title is not None
    assert len(article.text) <= MAX_CHARS


def check_records(result) -> None:
    """A corpus read: records with unique ids, usable text and valid offsets, and problems that say
    where and why."""
    if isinstance(result, SpinscopeError):
        return
    records, problems = result
    assert len({r.id for r in records}) == len(records)
    for record in records:
        assert isinstance(record, ArticleRecord) and isinstance(record.id, str) and record.id.strip()
        assert record.text.replace("\ufeff", "").strip()
        record.text.encode("utf-8")  # what the store writes: no lone surrogate
        check_offsets(Article(record.text))
        assert record.language is None or (isinstance(record.language, str) and record.language)
        assert record.title is None or isinstance(record.title, str)
        if record.title:  # given, or the text's first line cut short
            assert title_of(record.text).startswith(title_of(record.title))
    for problem in problems:
        assert isinstance(problem, Problem) and problem.location and problem.message.strip()


# --- bytes, text, web pages and the ingest path -----------------------------------------------


@PROFILE
@given(data=any_bytes)
def test_decode_bytes_is_exact_or_refuses(data):
    result = outcome(decode_bytes, data)
    if isinstance(result, SpinscopeError):
        assert isinstance(result, NotTextError)
        return
    assert isinstance(result, str)
    with suppress(UnicodeDecodeError):
        assert result == data.decode("utf-8")  # UTF-8 is decoded exactly: BOM and \r kept


@PROFILE
@given(data=st.one_of(any_bytes, page_bytes), html=st.sampled_from([None, True, False]))
@example(data=b"<svg><html>", html=True)
def test_article_from_any_bytes(data, html):
    result = outcome(article_from_bytes, data, "fuzzed input", html=html, id="x")
    if not isinstance(result, SpinscopeError):
        check_article(result)
        assert result.id == "x"
        if html is False:
            assert result.text == decode_bytes(data)  # text is never rewritten


@PROFILE
@given(page=st.one_of(pages(), texts))
@example(page="<svg><html>")
@example(page="<math><html><p>The council met on Monday to vote on the harbour budget.</p>")
def test_article_from_any_page(page):
    for read in (article_from_html, html_article):
        result = outcome(read, page, "fuzzed page")
        if not isinstance(result, SpinscopeError):
            check_offsets(result)
            assert result.text.strip()


@PROFILE
@given(text=texts, title=texts, paragraphs=st.lists(texts, max_size=4))
def test_articles_built_from_any_text_have_valid_offsets(text, title, paragraphs):
    check_offsets(Article(text))
    check_offsets(Article.from_parts(title, paragraphs))
    assert "\n" not in title_of(text)


@PROFILE
@given(
    data=st.one_of(any_bytes, page_bytes),
    suffix=st.sampled_from([".txt", ".html", ".HTM", ".xhtml", "", ".md"]),
    lang=LANGUAGES,
)
def test_load_any_file(data, suffix, lang):
    with folder() as root:
        path = root / f"article{suffix}"
        path.write_bytes(data)
        result = outcome(load, str(path), lang=lang)
    if not isinstance(result, SpinscopeError):
        check_article(result)
        assert result.id == "article"
        assert result.language is None or result.language in known_languages()


@PROFILE
@given(data=st.one_of(any_bytes, page_bytes))
def test_load_any_standard_input(data):
    stdin = SimpleNamespace(buffer=io.BytesIO(data))
    with mock.patch.object(sys, "stdin", stdin):
        result = outcome(load, "-", lang="en")
    if not isinstance(result, SpinscopeError):
        check_article(result)
        assert result.language == "en"


@PROFILE
@given(source=st.one_of(texts, st.sampled_from(["", ".", "/", "a" * 5000, "x/" * 3000, "\x00", "-x", "~"])))
@example(source="a" * 5000)
def test_load_any_path_name(source):
    if source == "-" or source.lower().startswith(("http://", "https://")):
        return  # standard input and URLs have their own tests
    with folder() as empty, working_directory(empty):
        result = outcome(load, source, lang="en")
        if not isinstance(result, SpinscopeError):
            check_article(result)
        if not os.path.isdir(source):  # "/" would be a corpus of every file on the machine
            check_records(outcome(read_input, source, lang="en"))


@pytest.mark.parametrize("source", ["/dev/zero", "/dev/urandom", "/proc/self/mem", "/proc/self/fd"])
def test_special_files_are_refused_without_reading_them_whole(source):
    if not Path(source).exists():
        pytest.skip(f"no {source} here")
    result = outcome(load, source, lang="en")
    assert isinstance(result, InputError), result


@PROFILE
@given(code=st.one_of(texts, st.sampled_from(["en", "EN", "ge", "po", "gr", "zz", "e\u0301n"])), text=texts)
@example(code="en", text="\ud800 The council approved the budget on Tuesday.")
def test_language_codes_and_detection_on_any_text(code, text):
    result = outcome(normalise_language, code)
    assert isinstance(result, InputError) or result in known_languages()
    detected = outcome(detect_language, text)
    assert detected is None or detected in DETECTED_LANGUAGES


# --- what a site answers: fetched pages, redirects, headers -------------------------------------

PUBLIC_IP = ipaddress.ip_address("93.184.216.34")


@PROFILE
@given(
    url=st.one_of(
        texts,
        st.lists(st.sampled_from(["http://", "https://", "xn--", "[", ":", "@", "é", "\ud800"]), max_size=4).map(
            "".join
        ),
    )
)
@example(url="http://xn--")
@example(url="https://\ud800")
def test_any_url_is_parsed_or_refused(url):
    result = outcome(fetch._parse, url)
    assert isinstance(result, InvalidURLError) or (result.scheme in ("http", "https") and result.raw_host)


@PROFILE
@given(answers=st.lists(site_answers, min_size=1, max_size=3))
@example(answers=[(200, (("content-type", "text/html; charset=idna"),), b"<p>\xff</p>")])
@example(answers=[(200, (("content-type", "text/plain"), ("content-length", "\xb2")), b"Bridge\n\nIt reopened.")])
@example(answers=[(302, (("location", ":http://["),), b"")])
def test_any_answer_of_a_site(answers):
    """A site answers ``answers`` in turn (redirects included); no network and no DNS are used."""
    calls = itertools.count()
    real_client = httpx.Client

    def answer(request: httpx.Request) -> httpx.Response:
        status, headers, body = answers[next(calls) % len(answers)]
        return httpx.Response(status, headers=[(n, v.encode("latin-1", "replace")) for n, v in headers], content=body)

    def client(**options):
        return real_client(transport=httpx.MockTransport(answer), **options)

    with (
        mock.patch.object(fetch.httpx, "Client", client),
        mock.patch.object(fetch, "check_host", return_value=[PUBLIC_IP]),
    ):
        result = outcome(load_url, "https://news.example/article")
    if not isinstance(result, SpinscopeError):
        check_article(result)


# --- corpus files: JSONL, CSV, folders --------------------------------------------------------


@PROFILE
@given(data=jsonl_bytes(), lang=LANGUAGES)
def test_read_any_jsonl_corpus(data, lang):
    with folder() as root:
        path = root / "corpus.jsonl"
        path.write_bytes(data)
        check_records(outcome(read_input, path, lang=lang))


@PROFILE
@given(data=st.one_of(csv_bytes(), any_bytes), lang=LANGUAGES)
def test_read_any_csv_corpus(data, lang):
    with folder() as root:
        path = root / "corpus.csv"
        path.write_bytes(data)
        check_records(outcome(read_input, path, lang=lang))


@PROFILE
@given(files=folders, lang=LANGUAGES)
def test_read_any_folder_corpus(files, lang):
    with folder() as root:
        for name, content in files.items():
            write(root / "corpus" / name, content)
        check_records(outcome(read_input, root / "corpus", lang=lang))


# --- SemEval folders and official label files ---------------------------------------------------


@pytest.fixture(scope="module")
def semeval2023(tmp_path_factory) -> Path:
    return write_semeval2023(tmp_path_factory.mktemp("semeval2023"))


@pytest.fixture(scope="module")
def semeval2025(tmp_path_factory) -> Path:
    return write_semeval2025(tmp_path_factory.mktemp("semeval2025"))


FILES_2023 = {
    "en/train-labels-subtask-1.txt": "genre",
    "en/train-labels-subtask-2.txt": "frames",
    "en/train-labels-subtask-3.txt": "techniques",
    "en/train-labels-subtask-3.template": "template",
    "en/train-labels-subtask-3-spans/article1-labels-subtask-3.txt": "spans",
    "en/train-labels-subtask-3-spans/article2-labels-subtask-3.txt": "spans",
    "en/train-labels-subtask-3-spans/article9-labels-subtask-3.txt": "spans",
    "xx/train-labels-subtask-3-spans/article1-labels-subtask-3.txt": "spans",
    **{
        f"{lang}/train-articles-subtask-{n}/article{aid}.txt": "article"
        for lang in ("en", "xx")
        for n in (1, 3)
        for aid in (1, 2)
    },
    "en/train-articles-subtask-2/article9.txt": "article",
}
FILES_2025 = {
    "en/train-labels-subtask-1.txt": "entities",
    "en/train-labels-subtask-2.txt": "narratives",
    "en/train-labels-subtask-3.txt": "explanations",
    **{f"en/train-documents/EN_{i:03d}.txt": "article" for i in (0, 1, 2)},
}


def _content(kind: str) -> st.SearchStrategy[bytes]:
    if kind == "article":
        return st.one_of(any_bytes, texts.map(lambda text: text.encode("utf-8", "surrogatepass")))
    return label_file({**LINES_2023, **LINES_2025}[kind])


def check_labelled(records) -> None:
    """Records of the training reader: every copy's offsets, every span and mention in its text."""
    if isinstance(records, SpinscopeError):
        return
    for record in records:
        assert isinstance(record, LabelledArticle) and record.copies
        for article in record.copies.values():
            check_offsets(article)
        if "spans" in record.labels:
            text = record.copies[3].text
            for technique, start, end in record.labels["spans"]:
                assert technique in TECHNIQUE_NAMES and 0 <= start < end <= len(text)
        for row, (start, end) in record.mentions:
            text = record.copies[0].text
            assert 0 <= start < end <= len(text) and text[start:end] == row.mention.text
            assert row.role in ROLE_NAMES


@PROFILE
@given(changes=file_changes(list(FILES_2023), lambda name: _content(FILES_2023[name])))
def test_any_semeval2023_folder(semeval2023, changes):
    with folder() as tmp:
        root = Path(shutil.copytree(semeval2023, tmp / "data"))
        for name, content in changes.items():
            write(root / name, content)
        check_labelled(outcome(read_training, root))
        check_records(outcome(read_input, root))
        check_records(outcome(read_input, root / "xx", split="train"))
        split = Split(root, "en", "train")
        for read, path in [
            (formats.read_genre_labels, split.labels_file(1)),
            (formats.read_frame_labels, split.labels_file(2)),
            (formats.read_technique_labels, split.labels_file(3)),
            (formats.read_template, split.template_file()),
        ]:
            result = outcome(read, path)
            assert isinstance(result, DataError | dict | list), result
        articles = {p.name: outcome(formats.read_article, p) for p in split.article_paths(3)}
        lengths = {}
        for article in articles.values():
            assert isinstance(article, Article | InputError)
            if isinstance(article, Article):
                check_offsets(article)
                lengths[article.id] = len(article.text)
        spans = outcome(formats.read_span_folder, split.spans_dir(), lengths)
        if not isinstance(spans, SpinscopeError):
            for aid, technique, start, end in spans:
                assert technique in TECHNIQUE_NAMES and 0 <= start < end <= lengths.get(aid, end)


@PROFILE
@given(changes=file_changes(list(FILES_2025), lambda name: _content(FILES_2025[name])))
def test_any_semeval2025_folder(semeval2025, changes):
    with folder() as tmp:
        root = Path(shutil.copytree(semeval2025, tmp / "data"))
        for name, content in changes.items():
            write(root / name, content)
        check_labelled(outcome(read_training, root))
        split = Split(root, "en", "train")
        outcome(formats.read_narrative_labels, split.labels_file(2))
        rows = outcome(formats.read_entity_labels, split.labels_file(1), roles=False)
        if isinstance(rows, SpinscopeError):
            return
        for path in sorted(split.documents_dir().glob("*.txt")):
            document = outcome(formats.read_document, path)
            if isinstance(document, SpinscopeError):
                continue
            check_offsets(document)
            mine = [row for row in rows if row.article == document.id]
            for row, found in zip(mine, formats.locate_mentions(document.text, mine)):
                if found is not None:
                    assert 0 <= found[0] < found[1] <= len(document.text)
                    assert document.text[found[0] : found[1]] == row.mention.text


# --- the crashes the fuzzing found, kept as plain examples ----------------------------------------


def test_hostile_json_lines_are_problems_and_the_rest_is_read(tmp_path):
    path = tmp_path / "corpus.jsonl"
    lines = [
        '{"id": "a", "text": "Bridge reopens\\n\\nThe bridge reopened."}',
        "[" * 50_000,
        '{"id": ' + "7" * 5000 + "}",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    records, problems = read_input(path, lang="en")
    assert [r.id for r in records] == ["a"]
    assert [p.location for p in problems] == [f"{path}:2", f"{path}:3"]
    assert "nested too deeply" in problems[0].message and "digits" in problems[1].message


def test_a_mention_without_words_or_past_the_text_is_not_located():
    text = "Kyiv signs.\n"
    assert formats.locate_mention(text, Mention(30, 31, "")) is None
    assert formats.locate_mention(text, Mention(9, 13, "s.\n")) == (9, 12)  # not (9, 13): past the end
    assert formats.locate_mention(text, Mention(0, 4, "Kyiv")) == (0, 4)
    assert formats.locate_mention(text, Mention(3, 7, "Kyiv")) == (0, 4)  # nearest occurrence still found


def test_a_folder_named_like_an_article_is_no_article(semeval2023, tmp_path):
    root = Path(shutil.copytree(semeval2023, tmp_path / "data"))
    (root / "en" / "train-articles-subtask-3" / "article7.txt").mkdir()
    split = Split(root, "en", "train")
    assert [p.name for p in split.article_paths(3)] == ["article1.txt", "article2.txt", "article3.txt"]
    with pytest.raises(DataError, match="cannot be read"):
        formats.read_article(root / "en" / "train-articles-subtask-3" / "article7.txt")
    assert sorted(r.id for r in read_training(root, ["en"])) == ["1", "2", "3"]
