"""The corpus store: one SQLite file of articles and their analyses.

Each article is keyed by a hash of its text; each analysis by ``(article hash, model
version)``. :meth:`Store.save` writes one article with everything about it in ONE
transaction, so a process killed at any moment (Ctrl-C, ``kill -9``) leaves either the whole
article or nothing, and a rerun skips what is already stored: every article is stored
exactly once per model version, even by two batches writing at once. Readers (``serve --db``,
the report, export) go on while a batch writes and see whole articles only; a full disk, a
read-only file or folder, a damaged file raise a :class:`~spinscope.errors.StoreError` saying
what to do, leaving the database as its last commit left it (:mod:`~.connection`).

Tables (:mod:`~.schema`): ``articles`` (text and metadata), ``analyses`` (status ``ok`` or
``failed`` with its reason, genre, the analysis JSON), ``model_versions``, and one table per
task of the registry (``paragraph_labels``: one row per paragraph and technique, ``spans``,
``frames``, ``narratives``, ``entities``). :mod:`~.database` writes and reads analyses,
:mod:`~.queries` answers the corpus report, :mod:`~.export` writes csv, jsonl or parquet.
"""

from .database import ArticleRecord, Store, content_hash, model_version
from .export import EXPORT_FORMATS, export
from .schema import EXPORT_COLUMNS, LIST_COLUMNS, SCHEMA_VERSION

__all__ = [
    "EXPORT_COLUMNS",
    "EXPORT_FORMATS",
    "LIST_COLUMNS",
    "SCHEMA_VERSION",
    "ArticleRecord",
    "Store",
    "content_hash",
    "export",
    "model_version",
]
