"""Tests for spinscope.semeval: the official SemEval-2023 Task 3 folder layout and file formats."""

from __future__ import annotations

import re

import pytest

from conftest import FR_LINES
from spinscope import semeval
from spinscope.errors import DataError
from spinscope.semeval import Split
from spinscope.taxonomy import FRAME_NAMES, GENRE_NAMES, TECHNIQUE_NAMES

# --- language codes and the folder layout ------------------------------------------------


@pytest.mark.parametrize(
    "folder,iso", [("ge", "de"), ("po", "pl"), ("gr", "el"), ("en", "en"), ("ka", "ka"), ("fr", "fr"), ("ru", "ru")]
)
def test_iso_language_maps_semeval_folders(folder, iso):
    assert semeval.iso_language(folder) == iso


@pytest.mark.parametrize("folder", ["xx", "de", "custom-lang"])
def test_iso_language_passes_unknown_folders_through(folder):
    assert semeval.iso_language(folder) == folder


def test_split_paths(tmp_path):
    split = Split(tmp_path, "ge", "train")
    assert split.root == tmp_path / "ge"
    assert split.labels_file(2) == tmp_path / "ge" / "train-labels-subtask-2.txt"
    assert split.template_file() == tmp_path / "ge" / "train-labels-subtask-3.template"
    assert split.spans_dir() == tmp_path / "ge" / "train-labels-subtask-3-spans"


def test_articles_dir_prefers_own_subtask_then_falls_back(tmp_path):
    split = Split(tmp_path, "fr", "test")
    (tmp_path / "fr" / "test-articles-subtask-3").mkdir(parents=True)
    assert split.articles_dir(3) == tmp_path / "fr" / "test-articles-subtask-3"
    assert split.articles_dir(1) == tmp_path / "fr" / "test-articles-subtask-3"  # fallback
    (tmp_path / "fr" / "test-articles-subtask-2").mkdir()
    assert split.articles_dir(1) == tmp_path / "fr" / "test-articles-subtask-2"  # lowest other first
    (tmp_path / "fr" / "test-articles-subtask-1").mkdir()
    assert split.articles_dir(1) == tmp_path / "fr" / "test-articles-subtask-1"
    assert split.articles_dir(3) == tmp_path / "fr" / "test-articles-subtask-3"


def test_articles_dir_missing_is_a_clear_data_error(tmp_path):
    (tmp_path / "it").mkdir()
    (tmp_path / "it" / "train-articles-subtask-3.txt").write_text("not a folder")
    with pytest.raises(DataError, match=r"no train-articles-subtask-\{1,2,3\} folder in .*it") as info:
        Split(tmp_path, "it", "train").articles_dir(3)
    assert "article<ID>.txt" in str(info.value)


def test_article_paths_and_ids(write_file, tmp_path):
    write_file("en/train-articles-subtask-1/article12.txt", "T\n\nBody\n")
    write_file("en/train-articles-subtask-1/article3.txt", "T\n\nBody\n")
    write_file("en/train-articles-subtask-1/notes.md", "ignored")
    write_file("en/train-articles-subtask-1/article9.txt.bak", "ignored")
    paths = Split(tmp_path, "en", "train").article_paths(1)
    assert [p.name for p in paths] == ["article12.txt", "article3.txt"]
    assert [semeval.article_id(p) for p in paths] == ["12", "3"]
    assert semeval.article_id("x/other.txt") == "other"


def test_read_article_keeps_bom_and_crlf(write_file, crlf_text):
    path = write_file("fr/train-articles-subtask-3/article777.txt", crlf_text)
    article = semeval.read_article(path, language="fr")
    assert article.text == crlf_text
    assert (article.id, article.language) == ("777", "fr")
    assert article.paragraph_at_line(4).text == FR_LINES[3]


# --- readers -----------------------------------------------------------------------------


def test_read_genre_labels(write_file):
    path = write_file("g.txt", "101\topinion\r\n\n102\treporting\n103\tsatire")
    assert semeval.read_genre_labels(path) == {"101": "opinion", "102": "reporting", "103": "satire"}


def test_read_frame_labels_with_empty_lists(write_file):
    path = write_file("f.txt", "\ufeff1\tEconomic,Political\n2\t\n3\n4\tMorality , Health_and_safety\n")
    assert semeval.read_frame_labels(path) == {
        "1": ["Economic", "Political"],
        "2": [],
        "3": [],
        "4": ["Morality", "Health_and_safety"],
    }


def test_read_technique_labels(write_file):
    path = write_file("t.txt", "5\t1\t\n5\t3\tDoubt,Loaded_Language\r\n5\t4\n")
    assert semeval.read_technique_labels(path) == {
        ("5", 1): [],
        ("5", 3): ["Doubt", "Loaded_Language"],
        ("5", 4): [],
    }


def test_read_template_keeps_order_and_ignores_text(write_file):
    path = write_file("x.template", "9\t3\tSome line\twith a tab\r\n9\t1\tTitle\r\n8\t1\t\r\n")
    assert semeval.read_template(path) == [("9", 3), ("9", 1), ("8", 1)]


def test_read_spans_checks_lengths(write_file):
    path = write_file("article5-labels-subtask-3.txt", "5\tDoubt\t0\t4\n5\tSlogans\t10\t20\n")
    assert semeval.read_spans(path) == [("5", "Doubt", 0, 4), ("5", "Slogans", 10, 20)]
    assert semeval.read_spans(path, {"5": 20}) == [("5", "Doubt", 0, 4), ("5", "Slogans", 10, 20)]
    assert semeval.read_spans(path, {"other": 3}) == [("5", "Doubt", 0, 4), ("5", "Slogans", 10, 20)]


def test_read_span_folder(write_file, tmp_path):
    write_file("spans/article1-labels-subtask-3.txt", "1\tDoubt\t0\t4\n")
    write_file("spans/article2-labels-subtask-3.txt", "")
    write_file("spans/article3-labels-subtask-3.txt", "3\tRepetition\t5\t9\n3\tSlogans\t1\t2\n")
    write_file("spans/readme.md", "1\tnot a span\n")
    assert semeval.read_span_folder(tmp_path / "spans") == [
        ("1", "Doubt", 0, 4),
        ("3", "Repetition", 5, 9),
        ("3", "Slogans", 1, 2),
    ]
    with pytest.raises(DataError, match="missing span folder"):
        semeval.read_span_folder(tmp_path / "nowhere")


def test_missing_label_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="missing label file .*absent.txt"):
        semeval.read_genre_labels(tmp_path / "absent.txt")


# --- errors point at file:line -----------------------------------------------------------


def _where(path, line):
    return re.escape(f"{path}:{line}:")


@pytest.mark.parametrize(
    "reader,content,line,message",
    [
        (semeval.read_genre_labels, "1\topinion\n2\tpropaganda\n", 2, "unknown label 'propaganda'"),
        (semeval.read_genre_labels, "1\tOpinion\n", 1, "unknown label 'Opinion'"),
        (semeval.read_frame_labels, "1\tEconomic\n\n3\tEconomic,Ecology\n", 3, "unknown label 'Ecology'"),
        (
            semeval.read_technique_labels,
            "1\t1\tDoubt\n1\t3\tDoubt,Loaded_language\n",
            2,
            "unknown label 'Loaded_language'",
        ),
        (semeval.read_spans, "1\tDoubt\t0\t4\n1\tLying\t5\t9\n", 2, "unknown technique 'Lying'"),
    ],
)
def test_unknown_label_names_file_and_line(write_file, reader, content, line, message):
    path = write_file("labels.txt", content)
    with pytest.raises(DataError, match=_where(path, line) + ".*" + re.escape(message)):
        reader(path)


@pytest.mark.parametrize(
    "reader,content,line,message",
    [
        (semeval.read_genre_labels, "1\topinion\n2 reporting\n", 2, "expected 2 tab-separated fields, got 1"),
        (semeval.read_technique_labels, "1\t1\t\n1\n", 2, "expected 2 tab-separated fields, got 1"),
        (semeval.read_technique_labels, "1\tthree\tDoubt\n", 1, "expected an integer, got 'three'"),
        (semeval.read_template, "1\t1\tTitle\n\n1\t2.5\tText\n", 3, "expected an integer, got '2.5'"),
        (semeval.read_spans, "1\tDoubt\t0\t4\n1\tDoubt\t7\n", 2, "expected 4 tab-separated fields, got 3"),
        (semeval.read_spans, "1\tDoubt\tzero\t4\n", 1, "expected an integer, got 'zero'"),
        (semeval.read_spans, "1\tDoubt\t0\t4.0\n", 1, "expected an integer, got '4.0'"),
    ],
)
def test_malformed_line_names_file_and_line(write_file, reader, content, line, message):
    path = write_file("labels.txt", content)
    with pytest.raises(DataError, match=_where(path, line) + ".*" + re.escape(message)):
        reader(path)


@pytest.mark.parametrize("start,end", [(5, 5), (9, 4), (-2, 3)])
def test_empty_or_reversed_span_is_a_data_error(write_file, start, end):
    path = write_file("s.txt", f"1\tDoubt\t0\t3\n1\tDoubt\t{start}\t{end}\n")
    with pytest.raises(DataError, match=_where(path, 2) + ".*empty, reversed or past the end"):
        semeval.read_spans(path)


def test_span_past_the_end_of_its_article(write_file, tmp_path):
    path = write_file("spans/article1-labels-subtask-3.txt", "1\tDoubt\t0\t10\n\n1\tSlogans\t15\t31\n")
    assert semeval.read_spans(path, {"1": 31}) == [("1", "Doubt", 0, 10), ("1", "Slogans", 15, 31)]
    with pytest.raises(DataError, match=_where(path, 3) + r".*past the end of article 1 \(30 characters\)"):
        semeval.read_spans(path, {"1": 30})
    with pytest.raises(DataError, match=_where(path, 3)):
        semeval.read_span_folder(tmp_path / "spans", {"1": 30})


@pytest.mark.parametrize("value", ["", "opinion,satire"])
def test_genre_must_be_exactly_one_label(write_file, value):
    path = write_file("g.txt", f"1\treporting\n2\t{value}\n")
    with pytest.raises(DataError, match=_where(path, 2)):
        semeval.read_genre_labels(path)


def test_label_file_not_utf8_is_a_data_error(write_file):
    path = write_file("t.txt", b"1\t1\tDoubt\n" + "2\t1\tDoubt « é »\n".encode("cp1252"))
    with pytest.raises(DataError, match=_where(path, 2)):
        semeval.read_technique_labels(path)


# --- writers -----------------------------------------------------------------------------


def test_writers_write_the_official_format(tmp_path):
    semeval.formats.write_genre(tmp_path / "out" / "g.txt", [("1", "opinion"), ("2", "satire")])
    semeval.formats.write_frames(tmp_path / "f.txt", [("1", ["Economic", "Political"]), ("2", [])])
    semeval.formats.write_techniques(tmp_path / "t.txt", [("1", 1, []), ("1", 3, ["Doubt", "Slogans"])])
    semeval.formats.write_spans(tmp_path / "s.txt", [("1", "Doubt", 0, 4), ("1", "Slogans", 10, 12)])
    assert (tmp_path / "out" / "g.txt").read_bytes() == b"1\topinion\n2\tsatire\n"
    assert (tmp_path / "f.txt").read_bytes() == b"1\tEconomic,Political\n2\t\n"
    assert (tmp_path / "t.txt").read_bytes() == b"1\t1\t\n1\t3\tDoubt,Slogans\n"
    assert (tmp_path / "s.txt").read_bytes() == b"1\tDoubt\t0\t4\n1\tSlogans\t10\t12\n"


def test_writers_round_trip(tmp_path):
    genres = {f"a{i}": GENRE_NAMES[i % len(GENRE_NAMES)] for i in range(7)}
    frames = {f"a{i}": list(FRAME_NAMES[i : i + i % 4]) for i in range(7)}  # includes empty lists
    techniques = {
        (f"a{i}", line): list(TECHNIQUE_NAMES[line : line + (i + line) % 3]) for i in range(4) for line in (1, 3, 4, 8)
    }
    spans = [("a1", TECHNIQUE_NAMES[0], 0, 12), ("a1", TECHNIQUE_NAMES[-1], 5, 6), ("a2", "Loaded_Language", 100, 250)]

    semeval.formats.write_genre(tmp_path / "g.txt", genres.items())
    semeval.formats.write_frames(tmp_path / "f.txt", frames.items())
    semeval.formats.write_techniques(tmp_path / "t.txt", [(a, line, v) for (a, line), v in techniques.items()])
    semeval.formats.write_spans(tmp_path / "s.txt", spans)

    assert semeval.read_genre_labels(tmp_path / "g.txt") == genres
    assert semeval.read_frame_labels(tmp_path / "f.txt") == frames
    assert semeval.read_technique_labels(tmp_path / "t.txt") == techniques
    assert semeval.read_template(tmp_path / "t.txt") == list(techniques)
    assert semeval.read_spans(tmp_path / "s.txt", {"a1": 12, "a2": 250}) == spans


# --- the real data -----------------------------------------------------------------------


def test_real_label_files_and_templates_read_cleanly(semeval_dir):
    """Every label file reads without error; every template/label line is a non-blank article line."""
    checked = 0
    for folder in sorted(p for p in semeval_dir.iterdir() if p.is_dir()):
        for name in ("train", "test"):
            split = Split(semeval_dir, folder.name, name)
            if not split.template_file().is_file():
                continue
            articles = {semeval.article_id(p): semeval.read_article(p) for p in split.article_paths(3)}
            keys = list(semeval.read_template(split.template_file()))
            if split.labels_file(3).is_file():
                techniques = semeval.read_technique_labels(split.labels_file(3))
                assert set(keys) <= set(techniques), f"{folder.name}/{name}: template lines without labels"
                keys += list(techniques)
                assert set(semeval.read_genre_labels(split.labels_file(1))) <= {
                    semeval.article_id(p) for p in split.article_paths(1)
                }
                assert semeval.read_frame_labels(split.labels_file(2))
            for aid, line in keys:
                assert aid in articles, f"{folder.name}/{name}: no article {aid}"
                assert articles[aid].paragraph_at_line(line) is not None, (
                    f"{folder.name}/{name}: article {aid} line {line} is blank or absent"
                )
            checked += 1
    assert checked >= 6


@pytest.mark.parametrize("aid", ["../secret.txt", "/etc/passwd", "sub/doc.txt", "..", ""])
def test_a_document_id_cannot_point_outside_the_documents_folder(tmp_path, aid):
    (tmp_path / "bg" / "train-documents").mkdir(parents=True)
    split = Split(tmp_path, "bg", "train")
    assert split.document_path("BG_1.txt") == tmp_path / "bg" / "train-documents" / "BG_1.txt"
    with pytest.raises(DataError, match="is not a file name"):
        split.document_path(aid)
