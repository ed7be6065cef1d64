"""The tables of a corpus database and the statements that write an analysis into them.

The core tables (``articles``, ``model_versions``, ``analyses``) are written out here. The
tables of the tasks' labels (``frames``, ``paragraph_labels``, ``spans``, ...) and their
INSERT statements come from the task registry (``spinscope.tasks.TASKS[name].store``), so a
new task gets its table without a change here. A change that alters an existing table must
raise :data:`SCHEMA_VERSION` and say how older databases are upgraded (:data:`UPGRADABLE`).
"""

from __future__ import annotations

from ...tasks import TASKS, StoreTable

SCHEMA_VERSION = 3
#: Schema versions a database is upgraded from, in place (version 2 added narratives and
#: entities, version 3 the evidence sentences; older analyses keep none).
UPGRADABLE = (1, 2)

#: The table of one analysis per article and model version; tasks may store columns in it (genre).
ANALYSES = "analyses"

CORE_TABLES = """
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
"""

#: The indexes the corpus report's queries need (each task table also gets one by analysis_id).
QUERY_INDEXES = """
CREATE INDEX IF NOT EXISTS entities_by_role ON entities (role, name);
CREATE INDEX IF NOT EXISTS analyses_by_version ON analyses (model_version, status, genre);
CREATE INDEX IF NOT EXISTS articles_by_source ON articles (source);
CREATE INDEX IF NOT EXISTS articles_by_date ON articles (date);
CREATE INDEX IF NOT EXISTS paragraph_labels_by_technique ON paragraph_labels (technique, analysis_id);
CREATE INDEX IF NOT EXISTS spans_by_technique_text ON spans (technique, text);
CREATE INDEX IF NOT EXISTS frames_by_frame ON frames (frame, analysis_id);
CREATE INDEX IF NOT EXISTS evidence_by_label ON evidence (kind, label);
"""

#: SQLite types of the task tables' columns that hold no text; every task column is NOT NULL.
COLUMN_TYPES = {"line": "INTEGER", "start": "INTEGER", "end": "INTEGER", "mentions": "INTEGER", "score": "REAL"}


def _quoted(column: str) -> str:
    return f'"{column}"'  # some task columns are SQL keywords ("end")


def task_tables() -> tuple[StoreTable, ...]:
    """The tables of the tasks' labels, one row per label, in registry order."""
    return tuple(task.store for task in TASKS.values() if task.store and task.store.table != ANALYSES)


def analyses_tables() -> tuple[StoreTable, ...]:
    """The tasks that store their columns in the ``analyses`` row itself (genre)."""
    return tuple(task.store for task in TASKS.values() if task.store and task.store.table == ANALYSES)


def create_task_table(table: StoreTable) -> str:
    """The CREATE TABLE and analysis_id index of a task's table."""
    columns = ["analysis_id INTEGER NOT NULL REFERENCES analyses(analysis_id) ON DELETE CASCADE"]
    columns += [f"{_quoted(c):<11} {COLUMN_TYPES.get(c, 'TEXT')} NOT NULL" for c in table.columns]
    return (
        f"CREATE TABLE IF NOT EXISTS {table.table} (\n    " + ",\n    ".join(columns) + "\n);\n"
        f"CREATE INDEX IF NOT EXISTS {table.table}_by_analysis ON {table.table} (analysis_id);\n"
    )


def insert_task_rows(table: StoreTable) -> str:
    """The INSERT of one row of a task's table, analysis_id first."""
    columns = ("analysis_id", *table.columns)
    return (
        f"INSERT INTO {table.table} ({', '.join(_quoted(c) for c in columns)}) VALUES ({', '.join('?' * len(columns))})"
    )


SCHEMA = CORE_TABLES + "".join(create_task_table(table) for table in task_tables()) + QUERY_INDEXES

#: The columns of an analyses row that :func:`analyses_tables` fill (genre).
TASK_ANALYSES_COLUMNS = tuple(column for table in analyses_tables() for column in table.columns)
INSERT_ANALYSIS = (
    "INSERT INTO analyses (article_hash, model_version, status, error, analysis, created"
    + "".join(f", {_quoted(c)}" for c in TASK_ANALYSES_COLUMNS)
    + ") VALUES ("
    + ", ".join("?" * (6 + len(TASK_ANALYSES_COLUMNS)))
    + ")"
)

#: The columns of :meth:`Store.export_rows` read as they are stored, in order.
STORED_EXPORT_COLUMNS = (
    "id",
    "hash",
    "source",
    "url",
    "title",
    "date",
    "language",
    "model_version",
    "status",
    "error",
    "genre",
)
#: The columns of :meth:`Store.export_rows`, in order (``analysis`` holds the full Analysis).
EXPORT_COLUMNS = (
    *STORED_EXPORT_COLUMNS,
    "frames",
    "techniques",
    "narratives",
    "entities",
    "n_paragraphs",
    "n_spans",
    "explanation",
    "evidence",
)
#: Columns holding lists (joined with ``;`` in CSV); an entity is written ``name (role)``, an
#: evidence sentence ``label: "sentence"`` (the dominant narrative's evidence).
LIST_COLUMNS = ("frames", "techniques", "narratives", "entities", "evidence")
