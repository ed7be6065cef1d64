"""The corpus store's tables follow the task registry and keep the version-3 file format; an
analysis made with pipeline components disabled is stored, exported and reported like any other.

The analyses here are built by hand (no model runs), from one invented article.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from spinscope.analysis import Analysis
from spinscope.corpus.report import report_html
from spinscope.corpus.report_data import corpus_data
from spinscope.corpus.store import SCHEMA_VERSION, ArticleRecord, Store, export
from spinscope.tasks import TASKS

TEXT = (
    "Harbour to close next spring\n\n"
    "The council will close the harbour, Mayor Lind said, and ruin the whole town.\n"
    "Fishermen fear for their jobs.\n"
)

SENTENCE = "The council will close the harbour, Mayor Lind said, and ruin the whole town."


def _at(text: str) -> dict:
    start = TEXT.index(text)
    return {"start": start, "end": start + len(text)}


def full_analysis(aid: str = "full") -> dict:
    """An Analysis JSON with something for every task."""
    body, last = TEXT.index("The council"), TEXT.index("Fishermen")
    return {
        "text": TEXT,
        "language": "en",
        "title": {"start": 0, "end": TEXT.index("\n")},
        "id": aid,
        "models": {"genre": {"version": "0"}},
        "genre": {"label": "opinion", "scores": {"opinion": 0.7, "reporting": 0.2, "satire": 0.1}},
        "frames": [{"label": "Economic", "score": 0.8}, {"label": "Political", "score": 0.6}],
        "frame_scores": {"Economic": 0.8, "Political": 0.6},
        "paragraphs": [
            {
                "line": 3,
                "start": body,
                "end": last - 1,
                "techniques": [
                    {"label": "Loaded_Language", "score": 0.9},
                    {"label": "Appeal_to_Fear-Prejudice", "score": 0.5},
                ],
            },
            {"line": 4, "start": last, "end": len(TEXT) - 1, "techniques": []},
        ],
        "spans": [
            {"technique": "Loaded_Language", **_at("ruin the whole town"), "text": "ruin the whole town", "score": 0.7}
        ],
        "narratives": [{"label": "Other", "score": 0.6, "subnarratives": []}],
        "entities": [
            {
                "name": "Lind",
                "role": "Antagonist",
                "score": 0.8,
                "fine_roles": [{"label": "Incompetent", "score": 0.4}],
                **_at("Lind"),
                "mentions": [{**_at("Lind"), "text": "Lind"}],
                "evidence": [{**_at(SENTENCE), "text": SENTENCE, "score": 0.8}],
            }
        ],
        "explanation": None,
    }


def bare_analysis(aid: str = "bare") -> dict:
    """The Analysis JSON of an article analysed with every component disabled."""
    return {
        "text": TEXT,
        "language": "en",
        "title": {"start": 0, "end": TEXT.index("\n")},
        "id": aid,
        "models": {},
        "genre": None,
        "frames": [],
        "frame_scores": {},
        "paragraphs": [],
        "spans": [],
        "narratives": [],
        "entities": [],
        "explanation": None,
    }


def _store(db: Path, analyses: list[dict], failed: tuple[str, ...] = ()) -> Path:
    """``db`` holding each of ``analyses`` (as one article each) and ``failed`` articles."""
    with Store(db) as store:
        store.register_model_version("v1", {}, "0")
        for analysis in analyses:
            text = analysis["text"] + analysis["id"] + "\n"  # one article (hash) per analysis
            stored = {**analysis, "text": text}
            assert store.save(
                ArticleRecord(analysis["id"], text, "en", source="Port News"), "v1", Analysis.from_dict(stored)
            )
        for aid in failed:
            assert store.save(ArticleRecord(aid, f"Broken {aid}\n\nbody\n", "en"), "v1", error="RuntimeError: boom")
        assert store.check() == []
    return db


def _no_embedding(names: list[str]):
    raise AssertionError(f"one name per entity here: nothing to embed ({names})")


# -- the tables -------------------------------------------------------------------------------


def test_each_task_table_holds_the_rows_the_registry_gives(tmp_path):
    db = _store(tmp_path / "full.sqlite", [full_analysis()])
    with Store(db) as store:
        stored = store.analysis(store.export_rows().__next__()["hash"], "v1").to_dict()
        for task in TASKS.values():
            if task.store is None:
                continue
            columns = ", ".join(f'"{c}"' for c in task.store.columns)
            rows = [tuple(r) for r in store.db.execute(f"SELECT {columns} FROM {task.store.table} ORDER BY rowid")]
            assert rows and rows == task.store.rows(stored), task.name


#: The version-3 file format: per table, PRAGMA table_info's (name, type, not null, primary key).
FILE_FORMAT = {
    "articles": [
        ("hash", "TEXT", 0, 1),
        ("id", "TEXT", 1, 0),
        ("source", "TEXT", 0, 0),
        ("url", "TEXT", 0, 0),
        ("title", "TEXT", 0, 0),
        ("date", "TEXT", 0, 0),
        ("language", "TEXT", 0, 0),
        ("text", "TEXT", 1, 0),
    ],
    "model_versions": [
        ("version", "TEXT", 0, 1),
        ("spinscope", "TEXT", 1, 0),
        ("models", "TEXT", 1, 0),
        ("created", "TEXT", 1, 0),
    ],
    "analyses": [
        ("analysis_id", "INTEGER", 0, 1),
        ("article_hash", "TEXT", 1, 0),
        ("model_version", "TEXT", 1, 0),
        ("status", "TEXT", 1, 0),
        ("error", "TEXT", 0, 0),
        ("genre", "TEXT", 0, 0),
        ("analysis", "TEXT", 0, 0),
        ("created", "TEXT", 1, 0),
    ],
    "paragraph_labels": [
        ("analysis_id", "INTEGER", 1, 0),
        ("line", "INTEGER", 1, 0),
        ("start", "INTEGER", 1, 0),
        ("end", "INTEGER", 1, 0),
        ("technique", "TEXT", 1, 0),
        ("score", "REAL", 1, 0),
    ],
    "spans": [
        ("analysis_id", "INTEGER", 1, 0),
        ("technique", "TEXT", 1, 0),
        ("start", "INTEGER", 1, 0),
        ("end", "INTEGER", 1, 0),
        ("text", "TEXT", 1, 0),
        ("score", "REAL", 1, 0),
    ],
    "frames": [("analysis_id", "INTEGER", 1, 0), ("frame", "TEXT", 1, 0), ("score", "REAL", 1, 0)],
    "narratives": [("analysis_id", "INTEGER", 1, 0), ("narrative", "TEXT", 1, 0), ("score", "REAL", 1, 0)],
    "entities": [
        ("analysis_id", "INTEGER", 1, 0),
        ("name", "TEXT", 1, 0),
        ("role", "TEXT", 1, 0),
        ("score", "REAL", 1, 0),
        ("mentions", "INTEGER", 1, 0),
    ],
    "evidence": [
        ("analysis_id", "INTEGER", 1, 0),
        ("kind", "TEXT", 1, 0),
        ("label", "TEXT", 1, 0),
        ("start", "INTEGER", 1, 0),
        ("end", "INTEGER", 1, 0),
        ("text", "TEXT", 1, 0),
        ("score", "REAL", 1, 0),
    ],
}
INDEXES = {
    "narratives_by_analysis",
    "entities_by_role",
    "entities_by_analysis",
    "analyses_by_version",
    "articles_by_source",
    "articles_by_date",
    "paragraph_labels_by_technique",
    "paragraph_labels_by_analysis",
    "spans_by_technique_text",
    "spans_by_analysis",
    "frames_by_frame",
    "frames_by_analysis",
    "evidence_by_analysis",
    "evidence_by_label",
}


def test_a_new_database_has_the_version_3_file_format(tmp_path):
    db = tmp_path / "new.sqlite"
    Store(db).close()
    with closing(sqlite3.connect(db)) as con:
        tables = {name for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        layout = {t: [(r[1], r[2], r[3], r[5]) for r in con.execute(f"PRAGMA table_info({t})")] for t in tables}
        indexes = {
            name
            for (name,) in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex%'"
            )
        }
        cascades = {t: [(r[2], r[6]) for r in con.execute(f"PRAGMA foreign_key_list({t})")] for t in tables}
        assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
    assert layout == FILE_FORMAT and indexes == INDEXES
    for task in TASKS.values():  # every column a task stores has its place
        if task.store is not None:
            assert set(task.store.columns) <= {name for name, *_ in FILE_FORMAT[task.store.table]}, task.name
            if task.store.table != "analyses":
                assert cascades[task.store.table] == [("analyses", "CASCADE")], task.name


# -- disabled components ----------------------------------------------------------------------


@pytest.mark.parametrize("format", ["csv", "jsonl", "parquet"])
def test_an_analysis_with_components_disabled_is_stored_and_exported(tmp_path, format):
    if format == "parquet":
        pytest.importorskip("pyarrow")
    db = _store(tmp_path / "bare.sqlite", [bare_analysis(), full_analysis()], failed=("broken",))
    with closing(sqlite3.connect(db)) as con:
        assert con.execute("SELECT genre FROM analyses ORDER BY analysis_id").fetchall() == [
            (None,),
            ("opinion",),
            (None,),
        ]
    output = tmp_path / f"out.{format}"
    assert export(db, output, format) == 3
    if format == "csv":
        with open(output, encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert {
            k: rows[0][k]
            for k in (
                "id",
                "status",
                "genre",
                "frames",
                "techniques",
                "narratives",
                "entities",
                "n_paragraphs",
                "n_spans",
            )
        } == {
            "id": "bare",
            "status": "ok",
            "genre": "",
            "frames": "",
            "techniques": "",
            "narratives": "",
            "entities": "",
            "n_paragraphs": "0",
            "n_spans": "0",
        }
        assert (rows[1]["genre"], rows[1]["entities"]) == ("opinion", "Lind (Antagonist)")
        return
    if format == "jsonl":
        rows = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    else:
        import pyarrow.parquet as pq

        rows = [
            {**r, "analysis": json.loads(r["analysis"]) if r["analysis"] else None}
            for r in pq.read_table(output).to_pylist()
        ]
    bare, full, broken = rows
    assert (bare["genre"], bare["frames"], bare["techniques"], bare["entities"], bare["n_spans"]) == (
        None,
        [],
        [],
        [],
        0,
    )
    assert bare["analysis"] == {**bare_analysis(), "text": TEXT + "bare\n"}
    assert full["analysis"]["genre"]["label"] == "opinion" and full["techniques"] == [
        "Appeal_to_Fear-Prejudice",
        "Loaded_Language",
    ]
    assert (broken["status"], broken["analysis"]) == ("failed", None)


def test_the_report_of_analyses_with_components_disabled(tmp_path):
    only_bare = _store(tmp_path / "bare.sqlite", [bare_analysis("b1"), bare_analysis("b2")])
    data = corpus_data(only_bare, embed=_no_embedding)
    assert data["summary"]["analysed"] == 2
    assert data["genres"] == [{"genre": None, "articles": 2}]
    assert (data["techniques"], data["frames"], data["narratives"], data["spans"], data["articles"]) == (
        [],
        [],
        [],
        {},
        {},
    )
    assert data["entities"] == {"all": {}, "by_source": {}, "antagonist_share": {}}
    page = report_html(data)
    for note in ("No technique found.", "No frames.", "No narratives stored", "No entities stored.", "No spans stored"):
        assert note in page
    mixed = _store(tmp_path / "mixed.sqlite", [bare_analysis(), full_analysis()])
    data = corpus_data(mixed, embed=_no_embedding)
    assert data["genres"] == [{"genre": None, "articles": 1}, {"genre": "opinion", "articles": 1}]
    assert data["entities"]["all"] == {"Antagonist": [["Lind", 1]]}
    article = next(iter(data["articles"].values()))
    assert (article["id"], article["genre"]) == ("full", "opinion")
    page = report_html(data)
    assert "ruin the whole town</mark>" in page and "Lind (1)" in page


def test_the_report_runs_no_sql_of_its_own():
    """Every query goes through the store, whose named methods the report calls."""
    corpus = Path(__file__).resolve().parents[1] / "src" / "spinscope" / "corpus"
    for name in ("report.py", "report_data.py", "charts.py"):
        source = (corpus / name).read_text(encoding="utf-8")
        assert "sqlite3" not in source and ".execute(" not in source and "SELECT " not in source, name
