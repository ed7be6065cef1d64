"""The routes: the analysis endpoints, the reference ones (taxonomy, health, metrics) and the pages.

Each analysis runs off the event loop (:mod:`.service`: a thread of its own behind a bounded
queue, a cache in front), so the event loop keeps answering while the CPU embeds paragraphs. An
analysis is answered with exactly ``Analysis.to_dict()``, validated against
:class:`~spinscope.schema.AnalysisSchema` on the way out; a full queue or an analysis past its
time limit is answered 503 with ``Retry-After``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from ... import __version__, taxonomy
from ...corpus import corpus_data, report_html
from ...io import MAX_BYTES
from ...schema import AnalysisSchema
from ..render import GROUP_COLOURS, ROLE_COLOURS
from .errors import ANALYSIS_ERROR_STATUSES
from .metrics import ApiMetrics
from .middleware import CORPUS_HEADERS, PAGE_HEADERS
from .schemas import AnalyzeRequest, ErrorOut, HealthOut, TaxonomyOut
from .service import AnalysisService, ArticleSource, Busy, text_source, upload_source, url_source

WEB_DIR = Path(__file__).parent.parent / "web"
_ANALYSIS_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The Analysis of the article."},
    **{status: {"model": ErrorOut} for status in ANALYSIS_ERROR_STATUSES},
    503: {
        "model": ErrorOut,
        "description": (
            "The server is busy (its analysis queue is full) or the analysis passed its time limit "
            "(it goes on, and its result is kept): ask again after Retry-After seconds."
        ),
        "headers": {
            "Retry-After": {"description": "Seconds to wait before asking again.", "schema": {"type": "integer"}}
        },
    },
}

UploadedArticle = Annotated[UploadFile, File(description="A .txt or .html article (UTF-8 preferred), at most 2 MB.")]
UploadLanguage = Annotated[
    str | None, Form(max_length=16, description="ISO 639-1 language code; detected when omitted.")
]


def _service(request: Request) -> AnalysisService:
    return request.app.state.service


async def _analysis(request: Request, source: ArticleSource, lang: str | None, remote: bool = False) -> dict:
    try:
        return await _service(request).analyze(source, lang, remote)
    except Busy as busy:
        raise HTTPException(503, busy.message, headers={"Retry-After": str(busy.retry_after)}) from None


async def analyze(body: AnalyzeRequest, request: Request) -> dict:
    """Analyse one article given as text, HTML or a public http(s) URL.

    Returns the same JSON as `spinscope analyze --format json`.
    """
    if body.url is not None:
        return await _analysis(request, url_source(body.url), body.lang, remote=True)
    if body.html is not None:
        return await _analysis(request, text_source(body.html, "the html field", html=True), body.lang)
    assert body.text is not None  # AnalyzeRequest holds exactly one source
    return await _analysis(request, text_source(body.text, "the text field", html=False), body.lang)


async def analyze_file(request: Request, file: UploadedArticle, lang: UploadLanguage = None) -> dict:
    """Analyse one uploaded text or HTML file."""
    data = await file.read(MAX_BYTES + 1)
    return await _analysis(request, upload_source(data, file.filename), lang or None)


async def get_taxonomy() -> dict:
    """Every label with its definition, and the colour of each technique group."""
    groups = [{"name": group, "colour": GROUP_COLOURS[group]} for group in taxonomy.TECHNIQUE_GROUPS]
    roles = [{"name": role, "colour": colour} for role, colour in ROLE_COLOURS.items()]
    return taxonomy.as_dict() | {"technique_groups": groups, "role_colours": roles}


async def health(request: Request) -> dict:
    """Answers once the models are loaded."""
    info = getattr(_service(request).analyzer, "model_info", {})
    return {"status": "ok", "version": __version__, "models": info if isinstance(info, dict) else {}}


async def metrics(request: Request) -> Response:
    """Requests, latency, errors, the analysis queue and the cache, in Prometheus' text format."""
    collected: ApiMetrics = request.app.state.metrics
    return Response(collected.render(), media_type=collected.content_type)


async def page() -> FileResponse:
    return FileResponse(WEB_DIR / "index.html", media_type="text/html", headers=PAGE_HEADERS)


async def corpus(request: Request) -> HTMLResponse:
    """The corpus report of the database given to ``spinscope serve --db``."""
    db = request.app.state.corpus_db
    if db is None:
        raise HTTPException(404, "no corpus database: start the server with `spinscope serve --db corpus.sqlite`")
    html = await run_in_threadpool(lambda: report_html(corpus_data(db)))
    return HTMLResponse(html, headers=CORPUS_HEADERS)


async def docs(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url,
        title="spinscope API",
        swagger_js_url="/docs-assets/swagger-ui-bundle.js",
        swagger_css_url="/docs-assets/swagger-ui.css",
        swagger_favicon_url="/static/favicon.svg",
        # No validator badge: it would be fetched from swagger.io.
        swagger_ui_parameters={"validatorUrl": None},
    )


def router() -> APIRouter:
    """Every route of the application (the static files are mounted by the app)."""
    routes = APIRouter()
    for path, endpoint, summary in (
        ("/api/v1/analyze", analyze, "Analyse text, HTML or a URL"),
        ("/api/v1/analyze/file", analyze_file, "Analyse an uploaded file"),
    ):
        routes.add_api_route(
            path,
            endpoint,
            methods=["POST"],
            response_model=AnalysisSchema,
            tags=["analysis"],
            summary=summary,
            responses=_ANALYSIS_RESPONSES,
        )
    routes.add_api_route(
        "/api/v1/taxonomy",
        get_taxonomy,
        methods=["GET"],
        response_model=TaxonomyOut,
        tags=["reference"],
        summary="Labels and colours",
    )
    routes.add_api_route(
        "/health",
        health,
        methods=["GET"],
        response_model=HealthOut,
        tags=["reference"],
        summary="Health and model versions",
    )
    routes.add_api_route(
        "/metrics",
        metrics,
        methods=["GET"],
        tags=["reference"],
        summary="Metrics for Prometheus",
        response_class=Response,
        responses={200: {"description": "Prometheus text format.", "content": {"text/plain": {}}}},
    )
    for path, view in (("/", page), ("/corpus", corpus), ("/docs", docs)):
        routes.add_api_route(path, view, methods=["GET"], include_in_schema=False)
    return routes
