"""The REST API and the web page: a thin HTTP shell over :class:`~spinscope.pipeline.Analyzer`.

``create_app()`` builds the FastAPI application (:mod:`.app`); ``serve()`` runs it with uvicorn
(:mod:`.server`). The Analyzer loads once per process, when the application starts, and every
analysis runs in a worker thread (:mod:`.routes`, :mod:`.service`).

Every answer to bad input is a 4xx JSON object ``{"error": "one clear sentence"}``: the
sentences are those of the library's errors (:mod:`spinscope.errors`) where they exist, and
:mod:`.errors` alone gives each its HTTP status. The API never re-labels anything:
``POST /api/v1/analyze`` returns exactly ``Analysis.to_dict()``, the same JSON as
``spinscope analyze --format json``.
"""

from ...io import MAX_BYTES, MAX_CHARS
from .app import create_app
from .routes import WEB_DIR
from .server import serve

__all__ = ["MAX_BYTES", "MAX_CHARS", "WEB_DIR", "create_app", "serve"]
