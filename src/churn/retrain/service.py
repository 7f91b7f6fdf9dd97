"""Tell the running service to switch models: ``POST <service_url>/admin/reload``.

The token comes from the environment (``CHURN_RELOAD_TOKEN``, the variable the service
was started with); the URL from ``retrain.promotion.service_url``. The service answers
once the new model serves (see ``churn.serve.reload``), with the time the load and the
switch took.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from churn.core.errors import ChurnError
from churn.serve.reload import RELOAD_PATH, RELOAD_TOKEN_ENV


class ServiceError(ChurnError):
    """The service could not be told to switch (not running, refused, failed to load)."""


@dataclass(frozen=True)
class Switch:
    previous_version: str
    model_version: str
    #: Loading and verifying the new model beside the old one (the service kept answering).
    load_seconds: float
    #: The switch itself (one assignment between two requests).
    switch_seconds: float
    #: The whole call, as the caller saw it.
    call_seconds: float

    def as_json(self) -> dict[str, Any]:
        return {
            "previous_version": self.previous_version,
            "model_version": self.model_version,
            "load_seconds": self.load_seconds,
            "switch_seconds": self.switch_seconds,
            "call_seconds": round(self.call_seconds, 6),
        }


def reload(url: str, rev: str | None, timeout: float = 300) -> Switch:
    """Ask the service at ``url`` to serve the model of git revision ``rev``."""
    token = os.environ.get(RELOAD_TOKEN_ENV)
    if not token:
        raise ServiceError(
            f"{RELOAD_TOKEN_ENV} is not set: the token the service was started with is needed "
            "to switch its model"
        )
    request = urllib.request.Request(
        url.rstrip("/") + RELOAD_PATH,
        data=json.dumps({"rev": rev}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        method="POST",
    )
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")
        with contextlib.suppress(ValueError, AttributeError):
            detail = json.loads(detail).get("detail", detail)
        raise ServiceError(
            f"the service at {url} refused to switch ({exc.code}): {detail}"
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        raise ServiceError(f"the service at {url} did not answer: {exc}") from None
    return Switch(
        previous_version=body["previous_version"],
        model_version=body["model_version"],
        load_seconds=float(body["load_seconds"]),
        switch_seconds=float(body["switch_seconds"]),
        call_seconds=time.perf_counter() - start,
    )
