"""Fingerprint the configured source (params.yaml: collect.source) for DVC.

DVC hashes files but cannot hash a database or an API. This stage runs on every
`dvc repro` (always_changed) and writes a small JSON fingerprint of the source's
data; `collect` depends on it, so a changed file, table or API reruns `collect`,
and an unchanged one leaves the fingerprint's bytes, and so everything
downstream, as they were. Credentials never enter the fingerprint.
"""

from pathlib import Path

from churn.config import CollectParams, load_section
from churn.io import write_json
from churn.sources import describe, fingerprint
from churn.stage import log, parser, run


def main(args) -> None:
    params: CollectParams = load_section("collect")
    write_json(fingerprint(params.source), args.output)
    log.info("fingerprinted %s (%s)", describe(params.source), params.source.kind)


if __name__ == "__main__":
    p = parser("source_state", __doc__)
    p.add_argument("--output", type=Path, required=True, help="fingerprint (JSON) to write")
    run("source_state", main, p.parse_args())
