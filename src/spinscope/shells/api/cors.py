"""Cross-origin access for the browser extension, and for the origins the person serving lists.

The extension (``extension/``) runs at its own origin and calls the API from there: Chromium
gives it ``chrome-extension://<id>``, where the id comes from the public key in its manifest
(:data:`EXTENSION_ID`); Firefox gives every installation a random ``moz-extension://<uuid>``,
which its user lists with ``spinscope serve --allow-origin`` (the extension's options page
shows the exact command). Nothing else gets a grant: never ``*``, never an origin that was not
listed, and an Origin that is not allowed gets no ``Access-Control-*`` header at all.

A preflight (``OPTIONS`` with ``Access-Control-Request-Method``) carries no ``Authorization``
header, so :class:`CorsMiddleware` answers it before the token check and the rate limit; a
preflight from any other origin is refused (403) and grants nothing. Actual requests go on to
the API's usual rules (token, rate limit, body cap, queue): this module only adds the grant to
their answers, refusals included, so the extension can read why it was refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ...errors import InputError
from .errors import on_unexpected

#: The extension's id in Chromium: derived from the ``key`` in ``extension/manifest.json``
#: (the first 32 hex digits of the SHA-256 of that public key, written with the letters a-p).
EXTENSION_ID = "bohgfjhfmbombaijfaicaichfpnighgp"
#: The origins granted by default: the extension loaded unpacked or installed in Chromium.
EXTENSION_ORIGINS = (f"chrome-extension://{EXTENSION_ID}",)
#: What a cross-origin client may do: read and analyse, sending the token and JSON.
ALLOWED_METHODS = ("GET", "POST")
ALLOWED_HEADERS = ("authorization", "content-type")
#: Answers the extension reads beyond the CORS-safelisted ones (how long to wait on 429 and 503).
EXPOSED_HEADERS = ("Retry-After", "WWW-Authenticate")
#: How long a browser may keep a preflight's answer, in seconds.
PREFLIGHT_MAX_AGE = 600

_ORIGIN = re.compile(
    r"(?P<scheme>[a-z][a-z0-9+.-]*)://(?P<host>[a-z0-9.\-_~%]+|\[[0-9a-f:.]+\])(?::(?P<port>\d{1,5}))?"
)


def check_origin(origin: str) -> str:
    """``origin`` as browsers send it in the ``Origin`` header (``scheme://host[:port]``,
    lower case), or an :class:`~spinscope.errors.InputError` that says what is wrong with it."""
    given = origin.strip()
    if "*" in given:
        raise InputError(f"the origin {origin!r} has a wildcard: list each origin in full, e.g. https://example.org")
    candidate = given.lower().removesuffix("/")
    match = _ORIGIN.fullmatch(candidate)
    if match is None:
        raise InputError(
            f"{origin!r} is not an origin: give scheme://host[:port] with nothing after it, "
            "e.g. moz-extension://1b2c3d4e-aaaa-bbbb-cccc-0123456789ab or http://localhost:3000"
        )
    port = match["port"]
    if port is not None and not 0 < int(port) < 65536:
        raise InputError(f"the origin {origin!r} has the port {port}, which is not between 1 and 65535")
    return candidate


def allowed_origins(extra: Iterable[str] = ()) -> frozenset[str]:
    """The extension's own origins and ``extra`` (each checked with :func:`check_origin`)."""
    return frozenset((*EXTENSION_ORIGINS, *(check_origin(origin) for origin in extra)))


class CorsMiddleware:
    """Grant cross-origin access to ``origins`` only (see the module's notes)."""

    def __init__(self, app: ASGIApp, origins: Iterable[str] = EXTENSION_ORIGINS):
        self.app = app
        self.origins = frozenset(origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        origin = headers.get(b"origin", b"").decode("latin-1")
        if scope["method"] == "OPTIONS" and origin and b"access-control-request-method" in headers:
            await self.preflight(origin, headers)(scope, receive, send)
            return
        if origin not in self.origins:
            await self.app(scope, receive, send)
            return

        started = False

        async def granting_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                answer = MutableHeaders(scope=message)
                answer["Access-Control-Allow-Origin"] = origin
                answer["Access-Control-Expose-Headers"] = ", ".join(EXPOSED_HEADERS)
                answer.add_vary_header("Origin")
            await send(message)

        try:
            await self.app(scope, receive, granting_send)
        except Exception as error:
            # Starlette answers an unexpected error outside every middleware, without the grant:
            # the extension could not read it and would take the server for stopped. Answer it
            # here, as the app's handler does, then let the error go on to be logged as before.
            if not started:
                await (await on_unexpected(Request(scope), error))(scope, receive, granting_send)
            raise

    def preflight(self, origin: str, headers: dict[bytes, bytes]) -> Response:
        """The answer to a preflight from ``origin``: a grant, or a refusal that grants nothing."""
        method = headers[b"access-control-request-method"].decode("latin-1").strip().upper()
        asked = headers.get(b"access-control-request-headers", b"").decode("latin-1")
        extra = {name.strip().lower() for name in asked.split(",") if name.strip()} - set(ALLOWED_HEADERS)
        if origin not in self.origins or method not in ALLOWED_METHODS or extra:
            reason = (
                f"the origin {origin} may not call this API: start the server with --allow-origin {origin} to allow it"
                if origin not in self.origins
                else f"cross-origin calls may use {' and '.join(ALLOWED_METHODS)} with the headers "
                "Authorization and Content-Type only"
            )
            return JSONResponse({"error": reason}, status_code=403, headers={"Vary": "Origin"})
        grant = {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": ", ".join(ALLOWED_METHODS),
            "Access-Control-Allow-Headers": "Authorization, Content-Type",
            "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE),
            "Vary": "Origin",
        }
        if headers.get(b"access-control-request-private-network") == b"true":
            # Chromium asks before a page reaches a loopback server; the origin is one we grant.
            grant["Access-Control-Allow-Private-Network"] = "true"
        return Response(status_code=204, headers=grant)
