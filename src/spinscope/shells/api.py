"""The REST API and the web page: a thin HTTP shell over :class:`~spinscope.pipeline.Analyzer`.

``create_app()`` builds the FastAPI application; ``serve()`` runs it with uvicorn. The
Analyzer loads once per process (in the lifespan) and every analysis runs in a worker
thread, so the event loop keeps answering while the CPU embeds paragraphs.

Every answer to bad input is a 4xx JSON object ``{"error": "one clear sentence"}``: the
sentences are those of the library's errors (:mod:`spinscope.errors`) where they exist. The
API never re-labels anything: ``POST /api/v1/analyze`` returns exactly
``Analysis.to_dict()``, the same JSON as ``spinscope analyze --format json``.
"""
from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from fastapi import FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import __version__, taxonomy
from ..corpus.report import corpus_data, report_html
from ..document import Article
from ..errors import InputError, SpinscopeError, StoreError
from ..io import HTML_SUFFIXES, MAX_BYTES, MAX_CHARS, article_from_bytes, load_url, normalise_language, with_language
from ..pipeline import Analyzer, model_folder
from .render import GROUP_COLOURS, ROLE_COLOURS

log = logging.getLogger("spinscope.api")

WEB_DIR = Path(__file__).parent / "web"
#: Environment variable through which ``serve(workers>1)`` tells each worker its model folder.
DB_ENV = "SPINSCOPE_DB"
MODELS_ENV = "SPINSCOPE_MODELS"
# The page needs nothing from outside the app: scripts, styles and requests stay same-origin.
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
            "frame-ancestors 'none'")


# --- schemas --------------------------------------------------------------------------------

GenreName = Literal[taxonomy.GENRE_NAMES]
FrameName = Literal[taxonomy.FRAME_NAMES]
TechniqueName = Literal[taxonomy.TECHNIQUE_NAMES]
NarrativeName = Literal[taxonomy.NARRATIVE_NAMES]
SubnarrativeName = Literal[taxonomy.SUBNARRATIVE_NAMES]
RoleName = Literal[taxonomy.ROLE_NAMES]
FineRoleName = Literal[taxonomy.FINE_ROLE_NAMES]
Score = Field(ge=0.0, le=1.0, description="Model probability, 0 to 1.")


class AnalyzeRequest(BaseModel):
    """One article to analyse: exactly one of ``text``, ``url`` or ``html``."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {"text": "A headline on the first line\n\nThe first paragraph of the article.\nThe second one."},
                {"url": "https://example.org/news/some-article", "lang": "en"},
            ],
            # The rule of _exactly_one_source, stated for clients generated from the schema.
            "oneOf": [{"required": [name], "properties": {name: {"type": "string"}}} for name in ("text", "url", "html")],
        },
    )

    text: str | None = Field(None, description=(
        f"The article as plain text, at most {MAX_CHARS:,} characters: the first line is the title, "
        "then one paragraph per line."))
    url: str | None = Field(None, max_length=8192, description=(
        "An http(s) address of a public web page; its main text is extracted. Private and "
        "internal addresses are refused."))
    html: str | None = Field(None, description="The HTML of a web page; its main text is extracted.")
    lang: str | None = Field(None, max_length=16, description=(
        "ISO 639-1 language code such as en, fr or de; detected when omitted."))

    @model_validator(mode="after")
    def _exactly_one_source(self) -> "AnalyzeRequest":
        given = [name for name in ("text", "url", "html") if getattr(self, name) is not None]
        if len(given) != 1:
            found = f"got {' and '.join(given)}" if given else "got none"
            raise ValueError(f"give exactly one of text, url or html ({found})")
        return self


def _scored(name: str, label_type) -> type[BaseModel]:
    """A ``{label, score}`` schema whose label is one of ``label_type``; named for the OpenAPI docs."""
    return create_model(name, label=(label_type, ...), score=(float, Score))


ScoredTechnique = _scored("ScoredTechnique", TechniqueName)
ScoredFrame = _scored("ScoredFrame", FrameName)
ScoredSubnarrative = _scored("ScoredSubnarrative", SubnarrativeName)
ScoredFineRole = _scored("ScoredFineRole", FineRoleName)


class GenreOut(BaseModel):
    label: GenreName
    scores: dict[GenreName, float]


class OffsetsOut(BaseModel):
    start: int = Field(ge=0)
    end: int = Field(ge=0)


class ParagraphOut(BaseModel):
    line: int = Field(ge=1, description="1-based line number in ``text``.")
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    techniques: list[ScoredTechnique]


class SpanOut(BaseModel):
    technique: TechniqueName
    start: int = Field(ge=0, description="Offset into ``text`` (Unicode code points), inclusive.")
    end: int = Field(ge=0, description="Offset into ``text`` (Unicode code points), exclusive.")
    text: str
    score: float = Score


class NarrativeOut(BaseModel):
    label: NarrativeName
    score: float = Score
    subnarratives: list[ScoredSubnarrative] = Field(description="Its sub-narratives in the article, best first.")


class MentionOut(BaseModel):
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    text: str


class EntityOut(BaseModel):
    name: str
    role: RoleName
    score: float = Score
    fine_roles: list[ScoredFineRole] = Field(description="Fine roles of the main role.")
    start: int = Field(ge=0, description="The mention the role rests on: its start in ``text``.")
    end: int = Field(ge=0, description="The mention the role rests on: its end (exclusive).")
    mentions: list[MentionOut] = Field(description="Every mention of this name that was found.")


class AnalysisOut(BaseModel):
    """Mirror of :class:`spinscope.pipeline.Analysis`; every offset indexes ``text``."""

    model_config = ConfigDict(extra="forbid")

    text: str
    language: str | None
    title: OffsetsOut | None
    genre: GenreOut
    frames: list[ScoredFrame] = Field(description="The frames above their thresholds, best first.")
    paragraphs: list[ParagraphOut]
    spans: list[SpanOut]
    models: dict[str, Any] = Field(description="Version and cross-validation scores of each model.")
    id: str
    frame_scores: dict[FrameName, float] = Field(description="The score of every frame.")
    narratives: list[NarrativeOut] = Field(description="Narratives the article pushes, best first (SemEval-2025).")
    entities: list[EntityOut] = Field(description="Named entities and the role the article casts them in.")


class LabelOut(BaseModel):
    name: str
    title: str
    group: str
    definition: str


class GroupOut(BaseModel):
    name: str
    colour: str = Field(description="CSS colour used to highlight this group's techniques.")


class TaxonomyOut(BaseModel):
    genres: list[LabelOut]
    frames: list[LabelOut]
    techniques: list[LabelOut]
    narratives: list[LabelOut]
    subnarratives: list[LabelOut] = Field(description="Each sub-narrative's group is its narrative.")
    roles: list[LabelOut]
    fine_roles: list[LabelOut] = Field(description="Each fine role's group is its main role.")
    technique_groups: list[GroupOut]
    role_colours: list[GroupOut]


class HealthOut(BaseModel):
    status: Literal["ok"]
    version: str
    models: dict[str, Any]


class ErrorOut(BaseModel):
    error: str = Field(description="One sentence saying what was wrong and what to do.")
    details: list[dict[str, Any]] | None = None


ERRORS = {status: {"model": ErrorOut} for status in (400, 403, 413, 415, 422, 502, 504)}


# --- the request body cap -----------------------------------------------------------------

class BodyTooLarge(HTTPException):
    # fastapi's HTTPException: FastAPI re-raises it from body parsing instead of turning it into a 400.
    def __init__(self, limit: int):
        super().__init__(413, f"The request body is larger than {limit:,} bytes; send a shorter article.")


class BodyLimitMiddleware:
    """Refuse request bodies over ``limit`` bytes with a 413, before the app reads them.

    A declared Content-Length over the limit is refused without reading anything; a body
    without one (chunked) is counted while it streams and refused once it passes the limit.
    """

    def __init__(self, app: ASGIApp, limit: int = MAX_BYTES):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                await _send_error(scope, receive, send, 400, "The Content-Length header is not a number.")
                return
            if int(declared) > self.limit:
                await _send_error(scope, receive, send, 413, BodyTooLarge(self.limit).detail)
                return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge as error:  # raised where no exception handler caught it
            if started:
                raise
            await _send_error(scope, receive, send, 413, error.detail)


async def _send_error(scope: Scope, receive: Receive, send: Send, status: int, message: str) -> None:
    await JSONResponse({"error": message}, status_code=status)(scope, receive, send)


# --- error handlers -------------------------------------------------------------------------

def _error(status: int, message: str, **extra) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def _sentence(message: str) -> str:
    """``message`` as a sentence: capitalised, ending with a full stop."""
    message = message.strip().removesuffix(".")
    if not message:
        return "The request could not be handled."
    return message[:1].upper() + message[1:] + ("" if message[-1] in "?!" else ".")


def _field(loc: tuple) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "form")]
    return ".".join(parts)


def _describe(error: dict) -> str:
    """One sentence for one pydantic validation error (never echoing the input itself)."""
    kind, loc, ctx = error.get("type", ""), tuple(error.get("loc", ())), error.get("ctx") or {}
    field = _field(loc)
    if kind == "json_invalid":
        where = f" at character {loc[1]}" if len(loc) > 1 else ""
        return (f"The request body is not valid JSON ({ctx.get('error', 'decode error')}{where}): "
                'send a JSON object such as {"text": "..."}.')
    if kind in ("model_attributes_type", "model_type", "dict_type", "missing") and not field:
        return ('The request body must be a JSON object such as {"text": "..."}, '
                "sent with Content-Type: application/json.")
    if kind == "extra_forbidden":
        return f"Unknown field {field!r}: send exactly one of text, url or html, and optionally lang."
    if kind == "missing":
        return f"The field {field!r} is required."
    if kind == "string_type":
        return f"The field {field!r} must be a string."
    if kind == "value_error":
        return _sentence(str(error.get("msg", "")).removeprefix("Value error, "))
    if kind == "string_too_long":
        return f"The field {field!r} is too long (at most {ctx.get('max_length')} characters)."
    message = str(error.get("msg", "invalid value"))
    return f"The field {field!r}: {message}." if field else _sentence(message)


async def _on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = list(exc.errors())
    sentences = list(dict.fromkeys(_describe(e) for e in errors))
    details = [{"loc": list(e.get("loc", ())), "type": e.get("type"), "msg": e.get("msg")} for e in errors]
    return _error(422, " ".join(sentences) or "The request is not valid.", details=details)


_HTTP_MESSAGES = {
    404: "No such address: the API lives under /api/v1 (see /docs) and the page at /.",
    405: "This address does not accept that HTTP method: see /docs.",
}


async def _on_http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    message = str(exc.detail)
    if message in ("Not Found", "Method Not Allowed"):  # Starlette's defaults say too little
        message = _HTTP_MESSAGES[exc.status_code]
    elif message == "There was an error parsing the body":
        message = ("The request body could not be parsed: send JSON to /api/v1/analyze, or "
                   "multipart/form-data with a 'file' field to /api/v1/analyze/file.")
    return JSONResponse({"error": message}, status_code=exc.status_code, headers=getattr(exc, "headers", None))


async def _on_spinscope_error(request: Request, exc: SpinscopeError) -> JSONResponse:
    return _error(exc.status, _sentence(str(exc)))


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    # The server logs the traceback too (Starlette re-raises after answering); never the client.
    log.error("unexpected %s on %s %s: %s", type(exc).__name__, request.method, request.url.path, exc)
    return _error(500, "Internal error: spinscope could not analyse this request. It has been logged; "
                       "please try again or report it.")


# --- analysis -------------------------------------------------------------------------------

class _Service:
    """What the routes need: the Analyzer, and a lock so one analysis runs at a time.

    The lock keeps a process from running two embeddings at once (they would only compete
    for the same cores) and spares the Analyzer from having to be thread-safe.
    """

    def __init__(self, analyzer):
        self.analyzer = analyzer
        self.lock = threading.Lock()

    def analyze(self, make_article: Callable[[], Article], lang: str | None) -> dict:
        language = normalise_language(lang) if lang else None  # fail before any fetch
        article = with_language(make_article(), language)
        with self.lock:
            analysis = self.analyzer.analyze(article)
        return analysis.to_dict()


def _from_text(value: str, source: str, html: bool | None) -> Callable[[], Article]:
    def make() -> Article:
        try:
            data = value.encode("utf-8")
        except UnicodeEncodeError:
            raise InputError(f"{source} contains invalid Unicode (a lone surrogate escape such as \\ud800): "
                             "send well-formed text") from None
        return article_from_bytes(data, source, html=html)

    return make


def _service(request: Request) -> _Service:
    return request.app.state.service


def _warm_up(analyzer) -> None:
    """Load the language detector (and the embedding model, unless cached) before the first request."""
    article = with_language(Article("Warm-up\n\nThis paragraph only loads the models.\n"), None)
    analyzer.analyze(article)


# --- the application ------------------------------------------------------------------------

def create_app(analyzer=None, models: Path | str | None = None, db: Path | str | None = None) -> FastAPI:
    """The spinscope web application.

    ``analyzer`` is any object with ``analyze(article) -> Analysis`` (tests inject one);
    when omitted, an :class:`~spinscope.pipeline.Analyzer` is loaded from ``models`` (the
    shipped models by default) once, when the application starts. ``db`` is a corpus
    database (``spinscope batch``) shown at ``/corpus``.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if analyzer is None:
            loaded = await run_in_threadpool(Analyzer, models)
            await run_in_threadpool(_warm_up, loaded)
            app.state.service = _Service(loaded)
        else:
            app.state.service = _Service(analyzer)
        log.info("spinscope %s ready", __version__)
        yield

    app = FastAPI(
        title="spinscope",
        version=__version__,
        summary="See how a news article tries to persuade: genre, frames, persuasion techniques and spans.",
        description=(f"Send one article (text, HTML or a public URL; at most {MAX_CHARS:,} characters, "
                     f"request bodies at most {MAX_BYTES:,} bytes). Errors are JSON: "
                     '`{"error": "what was wrong and what to do"}`.'),
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.add_middleware(BodyLimitMiddleware, limit=MAX_BYTES)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(SpinscopeError, _on_spinscope_error)
    app.add_exception_handler(Exception, _on_unexpected)

    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")
    app.mount("/docs-assets", StaticFiles(directory=_swagger_assets()), name="docs-assets")

    @app.post("/api/v1/analyze", response_model=None, tags=["analysis"], summary="Analyse text, HTML or a URL",
              responses={200: {"model": AnalysisOut, "description": "The Analysis of the article."}, **ERRORS})
    async def analyze(body: AnalyzeRequest, request: Request) -> JSONResponse:
        """Analyse one article given as text, HTML or a public http(s) URL.

        Returns the same JSON as `spinscope analyze --format json`.
        """
        if body.url is not None:
            url = body.url

            def make() -> Article:
                return load_url(url)
        elif body.html is not None:
            make = _from_text(body.html, "the html field", html=True)
        else:
            make = _from_text(body.text, "the text field", html=False)
        result = await run_in_threadpool(_service(request).analyze, make, body.lang)
        return JSONResponse(result)

    @app.post("/api/v1/analyze/file", response_model=None, tags=["analysis"], summary="Analyse an uploaded file",
              responses={200: {"model": AnalysisOut, "description": "The Analysis of the article."}, **ERRORS})
    async def analyze_file(
        request: Request,
        file: UploadFile = File(description="A .txt or .html article (UTF-8 preferred), at most 2 MB."),
        lang: str | None = Form(None, max_length=16, description="ISO 639-1 language code; detected when omitted."),
    ) -> JSONResponse:
        """Analyse one uploaded text or HTML file."""
        name = Path(file.filename or "upload").name[:100]
        data = await file.read(MAX_BYTES + 1)
        html = Path(name).suffix.lower() in HTML_SUFFIXES or None
        stem = Path(name).stem

        def make() -> Article:
            return article_from_bytes(data, f"the uploaded file {name!r}", html=html, id=stem)

        result = await run_in_threadpool(_service(request).analyze, make, lang or None)
        return JSONResponse(result)

    @app.get("/api/v1/taxonomy", response_model=TaxonomyOut, tags=["reference"], summary="Labels and colours")
    async def get_taxonomy() -> dict:
        """Every label with its definition, and the colour of each technique group."""
        groups = [{"name": group, "colour": GROUP_COLOURS[group]} for group in taxonomy.TECHNIQUE_GROUPS]
        roles = [{"name": role, "colour": colour} for role, colour in ROLE_COLOURS.items()]
        return taxonomy.as_dict() | {"technique_groups": groups, "role_colours": roles}

    @app.get("/health", response_model=HealthOut, tags=["reference"], summary="Health and model versions")
    async def health(request: Request) -> dict:
        """Answers once the models are loaded."""
        info = getattr(_service(request).analyzer, "model_info", {})
        return {"status": "ok", "version": __version__, "models": info if isinstance(info, dict) else {}}

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(WEB_DIR / "index.html", media_type="text/html",
                            headers={"Content-Security-Policy": PAGE_CSP, "X-Content-Type-Options": "nosniff",
                                     "Referrer-Policy": "no-referrer", "Cache-Control": "no-cache"})

    @app.get("/corpus", include_in_schema=False)
    async def corpus() -> HTMLResponse:
        """The corpus report of the database given to ``spinscope serve --db``."""
        if db is None:
            raise HTTPException(404, "no corpus database: start the server with `spinscope serve --db corpus.sqlite`")
        html = await run_in_threadpool(lambda: report_html(corpus_data(db)))
        # The report is self-contained: inline styles and SVG, no script at all.
        return HTMLResponse(html, headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                                                                      "img-src data:; frame-ancestors 'none'",
                                           "X-Content-Type-Options": "nosniff"})

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=app.openapi_url, title="spinscope API",
                                   swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/static/favicon.svg",
                                   # No validator badge: it would be fetched from swagger.io.
                                   swagger_ui_parameters={"validatorUrl": None})

    return app


def _swagger_assets() -> Path:
    """Swagger UI's script and stylesheet, shipped by the ``fastapi-offline`` package."""
    return Path(str(resources.files("fastapi_offline") / "static"))


def app_from_env() -> FastAPI:
    """Application factory for uvicorn workers: models and corpus from ``$SPINSCOPE_MODELS``/``$SPINSCOPE_DB``."""
    return create_app(models=os.environ.get(MODELS_ENV) or None, db=os.environ.get(DB_ENV) or None)


def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 1, models: Path | None = None,
          db: Path | None = None) -> None:
    """Run the API and the page with uvicorn; each worker process loads the models once."""
    import uvicorn  # the server itself: only when serving

    folder = model_folder(models)
    if db is not None and not Path(db).is_file():
        raise StoreError(f"no corpus database at {db}: analyse a corpus into it first", 404)
    if workers <= 1:
        uvicorn.run(create_app(models=folder, db=db), host=host, port=port)
    else:
        os.environ[MODELS_ENV] = str(folder)
        if db is not None:
            os.environ[DB_ENV] = str(db)
        uvicorn.run("spinscope.shells.api:app_from_env", factory=True, host=host, port=port, workers=workers)
