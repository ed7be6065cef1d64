"""How failures become answers: every error is a JSON object ``{"error": "one clear sentence"}``.

This is the one place where a library error gets an HTTP status (:data:`ERROR_STATUSES`): the
library says what went wrong (:mod:`spinscope.errors`), the API says how HTTP names it. The
sentences are the library's own; refused requests (bad JSON, a wrong field) get sentences of
their own that never echo the input.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ...errors import (
    FetchError,
    FetchTimeoutError,
    InputError,
    InvalidURLError,
    NoArticleError,
    NotFoundError,
    NotTextError,
    RefusedURLError,
    SpinscopeError,
    StoreError,
    TooLargeError,
)

log = logging.getLogger("spinscope.api")

#: The HTTP status of each kind of library error: the first class the error is an instance of
#: wins, so a kind comes before the kinds it refines (a page too large is a FetchError too).
ERROR_STATUSES: tuple[tuple[type[SpinscopeError], int], ...] = (
    (InvalidURLError, 400),
    (RefusedURLError, 403),
    (NotFoundError, 404),
    (TooLargeError, 413),
    (NotTextError, 415),
    (NoArticleError, 422),
    (FetchTimeoutError, 504),
    (FetchError, 502),
    (InputError, 400),
    (StoreError, 400),
    (SpinscopeError, 500),
)
#: What an analysis request can be refused with; documented for each analysis route.
ANALYSIS_ERROR_STATUSES = (400, 403, 413, 415, 422, 502, 504)
#: Starlette's own messages for these say too little.
_HTTP_MESSAGES = {
    "Not Found": "No such address: the API lives under /api/v1 (see /docs) and the page at /.",
    "Method Not Allowed": "This address does not accept that HTTP method: see /docs.",
    "There was an error parsing the body": (
        "The request body could not be parsed: send JSON to /api/v1/analyze, or "
        "multipart/form-data with a 'file' field to /api/v1/analyze/file."
    ),
}


def status_of(error: SpinscopeError) -> int:
    """The HTTP status that answers ``error``."""
    return next(status for kind, status in ERROR_STATUSES if isinstance(error, kind))


def error_response(status: int, message: str, **extra) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def sentence(message: str) -> str:
    """``message`` as a sentence: capitalised, ending with a full stop."""
    message = message.strip().removesuffix(".")
    if not message:
        return "The request could not be handled."
    return message[:1].upper() + message[1:] + ("" if message[-1] in "?!" else ".")


def _field(loc: tuple) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "form")]
    return ".".join(parts)


def describe(error: dict) -> str:
    """One sentence for one pydantic validation error (never echoing the input itself)."""
    kind, loc, ctx = error.get("type", ""), tuple(error.get("loc", ())), error.get("ctx") or {}
    field = _field(loc)
    if kind == "json_invalid":
        where = f" at character {loc[1]}" if len(loc) > 1 else ""
        return (
            f"The request body is not valid JSON ({ctx.get('error', 'decode error')}{where}): "
            'send a JSON object such as {"text": "..."}.'
        )
    if kind in ("model_attributes_type", "model_type", "dict_type", "missing") and not field:
        return (
            'The request body must be a JSON object such as {"text": "..."}, sent with Content-Type: application/json.'
        )
    if kind == "extra_forbidden":
        return f"Unknown field {field!r}: send exactly one of text, url or html, and optionally lang."
    if kind == "missing":
        return f"The field {field!r} is required."
    if kind == "string_type":
        return f"The field {field!r} must be a string."
    if kind == "value_error":
        return sentence(str(error.get("msg", "")).removeprefix("Value error, "))
    if kind == "string_too_long":
        return f"The field {field!r} is too long (at most {ctx.get('max_length')} characters)."
    message = str(error.get("msg", "invalid value"))
    return f"The field {field!r}: {message}." if field else sentence(message)


async def on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = list(exc.errors())
    sentences = list(dict.fromkeys(describe(e) for e in errors))
    details = [{"loc": list(e.get("loc", ())), "type": e.get("type"), "msg": e.get("msg")} for e in errors]
    return error_response(422, " ".join(sentences) or "The request is not valid.", details=details)


async def on_http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    message = _HTTP_MESSAGES.get(str(exc.detail), str(exc.detail))
    return JSONResponse({"error": message}, status_code=exc.status_code, headers=getattr(exc, "headers", None))


async def on_spinscope_error(request: Request, exc: SpinscopeError) -> JSONResponse:
    return error_response(status_of(exc), sentence(str(exc)))


async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    # The server logs the traceback too (Starlette re-raises after answering); never the client.
    log.error("unexpected %s on %s %s: %s", type(exc).__name__, request.method, request.url.path, exc)
    return error_response(
        500,
        "Internal error: spinscope could not analyse this request. It has been logged; please try again or report it.",
    )


def add_error_handlers(app: FastAPI) -> None:
    """Answer every failure of ``app`` with a JSON error."""
    # As decorators: add_exception_handler() is typed for handlers of any Exception only.
    app.exception_handler(RequestValidationError)(on_validation_error)
    app.exception_handler(StarletteHTTPException)(on_http_error)
    app.exception_handler(SpinscopeError)(on_spinscope_error)
    app.exception_handler(Exception)(on_unexpected)
