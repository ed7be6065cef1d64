"""The corpus store: one SQLite file of articles and their analyses.

Each article is keyed by a hash of its text; each analysis by ``(article hash, model
version)``. :meth:`Store.save` writes one article with everything about it in ONE
transaction, so a process killed at any moment (Ctrl-C, ``kill -9``) leaves either the whole
article or nothing, and a rerun skips what is already stored: every article is stored
exactly once per model version. Only one process should write at a time (the batch parent).

Tables: ``articles`` (text and metadata), ``analyses`` (status ``ok`` or ``failed`` with its
reason, genre, the analysis JSON), ``paragraph_labels`` (one row per paragraph and
technique), ``spans``, ``frames`` and ``model_versions``.
"""
from __future__ import annotations

import csv
import hashlib
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .. import __version__
from ..analysis import Analysis
from ..errors import InputError, StoreError

SCHEMA_VERSION = 2
#: Schema versions a database is upgraded from, in place (version 2 added narratives and entities).
UPGRADABLE = (1,)

SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    hash     TEXT PRIMARY KEY,
    id       TEXT NOT NULL,
    source   TEXT,
    url      TEXT,
    title    TEXT,
    date     TEXT,
    language TEXT,
    text     TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS model_versions (
    version   TEXT PRIMARY KEY,
    spinscope TEXT NOT NULL,
    models    TEXT NOT NULL,
    created   TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS analyses (
    analysis_id   INTEGER PRIMARY KEY,
    article_hash  TEXT NOT NULL REFERENCES articles(hash) ON DELETE CASCADE,
    model_version TEXT NOT NULL REFERENCES model_versions(version),
    status        TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
    error         TEXT,
    genre         TEXT,
    analysis      TEXT,
    created       TEXT NOT NULL,
    UNIQUE (article_hash, model_version)
);
CREATE TABLE IF NOT EXISTS paragraph_labels (
    analysis_id INTEGER NOT NULL REFERENCES analyses(analysis_id) ON DELETE CASCADE,
    line        INTEGER NOT NULL,
    start       INTEGER NOT NULL,
    "end"       INTEGER NOT NULL,
    technique   TEXT NOT NULL,
    score       REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS spans (
    analysis_id INTEGER NOT NULL REFERENCES analyses(analysis_id) ON DELETE CASCADE,
    technique   TEXT NOT NULL,
    start       INTEGER NOT NULL,
    "end"       INTEGER NOT NULL,
    text        TEXT NOT NULL,
    score       REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS frames (
    analysis_id INTEGER NOT NULL REFERENCES analyses(analysis_id) ON DELETE CASCADE,
    frame       TEXT NOT NULL,
    score       REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS narratives (
    analysis_id INTEGER NOT NULL REFERENCES analyses(analysis_id) ON DELETE CASCADE,
    narrative   TEXT NOT NULL,
    score       REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS entities (
    analysis_id INTEGER NOT NULL REFERENCES analyses(analysis_id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL,
    score       REAL NOT NULL,
    mentions    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS narratives_by_analysis ON narratives (analysis_id);
CREATE INDEX IF NOT EXISTS entities_by_role ON entities (role, name);
CREATE INDEX IF NOT EXISTS entities_by_analysis ON entities (analysis_id);
CREATE INDEX IF NOT EXISTS analyses_by_version ON analyses (model_version, status, genre);
CREATE INDEX IF NOT EXISTS articles_by_source ON articles (source);
CREATE INDEX IF NOT EXISTS articles_by_date ON articles (date);
CREATE INDEX IF NOT EXISTS paragraph_labels_by_technique ON paragraph_labels (technique, analysis_id);
CREATE INDEX IF NOT EXISTS paragraph_labels_by_analysis ON paragraph_labels (analysis_id);
CREATE INDEX IF NOT EXISTS spans_by_technique_text ON spans (technique, text);
CREATE INDEX IF NOT EXISTS spans_by_analysis ON spans (analysis_id);
CREATE INDEX IF NOT EXISTS frames_by_frame ON frames (frame, analysis_id);
CREATE INDEX IF NOT EXISTS frames_by_analysis ON frames (analysis_id);
"""

#: The columns of :meth:`Store.export_rows`, in order (``analysis`` holds the full Analysis).
EXPORT_COLUMNS = ("id", "hash", "source", "url", "title", "date", "language", "model_version", "status",
                  "error", "genre", "frames", "techniques", "narratives", "entities", "n_paragraphs", "n_spans")
#: Columns holding lists (joined with ``;`` in CSV); an entity is written ``name (role)``.
LIST_COLUMNS = ("frames", "techniques", "narratives", "entities")


def content_hash(text: str) -> str:
    """The key of an article: 32 hex digits of the SHA-256 of its exact text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def model_version(model_info: dict, spinscope_version: str = __version__) -> str:
    """A short hash of the models' metadata (``Analyzer.model_info``) and the spinscope version."""
    blob = json.dumps({"spinscope": spinscope_version, "models": model_info}, sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class ArticleRecord:
    """An article to store: its exact text and metadata. ``location`` (``file:line``) is not stored."""

    id: str
    text: str
    language: str | None = None
    source: str | None = None
    url: str | None = None
    title: str | None = None
    date: str | None = None
    location: str = ""

    @property
    def hash(self) -> str:
        return content_hash(self.text)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Store:
    """A corpus database. Use as a context manager; ``Store(path, create=False)`` only reads."""

    def __init__(self, path: Path | str, create: bool = True):
        self.path = Path(path)
        if not create and not self.path.is_file():
            raise StoreError(f"no corpus database at {self.path}: analyse a corpus into it first", 404)
        if create:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # isolation_level=None: no implicit transactions; save() says BEGIN/COMMIT itself.
            self.db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA foreign_keys = ON")
            self.db.execute("PRAGMA journal_mode = WAL")
            # NORMAL with WAL: a commit survives a killed process; only a power cut may
            # lose the last commits, and never leaves a half-written one.
            self.db.execute("PRAGMA synchronous = NORMAL")
            self._migrate(create)
        except sqlite3.DatabaseError as error:
            raise StoreError(f"{self.path} is not a spinscope database ({error}): give a new file name or "
                             "a database made by a spinscope batch") from None

    def _migrate(self, create: bool) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if version == 0 and not tables:
            if not create:
                raise StoreError(f"{self.path} is empty: analyse a corpus into it first")
            self.db.executescript("BEGIN;" + SCHEMA + f"PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;")
        elif version in UPGRADABLE and "analyses" in tables:  # new tables only: old rows stay as they are
            self.db.executescript("BEGIN;" + SCHEMA + f"PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;")
        elif version != SCHEMA_VERSION:
            raise StoreError(f"{self.path} is not a spinscope corpus database (schema version {version}, "
                             f"expected {SCHEMA_VERSION}): give another database file")

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- writing -----------------------------------------------------------------------

    def register_model_version(self, version: str, model_info: dict, spinscope_version: str) -> None:
        self.db.execute("INSERT OR IGNORE INTO model_versions VALUES (?, ?, ?, ?)",
                        (version, spinscope_version, json.dumps(model_info, sort_keys=True), _now()))

    def stored_hashes(self, model_version: str, include_failed: bool = True) -> set[str]:
        """Hashes of the articles analysed with ``model_version`` (``ok`` and, by default, ``failed``)."""
        sql = "SELECT article_hash FROM analyses WHERE model_version = ?"
        if not include_failed:
            sql += " AND status = 'ok'"
        return {row[0] for row in self.db.execute(sql, (model_version,))}

    def save(self, record: ArticleRecord, model_version: str, analysis: Analysis | None = None,
             error: str | None = None) -> bool:
        """Store ``record`` with its analysis (or the ``error`` that stopped it) in one transaction.

        Returns ``False`` when this article already has a successful analysis for
        ``model_version``; a failed one is replaced.
        """
        if (analysis is None) == (error is None):
            raise ValueError("give exactly one of analysis and error")
        key = record.hash
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            old = db.execute("SELECT analysis_id, status FROM analyses WHERE article_hash = ? AND model_version = ?",
                             (key, model_version)).fetchone()
            if old is not None and old["status"] == "ok":
                db.execute("ROLLBACK")
                return False
            if old is not None:  # a failed analysis, now retried
                db.execute("DELETE FROM analyses WHERE analysis_id = ?", (old["analysis_id"],))
            db.execute("INSERT OR IGNORE INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       (key, record.id, record.source, record.url, record.title, record.date, record.language,
                        record.text))
            if analysis is None:
                db.execute("INSERT INTO analyses (article_hash, model_version, status, error, created) "
                           "VALUES (?, ?, 'failed', ?, ?)", (key, model_version, error, _now()))
            else:
                self._insert_analysis(key, model_version, analysis.to_dict())
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return True

    def _insert_analysis(self, key: str, model_version: str, analysis: dict) -> None:
        # The text and the model metadata are stored once (articles, model_versions), not per analysis.
        slim = {k: v for k, v in analysis.items() if k not in ("text", "models")}
        cursor = self.db.execute(
            "INSERT INTO analyses (article_hash, model_version, status, genre, analysis, created) "
            "VALUES (?, ?, 'ok', ?, ?, ?)",
            (key, model_version, analysis["genre"]["label"], json.dumps(slim, ensure_ascii=False, sort_keys=True),
             _now()))
        aid = cursor.lastrowid
        self.db.executemany(
            "INSERT INTO paragraph_labels VALUES (?, ?, ?, ?, ?, ?)",
            [(aid, p["line"], p["start"], p["end"], t["label"], t["score"])
             for p in analysis["paragraphs"] for t in p["techniques"]])
        self.db.executemany("INSERT INTO spans VALUES (?, ?, ?, ?, ?, ?)",
                            [(aid, s["technique"], s["start"], s["end"], s["text"], s["score"])
                             for s in analysis["spans"]])
        self.db.executemany("INSERT INTO frames VALUES (?, ?, ?)",
                            [(aid, f["label"], f["score"]) for f in analysis["frames"]])
        self.db.executemany("INSERT INTO narratives VALUES (?, ?, ?)",
                            [(aid, n["label"], n["score"]) for n in analysis.get("narratives", [])])
        self.db.executemany("INSERT INTO entities VALUES (?, ?, ?, ?, ?)",
                            [(aid, e["name"], e["role"], e["score"], len(e["mentions"]))
                             for e in analysis.get("entities", [])])

    # -- reading -----------------------------------------------------------------------

    def model_versions(self) -> list[dict]:
        """Stored model versions, newest first, with their article counts."""
        rows = self.db.execute(
            "SELECT v.version, v.spinscope, v.created, count(a.analysis_id) AS n, max(a.analysis_id) AS last "
            "FROM model_versions v LEFT JOIN analyses a ON a.model_version = v.version "
            "GROUP BY v.version ORDER BY coalesce(max(a.analysis_id), 0) DESC, v.created DESC")
        return [{"version": r["version"], "spinscope": r["spinscope"], "created": r["created"], "analyses": r["n"]}
                for r in rows]

    def latest_model_version(self) -> str | None:
        row = self.db.execute("SELECT model_version FROM analyses ORDER BY analysis_id DESC LIMIT 1").fetchone()
        return row[0] if row else None

    def resolve_version(self, model_version: str | None) -> str | None:
        """``model_version`` checked against the stored ones; ``None`` means the latest used."""
        if model_version is None:
            return self.latest_model_version()
        known = [v["version"] for v in self.model_versions()]
        matches = [v for v in known if v.startswith(model_version)]
        if len(matches) != 1:
            raise StoreError(f"model version {model_version!r} is not in {self.path} "
                             f"(stored: {', '.join(known) or 'none'})")
        return matches[0]

    def analysis(self, article_hash: str, model_version: str) -> Analysis | None:
        """The :class:`Analysis` of a stored article, or ``None`` (absent or failed)."""
        row = self.db.execute(
            "SELECT a.analysis, r.text, v.models FROM analyses a JOIN articles r ON r.hash = a.article_hash "
            "JOIN model_versions v ON v.version = a.model_version "
            "WHERE a.article_hash = ? AND a.model_version = ? AND a.status = 'ok'",
            (article_hash, model_version)).fetchone()
        if row is None:
            return None
        return Analysis.from_dict({**json.loads(row["analysis"]), "text": row["text"],
                                   "models": json.loads(row["models"])})

    def export_rows(self, model_version: str | None = None, with_analysis: bool = False) -> Iterator[dict]:
        """One dict per stored analysis (all model versions unless one is given), columns
        :data:`EXPORT_COLUMNS`; ``analysis`` (the full Analysis dict) too when asked."""
        where, params = ("WHERE a.model_version = ?", (model_version,)) if model_version else ("", ())
        rows = self.db.execute(
            "SELECT r.*, a.analysis_id, a.model_version, a.status, a.error, a.genre, a.analysis, v.models "
            "FROM analyses a JOIN articles r ON r.hash = a.article_hash "
            f"JOIN model_versions v ON v.version = a.model_version {where} ORDER BY a.analysis_id", params)
        for r in rows:
            slim = json.loads(r["analysis"]) if r["analysis"] else None
            paragraphs = slim["paragraphs"] if slim else []
            row = {
                "id": r["id"], "hash": r["hash"], "source": r["source"], "url": r["url"], "title": r["title"],
                "date": r["date"], "language": r["language"], "model_version": r["model_version"],
                "status": r["status"], "error": r["error"], "genre": r["genre"],
                "frames": [f["label"] for f in slim["frames"]] if slim else [],
                "techniques": sorted({t["label"] for p in paragraphs for t in p["techniques"]}),
                "narratives": [n["label"] for n in slim.get("narratives", [])] if slim else [],
                "entities": [f"{e['name']} ({e['role']})" for e in slim.get("entities", [])] if slim else [],
                "n_paragraphs": len(paragraphs),
                "n_spans": len(slim["spans"]) if slim else 0,
            }
            if with_analysis:  # read back and written out: the Analysis JSON of today, checked
                row["analysis"] = (Analysis.from_dict({**slim, "text": r["text"], "models": json.loads(r["models"])})
                                   .to_dict() if slim else None)
            yield row

    def check(self) -> list[str]:
        """Integrity problems (empty when the database is sound): SQLite's own checks,
        orphan rows and articles without any analysis."""
        problems = [r[0] for r in self.db.execute("PRAGMA integrity_check") if r[0] != "ok"]
        problems += [f"foreign key violation in {r[0]} row {r[1]}" for r in self.db.execute("PRAGMA foreign_key_check")]
        for table in ("paragraph_labels", "spans", "frames", "narratives", "entities"):
            n = self.db.execute(f"SELECT count(*) FROM {table} WHERE analysis_id NOT IN "
                                "(SELECT analysis_id FROM analyses)").fetchone()[0]
            if n:
                problems.append(f"{n} orphan row(s) in {table}")
        n = self.db.execute("SELECT count(*) FROM articles WHERE hash NOT IN "
                            "(SELECT article_hash FROM analyses)").fetchone()[0]
        if n:
            problems.append(f"{n} article(s) without an analysis")
        n = self.db.execute("SELECT count(*) FROM analyses WHERE status = 'ok' AND analysis IS NULL").fetchone()[0]
        if n:
            problems.append(f"{n} ok analyses without their JSON")
        return problems


EXPORT_FORMATS = ("csv", "jsonl", "parquet")


def export(db_path: Path | str, output: Path | str, format: str, model_version: str | None = None) -> int:
    """Write one row per stored analysis to ``output`` as csv, jsonl or parquet; return the row count.

    csv: the :data:`EXPORT_COLUMNS`, lists joined with ``;``. jsonl: those columns plus
    ``analysis``, the full Analysis (``null`` for a failed article). parquet (needs pyarrow):
    the columns with real list columns plus ``analysis`` as a JSON string.
    """
    if format not in EXPORT_FORMATS:
        raise InputError(f"unknown export format {format!r}: use one of {', '.join(EXPORT_FORMATS)}")
    if format == "parquet":
        try:
            import pyarrow  # noqa: F401 - an optional dependency: checked before anything is written
        except ImportError:
            raise InputError("parquet export needs pyarrow: `pip install 'spinscope[parquet]'` "
                             "(or export as csv or jsonl)") from None
    output = Path(output)
    with Store(db_path, create=False) as store:
        version = store.resolve_version(model_version) if model_version else None
        rows = store.export_rows(version, with_analysis=format != "csv")
        output.parent.mkdir(parents=True, exist_ok=True)
        tmp = output.with_name(output.name + ".part")
        writer = {"csv": _write_csv, "jsonl": _write_jsonl, "parquet": _write_parquet}[format]
        n = writer(rows, tmp)
        tmp.replace(output)  # never leave a half-written export under the real name
    return n


def _write_csv(rows: Iterator[dict], path: Path) -> int:
    n = 0
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=EXPORT_COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ";".join(v) if k in LIST_COLUMNS else v for k, v in row.items()})
            n += 1
    return n


def _write_jsonl(rows: Iterator[dict], path: Path) -> int:
    n = 0
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    return n


def _write_parquet(rows: Iterator[dict], path: Path, chunk: int = 2000) -> int:
    import pyarrow as pa  # the optional parquet extra
    import pyarrow.parquet as pq

    text, lst = pa.string(), pa.list_(pa.string())
    types = {"n_paragraphs": pa.int64(), "n_spans": pa.int64()} | {c: lst for c in LIST_COLUMNS}
    schema = pa.schema([(c, types.get(c, text)) for c in EXPORT_COLUMNS] + [("analysis", text)])
    n = 0
    with pq.ParquetWriter(path, schema) as writer:
        batch: list[dict] = []
        for row in rows:
            row["analysis"] = json.dumps(row["analysis"], ensure_ascii=False) if row["analysis"] else None
            batch.append(row)
            if len(batch) >= chunk:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                n, batch = n + len(batch), []
        if batch or n == 0:
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
            n += len(batch)
    return n
