"""A bound on the request body: refused with 413 before it is read, not after.

Without it a 48 MB ``/predict/batch`` body was read, parsed and validated in full
(seconds of CPU) before the batch limit refused it. A declared ``Content-Length``
above the limit is answered at once, without reading a byte of the body; a body
without one (chunked) is counted while the app reads it, and refused as soon as it
passes the limit. Pure ASGI middleware, like ``metrics.MetricsMiddleware``.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse


def too_large(limit: int, size: int | None = None) -> str:
    """The 413 message: what was wrong, the limit and what to do."""
    body = (
        f"request body of {size:,} bytes (Content-Length)"
        if size is not None
        else ("request body (refused while it was read)")
    )
    return (
        f"{body} is larger than the limit of {limit:,} bytes (serve.max_request_bytes): "
        "send at most serve.max_batch_size customers per request, a larger batch as "
        "several requests"
    )


class BodyTooLarge(HTTPException):
    """Raised while the app reads a body that passed the limit: answered 413 as JSON."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=too_large(limit), headers={"Connection": "close"})


class BodyLimitMiddleware:
    """Refuse HTTP request bodies larger than ``max_bytes`` with 413 and a JSON body."""

    def __init__(self, app, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        # The server (h11/httptools) has already refused a malformed Content-Length.
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            response = JSONResponse(
                {"detail": too_large(self.max_bytes, int(declared))},
                status_code=413,
                headers={"Connection": "close"},  # the unread body is not drained
            )
            await response(scope, receive, send)
            return
        received = 0

        async def bounded_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # An HTTPException: FastAPI's body reader re-raises it as it is, and
                    # the app's exception handlers answer it (413, JSON).
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, bounded_receive, send)
