"""The FastAPI application: routes, error handlers, the body cap, static files and offline docs."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from ... import __version__
from ...io import MAX_BYTES, MAX_CHARS
from ...pipeline import Analyzer
from .access import Access
from .cors import CorsMiddleware, allowed_origins
from .errors import add_error_handlers
from .metrics import ApiMetrics, MetricsMiddleware
from .middleware import AccessMiddleware, BodyLimitMiddleware, document_access
from .routes import WEB_DIR, router
from .service import AnalysisService, ServiceLimits, warm_up

log = logging.getLogger("spinscope.api")


def create_app(
    analyzer=None,
    models: Path | str | None = None,
    db: Path | str | None = None,
    access: Access | None = None,
    limits: ServiceLimits | None = None,
    allow_origins: Iterable[str] = (),
) -> FastAPI:
    """The spinscope web application.

    ``analyzer`` is any object with ``analyze(article) -> Analysis`` (tests inject one);
    when omitted, an :class:`~spinscope.pipeline.Analyzer` is loaded from ``models`` (the
    shipped models by default) once, when the application starts. ``db`` is a corpus
    database (``spinscope batch``) shown at ``/corpus``. ``access`` holds the API token and
    the rate limit (:mod:`.access`; none by default). ``limits`` bound the cache of analyses,
    the analysis queue and the time a request waits (:class:`~.service.ServiceLimits`).
    ``allow_origins`` are the web origins granted cross-origin calls besides the browser
    extension's own (:mod:`.cors`; an :class:`~spinscope.errors.InputError` for one that is not
    ``scheme://host[:port]``).
    """
    origins = allowed_origins(allow_origins)  # first: a bad origin fails before anything is built
    app = FastAPI(
        title="spinscope",
        version=__version__,
        summary="See how a news article tries to persuade: genre, frames, persuasion techniques and spans.",
        description=(
            f"Send one article (text, HTML or a public URL; at most {MAX_CHARS:,} characters, "
            f"request bodies at most {MAX_BYTES:,} bytes). Errors are JSON: "
            '`{"error": "what was wrong and what to do"}`.'
        ),
        lifespan=_lifespan(analyzer, models, limits),
        docs_url=None,
        redoc_url=None,
    )
    app.state.corpus_db = db
    app.add_middleware(BodyLimitMiddleware, limit=MAX_BYTES)
    # Added after the body cap, so it runs before it: a refused request is answered before its body is read.
    app.add_middleware(AccessMiddleware, access=access)
    document_access(app, access or Access())
    # Around the token check and the rate limit: a preflight (no Authorization header) is answered
    # first, and the refusals of those checks carry the grant, so the extension can say why.
    app.add_middleware(CorsMiddleware, origins=origins)
    # Outermost: every answer is counted, the refusals of the middlewares above included.
    app.state.metrics = ApiMetrics()
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics, router=app.router)
    add_error_handlers(app)
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")
    app.mount("/docs-assets", StaticFiles(directory=_swagger_assets()), name="docs-assets")
    app.include_router(router())
    return app


def _lifespan(
    analyzer, models: Path | str | None, limits: ServiceLimits | None
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Start-up: the given ``analyzer``, or the Analyzer of ``models`` loaded and warmed up once per process."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if analyzer is None:
            loaded = await run_in_threadpool(Analyzer, models)
            await run_in_threadpool(warm_up, loaded)
            app.state.service = AnalysisService(loaded, limits)
        else:
            app.state.service = AnalysisService(analyzer, limits)
        app.state.metrics.watch(app.state.service)
        log.info("spinscope %s ready", __version__)
        try:
            yield
        finally:
            app.state.service.close()

    return lifespan


def _swagger_assets() -> Path:
    """Swagger UI's script and stylesheet, shipped by the ``fastapi-offline`` package."""
    return Path(str(resources.files("fastapi_offline") / "static"))
