"""Corpus mode: readers, the store, the engines, export and the corpus report.

Every article here is invented for these tests. Real analyses cost CPU, so the articles are
tiny and one module-scoped database is reused; the embeddings cache makes re-analysing the
same texts (CSV vs JSONL, dask vs local, reruns) cheap.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from contextlib import closing
from pathlib import Path

import pytest

from spinscope.analysis import Analysis
from spinscope.corpus import batch, engines, read_input, readers, run_batch
from spinscope.corpus.charts import charts
from spinscope.corpus.report import report_html, write_report
from spinscope.corpus.report_data import corpus_data
from spinscope.corpus.store import ArticleRecord, Store, content_hash, export, model_version
from spinscope.document import Article
from spinscope.errors import InputError, StoreError

#: Six invented articles: id, title, body paragraphs, source, date. One carries markup to
#: check that the report escapes article text.
ARTICLES = [
    (
        "g1",
        "Council doubles parking fees overnight",
        [
            "The town council doubled parking fees in the centre without any public debate.",
            "Shopkeepers call it a scandal that will empty the high street.",
        ],
        "Valley Gazette",
        "2024-01-10",
    ),
    (
        "g2",
        "New library opens its doors",
        [
            "The new library opened on Saturday with three floors of books and a children's corner.",
            "The mayor thanked the volunteers who helped move the collection.",
        ],
        "Valley Gazette",
        "2024-02-14",
    ),
    (
        "h1",
        "They want to take your car away",
        [
            "Bureaucrats have a secret plan to ban every family car by the end of the decade.",
            "Everyone knows what happens next: first the cars, then your freedom.",
        ],
        "Daily Herald",
        "2024-02-20",
    ),
    (
        "h2",
        "Storm cuts power to thousands",
        [
            "A winter storm cut power to about four thousand homes on Tuesday night.",
            "Crews restored most lines by morning, the grid operator said.",
        ],
        "Daily Herald",
        "2024-03-02",
    ),
    (
        "x1",
        'Script <b>tags</b> & "quotes" in a headline',
        [
            "A reader sent <script>alert('boo')</script> as her comment & the site printed it.",
            "Editors promised to fix the form before the weekend.",
        ],
        "<i>Tag</i> Times",
        "2024-03-15",
    ),
    (
        "x2",
        "Festival draws record crowds",
        [
            "The harbour festival drew record crowds for its fortieth edition this summer.",
            "Organisers said next year's programme would be even bigger.",
        ],
        "Tag Times",
        None,
    ),
]


def jsonl_rows() -> list[dict]:
    rows = []
    for aid, title, paragraphs, source, date in ARTICLES:
        row = {"id": aid, "text": Article.from_parts(title, paragraphs).text, "source": source, "language": "en"}
        if date:
            row["date"] = date
        rows.append(row)
    return rows


def write_jsonl(path: Path, rows: list[dict], extra_lines: dict[int, str] | None = None) -> Path:
    lines = [json.dumps(r, ensure_ascii=False) for r in rows]
    for at, line in sorted((extra_lines or {}).items()):
        lines.insert(at - 1, line)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_csv(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "text", "source", "date", "language"])
        writer.writeheader()
        writer.writerows(rows)
    return path


def table_counts(db: Path) -> dict[str, int]:
    with closing(sqlite3.connect(db)) as con:
        return {
            t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("articles", "analyses", "paragraph_labels", "spans", "frames")
        }


@pytest.fixture(scope="module")
def analyzer():
    """The Analyzer a one-worker batch analyses with."""
    return engines.load_analyzer()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """The six articles batch-analysed once from JSONL: ``(folder, jsonl path, db path, result)``."""
    folder = tmp_path_factory.mktemp("corpus")
    jsonl = write_jsonl(folder / "corpus.jsonl", jsonl_rows())
    db = folder / "corpus.sqlite"
    seen = []
    result = run_batch(jsonl, db, progress=lambda stage, done, total: seen.append((stage, done, total)))
    stored = [(done, total) for stage, done, total in seen if stage == "analysing"]
    assert stored[0] == (0, len(ARTICLES)) and stored[-1] == (len(ARTICLES), len(ARTICLES))
    return folder, jsonl, db, result


# -- store ----------------------------------------------------------------------------------


def test_batch_stores_every_article_exactly_once(corpus):
    _, _, db, result = corpus
    assert (result.analysed, result.failed, result.skipped, result.problems) == (len(ARTICLES), 0, 0, [])
    with Store(db) as store:
        assert store.check() == []
        rows = list(store.export_rows())
    assert sorted(r["id"] for r in rows) == sorted(a[0] for a in ARTICLES)
    assert len({r["hash"] for r in rows}) == len(ARTICLES)
    assert {r["model_version"] for r in rows} == {result.model_version}
    g1 = next(r for r in rows if r["id"] == "g1")
    assert (g1["source"], g1["date"], g1["language"], g1["title"]) == (
        "Valley Gazette",
        "2024-01-10",
        "en",
        "Council doubles parking fees overnight",
    )
    assert g1["n_paragraphs"] == 3 and g1["status"] == "ok"
    with closing(sqlite3.connect(db)) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        indexes = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {
        "paragraph_labels_by_technique",
        "articles_by_source",
        "articles_by_date",
        "spans_by_technique_text",
    } <= indexes


def test_rerun_adds_nothing(corpus):
    _, jsonl, db, first = corpus
    before = table_counts(db)
    again = run_batch(jsonl, db)
    assert (again.analysed, again.failed, again.skipped) == (0, 0, len(ARTICLES))
    assert again.model_version == first.model_version
    assert table_counts(db) == before


def test_stored_analysis_is_the_analyzers(corpus, analyzer):
    _, _, db, result = corpus
    row = jsonl_rows()[0]
    expected = analyzer.analyze(Article(row["text"], id=row["id"], language="en")).to_dict()
    with Store(db) as store:
        assert store.analysis(content_hash(row["text"]), result.model_version).to_dict() == expected


def test_csv_input_gives_the_same_articles(corpus, tmp_path):
    _, _, db, _ = corpus
    rows = [{**r, "date": r.get("date", "")} for r in jsonl_rows()]
    result = run_batch(write_csv(tmp_path / "corpus.csv", rows), tmp_path / "csv.sqlite")
    assert (result.analysed, result.problems) == (len(ARTICLES), [])
    with Store(db) as a, Store(tmp_path / "csv.sqlite") as b:
        assert list(a.export_rows(with_analysis=True)) == list(b.export_rows(with_analysis=True))


def test_model_version_is_a_short_hash_of_the_models_and_spinscope(analyzer):
    info = analyzer.model_info
    assert model_version(info) == model_version(json.loads(json.dumps(info)))
    assert len(model_version(info)) == 12
    assert model_version(info, "9.9.9") != model_version(info)
    changed = {**info, "genre": {**info["genre"], "threshold": 0.123}}
    assert model_version(changed) != model_version(info)


def test_a_failing_article_is_stored_with_its_reason_and_can_be_retried(tmp_path, monkeypatch, analyzer):
    real = analyzer

    class Flaky:
        model_info = real.model_info

        def analyze(self, article):
            if "EXPLODE" in article.text:
                raise RuntimeError("the model exploded")
            return real.analyze(article)

    rows = jsonl_rows()[:2]
    rows[1]["text"] = rows[1]["text"].replace("library", "EXPLODE library")
    records = [ArticleRecord(r["id"], r["text"], "en", location=f"x:{i}") for i, r in enumerate(rows, 1)]
    records.append(ArticleRecord("huge", "A long one\n\n" + "word " * 50_000, "en", location="x:3"))
    db = tmp_path / "fail.sqlite"
    monkeypatch.setattr(batch, "load_analyzer", lambda model_dir=None, cache=True: Flaky())
    result = batch.analyse_records(records, db)
    assert (result.analysed, result.failed) == (1, 2)
    with Store(db) as store:
        errors = {r["id"]: r["error"] for r in store.export_rows() if r["status"] == "failed"}
        assert store.check() == []
    assert errors["g2"] == "RuntimeError: the model exploded"
    assert "250,012 characters" in errors["huge"] and "at most 200,000" in errors["huge"]
    # A plain rerun keeps the failures; --retry-failed analyses them again.
    monkeypatch.setattr(batch, "load_analyzer", lambda model_dir=None, cache=True: real)
    assert batch.analyse_records(records, db).skipped == 3
    retried = batch.analyse_records(records, db, retry_failed=True)
    assert (retried.analysed, retried.failed, retried.skipped) == (1, 1, 1)  # g1 was fine already
    with Store(db) as store:
        status = {r["id"]: r["status"] for r in store.export_rows()}
        assert store.check() == []
    assert status == {"g1": "ok", "g2": "ok", "huge": "failed"}


# -- kill -9 --------------------------------------------------------------------------------

KILL_SCRIPT = textwrap.dedent("""
    import sys, time
    from spinscope.corpus import run_batch
    # A slow progress callback stretches the run so the test can kill it midway.
    run_batch(sys.argv[1], sys.argv[2], workers=2, progress=lambda stage, done, total: time.sleep(0.15))
""")


def _analyses(db: Path) -> int:
    try:
        with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)) as con:
            return con.execute("SELECT count(*) FROM analyses").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_a_batch_killed_with_sigkill_resumes_and_stores_each_article_once(tmp_path):
    places = ["harbour", "station", "market", "school", "bridge", "museum"]
    rows = [
        {
            "id": f"k{i}",
            "language": "en",
            "text": f"Town news number {i}\n\nThe {places[i % 6]} reopened after {i + 2} weeks of work.\n"
            f"Residents of district {i} said they were glad.\n",
        }
        for i in range(30)
    ]
    jsonl = write_jsonl(tmp_path / "kill.jsonl", rows)
    db = tmp_path / "kill.sqlite"
    process = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, str(jsonl), str(db)],
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while _analyses(db) < 4:
            assert process.poll() is None, process.stdout.read().decode()
            assert time.monotonic() < deadline, "the batch stored nothing in 120 s"
            time.sleep(0.02)
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the batch and its worker processes
        process.communicate()
    assert process.returncode == -signal.SIGKILL
    stored_at_kill = _analyses(db)
    assert 4 <= stored_at_kill < len(rows), "the batch was not killed midway"

    result = run_batch(jsonl, db)
    assert result.skipped == stored_at_kill and result.analysed == len(rows) - stored_at_kill
    with Store(db) as store:
        assert store.check() == []  # integrity, foreign keys, no orphan rows, no article without analysis
        exported = list(store.export_rows())
    assert sorted(r["id"] for r in exported) == sorted(r["id"] for r in rows)
    assert all(r["status"] == "ok" for r in exported)
    counts = table_counts(db)
    assert counts["articles"] == counts["analyses"] == len(rows)


# -- bad input ------------------------------------------------------------------------------


def test_bad_jsonl_lines_are_reported_with_file_and_line_and_the_rest_is_analysed(corpus, tmp_path, caplog):
    path = write_jsonl(
        tmp_path / "bad.jsonl",
        jsonl_rows()[:3],
        {
            2: "{not json",
            3: '["a list"]',
            4: '{"id": "no-text"}',
            6: json.dumps({"id": "g1", "text": "Another text\n\nwith the same id.\n"}),
            7: json.dumps({"id": "d1", "text": "Dated\n\nbody\n", "date": "next Tuesday"}),
            8: json.dumps({"text": "No id\n\nbody\n"}),
        },
    )
    with caplog.at_level(logging.WARNING, logger="spinscope"):
        result = run_batch(path, tmp_path / "bad.sqlite")
    problems = result.problems
    assert [r.getMessage() for r in caplog.records] == [str(p) for p in problems]  # each one logged
    assert str(problems[0]).startswith(f"{path}:2: not valid JSON (")
    assert [str(p) for p in problems[1:]] == [
        f'{path}:3: expected a JSON object like {{"id": "a1", "text": "..."}}',
        f"{path}:4: article 'no-text': no \"text\"",
        f"{path}:6: duplicate id 'g1' (first at {path}:1): skipped",
        f"{path}:7: article 'd1': date 'next Tuesday' is not an ISO date (YYYY-MM-DD)",
        f'{path}:8: no "id"',
    ]
    assert result.analysed == 3


def test_same_text_under_two_ids_is_stored_once(corpus, tmp_path):
    rows = jsonl_rows()[:2]
    rows.append({**rows[0], "id": "copy"})
    result = run_batch(write_jsonl(tmp_path / "dup.jsonl", rows), tmp_path / "dup.sqlite")
    assert (result.analysed, result.skipped) == (2, 1)
    assert [str(p) for p in result.problems] == [f"{tmp_path / 'dup.jsonl'}:3: same text as article 'g1': stored once"]


def test_csv_without_a_text_column_is_an_error_with_file_and_line(tmp_path):
    path = tmp_path / "no-text.csv"
    path.write_text("id,body\n1,hello\n", encoding="utf-8")
    with pytest.raises(InputError, match=rf"{path}:1: no 'text' column \(columns: id, body\)"):
        read_input(path)


def test_bad_csv_rows_are_reported_at_their_first_line(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text(
        "id,text,source\n"
        'a,"Title A\n\nA body that spans\nseveral lines.",Gazette\n'
        'b,"Title B\n\nBody B",Herald,extra\n'
        "\n"
        'c,"Title C\n\nBody C",\n',
        encoding="utf-8",
    )
    records, problems = read_input(path, lang="en")
    assert [r.id for r in records] == ["a", "c"]
    assert records[0].text == "Title A\n\nA body that spans\nseveral lines." and records[0].source == "Gazette"
    assert records[1].source is None and records[1].title == "Title C"
    assert [str(p) for p in problems] == [f"{path}:6: expected 3 fields, got 4 (is a quote missing?)"]


def test_folder_input_reads_txt_and_html_and_reports_unreadable_files(tmp_path, html_extractor):
    root = tmp_path / "articles"
    (root / "Gazette").mkdir(parents=True)
    (root / "Gazette" / "one.txt").write_text(Article.from_parts(*ARTICLES[0][1:3]).text, encoding="utf-8")
    paragraphs = "".join(f"<p>{p} It was a long day for everyone involved in the story.</p>" for p in ARTICLES[3][2])
    (root / "two.html").write_text(
        f"<html><head><title>{ARTICLES[3][1]}</title></head><body><article>"
        f"<h1>{ARTICLES[3][1]}</h1>{paragraphs}</article></body></html>",
        encoding="utf-8",
    )
    (root / "two.txt").write_text("Same id as the HTML file\n\nbody\n", encoding="utf-8")
    (root / "binary.txt").write_bytes(b"\x00\x01\x02" * 100)
    (root / "empty.txt").write_text("  \n", encoding="utf-8")
    (root / ".hidden.txt").write_text("ignored\n", encoding="utf-8")
    (root / "notes.md").write_text("ignored\n", encoding="utf-8")
    records, problems = read_input(root)
    assert {r.id: (r.source, r.language) for r in records} == {"Gazette/one": ("Gazette", "en"), "two": (None, "en")}
    two = next(r for r in records if r.id == "two")
    assert two.text.startswith(ARTICLES[3][1] + "\n\n") and "winter storm" in two.text
    messages = {Path(p.location).name: p.message for p in problems}
    assert set(messages) == {"binary.txt", "empty.txt", "two.txt"}
    assert "binary file" in messages["binary.txt"]
    assert "has no text" in messages["empty.txt"]
    assert messages["two.txt"] == f"duplicate id 'two' (first at {root / 'two.html'}): skipped"


def test_semeval_folder_input(tmp_path):
    data = tmp_path / "semeval"
    for folder, name, text in [
        ("en/train-articles-subtask-1", "article11.txt", "Title eleven\n\nBody.\n"),
        ("en/train-articles-subtask-3", "article11.txt", "Title eleven\n\nBody.\n"),
        ("en/train-articles-subtask-3", "article12.txt", "Title twelve\n\nBody.\n"),
        ("ge/test-articles-subtask-3", "article21.txt", "Titel einundzwanzig\n\nText.\n"),
    ]:
        (data / folder).mkdir(parents=True, exist_ok=True)
        (data / folder / name).write_text(text, encoding="utf-8")
    (data / "en" / "train-labels-subtask-1.txt").write_text("11\topinion\n", encoding="utf-8")
    records, problems = read_input(data)
    assert problems == []
    assert [(r.id, r.language, r.source) for r in records] == [
        ("11", "en", "semeval/en"),
        ("12", "en", "semeval/en"),
        ("21", "de", "semeval/ge"),
    ]
    assert [r.id for r in read_input(data, split="test")[0]] == ["21"]
    assert [r.id for r in read_input(data / "en")[0]] == ["11", "12"]
    with pytest.raises(InputError, match="no dev-articles-subtask-N"):
        read_input(data, split="dev")


def test_unusable_inputs_raise_input_errors(tmp_path):
    with pytest.raises(InputError, match="no such file or folder"):
        read_input(tmp_path / "missing.jsonl")
    (tmp_path / "corpus.xlsx").write_bytes(b"PK")
    with pytest.raises(InputError, match="unknown input type .xlsx"):
        read_input(tmp_path / "corpus.xlsx")
    with pytest.raises(InputError, match="unknown engine"):
        run_batch(tmp_path / "corpus.xlsx", tmp_path / "x.sqlite", engine="spark")
    not_a_db = tmp_path / "text.sqlite"
    not_a_db.write_text("hello, I am not a database " * 100)
    with pytest.raises(StoreError, match="is not a spinscope database"):
        Store(not_a_db)
    with pytest.raises(StoreError, match="no corpus database at .*none.sqlite"):
        corpus_data(tmp_path / "none.sqlite")


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2024-03-05", "2024-03-05"),
        ("2024-03-05T10:00:00Z", "2024-03-05"),
        ("2024-03-05 23:59:00+02:00", "2024-03-05"),
        ("2024-03", "2024-03-01"),
        ("2024", "2024-01-01"),
        ("05/03/2024", None),
        ("soon", None),
    ],
)
def test_iso_date(value, expected):
    assert readers.iso_date(value) == expected


# -- export ---------------------------------------------------------------------------------


@pytest.mark.parametrize("format", ["csv", "jsonl", "parquet"])
def test_export_round_trips(corpus, tmp_path, format):
    _, _, db, _ = corpus
    if format == "parquet":
        pytest.importorskip("pyarrow")
    output = tmp_path / f"out.{format}"
    assert export(db, output, format) == len(ARTICLES)
    with Store(db) as store:
        expected = list(store.export_rows(with_analysis=True))
    if format == "csv":
        with open(output, encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        for row, want in zip(rows, expected, strict=True):
            assert (row["frames"].split(";") if row["frames"] else []) == want["frames"]
            assert (row["techniques"].split(";") if row["techniques"] else []) == want["techniques"]
            assert row["title"] == want["title"] and int(row["n_paragraphs"]) == want["n_paragraphs"]
            assert row["date"] == (want["date"] or "")
    elif format == "jsonl":
        rows = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
        assert rows == expected
    else:
        import pyarrow.parquet as pq

        rows = pq.read_table(output).to_pylist()
        assert [{**r, "analysis": json.loads(r["analysis"])} for r in rows] == expected
    assert not output.with_name(output.name + ".part").exists()


def test_export_errors(corpus, tmp_path):
    _, _, db, _ = corpus
    with pytest.raises(InputError, match="unknown export format 'xml'"):
        export(db, tmp_path / "x.xml", "xml")
    with pytest.raises(StoreError, match="model version 'nope' is not in"):
        export(db, tmp_path / "x.csv", "csv", model_version="nope")


# -- report ---------------------------------------------------------------------------------


def test_report_is_self_contained_with_charts_and_escapes_article_text(corpus, tmp_path):
    _, _, db, result = corpus
    output = tmp_path / "report.html"
    data = write_report(db, output)
    page = output.read_text(encoding="utf-8")
    json.dumps(data)  # the data for a /corpus page is plain JSON
    assert data["summary"]["analysed"] == len(ARTICLES) and data["summary"]["model_version"] == result.model_version
    assert data["sources"]["articles"] == {
        "Valley Gazette": 2,
        "Daily Herald": 2,
        "<i>Tag</i> Times": 1,
        "Tag Times": 1,
    }
    assert data["over_time"]["unit"] == "day" and len(data["over_time"]["periods"]) == 5
    assert sum(g["articles"] for g in data["genres"]) == len(ARTICLES)
    svgs = charts(data)
    assert {"techniques", "over_time", "frames", "genres"} - set(svgs) <= {"techniques"}
    assert ("sources" in svgs) == ("techniques" in svgs) == bool(data["techniques"])
    assert page.count("<svg") == len(svgs) >= 3
    assert "<script" not in page and "<link" not in page and 'src="' not in page
    assert "&lt;i&gt;Tag&lt;/i&gt; Times" in page and "<i>Tag</i>" not in page


def test_report_lists_span_texts_per_technique_with_links_to_articles(tmp_path):
    text = "A <b>bold</b> claim\n\nThey will destroy everything we love, the <b>bold</b> man said.\n"
    start = text.index("destroy")
    analysis = {
        "text": text,
        "language": "en",
        "title": {"start": 0, "end": 19},
        "id": "s1",
        "models": {"genre": {}},
        "genre": {"label": "opinion", "scores": {"opinion": 0.9}},
        "frames": [{"label": "Morality", "score": 0.7}],
        "frame_scores": {"Morality": 0.7},
        "paragraphs": [
            {
                "line": 3,
                "start": 21,
                "end": len(text) - 1,
                "techniques": [{"label": "Appeal_to_Fear-Prejudice", "score": 0.8}],
            }
        ],
        "spans": [
            {
                "technique": "Appeal_to_Fear-Prejudice",
                "start": start,
                "end": start + 31,
                "text": text[start : start + 31],
                "score": 0.8,
            }
        ],
    }
    db = tmp_path / "spans.sqlite"
    with Store(db) as store:
        store.register_model_version("v1", {}, "0")
        for aid in ("s1", "s2"):
            body = text if aid == "s1" else text.replace("claim", "claim!")
            moved = {"start": body.index("destroy"), "end": body.index("destroy") + 31}
            record = ArticleRecord(
                aid, body, "en", source="Src", url="javascript:alert(1)" if aid == "s2" else "https://example.org/s1"
            )
            stored = {**analysis, "text": body, "id": aid, "spans": [{**analysis["spans"][0], **moved}]}
            assert store.save(record, "v1", Analysis.from_dict(stored))
    data = corpus_data(db)
    entry = data["spans"]["Appeal_to_Fear-Prejudice"][0]
    assert (entry["text"], entry["count"], [a["id"] for a in entry["articles"]]) == (
        "destroy everything we love, the",
        2,
        ["s1", "s2"],
    )
    page = report_html(data)
    for article in entry["articles"]:
        anchor = f"article-{article['hash'][:16]}"
        assert f'href="#{anchor}"' in page and f'id="{anchor}"' in page
    assert "A &lt;b&gt;bold&lt;/b&gt; claim" in page and "<b>bold</b>" not in page
    assert '<mark title="Appeal to Fear-Prejudice">destroy everything we love, the</mark>' in page
    assert 'href="https://example.org/s1"' in page and "javascript:" not in page


def _framed(aid: str, narratives: list[str], entities: list[tuple[str, str]]) -> dict:
    text = f"Title {aid}\n\n" + " ".join(name for name, _ in entities) + " met.\n"
    found = []
    for name, role in entities:
        start = text.index(name)
        found.append(
            {
                "name": name,
                "role": role,
                "score": 0.7,
                "fine_roles": [],
                "start": start,
                "end": start + len(name),
                "mentions": [{"start": start, "end": start + len(name), "text": name}],
            }
        )
    return {
        "text": text,
        "language": "en",
        "title": {"start": 0, "end": 8},
        "id": aid,
        "models": {},
        "genre": {"label": "opinion", "scores": {"opinion": 1.0}},
        "frames": [],
        "frame_scores": {},
        "paragraphs": [],
        "spans": [],
        "narratives": [{"label": n, "score": 0.6, "subnarratives": []} for n in narratives],
        "entities": found,
    }


def test_report_charts_narratives_and_antagonists_and_victims_per_source(tmp_path):
    war = "URW: Discrediting Ukraine"
    rows = [
        ("a1", "North Post", [war], [("Kyiv", "Antagonist"), ("Sumy", "Innocent")]),
        ("a2", "North Post", [war, "URW: Praise of Russia"], [("Kyiv", "Antagonist"), ("Moscow", "Protagonist")]),
        ("b1", "South Star", ["Other"], [("Moscow", "Antagonist"), ("Sumy", "Innocent")]),
    ]
    db = tmp_path / "framing.sqlite"
    with Store(db) as store:
        store.register_model_version("v1", {}, "0")
        for aid, source, narratives, entities in rows:
            analysis = _framed(aid, narratives, entities)
            assert store.save(
                ArticleRecord(aid, analysis["text"], "en", source=source), "v1", Analysis.from_dict(analysis)
            )
        assert store.check() == []
        exported = {r["id"]: r for r in store.export_rows()}
    assert exported["a2"]["entities"] == ["Kyiv (Antagonist)", "Moscow (Protagonist)"]
    assert exported["a2"]["narratives"] == [war, "URW: Praise of Russia"]
    data = corpus_data(db)
    assert data["narratives"][0] == {"narrative": war, "articles": 2}
    assert data["entities"]["all"]["Antagonist"] == [["Kyiv", 2], ["Moscow", 1]]
    assert data["entities"]["by_source"]["South Star"]["Antagonist"] == [["Moscow", 1]]
    assert data["entities"]["antagonist_share"] == {
        "North Post": {"Kyiv": 1.0, "Moscow": 0.0},
        "South Star": {"Kyiv": 0.0, "Moscow": 1.0},
    }
    svgs = charts(data)
    assert {"narratives", "entities_Antagonist", "entities_Innocent", "entities_by_source"} <= set(svgs)
    page = report_html(data, svgs)
    assert "Who is cast as villain and as victim" in page and "Kyiv (2)" in page
    assert "Antagonists per source" in page


def test_a_version_1_database_is_upgraded_in_place(tmp_path):
    db = tmp_path / "old.sqlite"
    with Store(db) as store:
        store.register_model_version("v1", {}, "0")
    with closing(sqlite3.connect(db)) as con:  # as a version-1 database: no framing tables
        con.executescript("DROP TABLE narratives; DROP TABLE entities; PRAGMA user_version = 1;")
    with Store(db) as store:
        assert store.model_versions()[0]["version"] == "v1" and store.check() == []
    with closing(sqlite3.connect(db)) as con:
        assert con.execute("PRAGMA user_version").fetchone()[0] == 3
        assert con.execute("SELECT count(*) FROM entities").fetchone()[0] == 0


def test_a_version_2_database_gets_the_evidence_table(tmp_path):
    db = tmp_path / "v2.sqlite"
    with Store(db) as store:
        store.register_model_version("v1", {}, "0")
    with closing(sqlite3.connect(db)) as con:  # as a version-2 database: no evidence table
        con.executescript("DROP TABLE evidence; PRAGMA user_version = 2;")
    with Store(db) as store:
        assert store.check() == []
    with closing(sqlite3.connect(db)) as con:
        assert con.execute("PRAGMA user_version").fetchone()[0] == 3
        assert con.execute("SELECT count(*) FROM evidence").fetchone()[0] == 0


# -- dask -----------------------------------------------------------------------------------


def test_dask_engine_gives_the_same_results_as_the_local_engine(corpus, tmp_path):
    pytest.importorskip("distributed")
    _, jsonl, db, _ = corpus
    result = run_batch(jsonl, tmp_path / "dask.sqlite", engine="dask", workers=2)
    assert (result.analysed, result.failed) == (len(ARTICLES), 0)
    with Store(db) as local, Store(tmp_path / "dask.sqlite") as dask:
        assert dask.check() == []
        by_hash = lambda store: {r["hash"]: r for r in store.export_rows(with_analysis=True)}
        assert by_hash(dask) == by_hash(local)


def test_web_app_shows_the_corpus_report(corpus):
    from fastapi.testclient import TestClient

    from spinscope.shells.api import create_app

    class Unused:
        def analyze(self, article):
            raise AssertionError("the corpus page must not analyse anything")

    db = corpus[2]
    with TestClient(create_app(analyzer=Unused(), db=db)) as client:
        page = client.get("/corpus")
        assert page.status_code == 200 and "<svg" in page.text and "<script" not in page.text
        assert "default-src 'none'" in page.headers["content-security-policy"]
    with TestClient(create_app(analyzer=Unused())) as client:
        missing = client.get("/corpus")
        assert missing.status_code == 404 and "--db" in missing.json()["error"]


def test_report_counts_the_forms_of_one_name_together(tmp_path):
    rows = [
        ("r1", [("Москва", "Antagonist")]),
        ("r2", [("Москва", "Antagonist")]),
        ("r3", [("Москвы", "Antagonist"), ("Москва", "Antagonist"), ("Мосты", "Innocent")]),
        ("r4", [("Georgia", "Antagonist")]),
        ("r5", [("George", "Antagonist")]),
    ]
    db = tmp_path / "forms.sqlite"
    with Store(db) as store:
        store.register_model_version("v1", {}, "0")
        for aid, entities in rows:
            analysis = _framed(aid, ["Other"], entities)
            assert store.save(
                ArticleRecord(aid, analysis["text"], "ru", source="One"), "v1", Analysis.from_dict(analysis)
            )
    antagonists = corpus_data(db)["entities"]["all"]["Antagonist"]
    assert antagonists == [["Москва", 3], ["George", 1], ["Georgia", 1]]  # r3 counts once


def test_a_blank_date_in_jsonl_is_no_date(tmp_path):
    path = tmp_path / "corpus.jsonl"
    lines = [
        {"id": "a", "text": "hello world", "date": "  "},
        {"id": "b", "text": "hello again", "date": "2024-03-05T10:00"},
    ]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    records = list(readers.read_jsonl(path))
    assert [(r.id, r.date) for r in records] == [("a", None), ("b", "2024-03-05")]
