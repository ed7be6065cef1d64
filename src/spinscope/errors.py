"""The errors spinscope raises on purpose. Each message is one sentence saying what was wrong and
what to do, in the library's terms (never a command-line flag), so that any shell can show it as
it is: the CLI prints it on one line, the API returns it with :attr:`SpinscopeError.status`.
"""
from __future__ import annotations


class SpinscopeError(Exception):
    """Base of spinscope's errors; ``status`` is the HTTP status an API answers with."""

    default_status = 500

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status or self.default_status


class InputError(SpinscopeError, ValueError):
    """An input spinscope cannot analyse: empty, binary, too large, an unknown language, a bad URL."""

    default_status = 400


class FetchError(InputError):
    """A URL that could not or must not be fetched (private address, timeout, not a web page)."""

    default_status = 502


class DataError(InputError):
    """A data file or folder that does not follow the official SemEval layout or formats."""


class ModelError(SpinscopeError):
    """A trained model that is missing or cannot be read."""


class StoreError(SpinscopeError):
    """A corpus database spinscope cannot use (not SQLite, another schema, an unknown model version)."""

    default_status = 400


class BatchError(SpinscopeError):
    """A corpus batch that could not go on (a worker died, the cluster went away); rerun to resume."""
