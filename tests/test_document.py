"""Tests for spinscope.document: paragraphs, offsets, spans, and the real SemEval offsets."""

from __future__ import annotations

import pytest

from conftest import EN_LINES, FR_LINES, join
from spinscope import semeval
from spinscope.document import Article, Paragraph, Span, segments, split_lines, title_of


def _check_offsets(text: str, paragraphs) -> None:
    for p in paragraphs:
        assert text[p.start : p.end] == p.text
        assert len(p) == p.end - p.start == len(p.text)
        assert "\n" not in p.text and not p.text.endswith("\r")


# --- split_lines -------------------------------------------------------------------------


def test_split_lines_lf_lines_numbers_and_offsets(en_text):
    paragraphs = split_lines(en_text)
    assert [p.line for p in paragraphs] == [1, 3, 5, 7]
    assert [p.text for p in paragraphs] == [EN_LINES[0], EN_LINES[2], EN_LINES[4], EN_LINES[6]]
    assert paragraphs[0] == Paragraph(1, 0, len(EN_LINES[0]), EN_LINES[0])
    # line 3 starts after the title, its "\n" and the blank line's "\n"
    assert paragraphs[1].start == len(EN_LINES[0]) + 2
    _check_offsets(en_text, paragraphs)


def test_split_lines_crlf_ends_exclude_carriage_return():
    text = "Title here\r\n\r\nFirst paragraph.\r\nSecond one\r\n"
    paragraphs = split_lines(text)
    assert [(p.line, p.start, p.end, p.text) for p in paragraphs] == [
        (1, 0, 10, "Title here"),
        (3, 14, 30, "First paragraph."),
        (4, 32, 42, "Second one"),
    ]
    assert text[10:12] == "\r\n" and text[30] == "\r"
    _check_offsets(text, paragraphs)


def test_split_lines_bom_and_crlf_keep_python_string_indices(crlf_text):
    assert crlf_text.startswith("\ufeff") and "\r\n" in crlf_text
    paragraphs = split_lines(crlf_text)
    assert [p.line for p in paragraphs] == [1, 3, 4, 6]
    # The BOM is one character of the first line: offsets count it, like the SemEval spans.
    assert paragraphs[0].start == 0 and paragraphs[0].text == "\ufeff" + FR_LINES[0]
    assert paragraphs[1].start == 1 + len(FR_LINES[0]) + 4  # BOM + title + "\r\n\r\n"
    assert [p.text for p in paragraphs[1:]] == [FR_LINES[2], FR_LINES[3], FR_LINES[5]]
    _check_offsets(crlf_text, paragraphs)
    # Same paragraphs as the LF version, every offset shifted by the BOM and one "\r" per line break.
    lf = split_lines(join(FR_LINES))
    for with_cr, plain in zip(paragraphs[1:], lf[1:]):
        assert with_cr.text == plain.text and with_cr.line == plain.line
        assert with_cr.start - plain.start == 1 + (plain.line - 1)


def test_split_lines_skips_blank_and_whitespace_lines_but_counts_them():
    text = "Title\n\n   \n\t\n \r\nBody line\n\r\n\nLast"
    paragraphs = split_lines(text)
    assert [(p.line, p.text) for p in paragraphs] == [(1, "Title"), (6, "Body line"), (9, "Last")]
    assert paragraphs[-1].end == len(text)  # no final line break: the last line runs to the end
    _check_offsets(text, paragraphs)


def test_split_lines_keeps_inner_whitespace_of_a_line():
    text = "  Indented title \t\nnext"
    first = split_lines(text)[0]
    assert first.text == "  Indented title \t" and (first.start, first.end) == (0, 18)


@pytest.mark.parametrize("text", ["", "\n", "\r\n\r\n", "  \n\t\n"])
def test_split_lines_of_blank_text_is_empty(text):
    assert split_lines(text) == []


# --- Article -----------------------------------------------------------------------------


def test_article_title_body_and_lookups(en_text):
    article = Article(en_text, id="42", language="en")
    assert article.title.text == EN_LINES[0] and article.title.line == 1
    assert [p.line for p in article.body] == [3, 5, 7]
    assert article.paragraph_at_line(5).text == EN_LINES[4]
    assert article.paragraph_at_line(2) is None  # blank
    assert article.paragraph_at_line(6) is None  # whitespace only
    assert article.paragraph_at_line(99) is None  # absent
    assert article.paragraph_at_line(0) is None


def test_article_paragraph_of_offsets(crlf_text):
    article = Article(crlf_text)
    second = article.paragraph_at_line(3)
    assert article.paragraph_of(second.start) is second
    assert article.paragraph_of(second.end - 1) is second
    assert article.paragraph_of(second.end) is None  # the "\r" of the line break
    assert crlf_text[second.end] == "\r"
    assert article.paragraph_of(second.start - 1) is None  # the "\n" before it
    assert article.paragraph_of(0) is article.title  # the BOM belongs to the title line
    assert article.paragraph_of(len(crlf_text)) is None
    assert article.paragraph_of(-1) is None


def test_article_without_paragraphs_has_no_title():
    article = Article("\n \n")
    assert article.paragraphs == () and article.title is None and article.body == ()


def test_article_equality_and_with_language(en_text):
    article = Article(en_text, id="a1")
    tagged = article.with_language("en")
    assert tagged.language == "en" and tagged.id == "a1" and tagged.text == en_text
    assert tagged.paragraphs == article.paragraphs
    assert tagged != article and tagged == Article(en_text, id="a1", language="en")
    with pytest.raises(AttributeError):
        article.text = "changed"  # frozen


def test_article_from_parts_builds_semeval_layout():
    article = Article.from_parts(
        "  Storm   closes\nschools ",
        ["First  paragraph\twith   spaces.", "", "   ", "Second\nparagraph."],
        id="x7",
        language="en",
    )
    assert article.text == "Storm closes schools\n\nFirst paragraph with spaces.\nSecond paragraph.\n"
    assert article.id == "x7" and article.language == "en"
    assert article.title.text == "Storm closes schools"
    assert [(p.line, p.text) for p in article.body] == [(3, "First paragraph with spaces."), (4, "Second paragraph.")]


def test_article_from_parts_with_no_body():
    article = Article.from_parts("Only a title", [])
    assert article.title.text == "Only a title" and article.body == ()


# --- Span --------------------------------------------------------------------------------


def test_span_accepts_a_forward_range():
    span = Span(0, 5, "Doubt")
    assert (span.label, span.start, span.end, span.score) == ("Doubt", 0, 5, 1.0)
    assert Span(3, 4, "Slogans", score=0.25).score == 0.25


@pytest.mark.parametrize("start,end", [(5, 5), (0, 0), (7, 3), (-1, 4)])
def test_span_rejects_empty_reversed_or_negative(start, end):
    with pytest.raises(ValueError, match="invalid span"):
        Span(start, end, "Loaded_Language")


def test_span_is_a_view_of_its_articles_text(crlf_text):
    article = Article(crlf_text)
    line = article.paragraphs[2]
    span = article.span(line.start, line.start + 5, "Doubt", 0.5)
    assert span.text == crlf_text[line.start : line.start + 5] == line.text[:5]
    assert span == Span(line.start, line.start + 5, "Doubt", 0.5)  # the owner is not compared
    with pytest.raises(ValueError, match="past its text"):
        article.span(len(crlf_text) - 1, len(crlf_text) + 1, "Doubt")
    mention = article.mention(line.start, line.start + 3)
    assert (mention.start, mention.end, mention.text) == (line.start, line.start + 3, line.text[:3])


def test_segments_cut_at_every_span_boundary():
    spans = [Span(2, 6, "A"), Span(4, 9, "B")]
    assert [(a, b, [s.label for s in covering]) for a, b, covering in segments(0, 10, spans)] == [
        (0, 2, []),
        (2, 4, ["A"]),
        (4, 6, ["A", "B"]),
        (6, 9, ["B"]),
        (9, 10, []),
    ]
    assert segments(3, 5, spans) == [(3, 4, [spans[0]]), (4, 5, spans)]


def test_title_of_is_the_first_non_blank_line():
    assert title_of("\ufeff\n  \n  A  title\r\nBody\n") == "A title"
    assert title_of(" \n\t") == ""


# --- the real SemEval-2023 data ----------------------------------------------------------


def _span_languages(semeval_dir):
    return sorted(p for p in semeval_dir.iterdir() if (p / "train-labels-subtask-3-spans").is_dir())


def test_real_spans_fall_inside_the_text_and_one_paragraph(semeval_dir):
    languages = _span_languages(semeval_dir)
    assert languages, f"no language folder with train-labels-subtask-3-spans/ in {semeval_dir}"
    total = crossing = 0
    out_of_range = []
    for folder in languages:
        split = semeval.Split(semeval_dir, folder.name, "train")
        articles = {}
        for path in split.article_paths(3):
            article = semeval.read_article(path)
            articles[article.id] = article
        spans = semeval.read_span_folder(split.spans_dir())
        assert spans, f"no spans read in {split.spans_dir()}"
        for aid, technique, start, end in spans:
            article = articles.get(aid)
            assert article is not None, f"{folder.name}: span of unknown article {aid}"
            total += 1
            if not 0 <= start < end <= len(article.text):
                out_of_range.append((folder.name, aid, technique, start, end, len(article.text)))
                continue
            paragraph = article.paragraph_of(start)
            # A span may end on the line break after its paragraph (end == paragraph.end + 1 is
            # still one paragraph's text plus "\n"); anything reaching further crosses a boundary.
            if paragraph is None or article.text[paragraph.end : end].strip():
                crossing += 1
    assert not out_of_range, f"spans outside their article: {out_of_range[:5]}"
    assert total > 1000
    assert crossing <= 0.01 * total, f"{crossing} of {total} spans cross a paragraph boundary"


def test_real_crlf_span_matches_reading_without_newline_translation(semeval_dir):
    for folder in _span_languages(semeval_dir):
        split = semeval.Split(semeval_dir, folder.name, "train")
        for spans_file in sorted(split.spans_dir().glob("*.txt")):
            spans = semeval.read_spans(spans_file)
            if not spans:
                continue
            aid = spans[0][0]
            path = split.articles_dir(3) / f"article{aid}.txt"
            with open(path, encoding="utf-8", newline="") as handle:
                exact = handle.read()
            crlf = exact.find("\r\n")
            late = [s for s in spans if crlf >= 0 and s[2] > crlf]
            if not late:
                continue
            article = semeval.read_article(path)
            assert article.text == exact
            with open(path, encoding="utf-8") as handle:
                translated = handle.read()  # universal newlines drop every "\r"
            for _, _, start, end in late:
                assert article.text[start:end] == exact[start:end]
            _, _, start, end = late[-1]
            assert translated[start:end] != exact[start:end], "universal newlines should shift late spans"
            return
    pytest.skip("no article with \\r\\n line endings and a span after its first line break")
