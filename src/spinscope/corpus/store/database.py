"""The :class:`Store`: a connection to one corpus database, what writes an article with its
analysis in one transaction, and what reads analyses back (one by one, or all for export)."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ... import __version__
from ...analysis import Analysis
from ...errors import MissingStoreError, StoreError
from .connection import connect
from .queries import CorpusQueries
from .schema import (
    ANALYSES,
    INSERT_ANALYSIS,
    SCHEMA,
    SCHEMA_VERSION,
    STORED_EXPORT_COLUMNS,
    TASK_ANALYSES_COLUMNS,
    UPGRADABLE,
    analyses_tables,
    insert_task_rows,
    task_tables,
)


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
    return datetime.now(UTC).isoformat(timespec="seconds")


def _task_columns_of(analysis: dict) -> tuple:
    """The values of :data:`TASK_ANALYSES_COLUMNS` for an analyses row: ``NULL`` for a task
    without a row (its component was disabled)."""
    values: list = []
    for table in analyses_tables():
        rows = table.rows(analysis)
        values.extend(rows[0] if rows else (None,) * len(table.columns))
    return tuple(values)


class Store(CorpusQueries):
    """A corpus database. Use as a context manager; ``Store(path, create=False)`` only reads.

    Any number of processes may use one database at once: a :meth:`save` waits for another
    writer's transaction, and readers never wait for writers. Used as a context manager, a
    store that only reads sees one snapshot for the whole block: the articles committed
    when it first reads, each whole, however many a batch commits meanwhile.
    """

    def __init__(self, path: Path | str, create: bool = True):
        self.path = Path(path)
        self.create = create
        if not create and not self.path.is_file():
            raise MissingStoreError(f"no corpus database at {self.path}: analyse a corpus into it first")
        if create:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = connect(self.path, writer=create)
        try:
            self._migrate(create)
        except sqlite3.DatabaseError as error:  # what connect() does not tell: a file of another kind
            self.db.close()
            raise StoreError(
                f"{self.path} is not a spinscope database ({error}): give a new file name or "
                "a database made by a spinscope batch"
            ) from None
        except BaseException:
            self.db.close()
            raise

    def _migrate(self, create: bool) -> None:
        # One statement, so one snapshot: a batch creating the schema meanwhile shows all of it or none.
        version, names = self.db.execute(
            "SELECT user_version, (SELECT group_concat(name, ' ') FROM sqlite_master WHERE type = 'table') "
            "FROM pragma_user_version"
        ).fetchone()
        tables = set((names or "").split())
        if version == 0 and not tables and not create:
            raise StoreError(f"{self.path} is empty: analyse a corpus into it first")
        if (version == 0 and not tables) or (version in UPGRADABLE and ANALYSES in tables):
            # New tables only, old rows stay as they are. IMMEDIATE and IF NOT EXISTS: a second
            # batch doing the same at the same moment waits for the first, then finds it done.
            self.db.executescript("BEGIN IMMEDIATE;" + SCHEMA + f"PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;")
        elif version != SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} is not a spinscope corpus database (schema version {version}, "
                f"expected {SCHEMA_VERSION}): give another database file"
            )

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        if not self.create:
            # A deferred transaction that only reads: its snapshot is taken at the first
            # query and kept to the end of the block (WAL keeps it while batches commit).
            self.db.execute("BEGIN")
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- writing -----------------------------------------------------------------------

    def register_model_version(self, version: str, model_info: dict, spinscope_version: str) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO model_versions VALUES (?, ?, ?, ?)",
            (version, spinscope_version, json.dumps(model_info, sort_keys=True), _now()),
        )

    def stored_hashes(self, model_version: str, include_failed: bool = True) -> set[str]:
        """Hashes of the articles analysed with ``model_version`` (``ok`` and, by default, ``failed``)."""
        sql = "SELECT article_hash FROM analyses WHERE model_version = ?"
        if not include_failed:
            sql += " AND status = 'ok'"
        return {row[0] for row in self.db.execute(sql, (model_version,))}

    def save(
        self, record: ArticleRecord, model_version: str, analysis: Analysis | None = None, error: str | None = None
    ) -> bool:
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
            old = db.execute(
                "SELECT analysis_id, status FROM analyses WHERE article_hash = ? AND model_version = ?",
                (key, model_version),
            ).fetchone()
            if old is not None and old["status"] == "ok":
                db.execute("ROLLBACK")
                return False
            if old is not None:  # a failed analysis, now retried
                db.execute("DELETE FROM analyses WHERE analysis_id = ?", (old["analysis_id"],))
            db.execute(
                "INSERT OR IGNORE INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (key, record.id, record.source, record.url, record.title, record.date, record.language, record.text),
            )
            if analysis is None:
                db.execute(
                    INSERT_ANALYSIS,
                    (key, model_version, "failed", error, None, _now(), *(None,) * len(TASK_ANALYSES_COLUMNS)),
                )
            else:
                self._insert_analysis(key, model_version, analysis.to_dict())
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:  # SQLite has already rolled back after a full disk or an I/O error
                with suppress(StoreError, sqlite3.Error):  # the failure that got here is the one to tell
                    db.execute("ROLLBACK")
            raise
        return True

    def _insert_analysis(self, key: str, model_version: str, analysis: dict) -> None:
        # The text and the model metadata are stored once (articles, model_versions), not per analysis.
        slim = {k: v for k, v in analysis.items() if k not in ("text", "models")}
        cursor = self.db.execute(
            INSERT_ANALYSIS,
            (
                key,
                model_version,
                "ok",
                None,
                json.dumps(slim, ensure_ascii=False, sort_keys=True),
                _now(),
                *_task_columns_of(analysis),
            ),
        )
        for table in task_tables():
            self.db.executemany(insert_task_rows(table), [(cursor.lastrowid, *row) for row in table.rows(analysis)])

    # -- reading -----------------------------------------------------------------------

    def model_versions(self) -> list[dict]:
        """Stored model versions, newest first, with their article counts."""
        rows = self.db.execute(
            "SELECT v.version, v.spinscope, v.created, count(a.analysis_id) AS n, max(a.analysis_id) AS last "
            "FROM model_versions v LEFT JOIN analyses a ON a.model_version = v.version "
            "GROUP BY v.version ORDER BY coalesce(max(a.analysis_id), 0) DESC, v.created DESC"
        )
        return [
            {"version": r["version"], "spinscope": r["spinscope"], "created": r["created"], "analyses": r["n"]}
            for r in rows
        ]

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
            raise StoreError(
                f"model version {model_version!r} is not in {self.path} (stored: {', '.join(known) or 'none'})"
            )
        return matches[0]

    def analysis(self, article_hash: str, model_version: str) -> Analysis | None:
        """The :class:`Analysis` of a stored article, or ``None`` (absent or failed)."""
        row = self.db.execute(
            "SELECT a.analysis, r.text, v.models FROM analyses a JOIN articles r ON r.hash = a.article_hash "
            "JOIN model_versions v ON v.version = a.model_version "
            "WHERE a.article_hash = ? AND a.model_version = ? AND a.status = 'ok'",
            (article_hash, model_version),
        ).fetchone()
        if row is None:
            return None
        return Analysis.from_dict(
            {**json.loads(row["analysis"]), "text": row["text"], "models": json.loads(row["models"])}
        )

    def export_rows(self, model_version: str | None = None, with_analysis: bool = False) -> Iterator[dict]:
        """One dict per stored analysis (all model versions unless one is given), columns
        :data:`~.schema.EXPORT_COLUMNS`; ``analysis`` (the full Analysis dict) too when asked."""
        where, params = ("WHERE a.model_version = ?", (model_version,)) if model_version else ("", ())
        rows = self.db.execute(
            "SELECT r.*, a.analysis_id, a.model_version, a.status, a.error, a.genre, a.analysis, v.models "
            "FROM analyses a JOIN articles r ON r.hash = a.article_hash "
            f"JOIN model_versions v ON v.version = a.model_version {where} ORDER BY a.analysis_id",
            params,
        )
        for r in rows:
            slim = json.loads(r["analysis"]) if r["analysis"] else None
            row = {key: r[key] for key in STORED_EXPORT_COLUMNS}
            row.update(_export_lists(slim or {}))
            if with_analysis:  # read back and written out: the Analysis JSON of today, checked
                row["analysis"] = (
                    Analysis.from_dict({**slim, "text": r["text"], "models": json.loads(r["models"])}).to_dict()
                    if slim
                    else None
                )
            yield row

    def check(self) -> list[str]:
        """Integrity problems (empty when the database is sound): SQLite's own checks,
        orphan rows and articles without any analysis."""
        problems = [r[0] for r in self.db.execute("PRAGMA integrity_check") if r[0] != "ok"]
        problems += [f"foreign key violation in {r[0]} row {r[1]}" for r in self.db.execute("PRAGMA foreign_key_check")]
        for table in task_tables():
            n = self.db.execute(
                f"SELECT count(*) FROM {table.table} WHERE analysis_id NOT IN (SELECT analysis_id FROM analyses)"
            ).fetchone()[0]
            if n:
                problems.append(f"{n} orphan row(s) in {table.table}")
        n = self.db.execute(
            "SELECT count(*) FROM articles WHERE hash NOT IN (SELECT article_hash FROM analyses)"
        ).fetchone()[0]
        if n:
            problems.append(f"{n} article(s) without an analysis")
        n = self.db.execute("SELECT count(*) FROM analyses WHERE status = 'ok' AND analysis IS NULL").fetchone()[0]
        if n:
            problems.append(f"{n} ok analyses without their JSON")
        return problems


def _export_lists(slim: dict) -> dict:
    """The list and count columns of an export row, from a stored analysis JSON (empty for a
    failed article; a part whose component was disabled, or that predates it, is empty)."""
    paragraphs = slim.get("paragraphs") or []
    return {
        "frames": [f["label"] for f in slim.get("frames") or []],
        "techniques": sorted({t["label"] for p in paragraphs for t in p["techniques"]}),
        "narratives": [n["label"] for n in slim.get("narratives") or []],
        "entities": [f"{e['name']} ({e['role']})" for e in slim.get("entities") or []],
        "n_paragraphs": len(paragraphs),
        "n_spans": len(slim.get("spans") or []),
        "explanation": (slim.get("explanation") or {}).get("text"),
        "evidence": [
            f"{n['label']}: “{e['text']}”" for n in slim.get("narratives") or [] for e in n.get("evidence") or []
        ],
    }
