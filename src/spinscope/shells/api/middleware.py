"""What guards the HTTP layer: the request body cap, the API token and rate limit, and the
security headers of the pages."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, HTTPException
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ...io import MAX_BYTES
from .access import Access, RateLimiter, bearer_token, token_matches

# The page needs nothing from outside the app: scripts, styles and requests stay same-origin.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": PAGE_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
# The corpus report is self-contained: inline styles and SVG, no script at all.
CORPUS_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}


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


# --- the API token and the rate limit -----------------------------------------------------

#: What anyone may fetch on a server that asks for a token: the page, its files, the health
#: check and the API's documentation (whose Authorize button takes the token). Everything
#: else needs the token, including addresses added later and ones that do not exist.
PUBLIC_PATHS = frozenset({"/", "/health", "/docs", "/docs/oauth2-redirect", "/openapi.json"})
PUBLIC_PREFIXES = ("/static/", "/docs-assets/")
BEARER = 'Bearer realm="spinscope"'
_HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


def is_public(path: str) -> bool:
    """Whether ``path`` is served without a token and outside the rate limit."""
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


class AccessMiddleware:
    """Hold every request outside the public paths to the server's :class:`~.access.Access`:
    first the client's rate limit (429 with ``Retry-After``; guesses at the token count too),
    then the token (401 with ``WWW-Authenticate: Bearer``). Checked before the body is read."""

    def __init__(self, app: ASGIApp, access: Access | None = None):
        self.app = app
        self.access = access or Access()
        self.limiter = RateLimiter(self.access.rate_limit) if self.access.rate_limit else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or is_public(scope["path"]):
            await self.app(scope, receive, send)
            return
        refusal = self.refusal(scope)
        if refusal is None:
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":  # closing before accepting refuses the handshake
            await send({"type": "websocket.close", "code": 1008})
        else:
            await refusal(scope, receive, send)

    def refusal(self, scope: Scope) -> JSONResponse | None:
        """The answer that refuses this request, or ``None`` to let it through."""
        if self.limiter is not None:
            client = scope.get("client")
            wait = self.limiter.wait(client[0] if client else "")
            if wait:
                return JSONResponse(
                    {
                        "error": f"Too many requests from your address: at most {self.limiter.per_minute} a minute. "
                        f"Try again in {wait} second{'s' if wait > 1 else ''}."
                    },
                    status_code=429,
                    headers={"Retry-After": str(wait)},
                )
        if self.access.token is None:
            return None
        given = bearer_token(dict(scope["headers"]).get(b"authorization"))
        if given is None:
            message = (
                "This server needs an API token: send it in the header 'Authorization: Bearer <token>' "
                "(ask whoever runs the server for it)."
            )
            return JSONResponse({"error": message}, status_code=401, headers={"WWW-Authenticate": BEARER})
        if not token_matches(self.access.token, given):
            message = "The API token is wrong: send this server's token in the header 'Authorization: Bearer <token>'."
            challenge = f'{BEARER}, error="invalid_token"'
            return JSONResponse({"error": message}, status_code=401, headers={"WWW-Authenticate": challenge})
        return None


def document_access(app: FastAPI, access: Access) -> None:
    """Put ``access`` in the app's OpenAPI schema, and so in ``/docs``: the bearer scheme (the
    Authorize button) and the 401 and 429 answers of every operation that is not public."""
    if access.token is None and access.rate_limit is None:
        return  # a schema asking for a token the server ignores would mislead its clients
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _with_access(build(), access)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _error_answer(description: str, header: str, header_schema: dict[str, Any]) -> dict[str, Any]:
    error = {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]}
    return {
        "description": description,
        "headers": {header: {"schema": header_schema}},
        "content": {"application/json": {"schema": error}},
    }


def _with_access(schema: dict[str, Any], access: Access) -> dict[str, Any]:
    notes = []
    if access.token is not None:
        schema.setdefault("components", {}).setdefault("securitySchemes", {})["APIToken"] = {
            "type": "http",
            "scheme": "bearer",
            "description": "The token the server was started with, sent as 'Authorization: Bearer <token>'.",
        }
        notes.append(
            "Every call but /health needs the server's token in the header `Authorization: Bearer <token>` "
            "(the Authorize button below)."
        )
    if access.rate_limit is not None:
        notes.append(
            f"Each client address may make {access.rate_limit} calls a minute (a token bucket): "
            "more get 429 with Retry-After."
        )
    unauthorized = _error_answer("No API token, or a wrong one.", "WWW-Authenticate", {"type": "string"})
    limited = _error_answer(
        "Too many requests from this address: wait the seconds Retry-After gives.", "Retry-After", {"type": "integer"}
    )
    for path, operations in schema.get("paths", {}).items():
        if is_public(path):
            continue
        for method, operation in operations.items():
            if method not in _HTTP_METHODS:
                continue
            responses = operation.setdefault("responses", {})
            if access.token is not None:
                operation["security"] = [{"APIToken": []}]
                responses["401"] = unauthorized
            if access.rate_limit is not None:
                responses["429"] = limited
    info = schema.setdefault("info", {})
    info["description"] = " ".join([info.get("description", ""), *notes]).strip()
    return schema
