"""The corpus store shared and failing: readers while batches write, two batches on one
database, a full disk, a read-only file or folder.

The batches here run as real processes (``spinscope batch``, or its code with a stub analyzer
in place of the models, so that hundreds of articles take a second); every article is invented.
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from contextlib import closing
from pathlib import Path

import pytest

from spinscope.analysis import Analysis
from spinscope.corpus import batch
from spinscope.corpus.store import ArticleRecord, Store
from spinscope.document import Article
from spinscope.errors import StoreError
from spinscope.taxonomy import FRAME_NAMES, GENRE_NAMES, NARRATIVE_NAMES, ROLE_NAMES, TECHNIQUE_NAMES

TESTS = Path(__file__).resolve().parent
#: The exit status of the CLI for an error it reports on one line.
ERROR_STATUS = 2


# -- a stub analyzer: a made-up analysis, different for each article ------------------------


def article_text(i: int) -> str:
    return (
        f"Harbour notice {i}\n\nThe council of district {i} backed the new ferry plan.\n"
        f"Ferry crews in district {i} said they would strike.\n"
    )


def stub_analysis(article: Article) -> Analysis:
    """An analysis of an :func:`article_text` whose labels follow the text's hash."""
    text = article.text
    n = int(hashlib.sha256(text.encode()).hexdigest()[:12], 16)

    def pick(names: tuple[str, ...], shift: int) -> str:
        return names[(n >> shift) % len(names)]

    def at(word: str) -> dict:
        start = text.index(word)
        return {"start": start, "end": start + len(word)}

    body = text.index("\n\n") + 2
    second = text.index("\n", body) + 1
    late = {pick(TECHNIQUE_NAMES, 8), pick(TECHNIQUE_NAMES, 16)} if n & 1 else set()
    return Analysis.from_dict(
        {
            "text": text,
            "id": article.id,
            "language": article.language,
            "title": {"start": 0, "end": text.index("\n")},
            "models": StubAnalyzer.model_info,
            "genre": {"label": pick(GENRE_NAMES, 2), "scores": {pick(GENRE_NAMES, 2): 0.8}},
            "frames": [{"label": pick(FRAME_NAMES, 4), "score": 0.7}],
            "frame_scores": {pick(FRAME_NAMES, 4): 0.7},
            "paragraphs": [
                {
                    "line": 3,
                    "start": body,
                    "end": second - 1,
                    "techniques": [{"label": pick(TECHNIQUE_NAMES, 0), "score": 0.9}],
                },
                {
                    "line": 4,
                    "start": second,
                    "end": len(text) - 1,
                    "techniques": [{"label": t, "score": 0.6} for t in sorted(late)],
                },
            ],
            "spans": [{"technique": pick(TECHNIQUE_NAMES, 0), **at("council"), "text": "council", "score": 0.7}]
            + (
                [{"technique": pick(TECHNIQUE_NAMES, 8), **at("strike"), "text": "strike", "score": 0.5}]
                if late
                else []
            ),
            "narratives": [{"label": pick(NARRATIVE_NAMES, 6), "score": 0.6, "subnarratives": []}],
            "entities": [
                {
                    "name": "council",
                    "role": pick(ROLE_NAMES, 10),
                    "score": 0.8,
                    "fine_roles": [],
                    **at("council"),
                    "mentions": [{**at("council"), "text": "council"}],
                }
            ],
        }
    )


class StubAnalyzer:
    """What the batch analyses with: :func:`stub_analysis`, ``delay`` seconds an article."""

    model_info = {"stub": {"version": "1"}}

    def __init__(self, delay: float = 0.0):
        self.delay = delay

    def analyze(self, article: Article) -> Analysis:
        time.sleep(self.delay)
        return stub_analysis(article)


def write_corpus(path: Path, ids: range) -> Path:
    rows = [{"id": f"n{i}", "text": article_text(i), "source": f"Paper {i % 3}", "language": "en"} for i in ids]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


#: ``spinscope batch CORPUS --db DB`` in a process of its own, with the stub analyzer and a
#: fault: ``fsize=N`` (no file may grow past N bytes: a disk that fills up), ``uid=N`` (run as
#: that user: root writes to read-only files), or ``none``. Then it reads the database as a
#: server would and prints ``{"status": exit status, "seen": articles read, or the error}``.
RUN_BATCH = textwrap.dedent("""
    import codecs, json, os, resource, signal, sys
    tests, fault, corpus, db, delay = sys.argv[1:6]
    sys.path.insert(0, tests)
    from test_store_faults import StubAnalyzer
    from spinscope.corpus import batch
    from spinscope.corpus.store import Store
    from spinscope.shells.cli import app

    batch.load_analyzer = lambda model_dir=None, cache=True: StubAnalyzer(float(delay))
    kind, _, value = fault.partition("=")
    if kind == "fsize":
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG), as on a full disk
        resource.setrlimit(resource.RLIMIT_FSIZE, (int(value), int(value)))
    elif kind == "uid":
        codecs.lookup("utf-8-sig")  # what the reader needs later, loaded while the standard library is readable
        os.setgroups([])
        os.setgid(int(value))
        os.setuid(int(value))
    try:
        app(["batch", corpus, "--db", db], prog_name="spinscope")
    except SystemExit as exit:
        status = exit.code
    try:
        with Store(db, create=False) as store:
            seen = store.status_counts(store.latest_model_version()).get("ok", 0)
    except Exception as error:
        seen = f"{type(error).__name__}: {error}"
    print(json.dumps({"status": status, "seen": seen}))
""")


def start_batch(corpus: Path, db: Path, fault: str = "none", delay: float = 0.0) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", RUN_BATCH, str(TESTS), fault, str(corpus), str(db), str(delay)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen) -> tuple[dict, str]:
    """What the :data:`RUN_BATCH` process printed, and its stderr."""
    stdout, stderr = process.communicate(timeout=120)
    assert stdout.strip(), stderr
    return json.loads(stdout.strip().splitlines()[-1]), stderr


def error_line(stderr: str) -> str:
    """The one error line the CLI printed (and no traceback)."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if "error" in line.lower()]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    return lines[0].removeprefix("error: ")


def stored(db: Path) -> dict[str, str]:
    """``{article id: status}`` of ``db``, checked whole: SQLite's integrity check and the store's own."""
    with closing(sqlite3.connect(db)) as con:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    with Store(db, create=False) as store:
        assert store.check() == []
        return {row["id"]: row["status"] for row in store.export_rows()}


@pytest.fixture
def stub(monkeypatch):
    """Batches in this process analyse with the stub analyzer."""
    monkeypatch.setattr(batch, "load_analyzer", lambda model_dir=None, cache=True: StubAnalyzer())


# -- readers while batches write ------------------------------------------------------------


def whole_articles(db: Path) -> int:
    """Read ``db`` through the store as the corpus report does, check that every article read
    is whole (its rows in every task table agree with its Analysis JSON), return how many."""
    with Store(db, create=False) as store:
        version = store.latest_model_version()
        rows = list(store.export_rows(version))
        analyses = [store.analysis(row["hash"], version) for row in rows]
        assert None not in analyses and store.status_counts(version) == ({"ok": len(rows)} if rows else {})
        found = [(row, a.to_dict()) for row, a in zip(rows, analyses, strict=True) if a is not None]
        for row, analysis in found:  # the export's columns come from the JSON, checked against it
            assert row["n_spans"] == len(analysis["spans"]) and row["frames"] == [analysis["frames"][0]["label"]]
        techniques: Counter = Counter()
        articles: Counter = Counter()
        for _, analysis in found:
            labels = [t["label"] for p in analysis["paragraphs"] for t in p["techniques"]]
            techniques.update(labels)
            articles.update(set(labels))
        assert sorted(store.technique_counts(version)) == sorted((t, n, articles[t]) for t, n in techniques.items())
        assert Counter(dict(store.frame_counts(version))) == Counter(a["frames"][0]["label"] for _, a in found)
        assert Counter(dict(store.genre_counts(version))) == Counter(a["genre"]["label"] for _, a in found)
        assert Counter(dict(store.narrative_counts(version))) == Counter(a["narratives"][0]["label"] for _, a in found)
        spans = Counter((s["technique"], s["text"]) for _, a in found for s in a["spans"])
        assert sorted(store.span_text_counts(version)) == sorted((*key, n) for key, n in spans.items())
        casts = Counter((row["source"], a["entities"][0]["role"], "council") for row, a in found)
        assert Counter(cast[:3] for cast in store.entity_casts(version)) == casts
        return len(rows)


def test_a_reader_sees_whole_articles_while_two_batches_write_each_article_once(tmp_path):
    total = 120
    corpus = write_corpus(tmp_path / "corpus.jsonl", range(total))
    db = tmp_path / "corpus.sqlite"
    writers = [start_batch(corpus, db, delay=0.005) for _ in range(2)]
    seen = []
    try:
        while any(writer.poll() is None for writer in writers):
            if db.exists():
                try:
                    seen.append(whole_articles(db))
                except StoreError as error:  # only before the first batch has made the tables
                    assert "is empty" in str(error) and not seen, error
    finally:
        results = [finish(writer) for writer in writers]
    assert [result for result, _ in results] == [{"status": 0, "seen": total}] * 2, results
    assert all("locked" not in stderr for _, stderr in results)
    midway = [n for n in seen if 0 < n < total]
    assert len(midway) >= 3, f"the reader never read while the batches wrote: {seen}"
    assert seen == sorted(seen)  # a later read never loses an article
    assert whole_articles(db) == total
    assert stored(db) == {f"n{i}": "ok" for i in range(total)}
    with closing(sqlite3.connect(db)) as con:
        assert con.execute("SELECT count(*), count(DISTINCT article_hash) FROM analyses").fetchone() == (total, total)
        assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == total


def test_two_spinscope_batch_processes_with_the_real_models_store_each_article_once(tmp_path):
    corpus = write_corpus(tmp_path / "corpus.jsonl", range(8))
    db = tmp_path / "corpus.sqlite"
    command = [sys.executable, "-m", "spinscope", "batch", str(corpus), "--db", str(db)]
    wide = {**os.environ, "COLUMNS": "500"}  # the summary on one line
    batches = [subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=wide) for _ in range(2)]
    outputs = [process.communicate(timeout=300)[1] for process in batches]
    assert [process.returncode for process in batches] == [0, 0], outputs
    counts = [re.search(r"(\d+) analysed, 0 failed .*?, (\d+) already stored", stderr) for stderr in outputs]
    assert None not in counts, outputs
    # Each article is stored by one of them and found stored by the other (or skipped from the start).
    assert [sum(int(c[k]) for c in counts if c) for k in (1, 2)] == [8, 8]
    assert stored(db) == {f"n{i}": "ok" for i in range(8)}


# -- a full disk ----------------------------------------------------------------------------


def test_a_full_disk_stops_the_batch_with_one_line_and_keeps_the_database(tmp_path, stub):
    corpus = write_corpus(tmp_path / "corpus.jsonl", range(40))
    db = tmp_path / "corpus.sqlite"
    before = batch.run_batch(write_corpus(tmp_path / "first.jsonl", range(5)), db)
    assert before.analysed == 5
    # Room for SQLite's 32 KiB shared-memory file and a few pages of log: not for 35 articles.
    process = start_batch(corpus, db, fault=f"fsize={64 * 1024}")
    result, stderr = finish(process)
    assert result["status"] == ERROR_STATUS
    assert error_line(stderr) == (
        f"{db} could not be read or written (disk I/O error): check that its disk has free space and works, "
        "then run again; everything stored before is kept"
    )
    kept = stored(db)
    assert 5 <= len(kept) < 40 and {f"n{i}" for i in range(5)} <= set(kept)
    assert result["seen"] == len(kept)  # a reader finds what was stored, nothing half-written
    rerun = batch.run_batch(corpus, db)  # space again: the batch resumes
    assert (rerun.skipped, rerun.analysed) == (len(kept), 40 - len(kept))
    assert stored(db) == {f"n{i}": "ok" for i in range(40)}


def test_a_database_full_to_its_last_page_is_a_store_error_and_stays_whole(tmp_path, stub):
    """SQLite's own full disk (SQLITE_FULL, as ENOSPC gives): the store says so and keeps every commit."""
    db = tmp_path / "corpus.sqlite"
    batch.run_batch(write_corpus(tmp_path / "first.jsonl", range(5)), db)
    with Store(db) as store:
        pages = store.db.execute("PRAGMA page_count").fetchone()[0]
        store.db.execute(f"PRAGMA max_page_count = {pages}")  # no page more: the next article does not fit
        text = article_text(5)[:-1] + " and so on" * 2000 + "\n"  # more than the free room of any page
        record = ArticleRecord("n5", text, "en", source="Paper 2")
        with pytest.raises(StoreError) as error:
            store.save(record, store.latest_model_version(), stub_analysis(Article(record.text, id="n5")))
        assert str(error.value) == (
            f"the disk holding {db} is full (database or disk is full): free some space, then run again; "
            "everything stored before is kept"
        )
        assert not store.db.in_transaction
    assert stored(db) == {f"n{i}": "ok" for i in range(5)}


# -- read-only ------------------------------------------------------------------------------


def _runs_as(uid: int) -> bool:
    """Whether user ``uid`` can load spinscope's CLI from this interpreter (its files readable)."""
    probe = (  # imported first, as RUN_BATCH does: the standard library may be private to root
        "import codecs, os; from spinscope.shells.cli import app; codecs.lookup('utf-8-sig'); "
        f"os.setgroups([]); os.setgid({uid}); os.setuid({uid}); app(['batch', '--help'], prog_name='spinscope')"
    )
    return subprocess.run([sys.executable, "-c", probe], capture_output=True, timeout=60).returncode == 0


@pytest.fixture
def shared_folder():
    """A folder another user can reach (pytest's own are private to this user), and the fault
    that runs a batch as the user whose files it holds: root writes read-only files, so a test
    run as root runs its batches as ``nobody``."""
    folder = Path(tempfile.mkdtemp(prefix="spinscope-ro-"))
    folder.chmod(0o755)
    fault = "none"
    if os.geteuid() == 0:
        try:
            uid = pwd.getpwnam("nobody").pw_uid
        except KeyError:
            pytest.skip("running as root without a 'nobody' user to drop to")
        if not _runs_as(uid):
            pytest.skip("'nobody' cannot run spinscope from here: the checkout or its venv is in a private folder")
        fault = f"uid={uid}"
    yield folder, fault
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    shutil.rmtree(folder)


def _read_only_case(shared_folder, made_read_only: str) -> tuple[Path, Path, str]:
    """A database of five articles in a folder of its own, the file or the folder made read-only."""
    root, fault = shared_folder
    folder = root / "case"
    folder.mkdir()
    db = folder / "corpus.sqlite"
    corpus = write_corpus(root / "corpus.jsonl", range(10))
    batch.run_batch(write_corpus(root / "first.jsonl", range(5)), db)
    if fault != "none":
        uid = int(fault.partition("=")[2])
        for path in (folder, db):
            os.chown(path, uid, uid)
    (db if made_read_only == "file" else folder).chmod(0o444 if made_read_only == "file" else 0o555)
    return corpus, db, fault


def test_a_read_only_database_file_stops_the_batch_and_still_serves_readers(shared_folder, stub):
    corpus, db, fault = _read_only_case(shared_folder, "file")
    result, stderr = finish(start_batch(corpus, db, fault=fault))
    assert result == {"status": ERROR_STATUS, "seen": 5}  # serve --db can still show it
    assert error_line(stderr) == (
        f"{db} is read-only (attempt to write a readonly database): make the file writable, "
        "or give another database file"
    )
    db.chmod(0o644)
    assert stored(db) == {f"n{i}": "ok" for i in range(5)}


def test_a_database_in_a_read_only_folder_stops_the_batch_and_readers_with_one_line(shared_folder, stub):
    corpus, db, fault = _read_only_case(shared_folder, "folder")
    result, stderr = finish(start_batch(corpus, db, fault=fault))
    message = (
        f"the folder of {db} is read-only (attempt to write a readonly database) and SQLite keeps its -wal and "
        "-shm files there: make the folder writable, or copy the database to a folder you can write to"
    )
    assert result == {"status": ERROR_STATUS, "seen": f"StoreError: {message}"}
    assert error_line(stderr) == message
    db.parent.chmod(0o755)
    assert stored(db) == {f"n{i}": "ok" for i in range(5)}
