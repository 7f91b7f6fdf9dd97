"""What every entry point shares: argument parsing, logging and user-facing errors."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable

from churn.core.errors import ChurnError

log = logging.getLogger("churn")


def parser(module: str, doc: str | None) -> argparse.ArgumentParser:
    """An argument parser for ``python -m <module>`` whose help text is its docstring."""
    return argparse.ArgumentParser(
        prog=f"python -m {module}",
        description=(doc or "").strip(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def run(name: str, main: Callable[[argparse.Namespace], None], args: argparse.Namespace) -> None:
    """Run a stage: log its duration, and turn a user-caused error into a clear message.

    Errors that a user can cause (bad data, bad params, a failed quality gate)
    are printed without a traceback and exit with status 1, which stops
    ``dvc repro`` before any downstream stage runs. Anything else is a bug and
    keeps its traceback.
    """
    logging.basicConfig(level=logging.INFO, format=f"[{name}] %(message)s", stream=sys.stderr)
    start = time.perf_counter()
    try:
        main(args)
    except ChurnError as exc:
        print(f"\n[{name}] ERROR: {exc}\n", file=sys.stderr)
        raise SystemExit(1) from None
    log.info("done in %.2f s", time.perf_counter() - start)
