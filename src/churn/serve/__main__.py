"""Serve the model over HTTP: ``python -m churn.serve`` (``make serve``).

Loads the workspace model (or, with ``--rev``, the model of a git revision, e.g. a
tag), verified against ``dvc.lock``; refuses to start, with a message saying what to
do, when the model is missing or does not match. Settings: ``serve`` in params.yaml.

With a token in the environment variable CHURN_RELOAD_TOKEN (16 characters or more), the
service also accepts ``POST /admin/reload`` from its own host with that token, and then
switches to the model of the revision named in the body without failing a request
(README, "Retraining"; ``python -m churn.retrain promote`` calls it).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import uvicorn

from churn.core.errors import ChurnError
from churn.core.params import ServeParams, load
from churn.serve import model_source
from churn.serve.app import create_app
from churn.serve.reload import RELOAD_TOKEN_ENV, Reloader


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m churn.serve", description=__doc__)
    p.add_argument("--root", type=Path, default=Path("."), help="repository root (default: .)")
    p.add_argument("--rev", help="serve the model of this git revision (tag, branch, sha)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    p.add_argument(
        "--prediction-log", type=Path, help="SQLite file (default: serve.prediction_log)"
    )
    p.add_argument("--log-level", default="info", help="uvicorn log level (default: info)")
    args = p.parse_args(argv)
    root = args.root.resolve()
    try:
        settings = load(ServeParams, root / "params.yaml")
        model = model_source.load(root, args.rev)
        log_path = args.prediction_log or root / settings.prediction_log
        reloader = None
        token = os.environ.get(RELOAD_TOKEN_ENV)
        if token:
            try:
                reloader = Reloader(token, lambda rev: model_source.load(root, rev))
            except ValueError as exc:
                raise ChurnError(str(exc)) from None
        app = create_app(model, settings, log_path, reloader)
    except ChurnError as exc:
        print(f"\n[serve] ERROR: {exc}\n[serve] the service did not start.\n", file=sys.stderr)
        return 1
    print(
        f"[serve] model {model.version} ({model.source}), threshold {model.threshold} "
        f"from {model.decision.source}",
        file=sys.stderr,
    )
    if reloader is not None:
        print(f"[serve] model reload enabled ({RELOAD_TOKEN_ENV} set)", file=sys.stderr)
    # One worker: the prediction log has one writer, and the model is loaded once.
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
