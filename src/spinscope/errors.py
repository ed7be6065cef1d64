"""The errors spinscope raises on purpose. Each message is one sentence saying what was wrong and
what to do, in the library's terms (never a command-line flag), so that any shell can show it as
it is: the CLI prints it on one line, the API answers with it.

The classes say *what* went wrong (a file that is not there, an input over a size limit, a site
that timed out), never how a shell reports it: the HTTP status of each lives in the API shell
(:mod:`spinscope.shells.api.errors`), the exit status in the CLI.
"""

from __future__ import annotations


class SpinscopeError(Exception):
    """Base of spinscope's errors."""


class InputError(SpinscopeError, ValueError):
    """An input spinscope cannot analyse: empty, binary, too large, an unknown language, a bad URL."""


class NotFoundError(InputError):
    """A file, folder or corpus database that is not where the input says."""


class TooLargeError(InputError):
    """An input over spinscope's size limits: too many bytes, too many characters, a page too big."""


class NotTextError(InputError):
    """Bytes that are not text spinscope can read: a binary file, an encoding that cannot be
    detected, a web address that answers with something other than a page."""


class NoArticleError(InputError):
    """A web page in which no article text was found."""


class FetchError(InputError):
    """A URL that could not be fetched: its host does not resolve, or its site fails or answers
    with an error."""


class InvalidURLError(FetchError):
    """A URL that is not a full http:// or https:// address."""


class RefusedURLError(FetchError):
    """A URL spinscope must not fetch: its host resolves to a private or internal address."""


class FetchTimeoutError(FetchError):
    """A site that did not connect or answer in time."""


class PageTooLargeError(FetchError, TooLargeError):
    """A fetched page over the download limit."""


class NotAPageError(FetchError, NotTextError):
    """A fetched URL whose content is not an HTML or text page."""


class DataError(InputError):
    """A data file or folder that does not follow the official SemEval layout or formats."""


class ModelError(SpinscopeError):
    """A trained model that is missing or cannot be read."""


class StoreError(SpinscopeError):
    """A corpus database spinscope cannot use (not SQLite, another schema, an unknown model version)."""


class MissingStoreError(StoreError, NotFoundError):
    """No corpus database where one was named to be read."""


class BatchError(SpinscopeError):
    """A corpus batch that could not go on (a worker died, the cluster went away); rerun to resume."""


class ConfigError(SpinscopeError):
    """Settings spinscope cannot work with: an unknown pipeline component, a component disabled
    while another needs it, options that contradict each other."""
