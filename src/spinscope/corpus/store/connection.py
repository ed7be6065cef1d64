"""How the store talks to SQLite: a connection set up so that batches write while other
processes read, and SQLite's failures told as :class:`~spinscope.errors.StoreError`.

WAL lets readers (``serve --db``, a report, an export) go on while a batch commits, and a
reader in a transaction keeps its snapshot; the busy timeout makes a second writer, or a
reader meeting a checkpoint, wait its turn instead of failing with "database is locked". A
full disk, a read-only file or folder, a damaged file: each becomes one sentence saying what
happened and what to do; a failed write leaves the database as its last commit left it.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ...errors import StoreError

#: How long a statement waits for another process's lock (a batch's commit, a checkpoint).
BUSY_TIMEOUT_SECONDS = 60

_KEPT = "everything stored before is kept"
_READ_ONLY = "{path} is read-only ({reason}): make the file writable, or give another database file"
_LOCKED = (
    f"{{path}} stayed locked by another program for {BUSY_TIMEOUT_SECONDS} s ({{reason}}): wait for it to finish, "
    "or stop it, then run again"
)
#: What each SQLite failure means to the user, by result code: ``{path}`` and SQLite's ``{reason}``.
FAILURES = {
    sqlite3.SQLITE_FULL: "the disk holding {path} is full ({reason}): free some space, then run again; " + _KEPT,
    sqlite3.SQLITE_IOERR: "{path} could not be read or written ({reason}): check that its disk has free space "
    "and works, then run again; " + _KEPT,
    sqlite3.SQLITE_READONLY_DIRECTORY: "the folder of {path} is read-only ({reason}) and SQLite keeps its -wal and "
    "-shm files there: make the folder writable, or copy the database to a folder you can write to",
    sqlite3.SQLITE_READONLY: _READ_ONLY,
    sqlite3.SQLITE_PERM: _READ_ONLY,
    sqlite3.SQLITE_CANTOPEN: "{path} cannot be opened ({reason}): check that it is a file and that you may read "
    "and write it and its folder",
    sqlite3.SQLITE_BUSY: _LOCKED,
    sqlite3.SQLITE_LOCKED: _LOCKED,
    sqlite3.SQLITE_CORRUPT: "{path} is damaged ({reason}): restore it from a copy, or give a new file name",
    sqlite3.SQLITE_NOTADB: "{path} is not a spinscope database ({reason}): give a new file name or a database "
    "made by a spinscope batch",
}


def store_error(path: Path, error: sqlite3.Error) -> StoreError | None:
    """The :class:`StoreError` telling ``error`` to the user, or ``None`` for a failure that is
    a bug of spinscope's (a constraint, a misused connection), which must stay as it is."""
    code = getattr(error, "sqlite_errorcode", None)
    if code is None:
        return None
    template = FAILURES.get(code) or FAILURES.get(code & 0xFF)  # the extended code, else the primary one
    return StoreError(template.format(path=path, reason=error)) if template else None


@contextmanager
def told_as_store_errors(path: Path) -> Iterator[None]:
    """Raise the failures of SQLite met in the block as :func:`store_error` tells them."""
    try:
        yield
    except sqlite3.Error as error:
        told = store_error(path, error)
        if told is None:
            raise
        raise told from error


class Connection(sqlite3.Connection):
    """A connection whose statements fail with a :class:`StoreError` saying what to do."""

    def __init__(self, database: Path | str, *args: Any, **kwargs: Any):
        super().__init__(database, *args, **kwargs)
        self.path = Path(database)

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        with told_as_store_errors(self.path):
            return super().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> sqlite3.Cursor:
        with told_as_store_errors(self.path):
            return super().executemany(sql, parameters)

    def executescript(self, sql_script: str, /) -> sqlite3.Cursor:
        with told_as_store_errors(self.path):
            return super().executescript(sql_script)


def connect(path: Path, writer: bool) -> Connection:
    """A connection to the database at ``path``; a ``writer`` turns WAL on (it stays on in the
    file: readers never change the journal mode, which needs the database to themselves)."""
    with told_as_store_errors(path):
        # isolation_level=None: no implicit transactions; the store says BEGIN and COMMIT itself.
        db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, factory=Connection)
    db.row_factory = sqlite3.Row
    try:
        db.execute("PRAGMA foreign_keys = ON")
        if writer:
            _turn_wal_on(db, path)
        # NORMAL with WAL: a commit survives a killed process; only a power cut may lose the
        # last commits, and never leaves a half-written one.
        db.execute("PRAGMA synchronous = NORMAL")
    except BaseException:
        db.close()
        raise
    return db


def _turn_wal_on(db: Connection, path: Path) -> None:
    """Put the database in WAL mode (once: the mode stays in the file). SQLite refuses the
    switch at once, without waiting, when another process opens the same new database at the
    same moment ("database is locked"), so two batches starting together wait here instead."""
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    with told_as_store_errors(path):
        while True:
            try:
                sqlite3.Connection.execute(db, "PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as error:
                if error.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                    raise
            time.sleep(0.01)
