"""Switching the served model while the service runs: ``POST /admin/reload``.

Why a reload endpoint rather than a restart behind the health checks: the service is one
process that owns the prediction log's only writer (SQLite has one writer) and there is no
load balancer in front of it to drain one instance while another starts. A restart drops
the connections in flight and refuses new ones until the model is loaded; a reload loads
and verifies the new model *beside* the old one (which keeps answering), then switches in
one assignment between two requests. A revision that cannot be loaded (unknown, not in the
DVC cache, a model that does not match its ``dvc.lock``) leaves the old model serving.

Protected from the public twice over:

* the endpoint exists only when the service was started with a token in the environment
  variable ``RELOAD_TOKEN_ENV``; a request must carry it (``Authorization: Bearer ...``,
  compared in constant time);
* only a client on the loopback interface may call it (an operator or the retraining
  command on the same host), whatever the address the service listens on.

It is left out of the OpenAPI document: it is an operator's endpoint, not the product's.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi import Request
from fastapi.responses import JSONResponse

if TYPE_CHECKING:
    from churn.serve.model_source import ServedModel
    from churn.serve.predictor import MicroBatcher

RELOAD_PATH = "/admin/reload"
#: The environment variable holding the reload token (no token: no reload endpoint).
RELOAD_TOKEN_ENV = "CHURN_RELOAD_TOKEN"
#: Client addresses allowed to reload (the loopback interface).
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
#: Shortest token accepted (a short one could be guessed).
MIN_TOKEN_LENGTH = 16


@dataclass(frozen=True)
class Reloader:
    """How the service loads another model: ``load(rev)`` (``None``: the workspace)."""

    token: str
    load: Callable[[str | None], ServedModel]

    def __post_init__(self) -> None:
        if len(self.token) < MIN_TOKEN_LENGTH:
            raise ValueError(
                f"the reload token ({RELOAD_TOKEN_ENV}) must have at least "
                f"{MIN_TOKEN_LENGTH} characters"
            )

    def refuse(self, request: Request) -> JSONResponse | None:
        """403 for a client off the loopback interface, 401 without the token; else None."""
        host = request.client.host if request.client else ""
        if host not in LOOPBACK:
            return JSONResponse(
                {"detail": "reloading the model is allowed from the service's host only"},
                status_code=403,
            )
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), self.token.encode()
        ):
            return JSONResponse(
                {"detail": f"a token is required: Authorization: Bearer ${RELOAD_TOKEN_ENV}"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        return None

    @staticmethod
    async def revision(request: Request) -> str | JSONResponse | None:
        """The revision the body names (``{"rev": "<tag or commit>"}``; null: the workspace)."""
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("rev", ""), str | None):
            return JSONResponse(
                {"detail": 'expected a JSON body {"rev": "<git revision>"} (null: the workspace)'},
                status_code=422,
            )
        return body.get("rev")


async def retire(batcher: MicroBatcher, poll: float = 0.01, patience: float = 60.0) -> None:
    """Close ``batcher`` once the requests that hold it are answered."""
    waited = 0.0
    while not batcher.idle and waited < patience:
        await asyncio.sleep(poll)
        waited += poll
    await asyncio.to_thread(batcher.close)
