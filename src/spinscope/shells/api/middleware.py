"""What guards the HTTP layer: the request body cap, and the security headers of the pages."""

from __future__ import annotations

from fastapi import HTTPException
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ...io import MAX_BYTES

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
